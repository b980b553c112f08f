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
pub mod yaml;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use fields::{FieldRule, Seg, BUILTIN, CONTAINER_LISTS, NEVER_TOUCHED_KINDS};
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
    /// The rule that matched (`container image`, `image volume`).
    pub rule: &'static str,
}

/// Something the scan will not resolve by itself; the rewrite stage turns it into an error
/// when it would matter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// `<<` merge key inside a container mapping.
    MergeInContainer { span: Span, path: String },
    /// `*alias` outside an image field that reads an anchored image scalar.
    AliasOfImage { doc: usize, anchor: usize, span: Span },
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
    Seq { index: usize, flow: bool },
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
}

/// Scans `input` for image fields using the built-in rules.
///
/// Fails on the first YAML syntax error, with its line and column: the whole stream is checked
/// before anything is written, so bad input never produces partial output.
pub fn scan(input: &str, limits: ParseLimits) -> Result<Scan, YamlError> {
    Scanner::new(input, BUILTIN).run(limits)
}

struct Scanner<'a> {
    input: &'a str,
    rules: &'static [FieldRule],
    frames: Vec<Frame<'a>>,
    doc: Doc,
    doc_index: usize,
    out: Scan,
}

impl<'a> Scanner<'a> {
    fn new(input: &'a str, rules: &'static [FieldRule]) -> Self {
        Scanner { input, rules, frames: Vec::new(), doc: Doc::default(), doc_index: 0, out: Scan::default() }
    }

    fn run(mut self, limits: ParseLimits) -> Result<Scan, YamlError> {
        for ev in yaml::events(self.input, limits) {
            let (ev, span) = ev?;
            match ev {
                Ev::DocStart => {
                    self.frames.clear();
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
                    self.frames.push(Frame::Map { key: Key::None, expect_key: true, flow, object });
                }
                Ev::SeqStart { flow, .. } => {
                    self.node_in_value_position(span, "a sequence");
                    self.mark_complex_key();
                    let flow = flow || self.in_flow();
                    self.frames.push(Frame::Seq { index: 0, flow });
                }
                Ev::MapEnd | Ev::SeqEnd => {
                    self.frames.pop();
                    self.advance();
                }
                Ev::Scalar { value, style, anchor, tag } => {
                    self.scalar(value, style, anchor, tag, span);
                    self.advance();
                }
                Ev::Alias { anchor } => {
                    self.alias(anchor, span);
                    self.advance();
                }
                Ev::Other => {}
            }
        }
        self.out.documents = self.doc_index;
        Ok(self.out)
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

    /// The built-in rule whose suffix matches the current value position, if any.
    fn matching_rule(&self) -> Option<&'static FieldRule> {
        if self.in_key_position() {
            return None;
        }
        self.rules.iter().find(|rule| suffix_matches(rule.suffix, &self.frames))
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

    fn push_site(&mut self, span: Span, value: SiteValue, rule: &'static FieldRule) {
        let site = Site {
            doc: self.doc_index,
            object: Object::default(),
            path: self.path(),
            span,
            value,
            rule: rule.label,
        };
        let obj = self.innermost_object();
        self.doc.sites.push((site, obj));
    }

    fn node_in_value_position(&mut self, span: Span, what: &'static str) {
        if let Some(rule) = self.matching_rule() {
            self.push_site(span, SiteValue::NotString(what), rule);
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
        let Some(rule) = self.matching_rule() else { return };
        let site_value = match not_a_string(&value, style, tag.as_deref()) {
            Some(what) => SiteValue::NotString(what),
            None => {
                if anchor != 0 {
                    self.doc.image_anchors.insert(anchor, ());
                }
                SiteValue::Scalar { value: value.into_owned(), style, in_flow: self.in_flow(), anchor, tag }
            }
        };
        self.push_site(span, site_value, rule);
    }

    fn alias(&mut self, anchor: usize, span: Span) {
        if self.in_key_position() {
            return;
        }
        if let Some(rule) = self.matching_rule() {
            let value = self.doc.anchored.get(&anchor).cloned();
            let in_flow = self.in_flow();
            self.push_site(span, SiteValue::Alias { anchor, value, in_flow }, rule);
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
        for (mut site, obj) in doc.sites {
            site.object = object_of(obj);
            if !never_touched(&site.object) {
                self.out.sites.push(site);
            }
        }
        for (finding, obj) in doc.findings {
            if !never_touched(&object_of(obj)) {
                self.out.findings.push(finding);
            }
        }
    }
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
