//! The `rewrite` and `explain` commands through the real binary: the seed's playground Pod with
//! both config formats, and the contract for bad input (one error line, non-zero exit, nothing on
//! stdout).

use crate::util;

use std::path::PathBuf;

use util::cmd::Cmd;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

const ECR: &str = "111111111111.dkr.ecr.eu-west-1.amazonaws.com";

/// The images the seed's Kyverno policy gives for its playground Pod (five-registry values).
fn expected_playground() -> Vec<String> {
    [
        "docker-hub/library/nginx:latest",
        "docker-hub/library/nginx:latest",
        "docker-hub/library/nginx:latest",
        "docker-hub/example-custom/example-custom:latest",
        "public-ecr/ubuntu/ubuntu:edge",
        "docker-hub/library/busybox:latest",
        "public-ecr/ubuntu/ubuntu:20.04",
    ]
    .iter()
    .map(|s| format!("{ECR}/{s}"))
    .collect()
}

fn images_of(yaml: &str) -> Vec<String> {
    yaml.lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("image: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn seed_playground_with_seed_values_and_native_config() {
    for config in ["seed/values.yaml", "seed/config.yaml"] {
        let out = Cmd::new()
            .arg("rewrite")
            .arg("--config")
            .arg(data(config))
            .arg(data("seed/playground-pod.yaml"))
            .stdout_ok();
        assert_eq!(images_of(&out), expected_playground(), "config {config}");
        let input = std::fs::read_to_string(data("seed/playground-pod.yaml")).unwrap();
        let non_image = |s: &str| {
            s.lines()
                .filter(|l| !l.contains("image:"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(non_image(&out), non_image(&input), "config {config}");
    }
}

#[test]
fn seed_values_warn_about_the_namespace_label() {
    let out = Cmd::new()
        .arg("rewrite")
        .arg("--config")
        .arg(data("seed/values.yaml"))
        .arg(data("seed/playground-pod.yaml"))
        .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert_eq!(
        stderr.matches("namespaceSelectorLabel").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn stdin_and_flags_without_config() {
    let out = Cmd::new()
        .args([
            "rewrite",
            "--mirror",
            "m.example.com",
            "--map",
            "docker.io=hub",
            "--map",
            "quay.io=q.example.com/quay",
        ])
        .stdin("kind: Pod\nspec:\n  containers:\n  - image: nginx:1.25\n  - image: quay.io/a/b\n")
        .stdout_ok();
    assert_eq!(out, "kind: Pod\nspec:\n  containers:\n  - image: m.example.com/hub/library/nginx:1.25\n  - image: q.example.com/quay/a/b:latest\n");
}

#[test]
fn several_files_are_joined_as_one_stream() {
    let dir = util::cmd::TestDir::new();
    let a = dir.write("a.yaml", "kind: Pod\nspec: {containers: [{image: nginx}]}");
    let b = dir.write(
        "b.yaml",
        "kind: Pod\nspec: {containers: [{image: nginx:2}]}\n",
    );
    let out = Cmd::new()
        .args(["rewrite", "--mirror", "m.io", "--map", "docker.io=hub"])
        .arg(&a)
        .arg(&b)
        .stdout_ok();
    assert_eq!(out, "kind: Pod\nspec: {containers: [{image: m.io/hub/library/nginx:latest}]}\n---\nkind: Pod\nspec: {containers: [{image: m.io/hub/library/nginx:2}]}\n");
}

#[test]
fn explain_table_and_json() {
    let table = Cmd::new()
        .arg("explain")
        .arg("--config")
        .arg(data("seed/config.yaml"))
        .arg(data("seed/playground-pod.yaml"))
        .stdout_ok();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("DOC  KIND  NAMESPACE/NAME   FIELD"),
        "{table}"
    );
    assert!(
        lines[6].contains("spec.initContainers[0].image")
            && lines[6].contains("docker.io/library/busybox:latest")
            && lines[6].contains("registry docker.io")
            && lines[6].ends_with("container image"),
        "{table}"
    );
    assert_eq!(
        lines.last().unwrap(),
        &"7 image field(s), 7 rewritten, 0 unchanged"
    );
    let json = Cmd::new()
        .args(["explain", "-o", "json", "--config"])
        .arg(data("seed/config.yaml"))
        .arg(data("seed/playground-pod.yaml"))
        .stdout_ok();
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = report["fields"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(
        rows[4]["after"],
        format!("{ECR}/public-ecr/ubuntu/ubuntu:edge")
    );
    assert_eq!(rows[4]["reason"], "registry public.ecr.aws");
    assert_eq!(rows[4]["namespace"], "demo");
    assert_eq!(rows[4]["line"], 18);
}

#[test]
fn explain_reasons() {
    let json = Cmd::new()
        .args(["explain", "-o", "json", "--mirror", "m.io", "--map", "docker.io=hub", "--exclude", "docker.io/library/busybox"])
        .stdin("kind: Pod\nspec:\n  containers:\n  - image: busybox\n  - image: m.io/hub/library/nginx:latest\n  - image: gcr.io/x/y:1\n  - image: \"{{ .Values.image }}\"\n")
        .stdout_ok();
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = report["fields"].as_array().unwrap();
    let reasons: Vec<&str> = rows.iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert_eq!(
        reasons,
        ["excluded (docker.io/library/busybox)", "already on mirror", "no rule for gcr.io", "unparseable: invalid reference format: repository name (library/{{ .Values.image }}) must be lowercase"]
    );
}

/// (name, args, stdin, exit code, exact stderr)
fn bad(args: &[&str], stdin: &[u8], code: i32, stderr: &str) {
    let cmd = {
        let mut c = Cmd::new();
        c.args(args).stdin(stdin.to_vec());
        c
    };
    let out = cmd.expect_failure();
    assert_eq!(out.status.code(), Some(code), "{}", cmd.describe());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        stderr,
        "{}",
        cmd.describe()
    );
}

#[test]
fn bad_input_is_one_line_and_no_stdout() {
    let base = ["rewrite", "--mirror", "m.io", "--map", "docker.io=hub"];
    bad(
        &base,
        b"kind: Pod\nspec:\n  containers:\n  - image: \"nginx\n",
        2,
        "pullthrough: <stdin>:4:12: unclosed quote\n",
    );
    bad(
        &base,
        b"kind: Pod\nmetadata:\n  name: \xff\xfe\n",
        2,
        "pullthrough: <stdin>:3:9: invalid UTF-8\n",
    );
    bad(
        &base,
        b"kind: Pod\nspec:\n\tcontainers: []\n",
        2,
        "pullthrough: <stdin>:3:2: tabs disallowed within this context (block indentation)\n",
    );
    let strict = [
        "rewrite",
        "--strict",
        "--mirror",
        "m.io",
        "--map",
        "docker.io=hub",
    ];
    bad(&strict, b"kind: Pod\nspec:\n  containers:\n  - image: NGINX\n", 2,
        "pullthrough: <stdin>:4:12: spec.containers[0].image: image \"NGINX\" left as is: unparseable: invalid reference format: repository name (library/NGINX) must be lowercase (--strict)\n");
}

#[test]
fn bad_config_names_file_and_key() {
    let dir = util::cmd::TestDir::new();
    let cfg = dir.write("c.yaml", "mirror: m.io\nregistrie:\n  docker.io: hub\n");
    let out = Cmd::new()
        .arg("rewrite")
        .arg("--config")
        .arg(&cfg)
        .stdin("{}")
        .expect_failure();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("pullthrough: {}: ", cfg.display()))
            && err.contains(": 2:1: unknown field `registrie`"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    for (text, msg) in [
        ("rules:\n- match: '(['\n  replace: x\n", "rules[0].match: invalid regex"),
        ("registries:\n  docker.io: hub\n", "registries.docker.io: prefix \"hub\" is relative but no mirror is set"),
        ("mirror: m.io\nexclude: ['a[']\n", "exclude: invalid glob"),
        ("common:\n  ecrRegistryFullname: e.io\nregistriesToOverwrite:\n  docker.io:\n    upstreamUrlRegexp: '^docker\\\\.io/.*$'\n    ecrPrefixName: hub\n",
         "registriesToOverwrite.docker.io.upstreamUrlRegexp: regex \"^docker\\\\.io/.*$\" has no capture group; the replacement needs $1"),
    ] {
        let cfg = dir.write("bad.yaml", text);
        let out = Cmd::new().arg("rewrite").arg("--config").arg(&cfg).stdin("{}").expect_failure();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(msg), "{text}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn works_as_a_helm3_post_renderer() {
    // Helm 3 runs the post-renderer with the rendered stream on stdin and reads stdout. Helm
    // does not pass hooks through post-renderers, hence --no-hooks here (README: CLI).
    let chart = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/apps/helm-app");
    let out = Cmd::program(util::tools::helm3())
        .args(["template", "demo", "--no-hooks"])
        .arg(&chart)
        .arg("--post-renderer")
        .arg(util::cmd::pullthrough_bin())
        .args([
            "--post-renderer-args",
            "rewrite",
            "--post-renderer-args",
            "--config",
        ])
        .arg("--post-renderer-args")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo-config.yaml"))
        .env("HOME", std::env::temp_dir())
        .stdout_ok();
    let images = images_of(&out);
    assert!(!images.is_empty());
    for i in &images {
        assert!(i.trim_matches('"').starts_with(ECR), "{i}");
    }
}

/// Issue 14 through the binary: a rule whose output is not an image reference stops the run at
/// the image (one line, exit 2, nothing on stdout); one that can never make one stops it before
/// any input is read (exit 1); keys spelled as Docker Hub aliases and mirrors with a path work as
/// written; and a second run changes nothing.
#[test]
fn rules_never_fail_silently() {
    let dir = util::cmd::TestDir::new();
    let pod = "kind: Pod\nspec:\n  containers:\n  - image: nginx\n  - image: quay.io/a/b:1\n";
    let cfg = dir.write("out.yaml", "mirror: m.example.com\nrules:\n- match: '^quay\\.io/(.*)$'\n  replace: 'm.example.com/quay/$1:mirrored'\n");
    let c = cfg.to_str().unwrap();
    bad(&["rewrite", "--config", c], pod.as_bytes(), 2,
        &format!("pullthrough: <stdin>:5:12: spec.containers[1].image: {c}: rules[0]: \"quay.io/a/b:1\" became \"m.example.com/quay/a/b:1:mirrored\", which is not a valid image reference (invalid reference format)\n"));
    let cfg = dir.write("never.yaml", "mirror: m.example.com\nrules:\n- match: '^quay\\.io/(.*)$'\n  replace: 'mirror.example.com//quay/$1'\n");
    let c = cfg.to_str().unwrap();
    bad(&["rewrite", "--config", c], pod.as_bytes(), 1,
        &format!("pullthrough: {c}: rules[0]: replacement \"mirror.example.com//quay/$1\" can never give a valid image reference: no reference starts with \"mirror.example.com//quay/\" (invalid reference format)\n"));
    let cfg = dir.write("again.yaml", "mirror: m.example.com\nregistries: {docker.io: hub}\nrules:\n- match: '^old\\.example\\.com/(.*)$'\n  replace: '$1'\n");
    let c = cfg.to_str().unwrap();
    bad(&["rewrite", "--config", c], b"kind: Pod\nspec: {containers: [{image: old.example.com/x/y:1}]}\n", 2,
        &format!("pullthrough: <stdin>:2:29: spec.containers[0].image: {c}: rules[0]: \"old.example.com/x/y:1\" became \"x/y:1\", which {c}: registries.docker.io would rewrite again to \"m.example.com/hub/x/y:1\"; a rule's output must be final (write it under the mirror or a destination)\n"));

    let cfg = dir.write(
        "good.yaml",
        "mirror: us-docker.pkg.dev/my-project/cache\nregistries:\n  registry-1.docker.io: docker-hub\n  us-docker.pkg.dev: gar\nrules:\n- match: '^old\\.example\\.com/(.*)$'\n  replace: 'docker.io/mirrored/$1'\n",
    );
    let input = "kind: Pod\nspec:\n  containers:\n  - image: registry-1.docker.io/library/nginx:1.25\n  - image: index.docker.io/bitnami/redis:7\n  - image: us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0\n  - image: us-docker.pkg.dev/my-project/cache/gar/x:1\n  - image: old.example.com/tool:2\n";
    let run = |stdin: &str| {
        Cmd::new()
            .arg("rewrite")
            .arg("--config")
            .arg(&cfg)
            .stdin(stdin)
            .stdout_ok()
    };
    let once = run(input);
    let m = "us-docker.pkg.dev/my-project/cache";
    assert_eq!(
        images_of(&once),
        [
            format!("{m}/docker-hub/library/nginx:1.25"),
            format!("{m}/docker-hub/bitnami/redis:7"),
            format!("{m}/gar/google-samples/containers/gke/hello-app:1.0"),
            format!("{m}/gar/x:1"),
            "docker.io/mirrored/tool:2".to_string(),
        ]
    );
    assert_eq!(run(&once), once, "a second run changed the output");
}

/// The seed format with a `registriesToOverwrite` key spelled as a Docker Hub alias: it rewrites
/// images written that way, as the seed's policy does, and every other Docker Hub spelling too.
#[test]
fn seed_keys_spelled_as_docker_hub_aliases() {
    let dir = util::cmd::TestDir::new();
    let cfg = dir.write(
        "values.yaml",
        format!("common:\n  ecrRegistryFullname: {ECR}\nregistriesToOverwrite:\n  registry-1.docker.io:\n    upstreamUrlRegexp: '^registry-1\\\\.docker\\\\.io/(.*)$'\n    ecrPrefixName: docker-hub\n"),
    );
    let out = Cmd::new()
        .arg("rewrite")
        .arg("--config")
        .arg(&cfg)
        .stdin("kind: Pod\nspec:\n  containers:\n  - image: registry-1.docker.io/library/nginx:1.25\n  - image: nginx\n  - image: quay.io/a/b:1\n")
        .stdout_ok();
    assert_eq!(
        images_of(&out),
        [
            format!("{ECR}/docker-hub/library/nginx:1.25"),
            format!("{ECR}/docker-hub/library/nginx:latest"),
            "quay.io/a/b:1".to_string()
        ]
    );
}

/// Runs git in `dir` (argv, no shell) and asserts it succeeded.
fn git(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap_or_else(|e| panic!("git {args:?}: {e} (the tests need git)"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The symlink check outside Argo CD judges the files git would ship: a git-ignored, untracked
/// link (a build directory's) does not refuse the repository, while a tracked link matching an
/// ignore pattern, an untracked link that is not ignored, and any link under Argo CD (which
/// archives every file) do. Without git, every file is judged and the error says why.
#[test]
fn symlink_check_judges_what_git_would_ship() {
    let dir = util::cmd::TestDir::new();
    dir.write(
        "repo/app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    dir.write("repo/.gitignore", "/build/\n*.secret\n");
    let repo = dir.join("repo");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", ".gitignore", "app/cm.yaml"]);
    dir.symlink("/etc/passwd", "repo/build/out");
    let render = |env: &[(&str, &str)]| {
        let mut cmd = dir.cmd();
        cmd.args(["render", "--param", "mirror=mirror.example.com", "repo/app"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    };
    let refusal = |file: &str| {
        format!("pullthrough: repository: symlink '{file}' -> '/etc/passwd' is absolute; refused before rendering, as Argo CD's repo-server refuses the repository (out of bounds symlink, CVE-2022-24904)\n")
    };

    // Ignored and untracked: not judged in a working tree.
    assert!(render(&[]).stdout_ok().contains("kind: ConfigMap"));
    // Argo CD's archive holds every file: judged there.
    assert_eq!(
        render(&[("ARGOCD_APP_SOURCE_PATH", "app")]).stderr(),
        refusal("build/out")
    );
    // No git: every file judged, and the error says why.
    let no_git = dir.mkdir("empty-path");
    assert_eq!(
        render(&[("PATH", no_git.to_str().unwrap())]).stderr(),
        refusal("build/out").replace(")\n", "); every file was judged because git could not list the working tree's files (git was not found in PATH)\n")
    );

    // Tracked although it matches an ignore pattern: git ships it, so it is judged. (Outside
    // the app dir: the directory reader refuses a link it reads on its own.)
    dir.symlink("/etc/passwd", "repo/other/key.secret");
    assert!(render(&[]).stdout_ok().contains("kind: ConfigMap"));
    git(&repo, &["add", "-f", "other/key.secret"]);
    assert_eq!(render(&[]).stderr(), refusal("other/key.secret"));
    // git's repository-local variables in the user's environment cannot hide it: another
    // index (in which the link is not tracked, so it is ignored again) or another object store.
    let elsewhere = dir.join("elsewhere").to_str().unwrap().to_string();
    for var in ["GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"] {
        assert_eq!(
            render(&[(var, &elsewhere)]).stderr(),
            refusal("other/key.secret"),
            "{var}"
        );
    }
    git(&repo, &["rm", "-q", "--cached", "other/key.secret"]);

    // Untracked and not ignored: it would be committed, so it is judged.
    dir.symlink("/etc/passwd", "repo/other/new.yaml");
    assert_eq!(render(&[]).stderr(), refusal("other/new.yaml"));
}

/// `explain DIR` and `verify DIR` read the app like `generate`. Their rule flags stand in for the
/// config file: they override it, the app's layers apply over them and only the app's values
/// are checked against `allowedMirrors` (the person at the terminal is the admin).
#[test]
fn explain_dir_flags_are_the_config_layer() {
    let dir = util::cmd::TestDir::new();
    dir.write(
        "c.yaml",
        format!("mirror: {ECR}\nregistries: {{docker.io: hub}}\noverrides: {{allow: ['*']}}\nallowedMirrors: ['*.dkr.ecr.*.amazonaws.com']\n"),
    );
    dir.write(
        "app/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: nginx:1.27}\n",
    );
    let explain = |extra: &[&str]| {
        let mut c = dir.cmd();
        c.args(["explain", "-o", "json", "--config"])
            .arg(dir.join("c.yaml"))
            .args(extra)
            .arg(dir.join("app"));
        c
    };
    let row = |extra: &[&str]| -> serde_json::Value {
        let report: serde_json::Value = serde_json::from_str(&explain(extra).stdout_ok()).unwrap();
        report["fields"][0].clone()
    };
    let other = "222222222222.dkr.ecr.us-east-1.amazonaws.com";
    let app = "333333333333.dkr.ecr.eu-west-1.amazonaws.com";
    assert_eq!(row(&[])["after"], format!("{ECR}/hub/library/nginx:1.27"));
    // The flag overrides the config…
    assert_eq!(
        row(&["--mirror", other])["after"],
        format!("{other}/hub/library/nginx:1.27")
    );
    // …the app's parameter overrides the flag…
    let param = format!("mirror={app}");
    assert_eq!(
        row(&["--mirror", other, "--param", &param])["after"],
        format!("{app}/hub/library/nginx:1.27")
    );
    assert_eq!(
        row(&[
            "--map",
            "docker.io=flag",
            "--param-map",
            "registries.docker.io=app"
        ])["after"],
        format!("{ECR}/app/library/nginx:1.27")
    );
    // …the admin's flag is not held to allowedMirrors, the app's value is.
    assert_eq!(
        row(&["--mirror", "mirror.example.com"])["after"],
        "mirror.example.com/hub/library/nginx:1.27"
    );
    let out =
        explain(&["--mirror", other, "--param", "mirror=mirror.example.com"]).expect_failure();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "pullthrough: parameter mirror: mirror \"mirror.example.com\" is not in the sidecar's allowedMirrors (*.dkr.ecr.*.amazonaws.com)\n"
    );
    // `--namespace` stands for the destination namespace.
    assert_eq!(row(&[])["namespace"], "default");
    assert_eq!(row(&["--namespace", "prod"])["namespace"], "prod");
}
