//! Scan: find every image field in a stream of rendered manifests, with exact byte spans.
//!
//! The parser's events (from [`yaml`], or from the [`quick`] reader when it is sure of them) go
//! through the [`scanner`], which reads each document the way Go and Argo CD do — duplicate keys,
//! aliases, merge keys and Lists included — and reports every image *site*: its span, decoded
//! value and source style, so the splice can replace exactly those bytes. Nothing is
//! re-serialised.
//!
//! Object context (kind, namespace, name) is collected per document while scanning and attached
//! when the document ends, because `kind` may come after `spec` in hand-written or JSON input.
//! Documents of a never-touched kind (CustomResourceDefinition) lose their sites then.

pub mod fastpath;
pub mod fields;
pub mod prefilter;
pub mod profiles;
pub mod quick;
mod scanner;
pub mod split;
pub mod yaml;
pub mod yaml11;

use fields::{FieldSet, ValueFormat, ValueKind, BUILTIN};
use scanner::Scanner;
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
        text.get(self.range())
            .expect("span used with the text it was made for")
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
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
    Scalar {
        value: String,
        style: Style,
        in_flow: bool,
        anchor: usize,
        tag: Option<String>,
    },
    /// `*alias` to an anchored scalar (`value`), or to a collection (`None`).
    Alias {
        anchor: usize,
        value: Option<String>,
        in_flow: bool,
    },
    /// A scalar with a tag (`!!binary`, a custom `!tag`) that Go still reads as the string
    /// `go_value`; its bytes are not that string, so it is never rewritten.
    Tagged { go_value: String, tag: String },
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
    /// How the value holds its image(s): a list, `KEY=IMAGE` items.
    pub format: ValueFormat,
    /// Only a value holding a `/` is an image (see [`fields::KindField::qualified`]).
    pub qualified: bool,
    /// The value is an embedded document: the fields to rewrite inside it, besides its
    /// container images.
    pub embedded: Option<Vec<fields::InnerField>>,
}

/// Something the scan will not resolve by itself; the rewrite stage turns it into an error
/// when it would matter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// `*alias` outside an image field that reads an anchored image scalar.
    AliasOfImage {
        doc: usize,
        anchor: usize,
        span: Span,
    },
    /// An image scalar inside an anchored collection that Go also reads, through an alias of
    /// the collection, somewhere that is not an image field.
    SharedImage { doc: usize, span: Span },
    /// A document whose root is a sequence or a non-null scalar: Argo CD reads every document
    /// as an object and fails the app on it, without a position.
    NotAnObject { span: Span, what: &'static str },
    /// Something Go's YAML reader or Argo CD's object decoding refuses.
    GoRefuses { span: Span, refusal: GoRefusal },
}

/// Why Go (go-yaml v2, sigs.k8s.io/yaml, Argo CD's `kube.SplitYAML` and List flattening) would
/// fail the whole app on a document that pullthrough can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoRefusal {
    /// The root mapping has no `kind` string (`Object 'Kind' is missing`).
    MissingKind,
    /// An item of a List's `items` that is not a mapping (`items member is not an object`).
    ListItemNotAnObject,
    /// A mapping or sequence used as a mapping key (no JSON key for it).
    CollectionKey,
    /// `<<` whose value is not a mapping or a sequence of mappings.
    MergeOfNonMapping,
    /// A `!!binary` scalar that is not base64.
    BadBinary,
    /// A null mapping key (no JSON key for it).
    NullKey,
    /// A scalar whose value does not fit its core tag (`!!int abc`).
    BadTaggedValue,
    /// An infinite or NaN float (no JSON number for it).
    NotAJsonNumber,
    /// The escape `\/` in a double-quoted string (YAML 1.2 has it, go-yaml v2 does not).
    UnknownEscape,
    /// go-yaml v2's alias-bomb guard (`document contains excessive aliasing`).
    ExcessiveAliasing,
    /// An alias inside the node its anchor names (`anchor ... value contains itself`).
    AnchorContainsItself,
    /// Aliases nested deeper than pullthrough follows ([`scanner::MAX_ALIAS_NESTING`]).
    AliasNesting,
}

impl std::fmt::Display for GoRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GoRefusal::MissingKind => "document has no `kind`; Argo CD refuses it (Object 'Kind' is missing)",
            GoRefusal::ListItemNotAnObject => "an item of this List's `items` is not a mapping; Argo CD refuses it (items member is not an object)",
            GoRefusal::CollectionKey => "a mapping or sequence used as a mapping key; Go's YAML-to-JSON conversion (and so Argo CD) refuses it",
            GoRefusal::MergeOfNonMapping => "`<<` merges something that is not a mapping; Go's YAML reader (and so Argo CD) refuses it (map merge requires map or sequence of maps as the value)",
            GoRefusal::BadBinary => "`!!binary` value is not valid base64; Go's YAML reader (and so Argo CD) refuses it",
            GoRefusal::NullKey => "a null mapping key; Go's YAML-to-JSON conversion (and so Argo CD) refuses it",
            GoRefusal::BadTaggedValue => "the value does not fit its tag; Go's YAML reader (and so Argo CD) refuses it (cannot decode … as …)",
            GoRefusal::NotAJsonNumber => "an infinite or NaN number; Go's YAML-to-JSON conversion (and so Argo CD) refuses it (json: unsupported value)",
            GoRefusal::UnknownEscape => "the escape \\/ is YAML 1.2 only; Go's YAML 1.1 reader (and so Argo CD) refuses it (found unknown escape character): write / unescaped",
            GoRefusal::ExcessiveAliasing => "document contains excessive aliasing; Go's YAML reader (and so Argo CD) refuses it",
            GoRefusal::AnchorContainsItself => "an alias inside the node its anchor names; Go's YAML reader (and so Argo CD) refuses it (anchor value contains itself)",
            GoRefusal::AliasNesting => "aliases nest deeper than 64 levels; pullthrough does not follow them",
        })
    }
}

/// A string outside every image field that looks like an image with an explicit registry
/// (`quay.io/strimzi/kafka:0.44.0`, also after `KEY=` or `--flag=`): what would still be pulled
/// from the internet if no rule covers it. Collected only by [`leaks`], for `explain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leak {
    pub doc: usize,
    pub object: Object,
    /// e.g. `spec.template.spec.containers[0].env[3].value`.
    pub path: String,
    /// The scalar holding it.
    pub span: Span,
    /// The image-like token.
    pub token: String,
    /// The token is the whole value (so a field rule on the path would reach it as it is).
    pub whole: bool,
    pub context: LeakContext,
}

/// Where a [`Leak`] stands, for the config entry that would reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeakContext {
    /// A container env variable's value, and how a rule would read it (a list, `KEY=IMAGE`).
    Env { name: String, format: ValueFormat },
    /// A container argument; `flag` is the flag it belongs to: the `--flag` of `--flag=IMAGE`, or
    /// the argument before it when that is a flag.
    Arg { flag: Option<String> },
    /// Any other field.
    Field,
}

/// The result of scanning one input text.
#[derive(Debug, Default)]
pub struct Scan {
    pub sites: Vec<Site>,
    pub findings: Vec<Finding>,
    /// Only from [`leaks`].
    pub leaks: Vec<Leak>,
    /// Number of YAML documents seen.
    pub documents: usize,
    /// Kubernetes objects Argo CD would read: documents whose root is a mapping, with the items
    /// of a `*List` counted instead of the list. Zero means Argo CD would see an empty app.
    pub objects: usize,
}

/// Scans `input` for image fields as Go reads it (see [`scanner`]): the built-in rules plus
/// `fields` (configured fields and profiles).
///
/// Fails on the first YAML syntax error, with its line and column: the whole stream is checked
/// before anything is written, so bad input never produces partial output.
pub fn scan(input: &str, limits: ParseLimits, fields: &FieldSet) -> Result<Scan, YamlError> {
    let mut scanner = Scanner::new(input, BUILTIN, fields);
    for ev in yaml::events(input, limits) {
        let (ev, span) = ev?;
        scanner.event(ev, span);
    }
    Ok(scanner.finish())
}

/// The [`Leak`]s of `input` (every document read, none skipped), each piece read by the
/// [`quick`] reader when it is sure of it, else by the full parser; errors as [`scan`].
pub fn leaks(input: &str, limits: ParseLimits, fields: &FieldSet) -> Result<Vec<Leak>, YamlError> {
    if let Some(pieces) = split::pieces(input) {
        let mut out = Vec::new();
        let mut docs = 0;
        let mut whole = true;
        for r in pieces {
            let t = &input[r.clone()];
            let mut scanner = Scanner::new(t, BUILTIN, fields).collecting();
            let scan = if quick::read(t, limits, &mut scanner).is_ok() {
                scanner.finish()
            } else {
                let mut scanner = Scanner::new(t, BUILTIN, fields).collecting();
                let mut failed = false;
                for ev in yaml::events(t, limits) {
                    match ev {
                        Ok((ev, span)) => scanner.event(ev, span),
                        Err(_) => {
                            failed = true;
                            break;
                        }
                    }
                }
                if failed {
                    whole = false;
                    break;
                }
                scanner.finish()
            };
            for mut l in scan.leaks {
                l.doc += docs;
                l.span = Span::within(l.span.start() + r.start, l.span.end() + r.start, input)
                    .expect("piece span");
                out.push(l);
            }
            docs += scan.documents;
        }
        if whole {
            return Ok(out);
        }
    }
    let mut scanner = Scanner::new(input, BUILTIN, fields).collecting();
    for ev in yaml::events(input, limits) {
        let (ev, span) = ev?;
        scanner.event(ev, span);
    }
    Ok(scanner.finish().leaks)
}

/// [`scan`], reading the events with the [`quick`] reader when it is sure of them.
///
/// # Errors
///
/// The reader's [`quick::Decline`] when it is not sure (syntax errors included): the caller
/// decides whether to run [`scan`] (the full parser).
pub fn scan_quick(
    input: &str,
    limits: ParseLimits,
    fields: &FieldSet,
) -> Result<Scan, quick::Decline> {
    let mut scanner = Scanner::new(input, BUILTIN, fields);
    quick::read(input, limits, &mut scanner)?;
    Ok(scanner.finish())
}

impl<'a> quick::Sink<'a> for Scanner<'a, '_> {
    fn event(&mut self, ev: Ev<'a>, span: Span) {
        Scanner::event(self, ev, span);
    }
}

/// Whether Go reads this scalar (with its tag, if one was written) as a string.
pub fn go_string(value: &str, style: Style, tag: Option<&str>) -> bool {
    scanner::go_string(value, style, tag)
}

/// A null scalar as go-yaml v2 reads it (plain empty, `~`, `null`…): a null document root is an
/// empty document, skipped by Argo CD.
pub fn is_null(value: &str, style: Style) -> bool {
    style == Style::Plain && yaml11::resolve_plain(value) == yaml11::Resolved::Null
}
