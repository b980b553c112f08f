//! Kustomize rendering via `kubectl kustomize` (kustomize v5.7.1 and v5.4.2) and a standalone
//! kustomize when one is installed.

use crate::util;

use std::path::{Path, PathBuf};
use std::process::Command;

use pullthrough::render::{self, RenderSettings, SourceType, Tools};
use util::cmd::TestDir;
use util::tools;

fn checkout() -> (TestDir, PathBuf) {
    let dir = TestDir::new();
    dir.copy_tree(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/render/kustomize/repo"),
        "repo",
    );
    let root = std::fs::canonicalize(dir.join("repo")).unwrap();
    (dir, root)
}

fn settings(
    root: &Path,
    app: &str,
    kustomize: Option<PathBuf>,
    kubectl: PathBuf,
) -> RenderSettings {
    let tools = Tools {
        helm: tools::helm3(),
        kustomize,
        kubectl: Some(kubectl),
        git: None,
        jsonnet: PathBuf::from("jsonnet"), // not used by Kustomize apps
    };
    RenderSettings::new(root.join(app), root, "r", tools)
}

/// Each way of running kustomize available here: (kustomize, kubectl, origin, by-hand argv).
fn runners() -> Vec<(Option<PathBuf>, PathBuf, &'static str)> {
    vec![
        (None, tools::kubectl(), "kubectl kustomize"),
        (None, tools::kubectl_1_31(), "kubectl kustomize"),
        (
            Some(tools::kustomize()),
            tools::kubectl(),
            "kustomize build",
        ),
    ]
}

#[test]
fn overlay_with_base_renders_like_kustomize_by_hand() {
    for (kustomize, kubectl, origin) in runners() {
        let (_dir, root) = checkout();
        let s = settings(&root, "overlays/prod", kustomize.clone(), kubectl.clone());
        let r = render::render(&s).unwrap_or_else(|e| panic!("{origin}: {e}"));
        assert_eq!(r.source_type, SourceType::Kustomize);
        assert_eq!(r.parts.len(), 1);
        assert_eq!(r.parts[0].origin, origin);
        let app = root.join("overlays/prod");
        let by_hand = match &kustomize {
            Some(k) => Command::new(k)
                .arg("build")
                .arg(&app)
                .current_dir(&root)
                .output()
                .unwrap(),
            None => Command::new(&kubectl)
                .arg("kustomize")
                .arg(&app)
                .current_dir(&root)
                .output()
                .unwrap(),
        };
        assert!(by_hand.status.success());
        assert_eq!(r.parts[0].text.as_bytes(), by_hand.stdout);
        let text = &r.parts[0].text;
        assert!(text.contains("name: prod-api\n  namespace: prod"), "{text}");
        assert!(text.contains("image: ghcr.io/example/api:1.1"), "{text}");
        assert!(
            text.contains("image: docker.io/envoyproxy/envoy:v1.29.0"),
            "{text}"
        );
    }
}

#[test]
fn enable_helm_gets_kube_and_api_versions_on_kustomize_5_3_and_later() {
    for (kustomize, kubectl, origin) in runners() {
        let (_dir, root) = checkout();
        let mut s = settings(&root, "helm-app", kustomize, kubectl);
        s.kustomize.build_options = vec![
            "--enable-helm".into(),
            "--helm-command".into(),
            tools::helm3().display().to_string(),
        ];
        s.kustomize.kube_version = Some("v1.29.3".into());
        s.kustomize.api_versions = vec!["example.com/v9".into()];
        let text = render::render(&s)
            .unwrap_or_else(|e| panic!("{origin}: {e}"))
            .parts
            .remove(0)
            .text;
        assert!(text.contains("kube: v1.29.3"), "{text}");
        assert!(text.contains("cron: \"true\""), "{text}");
    }
}

#[test]
fn build_error_names_the_command_and_carries_stderr() {
    let (_dir, root) = checkout();
    let kubectl = tools::kubectl();
    let s = settings(&root, "overlays/broken", None, kubectl.clone());
    let e = render::render(&s).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "`{} kustomize ./overlays/broken` failed exit status 1: ",
            kubectl.display()
        )),
        "{e}"
    );
    assert!(e.contains("does-not-exist.yaml"), "{e}");
}

#[test]
fn missing_kubectl_is_named() {
    let (_dir, root) = checkout();
    let s = settings(
        &root,
        "overlays/prod",
        None,
        PathBuf::from("/nonexistent/kubectl"),
    );
    let e = render::render(&s).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "could not start `/nonexistent/kubectl kustomize ./overlays/prod`: No such file or directory (os error 2) (install kustomize (or kubectl) or point the plugin at it)"
        )
    );
}

#[test]
fn detect_table() {
    let dir = TestDir::new();
    #[rustfmt::skip]
    let cases: &[(&str, SourceType)] = &[
        ("Chart.yaml", SourceType::Helm),
        ("kustomization.yaml", SourceType::Kustomize),
        ("kustomization.yml", SourceType::Kustomize),
        ("Kustomization", SourceType::Kustomize),
        ("deploy.yaml", SourceType::Directory),
    ];
    for (i, (file, want)) in cases.iter().enumerate() {
        dir.write(format!("{i}/{file}"), "x: 1\n");
        assert_eq!(render::detect(&dir.join(i.to_string())), *want, "{file}");
    }
    dir.write("both/Chart.yaml", "");
    dir.write("both/kustomization.yaml", "");
    assert_eq!(render::detect(&dir.join("both")), SourceType::Helm);
    for (s, t) in [
        ("helm", SourceType::Helm),
        ("kustomize", SourceType::Kustomize),
        ("directory", SourceType::Directory),
    ] {
        assert_eq!(s.parse::<SourceType>().unwrap(), t);
        assert_eq!(t.to_string(), s);
    }
    assert_eq!(
        "plugin".parse::<SourceType>().unwrap_err().to_string(),
        "source-type: unknown source type 'plugin' (expected helm, kustomize or directory)"
    );
}
