//! Prefilter: decide from the bytes alone that a document cannot hold an image field, so the
//! full parse can be skipped for it.
//!
//! A piece of a stream (see [`super::split`]) is **skipped** only when one of two proofs holds,
//! and is otherwise parsed as usual ([`Verdict::Scan`]); every doubt means "parse":
//!
//! 1. **Never-touched kind.** The document's root is a block mapping whose `kind` is a
//!    never-touched kind (CustomResourceDefinition), shown by its first lines: after the `---`
//!    line, only blank lines, comment lines and one-line `key: plain-value` entries at column 0
//!    up to a `kind: <Kind>` line, followed directly by another column-0 line; no other line of
//!    the document starts with `kind` at column 0 (so no duplicate key can override it, Go keeping
//!    the last); and every column-0 line starts like a plain key (an ASCII letter, digit or `_`),
//!    so no root key can be written another way that Go reads as `kind`: quoted (`"kind"`), as an
//!    alias (`*k`), `!!binary`, an explicit `? ` key, or a `<<` merge that sets it.
//!    The scanner drops every site and finding of such a document.
//! 2. **No trigger words.** For every field rule, some key of its path (e.g. one of
//!    `containers`/`initContainers`/`ephemeralContainers`, or `image`) occurs nowhere in the
//!    document's bytes, and nothing could spell a key in another way: no `\x`, `\u`, `\U` or
//!    escaped line break (double-quoted escapes) anywhere. Keys are compared by decoded text, and
//!    plain, single-quoted and folded text can only produce a word that is in the bytes; and no
//!    `binary` anywhere (a `!!binary` key is base64, so its word is not in the bytes). Aliases and
//!    merge keys only repeat text that is in the document.
//!
//! A skipped piece still has to be counted like the scanner counts it: one document (explicit
//! `---` start, or implicit with content), and one Kubernetes object when its root is a mapping
//! (proved by a first content line `key: ...` at column 0). A root whose `items` is a sequence is
//! a List to Argo CD (`Unstructured.IsList`), which counts its items, so a document with the
//! bytes `items` anywhere is parsed. Pieces holding a second document
//! (`...`, a `---`/`...` after a lone CR) or a directive are parsed too.
//!
//! The rules are data: [`Prefilter::new`] derives the trigger words from the same
//! [`FieldRule`]s the scanner uses, so adding a rule (a kind-scoped `spec.image`, container
//! `args`) adds its keys here with no change to this file. A rule whose match does not depend
//! only on mapping keys can be added as an explicit requirement with
//! [`Prefilter::require_any_of_each`]. **The prefilter must be given every rule the scanner
//! applies**; a rule missing here would make its documents skipped.
//!
//! The caller decides whether a skipped piece is still checked for YAML syntax
//! ([`crate::manifest::fastpath::Strategy`]; `docs/performance.md`).

use memchr::{memchr_iter, memmem};

use super::split::is_doc_start;
use crate::manifest::fields::{FieldRule, Seg};

/// What to do with one piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Run the full scanner.
    Scan,
    /// Cannot hold a site or finding (no trigger words); counts as this many documents and
    /// objects.
    Skip { documents: usize, objects: usize },
    /// One document, one object, of a never-touched kind (proof 1).
    NeverTouched,
}

/// The trigger words of a rule set, ready to search.
pub struct Prefilter {
    /// Per rule: all of these groups must be present, a group being present when any of its
    /// words occurs.
    rules: Vec<Vec<Vec<memmem::Finder<'static>>>>,
    /// Kinds whose documents the scanner drops entirely.
    never_touched: Vec<&'static str>,
    /// `items`: a List's items are counted, not the List.
    list: memmem::Finder<'static>,
    /// `binary`: a `!!binary` key spells a word not in the bytes.
    binary: memmem::Finder<'static>,
    kind_line: memmem::Finder<'static>,
}

impl Prefilter {
    /// Trigger words from the key segments of `rules`; `never_touched` as in
    /// [`crate::manifest::fields::NEVER_TOUCHED_KINDS`].
    pub fn new(rules: &[FieldRule], never_touched: &[(&'static str, &'static str)]) -> Prefilter {
        let mut p = Prefilter {
            rules: Vec::new(),
            never_touched: never_touched.iter().map(|(k, _)| *k).collect(),
            list: memmem::Finder::new("items"),
            binary: memmem::Finder::new("binary"),
            kind_line: memmem::Finder::new("\nkind"),
        };
        for r in rules {
            let groups: Vec<&'static [&'static str]> = r
                .suffix
                .iter()
                .filter_map(|s| match s {
                    Seg::Key(names) => Some(*names),
                    Seg::Index => None,
                })
                .collect();
            p.require_any_of_each(&groups);
        }
        p
    }

    /// Adds a rule that can only match in a document containing, for each group, at least one
    /// of its words (e.g. `[["containers", "initContainers"], ["image"]]`). An empty list of
    /// groups means "always parse"; so does an empty word.
    pub fn require_any_of_each<G, W>(&mut self, groups: &[G])
    where
        G: AsRef<[W]>,
        W: AsRef<str>,
    {
        self.rules.push(
            groups
                .iter()
                .map(|g| {
                    g.as_ref()
                        .iter()
                        .map(|w| memmem::Finder::new(w.as_ref().as_bytes()).into_owned())
                        .collect()
                })
                .collect(),
        );
    }

    /// The verdict for one piece from [`super::split::pieces`] (or a whole stream).
    pub fn check(&self, piece: &str) -> Verdict {
        let b = piece.as_bytes();
        let b = b.strip_prefix("\u{feff}".as_bytes()).unwrap_or(b);
        let explicit = is_doc_start(b, 0);
        if !single_document(b) {
            return Verdict::Scan;
        }
        // The rest of the `---` line must be empty or a comment.
        let mut lines = Lines { b, pos: 0 };
        if explicit {
            let first = lines.next().unwrap_or(&[]);
            let rest = trim_ws(&first[3..]);
            if !(rest.is_empty() || rest[0] == b'#') {
                return Verdict::Scan;
            }
        }
        // The first content line.
        let content = loop {
            match lines.next() {
                None => {
                    return Verdict::Skip {
                        documents: usize::from(explicit),
                        objects: 0,
                    }
                }
                Some(l) if is_blank_or_comment(l) => continue,
                Some(l) => break l,
            }
        };
        if simple_key(content).is_none() {
            return Verdict::Scan;
        }
        // Root is a block mapping: one document, one object (unless it is a List, below).
        let skip = Verdict::Skip {
            documents: 1,
            objects: 1,
        };
        if self.never_touched_kind(b, content, &mut lines) {
            return Verdict::NeverTouched;
        }
        if self.list.find(b).is_some() || escape_hazard(b) || self.binary.find(b).is_some() {
            return Verdict::Scan;
        }
        let possible = self.rules.iter().any(|groups| {
            groups
                .iter()
                .all(|group| group.iter().any(|f| f.find(b).is_some()))
        });
        if possible {
            Verdict::Scan
        } else {
            skip
        }
    }

    /// Proof 1 (module docs). `first` is the first content line, `lines` positioned after it.
    fn never_touched_kind(&self, b: &[u8], first: &[u8], lines: &mut Lines<'_>) -> bool {
        let mut line = first;
        loop {
            if !is_blank_or_comment(line) {
                let Some((key, value)) = simple_key(line) else {
                    return false;
                };
                let Some(value) = simple_value(value) else {
                    return false;
                };
                if key == b"kind" {
                    let Ok(kind) = std::str::from_utf8(value) else {
                        return false;
                    };
                    if !self.never_touched.contains(&kind) {
                        return false;
                    }
                    // The next line must be a column-0 line (no continuation of the value).
                    if let Some(next) = lines.next() {
                        if matches!(next.first(), None | Some(b' ' | b'\t' | b'\r')) {
                            return false;
                        }
                    }
                    // Exactly one column-0 line starting with `kind`, and every column-0 line
                    // starting like a plain key.
                    let at_start = usize::from(b.starts_with(b"kind"));
                    return at_start + self.kind_line.find_iter(b).count() == 1
                        && plain_keys_at_column_0(b);
                }
            }
            match lines.next() {
                Some(l) => line = l,
                None => return false,
            }
        }
    }
}

/// Lines without their `\n` (a `\r` before it stays).
struct Lines<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.b.len() {
            return None;
        }
        let rest = &self.b[self.pos..];
        let n = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        self.pos += n + 1;
        Some(&rest[..n])
    }
}

fn trim_ws(l: &[u8]) -> &[u8] {
    let mut l = l;
    while let [b' ' | b'\t' | b'\r', rest @ ..] = l {
        l = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = l {
        l = rest;
    }
    l
}

fn is_blank_or_comment(l: &[u8]) -> bool {
    let t = trim_ws(l);
    t.is_empty() || t[0] == b'#'
}

/// No second document can start inside the piece: no `...` marker, no `---`/`...` after a lone
/// CR, no lone CR at all (a line break the line logic here would not see), no `---` at column 0
/// after the start, no directive.
fn single_document(b: &[u8]) -> bool {
    for p in memchr_iter(b'\r', b) {
        if b.get(p + 1) != Some(&b'\n') {
            return false;
        }
    }
    if b.starts_with(b"...") || b.starts_with(b"%") {
        return false;
    }
    for pat in [&b"\n..."[..], b"\n---", b"\n%"] {
        if memmem::find(b, pat).is_some() {
            return false;
        }
    }
    true
}

/// `key: rest` with a plain key of `[A-Za-z0-9_][A-Za-z0-9_./-]*` at column 0 and a separator
/// (`: `, `:\t` or `:` at the end of the line). Such a line cannot be anything but an entry of
/// the root block mapping (a plain scalar cannot contain `: `).
fn simple_key(l: &[u8]) -> Option<(&[u8], &[u8])> {
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    if !l.first()?.is_ascii_alphanumeric() && l[0] != b'_' {
        return None;
    }
    let colon = l
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'-')))?;
    if l[colon] != b':' {
        return None;
    }
    let rest = &l[colon + 1..];
    match rest.first() {
        None => Some((&l[..colon], rest)),
        Some(b' ' | b'\t') => Some((&l[..colon], rest)),
        _ => None,
    }
}

/// A one-line plain value starting with an ASCII letter or digit (no quotes, flow collection,
/// block scalar, anchor, tag or alias), without its comment and trailing blanks. An empty value
/// (a nested block follows) is not simple.
fn simple_value(rest: &[u8]) -> Option<&[u8]> {
    let v = trim_ws(rest);
    if !v.first()?.is_ascii_alphanumeric() {
        return None;
    }
    let end = v
        .windows(2)
        .position(|w| matches!(w, [b' ' | b'\t', b'#']))
        .unwrap_or(v.len());
    Some(trim_ws(&v[..end]))
}

/// Every line that starts at column 0 with something other than a blank, a comment or a line
/// break starts like a plain key (`[A-Za-z0-9_]`), as `simple_key` requires; the piece's own
/// `---` line aside.
fn plain_keys_at_column_0(b: &[u8]) -> bool {
    let first = if is_doc_start(b, 0) {
        Vec::new()
    } else {
        vec![0]
    };
    let starts = first
        .into_iter()
        .chain(memchr_iter(b'\n', b).map(|p| p + 1));
    starts.filter_map(|p| b.get(p)).all(|&c| {
        c.is_ascii_alphanumeric() || matches!(c, b'_' | b' ' | b'\t' | b'#' | b'\r' | b'\n')
    })
}

/// A double-quoted escape that could spell a letter (`\x`, `\u`, `\U`) or join two lines
/// (`\` before a line break) might hide a trigger word; `\/` is refused by Go (the scanner
/// reports it).
fn escape_hazard(b: &[u8]) -> bool {
    memchr_iter(b'\\', b).any(|p| {
        matches!(
            b.get(p + 1),
            Some(b'x' | b'u' | b'U' | b'\n' | b'\r' | b'/')
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::fields::{BUILTIN, NEVER_TOUCHED_KINDS};

    fn v(t: &str) -> Verdict {
        Prefilter::new(BUILTIN, NEVER_TOUCHED_KINDS).check(t)
    }
    const SKIP1: Verdict = Verdict::Skip {
        documents: 1,
        objects: 1,
    };

    #[test]
    fn verdicts() {
        let crd = "---\n# Source: x\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x\nspec:\n  containers: {image: a}\n";
        assert_eq!(v(crd), Verdict::NeverTouched);
        assert_eq!(v(&crd.replace('\n', "\r\n")), Verdict::NeverTouched);
        assert_eq!(v(&format!("{crd}kind: Deployment\n")), Verdict::Scan);
        assert_eq!(v(&crd.replace("kind: C", "kind: \"C")), Verdict::Scan);
        assert_eq!(
            v(&crd.replace("Definition\n", "Definition\n  x\n")),
            Verdict::Scan
        );
        assert_eq!(
            v(&crd.replace("apiVersion: a", "apiVersion: \"a")),
            Verdict::Scan
        );
        assert_eq!(v("---\napiVersion: v1\nkind: Service\nspec: {}\n"), SKIP1);
        assert_eq!(v("apiVersion: v1\nkind: Service\n"), SKIP1);
        assert_eq!(v("apiVersion: v1\nkind: ServiceList\n"), SKIP1);
        assert_eq!(
            v("apiVersion: v1\nkind: Bundle\nitems: []\n"),
            Verdict::Scan
        );
        // Root keys Go may read as `kind` although no line starts with it.
        for spelling in [
            "\"kind\": Pod",
            "'kind': Pod",
            "<<: {kind: Pod}",
            "*k : Pod",
            "!!binary a2luZA==: Pod",
            "? kind\n: Pod",
            "&a kind: Pod",
        ] {
            assert_eq!(
                v(&format!("{crd}{spelling}\n")),
                Verdict::Scan,
                "{spelling}"
            );
        }
        assert_eq!(
            v("apiVersion: v1\nkind: Service\nspec:\n  !!binary Y29udGFpbmVycw==: [{image: a}]\n"),
            Verdict::Scan
        );
        assert_eq!(
            v("---\n# only a comment\n"),
            Verdict::Skip {
                documents: 1,
                objects: 0
            }
        );
        assert_eq!(
            v("# only a comment\n"),
            Verdict::Skip {
                documents: 0,
                objects: 0
            }
        );
        assert_eq!(
            v("\u{feff}"),
            Verdict::Skip {
                documents: 0,
                objects: 0
            }
        );
        assert_eq!(v("---\n- a\n"), Verdict::Scan);
        assert_eq!(v("--- x\n"), Verdict::Scan);
        assert_eq!(v("a: b\n...\n"), Verdict::Scan);
        assert_eq!(
            v("kind: Pod\nspec: {containers: [{image: a}]}\n"),
            Verdict::Scan
        );
        assert_eq!(
            v("kind: Pod\nspec: {volumes: [{image: {reference: a}}]}\n"),
            Verdict::Scan
        );
        assert_eq!(
            v("kind: Pod\nspec: {\"c\\u006Fntainers\": 1}\n"),
            Verdict::Scan
        );
        assert_eq!(v("kind: Pod\nspec: {containers: []}\n"), SKIP1);
    }
}
