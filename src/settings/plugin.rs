//! Settings for the plugin commands (`generate`, `init`, `parameters`, `render`): the config
//! file, the app's `ARGOCD_ENV_` variables and its parameters, resolved into one value.
//!
//! Precedence, highest first: parameter > `ARGOCD_ENV_` variable > config file > built-in
//! default. Both app layers are controlled by Application authors, so both are checked against
//! the admin's `overrides.allow` and `allowedMirrors`; a forbidden value is an error naming the
//! parameter, never silently dropped.
//!
//! The order of the checks, so the error an app author sees is always the first one that
//! applies: a value's form when it is read (`argocd::params`: known name, collection type, a
//! boolean's `"true"`/`"false"`, no repetition); then entry by entry as the layers apply
//! (`ARGOCD_ENV_` first), `overrides.allow` and what the value means (a source type, a Helm
//! version, a path); last, `allowedMirrors` over the app's mirror and destinations.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use super::config::ConfigFile;
use super::{mirrors, Limits, RewriteSettings};
use crate::argocd::env::ArgoEnv;
use crate::argocd::parameters::Id;
use crate::argocd::params::{self, Param, ParamError};
use crate::destination::Destination;
use crate::environ::Environ;
use crate::render::{self, RenderSettings, RepoScope, SourceType, Tools};
use pullthrough_reference::LocationError;

/// Everything a plugin command needs.
#[derive(Debug, Clone)]
pub struct PluginSettings {
    pub rewrite: RewriteSettings,
    pub limits: Limits,
    pub render: RenderSettings,
    pub allow_empty: bool,
    /// The `helm-version` parameter as given (checked; it selects no other binary).
    pub helm_version: String,
    /// How the planner reads the rendered stream (see [`crate::manifest::fastpath::Strategy`]).
    pub strategy: crate::manifest::fastpath::Strategy,
}

/// The app-controlled inputs, in the order they apply.
pub struct AppLayers {
    /// From `ARGOCD_ENV_` variables.
    pub env: Vec<Param>,
    /// From `ARGOCD_APP_PARAMETERS` (or the `render` command line).
    pub params: Vec<Param>,
}

impl AppLayers {
    /// Reads both layers from the Argo CD environment: the parameters first, so when both
    /// layers hold a malformed value, the error is about the layer that wins.
    pub fn from_argo(argo: &ArgoEnv) -> Result<AppLayers, ParamError> {
        let params = params::parse_json(argo.parameters.as_deref())?;
        Ok(AppLayers {
            env: params::from_plugin_env(&argo.plugin_env)?,
            params,
        })
    }
}

/// Resolves plugin settings. `rewrite`/`limits` already hold the config file's values;
/// `config` is the native config (absent for none or the seed format).
pub fn resolve(
    env: &Environ,
    argo: &ArgoEnv,
    config: Option<&ConfigFile>,
    mut rewrite: RewriteSettings,
    limits: Limits,
    app_dir: &Path,
    layers: &AppLayers,
) -> Result<PluginSettings, ParamError> {
    let app_dir = app_dir
        .canonicalize()
        .map_err(|e| ParamError(format!("{}: {e}", app_dir.display())))?;
    let mut r = render_base(env, argo, config, &app_dir);
    rewrite.default_namespace = argo
        .app_namespace
        .clone()
        .unwrap_or_else(|| "default".to_string());
    let mut allow_empty = config.and_then(|c| c.allow_empty).unwrap_or(false);

    let applied = apply_layers(layers, config, &mut rewrite, &mut r, &mut allow_empty)?;
    let Applied {
        helm_version,
        namespace_param,
        kustomize_kube_version,
        kustomize_api_versions,
        ..
    } = &applied;

    // A namespace parameter has no native counterpart for Kustomize and directory sources:
    // refused rather than silently without effect.
    if let Some(origin) = namespace_param {
        let source = r.resolved_source_type();
        if source != SourceType::Helm {
            let hint = if source == SourceType::Kustomize {
                "use kustomize-namespace (spec.source.kustomize.namespace) to set one"
            } else {
                "objects without a namespace go to the Application's destination namespace"
            };
            return Err(ParamError(format!("{origin}: applies to Helm apps only (spec.source.helm.namespace), this is a {source} app; {hint}")));
        }
    }

    // spec.source.kustomize.kubeVersion/apiVersions win over the source-wide defaults.
    if let Some(v) = kustomize_kube_version {
        r.kustomize.kube_version = Some(v.clone());
    }
    if let Some(v) = kustomize_api_versions {
        r.kustomize.api_versions = v.clone();
    }

    check_allowed_mirrors(config, &applied)?;
    Ok(PluginSettings {
        rewrite,
        limits,
        render: r,
        allow_empty,
        helm_version: helm_version.clone(),
        strategy: Default::default(),
    })
}

/// The render settings before any app parameter: the repository root and scope, the tools (found
/// once from the environment snapshot), Argo CD's build env and cluster facts, and the config
/// file's `render` section.
fn render_base(
    env: &Environ,
    argo: &ArgoEnv,
    config: Option<&ConfigFile>,
    app_dir: &Path,
) -> RenderSettings {
    let (repo_root, repo_scope) = repo_root(app_dir, argo.source_path.as_deref());
    let release = argo
        .release_name()
        .or_else(|| {
            app_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "release".to_string());
    let rc = config.and_then(|c| c.render.clone()).unwrap_or_default();
    let helm = env
        .get("PULLTHROUGH_HELM")
        .map(PathBuf::from)
        .or(rc.helm.clone());
    let kustomize = env
        .get("PULLTHROUGH_KUSTOMIZE")
        .map(PathBuf::from)
        .or(rc.kustomize.clone());
    let jsonnet = env
        .get("PULLTHROUGH_JSONNET")
        .map(PathBuf::from)
        .or(rc.jsonnet.clone());
    let tools = Tools::discover(helm, kustomize, jsonnet, env.path());
    let mut r = RenderSettings::new(app_dir.to_path_buf(), repo_root, release, tools);
    r.repo_scope = repo_scope;
    r.build_env = argo.build_env.clone();
    r.helm.namespace = argo.app_namespace.clone();
    r.helm.kube_version = argo.kube_version.clone();
    r.helm.api_versions = argo.kube_api_versions.clone();
    r.kustomize.kube_version = argo.kube_version.clone();
    r.kustomize.api_versions = argo.kube_api_versions.clone();
    if let Some(o) = rc.kustomize_build_options {
        r.kustomize.build_options = o;
    }
    if let Some(s) = rc.value_file_schemes {
        r.helm.value_file_schemes = s;
    }
    r.helm.repository_config = rc.helm_repository_config.clone();
    r.helm.registry_config = rc.helm_registry_config.clone();
    r.limits = render::Limits {
        timeout: rc
            .timeout_seconds
            .map(Duration::from_secs)
            .unwrap_or(r.limits.timeout),
        max_output_bytes: rc.max_output_bytes.unwrap_or(r.limits.max_output_bytes),
    };
    r
}

/// What the app layers set that is checked or applied after all of them.
#[derive(Default)]
struct Applied {
    helm_version: String,
    /// Where a `namespace` parameter came from (Helm apps only).
    namespace_param: Option<String>,
    kustomize_kube_version: Option<String>,
    kustomize_api_versions: Option<Vec<String>>,
    /// The app's mirror and full destinations, with their origin, for `allowedMirrors`.
    app_mirror: Option<(String, String)>,
    app_destinations: Vec<(String, String)>,
}

/// Applies the `ARGOCD_ENV_` layer, then the parameters, each entry only if `overrides.allow`
/// lets apps set it.
fn apply_layers(
    layers: &AppLayers,
    config: Option<&ConfigFile>,
    rewrite: &mut RewriteSettings,
    r: &mut RenderSettings,
    allow_empty: &mut bool,
) -> Result<Applied, ParamError> {
    let allow = config
        .and_then(|c| c.overrides.as_ref())
        .and_then(|o| o.allow.clone());
    let mut kustomize_kube_version = None;
    let mut helm_version = String::new();
    let mut namespace_param = None;
    let mut kustomize_api_versions = None;
    let mut app_mirror = None;
    let mut app_destinations = Vec::new();
    for (layer, list) in [("env", &layers.env), ("param", &layers.params)] {
        for p in list.iter() {
            let name = p.def.name;
            let origin = if layer == "env" {
                crate::argocd::parameters::env_name(name)
            } else {
                format!("parameter {name}")
            };
            if let Some(allow) = &allow {
                if !allow.iter().any(|a| a == "*" || a == name) {
                    return Err(ParamError(format!("{origin}: not allowed by the sidecar config (add {name:?} to overrides.allow to let apps set it)")));
                }
            }
            // Booleans were read when the parameter was parsed ([`params::Value::Bool`]).
            let b = || p.value.bool();
            match p.def.id {
                Id::Enabled => {
                    rewrite.enabled.set(b(), origin.clone());
                }
                Id::Mirror => {
                    let s = p.value.string();
                    rewrite.mirror.set(Some(s.clone()), origin.clone());
                    app_mirror = Some((origin.clone(), s.clone()));
                }
                Id::Registries => {
                    let m = p.value.map();
                    let entries: std::collections::BTreeMap<String, String> =
                        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    for (k, v) in &entries {
                        app_destinations.push((format!("{origin}.{k}"), v.clone()));
                    }
                    rewrite.merge_registries(&entries, origin.clone());
                }
                Id::Exclude => {
                    let a = p.value.array();
                    let mut ex = rewrite.exclude.value.clone();
                    ex.extend(a.iter().cloned());
                    rewrite.exclude.set(ex, origin.clone());
                }
                Id::Profiles => {
                    let a = p.value.array();
                    rewrite.profiles.set(a.clone(), origin.clone());
                }
                Id::AllowEmpty => {
                    *allow_empty = b();
                }
                Id::SourceType => {
                    let s = p.value.string();
                    r.source_type = if s.is_empty() {
                        None
                    } else {
                        Some(s.parse::<SourceType>().map_err(|_| {
                            ParamError(format!("{origin}: unknown source type {s:?} (expected helm, kustomize or directory)"))
                        })?)
                    }
                }
                Id::ReleaseName => {
                    let s = p.value.string();
                    r.helm.release_name = s.clone();
                }
                // spec.source.helm.namespace: `helm template --namespace` only. Objects without a
                // namespace still land in the destination namespace (Argo CD's controller puts
                // them there, for every source type), so the namespace rules keep using it.
                Id::Namespace => {
                    let s = p.value.string();
                    r.helm.namespace = Some(s.clone());
                    namespace_param = Some(origin.clone());
                }
                Id::KubeVersion => {
                    let s = p.value.string();
                    r.helm.kube_version = Some(s.clone());
                    r.kustomize.kube_version = Some(s.clone());
                }
                Id::ApiVersions => {
                    let a = p.value.array();
                    r.helm.api_versions = a.clone();
                    r.kustomize.api_versions = a.clone();
                }
                Id::ValuesFiles => {
                    let a = p.value.array();
                    r.helm.values_files = a.clone();
                }
                Id::Values => {
                    let s = p.value.string();
                    r.helm.values = Some(s.clone()).filter(|s| !s.trim().is_empty())
                }
                Id::Set => {
                    let m = p.value.map();
                    r.helm.set = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
                }
                Id::SetString => {
                    let m = p.value.map();
                    r.helm.set_string = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
                }
                Id::SetFile => {
                    let m = p.value.map();
                    r.helm.set_file = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
                }
                Id::SkipCrds => {
                    r.helm.skip_crds = b();
                }
                Id::SkipTests => {
                    r.helm.skip_tests = b();
                }
                Id::SkipSchemaValidation => {
                    r.helm.skip_schema_validation = b();
                }
                Id::IgnoreMissingValueFiles => {
                    r.helm.ignore_missing_value_files = b();
                }
                Id::HelmVersion => {
                    let s = p.value.string();
                    crate::render::helm_version_check(s)
                        .map_err(|e| ParamError(format!("{origin}: {e}")))?;
                    helm_version = s.clone();
                }
                Id::PassCredentials => {
                    r.helm.pass_credentials = b();
                }
                Id::DirectoryRecurse => {
                    r.directory.recurse = b();
                }
                Id::DirectoryInclude => {
                    let a = p.value.array();
                    r.directory.include = a.clone();
                }
                Id::DirectoryExclude => {
                    let a = p.value.array();
                    r.directory.exclude = a.clone();
                }
                Id::DirectoryJsonnetExtVars => {
                    let a = p.value.array();
                    r.directory.jsonnet.ext_vars = jsonnet_vars(&origin, a)?
                }
                Id::DirectoryJsonnetTlas => {
                    let a = p.value.array();
                    r.directory.jsonnet.tlas = jsonnet_vars(&origin, a)?
                }
                Id::DirectoryJsonnetLibs => {
                    let a = p.value.array();
                    r.directory.jsonnet.libs = a.clone();
                }
                Id::KustomizeNamePrefix => {
                    let s = p.value.string();
                    r.kustomize.edits.name_prefix = s.clone()
                }
                Id::KustomizeNameSuffix => {
                    let s = p.value.string();
                    r.kustomize.edits.name_suffix = s.clone()
                }
                Id::KustomizeImages => {
                    let a = p.value.array();
                    r.kustomize.edits.images = a.clone();
                }
                Id::KustomizeReplicas => {
                    let m = p.value.map();
                    if let Some((name, count)) = m.iter().find(|(_, c)| render::atoi(c).is_none()) {
                        return Err(ParamError(format!(
                            "{origin}: {name}: expected integer value for count. Received: {count}"
                        )));
                    }
                    r.kustomize.edits.replicas = pairs(m)
                }
                Id::KustomizeCommonLabels => {
                    let m = p.value.map();
                    r.kustomize.edits.common_labels = pairs(m)
                }
                Id::KustomizeCommonAnnotations => {
                    let m = p.value.map();
                    r.kustomize.edits.common_annotations = pairs(m)
                }
                Id::KustomizeCommonAnnotationsEnvsubst => {
                    r.kustomize.edits.common_annotations_envsubst = b()
                }
                Id::KustomizeForceCommonLabels => r.kustomize.edits.force_common_labels = b(),
                Id::KustomizeForceCommonAnnotations => {
                    r.kustomize.edits.force_common_annotations = b()
                }
                Id::KustomizeLabelWithoutSelector => r.kustomize.edits.label_without_selector = b(),
                Id::KustomizeLabelIncludeTemplates => {
                    r.kustomize.edits.label_include_templates = b()
                }
                Id::KustomizeNamespace => {
                    let s = p.value.string();
                    r.kustomize.edits.namespace = s.clone()
                }
                Id::KustomizePatches => {
                    let s = p.value.string();
                    // Checked here, so a malformed list is a parameter error before anything runs.
                    render::parse_patches(s).map_err(|e| {
                        ParamError(format!(
                            "{origin}: {}",
                            e.to_string().trim_start_matches("kustomize-patches: ")
                        ))
                    })?;
                    r.kustomize.edits.patches = Some(s.clone()).filter(|s| !s.trim().is_empty());
                }
                Id::KustomizeComponents => {
                    let a = p.value.array();
                    r.kustomize.edits.components = a.clone()
                }
                Id::KustomizeIgnoreMissingComponents => {
                    r.kustomize.edits.ignore_missing_components = b()
                }
                Id::KustomizeKubeVersion => {
                    let s = p.value.string();
                    kustomize_kube_version = Some(s.clone())
                }
                Id::KustomizeApiVersions => {
                    let a = p.value.array();
                    kustomize_api_versions = Some(a.clone())
                }
            }
        }
    }
    Ok(Applied {
        helm_version,
        namespace_param,
        kustomize_kube_version,
        kustomize_api_versions,
        app_mirror,
        app_destinations,
    })
}

/// The admin's `allowedMirrors` over what the app chose: its mirror and every full destination
/// of its registry map. Values the admin set (config, flags) are not checked.
fn check_allowed_mirrors(config: Option<&ConfigFile>, applied: &Applied) -> Result<(), ParamError> {
    let (app_mirror, app_destinations) = (&applied.app_mirror, &applied.app_destinations);
    if let Some(patterns) = config.and_then(|c| c.allowed_mirrors.as_ref()) {
        // The values are read as the rules read them ([`Destination`]), so the check and the
        // rewrite can never see two different destinations.
        let check = |origin: &str, what: &str, dest: Result<Destination, LocationError>| {
            let refused = |shown: &str, why: String| {
                let list: Vec<&str> = patterns.iter().map(|p| p.as_str()).collect();
                ParamError(format!(
                    "{origin}: {what} {shown:?} is not in the sidecar's allowedMirrors ({}){why}",
                    list.join(", ")
                ))
            };
            match dest {
                Ok(d) if mirrors::allowed(patterns, d.location()) => Ok(()),
                Ok(d) => Err(refused(d.as_str(), String::new())),
                Err(e) => Err(refused(e.text(), format!(": {e}"))),
            }
        };
        if let Some((origin, m)) = &app_mirror {
            // An empty mirror names no place at all: refused, as no pattern can admit it.
            let none = || Err(LocationError::NotARegistry(String::new()));
            check(
                origin,
                "mirror",
                Destination::mirror(m).unwrap_or_else(none),
            )?;
        }
        for (origin, raw) in app_destinations {
            if let Some(dest) = Destination::full_entry(raw) {
                check(origin, "destination", dest)?;
            }
        }
    }
    Ok(())
}

/// `directory-jsonnet-ext-vars`/`-tlas` entries ([`render::JsonnetVar::parse`]); a bad entry is
/// an error naming the parameter and the entry.
fn jsonnet_vars(origin: &str, entries: &[String]) -> Result<Vec<render::JsonnetVar>, ParamError> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            render::JsonnetVar::parse(e)
                .map_err(|why| ParamError(format!("{origin}: entry {} {e:?}: {why}", i + 1)))
        })
        .collect()
}

/// A map parameter as ordered pairs.
fn pairs(m: &std::collections::BTreeMap<String, String>) -> Vec<(String, String)> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The repository root and which of its files the symlink check judges: under Argo CD
/// (`ARGOCD_APP_SOURCE_PATH` set) the app dir minus its components when it ends with them,
/// every file judged (Argo CD archived them all); else the nearest ancestor holding `.git`, as a
/// git working tree; else the app dir itself, every file judged.
pub fn repo_root(app_dir: &Path, source_path: Option<&str>) -> (PathBuf, RepoScope) {
    let git_top = || app_dir.ancestors().find(|a| a.join(".git").exists());
    let Some(sp) = source_path else {
        return match git_top() {
            Some(root) => (root.to_path_buf(), RepoScope::GitWorkingTree),
            None => (app_dir.to_path_buf(), RepoScope::Everything),
        };
    };
    let comps: Vec<_> = Path::new(sp)
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    let tail: PathBuf = comps.iter().collect();
    // The archive is Argo CD's whatever the root: every file is judged. A path that does not
    // match the app dir falls back to the `.git` search.
    let root = if comps.is_empty() {
        Some(app_dir)
    } else if app_dir.ends_with(&tail) {
        app_dir.ancestors().nth(comps.len())
    } else {
        None
    };
    let root = root.or_else(git_top).unwrap_or(app_dir);
    (root.to_path_buf(), RepoScope::Everything)
}

#[cfg(test)]
mod tests {
    //! The layers, one vector per line: a setting's value in the config file, the `ARGOCD_ENV_`
    //! variables and the parameters, and what resolving gives (`value <- origin`). Precedence,
    //! highest first: parameter > `ARGOCD_ENV_` > config > default (the README's table).
    use super::*;

    /// Resolves a directory app with the config text `cfg`, `ARGOCD_ENV_` pairs (names without
    /// the prefix) and `ARGOCD_APP_PARAMETERS`; origins name the config file `c.yaml`.
    fn resolved(cfg: &str, env: &[(&str, &str)], params: &str) -> Result<PluginSettings, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(&file, cfg).unwrap();
        let app = dir.path().join("app");
        std::fs::create_dir(&app).unwrap();
        let mut pairs: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (format!("ARGOCD_ENV_{k}"), v.to_string()))
            .collect();
        pairs.push(("ARGOCD_APP_PARAMETERS".into(), params.into()));
        let environ = Environ::from_pairs(pairs);
        let at = format!("{}: ", file.display());
        let tidy = |e: String| e.replace(&at, "c.yaml: ");
        let base =
            crate::settings::from_config(Some(&file), &environ).map_err(|e| tidy(e.to_string()))?;
        let argo = ArgoEnv::from_environ(&environ);
        let layers = AppLayers::from_argo(&argo).map_err(|e| e.to_string())?;
        let mut ps = resolve(
            &environ,
            &argo,
            base.native.as_ref(),
            base.rewrite,
            base.limits,
            &app,
            &layers,
        )
        .map_err(|e| tidy(e.to_string()))?;
        let w = &mut ps.rewrite;
        for origin in [
            &mut w.enabled.origin,
            &mut w.mirror.origin,
            &mut w.registries.origin,
            &mut w.exclude.origin,
            &mut w.profiles.origin,
        ] {
            *origin = tidy(origin.clone());
        }
        Ok(ps)
    }

    /// `layers!(field, config, [ENV = value…], parameters JSON => "value <- origin")`, or
    /// `=> error "text"`.
    macro_rules! layers {
        ($field:ident, $cfg:expr, [$($k:literal = $v:expr),*], $params:expr => error $want:expr) => {
            match resolved($cfg, &[$(($k, $v)),*], $params) {
                Ok(ps) => panic!("resolved {:?}, expected {:?}", ps.rewrite.$field, $want),
                Err(e) => assert_eq!(e, $want),
            }
        };
        ($field:ident, $cfg:expr, [$($k:literal = $v:expr),*], $params:expr => $want:expr) => {{
            let ps = resolved($cfg, &[$(($k, $v)),*], $params).unwrap_or_else(|e| panic!("{e}"));
            let s = &ps.rewrite.$field;
            assert_eq!(format!("{:?} <- {}", s.value, s.origin), $want, "{} / {}", $cfg, $params);
        }};
    }

    const M: &str = r#"[{"name":"mirror","string":"param.example.com"}]"#;

    #[test]
    fn precedence_of_the_layers() {
        // One value: the highest layer that sets it wins.
        layers!(mirror, "", [], "null" => "None <- default");
        layers!(mirror, "mirror: c.example.com\n", [], "null" => r#"Some("c.example.com") <- c.yaml: mirror"#);
        layers!(mirror, "mirror: c.example.com\n", ["MIRROR" = "env.example.com"], "null" => r#"Some("env.example.com") <- ARGOCD_ENV_MIRROR"#);
        layers!(mirror, "mirror: c.example.com\n", ["MIRROR" = "env.example.com"], M => r#"Some("param.example.com") <- parameter mirror"#);
        layers!(mirror, "", [], M => r#"Some("param.example.com") <- parameter mirror"#);
        layers!(enabled, "enabled: false\n", [], "null" => "false <- c.yaml: enabled");
        layers!(enabled, "enabled: false\n", ["ENABLED" = "true"], "null" => "true <- ARGOCD_ENV_ENABLED");
        layers!(enabled, "", ["ENABLED" = "true"], r#"[{"name":"enabled","string":"false"}]"# => "false <- parameter enabled");
        // `profiles` replaces the list below it; `exclude` adds to it.
        layers!(profiles, "profiles: [strimzi]\n", ["PROFILES" = "cert-manager"], "null" => r#"["cert-manager"] <- ARGOCD_ENV_PROFILES"#);
        layers!(exclude, "exclude: [a/*]\n", ["EXCLUDE" = "b/*"], r#"[{"name":"exclude","array":["c/*"]}]"# => r#"["a/*", "b/*", "c/*"] <- parameter exclude"#);
        // `registries` merges: an app entry replaces the one below for the same registry, under
        // any spelling; the others stay.
        layers!(registries, "registries: {docker.io: hub, quay.io: quay}\n", ["REGISTRIES" = "Docker.IO=env-hub"], "null" => r#"{"Docker.IO": "env-hub", "quay.io": "quay"} <- ARGOCD_ENV_REGISTRIES"#);
        layers!(registries, "registries: {docker.io: hub, quay.io: quay}\n", ["REGISTRIES" = "docker.io=env-hub"], r#"[{"name":"registries","map":{"index.docker.io":"app-hub"}}]"# => r#"{"index.docker.io": "app-hub", "quay.io": "quay"} <- parameter registries"#);
        // Both app layers answer to the admin's policy, named by the layer that set the value.
        layers!(mirror, "overrides: {allow: [enabled]}\n", ["MIRROR" = "env.example.com"], "null" => error "ARGOCD_ENV_MIRROR: not allowed by the sidecar config (add \"mirror\" to overrides.allow to let apps set it)");
        layers!(mirror, "overrides: {allow: [enabled]}\n", [], M => error "parameter mirror: not allowed by the sidecar config (add \"mirror\" to overrides.allow to let apps set it)");
        layers!(mirror, "overrides: {allow: [mirror]}\n", ["ENABLED" = "false"], M => error "ARGOCD_ENV_ENABLED: not allowed by the sidecar config (add \"enabled\" to overrides.allow to let apps set it)");
        layers!(mirror, "allowedMirrors: ['*.example.com']\n", ["MIRROR" = "evil.example.org"], "null" => error "ARGOCD_ENV_MIRROR: mirror \"evil.example.org\" is not in the sidecar's allowedMirrors (*.example.com)");
        layers!(mirror, "allowedMirrors: ['*.example.com']\n", [], r#"[{"name":"mirror","string":"evil.example.org/x"}]"# => error "parameter mirror: mirror \"evil.example.org/x\" is not in the sidecar's allowedMirrors (*.example.com)");
        // allowedMirrors judges the value that is used: one the parameter replaces is not.
        layers!(mirror, "allowedMirrors: ['*.example.com']\n", ["MIRROR" = "evil.example.org"], M => r#"Some("param.example.com") <- parameter mirror"#);
        // The config's own values are the admin's: not held to its allowedMirrors.
        layers!(mirror, "mirror: c.example.org\nallowedMirrors: ['*.example.com']\n", [], "null" => r#"Some("c.example.org") <- c.yaml: mirror"#);
    }
}
