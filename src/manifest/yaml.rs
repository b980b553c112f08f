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
    MapStart {
        flow: bool,
        anchor: usize,
    },
    MapEnd,
    SeqStart {
        flow: bool,
        anchor: usize,
    },
    SeqEnd,
    Scalar {
        value: Cow<'a, str>,
        style: Style,
        anchor: usize,
        /// The explicit tag (`!!str` → `tag:yaml.org,2002:str`), if one was written.
        tag: Option<String>,
    },
    /// `*name`: the span covers the whole alias token.
    Alias {
        anchor: usize,
    },
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
    /// Offsets of NEL, LS and PS (see [`unicode_breaks`]) not yet seen inside a quoted scalar.
    breaks: std::collections::VecDeque<usize>,
    /// Where the last event's text ended (directives lie between a document end and the next
    /// document's start).
    last_end: usize,
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
    let breaks = unicode_breaks(input).into();
    Events {
        input,
        parser: Parser::new_from_str_with_options(input, o),
        done: false,
        max_depth: limits.max_depth,
        forbidden,
        breaks,
        last_end: 0,
    }
}

/// Offsets of U+0085 (NEL), U+2028 (LS) and U+2029 (PS). go-yaml v2 (YAML 1.1) reads them as
/// line breaks; granit-parser (YAML 1.2) reads them as ordinary characters. Inside a quoted
/// scalar that only changes how the scalar folds, but anywhere else (plain and block scalars,
/// comments, between tokens) it changes the structure Go sees: `containers:<LS>  - image: x` is a
/// container list to Go and a plain string here. Such a character outside a quoted scalar is
/// therefore an error; rewriting by a structure Go does not see could miss images it does.
pub fn unicode_breaks(input: &str) -> Vec<usize> {
    let b = input.as_bytes();
    let mut out = Vec::new();
    for i in memchr::memchr2_iter(0xc2, 0xe2, b) {
        match b[i] {
            0xc2 if b.get(i + 1) == Some(&0x85) => out.push(i),
            0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) => {
                out.push(i)
            }
            _ => {}
        }
    }
    out
}

/// The first character Argo CD's reader refuses ("control characters are not allowed") that
/// granit-parser would accept: C0 controls other than tab, LF and CR everywhere; for YAML (not
/// JSON-looking text) also DEL, C1 controls other than NEL, U+FFFE and U+FFFF (go-yaml's
/// `yaml_parser_update_buffer`). Without this check such bytes would pass through to Argo CD,
/// which fails the whole app with no position.
fn forbidden_char(input: &str) -> Option<usize> {
    let json = input
        .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
        .starts_with('{');
    let b = input.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x20 && c != b'\t' && c != b'\n' && c != b'\r' {
            return Some(i);
        }
        if !json
            && (c == 0x7f
                || (c == 0xc2
                    && matches!(b.get(i + 1), Some(&n) if (0x80..=0x9f).contains(&n) && n != 0x85))
                || (c == 0xef
                    && b.get(i + 1) == Some(&0xbf)
                    && matches!(b.get(i + 2), Some(0xbe | 0xbf))))
        {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The offset of a line starting with `%` in `input[from..to]`: between two documents only
/// comments, blank lines, `...`/`---` markers and directives can stand, so such a line is a
/// directive.
fn directive_before(input: &str, from: usize, to: usize) -> Option<usize> {
    let region = input.get(from..to.max(from))?;
    let mut offset = from;
    for line in region.split_inclusive('\n') {
        if line.starts_with('%') && (offset == 0 || input.as_bytes()[offset - 1] == b'\n') {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// Where a node's text starts for the line-break check: a quoted scalar at its span; other
/// events never hold a break, so any break before their end is outside a quoted scalar.
fn span_start(_ev: &Event<'_>, span: &Span, quoted: bool) -> usize {
    if quoted {
        span.start()
    } else {
        span.end()
    }
}

impl Events<'_> {
    fn unicode_break_error(&self, at: usize) -> YamlError {
        let (line, col) = super::line_col(self.input, at);
        let ch = self.input[at..].chars().next().unwrap_or('\0');
        let name = match ch {
            '\u{85}' => "NEXT LINE",
            '\u{2028}' => "LINE SEPARATOR",
            _ => "PARAGRAPH SEPARATOR",
        };
        YamlError {
            line,
            col,
            msg: format!(
                "U+{:04X} ({name}) outside a quoted string: Go's YAML reader (Argo CD) reads it as a line break, pullthrough's reader does not, so they would not see the same manifest; write it as \\u{:04X} in a double-quoted string",
                ch as u32, ch as u32
            ),
        }
    }
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
        let next = match self.parser.next() {
            Some(x) => x,
            None => {
                // The end: a line break character no quoted scalar held is outside of all.
                self.done = true;
                return self
                    .breaks
                    .pop_front()
                    .map(|at| Err(self.unicode_break_error(at)));
            }
        };
        let (ev, span) = match next {
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
                return Some(Err(YamlError {
                    line: m.line(),
                    col: m.col() + 1,
                    msg,
                }));
            }
        };
        let range = match span.byte_range() {
            Some(r) => r,
            None => 0..0,
        };
        // granit gives an empty block scalar (`a: >` with no content lines) the span from its
        // indicator to the end at the end of the input, but an empty span after its blank lines
        // when more text follows: one reading whatever follows (the fast path scans a document
        // alone, the full parse the whole stream; found by fuzzing), the empty span.
        let range = match &ev {
            Event::Scalar(v, ScalarStyle::Literal | ScalarStyle::Folded, ..)
                if v.bytes().all(|b| b == b'\n') =>
            {
                range.end..range.end
            }
            _ => range,
        };
        let Some(span) = Span::within(range.start, range.end, self.input) else {
            self.done = true;
            return Some(Err(YamlError {
                line: 0,
                col: 0,
                msg: "parser reported a span outside the input".into(),
            }));
        };
        if let Some(&at) = self.breaks.front() {
            // Events come in text order: a break before this quoted scalar, or before any other
            // node, was outside every quoted scalar.
            let quoted = matches!(
                ev,
                Event::Scalar(_, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted, ..)
            );
            if at < span_start(&ev, &span, quoted) {
                self.done = true;
                return Some(Err(self.unicode_break_error(at)));
            }
            if quoted {
                while self.breaks.front().is_some_and(|&b| b < span.end()) {
                    self.breaks.pop_front();
                }
            }
        }
        if matches!(ev, Event::DocumentStart(..)) {
            if let Some(at) = directive_before(self.input, self.last_end, span.start()) {
                self.done = true;
                let (line, col) = super::line_col(self.input, at);
                return Some(Err(YamlError {
                    line,
                    col,
                    msg: "a `%` directive: Argo CD splits the stream at `---` lines, which leaves the directive in a document of its own that Go's YAML reader refuses; remove it".into(),
                }));
            }
        }
        self.last_end = self.last_end.max(span.end());
        let ev = match ev {
            Event::DocumentStart(..) => Ev::DocStart,
            Event::DocumentEnd => Ev::DocEnd,
            Event::MappingStart(style, anchor, _) => Ev::MapStart {
                flow: style == StructureStyle::Flow,
                anchor,
            },
            Event::MappingEnd => Ev::MapEnd,
            Event::SequenceStart(style, anchor, _) => Ev::SeqStart {
                flow: style == StructureStyle::Flow,
                anchor,
            },
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
