//! Splice: write a new value into the exact source bytes of a scalar, keeping its style, and
//! build the output as slices of the input plus replacements.
//!
//! Style policy (README "YAML fidelity"): a single- or double-quoted scalar stays so; a plain
//! scalar stays plain only when the new value is a string under both YAML 1.1 (go-yaml v2, what
//! Argo CD reads with) and YAML 1.2, otherwise it becomes double-quoted with JSON-compatible
//! escapes (valid in JSON documents too, and never `\/`, which go-yaml v2 rejects). A literal or
//! folded block scalar is rewritten in place when its body is one line (chomping is kept since only
//! the line's text changes); a multi-line body is refused. An alias token is replaced by the new
//! value written as a plain or double-quoted scalar.

use crate::manifest::yaml::Style;
use crate::manifest::yaml11;
use crate::manifest::Span;

/// Replace the bytes under `span` with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

/// Why a value cannot be written where it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpliceError {
    #[error("the image is a block scalar with more than one line; write it on one line")]
    MultiLineBlock,
    #[error("the block scalar's text does not match its decoded value")]
    BlockMismatch,
    #[error("edits overlap")]
    Overlap,
}

/// The source text for `value` written as a scalar in the given original style.
pub fn quote(value: &str, style: Style, in_flow: bool) -> String {
    match style {
        Style::Plain
            if yaml11::plain_safe(value)
                && (!in_flow || !value.contains([',', '[', ']', '{', '}'])) =>
        {
            value.to_string()
        }
        Style::SingleQuoted => format!("'{}'", value.replace('\'', "''")),
        _ => double_quoted(value),
    }
}

/// JSON-compatible double-quoted scalar: valid JSON, YAML 1.1 and YAML 1.2.
pub fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The edit that writes `new_value` into a scalar token at `span` of `input`.
pub fn scalar_edit(
    input: &str,
    span: Span,
    style: Style,
    in_flow: bool,
    old_value: &str,
    new_value: &str,
) -> Result<Edit, SpliceError> {
    match style {
        Style::Literal | Style::Folded => block_edit(input, span, style, old_value, new_value),
        _ => Ok(Edit {
            span,
            text: quote(new_value, style, in_flow),
        }),
    }
}

/// A block scalar's span starts at its first content line (after its indentation). A body of
/// one line is replaced in place: the line's text is swapped and header, indentation, chomping
/// indicator and line break stay as they are. A literal (`|`) body of several lines — a list of
/// images, one per line — is edited line by line, each changed line keeping its indentation and
/// line break, when old and new value have the same lines; a folded (`>`) body of several lines
/// is refused (its line breaks are not the value's).
fn block_edit(
    input: &str,
    span: Span,
    style: Style,
    old_value: &str,
    new_value: &str,
) -> Result<Edit, SpliceError> {
    let body = span.slice(input);
    let line_len = body.find(['\n', '\r']).unwrap_or(body.len());
    let line = &body[..line_len];
    let rest = &body[line_len..];
    if !rest.chars().all(|c| c == '\n' || c == '\r' || c == ' ') {
        return match style {
            Style::Literal => literal_lines_edit(input, span, old_value, new_value),
            _ => Err(SpliceError::MultiLineBlock),
        };
    }
    let content = line.trim_end_matches(' ');
    if content != old_value.trim_end_matches('\n') || content.is_empty() {
        return Err(SpliceError::BlockMismatch);
    }
    let start = span.start();
    let span =
        Span::within(start, start + content.len(), input).ok_or(SpliceError::BlockMismatch)?;
    Ok(Edit {
        span,
        text: new_value.to_string(),
    })
}

/// [`block_edit`] for a literal body of several lines: the new body, line by line.
fn literal_lines_edit(
    input: &str,
    span: Span,
    old_value: &str,
    new_value: &str,
) -> Result<Edit, SpliceError> {
    let body = span.slice(input);
    let (old, new): (Vec<&str>, Vec<&str>) = (
        old_value.split('\n').collect(),
        new_value.split('\n').collect(),
    );
    if old.len() != new.len() {
        return Err(SpliceError::MultiLineBlock);
    }
    // The block's indentation: the first line's column (the span starts after it).
    let line_start = input[..span.start()].rfind('\n').map_or(0, |p| p + 1);
    let indent = span.start() - line_start;
    let mut out = String::with_capacity(body.len() + new_value.len());
    let mut pos = 0;
    for (i, (o, n)) in old.iter().zip(&new).enumerate() {
        let end = body[pos..].find('\n').map_or(body.len(), |p| pos + p);
        let raw = &body[pos..end];
        let (text, cr) = match raw.strip_suffix('\r') {
            Some(t) => (t, "\r"),
            None => (raw, ""),
        };
        let ind = if i == 0 { 0 } else { indent.min(text.len()) };
        if !text[..ind].bytes().all(|b| b == b' ') || &text[ind..] != *o {
            return Err(SpliceError::BlockMismatch);
        }
        out.push_str(&text[..ind]);
        out.push_str(n);
        out.push_str(cr);
        if end < body.len() {
            out.push('\n');
        }
        pos = (end + 1).min(body.len());
        if end >= body.len() && i + 1 < old.len() {
            return Err(SpliceError::BlockMismatch);
        }
    }
    out.push_str(&body[pos..]);
    Ok(Edit { span, text: out })
}

/// The lines of a literal block scalar whose body is `span` (it starts at the first line's
/// content), as (offset in the decoded value, offset in `input`, length): the decoded value is
/// the lines without the block's indentation, joined by `\n`. `None` if a line is indented less
/// than the block (only blank lines may be).
pub fn literal_lines(input: &str, span: Span) -> Option<Vec<(usize, usize, usize)>> {
    let body = span.slice(input);
    let line_start = input[..span.start()].rfind('\n').map_or(0, |p| p + 1);
    let indent = span.start() - line_start;
    let mut out = Vec::new();
    let (mut pos, mut dec) = (0, 0);
    let mut first = true;
    while pos <= body.len() {
        let end = body[pos..].find('\n').map_or(body.len(), |p| pos + p);
        let raw = &body[pos..end];
        let text = raw.strip_suffix('\r').unwrap_or(raw);
        let skip = if first { 0 } else { indent.min(text.len()) };
        if !text[..skip].bytes().all(|b| b == b' ')
            || (text.len() > skip && skip < indent && !first)
        {
            return None;
        }
        let len = text.len() - skip;
        out.push((dec, span.start() + pos + skip, len));
        dec += len + 1;
        first = false;
        if end >= body.len() {
            break;
        }
        pos = end + 1;
    }
    Some(out)
}

/// `input` with every edit applied. Edits must not overlap; they are applied in source order.
pub fn apply(input: &str, edits: &[Edit]) -> Result<String, SpliceError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start(), e.span.end()));
    let extra: usize = sorted.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(input.len() + extra);
    let mut pos = 0;
    for e in sorted {
        if e.span.start() < pos {
            return Err(SpliceError::Overlap);
        }
        out.push_str(&input[pos..e.span.start()]);
        out.push_str(&e.text);
        pos = e.span.end();
    }
    out.push_str(&input[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! quoted {
        ($($v:expr, $style:ident, $flow:expr => $out:expr;)*) => { $( assert_eq!(quote($v, Style::$style, $flow), $out, "{:?}", $v); )* };
    }

    #[test]
    fn quoting_keeps_style() {
        quoted! {
            "a.io/x:1", Plain, false => "a.io/x:1";
            "a.io/x:1", Plain, true => "a.io/x:1";
            "a.io/x:1", SingleQuoted, false => "'a.io/x:1'";
            "it's", SingleQuoted, false => "'it''s'";
            "a.io/x:1", DoubleQuoted, true => "\"a.io/x:1\"";
            "yes", Plain, false => "\"yes\"";
            "12345", Plain, false => "\"12345\"";
            "a/b", DoubleQuoted, false => "\"a/b\"";
            "a/b,c/d", Plain, false => "a/b,c/d";
            "a/b,c/d", Plain, true => "\"a/b,c/d\"";
            "q\"b\\", DoubleQuoted, false => "\"q\\\"b\\\\\"";
        }
    }

    #[test]
    fn apply_in_order() {
        let input = "a: x\nb: y\n";
        let e1 = Edit {
            span: Span::within(8, 9, input).unwrap(),
            text: "YY".into(),
        };
        let e0 = Edit {
            span: Span::within(3, 4, input).unwrap(),
            text: "\"X\"".into(),
        };
        assert_eq!(
            apply(input, &[e1.clone(), e0.clone()]).unwrap(),
            "a: \"X\"\nb: YY\n"
        );
        let overlap = Edit {
            span: Span::within(3, 9, input).unwrap(),
            text: String::new(),
        };
        assert_eq!(apply(input, &[e0, overlap]), Err(SpliceError::Overlap));
    }
}
