//! The records of one input: each site the scan found is decided and its edit made, then the
//! scan's findings become errors where the decisions make them matter.
//!
//! An [`InputPlanner`] carries what one site's planning needs from the others: the edits made
//! so far (the same bytes reached twice, through an alias, must get one edit), which anchored
//! images were rewritten (an alias reading one outside an image field is refused), and the
//! warnings already given (each is printed once).

use std::collections::{HashMap, HashSet};

use super::decide::decide_site;
use super::embedded::plan_embedded;
use super::{Options, Plan, Record, RewriteError};
use crate::manifest::fields::{InnerField, BUILTIN};
use crate::manifest::yaml::Style;
use crate::manifest::{self, Finding, Object, Scan, Site, SiteValue, Span};
use crate::rules::{Decision, Reason, Rules};
use crate::splice::{self, Edit};

/// Plans `scan`, the scan of `plan`'s input number `input_index` whose first document is
/// `doc_base` across all inputs.
///
/// # Errors
/// A [`RewriteError`] at the site or finding: a rule's output that is invalid or not final, an
/// image read twice through an alias that would get two edits, a tagged image the rules would
/// rewrite, an alias of a rewritten anchor outside an image field, a document Go cannot read
/// as an object; with `--strict`, an image left as is because it does not parse.
pub(super) fn plan_input(
    plan: &mut Plan,
    input_index: usize,
    input: &super::Input,
    scan: Scan,
    doc_base: usize,
    rules: &Rules,
    opts: &Options,
) -> Result<(), RewriteError> {
    let mut planner = InputPlanner {
        image_anchors: image_anchors(&scan.sites),
        plan,
        input_index,
        name: &input.name,
        text: &input.text,
        doc_base,
        rules,
        opts,
        seen_warning: HashSet::new(),
        applied: HashMap::new(),
    };
    for site in scan.sites {
        planner.site(site)?;
    }
    for f in scan.findings {
        planner.finding(f)?;
    }
    Ok(())
}

/// The anchors (per document) defined on image scalars, none rewritten yet.
fn image_anchors(sites: &[Site]) -> HashMap<(usize, usize), bool> {
    let mut anchors = HashMap::new();
    for site in sites {
        if let SiteValue::Scalar { anchor, .. } = site.value {
            if anchor != 0 {
                anchors.insert((site.doc, anchor), false);
            }
        }
    }
    anchors
}

struct InputPlanner<'p, 'a> {
    plan: &'p mut Plan,
    input_index: usize,
    name: &'a str,
    text: &'a str,
    doc_base: usize,
    rules: &'a Rules,
    opts: &'a Options,
    /// Anchors (per document) defined on image scalars, and whether they were rewritten.
    image_anchors: HashMap<(usize, usize), bool>,
    seen_warning: HashSet<String>,
    /// Edits by byte range, with their text.
    applied: HashMap<(usize, usize), String>,
}

/// What one site's value gives: the value as Go reads it, the decision, the edit, and the
/// anchor whose image this rewrites.
struct Read {
    before: String,
    decision: Decision,
    edit: Option<Edit>,
    rewrites_anchor: Option<usize>,
}

impl Read {
    fn kept(before: String, reason: Reason) -> Read {
        Read {
            before,
            decision: Decision::kept(reason),
            edit: None,
            rewrites_anchor: None,
        }
    }
}

impl InputPlanner<'_, '_> {
    fn err_at(&self, offset: usize, msg: String) -> RewriteError {
        RewriteError::at(self.name, Some(manifest::line_col(self.text, offset)), msg)
    }

    /// A warning at `offset`, given once however often it recurs.
    fn warn(&mut self, offset: usize, msg: String) {
        let w = self.err_at(offset, msg).to_string();
        if self.seen_warning.insert(w.clone()) {
            self.plan.warnings.push(w);
        }
    }

    /// One site: decided, its edit checked against the edits already made, its record added.
    fn site(&mut self, site: Site) -> Result<(), RewriteError> {
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
        if let Some(inner) = &embedded {
            return self.embedded(doc, &object, &path, span, &value, inner);
        }
        let container = rule == BUILTIN[0].label;
        // A rule whose output is invalid or not final stops the run at the image it was given.
        let decide = |v: &str| {
            decide_site(
                self.rules,
                v,
                &prefix,
                format,
                kind,
                object.namespace.as_deref(),
                qualified,
                container,
            )
            .map_err(|e| self.err_at(span.start(), format!("{path}: {e}")))
        };
        let read = self.read(doc, span, &path, value, decide)?;
        if let Some(anchor) = read.rewrites_anchor {
            self.image_anchors.insert((doc, anchor), true);
        }
        // A bare word in a field that holds an image only when it names a registry is not one.
        if read.decision.reason == Reason::NotQualified {
            return Ok(());
        }
        let edit = match read.edit {
            Some(e) => self.once(span, &path, e)?,
            None => None,
        };
        if let Reason::Unparseable(_) | Reason::NotAString(_) = &read.decision.reason {
            self.left_as_is(span, &path, &read.before, &read.decision.reason)?;
        }
        self.plan.records.push(Record {
            input: self.input_index,
            doc: self.doc_base + doc,
            offset: span.start(),
            object,
            path,
            field: rule,
            before: read.before,
            decision: read.decision,
            edit,
        });
        Ok(())
    }

    /// The value of a site as Go reads it, decided, with its edit.
    fn read(
        &self,
        doc: usize,
        span: Span,
        path: &str,
        value: SiteValue,
        decide: impl Fn(&str) -> Result<Decision, RewriteError>,
    ) -> Result<Read, RewriteError> {
        Ok(match value {
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
                let decision = decide(&value)?;
                let edit = match &decision.to {
                    Some(to) => Some(
                        splice::scalar_edit(self.text, span, style, in_flow, &value, to)
                            .map_err(|e| self.err_at(span.start(), format!("{path}: {e}")))?,
                    ),
                    None => None,
                };
                let rewrites_anchor = (anchor != 0 && edit.is_some()).then_some(anchor);
                Read {
                    before: value,
                    decision,
                    edit,
                    rewrites_anchor,
                }
            }
            SiteValue::Alias {
                anchor,
                value: Some(v),
                in_flow,
            } => {
                if self.image_anchors.contains_key(&(doc, anchor)) {
                    Read::kept(v, Reason::FollowsAnchor)
                } else {
                    let decision = decide(&v)?;
                    let edit = decision.to.as_ref().map(|to| Edit {
                        span,
                        text: splice::quote(to, Style::Plain, in_flow),
                    });
                    Read {
                        before: v,
                        decision,
                        edit,
                        rewrites_anchor: None,
                    }
                }
            }
            SiteValue::Alias { value: None, .. } => Read::kept(
                span.slice(self.text).to_string(),
                Reason::NotAString("an alias of a collection"),
            ),
            SiteValue::NotString(what) => Read::kept(
                span.slice(self.text).chars().take(60).collect(),
                Reason::NotAString(what),
            ),
            SiteValue::Tagged { go_value, tag } => {
                // Go reads an image here; if the rules would rewrite it, leaving it would pull from
                // the internet while explain and the exit status say nothing: refuse.
                let d = decide(&go_value)?;
                if let (Some(to), true) = (&d.to, self.rules.enabled()) {
                    return Err(self.err_at(
                        span.start(),
                        format!("{path}: image {go_value:?} is written with the tag {tag}; Go reads it as that string and the rules rewrite it to {to:?}, but pullthrough does not rewrite tagged scalars: write the image as a plain string"),
                    ));
                }
                Read::kept(go_value, d.reason)
            }
        })
    }

    /// The same bytes reached twice (an image field of an anchored collection and of its
    /// alias): one edit (`None` the second time), and both readings must agree on it.
    fn once(&mut self, span: Span, path: &str, e: Edit) -> Result<Option<Edit>, RewriteError> {
        let key = (e.span.start(), e.span.end());
        match self.applied.get(&key) {
            Some(prev) if *prev == e.text => Ok(None),
            Some(prev) => Err(self.err_at(
                span.start(),
                format!("{path}: this image is read at two places through an alias and would become both {prev:?} and {:?}: write the collection out instead of the alias", e.text),
            )),
            None => {
                self.applied.insert(key, e.text.clone());
                Ok(Some(e))
            }
        }
    }

    /// An image left as is because it does not parse or is not a string: a warning, or with
    /// `--strict` an error.
    fn left_as_is(
        &mut self,
        span: Span,
        path: &str,
        before: &str,
        reason: &Reason,
    ) -> Result<(), RewriteError> {
        // Long values (a 10 KB string in an image field) are cut: the message is one line.
        let shown: String = if before.chars().count() > 200 {
            format!("{}…", before.chars().take(200).collect::<String>())
        } else {
            before.to_string()
        };
        let msg = format!("{path}: image {shown:?} left as is: {reason}");
        if self.opts.strict {
            return Err(self.err_at(span.start(), format!("{msg} (--strict)")));
        }
        self.warn(span.start(), msg);
        Ok(())
    }

    /// A value that is a document of its own: its records, not one for the whole value; a
    /// warning when its lines cannot be edited in place.
    fn embedded(
        &mut self,
        doc: usize,
        object: &Object,
        path: &str,
        span: Span,
        value: &SiteValue,
        inner: &[InnerField],
    ) -> Result<(), RewriteError> {
        let err_at = |offset: usize, msg: String| self.err_at(offset, msg);
        let found = match value {
            SiteValue::Scalar {
                value,
                style: Style::Literal,
                ..
            } => plan_embedded(
                self.text,
                self.input_index,
                self.doc_base + doc,
                object,
                path,
                span,
                value,
                inner,
                self.rules,
                self.opts,
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
                        self.applied
                            .insert((e.span.start(), e.span.end()), e.text.clone());
                    }
                    self.plan.records.push(r);
                }
            }
            Err(why) => self.warn(
                span.start(),
                format!("{path}: the document embedded here is left as is: {why}"),
            ),
        }
        Ok(())
    }

    /// A finding of the scan: an error where Argo CD could not read the document, or where the
    /// edits made would change more than an image.
    fn finding(&self, f: Finding) -> Result<(), RewriteError> {
        match f {
            // Whatever the rules, Argo CD cannot read such a document: say where, not later and
            // without a position in Argo CD's UI.
            Finding::NotAnObject { span, what } => Err(self.err_at(
                span.start(),
                format!("document is not a Kubernetes object ({what}); Argo CD reads every document as a mapping"),
            )),
            // Argo CD fails the whole app on these, rewriting or not: say where.
            Finding::GoRefuses { span, refusal } => {
                Err(self.err_at(span.start(), refusal.to_string()))
            }
            _ if !self.rules.enabled() => Ok(()),
            Finding::SharedImage { span, .. } => {
                if self.applied.keys().any(|&(start, _)| start == span.start()) {
                    return Err(self.err_at(
                        span.start(),
                        "this image is inside an anchored collection that an alias makes Go read elsewhere too, not as an image; rewriting it would change that value as well: write the collection out instead of the alias".to_string(),
                    ));
                }
                Ok(())
            }
            Finding::AliasOfImage { doc, anchor, span } => {
                if self.image_anchors.get(&(doc, anchor)) == Some(&true) {
                    return Err(self.err_at(
                        span.start(),
                        format!("alias {} reads an anchored image that is being rewritten, outside an image field; rewriting it would change this value too: write the value out instead of the alias", span.slice(self.text)),
                    ));
                }
                Ok(())
            }
        }
    }
}
