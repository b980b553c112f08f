//! A plain directory app, as Argo CD's `findManifests` / `getPotentiallyValidManifests` read it:
//!
//! * `filepath.Walk` order: depth first, entries of each directory sorted by name (so
//!   `b/c.yaml` comes before `b.yaml`); sub-directories only when `recurse`; hidden files and
//!   directories are **not** skipped (Argo CD does not skip them either);
//! * files named `*.yaml`, `*.yml`, `*.json`, and `*.jsonnet`, which are evaluated in walk order
//!   like Argo CD does ([`super::jsonnet`]): one [`Part`] per object of the output, in the same
//!   stream as the other files (`*.libsonnet` files are only imported, as in Argo CD);
//! * `include`/`exclude`: gobwas-style globs on the path relative to the app dir, `*` crossing
//!   `/`; excluded if any `exclude` matches, else taken if `include` is empty or any matches;
//! * files containing `+argocd:skip-file-rendering` are skipped;
//! * symlinks: a symlinked directory is never descended (Walk does not follow it); a symlink,
//!   file or directory, whose target leaves the repository root is an error naming it
//!   (CVE-2022-24904; Argo CD's repo-server refuses such links for the whole repo); a link to a
//!   missing file or to a non-regular file inside the repo is skipped;
//! * a `.json` file must hold exactly one JSON value, an object (Argo CD decodes one
//!   `unstructured` object and refuses arrays and `Found multiple objects`); `kind: List` objects
//!   pass (the caller flattens them);
//! * the total size is capped at `max_output_bytes` (`.jsonnet` files not counted, as in
//!   Argo CD).
//!
//! * each YAML file is read on its own, as `getObjsFromYAMLOrJSON` does: its documents in order,
//!   empty and null documents skipped; at the first document that is not a Kubernetes object (a
//!   syntax error, a sequence, a scalar, a mapping without a string `kind`), a file that already
//!   gave objects is an error, a file holding `apiVersion:`, `kind:` and `metadata:` is an error,
//!   and any other file is "an unrelated YAML file which we will ignore": skipped, with a warning.
//!
//! Each file taken is one [`Part`] holding its bytes unchanged (they must be UTF-8). The caller
//! joins the parts with `---` lines into one stream, which Argo CD reads with one
//! YAML-or-JSON decoder (`kube.SplitYAMLToString`, JSON only at the very start of the stream)
//! and then converts document by document with go-yaml (`kube.SplitYAML`), where the native
//! source reads each file on its own and a `.json` file with Go's JSON decoder. So that the
//! stream reads like the files, whatever their order ([`stream_check`]): a YAML file holding
//! several JSON values back to back is refused (after another file, only its first value would
//! be read, silently), and so is a JSON part (a file or a Jsonnet object) with a `\/` escape, a
//! `\u` surrogate escape, or a C1 control character (U+007F–U+009F) or U+FFFE/U+FFFF, escaped
//! or not, or a raw U+2028/U+2029 next to a blank: valid JSON that go-yaml refuses ("control characters are not allowed", so Argo CD
//! would fail the app without naming the file) or silently reads otherwise (U+0085 as a space;
//! a raw line separator as a line break, dropping the blanks around it).

use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::jsonnet::Evaluator;
use super::{Part, RenderError, RenderSettings};
use crate::manifest::yaml::{self, Ev, ParseLimits, Style};
use crate::manifest::yaml11::{resolve_plain, Resolved};

const SKIP_MARKER: &[u8] = b"+argocd:skip-file-rendering";

fn glob_set(param: &'static str, patterns: &[String]) -> Result<GlobSet, RenderError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = GlobBuilder::new(p)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map_err(|e| RenderError::BadGlob {
                param,
                pattern: p.clone(),
                reason: e.kind().to_string(),
            })?;
        b.add(g);
    }
    b.build().map_err(|e| RenderError::BadGlob {
        param,
        pattern: patterns.join(" "),
        reason: e.to_string(),
    })
}

struct Walker<'a> {
    app: PathBuf,
    root: PathBuf,
    recurse: bool,
    include: GlobSet,
    include_all: bool,
    exclude: GlobSet,
    limit: u64,
    total: u64,
    parts: Vec<Part>,
    warnings: Vec<String>,
    jsonnet: Evaluator<'a>,
}

/// The files of a directory app, and the files skipped as unrelated YAML.
pub(crate) struct Files {
    pub parts: Vec<Part>,
    pub warnings: Vec<String>,
}

/// Reads (and evaluates) the app's files; `deadline` bounds the jsonnet runs.
pub(crate) fn render(s: &RenderSettings, deadline: Instant) -> Result<Files, RenderError> {
    let app = std::fs::canonicalize(&s.app_dir)
        .map_err(|e| RenderError::io("app directory", &s.app_dir, e))?;
    let root = std::fs::canonicalize(&s.repo_root)
        .map_err(|e| RenderError::io("repository root", &s.repo_root, e))?;
    let mut w = Walker {
        jsonnet: Evaluator::new(s, &app, &root, deadline),
        app: app.clone(),
        root,
        recurse: s.directory.recurse,
        include: glob_set("include", &s.directory.include)?,
        include_all: s.directory.include.is_empty(),
        exclude: glob_set("exclude", &s.directory.exclude)?,
        limit: s.limits.max_output_bytes,
        total: 0,
        parts: Vec::new(),
        warnings: Vec::new(),
    };
    w.dir(&app)?;
    stream_check(&w.parts)?;
    Ok(Files {
        parts: w.parts,
        warnings: w.warnings,
    })
}

/// Argo CD's `manifestFile`: `^.*\.(yaml|yml|json|jsonnet)$`.
fn is_manifest_name(name: &str) -> bool {
    name.ends_with(".yaml")
        || name.ends_with(".yml")
        || name.ends_with(".json")
        || name.ends_with(".jsonnet")
}

/// `/`-separated path relative to the app dir.
fn rel(app: &Path, p: &Path) -> String {
    p.strip_prefix(app)
        .unwrap_or(p)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl Walker<'_> {
    fn dir(&mut self, dir: &Path) -> Result<(), RenderError> {
        let rd =
            std::fs::read_dir(dir).map_err(|e| RenderError::io("cannot read directory", dir, e))?;
        let mut entries: Vec<(String, PathBuf)> = Vec::new();
        for e in rd {
            let e = e.map_err(|e| RenderError::io("cannot read directory", dir, e))?;
            entries.push((e.file_name().to_string_lossy().into_owned(), e.path()));
        }
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (name, path) in entries {
            let meta = std::fs::symlink_metadata(&path)
                .map_err(|e| RenderError::io("cannot stat", &path, e))?;
            let relp = rel(&self.app, &path);
            if meta.file_type().is_symlink() {
                self.symlink(&name, &path, &relp)?;
            } else if meta.is_dir() {
                if self.recurse {
                    self.dir(&path)?;
                }
            } else if meta.is_file() && is_manifest_name(&name) {
                self.file(&path, &relp, meta.len())?;
            }
        }
        Ok(())
    }

    fn symlink(&mut self, name: &str, path: &Path, relp: &str) -> Result<(), RenderError> {
        let outside = || RenderError::SymlinkOutside {
            file: relp.to_string(),
        };
        let real = match std::fs::canonicalize(path) {
            Ok(real) => real,
            Err(_) => {
                // Dangling (or a loop): refused if it points outside, otherwise skipped.
                let target = std::fs::read_link(path)
                    .map_err(|e| RenderError::io("cannot read symlink", path, e))?;
                let lexical =
                    super::valuefiles::clean(&path.parent().unwrap_or(Path::new("/")).join(target));
                return if lexical.starts_with(&self.root) {
                    Ok(())
                } else {
                    Err(outside())
                };
            }
        };
        if !real.starts_with(&self.root) {
            return Err(outside());
        }
        // Walk never descends a symlinked directory; only manifest-named links to regular files count.
        let meta =
            std::fs::metadata(&real).map_err(|e| RenderError::io("cannot stat", &real, e))?;
        if meta.is_file() && is_manifest_name(name) {
            self.file(path, relp, meta.len())?;
        }
        Ok(())
    }

    fn file(&mut self, path: &Path, relp: &str, len: u64) -> Result<(), RenderError> {
        if self.exclude.is_match(relp) || !(self.include_all || self.include.is_match(relp)) {
            return Ok(());
        }
        let is_jsonnet = relp.ends_with(".jsonnet");
        if !is_jsonnet {
            self.total += len;
            if self.total > self.limit {
                return Err(RenderError::DirectoryTooLarge { limit: self.limit });
            }
        }
        let bytes = std::fs::read(path).map_err(|e| RenderError::io("cannot read", path, e))?;
        if contains(&bytes, SKIP_MARKER) {
            return Ok(());
        }
        if is_jsonnet {
            // Jsonnet reads the file itself (by the walk's path, so imports are relative to it).
            let parts = self.jsonnet.evaluate(path, relp)?;
            self.parts.extend(parts);
            return Ok(());
        }
        let text = String::from_utf8(bytes).map_err(|e| RenderError::InvalidFile {
            file: relp.to_string(),
            kind: "UTF-8",
            reason: format!("invalid byte at offset {}", e.utf8_error().valid_up_to()),
        })?;
        if relp.ends_with(".json") {
            check_json(relp, &text)?;
        } else if let Some(reason) = unrelated_yaml(relp, &text)? {
            self.warnings.push(format!(
                "directory: skipped {reason}; the file does not hold apiVersion:, kind: and metadata:, so Argo CD ignores it as unrelated YAML"
            ));
            return Ok(());
        }
        self.parts.push(Part {
            origin: relp.to_string(),
            text,
        });
        Ok(())
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Whether the first non-whitespace character is `{`: apimachinery's YAML-or-JSON decoder then
/// reads the text as JSON (`IsJSONBuffer`).
fn json_looking(text: &str) -> bool {
    text.trim_start_matches([' ', '\t', '\r', '\n'])
        .starts_with('{')
}

/// What one YAML document is to Argo CD.
enum DocKind {
    /// Empty, or a null root: skipped.
    Empty,
    Object,
    /// Not an object, and why.
    Not(&'static str),
}

/// Reads a YAML file as `getObjsFromYAMLOrJSON` does. `Ok(None)`: every document is an object
/// (or empty); `Ok(Some(reason))`: the file is unrelated YAML to skip; an error when Argo CD
/// fails the app on the file.
fn unrelated_yaml(relp: &str, text: &str) -> Result<Option<String>, RenderError> {
    if json_looking(text) {
        let mut values = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
        let first_ok = matches!(values.next(), Some(Ok(_)));
        let rest = &text[values.byte_offset()..];
        if first_ok && matches!(values.next(), Some(Ok(_))) {
            let second = text.len() - rest.trim_start().len();
            let (line, col) = crate::manifest::line_col(text, second);
            return Err(RenderError::DirectoryFile {
                place: format!("{relp}:{line}:{col}"),
                msg: "a second JSON value follows the first without a `---` line between them; from a plugin's output Argo CD would read only the first (write a `---` line between the values)".into(),
            });
        }
    }
    let mut objects = 0usize;
    let mut doc = 0usize;
    let mut events = yaml::events(text, ParseLimits::default());
    loop {
        let (kind, at) = match next_doc(&mut events) {
            Ok(None) => return Ok(None),
            Ok(Some((kind, at))) => (kind, at),
            Err(e) => (DocKind::Not("not valid YAML"), Err(e)),
        };
        doc += 1;
        let what = match kind {
            DocKind::Empty => continue,
            DocKind::Object => {
                objects += 1;
                continue;
            }
            DocKind::Not(what) => what,
        };
        let place = |at: &Result<usize, yaml::YamlError>| match at {
            Ok(off) => {
                let (l, c) = crate::manifest::line_col(text, *off);
                (format!("{relp}:{l}:{c}"), String::new())
            }
            Err(e) => (
                format!("{relp}:{}:{}", e.line, e.col),
                format!(": {}", e.msg),
            ),
        };
        let looks_like_manifest =
            text.contains("apiVersion:") && text.contains("kind:") && text.contains("metadata:");
        if objects == 0 && !looks_like_manifest {
            let (file, detail) = place(&at);
            return Ok(Some(format!("{file}: document {doc} is {what}{detail}")));
        }
        let (file, detail) = place(&at);
        let why = if objects > 0 {
            "after Kubernetes objects in the same file"
        } else {
            "in a file that holds apiVersion:, kind: and metadata:"
        };
        return Err(RenderError::DirectoryFile {
            place: file,
            msg: format!("document {doc} is {what}{detail}, {why}; Argo CD fails the app on it"),
        });
    }
}

/// A document's kind and where it is (its root's offset, or the syntax error that ended it).
type DocAt = (DocKind, Result<usize, yaml::YamlError>);

/// Reads the events of the next document: its kind and the offset of its root; `None` at the
/// end of the stream.
fn next_doc(events: &mut yaml::Events<'_>) -> Result<Option<DocAt>, yaml::YamlError> {
    // Find the document start.
    loop {
        match events.next().transpose()? {
            None => return Ok(None),
            Some((Ev::DocStart, _)) => break,
            Some(_) => {}
        }
    }
    let mut depth = 0usize;
    let mut root: Option<(DocKind, usize)> = None;
    // In the root mapping: whether the next depth-1 event is a key, and whether that key is `kind`.
    let mut expect_key = true;
    let mut value_of_kind = false;
    let mut kind_ok = false;
    while let Some((ev, span)) = events.next().transpose()? {
        match ev {
            Ev::DocEnd if depth == 0 => break,
            Ev::MapStart { .. } | Ev::SeqStart { .. } => {
                if depth == 0 {
                    let is_map = matches!(ev, Ev::MapStart { .. });
                    let kind = if is_map {
                        DocKind::Object
                    } else {
                        DocKind::Not("a sequence")
                    };
                    root = Some((kind, span.start()));
                } else if depth == 1 {
                    if value_of_kind {
                        kind_ok = false;
                    }
                    value_of_kind = false;
                    expect_key = !expect_key;
                }
                depth += 1;
            }
            Ev::MapEnd | Ev::SeqEnd => {
                depth = depth.saturating_sub(1);
            }
            Ev::Scalar {
                value, style, tag, ..
            } => {
                if depth == 0 {
                    let null = tag.is_none() && crate::manifest::is_null(&value, style);
                    let kind = if null {
                        DocKind::Empty
                    } else {
                        DocKind::Not("a scalar")
                    };
                    root = Some((kind, span.start()));
                } else if depth == 1 && matches!(root, Some((DocKind::Object, _))) {
                    if expect_key {
                        value_of_kind = value == "kind";
                    } else if value_of_kind {
                        // go-yaml v2 keeps the last of duplicate keys.
                        kind_ok = !value.is_empty() && is_string(&value, style, tag.as_deref());
                        value_of_kind = false;
                    }
                    expect_key = !expect_key;
                }
            }
            Ev::Alias { .. } => {
                if depth == 0 {
                    root = Some((DocKind::Not("an alias"), span.start()));
                } else if depth == 1 {
                    if value_of_kind && !expect_key {
                        kind_ok = false;
                    }
                    value_of_kind = false;
                    expect_key = !expect_key;
                }
            }
            _ => {}
        }
    }
    Ok(Some(match root {
        None => (DocKind::Empty, Ok(0)),
        Some((DocKind::Object, at)) if !kind_ok => (
            DocKind::Not("a mapping without a string `kind` (not a Kubernetes object)"),
            Ok(at),
        ),
        Some((kind, at)) => (kind, Ok(at)),
    }))
}

/// Whether go-yaml v2 reads the scalar as a string.
fn is_string(value: &str, style: Style, tag: Option<&str>) -> bool {
    match tag {
        Some(t) => t == "tag:yaml.org,2002:str",
        None if style == Style::Plain => {
            matches!(resolve_plain(value), Resolved::Str | Resolved::Timestamp)
        }
        None => true,
    }
}

/// Every document of a plugin's output goes through go-yaml (`kube.SplitYAML`), JSON ones too:
/// a JSON part must not hold what JSON allows and go-yaml refuses.
fn stream_check(parts: &[Part]) -> Result<(), RenderError> {
    for p in parts.iter().filter(|p| json_looking(&p.text)) {
        if let Some((off, what, fix)) = yaml_refused_escape(&p.text) {
            let (line, col) = crate::manifest::line_col(&p.text, off);
            return Err(RenderError::DirectoryFile {
                place: format!("{}:{line}:{col}", p.origin),
                msg: format!("{what}: Argo CD reads a plugin's output with go-yaml, which refuses it where its JSON reader of a native directory app does not ({fix})"),
            });
        }
    }
    Ok(())
}

/// The first `\/` or `\uD800`–`\uDFFF` escape inside a JSON string, or the first character
/// go-yaml cannot read back ([`go_yaml_unreadable`]), escaped or not.
/// Gives its offset, what it is and how to fix it.
fn yaml_refused_escape(text: &str) -> Option<(usize, &'static str, &'static str)> {
    const CONTROL: &str =
        "a C1 control character or U+FFFE/U+FFFF (go-yaml refuses it, or reads U+0085 as a space)";
    const WRITE: &str = "write the character itself";
    const LEAVE: &str = "leave the character out: no plugin output can carry it";
    const ESCAPE: &str = "write it as a `\\u2028`/`\\u2029` escape";
    let b = text.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => {
                match b.get(i + 1) {
                    Some(b'/') => return Some((i, "a `\\/` escape", WRITE)),
                    Some(b'u') => {
                        let hex = text
                            .get(i + 2..i + 6)
                            .and_then(|h| u32::from_str_radix(h, 16).ok());
                        if hex.is_some_and(|h| (0xD800..=0xDFFF).contains(&h)) {
                            return Some((
                                i,
                                "a surrogate `\\u` escape (a character outside the BMP)",
                                WRITE,
                            ));
                        }
                        if hex.and_then(char::from_u32).is_some_and(go_yaml_unreadable) {
                            return Some((i, CONTROL, LEAVE));
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            // U+007F is the one ASCII character concerned; the others start a multi-byte one.
            c if c >= 0x7f && text.is_char_boundary(i) => {
                let ch = text[i..].chars().next();
                if ch.is_some_and(go_yaml_unreadable) {
                    return Some((i, CONTROL, LEAVE));
                }
                // A raw U+2028/U+2029 is a line break to go-yaml: blanks around it are dropped.
                if matches!(ch, Some('\u{2028}' | '\u{2029}'))
                    && (text[..i].ends_with([' ', '\t']) || text[i + 3..].starts_with([' ', '\t']))
                {
                    return Some((i, "a raw U+2028/U+2029 next to a blank (go-yaml reads it as a line break and drops the blank)", ESCAPE));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Characters that go-yaml v2 (Argo CD's reader of plugin output) does not read back as
/// themselves from a JSON document: it refuses U+007F–U+009F (but U+0085) and U+FFFE/U+FFFF as
/// "control characters", and turns U+0085 (NEL) into a space; Go's JSON reader of a native
/// directory app keeps them all.
fn go_yaml_unreadable(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

/// Exactly one JSON value, an object.
fn check_json(relp: &str, text: &str) -> Result<(), RenderError> {
    let mut it = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    match it.next() {
        Some(Ok(serde_json::Value::Object(_))) => {}
        Some(Ok(serde_json::Value::Array(_))) => {
            return Err(RenderError::JsonNotOneObject {
                file: relp.to_string(),
                what: "a JSON array",
            })
        }
        Some(Ok(_)) => {
            return Err(RenderError::JsonNotOneObject {
                file: relp.to_string(),
                what: "a JSON scalar",
            })
        }
        Some(Err(e)) => {
            return Err(RenderError::InvalidFile {
                file: relp.to_string(),
                kind: "JSON",
                reason: e.to_string(),
            })
        }
        None => {
            return Err(RenderError::InvalidFile {
                file: relp.to_string(),
                kind: "JSON",
                reason: "the file is empty".into(),
            })
        }
    }
    match it.next() {
        None => Ok(()),
        Some(Ok(_)) => Err(RenderError::JsonNotOneObject {
            file: relp.to_string(),
            what: "more than one JSON value",
        }),
        Some(Err(e)) => Err(RenderError::InvalidFile {
            file: relp.to_string(),
            kind: "JSON",
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_checks() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<&str>)] = &[
            ("{\"kind\":\"ConfigMap\"}", None),
            ("  {\"kind\":\"List\",\"items\":[]}\n", None),
            ("[{\"kind\":\"ConfigMap\"}]", Some("directory: 'x.json' holds a JSON array; Argo CD accepts exactly one JSON object per .json file")),
            ("{} {}", Some("directory: 'x.json' holds more than one JSON value; Argo CD accepts exactly one JSON object per .json file")),
            ("42", Some("directory: 'x.json' holds a JSON scalar; Argo CD accepts exactly one JSON object per .json file")),
            ("", Some("directory: 'x.json' is not valid JSON: the file is empty")),
            ("{", Some("directory: 'x.json' is not valid JSON: EOF while parsing an object at line 1 column 1")),
        ];
        for (text, want) in cases {
            let got = check_json("x.json", text).err().map(|e| e.to_string());
            assert_eq!(got.as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn escapes_go_yaml_reads_otherwise() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<usize>)] = &[
            (r#"{"a": "x\u0085y"}"#, Some(8)),
            (r#"{"a": "x\u007Fy"}"#, Some(8)),
            (r#"{"a": "\u009f"}"#, Some(7)),
            (r#"{"a": "\uFFFE"}"#, Some(7)),
            ("{\"a\": \"x\u{85}\"}", Some(8)),
            ("{\"a\": \"\u{7f}\"}", Some(7)),
            ("{\"a\": \"\u{ffff}\"}", Some(7)),
            (r#"{"a": "\\u0085"}"#, None), // an escaped backslash, then text
            (r#"{"a": "\u00a0 \u2028 \ufeff \u0000 \u001f"}"#, None),
            ("{\"a\": \"é 😀 \u{a0}\"}", None),
            (r#"{"a": "\/"}"#, Some(7)),
            ("{\"a\": \"x \u{2028}y\"}", Some(9)),
            ("{\"a\": \"x\u{2029}\ty\"}", Some(8)),
            ("{\"a\": \"x\u{2028}y\"}", None),
            (r#"{"a": "\ud83d\ude00"}"#, Some(7)),
        ];
        for (text, want) in cases {
            assert_eq!(
                yaml_refused_escape(text).map(|(at, _, _)| at),
                *want,
                "{text:?}"
            );
        }
    }
}
