//! Documents embedded in a field's value (a ConfigMap's `helperPod.yaml`, a JCasC file, Istio's
//! injector values): scanned as documents of their own, their images decided and edited in
//! place inside the literal block that holds them.

use super::decide::decide_site;
use super::{Options, Record, RewriteError};
use crate::manifest::fields::{FieldSet, ValueFormat, BUILTIN};
use crate::manifest::yaml::{ParseLimits, Style};
use crate::manifest::{self, Object, SiteValue, Span};
use crate::rules::{Reason, Rules};
use crate::splice;

/// The records of the image fields of a document embedded in a literal block scalar (a
/// ConfigMap's `helperPod.yaml`): its container images and the `inner` fields, each decided and
/// edited in place in the block's lines. `Ok(Err(why))` (a warning for the caller) when the
/// document does not parse, or an image in it cannot be edited where it stands; `Err` when a
/// rule's output is invalid (as for any image).
#[allow(clippy::too_many_arguments)]
pub(super) fn plan_embedded(
    text: &str,
    input: usize,
    doc: usize,
    object: &Object,
    outer: &str,
    span: Span,
    value: &str,
    inner: &[crate::manifest::fields::InnerField],
    rules: &Rules,
    opts: &Options,
    err_at: &dyn Fn(usize, String) -> RewriteError,
) -> Result<Result<Vec<Record>, String>, RewriteError> {
    match embedded_records(
        text, input, doc, object, outer, span, value, inner, rules, opts,
    ) {
        Ok(records) => Ok(Ok(records)),
        Err(Embedded::Skip(why)) => Ok(Err(why)),
        Err(Embedded::Rule(at, e)) => Err(err_at(at, e)),
    }
}

enum Embedded {
    Skip(String),
    Rule(usize, String),
}

impl From<String> for Embedded {
    fn from(s: String) -> Self {
        Embedded::Skip(s)
    }
}

impl From<&str> for Embedded {
    fn from(s: &str) -> Self {
        Embedded::Skip(s.to_string())
    }
}

#[allow(clippy::too_many_arguments)]
fn embedded_records(
    text: &str,
    input: usize,
    doc: usize,
    object: &Object,
    outer: &str,
    span: Span,
    value: &str,
    inner: &[crate::manifest::fields::InnerField],
    rules: &Rules,
    opts: &Options,
) -> Result<Vec<Record>, Embedded> {
    use crate::manifest::fields::KindField;
    let fields = FieldSet {
        kinds: inner
            .iter()
            .map(|f| KindField {
                kinds: Vec::new(),
                group: None,
                names: Vec::new(),
                path: f.path.clone(),
                value: f.value,
                format: ValueFormat::default(),
                qualified: f.qualified,
                embedded: None,
                label: f.label.clone(),
            })
            .collect(),
        ..FieldSet::default()
    };
    let limits = ParseLimits {
        max_depth: opts.limits.max_depth,
    };
    let scan = manifest::scan(value, limits, &fields)
        .map_err(|e| format!("it does not parse as YAML ({e})"))?;
    let lines = splice::literal_lines(text, span).ok_or("its lines do not match its value")?;
    let mut out = Vec::new();
    for site in scan.sites {
        let SiteValue::Scalar {
            value: v,
            style,
            in_flow,
            ..
        } = &site.value
        else {
            continue;
        };
        if matches!(style, Style::Literal | Style::Folded) {
            continue;
        }
        let container = site.rule == BUILTIN[0].label;
        let path = format!("{outer} ⟶ {}", site.path);
        let d = decide_site(
            rules,
            v,
            "",
            site.format,
            site.kind,
            object.namespace.as_deref(),
            site.qualified,
            container,
        )
        .map_err(|e| Embedded::Rule(span.start(), format!("{path}: {e}")))?;
        // Where the scalar's bytes are in the outer text: on one line of the block.
        let (s, e) = (site.span.start(), site.span.end());
        let Some(&(dec, src, len)) = lines
            .iter()
            .find(|(dec, _, len)| *dec <= s && e <= dec + len)
        else {
            return Err(format!("{} spans several lines", site.path).into());
        };
        let _ = len;
        let outer_span = Span::within(src + (s - dec), src + (e - dec), text)
            .ok_or("a span outside the block")?;
        if outer_span.slice(text) != site.span.slice(value) {
            return Err(format!("{} is not where its text is", site.path).into());
        }
        if d.reason == Reason::NotQualified {
            continue;
        }
        let edit = match &d.to {
            Some(to) => Some(
                splice::scalar_edit(text, outer_span, *style, *in_flow, v, to)
                    .map_err(|e| Embedded::Skip(e.to_string()))?,
            ),
            None => None,
        };
        out.push(Record {
            input,
            doc,
            offset: outer_span.start(),
            object: object.clone(),
            path,
            field: if container {
                format!("{} (embedded)", site.rule)
            } else {
                site.rule.clone()
            },
            before: v.clone(),
            decision: d,
            edit,
        });
    }
    Ok(out)
}
