//! `pullthrough verify`: prove that every rewritten image resolves on the mirror, with the
//! upstream's digest, before an application is switched to the mirror.
//!
//! The caller plans the rewrite exactly as `rewrite` would and hands over one [`ImageCheck`] per
//! rewritten image field ([`checks_from_plan`]). [`run`] dedupes identical (original, rewritten)
//! pairs (keeping every place they come from), resolves each mirror reference and, unless
//! `--no-upstream`, the original on its own registry ([`registry`]), and judges the pair
//! ([`Status`]). [`render_report`] prints the table or JSON; [`exit_ok`] says whether the run
//! may exit 0.

mod args;
pub mod auth;
pub mod ecr;
mod progress;
pub mod registry;
mod report;
mod status;

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::environ::Environ;
use crate::rewrite::Plan;
use auth::{Basic, Credentials, Secret};
use pullthrough_reference::ImageRef;
use registry::{Client, Target};

// The submodules are private: each item has this one public path.
pub use args::VerifyArgs;
use progress::Progress;
use report::report;
pub use report::{exit_ok, render_report, Report, Summary};
use status::judge;
pub use status::{ImageResult, Severity, Side, Status};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
