//! Helm rendering with real Helm 3 and Helm 4: output equals `helm template` run by hand with
//! Argo CD's flags, value-file containment, `init`, failures, timeout, output cap.

use crate::util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pullthrough::render::process::{self, Cmd};
use pullthrough::render::valuefiles::{Resolver, ValueFile};
use pullthrough::render::{self, Limits, RenderError, RenderSettings, SourceType, Tools};
use util::cmd::TestDir;
use util::tools;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/render")
        .join(name)
        .join("repo")
}

/// A copy of a fixture repo in a fresh temp dir (symlinks kept) and its canonical root.
fn checkout(name: &str) -> (TestDir, PathBuf) {
    let dir = TestDir::new();
    dir.copy_tree(fixture(name), "repo");
    let root = std::fs::canonicalize(dir.join("repo")).unwrap();
    (dir, root)
}

fn settings(root: &Path, helm: PathBuf) -> RenderSettings {
    let tools = Tools {
        helm,
        kustomize: None,
        kubectl: None,
        git: None,
        jsonnet: PathBuf::from("jsonnet"), // not used by Helm apps
    };
    RenderSettings::new(root.join("apps/web"), root, "rel", tools)
}

fn full_settings(root: &Path, helm: PathBuf) -> RenderSettings {
    let mut s = settings(root, helm);
    s.build_env = BTreeMap::from([
        ("ARGOCD_APP_NAME".into(), "web".into()),
        ("TAG".into(), "1.27".into()),
    ]);
    let h = &mut s.helm;
    h.namespace = Some("prod".into());
    h.kube_version = Some("v1.30.2".into());
    h.api_versions = vec!["batch/v1".into(), "batch/v1/CronJob".into()];
    h.values_files = vec![
        "values/env-*.yaml".into(),
        "linked-values.yaml".into(),
        "/shared/common-values.yaml".into(), // the same file as the link: de-duplicated
        "values/env-a.yaml".into(),          // explicit: keeps this (last) position
    ];
    h.values = Some("extra: inline\n".into());
    h.set = vec![
        ("image.tag".into(), "$TAG".into()),
        ("tier".into(), "a,b".into()),
    ];
    h.set_string = vec![("env".into(), "$ARGOCD_APP_NAME".into())];
    h.set_file = vec![("note".into(), "files/note.txt".into())];
    s
}

fn helm_by_hand(helm: &Path, app: &Path, args: &[String]) -> String {
    let home = TestDir::new();
    let out = Command::new(helm)
        .args(args)
        .current_dir(app)
        .env("HELM_CACHE_HOME", home.join("c"))
        .env("HELM_CONFIG_HOME", home.join("cf"))
        .env("HELM_DATA_HOME", home.join("d"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "helm by hand failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn renders_like_by_hand(helm: PathBuf) {
    let (_dir, root) = checkout("helm");
    let s = full_settings(&root, helm.clone());
    let t = Instant::now();
    let r = render::render(&s).unwrap_or_else(|e| panic!("{e}"));
    let took = t.elapsed();
    assert_eq!(r.source_type, SourceType::Helm);
    assert_eq!(r.parts.len(), 1);
    assert_eq!(r.parts[0].origin, "helm template");

    let inline = TestDir::new();
    let inline_file = inline.write("inline.yaml", "extra: inline\n");
    let app = root.join("apps/web");
    let p = |rel: &str| app.join(rel).display().to_string();
    let args: Vec<String> = [
        "template",
        ".",
        "--name-template",
        "rel",
        "--namespace",
        "prod",
        "--kube-version",
        "1.30.2",
        "--set",
        "image.tag=1.27",
        "--set",
        "tier=a\\,b",
        "--set-string",
        "env=web",
        "--set-file",
        &format!("note={}", p("files/note.txt")),
        "--values",
        &p("values/env-b.yaml"),
        "--values",
        &root.join("shared/common-values.yaml").display().to_string(),
        "--values",
        &p("values/env-a.yaml"),
        "--values",
        &inline_file.display().to_string(),
        "--api-versions",
        "batch/v1",
        "--api-versions",
        "batch/v1/CronJob",
        "--include-crds",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let t = Instant::now();
    let by_hand = helm_by_hand(&helm, &app, &args);
    eprintln!(
        "{}: render() {:?}, helm template by hand {:?}",
        helm.display(),
        took,
        t.elapsed()
    );
    assert_eq!(r.parts[0].text, by_hand);

    let text = &r.parts[0].text;
    for want in [
        "kind: CustomResourceDefinition",
        "name: rel-web\n  namespace: prod",
        "env: \"web\"",
        "common: \"from-shared\"",
        "extra: \"inline\"",
        "note: \"hello, from a file\"",
        "tier: \"a,b\"",
        "kube-version: \"v1.30.2\"",
        "has-cron-v1: \"true\"",
        "has-example: \"false\"",
        "replicas: 2",
        "image: \"docker.io/library/nginx:1.27\"",
        "image: quay.io/prometheus/busybox:latest",
        "curlimages/curl:8.5.0",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // Nothing was written into the checkout.
    assert!(!root.join("apps/web/Chart.lock").exists());
}

#[test]
fn helm3_renders_like_helm_template_by_hand() {
    renders_like_by_hand(tools::helm3());
}

#[test]
fn helm4_renders_like_helm_template_by_hand() {
    renders_like_by_hand(tools::helm4());
}

#[test]
fn skip_crds_and_tests_with_both_helms() {
    for helm in [tools::helm3(), tools::helm4()] {
        let (_dir, root) = checkout("helm");
        let mut s = settings(&root, helm.clone());
        s.helm.skip_crds = true;
        s.helm.skip_tests = true;
        s.helm.skip_schema_validation = true;
        let text = render::render(&s)
            .unwrap_or_else(|e| panic!("{}: {e}", helm.display()))
            .parts
            .remove(0)
            .text;
        assert!(!text.contains("CustomResourceDefinition"), "{text}");
        assert!(!text.contains("curlimages/curl"), "{text}");
        assert!(
            text.contains("name: rel-web\n  namespace: default"),
            "{text}"
        );
    }
}

/// (value files, allowed schemes, ignore missing, expected)
type Case<'a> = (
    &'a [&'a str],
    &'a Vec<String>,
    bool,
    Result<Vec<String>, String>,
);

/// Value-file resolution, one case per line. `Ok` lists paths relative to the repo root.
#[test]
fn value_file_resolution_table() {
    let (dir, root) = checkout("helm");
    dir.symlink("/etc/passwd", "repo/apps/web/evil-abs.yaml");
    dir.symlink(
        "../../../../../../../../../../etc/passwd",
        "repo/apps/web/evil-rel.yaml",
    );
    dir.symlink("/etc", "repo/apps/web/evil-dir");
    dir.symlink("loop-b.yaml", "repo/apps/web/loop-a.yaml");
    dir.symlink("loop-a.yaml", "repo/apps/web/loop-b.yaml");
    let env = BTreeMap::from([("ARGOCD_APP_NAME".to_string(), "a".to_string())]);
    let https = vec!["https".to_string()];
    let none: Vec<String> = vec![];
    let out = |files: &[&str], schemes: &[String], ignore: bool| -> Result<Vec<String>, String> {
        let r =
            Resolver::new("values-files", &root.join("apps/web"), &root, &env, schemes).unwrap();
        let files: Vec<String> = files.iter().map(|s| s.to_string()).collect();
        r.resolve_all(&files, ignore)
            .map_err(|e| e.to_string())
            .map(|v| {
                v.into_iter()
                    .map(|f| match f {
                        ValueFile::Local(p) => p.strip_prefix(&root).unwrap().display().to_string(),
                        ValueFile::Url(u) => u,
                    })
                    .collect()
            })
    };
    let ok = |v: &[&str]| Ok(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let err = |s: &str| Err::<Vec<String>, String>(s.to_string());
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        (&["values.yaml"], &none, false, ok(&["apps/web/values.yaml"])),
        (&["./values/../values.yaml"], &none, false, ok(&["apps/web/values.yaml"])),
        (&["values/env-$ARGOCD_APP_NAME.yaml"], &none, false, ok(&["apps/web/values/env-a.yaml"])),
        (&["values/env-${ARGOCD_APP_NAME}.yaml"], &none, false, ok(&["apps/web/values/env-a.yaml"])),
        (&["/shared/common-values.yaml"], &none, false, ok(&["shared/common-values.yaml"])),
        (&["../../shared/common-values.yaml"], &none, false, ok(&["shared/common-values.yaml"])),
        (&["linked-values.yaml"], &none, false, ok(&["shared/common-values.yaml"])),
        (&["linked-values.yaml", "/shared/common-values.yaml"], &none, false, ok(&["shared/common-values.yaml"])),
        (&["values/env-*.yaml"], &none, false, ok(&["apps/web/values/env-a.yaml", "apps/web/values/env-b.yaml"])),
        (&["values/env-?.yaml"], &none, false, ok(&["apps/web/values/env-a.yaml", "apps/web/values/env-b.yaml"])),
        (&["values/env-[b].yaml"], &none, false, ok(&["apps/web/values/env-b.yaml"])),
        (&["values/*.yaml", "values/env-a.yaml"], &none, false, ok(&["apps/web/values/env-b.yaml", "apps/web/values/env-a.yaml"])),
        (&["values/env-a.yaml", "values/*.yaml"], &none, false, ok(&["apps/web/values/env-a.yaml", "apps/web/values/env-b.yaml"])),
        (&["/apps/**/env-b.yaml"], &none, false, ok(&["apps/web/values/env-b.yaml"])),
        (&["values/env-*.yaml", "values/env-*.yaml"], &none, false, ok(&["apps/web/values/env-a.yaml", "apps/web/values/env-b.yaml"])),
        (&["../../etc/passwd"], &none, false, err("values-files: value file '../../etc/passwd' not found (looked at '/etc/passwd' in the repository); set ignore-missing-value-files to skip missing files")),
        (&["../../../etc/passwd"], &none, false, err("values-files: value file '../../../etc/passwd' resolved to outside repository root")),
        (&["../../../../../../../../../../../etc/passwd"], &none, false, err("values-files: value file '../../../../../../../../../../../etc/passwd' resolved to outside repository root")),
        (&["/etc/passwd"], &none, false, err("values-files: value file '/etc/passwd' not found (looked at '/etc/passwd' in the repository); set ignore-missing-value-files to skip missing files")),
        (&["/../etc/passwd"], &none, false, err("values-files: value file '/../etc/passwd' resolved to outside repository root")),
        (&["/etc/passwd"], &none, true, ok(&[])),
        (&["evil-abs.yaml"], &none, false, err("values-files: value file 'evil-abs.yaml' resolved to outside repository root")),
        (&["evil-abs.yaml"], &none, true, err("values-files: value file 'evil-abs.yaml' resolved to outside repository root")),
        (&["evil-rel.yaml"], &none, false, err("values-files: value file 'evil-rel.yaml' resolved to outside repository root")),
        (&["evil-dir/passwd"], &none, false, err("values-files: value file 'evil-dir/passwd' resolved to outside repository root")),
        (&["evil-*.yaml"], &none, false, err("values-files: glob 'evil-*.yaml' matched '/apps/web/evil-abs.yaml', which resolved to outside repository root")),
        (&["loop-a.yaml"], &none, false, err("values-files: value file 'loop-a.yaml': too many levels of symbolic links")),
        (&["../.."], &none, false, err("values-files: value file '../..' resolved to the repository root, which is not allowed")),
        (&["/"], &none, false, err("values-files: value file '/' resolved to the repository root, which is not allowed")),
        (&["missing.yaml"], &none, false, err("values-files: value file 'missing.yaml' not found (looked at '/apps/web/missing.yaml' in the repository); set ignore-missing-value-files to skip missing files")),
        (&["missing.yaml", "values.yaml"], &none, true, ok(&["apps/web/values.yaml"])),
        (&["nomatch-*.yaml"], &none, false, err("values-files: values file glob 'nomatch-*.yaml' matched no files; set ignore-missing-value-files to skip it")),
        (&["nomatch-*.yaml"], &none, true, ok(&[])),
        (&["https://example.com/values.yaml"], &none, false, err("values-files: value file 'https://example.com/values.yaml': the URL scheme 'https' is not allowed (no URL schemes are allowed)")),
        (&["https://example.com/values.yaml"], &https, false, ok(&["https://example.com/values.yaml"])),
        (&["HTTPS://example.com/v.yaml"], &https, false, ok(&["HTTPS://example.com/v.yaml"])),
        (&["http://example.com/values.yaml"], &https, false, err("values-files: value file 'http://example.com/values.yaml': the URL scheme 'http' is not allowed (allowed: https)")),
        (&["file:///etc/passwd"], &https, false, err("values-files: value file 'file:///etc/passwd': the URL scheme 'file' is not allowed (allowed: https)")),
        (&["values.yaml", "file:///etc/passwd"], &none, true, err("values-files: value file 'file:///etc/passwd': the URL scheme 'file' is not allowed (no URL schemes are allowed)")),
    ];
    for (files, schemes, ignore, want) in cases {
        assert_eq!(
            out(files, schemes, ignore),
            want,
            "value files {files:?} (schemes {schemes:?}, ignore {ignore})"
        );
    }
}

#[test]
fn set_file_is_contained_too() {
    let (_dir, root) = checkout("helm");
    let mut s = settings(&root, tools::helm3());
    s.helm.set_file = vec![("note".into(), "../../../etc/passwd".into())];
    assert_eq!(
        render::render(&s).unwrap_err().to_string(),
        "set-file: value file '../../../etc/passwd' resolved to outside repository root"
    );
    s.helm.set_file = vec![("note".into(), "nope.txt".into())];
    s.helm.ignore_missing_value_files = true; // does not apply to set-file, as in Argo CD
    assert_eq!(
        render::render(&s).unwrap_err().to_string(),
        "set-file: value file 'nope.txt' not found (looked at '/apps/web/nope.txt' in the repository)"
    );
}

#[test]
fn init_builds_missing_file_dependency_only() {
    for helm in [tools::helm3(), tools::helm4()] {
        let (_dir, root) = checkout("helm-deps");
        let mut s = settings(&root, helm.clone());
        // Missing dependency + a helm that does not exist: init must try to run it.
        s.tools.helm = PathBuf::from("/nonexistent/helm");
        let e = render::init(&s).unwrap_err().to_string();
        assert_eq!(
            e,
            "could not start `/nonexistent/helm dependency build`: No such file or directory (os error 2) (install helm or point the plugin at it)"
        );
        // Rendering before init: helm's own missing-dependency error, with the command.
        s.tools.helm = helm.clone();
        let e = render::render(&s).unwrap_err().to_string();
        assert!(
            e.contains("found in Chart.yaml, but missing in charts/ directory: common"),
            "{e}"
        );
        assert!(
            e.starts_with(&format!(
                "`{} template . --name-template rel --include-crds` failed exit status 1: ",
                helm.display()
            )),
            "{e}"
        );

        render::init(&s).unwrap_or_else(|e| panic!("{}: {e}", helm.display()));
        assert!(root.join("apps/web/charts/common-0.2.0.tgz").is_file());
        assert!(
            !root.join("apps/web/Chart.lock").exists(),
            "a Chart.lock that did not exist is removed, as Argo CD does"
        );
        let text = render::render(&s).unwrap().parts.remove(0).text;
        assert!(
            text.contains("name: rel-common") && text.contains("ghcr.io/example/common:1.0"),
            "{text}"
        );

        // Now nothing is missing: init does not run helm at all.
        s.tools.helm = PathBuf::from("/nonexistent/helm");
        render::init(&s).unwrap();
    }
    // No dependencies declared (the fixture's sub chart is present): nothing to do.
    let (_dir, root) = checkout("helm");
    let mut s = settings(&root, PathBuf::from("/nonexistent/helm"));
    render::init(&s).unwrap();
    s.source_type = Some(SourceType::Directory);
    render::init(&s).unwrap();
}

#[test]
fn bad_template_error_carries_command_and_stderr_tail() {
    for helm in [tools::helm3(), tools::helm4()] {
        let (dir, root) = checkout("helm");
        dir.write(
            "repo/apps/web/templates/bad.yaml",
            "x: {{ .Values.image | nosuchfunc }}\n",
        );
        let mut s = settings(&root, helm.clone());
        s.helm.api_versions = vec!["secret.example.com/v1".into(), "v1/Secret".into()];
        s.helm.values_files = vec!["values/env-a.yaml".into()];
        let e = render::render(&s).unwrap_err();
        assert!(matches!(e, RenderError::Failed { .. }), "{e:?}");
        let e = e.to_string();
        assert!(
            e.starts_with(&format!(
                "`{} template . --name-template rel --values ./apps/web/values/env-a.yaml <api versions removed> --include-crds` failed exit status 1: ",
                helm.display()
            )),
            "{e}"
        );
        assert!(e.contains("function \"nosuchfunc\" not defined"), "{e}");
        assert!(
            !e.contains("secret.example.com"),
            "api versions are redacted: {e}"
        );
    }
}

#[test]
fn missing_helm_binary_is_named() {
    let (_dir, root) = checkout("helm");
    let s = settings(&root, PathBuf::from("helm-does-not-exist"));
    assert_eq!(
        render::render(&s).unwrap_err().to_string(),
        "could not start `helm-does-not-exist template . --name-template rel --include-crds`: No such file or directory (os error 2) (install helm or point the plugin at it)"
    );
}

#[test]
fn output_cap() {
    let (_dir, root) = checkout("helm");
    let mut s = settings(&root, tools::helm3());
    s.limits = Limits {
        max_output_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(
        render::render(&s).unwrap_err().to_string(),
        format!(
            "`{} template . --name-template rel --include-crds` printed more than 100 bytes and was killed; raise render.maxOutputBytes in the config if this app is really that large",
            tools::helm3().display()
        )
    );
}

#[test]
fn render_timeout_kills_helm() {
    let (_dir, root) = checkout("helm");
    let mut s = settings(&root, tools::helm4());
    s.limits = Limits {
        timeout: Duration::from_millis(1),
        ..Limits::default()
    };
    let e = render::render(&s).unwrap_err();
    assert!(matches!(e, RenderError::Timeout { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("did not finish within 0.001s and was killed with its process group"),
        "{e}"
    );
}

/// Non-zombie processes whose command line contains `token`.
fn live_processes_with(token: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        if !String::from_utf8_lossy(&cmdline).contains(token) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.trim_start().chars().next());
        if state != Some('Z') && state.is_some() {
            pids.push(pid);
        }
    }
    pids
}

/// A real long-running tool (`timeout` running `sleep`, two processes in one group) is killed
/// with its whole group at the deadline; nothing survives.
#[test]
fn timeout_kills_the_whole_process_group() {
    let token = format!("0.{}{}", std::process::id(), 7357);
    let dir = TestDir::new();
    let cmd = Cmd::new(
        "/usr/bin/timeout",
        vec![
            "1000".into(),
            "/bin/sleep".into(),
            "999".into(),
            token.clone().into(),
        ],
        dir.path(),
        "timeout",
    );
    let watcher = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            live_processes_with(&token)
        })
    };
    let t = Instant::now();
    let limits = Limits {
        timeout: Duration::from_millis(1200),
        ..Limits::default()
    };
    let e = process::run(&cmd, Instant::now() + limits.timeout, &limits).unwrap_err();
    assert!(matches!(e, RenderError::Timeout { .. }), "{e:?}");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    let seen = watcher.join().unwrap();
    assert_eq!(seen.len(), 2, "timeout and sleep were running: {seen:?}");
    // Give the kernel a moment to finish the SIGKILLs.
    let end = Instant::now() + Duration::from_secs(3);
    while !live_processes_with(&token).is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        live_processes_with(&token),
        Vec::<u32>::new(),
        "nothing survives"
    );
    assert_eq!(
        e.to_string(),
        format!("`/usr/bin/timeout 1000 /bin/sleep 999 {token}` did not finish within 1.2s and was killed with its process group; raise render.timeoutSeconds in the config if the app really needs longer (Argo CD's own deadline is 60s)")
    );
}

/// `/bin/sleep` as the helm binary (argv `sleep template …` is invalid for sleep): a failure
/// with sleep's stderr, and no process left behind.
#[test]
fn sleep_as_helm_binary_fails_cleanly() {
    let (_dir, root) = checkout("helm");
    let s = settings(&root, PathBuf::from("/bin/sleep"));
    let e = render::render(&s).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "`/bin/sleep template . --name-template rel --include-crds` failed exit status 1: "
        ),
        "{e}"
    );
    assert!(
        e.contains("/bin/sleep: unrecognized option '--name-template'"),
        "{e}"
    );
}
