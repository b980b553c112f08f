//! The reference grammar of `distribution/reference` (`regexp.go`), written out by hand.
//!
//! Each production is a small function that takes the input and returns the text it matched plus
//! the rest (`fn domain(s) -> Option<(&str, &str)>`), so a caller composes them the way the regex
//! concatenates patterns. Upstream's regexes are run by Go's engine, which reports the submatches a
//! backtracking engine would; every production here is deterministic except the optional domain in
//! front of a name, so that is the one place that tries both alternatives (domain first, as the
//! greedy `(?:domain/)?` does). The `pub` `match_*`/`is_*` functions are the anchored regexes the
//! upstream tests exercise (`^domainAndPort$`, `anchoredNameRegexp`, `referenceRegexp`,
//! `^identifier$`); they return `false`/`None` for inputs over [`MAX_INPUT_LEN`] bytes.

/// Longest input any matcher or parser looks at. Real references are a few hundred bytes at most
/// (the path is capped at 255, a tag at 128); the cap keeps hostile input from costing anything.
pub const MAX_INPUT_LEN: usize = 4096;

/// Longest tag: `[\w][\w.-]{0,127}`.
pub const TAG_MAX_LEN: usize = 128;

/// Shortest hex part the reference grammar accepts in a digest (`[[:xdigit:]]{32,}`).
const DIGEST_HEX_MIN_LEN: usize = 32;

/// Splits `s` after the longest prefix whose bytes all satisfy `pred`.
fn take_while(s: &str, pred: impl Fn(u8) -> bool) -> (&str, &str) {
    let n = s.bytes().take_while(|&b| pred(b)).count();
    s.split_at(n)
}

/// At least one byte satisfying `pred`.
fn take_while1(s: &str, pred: impl Fn(u8) -> bool) -> Option<(&str, &str)> {
    let (m, rest) = take_while(s, pred);
    (!m.is_empty()).then_some((m, rest))
}

/// Length of the text consumed between `whole` and its suffix `rest`, as a prefix of `whole`.
fn consumed<'a>(whole: &'a str, rest: &str) -> &'a str {
    &whole[..whole.len() - rest.len()]
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Go's `\w`, which is ASCII only.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

// ---------------------------------------------------------------------------------------------
// Domain: host [":" port], host = domain-name | "[" ipv6 "]"
// ---------------------------------------------------------------------------------------------

/// `domainNameComponent`: `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
///
/// Takes the longest run that ends in an alphanumeric: whatever follows a component must be `.`,
/// `:`, `/` or the end, so a shorter match (leaving an alphanumeric or `-` behind) can never lead to
/// a successful parse.
fn domain_component(s: &str) -> Option<(&str, &str)> {
    if !s.as_bytes().first()?.is_ascii_alphanumeric() {
        return None;
    }
    let (run, _) = take_while(s, |b| b.is_ascii_alphanumeric() || b == b'-');
    let trimmed = run.trim_end_matches('-');
    Some(s.split_at(trimmed.len()))
}

/// `domainName`: components joined by single dots.
fn domain_name(s: &str) -> Option<(&str, &str)> {
    let (_, mut rest) = domain_component(s)?;
    while let Some(after_dot) = rest.strip_prefix('.') {
        match domain_component(after_dot) {
            Some((_, r)) => rest = r,
            None => break,
        }
    }
    Some((consumed(s, rest), rest))
}

/// `ipv6address`: `\[(?:[a-fA-F0-9:]+)\]`; no zone, no embedded IPv4.
fn ipv6_address(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix('[')?;
    let (_, rest) = take_while1(inner, |b| b.is_ascii_hexdigit() || b == b':')?;
    let rest = rest.strip_prefix(']')?;
    Some((consumed(s, rest), rest))
}

/// `host`: a domain name or a bracketed IPv6 address (they cannot both start a string).
fn host(s: &str) -> Option<(&str, &str)> {
    if s.starts_with('[') {
        ipv6_address(s)
    } else {
        domain_name(s)
    }
}

/// `optionalPort`: `(?::[0-9]+)?`, no range check (upstream accepts `:750050`).
fn optional_port(s: &str) -> &str {
    match s
        .strip_prefix(':')
        .and_then(|r| take_while1(r, |b| b.is_ascii_digit()))
    {
        Some((_, rest)) => rest,
        None => s,
    }
}

/// `domainAndPort`: the registry part of a name, e.g. `localhost:5000`, `[::1]:5000`, `Asdf.com`.
pub fn domain_and_port(s: &str) -> Option<(&str, &str)> {
    let (_, rest) = host(s)?;
    let rest = optional_port(rest);
    Some((consumed(s, rest), rest))
}

// ---------------------------------------------------------------------------------------------
// Path: path-component ("/" path-component)*
// ---------------------------------------------------------------------------------------------

/// `separator`: `[._]|__|[-]+`. One dot, one or two underscores, or any number of dashes; the
/// kinds never mix. Only returns a separator that is followed by an alphanumeric, as the regex
/// only ever uses one inside `(?:separator alphanumeric)*`.
fn separator_then_alnum(s: &str) -> Option<(&str, &str)> {
    let (run, rest) = take_while(s, |b| matches!(b, b'.' | b'_' | b'-'));
    let ok = matches!(run, "." | "_" | "__") || (!run.is_empty() && run.bytes().all(|b| b == b'-'));
    if !ok {
        return None;
    }
    let (_, rest) = take_while1(rest, is_lower_alnum)?;
    Some((consumed(s, rest), rest))
}

/// `pathComponent`: `[a-z0-9]+(?:separator[a-z0-9]+)*`. Lowercase only.
fn path_component(s: &str) -> Option<(&str, &str)> {
    let (_, mut rest) = take_while1(s, is_lower_alnum)?;
    while let Some((_, r)) = separator_then_alnum(rest) {
        rest = r;
    }
    Some((consumed(s, rest), rest))
}

/// `remoteName`: path components joined by single slashes (no empty, leading or trailing part).
pub fn remote_name(s: &str) -> Option<(&str, &str)> {
    let (_, mut rest) = path_component(s)?;
    while let Some(after_slash) = rest.strip_prefix('/') {
        match path_component(after_slash) {
            Some((_, r)) => rest = r,
            None => break,
        }
    }
    Some((consumed(s, rest), rest))
}

// ---------------------------------------------------------------------------------------------
// Tag, digest, identifier
// ---------------------------------------------------------------------------------------------

/// `tag`: `[\w][\w.-]{0,127}`, at most [`TAG_MAX_LEN`] bytes.
pub fn tag(s: &str) -> Option<(&str, &str)> {
    if !is_word(*s.as_bytes().first()?) {
        return None;
    }
    let (run, _) = take_while(s, |b| is_word(b) || b == b'.' || b == b'-');
    Some(s.split_at(run.len().min(TAG_MAX_LEN)))
}

/// One algorithm component of `digestPat`: `[A-Za-z][A-Za-z0-9]*`.
fn algorithm_component(s: &str) -> Option<(&str, &str)> {
    if !s.as_bytes().first()?.is_ascii_alphabetic() {
        return None;
    }
    Some(take_while(s, |b| b.is_ascii_alphanumeric()))
}

/// `digestPat` (the reference grammar's digest, looser than go-digest):
/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[[:xdigit:]]{32,}`.
pub fn digest(s: &str) -> Option<(&str, &str)> {
    let (_, mut rest) = algorithm_component(s)?;
    while let Some(after_sep) = rest.strip_prefix(['-', '_', '+', '.']) {
        match algorithm_component(after_sep) {
            Some((_, r)) => rest = r,
            None => break,
        }
    }
    let rest = rest.strip_prefix(':')?;
    let (hex, rest) = take_while(rest, |b| b.is_ascii_hexdigit());
    if hex.len() < DIGEST_HEX_MIN_LEN {
        return None;
    }
    Some((consumed(s, rest), rest))
}

/// `^identifier$`: exactly 64 lowercase hex characters (a bare sha256 image ID).
pub fn is_identifier(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `^tag$` (`anchoredTagRegexp`), used by `WithTag`.
pub fn is_tag(s: &str) -> bool {
    matches!(tag(s), Some((_, "")))
}

/// `^digestPat$` (`anchoredDigestRegexp`), used by `WithDigest`.
pub fn is_reference_digest(s: &str) -> bool {
    s.len() <= MAX_INPUT_LEN && matches!(digest(s), Some((_, "")))
}

// ---------------------------------------------------------------------------------------------
// Names and whole references
// ---------------------------------------------------------------------------------------------

/// `^domainAndPort$`.
pub fn match_domain_and_port(s: &str) -> bool {
    s.len() <= MAX_INPUT_LEN && matches!(domain_and_port(s), Some((_, "")))
}

/// A name split the way `(?:(domainAndPort)/)?(remoteName)` captures it, followed by the rest.
/// `domain` is `""` when the name has none.
fn name(s: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    // The greedy optional group tries "domain/" first; the caller falls back to the second
    // alternative when what follows the first one does not match.
    let with_domain = domain_and_port(s).and_then(|(domain, rest)| {
        let (path, rest) = remote_name(rest.strip_prefix('/')?)?;
        Some((domain, path, rest))
    });
    let without_domain = || remote_name(s).map(|(path, rest)| ("", path, rest));
    with_domain
        .into_iter()
        .chain(std::iter::once_with(without_domain).flatten())
}

/// `anchoredNameRegexp`: `^(?:(domainAndPort)/)?(remoteName)$`, returning `(domain, path)` with
/// `domain == ""` when there is none. A name is treated as having a domain whenever its first
/// component reads as one (`simple/name` → domain `simple`); that is upstream's behaviour.
pub fn match_anchored_name(s: &str) -> Option<(&str, &str)> {
    if s.len() > MAX_INPUT_LEN {
        return None;
    }
    name(s)
        .find(|&(_, _, rest)| rest.is_empty())
        .map(|(d, p, _)| (d, p))
}

/// What `referenceRegexp` captures: the whole name, the tag and the digest (`""` when absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferenceMatch<'a> {
    /// `[domain/]path`, exactly as written.
    pub name: &'a str,
    /// Text after `:`, or `""`.
    pub tag: &'a str,
    /// Text after `@` (only checked against the loose reference grammar), or `""`.
    pub digest: &'a str,
}

/// `[":" tag] ["@" digest]` up to the end of the input.
fn tag_and_digest(s: &str) -> Option<(&str, &str)> {
    let (tag, rest) = match s.strip_prefix(':') {
        Some(r) => tag(r)?,
        None => ("", s),
    };
    let (digest, rest) = match rest.strip_prefix('@') {
        Some(r) => digest(r)?,
        None => ("", rest),
    };
    rest.is_empty().then_some((tag, digest))
}

/// `referenceRegexp`: `^(name)(?::(tag))?(?:@(digest))?$`.
pub fn match_reference(s: &str) -> Option<ReferenceMatch<'_>> {
    if s.len() > MAX_INPUT_LEN {
        return None;
    }
    name(s).find_map(|(domain, path, rest)| {
        let (tag, digest) = tag_and_digest(rest)?;
        let name_len = if domain.is_empty() {
            path.len()
        } else {
            domain.len() + 1 + path.len()
        };
        Some(ReferenceMatch {
            name: &s[..name_len],
            tag,
            digest,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn productions_return_the_rest() {
        assert_eq!(domain_and_port("a.b:80/x"), Some(("a.b:80", "/x")));
        assert_eq!(domain_and_port("ab-.com"), Some(("ab", "-.com")));
        assert_eq!(domain_and_port("[::1]:x"), Some(("[::1]", ":x")));
        assert_eq!(remote_name("a__b-c/d:t"), Some(("a__b-c/d", ":t")));
        assert_eq!(remote_name("a___b"), Some(("a", "___b")));
        assert_eq!(tag("v1.0@x"), Some(("v1.0", "@x")));
        assert_eq!(
            digest("sha256:0123456789abcdef0123456789abcdef!"),
            Some(("sha256:0123456789abcdef0123456789abcdef", "!"))
        );
        assert_eq!(digest("sha256:0123"), None);
    }

    #[test]
    fn tag_is_capped_at_128() {
        let t = "a".repeat(129);
        assert!(is_tag(&t[..128]));
        assert!(!is_tag(&t));
        assert!(!is_tag("-foo"));
        assert!(!is_tag(""));
    }

    #[test]
    fn domain_alternative_falls_back() {
        // "foo_bar.com" cannot be a domain, so the whole thing is the path.
        assert_eq!(
            match_anchored_name("foo_bar.com/x"),
            Some(("", "foo_bar.com/x"))
        );
        // The domain alternative parses, but the tag after it does not: upstream then reads
        // "localhost" as the path and "8080" as the tag.
        let m = match_reference("localhost:8080@sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912").unwrap();
        assert_eq!((m.name, m.tag), ("localhost", "8080"));
    }

    /// Differential check against upstream's regexes, compiled with the `regex` crate (which,
    /// like Go's engine, reports leftmost-first submatches). Test-only oracle: the parser itself
    /// does not use regexes. Inputs are random concatenations of grammar-relevant tokens.
    #[test]
    fn agrees_with_upstream_regexes() {
        const ALNUM: &str = "[a-z0-9]+";
        const SEPARATOR: &str = "(?:[._]|__|[-]+)";
        const DOMAIN_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
        // Go's `\w` is ASCII; the `regex` crate's is Unicode.
        const TAG: &str = r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
        const DIGEST: &str =
            "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";
        let domain_name = format!(r"{DOMAIN_COMPONENT}(?:\.{DOMAIN_COMPONENT})*");
        let domain_and_port = format!(r"(?:{domain_name}|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?");
        let path_component = format!("{ALNUM}(?:{SEPARATOR}{ALNUM})*");
        let remote = format!("{path_component}(?:/{path_component})*");
        let name_pat = format!("(?:{domain_and_port}/)?{remote}");
        let re = |p: String| regex::Regex::new(&p).unwrap();
        let reference_re = re(format!("^({name_pat})(?::({TAG}))?(?:@({DIGEST}))?$"));
        let anchored_name_re = re(format!("^(?:({domain_and_port})/)?({remote})$"));
        let domain_re = re(format!("^{domain_and_port}$"));
        let tag_re = re(format!("^{TAG}$"));
        let digest_re = re(format!("^{DIGEST}$"));

        let hex32 = "0123456789abcdef0123456789abcdef";
        // `|`-separated so the list stays readable; one token is a space.
        let listed = "a|b0|z|A|Ab|9|-|--|_|__|.|..|:|/|//|@|[|]|::1|fe80|5000|sha256|sha256:|x+y|\
                      localhost|~|é| |ABCDEF|docker.io|foo_bar.com|tag|T|v1.0|/a|/b-c|@sha256:";
        let tokens: Vec<&str> = listed.split('|').chain([hex32]).collect();
        let composites = [
            format!("@sha256:{hex32}"),
            format!("@A.b+c_d-e:{hex32}{hex32}"),
            format!("@sha256:{hex32}X"),
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            // xorshift64*: deterministic, no dependency.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
        };
        let mut positives = [0usize; 3];
        for _ in 0..100_000 {
            let len = 1 + next(9);
            let mut s: String = (0..len).map(|_| tokens[next(tokens.len())]).collect();
            if next(3) == 0 {
                s.push_str(&composites[next(composites.len())]);
            }
            let caps = reference_re.captures(&s).map(|c| {
                let g = |i| c.get(i).map_or("", |m| m.as_str());
                (g(1), g(2), g(3))
            });
            let got = match_reference(&s).map(|m| (m.name, m.tag, m.digest));
            assert_eq!(got, caps, "referenceRegexp on {s:?}");
            positives[0] += usize::from(got.is_some_and(|(n, _, _)| n.contains('/')));
            positives[1] += usize::from(got.is_some_and(|(_, t, _)| !t.is_empty()));
            positives[2] += usize::from(got.is_some_and(|(_, _, d)| !d.is_empty()));
            let caps = anchored_name_re.captures(&s).map(|c| {
                (
                    c.get(1).map_or("", |m| m.as_str()),
                    c.get(2).map_or("", |m| m.as_str()),
                )
            });
            assert_eq!(match_anchored_name(&s), caps, "anchoredNameRegexp on {s:?}");
            assert_eq!(
                match_domain_and_port(&s),
                domain_re.is_match(&s),
                "domainAndPort on {s:?}"
            );
            assert_eq!(is_tag(&s), tag_re.is_match(&s), "tag on {s:?}");
            assert_eq!(
                is_reference_digest(&s),
                digest_re.is_match(&s),
                "digest on {s:?}"
            );
        }
        // The generator must reach the interesting cases, not only rejections.
        assert!(
            positives.iter().all(|&n| n > 100),
            "too few matches: {positives:?}"
        );
    }

    #[test]
    fn over_long_input_never_matches() {
        let s = format!("a/{}", "b".repeat(MAX_INPUT_LEN));
        assert_eq!(match_anchored_name(&s), None);
        assert_eq!(match_reference(&s), None);
        assert!(!match_domain_and_port(&"a".repeat(MAX_INPUT_LEN + 1)));
    }
}
