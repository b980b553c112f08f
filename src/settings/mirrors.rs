//! `allowedMirrors`: the registry locations an Application may point pullthrough at (its
//! `mirror` parameter and the full destinations of its `registries`).
//!
//! These patterns guard a security boundary, so they are not file globs: a file glob's `*`
//! crosses `.`, `:` and `/`, and `111111111111.dkr.ecr.*.amazonaws.com` would then admit
//! `111111111111.dkr.ecr.attacker.io/x.amazonaws.com`. A pattern here is read like the location
//! it guards, `host[:port][/path]`, and each part is matched on its own:
//!
//! * **host**: `.`-separated labels (letters, digits, `-`; case-insensitive), or a bracketed IPv6
//!   address written out exactly. A location matches when it has the same number of labels and
//!   each label matches; `*` matches any run of characters (possibly none) inside one label, so
//!   `*.example.com` admits `a.example.com`, never `a.b.example.com` or `example.com`.
//! * **port**: absent: the location must have no port; `:443`: exactly that port; `:*`: any port
//!   (but one must be written).
//! * **path**: absent: the location must have no path; otherwise `/`-separated components
//!   (lowercase letters, digits, `.`, `_`, `-`), each matching one component, with `*` inside one
//!   component; a component `**` matches any number of components, none included
//!   (`host/**` admits `host`, `host/a`, `host/a/b`).
//!
//! Nothing else is special: `?`, `[`…`]`, `{`…`}`, `\` and `!` are errors, not literals, so a
//! pattern written for another glob dialect fails loudly. The location itself is first parsed by
//! [`Location::parse`], which refuses userinfo, trailing dots, `..`, `//`, non-ASCII names and
//! anything else an image reference cannot hold; uppercase in a host is the same host.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use pullthrough_reference::Location;

/// One `allowedMirrors` entry. Built only by [`FromStr`] (also when the config is read, so a bad
/// pattern is an error at its `line:col`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct MirrorPattern {
    text: String,
    host: HostPattern,
    port: PortPattern,
    /// `None`: no path allowed. `Some`: the components, `None` entries being `**`.
    path: Option<Vec<Component>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    /// Lowercase labels, each possibly holding `*`.
    Labels(Vec<String>),
    /// `[…]`, lowercase, compared exactly.
    Ipv6(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PortPattern {
    None,
    Any,
    Exact(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Component {
    /// `**`: any number of components, none included.
    AnyDepth,
    /// One component, possibly holding `*`.
    One(String),
}

impl MirrorPattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `loc` is admitted: host label by label, port, then path component by component.
    pub fn matches(&self, loc: &Location) -> bool {
        let host = loc.host_lower();
        let host_ok = match &self.host {
            HostPattern::Ipv6(h) => host == *h,
            HostPattern::Labels(pats) => {
                !host.starts_with('[') && {
                    let labels: Vec<&str> = host.split('.').collect();
                    labels.len() == pats.len()
                        && labels.iter().zip(pats).all(|(l, p)| star_match(p, l))
                }
            }
        };
        let port_ok = match (&self.port, loc.port()) {
            (PortPattern::None, None) | (PortPattern::Any, Some(_)) => true,
            (PortPattern::Exact(p), Some(q)) => p == q,
            _ => false,
        };
        let comps: Vec<&str> = loc.path_components().collect();
        let path_ok = match &self.path {
            None => comps.is_empty(),
            Some(pats) => path_match(pats, &comps),
        };
        host_ok && port_ok && path_ok
    }
}

/// Whether one of `patterns` admits `loc`.
pub fn allowed(patterns: &[MirrorPattern], loc: &Location) -> bool {
    patterns.iter().any(|p| p.matches(loc))
}

impl fmt::Display for MirrorPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for MirrorPattern {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl FromStr for MirrorPattern {
    type Err = String;

    /// Parses `host[:port][/path]` as described in the module documentation.
    ///
    /// # Errors
    /// A one-line message quoting the pattern: empty, a character outside the grammar (`?`,
    /// `[`, `@`, space…), an empty label or component (`a..b`, `a//b`, a trailing `/` or `.`),
    /// `**` anywhere but as a whole path component, a port that is neither digits nor `*`,
    /// uppercase in the path, or a malformed IPv6 address.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("allowedMirrors pattern {s:?}: {why}");
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._:/*[]".contains(*c)))
        {
            return Err(bad(&format!(
                "{c:?} is not allowed (a pattern is host[:port][/path]; `*` is the only wildcard)"
            )));
        }
        // Host: up to the first `:` or `/` (after a bracketed IPv6 address).
        let (host, rest) = if s.starts_with('[') {
            let end = s
                .find(']')
                .ok_or_else(|| bad("unterminated IPv6 address"))?
                + 1;
            let (h, r) = s.split_at(end);
            if h.len() < 3
                || !h[1..h.len() - 1]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':')
            {
                return Err(bad(
                    "an IPv6 address is hex digits and `:` in brackets, written out (no `*`)",
                ));
            }
            (HostPattern::Ipv6(h.to_ascii_lowercase()), r)
        } else {
            let end = s.find([':', '/']).unwrap_or(s.len());
            let (h, r) = s.split_at(end);
            let mut labels = Vec::new();
            for label in h.split('.') {
                if label.is_empty() {
                    return Err(bad(
                        "empty host label (no leading, trailing or doubled `.`)",
                    ));
                }
                if label.contains("**") {
                    return Err(bad("`**` is only allowed as a whole path component; in a host label `*` matches within the label"));
                }
                if !label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*')
                {
                    return Err(bad(&format!(
                        "host label {label:?} may hold only letters, digits, `-` and `*`"
                    )));
                }
                labels.push(label.to_ascii_lowercase());
            }
            (HostPattern::Labels(labels), r)
        };
        if rest.starts_with('[') || rest.contains(['[', ']']) {
            return Err(bad("`[` and `]` only enclose an IPv6 host"));
        }
        let (port, rest) = match rest.strip_prefix(':') {
            None => (PortPattern::None, rest),
            Some(r) => {
                let end = r.find('/').unwrap_or(r.len());
                let (p, r) = r.split_at(end);
                let port = match p {
                    "*" => PortPattern::Any,
                    p if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                        PortPattern::Exact(p.to_owned())
                    }
                    _ => return Err(bad(&format!("port {p:?} must be digits or `*`"))),
                };
                (port, r)
            }
        };
        let path = match rest.strip_prefix('/') {
            None if rest.is_empty() => None,
            None => return Err(bad(&format!("unexpected {rest:?} after the host"))),
            Some(p) => {
                let mut comps = Vec::new();
                for c in p.split('/') {
                    comps.push(match c {
                        "" => return Err(bad("empty path component (no doubled or trailing `/`)")),
                        "**" => Component::AnyDepth,
                        c if c.contains("**") => {
                            return Err(bad("`**` is only allowed as a whole path component"))
                        }
                        c if c.bytes().any(|b| b.is_ascii_uppercase()) => {
                            return Err(bad("paths are lowercase"))
                        }
                        c if c.contains(':') => {
                            return Err(bad("`:` is only allowed before the port"))
                        }
                        c => Component::One(c.to_owned()),
                    });
                }
                Some(comps)
            }
        };
        Ok(MirrorPattern {
            text: s.to_owned(),
            host,
            port,
            path,
        })
    }
}

/// `*`-only wildcard match of one label or component (`*` is any run, possibly empty).
fn star_match(pattern: &str, s: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), s.as_bytes());
    let (mut pi, mut si) = (0, 0);
    // Where the last `*` was and how far into `s` it had eaten: the classic greedy retry, linear.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// Path components against component patterns, `**` matching any number of components.
fn path_match(pats: &[Component], comps: &[&str]) -> bool {
    // ok[j]: the patterns so far match the first j components.
    let mut ok = vec![false; comps.len() + 1];
    ok[0] = true;
    for pat in pats {
        let mut next = vec![false; comps.len() + 1];
        match pat {
            Component::AnyDepth => {
                let mut reached = false;
                for j in 0..=comps.len() {
                    reached |= ok[j];
                    next[j] = reached;
                }
            }
            Component::One(p) => {
                for j in 0..comps.len() {
                    next[j + 1] = ok[j] && star_match(p, comps[j]);
                }
            }
        }
        ok = next;
    }
    ok[comps.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admits(pattern: &str, loc: &str) -> bool {
        let p: MirrorPattern = pattern.parse().unwrap_or_else(|e| panic!("{e}"));
        p.matches(&Location::parse(loc).unwrap_or_else(|e| panic!("{e}")))
    }

    /// `yes!(pattern, location)` / `no!(pattern, location)`: one vector per line.
    macro_rules! yes {
        ($p:expr, $l:expr) => {
            assert!(admits($p, $l), "{} should admit {}", $p, $l)
        };
    }
    macro_rules! no {
        ($p:expr, $l:expr) => {
            assert!(!admits($p, $l), "{} should refuse {}", $p, $l)
        };
    }
    /// `invalid!(pattern => message tail)`.
    macro_rules! invalid {
        ($p:expr => $msg:expr) => {
            match $p.parse::<MirrorPattern>() {
                Ok(p) => panic!("{:?} parsed as {p:?}", $p),
                Err(e) => assert_eq!(e, format!("allowedMirrors pattern {:?}: {}", $p, $msg)),
            }
        };
    }

    const ECR: &str = "111111111111.dkr.ecr.*.amazonaws.com";

    #[test]
    fn host_labels() {
        yes!(ECR, "111111111111.dkr.ecr.eu-west-1.amazonaws.com");
        yes!(ECR, "111111111111.dkr.ecr.us-east-1.amazonaws.com");
        yes!(ECR, "111111111111.DKR.ECR.eu-west-1.AmazonAWS.com");
        no!(ECR, "111111111111.dkr.ecr.attacker.io");
        no!(ECR, "111111111111.dkr.ecr.attacker.io/x.amazonaws.com");
        no!(ECR, "111111111111.dkr.ecr.attacker.io:443/x.amazonaws.com");
        no!(ECR, "111111111111.dkr.ecr.a.b.amazonaws.com");
        no!(
            ECR,
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com.attacker.io"
        );
        no!(ECR, "222222222222.dkr.ecr.eu-west-1.amazonaws.com");
        no!(ECR, "x111111111111.dkr.ecr.eu-west-1.amazonaws.com");
        no!(ECR, "111111111111.dkr.ecr.eu-west-1.amazonaws.com/cache");
        no!(ECR, "111111111111.dkr.ecr.eu-west-1.amazonaws.com:443");
        no!(
            ECR,
            "111111111111.dkr.ecr.xn--80ak6aa92e.amazonaws.com.attacker.io"
        );
        yes!("*.example.com", "a.example.com");
        no!("*.example.com", "a.b.example.com");
        no!("*.example.com", "example.com");
        yes!("mirror-*.example.com", "mirror-eu.example.com");
        no!("mirror-*.example.com", "mirror.example.com");
        yes!("*", "localhost");
        no!("*", "a.io");
        yes!("Mirror.Example.COM", "mirror.example.com");
        yes!("[::1]", "[::1]");
        no!("[::1]", "[::2]");
        no!("*", "[::1]");
    }

    #[test]
    fn ports() {
        yes!("reg.example.com:5000", "reg.example.com:5000");
        no!("reg.example.com:5000", "reg.example.com:5001");
        no!("reg.example.com:5000", "reg.example.com");
        no!("reg.example.com:443", "reg.example.com:0443");
        yes!("reg.example.com:*", "reg.example.com:1");
        no!("reg.example.com:*", "reg.example.com");
        yes!("[::1]:5000/a", "[::1]:5000/a");
    }

    #[test]
    fn paths() {
        yes!(
            "us-docker.pkg.dev/my-project/cache",
            "us-docker.pkg.dev/my-project/cache"
        );
        no!(
            "us-docker.pkg.dev/my-project/cache",
            "us-docker.pkg.dev/my-project/cache/x"
        );
        no!(
            "us-docker.pkg.dev/my-project/cache",
            "us-docker.pkg.dev/my-project"
        );
        no!("us-docker.pkg.dev/my-project/cache", "us-docker.pkg.dev");
        yes!(
            "us-docker.pkg.dev/my-project/**",
            "us-docker.pkg.dev/my-project"
        );
        yes!(
            "us-docker.pkg.dev/my-project/**",
            "us-docker.pkg.dev/my-project/a/b/c"
        );
        no!(
            "us-docker.pkg.dev/my-project/**",
            "us-docker.pkg.dev/my-project-evil/a"
        );
        no!(
            "us-docker.pkg.dev/my-project/**",
            "us-docker.pkg.dev/other/my-project"
        );
        yes!("us-docker.pkg.dev/*/cache", "us-docker.pkg.dev/p1/cache");
        no!("us-docker.pkg.dev/*/cache", "us-docker.pkg.dev/p1/p2/cache");
        yes!("h.io/**/cache", "h.io/cache");
        yes!("h.io/**/cache", "h.io/a/b/cache");
        no!("h.io/**/cache", "h.io/a/b/cache/x");
        yes!("h.io/team-*", "h.io/team-a");
        no!("h.io/team-*", "h.io/team-a/x");
        yes!(
            &format!("{ECR}/**"),
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
        );
        yes!(
            &format!("{ECR}/**"),
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/docker-hub"
        );
        no!(
            &format!("{ECR}/**"),
            "111111111111.dkr.ecr.attacker.io/x.amazonaws.com"
        );
    }

    #[test]
    fn the_old_readme_example_no_longer_crosses_hosts() {
        // `…amazonaws.com*` was a file glob reaching into any suffix; here `*` stays in the label.
        yes!(
            "111111111111.dkr.ecr.*.amazonaws.com*",
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
        );
        no!(
            "111111111111.dkr.ecr.*.amazonaws.com*",
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com.attacker.io"
        );
        no!(
            "111111111111.dkr.ecr.*.amazonaws.com*",
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/x"
        );
    }

    #[test]
    fn invalid_patterns() {
        invalid!("" => "empty");
        invalid!("a?.io" => "'?' is not allowed (a pattern is host[:port][/path]; `*` is the only wildcard)");
        invalid!("{a,b}.io" => "'{' is not allowed (a pattern is host[:port][/path]; `*` is the only wildcard)");
        invalid!("a.io/x y" => "' ' is not allowed (a pattern is host[:port][/path]; `*` is the only wildcard)");
        invalid!("user@a.io" => "'@' is not allowed (a pattern is host[:port][/path]; `*` is the only wildcard)");
        invalid!("a..io" => "empty host label (no leading, trailing or doubled `.`)");
        invalid!("a.io." => "empty host label (no leading, trailing or doubled `.`)");
        invalid!("**.a.io" => "`**` is only allowed as a whole path component; in a host label `*` matches within the label");
        invalid!("a_b.io" => "host label \"a_b\" may hold only letters, digits, `-` and `*`");
        invalid!("a.io:x" => "port \"x\" must be digits or `*`");
        invalid!("a.io:" => "port \"\" must be digits or `*`");
        invalid!("a.io/" => "empty path component (no doubled or trailing `/`)");
        invalid!("a.io//x" => "empty path component (no doubled or trailing `/`)");
        invalid!("a.io/x**" => "`**` is only allowed as a whole path component");
        invalid!("a.io/X" => "paths are lowercase");
        invalid!("a.io/x:1" => "`:` is only allowed before the port");
        invalid!("[a.io]" => "an IPv6 address is hex digits and `:` in brackets, written out (no `*`)");
        invalid!("[::1" => "unterminated IPv6 address");
        invalid!("a.io/[x]" => "`[` and `]` only enclose an IPv6 host");
    }

    #[test]
    fn star_is_linear_and_exact() {
        assert!(star_match("a*b*c", "axxbyyc"));
        assert!(!star_match("a*b*c", "axxbyy"));
        assert!(star_match("*", ""));
        assert!(star_match("**", "abc"));
        assert!(!star_match("", "a"));
        let long = "a".repeat(10_000);
        assert!(!star_match(&format!("{}b", "*a".repeat(50)), &long));
    }
}
