//! Explain: show, before anything is switched on, exactly what a rewrite would change — and what
//! would still be pulled from the internet.
//!
//! The first section reads the same [`Record`]s the splice applies: one row per image field
//! found, with the document, object, field path, value before and after, the reason and the rule
//! that found it. The second lists every string outside those fields that looks like an image
//! with an explicit registry ([`Leak`]: operators' env values, flags, custom-resource fields,
//! ConfigMap data) that no rule rewrote, with the config entry that would reach it. Line numbers
//! come from one [`LineIndex`] per input, so explain stays linear in the input size.

use serde::Serialize;

use crate::manifest::{Leak, LeakContext};
use crate::rewrite::{Input, Plan, Record};
use crate::rules::{Reason, Rules};

/// One row, also the JSON shape of a `fields` entry of `explain --output json`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Row {
    pub input: String,
    pub line: usize,
    pub doc: usize,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub field: String,
    pub before: String,
    pub after: Option<String>,
    pub reason: String,
    /// The built-in rule, configured field or profile that found the field.
    pub found_by: String,
}

/// A string outside every image field that would still be pulled from the internet (a `leaks`
/// entry of `explain --output json`).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct LeakRow {
    pub input: String,
    pub line: usize,
    pub doc: usize,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub field: String,
    pub image: String,
    /// What the rules would make of it in an image field, if anything.
    pub would_be: Option<String>,
    pub reason: String,
    /// A config entry that would reach it (`env: [{name: X}]`, `fields: [...]`).
    pub suggestion: String,
}

/// Both sections.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Report {
    pub fields: Vec<Row>,
    pub leaks: Vec<LeakRow>,
}

/// Byte offsets of line starts, for `line` numbers in one pass over the text.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|p| p + 1));
        LineIndex { starts }
    }
    /// The 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

/// The report of a plan; `leaks[i]` are the [`Leak`]s of `inputs[i]` (empty to skip the
/// second section).
pub fn report(inputs: &[Input], plan: &Plan, rules: &Rules, leaks: &[Vec<Leak>]) -> Report {
    let index: Vec<LineIndex> = inputs.iter().map(|i| LineIndex::new(&i.text)).collect();
    let default_ns = rules.default_namespace();
    let fields = plan
        .records
        .iter()
        .map(|r| row(inputs, &index, r, default_ns))
        .collect();
    // Strings an image field already decided are not leaks, whatever was decided.
    let covered: std::collections::HashSet<(usize, usize)> =
        plan.records.iter().map(|r| (r.input, r.offset)).collect();
    let mut rows = Vec::new();
    for (i, list) in leaks.iter().enumerate() {
        for l in list {
            if covered.contains(&(i, l.span.start())) {
                continue;
            }
            // A rule that cannot rewrite it validly says so in the row, rather than failing explain.
            let d = rules
                .decide(&l.token, l.object.namespace.as_deref())
                .unwrap_or_else(|e| {
                    crate::rules::Decision::kept(Reason::Unparseable(e.to_string()))
                });
            if d.reason == Reason::AlreadyMirrored {
                continue;
            }
            rows.push(LeakRow {
                input: inputs[i].name.clone(),
                line: index[i].line(l.span.start()),
                doc: l.doc,
                kind: l.object.kind.clone().unwrap_or_else(|| "-".into()),
                namespace: Some(
                    l.object
                        .namespace
                        .clone()
                        .unwrap_or_else(|| default_ns.to_string()),
                ),
                name: l.object.name.clone().unwrap_or_else(|| "-".into()),
                field: l.path.clone(),
                image: l.token.clone(),
                would_be: d.to,
                reason: d.reason.to_string(),
                suggestion: suggestion(l),
            });
        }
    }
    Report {
        fields,
        leaks: rows,
    }
}

fn row(inputs: &[Input], index: &[LineIndex], r: &Record, default_namespace: &str) -> Row {
    let input = &inputs[r.input];
    Row {
        input: input.name.clone(),
        line: index[r.input].line(r.offset),
        doc: r.doc,
        kind: r.object.kind.clone().unwrap_or_else(|| "-".into()),
        namespace: Some(
            r.object
                .namespace
                .clone()
                .unwrap_or_else(|| default_namespace.to_string()),
        ),
        name: r.object.name.clone().unwrap_or_else(|| "-".into()),
        field: r.path.clone(),
        before: r.before.clone(),
        after: r.decision.to.clone(),
        reason: r.decision.reason.to_string(),
        found_by: r.field.clone(),
    }
}

/// The config entry (one line of YAML) that would make a field rule reach the leak.
fn suggestion(l: &Leak) -> String {
    match &l.context {
        LeakContext::Env { name, format } => {
            let mut entry = format!("env: [{{name: {name}");
            if let Some(sep) = format.separator {
                entry.push_str(&format!(
                    ", separator: {}",
                    serde_json::to_string(&sep.to_string()).expect("a string")
                ));
            }
            if format.keyed {
                entry.push_str(", keyed: true");
            }
            entry.push_str("}]");
            entry
        }
        LeakContext::Arg { flag: Some(flag) } => format!("args: [{{flag: {flag}}}]"),
        LeakContext::Arg { flag: None } => {
            "an image argument with no flag before it or in it: no args entry can name it".into()
        }
        LeakContext::Field => {
            let kind = l.object.kind.as_deref().unwrap_or("KIND");
            let group = l
                .object
                .api_version
                .as_deref()
                .and_then(|v| v.rsplit_once('/').map(|(g, _)| g));
            let path = rule_path(&l.path, l.object.kind.is_some());
            let group = group.map(|g| format!(", group: {g}")).unwrap_or_default();
            if l.whole {
                format!("fields: [{{kinds: [{kind}]{group}, paths: ['{path}']}}]")
            } else {
                format!("fields: [{{kinds: [{kind}]{group}, paths: ['{path}'], separator: \"\\n\"}}]  (the value holds more than the image: an embedded document or a list)")
            }
        }
    }
}

/// A recorded path (`spec.workers[2].image`, `data.node.collector.imageRef`) in the path
/// language of `fields` (`spec.workers[].image`): indices become `[]`. Keys are not known apart
/// once joined with `.`, so ConfigMap data keys (which often hold dots) are written `data["…"]`.
fn rule_path(path: &str, _has_kind: bool) -> String {
    let mut out = String::new();
    let mut rest = path;
    if let Some(key) = path
        .strip_prefix("data.")
        .or_else(|| path.strip_prefix("stringData."))
    {
        let top = if path.starts_with("data.") {
            "data"
        } else {
            "stringData"
        };
        return format!("{top}[{}]", serde_json::to_string(key).expect("a string"));
    }
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        out.push_str("[]");
        rest = rest[open..]
            .find(']')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    out.push_str(rest);
    out
}

/// A plain-text table (fixed columns, two spaces apart) with a summary line; then, if any, the
/// images that would still come from the internet.
pub fn table(report: &Report) -> String {
    let rows = &report.fields;
    let mut out = grid(
        [
            "DOC",
            "KIND",
            "NAMESPACE/NAME",
            "FIELD",
            "BEFORE",
            "AFTER",
            "REASON",
            "FOUND BY",
        ],
        rows.iter().map(|r| {
            vec![
                r.doc.to_string(),
                r.kind.clone(),
                format!("{}/{}", r.namespace.as_deref().unwrap_or("-"), r.name),
                r.field.clone(),
                r.before.clone(),
                r.after.clone().unwrap_or_else(|| "-".into()),
                r.reason.clone(),
                r.found_by.clone(),
            ]
        }),
    );
    let changed = rows.iter().filter(|r| r.after.is_some()).count();
    out.push_str(&format!(
        "{} image field(s), {} rewritten, {} unchanged\n",
        rows.len(),
        changed,
        rows.len() - changed
    ));
    if !report.leaks.is_empty() {
        out.push_str("\nSTILL PULLED FROM THE INTERNET: image references outside the image fields above, which no rule rewrites\n");
        out.push_str(&grid(
            [
                "DOC",
                "KIND",
                "NAMESPACE/NAME",
                "FIELD",
                "IMAGE",
                "AS AN IMAGE FIELD",
                "SUGGESTED CONFIG",
            ],
            report.leaks.iter().map(|l| {
                vec![
                    l.doc.to_string(),
                    l.kind.clone(),
                    format!("{}/{}", l.namespace.as_deref().unwrap_or("-"), l.name),
                    l.field.clone(),
                    l.image.clone(),
                    l.would_be
                        .clone()
                        .unwrap_or_else(|| format!("- ({})", l.reason)),
                    l.suggestion.clone(),
                ]
            }),
        ));
        out.push_str(&format!(
            "{} reference(s) outside image fields not rewritten\n",
            report.leaks.len()
        ));
    }
    out
}

fn grid<const N: usize>(header: [&str; N], rows: impl Iterator<Item = Vec<String>>) -> String {
    // A multi-line value (a list of images, one per line) stays on its row: breaks are shown `\n`.
    let cells: Vec<Vec<String>> = rows
        .map(|r| {
            r.into_iter()
                .map(|c| c.replace('\r', "\\r").replace('\n', "\\n"))
                .collect()
        })
        .collect();
    let mut width = header.map(str::len);
    for c in &cells {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cols: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cols.iter().zip(width).enumerate() {
            l.push_str(c);
            if i + 1 < cols.len() {
                l.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&header);
    for c in &cells {
        line(&c.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

/// The report as JSON (`{"fields": [...], "leaks": [...]}`), pretty-printed, with a final newline.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index() {
        let idx = LineIndex::new("a\nbc\n\nd");
        let lines: Vec<usize> = (0..7).map(|o| idx.line(o)).collect();
        assert_eq!(lines, [1, 1, 2, 2, 2, 3, 4]);
    }

    #[test]
    fn rule_paths() {
        for (path, want) in [
            ("spec.workers[2].image", "spec.workers[].image"),
            (
                "spec.template.spec.containers[0].env[3].value",
                "spec.template.spec.containers[].env[].value",
            ),
            (
                "data.node.collector.imageRef",
                "data[\"node.collector.imageRef\"]",
            ),
            ("spec.image", "spec.image"),
        ] {
            assert_eq!(rule_path(path, true), want, "{path}");
        }
    }
}
