//! The quick reader: the YAML events of one document written in the plain block style that
//! renderers emit, read line by line without the general parser, or *unsure*.
//!
//! Why: granit-parser reads ~50–85 MB/s per core and was ~75 % of a rewrite's time; Helm and
//! kustomize output is a narrow subset of YAML (block mappings and sequences, one-line keys,
//! plain/quoted/literal scalars, `{}`/`[]`). For that subset the events are cheap to compute.
//!
//! The contract: [`events`] returns either exactly the events the full parser
//! ([`super::yaml::events`]) gives for the same text, or `None`. `None` ("unsure") is returned
//! for anything outside the subset, including every syntax error, so the caller parses the text
//! again with the full parser, which reports errors as before. "Exactly" means: the same
//! sequence once the full parser's `Ev::Other` events are dropped, with equal spans for
//! scalars, aliases and collection starts (the only spans the scanner reads; end and document
//! events carry positions nobody reads). [`agrees_with_full`] checks this contract and is what
//! the differential tests and the `quick` fuzz target call.

use super::yaml::{self, Ev, ParseLimits};
use super::Span;

/// The events of `input`, or `None` when the text is outside the subset this reader proves.
pub fn events(input: &str, limits: ParseLimits) -> Option<Vec<(Ev<'_>, Span)>> {
    let _ = (input, limits);
    None
}

/// What the differential check found for one text.
#[derive(Debug, PartialEq, Eq)]
pub enum Agreement {
    /// The quick reader was unsure; nothing to compare.
    Unsure,
    /// The quick reader answered and the full parser gave the same events.
    Same,
}

/// Compares [`events`] with the full parser on `input`: `Ok` when the quick reader declined or
/// agreed, `Err` with the first difference otherwise (including "the full parser fails where
/// the quick reader answered").
#[doc(hidden)]
pub fn agrees_with_full(input: &str, limits: ParseLimits) -> Result<Agreement, String> {
    let Some(quick) = events(input, limits) else {
        return Ok(Agreement::Unsure);
    };
    let mut full = Vec::new();
    for ev in yaml::events(input, limits) {
        match ev {
            Ok((Ev::Other, _)) => {}
            Ok(e) => full.push(e),
            Err(e) => return Err(format!("full parser fails ({e}) where the quick reader answered")),
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
        return Err(format!("quick gives {} events, full {}", quick.len(), full.len()));
    }
    Ok(Agreement::Same)
}
