//! The verdict for one (original, rewritten) pair: the statuses, and [`judge`], which decides
//! one from the two registry lookups (pure, so every combination is unit-tested).

use serde::Serialize;

use super::registry::{Outcome, Resolution};

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

/// Decides the status from the two lookups. Pure, so every combination is unit-tested.
pub(super) fn judge(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::registry::{Outcome, Resolution};

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
}
