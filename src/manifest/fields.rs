//! Where image references live: the list of field paths is data, and every exception says why.
//!
//! A rule is a path *suffix*: it matches a scalar whose path from the document root ends with the
//! given segments, wherever the suffix starts. That is how Kubernetes pod specs appear at
//! different depths (Pod `spec`, Deployment `spec.template.spec`, CronJob
//! `spec.jobTemplate.spec.template.spec`, Argo Rollouts, Knative, `kind: List` items, …), the
//! same generalisation kustomize's legacy image filter makes (`api/filters/imagetag/legacy.go`),
//! plus `ephemeralContainers`, which kustomize misses.

/// One step of a path pattern.
#[derive(Debug, Clone, Copy)]
pub enum Seg {
    /// A mapping key equal to one of these names.
    Key(&'static [&'static str]),
    /// Any sequence index.
    Index,
}

/// A built-in image field.
#[derive(Debug)]
pub struct FieldRule {
    /// Path suffix, outermost first; the last segment is the key holding the image scalar.
    pub suffix: &'static [Seg],
    /// Shown by `explain` and in warnings.
    pub label: &'static str,
}

/// The keys whose value is a list of Kubernetes `Container`s (`core/v1` PodSpec).
pub const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// The built-in image fields.
pub const BUILTIN: &[FieldRule] = &[
    FieldRule {
        suffix: &[Seg::Key(CONTAINER_LISTS), Seg::Index, Seg::Key(&["image"])],
        label: "container image",
    },
    // Image volumes (KEP-4639, `volumes[].image.reference`): the kubelet pulls them like a
    // container image, so a mirror that misses them still pulls from the internet.
    FieldRule {
        suffix: &[
            Seg::Key(&["volumes"]),
            Seg::Index,
            Seg::Key(&["image"]),
            Seg::Key(&["reference"]),
        ],
        label: "image volume",
    },
];

/// Kinds whose objects are never modified, with the reason.
pub const NEVER_TOUCHED_KINDS: &[(&str, &str)] = &[(
    "CustomResourceDefinition",
    // Their OpenAPI schemas describe pod templates (`containers[].image` appears as property
    // names, defaults and examples); rewriting a schema changes the API, not a workload.
    "schemas describe image fields, they do not hold images",
)];

/// One step of a configured path (`spec.image`, `spec.containers[].image`, `spec.*.image`,
/// `data["helperPod.yaml"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    /// `*`: any mapping key.
    AnyKey,
    /// `[]`: any sequence index.
    AnyIndex,
}

/// Longest path accepted (far above any real field path), so a hostile config cannot make the
/// path parser or the matcher do unbounded work.
pub const MAX_PATH_LEN: usize = 1000;

/// Parses the path language: keys separated by `.`; `[]` after a key for "any item"; `*` for any
/// key; `["key"]` for a key written as a JSON string, so keys holding `.`, `[`, `*` or quotes can
/// be named (ConfigMap data keys such as trivy-operator's `node.collector.imageRef` or
/// local-path-provisioner's `helperPod.yaml`): `data["node.collector.imageRef"]`,
/// `spec["a.b"][].image`, `["x.y"]`.
///
/// Fails, with a message naming the path, on an empty path or segment, a `[` that opens neither
/// `[]` nor `["…"]`, an unterminated or invalid JSON string, text after a closing `]` other than
/// `.`, `[`, and a path longer than [`MAX_PATH_LEN`].
pub fn parse_path(s: &str) -> Result<Vec<PathSeg>, String> {
    if s.is_empty() {
        return Err("empty path".into());
    }
    if s.len() > MAX_PATH_LEN {
        return Err(format!(
            "path is {} bytes, longer than {MAX_PATH_LEN}",
            s.len()
        ));
    }
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        // One dot-separated segment: a plain key (or `*`), or directly a bracket.
        if !rest.starts_with('[') {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            match &rest[..end] {
                "" => return Err(format!("empty segment in path {s:?}")),
                "*" => out.push(PathSeg::AnyKey),
                k => out.push(PathSeg::Key(k.to_string())),
            }
            rest = &rest[end..];
        }
        // Brackets after it: `[]` (any item) or `["key"]`.
        while let Some(after) = rest.strip_prefix('[') {
            if let Some(r) = after.strip_prefix(']') {
                out.push(PathSeg::AnyIndex);
                rest = r;
            } else if after.starts_with('"') {
                let (key, r) = quoted_key(after).ok_or_else(|| {
                    format!("in path {s:?}: a `[\"` key must be a JSON string closed by `\"]`")
                })?;
                out.push(PathSeg::Key(key));
                rest = r;
            } else {
                return Err(format!(
                    "in path {s:?}: `[` must open `[]` (any item) or `[\"key\"]`"
                ));
            }
        }
        match rest.strip_prefix('.') {
            Some(r) => rest = r,
            None if rest.is_empty() => return Ok(out),
            None => return Err(format!("in path {s:?}: `.` or `[` expected after `]`")),
        }
        if rest.is_empty() {
            return Err(format!("empty segment in path {s:?}"));
        }
    }
}

/// `"key"]rest` → (`key`, `rest`): a JSON string (so `\"` and `\\` escapes work), then `]`.
fn quoted_key(s: &str) -> Option<(String, &str)> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => {
                let key: String = serde_json::from_str(&s[..=i]).ok()?;
                return s[i + 1..].strip_prefix(']').map(|rest| (key, rest));
            }
            _ => i += 1,
        }
    }
    None
}

/// How a found value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueKind {
    /// An image reference; `:latest` is added when it has neither tag nor digest.
    #[default]
    Image,
    /// A repository (e.g. harbor's Trivy DB settings): rewritten without adding a tag.
    Repository,
    /// A registry, or a registry and a path prefix, that the operator joins with image names
    /// (MongoDB `MONGODB_REPO_URL: docker.io/mongodb`, Istio `global.hub`, NVIDIA's split
    /// `repository`, Tigera `spec.registry: quay.io/`): rewritten to the mirror form of the
    /// prefix, nothing added (no `library/`, no tag), a trailing `/` kept.
    Prefix,
}

/// How a field's string holds its image(s): whole, as a list split on a character, and each
/// item (or the whole value) possibly as `KEY=IMAGE` of which only `IMAGE` is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ValueFormat {
    /// The value is a list split on this character (harbor: `repo-a,repo-b`; Strimzi: lines).
    pub separator: Option<char>,
    /// Each item is `KEY=IMAGE` (Strimzi's `STRIMZI_KAFKA_IMAGES`: `4.1.0=quay.io/strimzi/kafka:…`).
    pub keyed: bool,
}

/// A field of kinds (custom resources) holding an image, by path from the object root.
#[derive(Debug, Clone)]
pub struct KindField {
    /// Empty: any kind.
    pub kinds: Vec<String>,
    /// The API group (`monitoring.coreos.com`); `None`: any group.
    pub group: Option<String>,
    /// Globs on `metadata.name`; empty: any name (ConfigMap keys such as `plugin` mean an image
    /// only in one operator's ConfigMap).
    pub names: Vec<globset::GlobMatcher>,
    pub path: Vec<PathSeg>,
    pub value: ValueKind,
    pub format: ValueFormat,
    /// Only a value naming a registry or repository path (holding a `/`) is an image here; a bare
    /// word is left alone silently (NVIDIA's `image: driver` next to `repository`, Grafana's
    /// `spec.version: 13.1.3`).
    pub qualified: bool,
    /// The value is a YAML or JSON document (a ConfigMap's `helperPod.yaml`, a JCasC file, Istio's
    /// injector `values`): its container images, and these paths inside it, are rewritten.
    pub embedded: Option<Vec<Vec<PathSeg>>>,
    pub label: String,
}

/// A field inside an embedded document (see [`KindField::embedded`]), with how its value is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerField {
    pub path: Vec<PathSeg>,
    pub value: ValueKind,
    pub qualified: bool,
    pub label: String,
}

/// A container argument carrying an image: `--flag=IMAGE`, or `--flag` followed by `IMAGE`.
#[derive(Debug, Clone)]
pub struct ArgField {
    pub flag: String,
    pub value: ValueKind,
    pub label: String,
}

/// A container env variable whose value carries an image (or a list of them).
#[derive(Debug, Clone)]
pub struct EnvField {
    pub name: globset::GlobMatcher,
    pub value: ValueKind,
    pub format: ValueFormat,
    pub label: String,
}

/// Every place images are looked for in one run: the built-in rules plus the configured and
/// profile fields.
#[derive(Debug, Clone, Default)]
pub struct FieldSet {
    pub kinds: Vec<KindField>,
    pub args: Vec<ArgField>,
    pub env: Vec<EnvField>,
}

impl FieldSet {
    /// Words one of which a document must contain to hold an image field at all (for fast
    /// pre-filters): the container-list keys, `volumes`, and the kinds of kind-scoped fields (a
    /// kind field without kinds makes every document a candidate: `None`).
    pub fn trigger_words(&self) -> Option<Vec<String>> {
        let mut w: Vec<String> = CONTAINER_LISTS.iter().map(|s| s.to_string()).collect();
        w.push("volumes".into());
        for k in &self.kinds {
            if k.kinds.is_empty() {
                return None;
            }
            w.extend(k.kinds.iter().cloned());
        }
        Some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::PathSeg::{AnyIndex, AnyKey, Key};
    use super::*;

    fn k(s: &str) -> PathSeg {
        Key(s.to_string())
    }

    macro_rules! paths {
        ($($input:expr => $want:expr;)*) => { $( assert_eq!(parse_path($input), $want, "{:?}", $input); )* };
    }

    #[test]
    fn path_language() {
        paths! {
            "spec.image" => Ok(vec![k("spec"), k("image")]);
            "spec.containers[].image" => Ok(vec![k("spec"), k("containers"), AnyIndex, k("image")]);
            "spec.*.image" => Ok(vec![k("spec"), AnyKey, k("image")]);
            "a[][]" => Ok(vec![k("a"), AnyIndex, AnyIndex]);
            r#"data["node.collector.imageRef"]"# => Ok(vec![k("data"), k("node.collector.imageRef")]);
            r#"data["helperPod.yaml"]"# => Ok(vec![k("data"), k("helperPod.yaml")]);
            r#"["x.y"]"# => Ok(vec![k("x.y")]);
            r#"spec["a.b"][].image"# => Ok(vec![k("spec"), k("a.b"), AnyIndex, k("image")]);
            r#"a["q\"uote"].b"# => Ok(vec![k("a"), k("q\"uote"), k("b")]);
            r#"a["*"]"# => Ok(vec![k("a"), k("*")]);
            r#"a["[]"]"# => Ok(vec![k("a"), k("[]")]);
            "" => Err("empty path".to_string());
            "spec..image" => Err("empty segment in path \"spec..image\"".to_string());
            "spec." => Err("empty segment in path \"spec.\"".to_string());
            ".spec" => Err("empty segment in path \".spec\"".to_string());
            "a[0]" => Err("in path \"a[0]\": `[` must open `[]` (any item) or `[\"key\"]`".to_string());
            r#"a["x"#  => Err("in path \"a[\\\"x\": a `[\"` key must be a JSON string closed by `\"]`".to_string());
            r#"a["x"]b"# => Err("in path \"a[\\\"x\\\"]b\": `.` or `[` expected after `]`".to_string());
            r#"a["x\q"]"# => Err("in path \"a[\\\"x\\\\q\\\"]\": a `[\"` key must be a JSON string closed by `\"]`".to_string());
        }
        assert!(parse_path(&"a.".repeat(600))
            .unwrap_err()
            .contains("longer than 1000"));
    }
}
