//! The scanner: one pass over a document's YAML events that finds every image field **as Go
//! reads the document** — go-yaml v2 through sigs.k8s.io/yaml, then Argo CD's object model —
//! while keeping the byte span of every scalar it reports.
//!
//! A stack of frames (mapping with its current key, or sequence with its current index) gives
//! each scalar its path; a path ending like one of the rules in [`super::fields`] is an image
//! *site*. Go's reading differs from a naive walk of the text in a few ways, each reproduced here
//! (and proved against the Go oracle in `tests/go_semantics.rs`):
//!
//! * **Duplicate keys: the last one wins.** What was found under an earlier value of a repeated
//!   key (sites, objects, findings) is dropped when the key comes again; `kind`, `apiVersion`,
//!   `metadata`, its `name`/`namespace` and the root `items` are reset when their key is read.
//! * **Aliases are expanded.** The events of every anchored collection are recorded and
//!   *replayed* where an alias names it, so `containers: *list` or `- *ctr` are found. A scalar
//!   reached both as an image and as another value through aliases cannot be rewritten without
//!   changing that other value: that is a finding. The replay counts nodes exactly as go-yaml
//!   v2's decoder does and stops where it would stop ("document contains excessive aliasing").
//! * **Merge keys** (`<<`, plain or `!!merge`) apply the merged mapping's entries at their place
//!   in the mapping: later keys override them, and they override earlier keys; a sequence of
//!   mappings is applied last to first, so the first wins (go-yaml v2 `decoder.merge`).
//! * **Keys** are compared by their decoded value: quoted keys, an alias as a key, and `!!binary`
//!   keys (base64-decoded, as Go decodes them) all count.
//! * **Objects** are Argo CD's: a document root must be a mapping with a string `kind`; a root
//!   whose `items` is a sequence is a List whose items (mappings) are the objects, each decided by
//!   its own kind and namespace (`Unstructured.IsList`); `items: null` without `spec`/`status` is
//!   no object at all (`isNullList` in the repo-server).
//!
//! What Go refuses (a non-mapping root, no `kind`, a List item that is not a mapping, a mapping or
//! sequence used as a key, a merge of a non-mapping, invalid `!!binary`, excessive aliasing) is a
//! [`Finding`], so the run fails with the position instead of passing the bytes to an Argo CD
//! that fails the whole app without one.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;

use base64::Engine as _;

use super::fields::{
    FieldRule, FieldSet, PathSeg, Seg, ValueFormat, ValueKind, CONTAINER_LISTS, NEVER_TOUCHED_KINDS,
};
use super::yaml::{Ev, Style};
use super::{is_null, Finding, GoRefusal, Leak, LeakContext, Object, Scan, Site, SiteValue, Span};

/// Aliases nested (an alias inside a replayed collection naming another) deeper than this are
/// refused: real manifests nest none, and each level costs stack.
pub const MAX_ALIAS_NESTING: usize = 64;

const MERGE_TAG: &str = "tag:yaml.org,2002:merge";
const STR_TAG: &str = "tag:yaml.org,2002:str";
const BINARY_TAG: &str = "tag:yaml.org,2002:binary";
const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

#[derive(Debug, Clone)]
enum Key<'a> {
    None,
    Text(Cow<'a, str>),
    Complex,
}

/// How far the per-document lists had grown at some point; a key's value owns what was added
/// between two marks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Marks {
    sites: usize,
    findings: usize,
    objects: usize,
    leaks: usize,
    visits: usize,
}

/// A key of a mapping whose value produced something (a site, a finding, an object): kept so a
/// later duplicate of the key can drop it, as Go keeps only the last value.
#[derive(Debug)]
struct Live<'a> {
    key: Cow<'a, str>,
    from: Marks,
    to: Marks,
}

#[derive(Debug)]
enum Frame<'a> {
    Map {
        key: Key<'a>,
        expect_key: bool,
        flow: bool,
        /// Index into the document's objects when this mapping is one.
        object: Option<usize>,
        /// The current key is a merge key (`<<`).
        merge: bool,
        /// Marks when the current key was read.
        at_key: Marks,
        live: Vec<Live<'a>>,
    },
    /// `pending_arg`: the previous item was this argument flag, so this item is its image.
    /// `last`: the previous item, when collecting leaks (a flag before an image argument).
    Seq {
        index: usize,
        flow: bool,
        pending_arg: Option<usize>,
        last: Option<Cow<'a, str>>,
    },
}

impl Frame<'_> {
    fn key_is(&self, names: &[&str]) -> bool {
        matches!(self, Frame::Map { key: Key::Text(k), .. } if names.contains(&k.as_ref()))
    }
}

/// An inline mapping (or a replayed anchored one) whose entries are merged into the mapping
/// on top of the frame stack at `depth`.
#[derive(Debug, Clone, Copy)]
struct MergeMark {
    depth: usize,
    flow: bool,
}

/// The `name`/`value` of one container env entry, matched when the entry's mapping ends
/// (the keys may come in either order).
#[derive(Debug, Default)]
struct EnvEntry {
    depth: usize,
    name: Option<String>,
    value: Option<(SiteValue, Span, String)>,
    /// Image-like strings of the value, when collecting leaks (their context, the name, is known
    /// only when the entry ends).
    leaks: Vec<(String, Span, String, ValueFormat)>,
}

/// The root's `items`, as far as Argo CD's List handling cares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Items {
    #[default]
    Absent,
    Sequence,
    Null,
    Other,
}

#[derive(Debug, Default, Clone)]
struct ObjectState {
    obj: Object,
    /// Only meaningful for the root (object 0).
    items: Items,
    has_spec_or_status: bool,
    /// Where the mapping starts (for errors about the object as a whole).
    span: Option<Span>,
}

/// An anchored scalar: what Go reads through an alias of it.
#[derive(Debug, Clone)]
struct AnchoredScalar {
    value: String,
    style: Style,
    tag: Option<String>,
}

/// go-yaml v2's guard against alias bombs (`decoder.unmarshal`): every decoded node counts, nodes
/// decoded through an alias count twice over, and a document whose alias share grows too large is
/// refused. Reproduced so that pullthrough refuses exactly what Argo CD refuses, and never
/// expands more than Go would.
#[derive(Debug, Default)]
struct GoBudget {
    decode: usize,
    alias: usize,
    alias_depth: usize,
    exceeded: bool,
}

impl GoBudget {
    fn allowed_ratio(decode: usize) -> f64 {
        const LOW: usize = 400_000;
        const HIGH: usize = 4_000_000;
        if decode <= LOW {
            0.99
        } else if decode >= HIGH {
            0.10
        } else {
            0.99 - 0.89 * ((decode - LOW) as f64 / (HIGH - LOW) as f64)
        }
    }

    /// One `unmarshal` call; false once Go would have failed.
    fn count(&mut self) -> bool {
        self.decode += 1;
        if self.alias_depth > 0 {
            self.alias += 1;
        }
        if self.alias > 100
            && self.decode > 1000
            && self.alias as f64 / self.decode as f64 > Self::allowed_ratio(self.decode)
        {
            self.exceeded = true;
        }
        !self.exceeded
    }
}

/// Per-document state, reset at each document start.
#[derive(Default)]
struct Doc<'a> {
    objects: Vec<ObjectState>,
    /// (site, innermost object index)
    sites: Vec<(Site, Option<usize>)>,
    findings: Vec<(Finding, Option<usize>)>,
    leaks: Vec<(Leak, Option<usize>)>,
    /// Ranges of `sites`/`findings`/`objects` under values Go overwrote (duplicate keys).
    dead: Vec<(Marks, Marks)>,
    anchored: HashMap<usize, AnchoredScalar>,
    /// Anchors defined on image scalars.
    image_anchors: HashSet<usize>,
    /// Sites that apply only to some kinds: (site index, kind field index).
    conditional: Vec<(usize, usize)>,
    /// Events of anchored collections, and where each anchor's node lies in them.
    rec: Vec<(Ev<'a>, Span)>,
    recording: Vec<(usize, usize, usize)>,
    nodes: HashMap<usize, Range<usize>>,
    /// Anchors whose node is being read (an alias of one refers to itself).
    open_anchors: HashSet<usize>,
    go: GoBudget,
    /// Every read of a scalar inside an anchored collection as a value (its span start), in
    /// order: a log, not a count, so the reads under a value Go overwrote (a duplicate key, even
    /// one whose value is an alias) are dropped with it.
    visits: Vec<usize>,
    refused: bool,
}

pub(super) struct Scanner<'a, 'f> {
    /// The text the events were read from (escapes are checked in the source bytes).
    text: &'a str,
    rules: &'static [FieldRule],
    fields: &'f FieldSet,
    frames: Vec<Frame<'a>>,
    merges: Vec<MergeMark>,
    env: Vec<EnvEntry>,
    doc: Doc<'a>,
    doc_index: usize,
    out: Scan,
    replay_depth: usize,
    /// A merge sequence (`<<: [*a, *b]`) being collected: applied last to first when it ends.
    mute: Option<(usize, Vec<(Ev<'a>, Span)>)>,
    /// The next collection start is an alias's replayed node already reported as a site.
    suppress_value_site: bool,
    /// Also collect image-like strings outside image fields ([`Leak`]s), for `explain`.
    collect: bool,
}

impl<'a, 'f> Scanner<'a, 'f> {
    pub(super) fn new(text: &'a str, rules: &'static [FieldRule], fields: &'f FieldSet) -> Self {
        Scanner {
            text,
            rules,
            fields,
            frames: Vec::new(),
            merges: Vec::new(),
            env: Vec::new(),
            doc: Doc::default(),
            doc_index: 0,
            out: Scan::default(),
            replay_depth: 0,
            mute: None,
            suppress_value_site: false,
            collect: false,
        }
    }

    /// This scanner also collects [`Leak`]s (see [`super::leaks`]).
    pub(super) fn collecting(mut self) -> Self {
        self.collect = true;
        self
    }

    pub(super) fn finish(mut self) -> Scan {
        self.out.documents = self.doc_index;
        self.out
    }

    fn marks(&self) -> Marks {
        Marks {
            sites: self.doc.sites.len(),
            findings: self.doc.findings.len(),
            objects: self.doc.objects.len(),
            leaks: self.doc.leaks.len(),
            visits: self.doc.visits.len(),
        }
    }

    fn refuse(&mut self, span: Span, refusal: GoRefusal) {
        let obj = self.innermost_object();
        self.doc
            .findings
            .push((Finding::GoRefuses { span, refusal }, obj));
        self.doc.refused = true;
    }

    /// One event: the frame stack, object context and sites follow it.
    pub(super) fn event(&mut self, ev: Ev<'a>, span: Span) {
        if self.replay_depth == 0 {
            self.record_anchors(&ev, span);
        }
        if let Some((depth, events)) = &mut self.mute {
            match ev {
                Ev::MapStart { .. } | Ev::SeqStart { .. } => *depth += 1,
                Ev::MapEnd | Ev::SeqEnd => *depth -= 1,
                _ => {}
            }
            let done = *depth == 0;
            if !done {
                events.push((ev, span));
                return;
            }
            let (_, events) = self.mute.take().expect("checked");
            self.merge_sequence(events, span);
            return;
        }
        match ev {
            Ev::DocStart => {
                self.frames.clear();
                self.merges.clear();
                self.env.clear();
                self.doc = Doc::default();
                self.doc.go.count();
            }
            Ev::DocEnd => {
                self.finish_doc();
                self.doc_index += 1;
            }
            Ev::MapStart { flow, .. } => {
                if !self.count_node(span) {
                    return;
                }
                if self.value_of_merge() {
                    // `<<: {…}`: its entries belong to the mapping around it.
                    let flow = flow || self.in_flow();
                    self.merges.push(MergeMark {
                        depth: self.frames.len(),
                        flow,
                    });
                    self.set_expect_key();
                    return;
                }
                self.node_in_value_position(span, "a mapping");
                self.complex_key(span);
                self.root_items_value(Items::Other);
                let object = self.object_position().then(|| {
                    self.doc.objects.push(ObjectState {
                        span: Some(span),
                        ..ObjectState::default()
                    });
                    self.doc.objects.len() - 1
                });
                let flow = flow || self.in_flow();
                if (!self.fields.env.is_empty() || self.collect) && self.at_env_entry() {
                    self.env.push(EnvEntry {
                        depth: self.frames.len(),
                        ..EnvEntry::default()
                    });
                }
                let at_key = self.marks();
                self.frames.push(Frame::Map {
                    key: Key::None,
                    expect_key: true,
                    flow,
                    object,
                    merge: false,
                    at_key,
                    live: Vec::new(),
                });
            }
            Ev::SeqStart { flow, .. } => {
                if self.value_of_merge() {
                    // `<<: [*a, {…}]`: collected, then applied last to first (the first wins).
                    self.mute = Some((1, Vec::new()));
                    return;
                }
                if !self.count_node(span) {
                    return;
                }
                if self.frames.is_empty() {
                    self.doc.findings.push((
                        Finding::NotAnObject {
                            span,
                            what: "a sequence",
                        },
                        None,
                    ));
                }
                self.node_in_value_position(span, "a sequence");
                self.complex_key(span);
                self.not_a_list_item(span, true);
                self.root_items_value(Items::Sequence);
                let flow = flow || self.in_flow();
                self.frames.push(Frame::Seq {
                    index: 0,
                    flow,
                    pending_arg: None,
                    last: None,
                });
            }
            Ev::MapEnd => {
                if self
                    .merges
                    .last()
                    .is_some_and(|m| m.depth == self.frames.len())
                {
                    self.merges.pop();
                    self.merge_done();
                    return;
                }
                self.end_collection();
            }
            Ev::SeqEnd => self.end_collection(),
            Ev::Scalar {
                value,
                style,
                anchor,
                tag,
            } => {
                if self.in_key_position() && is_merge_key(&value, style, tag.as_deref()) {
                    // The merge key itself is not a node Go decodes.
                    if let Some(Frame::Map { merge, .. }) = self.frames.last_mut() {
                        *merge = true;
                    }
                    self.advance();
                    return;
                }
                if !self.count_node(span) {
                    return;
                }
                if self.value_of_merge() {
                    self.refuse(span, GoRefusal::MergeOfNonMapping);
                    self.merge_done();
                    return;
                }
                // Only a root scalar can be "not an object"; resolving every scalar's plain
                // value here would cost a tenth of the scan.
                if self.frames.is_empty() && !is_null(&value, style) {
                    self.doc.findings.push((
                        Finding::NotAnObject {
                            span,
                            what: "a scalar",
                        },
                        None,
                    ));
                }
                self.not_a_list_item(span, true);
                if !self.in_key_position() {
                    self.root_items_value(if is_null(&value, style) && tag.is_none() {
                        Items::Null
                    } else {
                        Items::Other
                    });
                }
                let suspect = tag.is_some()
                    || match style {
                        Style::DoubleQuoted => {
                            memchr::memchr(b'\\', span.slice(self.text).as_bytes()).is_some()
                        }
                        Style::Plain => {
                            value.len() <= 5
                                && matches!(
                                    value.as_bytes().first(),
                                    None | Some(b'~' | b'n' | b'N' | b'.' | b'+' | b'-')
                                )
                        }
                        _ => false,
                    };
                if suspect {
                    if let Some(r) = go_refuses_scalar(
                        self.text,
                        &value,
                        style,
                        tag.as_deref(),
                        span,
                        self.in_key_position(),
                    ) {
                        self.refuse(span, r);
                    }
                }
                self.scalar(value, style, anchor, tag, span);
                self.advance();
            }
            Ev::Alias { anchor } => {
                if !self.count_node(span) {
                    return;
                }
                if self.frames.is_empty() {
                    self.doc.findings.push((
                        Finding::NotAnObject {
                            span,
                            what: "an alias",
                        },
                        None,
                    ));
                }
                self.alias(anchor, span);
            }
            Ev::Other => {}
        }
    }

    /// Go's node count for one node (see [`GoBudget`]); false (and a finding, once) when Go
    /// would have refused the document by now.
    fn count_node(&mut self, span: Span) -> bool {
        if self.doc.go.exceeded {
            return false;
        }
        if self.doc.go.count() {
            return true;
        }
        self.refuse(span, GoRefusal::ExcessiveAliasing);
        false
    }

    /// Records the events of anchored collections (outside replays), and anchored scalars, so
    /// that an alias can be read as Go reads it: the anchored node once more.
    fn record_anchors(&mut self, ev: &Ev<'a>, span: Span) {
        let (anchor, collection) = match ev {
            Ev::MapStart { anchor, .. } | Ev::SeqStart { anchor, .. } => (*anchor, true),
            Ev::Scalar { anchor, .. } => (*anchor, false),
            Ev::MapEnd | Ev::SeqEnd | Ev::Alias { .. } => (0, false),
            Ev::DocStart | Ev::DocEnd | Ev::Other => return,
        };
        if anchor != 0 {
            if let Ev::Scalar {
                value, style, tag, ..
            } = ev
            {
                self.doc.anchored.insert(
                    anchor,
                    AnchoredScalar {
                        value: value.to_string(),
                        style: *style,
                        tag: tag.clone(),
                    },
                );
            } else {
                self.doc.recording.push((anchor, self.doc.rec.len(), 0));
                self.doc.open_anchors.insert(anchor);
            }
        }
        if self.doc.recording.is_empty() && anchor == 0 {
            return;
        }
        let at = self.doc.rec.len();
        self.doc.rec.push((ev.clone(), span));
        if anchor != 0 && !collection {
            self.doc.nodes.insert(anchor, at..at + 1);
        }
        let mut closed = Vec::new();
        for (i, r) in self.doc.recording.iter_mut().enumerate() {
            match ev {
                Ev::MapStart { .. } | Ev::SeqStart { .. } => r.2 += 1,
                Ev::MapEnd | Ev::SeqEnd => {
                    r.2 -= 1;
                    if r.2 == 0 {
                        closed.push(i);
                    }
                }
                _ => {}
            }
        }
        for i in closed.into_iter().rev() {
            let (anchor, start, _) = self.doc.recording.remove(i);
            self.doc.open_anchors.remove(&anchor);
            self.doc.nodes.insert(anchor, start..at + 1);
        }
    }

    /// Feeds recorded events through the scanner again, as Go decodes the aliased node again.
    fn replay(&mut self, events: &[(Ev<'a>, Span)], at: Span) {
        if self.replay_depth >= MAX_ALIAS_NESTING {
            self.refuse(at, GoRefusal::AliasNesting);
            return;
        }
        self.replay_depth += 1;
        for (ev, span) in events {
            if self.doc.go.exceeded {
                break;
            }
            self.event(ev.clone(), *span);
        }
        self.replay_depth -= 1;
    }

    fn node_events(&self, anchor: usize) -> Option<Vec<(Ev<'a>, Span)>> {
        self.doc
            .nodes
            .get(&anchor)
            .map(|r| self.doc.rec[r.clone()].to_vec())
    }

    fn alias(&mut self, anchor: usize, span: Span) {
        if self.doc.open_anchors.contains(&anchor) {
            self.refuse(span, GoRefusal::AnchorContainsItself);
            return;
        }
        let scalar = self.doc.anchored.get(&anchor).cloned();
        if self.value_of_merge() {
            match self.node_events(anchor) {
                Some(events)
                    if scalar.is_none()
                        && matches!(events.first(), Some((Ev::MapStart { .. }, _))) =>
                {
                    self.merge_mapping(&events, span, true);
                }
                _ => self.refuse(span, GoRefusal::MergeOfNonMapping),
            }
            self.merge_done();
            return;
        }
        if let Some(sc) = scalar {
            // Go decodes the anchored scalar once more, through the alias.
            self.doc.go.alias_depth += 1;
            let ok = self.count_node(span);
            self.doc.go.alias_depth -= 1;
            if !ok {
                return;
            }
            self.scalar_alias(anchor, sc, span);
            self.advance();
            return;
        }
        let Some(events) = self.node_events(anchor) else {
            // Unknown anchors are the parser's error; nothing to read here.
            self.advance();
            return;
        };
        if self.in_key_position() {
            self.complex_key(span);
            self.advance();
            return;
        }
        if let Some(m) = self.matching_field() {
            // An image field holding a collection, through an alias: left as is (warned at the
            // alias; the replayed collection does not report itself once more).
            self.push_site(
                span,
                SiteValue::Alias {
                    anchor,
                    value: None,
                    in_flow: self.in_flow(),
                },
                m,
                String::new(),
                ValueFormat::default(),
            );
            self.suppress_value_site = true;
        }
        self.doc.go.alias_depth += 1;
        self.replay(&events, span);
        self.doc.go.alias_depth -= 1;
    }

    /// `*name` of an anchored scalar: in a key position it is that key; in an image field a site
    /// of its own (its token is replaced); elsewhere it may read an image (a finding).
    fn scalar_alias(&mut self, anchor: usize, sc: AnchoredScalar, span: Span) {
        if self.in_key_position() {
            if self.doc.image_anchors.contains(&anchor) {
                let obj = self.innermost_object();
                self.doc.findings.push((
                    Finding::AliasOfImage {
                        doc: self.doc_index,
                        anchor,
                        span,
                    },
                    obj,
                ));
            }
            let key = key_text(Cow::Owned(sc.value), sc.tag.as_deref());
            match key {
                Ok(k) => self.set_key(k, span),
                Err(r) => self.refuse(span, r),
            }
            return;
        }
        self.not_a_list_item(span, true);
        self.root_items_value(if is_null(&sc.value, sc.style) && sc.tag.is_none() {
            Items::Null
        } else {
            Items::Other
        });
        if go_string(&sc.value, sc.style, sc.tag.as_deref()) {
            self.record_metadata(&sc.value);
        }
        if let Some(m) = self.matching_field() {
            let in_flow = self.in_flow();
            self.push_site(
                span,
                SiteValue::Alias {
                    anchor,
                    value: Some(sc.value),
                    in_flow,
                },
                m,
                String::new(),
                ValueFormat::default(),
            );
        } else if self.doc.image_anchors.contains(&anchor) {
            let obj = self.innermost_object();
            self.doc.findings.push((
                Finding::AliasOfImage {
                    doc: self.doc_index,
                    anchor,
                    span,
                },
                obj,
            ));
        }
    }

    /// The entries of a mapping (its recorded events, outer start/end included) merged into the
    /// mapping on top of the stack. `through_alias`: decoded again through an alias.
    fn merge_mapping(&mut self, events: &[(Ev<'a>, Span)], at: Span, through_alias: bool) {
        let Some((Ev::MapStart { flow, .. }, start)) = events.first() else {
            return;
        };
        if through_alias {
            self.doc.go.alias_depth += 1;
        }
        // The merged mapping itself is a node Go decodes; its events are replayed without it.
        if self.count_node(*start) {
            let flow = *flow || self.in_flow();
            self.merges.push(MergeMark {
                depth: self.frames.len(),
                flow,
            });
            self.set_expect_key();
            self.replay(&events[1..events.len() - 1], at);
            self.merges.pop();
        }
        if through_alias {
            self.doc.go.alias_depth -= 1;
        }
    }

    /// `<<: [a, b, …]` ends: go-yaml v2 applies the items last to first, so the first wins.
    fn merge_sequence(&mut self, events: Vec<(Ev<'a>, Span)>, end: Span) {
        let mut items: Vec<Range<usize>> = Vec::new();
        let mut depth = 0usize;
        let mut start = 0;
        for (i, (ev, _)) in events.iter().enumerate() {
            match ev {
                Ev::MapStart { .. } | Ev::SeqStart { .. } => {
                    if depth == 0 {
                        start = i;
                    }
                    depth += 1;
                }
                Ev::MapEnd | Ev::SeqEnd => {
                    depth -= 1;
                    if depth == 0 {
                        items.push(start..i + 1);
                    }
                }
                Ev::Other => {}
                _ if depth == 0 => items.push(i..i + 1),
                _ => {}
            }
        }
        for r in items.into_iter().rev() {
            if self.doc.go.exceeded {
                break;
            }
            let item = &events[r];
            match item.first() {
                Some((Ev::MapStart { .. }, _)) => self.merge_mapping(item, end, false),
                Some((Ev::Alias { anchor }, span)) => {
                    let (anchor, span) = (*anchor, *span);
                    if !self.count_node(span) {
                        break;
                    }
                    match self.node_events(anchor) {
                        Some(ev)
                            if !self.doc.anchored.contains_key(&anchor)
                                && matches!(ev.first(), Some((Ev::MapStart { .. }, _))) =>
                        {
                            self.merge_mapping(&ev, span, true)
                        }
                        _ => self.refuse(span, GoRefusal::MergeOfNonMapping),
                    }
                }
                Some((_, span)) => {
                    let span = *span;
                    self.refuse(span, GoRefusal::MergeOfNonMapping);
                }
                None => {}
            }
        }
        self.merge_done();
    }

    /// The value of a merge key has been applied: the mapping waits for its next key.
    fn merge_done(&mut self) {
        if let Some(Frame::Map {
            key,
            expect_key,
            merge,
            ..
        }) = self.frames.last_mut()
        {
            *key = Key::None;
            *expect_key = true;
            *merge = false;
        }
    }

    fn set_expect_key(&mut self) {
        if let Some(Frame::Map {
            key,
            expect_key,
            merge,
            ..
        }) = self.frames.last_mut()
        {
            *key = Key::None;
            *expect_key = true;
            *merge = false;
        }
    }

    /// The node starting now is the value of a merge key.
    fn value_of_merge(&self) -> bool {
        matches!(
            self.frames.last(),
            Some(Frame::Map {
                merge: true,
                expect_key: false,
                ..
            })
        )
    }

    fn end_collection(&mut self) {
        self.frames.pop();
        if self
            .env
            .last()
            .is_some_and(|e| e.depth == self.frames.len())
        {
            let entry = self.env.pop().expect("checked");
            self.finish_env_entry(entry);
        }
        self.advance();
    }

    /// True when the top frame is a mapping waiting for a key.
    fn in_key_position(&self) -> bool {
        matches!(
            self.frames.last(),
            Some(Frame::Map {
                expect_key: true,
                ..
            })
        )
    }

    fn in_flow(&self) -> bool {
        if let Some(m) = self.merges.last().filter(|m| m.depth == self.frames.len()) {
            return m.flow;
        }
        match self.frames.last() {
            Some(Frame::Map { flow, .. }) | Some(Frame::Seq { flow, .. }) => *flow,
            None => false,
        }
    }

    /// A collection used as a mapping key: Go's YAML-to-JSON conversion refuses it.
    fn complex_key(&mut self, span: Span) {
        if let Some(Frame::Map {
            key,
            expect_key: true,
            ..
        }) = self.frames.last_mut()
        {
            *key = Key::Complex;
            self.refuse(span, GoRefusal::CollectionKey);
        }
    }

    /// The current key of the top mapping is `key`: a duplicate drops what the earlier value
    /// produced, and the object fields it names are reset (the value sets them again).
    fn set_key(&mut self, key: Cow<'a, str>, _span: Span) {
        let now = self.marks();
        let depth = self.frames.len();
        let mut dead = None;
        // Only `name`/`namespace` of an object's `metadata` need the parent frame.
        let parent_object = match (key.as_ref(), depth.checked_sub(2).map(|i| &self.frames[i])) {
            (
                "name" | "namespace",
                Some(Frame::Map {
                    key: Key::Text(k),
                    object: Some(o),
                    ..
                }),
            ) if k == "metadata" => Some(*o),
            _ => None,
        };
        let Some(Frame::Map {
            key: k,
            object,
            at_key,
            live,
            ..
        }) = self.frames.last_mut()
        else {
            return;
        };
        if let Some(i) = live.iter().position(|l| l.key == key) {
            let l = live.remove(i);
            dead = Some((l.from, l.to));
        }
        *at_key = now;
        let object = *object;
        *k = Key::Text(key);
        if let Some((from, to)) = dead {
            self.doc.dead.push((from, to));
        }
        let Some(Frame::Map {
            key: Key::Text(k), ..
        }) = self.frames.last()
        else {
            return;
        };
        if let Some(o) = object {
            let st = &mut self.doc.objects[o];
            match k.as_ref() {
                "kind" => st.obj.kind = None,
                "apiVersion" => st.obj.api_version = None,
                "metadata" => {
                    st.obj.name = None;
                    st.obj.namespace = None;
                }
                "items" if o == 0 => st.items = Items::Absent,
                "spec" | "status" => st.has_spec_or_status = true,
                _ => {}
            }
        } else if let Some(o) = parent_object {
            match k.as_ref() {
                "name" => self.doc.objects[o].obj.name = None,
                "namespace" => self.doc.objects[o].obj.namespace = None,
                _ => {}
            }
        }
    }

    /// After a complete node: a mapping flips between key and value (remembering a value that
    /// produced something), a sequence counts.
    fn advance(&mut self) {
        let now = self.marks();
        match self.frames.last_mut() {
            Some(Frame::Map {
                key,
                expect_key,
                merge,
                at_key,
                live,
                ..
            }) => {
                if *expect_key {
                    *expect_key = false;
                } else {
                    if let (Key::Text(k), false) = (&*key, *merge) {
                        if now != *at_key {
                            live.push(Live {
                                key: k.clone(),
                                from: *at_key,
                                to: now,
                            });
                        }
                    }
                    *expect_key = true;
                    *merge = false;
                    *key = Key::None;
                }
            }
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }

    /// A mapping starting here is a Kubernetes object: the document root, or an item of the
    /// root's `items:` sequence (whether the root is a List is decided when the document ends).
    fn object_position(&self) -> bool {
        match self.frames.as_slice() {
            [] => true,
            [root @ Frame::Map { .. }, Frame::Seq { .. }] => root.key_is(&["items"]),
            _ => false,
        }
    }

    /// A node that is an item of the root's `items` sequence but not a mapping: Argo CD's List
    /// flattening refuses it ("items member is not an object").
    fn not_a_list_item(&mut self, span: Span, not_a_map: bool) {
        if not_a_map && self.frames.len() == 2 && self.object_position() {
            let obj = Some(0);
            self.doc.findings.push((
                Finding::GoRefuses {
                    span,
                    refusal: GoRefusal::ListItemNotAnObject,
                },
                obj,
            ));
        }
    }

    /// The value of the root's `items` key starts here.
    fn root_items_value(&mut self, v: Items) {
        if self.frames.len() != 1 {
            return;
        }
        if let [root @ Frame::Map {
            expect_key: false,
            object: Some(0),
            ..
        }] = self.frames.as_slice()
        {
            if root.key_is(&["items"]) {
                self.doc.objects[0].items = v;
            }
        }
    }

    /// The field matching the current value position, if any: a built-in rule, or configured
    /// kind fields (conditional on the object's kind, checked when the document ends).
    fn matching_field(&self) -> Option<Match> {
        if self.in_key_position() {
            return None;
        }
        if let Some(rule) = self
            .rules
            .iter()
            .find(|rule| suffix_matches(rule.suffix, &self.frames))
        {
            return Some(Match {
                label: rule.label.to_string(),
                kind: ValueKind::Image,
                cond: Vec::new(),
            });
        }
        if self.fields.kinds.is_empty() {
            return None;
        }
        let depth = self.object_depth()?;
        let rel = &self.frames[depth..];
        let cond: Vec<usize> = self
            .fields
            .kinds
            .iter()
            .enumerate()
            .filter(|(_, f)| path_matches(&f.path, rel))
            .map(|(i, _)| i)
            .collect();
        let first = *cond.first()?;
        Some(Match {
            label: self.fields.kinds[first].label.clone(),
            kind: self.fields.kinds[first].value,
            cond,
        })
    }

    /// The frame index of the innermost object mapping.
    fn object_depth(&self) -> Option<usize> {
        self.frames.iter().rposition(|f| {
            matches!(
                f,
                Frame::Map {
                    object: Some(_),
                    ..
                }
            )
        })
    }

    fn innermost_object(&self) -> Option<usize> {
        self.frames.iter().rev().find_map(|f| match f {
            Frame::Map { object, .. } => *object,
            _ => None,
        })
    }

    fn path(&self) -> String {
        let mut p = String::new();
        for f in &self.frames {
            match f {
                Frame::Map { key, .. } => {
                    if !p.is_empty() {
                        p.push('.');
                    }
                    match key {
                        Key::Text(k) => p.push_str(k),
                        Key::None | Key::Complex => p.push('?'),
                    }
                }
                Frame::Seq { index, .. } => {
                    let _ = write!(p, "[{index}]");
                }
            }
        }
        p
    }

    fn push_site(
        &mut self,
        span: Span,
        value: SiteValue,
        m: Match,
        prefix: String,
        format: ValueFormat,
    ) {
        self.push_site_at(self.path(), span, value, m, prefix, format);
    }

    fn push_site_at(
        &mut self,
        path: String,
        span: Span,
        value: SiteValue,
        m: Match,
        prefix: String,
        format: ValueFormat,
    ) {
        if let SiteValue::Scalar { anchor, .. } = value {
            if anchor != 0 {
                self.doc.image_anchors.insert(anchor);
            }
        }
        let site = Site {
            doc: self.doc_index,
            object: Object::default(),
            path,
            span,
            value,
            rule: m.label,
            kind: m.kind,
            prefix,
            format,
            qualified: false,
            embedded: None,
        };
        let obj = self.innermost_object();
        if !m.cond.is_empty() {
            for c in m.cond {
                self.doc.conditional.push((self.doc.sites.len(), c));
            }
        }
        self.doc.sites.push((site, obj));
    }

    fn node_in_value_position(&mut self, span: Span, what: &'static str) {
        if std::mem::take(&mut self.suppress_value_site) {
            return;
        }
        if let Some(m) = self.matching_field() {
            self.push_site(
                span,
                SiteValue::NotString(what),
                m,
                String::new(),
                ValueFormat::default(),
            );
        }
    }

    /// A mapping starting here is an item of a container's `env` list.
    fn at_env_entry(&self) -> bool {
        let n = self.frames.len();
        n >= 4
            && matches!(self.frames[n - 1], Frame::Seq { .. })
            && self.frames[n - 2].key_is(&["env"])
            && matches!(self.frames[n - 3], Frame::Seq { .. })
            && self.frames[n - 4].key_is(CONTAINER_LISTS)
    }

    /// The top frame is the `args` or `command` list of a container.
    fn in_container_args(&self) -> bool {
        let n = self.frames.len();
        n >= 4
            && matches!(self.frames[n - 1], Frame::Seq { .. })
            && self.frames[n - 2].key_is(&["args", "command"])
            && matches!(self.frames[n - 3], Frame::Seq { .. })
            && self.frames[n - 4].key_is(CONTAINER_LISTS)
    }

    /// A container argument: `--flag=IMAGE` is a site (the prefix kept), `--flag` makes the next
    /// item a site.
    fn arg(&mut self, value: &str, site_value: &SiteValue, span: Span) {
        let pending = match self.frames.last_mut() {
            Some(Frame::Seq { pending_arg, .. }) => pending_arg.take(),
            _ => None,
        };
        if let Some(i) = pending {
            let f = &self.fields.args[i];
            let m = Match {
                label: f.label.clone(),
                kind: f.value,
                cond: Vec::new(),
            };
            self.push_site(
                span,
                site_value.clone(),
                m,
                String::new(),
                ValueFormat::default(),
            );
            return;
        }
        for (i, f) in self.fields.args.iter().enumerate() {
            if value == f.flag {
                if let Some(Frame::Seq { pending_arg, .. }) = self.frames.last_mut() {
                    *pending_arg = Some(i);
                }
                return;
            }
            if let Some(rest) = value.strip_prefix(f.flag.as_str()) {
                if rest.starts_with('=') {
                    let m = Match {
                        label: f.label.clone(),
                        kind: f.value,
                        cond: Vec::new(),
                    };
                    self.push_site(
                        span,
                        site_value.clone(),
                        m,
                        format!("{}=", f.flag),
                        ValueFormat::default(),
                    );
                    return;
                }
            }
        }
    }

    fn finish_env_entry(&mut self, e: EnvEntry) {
        if let Some(name) = &e.name {
            let obj = self.innermost_object();
            for (token, span, path, format) in e.leaks {
                let whole = format == ValueFormat::default();
                let context = LeakContext::Env {
                    name: name.clone(),
                    format,
                };
                self.doc.leaks.push((
                    Leak {
                        doc: self.doc_index,
                        object: Object::default(),
                        path,
                        span,
                        token,
                        whole,
                        context,
                    },
                    obj,
                ));
            }
        }
        let (Some(name), Some((value, span, path))) = (e.name, e.value) else {
            return;
        };
        if let Some(f) = self.fields.env.iter().find(|f| f.name.is_match(&name)) {
            let m = Match {
                label: format!("{} ({name})", f.label),
                kind: f.value,
                cond: Vec::new(),
            };
            let format = f.format;
            self.push_site_at(path, span, value, m, String::new(), format);
        }
    }

    fn scalar(
        &mut self,
        value: Cow<'a, str>,
        style: Style,
        anchor: usize,
        tag: Option<String>,
        span: Span,
    ) {
        if self.in_key_position() {
            match key_text(value, tag.as_deref()) {
                Ok(k) => self.set_key(k, span),
                Err(r) => {
                    self.refuse(span, r);
                    if let Some(Frame::Map { key, .. }) = self.frames.last_mut() {
                        *key = Key::Complex;
                    }
                }
            }
            return;
        }
        if self.replay_depth > 0 || !self.doc.recording.is_empty() {
            self.doc.visits.push(span.start());
        }
        // Whether Go reads a string here is resolved only where it matters: for the object
        // fields kept and for explain's report (resolving every scalar costs a tenth of the scan).
        if self.metadata_position() && go_string(&value, style, tag.as_deref()) {
            self.record_metadata(&value);
        }
        if self.collect && go_string(&value, style, tag.as_deref()) {
            self.collect_leaks(&value, span);
        }
        let in_flow = self.in_flow();
        let site_value = || site_value(&value, style, in_flow, anchor, tag.as_deref());
        if !self.fields.args.is_empty() && self.in_container_args() {
            let v = site_value();
            self.arg(&value, &v, span);
            return;
        }
        if let Some(entry) = self.env.last_mut() {
            if entry.depth + 1 == self.frames.len() {
                match &self.frames[entry.depth] {
                    Frame::Map {
                        key: Key::Text(k), ..
                    } if k == "name" => entry.name = Some(value.to_string()),
                    Frame::Map {
                        key: Key::Text(k), ..
                    } if k == "value" => {
                        let v = site_value();
                        let path = self.path();
                        if let Some(entry) = self.env.last_mut() {
                            entry.value = Some((v, span, path));
                        }
                    }
                    _ => {}
                }
                return;
            }
        }
        let Some(m) = self.matching_field() else {
            return;
        };
        let v = site_value();
        self.push_site(span, v, m, String::new(), ValueFormat::default());
    }

    /// Image-like tokens of a value read as a string ([`image_like_tokens`]), with where they
    /// stand: an env value (named when its entry ends), a container argument (after which
    /// flag), or any other field. Whether an image field already covers them is for the caller.
    // `&Cow`, not `&str`: the previous sequence item keeps a clone, free while it borrows.
    #[allow(clippy::ptr_arg)]
    fn collect_leaks(&mut self, value: &Cow<'a, str>, span: Span) {
        let prev = match self.frames.last_mut() {
            Some(Frame::Seq { last, .. }) => last.replace(value.clone()),
            _ => None,
        };
        let tokens = image_like_tokens(value);
        if tokens.is_empty() {
            return;
        }
        let path = self.path();
        let whole = tokens.len() == 1 && tokens[0] == value.trim();
        // How a field rule would have to read this value to reach the tokens.
        let format = if whole {
            ValueFormat::default()
        } else {
            let separator = if value.trim().contains('\n') {
                Some('\n')
            } else if value.contains(',') {
                Some(',')
            } else {
                None
            };
            let keyed = value
                .lines()
                .any(|l| l.contains('=') && !l.trim_start().starts_with('-'));
            ValueFormat { separator, keyed }
        };
        if let Some(entry) = self.env.last_mut() {
            if entry.depth + 1 == self.frames.len() && self.frames[entry.depth].key_is(&["value"]) {
                for t in tokens {
                    entry.leaks.push((t, span, path.clone(), format));
                }
                return;
            }
        }
        let context = if self.in_container_args() {
            let own = value
                .starts_with('-')
                .then(|| value.split_once('=').map(|(f, _)| f.to_string()))
                .flatten();
            LeakContext::Arg {
                flag: own.or_else(|| {
                    prev.filter(|p| p.starts_with('-') && !p.contains('='))
                        .map(|p| p.to_string())
                }),
            }
        } else {
            LeakContext::Field
        };
        let obj = self.innermost_object();
        for token in tokens {
            let leak = Leak {
                doc: self.doc_index,
                object: Object::default(),
                path: path.clone(),
                span,
                token,
                whole,
                context: context.clone(),
            };
            self.doc.leaks.push((leak, obj));
        }
    }

    /// Records `kind`, `apiVersion`, `metadata.name` and `metadata.namespace` of objects (only
    /// values Go reads as strings; the key's reset in [`Self::set_key`] makes the last one win).
    /// The top frame's current key is `kind`/`apiVersion` of an object, or `name`/`namespace`
    /// of an object's `metadata`.
    fn metadata_position(&self) -> bool {
        let n = self.frames.len();
        match self.frames.last() {
            Some(Frame::Map {
                key: Key::Text(k),
                object: Some(_),
                ..
            }) => matches!(k.as_ref(), "kind" | "apiVersion"),
            Some(Frame::Map {
                key: Key::Text(k),
                object: None,
                ..
            }) if n >= 2 && matches!(k.as_ref(), "name" | "namespace") => {
                matches!(&self.frames[n - 2], Frame::Map { key: Key::Text(p), object: Some(_), .. } if p == "metadata")
            }
            _ => false,
        }
    }

    fn record_metadata(&mut self, value: &str) {
        let n = self.frames.len();
        let Some(Frame::Map {
            key: Key::Text(key),
            object,
            ..
        }) = self.frames.last()
        else {
            return;
        };
        if let Some(o) = object {
            let field = match key.as_ref() {
                "kind" => &mut self.doc.objects[*o].obj.kind,
                "apiVersion" => &mut self.doc.objects[*o].obj.api_version,
                _ => return,
            };
            *field = Some(value.to_string());
            return;
        }
        if n < 2 {
            return;
        }
        if let Frame::Map {
            key: Key::Text(parent),
            object: Some(o),
            ..
        } = &self.frames[n - 2]
        {
            if parent == "metadata" {
                let o = *o;
                match key.as_ref() {
                    "name" => self.doc.objects[o].obj.name = Some(value.to_string()),
                    "namespace" => self.doc.objects[o].obj.namespace = Some(value.to_string()),
                    _ => {}
                }
            }
        }
    }

    fn finish_doc(&mut self) {
        let doc = std::mem::take(&mut self.doc);
        // What Go overwrote (duplicate keys) is gone.
        let mut dead_sites = vec![false; doc.sites.len()];
        let mut dead_findings = vec![false; doc.findings.len()];
        let mut dead_objects = vec![false; doc.objects.len()];
        let mut dead_leaks = vec![false; doc.leaks.len()];
        let mut dead_visits = vec![false; doc.visits.len()];
        for (from, to) in &doc.dead {
            dead_leaks[from.leaks..to.leaks].fill(true);
            dead_visits[from.visits..to.visits].fill(true);
            dead_sites[from.sites..to.sites].fill(true);
            dead_findings[from.findings..to.findings].fill(true);
            dead_objects[from.objects..to.objects].fill(true);
        }
        let root = doc.objects.first().cloned().unwrap_or_default();
        let is_list = root.items == Items::Sequence;
        let null_list = root.items == Items::Null && !root.has_spec_or_status;
        let items = doc
            .objects
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(i, _)| !dead_objects[*i])
            .count();
        self.out.objects += match doc.objects.len() {
            0 => 0,
            _ if is_list => items,
            _ if null_list => 0,
            _ => 1,
        };
        let mut findings: Vec<(Finding, Option<usize>)> = doc
            .findings
            .into_iter()
            .zip(dead_findings)
            .filter(|(_, dead)| !dead)
            .map(|(f, _)| f)
            .collect();
        // Argo CD reads every document into an Unstructured, which needs a string `kind`.
        if !doc.objects.is_empty()
            && root.obj.kind.as_deref().is_none_or(str::is_empty)
            && !doc.refused
        {
            if let Some(span) = root.span {
                findings.push((
                    Finding::GoRefuses {
                        span,
                        refusal: GoRefusal::MissingKind,
                    },
                    Some(0),
                ));
            }
        }
        let object_of = |obj: Option<usize>| -> Object {
            match obj {
                Some(i) if is_list && i > 0 => doc.objects[i].obj.clone(),
                _ => root.obj.clone(),
            }
        };
        let never_touched = |o: &Object| {
            o.kind
                .as_deref()
                .is_some_and(|k| NEVER_TOUCHED_KINDS.iter().any(|(n, _)| *n == k))
        };
        // A List is a wrapper: its items are the objects, whatever the wrapper's own kind.
        let root_untouched = !is_list && never_touched(&root.obj);
        for (finding, obj) in findings {
            let refusal = matches!(
                finding,
                Finding::GoRefuses { .. } | Finding::NotAnObject { .. }
            );
            if refusal || (!root_untouched && !never_touched(&object_of(obj))) {
                self.out.findings.push(finding);
            }
        }
        if root_untouched {
            return;
        }
        for (i, (mut leak, obj)) in doc.leaks.into_iter().enumerate() {
            if dead_leaks[i] || obj.is_some_and(|o| dead_objects[o]) {
                continue;
            }
            leak.object = object_of(obj);
            if !never_touched(&leak.object) {
                self.out.leaks.push(leak);
            }
        }
        let mut cond: HashMap<usize, Vec<usize>> = HashMap::new();
        for (site, field) in &doc.conditional {
            cond.entry(*site).or_default().push(*field);
        }
        // A scalar of an anchored collection read as a value more often than as an image field
        // is also read elsewhere: rewriting its bytes would change that other value too.
        let mut visits: HashMap<usize, u32> = HashMap::new();
        for (i, &at) in doc.visits.iter().enumerate() {
            if !dead_visits[i] {
                *visits.entry(at).or_insert(0) += 1;
            }
        }
        // In text order (a BTreeMap), so the finding reported first is the same whatever the
        // hasher, and the same on the fast path and the full parse (found by fuzzing).
        let mut site_reads: BTreeMap<usize, (u32, Span)> = BTreeMap::new();
        for (i, (mut site, obj)) in doc.sites.into_iter().enumerate() {
            if dead_sites[i] || obj.is_some_and(|o| dead_objects[o]) {
                continue;
            }
            site.object = object_of(obj);
            if never_touched(&site.object) {
                continue;
            }
            if let Some(fields) = cond.get(&i) {
                // Its path was taken from an `items[i]` mapping, which is an object only in a
                // List; elsewhere that path does not start at an object root.
                let from_item = obj.is_some_and(|o| o > 0);
                if from_item && !is_list {
                    continue;
                }
                // The first of the matching entries whose kinds, group and names fit names the site;
                // for an embedded document, every fitting embedded entry adds its inner fields.
                let fitting: Vec<usize> = fields
                    .iter()
                    .copied()
                    .filter(|&f| kind_matches(&self.fields.kinds[f], &site.object))
                    .collect();
                let Some(&f) = fitting.first() else { continue };
                let field = &self.fields.kinds[f];
                site.rule = field.label.clone();
                site.kind = field.value;
                site.format = field.format;
                site.qualified = field.qualified;
                if field.embedded.is_some() {
                    let inner = fitting
                        .iter()
                        .filter_map(|&g| {
                            let e = &self.fields.kinds[g];
                            e.embedded.as_ref().map(|paths| {
                                paths.iter().map(move |p| super::fields::InnerField {
                                    path: p.clone(),
                                    value: e.value,
                                    qualified: e.qualified,
                                    label: e.label.clone(),
                                })
                            })
                        })
                        .flatten()
                        .collect();
                    site.embedded = Some(inner);
                }
            }
            if let SiteValue::Scalar { .. } = site.value {
                if visits.contains_key(&site.span.start()) {
                    site_reads
                        .entry(site.span.start())
                        .or_insert((0, site.span))
                        .0 += 1;
                }
            }
            self.out.sites.push(site);
        }
        for (start, (reads, span)) in site_reads {
            if visits.get(&start).is_some_and(|&v| v > reads) {
                self.out.findings.push(Finding::SharedImage {
                    doc: self.doc_index,
                    span,
                });
            }
        }
    }
}

/// What go-yaml v2 or the JSON conversion after it refuses in a single scalar: a null key (no
/// JSON key for it), a value that does not fit its core tag (`!!int abc`), invalid `!!binary`,
/// an infinite or NaN float (no JSON number for it), a `\/` escape (YAML 1.2 only).
pub(super) fn go_refuses_scalar(
    text: &str,
    value: &str,
    style: Style,
    tag: Option<&str>,
    span: Span,
    key: bool,
) -> Option<GoRefusal> {
    use super::yaml11::{resolve_plain, Resolved};
    if style == Style::DoubleQuoted && has_slash_escape(span.slice(text)) {
        return Some(GoRefusal::UnknownEscape);
    }
    // Untagged, the only refusals are a null key and an infinite/NaN number: decided without
    // resolving every scalar (that would cost a tenth of the scan).
    if tag.is_none() {
        if style != Style::Plain {
            return None;
        }
        if key {
            return matches!(value, "" | "~" | "null" | "Null" | "NULL")
                .then_some(GoRefusal::NullKey);
        }
        let inf_or_nan = value.len() <= 5
            && value.trim_start_matches(['+', '-']).starts_with('.')
            && is_inf_or_nan(value);
        return inf_or_nan.then_some(GoRefusal::NotAJsonNumber);
    }
    let resolved = match tag {
        None => unreachable!("handled above"),
        Some(t) => {
            let core = t.strip_prefix(CORE_TAG_PREFIX)?;
            let r = resolve_plain(value);
            let fits = match core {
                "int" => r == Resolved::Int,
                "float" => matches!(r, Resolved::Int | Resolved::Float),
                "bool" => r == Resolved::Bool,
                "null" => r == Resolved::Null,
                "timestamp" => r == Resolved::Timestamp,
                "binary" => decode_binary(value).is_some(),
                _ => true,
            };
            if !fits {
                return Some(if core == "binary" {
                    GoRefusal::BadBinary
                } else {
                    GoRefusal::BadTaggedValue
                });
            }
            match core {
                "null" => Resolved::Null,
                "float" if r == Resolved::Float => Resolved::Float,
                _ => Resolved::Str,
            }
        }
    };
    if key {
        return (resolved == Resolved::Null).then_some(GoRefusal::NullKey);
    }
    (resolved == Resolved::Float && is_inf_or_nan(value)).then_some(GoRefusal::NotAJsonNumber)
}

/// `.inf`, `-.Inf`, `.NaN` … (YAML 1.1 spellings; Go's JSON encoder has no value for them).
fn is_inf_or_nan(value: &str) -> bool {
    let v = value.trim_start_matches(['+', '-']).to_ascii_lowercase();
    v == ".inf" || v == ".nan"
}

/// A double-quoted scalar's source holds the escape `\/`, which YAML 1.2 has and go-yaml v2's
/// YAML 1.1 scanner refuses ("found unknown escape character").
fn has_slash_escape(src: &str) -> bool {
    let b = src.as_bytes();
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'\\', &b[i..]) {
        let at = i + p;
        if b.get(at + 1) == Some(&b'/') {
            return true;
        }
        i = at + 2;
        if i >= b.len() {
            break;
        }
    }
    false
}

/// Go's `base64.StdEncoding.DecodeString`, which skips line breaks.
fn decode_binary(value: &str) -> Option<Vec<u8>> {
    let clean: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .ok()
}

/// The tokens of a string value that look like an image with an explicit registry: split at
/// whitespace, `,` and quotes; a `KEY=` or `--flag=` before the image dropped; kept when the
/// first path component is a registry host (`.`, `:` or `localhost`), there is a tag or a
/// digest, and the token parses as an image reference. Long values (a 1 MB dashboard) are read
/// up to 64 KiB only: explain's report is advice, not a guarantee.
pub(super) fn image_like_tokens(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    if !value.contains('/') {
        return out;
    }
    let mut end = value.len().min(64 << 10);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let head = &value[..end];
    for raw in head.split(|c: char| {
        c.is_whitespace() || matches!(c, ',' | '"' | '\'' | '[' | ']' | '(' | ')' | ';')
    }) {
        let t = raw.rsplit_once('=').map_or(raw, |(_, v)| v);
        if t.len() < 4 || t.len() > 512 {
            continue;
        }
        let Some((host, rest)) = t.split_once('/') else {
            continue;
        };
        let registry = host.contains('.') || host.contains(':') || host == "localhost";
        let last = rest.rsplit('/').next().unwrap_or(rest);
        if registry
            && (last.contains(':') || t.contains('@'))
            && t.parse::<pullthrough_reference::ImageRef>().is_ok()
        {
            out.push(t.to_string());
        }
    }
    out
}

/// A mapping key as Go decodes it: `!!binary` keys are base64-decoded; every other key is its
/// scalar value (custom tags do not change the text go-yaml v2 yields).
fn key_text<'a>(value: Cow<'a, str>, tag: Option<&str>) -> Result<Cow<'a, str>, GoRefusal> {
    if tag != Some(BINARY_TAG) {
        return Ok(value);
    }
    let bytes = decode_binary(&value).ok_or(GoRefusal::BadBinary)?;
    // Go turns the bytes into a string as they are; a key that is not UTF-8 can match nothing.
    Ok(Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()))
}

/// go-yaml v2 `isMerge`: a plain `<<` (implicit) or any `<<` tagged `!!merge`.
fn is_merge_key(value: &str, style: Style, tag: Option<&str>) -> bool {
    value == "<<" && ((style == Style::Plain && tag.is_none()) || tag == Some(MERGE_TAG))
}

/// Whether Go reads this scalar as a string.
pub(super) fn go_string(value: &str, style: Style, tag: Option<&str>) -> bool {
    match tag {
        Some(STR_TAG) => true,
        Some(t) if t.starts_with(CORE_TAG_PREFIX) => false,
        Some(_) => true,
        None => not_a_string(value, style).is_none(),
    }
}

/// What stands in an image field for this scalar.
fn site_value(
    value: &str,
    style: Style,
    in_flow: bool,
    anchor: usize,
    tag: Option<&str>,
) -> SiteValue {
    match tag {
        None | Some(STR_TAG) => match tag.is_none().then(|| not_a_string(value, style)).flatten() {
            Some(what) => SiteValue::NotString(what),
            None => SiteValue::Scalar {
                value: value.to_string(),
                style,
                in_flow,
                anchor,
                tag: tag.map(str::to_string),
            },
        },
        Some(BINARY_TAG) => match decode_binary(value) {
            Some(bytes) => SiteValue::Tagged {
                go_value: String::from_utf8_lossy(&bytes).into_owned(),
                tag: "!!binary".into(),
            },
            None => SiteValue::NotString("a !!binary scalar that is not base64"),
        },
        Some(t) if t.starts_with(CORE_TAG_PREFIX) => {
            SiteValue::NotString("a scalar with a non-string tag")
        }
        // go-yaml v2 yields a custom-tagged scalar's text as the string.
        Some(t) => SiteValue::Tagged {
            go_value: value.to_string(),
            tag: t.to_string(),
        },
    }
}

/// Why Go would not read this untagged scalar as a string, if it would not.
fn not_a_string(value: &str, style: Style) -> Option<&'static str> {
    if style != Style::Plain {
        return None;
    }
    use super::yaml11::{resolve_plain, Resolved};
    match resolve_plain(value) {
        Resolved::Str | Resolved::Timestamp => None,
        Resolved::Null => Some("null"),
        Resolved::Bool => Some("a boolean"),
        Resolved::Int | Resolved::Float => Some("a number"),
        Resolved::Merge => Some("a merge key"),
    }
}

/// What matched at a position.
struct Match {
    label: String,
    kind: ValueKind,
    /// The kind fields whose kinds/group must match the object (any one of them).
    cond: Vec<usize>,
}

/// A kind field applies to an object of one of its kinds, of its API group and, if it names
/// any, with a matching name.
fn kind_matches(f: &super::fields::KindField, o: &Object) -> bool {
    let kind_ok = f.kinds.is_empty()
        || o.kind
            .as_ref()
            .is_some_and(|k| f.kinds.iter().any(|x| x == k));
    let group = o
        .api_version
        .as_deref()
        .and_then(|v| v.rsplit_once('/').map(|(g, _)| g))
        .unwrap_or("");
    let group_ok = f.group.as_deref().is_none_or(|g| g == group);
    let name_ok = f.names.is_empty()
        || o.name
            .as_deref()
            .is_some_and(|n| f.names.iter().any(|g| g.is_match(n)));
    kind_ok && group_ok && name_ok
}

/// Whether the frames below an object root spell exactly `path`.
fn path_matches(path: &[PathSeg], rel: &[Frame<'_>]) -> bool {
    path.len() == rel.len()
        && path.iter().zip(rel).all(|(seg, frame)| match (seg, frame) {
            (
                PathSeg::Key(k),
                Frame::Map {
                    key: Key::Text(t), ..
                },
            ) => k == t,
            (
                PathSeg::AnyKey,
                Frame::Map {
                    key: Key::Text(_), ..
                },
            ) => true,
            (PathSeg::AnyIndex, Frame::Seq { .. }) => true,
            _ => false,
        })
}

/// Whether the frames end with `suffix` (the last segment matching the top frame's key).
fn suffix_matches(suffix: &[Seg], frames: &[Frame<'_>]) -> bool {
    if suffix.len() > frames.len() {
        return false;
    }
    suffix
        .iter()
        .rev()
        .zip(frames.iter().rev())
        .all(|(seg, frame)| match seg {
            Seg::Key(names) => frame.key_is(names),
            Seg::Index => matches!(frame, Frame::Seq { .. }),
        })
}
