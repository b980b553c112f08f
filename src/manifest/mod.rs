//! Scan: find every image field in a stream of rendered manifests, with exact byte spans.
//!
//! One pass over the parser's events keeps a stack of frames (mapping with its current key, or
//! sequence with its current index). A scalar whose path ends like one of the rules in
//! [`fields`] is an image *site*; its span, decoded value and source style are recorded so the
//! splice can replace exactly those bytes. Nothing is re-serialised.
//!
//! Object context (kind, namespace, name) is collected per document while scanning and attached
//! when the document ends, because `kind` may come after `spec` in hand-written or JSON input.
//! Documents of a never-touched kind (CustomResourceDefinition) lose their sites then.
//!
//! Aliases, anchors and merge keys follow a documented policy (README "YAML fidelity"):
//! an image given by `*alias` is a site of its own (its token is replaced); an anchored image
//! scalar that is also read through an alias outside an image field is reported as a conflict;
//! a `<<` merge key inside a container is reported as a problem, because go-yaml v2 lets a merge
//! override an explicit `image` and pullthrough will not guess which value Argo CD reads.

pub mod fields;
pub mod profiles;
pub mod quick;
pub mod yaml;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use fields::{FieldRule, FieldSet, PathSeg, Seg, ValueKind, BUILTIN, CONTAINER_LISTS, NEVER_TOUCHED_KINDS};
use yaml::{Ev, ParseLimits, Style, YamlError};

/// A byte range into one input text. Built only by [`Span::within`], which checks that it lies
/// inside the text on character boundaries, so slicing that text with it cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    start: usize,
    end: usize,
}

impl Span {
    /// The span `start..end` of `text`, or `None` if it is reversed, out of bounds, or splits a
    /// UTF-8 character.
    pub fn within(start: usize, end: usize, text: &str) -> Option<Span> {
        (start <= end && text.get(start..end).is_some()).then_some(Span { start, end })
    }
    pub fn start(&self) -> usize {
        self.start
    }
    pub fn end(&self) -> usize {
        self.end
    }
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    /// The text under the span. Panics only if `text` is not the text the span was made for.
    pub fn slice<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.range()).expect("span used with the text it was made for")
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, col)
}

/// The Kubernetes object an image belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Object {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

/// What stands in an image field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteValue {
    /// A scalar. `in_flow` is true inside `{}`/`[]` (JSON included), which restricts plain style.
    Scalar { value: String, style: Style, in_flow: bool, anchor: usize, tag: Option<String> },
    /// `*alias` to an anchored scalar (`value`), or to a collection (`None`).
    Alias { anchor: usize, value: Option<String>, in_flow: bool },
    /// A mapping, a sequence, or a scalar Go does not read as a string (null, int, bool…).
    NotString(&'static str),
}

/// One image field found in the stream.
#[derive(Clone, Debug)]
pub struct Site {
    /// 0-based index of the YAML document in this input.
    pub doc: usize,
    pub object: Object,
    /// e.g. `spec.template.spec.initContainers[1].image`.
    pub path: String,
    /// The source bytes to replace: the scalar token (quotes included) or the alias token.
    pub span: Span,
    pub value: SiteValue,
    /// The rule that matched (`container image`, `image volume`, `profile cert-manager: arg --acme-http01-solver-image`).
    pub rule: String,
    /// Image or repository.
    pub kind: ValueKind,
    /// Text of the value before the image (`--flag=` of an argument), kept as is.
    pub prefix: String,
    /// The value is a list of images split on this character.
    pub separator: Option<char>,
}

/// Something the scan will not resolve by itself; the rewrite stage turns it into an error
/// when it would matter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// `<<` merge key inside a container mapping.
    MergeInContainer { span: Span, path: String },
    /// `*alias` outside an image field that reads an anchored image scalar.
    AliasOfImage { doc: usize, anchor: usize, span: Span },
    /// A document whose root is a sequence or a non-null scalar: Argo CD reads every document
    /// as an object and fails the app on it, without a position.
    NotAnObject { span: Span, what: &'static str },
}

/// The result of scanning one input text.
#[derive(Debug, Default)]
pub struct Scan {
    pub sites: Vec<Site>,
    pub findings: Vec<Finding>,
    /// Number of YAML documents seen.
    pub documents: usize,
    /// Kubernetes objects Argo CD would read: documents whose root is a mapping, with the items
    /// of a `*List` counted instead of the list. Zero means Argo CD would see an empty app.
    pub objects: usize,
}

#[derive(Debug)]
enum Key<'a> {
    None,
    Text(Cow<'a, str>),
    Complex,
}

#[derive(Debug)]
enum Frame<'a> {
    Map { key: Key<'a>, expect_key: bool, flow: bool, object: Option<usize> },
    /// `pending_arg`: the previous item was this argument flag, so this item is its image.
    Seq { index: usize, flow: bool, pending_arg: Option<usize> },
}

/// The `name`/`value` of one container env entry, matched when the entry's mapping ends
/// (the keys may come in either order).
#[derive(Debug, Default)]
struct EnvEntry {
    depth: usize,
    name: Option<String>,
    value: Option<(SiteValue, Span, String)>,
}

impl Frame<'_> {
    fn key_is(&self, names: &[&str]) -> bool {
        matches!(self, Frame::Map { key: Key::Text(k), .. } if names.contains(&k.as_ref()))
    }
}

/// Per-document state, reset at each document start.
#[derive(Default)]
struct Doc {
    objects: Vec<Object>,
    /// (site, innermost object index)
    sites: Vec<(Site, Option<usize>)>,
    findings: Vec<(Finding, Option<usize>)>,
    /// Values of anchored scalars (anchor id → value); anchors are rare, so this stays tiny.
    anchored: HashMap<usize, String>,
    /// Anchors defined on image scalars.
    image_anchors: HashMap<usize, ()>,
    /// Sites that apply only to some kinds: (site index, kind field index).
    conditional: Vec<(usize, usize)>,
}

/// Scans `input` for image fields: the built-in rules plus `fields` (configured fields and
/// profiles).
///
/// Fails on the first YAML syntax error, with its line and column: the whole stream is checked
/// before anything is written, so bad input never produces partial output.
pub fn scan(input: &str, limits: ParseLimits, fields: &FieldSet) -> Result<Scan, YamlError> {
    Scanner::new(BUILTIN, fields).run(yaml::events(input, limits))
}

/// [`scan`], reading the events with the [`quick`] reader when it is sure of them; `None`
/// when it is not, and the caller decides whether to run [`scan`] (the full parser).
pub fn scan_quick(input: &str, limits: ParseLimits, fields: &FieldSet) -> Option<Scan> {
    let mut scanner = Scanner::new(BUILTIN, fields);
    quick::read(input, limits, &mut scanner)?;
    Some(scanner.finish())
}

impl<'a> quick::Sink<'a> for Scanner<'a, '_> {
    fn event(&mut self, ev: Ev<'a>, span: Span) {
        Scanner::event(self, ev, span);
    }
}

struct Scanner<'a, 'f> {
    rules: &'static [FieldRule],
    fields: &'f FieldSet,
    frames: Vec<Frame<'a>>,
    env: Vec<EnvEntry>,
    doc: Doc,
    doc_index: usize,
    out: Scan,
}

impl<'a, 'f> Scanner<'a, 'f> {
    fn new(rules: &'static [FieldRule], fields: &'f FieldSet) -> Self {
        Scanner { rules, fields, frames: Vec::new(), env: Vec::new(), doc: Doc::default(), doc_index: 0, out: Scan::default() }
    }

    fn run(mut self, events: impl Iterator<Item = Result<(Ev<'a>, Span), YamlError>>) -> Result<Scan, YamlError> {
        for ev in events {
            let (ev, span) = ev?;
            self.event(ev, span);
        }
        Ok(self.finish())
    }

    fn finish(mut self) -> Scan {
        self.out.documents = self.doc_index;
        self.out
    }

    /// One event: the frame stack, object context and sites follow it.
    fn event(&mut self, ev: Ev<'a>, span: Span) {
        match ev {
            Ev::DocStart => {
                self.frames.clear();
                self.env.clear();
                self.doc = Doc::default();
            }
            Ev::DocEnd => {
                self.finish_doc();
                self.doc_index += 1;
            }
            Ev::MapStart { flow, .. } => {
                self.node_in_value_position(span, "a mapping");
                self.mark_complex_key();
                let object = self.object_position().then(|| {
                    self.doc.objects.push(Object::default());
                    self.doc.objects.len() - 1
                });
                let flow = flow || self.in_flow();
                if !self.fields.env.is_empty() && self.at_env_entry() {
                    self.env.push(EnvEntry { depth: self.frames.len(), ..EnvEntry::default() });
                }
                self.frames.push(Frame::Map { key: Key::None, expect_key: true, flow, object });
            }
            Ev::SeqStart { flow, .. } => {
                self.not_an_object(span, "a sequence");
                self.node_in_value_position(span, "a sequence");
                self.mark_complex_key();
                let flow = flow || self.in_flow();
                self.frames.push(Frame::Seq { index: 0, flow, pending_arg: None });
            }
            Ev::MapEnd | Ev::SeqEnd => {
                self.frames.pop();
                if self.env.last().is_some_and(|e| e.depth == self.frames.len()) {
                    let entry = self.env.pop().expect("checked");
                    self.finish_env_entry(entry);
                }
                self.advance();
            }
            Ev::Scalar { value, style, anchor, tag } => {
                // Only a root scalar can be "not an object"; resolving every scalar's plain
                // value here would cost a tenth of the scan.
                if self.frames.is_empty() && !is_null(&value, style) {
                    self.not_an_object(span, "a scalar");
                }
                self.scalar(value, style, anchor, tag, span);
                self.advance();
            }
            Ev::Alias { anchor } => {
                self.not_an_object(span, "an alias");
                self.alias(anchor, span);
                self.advance();
            }
            Ev::Other => {}
        }
    }

    /// Records a document root that is not a mapping (null roots are empty documents, skipped
    /// by Argo CD as by pullthrough).
    fn not_an_object(&mut self, span: Span, what: &'static str) {
        if self.frames.is_empty() {
            self.doc.findings.push((Finding::NotAnObject { span, what }, None));
        }
    }

    /// True when the top frame is a mapping waiting for a key.
    fn in_key_position(&self) -> bool {
        matches!(self.frames.last(), Some(Frame::Map { expect_key: true, .. }))
    }

    fn in_flow(&self) -> bool {
        match self.frames.last() {
            Some(Frame::Map { flow, .. }) | Some(Frame::Seq { flow, .. }) => *flow,
            None => false,
        }
    }

    fn mark_complex_key(&mut self) {
        if let Some(Frame::Map { key, expect_key: true, .. }) = self.frames.last_mut() {
            *key = Key::Complex;
        }
    }

    /// After a complete node: a mapping flips between key and value, a sequence counts.
    fn advance(&mut self) {
        match self.frames.last_mut() {
            Some(Frame::Map { key, expect_key, .. }) => {
                if *expect_key {
                    *expect_key = false;
                } else {
                    *expect_key = true;
                    *key = Key::None;
                }
            }
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }

    /// A mapping starting here is a Kubernetes object: the document root, or an item of a
    /// root-level `items:` sequence (`kind: List`; whether the root really is a List is decided
    /// when the document ends).
    fn object_position(&self) -> bool {
        match self.frames.as_slice() {
            [] => true,
            [root @ Frame::Map { .. }, Frame::Seq { .. }] => root.key_is(&["items"]),
            _ => false,
        }
    }

    /// The field matching the current value position, if any: a built-in rule, or a configured
    /// kind field (conditional on the object's kind, checked when the document ends).
    fn matching_field(&self) -> Option<Match> {
        if self.in_key_position() {
            return None;
        }
        if let Some(rule) = self.rules.iter().find(|rule| suffix_matches(rule.suffix, &self.frames)) {
            return Some(Match { label: rule.label.to_string(), kind: ValueKind::Image, cond: None });
        }
        if self.fields.kinds.is_empty() {
            return None;
        }
        let depth = self.object_depth()?;
        let rel = &self.frames[depth..];
        self.fields.kinds.iter().enumerate().find(|(_, f)| path_matches(&f.path, rel)).map(|(i, f)| Match {
            label: f.label.clone(),
            kind: f.value,
            cond: Some(i),
        })
    }

    /// The frame index of the innermost object mapping.
    fn object_depth(&self) -> Option<usize> {
        self.frames.iter().rposition(|f| matches!(f, Frame::Map { object: Some(_), .. }))
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

    fn push_site(&mut self, span: Span, value: SiteValue, m: Match, prefix: String, separator: Option<char>) {
        self.push_site_at(self.path(), span, value, m, prefix, separator);
    }

    fn push_site_at(&mut self, path: String, span: Span, value: SiteValue, m: Match, prefix: String, separator: Option<char>) {
        if let SiteValue::Scalar { anchor, .. } = value {
            if anchor != 0 {
                self.doc.image_anchors.insert(anchor, ());
            }
        }
        let site = Site { doc: self.doc_index, object: Object::default(), path, span, value, rule: m.label, kind: m.kind, prefix, separator };
        let obj = self.innermost_object();
        if let Some(c) = m.cond {
            self.doc.conditional.push((self.doc.sites.len(), c));
        }
        self.doc.sites.push((site, obj));
    }

    fn node_in_value_position(&mut self, span: Span, what: &'static str) {
        if let Some(m) = self.matching_field() {
            self.push_site(span, SiteValue::NotString(what), m, String::new(), None);
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
            let m = Match { label: f.label.clone(), kind: f.value, cond: None };
            self.push_site(span, site_value.clone(), m, String::new(), None);
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
                    let m = Match { label: f.label.clone(), kind: f.value, cond: None };
                    self.push_site(span, site_value.clone(), m, format!("{}=", f.flag), None);
                    return;
                }
            }
        }
    }

    fn finish_env_entry(&mut self, e: EnvEntry) {
        let (Some(name), Some((value, span, path))) = (e.name, e.value) else { return };
        if let Some(f) = self.fields.env.iter().find(|f| f.name.is_match(&name)) {
            let m = Match { label: format!("{} ({name})", f.label), kind: f.value, cond: None };
            let sep = f.separator;
            self.push_site_at(path, span, value, m, String::new(), sep);
        }
    }

    fn scalar(&mut self, value: Cow<'a, str>, style: Style, anchor: usize, tag: Option<String>, span: Span) {
        if anchor != 0 {
            self.doc.anchored.insert(anchor, value.to_string());
        }
        if self.in_key_position() {
            if style == Style::Plain && value == "<<" && self.in_container_mapping() {
                let f = Finding::MergeInContainer { span, path: self.path_with_key("<<") };
                let obj = self.innermost_object();
                self.doc.findings.push((f, obj));
            }
            if let Some(Frame::Map { key, .. }) = self.frames.last_mut() {
                *key = Key::Text(value);
            }
            return;
        }
        self.record_metadata(&value);
        let in_flow = self.in_flow();
        let site_value = || match not_a_string(&value, style, tag.as_deref()) {
            Some(what) => SiteValue::NotString(what),
            None => SiteValue::Scalar { value: value.to_string(), style, in_flow, anchor, tag: tag.clone() },
        };
        if !self.fields.args.is_empty() && self.in_container_args() {
            let v = site_value();
            self.arg(&value, &v, span);
            return;
        }
        if let Some(entry) = self.env.last_mut() {
            if entry.depth + 1 == self.frames.len() {
                match &self.frames[entry.depth] {
                    Frame::Map { key: Key::Text(k), .. } if k == "name" => entry.name = Some(value.to_string()),
                    Frame::Map { key: Key::Text(k), .. } if k == "value" => {
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
        let Some(m) = self.matching_field() else { return };
        let v = site_value();
        self.push_site(span, v, m, String::new(), None);
    }

    fn alias(&mut self, anchor: usize, span: Span) {
        if self.in_key_position() {
            return;
        }
        if let Some(m) = self.matching_field() {
            let value = self.doc.anchored.get(&anchor).cloned();
            let in_flow = self.in_flow();
            self.push_site(span, SiteValue::Alias { anchor, value, in_flow }, m, String::new(), None);
        } else if self.doc.image_anchors.contains_key(&anchor) {
            let obj = self.innermost_object();
            self.doc.findings.push((Finding::AliasOfImage { doc: self.doc_index, anchor, span }, obj));
        }
    }

    /// The top frame is a mapping that is an element of a container list.
    fn in_container_mapping(&self) -> bool {
        let n = self.frames.len();
        n >= 3
            && matches!(self.frames[n - 2], Frame::Seq { .. })
            && self.frames[n - 3].key_is(CONTAINER_LISTS)
    }

    fn path_with_key(&self, key: &str) -> String {
        let mut p = self.path();
        if let Some(stripped) = p.strip_suffix('?') {
            p = format!("{stripped}{key}");
        }
        p
    }

    /// Records `kind`, `apiVersion`, `metadata.name` and `metadata.namespace` of objects.
    fn record_metadata(&mut self, value: &str) {
        let n = self.frames.len();
        let Some(Frame::Map { key: Key::Text(key), object, .. }) = self.frames.last() else { return };
        if let Some(o) = object {
            let field = match key.as_ref() {
                "kind" => &mut self.doc.objects[*o].kind,
                "apiVersion" => &mut self.doc.objects[*o].api_version,
                _ => return,
            };
            *field = Some(value.to_string());
            return;
        }
        if n < 2 {
            return;
        }
        if let Frame::Map { key: Key::Text(parent), object: Some(o), .. } = &self.frames[n - 2] {
            if parent == "metadata" {
                let o = *o;
                match key.as_ref() {
                    "name" => self.doc.objects[o].name = Some(value.to_string()),
                    "namespace" => self.doc.objects[o].namespace = Some(value.to_string()),
                    _ => {}
                }
            }
        }
    }

    fn finish_doc(&mut self) {
        let doc = std::mem::take(&mut self.doc);
        let root = doc.objects.first().cloned().unwrap_or_default();
        let is_list = root.kind.as_deref().is_some_and(|k| k.ends_with("List"));
        self.out.objects += match doc.objects.len() {
            0 => 0,
            n if is_list => n - 1,
            _ => 1,
        };
        let object_of = |obj: Option<usize>| -> Object {
            match obj {
                Some(i) if is_list && i > 0 => doc.objects[i].clone(),
                _ => root.clone(),
            }
        };
        let never_touched =
            |o: &Object| o.kind.as_deref().is_some_and(|k| NEVER_TOUCHED_KINDS.iter().any(|(n, _)| *n == k));
        if never_touched(&root) {
            return;
        }
        let cond: HashMap<usize, usize> = doc.conditional.iter().copied().collect();
        for (i, (mut site, obj)) in doc.sites.into_iter().enumerate() {
            site.object = object_of(obj);
            if never_touched(&site.object) {
                continue;
            }
            if let Some(&f) = cond.get(&i) {
                // Its path was taken from an `items[i]` mapping, which is an object only in a
                // List; elsewhere that path does not start at an object root.
                let from_item = obj.is_some_and(|o| o > 0);
                if (from_item && !is_list) || !kind_matches(&self.fields.kinds[f], &site.object) {
                    continue;
                }
            }
            self.out.sites.push(site);
        }
        for (finding, obj) in doc.findings {
            if !never_touched(&object_of(obj)) {
                self.out.findings.push(finding);
            }
        }
    }
}

/// A null scalar as go-yaml v2 reads it (plain empty, `~`, `null`…): a null document root is an
/// empty document, skipped by Argo CD.
pub fn is_null(value: &str, style: Style) -> bool {
    style == Style::Plain && crate::splice::yaml11::resolve_plain(value) == crate::splice::yaml11::Resolved::Null
}

/// What matched at a position.
struct Match {
    label: String,
    kind: ValueKind,
    /// Index of the kind field whose kinds/group must match the object.
    cond: Option<usize>,
}

/// A kind field applies to an object of one of its kinds and of its API group.
fn kind_matches(f: &fields::KindField, o: &Object) -> bool {
    let kind_ok = f.kinds.is_empty() || o.kind.as_ref().is_some_and(|k| f.kinds.iter().any(|x| x == k));
    let group = o.api_version.as_deref().and_then(|v| v.rsplit_once('/').map(|(g, _)| g)).unwrap_or("");
    let group_ok = f.group.as_deref().is_none_or(|g| g == group);
    kind_ok && group_ok
}

/// Whether the frames below an object root spell exactly `path`.
fn path_matches(path: &[PathSeg], rel: &[Frame<'_>]) -> bool {
    path.len() == rel.len()
        && path.iter().zip(rel).all(|(seg, frame)| match (seg, frame) {
            (PathSeg::Key(k), Frame::Map { key: Key::Text(t), .. }) => k == t,
            (PathSeg::AnyKey, Frame::Map { key: Key::Text(_), .. }) => true,
            (PathSeg::AnyIndex, Frame::Seq { .. }) => true,
            _ => false,
        })
}

/// Whether the frames end with `suffix` (the last segment matching the top frame's key).
fn suffix_matches(suffix: &[Seg], frames: &[Frame<'_>]) -> bool {
    if suffix.len() > frames.len() {
        return false;
    }
    suffix.iter().rev().zip(frames.iter().rev()).all(|(seg, frame)| match seg {
        Seg::Key(names) => frame.key_is(names),
        Seg::Index => matches!(frame, Frame::Seq { .. }),
    })
}

/// Why Go would not read this scalar as a string, if it would not.
fn not_a_string(value: &str, style: Style, tag: Option<&str>) -> Option<&'static str> {
    if let Some(tag) = tag {
        return (tag != "tag:yaml.org,2002:str").then_some("a scalar with a non-string tag");
    }
    if style != Style::Plain {
        return None;
    }
    match crate::splice::yaml11::resolve_plain(value) {
        crate::splice::yaml11::Resolved::Str => None,
        crate::splice::yaml11::Resolved::Null => Some("null"),
        crate::splice::yaml11::Resolved::Bool => Some("a boolean"),
        crate::splice::yaml11::Resolved::Int | crate::splice::yaml11::Resolved::Float => Some("a number"),
        crate::splice::yaml11::Resolved::Timestamp => None,
        crate::splice::yaml11::Resolved::Merge => Some("a merge key"),
    }
}
