//! The `spec.source.kustomize` parameters through the real binary and real kustomize 5.8.1:
//! what each does to the fixture overlay (`tests/data/repos/kustomize-repo/apps/web`), written
//! by hand from the fixture and Argo CD's `kustomize edit` semantics; the checkout is not
//! modified; bad values are one error line naming the parameter. That the output equals Argo
//! CD's own native source with the same settings is proven by the end-to-end suite
//! (`TestKustomizeOptionsNativeParity` in tests/argocd-e2e).

use crate::util;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use util::cmd::{Cmd, TestDir};
use util::tools;

const MIRROR: &str = "111111111111.dkr.ecr.eu-west-1.amazonaws.com";

struct App {
    dir: TestDir,
}

impl App {
    fn new() -> App {
        let dir = TestDir::new();
        dir.copy_tree(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/repos/kustomize-repo"),
            "repo",
        );
        dir.mkdir("repo/.git");
        dir.write(
            "config.yaml",
            format!("mirror: {MIRROR}\nregistries: {{docker.io: docker-hub}}\n"),
        );
        App { dir }
    }
    fn render(&self, args: &[&str], kustomize: bool) -> Output {
        let mut c: Cmd = self.dir.cmd();
        c.arg("render")
            .arg(self.dir.join("repo/apps/web"))
            .arg("--config")
            .arg(self.dir.join("config.yaml"));
        c.args(args).env("ARGOCD_APP_NAME", "web");
        if kustomize {
            c.env("PULLTHROUGH_KUSTOMIZE", tools::kustomize());
        }
        c.env("PATH", tools::path_with_tools());
        c.output()
    }
}

fn objects(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    util::oracle::read_bytes(&out.stdout)
        .into_iter()
        .map(|d| d.json.unwrap_or_else(|| panic!("{:?}", d.error)))
        .collect()
}

fn find<'a>(objs: &'a [Value], kind: &str) -> &'a Value {
    objs.iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {objs:?}"))
}

const PATCH: &str = "- target: {kind: Deployment}\n  patch: |-\n    - op: add\n      path: /metadata/annotations/patched\n      value: \"yes\"\n";

#[test]
fn every_edit_applies_as_argo_cd_applies_it() {
    let app = App::new();
    let patch = format!("kustomize-patches={PATCH}");
    let out = app.render(
        &[
            "--param",
            "kustomize-name-prefix=team-",
            "--param",
            "kustomize-name-suffix=-v2",
            "--param-array",
            "kustomize-images=nginx=mirror.example.com/nginx:1.28.0",
            "--param-array",
            "kustomize-images=docker.io/library/redis:$ARGOCD_APP_NAME",
            "--param-map",
            "kustomize-replicas.web=3",
            "--param-map",
            "kustomize-common-labels.team=$ARGOCD_APP_NAME",
            "--param-map",
            "kustomize-common-annotations.owner=$ARGOCD_APP_NAME",
            "--param",
            "kustomize-namespace=other",
            "--param",
            &patch,
            "--param-array",
            "kustomize-components=../../components/tier",
        ],
        true,
    );
    let objs = objects(&out);
    let d = find(&objs, "Deployment");
    // The app's namePrefix prod- is replaced (edit set nameprefix), the suffix added.
    assert_eq!(d["metadata"]["name"], "team-web-v2");
    assert_eq!(d["metadata"]["namespace"], "other");
    assert_eq!(d["spec"]["replicas"], 3);
    // Labels: the overlay's env, the parameter's team ($VAR substituted), the component's tier.
    assert_eq!(
        d["metadata"]["labels"],
        serde_json::json!({"env": "prod", "team": "web", "tier": "frontend"})
    );
    // commonLabels also go into selectors (no --without-selector).
    assert_eq!(
        d["spec"]["selector"]["matchLabels"],
        serde_json::json!({"app": "web", "team": "web"})
    );
    // Annotations without commonAnnotationsEnvsubst keep the `$`.
    assert_eq!(
        d["metadata"]["annotations"],
        serde_json::json!({"owner": "$ARGOCD_APP_NAME", "patched": "yes"})
    );
    let images: Vec<&str> = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image"].as_str().unwrap())
        .collect();
    assert_eq!(
        images,
        [
            "mirror.example.com/nginx:1.28.0".to_string(),
            format!("{MIRROR}/docker-hub/library/redis:web"),
            "quay.io/prometheus/node-exporter:v1.8.2".to_string(),
        ]
    );
    assert_eq!(
        find(&objs, "ConfigMap")["metadata"]["name"],
        "team-settings-v2"
    );
    // The checkout is untouched: kustomize edited a private copy.
    for (rel, fixture) in [
        (
            "repo/apps/web/kustomization.yaml",
            "apps/web/kustomization.yaml",
        ),
        (
            "repo/bases/web/kustomization.yaml",
            "bases/web/kustomization.yaml",
        ),
    ] {
        let orig = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/repos/kustomize-repo")
                .join(fixture),
        )
        .unwrap();
        assert_eq!(app.dir.read(rel), orig, "{rel} was modified");
    }
}

#[test]
fn label_and_annotation_flags() {
    let app = App::new();
    let out = app.render(
        &[
            "--param-map",
            "kustomize-common-labels.team=a",
            "--param",
            "kustomize-label-without-selector=true",
            "--param-map",
            "kustomize-common-annotations.owner=$ARGOCD_APP_NAME",
            "--param",
            "kustomize-common-annotations-envsubst=true",
            "--param-array",
            "kustomize-components=../../components/missing",
            "--param",
            "kustomize-ignore-missing-components=true",
        ],
        true,
    );
    let objs = objects(&out);
    let d = find(&objs, "Deployment");
    assert_eq!(d["metadata"]["name"], "prod-web");
    assert_eq!(
        d["spec"]["selector"]["matchLabels"],
        serde_json::json!({"app": "web"})
    );
    assert_eq!(d["metadata"]["labels"]["team"], "a");
    assert_eq!(d["metadata"]["annotations"]["owner"], "web");
}

/// Bad values: one line naming the parameter, exit 1 (parameter) or 2 (the edit or build
/// fails), nothing on stdout.
#[test]
fn bad_values_name_the_parameter() {
    let app = App::new();
    let not_applying = "kustomize-patches=- target: {kind: Deployment}\n  patch: |-\n    - op: replace\n      path: /spec/nothing/here\n      value: 1\n";
    #[rustfmt::skip]
    let cases: &[(&[&str], bool, i32, &str)] = &[
        (&["--param-array", "kustomize-images=bad image!"], true, 2,
         "pullthrough: kustomize-images: `"),
        (&["--param-array", "kustomize-components=../../components/missing"], true, 2,
         "pullthrough: kustomize-components: `"),
        (&["--param", not_applying], true, 2,
         "pullthrough: kustomize build with kustomize-patches: `"),
        (&["--param-map", "kustomize-replicas.web=three"], true, 1,
         "pullthrough: parameter kustomize-replicas: web: expected integer value for count. Received: three"),
        (&["--param", "kustomize-patches=[{patch: x, bogus: 1}]"], true, 1,
         "pullthrough: parameter kustomize-patches: patch 0: unknown key \"bogus\" (expected one of path, patch, target, options)"),
        (&["--param", "kustomize-patches={a: 1}"], true, 1,
         "pullthrough: parameter kustomize-patches: expected a list of patches (path or patch, target, options)"),
        (&["--param", "kustomize-patches=[{target: {kind: Deployment}}]"], true, 1,
         "pullthrough: parameter kustomize-patches: patch 0: needs path or patch"),
    ];
    for (args, kustomize, code, want) in cases {
        let out = app.render(args, *kustomize);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout not empty");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with(want), "{args:?}: {stderr}");
    }
    // The edit's own error line is carried, not kustomize's usage text.
    let out = app.render(&["--param-array", "kustomize-images=bad image!"], true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.ends_with(": invalid format of image, use one of the following options:\n"),
        "{stderr}"
    );
}
