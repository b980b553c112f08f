//! Settings: every input that shapes a run, resolved into one value before any work starts.
//!
//! Layers, lowest first: built-in defaults → config file → `ARGOCD_ENV_` variables → Application
//! parameters (`ARGOCD_APP_PARAMETERS`) → command-line flags. Each resolved value remembers where
//! it came from ([`Setting::origin`]) so an error names the file and key, the parameter, or the
//! flag that holds the bad value.

pub mod config;
pub mod mirrors;
pub mod plugin;
pub mod seed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use config::{ConfigError, ConfigFile, Loaded};

use crate::environ::Environ;

/// The lowest layers, built-in defaults and the config file, resolved once for every command.
#[derive(Debug, Clone)]
pub struct Base {
    pub rewrite: RewriteSettings,
    pub limits: Limits,
    /// What the seed format's reading warns about (printed once by the caller).
    pub warnings: Vec<String>,
    /// The native file, for the layers that read it again (`overrides.allow`, `allowedMirrors`,
    /// `render`); `None` for no file or the seed format.
    pub native: Option<ConfigFile>,
}

/// Which config file applies: `flag`, else `$PULLTHROUGH_CONFIG`, else the sidecar's default
/// path when it exists.
pub fn config_path(flag: Option<&Path>, env: &Environ) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    if let Some(p) = env.get("PULLTHROUGH_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let default = Path::new(config::DEFAULT_PATH);
    default.exists().then(|| default.to_path_buf())
}

/// The defaults with the config file ([`config_path`]) applied: the one place a config file is
/// read into settings, for `rewrite`, `explain`, `verify`, `render` and the plugin commands.
///
/// # Errors
/// The file cannot be read or parsed, or holds an unknown key or a bad value
/// ([`ConfigError`] names the file and the key).
pub fn from_config(flag: Option<&Path>, env: &Environ) -> Result<Base, ConfigError> {
    let mut base = Base {
        rewrite: RewriteSettings::default(),
        limits: Limits::default(),
        warnings: Vec::new(),
        native: None,
    };
    let Some(path) = config_path(flag, env) else {
        return Ok(base);
    };
    let name = path.display().to_string();
    match config::load(&path)? {
        Loaded::Native(c) => {
            base.rewrite.apply_config(&name, &c);
            if let Some(l) = &c.limits {
                if let Some(v) = l.max_input_bytes {
                    base.limits.max_input_bytes = v;
                }
                if let Some(v) = l.max_depth {
                    base.limits.max_depth = v;
                }
                if let Some(v) = l.max_documents {
                    base.limits.max_documents = v;
                }
            }
            base.native = Some(c);
        }
        Loaded::Seed(v) => base.warnings = seed::apply(&mut base.rewrite, &name, &v),
    }
    Ok(base)
}

/// A resolved value and where it came from (`config.yaml: mirror`, `parameter mirror`, `--map`).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: String,
}

impl<T> Setting<T> {
    pub fn new(value: T, origin: impl Into<String>) -> Self {
        Setting {
            value,
            origin: origin.into(),
        }
    }
    /// Replaces the value when a higher layer provides one.
    pub fn set(&mut self, value: T, origin: impl Into<String>) {
        self.value = value;
        self.origin = origin.into();
    }
}

/// A regex rule with its provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSetting {
    /// Only images of this registry (seed rules carry their `registriesToOverwrite` key).
    pub registry: Option<String>,
    pub pattern: String,
    pub replace: String,
    /// Seed rules replace with `$1` and must have a capture group.
    pub require_capture: bool,
    /// Error label of the regex, e.g. `values.yaml: registriesToOverwrite.docker.io.upstreamUrlRegexp`.
    pub origin: Option<String>,
    /// Error label of the rule as a whole, for what it produces, e.g. `config.yaml: rules[0]`.
    pub name: Option<String>,
}

/// Everything the rewrite engine needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RewriteSettings {
    pub enabled: Setting<bool>,
    pub mirror: Setting<Option<String>>,
    pub registries: Setting<BTreeMap<String, String>>,
    pub exclude: Setting<Vec<String>>,
    pub namespaces_include: Setting<Vec<String>>,
    pub namespaces_exclude: Setting<Vec<String>>,
    pub rules: Setting<Vec<RuleSetting>>,
    pub docker_hub_aliases: Setting<Vec<String>>,
    pub strict: Setting<bool>,
    /// Namespace of objects without `metadata.namespace` (the app's destination namespace).
    pub default_namespace: String,
    pub fields: Setting<Vec<config::FieldConfig>>,
    pub args: Setting<Vec<config::ArgConfig>>,
    pub env: Setting<Vec<config::EnvConfig>>,
    pub profiles: Setting<Vec<String>>,
    /// Cap on each regex rule's compiled size (`limits.maxRegexBytes`).
    pub max_regex_bytes: Setting<usize>,
}

/// Default cap on a regex rule's compiled size: 1 MiB, far above any real rule.
pub const DEFAULT_MAX_REGEX_BYTES: usize = 1 << 20;

impl Default for RewriteSettings {
    fn default() -> Self {
        RewriteSettings {
            enabled: Setting::new(true, "default"),
            mirror: Setting::new(None, "default"),
            registries: Setting::new(BTreeMap::new(), "default"),
            exclude: Setting::new(Vec::new(), "default"),
            namespaces_include: Setting::new(Vec::new(), "default"),
            namespaces_exclude: Setting::new(Vec::new(), "default"),
            rules: Setting::new(Vec::new(), "default"),
            docker_hub_aliases: Setting::new(
                vec![
                    "registry-1.docker.io".to_string(),
                    "registry.hub.docker.com".to_string(),
                ],
                "default",
            ),
            strict: Setting::new(false, "default"),
            default_namespace: "default".to_string(),
            fields: Setting::new(Vec::new(), "default"),
            args: Setting::new(Vec::new(), "default"),
            env: Setting::new(Vec::new(), "default"),
            profiles: Setting::new(Vec::new(), "default"),
            max_regex_bytes: Setting::new(DEFAULT_MAX_REGEX_BYTES, "default"),
        }
    }
}

/// Hard limits on input, with defaults that real charts never reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_input_bytes: u64,
    pub max_depth: usize,
    /// Most document markers (`---` lines) in one input: each document costs memory of its own
    /// while a stream is planned, and no Argo CD app holds this many objects (its 100 MiB gRPC
    /// cap is reached well before).
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // Above Argo CD's 100 MiB gRPC message cap: anything larger could not reach Argo CD anyway.
        Limits {
            max_input_bytes: 128 << 20,
            max_depth: 255,
            max_documents: 200_000,
        }
    }
}

impl RewriteSettings {
    /// Merges `entries` over the registry map, each winning for its registry: a lower layer's
    /// entry for the same registry goes, also when spelled another way (`registry-1.docker.io`
    /// over `docker.io`; compared as [`crate::destination::fold_registry`] folds them). Two entries of
    /// `entries` themselves for one registry both stay, for the rules to refuse if they differ.
    pub fn merge_registries(
        &mut self,
        entries: &BTreeMap<String, String>,
        origin: impl Into<String>,
    ) {
        let fold = |k: &str| {
            crate::destination::fold_registry(k, &self.docker_hub_aliases.value).into_owned()
        };
        let upper: Vec<String> = entries.keys().map(|k| fold(k)).collect();
        let mut merged: BTreeMap<String, String> = self
            .registries
            .value
            .iter()
            .filter(|(k, _)| !upper.contains(&fold(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        merged.extend(entries.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.registries.set(merged, origin);
    }

    /// Applies a native config file on top of `self`; `file` labels the origins.
    pub fn apply_config(&mut self, file: &str, c: &ConfigFile) {
        let at = |key: &str| format!("{file}: {key}");
        if let Some(v) = &c.enabled {
            self.enabled.set(*v, at("enabled"));
        }
        if let Some(v) = &c.mirror {
            self.mirror.set(Some(v.clone()), at("mirror"));
        }
        if let Some(v) = &c.registries {
            self.registries.set(v.clone(), at("registries"));
        }
        if let Some(v) = &c.exclude {
            self.exclude.set(v.clone(), at("exclude"));
        }
        if let Some(ns) = &c.namespaces {
            if let Some(v) = &ns.include {
                self.namespaces_include
                    .set(v.clone(), at("namespaces.include"));
            }
            if let Some(v) = &ns.exclude {
                self.namespaces_exclude
                    .set(v.clone(), at("namespaces.exclude"));
            }
        }
        if let Some(v) = &c.rules {
            let rules = v
                .iter()
                .enumerate()
                .map(|(i, r)| RuleSetting {
                    registry: None,
                    pattern: r.pattern.clone(),
                    replace: r.replace.clone(),
                    require_capture: false,
                    origin: Some(at(&format!("rules[{i}].match"))),
                    name: Some(at(&format!("rules[{i}]"))),
                })
                .collect();
            self.rules.set(rules, at("rules"));
        }
        if let Some(v) = &c.docker_hub_aliases {
            self.docker_hub_aliases
                .set(v.clone(), at("dockerHubAliases"));
        }
        if let Some(v) = &c.strict {
            self.strict.set(*v, at("strict"));
        }
        if let Some(v) = c.limits.as_ref().and_then(|l| l.max_regex_bytes) {
            self.max_regex_bytes.set(v, at("limits.maxRegexBytes"));
        }
        if let Some(v) = &c.fields {
            self.fields.set(v.clone(), at("fields"));
        }
        if let Some(v) = &c.args {
            self.args.set(v.clone(), at("args"));
        }
        if let Some(v) = &c.env {
            self.env.set(v.clone(), at("env"));
        }
        if let Some(v) = &c.profiles {
            self.profiles.set(v.clone(), at("profiles"));
        }
    }
}
