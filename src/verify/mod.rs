//! `pullthrough verify`: prove that every rewritten image resolves on the mirror, with the
//! upstream's digest, before an application is switched to the mirror.
//!
//! The caller plans the rewrite exactly as `rewrite` would and hands over one [`ImageCheck`] per
//! rewritten image field ([`checks_from_plan`]). [`run`] dedupes identical (original, rewritten)
//! pairs (keeping every place they come from), resolves each mirror reference and, unless
//! `--no-upstream`, the original on its own registry ([`registry`]), and judges the pair
//! ([`Status`]). [`render_report`] prints the table or JSON; [`exit_ok`] says whether the run
//! may exit 0.

pub mod auth;
pub mod ecr;
pub mod registry;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::emit::OutputFormat;
use crate::environ::Environ;
use crate::rewrite::Plan;
use auth::{Basic, Credentials, Secret};
use pullthrough_reference::ImageRef;
use registry::{Client, Outcome, Resolution, Target};

/// The flags of `pullthrough verify` (besides the rewrite options and the inputs).
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Only check the mirror; do not compare digests with the upstream registry.
    #[arg(long)]
    pub no_upstream: bool,
    /// User name for the mirror registry, with the password on stdin (ECR: `AWS`).
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the mirror password from stdin (`aws ecr get-login-password | pullthrough verify
    /// --username AWS --password-stdin …`).
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Docker config directory holding config.json (default: $DOCKER_CONFIG, else ~/.docker).
    #[arg(long, value_name = "DIR")]
    pub docker_config: Option<PathBuf>,
    /// Use plain HTTP for this registry host[:port] (test registries only; repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// Registry lookups in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Timeout of each HTTP request, in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_timeout)]
    pub timeout: f64,
    /// Retries of a request answered 429 or 5xx (exponential backoff, at most 8 s each).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl Default for VerifyArgs {
    fn default() -> Self {
        VerifyArgs {
            no_upstream: false,
            username: None,
            password_stdin: false,
            docker_config: None,
            insecure_registry: Vec::new(),
            concurrency: 8,
            timeout: 10.0,
            retries: 3,
            output: OutputFormat::Table,
        }
    }
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds in (0, 3600]")),
    }
}

/// One rewritten image field: the value before, the value after, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageCheck {
    pub original: String,
    pub rewritten: String,
    /// E.g. `Deployment default/web spec.template.spec.containers[0].image`.
    pub where_: String,
}

/// The checks for a plan: one per record that rewrites (`decision.to`), in plan order.
pub fn checks_from_plan(plan: &Plan, default_namespace: &str) -> Vec<ImageCheck> {
    plan.records
        .iter()
        .filter_map(|r| {
            let to = r.decision.to.as_ref()?;
            let kind = r.object.kind.as_deref().unwrap_or("-");
            let ns = r.object.namespace.as_deref().unwrap_or(default_namespace);
            let name = r.object.name.as_deref().unwrap_or("-");
            Some(ImageCheck {
                original: r.before.clone(),
                rewritten: to.clone(),
                where_: format!("{kind} {ns}/{name} {}", r.path),
            })
        })
        .collect()
}

/// The verdict for one (original, rewritten) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The mirror resolves it, with the upstream's digest (or upstream not checked).
    Ok,
    /// The mirror answers 404 (wrong prefix, no pull-through rule, image gone).
    Missing,
    /// Mirror and upstream resolve the reference to different manifests.
    DigestDiffers,
    /// 401/403 after the token flow or with the credentials given.
    AuthFailed,
    /// Connection refused, DNS, TLS, or no answer within the timeout.
    Unreachable,
    /// The mirror is ECR and its pull-through cache cannot front the original's registry.
    UnsupportedUpstream,
    /// Pinned by digest and not on the mirror: ECR cannot pull an uncached image by digest.
    NotCached,
    /// The mirror has it but the upstream does not (deleted upstream, or a stale cache).
    MissingUpstream,
    /// Anything else: an unparseable reference, an unexpected HTTP status, a bad answer.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::DigestDiffers => "digest-differs",
            Status::AuthFailed => "auth-failed",
            Status::Unreachable => "unreachable",
            Status::UnsupportedUpstream => "unsupported-upstream",
            Status::NotCached => "not-cached",
            Status::MissingUpstream => "missing-upstream",
            Status::Error => "error",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Status::Ok => Severity::Ok,
            Status::UnsupportedUpstream | Status::NotCached | Status::MissingUpstream => {
                Severity::Warn
            }
            _ => Severity::Error,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Ok,
    Warn,
    Error,
}

/// Which registry a problem is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Mirror,
    Upstream,
}

/// The result for one deduplicated (original, rewritten) pair.
#[derive(Debug, Clone, Serialize)]
pub struct ImageResult {
    pub original: String,
    pub rewritten: String,
    /// Every place the pair was found, in input order.
    pub places: Vec<String>,
    pub status: Status,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<Resolution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Resolution>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Distinct (original, rewritten) pairs checked.
    pub images: usize,
    /// Image fields they came from.
    pub places: usize,
    pub ok: usize,
    pub not_ok: usize,
    /// Count per status, by status name.
    pub statuses: BTreeMap<String, usize>,
}

/// Everything `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub images: Vec<ImageResult>,
    pub summary: Summary,
}

/// True when every image is [`Status::Ok`]; otherwise the command exits 3 (warnings included:
/// each predicts a failed pull).
pub fn exit_ok(report: &Report) -> bool {
    report.images.iter().all(|i| i.status == Status::Ok)
}

/// Runs verify; the password for `--password-stdin` is read from the process's stdin.
pub fn run(args: &VerifyArgs, images: Vec<ImageCheck>, env: &Environ) -> Result<Report> {
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    run_with_stdin(args, images, env, &mut lock)
}

/// [`run`] with the password read from `stdin` (tests).
pub fn run_with_stdin(
    args: &VerifyArgs,
    images: Vec<ImageCheck>,
    env: &Environ,
    stdin: &mut dyn Read,
) -> Result<Report> {
    if args.username.is_some() != args.password_stdin {
        bail!(crate::error::UsageError(
            "--username and --password-stdin go together".into()
        ));
    }
    if !(args.timeout > 0.0 && args.timeout <= 3600.0) {
        bail!(crate::error::UsageError(
            "--timeout must be in (0, 3600] seconds".into()
        ));
    }
    let groups = dedupe(images);
    let dir = auth::config_dir(args.docker_config.as_deref(), env);
    // A Docker config that cannot be used is a configuration error (exit 1).
    let mut creds = Credentials::load(dir.as_deref(), args.docker_config.is_some())
        .map_err(|e| crate::error::UsageError(format!("{e:#}")))?;
    if let Some(user) = &args.username {
        let mut buf = Vec::new();
        stdin
            .take(1 << 20)
            .read_to_end(&mut buf)
            .context("reading the password from stdin")?;
        let pw = String::from_utf8(buf)
            .map_err(|_| crate::error::UsageError("the password on stdin is not UTF-8".into()))?;
        let pw = pw.trim_end_matches(['\n', '\r']);
        if pw.is_empty() {
            bail!(crate::error::UsageError(
                "--password-stdin: stdin is empty".into()
            ));
        }
        let hosts: BTreeSet<String> = groups
            .iter()
            .filter_map(|g| ImageRef::parse_normalized(&g.rewritten).ok())
            .map(|r| r.domain().to_string())
            .collect();
        creds = creds.with_explicit(
            Basic {
                username: user.clone(),
                password: Secret::new(pw),
            },
            hosts,
        );
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let client = Arc::new(Client::new(
        creds,
        &args.insecure_registry,
        timeout,
        args.retries,
        env,
    )?);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let results = rt.block_on(check_all(
        client,
        groups,
        !args.no_upstream,
        args.concurrency.max(1) as usize,
    ));
    Ok(report(results))
}

/// A distinct (original, rewritten) pair and its places.
#[derive(Debug, Clone)]
struct Group {
    original: String,
    rewritten: String,
    places: Vec<String>,
}

fn dedupe(images: Vec<ImageCheck>) -> Vec<Group> {
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut out: Vec<Group> = Vec::new();
    for c in images {
        let key = (c.original.clone(), c.rewritten.clone());
        match index.get(&key) {
            Some(&i) => out[i].places.push(c.where_),
            None => {
                index.insert(key, out.len());
                out.push(Group {
                    original: c.original,
                    rewritten: c.rewritten,
                    places: vec![c.where_],
                });
            }
        }
    }
    out
}

fn target(r: &ImageRef) -> Target {
    let reference = r.digest().or(r.tag()).unwrap_or("latest").to_string();
    Target {
        domain: r.domain().to_string(),
        repository: r.path().to_string(),
        reference,
    }
}

async fn check_all(
    client: Arc<Client>,
    groups: Vec<Group>,
    upstream: bool,
    concurrency: usize,
) -> Vec<ImageResult> {
    let total = groups.len();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut set = tokio::task::JoinSet::new();
    for (i, g) in groups.into_iter().enumerate() {
        let client = client.clone();
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore never closed");
            (i, check_one(&client, g, upstream).await)
        });
    }
    let mut progress = Progress::new(total);
    let mut results: Vec<Option<ImageResult>> = vec![None; total];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, r)) => {
                progress.done(&r);
                results[i] = Some(r);
            }
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    progress.finish();
    results
        .into_iter()
        .map(|r| r.expect("every task reports"))
        .collect()
}

async fn check_one(client: &Client, g: Group, upstream: bool) -> ImageResult {
    let mut res = ImageResult {
        original: g.original.clone(),
        rewritten: g.rewritten.clone(),
        places: g.places,
        status: Status::Error,
        severity: Severity::Error,
        side: None,
        detail: String::new(),
        mirror: None,
        upstream: None,
        notes: Vec::new(),
    };
    let mirror_ref = match ImageRef::parse_normalized(&g.rewritten) {
        Ok(r) => r,
        Err(e) => {
            res.side = Some(Side::Mirror);
            res.detail = format!("rewritten image does not parse: {e}");
            return res;
        }
    };
    let orig_ref = match ImageRef::parse_normalized(&g.original) {
        Ok(r) => Some(r),
        Err(e) if upstream => {
            res.side = Some(Side::Upstream);
            res.detail = format!("original image does not parse: {e}");
            return res;
        }
        Err(_) => None,
    };
    let unsupported = if ecr::is_ecr_host(mirror_ref.domain()) {
        orig_ref
            .as_ref()
            .and_then(|o| ecr::unsupported_upstream(o.domain()))
    } else {
        None
    };
    let mirror_target = target(&mirror_ref);
    let (m, u) = match (&orig_ref, upstream) {
        (Some(o), true) => {
            let ut = target(o);
            let (m, u) = tokio::join!(client.resolve(&mirror_target), client.resolve(&ut));
            (m, Some(u))
        }
        _ => (client.resolve(&mirror_target).await, None),
    };
    let pinned = mirror_ref.digest().is_some();
    let (status, side, detail, notes) = judge(&m, u.as_ref(), pinned, unsupported);
    res.status = status;
    res.severity = status.severity();
    res.side = side;
    res.detail = detail;
    res.notes = notes;
    res.mirror = Some(m);
    res.upstream = u;
    res
}

/// Decides the status from the two lookups. Pure, so every combination is unit-tested.
fn judge(
    m: &Resolution,
    u: Option<&Resolution>,
    pinned: bool,
    unsupported: Option<String>,
) -> (Status, Option<Side>, String, Vec<String>) {
    let mut notes = Vec::new();
    let why = |r: &Resolution| r.detail.clone().unwrap_or_default();
    let (status, side, detail) = match m.outcome {
        Outcome::Found => {
            if let Some(n) = unsupported {
                notes.push(n);
            }
            let md = m.digest.clone().unwrap_or_default();
            match u {
                None => (Status::Ok, None, format!("on the mirror as {md} (upstream not checked)")),
                Some(u) => match u.outcome {
                    Outcome::Found if u.digest == m.digest => (Status::Ok, None, format!("{md} on mirror and upstream")),
                    Outcome::Found => (
                        Status::DigestDiffers,
                        Some(Side::Mirror),
                        format!("mirror has {md}, upstream has {} (a stale cache, or a different image under the same tag)", u.digest.as_deref().unwrap_or("?")),
                    ),
                    Outcome::NotFound => (Status::MissingUpstream, Some(Side::Upstream), format!("on the mirror as {md}, but the upstream {} answers 404", u.registry)),
                    Outcome::AuthFailed => (Status::AuthFailed, Some(Side::Upstream), format!("upstream {}: {} (or use --no-upstream)", u.registry, why(u))),
                    Outcome::Unreachable => (Status::Unreachable, Some(Side::Upstream), format!("upstream {}: {} (or use --no-upstream)", u.registry, why(u))),
                    Outcome::Error => (Status::Error, Some(Side::Upstream), format!("upstream {}: {}", u.registry, why(u))),
                },
            }
        }
        Outcome::NotFound => {
            let upstream_has = u
                .filter(|u| u.outcome == Outcome::Found)
                .and_then(|u| u.digest.clone());
            let upstream_lacks = u.is_some_and(|u| u.outcome == Outcome::NotFound);
            if let Some(n) = unsupported {
                (
                    Status::UnsupportedUpstream,
                    Some(Side::Mirror),
                    format!("not on the mirror (404): {n}"),
                )
            } else if pinned && !upstream_lacks {
                let up = match &upstream_has {
                    Some(d) => format!("the upstream has {d}; "),
                    None => String::new(),
                };
                (
                    Status::NotCached,
                    Some(Side::Mirror),
                    format!(
                        "pinned by digest and not cached on the mirror (404); {up}an ECR pull-through cache cannot pull an uncached image by digest: pull it once by tag (or check the prefix)"
                    ),
                )
            } else {
                let tail = if let Some(d) = upstream_has {
                    format!("; the upstream has it ({d}): check the prefix and the pull-through cache rule")
                } else if upstream_lacks {
                    "; the upstream does not have it either".to_string()
                } else {
                    String::new()
                };
                (
                    Status::Missing,
                    Some(Side::Mirror),
                    format!("not on the mirror {} (404){tail}", m.registry),
                )
            }
        }
        Outcome::AuthFailed | Outcome::Unreachable | Outcome::Error => {
            if let Some(n) = unsupported {
                notes.push(n);
            }
            let status = match m.outcome {
                Outcome::AuthFailed => Status::AuthFailed,
                Outcome::Unreachable => Status::Unreachable,
                _ => Status::Error,
            };
            (
                status,
                Some(Side::Mirror),
                format!("mirror {}: {}", m.registry, why(m)),
            )
        }
    };
    (status, side, detail, notes)
}

fn report(images: Vec<ImageResult>) -> Report {
    let mut statuses = BTreeMap::new();
    for i in &images {
        *statuses.entry(i.status.as_str().to_string()).or_insert(0) += 1;
    }
    let ok = images.iter().filter(|i| i.status == Status::Ok).count();
    let summary = Summary {
        images: images.len(),
        places: images.iter().map(|i| i.places.len()).sum(),
        ok,
        not_ok: images.len() - ok,
        statuses,
    };
    Report { images, summary }
}

/// The report as a table (one block per image) or JSON.
pub fn render_report(report: &Report, format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(report).expect("report serializes");
            s.push('\n');
            s
        }
        OutputFormat::Table => table(report),
    }
}

fn table(report: &Report) -> String {
    let width = report
        .images
        .iter()
        .map(|i| i.status.as_str().len())
        .max()
        .unwrap_or(2);
    let mut out = String::new();
    for i in &report.images {
        out.push_str(&format!("{:<width$}  {}\n", i.status.as_str(), i.rewritten));
        let pad = " ".repeat(width + 2);
        let mut line =
            |label: &str, value: &str| out.push_str(&format!("{pad}{label:<6} {value}\n"));
        line("from:", &i.original);
        if !i.detail.is_empty() {
            line(
                if i.status == Status::Ok {
                    "found:"
                } else {
                    "why:"
                },
                &i.detail,
            );
        }
        for n in &i.notes {
            line("note:", n);
        }
        for p in &i.places {
            line("used:", p);
        }
    }
    let s = &report.summary;
    let mut parts: Vec<String> = s.statuses.iter().map(|(k, v)| format!("{v} {k}")).collect();
    if parts.is_empty() {
        parts.push("nothing to check".into());
    }
    out.push_str(&format!(
        "{} image(s) from {} field(s): {}\n",
        s.images,
        s.places,
        parts.join(", ")
    ));
    out
}

/// Progress on stderr: a redrawn line on a terminal, one plain line per image otherwise.
struct Progress {
    total: usize,
    done: usize,
    tty: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn done(&mut self, r: &ImageResult) {
        self.done += 1;
        // The print macros (not a locked handle), so test harnesses capture the lines.
        if self.tty {
            eprint!(
                "\r\x1b[2Kverify [{}/{}] {} {}",
                self.done,
                self.total,
                r.status.as_str(),
                r.rewritten
            );
            let _ = std::io::stderr().flush();
        } else {
            eprintln!(
                "pullthrough: verify [{}/{}] {} {}",
                self.done,
                self.total,
                r.status.as_str(),
                r.rewritten
            );
        }
    }

    fn finish(&mut self) {
        if self.tty && self.done > 0 {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(outcome: Outcome, digest: Option<&str>) -> Resolution {
        Resolution {
            registry: "reg".into(),
            repository: "r".into(),
            reference: "t".into(),
            outcome,
            digest: digest.map(String::from),
            media_type: None,
            http_status: None,
            detail: Some("d".into()),
        }
    }

    #[test]
    fn judge_combinations() {
        let a = Some("sha256:a");
        let found = res(Outcome::Found, a);
        let other = res(Outcome::Found, Some("sha256:b"));
        let nf = res(Outcome::NotFound, None);
        let j = |m: &Resolution, u: Option<&Resolution>, pinned, unsup: Option<&str>| {
            judge(m, u, pinned, unsup.map(String::from)).0
        };
        assert_eq!(j(&found, Some(&found), false, None), Status::Ok);
        assert_eq!(j(&found, None, false, None), Status::Ok);
        assert_eq!(j(&found, Some(&other), false, None), Status::DigestDiffers);
        assert_eq!(j(&found, Some(&nf), false, None), Status::MissingUpstream);
        assert_eq!(
            j(&found, Some(&res(Outcome::AuthFailed, None)), false, None),
            Status::AuthFailed
        );
        assert_eq!(j(&nf, Some(&found), false, None), Status::Missing);
        assert_eq!(j(&nf, Some(&found), true, None), Status::NotCached);
        assert_eq!(j(&nf, None, true, None), Status::NotCached);
        assert_eq!(j(&nf, Some(&nf), true, None), Status::Missing);
        assert_eq!(
            j(&nf, Some(&found), false, Some("gcr")),
            Status::UnsupportedUpstream
        );
        assert_eq!(
            j(&res(Outcome::Unreachable, None), Some(&found), false, None),
            Status::Unreachable
        );
        let (s, _, _, notes) = judge(&found, Some(&found), false, Some("gcr".into()));
        assert_eq!((s, notes), (Status::Ok, vec!["gcr".to_string()]));
    }

    #[test]
    fn dedupe_keeps_places_and_order() {
        let c = |o: &str, r: &str, w: &str| ImageCheck {
            original: o.into(),
            rewritten: r.into(),
            where_: w.into(),
        };
        let g = dedupe(vec![
            c("a", "m/a", "1"),
            c("b", "m/b", "2"),
            c("a", "m/a", "3"),
            c("a", "n/a", "4"),
        ]);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].places, vec!["1", "3"]);
        assert_eq!(g[1].original, "b");
        assert_eq!(g[2].rewritten, "n/a");
    }

    #[test]
    fn args_parse_with_clap() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct T {
            #[command(flatten)]
            v: VerifyArgs,
        }
        let t = T::try_parse_from([
            "t",
            "--insecure-registry",
            "a:1",
            "--insecure-registry",
            "b",
            "--timeout",
            "0.5",
            "-o",
            "json",
        ])
        .unwrap();
        assert_eq!(t.v.insecure_registry, vec!["a:1", "b"]);
        assert_eq!(t.v.timeout, 0.5);
        assert_eq!(t.v.output, OutputFormat::Json);
        let d = T::try_parse_from(["t"]).unwrap().v;
        let def = VerifyArgs::default();
        assert_eq!(
            (d.concurrency, d.timeout, d.retries, d.output),
            (def.concurrency, def.timeout, def.retries, def.output)
        );
        assert!(T::try_parse_from(["t", "--username", "u"]).is_err());
        assert!(T::try_parse_from(["t", "--timeout", "0"]).is_err());
    }
}
