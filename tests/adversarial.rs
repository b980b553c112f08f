//! Adversarial inputs through the real binary (issue 5): every bad input ends in ONE error line on
//! stderr naming what and where, the README's exit code, and nothing on stdout; inputs that are
//! merely odd succeed; nothing an Application author controls runs a shell, reads outside the
//! repository, hangs the sidecar, or grows memory without bound; the checkout is not modified.
//!
//! Who controls what (docs/security.md): manifests, repo contents, parameters and `ARGOCD_ENV_*`
//! come from Application authors; the config file and the sidecar's env from the platform team.

use crate::util;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use util::cmd::{Cmd, TestDir};
use util::tools;

const MIRROR: &str = "111111111111.dkr.ecr.eu-west-1.amazonaws.com";

/// The README's exit codes.
const EXIT_USAGE: i32 = 1;
const EXIT_INPUT: i32 = 2;

/// Asserts the error contract on a finished run: exit `code`, empty stdout, exactly one
/// non-empty line on stderr starting with `pullthrough: `, holding every needle.
#[track_caller]
fn assert_error(case: &str, out: &Output, code: i32, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = || {
        format!(
            "case {case}: status {}\n--- stdout ({} bytes) ---\n{}\n--- stderr ---\n{stderr}",
            out.status,
            out.stdout.len(),
            String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(2000)])
        )
    };
    assert_eq!(
        out.status.code(),
        Some(code),
        "wrong exit code\n{}",
        report()
    );
    assert!(
        out.stdout.is_empty(),
        "a failure printed to stdout\n{}",
        report()
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not exactly one stderr line\n{}", report());
    assert!(lines[0].starts_with("pullthrough: "), "{}", report());
    for n in needles {
        assert!(lines[0].contains(n), "stderr lacks {n:?}\n{}", report());
    }
    stderr
}

fn rewrite_cmd(dir: &TestDir) -> Cmd {
    let mut c = dir.cmd();
    c.args([
        "rewrite",
        "--mirror",
        MIRROR,
        "--map",
        "docker.io=docker-hub",
    ]);
    // Lets the suite be run against each planning strategy (`PULLTHROUGH_PLAN=full cargo test`).
    if let Ok(plan) = std::env::var("PULLTHROUGH_PLAN") {
        c.env("PULLTHROUGH_PLAN", plan);
    }
    c
}

fn pod(image: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: {image}\n")
}

// ---------------------------------------------------------------------------------------------
// Manifests

/// Bad manifests: each fails on its own, with the file and line:col.
#[test]
fn bad_manifests_fail_with_one_line_naming_the_place() {
    let deep_flow = format!("{}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let deep_block: String = (0..10_000)
        .map(|i| format!("{}a:\n", "  ".repeat(i)))
        .collect();
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "invalid UTF-8",
            b"kind: Pod\nmetadata: {name: \xff}\n".to_vec(),
            &["bad.yaml:2:18", "invalid UTF-8"],
        ),
        (
            "NUL byte in flow",
            b"kind: Pod\nmetadata: {name: a\x00}\n".to_vec(),
            &["bad.yaml:2:19", "U+0000"],
        ),
        (
            "NUL byte in block",
            b"kind: Pod\nmetadata:\n  name: a\x00b\n".to_vec(),
            &["bad.yaml:3:10", "U+0000"],
        ),
        (
            "C0 control in a quoted scalar",
            b"kind: Pod\nmetadata:\n  name: \"a\x01\"\n".to_vec(),
            &["bad.yaml:3:11", "U+0001"],
        ),
        (
            "DEL",
            b"kind: Pod\nmetadata:\n  name: a\x7f\n".to_vec(),
            &["bad.yaml:3:10", "U+007F"],
        ),
        (
            "C1 control",
            "kind: Pod\nmetadata:\n  name: a\u{80}\n"
                .as_bytes()
                .to_vec(),
            &["bad.yaml:3:10", "U+0080"],
        ),
        (
            "U+FFFF",
            "kind: Pod\nmetadata:\n  name: a\u{ffff}\n"
                .as_bytes()
                .to_vec(),
            &["bad.yaml:3:10", "U+FFFF"],
        ),
        (
            "control character in JSON",
            b"{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\x02\"}}\n".to_vec(),
            &["bad.yaml:1:", "U+0002"],
        ),
        (
            "unterminated double quote",
            b"kind: Pod\nmetadata:\n  name: \"abc\n".to_vec(),
            &["bad.yaml:3:", "quote"],
        ),
        (
            "unterminated single quote",
            b"kind: 'Pod\n".to_vec(),
            &["bad.yaml:1:", "quote"],
        ),
        (
            "tab indentation",
            b"kind: Pod\nmetadata:\n\tname: a\n".to_vec(),
            &["bad.yaml:3:", "tab"],
        ),
        (
            "10,000-deep flow nesting",
            deep_flow.into_bytes(),
            &["bad.yaml:1:", "limits.maxDepth"],
        ),
        (
            "10,000-deep block nesting",
            deep_block.into_bytes(),
            &["bad.yaml:", "limits.maxDepth"],
        ),
        // Documents pullthrough never modifies (CRDs) are still read: Argo CD would fail on them.
        (
            "broken CustomResourceDefinition",
            b"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: \"a}\n---\nkind: Pod\n".to_vec(),
            &["bad.yaml:3:"],
        ),
        (
            "control character in a CustomResourceDefinition",
            b"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a\x01}\n---\nkind: Pod\n".to_vec(),
            &["bad.yaml:3:", "U+0001"],
        ),
        // A syntax error in a document that holds no image is still an error (Argo CD would fail).
        (
            "broken document without images, then a Pod",
            format!(
                "kind: ConfigMap\nmetadata: {{name: \"a\n---\n{}",
                pod("nginx")
            )
            .into_bytes(),
            &["bad.yaml:2:"],
        ),
        (
            "a Pod, then a broken document without images",
            format!("{}---\nkind: ConfigMap\ndata: {{a: [}}\n", pod("nginx")).into_bytes(),
            &["bad.yaml:11:"],
        ),
        (
            "unclosed flow mapping",
            b"kind: Pod\nspec: {containers: [\n".to_vec(),
            &["bad.yaml:"],
        ),
        (
            "document separator with text",
            b"kind: Pod\n--- x: 1\n: :\n".to_vec(),
            &["bad.yaml:"],
        ),
    ];
    for (name, bytes, needles) in cases {
        let dir = TestDir::new();
        dir.write("bad.yaml", &bytes);
        let out = rewrite_cmd(&dir).arg("bad.yaml").output();
        assert_error(name, &out, EXIT_INPUT, needles);
        // The same bytes on stdin name `<stdin>`.
        let out = rewrite_cmd(&dir).stdin(bytes).output();
        assert_error(name, &out, EXIT_INPUT, &["<stdin>"]);
    }
}

/// The nesting limit is configurable: raised, the 10,000-deep stream is accepted (no stack
/// overflow: neither the parser nor the scanner recurse).
#[test]
fn nesting_limit_is_configurable() {
    let dir = TestDir::new();
    // A mapping root with a kind (a bare sequence root, or one without `kind`, is refused as Argo
    // CD refuses it).
    let deep = format!(
        "kind: Deep\ndeep: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    dir.write("deep.yaml", &deep);
    dir.write("c.yaml", "limits:\n  maxDepth: 20000\n");
    let out = rewrite_cmd(&dir)
        .args(["--config", "c.yaml", "deep.yaml"])
        .stdout_ok();
    assert_eq!(out, deep);
    dir.write("c.yaml", "limits:\n  maxDepth: 2\n");
    let out = rewrite_cmd(&dir)
        .args(["--config", "c.yaml"])
        .stdin(pod("nginx"))
        .output();
    assert_error(
        "maxDepth 2",
        &out,
        EXIT_INPUT,
        &["<stdin>:", "limits.maxDepth", "deeper than 2 levels"],
    );
}

/// Odd but valid input: accepted; what is not an image string is left alone with a warning
/// naming the field (an error with --strict).
#[test]
fn odd_image_values_are_left_alone_with_a_warning() {
    let ten_kb = "a".repeat(10 * 1024);
    let cases: Vec<(&str, String, &str)> = vec![
        ("int", "42".into(), "not a string (a number)"),
        ("map", "{name: nginx}".into(), "not a string (a mapping)"),
        ("sequence", "[nginx]".into(), "not a string (a sequence)"),
        ("null", "null".into(), "not a string (null)"),
        ("empty", "".into(), "not a string (null)"),
        ("bool", "true".into(), "not a string (a boolean)"),
        ("tagged int", "!!int 5".into(), "non-string tag"),
        (
            "multi-line block scalar",
            "|\n      nginx\n      redis".into(),
            "unparseable",
        ),
        ("10 KB string", ten_kb, "unparseable"),
    ];
    for (name, value, reason) in cases {
        let dir = TestDir::new();
        let input = pod(&value);
        dir.write("in.yaml", &input);
        let out = rewrite_cmd(&dir).arg("in.yaml").output();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            input,
            "{name}: output must equal input"
        );
        assert_eq!(
            stderr.lines().count(),
            1,
            "{name}: one warning line: {stderr}"
        );
        assert!(
            stderr.contains("in.yaml:")
                && stderr.contains("spec.containers[0].image")
                && stderr.contains(reason),
            "{name}: {stderr}"
        );
        let out = rewrite_cmd(&dir).args(["--strict", "in.yaml"]).output();
        assert_error(
            name,
            &out,
            EXIT_INPUT,
            &["in.yaml:", "spec.containers[0].image", "--strict"],
        );
    }
}

/// Image values that are strings in unusual forms are rewritten in place.
#[test]
fn image_aliases_and_block_scalars_are_rewritten() {
    let cases: Vec<(&str, String, String)> = vec![
        (
            "literal block",
            pod("|\n      nginx"),
            pod(&format!(
                "|\n      {MIRROR}/docker-hub/library/nginx:latest"
            )),
        ),
        (
            "folded strip block",
            pod(">-\n      nginx:1"),
            pod(&format!(">-\n      {MIRROR}/docker-hub/library/nginx:1")),
        ),
        (
            "alias of a scalar",
            format!("x: &a nginx\n{}", pod("*a")),
            format!(
                "x: &a nginx\n{}",
                pod(&format!("{MIRROR}/docker-hub/library/nginx:latest"))
            ),
        ),
        (
            "duplicate image keys: the last, the one Go reads, is rewritten",
            pod("nginx\n    image: redis"),
            pod(&format!(
                "nginx\n    image: {MIRROR}/docker-hub/library/redis:latest"
            )),
        ),
        (
            "duplicate object keys",
            format!("kind: Pod\n{}", pod("nginx")),
            format!(
                "kind: Pod\n{}",
                pod(&format!("{MIRROR}/docker-hub/library/nginx:latest"))
            ),
        ),
    ];
    for (name, input, want) in cases {
        let dir = TestDir::new();
        let out = rewrite_cmd(&dir).stdin(input).stdout_ok();
        assert_eq!(out, want, "{name}");
    }
}

/// Non-mapping documents (a scalar, a sequence) are not Kubernetes objects: Argo CD's
/// `kube.SplitYAML` fails on them with a Go unmarshal message and no position.
#[test]

fn non_mapping_documents_are_refused() {
    for (name, doc, at) in [
        ("scalar", "hello\n", "in.yaml:10:1"),
        ("sequence", "- 1\n- 2\n", "in.yaml:10:1"),
    ] {
        let dir = TestDir::new();
        dir.write("in.yaml", format!("{}---\n{doc}", pod("nginx")));
        let out = rewrite_cmd(&dir).arg("in.yaml").output();
        assert_error(name, &out, EXIT_INPUT, &[at, "not a Kubernetes object"]);
    }
}

/// Billion laughs: nine levels of ten aliases (10^10 nodes if expanded), read through an image
/// field and through `args`. pullthrough reads aliases as Go does, counting decoded nodes like
/// go-yaml v2's guard, so it refuses the document as Go does ("document contains excessive
/// aliasing") after expanding about a thousand nodes: instant, in a small address space.
#[test]
fn alias_bomb_is_refused_like_go_refuses_it() {
    let mut s = String::from("apiVersion: v1\nkind: Pod\nmetadata: {name: lol}\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    s.push_str("spec:\n  containers:\n  - name: x\n    image: *a9\n    args: *a9\n  - name: y\n    image: nginx\n");
    let dir = TestDir::new();
    dir.write("bomb.yaml", &s);
    // Go refuses it too.
    let go = util::oracle::read(&dir.join("bomb.yaml"));
    assert!(
        go[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("excessive aliasing")),
        "{go:?}"
    );
    // 1 GiB of address space: an expansion of 10^10 nodes could not fit.
    let started = Instant::now();
    let out = Cmd::program("/bin/sh")
        .args(["-c", "ulimit -v 1048576 && exec \"$0\" \"$@\""])
        .arg(util::cmd::pullthrough_bin())
        .args([
            "rewrite",
            "--mirror",
            MIRROR,
            "--map",
            "docker.io=docker-hub",
        ])
        .arg(dir.join("bomb.yaml"))
        .output();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_error(
        "alias bomb",
        &out,
        EXIT_INPUT,
        &["bomb.yaml:", "document contains excessive aliasing"],
    );
}

/// Millions of empty documents (32 MiB, under `limits.maxInputBytes`): refused at once by the
/// document limit, naming it; with the limit raised they are planned in batches, so they
/// succeed (memory per batch, not per document: ~input + 4 MiB measured, docs/security.md).
#[test]
fn millions_of_empty_documents() {
    let dir = TestDir::new();
    dir.write("empty.yaml", "---\n".repeat(8 << 20));
    let out = rewrite_cmd(&dir).arg("empty.yaml").output();
    assert_error("empty docs", &out, EXIT_INPUT, &["empty.yaml: 8388608 documents, over the limit of 200000 (raise limits.maxDocuments in the config)"]);
    dir.write("c.yaml", "limits: {maxDocuments: 40000000}\n");
    let out = rewrite_cmd(&dir)
        .args(["--config", "c.yaml", "empty.yaml"])
        .output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), 4 * (8 << 20));
}

/// 100,000 tiny documents: succeed, every image rewritten, in reasonable time even in a debug build.
#[test]
fn hundred_thousand_tiny_documents() {
    let mut input = String::new();
    for i in 0..100_000 {
        input.push_str(&format!("---\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n  containers:\n  - {{name: c, image: \"nginx:{}\"}}\n", i % 50));
    }
    let dir = TestDir::new();
    dir.write("many.yaml", &input);
    let started = Instant::now();
    let out = rewrite_cmd(&dir).arg("many.yaml").stdout_ok();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "100,000 documents took {took:?}"
    );
    assert_eq!(
        out.matches(&format!("\"{MIRROR}/docker-hub/library/nginx:"))
            .count(),
        100_000
    );
    assert_eq!(
        out.len(),
        input.len() + 100_000 * format!("{MIRROR}/docker-hub/library/").len()
    );
}

/// One 50 MB scalar: accepted and copied byte for byte.
#[test]
fn fifty_megabyte_scalar() {
    let mut input =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: ");
    input.push_str(&"x".repeat(50 << 20));
    input.push('\n');
    input.push_str(&format!("---\n{}", pod("nginx")));
    let dir = TestDir::new();
    dir.write("big.yaml", &input);
    let out = rewrite_cmd(&dir).arg("big.yaml").output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = input.replace(
        "image: nginx",
        &format!("image: {MIRROR}/docker-hub/library/nginx:latest"),
    );
    assert!(
        out.stdout == want.as_bytes(),
        "50 MB scalar not copied byte for byte"
    );
}

/// A 300 MB stream fails against `limits.maxInputBytes` (default 128 MiB, above Argo CD's
/// 100 MiB gRPC cap), streamed into stdin without holding it in the test, and as a (sparse)
/// file, which is refused before it is read.
#[test]
fn three_hundred_megabyte_stream_hits_the_input_limit() {
    const TOTAL: usize = 300 << 20;
    let mut child = Command::new(util::cmd::pullthrough_bin())
        .args(["rewrite", "--mirror", MIRROR])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = "---\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n".repeat(20_000);
        let mut sent = 0;
        while sent < TOTAL {
            if stdin.write_all(chunk.as_bytes()).is_err() {
                break; // the child stopped reading: expected
            }
            sent += chunk.len();
        }
        sent
    });
    let out = child.wait_with_output().unwrap();
    let sent = writer.join().unwrap();
    assert!(sent < TOTAL, "the child read the whole 300 MB");
    assert_error(
        "300 MB on stdin",
        &out,
        EXIT_INPUT,
        &[
            "<stdin>",
            "more than 134217728 bytes",
            "limits.maxInputBytes",
        ],
    );

    let dir = TestDir::new();
    let f = std::fs::File::create(dir.join("huge.yaml")).unwrap();
    f.set_len(TOTAL as u64).unwrap();
    let out = rewrite_cmd(&dir).arg("huge.yaml").output();
    assert_error(
        "300 MB file",
        &out,
        EXIT_INPUT,
        &["huge.yaml", "314572800 bytes", "limits.maxInputBytes"],
    );

    // The limit is configurable, both ways.
    dir.write("c.yaml", "limits:\n  maxInputBytes: 50\n");
    dir.write("small.yaml", pod("nginx"));
    let out = rewrite_cmd(&dir)
        .args(["--config", "c.yaml", "small.yaml"])
        .output();
    assert_error(
        "maxInputBytes 100",
        &out,
        EXIT_INPUT,
        &["small.yaml", "50 bytes", "limits.maxInputBytes"],
    );
}

// ---------------------------------------------------------------------------------------------
// Rendering: a repository with an app dir, run through `render` (the generate pipeline)

struct Repo {
    dir: TestDir,
}

impl Repo {
    /// `repo/` (with `.git`) holding a minimal Helm chart in `repo/apps/web`.
    fn helm() -> Repo {
        let dir = TestDir::new();
        dir.mkdir("repo/.git");
        dir.write(
            "repo/apps/web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        );
        dir.write(
            "repo/apps/web/values.yaml",
            "image: nginx:1.27\nx: default\n",
        );
        dir.write(
            "repo/apps/web/templates/pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\n  annotations:\n    x: {{ .Values.x | quote }}\nspec:\n  containers:\n  - name: c\n    image: {{ .Values.image }}\n",
        );
        Repo { dir }
    }
    fn app(&self) -> PathBuf {
        self.dir.join("repo/apps/web")
    }
    fn config(&self, text: &str) -> PathBuf {
        self.dir.write("config.yaml", text)
    }
    /// `pullthrough render repo/apps/web` with the config and helm 3.
    fn render(&self) -> Cmd {
        let mut c = self.dir.cmd();
        c.arg("render").arg(self.app());
        if self.dir.join("config.yaml").exists() {
            c.arg("--config").arg(self.dir.join("config.yaml"));
        }
        c.env("PULLTHROUGH_HELM", tools::helm3());
        c.env("PATH", tools::path_with_tools());
        c
    }
    /// A fake `helm` running `script` (sh).
    fn fake_helm(&self, script: &str) -> PathBuf {
        let p = self.dir.write("bin/helm", format!("#!/bin/sh\n{script}\n"));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }
}

fn base_config() -> String {
    format!("mirror: {MIRROR}\nregistries:\n  docker.io: docker-hub\n")
}

#[test]
fn helm_app_renders_as_a_baseline() {
    let repo = Repo::helm();
    repo.config(&base_config());
    let out = repo.render().stdout_ok();
    assert!(
        out.contains(&format!("image: {MIRROR}/docker-hub/library/nginx:1.27")),
        "{out}"
    );
}

#[test]
fn helm_failure_is_one_line_with_helms_message() {
    let repo = Repo::helm();
    repo.config(&base_config());
    repo.dir.write(
        "repo/apps/web/templates/fail.yaml",
        "{{ fail \"boom: values are wrong\" }}\n",
    );
    let out = repo.render().output();
    assert_error(
        "helm fails",
        &out,
        EXIT_INPUT,
        &[
            "helm3 template",
            "failed exit status 1",
            "boom: values are wrong",
        ],
    );
}

#[test]
fn kustomize_failure_is_one_line_with_its_message() {
    let dir = TestDir::new();
    dir.copy_tree(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/render/kustomize/repo"),
        "repo",
    );
    dir.mkdir("repo/.git");
    let out = dir
        .cmd()
        .arg("render")
        .arg(dir.join("repo/overlays/broken"))
        .env("PATH", tools::path_with_tools())
        .output();
    assert_error(
        "kustomize fails",
        &out,
        EXIT_INPUT,
        &["kustomize", "failed", "does-not-exist.yaml"],
    );
}

/// The processes whose command line holds `token`.
fn processes_with(token: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(token) {
                found.push(format!("{}: {cmdline}", e.file_name().to_string_lossy()));
            }
        }
    }
    found
}

/// A hanging helm (and a child it started in the background) is killed with its process group
/// after `render.timeoutSeconds`; the error names the limit; nothing is left running.
#[test]
fn hanging_helm_is_killed_with_its_process_group() {
    let repo = Repo::helm();
    let token = format!(
        "{}.{}",
        7000 + std::process::id() % 1000,
        std::process::id()
    );
    // GNU sleep takes fractions: the token makes these processes ours to find.
    let helm = repo.fake_helm(&format!("sleep {token} &\ntrap '' TERM\nsleep {token}1"));
    repo.config(&format!(
        "{}render:\n  helm: {}\n  timeoutSeconds: 1\n",
        base_config(),
        helm.display()
    ));
    let started = Instant::now();
    let mut cmd = repo.render();
    cmd.env("PULLTHROUGH_HELM", &helm);
    let out = cmd.output();
    let took = started.elapsed();
    assert_error(
        "helm hangs",
        &out,
        EXIT_INPUT,
        &[
            "did not finish within 1s",
            "process group",
            "render.timeoutSeconds",
        ],
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
    // Killed with SIGKILL, the group is gone; give the kernel a moment to reap.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_with(&token);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "processes left behind: {left:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A chart printing 200 MB: refused by the input limit (default), or by the render output cap
/// when that is lower; both messages name the setting to raise.
#[test]
fn chart_printing_200_mb_is_refused() {
    let repo = Repo::helm();
    let helm = repo.fake_helm("yes 'apiVersion: v1' | head -c 209715200");
    repo.config(&base_config());
    let mut cmd = repo.render();
    cmd.env("PULLTHROUGH_HELM", &helm);
    assert_error(
        "200 MB, default limits",
        &cmd.output(),
        EXIT_INPUT,
        &["limits.maxInputBytes"],
    );
    repo.config(&format!(
        "{}render:\n  maxOutputBytes: 10485760\n",
        base_config()
    ));
    let mut cmd = repo.render();
    cmd.env("PULLTHROUGH_HELM", &helm);
    assert_error(
        "200 MB, 10 MiB cap",
        &cmd.output(),
        EXIT_INPUT,
        &["more than 10485760 bytes", "render.maxOutputBytes"],
    );
}

/// Value files and set-file paths that leave the repository, directly, absolutely, or as a URL:
/// refused, naming the parameter; nothing of the target leaks. Through a symlink: the repository
/// itself is refused before rendering (the next test), whatever names the link.
#[test]
fn value_files_cannot_leave_the_repository() {
    let repo = Repo::helm();
    repo.config(&base_config());
    let cases: Vec<(&str, &str, &str, &[&str])> = vec![
        (
            "dot-dot",
            "--param-array",
            "values-files=../../../etc/passwd",
            &["values-files", "outside repository root"],
        ),
        (
            "deep dot-dot",
            "--param-array",
            "values-files=../../../../../../../../etc/passwd",
            &["values-files", "outside repository root"],
        ),
        (
            "absolute: relative to the repo root",
            "--param-array",
            "values-files=/etc/passwd",
            &["values-files", "not found"],
        ),
        (
            "URL",
            "--param-array",
            "values-files=https://values.example.com/v.yaml",
            &["values-files", "URL scheme 'https' is not allowed"],
        ),
        (
            "file URL",
            "--param-array",
            "values-files=file:///etc/passwd",
            &["values-files", "URL scheme 'file' is not allowed"],
        ),
        (
            "set-file dot-dot",
            "--param-map",
            "set-file.x=../../../etc/passwd",
            &["set-file", "outside repository root"],
        ),
        (
            "set-file absolute",
            "--param-map",
            "set-file.x=/etc/passwd",
            &["set-file", "not found"],
        ),
    ];
    for (name, flag, value, needles) in cases {
        let out = repo.render().args([flag, value]).output();
        let err = assert_error(name, &out, EXIT_INPUT, needles);
        assert!(!err.contains("root:x:0"), "{name}: leaked content: {err}");
    }
}

/// A symlink leaving the repository anywhere in it (a chart template linked to
/// /proc/self/environ, a value file, a directory): the repository is refused before any tool
/// runs, as Argo CD's repo-server refuses it; the link is named, nothing of the target leaks.
#[test]
fn symlinks_leaving_the_repository_refuse_it_before_rendering() {
    let outside = TestDir::new();
    outside.write("outside.yaml", "x: outside-secret\n");
    let rel = "../../../../outside.yaml";
    // (name, link target, link path, extra CLI arguments, words the error must contain)
    type Case<'a> = (&'a str, String, &'a str, &'a [&'a str], &'a [&'a str]);
    let cases: Vec<Case> = vec![
        (
            "chart template to the process environment",
            "/proc/self/environ".into(),
            "repo/apps/web/templates/env.yaml",
            &[],
            &["apps/web/templates/env.yaml", "is absolute"],
        ),
        (
            "value file, absolute",
            "/etc/passwd".into(),
            "repo/apps/web/evil.yaml",
            &["--param-array", "values-files=evil.yaml"],
            &["apps/web/evil.yaml", "is absolute"],
        ),
        (
            "value file, relative",
            rel.into(),
            "repo/apps/web/rel-evil.yaml",
            &["--param-array", "values-files=rel-evil.yaml"],
            &["apps/web/rel-evil.yaml", "rises above the repository root"],
        ),
        (
            "set-file",
            "/etc/passwd".into(),
            "repo/apps/web/evil.yaml",
            &["--param-map", "set-file.x=evil.yaml"],
            &["apps/web/evil.yaml", "is absolute"],
        ),
        (
            "directory",
            "/etc".into(),
            "repo/apps/web/etc-link",
            &["--param-array", "values-files=etc-link/passwd"],
            &["apps/web/etc-link", "is absolute"],
        ),
        (
            "unused, elsewhere in the repository",
            outside.join("outside.yaml").display().to_string(),
            "repo/other/x.yaml",
            &[],
            &["other/x.yaml", "is absolute"],
        ),
    ];
    for (name, target, link, args, needles) in cases {
        let repo = Repo::helm();
        repo.config(&base_config());
        repo.dir.symlink(&target, link);
        let out = repo.render().args(args).output();
        let mut all = vec!["repository: symlink", "refused before rendering"];
        all.extend_from_slice(needles);
        let err = assert_error(name, &out, EXIT_INPUT, &all);
        assert!(
            !err.contains("root:x:0") && !err.contains("outside-secret") && !err.contains("PATH="),
            "{name}: leaked content: {err}"
        );
    }
    // A link inside the repository is fine (and followed by Helm).
    let repo = Repo::helm();
    repo.config(&base_config());
    repo.dir
        .write("repo/shared/values.yaml", "x: from-shared\n");
    repo.dir
        .symlink("../../shared/values.yaml", "repo/apps/web/shared.yaml");
    let out = repo
        .render()
        .args(["--param-array", "values-files=shared.yaml"])
        .output();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("from-shared"),
        "{out:?}"
    );
}

/// A plain-directory app with a symlinked directory or file pointing out of the repository.
#[test]
fn directory_app_symlinks_cannot_leave_the_repository() {
    let outside = TestDir::new();
    outside.write(
        "secret/leak.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: leak}\n",
    );
    for (name, target, link, recurse) in [
        (
            "symlinked directory",
            outside.join("secret"),
            "repo/app/linked",
            true,
        ),
        (
            "symlinked file",
            outside.join("secret/leak.yaml"),
            "repo/app/linked.yaml",
            false,
        ),
    ] {
        let dir = TestDir::new();
        dir.mkdir("repo/.git");
        dir.write("repo/app/pod.yaml", pod("nginx"));
        dir.symlink(&target, link);
        let out = dir
            .cmd()
            .arg("render")
            .arg(dir.join("repo/app"))
            .args([
                "--param",
                &format!("directory-recurse={recurse}"),
                "--param",
                &format!("mirror={MIRROR}"),
            ])
            .output();
        let err = assert_error(
            name,
            &out,
            EXIT_INPUT,
            &["repository: symlink", "refused before rendering"],
        );
        assert!(!err.contains("kind: Secret"), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters, through `generate` as argocd-cmp-server runs it

fn generate(repo: &Repo, params_json: &str, env: &[(&str, &str)]) -> Output {
    let mut c = Cmd::new();
    c.current_dir(repo.app())
        .arg("generate")
        .env("PULLTHROUGH_CONFIG", repo.dir.join("config.yaml"))
        .env("PULLTHROUGH_HELM", tools::helm3())
        .env("ARGOCD_APP_NAME", "web")
        .env("ARGOCD_APP_NAMESPACE", "prod")
        .env("ARGOCD_APP_SOURCE_PATH", "apps/web")
        .env("ARGOCD_APP_PARAMETERS", params_json);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output()
}

fn allow_all_config() -> String {
    format!(
        "{}overrides:\n  allow: [\"*\"]\nallowedMirrors: [\"*.dkr.ecr.*.amazonaws.com\"]\n",
        base_config()
    )
}

#[test]
fn bad_parameters_are_usage_errors_naming_the_parameter() {
    let repo = Repo::helm();
    repo.config(&allow_all_config());
    let cases: Vec<(&str, &str, &[&str])> = vec![
        (
            "malformed JSON",
            r#"[{"name":"mirror","string":"#,
            &["ARGOCD_APP_PARAMETERS", "JSON"],
        ),
        (
            "an object, not an array",
            r#"{"name":"mirror"}"#,
            &["ARGOCD_APP_PARAMETERS"],
        ),
        ("a number", "42", &["ARGOCD_APP_PARAMETERS"]),
        (
            "entry without a name",
            r#"[{"string":"x"}]"#,
            &["ARGOCD_APP_PARAMETERS", "no name"],
        ),
        (
            "unknown field",
            r#"[{"name":"mirror","string":"x","bogus":1}]"#,
            &["ARGOCD_APP_PARAMETERS"],
        ),
        (
            "wrong collection: array for a string",
            r#"[{"name":"mirror","array":["x"]}]"#,
            &["parameter mirror", "string"],
        ),
        (
            "wrong collection: string for a map",
            r#"[{"name":"registries","string":"x"}]"#,
            &["parameter registries", "map"],
        ),
        (
            "wrong collection: map for an array",
            r#"[{"name":"values-files","map":{"a":"b"}}]"#,
            &["parameter values-files", "array"],
        ),
        (
            "unknown name",
            r#"[{"name":"bogus","string":"x"}]"#,
            &["parameter bogus", "unknown"],
        ),
        (
            "given twice",
            r#"[{"name":"mirror","string":"a.example.com"},{"name":"mirror","string":"b.example.com"}]"#,
            &["parameter mirror", "more than once"],
        ),
        (
            "not a boolean",
            r#"[{"name":"enabled","string":"yes"}]"#,
            &["parameter enabled", "\"true\" or \"false\""],
        ),
        (
            "mirror outside allowedMirrors",
            r#"[{"name":"mirror","string":"evil.example.com"}]"#,
            &["parameter mirror", "allowedMirrors"],
        ),
        (
            "registry destination outside allowedMirrors",
            r#"[{"name":"registries","map":{"docker.io":"evil.example.com/hub"}}]"#,
            &["parameter registries", "allowedMirrors"],
        ),
        (
            "invalid exclude glob",
            r#"[{"name":"exclude","array":["docker.io/[abc"]}]"#,
            &["parameter exclude", "invalid glob"],
        ),
        (
            "invalid mirror",
            r#"[{"name":"mirror","string":"UPPER CASE!.dkr.ecr.x.amazonaws.com"}]"#,
            &["parameter mirror"],
        ),
        (
            "unknown source type",
            r#"[{"name":"source-type","string":"jsonnet"}]"#,
            &["parameter source-type"],
        ),
    ];
    for (name, json, needles) in cases {
        assert_error(name, &generate(&repo, json, &[]), EXIT_USAGE, needles);
    }
    // The ARGOCD_ENV_ fallback is checked the same way.
    assert_error(
        "env: bad array",
        &generate(&repo, "null", &[("ARGOCD_ENV_VALUES_FILES", "[1, 2")]),
        EXIT_USAGE,
        &["ARGOCD_ENV_VALUES_FILES"],
    );
    assert_error(
        "env: bad map",
        &generate(&repo, "null", &[("ARGOCD_ENV_SET", "novalue")]),
        EXIT_USAGE,
        &["ARGOCD_ENV_SET"],
    );
    assert_error(
        "env: mirror outside allowedMirrors",
        &generate(&repo, "null", &[("ARGOCD_ENV_MIRROR", "evil.example.com")]),
        EXIT_USAGE,
        &["ARGOCD_ENV_MIRROR", "allowedMirrors"],
    );
    // A directory-include glob is a render-side parameter; still one line naming it.
    let out = generate(
        &repo,
        r#"[{"name":"source-type","string":"directory"},{"name":"directory-include","array":["[a"]}]"#,
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success()
            && out.stdout.is_empty()
            && err.lines().count() == 1
            && err.contains("include")
            && err.contains("[a"),
        "{err}"
    );
}

/// Issue 18: `allowedMirrors` matches the host label by label, the port, and the path component
/// by component; `*` never crosses `.`, `:` or `/`, and the value is first read as the
/// `host[:port][/path]` the rules will use (userinfo, trailing dots, `..`, `//`, non-ASCII and
/// schemes are not locations at all). Each hostile spelling: one line naming the parameter and
/// the sidecar's allowedMirrors, exit 1, nothing on stdout.
#[test]
fn allowed_mirrors_never_cross_a_host_boundary() {
    let repo = Repo::helm();
    repo.config(&format!(
        "{}overrides:\n  allow: [\"*\"]\nallowedMirrors: [\"111111111111.dkr.ecr.*.amazonaws.com\", \"mirror.example.com/cache/**\"]\n",
        base_config()
    ));
    let list = "111111111111.dkr.ecr.*.amazonaws.com, mirror.example.com/cache/**";
    let mirror_param = |m: &str| serde_json::json!([{"name": "mirror", "string": m}]).to_string();
    let refused = |origin: &str, what: &str, dest: &str, why: &str| {
        format!("pullthrough: {origin}: {what} {dest:?} is not in the sidecar's allowedMirrors ({list}){why}\n")
    };
    let invalid =
        |m: &str| format!(": {m:?} does not make valid image names: invalid reference format");
    // (mirror parameter, why it is refused beyond "not in allowedMirrors")
    let hostile: Vec<(&str, String)> = vec![
        // The issue's two spellings: `*` would have crossed `.`/`:`/`/`.
        (
            "111111111111.dkr.ecr.attacker.io/x.amazonaws.com",
            String::new(),
        ),
        (
            "111111111111.dkr.ecr.attacker.io:443/x.amazonaws.com",
            String::new(),
        ),
        // The README's old `…amazonaws.com*` example admitted this one.
        (
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com.attacker.io",
            String::new(),
        ),
        ("111111111111.dkr.ecr.a.b.amazonaws.com", String::new()),
        (
            "111111111111.dkr.ecr.ATTACKER.io/x.amazonaws.com",
            String::new(),
        ),
        // No port and no path in the pattern: none allowed.
        (
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com:443",
            String::new(),
        ),
        (
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/x",
            String::new(),
        ),
        // Path components, not string prefixes.
        ("mirror.example.com/cachex", String::new()),
        ("mirror.example.com/x/cache", String::new()),
        ("mirror.example.com", String::new()),
        ("[::1]:5000", String::new()),
        // Not a location at all.
        (
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com@attacker.io",
            invalid("111111111111.dkr.ecr.eu-west-1.amazonaws.com@attacker.io"),
        ),
        (
            "attacker.io@111111111111.dkr.ecr.eu-west-1.amazonaws.com",
            invalid("attacker.io@111111111111.dkr.ecr.eu-west-1.amazonaws.com"),
        ),
        (
            "user:pass@111111111111.dkr.ecr.eu-west-1.amazonaws.com",
            invalid("user:pass@111111111111.dkr.ecr.eu-west-1.amazonaws.com"),
        ),
        (
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com.",
            invalid("111111111111.dkr.ecr.eu-west-1.amazonaws.com."),
        ),
        (
            "111111111111.dkr.ecr..amazonaws.com",
            invalid("111111111111.dkr.ecr..amazonaws.com"),
        ),
        (
            "111111111111.dkr.ecr.eu-west-1.amazonаws.com",
            invalid("111111111111.dkr.ecr.eu-west-1.amazonаws.com"),
        ),
        (
            "mirror.example.com/cache/../../attacker",
            invalid("mirror.example.com/cache/../../attacker"),
        ),
        (
            "mirror.example.com/cache//x",
            invalid("mirror.example.com/cache//x"),
        ),
        ("//attacker.io/x", invalid("//attacker.io/x")),
        (
            "https://111111111111.dkr.ecr.eu-west-1.amazonaws.com",
            invalid("https://111111111111.dkr.ecr.eu-west-1.amazonaws.com"),
        ),
        (
            " 111111111111.dkr.ecr.eu-west-1.amazonaws.com",
            invalid(" 111111111111.dkr.ecr.eu-west-1.amazonaws.com"),
        ),
        (
            "mirror.example.com/cache\nx",
            invalid("mirror.example.com/cache\nx"),
        ),
        (
            "attacker/x.amazonaws.com",
            ": \"attacker/x.amazonaws.com\" is not a registry host[:port][/path]".to_string(),
        ),
        (
            "",
            ": \"\" is not a registry host[:port][/path]".to_string(),
        ),
    ];
    for (m, why) in &hostile {
        let out = generate(&repo, &mirror_param(m), &[]);
        let err = assert_error(m, &out, EXIT_USAGE, &["parameter mirror", "allowedMirrors"]);
        assert_eq!(
            err,
            refused("parameter mirror", "mirror", m, why),
            "mirror {m:?}"
        );
    }
    // The same check for the ARGOCD_ENV_ fallback and for full `registries` destinations; a
    // leading `/` does not turn a full destination into an unchecked relative prefix.
    let env = generate(
        &repo,
        "null",
        &[(
            "ARGOCD_ENV_MIRROR",
            "111111111111.dkr.ecr.attacker.io/x.amazonaws.com",
        )],
    );
    let err = assert_error("env mirror", &env, EXIT_USAGE, &[]);
    assert_eq!(
        err,
        refused(
            "ARGOCD_ENV_MIRROR",
            "mirror",
            "111111111111.dkr.ecr.attacker.io/x.amazonaws.com",
            ""
        )
    );
    for (raw, shown) in [
        (
            "111111111111.dkr.ecr.attacker.io/x.amazonaws.com",
            "111111111111.dkr.ecr.attacker.io/x.amazonaws.com",
        ),
        ("/evil.example.com/hub", "evil.example.com/hub"),
        ("evil.example.com/hub/", "evil.example.com/hub"),
        (
            "mirror.example.com/cachex/hub",
            "mirror.example.com/cachex/hub",
        ),
    ] {
        let json =
            serde_json::json!([{"name": "registries", "map": {"docker.io": raw}}]).to_string();
        let err = assert_error(raw, &generate(&repo, &json, &[]), EXIT_USAGE, &[]);
        assert_eq!(
            err,
            refused("parameter registries.docker.io", "destination", shown, ""),
            "destination {raw:?}"
        );
    }
    // Allowed: each pattern's own locations, any case of the host, a trailing `/`, a `*` label
    // being any one label (punycode included: still a subdomain of amazonaws.com).
    for (m, image) in [
        (
            "111111111111.dkr.ecr.us-east-1.amazonaws.com",
            "111111111111.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27",
        ),
        (
            "111111111111.DKR.ECR.us-east-1.amazonaws.com",
            "111111111111.DKR.ECR.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27",
        ),
        (
            "111111111111.dkr.ecr.xn--w-east-1-abc.amazonaws.com",
            "111111111111.dkr.ecr.xn--w-east-1-abc.amazonaws.com/docker-hub/library/nginx:1.27",
        ),
        (
            "111111111111.dkr.ecr.us-east-1.amazonaws.com/",
            "111111111111.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27",
        ),
        (
            "mirror.example.com/cache",
            "mirror.example.com/cache/docker-hub/library/nginx:1.27",
        ),
        (
            "mirror.example.com/cache/team-a",
            "mirror.example.com/cache/team-a/docker-hub/library/nginx:1.27",
        ),
    ] {
        let out = generate(&repo, &mirror_param(m), &[]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "mirror {m:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("image: {image}\n")),
            "mirror {m:?}: {stdout}"
        );
    }
    let json = serde_json::json!([{"name": "registries", "map": {"docker.io": "mirror.example.com/cache/hub"}}]).to_string();
    let out = generate(&repo, &json, &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("image: mirror.example.com/cache/hub/library/nginx:1.27\n"),
        "{out:?}"
    );
}

/// An `allowedMirrors` pattern that is not `host[:port][/path]` is a config error at its place.
#[test]
fn bad_allowed_mirrors_patterns_are_config_errors() {
    let repo = Repo::helm();
    for (pattern, msg) in [
        ("*.example.com*/**x", "`**` is only allowed as a whole path component"),
        ("a?.example.com", "'?' is not allowed (a pattern is host[:port][/path]; `*` is the only wildcard)"),
        ("**.example.com", "`**` is only allowed as a whole path component; in a host label `*` matches within the label"),
        ("example.com:x", "port \"x\" must be digits or `*`"),
    ] {
        let cfg = repo.config(&format!("{}allowedMirrors: [{pattern:?}]\n", base_config()));
        let out = generate(&repo, "null", &[]);
        let err = assert_error(pattern, &out, EXIT_USAGE, &[]);
        let want = format!("pullthrough: {}: 4:18: allowedMirrors pattern {pattern:?}: {msg}\n", cfg.display());
        assert_eq!(err, want);
    }
}

#[test]
fn null_and_empty_parameters_mean_none() {
    let repo = Repo::helm();
    repo.config(&allow_all_config());
    for json in ["null", "", "[]"] {
        let out = generate(&repo, json, &[]);
        assert!(
            out.status.success(),
            "{json:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout)
            .contains(&format!("{MIRROR}/docker-hub/library/nginx:1.27")));
    }
}

#[test]
fn forbidden_override_names_the_parameter_and_the_config_key() {
    let repo = Repo::helm();
    repo.config(&format!(
        "{}overrides:\n  allow: [enabled]\n",
        base_config()
    ));
    let out = generate(
        &repo,
        r#"[{"name":"mirror","string":"x.dkr.ecr.eu-west-1.amazonaws.com"}]"#,
        &[],
    );
    assert_error(
        "param",
        &out,
        EXIT_USAGE,
        &["parameter mirror", "overrides.allow"],
    );
    let out = generate(&repo, "null", &[("ARGOCD_ENV_NAMESPACE", "kube-system")]);
    assert_error(
        "env",
        &out,
        EXIT_USAGE,
        &["ARGOCD_ENV_NAMESPACE", "overrides.allow"],
    );
    // A value's form is checked when it is read, like its name and collection type, before the
    // policy: a forbidden boolean that is not a boolean gets the form's error.
    let out = generate(&repo, r#"[{"name":"skip-crds","string":"maybe"}]"#, &[]);
    assert_error(
        "bad and forbidden",
        &out,
        EXIT_USAGE,
        &["parameter skip-crds: expected \"true\" or \"false\", got \"maybe\""],
    );
    let out = generate(&repo, r#"[{"name":"skip-crds","string":"true"}]"#, &[]);
    assert_error(
        "forbidden",
        &out,
        EXIT_USAGE,
        &["parameter skip-crds: not allowed by the sidecar config"],
    );
}

/// Shell metacharacters in every string an app can pass to a tool are inert: argv only, never a
/// shell. Each run either renders the value literally or fails cleanly; no canary file appears.
#[test]
fn shell_metacharacters_in_parameters_are_inert() {
    let repo = Repo::helm();
    repo.config(&allow_all_config());
    let canary = repo.dir.join("canary");
    let c = canary.display().to_string();
    let payloads = [
        format!("$(touch {c})"),
        format!("`touch {c}`"),
        format!("; touch {c}"),
        format!("x && touch {c}"),
        format!("x | touch {c}"),
        format!("x\ntouch {c}\n"),
        format!("${{IFS}}touch${{IFS}}{c}"),
        format!("'\"; touch {c}; echo \""),
    ];
    for p in &payloads {
        let j = serde_json::to_string(p).unwrap();
        let param_sets = [
            format!(r#"[{{"name":"release-name","string":{j}}}]"#),
            format!(r#"[{{"name":"namespace","string":{j}}}]"#),
            format!(r#"[{{"name":"set","map":{{"x":{j}}}}}]"#),
            format!(r#"[{{"name":"set-string","map":{{"x":{j}}}}}]"#),
            format!(r#"[{{"name":"set","map":{{{j}:"v"}}}}]"#),
            format!(
                r#"[{{"name":"values","string":{}}}]"#,
                serde_json::to_string(&format!("x: {j}\n")).unwrap()
            ),
            format!(r#"[{{"name":"kube-version","string":{j}}}]"#),
            format!(r#"[{{"name":"api-versions","array":[{j}]}}]"#),
            format!(r#"[{{"name":"values-files","array":[{j}]}}]"#),
            format!(r#"[{{"name":"exclude","array":[{j}]}}]"#),
        ];
        for params in &param_sets {
            let out = generate(&repo, params, &[("ARGOCD_ENV_RELEASE_NAME", p)]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.success() {
                assert!(
                    stderr.trim().is_empty() || stderr.contains("warning"),
                    "{params}: {stderr}"
                );
            } else {
                assert!(out.stdout.is_empty(), "{params}: failure with output");
                assert_eq!(stderr.lines().count(), 1, "{params}: {stderr}");
            }
            assert!(
                !canary.exists(),
                "{params}: the canary file was created: a shell ran"
            );
        }
    }
    // Literal: a --set value with `$(...)` reaches the manifest as text.
    let j = serde_json::to_string(&payloads[0]).unwrap();
    let out = generate(
        &repo,
        &format!(r#"[{{"name":"set-string","map":{{"x":{j}}}}}]"#),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("x: \"$(touch {c})\"")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!canary.exists());
}

// ---------------------------------------------------------------------------------------------
// Config: every key wrong in turn

#[test]
fn every_config_key_wrong_in_turn() {
    let cases: Vec<(&str, &[&str])> = vec![
        ("mirror: [a]", &["c.yaml: 1:"]),
        ("mirror: 'not a host!'", &["c.yaml: mirror"]),
        ("registries: [a]", &["c.yaml: 1:"]),
        ("registries: {docker.io: [a]}", &["c.yaml: 1:"]),
        (
            "registries: {docker.io: 'bad dest!/x'}",
            &["registries.docker.io"],
        ),
        ("exclude: x", &["c.yaml: 1:"]),
        ("exclude: ['[a']", &["c.yaml: exclude", "invalid glob"]),
        ("namespaces: [a]", &["c.yaml: 1:"]),
        ("namespaces: {include: 5}", &["c.yaml: 1:"]),
        (
            "namespaces: {include: ['[a']}",
            &["namespaces.include", "invalid glob"],
        ),
        ("namespaces: {exclude: {a: b}}", &["c.yaml: 1:"]),
        (
            "namespaces: {exclude: ['[a']}",
            &["namespaces.exclude", "invalid glob"],
        ),
        (
            "namespaces: {bogus: []}",
            &["c.yaml: 1:", "unknown field `bogus`"],
        ),
        ("rules: {match: a}", &["c.yaml: 1:"]),
        ("rules: [{match: a}]", &["c.yaml: 1:", "replace"]),
        ("rules: [{replace: a}]", &["c.yaml: 1:", "match"]),
        (
            "rules: [{match: '(', replace: x}]",
            &["c.yaml: rules[0].match", "invalid regex"],
        ),
        (
            "rules: [{match: a, replace: x, bogus: 1}]",
            &["c.yaml: 1:", "unknown field `bogus`"],
        ),
        ("dockerHubAliases: docker.io", &["c.yaml: 1:"]),
        ("strict: maybe", &["c.yaml: 1:"]),
        ("enabled: 2", &["c.yaml: 1:"]),
        ("allowEmpty: [true]", &["c.yaml: 1:"]),
        ("overrides: [a]", &["c.yaml: 1:"]),
        ("overrides: {allow: mirror}", &["c.yaml: 1:"]),
        (
            "overrides: {deny: [mirror]}",
            &["c.yaml: 1:", "unknown field `deny`"],
        ),
        ("allowedMirrors: '*'", &["c.yaml: 1:"]),
        ("render: []", &["c.yaml: 1:"]),
        ("render: {helm: [a]}", &["c.yaml: 1:"]),
        ("render: {kustomize: {a: b}}", &["c.yaml: 1:"]),
        (
            "render: {kustomizeBuildOptions: --enable-helm}",
            &["c.yaml: 1:"],
        ),
        ("render: {valueFileSchemes: https}", &["c.yaml: 1:"]),
        ("render: {timeoutSeconds: 1.5}", &["c.yaml: 1:"]),
        ("render: {timeoutSeconds: -1}", &["c.yaml: 1:"]),
        ("render: {maxOutputBytes: lots}", &["c.yaml: 1:"]),
        (
            "render: {bogus: 1}",
            &["c.yaml: 1:", "unknown field `bogus`"],
        ),
        ("limits: 5", &["c.yaml: 1:"]),
        ("limits: {maxInputBytes: x}", &["c.yaml: 1:"]),
        ("limits: {maxDepth: -1}", &["c.yaml: 1:"]),
        (
            "limits: {bogus: 1}",
            &["c.yaml: 1:", "unknown field `bogus`"],
        ),
        ("fields: x", &["c.yaml: 1:"]),
        (
            "profiles: [no-such-profile]",
            &["c.yaml: profiles", "unknown profile"],
        ),
        ("bogus: 1", &["c.yaml: 1:1", "unknown field `bogus`"]),
        ("mirror: a\nmirror: b", &["c.yaml: 2:"]),
        ("{", &["c.yaml: 1:"]),
        ("- a\n- b", &["c.yaml: 1:"]),
        ("\"unterminated", &["c.yaml: 1:"]),
    ];
    for (config, needles) in cases {
        let dir = TestDir::new();
        dir.write("c.yaml", config);
        dir.write("pod.yaml", pod("nginx"));
        let out = dir
            .cmd()
            .args(["rewrite", "--config", "c.yaml", "pod.yaml"])
            .output();
        assert_error(config, &out, EXIT_USAGE, needles);
        // The plugin path reads the same file the same way.
        dir.mkdir("app");
        dir.write("app/pod.yaml", pod("nginx"));
        let out = dir
            .cmd()
            .current_dir(dir.join("app"))
            .arg("generate")
            .env("PULLTHROUGH_CONFIG", dir.join("c.yaml"))
            .output();
        assert_error(config, &out, EXIT_USAGE, &["c.yaml"]);
    }
}

/// Regexes come only from the config file (no parameter carries one); their compiled size is
/// capped so that a pathological rule fails at start-up with a message naming the limit.
#[test]
fn regex_rules_invalid_or_too_large() {
    let big = "a".repeat(1 << 20);
    let cases: Vec<(String, &[&str])> = vec![
        (
            "rules: [{match: '(unclosed', replace: x}]".into(),
            &["c.yaml: rules[0].match", "invalid regex", "unclosed group"],
        ),
        (
            "rules: [{match: '\\\\p{NoSuchClass}', replace: x}]".into(),
            &["c.yaml: rules[0].match", "invalid regex"],
        ),
        (
            format!("rules: [{{match: '{big}', replace: x}}]"),
            &["c.yaml: rules[0].match", "limits.maxRegexBytes"],
        ),
        (
            "rules: [{match: 'a{1000}{1000}', replace: x}]".into(),
            &["c.yaml: rules[0].match", "limits.maxRegexBytes"],
        ),
    ];
    for (config, needles) in cases {
        let dir = TestDir::new();
        dir.write("c.yaml", &config);
        let out = dir
            .cmd()
            .args(["rewrite", "--config", "c.yaml"])
            .stdin(pod("nginx"))
            .output();
        assert_error(&config[..config.len().min(60)], &out, EXIT_USAGE, needles);
    }
    // Raised, the 1 MB literal compiles and applies.
    let dir = TestDir::new();
    dir.write(
        "c.yaml",
        format!("limits: {{maxRegexBytes: 104857600}}\nrules: [{{match: '{big}', replace: x}}]\n"),
    );
    let out = dir
        .cmd()
        .args(["rewrite", "--config", "c.yaml"])
        .stdin(pod("nginx"))
        .stdout_ok();
    assert_eq!(out, pod("nginx"));
}

/// The seed chart's values.yaml with a regex lacking a capture group: the replacement needs $1.
#[test]
fn seed_values_regex_without_capture_group() {
    let dir = TestDir::new();
    dir.write(
        "values.yaml",
        "common:\n  ecrRegistryFullname: 111111111111.dkr.ecr.eu-west-1.amazonaws.com\nregistriesToOverwrite:\n  docker.io:\n    upstreamUrlRegexp: '^docker\\\\.io/.*$'\n    ecrPrefixName: docker-hub\n",
    );
    let out = dir
        .cmd()
        .args(["rewrite", "--config", "values.yaml"])
        .stdin(pod("nginx"))
        .output();
    assert_error(
        "seed without capture",
        &out,
        EXIT_USAGE,
        &[
            "values.yaml",
            "registriesToOverwrite.docker.io.upstreamUrlRegexp",
            "capture group",
        ],
    );
    dir.write(
        "values.yaml",
        "common:\n  ecrRegistryFullname: 5\n  bogus: 1\nregistriesToOverwrite: {}\n",
    );
    let out = dir
        .cmd()
        .args(["rewrite", "--config", "values.yaml"])
        .stdin(pod("nginx"))
        .output();
    assert_error("seed unknown key", &out, EXIT_USAGE, &["values.yaml: "]);
}

// ---------------------------------------------------------------------------------------------
// Nothing inside the checkout is modified

/// Every entry under `root`: relative path → (kind, content or link target, mode).
fn tree(root: &Path) -> BTreeMap<String, (char, Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (char, Vec<u8>, u32)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let mode = meta.permissions().mode();
            if meta.file_type().is_symlink() {
                out.insert(
                    rel,
                    (
                        'l',
                        std::fs::read_link(&p)
                            .unwrap()
                            .into_os_string()
                            .into_encoded_bytes(),
                        mode,
                    ),
                );
            } else if meta.is_dir() {
                out.insert(rel, ('d', Vec::new(), mode));
                walk(root, &p, out);
            } else {
                out.insert(rel, ('f', std::fs::read(&p).unwrap(), mode));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn changed(
    before: &BTreeMap<String, (char, Vec<u8>, u32)>,
    after: &BTreeMap<String, (char, Vec<u8>, u32)>,
) -> Vec<String> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect()
}

/// `init` + `generate` as argocd-cmp-server runs them (cwd = app dir, Argo CD env).
fn init_and_generate(checkout: &TestDir, app_rel: &str, source_path: &str) -> (Output, Output) {
    let run = |cmd: &str| {
        let mut c = Cmd::new();
        c.current_dir(checkout.join(app_rel))
            .arg(cmd)
            .env("PULLTHROUGH_CONFIG", checkout.join("config.yaml"))
            .env("PULLTHROUGH_HELM", tools::helm3())
            .env("PATH", tools::path_with_tools())
            .env("HOME", checkout.join("home"))
            .env("ARGOCD_APP_NAME", "web")
            .env("ARGOCD_APP_NAMESPACE", "prod")
            .env("ARGOCD_APP_SOURCE_PATH", source_path)
            .env("KUBE_VERSION", "1.30.0")
            .env("ARGOCD_APP_PARAMETERS", "null");
        c.output()
    };
    (run("init"), run("generate"))
}

#[test]
fn the_checkout_is_not_modified() {
    for (fixture, app) in [
        ("tests/data/repos/helm-repo", "apps/web"),
        ("tests/data/repos/kustomize-repo", "apps/web"),
        ("tests/data/repos/dir-repo", "apps/web"),
        ("tests/data/render/helm/repo", "apps/web"),
        ("tests/data/render/kustomize/repo", "overlays/prod"),
        ("tests/data/render/directory/repo", "app"),
    ] {
        let checkout = TestDir::new();
        checkout.copy_tree(Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture), "repo");
        checkout.mkdir("home");
        checkout.write("config.yaml", allow_all_config());
        let root = checkout.join("repo");
        let before = tree(&root);
        let (init, gen) = init_and_generate(&checkout, &format!("repo/{app}"), app);
        assert!(
            init.status.success(),
            "{fixture}: init: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        assert!(
            gen.status.success(),
            "{fixture}: generate: {}",
            String::from_utf8_lossy(&gen.stderr)
        );
        assert!(!gen.stdout.is_empty());
        let diff = changed(&before, &tree(&root));
        assert!(
            diff.is_empty(),
            "{fixture}: init+generate modified the checkout: {diff:?}"
        );
    }
}

/// The one exception, as in Argo CD: `init` runs `helm dependency build` when `charts/` lacks a
/// declared dependency; Helm then writes `charts/<dep>.tgz` (and `Chart.lock`) in the app dir,
/// exactly where Argo CD's own repo-server writes them. `generate` writes nothing.
#[test]
fn init_writes_only_missing_chart_dependencies() {
    let checkout = TestDir::new();
    checkout.copy_tree(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/render/helm-deps/repo"),
        "repo",
    );
    checkout.mkdir("home");
    checkout.write("config.yaml", allow_all_config());
    let root = checkout.join("repo");
    let before = tree(&root);
    let (init, gen) = init_and_generate(&checkout, "repo/apps/web", "apps/web");
    assert!(
        init.status.success(),
        "init: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    assert!(
        gen.status.success(),
        "generate: {}",
        String::from_utf8_lossy(&gen.stderr)
    );
    let after_init = tree(&root);
    let diff = changed(&before, &after_init);
    assert!(!diff.is_empty(), "init built no dependency");
    for d in &diff {
        assert!(
            d == "apps/web/charts"
                || d.starts_with("apps/web/charts/")
                || d == "apps/web/Chart.lock",
            "init wrote {d}"
        );
    }
    // A second generate changes nothing either.
    let (_, gen2) = init_and_generate(&checkout, "repo/apps/web", "apps/web");
    assert_eq!(gen2.stdout, gen.stdout, "generate is deterministic");
    assert!(changed(&after_init, &tree(&root)).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Directory apps, read file by file as Argo CD's getObjsFromYAMLOrJSON reads them (issue 18.2)

/// `repo/app` with `files`, rendered with `pullthrough render` (directory source).
fn render_dir(files: &[(&str, &str)]) -> (TestDir, Output) {
    let dir = TestDir::new();
    dir.mkdir("repo/.git");
    dir.mkdir("repo/app");
    for (name, text) in files {
        dir.write(format!("repo/app/{name}"), text);
    }
    dir.write("config.yaml", base_config());
    let out = dir
        .cmd()
        .arg("render")
        .arg(dir.join("repo/app"))
        .arg("--config")
        .arg(dir.join("config.yaml"))
        .env("PULLTHROUGH_JSONNET", tools::jsonnet())
        .output();
    (dir, out)
}

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

/// Unrelated YAML (no `kind`, a list, a scalar, not YAML at all) without the three markers is
/// skipped with a warning naming it; the objects of the other files come out, JSON first or not,
/// and Go's reader of plugin output (the oracle) reads exactly them.
#[test]
fn directory_skips_unrelated_yaml_and_reads_json_anywhere() {
    let first_json = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "annotations": {"u": "https://x/y\u00e9"}}}"#;
    let later_json = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}}"#;
    let (_dir, out) = render_dir(&[
        ("a.json", first_json),
        (
            "b-values.yaml",
            "replicaCount: 2\nimage: {repository: nginx}\n",
        ),
        ("c-list.yaml", "- a\n- b\n"),
        (
            "c-objects.yaml",
            &format!("{}---\n---\n{}", cm("c1"), cm("c2")),
        ),
        ("d.json", later_json),
        ("e-scalar.yaml", "just text\n"),
        ("f-template.yaml", "name: {{ .Values.name }\n"),
        ("g-null.yaml", "~\n"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for skipped in [
        "skipped b-values.yaml:1:1: document 1 is a mapping without a string `kind`",
        "skipped c-list.yaml:1:1: document 1 is a sequence",
        "skipped e-scalar.yaml:1:1: document 1 is a scalar",
        "skipped f-template.yaml:1:",
    ] {
        assert!(
            stderr.contains(skipped),
            "stderr lacks {skipped:?}:\n{stderr}"
        );
    }
    assert_eq!(stderr.lines().count(), 4, "{stderr}");
    let docs = util::oracle::read_bytes(&out.stdout);
    let names: Vec<String> = docs
        .iter()
        .map(|d| {
            let json = d
                .json
                .as_ref()
                .unwrap_or_else(|| panic!("oracle error {:?}", d.error));
            json["metadata"]["name"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(names, ["a", "c1", "c2", "d"]);
    assert_eq!(
        docs[0].json.as_ref().unwrap()["metadata"]["annotations"]["u"],
        "https://x/yé"
    );
}

/// (case, files, the error line's start)
type FileCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

/// Files Argo CD fails the app on: objects followed by a non-object, a non-object in a file
/// with the three markers, a JSON stream in a YAML file, and JSON escapes go-yaml refuses (in any
/// JSON file: go-yaml reads every document of a plugin's output). One line naming the file, line and column.
#[test]
fn directory_files_argo_cd_refuses() {
    let bad_later = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "z", "annotations": {"u": "a\/b"}}}"#;
    let surrogate = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "z", "annotations": {"u": "\ud83d\ude00"}}}"#;
    let json_stream = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"s1\"}}\n{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"s2\"}}\n";
    let objects_then_values = format!("{}---\nfoo: 1\n", cm("ok"));
    let marked = "apiVersion: v1\nkind: [ConfigMap\nmetadata: {}\n";
    let a = cm("a");
    #[rustfmt::skip]
    let cases: Vec<FileCase> = vec![
        ("objects then values", vec![("a.yaml", &objects_then_values)],
         "pullthrough: directory: a.yaml:6:1: document 2 is a mapping without a string `kind` (not a Kubernetes object), after Kubernetes objects in the same file; Argo CD fails the app on it"),
        ("markers but not an object", vec![("a.yaml", marked)],
         "pullthrough: directory: a.yaml:3:9: document 1 is not valid YAML: illegal placement of ':' indicator, in a file that holds apiVersion:, kind: and metadata:; Argo CD fails the app on it"),
        ("JSON stream in a YAML file", vec![("a.yaml", &a), ("s.yaml", json_stream)],
         "pullthrough: directory: s.yaml:2:1: a second JSON value follows the first without a `---` line between them"),
        ("\\/ in the first JSON file", vec![("z.json", bad_later), ("a.yaml", &a)],
         "pullthrough: directory: z.json:1:92: a `\\/` escape: Argo CD reads a plugin's output with go-yaml, which refuses it where its JSON reader of a native directory app does not (write the character itself)"),
        ("surrogate in a later JSON file", vec![("a.yaml", &a), ("z.json", surrogate)],
         "pullthrough: directory: z.json:1:91: a surrogate `\\u` escape"),
        ("Jsonnet evaluation error", vec![("a.yaml", &a), ("b.jsonnet", "error 'boom'")],
         "pullthrough: directory: 'b.jsonnet': jsonnet evaluation failed: RUNTIME ERROR: boom | "),
        ("Jsonnet output without kind", vec![("a.yaml", &a), ("b.jsonnet", "[{a: 1}]")],
         "pullthrough: directory: 'b.jsonnet': the jsonnet output is an array whose element 0 is an object without a string `kind`"),
    ];
    for (name, files, want) in cases {
        let (_dir, out) = render_dir(&files);
        let stderr = assert_error(name, &out, EXIT_INPUT, &[]);
        assert!(stderr.starts_with(want), "case {name}: {stderr}");
    }
}

/// A Jsonnet directory app through the binary: the `directory-jsonnet-*` parameters reach
/// jsonnet, the objects join the stream after a JSON file (Go's reader of plugin output, the
/// oracle, reads exactly them), and their images are rewritten. `JSONNET_PATH` in the sidecar's
/// environment is not a search path (Argo CD's VM never reads it).
#[test]
fn jsonnet_app_through_the_binary() {
    let dir = TestDir::new();
    dir.mkdir("repo/.git");
    dir.write(
        "repo/app/a.json",
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}"#,
    );
    dir.write(
        "repo/app/b.jsonnet",
        "local pod = import 'pod.libsonnet';\nfunction(name) [pod(name, std.extVar('image')), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n' }, data: { n: std.toString(std.extVar('n')) } }]\n",
    );
    dir.write(
        "repo/vendor/pod.libsonnet",
        "function(name, image) { apiVersion: 'v1', kind: 'Pod', metadata: { name: name }, spec: { containers: [{ name: 'c', image: image }] } }\n",
    );
    dir.write("elsewhere/env.libsonnet", "'from JSONNET_PATH'");
    dir.write("config.yaml", base_config());
    let render = |extra: &[&str], jsonnet_path: bool| {
        let mut cmd = dir.cmd();
        cmd.arg("render")
            .arg(dir.join("repo/app"))
            .arg("--config")
            .arg(dir.join("config.yaml"));
        cmd.args(extra).env("PULLTHROUGH_JSONNET", tools::jsonnet());
        if jsonnet_path {
            cmd.env("JSONNET_PATH", dir.join("elsewhere"));
        }
        cmd.output()
    };
    let params = [
        "--param-array",
        "directory-jsonnet-ext-vars=image=nginx:1.27",
        "--param-array",
        r#"directory-jsonnet-ext-vars={"name": "n", "value": "6 * 7", "code": true}"#,
        "--param-array",
        "directory-jsonnet-tlas=name=web",
        "--param-array",
        "directory-jsonnet-libs=vendor",
    ];
    let out = render(&params, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = util::oracle::read_bytes(&out.stdout);
    let objs: Vec<&serde_json::Value> = docs
        .iter()
        .map(|d| {
            d.json
                .as_ref()
                .unwrap_or_else(|| panic!("oracle error {:?}", d.error))
        })
        .collect();
    let names: Vec<&str> = objs
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "web", "n"]);
    assert_eq!(
        objs[1]["spec"]["containers"][0]["image"],
        format!("{MIRROR}/docker-hub/library/nginx:1.27")
    );
    assert_eq!(objs[2]["data"]["n"], "42");

    // An import found only through JSONNET_PATH fails, as it does in Argo CD.
    dir.write(
        "repo/app/c.jsonnet",
        "{ kind: 'ConfigMap', data: { v: import 'env.libsonnet' } }",
    );
    let out = render(&params, true);
    let stderr = assert_error("JSONNET_PATH", &out, EXIT_INPUT, &[]);
    assert!(
        stderr.starts_with("pullthrough: directory: 'c.jsonnet': jsonnet evaluation failed: RUNTIME ERROR: couldn't open import \"env.libsonnet\": no match locally or in the Jsonnet library paths | "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    std::fs::remove_file(dir.join("repo/app/c.jsonnet")).unwrap();

    // Bad values: one line naming the parameter and the entry, exit 1, nothing on stdout.
    for (param, want) in [
        ("directory-jsonnet-ext-vars=novalue", "pullthrough: parameter directory-jsonnet-ext-vars: entry 1 \"novalue\": expected NAME=VALUE (a string) or {\"name\": …, \"value\": …, \"code\": true} (code)"),
        ("directory-jsonnet-tlas={\"name\": \"x\", \"code\": \"yes\"}", "pullthrough: parameter directory-jsonnet-tlas: entry 1 \"{\\\"name\\\": \\\"x\\\", \\\"code\\\": \\\"yes\\\"}\": not a JSON object {\"name\": …, \"value\": …, \"code\": true|false}: invalid type: string \"yes\", expected a boolean at line 1 column 27"),
        ("directory-jsonnet-ext-vars=-x=1", "pullthrough: parameter directory-jsonnet-ext-vars: entry 1 \"-x=1\": the name \"-x\" starts with '-', which the jsonnet command line would read as flags"),
    ] {
        let out = render(&["--param-array", param], false);
        let stderr = assert_error(param, &out, EXIT_USAGE, &[]);
        assert_eq!(stderr.trim_end(), want);
    }
    // A lib leaving the repository: refused naming the parameter (when a .jsonnet file is read).
    let out = render(
        &["--param-array", "directory-jsonnet-libs=../elsewhere"],
        false,
    );
    let stderr = assert_error("lib outside", &out, EXIT_INPUT, &[]);
    assert_eq!(
        stderr.trim_end(),
        "pullthrough: directory-jsonnet-libs: library path '../elsewhere' resolved to outside repository root (Argo CD refuses it too, when it evaluates a .jsonnet file)"
    );
}

/// A Chart.yaml with a duplicate key, which Helm (go-yaml, not strict) accepts: `init` builds
/// the missing dependency and `generate` renders, as Argo CD's native Helm source does
/// (issue 18.3). The last of the duplicates wins, as in Helm: here the dependency list.
#[test]
fn init_reads_chart_yaml_with_duplicate_keys_like_helm() {
    let checkout = TestDir::new();
    checkout.copy_tree(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/render/helm-deps/repo"),
        "repo",
    );
    checkout.mkdir("home");
    checkout.write("config.yaml", allow_all_config());
    checkout.write(
        "repo/apps/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\ndescription: first\ndescription: second\n\
         dependencies:\n  - name: nothing\n    version: 9.9.9\n    repository: file://../../nowhere\n\
         dependencies:\n  - name: common\n    version: 0.2.0\n    repository: file://../../libs/common\n",
    );
    let (init, gen) = init_and_generate(&checkout, "repo/apps/web", "apps/web");
    assert!(
        init.status.success(),
        "init: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    assert!(
        gen.status.success(),
        "generate: {}",
        String::from_utf8_lossy(&gen.stderr)
    );
    assert!(
        checkout
            .join("repo/apps/web/charts/common-0.2.0.tgz")
            .exists(),
        "init built no dependency"
    );
    let out = String::from_utf8_lossy(&gen.stdout);
    assert!(
        out.contains("# Source: web/charts/common/templates/cm.yaml"),
        "{out}"
    );
}

/// Waits up to 5 s for every process whose command line holds `token` to be gone.
#[track_caller]
fn assert_none_left(case: &str, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_with(token);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "case {case}: processes left behind: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A renderer child that calls `setsid` leaves the tool's process group (and, forked again, its
/// parent); it is killed all the same, whether the tool succeeds, fails or hangs, and whether or
/// not the child holds the tool's stdout open (issue 18.4).
#[test]
fn renderer_children_that_call_setsid_do_not_outlive_the_request() {
    let pod_out = "printf 'apiVersion: v1\\nkind: Pod\\nmetadata:\\n  name: p\\nspec:\\n  containers:\\n  - name: c\\n    image: nginx\\n'";
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        // The escaped child keeps the tool's stdout open: the render still ends at once.
        (
            "setsid child holding stdout, tool succeeds",
            format!("setsid -f sleep TOKEN\n{pod_out}"),
            None,
        ),
        (
            "daemon with its own stdio, tool succeeds",
            format!("setsid -f sleep TOKEN </dev/null >/dev/null 2>&1\n{pod_out}"),
            None,
        ),
        (
            "setsid child, tool fails",
            "setsid -f sleep TOKEN >/dev/null 2>&1\necho boom >&2\nexit 3".to_string(),
            Some("boom"),
        ),
        (
            "setsid child, tool hangs",
            "setsid -f sleep TOKEN >/dev/null 2>&1\ntrap '' TERM\nsleep TOKEN1".to_string(),
            Some("did not finish within 1s"),
        ),
    ];
    for (i, (case, script, fails)) in cases.into_iter().enumerate() {
        let repo = Repo::helm();
        let token = format!(
            "{}.{}{i}",
            8000 + std::process::id() % 1000,
            std::process::id()
        );
        let helm = repo.fake_helm(&script.replace("TOKEN", &token));
        repo.config(&format!("{}render:\n  timeoutSeconds: 1\n", base_config()));
        let mut cmd = repo.render();
        cmd.env("PULLTHROUGH_HELM", &helm);
        let started = Instant::now();
        let out = cmd.output();
        let took = started.elapsed();
        match fails {
            None => {
                assert!(
                    out.status.success(),
                    "case {case}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(
                    String::from_utf8_lossy(&out.stdout)
                        .contains("docker-hub/library/nginx:latest"),
                    "case {case}"
                );
            }
            Some(needle) => {
                assert_error(case, &out, EXIT_INPUT, &[needle]);
            }
        }
        assert!(took < Duration::from_secs(4), "case {case}: took {took:?}");
        assert_none_left(case, &token);
    }
}

/// `$VAR` in Helm `set` values knows Argo CD's build env (`ARGOCD_APP_*`) and nothing else:
/// `KUBE_VERSION`/`KUBE_API_VERSIONS` are in the plugin's environment but not in Argo CD's
/// `Env.Envsubst`, so a native source gets "" for them, and so does the plugin (issue 13).
#[test]
fn set_values_substitute_only_argo_cds_build_variables() {
    let repo = Repo::helm();
    repo.config(&allow_all_config());
    let out = generate(
        &repo,
        r#"[{"name":"set","map":{"x":"$ARGOCD_APP_NAME|$KUBE_VERSION|${KUBE_API_VERSIONS}|$HOME"}}]"#,
        &[
            ("KUBE_VERSION", "1.30.0"),
            ("KUBE_API_VERSIONS", "v1,apps/v1"),
            ("HOME", "/home/x"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("    x: \"web|||\"\n"), "{stdout}");
}

/// A bad parameter must not break the UI's Parameters tab: `parameters` still prints every
/// entry, the bad one left at its default with the error in its title and tooltip, while
/// `generate` with the same parameters refuses (issue 13).
#[test]
fn parameters_announcement_survives_bad_parameters() {
    let repo = Repo::helm();
    repo.config(&format!(
        "{}overrides:\n  allow: [mirror, skip-crds, skip-tests, set, kustomize-replicas]\nallowedMirrors: [\"*.dkr.ecr.*.amazonaws.com\"]\n",
        base_config()
    ));
    let params = r#"[{"name":"skip-crds","string":"maybe"},{"name":"mirror","string":"evil.example.com"},
        {"name":"exclude","array":["x"]},{"name":"nonsense","string":"1"},{"name":"set","map":{"x":"kept"}},
        {"name":"kustomize-replicas","map":{"web":"three"}}]"#;
    let run = |cmd: &str| {
        let mut c = Cmd::new();
        c.current_dir(repo.app())
            .arg(cmd)
            .env("PULLTHROUGH_CONFIG", repo.dir.join("config.yaml"))
            .env("PULLTHROUGH_HELM", tools::helm3())
            .env("ARGOCD_APP_NAME", "web")
            .env("ARGOCD_APP_NAMESPACE", "prod")
            .env("ARGOCD_APP_SOURCE_PATH", "apps/web")
            .env("ARGOCD_APP_PARAMETERS", params)
            .env("ARGOCD_ENV_SKIP_TESTS", "perhaps");
        c.output()
    };
    let gen = run("generate");
    assert_error("generate", &gen, EXIT_USAGE, &["parameter"]);
    let out = run("parameters");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ann: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ann.len(), pullthrough::argocd::parameters::PARAMS.len());
    let entry = |name: &str| {
        ann.iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    #[rustfmt::skip]
    let bad: &[(&str, &str)] = &[
        ("skip-crds", "Error: parameter skip-crds: expected \"true\" or \"false\", got \"maybe\" — "),
        ("mirror", "Error: parameter mirror: mirror \"evil.example.com\" is not in the sidecar's allowedMirrors (*.dkr.ecr.*.amazonaws.com) — "),
        ("exclude", "Error: parameter exclude: not allowed by the sidecar config (add \"exclude\" to overrides.allow to let apps set it) — "),
        ("enabled", "Error: parameter nonsense: unknown parameter (see `pullthrough parameters` for the list) — "),
        ("kustomize-replicas", "Error: parameter kustomize-replicas: web: expected integer value for count. Received: three — "),
        ("skip-tests", "Error: ARGOCD_ENV_SKIP_TESTS: expected \"true\" or \"false\", got \"perhaps\" — "),
    ];
    for (name, tooltip) in bad {
        let e = entry(name);
        assert!(
            e["tooltip"].as_str().unwrap().starts_with(tooltip),
            "{name}: {e}"
        );
        assert!(
            e["title"]
                .as_str()
                .unwrap()
                .ends_with(" (invalid: ignored)"),
            "{name}: {e}"
        );
    }
    // Bad entries fall back to their defaults; good ones are announced with their values.
    assert_eq!(entry("mirror")["string"], MIRROR);
    assert_eq!(entry("skip-crds")["string"], "false");
    assert_eq!(entry("set")["map"], serde_json::json!({"x": "kept"}));
    assert_eq!(entry("set")["title"], "Helm --set");
}

/// `namespace` is spec.source.helm.namespace: for Helm it is `--namespace` only, and objects
/// without a namespace are decided as being in the destination namespace (where Argo CD's
/// controller puts them); a Kustomize or directory app that sets it is refused, naming the
/// parameter and what to use instead (issue 13).
#[test]
fn namespace_parameter_is_helms_and_rules_use_the_destination_namespace() {
    let repo = Repo::helm();
    // The chart's Pod writes `namespace: {{ .Release.Namespace }}`; add one without.
    repo.dir.write(
        "repo/apps/web/templates/bare.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bare\nspec:\n  containers:\n  - name: c\n    image: redis\n",
    );
    repo.config(&format!(
        "{}overrides:\n  allow: [\"*\"]\nnamespaces:\n  exclude: [prod]\n",
        base_config()
    ));
    let out = generate(&repo, r#"[{"name":"namespace","string":"other"}]"#, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // In `other` (helm --namespace): rewritten; without a namespace, so in `prod`: excluded.
    assert!(stdout.contains("  namespace: other\n"), "{stdout}");
    assert!(
        stdout.contains(&format!("image: {MIRROR}/docker-hub/library/nginx:1.27")),
        "{stdout}"
    );
    assert!(stdout.contains("    image: redis\n"), "{stdout}");

    let dir = TestDir::new();
    dir.mkdir("repo/.git");
    dir.write("repo/apps/web/pod.yaml", pod("nginx"));
    dir.write(
        "repo/apps/k/kustomization.yaml",
        "resources: [../web/pod.yaml]\n",
    );
    dir.write(
        "config.yaml",
        format!("{}overrides:\n  allow: [\"*\"]\n", base_config()),
    );
    for (app, want) in [
        ("web", "pullthrough: parameter namespace: applies to Helm apps only (spec.source.helm.namespace), this is a directory app; objects without a namespace go to the Application's destination namespace"),
        ("k", "pullthrough: parameter namespace: applies to Helm apps only (spec.source.helm.namespace), this is a kustomize app; use kustomize-namespace (spec.source.kustomize.namespace) to set one"),
    ] {
        let out = dir
            .cmd()
            .arg("render")
            .arg(dir.join(format!("repo/apps/{app}")))
            .arg("--config")
            .arg(dir.join("config.yaml"))
            .args(["--param", "namespace=other"])
            .output();
        let stderr = assert_error(app, &out, EXIT_USAGE, &[]);
        assert_eq!(stderr.trim_end(), want);
    }
}
