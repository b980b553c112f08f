//! `verify` against real registries: Debian's `docker-registry` (the CNCF distribution
//! registry) started on loopback, as a plain "upstream" the tests push images to, as a
//! pull-through cache of that upstream (`proxy.remoteurl`), and with htpasswd auth.
//!
//! Images are written over the registry HTTP API by a tiny HTTP/1.0 client here (independent
//! of the client under test): config blob, layer blob, OCI manifest, and an OCI index.

use crate::util;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use pullthrough::emit::OutputFormat;
use pullthrough::environ::Environ;
use pullthrough::rewrite::{self, Input};
use pullthrough::rules::Rules;
use pullthrough::settings::RewriteSettings;
use pullthrough::verify::{self, ImageCheck, Report, Side, Status, VerifyArgs};
use sha2::{Digest as _, Sha256};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const USER: &str = "ci-user";
const PASSWORD: &str = "Corr3ct-H0rse-Battery";

// ---------------------------------------------------------------------------------------------
// Registries

/// A running `docker-registry` on 127.0.0.1; killed on drop.
struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
    /// Basic credentials for pushing, when the registry has htpasswd auth.
    auth: Option<(String, String)>,
}

enum Kind<'a> {
    Plain,
    Proxy { remote_port: u16 },
    Htpasswd { user: &'a str, password: &'a str },
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Registry {
    fn start(kind: Kind) -> Registry {
        // A port picked by binding :0 may be taken again before the registry binds it: retry.
        let mut last = String::new();
        for _ in 0..3 {
            match Registry::try_start(&kind) {
                Ok(r) => return r,
                Err(e) => last = e,
            }
        }
        panic!("docker-registry did not start: {last}");
    }

    fn try_start(kind: &Kind) -> Result<Registry, String> {
        let bin = util::tools::registry();
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        // Answers carry this header, so a registry of another test that took the port is not
        // mistaken for this one.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let id = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let root = dir.path().join("data");
        let mut yaml = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
             delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: verify-test-secret\n  \
             headers:\n    X-Verify-Instance: [\"{id}\"]\n",
            root.display()
        );
        let mut auth = None;
        match kind {
            Kind::Plain => {}
            Kind::Proxy { remote_port } => yaml.push_str(&format!(
                "proxy:\n  remoteurl: http://127.0.0.1:{remote_port}\n"
            )),
            Kind::Htpasswd { user, password } => {
                let hash = bcrypt::hash_with_result(password, 4)
                    .unwrap()
                    .format_for_version(bcrypt::Version::TwoY);
                let htpasswd = dir.path().join("htpasswd");
                std::fs::write(&htpasswd, format!("{user}:{hash}\n")).unwrap();
                yaml.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: verify-test\n    path: {}\n",
                    htpasswd.display()
                ));
                auth = Some((user.to_string(), password.to_string()));
            }
        }
        let config = dir.path().join("config.yml");
        std::fs::write(&config, yaml).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(&bin)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .env_clear()
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let mut reg = Registry {
            child,
            port,
            _dir: dir,
            auth,
        };
        reg.wait_ready(&id)?;
        Ok(reg)
    }

    /// Bounded wait for `GET /v2/` to answer (200, or 401 with auth).
    fn wait_ready(&mut self, id: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self._dir.path().join("registry.log"))
                    .unwrap_or_default();
                return Err(format!("exited with {status}: {log}"));
            }
            if let Ok(r) = http(self.port, "GET", "/v2/", &[], b"") {
                if r.header("x-verify-instance").as_deref() != Some(id) {
                    return Err(format!("port {} answered by another server", self.port));
                }
                if r.status == 200 || r.status == 401 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err("no answer to GET /v2/ within 20s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn auth_header(&self) -> Vec<(String, String)> {
        match &self.auth {
            Some((u, p)) => vec![(
                "Authorization".into(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                ),
            )],
            None => Vec::new(),
        }
    }

    fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256(data);
        let h = self.auth_header();
        let hdrs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = http(
            self.port,
            "POST",
            &format!("/v2/{repo}/blobs/uploads/"),
            &hdrs,
            b"",
        )
        .unwrap();
        assert_eq!(r.status, 202, "start upload: {}", r.text());
        let loc = r.header("location").expect("upload Location");
        // Absolute (`http://127.0.0.1:P/v2/…`) or a path: keep path and query.
        let path = match loc.find("/v2/") {
            Some(i) => &loc[i..],
            None => panic!("odd Location {loc}"),
        };
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut hdrs = hdrs.clone();
        hdrs.push(("Content-Type", "application/octet-stream"));
        let r = http(
            self.port,
            "PUT",
            &format!("{path}{sep}digest={digest}"),
            &hdrs,
            data,
        )
        .unwrap();
        assert_eq!(r.status, 201, "finish upload: {}", r.text());
        digest
    }

    fn push_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> String {
        let h = self.auth_header();
        let mut hdrs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        hdrs.push(("Content-Type", media_type));
        let r = http(
            self.port,
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &hdrs,
            body,
        )
        .unwrap();
        assert_eq!(r.status, 201, "put manifest: {}", r.text());
        let d = sha256(body);
        assert_eq!(
            r.header("docker-content-digest").as_deref(),
            Some(d.as_str())
        );
        d
    }

    /// A minimal OCI image whose layer holds `content`; returns (manifest digest, manifest bytes).
    fn push_image(&self, repo: &str, tag: &str, content: &str) -> (String, Vec<u8>) {
        let body = self.push_image_parts(repo, content);
        let d = self.push_manifest(repo, tag, OCI_MANIFEST, &body);
        (d, body)
    }

    /// Pushes the blobs of a minimal OCI image; returns its manifest, not pushed.
    fn push_image_parts(&self, repo: &str, content: &str) -> Vec<u8> {
        let layer = format!("layer: {content}\n").into_bytes();
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
            sha256(&layer)
        )
        .into_bytes();
        let cd = self.push_blob(repo, &config);
        let ld = self.push_blob(repo, &layer);
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{ld}","size":{}}}]}}"#,
            config.len(),
            layer.len()
        );
        manifest.into_bytes()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256(b: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(b))
}

struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.0 request to 127.0.0.1:`port` (the server closes; no chunking).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

// ---------------------------------------------------------------------------------------------
// Running verify

fn args(insecure: &[&Registry]) -> VerifyArgs {
    VerifyArgs {
        insecure_registry: insecure.iter().map(|r| r.host()).collect(),
        timeout: 5.0,
        retries: 1,
        ..VerifyArgs::default()
    }
}

/// The plan's checks for a manifest, with `--map UPSTREAM=DEST` rules (what the CLI does).
fn plan_checks(manifest: &str, map: &[(String, String)]) -> Vec<ImageCheck> {
    let mut s = RewriteSettings::default();
    s.registries.set(map.iter().cloned().collect(), "--map");
    let rules = Rules::compile(&s).unwrap();
    let inputs = vec![Input {
        name: "test.yaml".into(),
        text: manifest.into(),
    }];
    let plan = rewrite::plan(&inputs, &rules, &rewrite::Options::default()).unwrap();
    verify::checks_from_plan(&plan, rules.default_namespace())
}

fn deployment(name: &str, images: &[&str]) -> String {
    let mut s = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n"
    );
    for (i, img) in images.iter().enumerate() {
        s.push_str(&format!("        - name: c{i}\n          image: {img}\n"));
    }
    s
}

fn check(original: &str, rewritten: &str) -> ImageCheck {
    ImageCheck {
        original: original.into(),
        rewritten: rewritten.into(),
        where_: format!("Pod default/test {original}"),
    }
}

/// An empty Docker config directory, so the developer's ~/.docker never leaks in.
fn no_creds() -> (tempfile::TempDir, Environ) {
    let d = tempfile::tempdir().unwrap();
    let env = Environ::from_pairs([("DOCKER_CONFIG", d.path().display().to_string())]);
    (d, env)
}

fn run(a: &VerifyArgs, checks: Vec<ImageCheck>, env: &Environ, stdin: &str) -> Report {
    verify::run_with_stdin(a, checks, env, &mut stdin.as_bytes()).unwrap()
}

fn statuses(r: &Report) -> Vec<Status> {
    r.images.iter().map(|i| i.status).collect()
}

fn both_outputs(r: &Report) -> String {
    format!(
        "{}\n{}\n{r:?}",
        verify::render_report(r, OutputFormat::Table),
        verify::render_report(r, OutputFormat::Json)
    )
}

fn docker_config(dir: &Path, host: &str, user: &str, password: &str) -> PathBuf {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    std::fs::write(
        dir.join("config.json"),
        format!(r#"{{"auths":{{"http://{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    dir.to_path_buf()
}

// ---------------------------------------------------------------------------------------------
// Cases

#[test]
fn ok_through_the_pull_through_proxy_with_the_same_digest() {
    let up = Registry::start(Kind::Plain);
    let proxy = Registry::start(Kind::Proxy {
        remote_port: up.port,
    });
    let (digest, _) = up.push_image("library/app", "1.0", "app one");
    let original = format!("{}/library/app:1.0", up.host());
    // The same image twice in one object and once in another: one check, three places.
    let manifest = format!(
        "{}---\n{}",
        deployment("web", &[&original, &original]),
        deployment("worker", &[&original])
    );
    let checks = plan_checks(&manifest, &[(up.host(), proxy.host())]);
    assert_eq!(checks.len(), 3);
    assert_eq!(
        checks[0].rewritten,
        format!("{}/library/app:1.0", proxy.host())
    );
    assert_eq!(
        checks[0].where_,
        "Deployment shop/web spec.template.spec.containers[0].image"
    );
    let (_d, env) = no_creds();
    let report = run(&args(&[&up, &proxy]), checks, &env, "");
    assert_eq!(
        statuses(&report),
        vec![Status::Ok],
        "{}",
        both_outputs(&report)
    );
    let img = &report.images[0];
    assert_eq!(img.places.len(), 3);
    assert_eq!(
        img.mirror.as_ref().unwrap().digest.as_deref(),
        Some(digest.as_str())
    );
    assert_eq!(
        img.upstream.as_ref().unwrap().digest.as_deref(),
        Some(digest.as_str())
    );
    assert!(verify::exit_ok(&report));
    let table = verify::render_report(&report, OutputFormat::Table);
    assert!(
        table.starts_with(&format!("ok  {}/library/app:1.0\n", proxy.host())),
        "{table}"
    );
    assert!(
        table.contains("used:  Deployment shop/worker spec.template.spec.containers[0].image"),
        "{table}"
    );
    assert!(
        table.ends_with("1 image(s) from 3 field(s): 1 ok\n"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&verify::render_report(&report, OutputFormat::Json)).unwrap();
    assert_eq!(json["images"][0]["status"], "ok");
    assert_eq!(json["images"][0]["mirror"]["digest"], digest.as_str());
    assert_eq!(json["summary"]["ok"], 1);
}

#[test]
fn missing_image_and_wrong_prefix_are_missing() {
    let up = Registry::start(Kind::Plain);
    let proxy = Registry::start(Kind::Proxy {
        remote_port: up.port,
    });
    up.push_image("library/app", "1.0", "app one");
    let (_d, env) = no_creds();
    // Not pushed anywhere.
    let gone = format!("{}/library/gone:1.0", up.host());
    // Pushed, but the rule puts it under a prefix the cache does not serve.
    let app = format!("{}/library/app:1.0", up.host());
    let checks = vec![
        check(&gone, &format!("{}/library/gone:1.0", proxy.host())),
        check(
            &app,
            &format!("{}/wrong-prefix/library/app:1.0", proxy.host()),
        ),
    ];
    let report = run(&args(&[&up, &proxy]), checks, &env, "");
    let out = both_outputs(&report);
    assert_eq!(
        statuses(&report),
        vec![Status::Missing, Status::Missing],
        "{out}"
    );
    assert_eq!(
        report.images[0].mirror.as_ref().unwrap().http_status,
        Some(404)
    );
    assert!(
        report.images[0]
            .detail
            .contains("the upstream does not have it either"),
        "{out}"
    );
    assert!(
        report.images[1].detail.contains("the upstream has it"),
        "{out}"
    );
    assert_eq!(report.images[1].side, Some(Side::Mirror));
    assert!(!verify::exit_ok(&report));
}

#[test]
fn auth_required_and_given_by_docker_config_or_password_stdin() {
    let up = Registry::start(Kind::Plain);
    let mirror = Registry::start(Kind::Htpasswd {
        user: USER,
        password: PASSWORD,
    });
    // The same bytes on both: the same digest.
    let (d1, _) = up.push_image("library/app", "2.0", "app two");
    let (d2, _) = mirror.push_image("docker-hub/library/app", "2.0", "app two");
    assert_eq!(d1, d2);
    let original = format!("{}/library/app:2.0", up.host());
    let checks = plan_checks(
        &deployment("web", &[&original]),
        &[(up.host(), format!("{}/docker-hub", mirror.host()))],
    );
    assert_eq!(
        checks[0].rewritten,
        format!("{}/docker-hub/library/app:2.0", mirror.host())
    );

    // Docker config (`auths` with a scheme-prefixed key, as `docker login` may write it).
    let dir = tempfile::tempdir().unwrap();
    docker_config(dir.path(), &mirror.host(), USER, PASSWORD);
    let a = VerifyArgs {
        docker_config: Some(dir.path().to_path_buf()),
        ..args(&[&up, &mirror])
    };
    let report = run(&a, checks.clone(), &Environ::default(), "");
    assert_eq!(
        statuses(&report),
        vec![Status::Ok],
        "{}",
        both_outputs(&report)
    );
    assert_eq!(
        report.images[0].mirror.as_ref().unwrap().digest.as_deref(),
        Some(d1.as_str())
    );

    // $DOCKER_CONFIG points at the same directory.
    let env = Environ::from_pairs([("DOCKER_CONFIG", dir.path().display().to_string())]);
    let report = run(&args(&[&up, &mirror]), checks.clone(), &env, "");
    assert_eq!(
        statuses(&report),
        vec![Status::Ok],
        "{}",
        both_outputs(&report)
    );

    // --username with the password on stdin (trailing newline as `echo` or the AWS CLI writes it).
    let (_d, env) = no_creds();
    let a = VerifyArgs {
        username: Some(USER.into()),
        password_stdin: true,
        ..args(&[&up, &mirror])
    };
    let report = run(&a, checks, &env, &format!("{PASSWORD}\n"));
    assert_eq!(
        statuses(&report),
        vec![Status::Ok],
        "{}",
        both_outputs(&report)
    );
    let out = both_outputs(&report);
    assert!(!out.contains(PASSWORD), "{out}");
}

#[test]
fn auth_wrong_or_absent_fails_without_printing_the_password() {
    let up = Registry::start(Kind::Plain);
    let mirror = Registry::start(Kind::Htpasswd {
        user: USER,
        password: PASSWORD,
    });
    up.push_image("library/app", "2.0", "app two");
    mirror.push_image("library/app", "2.0", "app two");
    let original = format!("{}/library/app:2.0", up.host());
    let checks = vec![check(
        &original,
        &format!("{}/library/app:2.0", mirror.host()),
    )];
    let wrong = "Wr0ng-Pa55word-7e3c1f";

    let (_d, env) = no_creds();
    let a = VerifyArgs {
        username: Some(USER.into()),
        password_stdin: true,
        ..args(&[&up, &mirror])
    };
    let report = run(&a, checks.clone(), &env, wrong);
    let out = both_outputs(&report);
    assert_eq!(statuses(&report), vec![Status::AuthFailed], "{out}");
    assert_eq!(report.images[0].side, Some(Side::Mirror));
    assert_eq!(
        report.images[0].mirror.as_ref().unwrap().http_status,
        Some(401)
    );
    assert!(
        report.images[0]
            .detail
            .contains("the credentials were refused"),
        "{out}"
    );
    assert!(!out.contains(wrong), "the wrong password is echoed: {out}");
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{wrong}"));
    assert!(!out.contains(&b64), "{out}");

    // The same through a Docker config file.
    let dir = tempfile::tempdir().unwrap();
    docker_config(dir.path(), &mirror.host(), USER, wrong);
    let a = VerifyArgs {
        docker_config: Some(dir.path().to_path_buf()),
        ..args(&[&up, &mirror])
    };
    let report = run(&a, checks.clone(), &Environ::default(), "");
    let out = both_outputs(&report);
    assert_eq!(statuses(&report), vec![Status::AuthFailed], "{out}");
    assert!(!out.contains(wrong) && !out.contains(&b64), "{out}");

    // No credentials at all: the message says so.
    let report = run(&args(&[&up, &mirror]), checks, &env, "");
    assert_eq!(statuses(&report), vec![Status::AuthFailed]);
    assert!(
        report.images[0].detail.contains("no credentials for"),
        "{}",
        report.images[0].detail
    );
}

#[test]
fn not_found_vs_unauthorized_vs_timeout() {
    let up = Registry::start(Kind::Plain);
    let auth = Registry::start(Kind::Htpasswd {
        user: USER,
        password: PASSWORD,
    });
    // Bound, never accepted from, never answering: the connection opens (backlog), no reply comes.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_host = format!("127.0.0.1:{}", silent.local_addr().unwrap().port());
    let a = VerifyArgs {
        timeout: 1.0,
        no_upstream: true,
        insecure_registry: vec![up.host(), auth.host(), silent_host.clone()],
        ..VerifyArgs::default()
    };
    let checks = vec![
        check("example.org/a:1", &format!("{}/a:1", up.host())),
        check("example.org/b:1", &format!("{}/b:1", auth.host())),
        check("example.org/c:1", &format!("{silent_host}/c:1")),
    ];
    let (_d, env) = no_creds();
    let started = Instant::now();
    let report = run(&a, checks, &env, "");
    let out = both_outputs(&report);
    assert_eq!(
        statuses(&report),
        vec![Status::Missing, Status::AuthFailed, Status::Unreachable],
        "{out}"
    );
    assert_eq!(
        report.images[0].mirror.as_ref().unwrap().http_status,
        Some(404)
    );
    assert_eq!(
        report.images[1].mirror.as_ref().unwrap().http_status,
        Some(401)
    );
    assert!(report.images[2].detail.contains("timeout"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(report.images[0].upstream.is_none());
    assert_eq!(report.summary.not_ok, 3);
    drop(silent);
}

#[test]
fn connection_refused_is_unreachable() {
    // Port 1 (tcpmux): privileged, never handed out by bind(:0), so no other test's registry
    // can be listening there.
    let host = "127.0.0.1:1".to_string();
    let a = VerifyArgs {
        timeout: 2.0,
        no_upstream: true,
        insecure_registry: vec![host.clone()],
        ..VerifyArgs::default()
    };
    let (_d, env) = no_creds();
    let report = run(
        &a,
        vec![check("example.org/a:1", &format!("{host}/a:1"))],
        &env,
        "",
    );
    assert_eq!(statuses(&report), vec![Status::Unreachable]);
    assert!(
        report.images[0].detail.contains("cannot connect"),
        "{}",
        report.images[0].detail
    );
}

#[test]
fn digest_pinned_present_is_ok_and_absent_is_not_cached() {
    let up = Registry::start(Kind::Plain);
    let proxy = Registry::start(Kind::Proxy {
        remote_port: up.port,
    });
    let plain_mirror = Registry::start(Kind::Plain);
    let (digest, _) = up.push_image("library/pinned", "3.0", "pinned");
    let original = format!("{}/library/pinned:3.0@{digest}", up.host());
    let (_d, env) = no_creds();
    let checks = vec![
        // The pull-through cache fetches by digest.
        check(
            &original,
            &format!("{}/library/pinned:3.0@{digest}", proxy.host()),
        ),
        // A mirror that has never seen it: not cached.
        check(
            &original,
            &format!("{}/library/pinned:3.0@{digest}", plain_mirror.host()),
        ),
    ];
    let report = run(&args(&[&up, &proxy, &plain_mirror]), checks, &env, "");
    let out = both_outputs(&report);
    assert_eq!(
        statuses(&report),
        vec![Status::Ok, Status::NotCached],
        "{out}"
    );
    assert_eq!(report.images[0].mirror.as_ref().unwrap().reference, digest);
    assert_eq!(
        report.images[0].mirror.as_ref().unwrap().digest.as_deref(),
        Some(digest.as_str())
    );
    assert!(
        report.images[1].detail.contains("pull it once by tag"),
        "{out}"
    );
    assert_eq!(report.images[1].severity, verify::Severity::Warn);
    assert!(!verify::exit_ok(&report));
}

#[test]
fn manifest_index_resolves_to_the_index_digest() {
    let up = Registry::start(Kind::Plain);
    let proxy = Registry::start(Kind::Proxy {
        remote_port: up.port,
    });
    let amd = up.push_image_parts("library/multi", "amd64 variant");
    let arm = up.push_image_parts("library/multi", "arm64 variant");
    let amd_d = up.push_manifest("library/multi", &sha256(&amd), OCI_MANIFEST, &amd);
    let arm_d = up.push_manifest("library/multi", &sha256(&arm), OCI_MANIFEST, &arm);
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{amd_d}","size":{},"platform":{{"architecture":"amd64","os":"linux"}}}},{{"mediaType":"{OCI_MANIFEST}","digest":"{arm_d}","size":{},"platform":{{"architecture":"arm64","os":"linux"}}}}]}}"#,
        amd.len(),
        arm.len()
    );
    let index_d = up.push_manifest("library/multi", "4.0", OCI_INDEX, index.as_bytes());
    let (_d, env) = no_creds();
    let original = format!("{}/library/multi:4.0", up.host());
    let report = run(
        &args(&[&up, &proxy]),
        vec![check(
            &original,
            &format!("{}/library/multi:4.0", proxy.host()),
        )],
        &env,
        "",
    );
    let out = both_outputs(&report);
    assert_eq!(statuses(&report), vec![Status::Ok], "{out}");
    let m = report.images[0].mirror.as_ref().unwrap();
    assert_eq!(
        m.digest.as_deref(),
        Some(index_d.as_str()),
        "the index digest, not a platform's: {out}"
    );
    assert_eq!(m.media_type.as_deref(), Some(OCI_INDEX));
    assert_eq!(
        report.images[0]
            .upstream
            .as_ref()
            .unwrap()
            .digest
            .as_deref(),
        Some(index_d.as_str())
    );
}

#[test]
fn digest_differs_when_the_mirror_holds_other_bytes_under_the_tag() {
    let up = Registry::start(Kind::Plain);
    let mirror = Registry::start(Kind::Plain);
    let (d_up, _) = up.push_image("library/app", "5.0", "upstream bytes");
    let (d_mirror, _) = mirror.push_image("library/app", "5.0", "stale bytes");
    let (_d, env) = no_creds();
    let original = format!("{}/library/app:5.0", up.host());
    let report = run(
        &args(&[&up, &mirror]),
        vec![check(
            &original,
            &format!("{}/library/app:5.0", mirror.host()),
        )],
        &env,
        "",
    );
    let out = both_outputs(&report);
    assert_eq!(statuses(&report), vec![Status::DigestDiffers], "{out}");
    assert!(
        report.images[0].detail.contains(&d_up) && report.images[0].detail.contains(&d_mirror),
        "{out}"
    );
    // Without the upstream there is nothing to compare: ok.
    let a = VerifyArgs {
        no_upstream: true,
        ..args(&[&up, &mirror])
    };
    let report = run(
        &a,
        vec![check(
            &original,
            &format!("{}/library/app:5.0", mirror.host()),
        )],
        &env,
        "",
    );
    assert_eq!(statuses(&report), vec![Status::Ok]);
}

#[test]
fn tls_is_on_unless_the_registry_is_named_insecure() {
    // A plain-HTTP registry not named with --insecure-registry: the TLS handshake fails.
    let up = Registry::start(Kind::Plain);
    up.push_image("library/app", "1.0", "app");
    let (_d, env) = no_creds();
    let a = VerifyArgs {
        no_upstream: true,
        timeout: 5.0,
        ..VerifyArgs::default()
    };
    let report = run(
        &a,
        vec![check(
            "x.example/app:1.0",
            &format!("{}/library/app:1.0", up.host()),
        )],
        &env,
        "",
    );
    assert_eq!(
        statuses(&report),
        vec![Status::Unreachable],
        "{}",
        both_outputs(&report)
    );
}

#[test]
fn server_errors_are_retried_with_backoff() {
    // A fake registry: 503 twice, then the manifest.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let digest = format!("sha256:{}", "ab".repeat(32));
    let d = digest.clone();
    let server = std::thread::spawn(move || {
        let mut served = Vec::new();
        for (n, conn) in listener.incoming().enumerate() {
            let mut conn = conn.unwrap();
            let mut buf = [0u8; 4096];
            let len = conn.read(&mut buf).unwrap();
            served.push(
                String::from_utf8_lossy(&buf[..len])
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            );
            let reply = if n < 2 {
                "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
            } else {
                format!("HTTP/1.1 200 OK\r\nDocker-Content-Digest: {d}\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            };
            conn.write_all(reply.as_bytes()).unwrap();
            if n == 2 {
                break;
            }
        }
        served
    });
    let a = VerifyArgs {
        no_upstream: true,
        retries: 3,
        timeout: 5.0,
        insecure_registry: vec![host.clone()],
        ..VerifyArgs::default()
    };
    let (_d, env) = no_creds();
    let report = run(
        &a,
        vec![check("x.example/app:1", &format!("{host}/app:1"))],
        &env,
        "",
    );
    assert_eq!(
        statuses(&report),
        vec![Status::Ok],
        "{}",
        both_outputs(&report)
    );
    assert_eq!(
        report.images[0].mirror.as_ref().unwrap().digest.as_deref(),
        Some(digest.as_str())
    );
    let served = server.join().unwrap();
    assert_eq!(served, vec!["HEAD /v2/app/manifests/1 HTTP/1.1"; 3]);
}

/// A request as the fake servers below see it.
struct FakeRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl FakeRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A loopback HTTP server answering every request with `handler`'s full response text; one
/// request per connection (`Connection: close`). The thread ends with the test process.
fn fake_server(handler: impl Fn(&FakeRequest, u16) -> String + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => raw.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&raw).into_owned();
            let mut lines = text.split("\r\n");
            let mut first = lines.next().unwrap_or("").split_whitespace();
            let req = FakeRequest {
                method: first.next().unwrap_or("").to_string(),
                path: first.next().unwrap_or("").to_string(),
                headers: lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect(),
            };
            let _ = conn.write_all(handler(&req, port).as_bytes());
        }
    });
    format!("127.0.0.1:{port}")
}

/// A registry with the standard token flow: manifests need `Bearer <TOKEN>`, which
/// `/token` hands out for the right basic credentials (or to anyone, when `anonymous`).
fn token_registry(digest: String, anonymous: bool) -> String {
    const TOKEN: &str = "tok-5ecret-a1b2c3";
    fake_server(move |req, port| {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        );
        if req.path.starts_with("/token?") {
            let ok_query = req.path.contains("service=fake-registry")
                && req.path.contains("scope=repository%3Alibrary%2Fapp%3Apull");
            let ok_creds = anonymous || req.header("authorization") == Some(basic.as_str());
            return if ok_query && ok_creds {
                let body = format!(r#"{{"access_token":"{TOKEN}","expires_in":300}}"#);
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            } else {
                "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string()
            };
        }
        if req.path == "/v2/library/app/manifests/1.0"
            && req.header("authorization") == Some(&format!("Bearer {TOKEN}"))
        {
            assert!(req.method == "HEAD" || req.method == "GET");
            return format!(
                "HTTP/1.1 200 OK\r\nDocker-Content-Digest: {digest}\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
        format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake-registry\",scope=\"repository:library/app:pull\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    })
}

#[test]
fn bearer_token_flow_with_and_without_credentials() {
    let digest = format!("sha256:{}", "cd".repeat(32));
    let (_d, env) = no_creds();
    let one = |host: &str| {
        vec![check(
            "x.example/library/app:1.0",
            &format!("{host}/library/app:1.0"),
        )]
    };

    // Anonymous token, as Docker Hub gives for public images.
    let open = token_registry(digest.clone(), true);
    let a = VerifyArgs {
        no_upstream: true,
        insecure_registry: vec![open.clone()],
        ..args(&[])
    };
    let report = run(&a, one(&open), &env, "");
    assert_eq!(
        statuses(&report),
        vec![Status::Ok],
        "{}",
        both_outputs(&report)
    );
    assert_eq!(
        report.images[0].mirror.as_ref().unwrap().digest.as_deref(),
        Some(digest.as_str())
    );

    // Credentials required by the token service.
    let closed = token_registry(digest.clone(), false);
    let a = VerifyArgs {
        no_upstream: true,
        insecure_registry: vec![closed.clone()],
        username: Some(USER.into()),
        password_stdin: true,
        ..args(&[])
    };
    let report = run(&a, one(&closed), &env, PASSWORD);
    assert_eq!(
        statuses(&report),
        vec![Status::Ok],
        "{}",
        both_outputs(&report)
    );
    let out = both_outputs(&report);
    assert!(
        !out.contains("tok-5ecret") && !out.contains(PASSWORD),
        "{out}"
    );

    let wrong = "Wr0ng-Pa55word-token";
    let report = run(&a, one(&closed), &env, wrong);
    let out = both_outputs(&report);
    assert_eq!(statuses(&report), vec![Status::AuthFailed], "{out}");
    assert!(
        report.images[0].detail.contains("token service 127.0.0.1"),
        "{out}"
    );
    assert!(!out.contains(wrong) && !out.contains("tok-5ecret"), "{out}");

    // No credentials: the token service refuses, and the message says none were found.
    let a = VerifyArgs {
        no_upstream: true,
        insecure_registry: vec![closed.clone()],
        ..args(&[])
    };
    let report = run(&a, one(&closed), &env, "");
    assert_eq!(statuses(&report), vec![Status::AuthFailed]);
    assert!(
        report.images[0].detail.contains("no credentials for"),
        "{}",
        report.images[0].detail
    );
}

#[test]
fn unusable_credentials_input_is_a_usage_error() {
    let checks = vec![check("x.example/app:1", "127.0.0.1:9/app:1")];
    let is_usage = |e: &anyhow::Error| e.chain().any(|c| c.is::<pullthrough::error::UsageError>());
    // --password-stdin with nothing on stdin.
    let (_d, env) = no_creds();
    let a = VerifyArgs {
        username: Some(USER.into()),
        password_stdin: true,
        ..VerifyArgs::default()
    };
    let e = verify::run_with_stdin(&a, checks.clone(), &env, &mut "\n".as_bytes()).unwrap_err();
    assert!(is_usage(&e), "{e:#}");
    // A Docker config that is not JSON; the message names the file, not its content.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        "{\"auths\": {\"h\": {\"auth\": \"c2VjcmV0\"}",
    )
    .unwrap();
    let a = VerifyArgs {
        docker_config: Some(dir.path().to_path_buf()),
        ..VerifyArgs::default()
    };
    let e = verify::run_with_stdin(&a, checks.clone(), &Environ::default(), &mut "".as_bytes())
        .unwrap_err();
    assert!(
        is_usage(&e)
            && format!("{e:#}").contains("config.json")
            && !format!("{e:#}").contains("c2VjcmV0"),
        "{e:#}"
    );
    // A named directory without config.json.
    let empty = tempfile::tempdir().unwrap();
    let a = VerifyArgs {
        docker_config: Some(empty.path().to_path_buf()),
        ..VerifyArgs::default()
    };
    assert!(verify::run_with_stdin(&a, checks, &Environ::default(), &mut "".as_bytes()).is_err());
}

#[test]
fn nothing_to_check_is_ok() {
    let (_d, env) = no_creds();
    let report = run(&VerifyArgs::default(), Vec::new(), &env, "");
    assert!(verify::exit_ok(&report));
    assert_eq!(
        verify::render_report(&report, OutputFormat::Table),
        "0 image(s) from 0 field(s): nothing to check\n"
    );
}

#[test]
fn the_cli_exits_0_when_all_ok_and_3_when_one_is_missing() {
    let up = Registry::start(Kind::Plain);
    let proxy = Registry::start(Kind::Proxy {
        remote_port: up.port,
    });
    up.push_image("library/app", "1.0", "app one");
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("ok.yaml");
    std::fs::write(
        &ok,
        deployment("web", &[&format!("{}/library/app:1.0", up.host())]),
    )
    .unwrap();
    let missing = dir.path().join("missing.yaml");
    std::fs::write(
        &missing,
        deployment("web", &[&format!("{}/library/app:2.0", up.host())]),
    )
    .unwrap();
    let base = |file: &Path| {
        let mut c = util::cmd::Cmd::new();
        c.args(["verify", "-o", "json", "--map"])
            .arg(format!("{}={}", up.host(), proxy.host()))
            .args([
                "--insecure-registry",
                &up.host(),
                "--insecure-registry",
                &proxy.host(),
                "--docker-config",
            ])
            .arg(dir.path())
            .arg(file);
        c
    };
    std::fs::write(dir.path().join("config.json"), "{\"auths\": {}}").unwrap();
    let out = base(&ok).stdout_ok();
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["images"][0]["status"], "ok", "{out}");
    let out = base(&missing).output();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["images"][0]["status"], "missing");
}
