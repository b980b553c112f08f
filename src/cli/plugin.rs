//! The plugin commands: `generate`, `init`, `parameters`, and `render` (the same pipeline with
//! parameters from the command line).
//!
//! `generate` is the whole floor plan in order: Argo CD env → settings → render → scan →
//! rewrite/splice → emit; nothing reaches stdout unless every step succeeded and the result
//! holds at least one object (an empty success makes Argo CD prune the app).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use serde_json::{json, Map, Value as Json};

use super::args::{AppArgs, PluginArgs, RuleArgs};
use super::print_warnings;
use crate::argocd::env::ArgoEnv;
use crate::argocd::parameters::{Collection, Id, PARAMS};
use crate::argocd::params;
use crate::emit::OutputFormat;
use crate::environ::Environ;
use crate::error::UsageError;
use crate::render;
use crate::rewrite::{self, Input, RewriteError};
use crate::rules::Rules;
use crate::settings::plugin::{self as plugin_settings, AppLayers, PluginSettings};

/// Where the app's parameters come from.
pub enum ParamSource<'a> {
    /// `ARGOCD_APP_PARAMETERS` and `ARGOCD_ENV_*` (generate, init, parameters).
    Argo,
    /// The command line (render, explain DIR, verify DIR), and the rule flags of explain and
    /// verify (`--mirror`, `--map`, `--exclude`, `--strict`, `--namespace`).
    Cli(&'a AppArgs, Option<&'a RuleArgs>),
}

/// Resolves settings for the app in `dir`.
pub fn settings(
    plugin: &PluginArgs,
    src: ParamSource<'_>,
    env: &Environ,
    dir: &Path,
) -> Result<PluginSettings> {
    let mut argo = ArgoEnv::from_environ(env);
    let mut base = crate::settings::from_config(plugin.config.as_deref(), env)?;
    print_warnings(&base.warnings);
    // The rule flags stand in for the config file at the terminal: they change the config's
    // layer, and the app's layers apply over them (and are checked) as they would in Argo CD.
    let flags = match src {
        ParamSource::Cli(_, flags) => flags,
        ParamSource::Argo => None,
    };
    if let Some(f) = flags {
        super::apply_rule_flags(f, &mut base.rewrite)?;
    }
    let layers = match src {
        ParamSource::Argo => AppLayers::from_argo(&argo)?,
        ParamSource::Cli(a, _) => {
            for e in &a.env {
                let (k, v) = e
                    .split_once('=')
                    .ok_or_else(|| UsageError(format!("--env {e:?}: expected NAME=VALUE")))?;
                let k = k.strip_prefix("ARGOCD_ENV_").unwrap_or(k);
                argo.plugin_env.insert(k.to_string(), v.to_string());
            }
            let params = params::from_cli(&a.param, &a.param_array, &a.param_map)?;
            AppLayers {
                env: params::from_plugin_env(&argo.plugin_env)?,
                params,
            }
        }
    };
    let mut ps = plugin_settings::resolve(
        env,
        &argo,
        base.native.as_ref(),
        base.rewrite,
        base.limits,
        dir,
        &layers,
    )?;
    ps.strategy = super::strategy(env);
    // `--namespace` stands for the Application's destination namespace, which resolving reads
    // from `ARGOCD_APP_NAMESPACE`: given, it wins.
    if let Some(ns) = flags.and_then(|f| f.namespace.as_ref()) {
        ps.rewrite.default_namespace = ns.clone();
    }
    Ok(ps)
}

/// The `parameters` command: the announcement even when some app parameters are bad, so the
/// UI's Parameters tab still shows every parameter (where `generate` refuses). Each bad entry
/// (or `ARGOCD_ENV_` variable) is left out of the effective values and its error is shown in
/// the title and tooltip of the parameter it concerns. Errors of the admin's config file still
/// fail the command.
pub fn parameters(plugin: &PluginArgs, env: &Environ, dir: &Path) -> Result<String> {
    use std::collections::BTreeMap;
    let argo = ArgoEnv::from_environ(env);
    let mut errors: BTreeMap<&'static str, String> = BTreeMap::new();
    // Each JSON entry and each ARGOCD_ENV_ variable on its own: one bad one costs only itself.
    let mut layers = AppLayers {
        env: Vec::new(),
        params: Vec::new(),
    };
    match params::parse_json(argo.parameters.as_deref()) {
        Ok(p) => layers.params = p,
        Err(whole) => {
            match serde_json::from_str::<Vec<Json>>(argo.parameters.as_deref().unwrap_or("[]")) {
                Ok(entries) => {
                    for entry in entries {
                        let one = Json::Array(vec![entry.clone()]).to_string();
                        match params::parse_json(Some(&one)) {
                            Ok(p) => {
                                if p.iter().all(|q| {
                                    !layers.params.iter().any(|x| x.def.name == q.def.name)
                                }) {
                                    layers.params.extend(p);
                                }
                            }
                            Err(e) => {
                                let name = entry
                                    .get("name")
                                    .and_then(Json::as_str)
                                    .and_then(crate::argocd::parameters::find)
                                    .map_or(PARAMS[0].name, |d| d.name);
                                errors.entry(name).or_insert(e.0);
                            }
                        }
                    }
                }
                Err(_) => {
                    errors.insert(PARAMS[0].name, whole.0);
                }
            }
        }
    }
    for def in PARAMS {
        let var = crate::argocd::parameters::env_name(def.name);
        let Some(v) = argo.plugin_env.get(&var["ARGOCD_ENV_".len()..]) else {
            continue;
        };
        let one: std::collections::BTreeMap<String, String> =
            [(var["ARGOCD_ENV_".len()..].to_string(), v.clone())].into();
        match params::from_plugin_env(&one) {
            Ok(p) => layers.env.extend(p),
            Err(e) => {
                errors.entry(def.name).or_insert(e.0);
            }
        }
    }
    // Then the checks that need every layer (overrides.allow, allowedMirrors, values): drop the
    // parameter an error names and try again.
    let base = crate::settings::from_config(plugin.config.as_deref(), env)?;
    print_warnings(&base.warnings);
    let ps = loop {
        match plugin_settings::resolve(
            env,
            &argo,
            base.native.as_ref(),
            base.rewrite.clone(),
            base.limits,
            dir,
            &layers,
        ) {
            Ok(ps) => break ps,
            Err(e) => {
                let named = PARAMS.iter().find(|d| {
                    e.0.starts_with(&format!("parameter {}:", d.name))
                        || e.0.starts_with(&format!(
                            "{}:",
                            crate::argocd::parameters::env_name(d.name)
                        ))
                });
                let Some(def) = named else {
                    return Err(e.into());
                };
                let before = layers.env.len() + layers.params.len();
                layers.env.retain(|p| p.def.name != def.name);
                layers.params.retain(|p| p.def.name != def.name);
                if layers.env.len() + layers.params.len() == before {
                    return Err(e.into());
                }
                errors.entry(def.name).or_insert(e.0);
            }
        }
    };
    Ok(announcement_with(&ps, &errors))
}

/// Renders and plans: the inputs and edits whose splice `generate` prints.
pub fn generate(ps: &PluginSettings) -> Result<(Vec<Input>, rewrite::Plan)> {
    let (inputs, plan, _) = render_and_plan(ps)?;
    print_warnings(&plan.warnings);
    Ok((inputs, plan))
}

/// Renders the app and plans the rewrite (everything `generate` does but writing).
///
/// The plan of a tool's output is started as soon as the tool stops writing, while it is still
/// exiting (helm needs ~10 ms for that, about what planning 5 MB takes), and used only if it was
/// made from exactly the final output ([`render::render_early`]); the checks below run as before.
pub fn render_and_plan(ps: &PluginSettings) -> Result<(Vec<Input>, rewrite::Plan, Arc<Rules>)> {
    let rules = Arc::new(Rules::compile(&ps.rewrite)?);
    let opts = rewrite::Options {
        strict: ps.rewrite.strict.value,
        limits: ps.limits,
        strategy: ps.strategy,
    };
    let early = {
        let (rules, max) = (Arc::clone(&rules), ps.limits.max_input_bytes);
        move |origin: &str, bytes: Vec<u8>| {
            // Only what the checks below let through to the plan: one UTF-8 input within the limit.
            if bytes.len() as u64 > max {
                return (bytes, None);
            }
            let text = match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => return (e.into_bytes(), None),
            };
            let inputs = [Input {
                name: origin.to_string(),
                text,
            }];
            let plan = rewrite::plan(&inputs, &rules, &opts);
            let [input] = inputs;
            (input.text.into_bytes(), Some(plan))
        }
    };
    let (rendered, early_plan) = render::render_early(&ps.render, Some(early))?;
    print_warnings(&rendered.warnings);
    let mut inputs = Vec::with_capacity(rendered.parts.len());
    for part in rendered.parts {
        inputs.push(Input::from_bytes(
            part.origin,
            part.text.into_bytes(),
            &ps.limits,
        )?);
    }
    let total: u64 = inputs.iter().map(|i| i.text.len() as u64).sum();
    if total > ps.limits.max_input_bytes {
        return Err(RewriteError {
            input: rendered.source_type.as_str().to_string(),
            at: None,
            msg: format!("rendered {total} bytes, over the limit of {} bytes (raise limits.maxInputBytes in the config)", ps.limits.max_input_bytes),
        }
        .into());
    }
    let plan = match early_plan {
        Some(plan) if inputs.len() == 1 => plan?,
        _ => rewrite::plan(&inputs, &rules, &opts)?,
    };
    if plan.objects == 0 && !ps.allow_empty {
        return Err(EmptyOutput(rendered.source_type.as_str().to_string()).into());
    }
    Ok((inputs, plan, rules))
}

/// Rendering yielded no objects.
#[derive(Debug, thiserror::Error)]
#[error("{0} rendered no Kubernetes objects; Argo CD would prune every resource of this app. Set the parameter allow-empty to \"true\" if that is intended")]
pub struct EmptyOutput(pub String);

/// `explain` for a directory: the plan of what generate would do, as a table or JSON.
pub fn explain(ps: &PluginSettings, format: OutputFormat) -> Result<String> {
    let (inputs, plan, rules) = render_and_plan(ps)?;
    print_warnings(&plan.warnings);
    super::explain_text(&inputs, &plan, &rules, &ps.limits, format)
}

/// `init`: what must happen before generate.
pub fn init(ps: &PluginSettings) -> Result<()> {
    Ok(render::init(&ps.render)?)
}

/// The dynamic parameter announcement: every parameter with this app's effective value.
pub fn announcement(ps: &PluginSettings) -> String {
    announcement_with(ps, &Default::default())
}

/// [`announcement`], with the errors of the parameters that were left out shown in their
/// entries (title and tooltip).
pub fn announcement_with(
    ps: &PluginSettings,
    errors: &std::collections::BTreeMap<&'static str, String>,
) -> String {
    let r = &ps.render;
    let w = &ps.rewrite;
    let b = |v: bool| Json::String(v.to_string());
    let arr = |v: &[String]| json!(v);
    let pairs = |v: &[(String, String)]| {
        Json::Object(
            v.iter()
                .map(|(k, x)| (k.clone(), Json::String(x.clone())))
                .collect(),
        )
    };
    // Jsonnet variables as the entries the parameter reads back.
    let vars = |v: &[render::JsonnetVar]| json!(v.iter().map(|v| v.to_entry()).collect::<Vec<_>>());
    let source = r.resolved_source_type();
    let k = &r.kustomize.edits;
    let mut out = Vec::new();
    for def in PARAMS {
        let value = match def.id {
            Id::Enabled => b(w.enabled.value),
            Id::Mirror => json!(w.mirror.value.clone().unwrap_or_default()),
            Id::Registries => json!(w.registries.value),
            Id::Exclude => arr(&w.exclude.value),
            Id::Profiles => arr(&w.profiles.value),
            Id::AllowEmpty => b(ps.allow_empty),
            Id::SourceType => json!(source.as_str()),
            Id::ReleaseName => json!(r.helm.release_name),
            Id::Namespace => json!(r.helm.namespace.clone().unwrap_or_default()),
            Id::KubeVersion => json!(r.helm.kube_version.clone().unwrap_or_default()),
            Id::ApiVersions => arr(&r.helm.api_versions),
            Id::ValuesFiles => arr(&r.helm.values_files),
            Id::Values => json!(r.helm.values.clone().unwrap_or_default()),
            Id::Set => pairs(&r.helm.set),
            Id::SetString => pairs(&r.helm.set_string),
            Id::SetFile => pairs(&r.helm.set_file),
            Id::SkipCrds => b(r.helm.skip_crds),
            Id::SkipTests => b(r.helm.skip_tests),
            Id::SkipSchemaValidation => b(r.helm.skip_schema_validation),
            Id::IgnoreMissingValueFiles => b(r.helm.ignore_missing_value_files),
            Id::HelmVersion => json!(ps.helm_version),
            Id::PassCredentials => b(r.helm.pass_credentials),
            Id::DirectoryRecurse => b(r.directory.recurse),
            Id::DirectoryInclude => arr(&r.directory.include),
            Id::DirectoryExclude => arr(&r.directory.exclude),
            Id::DirectoryJsonnetExtVars => vars(&r.directory.jsonnet.ext_vars),
            Id::DirectoryJsonnetTlas => vars(&r.directory.jsonnet.tlas),
            Id::DirectoryJsonnetLibs => arr(&r.directory.jsonnet.libs),
            Id::KustomizeNamePrefix => json!(k.name_prefix),
            Id::KustomizeNameSuffix => json!(k.name_suffix),
            Id::KustomizeImages => arr(&k.images),
            Id::KustomizeReplicas => pairs(&k.replicas),
            Id::KustomizeCommonLabels => pairs(&k.common_labels),
            Id::KustomizeCommonAnnotations => pairs(&k.common_annotations),
            Id::KustomizeCommonAnnotationsEnvsubst => b(k.common_annotations_envsubst),
            Id::KustomizeForceCommonLabels => b(k.force_common_labels),
            Id::KustomizeForceCommonAnnotations => b(k.force_common_annotations),
            Id::KustomizeLabelWithoutSelector => b(k.label_without_selector),
            Id::KustomizeLabelIncludeTemplates => b(k.label_include_templates),
            Id::KustomizeNamespace => json!(k.namespace),
            Id::KustomizePatches => json!(k.patches.clone().unwrap_or_default()),
            Id::KustomizeComponents => arr(&k.components),
            Id::KustomizeIgnoreMissingComponents => b(k.ignore_missing_components),
            Id::KustomizeKubeVersion => json!(r.kustomize.kube_version.clone().unwrap_or_default()),
            Id::KustomizeApiVersions => arr(&r.kustomize.api_versions),
        };
        let mut m = Map::new();
        m.insert("name".into(), json!(def.name));
        match errors.get(def.name) {
            Some(err) => {
                m.insert(
                    "title".into(),
                    json!(format!("{} (invalid: ignored)", def.title)),
                );
                m.insert(
                    "tooltip".into(),
                    json!(format!(
                        "Error: {} — {}",
                        err.trim_start_matches("pullthrough: "),
                        def.help
                    )),
                );
            }
            None => {
                m.insert("title".into(), json!(def.title));
                m.insert("tooltip".into(), json!(def.help));
            }
        }
        m.insert("collectionType".into(), json!(def.collection.as_str()));
        let key = match def.collection {
            Collection::String => "string",
            Collection::Array => "array",
            Collection::Map => "map",
        };
        m.insert(key.into(), value);
        out.push(Json::Object(m));
    }
    let mut s = serde_json::to_string(&out).expect("announcement serializes");
    s.push('\n');
    s
}

/// The app directory for `render`/`explain DIR`: the argument, else the current directory.
pub fn app_dir(dir: Option<&Path>) -> Result<PathBuf> {
    match dir {
        Some(d) => Ok(d.to_path_buf()),
        None => std::env::current_dir().context("reading the current directory"),
    }
}
