//! How go-yaml v2 (YAML 1.1, what Argo CD reads with) resolves a plain scalar, and whether a
//! plain scalar is also a string under YAML 1.2's core schema.
//!
//! Re-stated from go-yaml v2 `resolve.go`: a first-byte hint, an exact-word table (`y`, `on`,
//! `~`, `.nan`, `<<` …), then `ParseInt`/`ParseUint` with base 0 after removing `_`, the float
//! regex and `0b`. Used twice: to tell whether an image field holds a string at all, and to decide
//! whether a replacement may be written plain (it must stay a string under both YAML versions).

/// What a plain scalar becomes in go-yaml v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    Str,
    Null,
    Bool,
    Int,
    Float,
    /// A timestamp-looking string; decoded into `interface{}` it stays a string.
    Timestamp,
    Merge,
}

/// go-yaml v2 resolution of a plain scalar.
pub fn resolve_plain(s: &str) -> Resolved {
    let Some(&first) = s.as_bytes().first() else {
        return Resolved::Null;
    };
    let hint = match first {
        b'+' | b'-' => 'S',
        b'0'..=b'9' => 'D',
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => 'M',
        b'.' => '.',
        b'<' => 'M',
        _ => return Resolved::Str,
    };
    if let Some(r) = word(s) {
        return r;
    }
    match hint {
        'M' => Resolved::Str,
        '.' => {
            if go_parse_float(s) {
                Resolved::Float
            } else {
                Resolved::Str
            }
        }
        _ => {
            if is_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if go_parse_int_base0(&plain) {
                return Resolved::Int;
            }
            if float_regex(&plain) && go_parse_float(&plain) {
                return Resolved::Float;
            }
            for prefix in ["0b", "-0b"] {
                if let Some(rest) = plain.strip_prefix(prefix) {
                    if !rest.is_empty() && rest.bytes().all(|b| b == b'0' || b == b'1') {
                        return Resolved::Int;
                    }
                }
            }
            Resolved::Str
        }
    }
}

fn word(s: &str) -> Option<Resolved> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" | "n"
        | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Resolved::Bool
        }
        "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => Resolved::Float,
        "<<" => Resolved::Merge,
        _ => return None,
    })
}

/// Go `strconv.ParseInt(s, 0, 64)` or `ParseUint` would succeed (overflow aside: a number that
/// overflows is still not a string to go-yaml, it falls through to float).
fn go_parse_int_base0(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    let (digits, radix) =
        if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (r, 16)
        } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (r, 8)
        } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (r, 2)
        } else if body.len() > 1 && body.starts_with('0') {
            (&body[1..], 8)
        } else {
            (body, 10)
        };
    !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
}

/// go-yaml v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn float_regex(s: &str) -> bool {
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if b.first() == Some(&b'.') {
        i = 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A conservative stand-in for Go's `strconv.ParseFloat(s, 64)` success on the inputs that reach
/// it: decimal floats, `inf`/`nan` spellings, and hex floats.
fn go_parse_float(s: &str) -> bool {
    if float_regex(s) {
        return true;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s).to_ascii_lowercase();
    matches!(body.as_str(), "inf" | "infinity" | "nan")
        || body.starts_with("0x") && body.contains('p')
}

/// go-yaml v2 tries timestamps (`2006-1-2`, with optional time) only for plain scalars.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // YYYY-M-D prefix is what every accepted layout starts with.
    let mut parts = s.splitn(3, '-');
    let (Some(y), Some(m), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let d: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    y.len() == 4
        && y.bytes().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&m.len())
        && m.bytes().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&d.len())
        && b.len() >= 8
}

/// Whether `s` may be written as a plain scalar in block context: a string under go-yaml v2
/// **and** YAML 1.2, no character that could start or end another token. It may start with a
/// letter, a digit, `_`, `.` or `/`, or with `-` (a flag, `--collector-image=…`: an indicator
/// only when a space follows, and no space is allowed anywhere). (`,` is allowed here for image
/// lists; [`crate::splice::quote`] refuses it inside flow collections.)
pub fn plain_safe(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    (first.is_ascii_alphanumeric() || b"_./".contains(&first) || (first == b'-' && b.len() > 1))
        && last != b':'
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"._/@:+-,=".contains(&c))
        && resolve_plain(s) == Resolved::Str
        && yaml12_core_is_string(s)
}

/// YAML 1.2 core schema: null, bool, int (decimal, `0o`, `0x`) and float forms are not strings.
fn yaml12_core_is_string(s: &str) -> bool {
    let lower = matches!(
        s,
        "null" | "Null" | "NULL" | "~" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    );
    if lower {
        return false;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let int = !body.is_empty() && body.bytes().all(|c| c.is_ascii_digit());
    let oct = s
        .strip_prefix("0o")
        .is_some_and(|r| !r.is_empty() && r.bytes().all(|c| (b'0'..=b'7').contains(&c)));
    let hex = s
        .strip_prefix("0x")
        .is_some_and(|r| !r.is_empty() && r.bytes().all(|c| c.is_ascii_hexdigit()));
    !(int || oct || hex || float_regex(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! resolves {
        ($($s:expr => $r:ident),* $(,)?) => { $( assert_eq!(resolve_plain($s), Resolved::$r, "{:?}", $s); )* };
    }

    #[test]
    fn go_yaml_v2_resolution() {
        resolves! {
            "0644" => Int, "012" => Int, "089" => Float, "0x1F" => Int, "0o14" => Int, "0b101" => Int,
            "1_000" => Int, "1__0" => Int, "1_" => Int, "on" => Bool, "yes" => Bool, "y" => Bool,
            "Off" => Bool, "n" => Bool, "No" => Bool, "1e3" => Float, "1.10" => Float, "1." => Float,
            "12345678901234567890" => Int, "1:20" => Str, "2001-12-14" => Timestamp, "Null" => Null,
            "NULL" => Null, "~" => Null, "" => Null, ".NaN" => Float, ".inf" => Float, "<<" => Merge,
            "nginx" => Str, "nginx:1.25" => Str, "111111111111.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:latest" => Str,
            "1password/connect" => Str, "0.1.2" => Str, "123" => Int, "-1" => Int, "+.5" => Float,
        }
    }

    #[test]
    fn plain_safety() {
        for ok in [
            "nginx",
            "docker.io/library/nginx:1.25",
            "a/b@sha256:0123",
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/x:1",
            "--prometheus-config-reloader=111111111111.dkr.ecr.eu-west-1.amazonaws.com/quay/prometheus-operator/prometheus-config-reloader:v0.78.1",
            "-x",
            "4.1.0=m.io/quay/strimzi/kafka:0.44.0",
        ] {
            assert!(plain_safe(ok), "{ok}");
        }
        for bad in [
            "",
            "yes",
            "on",
            "null",
            "123",
            "0x1F",
            "1e3",
            "- x",
            "-",
            "a b",
            "a:",
            "a#b",
            "{x}",
            "'x",
            "\"x",
            "-1",
            "-.5",
            "1.5",
            "2001-12-14",
            ".inf",
            "=",
            "?x",
            ":x",
            "*x",
            "&x",
            "!x",
            "%x",
            "@x",
            "`x",
            "|x",
            ">x",
            "#x",
            ",x",
            "[x",
            "]x",
        ] {
            assert!(!plain_safe(bad), "{bad}");
        }
    }
}
