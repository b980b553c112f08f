//! What a mirror and a `registries` value mean, and how registries compare: the vocabulary the
//! rules (which rewrite) and the settings' `allowedMirrors` policy (which refuses destinations)
//! share. Both read a destination only through [`Destination`], so they can never disagree on
//! what a value names; neither imports the other.

use std::borrow::Cow;

use pullthrough_reference::{Location, LocationError, DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN};

/// Whether a path component looks like a registry host rather than a name: it has a `.` or a
/// `:` (a port), or is `localhost`. The one test of it, for destinations, `registries` keys,
/// prefix values and qualified fields.
pub fn looks_like_host(component: &str) -> bool {
    component.contains(['.', ':']) || component == "localhost"
}

/// A destination is full when its first component looks like a registry host; otherwise it is
/// a prefix under the mirror.
fn is_full_destination(s: &str) -> bool {
    looks_like_host(s.split('/').next().unwrap_or(""))
}

/// What a `registries` value means: surrounding `/` dropped, then a full destination
/// (`host[:port][/path]`) or a prefix under the mirror (possibly empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target<'a> {
    Prefix(&'a str),
    Full(&'a str),
}

impl<'a> Target<'a> {
    fn of(raw: &'a str) -> Target<'a> {
        let t = raw.trim_matches('/');
        if is_full_destination(t) {
            Target::Full(t)
        } else {
            Target::Prefix(t)
        }
    }
}

/// A place images are sent to, read from its setting once: the mirror, or a `registries` value
/// (a full destination, or a prefix joined to the mirror). The rules write there and the
/// `allowedMirrors` policy judges it, and both get it only from these constructors, so they can
/// never disagree on what a value names: how it is trimmed, whether it is full or a prefix, and
/// the [`Location`] it parses to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    text: String,
    location: Location,
}

/// Why a `registries` value gives no [`Destination`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// A prefix, and no mirror to put it under.
    #[error("prefix {0:?} is relative but no mirror is set")]
    Relative(String),
    #[error(transparent)]
    Location(#[from] LocationError),
}

impl Destination {
    /// The `mirror` setting: trailing `/` dropped; `None` when that leaves nothing (no mirror).
    ///
    /// # Errors
    /// When the text is not a `host[:port][/path]` ([`Location::parse`]).
    pub fn mirror(raw: &str) -> Option<Result<Destination, LocationError>> {
        let text = raw.trim_end_matches('/');
        (!text.is_empty()).then(|| Destination::parse(text))
    }

    /// A `registries` value: a full destination as written, or its prefix under `mirror` (an
    /// empty prefix is the mirror itself).
    ///
    /// # Errors
    /// [`EntryError::Relative`] for a prefix without a mirror; [`EntryError::Location`] when
    /// the destination is not a `host[:port][/path]`.
    pub fn entry(raw: &str, mirror: Option<&Destination>) -> Result<Destination, EntryError> {
        match Target::of(raw) {
            Target::Full(text) => Ok(Destination::parse(text)?),
            Target::Prefix(p) => {
                let m = mirror.ok_or_else(|| EntryError::Relative(p.to_string()))?;
                if p.is_empty() {
                    Ok(m.clone())
                } else {
                    Ok(Destination::parse(&format!("{}/{p}", m.text))?)
                }
            }
        }
    }

    /// A `registries` value when it is a full destination (`None` for a prefix, which lies
    /// under the mirror and is judged with it).
    ///
    /// # Errors
    /// As [`Destination::entry`] for a full destination.
    pub fn full_entry(raw: &str) -> Option<Result<Destination, LocationError>> {
        match Target::of(raw) {
            Target::Full(text) => Some(Destination::parse(text)),
            Target::Prefix(_) => None,
        }
    }

    fn parse(text: &str) -> Result<Destination, LocationError> {
        Ok(Destination {
            location: Location::parse(text)?,
            text: text.to_string(),
        })
    }

    /// The destination as written (trimmed), the text outputs start with.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn location(&self) -> &Location {
        &self.location
    }
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

#[cfg(test)]
mod tests {
    //! One vector per line: a setting's text, and the destination it names or why it names none.
    use super::*;

    fn shown<E: std::fmt::Display>(r: Option<Result<Destination, E>>) -> String {
        match r {
            None => "none".into(),
            Some(Ok(d)) => d.as_str().into(),
            Some(Err(e)) => format!("error: {e}"),
        }
    }

    #[test]
    fn mirror() {
        let m = |raw: &str| shown(Destination::mirror(raw));
        assert_eq!(m("m.example.com/cache"), "m.example.com/cache");
        assert_eq!(m("m.example.com/cache//"), "m.example.com/cache");
        assert_eq!(m("localhost:5000"), "localhost:5000");
        assert_eq!(m(""), "none");
        assert_eq!(m("///"), "none");
        assert_eq!(
            m("cache"),
            "error: \"cache\" is not a registry host[:port][/path]"
        );
        assert_eq!(
            m("/m.example.com"),
            "error: \"/m.example.com\" does not make valid image names: invalid reference format"
        );
        assert_eq!(m("M.example.com/Cache"), "error: \"M.example.com/Cache\" does not make valid image names: invalid reference format: repository name (Cache/x) must be lowercase");
    }

    #[test]
    fn registries_entries() {
        let mirror = Destination::mirror("m.example.com/cache").unwrap().unwrap();
        let e = |raw: &str, m: Option<&Destination>| shown(Some(Destination::entry(raw, m)));
        let full = |raw: &str| shown(Destination::full_entry(raw));
        assert_eq!(
            e("docker-hub", Some(&mirror)),
            "m.example.com/cache/docker-hub"
        );
        assert_eq!(
            e("/docker-hub/", Some(&mirror)),
            "m.example.com/cache/docker-hub"
        );
        assert_eq!(e("a/b", Some(&mirror)), "m.example.com/cache/a/b");
        assert_eq!(e("", Some(&mirror)), "m.example.com/cache");
        assert_eq!(e("/", Some(&mirror)), "m.example.com/cache");
        assert_eq!(
            e("docker-hub", None),
            "error: prefix \"docker-hub\" is relative but no mirror is set"
        );
        assert_eq!(e("Hub", Some(&mirror)), "error: \"m.example.com/cache/Hub\" does not make valid image names: invalid reference format: repository name (cache/Hub/x) must be lowercase");
        // Full: the first component is a host (a dot, a port, or localhost); the mirror is not used.
        assert_eq!(
            e("mirror.internal:5000/quay/", Some(&mirror)),
            "mirror.internal:5000/quay"
        );
        assert_eq!(e("localhost/x", None), "localhost/x");
        assert_eq!(e("ghcr.io", None), "ghcr.io");
        assert_eq!(
            e("a..b/x", None),
            "error: \"a..b/x\" does not make valid image names: invalid reference format"
        );
        assert_eq!(
            full("mirror.internal:5000/quay/"),
            "mirror.internal:5000/quay"
        );
        assert_eq!(full("docker-hub"), "none");
        assert_eq!(full(""), "none");
    }
}
