//! Go's `path.Match` shell patterns, as `FamiliarMatch` uses them on familiar reference strings.
//!
//! `*` matches any run of non-`/` characters, `?` one non-`/` character, `[...]` a class (`^`
//! negates, `a-z` ranges, `\` escapes), `\x` the character `x`. A malformed pattern is an error
//! (`syntax error in pattern`) even when the match would fail earlier, as in Go since 1.16; the
//! port follows Go's `scanChunk`/`matchChunk`/`getEsc` structure so the corner cases agree.

use super::ReferenceError;

/// `path.Match(pattern, name)`.
///
/// # Errors
/// [`ReferenceError::BadPattern`] when `pattern` is malformed (an unterminated class, a class
/// starting with `-` or `]`, a trailing `\`).
pub fn path_match(mut pattern: &str, mut name: &str) -> Result<bool, ReferenceError> {
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing `*` matches the rest of the name unless it has a `/`.
            return Ok(!name.contains('/'));
        }
        // Look for a match at the current position. When this is the last chunk, the name must
        // be used up, otherwise a later star could still do better.
        let (t, ok) = match_chunk(chunk, name)?;
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if star {
            // Let the star eat 1, 2, … bytes (never a `/`) and retry.
            let bytes = name.as_bytes();
            let mut i = 0;
            while i < bytes.len() && bytes[i] != b'/' {
                // Go slices bytes; only char boundaries can start a match anyway.
                if name.is_char_boundary(i + 1) {
                    let (t, ok) = match_chunk(chunk, &name[i + 1..])?;
                    if ok && (t.is_empty() || !pattern.is_empty()) {
                        name = t;
                        continue 'pattern;
                    }
                }
                i += 1;
            }
        }
        // No match: still report a malformed remainder of the pattern.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, "")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// `scanChunk`: leading stars, then everything up to the next unbracketed `*`.
fn scan_chunk(pattern: &str) -> (bool, &str, &str) {
    let trimmed = pattern.trim_start_matches('*');
    let star = trimmed.len() != pattern.len();
    let bytes = trimmed.as_bytes();
    let mut in_range = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // A trailing backslash is reported by match_chunk.
            b'\\' if i + 1 < bytes.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &trimmed[..i], &trimmed[i..])
}

/// `matchChunk`: matches `chunk` (no `*`) at the start of `s`, returning the rest of `s` and
/// whether it matched. Keeps scanning the chunk after a mismatch to report syntax errors.
fn match_chunk<'a>(mut chunk: &str, mut s: &'a str) -> Result<(&'a str, bool), ReferenceError> {
    let mut failed = false;
    while let Some(c) = chunk.chars().next() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c {
            '[' => {
                let mut r = '\0';
                if !failed {
                    r = s.chars().next().unwrap_or('\0');
                    s = &s[r.len_utf8()..];
                }
                chunk = &chunk[1..];
                let negated = chunk.starts_with('^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if ranges > 0 && chunk.starts_with(']') {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if let Some(after_dash) = chunk.strip_prefix('-') {
                        let (h, rest) = get_esc(after_dash)?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            '?' => {
                if !failed {
                    let n = s.chars().next().expect("s is not empty");
                    if n == '/' {
                        failed = true;
                    }
                    s = &s[n.len_utf8()..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                let literal = if c == '\\' {
                    chunk = &chunk[1..];
                    chunk.chars().next().ok_or(ReferenceError::BadPattern)?
                } else {
                    c
                };
                // Go compares bytes here; comparing whole characters gives the same answer for
                // valid UTF-8 on both sides.
                if !failed {
                    if s.starts_with(literal) {
                        s = &s[literal.len_utf8()..];
                    } else {
                        failed = true;
                        s = s.get(1..).unwrap_or("");
                    }
                }
                chunk = &chunk[literal.len_utf8()..];
            }
        }
    }
    Ok(if failed { ("", false) } else { (s, true) })
}

/// `getEsc`: one possibly escaped character of a class; the class must go on after it.
fn get_esc(chunk: &str) -> Result<(char, &str), ReferenceError> {
    let chunk = match chunk.as_bytes().first() {
        None | Some(b'-' | b']') => return Err(ReferenceError::BadPattern),
        Some(b'\\') => &chunk[1..],
        Some(_) => chunk,
    };
    let c = chunk.chars().next().ok_or(ReferenceError::BadPattern)?;
    let rest = &chunk[c.len_utf8()..];
    if rest.is_empty() {
        return Err(ReferenceError::BadPattern);
    }
    Ok((c, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_match() {
        let ok = |p: &str, n: &str| path_match(p, n).unwrap();
        assert!(ok("foo/**/ba[rz]", "foo/a/bar"));
        assert!(!ok("foo/**/ba[rz]", "foo/any/bat"));
        assert!(!ok("foo/**/ba[rz]", "foo"));
        assert!(ok("*/foo/c/baz", "example.com/foo/c/baz"));
        assert!(ok("a*", "abc"));
        assert!(!ok("a*", "ab/c"));
        assert!(ok("a*/b", "abc/b"));
        assert!(ok("a*b*c*d*e*/f", "axbxcxdxe/f"));
        assert!(!ok("a*b?c*x", "abxbbxdbxebxczzy"));
        assert!(ok("[a-ζ]*", "α"));
        assert!(ok("[^a-c]", "d"));
        assert!(ok("a\\*b", "a*b"));
        assert!(!ok("a?b", "a/b"));
        assert_eq!(path_match("[-x]", "foo"), Err(ReferenceError::BadPattern));
        assert_eq!(path_match("[", "a"), Err(ReferenceError::BadPattern));
        assert_eq!(path_match("a\\", "a"), Err(ReferenceError::BadPattern));
        assert_eq!(path_match("*x[", "a"), Err(ReferenceError::BadPattern));
        assert_eq!(path_match("[x", "x"), Err(ReferenceError::BadPattern));
    }
}
