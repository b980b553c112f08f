//! The fast path: read a whole manifest stream into one [`Scan`], skipping what provably holds no
//! image field, reading the rest with the quick reader where it is sure, in parallel — with
//! exactly the result of one full parse ([`Strategy::Full`]), errors included.
//!
//! A stream is first cut into *segments* (the whole text, or each object of a concatenated JSON
//! stream, which YAML cannot read as one), each segment into *pieces* at document markers
//! ([`super::split`]); the [`super::prefilter`] proves pieces skippable; a skipped piece is still
//! validated (its documents counted, its syntax and Argo CD's acceptance checked by a bare read)
//! unless [`Strategy::Fast`] says otherwise. Any doubt or error falls back to the full parse of
//! the segment, so errors are reported exactly as without the fast path.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::fields::{FieldSet, BUILTIN, NEVER_TOUCHED_KINDS};
use super::prefilter::{Prefilter, Verdict};
use super::yaml::{ParseLimits, YamlError};
use super::{split, Finding, Scan, Span};

/// How [`read_stream`] reads a stream (and so how `rewrite::plan_with` plans). For valid input every strategy gives the same plan (same
/// records, documents, objects, warnings; proved by `tests/fastpath.rs`); errors are reported
/// exactly as by [`Strategy::Full`], because any problem in the fast path re-runs the full parse
/// of that input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// One full parse of each input, start to end: the reference.
    Full,
    /// Split each input at document markers ([`super::split`]), skip the documents that
    /// [`super::prefilter`] proves cannot hold an image field, and scan the rest in parallel. Skipped
    /// documents are still read by the bare parser (syntax only, no path tracking), except
    /// documents of a never-touched kind (CustomResourceDefinitions, most of the bytes of real
    /// streams): those are **not** checked for YAML syntax (see `docs/performance.md`), so bad
    /// input there passes through. Only for measurements (`PULLTHROUGH_PLAN=fast`).
    Fast,
    /// [`Strategy::Fast`], but never-touched documents are read by the bare parser too, so a
    /// syntax error anywhere fails the run as with [`Strategy::Full`]. The default: the whole
    /// stream is checked before anything is written.
    #[default]
    FastValidated,
}

impl Strategy {
    /// The strategy named by `PULLTHROUGH_PLAN` (`full`, `fast`, `validated`), a knob for
    /// benchmarks and differential checks; anything else is the default.
    pub fn from_name(name: Option<&str>) -> Strategy {
        match name {
            Some("full") => Strategy::Full,
            Some("fast") => Strategy::Fast,
            _ => Strategy::FastValidated,
        }
    }
}

/// The scan of a whole stream, spans relative to `text`, documents numbered across segments.
/// Fails with the first error in stream order, its line counted in the whole text.
pub fn read_stream(
    text: &str,
    limits: ParseLimits,
    fields: &FieldSet,
    strategy: Strategy,
) -> Result<Scan, YamlError> {
    // The prefilter must know every field rule the scanner applies.
    let prefilter = (strategy != Strategy::Full).then(|| {
        let mut p = Prefilter::new(BUILTIN, NEVER_TOUCHED_KINDS);
        match fields.trigger_words() {
            Some(words) => p.require_any_of_each(&[words]),
            None => p.require_any_of_each::<[String; 0], String>(&[]),
        }
        p
    });
    let mut out = Scan::default();
    for seg in segments(text) {
        let seg_text = &text[seg.clone()];
        let fast = prefilter.as_ref().and_then(|p| {
            scan_pieces(
                seg_text,
                limits,
                fields,
                p,
                strategy == Strategy::FastValidated,
            )
        });
        let scan = match fast {
            Some(scan) => scan,
            None => super::scan(seg_text, limits, fields).map_err(|e| {
                let line = if seg.start == 0 {
                    e.line
                } else {
                    super::line_col(text, seg.start).0 + e.line - 1
                };
                YamlError {
                    line,
                    col: e.col,
                    msg: e.msg,
                }
            })?,
        };
        append(&mut out, scan, seg.start, text);
    }
    Ok(out)
}

/// Byte ranges of the independent pieces of `text`: the whole text, or, for a stream of
/// concatenated JSON objects (which Argo CD's decoder accepts but YAML does not), each object.
#[allow(clippy::single_range_in_vec_init)] // one segment: the whole text, on purpose
fn segments(text: &str) -> Vec<Range<usize>> {
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if !trimmed.starts_with('{') {
        return vec![0..text.len()];
    }
    let start = text.len() - trimmed.len();
    let mut out = Vec::new();
    let mut it = serde_json::Deserializer::from_str(trimmed).into_iter::<serde::de::IgnoredAny>();
    let mut prev = 0;
    while let Some(item) = it.next() {
        if item.is_err() {
            return vec![0..text.len()];
        }
        let end = it.byte_offset();
        out.push(start + prev..start + end);
        prev = end;
    }
    if out.len() <= 1 {
        return vec![0..text.len()];
    }
    // The tail (whitespace) belongs to the last object; the head to the first.
    out[0].start = 0;
    if let Some(last) = out.last_mut() {
        last.end = text.len();
    }
    out
}

/// The fast path for one segment: the same [`Scan`] the full parse gives, assembled
/// from its pieces, or `None` when the text cannot be split safely or any piece fails (the
/// caller then parses the segment whole, which reports the first error in stream order).
/// Pieces are worked on in batches of [`BATCH_BYTES`], each batch giving one scan, so memory
/// grows with the images found, not with the number of documents.
fn scan_pieces(
    text: &str,
    limits: ParseLimits,
    fields: &FieldSet,
    pre: &Prefilter,
    validate_all: bool,
) -> Option<Scan> {
    let batches = split::batches(text, BATCH_BYTES)?;
    let one_piece = |t: &str| -> Option<Scan> {
        let (documents, objects, check) = match pre.check(t) {
            Verdict::Skip { documents, objects } => (documents, objects, true),
            Verdict::NeverTouched => (1, 1, validate_all),
            Verdict::Scan => {
                // A decline, whatever its reason, means: read it again with the full parser.
                return super::scan_quick(t, limits, fields)
                    .ok()
                    .or_else(|| super::scan(t, limits, fields).ok());
            }
        };
        // The bare parser must agree on the document count, too.
        if check && parse_only(t, limits)? != documents {
            return None;
        }
        Some(Scan {
            documents,
            objects,
            ..Scan::default()
        })
    };
    let one_batch = |i: usize| -> Option<Scan> {
        let bt = &text[batches[i].clone()];
        let mut out = Scan::default();
        for r in split::pieces(bt)? {
            let start = r.start;
            append(&mut out, one_piece(&bt[r])?, start, bt);
        }
        Some(out)
    };
    let results = in_parallel(batches.len(), text.len(), one_batch)?;
    let mut out = Scan::default();
    for (range, scan) in batches.iter().zip(results) {
        append(&mut out, scan, range.start, text);
    }
    Some(out)
}

/// Bytes of pieces handed to a worker at once (see [`scan_pieces`]).
const BATCH_BYTES: usize = 256 << 10;

/// Adds `scan` of the text at `off` in `text` to `out`: its spans and document numbers shifted.
fn append(out: &mut Scan, scan: Scan, off: usize, text: &str) {
    let shift = |s: Span| Span::within(s.start() + off, s.end() + off, text).expect("piece span");
    let doc_base = out.documents;
    for mut site in scan.sites {
        site.doc += doc_base;
        site.span = shift(site.span);
        out.sites.push(site);
    }
    for f in scan.findings {
        out.findings.push(match f {
            Finding::AliasOfImage { doc, anchor, span } => Finding::AliasOfImage {
                doc: doc + doc_base,
                anchor,
                span: shift(span),
            },
            Finding::SharedImage { doc, span } => Finding::SharedImage {
                doc: doc + doc_base,
                span: shift(span),
            },
            Finding::NotAnObject { span, what } => Finding::NotAnObject {
                span: shift(span),
                what,
            },
            Finding::GoRefuses { span, refusal } => Finding::GoRefuses {
                span: shift(span),
                refusal,
            },
        });
    }
    out.documents += scan.documents;
    out.objects += scan.objects;
}

/// The number of documents in `text` by the bare parser, or `None` on a syntax error.
/// Also `None` when a document is not one Argo CD accepts as it stands (root not a mapping or
/// null, no string `kind`) or when the document needs the scanner's reading to tell (an alias, a
/// root key that is a merge, tagged or a collection): the full scan then reports or decides it.
fn parse_only(text: &str, limits: ParseLimits) -> Option<usize> {
    use super::quick::Sink;
    let mut counter = DocumentCounter::new(text);
    if super::quick::read(text, limits, &mut counter).is_err() {
        // The quick reader was unsure: what it counted is thrown away, the full parser reads.
        counter = DocumentCounter::new(text);
        for ev in super::yaml::events(text, limits) {
            let (ev, span) = ev.ok()?;
            counter.event(ev, span);
        }
    }
    (!counter.unsure).then_some(counter.docs)
}

/// Counts documents from either reader's events and checks each document the way the scanner
/// would: a root mapping with a `kind` Go reads as a non-empty string (the last one), or null;
/// nothing Go refuses in a single scalar or key ([`super::scanner::go_refuses_scalar`]), no collection
/// as a key; and nothing that needs the scanner's reading to tell (aliases, tags, merge keys).
/// Any doubt makes the caller scan the piece fully.
struct DocumentCounter<'a> {
    text: &'a str,
    docs: usize,
    /// Per open collection: `Some(expect_key)` for a mapping, `None` for a sequence.
    stack: Vec<Option<bool>>,
    /// The last root key was `kind`.
    at_kind: bool,
    /// The root is a mapping, and whether its last `kind` was a string.
    root_map: bool,
    kind_ok: bool,
    unsure: bool,
}

impl<'a> DocumentCounter<'a> {
    fn new(text: &'a str) -> Self {
        DocumentCounter {
            text,
            docs: 0,
            stack: Vec::new(),
            at_kind: false,
            root_map: false,
            kind_ok: false,
            unsure: false,
        }
    }

    /// A node just completed: its parent mapping expects the other half next.
    fn node_done(&mut self) {
        if let Some(Some(expect_key)) = self.stack.last_mut() {
            *expect_key = !*expect_key;
        }
    }

    fn in_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Some(true)))
    }
}

impl<'a> super::quick::Sink<'a> for DocumentCounter<'a> {
    fn event(&mut self, ev: super::yaml::Ev<'a>, span: Span) {
        use super::yaml::Ev;
        match ev {
            Ev::DocStart => {
                self.stack.clear();
                (self.at_kind, self.root_map, self.kind_ok) = (false, false, false);
            }
            Ev::DocEnd => {
                self.docs += 1;
                self.unsure |= self.root_map && !self.kind_ok;
            }
            Ev::MapStart { .. } | Ev::SeqStart { .. } => {
                let map = matches!(ev, Ev::MapStart { .. });
                if self.stack.is_empty() {
                    self.root_map = map;
                    self.unsure |= !map;
                }
                // A collection as a key, or as the value of the root's `kind`.
                self.unsure |= self.in_key_position();
                if self.stack.len() == 1 && self.at_kind {
                    self.kind_ok = false;
                    self.at_kind = false;
                }
                self.stack.push(map.then_some(true));
            }
            Ev::MapEnd | Ev::SeqEnd => {
                self.stack.pop();
                self.node_done();
            }
            Ev::Scalar {
                ref value,
                style,
                ref tag,
                ..
            } => {
                let key = self.in_key_position();
                self.unsure |= tag.is_some()
                    || super::scanner::go_refuses_scalar(self.text, value, style, None, span, key)
                        .is_some();
                // A merge key at any depth: Go refuses a merge of anything but a mapping (or a
                // sequence of mappings), which only the scanner checks (found by fuzzing: a
                // `<<: c*` in a skipped document passed the fast path, the full parse refused it).
                self.unsure |= key && style == super::yaml::Style::Plain && value == "<<";
                match (self.stack.len(), key) {
                    (0, _) => self.unsure |= !super::is_null(value, style),
                    (1, true) => {
                        self.at_kind = value == "kind";
                    }
                    (1, false) => {
                        if self.at_kind {
                            self.kind_ok =
                                !value.is_empty() && super::go_string(value, style, None);
                        }
                        self.at_kind = false;
                    }
                    _ => {}
                }
                self.node_done();
            }
            Ev::Alias { .. } => self.unsure = true,
            Ev::Other => {}
        }
    }
}

/// Below this many bytes a segment is worked on by the calling thread alone.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// `work(0..n)` in order, on up to `available_parallelism` threads (the caller is one of them),
/// taking items in turn so that a few large items do not leave a thread idle. `None` as soon as
/// any item gives `None`.
fn in_parallel<T: Send>(
    n: usize,
    bytes: usize,
    work: impl Fn(usize) -> Option<T> + Sync,
) -> Option<Vec<T>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(n);
    if threads <= 1 || bytes < PARALLEL_MIN_BYTES {
        return (0..n).map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let run = || {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            match work(i) {
                Some(t) => done.push((i, t)),
                None => failed.store(true, Ordering::Relaxed),
            }
        }
        done
    };
    let parts: Vec<Vec<(usize, T)>> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(run)).collect();
        let mut parts = vec![run()];
        parts.extend(
            helpers
                .into_iter()
                .map(|h| h.join().expect("plan worker panicked")),
        );
        parts
    });
    if failed.load(Ordering::Relaxed) {
        return None;
    }
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for (i, t) in parts.into_iter().flatten() {
        slots[i] = Some(t);
    }
    slots.into_iter().collect()
}
