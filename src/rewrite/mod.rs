//! Rewrite: turn scan results and rules into edit records, then apply them.
//!
//! One [`Record`] per image field found: where it is, what it held, the decision, and the byte
//! edit (if any). `explain` prints the records; `apply` splices exactly their edits, so what
//! explain shows is what rewrite does. Every input is scanned and planned before any output is
//! produced; a single problem anywhere fails the whole run with nothing written.

mod decide;
mod embedded;
mod input;
mod output;

use crate::manifest::fastpath::Strategy;
use crate::manifest::yaml::ParseLimits;
use crate::manifest::{self, split, Object};
use crate::rules::{Decision, Rules};
use crate::settings::Limits;
use crate::splice::Edit;
use input::plan_input;
pub use output::{apply, output, Output};

/// One named input text (a file, stdin, or a renderer's output).
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub text: String,
}

impl Input {
    /// Checks size and UTF-8. The error names the input and the place.
    pub fn from_bytes(
        name: impl Into<String>,
        bytes: Vec<u8>,
        limits: &Limits,
    ) -> Result<Input, RewriteError> {
        let name = name.into();
        if bytes.len() as u64 > limits.max_input_bytes {
            return Err(RewriteError::at(
                &name,
                None,
                format!(
                    "input is {} bytes, over the limit of {} bytes (raise limits.maxInputBytes in the config)",
                    bytes.len(),
                    limits.max_input_bytes
                ),
            ));
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Input { name, text }),
            Err(e) => {
                let off = e.utf8_error().valid_up_to();
                let (line, col) = manifest::line_col(
                    std::str::from_utf8(&e.as_bytes()[..off]).unwrap_or(""),
                    off,
                );
                Err(RewriteError::at(
                    &name,
                    Some((line, col)),
                    "invalid UTF-8".to_string(),
                ))
            }
        }
    }
}

/// Options for planning.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Unparseable or non-string images are errors, not warnings.
    pub strict: bool,
    pub limits: Limits,
    /// How the inputs are read; every strategy plans valid input identically.
    pub strategy: Strategy,
}

/// What happened to one image field.
#[derive(Debug, Clone)]
pub struct Record {
    /// Index into the inputs.
    pub input: usize,
    /// 0-based document index across all inputs.
    pub doc: usize,
    /// Byte offset of the field's value in its input.
    pub offset: usize,
    pub object: Object,
    pub path: String,
    /// Which built-in rule, configured field or profile found it.
    pub field: String,
    /// The value as Go reads it (aliases resolved), or a description for non-strings.
    pub before: String,
    pub decision: Decision,
    pub edit: Option<Edit>,
}

/// All records for a set of inputs.
#[derive(Debug, Default)]
pub struct Plan {
    pub records: Vec<Record>,
    /// Printed once each on stderr.
    pub warnings: Vec<String>,
    pub documents: usize,
    /// Kubernetes objects in all inputs (see [`manifest::Scan::objects`]).
    pub objects: usize,
}

/// A problem that stops the run: `name:line:col: msg`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct RewriteError {
    pub input: String,
    pub at: Option<(usize, usize)>,
    pub msg: String,
}

impl RewriteError {
    fn at(input: &str, at: Option<(usize, usize)>, msg: String) -> Self {
        RewriteError {
            input: input.to_string(),
            at,
            msg,
        }
    }
    fn render(&self) -> String {
        match self.at {
            Some((l, c)) => format!("{}:{l}:{c}: {}", self.input, self.msg),
            None => format!("{}: {}", self.input, self.msg),
        }
    }
}

/// Scans every input and decides every image. Fails on the first syntax error, on what Go's
/// reading refuses (see [`manifest::GoRefusal`]), on a construct whose rewrite would change more
/// than an image (an alias reading a rewritten anchor, a multi-line block image, a tagged image
/// the rules would rewrite), or, with `strict`, on an unparseable image.
///
/// Uses `opts.strategy` (by default [`Strategy::FastValidated`]).
pub fn plan(inputs: &[Input], rules: &Rules, opts: &Options) -> Result<Plan, RewriteError> {
    plan_with(inputs, rules, opts, opts.strategy)
}

/// [`plan`] with an explicit [`Strategy`].
pub fn plan_with(
    inputs: &[Input],
    rules: &Rules,
    opts: &Options,
    strategy: Strategy,
) -> Result<Plan, RewriteError> {
    let mut plan = Plan::default();
    let limits = ParseLimits {
        max_depth: opts.limits.max_depth,
    };
    for (i, input) in inputs.iter().enumerate() {
        let text = input.text.as_str();
        let markers = split::markers(text);
        if markers > opts.limits.max_documents {
            return Err(RewriteError::at(
                &input.name,
                None,
                format!(
                    "{markers} documents, over the limit of {} (raise limits.maxDocuments in the config)",
                    opts.limits.max_documents
                ),
            ));
        }
        let scan = manifest::fastpath::read_stream(text, limits, rules.fields(), strategy)
            .map_err(|e| RewriteError::at(&input.name, Some((e.line, e.col)), e.msg))?;
        let doc_base = plan.documents;
        plan.documents += scan.documents;
        plan.objects += scan.objects;
        plan_input(&mut plan, i, input, scan, doc_base, rules, opts)?;
    }
    Ok(plan)
}
