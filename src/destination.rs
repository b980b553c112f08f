//! What a mirror and a `registries` value mean, and how registries compare: the vocabulary the
//! rules (which rewrite) and the settings' `allowedMirrors` policy (which refuses destinations)
//! share. Both read a destination through these functions, so they can never disagree on what
//! a value names; neither imports the other.

use std::borrow::Cow;

use pullthrough_reference::{DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN};

/// A destination is full when its first component looks like a registry host (has `.` or `:`,
/// or is `localhost`); otherwise it is a prefix under the mirror.
pub fn is_full_destination(s: &str) -> bool {
    let first = s.split('/').next().unwrap_or("");
    first.contains('.') || first.contains(':') || first == "localhost"
}

/// What a `registries` value means, read once for both the rules and the `allowedMirrors` check
/// (so they can never disagree on it): surrounding `/` dropped, then a full destination
/// (`host[:port][/path]`) or a prefix under the mirror (possibly empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    Prefix(&'a str),
    Full(&'a str),
}

impl<'a> Target<'a> {
    pub fn of(raw: &'a str) -> Target<'a> {
        let t = raw.trim_matches('/');
        if is_full_destination(t) {
            Target::Full(t)
        } else {
            Target::Prefix(t)
        }
    }
}

/// The mirror as the rules use it: trailing `/` dropped; `None` when that leaves nothing.
pub fn mirror_text(raw: &str) -> Option<&str> {
    Some(raw.trim_end_matches('/')).filter(|m| !m.is_empty())
}

/// A registry as the rules compare it: ASCII lowercase (host names are case-insensitive), and
/// `docker.io` for `index.docker.io` and every Docker Hub alias.
pub fn fold_registry<'a>(domain: &'a str, aliases: &[String]) -> Cow<'a, str> {
    if domain.eq_ignore_ascii_case(LEGACY_DEFAULT_DOMAIN)
        || aliases.iter().any(|a| a.eq_ignore_ascii_case(domain))
    {
        Cow::Borrowed(DEFAULT_DOMAIN)
    } else if domain.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(domain.to_ascii_lowercase())
    } else {
        // The common case, once per image: no allocation.
        Cow::Borrowed(domain)
    }
}
