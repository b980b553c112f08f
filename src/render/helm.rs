//! `helm template` with Argo CD's flags (`util/helm/cmd.go` `template`), and `helm dependency
//! build` when `charts/` lacks a declared dependency.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use regex::Regex;

use super::envsubst::{clean_set_parameter, envsubst};
use super::process::{self, display_argv, Cmd};
use super::valuefiles::{Resolver, ValueFile};
use super::{EarlyWork, HelmOptions, Part, RenderError, RenderSettings};

/// Shown instead of the inline-values temp file in errors (Argo CD shows a placeholder too).
pub const INLINE_VALUES_PLACEHOLDER: &str = "<temp file with inline values>";

/// The arguments after `helm`, in Argo CD's order:
/// `template . --name-template <release> [--namespace <ns>] [--kube-version <v>]
/// [--set k=v]… [--set-string k=v]… [--set-file k=path]… [--values <file>]… [--values <inline>]
/// [--api-versions <v>]… [--include-crds] [--skip-schema-validation] [--skip-tests]`.
///
/// `--set`/`--set-string` values get `Envsubst` and comma escaping; `--set-file` paths (already
/// resolved) get comma escaping. `kube_version` must already be normalised
/// ([`normalize_kube_version`]).
pub fn helm_template_args(
    h: &HelmOptions,
    build_env: &BTreeMap<String, String>,
    kube_version: Option<&str>,
    value_files: &[ValueFile],
    inline_values: Option<&Path>,
    set_files: &[(String, ValueFile)],
) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec![
        "template".into(),
        ".".into(),
        "--name-template".into(),
        h.release_name.clone().into(),
    ];
    let flag = |a: &mut Vec<OsString>, f: &str, v: OsString| {
        a.push(f.into());
        a.push(v);
    };
    if let Some(ns) = h.namespace.as_deref().filter(|n| !n.is_empty()) {
        flag(&mut a, "--namespace", ns.into());
    }
    if let Some(kv) = kube_version.filter(|v| !v.is_empty()) {
        flag(&mut a, "--kube-version", kv.into());
    }
    for (k, v) in &h.set {
        flag(
            &mut a,
            "--set",
            format!("{k}={}", clean_set_parameter(&envsubst(v, build_env))).into(),
        );
    }
    for (k, v) in &h.set_string {
        flag(
            &mut a,
            "--set-string",
            format!("{k}={}", clean_set_parameter(&envsubst(v, build_env))).into(),
        );
    }
    for (k, v) in set_files {
        let path = v.as_arg().to_string_lossy().into_owned();
        flag(
            &mut a,
            "--set-file",
            format!("{k}={}", clean_set_parameter(&path)).into(),
        );
    }
    for v in value_files {
        flag(&mut a, "--values", v.as_arg());
    }
    if let Some(p) = inline_values {
        flag(&mut a, "--values", p.as_os_str().to_owned());
    }
    for v in &h.api_versions {
        flag(&mut a, "--api-versions", v.into());
    }
    if !h.skip_crds {
        a.push("--include-crds".into());
    }
    if h.skip_schema_validation {
        a.push("--skip-schema-validation".into());
    }
    if h.skip_tests {
        a.push("--skip-tests".into());
    }
    a
}

/// Argo CD's `parseKubeVersion` (`k8s.io/apimachinery` `version.ParseGeneric(v).String()`):
/// `v1.30.0-eks-1` → `1.30.0`, `1.29` → `1.29`; fewer than two components is an error.
pub fn normalize_kube_version(param: &'static str, v: &str) -> Result<Option<String>, RenderError> {
    if v.is_empty() {
        return Ok(None);
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    let re =
        RE.get_or_init(|| Regex::new(r"^\s*v?([0-9]+(?:\.[0-9]+)*)(.*)$").expect("valid regex"));
    match re.captures(v) {
        Some(c) if c[1].contains('.') => {
            let comps: Vec<String> = c[1]
                .split('.')
                .map(|n| n.trim_start_matches('0').to_string())
                .map(|n| if n.is_empty() { "0".into() } else { n })
                .collect();
            Ok(Some(comps.join(".")))
        }
        _ => Err(RenderError::KubeVersion {
            param,
            value: v.to_string(),
        }),
    }
}

/// The command for display: the program, api versions redacted as Argo CD does
/// (`<api versions removed>`), the repo root shown as `.`, the inline-values file as a placeholder.
fn display(program: &Path, args: &[OsString], repo_root: &Path, inline: Option<&Path>) -> String {
    let mut shown = vec![display_argv(&[program.display().to_string()])];
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--api-versions" {
            while i < args.len() && args[i] == "--api-versions" {
                i += 2;
            }
            shown.push("<api versions removed>".to_string());
            continue;
        }
        if inline.is_some_and(|p| args[i] == p.as_os_str()) {
            shown.push(INLINE_VALUES_PLACEHOLDER.to_string());
        } else {
            let s = args[i]
                .to_string_lossy()
                .replace(&format!("{}/", repo_root.display()), "./");
            shown.push(display_argv(&[s]));
        }
        i += 1;
    }
    shown.join(" ")
}

/// Private `HELM_*_HOME` dirs under `home`, so helm writes nothing into the checkout or a
/// shared home (also used for the helm that kustomize's `--enable-helm` runs).
pub(super) fn helm_home_env(home: &Path) -> Vec<(OsString, OsString)> {
    let d = |sub: &str| home.join(sub).into_os_string();
    vec![
        ("HELM_CACHE_HOME".into(), d("cache/helm")),
        ("HELM_CONFIG_HOME".into(), d("config/helm")),
        ("HELM_DATA_HOME".into(), d("data/helm")),
    ]
}

/// The helm env: the private homes plus `XDG_*` dirs under the same root. The build env is not
/// exported.
fn helm_env(home: &Path) -> Vec<(OsString, OsString)> {
    let d = |sub: &str| home.join(sub).into_os_string();
    let mut env = helm_home_env(home);
    env.extend([
        ("XDG_CACHE_HOME".into(), d("cache")),
        ("XDG_CONFIG_HOME".into(), d("config")),
        ("XDG_DATA_HOME".into(), d("data")),
    ]);
    env
}

pub(crate) fn render<T, F>(
    s: &RenderSettings,
    deadline: Instant,
    early: Option<F>,
) -> Result<(Vec<Part>, Option<T>), RenderError>
where
    T: Send + 'static,
    F: EarlyWork<T>,
{
    let h = &s.helm;
    let kube_version =
        normalize_kube_version("kube-version", h.kube_version.as_deref().unwrap_or(""))?;
    let vf = Resolver::new(
        "values-files",
        &s.app_dir,
        &s.repo_root,
        &s.build_env,
        &h.value_file_schemes,
    )?;
    let value_files = vf.resolve_all(&h.values_files, h.ignore_missing_value_files)?;
    let sf = Resolver::new(
        "set-file",
        &s.app_dir,
        &s.repo_root,
        &s.build_env,
        &h.value_file_schemes,
    )?;
    let mut set_files = Vec::new();
    for (k, raw) in &h.set_file {
        // Argo CD resolves set-file paths like value files, without glob expansion.
        set_files.push((k.clone(), sf.resolve_one(raw)?));
    }

    let tmp = super::private_temp_dir(s)?;
    let inline = match h.values.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(text) => {
            let p = tmp.path().join("inline-values.yaml");
            std::fs::write(&p, text)
                .map_err(|e| RenderError::io("cannot write the inline values to", &p, e))?;
            Some(p)
        }
        None => None,
    };
    let args = helm_template_args(
        h,
        &s.build_env,
        kube_version.as_deref(),
        &value_files,
        inline.as_deref(),
        &set_files,
    );
    let mut cmd = Cmd::new(&s.tools.helm, args, &s.app_dir, "helm");
    cmd.display = display(
        &s.tools.helm,
        &cmd.args,
        &canonical(&s.repo_root),
        inline.as_deref(),
    );
    cmd.env = helm_env(&tmp.path().join("home"));
    cmd.env.extend(credential_env(h, tmp.path())?);
    super::tool_part(&cmd, "helm template", deadline, &s.limits, early)
}

/// `HELM_REPOSITORY_CONFIG` / `HELM_REGISTRY_CONFIG` for the admin's files. With
/// `pass_credentials`, the repositories file is copied into `tmp` with `pass_credentials_all:
/// true` on every entry (what `helm repo add --pass-credentials` records, which Argo CD runs).
fn credential_env(h: &HelmOptions, tmp: &Path) -> Result<Vec<(OsString, OsString)>, RenderError> {
    let mut env = Vec::new();
    if let Some(file) = &h.repository_config {
        let path = if h.pass_credentials {
            let text = std::fs::read_to_string(file).map_err(|e| {
                RenderError::io("render.helmRepositoryConfig: cannot read", file, e)
            })?;
            let mut v: serde_json::Value = chart_yaml(&text).map_err(|e| {
                RenderError::ChartYaml(format!(
                    "render.helmRepositoryConfig {}: not a Helm repositories file: {}",
                    file.display(),
                    e.to_string().lines().next().unwrap_or("")
                ))
            })?;
            if let Some(repos) = v.get_mut("repositories").and_then(|r| r.as_array_mut()) {
                for r in repos.iter_mut().filter_map(|r| r.as_object_mut()) {
                    r.insert("pass_credentials_all".into(), serde_json::Value::Bool(true));
                }
            }
            let copy = tmp.join("repositories.yaml");
            std::fs::write(&copy, serde_json::to_string(&v).expect("JSON serializes"))
                .map_err(|e| RenderError::io("cannot write", &copy, e))?;
            copy
        } else {
            file.clone()
        };
        env.push(("HELM_REPOSITORY_CONFIG".into(), path.into_os_string()));
    }
    if let Some(file) = &h.registry_config {
        env.push(("HELM_REGISTRY_CONFIG".into(), file.clone().into_os_string()));
    }
    Ok(env)
}

/// Argo CD's `helm.NewCmd`: `spec.source.helm.version` may be empty, `v3` or `v4`, all of them
/// rendered with the one Helm (v3.5.1 ships Helm 4, which renders v3 charts); anything else is
/// an error.
pub fn check_helm_version(v: &str) -> Result<(), String> {
    match v {
        "" | "v3" | "v4" => Ok(()),
        other => Err(format!("helm version '{other}' is not supported (Argo CD accepts v3 and v4, both rendered with the configured helm)")),
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

#[derive(serde::Deserialize, Default)]
struct ChartDeps {
    #[serde(default)]
    dependencies: Option<Vec<ChartDep>>,
}

#[derive(serde::Deserialize)]
struct ChartDep {
    name: String,
    #[serde(default)]
    repository: Option<String>,
}

#[derive(serde::Deserialize)]
struct ChartName {
    #[serde(default)]
    name: Option<String>,
}

/// Reads Chart.yaml / requirements.yaml as Helm does (sigs.k8s.io/yaml over go-yaml, not
/// strict): of duplicate keys the last wins, merge keys merge, unknown fields are ignored. Only
/// what is read here has to be valid; anything else is Helm's to judge when it renders.
fn chart_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        merge_keys: serde_saphyr::MergeKeyPolicy::Merge,
    };
    serde_saphyr::from_str_with_options(text, options)
}

/// Declared dependency names (Chart.yaml, or requirements.yaml for apiVersion v1 charts).
fn declared_dependencies(app_dir: &Path) -> Result<Vec<(String, Option<String>)>, RenderError> {
    let mut deps = Vec::new();
    for file in ["Chart.yaml", "requirements.yaml"] {
        let path = app_dir.join(file);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(RenderError::io("cannot read", &path, e)),
        };
        if text.trim().is_empty() {
            continue;
        }
        let parsed: ChartDeps = chart_yaml(&text).map_err(|e| {
            RenderError::ChartYaml(format!("{file}: cannot read its dependencies: {e}"))
        })?;
        deps.extend(
            parsed
                .dependencies
                .unwrap_or_default()
                .into_iter()
                .map(|d| (d.name, d.repository)),
        );
    }
    Ok(deps)
}

/// Names of the charts present in `charts/` (unpacked dirs by their Chart.yaml name, archives by
/// their `<name>-<version>.tgz` file name).
fn present_charts(app_dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(rd) = std::fs::read_dir(app_dir.join("charts")) else {
        return names;
    };
    for e in rd.flatten() {
        let p = e.path();
        let file_name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if let Ok(text) = std::fs::read_to_string(p.join("Chart.yaml")) {
                if let Ok(ChartName { name: Some(n) }) = chart_yaml::<ChartName>(&text) {
                    names.push(n);
                }
            }
        } else if let Some(stem) = file_name
            .strip_suffix(".tgz")
            .or_else(|| file_name.strip_suffix(".tar.gz"))
        {
            // `<name>-<version>`; the version starts with a digit or `v`.
            for (i, _) in stem.match_indices('-') {
                if stem[i + 1..].starts_with(|c: char| c.is_ascii_digit() || c == 'v') {
                    names.push(stem[..i].to_string());
                }
            }
        }
    }
    names
}

/// Dependencies declared but missing from `charts/`.
pub fn missing_dependencies(app_dir: &Path) -> Result<Vec<String>, RenderError> {
    let present = present_charts(app_dir);
    Ok(declared_dependencies(app_dir)?
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !present.contains(name))
        .collect())
}

pub(crate) fn init(s: &RenderSettings, deadline: Instant) -> Result<(), RenderError> {
    if missing_dependencies(&s.app_dir)?.is_empty() {
        return Ok(());
    }
    let tmp = super::private_temp_dir(s)?;
    let lock = s.app_dir.join("Chart.lock");
    let lock_existed = lock.exists();
    let mut cmd = Cmd::new(
        &s.tools.helm,
        vec!["dependency".into(), "build".into()],
        &s.app_dir,
        "helm",
    );
    cmd.env = helm_env(&tmp.path().join("home"));
    cmd.env.extend(credential_env(&s.helm, tmp.path())?);
    let result = process::run(&cmd, deadline, &s.limits);
    // Argo CD's helm/helm#6870 workaround: a Chart.lock that did not exist before goes again.
    if !lock_existed {
        let _ = std::fs::remove_file(&lock);
    }
    result.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(a: &[OsString]) -> Vec<String> {
        a.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn minimal_args() {
        let h = HelmOptions {
            release_name: "guestbook".into(),
            ..Default::default()
        };
        let a = helm_template_args(&h, &BTreeMap::new(), None, &[], None, &[]);
        assert_eq!(
            strs(&a),
            [
                "template",
                ".",
                "--name-template",
                "guestbook",
                "--include-crds"
            ]
        );
    }

    #[test]
    fn full_args_in_argo_cd_order() {
        let env: BTreeMap<String, String> =
            [("ARGOCD_APP_NAME".to_string(), "gb".to_string())].into();
        let h = HelmOptions {
            release_name: "rel".into(),
            namespace: Some("ns".into()),
            kube_version: Some("v1.30.1".into()),
            api_versions: vec!["apps/v1".into(), "batch/v1/CronJob".into()],
            values_files: vec!["ignored-here.yaml".into()],
            values: Some("a: 1".into()),
            set: vec![
                ("image.tag".into(), "$ARGOCD_APP_NAME,x".into()),
                ("list".into(), "{a,b}".into()),
            ],
            set_string: vec![("s".into(), "1,2".into())],
            set_file: vec![],
            skip_crds: true,
            skip_tests: true,
            skip_schema_validation: true,
            ignore_missing_value_files: false,
            value_file_schemes: vec![],
            ..Default::default()
        };
        let vf = [
            ValueFile::Local("/r/app/values-a.yaml".into()),
            ValueFile::Url("https://x/v.yaml".into()),
        ];
        let sf = [("cfg".to_string(), ValueFile::Local("/r/app/a,b.txt".into()))];
        let kv = normalize_kube_version("kube-version", "v1.30.1").unwrap();
        let a = helm_template_args(
            &h,
            &env,
            kv.as_deref(),
            &vf,
            Some(Path::new("/tmp/x/inline.yaml")),
            &sf,
        );
        #[rustfmt::skip]
        let want = [
            "template", ".", "--name-template", "rel",
            "--namespace", "ns",
            "--kube-version", "1.30.1",
            "--set", "image.tag=gb\\,x",
            "--set", "list={a,b}",
            "--set-string", "s=1\\,2",
            "--set-file", "cfg=/r/app/a\\,b.txt",
            "--values", "/r/app/values-a.yaml",
            "--values", "https://x/v.yaml",
            "--values", "/tmp/x/inline.yaml",
            "--api-versions", "apps/v1",
            "--api-versions", "batch/v1/CronJob",
            "--skip-schema-validation",
            "--skip-tests",
        ];
        assert_eq!(strs(&a), want);
        let shown = display(
            Path::new("helm"),
            &a,
            Path::new("/r"),
            Some(Path::new("/tmp/x/inline.yaml")),
        );
        assert_eq!(
            shown,
            "helm template . --name-template rel --namespace ns --kube-version 1.30.1 --set image.tag=gb\\,x \
             --set list={a,b} --set-string s=1\\,2 --set-file cfg=./app/a\\,b.txt --values ./app/values-a.yaml \
             --values https://x/v.yaml --values <temp file with inline values> <api versions removed> \
             --skip-schema-validation --skip-tests"
        );
    }

    #[test]
    fn helm_versions_like_argo_cd() {
        for ok in ["", "v3", "v4"] {
            assert_eq!(check_helm_version(ok), Ok(()), "{ok:?}");
        }
        for bad in ["v2", "3", "V3", "v4.1"] {
            assert_eq!(
                check_helm_version(bad).unwrap_err(),
                format!("helm version '{bad}' is not supported (Argo CD accepts v3 and v4, both rendered with the configured helm)")
            );
        }
    }

    #[test]
    fn pass_credentials_marks_every_repository_of_a_private_copy() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("repositories.yaml");
        std::fs::write(&file, "apiVersion: \"\"\nrepositories:\n- name: a\n  url: https://a.example\n  username: u\n  password: p\n- name: b\n  url: https://b.example\n  pass_credentials_all: false\n").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let mut h = HelmOptions {
            repository_config: Some(file.clone()),
            registry_config: Some("/r/config.json".into()),
            ..Default::default()
        };
        let env = credential_env(&h, tmp.path()).unwrap();
        assert_eq!(
            env,
            [
                (
                    "HELM_REPOSITORY_CONFIG".into(),
                    file.clone().into_os_string()
                ),
                ("HELM_REGISTRY_CONFIG".into(), "/r/config.json".into())
            ]
        );
        h.pass_credentials = true;
        let env = credential_env(&h, tmp.path()).unwrap();
        let copy = tmp.path().join("repositories.yaml");
        assert_eq!(
            env[0],
            (
                "HELM_REPOSITORY_CONFIG".into(),
                copy.clone().into_os_string()
            )
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&copy).unwrap()).unwrap();
        assert_eq!(v["repositories"][0]["pass_credentials_all"], true);
        assert_eq!(v["repositories"][0]["password"], "p");
        assert_eq!(v["repositories"][1]["pass_credentials_all"], true);
        // The admin's file is untouched.
        assert!(std::fs::read_to_string(&file)
            .unwrap()
            .contains("pass_credentials_all: false"));
    }

    #[test]
    fn chart_yaml_reads_like_helm() {
        #[rustfmt::skip]
        let cases: &[(&str, &[&str])] = &[
            ("name: a\nname: b\ndependencies:\n- name: x\n", &["x"]),
            ("dependencies:\n- name: x\ndependencies:\n- name: y\n  name: z\n", &["z"]),
            ("base: &d {name: m, repository: file://../m}\ndependencies:\n- <<: *d\n", &["m"]),
            ("name: a\nunknown: {deep: [1]}\n", &[]),
        ];
        for (text, want) in cases {
            let deps: ChartDeps = chart_yaml(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            let names: Vec<String> = deps
                .dependencies
                .unwrap_or_default()
                .into_iter()
                .map(|d| d.name)
                .collect();
            assert_eq!(names, *want, "{text:?}");
        }
    }

    #[test]
    fn kube_version_table() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<&str>)] = &[
            ("", None),
            ("1.30.0", Some("1.30.0")),
            ("v1.30.0", Some("1.30.0")),
            ("v1.30.2-eks-1234", Some("1.30.2")),
            ("1.29", Some("1.29")),
            ("v1.031.0", Some("1.31.0")),
        ];
        for (input, want) in cases {
            assert_eq!(
                normalize_kube_version("kube-version", input)
                    .unwrap()
                    .as_deref(),
                *want,
                "{input:?}"
            );
        }
        for bad in ["1", "latest", "x1.2"] {
            assert_eq!(
                normalize_kube_version("kube-version", bad)
                    .unwrap_err()
                    .to_string(),
                format!("kube-version: cannot parse Kubernetes version '{bad}'")
            );
        }
    }
}
