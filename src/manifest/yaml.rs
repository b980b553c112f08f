//! The YAML event adapter: the only place that knows which parser crate reads manifests.
//!
//! The scanner above needs four things from a parser: structure events (mapping/sequence
//! start and end, document boundaries), scalars with their decoded value, source style, anchor
//! and tag, aliases, and **exact byte spans** into the input. granit-parser 2.2 was the only
//! parser measured to give correct byte ranges for every scalar style (0 bad spans over 1.09 M
//! real scalars, see `yaml-fidelity.md` §4), so it sits behind this small type; swapping it means
//! rewriting this file only.

use std::borrow::Cow;

use granit_parser::{Event, Parser, ScalarStyle, StructureStyle};

use super::Span;

/// How a scalar was written in the source; decides how its replacement is quoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// One parser event with the byte span of its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev<'a> {
    DocStart,
    DocEnd,
    /// `flow` is true for `{...}`; `anchor` is 0 when the node has none.
    MapStart { flow: bool, anchor: usize },
    MapEnd,
    SeqStart { flow: bool, anchor: usize },
    SeqEnd,
    Scalar {
        value: Cow<'a, str>,
        style: Style,
        anchor: usize,
        /// The explicit tag (`!!str` → `tag:yaml.org,2002:str`), if one was written.
        tag: Option<String>,
    },
    /// `*name`: the span covers the whole alias token.
    Alias { anchor: usize },
    /// Events the scanner does not need (stream start/end, comments, anchor metadata).
    Other,
}

/// A syntax error with a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {msg}")]
pub struct YamlError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

/// Hard limits on what the parser will build up, so hostile input fails fast and clearly.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Maximum nesting of block and flow collections.
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        // Real manifests nest ~20 deep; 255 is granit's own default and far below stack limits.
        ParseLimits { max_depth: 255 }
    }
}

/// Iterates the events of `input` (a whole stream), each with its byte span.
pub struct Events<'a> {
    input: &'a str,
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    done: bool,
    max_depth: usize,
    /// Offset of a character Go's YAML reader refuses, reported before any event.
    forbidden: Option<usize>,
}

/// Starts reading `input`. Errors surface from the iterator, at the first bad event.
pub fn events(input: &str, limits: ParseLimits) -> Events<'_> {
    let mut o = granit_parser::Options::default();
    // Comments stay in the bytes; not materialising them is ~11% faster.
    o.emit_comments = false;
    // Go (libyaml lineage) reads `a: |\n  x` at EOF as "x"; compare like Go does.
    o.block_scalar_eof_without_line_feed = true;
    o.block_nesting_limit = limits.max_depth;
    o.flow_nesting_limit = limits.max_depth;
    let forbidden = forbidden_char(input);
    Events { input, parser: Parser::new_from_str_with_options(input, o), done: false, max_depth: limits.max_depth, forbidden }
}

/// The first character Argo CD's reader refuses ("control characters are not allowed") that
/// granit-parser would accept: C0 controls other than tab, LF and CR everywhere; for YAML (not
/// JSON-looking text) also DEL, C1 controls other than NEL, U+FFFE and U+FFFF (go-yaml's
/// `yaml_parser_update_buffer`). Without this check such bytes would pass through to Argo CD,
/// which fails the whole app with no position.
fn forbidden_char(input: &str) -> Option<usize> {
    let json = input.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']).starts_with('{');
    let b = input.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x20 && c != b'\t' && c != b'\n' && c != b'\r' {
            return Some(i);
        }
        if !json
            && (c == 0x7f
                || (c == 0xc2 && matches!(b.get(i + 1), Some(&n) if (0x80..=0x9f).contains(&n) && n != 0x85))
                || (c == 0xef && b.get(i + 1) == Some(&0xbf) && matches!(b.get(i + 2), Some(0xbe | 0xbf))))
        {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl<'a> Iterator for Events<'a> {
    type Item = Result<(Ev<'a>, Span), YamlError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(at) = self.forbidden {
            self.done = true;
            let (line, col) = super::line_col(self.input, at);
            let ch = self.input[at..].chars().next().unwrap_or('\0');
            return Some(Err(YamlError {
                line,
                col,
                msg: format!("control character U+{:04X} is not allowed (Go's YAML reader, and so Argo CD, refuses it)", ch as u32),
            }));
        }
        let (ev, span) = match self.parser.next()? {
            Ok(x) => x,
            Err(e) => {
                self.done = true;
                let m = e.marker();
                let msg = match e.kind() {
                    // Name the limit and how to raise it, not the parser's word for it.
                    granit_parser::ErrorKind::RecursionLimitExceeded => format!(
                        "collections nest deeper than {} levels (raise limits.maxDepth in the config)",
                        self.max_depth
                    ),
                    _ => e.info().to_string(),
                };
                return Some(Err(YamlError { line: m.line(), col: m.col() + 1, msg }));
            }
        };
        let range = match span.byte_range() {
            Some(r) => r,
            None => 0..0,
        };
        let Some(span) = Span::within(range.start, range.end, self.input) else {
            self.done = true;
            return Some(Err(YamlError {
                line: 0,
                col: 0,
                msg: "parser reported a span outside the input".into(),
            }));
        };
        let ev = match ev {
            Event::DocumentStart(..) => Ev::DocStart,
            Event::DocumentEnd => Ev::DocEnd,
            Event::MappingStart(style, anchor, _) => {
                Ev::MapStart { flow: style == StructureStyle::Flow, anchor }
            }
            Event::MappingEnd => Ev::MapEnd,
            Event::SequenceStart(style, anchor, _) => {
                Ev::SeqStart { flow: style == StructureStyle::Flow, anchor }
            }
            Event::SequenceEnd => Ev::SeqEnd,
            Event::Scalar(value, style, anchor, tag) => Ev::Scalar {
                value,
                style: match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                },
                anchor,
                tag: tag.map(|t| format!("{}{}", t.handle(), t.suffix())),
            },
            Event::Alias(anchor) => Ev::Alias { anchor },
            _ => Ev::Other,
        };
        Some(Ok((ev, span)))
    }
}
