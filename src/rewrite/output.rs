//! Output: the inputs with the plan's edits spliced in, joined into one stream, built as slices
//! so that it is written once, after everything succeeded.

use super::{Input, Plan, RewriteError};
use crate::splice::{self, Edit};

/// Applies the plan's edits to each input and joins the inputs into one stream (a `---` line
/// between inputs, a newline added where an input does not end with one). One input comes out
/// byte for byte except the edited scalars.
pub fn apply(inputs: &[Input], plan: &Plan) -> Result<String, RewriteError> {
    let out = output(inputs, plan)?;
    let mut s = String::with_capacity(out.len());
    for p in &out.parts {
        s.push_str(p);
    }
    Ok(s)
}

/// The output of [`apply`] as slices of the inputs and of the edits' text, in order, so that it
/// can be written without building a copy of the stream: [`Output::write_to`]. Every edit is
/// checked here, so nothing fails once writing starts (except the writer itself).
pub fn output<'a>(inputs: &'a [Input], plan: &'a Plan) -> Result<Output<'a>, RewriteError> {
    let mut per_input: Vec<Vec<&'a Edit>> = vec![Vec::new(); inputs.len()];
    for r in &plan.records {
        if let Some(e) = &r.edit {
            per_input[r.input].push(e);
        }
    }
    let mut parts: Vec<&'a str> = Vec::with_capacity(2 * plan.records.len() + 2 * inputs.len());
    let mut ends_nl = true;
    for (i, (input, mut edits)) in inputs.iter().zip(per_input).enumerate() {
        if i > 0 {
            if !ends_nl {
                parts.push("\n");
            }
            parts.push("---\n");
        }
        let text = input.text.as_str();
        edits.sort_by_key(|e| (e.span.start(), e.span.end()));
        let mut pos = 0;
        for e in edits {
            if e.span.start() < pos {
                return Err(RewriteError::at(
                    &input.name,
                    None,
                    splice::SpliceError::Overlap.to_string(),
                ));
            }
            parts.push(&text[pos..e.span.start()]);
            parts.push(&e.text);
            pos = e.span.end();
        }
        parts.push(&text[pos..]);
        if let Some(p) = parts.iter().rev().find(|p| !p.is_empty()) {
            ends_nl = p.ends_with('\n');
        }
    }
    parts.retain(|p| !p.is_empty());
    Ok(Output { parts })
}

/// See [`output`].
#[derive(Debug)]
pub struct Output<'a> {
    parts: Vec<&'a str>,
}

impl Output<'_> {
    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Writes every slice in order (callers wanting one `write` per call should buffer `w`).
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        for p in &self.parts {
            w.write_all(p.as_bytes())?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Output<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.parts.iter().try_for_each(|p| f.write_str(p))
    }
}
