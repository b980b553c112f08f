//! Argo CD's `Env.Envsubst` (Go `os.Expand` over the build env only, `$$` → `$`) and Helm's
//! `cleanSetParameters` comma escaping.

use std::collections::BTreeMap;

/// `os.Expand(s, mapping)` where `mapping` looks names up in `env` (unknown → `""`) and maps `$`
/// to `$` (so `$$` and `${$}` give a literal `$`). Malformed `${` and `${}` are dropped, `$` at
/// the end or before a non-name character stays, as in Go.
pub fn envsubst(s: &str, env: &BTreeMap<String, String>) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0; // start of the pending literal run
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.push_str(&s[i..j]);
            let (name, w) = shell_name(&s[j + 1..]);
            match name {
                None if w > 0 => {} // bad syntax: eat it
                None => out.push('$'),
                Some("$") => out.push('$'),
                Some(n) => out.push_str(env.get(n).map(String::as_str).unwrap_or("")),
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    if i < s.len() {
        out.push_str(&s[i..]);
    }
    out
}

fn is_special(c: u8) -> bool {
    matches!(
        c,
        b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-' | b'0'..=b'9'
    )
}

fn is_alnum(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

/// Go's `getShellName`: the name after `$` and how many bytes it took (`None` + width > 0 = bad syntax).
fn shell_name(s: &str) -> (Option<&str>, usize) {
    let b = s.as_bytes();
    if b[0] == b'{' {
        if b.len() > 2 && is_special(b[1]) && b[2] == b'}' {
            return (Some(&s[1..2]), 3);
        }
        for i in 1..b.len() {
            if b[i] == b'}' {
                if i == 1 {
                    return (None, 2);
                }
                return (Some(&s[1..i]), i + 1);
            }
        }
        return (None, 1);
    }
    if is_special(b[0]) {
        return (Some(&s[0..1]), 1);
    }
    let n = b.iter().take_while(|&&c| is_alnum(c)).count();
    if n == 0 {
        (None, 0)
    } else {
        (Some(&s[..n]), n)
    }
}

/// Argo CD's `cleanSetParameters`: a value wrapped in `{…}` (a Helm list) is kept; otherwise every
/// `,` not preceded by `\` becomes `\,`, so Helm does not split the value.
pub fn clean_set_parameter(val: &str) -> String {
    if val.starts_with('{') && val.ends_with('}') {
        return val.to_string();
    }
    let mut out = String::with_capacity(val.len() + 4);
    let mut prev = None;
    for c in val.chars() {
        if c == ',' && prev != Some('\\') {
            out.push_str("\\,");
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BTreeMap<String, String> {
        [
            ("ARGOCD_APP_NAME", "guestbook"),
            ("KUBE_VERSION", "1.30.0"),
            ("EMPTY", ""),
            ("1", "one"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn envsubst_table() {
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("plain", "plain"),
            ("", ""),
            ("$ARGOCD_APP_NAME", "guestbook"),
            ("${ARGOCD_APP_NAME}", "guestbook"),
            ("values-$ARGOCD_APP_NAME.yaml", "values-guestbook.yaml"),
            ("values-${ARGOCD_APP_NAME}-x.yaml", "values-guestbook-x.yaml"),
            ("$ARGOCD_APP_NAME.$KUBE_VERSION", "guestbook.1.30.0"),
            ("$UNKNOWN", ""),
            ("a${UNKNOWN}b", "ab"),
            ("$EMPTY", ""),
            ("$$", "$"),
            ("$$ARGOCD_APP_NAME", "$ARGOCD_APP_NAME"),
            ("${$}", "$"),
            ("$", "$"),
            ("a$", "a$"),
            ("$/x", "$/x"),
            ("$ x", "$ x"),
            ("${}", ""),
            ("a${}b", "ab"),
            ("${unclosed", "unclosed"),
            ("$1", "one"),
            ("$12", "one2"),
            ("${1}", "one"),
            ("$@", ""),
            ("$*x", "x"),
            ("${ARGOCD_APP_NAME", "ARGOCD_APP_NAME"),
            ("ünï$ARGOCD_APP_NAME€", "ünïguestbook€"),
            ("$ARGOCD_APP_NAME-$KUBE_VERSION", "guestbook-1.30.0"),
        ];
        for (input, want) in cases {
            assert_eq!(envsubst(input, &env()), *want, "input {input:?}");
        }
    }

    #[test]
    fn clean_set_parameter_table() {
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("plain", "plain"),
            ("a,b", "a\\,b"),
            ("a\\,b", "a\\,b"),
            ("a,,b", "a\\,\\,b"),
            ("{a,b}", "{a,b}"),
            ("{a,b", "{a\\,b"),
            ("a,b}", "a\\,b}"),
            (",", "\\,"),
            ("", ""),
            ("é,ü", "é\\,ü"),
        ];
        for (input, want) in cases {
            assert_eq!(clean_set_parameter(input), *want, "input {input:?}");
        }
    }
}
