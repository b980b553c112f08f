//! Rewrite: turn scan results and rules into edit records, then apply them.
//!
//! One [`Record`] per image field found: where it is, what it held, the decision, and the byte
//! edit (if any). `explain` prints the records; `apply` splices exactly their edits, so what
//! explain shows is what rewrite does. Every input is scanned and planned before any output is
//! produced; a single problem anywhere fails the whole run with nothing written.

mod decide;
mod embedded;
mod output;

use std::collections::{HashMap, HashSet};

use crate::manifest::fastpath::Strategy;
use crate::manifest::fields::BUILTIN;
use crate::manifest::yaml::{ParseLimits, Style};
use crate::manifest::{self, split, Finding, Object, Site, SiteValue};
use crate::rules::{Decision, Reason, Rules};
use crate::settings::Limits;
use crate::splice::{self, Edit};
use decide::decide_site;
use embedded::plan_embedded;
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

/// The records of one input's scan: each site decided and its edit made, then the findings
/// turned into errors where they matter.
fn plan_input(
    plan: &mut Plan,
    input_index: usize,
    input: &Input,
    scan: manifest::Scan,
    doc_base: usize,
    rules: &Rules,
    opts: &Options,
) -> Result<(), RewriteError> {
    let text = input.text.as_str();
    let err_at = |offset: usize, msg: String| {
        RewriteError::at(&input.name, Some(manifest::line_col(text, offset)), msg)
    };
    // Anchors (per document) defined on image scalars, and whether they were rewritten.
    let mut image_anchors: HashMap<(usize, usize), bool> = HashMap::new();
    for site in &scan.sites {
        if let SiteValue::Scalar { anchor, .. } = site.value {
            if anchor != 0 {
                image_anchors.insert((site.doc, anchor), false);
            }
        }
    }
    let mut seen_warning: HashSet<String> = HashSet::new();
    // Edits by byte range, with their text.
    let mut applied: HashMap<(usize, usize), String> = HashMap::new();
    for site in scan.sites {
        let Site {
            doc,
            object,
            path,
            span,
            value,
            rule,
            kind,
            prefix,
            format,
            qualified,
            embedded,
        } = site;
        let container = rule == BUILTIN[0].label;
        // A rule whose output is invalid or not final stops the run at the image it was given.
        let decide = |v: &str| {
            decide_site(
                rules,
                v,
                &prefix,
                format,
                kind,
                object.namespace.as_deref(),
                qualified,
                container,
            )
            .map_err(|e| err_at(span.start(), format!("{path}: {e}")))
        };
        if let Some(inner) = &embedded {
            // The value is a document of its own: its records, not one for the whole value.
            let found = match &value {
                SiteValue::Scalar {
                    value,
                    style: Style::Literal,
                    ..
                } => plan_embedded(
                    text,
                    input_index,
                    doc_base + doc,
                    &object,
                    &path,
                    span,
                    value,
                    inner,
                    rules,
                    opts,
                    &err_at,
                )?,
                _ => Err(
                    "it is not a literal block (`|`), so its lines cannot be edited in place"
                        .to_string(),
                ),
            };
            match found {
                Ok(records) => {
                    for r in records {
                        if let Some(e) = &r.edit {
                            applied.insert((e.span.start(), e.span.end()), e.text.clone());
                        }
                        plan.records.push(r);
                    }
                }
                Err(why) => {
                    let w = err_at(
                        span.start(),
                        format!("{path}: the document embedded here is left as is: {why}"),
                    )
                    .to_string();
                    if seen_warning.insert(w.clone()) {
                        plan.warnings.push(w);
                    }
                }
            }
            continue;
        }
        let (before, decision, edit) = match value {
            SiteValue::Scalar {
                value,
                style,
                in_flow,
                anchor,
                ..
            } => {
                // A block scalar's value ends with its line break(s) (clip/keep chomping); the
                // image is the text before them, and the splice keeps the breaks.
                let value = match style {
                    Style::Literal | Style::Folded => value.trim_end_matches('\n').to_string(),
                    _ => value,
                };
                let d = decide(&value)?;
                let edit = match &d.to {
                    Some(to) => Some(
                        splice::scalar_edit(text, span, style, in_flow, &value, to)
                            .map_err(|e| err_at(span.start(), format!("{path}: {e}")))?,
                    ),
                    None => None,
                };
                if anchor != 0 && edit.is_some() {
                    image_anchors.insert((doc, anchor), true);
                }
                (value, d, edit)
            }
            SiteValue::Alias {
                anchor,
                value: Some(v),
                in_flow,
            } => {
                if image_anchors.contains_key(&(doc, anchor)) {
                    (
                        v,
                        Decision {
                            to: None,
                            reason: Reason::FollowsAnchor,
                        },
                        None,
                    )
                } else {
                    let d = decide(&v)?;
                    let edit = d.to.as_ref().map(|to| Edit {
                        span,
                        text: splice::quote(to, Style::Plain, in_flow),
                    });
                    (v, d, edit)
                }
            }
            SiteValue::Alias { value: None, .. } => {
                let what = "an alias of a collection";
                (
                    span.slice(text).to_string(),
                    Decision {
                        to: None,
                        reason: Reason::NotAString(what),
                    },
                    None,
                )
            }
            SiteValue::NotString(what) => {
                let src: String = span.slice(text).chars().take(60).collect();
                (
                    src,
                    Decision {
                        to: None,
                        reason: Reason::NotAString(what),
                    },
                    None,
                )
            }
            SiteValue::Tagged { go_value, tag } => {
                // Go reads an image here; if the rules would rewrite it, leaving it would pull from
                // the internet while explain and the exit status say nothing: refuse.
                let d = decide(&go_value)?;
                if let (Some(to), true) = (&d.to, rules.enabled()) {
                    return Err(err_at(
                        span.start(),
                        format!("{path}: image {go_value:?} is written with the tag {tag}; Go reads it as that string and the rules rewrite it to {to:?}, but pullthrough does not rewrite tagged scalars: write the image as a plain string"),
                    ));
                }
                (
                    go_value,
                    Decision {
                        to: None,
                        reason: d.reason,
                    },
                    None,
                )
            }
        };
        // A bare word in a field that holds an image only when it names a registry is not one.
        if decision.reason == Reason::NotQualified {
            continue;
        }
        // The same bytes reached twice (an image field of an anchored collection and of its
        // alias): one edit, and both readings must agree on it.
        let edit = match edit {
            Some(e) => match applied.get(&(e.span.start(), e.span.end())) {
                Some(prev) if *prev == e.text => None,
                Some(prev) => {
                    return Err(err_at(
                        span.start(),
                        format!("{path}: this image is read at two places through an alias and would become both {prev:?} and {:?}: write the collection out instead of the alias", e.text),
                    ));
                }
                None => {
                    applied.insert((e.span.start(), e.span.end()), e.text.clone());
                    Some(e)
                }
            },
            None => None,
        };
        if let Reason::Unparseable(_) | Reason::NotAString(_) = &decision.reason {
            // Long values (a 10 KB string in an image field) are cut: the message is one line.
            let shown: String = if before.chars().count() > 200 {
                format!("{}…", before.chars().take(200).collect::<String>())
            } else {
                before.clone()
            };
            let msg = format!("{path}: image {shown:?} left as is: {}", decision.reason);
            if opts.strict {
                return Err(err_at(span.start(), format!("{msg} (--strict)")));
            }
            let w = err_at(span.start(), msg).to_string();
            if seen_warning.insert(w.clone()) {
                plan.warnings.push(w);
            }
        }
        plan.records.push(Record {
            input: input_index,
            doc: doc_base + doc,
            offset: span.start(),
            object,
            path,
            field: rule,
            before,
            decision,
            edit,
        });
    }
    for f in scan.findings {
        match f {
            // Whatever the rules, Argo CD cannot read such a document: say where, not later and
            // without a position in Argo CD's UI.
            Finding::NotAnObject { span, what } => {
                return Err(err_at(
                    span.start(),
                    format!("document is not a Kubernetes object ({what}); Argo CD reads every document as a mapping"),
                ));
            }
            // Argo CD fails the whole app on these, rewriting or not: say where.
            Finding::GoRefuses { span, refusal } => {
                return Err(err_at(span.start(), refusal.to_string()));
            }
            _ if !rules.enabled() => {}
            Finding::SharedImage { span, .. } => {
                if applied.keys().any(|&(start, _)| start == span.start()) {
                    return Err(err_at(
                        span.start(),
                        "this image is inside an anchored collection that an alias makes Go read elsewhere too, not as an image; rewriting it would change that value as well: write the collection out instead of the alias".to_string(),
                    ));
                }
            }
            Finding::AliasOfImage { doc, anchor, span } => {
                if image_anchors.get(&(doc, anchor)) == Some(&true) {
                    return Err(err_at(
                        span.start(),
                        format!("alias {} reads an anchored image that is being rewritten, outside an image field; rewriting it would change this value too: write the value out instead of the alias", span.slice(text)),
                    ));
                }
            }
        }
    }
    Ok(())
}
