//! The config file: pullthrough's native format, or the seed chart's `values.yaml` as-is.
//!
//! Looked up as `--config FILE`, else `$PULLTHROUGH_CONFIG`, else `/etc/pullthrough/config.yaml`
//! when present (the sidecar's ConfigMap). Read with serde-saphyr (never serde_yaml, which is
//! deprecated: RUSTSEC-2024-0320) with unknown keys denied, so a typo is an error naming the key,
//! not a silently ignored setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where the sidecar mounts the config file (the install files' ConfigMap volume), read when
/// neither `--config` nor `$PULLTHROUGH_CONFIG` names one.
pub const DEFAULT_PATH: &str = "/etc/pullthrough/config.yaml";

/// The native config file. Every field is optional: what is absent comes from the layer below.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigFile {
    /// Default destination registry: `host[:port][/path]`.
    pub mirror: Option<String>,
    /// Upstream registry → prefix under `mirror`, or a full destination (`host[:port]/path`).
    pub registries: Option<BTreeMap<String, String>>,
    /// Globs on the normalized name (`registry/path`, no tag); matching images stay untouched.
    pub exclude: Option<Vec<String>>,
    pub namespaces: Option<NamespacesConfig>,
    /// Seed-style regex rules on the normalized reference, tried after `registries`.
    pub rules: Option<Vec<RegexRuleConfig>>,
    /// Hosts read as Docker Hub (`docker.io`); default `registry-1.docker.io`, `registry.hub.docker.com`.
    pub docker_hub_aliases: Option<Vec<String>>,
    /// Unparseable image strings are errors instead of warnings.
    pub strict: Option<bool>,
    /// Rewriting on or off (per app through the `enabled` parameter).
    pub enabled: Option<bool>,
    /// Allow a render that yields no objects (Argo CD prunes everything on an empty success).
    pub allow_empty: Option<bool>,
    /// What Applications may override with parameters or `ARGOCD_ENV_` variables.
    pub overrides: Option<OverridesConfig>,
    /// Where an app may point pullthrough (`mirror` parameter, full registry destinations):
    /// `host[:port][/path]` patterns, each part matched on its own ([`super::mirrors`]).
    pub allowed_mirrors: Option<Vec<super::mirrors::MirrorPattern>>,
    pub render: Option<RenderConfig>,
    pub limits: Option<LimitsConfig>,
    /// Extra fields of custom resources holding an image.
    pub fields: Option<Vec<FieldConfig>>,
    /// Container arguments carrying an image (`--flag=IMAGE` or `--flag IMAGE`).
    pub args: Option<Vec<ArgConfig>>,
    /// Container env variables carrying an image.
    pub env: Option<Vec<EnvConfig>>,
    /// Built-in profiles to switch on (`prometheus-operator`, `cert-manager`, `argo-workflows`, `harbor`).
    pub profiles: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    /// Kinds this applies to; absent: every kind.
    pub kinds: Option<Vec<String>>,
    /// API group (`monitoring.coreos.com`); absent: any group.
    pub group: Option<String>,
    /// Globs on `metadata.name`; absent: any name.
    pub names: Option<Vec<String>>,
    /// Paths from the object root: `spec.image`, `spec.containers[].image`, `spec.*.image`,
    /// `data["helperPod.yaml"]`.
    pub paths: Vec<String>,
    /// The value is a repository (no `:latest` added).
    #[serde(default)]
    pub repository: bool,
    /// The value is a registry or registry/path prefix the operator joins with image names.
    #[serde(default)]
    pub prefix: bool,
    /// Only a value holding a `/` is an image; bare words are left alone.
    #[serde(default)]
    pub qualified: bool,
    /// The value is an embedded YAML/JSON document: its container images are rewritten, and the
    /// `innerPaths` inside it (with this entry's value kind).
    #[serde(default)]
    pub embedded: bool,
    #[serde(default, rename = "innerPaths")]
    pub inner_paths: Vec<String>,
    /// The value is a list split on this one character (`"\n"` for one item per line).
    pub separator: Option<char>,
    /// Each item (or the whole value) is `KEY=IMAGE`; only `IMAGE` is decided.
    #[serde(default)]
    pub keyed: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ArgConfig {
    pub flag: String,
    #[serde(default)]
    pub repository: bool,
    #[serde(default)]
    pub prefix: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    /// Glob on the variable name (`RELATED_IMAGE_*`).
    pub name: String,
    #[serde(default)]
    pub repository: bool,
    #[serde(default)]
    pub prefix: bool,
    /// The value is a list split on this one character (`"\n"` for one item per line).
    pub separator: Option<char>,
    /// Each item (or the whole value) is `KEY=IMAGE`; only `IMAGE` is decided.
    #[serde(default)]
    pub keyed: bool,
}

#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NamespacesConfig {
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegexRuleConfig {
    #[serde(rename = "match")]
    pub pattern: String,
    pub replace: String,
}

#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OverridesConfig {
    /// Parameter names apps may set; `["*"]` allows all.
    pub allow: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RenderConfig {
    /// Path of the helm binary (else `$PULLTHROUGH_HELM`, else `helm` on PATH).
    pub helm: Option<PathBuf>,
    /// Path of the kustomize binary (else `$PULLTHROUGH_KUSTOMIZE`, else PATH, else `kubectl kustomize`).
    pub kustomize: Option<PathBuf>,
    /// Path of go-jsonnet's `jsonnet` binary (else `$PULLTHROUGH_JSONNET`, else `jsonnet` on PATH).
    pub jsonnet: Option<PathBuf>,
    /// Extra `kustomize build` options, like Argo CD's `kustomize.buildOptions`.
    pub kustomize_build_options: Option<Vec<String>>,
    /// URL schemes allowed in `values-files` (default: none).
    pub value_file_schemes: Option<Vec<String>>,
    /// Subprocess timeout; keep it below Argo CD's 60 s repo-server deadline.
    pub timeout_seconds: Option<u64>,
    /// Largest rendered output accepted.
    pub max_output_bytes: Option<u64>,
    /// Helm's repositories file (`repositories.yaml`, with credentials) for `init`'s
    /// `helm dependency build`; Argo CD does not hand its own repository credentials to sidecars.
    pub helm_repository_config: Option<PathBuf>,
    /// Helm's OCI registry config (`config.json` as `helm registry login` writes it).
    pub helm_registry_config: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitsConfig {
    /// Largest manifest stream read (default 128 MiB, above Argo CD's 100 MiB gRPC cap).
    pub max_input_bytes: Option<u64>,
    /// Deepest collection nesting accepted (default 255).
    pub max_depth: Option<usize>,
    /// Most documents in one manifest stream (default 200,000).
    pub max_documents: Option<usize>,
    /// Largest compiled size of one regex rule (default 1 MiB).
    pub max_regex_bytes: Option<usize>,
}

/// The seed chart's `values.yaml` (`shmileee/helm-charts` `kyverno-patch-registries`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedValues {
    pub common: SeedCommon,
    pub registries_to_overwrite: BTreeMap<String, SeedRegistry>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedCommon {
    pub namespace_selector_label: Option<String>,
    pub ecr_registry_fullname: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedRegistry {
    pub upstream_url_regexp: String,
    pub ecr_prefix_name: String,
}

/// A config file after reading: which format it was in.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // one value per run; boxing would buy nothing
pub enum Loaded {
    Native(ConfigFile),
    Seed(SeedValues),
}

/// A config file that could not be read; the message names the file, the key and line:column.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {msg}")]
pub struct ConfigError {
    pub path: String,
    pub msg: String,
}

/// Only to tell the two formats apart before the strict parse.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    common: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "registriesToOverwrite")]
    registries_to_overwrite: Option<serde::de::IgnoredAny>,
}

/// Reads and parses a config file (either format).
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: name.clone(),
        msg: e.to_string(),
    })?;
    parse(&name, &text)
}

/// Parses config text; `name` is used in error messages.
pub fn parse(name: &str, text: &str) -> Result<Loaded, ConfigError> {
    let err = |e: serde_saphyr::Error| ConfigError {
        path: name.to_string(),
        msg: one_line(&e),
    };
    if text.trim().is_empty() {
        return Ok(Loaded::Native(ConfigFile::default()));
    }
    let probe: Probe = serde_saphyr::from_str(text).map_err(err)?;
    if probe.common.is_some() || probe.registries_to_overwrite.is_some() {
        return serde_saphyr::from_str(text).map(Loaded::Seed).map_err(err);
    }
    serde_saphyr::from_str(text)
        .map(Loaded::Native)
        .map_err(err)
}

/// serde-saphyr renders errors with a multi-line source snippet; one line with the location is
/// what belongs in Argo CD's UI.
fn one_line(e: &serde_saphyr::Error) -> String {
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("invalid config").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // `line N column M: msg` → `N:M: msg`, the `path:line:col: msg` shape used everywhere else.
    if let Some(rest) = first.strip_prefix("line ") {
        if let Some((line, rest)) = rest.split_once(" column ") {
            if let Some((col, msg)) = rest.split_once(": ") {
                return format!("{line}:{col}: {msg}");
            }
        }
    }
    match e.location() {
        Some(loc) => format!("{}:{}: {first}", loc.line(), loc.column()),
        None => first.to_string(),
    }
}
