//! Docker's "familiar name" rules (`normalize.go`): which first component is a registry, the
//! `docker.io` / `library/` defaults, and the reverse (`familiarizeName`).
//!
//! These are string heuristics, not grammar: `splitDockerDomain` decides before any parsing, and
//! `Parse` then re-reads the result with the grammar. Both steps are reproduced literally because
//! the rewriter must agree with container runtimes on where an image is pulled from.

/// Docker Hub's canonical domain.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The legacy "Docker Index" domain; the only alias `splitDockerDomain` rewrites to `docker.io`.
/// (`registry-1.docker.io` is deliberately *not* aliased upstream.)
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Namespace of Docker Hub's official images.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// Tag `ParseDockerRef` / `TagNameOnly` add to a bare name.
pub const DEFAULT_TAG: &str = "latest";
/// Always a domain when it is the first of several components.
const LOCALHOST: &str = "localhost";

/// Go's `strings.ToLower`: rune by rune, simple case mapping.
///
/// Rust's `str::to_lowercase` differs on two points that could change which error is reported:
/// it maps `İ` to two characters and a word-final `Σ` to `ς`. Go maps `İ` to `i` and every `Σ` to
/// `σ`; only the "does lowering change it / does it then parse" answers matter here.
pub fn go_to_lower(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{130}' => 'i',
            c => {
                let mut lower = c.to_lowercase();
                match (lower.next(), lower.next()) {
                    (Some(l), None) => l,
                    _ => c,
                }
            }
        })
        .collect()
}

/// Whether `strings.ToLower(s) != s` in Go.
pub fn changes_when_lowered(s: &str) -> bool {
    go_to_lower(s) != s
}

/// `splitDockerDomain`: returns `(domain, remainder)` where `remainder` is everything after the
/// domain, tag and digest included, with `library/` added for single-component Docker Hub names.
///
/// * no `/` at all → `docker.io`, `library/<input>` (even `localhost:5000` is a repository and a tag);
/// * first component `localhost`, or containing `.` or `:`, or not lowercase → that is the domain;
/// * first component `index.docker.io` → `docker.io`;
/// * otherwise → `docker.io` and the whole input is the remainder.
pub fn split_docker_domain(name: &str) -> (&str, String) {
    let Some((maybe_domain, maybe_remainder)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN, format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, remainder) = if maybe_domain == LOCALHOST {
        (maybe_domain, maybe_remainder)
    } else if maybe_domain == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, maybe_remainder)
    } else if maybe_domain.contains(['.', ':']) || changes_when_lowered(maybe_domain) {
        // A dot or colon looks like a host name, IP address or port; uppercase is not allowed in
        // Docker Hub namespaces, so it is taken as a host name too.
        (maybe_domain, maybe_remainder)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    // `docker.io/ubuntu` means `docker.io/library/ubuntu`; other registries are left alone.
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        (domain, format!("{OFFICIAL_REPO_PREFIX}{remainder}"))
    } else {
        (domain, remainder.to_owned())
    }
}

/// `familiarizeName`: drops `docker.io`, and `library/` when what remains has no further `/`
/// (`docker.io/library/foo/bar` stays `library/foo/bar`). Returns `(domain, path)`.
pub fn familiarize_name<'a>(domain: &'a str, path: &'a str) -> (&'a str, &'a str) {
    if domain != DEFAULT_DOMAIN {
        return (domain, path);
    }
    match path.strip_prefix(OFFICIAL_REPO_PREFIX) {
        Some(rest) if !rest.contains('/') => ("", rest),
        _ => ("", path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split() {
        assert_eq!(
            split_docker_domain("nginx"),
            ("docker.io", "library/nginx".into())
        );
        assert_eq!(
            split_docker_domain("localhost:5000"),
            ("docker.io", "library/localhost:5000".into())
        );
        assert_eq!(
            split_docker_domain("localhost/x"),
            ("localhost", "x".into())
        );
        assert_eq!(
            split_docker_domain("index.docker.io/x"),
            ("docker.io", "library/x".into())
        );
        assert_eq!(
            split_docker_domain("registry-1.docker.io/x"),
            ("registry-1.docker.io", "x".into())
        );
        assert_eq!(split_docker_domain("Foo/x"), ("Foo", "x".into()));
        assert_eq!(
            split_docker_domain("foo/x:1"),
            ("docker.io", "foo/x:1".into())
        );
    }

    #[test]
    fn go_lowercase() {
        assert_eq!(go_to_lower("İMAGE"), "image");
        assert_eq!(go_to_lower("ΑΣ"), "ασ");
        assert!(!changes_when_lowered("abc-1.2"));
        assert!(changes_when_lowered("Abc"));
    }

    #[test]
    fn familiar() {
        assert_eq!(familiarize_name("docker.io", "library/foo"), ("", "foo"));
        assert_eq!(
            familiarize_name("docker.io", "library/foo/bar"),
            ("", "library/foo/bar")
        );
        assert_eq!(familiarize_name("docker.io", "foo/bar"), ("", "foo/bar"));
        assert_eq!(
            familiarize_name("gcr.io", "library/foo"),
            ("gcr.io", "library/foo")
        );
    }
}
