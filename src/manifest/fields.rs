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
        suffix: &[Seg::Key(&["volumes"]), Seg::Index, Seg::Key(&["image"]), Seg::Key(&["reference"])],
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

/// One step of a configured path (`spec.image`, `spec.containers[].image`, `spec.*.image`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    /// `*`: any mapping key.
    AnyKey,
    /// `[]`: any sequence index.
    AnyIndex,
}

/// Parses the path language: keys separated by `.`, `[]` after a key for "any item", `*` for
/// any key. Keys holding `.` or `[` cannot be written (no real image field has one).
pub fn parse_path(s: &str) -> Result<Vec<PathSeg>, String> {
    let mut out = Vec::new();
    if s.is_empty() {
        return Err("empty path".into());
    }
    for part in s.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        match key {
            "" if rest.is_empty() => return Err(format!("empty segment in path {s:?}")),
            "" => {}
            "*" => out.push(PathSeg::AnyKey),
            k => out.push(PathSeg::Key(k.to_string())),
        }
        while !rest.is_empty() {
            rest = rest.strip_prefix("[]").ok_or_else(|| format!("in path {s:?}: only `[]` (any item) may follow a key"))?;
            out.push(PathSeg::AnyIndex);
        }
    }
    Ok(out)
}

/// How a found value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueKind {
    /// An image reference; `:latest` is added when it has neither tag nor digest.
    #[default]
    Image,
    /// A repository (e.g. harbor's Trivy DB settings): rewritten without adding a tag.
    Repository,
}

/// A field of kinds (custom resources) holding an image, by path from the object root.
#[derive(Debug, Clone)]
pub struct KindField {
    /// Empty: any kind.
    pub kinds: Vec<String>,
    /// The API group (`monitoring.coreos.com`); `None`: any group.
    pub group: Option<String>,
    pub path: Vec<PathSeg>,
    pub value: ValueKind,
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
    /// The value is a list split on this character (harbor: `repo-a,repo-b`).
    pub separator: Option<char>,
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
