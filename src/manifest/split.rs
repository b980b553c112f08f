//! Split a YAML stream into pieces that parse independently: cut just before every
//! document-start marker (`---` at column 0 followed by a space, a tab, a line break or the end).
//!
//! Why a cut there is safe: YAML 1.2 forbids a `---` line at column 0 inside any scalar
//! (`c-forbidden`: it ends a plain, quoted or block scalar, even a root-level one whose content is
//! at column 0) and inside a flow collection, so in a *valid* stream such a line is always a
//! document start, and documents share no parser state except what directives set. The piece
//! after a cut begins with that marker, so it is one explicit document (or more, after `...`).
//!
//! When the text could make a cut unsafe, [`pieces`] declines and the caller parses the stream
//! whole:
//! - a line starting with `%` (a directive such as `%YAML`/`%TAG` belongs to the next document
//!   and would be separated from it),
//! - a byte-order mark anywhere but at the very start (YAML allows one before each document).
//!
//! Anything else that is not a valid stream (an unterminated quote across a `---` line, an alias
//! to an anchor of an earlier document, ...) makes some piece fail to parse; the caller then
//! parses the whole stream again, so errors are reported exactly as without the split.

use std::ops::Range;

use memchr::memmem;

/// Whether `rest` (the bytes after a `---` at column 0) makes it a document marker.
fn marker_end(rest: &[u8]) -> bool {
    match rest.first() {
        None | Some(b' ' | b'\t' | b'\n') => true,
        Some(b'\r') => rest.get(1) == Some(&b'\n'),
        _ => false,
    }
}

/// True when the line starting at `at` is a document-start marker.
pub fn is_doc_start(text: &[u8], at: usize) -> bool {
    text[at..].starts_with(b"---") && marker_end(&text[at + 3..])
}

/// The byte ranges of the pieces of `text`, in order, covering it exactly; `None` when a cut
/// could change how the stream parses (see the module docs). Pieces after the first start with
/// a `---` marker; the first piece is the text up to the first cut (it may be only comments,
/// or start with a marker itself, after a BOM if there is one). Empty text is one empty piece.
pub fn pieces(text: &str) -> Option<Vec<Range<usize>>> {
    batches(text, 0)
}

/// The number of document-start markers (`---` lines at column 0) in `text`.
pub fn markers(text: &str) -> usize {
    let b = text.as_bytes();
    let first = usize::from(is_doc_start(
        b.strip_prefix("\u{feff}".as_bytes()).unwrap_or(b),
        0,
    ));
    first
        + memmem::find_iter(b, b"\n---")
            .filter(|&p| marker_end(&b[p + 4..]))
            .count()
}

/// Like [`pieces`], but consecutive pieces are grouped into batches of at least `min_bytes`
/// (the last may be smaller): each batch is a run of whole pieces, which [`pieces`] of the
/// batch's text gives back. Work is handed out by batch so that a stream of millions of tiny
/// documents costs memory per batch, not per document.
pub fn batches(text: &str, min_bytes: usize) -> Option<Vec<Range<usize>>> {
    let b = text.as_bytes();
    if b.first() == Some(&b'%') || memmem::find(b, b"\n%").is_some() {
        return None;
    }
    // U+FEFF encodes as EF BB BF.
    let bom = memmem::find_iter(b, "\u{feff}".as_bytes()).any(|p| p != 0);
    if bom {
        return None;
    }
    // A marker at the very start (after a BOM, if any) needs no cut: the first piece holds it.
    let mut out = Vec::new();
    let mut prev = 0;
    for p in memmem::find_iter(b, b"\n---") {
        if marker_end(&b[p + 4..]) && p + 1 - prev >= min_bytes.max(1) {
            out.push(prev..p + 1);
            prev = p + 1;
        }
    }
    out.push(prev..b.len());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(t: &str) -> Vec<&str> {
        pieces(t).unwrap().into_iter().map(|r| &t[r]).collect()
    }

    #[test]
    fn cuts_at_markers_only() {
        assert_eq!(
            cut("a: 1\n---\nb: 2\n--- # c\nc: 3\n---"),
            ["a: 1\n", "---\nb: 2\n", "--- # c\nc: 3\n", "---"]
        );
        assert_eq!(
            cut("---\na: 1\n----\n---x\n ---\n"),
            ["---\na: 1\n----\n---x\n ---\n"]
        );
        assert_eq!(
            cut("---\r\na: 1\r\n---\r\n"),
            ["---\r\na: 1\r\n", "---\r\n"]
        );
        assert_eq!(
            cut("\u{feff}---\na: 1\n---\n"),
            ["\u{feff}---\na: 1\n", "---\n"]
        );
        assert_eq!(cut("\u{feff}a: 1\n---\n"), ["\u{feff}a: 1\n", "---\n"]);
        assert_eq!(cut(""), [""]);
        assert!(pieces("%YAML 1.2\n---\na: 1\n").is_none());
        assert!(pieces("a: 1\n...\n%YAML 1.2\n---\n").is_none());
        assert!(pieces("a: 1\n---\n\u{feff}b: 2\n").is_none());
    }

    #[test]
    fn batches_are_runs_of_whole_pieces() {
        let t = "a: 1\n---\nb: 2\n---\nc: 3\n---\nd: 4\n";
        let b: Vec<&str> = batches(t, 10).unwrap().into_iter().map(|r| &t[r]).collect();
        assert_eq!(b, ["a: 1\n---\nb: 2\n", "---\nc: 3\n---\nd: 4\n"]);
        for batch in b {
            let again: String = pieces(batch)
                .unwrap()
                .into_iter()
                .map(|r| &batch[r])
                .collect();
            assert_eq!(again, batch);
        }
        assert_eq!(batches(t, 0), pieces(t));
        assert_eq!(
            batches(t, 1000).unwrap(),
            vec![std::ops::Range {
                start: 0,
                end: t.len()
            }]
        );
    }
}
