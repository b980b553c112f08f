//! Rewrite: turn scan results and rules into edit records, then apply them.
//!
//! One [`Record`] per image field found: where it is, what it held, the decision, and the byte
//! edit (if any). `explain` prints the records; `apply` splices exactly their edits, so what
//! explain shows is what rewrite does. Every input is scanned and planned before any output is
//! produced; a single problem anywhere fails the whole run with nothing written.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::manifest::fields::{FieldSet, ValueFormat, ValueKind, BUILTIN, NEVER_TOUCHED_KINDS};
use crate::manifest::yaml::{ParseLimits, Style};
use crate::manifest::{self, Finding, Object, Site, SiteValue, Span};
use crate::rules::{Decision, Reason, RuleError, Rules};
use crate::settings::Limits;
use crate::splice::{self, Edit};

use crate::manifest::prefilter::{Prefilter, Verdict};
use crate::manifest::split;

/// One named input text (a file, stdin, or a renderer's output).
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub text: String,
}

impl Input {
    /// Checks size and UTF-8. The error names the input and the place.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>, limits: &Limits) -> Result<Input, RewriteError> {
        let name = name.into();
        if bytes.len() as u64 > limits.max_input_bytes {
            return Err(RewriteError::at(
                &name,
                None,
                format!(
                    "input is {} bytes, over the limit of {} bytes (raise limits.maxInputBytes in the config)",
                    bytes.len(),
                    limits.max_input_bytes
                ),
            ));
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Input { name, text }),
            Err(e) => {
                let off = e.utf8_error().valid_up_to();
                let (line, col) = manifest::line_col(std::str::from_utf8(&e.as_bytes()[..off]).unwrap_or(""), off);
                Err(RewriteError::at(&name, Some((line, col)), "invalid UTF-8".to_string()))
            }
        }
    }
}

/// Options for planning.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Unparseable or non-string images are errors, not warnings.
    pub strict: bool,
    pub limits: Limits,
    /// How the inputs are read; every strategy plans valid input identically.
    pub strategy: Strategy,
}

/// What happened to one image field.
#[derive(Debug, Clone)]
pub struct Record {
    /// Index into the inputs.
    pub input: usize,
    /// 0-based document index across all inputs.
    pub doc: usize,
    /// Byte offset of the field's value in its input.
    pub offset: usize,
    pub object: Object,
    pub path: String,
    /// Which built-in rule, configured field or profile found it.
    pub field: String,
    /// The value as Go reads it (aliases resolved), or a description for non-strings.
    pub before: String,
    pub decision: Decision,
    pub edit: Option<Edit>,
}

/// All records for a set of inputs.
#[derive(Debug, Default)]
pub struct Plan {
    pub records: Vec<Record>,
    /// Printed once each on stderr.
    pub warnings: Vec<String>,
    pub documents: usize,
    /// Kubernetes objects in all inputs (see [`manifest::Scan::objects`]).
    pub objects: usize,
}

/// A problem that stops the run: `name:line:col: msg`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct RewriteError {
    pub input: String,
    pub at: Option<(usize, usize)>,
    pub msg: String,
}

impl RewriteError {
    fn at(input: &str, at: Option<(usize, usize)>, msg: String) -> Self {
        RewriteError { input: input.to_string(), at, msg }
    }
    fn render(&self) -> String {
        match self.at {
            Some((l, c)) => format!("{}:{l}:{c}: {}", self.input, self.msg),
            None => format!("{}: {}", self.input, self.msg),
        }
    }
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

/// Scans every input and decides every image. Fails on the first syntax error, on what Go's
/// reading refuses (see [`manifest::GoRefusal`]), on a construct whose rewrite would change more
/// than an image (an alias reading a rewritten anchor, a multi-line block image, a tagged image
/// the rules would rewrite), or, with `strict`, on an unparseable image.
///
/// Uses `opts.strategy` (by default [`Strategy::FastValidated`]).
pub fn plan(inputs: &[Input], rules: &Rules, opts: &Options) -> Result<Plan, RewriteError> {
    plan_with(inputs, rules, opts, opts.strategy)
}

/// How [`plan_with`] reads the inputs. For valid input every strategy gives the same plan (same
/// records, documents, objects, warnings; proved by `tests/fastpath.rs`); errors are reported
/// exactly as by [`Strategy::Full`], because any problem in the fast path re-runs the full parse
/// of that input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// One full parse of each input, start to end: the reference.
    Full,
    /// Split each input at document markers ([`split`]), skip the documents that
    /// [`prefilter`] proves cannot hold an image field, and scan the rest in parallel. Skipped
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

/// [`plan`] with an explicit [`Strategy`].
pub fn plan_with(inputs: &[Input], rules: &Rules, opts: &Options, strategy: Strategy) -> Result<Plan, RewriteError> {
    let mut plan = Plan::default();
    let limits = ParseLimits { max_depth: opts.limits.max_depth };
    // The prefilter must know every field rule the scanner applies.
    let prefilter = (strategy != Strategy::Full).then(|| {
        let mut p = Prefilter::new(BUILTIN, NEVER_TOUCHED_KINDS);
        match rules.fields().trigger_words() {
            Some(words) => p.require_any_of_each(&[words]),
            None => p.require_any_of_each::<[String; 0], String>(&[]),
        }
        p
    });
    for (i, input) in inputs.iter().enumerate() {
        let text = input.text.as_str();
        let markers = split::markers(text);
        if markers > opts.limits.max_documents {
            return Err(RewriteError::at(
                &input.name,
                None,
                format!(
                    "{markers} documents, over the limit of {} (raise limits.maxDocuments in the config)",
                    opts.limits.max_documents
                ),
            ));
        }
        for seg in segments(text) {
            let seg_text = &text[seg.clone()];
            let fast = prefilter.as_ref().and_then(|p| scan_pieces(seg_text, limits, rules.fields(), p, strategy == Strategy::FastValidated));
            let scan = match fast {
                Some(scan) => scan,
                None => manifest::scan(seg_text, limits, rules.fields()).map_err(|e| {
                    let (line, col) = if seg.start == 0 {
                        (e.line, e.col)
                    } else {
                        let (l0, _) = manifest::line_col(text, seg.start);
                        (l0 + e.line - 1, e.col)
                    };
                    RewriteError::at(&input.name, Some((line, col)), e.msg.clone())
                })?,
            };
            let doc_base = plan.documents;
            plan.documents += scan.documents;
            plan.objects += scan.objects;
            let shift = |s: Span| Span::within(s.start() + seg.start, s.end() + seg.start, text).expect("segment span");
            plan_segment(&mut plan, i, input, scan, doc_base, &shift, rules, opts)?;
        }
    }
    Ok(plan)
}

/// The fast path for one segment: the same [`manifest::Scan`] the full parse gives, assembled
/// from its pieces, or `None` when the text cannot be split safely or any piece fails (the
/// caller then parses the segment whole, which reports the first error in stream order).
/// Pieces are worked on in batches of [`BATCH_BYTES`], each batch giving one scan, so memory
/// grows with the images found, not with the number of documents.
fn scan_pieces(text: &str, limits: ParseLimits, fields: &FieldSet, pre: &Prefilter, validate_all: bool) -> Option<manifest::Scan> {
    let batches = split::batches(text, BATCH_BYTES)?;
    let one_piece = |t: &str| -> Option<manifest::Scan> {
        let (documents, objects, check) = match pre.check(t) {
            Verdict::Skip { documents, objects } => (documents, objects, true),
            Verdict::NeverTouched => (1, 1, validate_all),
            Verdict::Scan => {
                return manifest::scan_quick(t, limits, fields).or_else(|| manifest::scan(t, limits, fields).ok());
            }
        };
        // The bare parser must agree on the document count, too.
        if check && parse_only(t, limits)? != documents {
            return None;
        }
        Some(manifest::Scan { documents, objects, ..manifest::Scan::default() })
    };
    let one_batch = |i: usize| -> Option<manifest::Scan> {
        let bt = &text[batches[i].clone()];
        let mut out = manifest::Scan::default();
        for r in split::pieces(bt)? {
            let start = r.start;
            append(&mut out, one_piece(&bt[r])?, start, bt);
        }
        Some(out)
    };
    let results = in_parallel(batches.len(), text.len(), one_batch)?;
    let mut out = manifest::Scan::default();
    for (range, scan) in batches.iter().zip(results) {
        append(&mut out, scan, range.start, text);
    }
    Some(out)
}

/// Bytes of pieces handed to a worker at once (see [`scan_pieces`]).
const BATCH_BYTES: usize = 256 << 10;

/// Adds `scan` of the text at `off` in `text` to `out`: its spans and document numbers shifted.
fn append(out: &mut manifest::Scan, scan: manifest::Scan, off: usize, text: &str) {
    let shift = |s: Span| Span::within(s.start() + off, s.end() + off, text).expect("piece span");
    let doc_base = out.documents;
    for mut site in scan.sites {
        site.doc += doc_base;
        site.span = shift(site.span);
        out.sites.push(site);
    }
    for f in scan.findings {
        out.findings.push(match f {
            Finding::AliasOfImage { doc, anchor, span } => Finding::AliasOfImage { doc: doc + doc_base, anchor, span: shift(span) },
            Finding::SharedImage { doc, span } => Finding::SharedImage { doc: doc + doc_base, span: shift(span) },
            Finding::NotAnObject { span, what } => Finding::NotAnObject { span: shift(span), what },
            Finding::GoRefuses { span, refusal } => Finding::GoRefuses { span: shift(span), refusal },
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
    use manifest::quick::Sink;
    let mut counter = DocumentCounter::new(text);
    if manifest::quick::read(text, limits, &mut counter).is_none() {
        // The quick reader was unsure: what it counted is thrown away, the full parser reads.
        counter = DocumentCounter::new(text);
        for ev in manifest::yaml::events(text, limits) {
            let (ev, span) = ev.ok()?;
            counter.event(ev, span);
        }
    }
    (!counter.unsure).then_some(counter.docs)
}

/// Counts documents from either reader's events and checks each document the way the scanner
/// would: a root mapping with a `kind` Go reads as a non-empty string (the last one), or null;
/// nothing Go refuses in a single scalar or key ([`manifest::go_refuses_scalar`]), no collection
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
        DocumentCounter { text, docs: 0, stack: Vec::new(), at_kind: false, root_map: false, kind_ok: false, unsure: false }
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

impl<'a> manifest::quick::Sink<'a> for DocumentCounter<'a> {
    fn event(&mut self, ev: manifest::yaml::Ev<'a>, span: Span) {
        use manifest::yaml::Ev;
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
            Ev::Scalar { ref value, style, ref tag, .. } => {
                let key = self.in_key_position();
                self.unsure |= tag.is_some() || manifest::go_refuses_scalar(self.text, value, style, None, span, key).is_some();
                match (self.stack.len(), key) {
                    (0, _) => self.unsure |= !manifest::is_null(value, style),
                    (1, true) => {
                        self.unsure |= style == manifest::yaml::Style::Plain && value == "<<";
                        self.at_kind = value == "kind";
                    }
                    (1, false) => {
                        if self.at_kind {
                            self.kind_ok = !value.is_empty() && manifest::go_string(value, style, None);
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
fn in_parallel<T: Send>(n: usize, bytes: usize, work: impl Fn(usize) -> Option<T> + Sync) -> Option<Vec<T>> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).min(n);
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
        parts.extend(helpers.into_iter().map(|h| h.join().expect("plan worker panicked")));
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

#[allow(clippy::too_many_arguments)]
fn plan_segment(
    plan: &mut Plan,
    input_index: usize,
    input: &Input,
    scan: manifest::Scan,
    doc_base: usize,
    shift: &dyn Fn(Span) -> Span,
    rules: &Rules,
    opts: &Options,
) -> Result<(), RewriteError> {
    let text = input.text.as_str();
    let err_at = |offset: usize, msg: String| RewriteError::at(&input.name, Some(manifest::line_col(text, offset)), msg);
    // Anchors (per document) defined on image scalars, and whether they were rewritten.
    let mut image_anchors: HashMap<(usize, usize), bool> = HashMap::new();
    for site in &scan.sites {
        if let SiteValue::Scalar { anchor, .. } = site.value {
            if anchor != 0 {
                image_anchors.insert((site.doc, anchor), false);
            }
        }
    }
    let mut seen_warning: HashSet<String> = HashSet::new();
    // Edits by byte range, with their text.
    let mut applied: HashMap<(usize, usize), String> = HashMap::new();
    for site in scan.sites {
        let Site { doc, object, path, span, value, rule, kind, prefix, format, qualified, embedded } = site;
        let container = rule == BUILTIN[0].label;
        let span = shift(span);
        // A rule whose output is invalid or not final stops the run at the image it was given.
        let decide = |v: &str| {
            decide_site(rules, v, &prefix, format, kind, object.namespace.as_deref(), qualified, container)
                .map_err(|e| err_at(span.start(), format!("{path}: {e}")))
        };
        if let Some(inner) = &embedded {
            // The value is a document of its own: its records, not one for the whole value.
            let found = match &value {
                SiteValue::Scalar { value, style: Style::Literal, .. } => {
                    plan_embedded(text, input_index, doc_base + doc, &object, &path, span, value, inner, rules, opts, &err_at)?
                }
                _ => Err("it is not a literal block (`|`), so its lines cannot be edited in place".to_string()),
            };
            match found {
                Ok(records) => {
                    for r in records {
                        if let Some(e) = &r.edit {
                            applied.insert((e.span.start(), e.span.end()), e.text.clone());
                        }
                        plan.records.push(r);
                    }
                }
                Err(why) => {
                    let w = err_at(span.start(), format!("{path}: the document embedded here is left as is: {why}")).to_string();
                    if seen_warning.insert(w.clone()) {
                        plan.warnings.push(w);
                    }
                }
            }
            continue;
        }
        let (before, decision, edit) = match value {
            SiteValue::Scalar { value, style, in_flow, anchor, .. } => {
                // A block scalar's value ends with its line break(s) (clip/keep chomping); the
                // image is the text before them, and the splice keeps the breaks.
                let value = match style {
                    Style::Literal | Style::Folded => value.trim_end_matches('\n').to_string(),
                    _ => value,
                };
                let d = decide(&value)?;
                let edit = match &d.to {
                    Some(to) => Some(
                        splice::scalar_edit(text, span, style, in_flow, &value, to)
                            .map_err(|e| err_at(span.start(), format!("{path}: {e}")))?,
                    ),
                    None => None,
                };
                if anchor != 0 && edit.is_some() {
                    image_anchors.insert((doc, anchor), true);
                }
                (value, d, edit)
            }
            SiteValue::Alias { anchor, value: Some(v), in_flow } => {
                if image_anchors.contains_key(&(doc, anchor)) {
                    (v, Decision { to: None, reason: Reason::FollowsAnchor }, None)
                } else {
                    let d = decide(&v)?;
                    let edit = d.to.as_ref().map(|to| Edit { span, text: splice::quote(to, Style::Plain, in_flow) });
                    (v, d, edit)
                }
            }
            SiteValue::Alias { value: None, .. } => {
                let what = "an alias of a collection";
                (span.slice(text).to_string(), Decision { to: None, reason: Reason::NotAString(what) }, None)
            }
            SiteValue::NotString(what) => {
                let src: String = span.slice(text).chars().take(60).collect();
                (src, Decision { to: None, reason: Reason::NotAString(what) }, None)
            }
            SiteValue::Tagged { go_value, tag } => {
                // Go reads an image here; if the rules would rewrite it, leaving it would pull from
                // the internet while explain and the exit status say nothing: refuse.
                let d = decide(&go_value)?;
                if let (Some(to), true) = (&d.to, rules.enabled()) {
                    return Err(err_at(
                        span.start(),
                        format!("{path}: image {go_value:?} is written with the tag {tag}; Go reads it as that string and the rules rewrite it to {to:?}, but pullthrough does not rewrite tagged scalars: write the image as a plain string"),
                    ));
                }
                (go_value, Decision { to: None, reason: d.reason }, None)
            }
        };
        // A bare word in a field that holds an image only when it names a registry is not one.
        if decision.reason == Reason::NotQualified {
            continue;
        }
        // The same bytes reached twice (an image field of an anchored collection and of its
        // alias): one edit, and both readings must agree on it.
        let edit = match edit {
            Some(e) => match applied.get(&(e.span.start(), e.span.end())) {
                Some(prev) if *prev == e.text => None,
                Some(prev) => {
                    return Err(err_at(
                        span.start(),
                        format!("{path}: this image is read at two places through an alias and would become both {prev:?} and {:?}: write the collection out instead of the alias", e.text),
                    ));
                }
                None => {
                    applied.insert((e.span.start(), e.span.end()), e.text.clone());
                    Some(e)
                }
            },
            None => None,
        };
        if let Reason::Unparseable(_) | Reason::NotAString(_) = &decision.reason {
            // Long values (a 10 KB string in an image field) are cut: the message is one line.
            let shown: String = if before.chars().count() > 200 { format!("{}…", before.chars().take(200).collect::<String>()) } else { before.clone() };
            let msg = format!("{path}: image {shown:?} left as is: {}", decision.reason);
            if opts.strict {
                return Err(err_at(span.start(), format!("{msg} (--strict)")));
            }
            let w = err_at(span.start(), msg).to_string();
            if seen_warning.insert(w.clone()) {
                plan.warnings.push(w);
            }
        }
        plan.records.push(Record {
            input: input_index,
            doc: doc_base + doc,
            offset: span.start(),
            object,
            path,
            field: rule,
            before,
            decision,
            edit,
        });
    }
    for f in scan.findings {
        match f {
            // Whatever the rules, Argo CD cannot read such a document: say where, not later and
            // without a position in Argo CD's UI.
            Finding::NotAnObject { span, what } => {
                return Err(err_at(
                    shift(span).start(),
                    format!("document is not a Kubernetes object ({what}); Argo CD reads every document as a mapping"),
                ));
            }
            // Argo CD fails the whole app on these, rewriting or not: say where.
            Finding::GoRefuses { span, refusal } => {
                return Err(err_at(shift(span).start(), refusal.to_string()));
            }
            _ if !rules.enabled() => {}
            Finding::SharedImage { span, .. } => {
                let span = shift(span);
                if applied.keys().any(|&(start, _)| start == span.start()) {
                    return Err(err_at(
                        span.start(),
                        "this image is inside an anchored collection that an alias makes Go read elsewhere too, not as an image; rewriting it would change that value as well: write the collection out instead of the alias".to_string(),
                    ));
                }
            }
            Finding::AliasOfImage { doc, anchor, span } => {
                if image_anchors.get(&(doc, anchor)) == Some(&true) {
                    let span = shift(span);
                    return Err(err_at(
                        span.start(),
                        format!("alias {} reads an anchored image that is being rewritten, outside an image field; rewriting it would change this value too: write the value out instead of the alias", span.slice(text)),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The decision for one site's value: [`decide_value`], except for what is never an image here:
/// Istio's `image: auto` placeholder in a container, and a bare word in a `qualified` field.
#[allow(clippy::too_many_arguments)]
fn decide_site(
    rules: &Rules,
    value: &str,
    prefix: &str,
    format: ValueFormat,
    kind: ValueKind,
    ns: Option<&str>,
    qualified: bool,
    container: bool,
) -> Result<Decision, RuleError> {
    if container && value == ISTIO_AUTO.0 {
        return Ok(Decision { to: None, reason: Reason::Placeholder(ISTIO_AUTO.1) });
    }
    if qualified && !names_a_registry(value.strip_prefix(prefix).unwrap_or(value)) {
        return Ok(Decision { to: None, reason: Reason::NotQualified });
    }
    decide_value(rules, value, prefix, format, kind, ns)
}

/// A container image pullthrough never rewrites, and why.
const ISTIO_AUTO: (&str, &str) = (
    "auto",
    "Istio's injector replaces exactly `image: auto` in a gateway with its proxy image; a rewritten value would be pulled as is and fail",
);

/// The first path component is a registry host (`.`, `:` or `localhost`).
fn names_a_registry(value: &str) -> bool {
    value.split_once('/').is_some_and(|(h, _)| h.contains('.') || h.contains(':') || h == "localhost")
}

/// The records of the image fields of a document embedded in a literal block scalar (a
/// ConfigMap's `helperPod.yaml`): its container images and the `inner` fields, each decided and
/// edited in place in the block's lines. `Ok(Err(why))` (a warning for the caller) when the
/// document does not parse, or an image in it cannot be edited where it stands; `Err` when a
/// rule's output is invalid (as for any image).
#[allow(clippy::too_many_arguments)]
fn plan_embedded(
    text: &str,
    input: usize,
    doc: usize,
    object: &Object,
    outer: &str,
    span: Span,
    value: &str,
    inner: &[crate::manifest::fields::InnerField],
    rules: &Rules,
    opts: &Options,
    err_at: &dyn Fn(usize, String) -> RewriteError,
) -> Result<Result<Vec<Record>, String>, RewriteError> {
    match embedded_records(text, input, doc, object, outer, span, value, inner, rules, opts) {
        Ok(records) => Ok(Ok(records)),
        Err(Embedded::Skip(why)) => Ok(Err(why)),
        Err(Embedded::Rule(at, e)) => Err(err_at(at, e)),
    }
}

enum Embedded {
    Skip(String),
    Rule(usize, String),
}

impl From<String> for Embedded {
    fn from(s: String) -> Self {
        Embedded::Skip(s)
    }
}

impl From<&str> for Embedded {
    fn from(s: &str) -> Self {
        Embedded::Skip(s.to_string())
    }
}

#[allow(clippy::too_many_arguments)]
fn embedded_records(
    text: &str,
    input: usize,
    doc: usize,
    object: &Object,
    outer: &str,
    span: Span,
    value: &str,
    inner: &[crate::manifest::fields::InnerField],
    rules: &Rules,
    opts: &Options,
) -> Result<Vec<Record>, Embedded> {
    use crate::manifest::fields::KindField;
    let fields = FieldSet {
        kinds: inner
            .iter()
            .map(|f| KindField {
                kinds: Vec::new(),
                group: None,
                names: Vec::new(),
                path: f.path.clone(),
                value: f.value,
                format: ValueFormat::default(),
                qualified: f.qualified,
                embedded: None,
                label: f.label.clone(),
            })
            .collect(),
        ..FieldSet::default()
    };
    let limits = ParseLimits { max_depth: opts.limits.max_depth };
    let scan = manifest::scan(value, limits, &fields).map_err(|e| format!("it does not parse as YAML ({e})"))?;
    let lines = splice::literal_lines(text, span).ok_or("its lines do not match its value")?;
    let mut out = Vec::new();
    for site in scan.sites {
        let SiteValue::Scalar { value: v, style, in_flow, .. } = &site.value else { continue };
        if matches!(style, Style::Literal | Style::Folded) {
            continue;
        }
        let container = site.rule == BUILTIN[0].label;
        let path = format!("{outer} ⟶ {}", site.path);
        let d = decide_site(rules, v, "", site.format, site.kind, object.namespace.as_deref(), site.qualified, container)
            .map_err(|e| Embedded::Rule(span.start(), format!("{path}: {e}")))?;
        // Where the scalar's bytes are in the outer text: on one line of the block.
        let (s, e) = (site.span.start(), site.span.end());
        let Some(&(dec, src, len)) = lines.iter().find(|(dec, _, len)| *dec <= s && e <= dec + len) else {
            return Err(format!("{} spans several lines", site.path).into());
        };
        let _ = len;
        let outer_span = Span::within(src + (s - dec), src + (e - dec), text).ok_or("a span outside the block")?;
        if outer_span.slice(text) != site.span.slice(value) {
            return Err(format!("{} is not where its text is", site.path).into());
        }
        if d.reason == Reason::NotQualified {
            continue;
        }
        let edit = match &d.to {
            Some(to) => Some(splice::scalar_edit(text, outer_span, *style, *in_flow, v, to).map_err(|e| Embedded::Skip(e.to_string()))?),
            None => None,
        };
        out.push(Record {
            input,
            doc,
            offset: outer_span.start(),
            object: object.clone(),
            path,
            field: if container { format!("{} (embedded)", site.rule) } else { site.rule.clone() },
            before: v.clone(),
            decision: d,
            edit,
        });
    }
    Ok(out)
}

/// The decision for a whole field value: the image after `prefix` (an argument's `--flag=`),
/// or each item of a list split on `format.separator`, decided on its own; with `format.keyed`
/// each item is `KEY=IMAGE` and only `IMAGE` is decided. Blank items (a list's trailing line
/// break) are kept as they are, and so is the whitespace around an item.
fn decide_value(rules: &Rules, value: &str, prefix: &str, format: ValueFormat, kind: ValueKind, ns: Option<&str>) -> Result<Decision, RuleError> {
    let Some(image) = value.strip_prefix(prefix) else {
        return Ok(Decision { to: None, reason: Reason::Unparseable(format!("does not start with {prefix:?}")) });
    };
    // One item: (decision, the item's text with its decided part replaced).
    let item = |text: &str| -> Result<Option<(Decision, Option<String>)>, RuleError> {
        let trimmed = text.trim();
        if trimmed.is_empty() && format.separator.is_some() {
            return Ok(None);
        }
        let lead = &text[..text.len() - text.trim_start().len()];
        let trail = &text[text.trim_end().len()..];
        let (key, image) = if format.keyed {
            match trimmed.split_once('=') {
                Some((k, v)) => (Some(k), v),
                None => return Ok(Some((Decision { to: None, reason: Reason::Unparseable("no `=` in a KEY=IMAGE item".into()) }, None))),
            }
        } else {
            (None, trimmed)
        };
        let d = rules.decide_as(image, ns, kind)?;
        let to = d.to.as_ref().map(|to| match key {
            Some(k) => format!("{lead}{k}={to}{trail}"),
            None => format!("{lead}{to}{trail}"),
        });
        Ok(Some((d, to)))
    };
    let Some(sep) = format.separator else {
        let Some((d, to)) = item(image)? else { unreachable!("a value without separator is never a blank item") };
        return Ok(Decision { to: to.map(|to| format!("{prefix}{to}")), reason: d.reason });
    };
    let items: Vec<Option<(Decision, Option<String>)>> = image.split(sep).map(item).collect::<Result<_, _>>()?;
    let changed = items.iter().flatten().any(|(_, to)| to.is_some());
    let to = changed.then(|| {
        let parts: Vec<&str> = image
            .split(sep)
            .zip(&items)
            .map(|(orig, d)| d.as_ref().and_then(|(_, to)| to.as_deref()).unwrap_or(orig))
            .collect();
        format!("{prefix}{}", parts.join(&sep.to_string()))
    });
    // The reason of the first item that changed, else of the first item.
    let decided: Vec<&(Decision, Option<String>)> = items.iter().flatten().collect();
    let reason = decided
        .iter()
        .find(|(_, to)| to.is_some())
        .or(decided.first())
        .map(|(d, _)| d.reason.clone())
        .unwrap_or(Reason::NoRule(String::new()));
    Ok(Decision { to, reason })
}

/// Applies the plan's edits to each input and joins the inputs into one stream (a `---` line
/// between inputs, a newline added where an input does not end with one). One input comes out
/// byte for byte except the edited scalars.
pub fn apply(inputs: &[Input], plan: &Plan) -> Result<String, RewriteError> {
    let out = output(inputs, plan)?;
    let mut s = String::with_capacity(out.len());
    for p in &out.parts {
        s.push_str(p);
    }
    Ok(s)
}

/// The output of [`apply`] as slices of the inputs and of the edits' text, in order, so that it
/// can be written without building a copy of the stream: [`Output::write_to`]. Every edit is
/// checked here, so nothing fails once writing starts (except the writer itself).
pub fn output<'a>(inputs: &'a [Input], plan: &'a Plan) -> Result<Output<'a>, RewriteError> {
    let mut per_input: Vec<Vec<&'a Edit>> = vec![Vec::new(); inputs.len()];
    for r in &plan.records {
        if let Some(e) = &r.edit {
            per_input[r.input].push(e);
        }
    }
    let mut parts: Vec<&'a str> = Vec::with_capacity(2 * plan.records.len() + 2 * inputs.len());
    let mut ends_nl = true;
    for (i, (input, mut edits)) in inputs.iter().zip(per_input).enumerate() {
        if i > 0 {
            if !ends_nl {
                parts.push("\n");
            }
            parts.push("---\n");
        }
        let text = input.text.as_str();
        edits.sort_by_key(|e| (e.span.start(), e.span.end()));
        let mut pos = 0;
        for e in edits {
            if e.span.start() < pos {
                return Err(RewriteError::at(&input.name, None, splice::SpliceError::Overlap.to_string()));
            }
            parts.push(&text[pos..e.span.start()]);
            parts.push(&e.text);
            pos = e.span.end();
        }
        parts.push(&text[pos..]);
        if let Some(p) = parts.iter().rev().find(|p| !p.is_empty()) {
            ends_nl = p.ends_with('\n');
        }
    }
    parts.retain(|p| !p.is_empty());
    Ok(Output { parts })
}

/// See [`output`].
#[derive(Debug)]
pub struct Output<'a> {
    parts: Vec<&'a str>,
}

impl Output<'_> {
    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Writes every slice in order (callers wanting one `write` per call should buffer `w`).
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        for p in &self.parts {
            w.write_all(p.as_bytes())?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Output<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.parts.iter().try_for_each(|p| f.write_str(p))
    }
}
