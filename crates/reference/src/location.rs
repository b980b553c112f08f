//! [`Location`]: a place in a registry, `host[:port][/path]`, such as a mirror
//! (`us-docker.pkg.dev/my-project/cache`) or a full destination (`mirror.internal:5000/harbor`).
//!
//! A location is exactly what can stand in front of `/<repository>` in an image reference: it is
//! read with the reference parser itself (`<location>/x:latest` must parse and keep the location
//! as written), so a location never admits a spelling the container runtime would read
//! differently — no userinfo, no trailing dot, no empty or `..` component, no uppercase path,
//! no Docker Hub short name. Whether an image lies under a location is decided on whole path
//! components (`a/b` holds `a/b/c`, not `a/bc`).

use std::fmt;

use super::{ImageRef, ReferenceError};

/// A parsed `host[:port][/path]`. The host keeps its spelling (compare with
/// [`Location::host_lower`]); the path is lowercase by the grammar and may be empty.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    host: String,
    port: Option<String>,
    path: String,
}

/// Why a string is not a [`Location`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// `<s>/x:latest` does not parse as an image reference.
    #[error("{0:?} does not make valid image names: {1}")]
    Invalid(String, ReferenceError),
    /// It parses, but its first component is not a registry host (`hub/x` is Docker Hub's
    /// `hub` namespace), or normalization would change it (`index.docker.io`, `docker.io/x`
    /// would gain `library/`).
    #[error("{0:?} is not a registry host[:port][/path]")]
    NotARegistry(String),
}

impl LocationError {
    /// The text that is not a location.
    pub fn text(&self) -> &str {
        match self {
            LocationError::Invalid(s, _) | LocationError::NotARegistry(s) => s,
        }
    }
}

impl Location {
    /// Parses `host[:port][/path]`.
    ///
    /// # Errors
    /// [`LocationError::Invalid`] when `<s>/x:latest` is not a valid image reference (bad
    /// characters, `@`, `//`, `..`, a trailing dot, uppercase in the path, a path over 253
    /// bytes); [`LocationError::NotARegistry`] when it parses but the reference's registry and
    /// path are not `s` as written (no host, or a spelling normalization changes).
    pub fn parse(s: &str) -> Result<Location, LocationError> {
        if s.is_empty() {
            return Err(LocationError::NotARegistry(String::new()));
        }
        let probe = format!("{s}/x:latest");
        let r = ImageRef::parse_normalized(&probe)
            .map_err(|e| LocationError::Invalid(s.to_owned(), e))?;
        if r.domain().is_empty() || r.name() != format!("{s}/x") {
            return Err(LocationError::NotARegistry(s.to_owned()));
        }
        let path = r.path().strip_suffix("/x").unwrap_or("").to_owned();
        let (host, port) = split_port(r.domain());
        Ok(Location {
            host: host.to_owned(),
            port: port.map(str::to_owned),
            path,
        })
    }

    /// The host as written: `mirror.example.com`, `[::1]`.
    pub fn host(&self) -> &str {
        &self.host
    }
    /// The host in ASCII lowercase (host names are case-insensitive).
    pub fn host_lower(&self) -> String {
        self.host.to_ascii_lowercase()
    }
    /// The port's digits, if one was written.
    pub fn port(&self) -> Option<&str> {
        self.port.as_deref()
    }
    /// `host[:port]`, as an image reference's domain.
    pub fn domain(&self) -> String {
        match &self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }
    /// The path, `""` when none was written.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The path's components (none for an empty path).
    pub fn path_components(&self) -> impl Iterator<Item = &str> {
        self.path.split('/').filter(|c| !c.is_empty())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.domain())?;
        if !self.path.is_empty() {
            write!(f, "/{}", self.path)?;
        }
        Ok(())
    }
}

/// Whether `path` is `prefix` or lies below it, on whole components (`a/b` holds `a/b` and
/// `a/b/c`, not `a/bc`); the empty prefix holds every path.
pub fn path_under(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// `host[:port]` → (`host`, `port`); a bracketed IPv6 host keeps its brackets.
pub fn split_port(domain: &str) -> (&str, Option<&str>) {
    let host_end = if domain.starts_with('[') {
        domain.find(']').map_or(domain.len(), |i| i + 1)
    } else {
        domain.find(':').unwrap_or(domain.len())
    };
    let (host, rest) = domain.split_at(host_end);
    (host, rest.strip_prefix(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `loc!(input => host, port, path)`.
    macro_rules! loc {
        ($s:expr => $host:expr, $port:expr, $path:expr) => {{
            let l = Location::parse($s).unwrap_or_else(|e| panic!("{:?}: {e}", $s));
            assert_eq!(
                (l.host(), l.port(), l.path()),
                ($host, $port, $path),
                "input {:?}",
                $s
            );
            assert_eq!(l.to_string(), $s, "display of {:?}", $s);
        }};
    }
    /// `bad!(input => error text)`.
    macro_rules! bad {
        ($s:expr => $text:expr) => {{
            match Location::parse($s) {
                Ok(l) => panic!("{:?} parsed as {l:?}", $s),
                Err(e) => assert_eq!(e.to_string(), $text, "input {:?}", $s),
            }
        }};
    }

    #[test]
    fn locations() {
        loc!("mirror.example.com" => "mirror.example.com", None, "");
        loc!("us-docker.pkg.dev/my-project/cache" => "us-docker.pkg.dev", None, "my-project/cache");
        loc!("mirror.internal:5000/harbor" => "mirror.internal", Some("5000"), "harbor");
        loc!("localhost/x" => "localhost", None, "x");
        loc!("localhost:5000" => "localhost", Some("5000"), "");
        loc!("[::1]:5000/a" => "[::1]", Some("5000"), "a");
        loc!("Mirror.Example.com/a" => "Mirror.Example.com", None, "a");
        loc!("docker.io/mirrored" => "docker.io", None, "mirrored");
        bad!("hub" => "\"hub\" is not a registry host[:port][/path]");
        bad!("hub/x" => "\"hub/x\" is not a registry host[:port][/path]");
        bad!("docker.io" => "\"docker.io\" is not a registry host[:port][/path]");
        bad!("index.docker.io/x" => "\"index.docker.io/x\" is not a registry host[:port][/path]");
        bad!("foo_bar.com/x" => "\"foo_bar.com/x\" is not a registry host[:port][/path]");
        bad!("" => "\"\" is not a registry host[:port][/path]");
        bad!("m.example.com//gcr" => "\"m.example.com//gcr\" does not make valid image names: invalid reference format");
        bad!("m.example.com/../x" => "\"m.example.com/../x\" does not make valid image names: invalid reference format");
        bad!("m.example.com./x" => "\"m.example.com./x\" does not make valid image names: invalid reference format");
        bad!("user@m.example.com" => "\"user@m.example.com\" does not make valid image names: invalid reference format");
        bad!("m.example.com/Cache" => "\"m.example.com/Cache\" does not make valid image names: invalid reference format: repository name (Cache/x) must be lowercase");
        bad!("m.example.com/a:tag" => "\"m.example.com/a:tag\" does not make valid image names: invalid reference format");
        bad!("mirrör.example.com" => "\"mirrör.example.com\" does not make valid image names: invalid reference format");
    }

    #[test]
    fn paths_on_component_boundaries() {
        assert!(path_under("a/b", "a/b"));
        assert!(path_under("a/b/c", "a/b"));
        assert!(path_under("a/b/c", ""));
        assert!(path_under("", ""));
        assert!(!path_under("a/bc", "a/b"));
        assert!(!path_under("a", "a/b"));
        assert!(!path_under("", "a"));
    }

    #[test]
    fn ports() {
        assert_eq!(split_port("a.io:5000"), ("a.io", Some("5000")));
        assert_eq!(split_port("a.io"), ("a.io", None));
        assert_eq!(split_port("[::1]:5000"), ("[::1]", Some("5000")));
        assert_eq!(split_port("[::1]"), ("[::1]", None));
    }
}
