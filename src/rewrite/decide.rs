//! What one field's value becomes: an image, a repository or a registry prefix, a list of them,
//! `KEY=IMAGE` items — decided item by item by the [`Rules`], with the placeholders that are never
//! images.

use crate::destination::looks_like_host;
use crate::manifest::fields::{ValueFormat, ValueKind};
use crate::rules::{Decision, Reason, RuleError, Rules};

/// The decision for one site's value: [`decide_value`], except for what is never an image here:
/// Istio's `image: auto` placeholder in a container, and a bare word in a `qualified` field.
#[allow(clippy::too_many_arguments)]
pub(super) fn decide_site(
    rules: &Rules,
    value: &str,
    prefix: &str,
    format: ValueFormat,
    kind: ValueKind,
    ns: Option<&str>,
    qualified: bool,
    container: bool,
) -> Result<Decision, RuleError> {
    if container && value == ISTIO_AUTO.0 {
        return Ok(Decision::kept(Reason::Placeholder(ISTIO_AUTO.1)));
    }
    if qualified && !names_a_registry(value.strip_prefix(prefix).unwrap_or(value)) {
        return Ok(Decision::kept(Reason::NotQualified));
    }
    decide_value(rules, value, prefix, format, kind, ns)
}

/// A container image pullthrough never rewrites, and why.
const ISTIO_AUTO: (&str, &str) = (
    "auto",
    "Istio's injector replaces exactly `image: auto` in a gateway with its proxy image; a rewritten value would be pulled as is and fail",
);

/// A path follows a first component that is a registry host.
fn names_a_registry(value: &str) -> bool {
    value
        .split_once('/')
        .is_some_and(|(h, _)| looks_like_host(h))
}

/// The decision for a whole field value: the image after `prefix` (an argument's `--flag=`),
/// or each item of a list split on `format.separator`, decided on its own; with `format.keyed`
/// each item is `KEY=IMAGE` and only `IMAGE` is decided. Blank items (a list's trailing line
/// break) are kept as they are, and so is the whitespace around an item.
fn decide_value(
    rules: &Rules,
    value: &str,
    prefix: &str,
    format: ValueFormat,
    kind: ValueKind,
    ns: Option<&str>,
) -> Result<Decision, RuleError> {
    let Some(image) = value.strip_prefix(prefix) else {
        return Ok(Decision::kept(Reason::Unparseable(format!(
            "does not start with {prefix:?}"
        ))));
    };
    // One item: (decision, the item's text with its decided part replaced).
    let item = |text: &str| -> Result<Option<(Decision, Option<String>)>, RuleError> {
        let trimmed = text.trim();
        if trimmed.is_empty() && format.separator.is_some() {
            return Ok(None);
        }
        let lead = &text[..text.len() - text.trim_start().len()];
        let trail = &text[text.trim_end().len()..];
        let (key, image) = if format.keyed {
            match trimmed.split_once('=') {
                Some((k, v)) => (Some(k), v),
                None => {
                    return Ok(Some((
                        Decision::kept(Reason::Unparseable("no `=` in a KEY=IMAGE item".into())),
                        None,
                    )))
                }
            }
        } else {
            (None, trimmed)
        };
        let d = rules.decide_as(image, ns, kind)?;
        let to = d.to.as_ref().map(|to| match key {
            Some(k) => format!("{lead}{k}={to}{trail}"),
            None => format!("{lead}{to}{trail}"),
        });
        Ok(Some((d, to)))
    };
    let Some(sep) = format.separator else {
        let Some((d, to)) = item(image)? else {
            unreachable!("a value without separator is never a blank item")
        };
        return Ok(Decision {
            to: to.map(|to| format!("{prefix}{to}")),
            reason: d.reason,
        });
    };
    let items: Vec<Option<(Decision, Option<String>)>> =
        image.split(sep).map(item).collect::<Result<_, _>>()?;
    let changed = items.iter().flatten().any(|(_, to)| to.is_some());
    let to = changed.then(|| {
        let parts: Vec<&str> = image
            .split(sep)
            .zip(&items)
            .map(|(orig, d)| d.as_ref().and_then(|(_, to)| to.as_deref()).unwrap_or(orig))
            .collect();
        format!("{prefix}{}", parts.join(&sep.to_string()))
    });
    // The reason of the first item that changed, else of the first item.
    let decided: Vec<&(Decision, Option<String>)> = items.iter().flatten().collect();
    let reason = decided
        .iter()
        .find(|(_, to)| to.is_some())
        .or(decided.first())
        .map(|(d, _)| d.reason.clone())
        .unwrap_or(Reason::NoRule(String::new()));
    Ok(Decision { to, reason })
}
