//! What `verify` found, summed up, and printed as a table or JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use super::status::{ImageResult, Status};
use crate::emit::OutputFormat;

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Distinct (original, rewritten) pairs checked.
    pub images: usize,
    /// Image fields they came from.
    pub places: usize,
    pub ok: usize,
    pub not_ok: usize,
    /// Count per status, by status name.
    pub statuses: BTreeMap<String, usize>,
}

/// Everything `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub images: Vec<ImageResult>,
    pub summary: Summary,
}

/// True when every image is [`Status::Ok`]; otherwise the command exits 3 (warnings included:
/// each predicts a failed pull).
pub fn exit_ok(report: &Report) -> bool {
    report.images.iter().all(|i| i.status == Status::Ok)
}

pub(super) fn report(images: Vec<ImageResult>) -> Report {
    let mut statuses = BTreeMap::new();
    for i in &images {
        *statuses.entry(i.status.as_str().to_string()).or_insert(0) += 1;
    }
    let ok = images.iter().filter(|i| i.status == Status::Ok).count();
    let summary = Summary {
        images: images.len(),
        places: images.iter().map(|i| i.places.len()).sum(),
        ok,
        not_ok: images.len() - ok,
        statuses,
    };
    Report { images, summary }
}

/// The report as a table (one block per image) or JSON.
pub fn render_report(report: &Report, format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(report).expect("report serializes");
            s.push('\n');
            s
        }
        OutputFormat::Table => table(report),
    }
}

fn table(report: &Report) -> String {
    let width = report
        .images
        .iter()
        .map(|i| i.status.as_str().len())
        .max()
        .unwrap_or(2);
    let mut out = String::new();
    for i in &report.images {
        out.push_str(&format!("{:<width$}  {}\n", i.status.as_str(), i.rewritten));
        let pad = " ".repeat(width + 2);
        let mut line =
            |label: &str, value: &str| out.push_str(&format!("{pad}{label:<6} {value}\n"));
        line("from:", &i.original);
        if !i.detail.is_empty() {
            line(
                if i.status == Status::Ok {
                    "found:"
                } else {
                    "why:"
                },
                &i.detail,
            );
        }
        for n in &i.notes {
            line("note:", n);
        }
        for p in &i.places {
            line("used:", p);
        }
    }
    let s = &report.summary;
    let mut parts: Vec<String> = s.statuses.iter().map(|(k, v)| format!("{v} {k}")).collect();
    if parts.is_empty() {
        parts.push("nothing to check".into());
    }
    out.push_str(&format!(
        "{} image(s) from {} field(s): {}\n",
        s.images,
        s.places,
        parts.join(", ")
    ));
    out
}
