//! Explain: show, before anything is switched on, exactly what a rewrite would change.
//!
//! Reads the same [`Record`]s the splice applies: one row per image field found, with the
//! document, object, field path, value before and after, and the reason.

use serde::Serialize;

use crate::manifest::line_col;
use crate::rewrite::{Input, Plan, Record};

/// One row, also the JSON shape of `explain --output json`.
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

/// The rows of a plan, in input order.
pub fn rows(inputs: &[Input], plan: &Plan, default_namespace: &str) -> Vec<Row> {
    plan.records.iter().map(|r| row(inputs, r, default_namespace)).collect()
}

fn row(inputs: &[Input], r: &Record, default_namespace: &str) -> Row {
    let input = &inputs[r.input];
    Row {
        input: input.name.clone(),
        line: line_col(&input.text, r.offset).0,
        doc: r.doc,
        kind: r.object.kind.clone().unwrap_or_else(|| "-".into()),
        namespace: Some(r.object.namespace.clone().unwrap_or_else(|| default_namespace.to_string())),
        name: r.object.name.clone().unwrap_or_else(|| "-".into()),
        field: r.path.clone(),
        before: r.before.clone(),
        after: r.decision.to.clone(),
        reason: r.decision.reason.to_string(),
        found_by: r.field.clone(),
    }
}

/// A plain-text table (fixed columns, two spaces apart) with a summary line.
pub fn table(rows: &[Row]) -> String {
    let header = ["DOC", "KIND", "NAMESPACE/NAME", "FIELD", "BEFORE", "AFTER", "REASON", "FOUND BY"];
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.doc.to_string(),
                r.kind.clone(),
                format!("{}/{}", r.namespace.as_deref().unwrap_or("-"), r.name),
                r.field.clone(),
                r.before.clone(),
                r.after.clone().unwrap_or_else(|| "-".into()),
                r.reason.clone(),
                r.found_by.clone(),
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for c in &cells {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cols: [&str; 8]| {
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
    line(header);
    for c in &cells {
        line([&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7]].map(String::as_str));
    }
    let changed = rows.iter().filter(|r| r.after.is_some()).count();
    out.push_str(&format!("{} image field(s), {} rewritten, {} unchanged\n", rows.len(), changed, rows.len() - changed));
    out
}

/// JSON array of rows, pretty-printed, with a final newline.
pub fn json(rows: &[Row]) -> String {
    let mut s = serde_json::to_string_pretty(rows).expect("rows serialize");
    s.push('\n');
    s
}
