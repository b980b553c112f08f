//! Contract harness: plays `argocd-cmp-server` with `argocd/plugin.yaml`.
//!
//! Like Argo CD (`cmpserver/plugin/plugin.go`, `reposerver/repository/repository.go`): a whole
//! fixture repository is copied to a fresh directory; `init` then `generate` run as argv
//! (`command ++ args` from plugin.yaml, `/usr/local/bin/pullthrough` replaced by the binary Cargo
//! built), no shell, cwd = the app path, stdin `/dev/null`, with the sidecar env followed by the
//! build env, `ARGOCD_ENV_*`, `PARAM_*` and `ARGOCD_APP_PARAMETERS` (Go `json.Marshal` bytes).
//! stdout is read the way Argo CD reads it: one trailing `\n` trimmed, the YAML-or-JSON decoder
//! (the Go oracle), empty/null documents skipped, `List`s flattened.
//!
//! Rendering is checked against the tools run by hand (`helm template`, `kubectl kustomize`, the
//! files themselves) with every container image masked; the images are checked against exact
//! strings written here by hand.

use crate::util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use util::cmd::TestDir;
use util::{oracle, tools};

const M: &str = "111111111111.dkr.ecr.eu-west-1.amazonaws.com";
const BIN_IN_IMAGE: &str = "/usr/local/bin/pullthrough";
const KUBE_VERSION: &str = "1.30.0";

/// The seed's five registries, every override allowed, any ECR registry allowed as mirror.
const BASE_CONFIG: &str = "\
mirror: 111111111111.dkr.ecr.eu-west-1.amazonaws.com
registries:
  docker.io: docker-hub
  public.ecr.aws: public-ecr
  ghcr.io: ghcr
  quay.io: quay
  registry.k8s.io: registry-k8s-io
overrides:
  allow: [\"*\"]
allowedMirrors:
  - \"*.dkr.ecr.*.amazonaws.com\"
";

// ---------------------------------------------------------------------------------------------
// plugin.yaml

struct PluginSpec {
    init: Option<Vec<String>>,
    generate: Vec<String>,
    parameters: Option<Vec<String>>,
}

fn argv_of(cmd: &Value) -> Vec<String> {
    let mut argv: Vec<String> = Vec::new();
    for key in ["command", "args"] {
        if let Some(list) = cmd.get(key).and_then(Value::as_array) {
            argv.extend(
                list.iter()
                    .map(|v| v.as_str().expect("argv entries are strings").to_string()),
            );
        }
    }
    // The binary in the image is the binary Cargo built.
    if argv.first().map(String::as_str) == Some(BIN_IN_IMAGE) {
        argv[0] = env!("CARGO_BIN_EXE_pullthrough").to_string();
    }
    argv
}

fn plugin_spec() -> PluginSpec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("argocd/plugin.yaml");
    let docs = oracle::read(&path);
    assert_eq!(docs.len(), 1, "plugin.yaml holds one document");
    let doc = docs[0].json.clone().expect("plugin.yaml parses");
    let spec = &doc["spec"];
    PluginSpec {
        init: spec.get("init").map(argv_of),
        generate: argv_of(&spec["generate"]),
        parameters: spec.pointer("/parameters/dynamic").map(argv_of),
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters: Argo CD's ApplicationSourcePluginParameter, its JSON and PARAM_* forms

#[derive(Clone, Debug)]
enum P {
    Str(&'static str, String),
    Arr(&'static str, Vec<String>),
    Map(&'static str, Vec<(String, String)>),
}

fn s(name: &'static str, v: &str) -> P {
    P::Str(name, v.to_string())
}
fn a(name: &'static str, v: &[&str]) -> P {
    P::Arr(name, v.iter().map(|x| x.to_string()).collect())
}
fn m(name: &'static str, v: &[(&str, &str)]) -> P {
    P::Map(
        name,
        v.iter()
            .map(|(k, x)| (k.to_string(), x.to_string()))
            .collect(),
    )
}

/// Go `encoding/json` string encoding (HTML-safe, as `json.Marshal` writes it).
fn go_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `json.Marshal(spec.source.plugin.parameters)`: keys sorted (`array`, `map`, `name`, `string`),
/// map keys sorted, `null` for no parameters.
fn go_parameters_json(params: Option<&[P]>) -> String {
    let Some(params) = params else {
        return "null".to_string();
    };
    let mut out = String::from("[");
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        match p {
            P::Arr(name, items) => {
                out.push_str("\"array\":[");
                for (j, item) in items.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    go_json_string(item, &mut out);
                }
                out.push_str("],\"name\":");
                go_json_string(name, &mut out);
            }
            P::Map(name, entries) => {
                let sorted: BTreeMap<&String, &String> =
                    entries.iter().map(|(k, v)| (k, v)).collect();
                out.push_str("\"map\":{");
                for (j, (k, v)) in sorted.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    go_json_string(k, &mut out);
                    out.push(':');
                    go_json_string(v, &mut out);
                }
                out.push_str("},\"name\":");
                go_json_string(name, &mut out);
            }
            P::Str(name, value) => {
                out.push_str("\"name\":");
                go_json_string(name, &mut out);
                out.push_str(",\"string\":");
                go_json_string(value, &mut out);
            }
        }
        out.push('}');
    }
    out.push(']');
    out
}

/// Argo CD's `escaped`: upper-case, then every byte outside `[A-Z0-9_]` becomes `_`.
fn escaped(s: &str) -> String {
    s.to_uppercase()
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn param_env(params: &[P]) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for p in params {
        match p {
            P::Str(name, v) => env.push((format!("PARAM_{}", escaped(name)), v.clone())),
            P::Arr(name, items) => {
                for (i, v) in items.iter().enumerate() {
                    env.push((format!("PARAM_{}_{i}", escaped(name)), v.clone()));
                }
            }
            P::Map(name, entries) => {
                for (k, v) in entries {
                    env.push((format!("PARAM_{}_{}", escaped(name), escaped(k)), v.clone()));
                }
            }
        }
    }
    env
}

#[test]
fn go_json_writer_matches_argo_cd_example() {
    // argocd-cmp.md §4.4.
    let params = [
        a("values-files", &["values-dev.yaml"]),
        m("helm-parameters", &[("image.tag", "v1.2.3")]),
        s("release", "a<b"),
    ];
    assert_eq!(
        go_parameters_json(Some(&params)),
        r#"[{"array":["values-dev.yaml"],"name":"values-files"},{"map":{"image.tag":"v1.2.3"},"name":"helm-parameters"},{"name":"release","string":"a\u003cb"}]"#
    );
    assert_eq!(go_parameters_json(None), "null");
    let env = param_env(&params);
    assert!(env.contains(&("PARAM_VALUES_FILES_0".into(), "values-dev.yaml".into())));
    assert!(env.contains(&("PARAM_HELM_PARAMETERS_IMAGE_TAG".into(), "v1.2.3".into())));
    assert!(env.contains(&("PARAM_RELEASE".into(), "a<b".into())));
    let mut out = String::new();
    go_json_string("x&y>\u{1}\n\"\\", &mut out);
    assert_eq!(out, r#""x\u0026y\u003e\u0001\n\"\\""#);
}

// ---------------------------------------------------------------------------------------------
// One Application, run through init + generate

#[derive(Clone)]
struct App {
    repo: &'static str,
    path: &'static str,
    app_name: String,
    namespace: &'static str,
    params: Option<Vec<P>>,
    /// Replaces the computed `ARGOCD_APP_PARAMETERS` (malformed-input cases).
    raw_parameters: Option<String>,
    /// `spec.source.plugin.env`: names without the prefix, used verbatim.
    env: Vec<(String, String)>,
    config: String,
    helm: PathBuf,
    api_versions: Vec<&'static str>,
}

impl App {
    fn new(repo: &'static str) -> App {
        App {
            repo,
            path: "apps/web",
            app_name: "web".into(),
            namespace: "prod",
            params: None,
            raw_parameters: None,
            env: vec![],
            config: BASE_CONFIG.to_string(),
            helm: tools::helm3(),
            api_versions: vec![
                "apps/v1",
                "apps/v1/Deployment",
                "batch/v1",
                "batch/v1/CronJob",
                "v1",
                "v1/ConfigMap",
                "v1/Pod",
            ],
        }
    }
    fn params(mut self, params: Vec<P>) -> App {
        self.params = Some(params);
        self
    }
    fn env(mut self, name: &str, value: &str) -> App {
        self.env.push((name.into(), value.into()));
        self
    }
    fn config(mut self, config: &str) -> App {
        self.config = config.to_string();
        self
    }
    fn helm(mut self, helm: PathBuf) -> App {
        self.helm = helm;
        self
    }
}

struct Checkout {
    dir: TestDir,
}

impl Checkout {
    fn new(repo: &str) -> Checkout {
        let dir = TestDir::new();
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/repos")
            .join(repo);
        dir.copy_tree(src, "work/repo");
        dir.mkdir("home");
        Checkout { dir }
    }
    fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.join("work/repo")).unwrap()
    }
}

struct Run {
    output: Output,
    stage: &'static str,
    cmdline: String,
}

impl Run {
    fn ok(&self) -> bool {
        self.output.status.success()
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    fn report(&self) -> String {
        format!(
            "stage: {}\ncommand: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stage,
            self.cmdline,
            self.output.status,
            self.stdout(),
            self.stderr()
        )
    }
    /// The manifests Argo CD would get; panics (with the whole report) when generation failed.
    fn manifests(&self) -> Vec<Value> {
        assert!(self.ok(), "plugin failed\n{}", self.report());
        argo_split(&self.output.stdout)
    }
    /// Asserts a failure with empty stdout; returns stderr.
    fn failure(&self) -> String {
        assert!(
            !self.ok(),
            "plugin succeeded but should have failed\n{}",
            self.report()
        );
        assert!(
            self.output.stdout.is_empty(),
            "a failing plugin printed manifests\n{}",
            self.report()
        );
        let err = self.stderr();
        assert!(
            !err.trim().is_empty(),
            "failure without a message\n{}",
            self.report()
        );
        err
    }
}

/// Argo CD's reading of CMP stdout (`kube.SplitYAML` after one trailing `\n` is trimmed).
fn argo_split(stdout: &[u8]) -> Vec<Value> {
    let trimmed = stdout.strip_suffix(b"\n").unwrap_or(stdout);
    let mut out = Vec::new();
    for doc in oracle::read_bytes(trimmed) {
        if let Some(err) = doc.error {
            panic!("Argo CD would reject document {}: {err}", doc.doc);
        }
        let json = doc.json.unwrap();
        assert!(
            json.is_object(),
            "document {} is not an object: {json}",
            doc.doc
        );
        let kind = json.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind == "List" || kind.ends_with("List") {
            if let Some(items) = json.get("items").and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
        } else {
            out.push(json);
        }
    }
    out
}

fn build_env(app: &App, checkout: &Checkout) -> Vec<(String, String)> {
    let rev = "4f9d1c7e2b3a45d6e7f8091a2b3c4d5e6f708192";
    let mut env: Vec<(String, String)> = vec![
        // sidecar env (os.Environ() of the cmp-server container)
        ("PATH".into(), tools::path_with_tools()),
        (
            "HOME".into(),
            checkout.dir.join("home").display().to_string(),
        ),
        (
            "PULLTHROUGH_CONFIG".into(),
            checkout.dir.join("config.yaml").display().to_string(),
        ),
        ("PULLTHROUGH_HELM".into(), app.helm.display().to_string()),
        // build env
        ("ARGOCD_APP_NAME".into(), app.app_name.clone()),
        ("ARGOCD_APP_NAMESPACE".into(), app.namespace.into()),
        ("ARGOCD_APP_REVISION".into(), rev.into()),
        ("ARGOCD_APP_REVISION_SHORT".into(), rev[..7].into()),
        ("ARGOCD_APP_REVISION_SHORT_8".into(), rev[..8].into()),
        ("ARGOCD_APP_SOURCE_PATH".into(), app.path.into()),
        (
            "ARGOCD_APP_SOURCE_REPO_URL".into(),
            format!("https://git.example.com/org/{}.git", app.repo),
        ),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION".into(), "HEAD".into()),
        ("ARGOCD_APP_PROJECT_NAME".into(), "default".into()),
        ("KUBE_VERSION".into(), KUBE_VERSION.into()),
        ("KUBE_API_VERSIONS".into(), {
            let mut v = app.api_versions.clone();
            v.sort();
            v.join(",")
        }),
    ];
    for (k, v) in &app.env {
        env.push((format!("ARGOCD_ENV_{k}"), v.clone()));
    }
    let params = app.params.as_deref();
    env.push((
        "ARGOCD_APP_PARAMETERS".into(),
        app.raw_parameters
            .clone()
            .unwrap_or_else(|| go_parameters_json(params)),
    ));
    env.extend(param_env(params.unwrap_or(&[])));
    env
}

fn exec(argv: &[String], cwd: &Path, env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Later duplicates win, as with Go's exec.Cmd.
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("spawn {argv:?}: {e}"))
}

fn run_app(app: &App) -> (Checkout, Run) {
    let checkout = Checkout::new(app.repo);
    checkout.dir.write("config.yaml", &app.config);
    let run = run_in(app, &checkout);
    (checkout, run)
}

fn run_in(app: &App, checkout: &Checkout) -> Run {
    let spec = plugin_spec();
    let app_dir = checkout.root().join(app.path);
    let env = build_env(app, checkout);
    if let Some(init) = &spec.init {
        let output = exec(init, &app_dir, &env);
        if !output.status.success() {
            return Run {
                output,
                stage: "init",
                cmdline: format!("{init:?}"),
            };
        }
    }
    let output = exec(&spec.generate, &app_dir, &env);
    Run {
        output,
        stage: "generate",
        cmdline: format!("{:?}", spec.generate),
    }
}

// ---------------------------------------------------------------------------------------------
// Baselines: the tools by hand, and image masking

fn tool_by_hand(program: &Path, args: &[String], cwd: &Path) -> Vec<Value> {
    let home = TestDir::new();
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("HELM_CACHE_HOME", home.join("c"))
        .env("HELM_CONFIG_HOME", home.join("cf"))
        .env("HELM_DATA_HOME", home.join("d"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program:?} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    argo_split(&out.stdout)
}

/// `helm template` with Argo CD's flags for the default case.
fn helm_args(
    release: &str,
    ns: &str,
    kube: &str,
    api: &[&str],
    extra: &[String],
    crds: bool,
) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "template".into(),
        ".".into(),
        "--name-template".into(),
        release.into(),
        "--namespace".into(),
        ns.into(),
        "--kube-version".into(),
        kube.into(),
    ];
    args.extend(extra.iter().cloned());
    for v in api {
        args.push("--api-versions".into());
        args.push(v.to_string());
    }
    if crds {
        args.push("--include-crds".into());
    }
    args
}

fn default_api() -> Vec<&'static str> {
    App::new("helm-repo").api_versions
}

const POD_SPEC_CONTAINERS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// Every container image (sorted) and a copy with each replaced by `<image>`.
fn mask_images(v: &Value) -> (Value, Vec<String>) {
    fn walk(v: &mut Value, images: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if POD_SPEC_CONTAINERS.contains(&k.as_str()) {
                        if let Value::Array(list) = child {
                            for c in list.iter_mut() {
                                if let Some(img) = c.get_mut("image") {
                                    if let Some(s) = img.as_str() {
                                        images.push(s.to_string());
                                    }
                                    *img = Value::String("<image>".into());
                                }
                            }
                        }
                    }
                    walk(child, images);
                }
            }
            Value::Array(list) => list.iter_mut().for_each(|x| walk(x, images)),
            _ => {}
        }
    }
    let mut copy = v.clone();
    let mut images = Vec::new();
    walk(&mut copy, &mut images);
    (copy, images)
}

fn all_images(docs: &[Value]) -> Vec<String> {
    let mut images: Vec<String> = docs.iter().flat_map(|d| mask_images(d).1).collect();
    images.sort();
    images
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|x| x.replace("$M", M)).collect();
    v.sort();
    v
}

/// Same objects, in the same order, identical except for container images.
fn assert_same_but_images(got: &[Value], want: &[Value]) {
    assert_eq!(
        got.len(),
        want.len(),
        "object count differs: got {:?}\nwant {:?}",
        got.iter()
            .map(|d| format!("{}/{}", d["kind"], d["metadata"]["name"]))
            .collect::<Vec<_>>(),
        want.iter()
            .map(|d| format!("{}/{}", d["kind"], d["metadata"]["name"]))
            .collect::<Vec<_>>()
    );
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let diff = oracle::differing_paths(&mask_images(g).0, &mask_images(w).0);
        assert!(
            diff.is_empty(),
            "object {i} ({}/{}) differs outside images at {diff:?}\ngot:  {g}\nwant: {w}",
            w["kind"],
            w["metadata"]["name"]
        );
    }
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| {
            panic!(
                "no {kind}/{name} in {:?}",
                docs.iter()
                    .map(|d| format!("{}/{}", d["kind"], d["metadata"]["name"]))
                    .collect::<Vec<_>>()
            )
        })
}

// ---------------------------------------------------------------------------------------------
// Helm

const HELM_DEFAULT_IMAGES: [&str; 7] = [
    "$M/ghcr/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector:0.111.0",
    "$M/registry-k8s-io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a",
    "$M/public-ecr/aws-observability/aws-otel-collector:v0.41.1",
    "$M/docker-hub/library/busybox:1.36",
    "$M/docker-hub/library/nginx:1.27.3",
    "$M/quay/prometheus/node-exporter:v1.8.2",
    "$M/docker-hub/curlimages/curl:8.10.1",
];

fn helm_default(helm: PathBuf) {
    let app = App::new("helm-repo").helm(helm.clone());
    let (checkout, run) = run_app(&app);
    let got = run.manifests();
    assert_eq!(
        all_images(&got),
        sorted(&HELM_DEFAULT_IMAGES),
        "\n{}",
        run.report()
    );
    let want = tool_by_hand(
        &helm,
        &helm_args("web", "prod", KUBE_VERSION, &default_api(), &[], true),
        &checkout.root().join("apps/web"),
    );
    assert_same_but_images(&got, &want);
    // The CRD is there (--include-crds) and the cluster's API versions reached helm.
    find(&got, "CustomResourceDefinition", "widgets.example.com");
    let dep = find(&got, "Deployment", "web-web");
    assert_eq!(
        dep["spec"]["template"]["metadata"]["annotations"]["has-cronjob-v1"],
        "true"
    );
    assert_eq!(
        dep["spec"]["template"]["metadata"]["annotations"]["kube-version"],
        "v1.30.0"
    );
    assert_eq!(dep["metadata"]["namespace"], "prod");
}

#[test]
fn helm3_default_render_rewrites_every_image() {
    helm_default(tools::helm3());
}

#[test]
fn helm4_default_render_rewrites_every_image() {
    helm_default(tools::helm4());
}

/// Every Helm render parameter at once, checked against `helm template` with the same flags.
fn helm_every_render_param(helm: PathBuf) {
    let params = vec![
        s("source-type", "helm"),
        s("release-name", "rel"),
        s("namespace", "ns1"),
        s("kube-version", "1.29.0"),
        a("api-versions", &["example.com/v1"]),
        a(
            "values-files",
            &[
                "values-prod.yaml",
                "/shared/values-common.yaml",
                "missing-*.yaml",
                "missing.yaml",
            ],
        ),
        s("values", "extra: inline\n"),
        m("set", &[("tier", "api")]),
        m("set-string", &[("env", "a<b&c>d"), ("replicaCount", "2")]),
        m("set-file", &[("banner", "files/banner.txt")]),
        s("skip-crds", "true"),
        s("skip-tests", "true"),
        s("skip-schema-validation", "true"),
        s("ignore-missing-value-files", "true"),
    ];
    let app = App::new("helm-repo").helm(helm.clone()).params(params);
    let (checkout, run) = run_app(&app);
    let got = run.manifests();
    let root = checkout.root();
    let inline = TestDir::new();
    let inline_file = inline.write("inline.yaml", "extra: inline\n");
    let extra: Vec<String> = [
        "--values",
        "values-prod.yaml",
        "--values",
        &root.join("shared/values-common.yaml").display().to_string(),
        "--values",
        &inline_file.display().to_string(),
        "--set",
        "tier=api",
        "--set-string",
        "env=a<b&c>d",
        "--set-string",
        "replicaCount=2",
        "--set-file",
        "banner=files/banner.txt",
        "--skip-schema-validation",
        "--skip-tests",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    let want = tool_by_hand(
        &helm,
        &helm_args("rel", "ns1", "1.29.0", &["example.com/v1"], &extra, false),
        &root.join("apps/web"),
    );
    assert_same_but_images(&got, &want);
    assert!(
        got.iter().all(|d| d["kind"] != "CustomResourceDefinition"),
        "skip-crds"
    );
    assert!(got.iter().all(|d| d["kind"] != "Pod"), "skip-tests");
    let dep = find(&got, "Deployment", "rel-web");
    assert_eq!(dep["spec"]["replicas"], 2);
    assert_eq!(dep["metadata"]["labels"]["env"], "a<b&c>d");
    assert_eq!(dep["metadata"]["labels"]["tier"], "api");
    assert_eq!(dep["metadata"]["labels"]["common"], "shared");
    assert_eq!(dep["metadata"]["labels"]["extra"], "inline");
    let annotations = &dep["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(annotations["kube-version"], "v1.29.0");
    assert_eq!(annotations["has-widget-v1"], "true");
    assert_eq!(
        annotations["has-cronjob-v1"], "false",
        "api-versions replaces the cluster's list"
    );
    assert_eq!(
        find(&got, "ConfigMap", "rel-banner")["data"]["banner"],
        "hello from a set-file\n"
    );
    let mut images = sorted(&HELM_DEFAULT_IMAGES);
    images.retain(|i| !i.contains("curl") && !i.contains("nginx"));
    images.push(format!("{M}/docker-hub/library/nginx:1.27.4"));
    images.sort();
    assert_eq!(all_images(&got), images);
}

#[test]
fn helm3_every_render_parameter() {
    helm_every_render_param(tools::helm3());
}

#[test]
fn helm4_every_render_parameter() {
    helm_every_render_param(tools::helm4());
}

#[test]
fn helm_release_name_from_namespaced_app_name() {
    // Apps outside the control-plane namespace: ARGOCD_APP_NAME is `<appNamespace>_<name>`.
    let mut app = App::new("helm-repo");
    app.app_name = "team-a_web".into();
    let (_c, run) = run_app(&app);
    let got = run.manifests();
    find(&got, "Deployment", "web-web");
}

#[test]
fn helm_value_file_traversal_is_refused() {
    let app = App::new("helm-repo").params(vec![a("values-files", &["../../etc/passwd"])]);
    let (_c, run) = run_app(&app);
    let err = run.failure();
    assert!(
        err.contains("../../etc/passwd"),
        "stderr should name the file: {err}"
    );
}

#[test]
fn helm_value_file_absolute_outside_repo_is_refused() {
    // `/x` is relative to the repository root, so this is <root>/etc/passwd, which does not exist.
    let app = App::new("helm-repo").params(vec![a("values-files", &["/../../../../etc/passwd"])]);
    let (_c, run) = run_app(&app);
    let err = run.failure();
    assert!(
        err.contains("etc/passwd"),
        "stderr should name the file: {err}"
    );
}

#[test]
fn helm_failure_is_reported_with_helms_message() {
    // The chart's values.schema.json wants an integer.
    let app = App::new("helm-repo").params(vec![m("set-string", &[("replicaCount", "many")])]);
    let (_c, run) = run_app(&app);
    let err = run.failure();
    assert!(
        err.contains("replicaCount"),
        "stderr should carry helm's schema error: {err}"
    );
}

#[test]
fn helm_missing_value_file_fails_without_ignore() {
    let app = App::new("helm-repo").params(vec![a("values-files", &["missing.yaml"])]);
    let (_c, run) = run_app(&app);
    let err = run.failure();
    assert!(err.contains("missing.yaml"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Kustomize

#[test]
fn kustomize_overlay_with_base() {
    let app = App::new("kustomize-repo");
    let (checkout, run) = run_app(&app);
    let got = run.manifests();
    let root = checkout.root();
    let want = tool_by_hand(
        &tools::kubectl(),
        &[
            "kustomize".to_string(),
            root.join("apps/web").display().to_string(),
        ],
        &root,
    );
    assert_same_but_images(&got, &want);
    assert_eq!(
        all_images(&got),
        sorted(&[
            "$M/docker-hub/library/nginx:1.27.4",
            "$M/docker-hub/library/redis:7.2",
            "$M/quay/prometheus/node-exporter:v1.8.2",
            "$M/docker-hub/library/postgres:16.4",
            "$M/ghcr/stefanprodan/podinfo:6.7.0@sha256:0b0d4d2d9a2e8c9f3c3f3e2c9f0e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e",
            "$M/registry-k8s-io/kubectl:v1.31.0",
            "$M/public-ecr/aws-cli/aws-cli:2.17.0",
        ])
    );
    // Not an image field: untouched.
    assert_eq!(
        find(&got, "ConfigMap", "prod-settings")["data"]["image"],
        "quay.io/not/rewritten:1"
    );
}

#[test]
fn kustomize_forced_source_type_and_rewrite_params() {
    let app = App::new("kustomize-repo").params(vec![
        s("source-type", "kustomize"),
        s("mirror", "222222222222.dkr.ecr.us-east-1.amazonaws.com"),
        m("registries", &[("docker.io", "dh"), ("ghcr.io", "github")]),
        a("exclude", &["docker.io/library/redis"]),
    ]);
    let (_c, run) = run_app(&app);
    let got = run.manifests();
    let m2 = "222222222222.dkr.ecr.us-east-1.amazonaws.com";
    let mut want: Vec<String> = vec![
        format!("{m2}/dh/library/nginx:1.27.4"),
        "docker.io/library/redis:7.2".into(),
        // `registries` is merged over the configured map: the app's entries win for docker.io
        // and ghcr.io, the config's other registries stay, under the app's mirror.
        format!("{m2}/quay/prometheus/node-exporter:v1.8.2"),
        format!("{m2}/dh/library/postgres:16.4"),
        format!("{m2}/github/stefanprodan/podinfo:6.7.0@sha256:0b0d4d2d9a2e8c9f3c3f3e2c9f0e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e"),
        format!("{m2}/registry-k8s-io/kubectl:v1.31.0"),
        format!("{m2}/public-ecr/aws-cli/aws-cli:2.17.0"),
    ];
    want.sort();
    assert_eq!(all_images(&got), want);
}

// ---------------------------------------------------------------------------------------------
// Directory

fn files_by_hand(root: &Path, rels: &[&str]) -> Vec<Value> {
    rels.iter()
        .flat_map(|r| argo_split(&std::fs::read(root.join(r)).unwrap()))
        .collect()
}

#[test]
fn directory_yaml_and_json_not_recursive() {
    let app = App::new("dir-repo");
    let (checkout, run) = run_app(&app);
    let got = run.manifests();
    let want = files_by_hand(
        &checkout.root(),
        &["apps/web/deployment.yaml", "apps/web/job.json"],
    );
    assert_same_but_images(&got, &want);
    assert_eq!(
        all_images(&got),
        sorted(&[
            "$M/docker-hub/library/busybox:1.36",
            "$M/docker-hub/library/nginx:latest",
            "$M/quay/prometheus/node-exporter:v1.8.2",
            "$M/ghcr/stefanprodan/podinfo:6.7.0",
            "$M/registry-k8s-io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a",
        ])
    );
}

#[test]
fn directory_recurse_include_exclude() {
    let (checkout, run) =
        run_app(&App::new("dir-repo").params(vec![s("directory-recurse", "true")]));
    let got = run.manifests();
    let root = checkout.root();
    let want = files_by_hand(
        &root,
        &[
            "apps/web/deployment.yaml",
            "apps/web/job.json",
            "apps/web/nested/worker.yml",
        ],
    );
    let mut got_sorted = got.clone();
    let mut want_sorted = want.clone();
    let key = |d: &Value| format!("{}/{}", d["kind"], d["metadata"]["name"]);
    got_sorted.sort_by_key(key);
    want_sorted.sort_by_key(key);
    assert_same_but_images(&got_sorted, &want_sorted);
    let images = all_images(&got);
    assert!(
        images.contains(&format!("{M}/public-ecr/docker/library/python:3.12-slim")),
        "{images:?}"
    );
    assert!(
        images.contains(&format!("{M}/docker-hub/library/redis:7.2")),
        "{images:?}"
    );

    let (_c, run) = run_app(&App::new("dir-repo").params(vec![
        s("directory-recurse", "true"),
        a("directory-exclude", &["nested/*"]),
    ]));
    let got = run.manifests();
    assert_same_but_images(
        &got,
        &files_by_hand(&root, &["apps/web/deployment.yaml", "apps/web/job.json"]),
    );

    let (_c, run) = run_app(&App::new("dir-repo").params(vec![
        s("source-type", "directory"),
        a("directory-include", &["*.json"]),
    ]));
    let got = run.manifests();
    assert_same_but_images(&got, &files_by_hand(&root, &["apps/web/job.json"]));
}

#[test]
fn empty_render_fails_unless_allow_empty() {
    let (_c, run) =
        run_app(&App::new("dir-repo").params(vec![a("directory-include", &["nothing-*.yaml"])]));
    let err = run.failure();
    assert!(
        err.contains("allow-empty"),
        "the error should say how to allow an empty render: {err}"
    );

    let (_c, run) = run_app(&App::new("dir-repo").params(vec![
        a("directory-include", &["nothing-*.yaml"]),
        s("allow-empty", "true"),
    ]));
    assert!(run.manifests().is_empty(), "\n{}", run.report());
}

// ---------------------------------------------------------------------------------------------
// Rewrite parameters and precedence: parameter > ARGOCD_ENV_ > config file > default

fn nginx_image(run: &Run) -> String {
    let got = run.manifests();
    find(&got, "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn precedence_of_mirror() {
    let a_ = "333333333333.dkr.ecr.eu-central-1.amazonaws.com";
    let b_ = "444444444444.dkr.ecr.us-west-2.amazonaws.com";
    let config = BASE_CONFIG.replace(M, a_);
    // config file
    let (_c, run) = run_app(&App::new("dir-repo").config(&config));
    assert_eq!(
        nginx_image(&run),
        format!("{a_}/docker-hub/library/nginx:latest")
    );
    // ARGOCD_ENV_ over config
    let (_c, run) = run_app(&App::new("dir-repo").config(&config).env("MIRROR", b_));
    assert_eq!(
        nginx_image(&run),
        format!("{b_}/docker-hub/library/nginx:latest")
    );
    // parameter over ARGOCD_ENV_
    let (_c, run) = run_app(
        &App::new("dir-repo")
            .config(&config)
            .env("MIRROR", b_)
            .params(vec![s("mirror", M)]),
    );
    assert_eq!(
        nginx_image(&run),
        format!("{M}/docker-hub/library/nginx:latest")
    );
}

#[test]
fn precedence_of_enabled() {
    // default: enabled
    let (_c, run) = run_app(&App::new("dir-repo"));
    assert_eq!(
        nginx_image(&run),
        format!("{M}/docker-hub/library/nginx:latest")
    );
    // config file
    let off = format!("{BASE_CONFIG}enabled: false\n");
    let (_c, run) = run_app(&App::new("dir-repo").config(&off));
    assert_eq!(nginx_image(&run), "nginx");
    // ARGOCD_ENV_ over config
    let (_c, run) = run_app(&App::new("dir-repo").config(&off).env("ENABLED", "true"));
    assert_eq!(
        nginx_image(&run),
        format!("{M}/docker-hub/library/nginx:latest")
    );
    // parameter over ARGOCD_ENV_
    let (_c, run) = run_app(
        &App::new("dir-repo")
            .config(&off)
            .env("ENABLED", "true")
            .params(vec![s("enabled", "false")]),
    );
    assert_eq!(nginx_image(&run), "nginx");
}

#[test]
fn disabled_output_equals_input() {
    let (checkout, run) = run_app(&App::new("dir-repo").params(vec![s("enabled", "false")]));
    let got = run.manifests();
    let want = files_by_hand(
        &checkout.root(),
        &["apps/web/deployment.yaml", "apps/web/job.json"],
    );
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------------
// Admin limits and bad input: one clear error naming the parameter

#[test]
fn forbidden_override_names_the_parameter() {
    let config = BASE_CONFIG.replace("allow: [\"*\"]", "allow: [enabled, exclude]");
    let (_c, run) = run_app(&App::new("dir-repo").config(&config).params(vec![s(
        "mirror",
        "222222222222.dkr.ecr.us-east-1.amazonaws.com",
    )]));
    let err = run.failure();
    assert!(err.contains("mirror"), "{err}");
    // The same through ARGOCD_ENV_.
    let (_c, run) = run_app(
        &App::new("dir-repo")
            .config(&config)
            .env("MIRROR", "222222222222.dkr.ecr.us-east-1.amazonaws.com"),
    );
    let err = run.failure();
    assert!(err.contains("MIRROR") || err.contains("mirror"), "{err}");
    // Allowed ones still work.
    let (_c, run) = run_app(
        &App::new("dir-repo")
            .config(&config)
            .params(vec![s("enabled", "false")]),
    );
    assert_eq!(nginx_image(&run), "nginx");
}

#[test]
fn mirror_outside_allowed_mirrors_is_refused() {
    let (_c, run) =
        run_app(&App::new("dir-repo").params(vec![s("mirror", "evil.example.com/cache")]));
    let err = run.failure();
    assert!(err.contains("evil.example.com"), "{err}");
    assert!(
        err.contains("mirror") || err.contains("allowedMirrors"),
        "{err}"
    );
}

#[test]
fn malformed_parameters_json_is_an_error() {
    let mut app = App::new("dir-repo");
    app.raw_parameters = Some(r#"[{"name":"mirror","string":"#.into());
    let (_c, run) = run_app(&app);
    let err = run.failure();
    assert!(err.contains("ARGOCD_APP_PARAMETERS"), "{err}");
}

#[test]
fn unknown_parameter_is_an_error() {
    let (_c, run) = run_app(&App::new("dir-repo").params(vec![s("mirrror", M)]));
    let err = run.failure();
    assert!(err.contains("mirrror"), "{err}");
}

#[test]
fn wrong_collection_type_is_an_error() {
    let (_c, run) =
        run_app(&App::new("helm-repo").params(vec![s("values-files", "values-prod.yaml")]));
    let err = run.failure();
    assert!(err.contains("values-files"), "{err}");
    let (_c, run) = run_app(&App::new("dir-repo").params(vec![a("mirror", &[M])]));
    let err = run.failure();
    assert!(err.contains("mirror"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Dynamic parameters announcement

#[test]
fn parameters_announcement_is_a_json_array_of_known_parameters() {
    let spec = plugin_spec();
    let argv = spec
        .parameters
        .expect("plugin.yaml has parameters.dynamic.command");
    let checkout = Checkout::new("helm-repo");
    checkout.dir.write("config.yaml", BASE_CONFIG);
    let app_dir = checkout.root().join("apps/web");
    // The reduced env of GetParametersAnnouncement (argocd-cmp.md §4.7).
    let env: Vec<(String, String)> = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        (
            "HOME".into(),
            checkout.dir.join("home").display().to_string(),
        ),
        (
            "PULLTHROUGH_CONFIG".into(),
            checkout.dir.join("config.yaml").display().to_string(),
        ),
        ("ARGOCD_APP_NAME".into(), "web".into()),
        (
            "ARGOCD_APP_SOURCE_REPO_URL".into(),
            "https://git.example.com/org/helm-repo.git".into(),
        ),
        ("ARGOCD_APP_SOURCE_PATH".into(), "apps/web".into()),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION".into(), "HEAD".into()),
        ("ARGOCD_APP_PARAMETERS".into(), "null".into()),
    ];
    let out = exec(&argv, &app_dir, &env);
    assert!(
        out.status.success(),
        "parameters failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<Value> = serde_json::from_slice(&out.stdout)
        .expect("stdout is a JSON array (Argo CD json.Unmarshal)");
    assert!(!list.is_empty());
    for p in &list {
        let name = p["name"].as_str().expect("name");
        let def = pullthrough::argocd::parameters::find(name)
            .unwrap_or_else(|| panic!("announced unknown parameter {name}"));
        assert_eq!(
            p.get("collectionType")
                .and_then(Value::as_str)
                .unwrap_or("string"),
            def.collection.as_str(),
            "{name}"
        );
        if let Some(v) = p.get("string") {
            assert!(v.is_string(), "{name}: string must be a JSON string");
        }
        if let Some(v) = p.get("array") {
            assert!(v.as_array().unwrap().iter().all(Value::is_string), "{name}");
        }
        if let Some(v) = p.get("map") {
            assert!(
                v.as_object().unwrap().values().all(Value::is_string),
                "{name}"
            );
        }
    }
    let mirror = list
        .iter()
        .find(|p| p["name"] == "mirror")
        .expect("mirror is announced");
    assert_eq!(
        mirror["string"], M,
        "the announced default is the effective mirror"
    );
}
