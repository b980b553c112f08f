//! The quick reader: the YAML events of one document written in the plain block style that
//! renderers emit, read line by line without the general parser, or the reason it declines.
//!
//! Why: granit-parser reads ~50–85 MB/s per core and was ~75 % of a rewrite's time; Helm and
//! kustomize output is a narrow subset of YAML (block mappings and sequences, one-line keys,
//! plain/quoted/literal scalars, `{}`/`[]`). For that subset the events are cheap to compute.
//!
//! The contract: [`events`] returns either exactly the events the full parser
//! ([`super::yaml::events`]) gives for the same text, or a [`Decline`]. It declines ("unsure")
//! anything outside the subset, including every syntax error, so the caller parses the text
//! again with the full parser, which reports errors as before. The decline names its
//! [`Reason`] and where the reader stopped, so tests can tell a reader that answers from one
//! that declines everything (both agree with the full parser), and show why real input is
//! declined; it is two words, built without allocating, because declining is part of the hot
//! path (the caller goes on to the full parser). "Exactly" means: the same
//! sequence once the full parser's `Ev::Other` events are dropped, with equal spans for
//! scalars, aliases and collection starts (the only spans the scanner reads; end and document
//! events carry positions nobody reads). [`agrees_with_full`] checks this contract and is what
//! the differential tests and the `quick` fuzz target call.

use std::borrow::Cow;

use super::yaml::{self, Ev, ParseLimits, Style};
use super::Span;

/// The events of `input`.
///
/// # Errors
///
/// A [`Decline`] when the text is outside the subset this reader proves (syntax errors
/// included): the caller reads it with the full parser.
///
/// The subset, by construction of the functions below (anything else declines):
/// - documents with an optional `---` line (nothing after the marker but spaces) whose root is
///   a block mapping at column 0, or empty; comment and blank lines anywhere between nodes;
/// - block mappings with one-line plain or quoted keys followed by `:` and a space or the line
///   end; block sequences (also "indentless" under a key) whose entries hold a scalar, a
///   one-line flow collection or a compact mapping (`- name: x`);
/// - plain scalars (also over several lines), single- and double-quoted scalars (also over
///   several lines; common escapes only), literal block scalars (`|`, `|-`, `|+`, no
///   indentation indicator), one-line flow collections of plain and quoted scalars.
///
/// Never: tabs, carriage returns, byte-order marks, control characters, YAML 1.1 line breaks
/// (NEL, LS, PS), directives, `...`, anchors, aliases, tags, explicit keys, folded scalars,
/// empty sequence entries, nested compact sequences, keys over 1,000 bytes, nesting deeper than
/// the parse limit (or [`MAX_DEPTH`]). A few narrower cases are declined too, each under its
/// [`Reason`]: text after `---` (a comment included), empty literal scalars and ones whose
/// last line has no line feed, a space before a key's `:`, trailing commas and `:`/`#` in
/// plain scalars inside flow collections, plain continuation lines after a comment line or
/// opening with `- `, `? ` or `: `.
pub fn events(input: &str, limits: ParseLimits) -> Result<Vec<(Ev<'_>, Span)>, Decline> {
    let mut out = Vec::new();
    read(input, limits, &mut out)?;
    Ok(out)
}

/// Why the quick reader declined a text, and the byte offset where it stopped (at or near the
/// construct named; for [`Reason::TooDeep`] the collection that went too deep).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decline {
    /// What the reader does not read.
    pub reason: Reason,
    /// The byte offset in the text given to [`read`] or [`events`].
    pub at: usize,
}

/// What put a text outside the subset (see [`events`]); several checks share a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// A tab.
    Tab,
    /// A carriage return (CRLF line ends among them).
    CarriageReturn,
    /// Another character outside plain text: a C0 or C1 control, DEL, U+2028/U+2029, or one of
    /// U+F000–U+FFFF (the byte-order mark among them).
    Character,
    /// A `%` directive or `...` line, or text after `---` on its line.
    Marker,
    /// The root is not a block mapping at column 0 (a scalar, a sequence, a flow collection, an
    /// indented root) and not empty.
    Root,
    /// An anchor (`&`).
    Anchor,
    /// An alias (`*`).
    Alias,
    /// A tag (`!`).
    Tag,
    /// An explicit key or value (`? `, `: ` opening a node).
    ExplicitKey,
    /// A folded block scalar (`>`).
    FoldedScalar,
    /// A literal block scalar this reader leaves alone: an indentation indicator or other text
    /// in its header, no content line, blank lines wider than its text, or a last line (blank
    /// or not) without a line feed.
    BlockScalar,
    /// A flow collection (or a quoted scalar inside one) that does not close on its line.
    FlowMultiLine,
    /// Something else in a flow collection: a trailing comma, a `:` or `#` in a plain scalar,
    /// a key without `: `, an indicator.
    Flow,
    /// A quoted scalar this reader leaves alone: unterminated, an unknown escape, an escaped
    /// line break before a blank line, a continuation line not indented past its block, or a
    /// quoted key over several lines.
    Quoted,
    /// An empty sequence entry, a comment right after the `-`, or a nested compact sequence
    /// (`- - a`).
    SequenceEntry,
    /// Where a key is expected, no one-line key: a plain or quoted scalar with no `: `, a
    /// comment, a `- ` entry or a collection.
    NotAKey,
    /// A key over 1,000 bytes (YAML's limit is 1,024 characters; the full parser reports it).
    KeyTooLong,
    /// A line whose indentation continues no open block (more indented than a complete node, or
    /// between two open columns).
    Indentation,
    /// Nesting deeper than the parse limit or [`MAX_DEPTH`].
    TooDeep,
    /// Text the subset does not allow where it stands: `: ` inside a plain scalar, text after
    /// a complete node on its line, a `- ` after a key, a reserved indicator (usually a syntax
    /// error, which the full parser reports), a space before a key's `:`.
    Unexpected,
}

impl Reason {
    fn at(self, at: usize) -> Decline {
        Decline { reason: self, at }
    }

    /// What this reason means, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Tab => "a tab",
            Reason::CarriageReturn => "a carriage return",
            Reason::Character => "a control, line-break or byte-order-mark character",
            Reason::Marker => "a directive, `...` or text after `---`",
            Reason::Root => "a root that is not a block mapping at column 0",
            Reason::Anchor => "an anchor",
            Reason::Alias => "an alias",
            Reason::Tag => "a tag",
            Reason::ExplicitKey => "an explicit key or value",
            Reason::FoldedScalar => "a folded block scalar",
            Reason::BlockScalar => "a literal block scalar outside the subset",
            Reason::FlowMultiLine => "a flow collection over several lines",
            Reason::Flow => "a flow collection outside the subset",
            Reason::Quoted => "a quoted scalar outside the subset",
            Reason::SequenceEntry => "an empty, commented or nested sequence entry",
            Reason::NotAKey => "no one-line key where a key is expected",
            Reason::KeyTooLong => "a key over 1,000 bytes",
            Reason::Indentation => "an indentation that continues no open block",
            Reason::TooDeep => "nesting too deep",
            Reason::Unexpected => "text the subset does not allow there",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl std::fmt::Display for Decline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.at)
    }
}

/// The reason for a node that opens with the indicator `c`, where this reader reads none: the
/// node properties and block indicators have their own reasons, the rest is `other`.
fn indicator(c: u8, next: Option<&u8>, other: Reason) -> Reason {
    match c {
        b'&' => Reason::Anchor,
        b'*' => Reason::Alias,
        b'!' => Reason::Tag,
        b'>' => Reason::FoldedScalar,
        b'?' | b':' if ends_key(next) => Reason::ExplicitKey,
        _ => other,
    }
}

/// Where the events go as they are read. A sink may see some events of a text for which
/// [`read`] ends up unsure: it must then be thrown away.
pub trait Sink<'a> {
    fn event(&mut self, ev: Ev<'a>, span: Span);
}

impl<'a> Sink<'a> for Vec<(Ev<'a>, Span)> {
    fn event(&mut self, ev: Ev<'a>, span: Span) {
        self.push((ev, span));
    }
}

/// [`events`] into a [`Sink`], without collecting them.
///
/// # Errors
///
/// A [`Decline`] as [`events`]; the sink then holds a partial document and must be discarded.
pub fn read<'a, S: Sink<'a>>(
    input: &'a str,
    limits: ParseLimits,
    sink: &mut S,
) -> Result<(), Decline> {
    if let Err(at) = plain_text(input.as_bytes()) {
        let reason = match input.as_bytes()[at] {
            b'\t' => Reason::Tab,
            b'\r' => Reason::CarriageReturn,
            _ => Reason::Character,
        };
        return Err(reason.at(at));
    }
    let mut r = Reader {
        text: input,
        b: input.as_bytes(),
        out: sink,
        depth: 0,
        max_depth: limits.max_depth.min(MAX_DEPTH),
        last_line: std::cell::Cell::new((1, 0)),
    };
    r.stream()
}

/// Deepest nesting this reader follows (it recurses per level); deeper input goes to the full
/// parser, which has its own configurable limit.
pub const MAX_DEPTH: usize = 100;

/// Longest implicit key accepted. YAML caps implicit keys at 1,024 characters; staying below it
/// leaves the exact limit and its error to the full parser.
const MAX_KEY: usize = 1000;

/// `Ok` when the bytes hold only printable characters and line feeds, and none of the
/// characters whose treatment differs between YAML versions or parsers: tab and CR (both
/// legal, but rare in rendered output and subtle in indentation and folding), every other C0
/// control and DEL, the C1 range (NEL among them), U+2028/U+2029, and the U+F000–U+FFFF block
/// (byte-order mark, U+FFFE, U+FFFF). Else the offset of the first refused character.
fn plain_text(b: &[u8]) -> Result<(), usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    // Eight bytes at a time: most words are printable ASCII only, which three bit tricks show
    // (no high bit, no byte below 0x20, no 0x7F); any other word is looked at byte by byte.
    while i + 8 <= b.len() {
        let x = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        // Exact per byte (no carries cross bytes): the high bit of `(b & 0x7F) + k` is set
        // exactly when the low seven bits of b are at least 0x80 - k.
        let low = |y: u64| (y & !HIGH).wrapping_add(ONES * 0x60) & HIGH; // b & 0x7F >= 0x20
        let zero = |y: u64| !((y & !HIGH).wrapping_add(ONES * 0x7f) | y) & HIGH; // b == 0
        let control = !low(x) & !x & HIGH & !zero(x ^ (ONES * b'\n' as u64));
        let del = zero(x ^ (ONES * 0x7f));
        if (x & HIGH) | control | del != 0 {
            if let Some(j) = (i..i + 8).find(|&j| !plain_byte(b, j)) {
                return Err(j);
            }
        }
        i += 8;
    }
    (i..b.len())
        .find(|&j| !plain_byte(b, j))
        .map_or(Ok(()), Err)
}

/// [`plain_text`] for the byte at `i` (a continuation byte of a UTF-8 character passes: its
/// lead byte decided).
fn plain_byte(b: &[u8], i: usize) -> bool {
    match b[i] {
        0x20..=0x7e | b'\n' => true,
        0xc2 => b.get(i + 1).is_none_or(|&n| n >= 0xa0),
        0xe2 => !(b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9))),
        0xef => false,
        c => c >= 0x80,
    }
}

/// One line: where it starts, where its first non-space byte is, and where it ends (the `\n`
/// or the end of the text).
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    content: usize,
    end: usize,
}

impl Line {
    fn indent(&self) -> usize {
        self.content - self.start
    }
}

/// What follows a node, seen from the line that follows it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Next {
    /// The end of the text, or a `---` line: every open block closes.
    End,
    /// A content line at this indentation.
    At(usize),
}

struct Reader<'a, 's, S> {
    text: &'a str,
    b: &'a [u8],
    out: &'s mut S,
    depth: usize,
    max_depth: usize,
    /// The last [`Reader::line_end`] search: where it started and the end it found.
    last_line: std::cell::Cell<(usize, usize)>,
}

/// Whether byte `c` may follow `:` for the colon to be a mapping indicator in block context.
fn ends_key(c: Option<&u8>) -> bool {
    matches!(c, None | Some(b' ' | b'\n'))
}

impl<'a, S: Sink<'a>> Reader<'a, '_, S> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::within(start, end, self.text).expect("quick reader positions are on ASCII delimiters")
    }

    fn push(&mut self, ev: Ev<'a>, start: usize, end: usize) {
        let span = self.span(start, end);
        self.out.event(ev, span);
    }

    fn scalar(&mut self, value: Cow<'a, str>, style: Style, start: usize, end: usize) {
        self.push(
            Ev::Scalar {
                value,
                style,
                anchor: 0,
                tag: None,
            },
            start,
            end,
        );
    }

    fn line_end(&self, from: usize) -> usize {
        // The same line's end is asked for several times (key, value, scalar): remember the
        // last answer, valid for every position from where it was searched up to the end.
        let (searched, end) = self.last_line.get();
        if searched <= from && from <= end {
            return end;
        }
        let end = memchr::memchr(b'\n', &self.b[from..]).map_or(self.b.len(), |p| from + p);
        self.last_line.set((from, end));
        end
    }

    /// The line starting at `start` (which must be a line start or the end of the text).
    fn line(&self, start: usize) -> Option<Line> {
        if start >= self.b.len() {
            return None;
        }
        let mut content = start;
        while self.b.get(content) == Some(&b' ') {
            content += 1;
        }
        Some(Line {
            start,
            content,
            end: self.line_end(content),
        })
    }

    /// The first line at or after `start` that is not blank and not a comment line.
    fn content_line(&self, mut start: usize) -> Option<Line> {
        while let Some(l) = self.line(start) {
            if l.content < l.end && self.b[l.content] != b'#' {
                return Some(l);
            }
            start = l.end + 1;
        }
        None
    }

    fn is_marker(&self, l: &Line) -> bool {
        l.start == l.content && super::split::is_doc_start(self.b, l.start)
    }

    /// Where the block structure goes on at `start`: a `---` line ends everything; a `...` or
    /// `%` line at column 0 is beyond this reader.
    fn next_at(&self, start: usize) -> Result<(Next, Option<Line>), Decline> {
        match self.content_line(start) {
            None => Ok((Next::End, None)),
            Some(l) if self.is_marker(&l) => Ok((Next::End, Some(l))),
            Some(l)
                if l.indent() == 0
                    && (self.b[l.content] == b'%' || self.b[l.content..].starts_with(b"...")) =>
            {
                Err(Reason::Marker.at(l.content))
            }
            Some(l) => Ok((Next::At(l.indent()), Some(l))),
        }
    }

    fn stream(&mut self) -> Result<(), Decline> {
        let mut pos = 0;
        let mut documents = 0;
        loop {
            let Some(l) = self.content_line(pos) else {
                return Ok(());
            };
            if self.is_marker(&l) {
                // Only spaces may follow the marker on its line.
                if let Some(k) = self.b[l.start + 3..l.end].iter().position(|&c| c != b' ') {
                    return Err(Reason::Marker.at(l.start + 3 + k));
                }
                self.push(Ev::DocStart, l.start, l.start + 3);
                pos = self.document(l.end + 1, Some(l.start + 3))?;
            } else {
                if documents > 0 || l.indent() != 0 {
                    return Err(Reason::Root.at(l.content));
                }
                self.push(Ev::DocStart, l.start, l.start);
                pos = self.document(l.start, None)?;
            }
            documents += 1;
        }
    }

    /// One document body from `start`; `marker_end` is the end of its `---`, if it has one.
    /// Returns where the next document (or the end) begins.
    fn document(&mut self, start: usize, marker_end: Option<usize>) -> Result<usize, Decline> {
        let (next, line) = self.next_at(start)?;
        match (next, line) {
            (Next::End, l) => {
                // An empty document: a null root, placed where the marker ends.
                let at = marker_end.ok_or(Reason::Root.at(start))?;
                self.scalar(Cow::Borrowed("~"), Style::Plain, at, at);
                let end = l.map_or(self.b.len(), |l| l.start);
                self.push(Ev::DocEnd, end, end);
                Ok(end)
            }
            (Next::At(0), Some(l)) => {
                // A first line that is no key: a root scalar, sequence or flow collection.
                let key = self.key_at(l.content).map_err(|d| match d.reason {
                    Reason::NotAKey => Reason::Root.at(d.at),
                    _ => d,
                })?;
                let pos = self.mapping(0, key)?;
                let (next, line) = self.next_at(pos)?;
                if next != Next::End {
                    return Err(Reason::Indentation.at(pos));
                }
                let end = line.map_or(self.b.len(), |l| l.start);
                self.push(Ev::DocEnd, end, end);
                Ok(end)
            }
            (_, l) => Err(Reason::Root.at(l.map_or(start, |l| l.content))),
        }
    }

    /// One level deeper, for a collection opening at `at`.
    fn enter(&mut self, at: usize) -> Result<(), Decline> {
        self.depth += 1;
        if self.depth <= self.max_depth {
            Ok(())
        } else {
            Err(Reason::TooDeep.at(at))
        }
    }

    /// A block mapping whose keys sit at column `indent`, starting with the key `first`
    /// (mid-line after `- ` for a compact mapping). Returns the start of the first line after it.
    fn mapping(&mut self, indent: usize, first: Key<'a>) -> Result<usize, Decline> {
        self.enter(first.start)?;
        self.push(
            Ev::MapStart {
                flow: false,
                anchor: 0,
            },
            first.start,
            first.start,
        );
        let mut key = first;
        let pos = loop {
            let colon = key.colon;
            self.scalar(key.value, key.style, key.start, key.end);
            let pos = self.value_after_key(indent, colon)?;
            let (next, line) = self.next_at(pos)?;
            match next {
                Next::At(i) if i == indent => {
                    let l = line.expect("a content line");
                    key = self.key_at(l.content)?;
                }
                Next::At(i) if i > indent => {
                    return Err(Reason::Indentation.at(line.map_or(pos, |l| l.content)))
                }
                _ => break pos,
            }
        };
        self.push(Ev::MapEnd, pos, pos);
        self.depth -= 1;
        Ok(pos)
    }

    /// The mapping key (plain or quoted, then `:` and a space or the line end) starting at
    /// `p`, if one does.
    fn key_at(&self, p: usize) -> Result<Key<'a>, Decline> {
        let end = self.line_end(p);
        match self.b[p] {
            b'"' | b'\'' => {
                let (value, close) = self.quoted_line(p, end)?;
                let style = quote_style(self.b[p]);
                if self.b.get(close) != Some(&b':') || !ends_key(self.b.get(close + 1)) {
                    return Err(Reason::NotAKey.at(p));
                }
                if close - p > MAX_KEY {
                    return Err(Reason::KeyTooLong.at(p));
                }
                Ok(Key {
                    start: p,
                    end: close,
                    colon: close,
                    value,
                    style,
                })
            }
            c if !plain_start(c, self.b.get(p + 1)) => {
                let reason = match c {
                    b'>' => Reason::NotAKey,
                    c => indicator(c, self.b.get(p + 1), Reason::NotAKey),
                };
                Err(reason.at(p))
            }
            _ => {
                let mut i = p;
                while let Some(k) = memchr::memchr2(b':', b'#', &self.b[i..end]) {
                    i += k;
                    match self.b[i] {
                        b':' if ends_key(self.b.get(i + 1)) => {
                            if self.b[i - 1] == b' ' {
                                return Err(Reason::Unexpected.at(i));
                            }
                            if i - p > MAX_KEY {
                                return Err(Reason::KeyTooLong.at(p));
                            }
                            let value = Cow::Borrowed(&self.text[p..i]);
                            return Ok(Key {
                                start: p,
                                end: i,
                                colon: i,
                                value,
                                style: Style::Plain,
                            });
                        }
                        b'#' if self.b[i - 1] == b' ' => return Err(Reason::NotAKey.at(i)),
                        _ => i += 1,
                    }
                }
                Err(Reason::NotAKey.at(p))
            }
        }
    }

    /// The value of a mapping entry whose `:` is at `colon`, in a mapping at `indent`.
    fn value_after_key(&mut self, indent: usize, colon: usize) -> Result<usize, Decline> {
        let end = self.line_end(colon);
        let p = skip_spaces(self.b, colon + 1, end);
        if p < end && self.b[p] != b'#' {
            return self.inline_node(indent, p);
        }
        // The value starts on a later line, or is empty (null).
        let after = (end + 1).min(self.b.len());
        let (next, line) = self.next_at(after)?;
        match (next, line) {
            (Next::At(i), Some(l)) if i == indent && self.is_entry(l.content) => {
                self.sequence(indent, l, true)
            }
            (Next::At(i), Some(l)) if i > indent => {
                if self.is_entry(l.content) {
                    return self.sequence(i, l, false);
                }
                match self.key_at(l.content) {
                    Ok(key) => return self.mapping(i, key),
                    // No scalar reading of the line can succeed either (it holds `: `); the
                    // length is the reason to report.
                    Err(d) if d.reason == Reason::KeyTooLong => return Err(d),
                    Err(_) => {}
                }
                match self.b[l.content] {
                    b'"' | b'\'' => self.quoted(indent, l.content),
                    b'{' | b'[' => {
                        let close = self.flow(l.content, l.end)?;
                        self.rest_of_line(close, l.end)
                    }
                    c if plain_start(c, self.b.get(l.content + 1)) => self.plain(indent, l.content),
                    b'|' => Err(Reason::BlockScalar.at(l.content)),
                    c => {
                        Err(indicator(c, self.b.get(l.content + 1), Reason::Unexpected)
                            .at(l.content))
                    }
                }
            }
            _ => {
                self.scalar(Cow::Borrowed("~"), Style::Plain, colon, colon);
                Ok(after)
            }
        }
    }

    /// Whether a block sequence entry (`-` then a space or the line end) starts at `p`.
    fn is_entry(&self, p: usize) -> bool {
        self.b[p] == b'-' && ends_key(self.b.get(p + 1))
    }

    /// A block sequence whose `-` sit at column `indent`, starting with the line `first`.
    /// `indentless` when it is the value of a key in a mapping at the same column.
    fn sequence(&mut self, indent: usize, first: Line, indentless: bool) -> Result<usize, Decline> {
        self.enter(first.content)?;
        let mut l = first;
        // Where an entry's node starts: after the dash and its spaces.
        let content = |r: &Self, l: &Line| skip_spaces(r.b, l.content + 1, l.end);
        let start = if indentless {
            content(self, &l)
        } else {
            l.content
        };
        self.push(
            Ev::SeqStart {
                flow: false,
                anchor: 0,
            },
            start,
            start,
        );
        let pos = loop {
            let p = content(self, &l);
            // An empty entry, a comment after the dash, or a nested `- -`: not in the subset.
            if p >= l.end || self.b[p] == b'#' || self.is_entry(p) {
                return Err(Reason::SequenceEntry.at(l.content));
            }
            let pos = match self.key_at(p) {
                Ok(key) => self.mapping(p - l.start, key)?,
                // As in `value_after_key`: the scalar reading fails too.
                Err(d) if d.reason == Reason::KeyTooLong => return Err(d),
                Err(_) => self.inline_node(indent, p)?,
            };
            let (next, line) = self.next_at(pos)?;
            match next {
                Next::At(i) if i == indent => {
                    let n = line.expect("a content line");
                    if self.is_entry(n.content) {
                        l = n;
                    } else if indentless {
                        break pos;
                    } else {
                        return Err(Reason::Indentation.at(n.content));
                    }
                }
                Next::At(i) if i > indent => {
                    return Err(Reason::Indentation.at(line.map_or(pos, |l| l.content)))
                }
                _ => break pos,
            }
        };
        self.push(Ev::SeqEnd, pos, pos);
        self.depth -= 1;
        Ok(pos)
    }

    /// A node that starts at `p` on a line that already holds its key or dash, inside a block
    /// collection at column `indent`. Returns the start of the line after it.
    fn inline_node(&mut self, indent: usize, p: usize) -> Result<usize, Decline> {
        match self.b[p] {
            b'"' | b'\'' => self.quoted(indent, p),
            b'|' => self.literal(indent, p),
            b'{' | b'[' => {
                let end = self.line_end(p);
                let close = self.flow(p, end)?;
                self.rest_of_line(close, end)
            }
            c if plain_start(c, self.b.get(p + 1)) => self.plain(indent, p),
            c => Err(indicator(c, self.b.get(p + 1), Reason::Unexpected).at(p)),
        }
    }

    /// After a node ending at `at` on a line ending at `end`: only spaces or a comment may
    /// follow. Returns the start of the next line.
    fn rest_of_line(&self, at: usize, end: usize) -> Result<usize, Decline> {
        let i = skip_spaces(self.b, at, end);
        if i == end || (self.b[i] == b'#' && i > at) {
            Ok((end + 1).min(self.b.len()))
        } else {
            Err(Reason::Unexpected.at(i))
        }
    }

    /// A plain scalar from `p`, possibly continued on lines indented past `indent`.
    fn plain(&mut self, indent: usize, p: usize) -> Result<usize, Decline> {
        let end = self.line_end(p);
        let (mut last, mut commented) = self.plain_piece(p, end)?;
        let mut value: Option<String> = None;
        let mut pos = (end + 1).min(self.b.len());
        // Continuation lines: folded into one space, or one line feed per blank line between.
        while !commented {
            let mut blanks = 0;
            let mut q = pos;
            let l = loop {
                match self.line(q) {
                    Some(l) if l.content == l.end => {
                        blanks += 1;
                        q = l.end + 1;
                    }
                    other => break other,
                }
            };
            let Some(l) = l else { break };
            if l.indent() <= indent || self.b[l.content] == b'#' {
                break;
            }
            // Inside a plain scalar a line may start with any character but `#` (a comment,
            // handled above); `- `, `? ` and `: ` starts are left to the full parser.
            if matches!(self.b[l.content], b':' | b'-' | b'?')
                && ends_key(self.b.get(l.content + 1))
            {
                return Err(Reason::Unexpected.at(l.content));
            }
            let (piece_end, c) = self.plain_piece(l.content, l.end)?;
            let v = value.get_or_insert_with(|| self.text[p..last].to_string());
            if blanks == 0 {
                v.push(' ');
            } else {
                v.extend(std::iter::repeat_n('\n', blanks));
            }
            v.push_str(&self.text[l.content..piece_end]);
            last = piece_end;
            commented = c;
            pos = (l.end + 1).min(self.b.len());
        }
        let value = value.map_or(Cow::Borrowed(&self.text[p..last]), Cow::Owned);
        self.scalar(value, Style::Plain, p, last);
        Ok(pos)
    }

    /// One line's share of a plain scalar in block context: from `p` to the end of its last
    /// non-space byte, and whether a comment ends the line. Declines if `: ` or a `:` at the
    /// line end occurs (a mapping where a scalar stands is an error).
    fn plain_piece(&self, p: usize, end: usize) -> Result<(usize, bool), Decline> {
        let mut i = p;
        let (stop, commented) = loop {
            let Some(k) = memchr::memchr2(b':', b'#', &self.b[i..end]) else {
                break (end, false);
            };
            i += k;
            match self.b[i] {
                b':' if ends_key(self.b.get(i + 1)) => return Err(Reason::Unexpected.at(i)),
                b'#' if self.b[i - 1] == b' ' => break (i, true),
                _ => i += 1,
            }
        };
        // The scalar ends at its last non-space byte (`p` itself is never a space).
        let last = p + self.b[p..stop]
            .iter()
            .rposition(|&c| c != b' ')
            .map_or(0, |n| n + 1);
        Ok((last, commented))
    }

    /// A single- or double-quoted scalar from `p` (its opening quote), possibly over several
    /// lines indented past `indent`.
    fn quoted(&mut self, indent: usize, p: usize) -> Result<usize, Decline> {
        let double = self.b[p] == b'"';
        let mut value = String::new();
        let mut borrowed = true;
        let mut i = p + 1;
        let mut line_end = self.line_end(p);
        loop {
            // Raw spaces seen and not yet kept: dropped if the line breaks after them.
            let mut spaces = 0;
            while i < line_end {
                let c = self.b[i];
                match c {
                    b'"' if double => {
                        flush_spaces(&mut value, &mut spaces);
                        return self.close_quoted(value, borrowed, p, i + 1, line_end);
                    }
                    b'\'' if !double => {
                        if self.b.get(i + 1) == Some(&b'\'') {
                            flush_spaces(&mut value, &mut spaces);
                            value.push('\'');
                            borrowed = false;
                            i += 2;
                            continue;
                        }
                        flush_spaces(&mut value, &mut spaces);
                        return self.close_quoted(value, borrowed, p, i + 1, line_end);
                    }
                    b'\\' if double => {
                        flush_spaces(&mut value, &mut spaces);
                        borrowed = false;
                        if i + 1 == line_end {
                            // An escaped line break: the next line joins without a space; its
                            // leading spaces are dropped. Blank lines after it: not handled.
                            let l = self
                                .line(line_end + 1)
                                .filter(|l| l.content < l.end && l.indent() > indent)
                                .ok_or(Reason::Quoted.at(i))?;
                            i = l.content;
                            line_end = l.end;
                            continue;
                        }
                        let (ch, len) =
                            escape(&self.b[i + 1..line_end]).ok_or(Reason::Quoted.at(i))?;
                        value.push(ch);
                        i += 1 + len;
                        continue;
                    }
                    b' ' => {
                        spaces += 1;
                        i += 1;
                        continue;
                    }
                    _ => {}
                }
                flush_spaces(&mut value, &mut spaces);
                // Copy the run of ordinary bytes up to the next byte that needs a look.
                let run_end = self.b[i + 1..line_end]
                    .iter()
                    .position(|&c| c == b' ' || c == b'\\' || c == b'"' || c == b'\'')
                    .map_or(line_end, |n| i + 1 + n);
                value.push_str(&self.text[i..run_end]);
                i = run_end;
            }
            // The line ends inside the quotes: fold.
            borrowed = false;
            let mut blanks = 0;
            let mut q = line_end + 1;
            let l = loop {
                let l = self.line(q).ok_or(Reason::Quoted.at(p))?;
                if l.content == l.end {
                    blanks += 1;
                    q = l.end + 1;
                } else {
                    break l;
                }
            };
            if l.indent() <= indent {
                // Most often an unterminated quote: name where it opens.
                return Err(Reason::Quoted.at(p));
            }
            if blanks == 0 {
                value.push(' ');
            } else {
                value.extend(std::iter::repeat_n('\n', blanks));
            }
            i = l.content;
            line_end = l.end;
        }
    }

    fn close_quoted(
        &mut self,
        value: String,
        borrowed: bool,
        p: usize,
        close: usize,
        line_end: usize,
    ) -> Result<usize, Decline> {
        let style = quote_style(self.b[p]);
        let value = if borrowed {
            Cow::Borrowed(&self.text[p + 1..close - 1])
        } else {
            Cow::Owned(value)
        };
        self.scalar(value, style, p, close);
        self.rest_of_line(close, line_end)
    }

    /// A quoted scalar that must close on its line (keys, flow collections): its value and the
    /// position after the closing quote.
    fn quoted_line(&self, p: usize, end: usize) -> Result<(Cow<'a, str>, usize), Decline> {
        let double = self.b[p] == b'"';
        let mut i = p + 1;
        let mut owned: Option<String> = None;
        while i < end {
            match self.b[i] {
                b'"' if double => break,
                b'\'' if !double => {
                    if self.b.get(i + 1) != Some(&b'\'') {
                        break;
                    }
                    owned
                        .get_or_insert_with(|| self.text[p + 1..i].to_string())
                        .push('\'');
                    i += 2;
                    continue;
                }
                b'\\' if double => {
                    let (ch, len) = escape(&self.b[i + 1..end]).ok_or(Reason::Quoted.at(i))?;
                    owned
                        .get_or_insert_with(|| self.text[p + 1..i].to_string())
                        .push(ch);
                    i += 1 + len;
                    continue;
                }
                _ => {}
            }
            let next = self.b[i + 1..end]
                .iter()
                .position(|&c| c == b'\\' || c == b'"' || c == b'\'')
                .map_or(end, |n| i + 1 + n);
            if let Some(o) = owned.as_mut() {
                o.push_str(&self.text[i..next]);
            }
            i = next;
        }
        if i >= end {
            return Err(Reason::Quoted.at(p));
        }
        let value = owned.map_or(Cow::Borrowed(&self.text[p + 1..i]), Cow::Owned);
        Ok((value, i + 1))
    }

    /// A literal block scalar whose `|` is at `p`, in a block collection at column `indent`.
    fn literal(&mut self, indent: usize, p: usize) -> Result<usize, Decline> {
        let refuse = Reason::BlockScalar.at(p);
        let header_end = self.line_end(p);
        let chomp = match self.b.get(p + 1) {
            Some(b'-') => Chomp::Strip,
            Some(b'+') => Chomp::Keep,
            _ => Chomp::Clip,
        };
        let after_header = p + 1 + usize::from(chomp != Chomp::Clip);
        // An indentation indicator (or anything but a comment) after the chomping one.
        self.rest_of_line(after_header, header_end)
            .map_err(|_| refuse)?;
        if header_end >= self.b.len() {
            return Err(refuse);
        }
        // Leading blank lines, then the first content line fixes the indentation.
        let mut q = header_end + 1;
        let mut leading = 0;
        let mut widest_blank = 0;
        let first = loop {
            let l = self.line(q).ok_or(refuse)?;
            if l.content == l.end {
                leading += 1;
                widest_blank = widest_blank.max(l.indent());
                q = l.end + 1;
            } else {
                break l;
            }
        };
        let m = first.indent();
        if m <= indent || widest_blank > m {
            return Err(refuse);
        }
        let mut lines: Vec<(usize, usize)> = Vec::new();
        let mut pending = 0;
        let mut trailing_blanks = 0;
        let mut q = first.start;
        let stop = loop {
            let Some(l) = self.line(q) else {
                break self.b.len();
            };
            if l.content == l.end {
                // A blank line with spaces and no line feed at the very end adds no break;
                // rare enough to leave to the full parser, with wider blank lines.
                if l.indent() > m || l.end >= self.b.len() {
                    return Err(Reason::BlockScalar.at(l.start));
                }
                pending += 1;
                trailing_blanks += 1;
            } else if l.indent() < m {
                break l.content;
            } else {
                // A content line with no line feed after it reads differently at the end of
                // the text (the full parser follows Go there).
                if l.end >= self.b.len() {
                    return Err(Reason::BlockScalar.at(l.start));
                }
                for _ in 0..pending {
                    lines.push((l.start, l.start));
                }
                pending = 0;
                trailing_blanks = 0;
                lines.push((l.start + m, l.end));
            }
            q = l.end + 1;
        };
        let mut value = String::new();
        for _ in 0..leading {
            value.push('\n');
        }
        for (k, &(a, z)) in lines.iter().enumerate() {
            if k > 0 {
                value.push('\n');
            }
            value.push_str(&self.text[a..z]);
        }
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => value.push('\n'),
            Chomp::Keep => {
                value.push('\n');
                value.extend(std::iter::repeat_n('\n', trailing_blanks));
            }
        }
        let start = first.start + m;
        let value = if leading == 0 && lines.len() == 1 && chomp == Chomp::Clip {
            Cow::Borrowed(&self.text[start..lines[0].1 + 1])
        } else {
            Cow::Owned(value)
        };
        self.push(
            Ev::Scalar {
                value,
                style: Style::Literal,
                anchor: 0,
                tag: None,
            },
            start,
            stop,
        );
        // `stop` is the first content byte of the line that ended the scalar: go back to its start.
        let next_line = self.b[..stop]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |n| n + 1);
        Ok(if stop == self.b.len() {
            stop
        } else {
            next_line
        })
    }

    /// A one-line flow collection opening at `p`; returns the position after its closing bracket.
    fn flow(&mut self, p: usize, end: usize) -> Result<usize, Decline> {
        self.enter(p)?;
        // What stops the collection at `i`: the line's end, or something else.
        let refuse = |i: usize| {
            if i >= end {
                Reason::FlowMultiLine.at(end)
            } else {
                Reason::Flow.at(i)
            }
        };
        let map = self.b[p] == b'{';
        let close = if map { b'}' } else { b']' };
        self.push(
            if map {
                Ev::MapStart {
                    flow: true,
                    anchor: 0,
                }
            } else {
                Ev::SeqStart {
                    flow: true,
                    anchor: 0,
                }
            },
            p,
            p + 1,
        );
        let mut i = skip_spaces(self.b, p + 1, end);
        if self.b.get(i) == Some(&close) {
            self.push(if map { Ev::MapEnd } else { Ev::SeqEnd }, i, i + 1);
            self.depth -= 1;
            return Ok(i + 1);
        }
        loop {
            let key_start = i;
            i = self.flow_node(i, end)?;
            if map {
                i = skip_spaces(self.b, i, end);
                // The 1,024-character implicit-key limit holds in flow mappings too: past it,
                // Go's scanner forgets the key and the `:` is an error (fuzz finding).
                if i - key_start > MAX_KEY {
                    return Err(Reason::KeyTooLong.at(key_start));
                }
                if self.b.get(i) != Some(&b':') || self.b.get(i + 1) != Some(&b' ') {
                    return Err(refuse(i));
                }
                i = skip_spaces(self.b, i + 1, end);
                i = self.flow_node(i, end)?;
            }
            i = skip_spaces(self.b, i, end);
            match self.b.get(i) {
                Some(b',') => {
                    i = skip_spaces(self.b, i + 1, end);
                    // A trailing comma: legal YAML, left to the full parser.
                    if self.b.get(i) == Some(&close) {
                        return Err(Reason::Flow.at(i));
                    }
                }
                Some(&c) if c == close => {
                    self.push(if map { Ev::MapEnd } else { Ev::SeqEnd }, i, i + 1);
                    self.depth -= 1;
                    return Ok(i + 1);
                }
                _ => return Err(refuse(i)),
            }
        }
    }

    /// A scalar or nested collection inside a one-line flow collection.
    fn flow_node(&mut self, p: usize, end: usize) -> Result<usize, Decline> {
        if p >= end {
            return Err(Reason::FlowMultiLine.at(end));
        }
        match self.b[p] {
            b'{' | b'[' => self.flow(p, end),
            b'"' | b'\'' => {
                // A quote that does not close on the line: the collection goes on below it.
                let (value, after) = self.quoted_line(p, end).map_err(|d| match d.reason {
                    Reason::Quoted if d.at == p => Reason::FlowMultiLine.at(end),
                    _ => d,
                })?;
                let style = quote_style(self.b[p]);
                self.scalar(value, style, p, after);
                Ok(after)
            }
            c if plain_start(c, self.b.get(p + 1)) && !is_indicator(c) => {
                // Plain scalars inside flow collections: letters up to a flow indicator, with no
                // `:` or `#` at all (both have context rules there).
                let mut i = p;
                let mut last = p;
                while i < end {
                    match self.b[i] {
                        b',' | b'[' | b']' | b'{' | b'}' => break,
                        // `: ` ends a key; any other `:` or `#` has context rules here.
                        b':' if self.b.get(i + 1) == Some(&b' ') => break,
                        b':' | b'#' => return Err(Reason::Flow.at(i)),
                        b' ' => {}
                        _ => last = i + 1,
                    }
                    i += 1;
                }
                self.scalar(Cow::Borrowed(&self.text[p..last]), Style::Plain, p, last);
                Ok(last)
            }
            b'>' => Err(Reason::Flow.at(p)),
            c => Err(indicator(c, self.b.get(p + 1), Reason::Flow).at(p)),
        }
    }
}

/// A mapping key read from its line: the scalar (`start..end`, quotes included) and its `:`.
struct Key<'a> {
    start: usize,
    end: usize,
    colon: usize,
    value: Cow<'a, str>,
    style: Style,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// The style of a quoted scalar opening with `quote`.
fn quote_style(quote: u8) -> Style {
    if quote == b'"' {
        Style::DoubleQuoted
    } else {
        Style::SingleQuoted
    }
}

fn skip_spaces(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && b[i] == b' ' {
        i += 1;
    }
    i
}

fn flush_spaces(value: &mut String, spaces: &mut usize) {
    value.extend(std::iter::repeat_n(' ', *spaces));
    *spaces = 0;
}

/// YAML's indicator characters, which cannot start a plain scalar (except `-`, `?`, `:` before
/// a non-space, which this reader does not accept either).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Whether a plain scalar may start with `c` (followed by `next`) in block context: any
/// non-indicator, or `-`, `?`, `:` before a non-space (`--flag=value` arguments are everywhere).
fn plain_start(c: u8, next: Option<&u8>) -> bool {
    if matches!(c, b'-' | b'?' | b':') {
        return !ends_key(next);
    }
    c != b' ' && c != b'\n' && !is_indicator(c)
}

/// The character a double-quoted escape stands for (`rest` starts after the backslash) and
/// the number of bytes it takes; `None` for escapes this reader leaves to the full parser.
fn escape(rest: &[u8]) -> Option<(char, usize)> {
    let hex = |n: usize| -> Option<(char, usize)> {
        let digits = rest.get(1..1 + n)?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let v = u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
        Some((char::from_u32(v)?, 1 + n))
    };
    match rest.first()? {
        b'\\' => Some(('\\', 1)),
        b'"' => Some(('"', 1)),
        b'/' => Some(('/', 1)),
        b'n' => Some(('\n', 1)),
        b't' => Some(('\t', 1)),
        b'r' => Some(('\r', 1)),
        b'0' => Some(('\0', 1)),
        b' ' => Some((' ', 1)),
        b'a' => Some(('\u{07}', 1)),
        b'b' => Some(('\u{08}', 1)),
        b'e' => Some(('\u{1b}', 1)),
        b'f' => Some(('\u{0c}', 1)),
        b'v' => Some(('\u{0b}', 1)),
        b'N' => Some(('\u{85}', 1)),
        b'_' => Some(('\u{a0}', 1)),
        b'L' => Some(('\u{2028}', 1)),
        b'P' => Some(('\u{2029}', 1)),
        b'x' => hex(2),
        b'u' => hex(4),
        b'U' => hex(8),
        _ => None,
    }
}

/// What the differential check found for one text.
#[derive(Debug, PartialEq, Eq)]
pub enum Agreement {
    /// The quick reader declined, for this reason; nothing to compare.
    Unsure(Decline),
    /// The quick reader answered and the full parser gave the same events.
    Same,
}

/// Compares [`events`] with the full parser on `input`: `Ok` when the quick reader declined or
/// agreed, `Err` with the first difference otherwise (including "the full parser fails where
/// the quick reader answered").
#[doc(hidden)]
pub fn agrees_with_full(input: &str, limits: ParseLimits) -> Result<Agreement, String> {
    let quick = match events(input, limits) {
        Ok(quick) => quick,
        Err(d) => return Ok(Agreement::Unsure(d)),
    };
    let mut full = Vec::new();
    for ev in yaml::events(input, limits) {
        match ev {
            Ok((Ev::Other, _)) => {}
            Ok(e) => full.push(e),
            Err(e) => {
                return Err(format!(
                    "full parser fails ({e}) where the quick reader answered"
                ))
            }
        }
    }
    for (i, pair) in quick.iter().zip(full.iter()).enumerate() {
        let ((qe, qs), (fe, fs)) = pair;
        let spans_matter = !matches!(fe, Ev::DocStart | Ev::DocEnd | Ev::MapEnd | Ev::SeqEnd);
        if qe != fe || (spans_matter && qs != fs) {
            return Err(format!(
                "event {i}: quick {qe:?} at {}..{}, full {fe:?} at {}..{}",
                qs.start(),
                qs.end(),
                fs.start(),
                fs.end()
            ));
        }
    }
    if quick.len() != full.len() {
        return Err(format!(
            "quick gives {} events, full {}",
            quick.len(),
            full.len()
        ));
    }
    Ok(Agreement::Same)
}

#[cfg(test)]
mod tests {
    use super::{plain_text, Decline};

    /// A decline stays two words, and the reader's inner results (a position or a decline) no
    /// bigger than that: they are returned at every step of the hot path.
    #[test]
    fn decline_is_small() {
        assert_eq!(
            std::mem::size_of::<Decline>(),
            2 * std::mem::size_of::<usize>()
        );
        assert_eq!(
            std::mem::size_of::<Result<usize, Decline>>(),
            std::mem::size_of::<Decline>()
        );
        assert_eq!(
            std::mem::size_of::<Result<(), Decline>>(),
            std::mem::size_of::<Decline>()
        );
    }

    /// The word-at-a-time check must see a refused character at any offset within a word and
    /// across word boundaries (and name that offset), and must pass every printable character.
    #[test]
    fn plain_text_at_every_offset() {
        let refused = [
            "\t", "\r", "\0", "\u{1}", "\u{1f}", "\u{7f}", "\u{80}", "\u{85}", "\u{9f}",
            "\u{2028}", "\u{2029}", "\u{feff}", "\u{fffe}", "\u{ffff}",
        ];
        let passed = [
            "a", " ", "~", "\n", "\u{a0}", "é", "\u{2027}", "\u{202a}", "日", "😀", "\u{e000}",
        ];
        for pad in 0..17 {
            let before = "x".repeat(pad);
            for r in refused {
                let text = format!("{before}{r}yyyyyyyyyyyy");
                assert!(plain_text(text.as_bytes()).is_err(), "{text:?}");
                assert_eq!(plain_text(text.as_bytes()), Err(pad), "{text:?}");
                assert!(
                    plain_text(format!("{before}{r}").as_bytes()).is_err(),
                    "{text:?} at the end"
                );
            }
            for p in passed {
                let text = format!("{before}{p}yyyyyyyyyyyy");
                assert!(plain_text(text.as_bytes()).is_ok(), "{text:?}");
            }
        }
    }
}
