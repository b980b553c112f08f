//! The seed chart's values file (`kyverno-patch-registries`), accepted as-is.
//!
//! Each `registriesToOverwrite.<registry>` entry becomes a regex rule limited to that registry
//! (the seed policy's precondition), replacing the normalized reference with
//! `<ecrRegistryFullname>/<ecrPrefixName>/$1`. The seed writes its regexes for a double-quoted
//! string in the rendered ClusterPolicy, so `\\` in the values means `\` in the regex Kyverno
//! runs; pullthrough reads them the same way. `common.namespaceSelectorLabel` selects namespaces
//! by a label in the cluster, which a renderer cannot see: it is reported, not honoured.

use super::config::SeedValues;
use super::{RewriteSettings, RuleSetting};

/// Applies seed values on top of `s`; returns warnings to print once.
pub fn apply(s: &mut RewriteSettings, file: &str, v: &SeedValues) -> Vec<String> {
    let mut warnings = Vec::new();
    let ecr = v.common.ecr_registry_fullname.trim_end_matches('/');
    s.mirror.set(
        Some(ecr.to_string()),
        format!("{file}: common.ecrRegistryFullname"),
    );
    let rules = v
        .registries_to_overwrite
        .iter()
        .map(|(registry, r)| RuleSetting {
            registry: Some(registry.clone()),
            pattern: r.upstream_url_regexp.replace("\\\\", "\\"),
            replace: format!("{ecr}/{}/${{1}}", r.ecr_prefix_name.trim_matches('/')),
            require_capture: true,
            origin: Some(format!(
                "{file}: registriesToOverwrite.{registry}.upstreamUrlRegexp"
            )),
            name: Some(format!("{file}: registriesToOverwrite.{registry}")),
        })
        .collect();
    s.rules.set(rules, format!("{file}: registriesToOverwrite"));
    if let Some(label) = &v.common.namespace_selector_label {
        warnings.push(format!(
            "{file}: common.namespaceSelectorLabel ({label}) selects namespaces by a label in the cluster, which pullthrough cannot see when rendering; use `namespaces.include`/`namespaces.exclude` in the config or the per-app `enabled` parameter instead"
        ));
    }
    warnings
}
