//! Rewrite: turn scan results and rules into edit records, then apply them.
//!
//! One [`Record`] per image field found: where it is, what it held, the decision, and the byte
//! edit (if any). `explain` prints the records; `apply` splices exactly their edits, so what
//! explain shows is what rewrite does. Every input is scanned and planned before any output is
//! produced; a single problem anywhere fails the whole run with nothing written.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::manifest::fields::{FieldSet, ValueKind, BUILTIN, NEVER_TOUCHED_KINDS};
use crate::manifest::yaml::{ParseLimits, Style};
use crate::manifest::{self, Finding, Object, Site, SiteValue, Span};
use crate::rules::{Decision, Reason, RuleError, Rules};
use crate::settings::Limits;
use crate::splice::{self, Edit};

// The fast path's byte scans live next to the scanner they stand in for.
#[path = "manifest/prefilter.rs"]
pub mod prefilter;
#[path = "manifest/split.rs"]
pub mod split;

use prefilter::{Prefilter, Verdict};

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

/// Scans every input and decides every image. Fails on the first syntax error, a construct the
/// policy refuses (merge key in a container, alias reading a rewritten anchor, multi-line block
/// image), or, with `strict`, an unparseable image.
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

/// One piece's outcome in the fast path.
enum Piece {
    Skipped { documents: usize, objects: usize },
    Scanned(manifest::Scan),
}

/// The fast path for one segment: the same [`manifest::Scan`] the full parse gives, assembled
/// from its pieces, or `None` when the text cannot be split safely or any piece fails (the
/// caller then parses the segment whole, which reports the first error in stream order).
fn scan_pieces(text: &str, limits: ParseLimits, fields: &FieldSet, pre: &Prefilter, validate_all: bool) -> Option<manifest::Scan> {
    let pieces = split::pieces(text)?;
    let one = |i: usize| -> Option<Piece> {
        let t = &text[pieces[i].clone()];
        let (documents, objects, check) = match pre.check(t) {
            Verdict::Skip { documents, objects } => (documents, objects, true),
            Verdict::NeverTouched => (1, 1, validate_all),
            Verdict::Scan => {
                let scan = manifest::scan_quick(t, limits, fields).or_else(|| manifest::scan(t, limits, fields).ok());
                return scan.map(Piece::Scanned);
            }
        };
        // The bare parser must agree on the document count, too.
        if check && parse_only(t, limits)? != documents {
            return None;
        }
        Some(Piece::Skipped { documents, objects })
    };
    let results = in_parallel(pieces.len(), text.len(), one)?;
    let mut out = manifest::Scan::default();
    let shift = |s: Span, off: usize| Span::within(s.start() + off, s.end() + off, text).expect("piece span");
    for (range, piece) in pieces.iter().zip(results) {
        match piece {
            Piece::Skipped { documents, objects } => {
                out.documents += documents;
                out.objects += objects;
            }
            Piece::Scanned(scan) => {
                let (off, doc_base) = (range.start, out.documents);
                for mut site in scan.sites {
                    site.doc += doc_base;
                    site.span = shift(site.span, off);
                    out.sites.push(site);
                }
                for f in scan.findings {
                    out.findings.push(match f {
                        Finding::MergeInContainer { span, path } => Finding::MergeInContainer { span: shift(span, off), path },
                        Finding::AliasOfImage { doc, anchor, span } => {
                            Finding::AliasOfImage { doc: doc + doc_base, anchor, span: shift(span, off) }
                        }
                        Finding::NotAnObject { span, what } => Finding::NotAnObject { span: shift(span, off), what },
                    });
                }
                out.documents += scan.documents;
                out.objects += scan.objects;
            }
        }
    }
    Some(out)
}

/// The number of documents in `text` by the bare parser, or `None` on a syntax error.
/// Also `None` when a document's root is not a mapping (or null): the full scan reports that.
fn parse_only(text: &str, limits: ParseLimits) -> Option<usize> {
    use manifest::quick::Sink;
    let mut counter = DocumentCounter::default();
    if manifest::quick::read(text, limits, &mut counter).is_none() {
        // The quick reader was unsure: what it counted is thrown away, the full parser reads.
        counter = DocumentCounter::default();
        for ev in manifest::yaml::events(text, limits) {
            let (ev, span) = ev.ok()?;
            counter.event(ev, span);
        }
    }
    (!counter.not_an_object).then_some(counter.docs)
}

/// Counts documents from either reader's events and notes a root that is not a mapping or null.
#[derive(Default)]
struct DocumentCounter {
    docs: usize,
    at_root: bool,
    not_an_object: bool,
}

impl<'a> manifest::quick::Sink<'a> for DocumentCounter {
    fn event(&mut self, ev: manifest::yaml::Ev<'a>, _: Span) {
        use manifest::yaml::Ev;
        match ev {
            Ev::DocStart => self.at_root = true,
            Ev::DocEnd => self.docs += 1,
            Ev::MapStart { .. } => self.at_root = false,
            Ev::Scalar { ref value, style, .. } if self.at_root => {
                self.not_an_object |= !manifest::is_null(value, style);
                self.at_root = false;
            }
            Ev::SeqStart { .. } | Ev::Alias { .. } if self.at_root => self.not_an_object = true,
            _ => {}
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
    for site in scan.sites {
        let Site { doc, object, path, span, value, rule, kind, prefix, separator } = site;
        let span = shift(span);
        // A rule whose output is invalid or not final stops the run at the image it was given.
        let decide = |v: &str| {
            decide_value(rules, v, &prefix, separator, kind, object.namespace.as_deref()).map_err(|e| err_at(span.start(), format!("{path}: {e}")))
        };
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
            _ if !rules.enabled() => {}
            Finding::MergeInContainer { span, path } => {
                return Err(err_at(
                    shift(span).start(),
                    format!("{path}: a `<<` merge key inside a container; go-yaml v2 may let it override `image`, so pullthrough will not guess which image Argo CD reads: write the container's fields out"),
                ));
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

/// The decision for a whole field value: the image after `prefix` (an argument's `--flag=`),
/// or each item of a `separator`-split list, decided on its own.
fn decide_value(rules: &Rules, value: &str, prefix: &str, separator: Option<char>, kind: ValueKind, ns: Option<&str>) -> Result<Decision, RuleError> {
    let Some(image) = value.strip_prefix(prefix) else {
        return Ok(Decision { to: None, reason: Reason::Unparseable(format!("does not start with {prefix:?}")) });
    };
    let Some(sep) = separator else {
        let d = rules.decide_as(image, ns, kind)?;
        return Ok(Decision { to: d.to.map(|to| format!("{prefix}{to}")), reason: d.reason });
    };
    let items: Vec<Decision> = image.split(sep).map(|item| rules.decide_as(item, ns, kind)).collect::<Result<_, _>>()?;
    let changed = items.iter().any(|d| d.to.is_some());
    let to = changed.then(|| {
        let parts: Vec<&str> = image.split(sep).zip(&items).map(|(orig, d)| d.to.as_deref().unwrap_or(orig)).collect();
        format!("{prefix}{}", parts.join(&sep.to_string()))
    });
    // The reason of the first item that changed, else of the first item.
    let reason = items.iter().find(|d| d.to.is_some()).or(items.first()).map(|d| d.reason.clone()).unwrap_or(Reason::NoRule(String::new()));
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
