//! The install files (`argocd/`, `docker/`, `examples/`) against Argo CD's contract and each other.
//!
//! There is no container engine here, so the image is not built: these tests check what can be
//! checked without one. `plugin.yaml` satisfies Argo CD's `ValidatePluginConfig` and runs no shell;
//! every path the Dockerfile, plugin.yaml, the kustomize install and the argo-helm values name
//! agrees; `kubectl kustomize argocd/install` builds (real kubectl) into a repo-server with the
//! sidecar Argo CD requires; the examples name only parameters that exist.

use crate::util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pullthrough::argocd::parameters::{self, Collection, PARAMS};
use pullthrough::settings::config::{self, Loaded};
use serde_json::Value;
use util::{oracle, tools};

const BIN: &str = "/usr/local/bin/pullthrough";
const PLUGIN_YAML_PATH: &str = "/home/argocd/cmp-server/config/plugin.yaml";
const CMP_SERVER: &str = "/var/run/argocd/argocd-cmp-server";
const CONFIG_DIR: &str = "/etc/pullthrough";
const CONFIG_FILE: &str = "/etc/pullthrough/config.yaml";
const BEGIN: &str =
    "    # BEGIN GENERATED: parameters (do not edit; generated from src/argocd/parameters.rs)";
const END: &str = "    # END GENERATED: parameters";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// Every document of a YAML file, as Argo CD / kubectl read it (the Go oracle).
fn docs_of_bytes(bytes: &[u8], what: &str) -> Vec<Value> {
    oracle::read_bytes(bytes)
        .into_iter()
        .map(|d| {
            d.json.unwrap_or_else(|| {
                panic!("{what}: document {} does not parse: {:?}", d.doc, d.error)
            })
        })
        .collect()
}

fn docs(rel: &str) -> Vec<Value> {
    docs_of_bytes(read(rel).as_bytes(), rel)
}

fn one_doc(rel: &str) -> Value {
    let mut d = docs(rel);
    assert_eq!(d.len(), 1, "{rel} holds one document");
    d.remove(0)
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| {
            x.as_str()
                .unwrap_or_else(|| panic!("not a string: {x}"))
                .to_string()
        })
        .collect()
}

const SHELLS: [&str; 7] = ["sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"];

/// `command ++ args`, asserting it is a direct call of the pullthrough binary.
fn assert_direct_call(cmd: &Value, sub: &str, what: &str) {
    let mut argv = strs(&cmd["command"]);
    if let Some(args) = cmd.get("args") {
        argv.extend(strs(args));
    }
    let base = Path::new(&argv[0])
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        !SHELLS.contains(&base.as_str()),
        "{what}: runs a shell: {argv:?}"
    );
    assert!(
        !argv.iter().any(|a| a == "-c"),
        "{what}: shell-style -c: {argv:?}"
    );
    assert_eq!(argv, vec![BIN.to_string(), sub.to_string()], "{what}");
}

// ---------------------------------------------------------------------------------------------
// plugin.yaml

/// Argo CD's `ValidatePluginConfig` plus our own rules; returns the spec.
fn validate_plugin(doc: &Value, what: &str) -> Value {
    assert_eq!(doc["kind"], "ConfigManagementPlugin", "{what}: kind");
    assert_eq!(
        doc["apiVersion"], "argoproj.io/v1alpha1",
        "{what}: apiVersion (convention)"
    );
    assert_eq!(
        doc["metadata"]["name"], "pullthrough",
        "{what}: metadata.name"
    );
    let spec = doc["spec"].clone();
    assert!(
        spec["generate"]["command"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{what}: generate.command must be non-empty"
    );
    assert!(
        spec.get("version").is_none(),
        "{what}: no version, so the socket and plugin.name are plain `pullthrough`"
    );
    assert_direct_call(&spec["init"], "init", &format!("{what}: init"));
    assert_direct_call(&spec["generate"], "generate", &format!("{what}: generate"));
    assert_direct_call(
        &spec["parameters"]["dynamic"],
        "parameters",
        &format!("{what}: parameters.dynamic"),
    );
    if let Some(find) = spec.pointer("/discover/find") {
        assert!(
            find.get("command").is_none(),
            "{what}: no find.command (it would run a process per discovery)"
        );
    }
    // Fields that the sidecar silently ignores would be a misunderstanding.
    for ignored in ["lockRepo", "allowConcurrency"] {
        assert!(
            spec.get(ignored).is_none(),
            "{what}: {ignored} is not a sidecar field"
        );
    }
    // Static announcements: exactly the parameter table.
    let statics = spec["parameters"]["static"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: parameters.static"));
    let names: Vec<&str> = statics
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let table: Vec<&str> = PARAMS.iter().map(|p| p.name).collect();
    assert_eq!(
        names, table,
        "{what}: parameters.static names/order != src/argocd/parameters.rs"
    );
    for p in statics {
        let def = parameters::find(p["name"].as_str().unwrap()).unwrap();
        let collection = p
            .get("collectionType")
            .and_then(Value::as_str)
            .unwrap_or("string");
        assert_eq!(
            collection,
            def.collection.as_str(),
            "{what}: collectionType of {}",
            def.name
        );
        assert_eq!(p["title"], def.title, "{what}: title of {}", def.name);
    }
    spec
}

#[test]
fn plugin_yaml_is_a_valid_cmp_config_without_shell_or_discovery() {
    let text = read("argocd/plugin.yaml");
    let spec = validate_plugin(&one_doc("argocd/plugin.yaml"), "argocd/plugin.yaml");
    assert!(
        spec.get("discover").is_none(),
        "plugin.yaml has no discovery rule: apps name the plugin"
    );
    assert_eq!(spec["preserveFileMode"], false);
    assert_eq!(spec["provideGitCreds"], false);
    // The generator's markers, exactly once each, in order.
    let lines: Vec<&str> = text.lines().collect();
    let b = lines
        .iter()
        .position(|l| *l == BEGIN)
        .expect("BEGIN GENERATED marker line");
    let e = lines
        .iter()
        .position(|l| *l == END)
        .expect("END GENERATED marker line");
    assert!(b < e);
    assert_eq!(lines.iter().filter(|l| **l == BEGIN).count(), 1);
    assert_eq!(lines.iter().filter(|l| **l == END).count(), 1);
    assert_eq!(
        lines[b - 1].trim(),
        "static:",
        "the generated block is the body of parameters.static"
    );
}

#[test]
fn discovery_variant_differs_only_by_its_discover_rule() {
    let plain = validate_plugin(&one_doc("argocd/plugin.yaml"), "argocd/plugin.yaml");
    let mut disc = validate_plugin(
        &one_doc("argocd/plugin-discovery.yaml"),
        "argocd/plugin-discovery.yaml",
    );
    let discover = disc
        .as_object_mut()
        .unwrap()
        .remove("discover")
        .expect("plugin-discovery.yaml has a discover rule");
    assert_eq!(
        disc, plain,
        "plugin-discovery.yaml must equal plugin.yaml apart from `discover`"
    );
    let file_name = discover["fileName"].as_str().expect("discover.fileName");
    // filepath.Glob, joined to the app dir: no `**`; and not a manifest the directory source would read.
    assert!(!file_name.contains("**"), "{file_name}");
    for ext in [".yaml", ".yml", ".json"] {
        assert!(
            !file_name.ends_with(ext),
            "the marker must not be read as a manifest: {file_name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The sidecar, in both installs

fn volume<'a>(volumes: &'a [Value], name: &str) -> &'a Value {
    volumes
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no volume {name} in {volumes:?}"))
}

fn mount<'a>(c: &'a Value, path: &str) -> &'a Value {
    c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == path)
        .unwrap_or_else(|| panic!("sidecar has no mount at {path}"))
}

/// What Argo CD requires of a CMP sidecar ("Register the plugin sidecar"), and what we add.
/// `volumes` must hold every volume the sidecar mounts except `shared` (the repo-server's own).
/// Returns the plugin.yaml mount's `(volume name, subPath)`.
fn check_sidecar(c: &Value, volumes: &[Value], shared: &[&str], what: &str) -> (String, String) {
    assert_eq!(strs(&c["command"]), vec![CMP_SERVER], "{what}: entrypoint");
    assert!(
        c.get("args").is_none(),
        "{what}: no args to argocd-cmp-server"
    );
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true, "{what}");
    assert_eq!(sc["runAsUser"], 999, "{what}");
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{what}");
    assert_eq!(sc["allowPrivilegeEscalation"], false, "{what}");
    assert_eq!(strs(&sc["capabilities"]["drop"]), vec!["ALL"], "{what}");
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{what}");

    assert_eq!(mount(c, "/var/run/argocd")["name"], "var-files", "{what}");
    assert_eq!(
        mount(c, "/home/argocd/cmp-server/plugins")["name"],
        "plugins",
        "{what}"
    );
    for name in ["var-files", "plugins"] {
        assert!(
            shared.contains(&name),
            "{what}: {name} is the repo-server's volume"
        );
    }
    // Its own /tmp, never the repo-server's `tmp`.
    let tmp = mount(c, "/tmp")["name"].as_str().unwrap();
    assert_ne!(
        tmp, "tmp",
        "{what}: the sidecar must not share the repo-server's /tmp"
    );
    assert!(
        volume(volumes, tmp).get("emptyDir").is_some(),
        "{what}: /tmp is an emptyDir"
    );
    // plugin.yaml from a ConfigMap, by subPath.
    let pm = mount(c, PLUGIN_YAML_PATH);
    let pvol = pm["name"].as_str().unwrap().to_string();
    let sub = pm["subPath"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: plugin.yaml is mounted with subPath"))
        .to_string();
    assert!(
        volume(volumes, &pvol)["configMap"]["name"].is_string(),
        "{what}: plugin.yaml comes from a ConfigMap"
    );
    // The config at the default path.
    let cm = mount(c, CONFIG_DIR);
    assert!(
        cm.get("subPath").is_none(),
        "{what}: mount the whole ConfigMap (subPath mounts never update)"
    );
    let cvol = volume(volumes, cm["name"].as_str().unwrap());
    assert!(
        cvol["configMap"]["name"]
            .as_str()
            .unwrap()
            .starts_with("pullthrough-config"),
        "{what}: {cvol}"
    );
    if let Some(env) = c.get("env").and_then(Value::as_array) {
        if let Some(e) = env.iter().find(|e| e["name"] == "PULLTHROUGH_CONFIG") {
            assert_eq!(e["value"], CONFIG_FILE, "{what}");
        }
    }
    (pvol, sub)
}

fn kustomize_build(dir: &str) -> Vec<Value> {
    let out = Command::new(tools::kubectl())
        .args(["kustomize", dir])
        .current_dir(repo(""))
        .env_clear()
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl kustomize");
    assert!(
        out.status.success(),
        "kubectl kustomize {dir} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    docs_of_bytes(&out.stdout, dir)
}

#[test]
fn kustomize_install_builds_and_patches_repo_server() {
    let objs = kustomize_build("argocd/install");
    let deploy = objs
        .iter()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "argocd-repo-server")
        .expect("argocd-repo-server Deployment");
    assert_eq!(deploy["metadata"]["namespace"], "argocd");
    let pod = &deploy["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().unwrap();
    assert!(
        containers.iter().any(|c| c["name"] == "argocd-repo-server"),
        "the repo-server container is kept"
    );
    assert!(
        pod["initContainers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "copyutil"),
        "copyutil fills var-files"
    );
    let sidecar = containers
        .iter()
        .find(|c| c["name"] == "pullthrough")
        .expect("pullthrough sidecar");
    assert_eq!(
        sidecar["image"], "registry.example.com/pullthrough:0.1.0",
        "the example's images: entry applies"
    );
    let volumes = pod["volumes"].as_array().unwrap();
    for shared in ["var-files", "plugins"] {
        assert!(volume(volumes, shared).get("emptyDir").is_some());
    }
    let (pvol, sub) = check_sidecar(
        sidecar,
        volumes,
        &["var-files", "plugins"],
        "kustomize install",
    );
    assert_eq!(sub, "plugin.yaml");

    // The plugin ConfigMap is generated from argocd/plugin.yaml (hash-suffixed, and the Deployment
    // refers to the suffixed name).
    let cm_name = volume(volumes, &pvol)["configMap"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(cm_name.starts_with("pullthrough-plugin-"), "{cm_name}");
    let cm = objs
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == cm_name.as_str())
        .expect("the plugin ConfigMap");
    assert_eq!(
        cm["data"]["plugin.yaml"].as_str().unwrap(),
        read("argocd/plugin.yaml"),
        "one copy of plugin.yaml"
    );

    // The merge puts the sidecar first; the annotation keeps kubectl's default container.
    let names: Vec<&str> = containers
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pullthrough", "argocd-repo-server"]);
    assert_eq!(
        deploy["spec"]["template"]["metadata"]["annotations"]
            ["kubectl.kubernetes.io/default-container"],
        "argocd-repo-server"
    );
    // Pinned to the Argo CD release the suite runs against, never :latest.
    for c in containers
        .iter()
        .chain(pod["initContainers"].as_array().unwrap())
    {
        if c["name"] != "pullthrough" {
            assert_eq!(
                c["image"], "quay.io/argoproj/argocd:v3.5.1",
                "{}",
                c["name"]
            );
        }
    }

    let config = objs
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "pullthrough-config")
        .expect("the pullthrough-config ConfigMap");
    assert_eq!(
        config,
        &one_doc("argocd/config.yaml")
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o["metadata"]["namespace"] = Value::from("argocd");
                Value::Object(o)
            })
            .unwrap()
    );
}

#[test]
fn kustomize_component_files_are_the_ones_argocd_names() {
    // kustomize reads files only inside the component's own directory, so the one copy of each
    // file lives there and argocd/{plugin,config}.yaml point at it.
    for name in ["plugin.yaml", "config.yaml"] {
        let top = std::fs::canonicalize(repo(&format!("argocd/{name}"))).unwrap();
        let inner =
            std::fs::canonicalize(repo(&format!("argocd/install/component/{name}"))).unwrap();
        assert_eq!(
            top, inner,
            "argocd/{name} and argocd/install/component/{name} must be the same file"
        );
    }
}

#[test]
fn helm_values_match_plugin_yaml_and_argo_cd_paths() {
    let values = one_doc("argocd/helm-values.yaml");
    assert_eq!(values["configs"]["cmp"]["create"], true);
    let spec = one_doc("argocd/plugin.yaml")["spec"].clone();
    assert_eq!(
        values["configs"]["cmp"]["plugins"]["pullthrough"], spec,
        "configs.cmp.plugins.pullthrough must equal plugin.yaml's spec"
    );
    // The chart renders a full ConfigManagementPlugin from it; that passes validation too.
    let rendered = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "ConfigManagementPlugin",
        "metadata": {"name": "pullthrough"}, "spec": spec,
    });
    validate_plugin(&rendered, "argocd-cmp-cm pullthrough.yaml");

    // The chart creates the sidecar's ConfigMap (else the Pod waits for it): argocd/config.yaml.
    assert_eq!(
        values["extraObjects"],
        Value::Array(vec![one_doc("argocd/config.yaml")]),
        "extraObjects must hold argocd/config.yaml"
    );

    let rs = &values["repoServer"];
    let containers = rs["extraContainers"].as_array().unwrap();
    let sidecar = containers
        .iter()
        .find(|c| c["name"] == "pullthrough")
        .expect("pullthrough extraContainer");
    let volumes = rs["volumes"].as_array().unwrap();
    assert!(
        volumes
            .iter()
            .all(|v| v["name"] != "var-files" && v["name"] != "plugins"),
        "the chart already has var-files and plugins"
    );
    let (pvol, sub) = check_sidecar(sidecar, volumes, &["var-files", "plugins"], "helm values");
    // argo-helm: ConfigMap argocd-cmp-cm, one key `<plugin>.yaml` per configs.cmp.plugins entry.
    assert_eq!(volume(volumes, &pvol)["configMap"]["name"], "argocd-cmp-cm");
    assert_eq!(sub, "pullthrough.yaml");
    // Same sidecar as the kustomize install, apart from how plugin.yaml and the image are named.
    let patch = one_doc("argocd/install/component/sidecar-patch.yaml");
    let k = patch["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()[0]
        .clone();
    for field in [
        "command",
        "securityContext",
        "env",
        "resources",
        "imagePullPolicy",
    ] {
        assert_eq!(
            sidecar[field], k[field],
            "helm values and kustomize patch differ in {field}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The config example

#[test]
fn config_example_is_a_valid_native_config() {
    let cm = one_doc("argocd/config.yaml");
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["name"], "pullthrough-config");
    let text = cm["data"]["config.yaml"]
        .as_str()
        .expect("key config.yaml (mounted as /etc/pullthrough/config.yaml)");
    let Loaded::Native(cfg) =
        config::parse("argocd/config.yaml", text).unwrap_or_else(|e| panic!("{e}"))
    else {
        panic!("argocd/config.yaml must use the native format")
    };
    let mirror = cfg.mirror.clone().expect("mirror");
    assert_eq!(mirror, "111111111111.dkr.ecr.eu-west-1.amazonaws.com");
    let regs = cfg.registries.clone().expect("registries");
    let want: Vec<(&str, &str)> = vec![
        ("docker.io", "docker-hub"),
        ("ghcr.io", "ghcr"),
        ("public.ecr.aws", "public-ecr"),
        ("quay.io", "quay"),
        ("registry.k8s.io", "registry-k8s-io"),
    ];
    assert_eq!(
        regs.iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        want
    );
    // The seed's values.yaml says the same.
    let seed = config::load(&repo("tests/data/seed/config.yaml")).unwrap();
    let Loaded::Native(seed) = seed else { panic!() };
    assert_eq!(seed.registries, cfg.registries);
    assert_eq!(seed.mirror, cfg.mirror);
    for name in cfg
        .overrides
        .as_ref()
        .and_then(|o| o.allow.clone())
        .expect("overrides.allow example")
    {
        assert!(
            name == "*" || parameters::find(&name).is_some(),
            "overrides.allow names unknown parameter {name}"
        );
    }
    let allowed = cfg.allowed_mirrors.clone().expect("allowedMirrors example");
    let admits = |m: &str| {
        pullthrough::settings::mirrors::allowed(
            &allowed,
            &pullthrough_reference::Location::parse(m).unwrap(),
        )
    };
    assert!(
        admits(&mirror),
        "the configured mirror must satisfy allowedMirrors"
    );
    // Any region of the account, nothing else (issue 18: `*` stays inside one host label).
    assert!(admits("111111111111.dkr.ecr.us-east-1.amazonaws.com"));
    assert!(!admits("evil.example.com"));
    assert!(!admits("111111111111.dkr.ecr.attacker.io/x.amazonaws.com"));
    assert!(!admits(
        "111111111111.dkr.ecr.attacker.io:443/x.amazonaws.com"
    ));
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

struct Stage {
    lines: Vec<String>,
}

/// Logical lines (continuations joined), split into stages at `FROM`.
fn dockerfile() -> (Vec<String>, Vec<Stage>) {
    let text = read("docker/Dockerfile");
    let mut logical = Vec::new();
    let mut cur = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with('#') || (line.is_empty() && cur.is_empty()) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
        } else {
            cur.push_str(line);
            logical.push(std::mem::take(&mut cur));
        }
    }
    let mut globals = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for l in logical {
        if l.starts_with("FROM ") {
            stages.push(Stage { lines: vec![l] });
        } else if let Some(s) = stages.last_mut() {
            s.lines.push(l);
        } else {
            globals.push(l);
        }
    }
    (globals, stages)
}

fn arg(globals: &[String], name: &str) -> String {
    globals
        .iter()
        .find_map(|l| l.strip_prefix(&format!("ARG {name}=")))
        .unwrap_or_else(|| panic!("ARG {name}=… before the first FROM"))
        .to_string()
}

#[test]
fn dockerfile_agrees_with_plugin_yaml_and_installs() {
    let (globals, stages) = dockerfile();
    assert!(stages.len() >= 2, "multi-stage");
    // Pinned tools with well-formed checksums, verified before use.
    for tool in ["HELM", "KUSTOMIZE"] {
        let version = arg(&globals, &format!("{tool}_VERSION"));
        assert!(
            version.starts_with('v') && version[1..].split('.').count() == 3,
            "{tool}_VERSION={version}"
        );
        let sum = arg(&globals, &format!("{tool}_SHA256"));
        assert!(
            sum.len() == 64
                && sum
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{tool}_SHA256={sum}"
        );
    }
    // The image carries the Helm and kustomize the tests render with (Argo CD v3.5's pins;
    // scripts/argocd-e2e compares them, and the checksums, with the Argo CD release it builds).
    let helm4 = Command::new(tools::helm4())
        .args(["version", "--short"])
        .output()
        .expect("helm4 version");
    assert!(
        String::from_utf8_lossy(&helm4.stdout).starts_with(&arg(&globals, "HELM_VERSION")),
        "HELM_VERSION is the tested Helm 4"
    );
    let kustomize = Command::new(tools::kustomize())
        .arg("version")
        .output()
        .expect("kustomize version");
    assert_eq!(
        String::from_utf8_lossy(&kustomize.stdout).trim(),
        arg(&globals, "KUSTOMIZE_VERSION"),
        "KUSTOMIZE_VERSION is the tested kustomize"
    );
    let all: Vec<&String> = stages.iter().flat_map(|s| &s.lines).collect();
    let has = |needle: &str| all.iter().any(|l| l.contains(needle));
    assert!(
        has("https://get.helm.sh/helm-${HELM_VERSION}-linux-amd64.tar.gz"),
        "official Helm archive"
    );
    assert!(has("https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2F${KUSTOMIZE_VERSION}/kustomize_${KUSTOMIZE_VERSION}_linux_amd64.tar.gz"), "official kustomize archive");
    assert!(has("${HELM_SHA256}  helm.tar.gz\" | sha256sum -c -"));
    assert!(has(
        "${KUSTOMIZE_SHA256}  kustomize.tar.gz\" | sha256sum -c -"
    ));
    // jsonnet: the go-jsonnet the tests run (Argo CD v3.5.1's module version; scripts/argocd-e2e
    // compares it with that release's go.mod), built static from its module.
    let jsonnet_version = arg(&globals, "JSONNET_VERSION");
    let jsonnet = Command::new(tools::jsonnet())
        .arg("--version")
        .output()
        .expect("jsonnet --version");
    assert!(
        String::from_utf8_lossy(&jsonnet.stdout)
            .trim()
            .ends_with(&format!("(Go implementation) {jsonnet_version}")),
        "JSONNET_VERSION is the tested jsonnet"
    );
    assert!(has("CGO_ENABLED=0 GOBIN=/dl go install -trimpath -ldflags \"-s -w\" \"github.com/google/go-jsonnet/cmd/jsonnet@${JSONNET_VERSION}\""), "jsonnet built static from its module");
    assert!(has("x86_64-unknown-linux-musl"), "static musl build");
    assert!(has("cargo build --release --locked"));

    let last = stages.last().unwrap();
    let copies: Vec<Vec<&str>> = last
        .lines
        .iter()
        .filter(|l| l.starts_with("COPY "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let dest_of = |dest: &str| {
        copies
            .iter()
            .find(|c| c.last() == Some(&dest))
            .unwrap_or_else(|| panic!("final stage: nothing copied to {dest}"))
    };
    // The binary plugin.yaml calls is where the image puts it.
    let plugin = one_doc("argocd/plugin.yaml");
    let called = strs(&plugin["spec"]["generate"]["command"])[0].clone();
    assert_eq!(called, BIN);
    assert!(
        dest_of(&called).iter().any(|w| w.starts_with("--from=")),
        "{called} comes from the build stage"
    );
    for tool in [
        "/usr/local/bin/helm",
        "/usr/local/bin/kustomize",
        "/usr/local/bin/jsonnet",
    ] {
        dest_of(tool);
    }
    // plugin.yaml at argocd-cmp-server's default path, copied from the one plugin.yaml.
    let c = dest_of(PLUGIN_YAML_PATH);
    let src = c[c.len() - 2];
    assert_eq!(
        std::fs::canonicalize(repo(src)).unwrap(),
        std::fs::canonicalize(repo("argocd/plugin.yaml")).unwrap(),
        "the Dockerfile bakes argocd/plugin.yaml"
    );
    // Every build-context source exists.
    for l in all
        .iter()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from="))
    {
        let words: Vec<&str> = l.split_whitespace().collect();
        for src in &words[1..words.len() - 1] {
            assert!(repo(src).exists(), "COPY source {src} does not exist");
        }
    }
    // User, environment, writable /tmp.
    assert!(
        last.lines
            .iter()
            .any(|l| l == "USER 999:999" || l == "USER 999"),
        "USER 999"
    );
    let env: String = last
        .lines
        .iter()
        .filter(|l| l.starts_with("ENV "))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    for kv in [
        "HOME=/tmp",
        "HELM_CACHE_HOME=/tmp/helm/cache",
        "HELM_CONFIG_HOME=/tmp/helm/config",
        "HELM_DATA_HOME=/tmp/helm/data",
        &format!("PULLTHROUGH_CONFIG={CONFIG_FILE}"),
    ] {
        assert!(
            env.split_whitespace().any(|w| w == kv),
            "ENV {kv} in the final stage: {env}"
        );
    }
    assert!(
        !last
            .lines
            .iter()
            .any(|l| l.starts_with("ENTRYPOINT") || l.starts_with("CMD")),
        "the Pod runs argocd-cmp-server"
    );
}

#[test]
fn config_path_is_the_builtin_default() {
    // What the sidecar mounts is what pullthrough reads without being told.
    assert_eq!(pullthrough::settings::config::DEFAULT_PATH, CONFIG_FILE);
    assert_eq!(
        Path::new(CONFIG_FILE).parent().unwrap(),
        Path::new(CONFIG_DIR)
    );
}

// ---------------------------------------------------------------------------------------------
// Examples

fn check_plugin_source(source: &Value, what: &str, templated: bool) {
    let plugin = &source["plugin"];
    assert_eq!(plugin["name"], "pullthrough", "{what}: plugin.name");
    let path = source["path"].as_str().unwrap();
    assert!(
        repo(path).is_dir(),
        "{what}: source.path {path} does not exist"
    );
    for p in plugin["parameters"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let name = p["name"].as_str().unwrap();
        let def =
            parameters::find(name).unwrap_or_else(|| panic!("{what}: unknown parameter {name}"));
        let shape = match (p.get("string"), p.get("array"), p.get("map")) {
            (Some(v), None, None) if v.is_string() => Collection::String,
            (None, Some(v), None) if v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) => Collection::Array,
            (None, None, Some(v)) if v.as_object().is_some_and(|m| m.values().all(Value::is_string)) => Collection::Map,
            _ => panic!("{what}: parameter {name} must have exactly one of string/array/map, with string items: {p}"),
        };
        assert_eq!(
            shape, def.collection,
            "{what}: parameter {name} has the wrong shape"
        );
        if def.boolean && !templated {
            assert!(
                p["string"] == "true" || p["string"] == "false",
                "{what}: {name} is \"true\"/\"false\""
            );
        }
    }
    for e in plugin["env"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let name = e["name"].as_str().unwrap();
        assert!(
            PARAMS
                .iter()
                .any(|p| parameters::env_name(p.name) == format!("ARGOCD_ENV_{name}")),
            "{what}: env {name} is not the ARGOCD_ENV_ fallback of any parameter"
        );
    }
}

#[test]
fn example_applications_name_only_existing_parameters() {
    let mut seen = 0;
    for entry in std::fs::read_dir(repo("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let rel = path.strip_prefix(repo("")).unwrap().display().to_string();
        for doc in docs(&rel) {
            match doc["kind"].as_str() {
                Some("Application") => {
                    check_plugin_source(&doc["spec"]["source"], &rel, false);
                    seen += 1;
                }
                Some("ApplicationSet") => {
                    let spec = &doc["spec"];
                    assert_eq!(spec["goTemplate"], true, "{rel}");
                    assert!(
                        strs(&spec["goTemplateOptions"]).contains(&"missingkey=error".to_string()),
                        "{rel}"
                    );
                    let gen = &spec["generators"][0]["clusters"];
                    assert!(
                        gen["selector"]["matchLabels"].is_object(),
                        "{rel}: rollout by cluster label"
                    );
                    let source = &spec["template"]["spec"]["source"];
                    check_plugin_source(source, &rel, true);
                    let names: Vec<&str> = source["plugin"]["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p["name"].as_str().unwrap())
                        .collect();
                    assert!(
                        names.contains(&"mirror") && names.contains(&"enabled"),
                        "{rel}: per-cluster mirror and enabled"
                    );
                    // Read with `index`, so a secret without annotations gets the example's own
                    // error (the e2e suite renders it with Argo CD's template code).
                    assert!(
                        gen["values"]["mirror"]
                            .as_str()
                            .unwrap()
                            .contains(r#"index .metadata "annotations""#),
                        "{rel}: mirror from a cluster annotation"
                    );
                    seen += 1;
                }
                // Other files (e.g. a pullthrough config for the README demo) are not Applications.
                _ => {}
            }
        }
    }
    assert_eq!(seen, 4, "three Applications and one ApplicationSet");
}

#[test]
fn example_apps_render_with_the_real_tools() {
    // Helm chart with its subchart.
    let out = Command::new(tools::helm3())
        .args(["template", ".", "--name-template", "demo", "--include-crds"])
        .current_dir(repo("examples/apps/helm-app"))
        .env("HELM_CACHE_HOME", std::env::temp_dir().join("pt-helm-c"))
        .env("HELM_CONFIG_HOME", std::env::temp_dir().join("pt-helm-cf"))
        .env("HELM_DATA_HOME", std::env::temp_dir().join("pt-helm-d"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let helm = docs_of_bytes(&out.stdout, "helm-app");
    assert!(
        helm.iter().any(|d| d["kind"] == "DaemonSet"),
        "the subchart renders"
    );
    // Kustomize overlay with its base.
    let k = kustomize_build("examples/apps/kustomize-app");
    assert!(k.iter().any(|d| d["kind"] == "CronJob"), "the base renders");
    // The directory app's files parse.
    for f in ["deployment.yaml", "job.json", "nested/worker.yml"] {
        assert!(!docs(&format!("examples/apps/dir-app/{f}")).is_empty());
    }
}
