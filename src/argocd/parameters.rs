//! The plugin's parameters: one table, the single source of truth.
//!
//! The same table drives reading `ARGOCD_APP_PARAMETERS`, the `ARGOCD_ENV_` fallback names, the
//! dynamic announcement (`pullthrough parameters`), the `parameters.static` section of
//! `argocd/plugin.yaml` and the README's parameter table (a test fails when either file is stale).

/// The shape of a parameter, as Argo CD's `collectionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    String,
    Array,
    Map,
}

impl Collection {
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::String => "string",
            Collection::Array => "array",
            Collection::Map => "map",
        }
    }
}

/// Which stage a parameter steers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Rewrite,
    Render,
}

/// Every parameter, as a type: code that acts on parameters matches on this exhaustively, so a
/// parameter added to [`PARAMS`] without its handling (resolution, announcement) does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Id {
    Enabled,
    Mirror,
    Registries,
    Exclude,
    Profiles,
    AllowEmpty,
    SourceType,
    ReleaseName,
    Namespace,
    KubeVersion,
    ApiVersions,
    ValuesFiles,
    Values,
    Set,
    SetString,
    SetFile,
    SkipCrds,
    SkipTests,
    SkipSchemaValidation,
    IgnoreMissingValueFiles,
    HelmVersion,
    PassCredentials,
    DirectoryRecurse,
    DirectoryInclude,
    DirectoryExclude,
    DirectoryJsonnetExtVars,
    DirectoryJsonnetTlas,
    DirectoryJsonnetLibs,
    KustomizeNamePrefix,
    KustomizeNameSuffix,
    KustomizeImages,
    KustomizeReplicas,
    KustomizeCommonLabels,
    KustomizeCommonAnnotations,
    KustomizeCommonAnnotationsEnvsubst,
    KustomizeForceCommonLabels,
    KustomizeForceCommonAnnotations,
    KustomizeLabelWithoutSelector,
    KustomizeLabelIncludeTemplates,
    KustomizeNamespace,
    KustomizePatches,
    KustomizeComponents,
    KustomizeIgnoreMissingComponents,
    KustomizeKubeVersion,
    KustomizeApiVersions,
}

/// One parameter.
#[derive(Debug, PartialEq, Eq)]
pub struct ParamDef {
    pub id: Id,
    /// kebab-case; identical in `plugin.parameters[].name`, the announcement and the docs.
    pub name: &'static str,
    pub title: &'static str,
    pub collection: Collection,
    pub group: Group,
    /// `"true"`/`"false"` string parameters.
    pub boolean: bool,
    /// One sentence for the UI tooltip and the README.
    pub help: &'static str,
}

const fn p(
    id: Id,
    name: &'static str,
    title: &'static str,
    collection: Collection,
    group: Group,
    boolean: bool,
    help: &'static str,
) -> ParamDef {
    ParamDef {
        id,
        name,
        title,
        collection,
        group,
        boolean,
        help,
    }
}

use Collection::{Array, Map, String as Str};
use Group::{Render, Rewrite};

/// Every parameter, in the order the UI shows them.
pub const PARAMS: &[ParamDef] = &[
    p(Id::Enabled, "enabled", "Rewrite images", Str, Rewrite, true, "\"true\" rewrites images to the mirror, \"false\" renders them unchanged."),
    p(Id::Mirror, "mirror", "Mirror registry", Str, Rewrite, false, "Destination registry for relative prefixes: host[:port][/path]; must match the admin's allowedMirrors."),
    p(Id::Registries, "registries", "Registry map", Map, Rewrite, false, "Upstream registry -> prefix under the mirror, or a full destination host[:port]/path; merged over the configured map (an app entry wins for its registry)."),
    p(Id::Exclude, "exclude", "Excluded images", Array, Rewrite, false, "Globs on the normalized image name (registry/path, no tag) to leave untouched; added to the configured list."),
    p(Id::Profiles, "profiles", "Image field profiles", Array, Rewrite, false, "Built-in profiles for images operators name outside pod specs (env, flags, custom resources, ConfigMaps), e.g. strimzi, cloudnative-pg, nvidia-gpu-operator; all turns on every one (README: Built-in profiles); replaces the configured list."),
    p(Id::AllowEmpty, "allow-empty", "Allow empty output", Str, Rewrite, true, "\"true\" lets a render with no objects succeed (Argo CD would prune every resource of the app)."),
    p(Id::SourceType, "source-type", "Source type", Str, Render, false, "helm, kustomize or directory; empty detects it (Chart.yaml, kustomization.yaml, else directory)."),
    p(Id::ReleaseName, "release-name", "Helm release name", Str, Render, false, "Helm release name; default: the Application name."),
    p(Id::Namespace, "namespace", "Namespace", Str, Render, false, "spec.source.helm.namespace: helm template --namespace (Helm apps only); default: the destination namespace, where Argo CD puts objects without one."),
    p(Id::KubeVersion, "kube-version", "Kubernetes version", Str, Render, false, "Helm --kube-version; default: the cluster version Argo CD reports."),
    p(Id::ApiVersions, "api-versions", "API versions", Array, Render, false, "Helm --api-versions; default: the API versions Argo CD reports."),
    p(Id::ValuesFiles, "values-files", "Helm value files", Array, Render, false, "Value files in order: relative to the app, /x relative to the repository root, globs allowed; they must stay inside the repository."),
    p(Id::Values, "values", "Helm inline values", Str, Render, false, "Inline YAML values, applied after the value files."),
    p(Id::Set, "set", "Helm --set", Map, Render, false, "Helm --set parameters (name -> value)."),
    p(Id::SetString, "set-string", "Helm --set-string", Map, Render, false, "Helm --set-string parameters (name -> value)."),
    p(Id::SetFile, "set-file", "Helm --set-file", Map, Render, false, "Helm --set-file parameters (name -> file path inside the repository)."),
    p(Id::SkipCrds, "skip-crds", "Skip CRDs", Str, Render, true, "\"true\" omits --include-crds."),
    p(Id::SkipTests, "skip-tests", "Skip tests", Str, Render, true, "\"true\" passes --skip-tests."),
    p(Id::SkipSchemaValidation, "skip-schema-validation", "Skip schema validation", Str, Render, true, "\"true\" passes --skip-schema-validation."),
    p(Id::IgnoreMissingValueFiles, "ignore-missing-value-files", "Ignore missing value files", Str, Render, true, "\"true\" skips value files that do not exist instead of failing."),
    p(Id::HelmVersion, "helm-version", "Helm version", Str, Render, false, "spec.source.helm.version: empty, v3 or v4 (Argo CD renders all with its one Helm; so does pullthrough, with the configured helm)."),
    p(Id::PassCredentials, "pass-credentials", "Pass credentials", Str, Render, true, "spec.source.helm.passCredentials: \"true\" lets init's helm dependency build pass the admin's repository credentials to every domain."),
    p(Id::DirectoryRecurse, "directory-recurse", "Recurse directories", Str, Render, true, "\"true\" reads sub-directories of a plain-directory app."),
    p(Id::DirectoryInclude, "directory-include", "Include files", Array, Render, false, "Globs on paths relative to the app; when set, only matching files are read."),
    p(Id::DirectoryExclude, "directory-exclude", "Exclude files", Array, Render, false, "Globs on paths relative to the app; matching files are skipped."),
    p(Id::DirectoryJsonnetExtVars, "directory-jsonnet-ext-vars", "Jsonnet ext vars", Array, Render, false, "spec.source.directory.jsonnet.extVars: NAME=VALUE (a string) or {\"name\": ..., \"value\": ..., \"code\": true} (Jsonnet code) per entry; $VAR substituted."),
    p(Id::DirectoryJsonnetTlas, "directory-jsonnet-tlas", "Jsonnet top-level arguments", Array, Render, false, "spec.source.directory.jsonnet.tlas: NAME=VALUE (a string) or {\"name\": ..., \"value\": ..., \"code\": true} (Jsonnet code) per entry; $VAR substituted."),
    p(Id::DirectoryJsonnetLibs, "directory-jsonnet-libs", "Jsonnet library paths", Array, Render, false, "spec.source.directory.jsonnet.libs: import search paths relative to the repository root; an import is looked up beside the importing file, then in the last lib, ..., the first lib, then the app directory."),
    p(Id::KustomizeNamePrefix, "kustomize-name-prefix", "Kustomize name prefix", Str, Render, false, "spec.source.kustomize.namePrefix: kustomize edit set nameprefix."),
    p(Id::KustomizeNameSuffix, "kustomize-name-suffix", "Kustomize name suffix", Str, Render, false, "spec.source.kustomize.nameSuffix: kustomize edit set namesuffix."),
    p(Id::KustomizeImages, "kustomize-images", "Kustomize images", Array, Render, false, "spec.source.kustomize.images: kustomize edit set image arguments (name=newName:tag, name:tag, name@digest); $VAR substituted."),
    p(Id::KustomizeReplicas, "kustomize-replicas", "Kustomize replicas", Map, Render, false, "spec.source.kustomize.replicas: Deployment/StatefulSet name -> integer count."),
    p(Id::KustomizeCommonLabels, "kustomize-common-labels", "Kustomize common labels", Map, Render, false, "spec.source.kustomize.commonLabels: kustomize edit add label; $VAR substituted in values."),
    p(Id::KustomizeCommonAnnotations, "kustomize-common-annotations", "Kustomize common annotations", Map, Render, false, "spec.source.kustomize.commonAnnotations: kustomize edit add annotation."),
    p(Id::KustomizeCommonAnnotationsEnvsubst, "kustomize-common-annotations-envsubst", "Substitute in annotations", Str, Render, true, "spec.source.kustomize.commonAnnotationsEnvsubst: \"true\" substitutes $VAR in annotation values."),
    p(Id::KustomizeForceCommonLabels, "kustomize-force-common-labels", "Force common labels", Str, Render, true, "spec.source.kustomize.forceCommonLabels: \"true\" passes --force to edit add label."),
    p(Id::KustomizeForceCommonAnnotations, "kustomize-force-common-annotations", "Force common annotations", Str, Render, true, "spec.source.kustomize.forceCommonAnnotations: \"true\" passes --force to edit add annotation."),
    p(Id::KustomizeLabelWithoutSelector, "kustomize-label-without-selector", "Labels without selector", Str, Render, true, "spec.source.kustomize.labelWithoutSelector: \"true\" passes --without-selector."),
    p(Id::KustomizeLabelIncludeTemplates, "kustomize-label-include-templates", "Labels in templates", Str, Render, true, "spec.source.kustomize.labelIncludeTemplates: \"true\" passes --include-templates."),
    p(Id::KustomizeNamespace, "kustomize-namespace", "Kustomize namespace", Str, Render, false, "spec.source.kustomize.namespace: kustomize edit set namespace."),
    p(Id::KustomizePatches, "kustomize-patches", "Kustomize patches", Str, Render, false, "spec.source.kustomize.patches: a YAML or JSON list of {path|patch, target, options}, appended to the kustomization's patches."),
    p(Id::KustomizeComponents, "kustomize-components", "Kustomize components", Array, Render, false, "spec.source.kustomize.components: kustomize edit add component (paths relative to the app)."),
    p(Id::KustomizeIgnoreMissingComponents, "kustomize-ignore-missing-components", "Ignore missing components", Str, Render, true, "spec.source.kustomize.ignoreMissingComponents: \"true\" skips components that do not exist."),
    p(Id::KustomizeKubeVersion, "kustomize-kube-version", "Kustomize kube version", Str, Render, false, "spec.source.kustomize.kubeVersion: --helm-kube-version with --enable-helm; default: kube-version."),
    p(Id::KustomizeApiVersions, "kustomize-api-versions", "Kustomize API versions", Array, Render, false, "spec.source.kustomize.apiVersions: --helm-api-versions with --enable-helm; default: api-versions."),
];

/// The definition for `name`, if it is one of ours.
pub fn find(name: &str) -> Option<&'static ParamDef> {
    PARAMS.iter().find(|p| p.name == name)
}

/// The `ARGOCD_ENV_` variable that stands in for a parameter: `values-files` → `ARGOCD_ENV_VALUES_FILES`.
pub fn env_name(name: &str) -> String {
    format!("ARGOCD_ENV_{}", name.to_ascii_uppercase().replace('-', "_"))
}

/// The marker lines around generated sections (the text after `BEGIN`/`END` is the same in
/// YAML comments and Markdown comments).
pub const BEGIN_MARKER: &str =
    "BEGIN GENERATED: parameters (do not edit; generated from src/argocd/parameters.rs)";
pub const END_MARKER: &str = "END GENERATED: parameters";

/// The `parameters.static` list of `plugin.yaml`, each line prefixed with `indent`.
pub fn static_yaml(indent: &str) -> String {
    let q = crate::splice::double_quoted;
    let mut s = String::new();
    for p in PARAMS {
        s.push_str(&format!("{indent}- name: {}\n", p.name));
        s.push_str(&format!("{indent}  title: {}\n", q(p.title)));
        s.push_str(&format!("{indent}  tooltip: {}\n", q(p.help)));
        s.push_str(&format!(
            "{indent}  collectionType: {}\n",
            p.collection.as_str()
        ));
    }
    s
}

/// The README's parameter table (Markdown).
pub fn markdown_table() -> String {
    let mut s = String::from(
        "| parameter | type | stage | `ARGOCD_ENV_` fallback | meaning |\n|---|---|---|---|---|\n",
    );
    for p in PARAMS {
        let kind = match (p.collection, p.boolean) {
            (Collection::String, true) => "string (`\"true\"`/`\"false\"`)",
            (c, _) => c.as_str(),
        };
        let stage = match p.group {
            Group::Rewrite => "rewrite",
            Group::Render => "render",
        };
        s.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} |\n",
            p.name,
            kind,
            stage,
            env_name(p.name),
            p.help.replace('|', "\\|")
        ));
    }
    s
}

/// Replaces the generated section of `text` (between marker lines) with `body`, keeping the
/// marker lines as they are. `None` when the markers are missing.
pub fn replace_generated(text: &str, body: &str) -> Option<String> {
    let b = text.find(BEGIN_MARKER)?;
    let b_end = b + text[b..].find('\n')? + 1;
    let e = b_end + text[b_end..].find(END_MARKER)?;
    let e_line = text[..e].rfind('\n').map_or(0, |i| i + 1);
    Some(format!("{}{}{}", &text[..b_end], body, &text[e_line..]))
}

#[cfg(test)]
mod tests {
    use super::PARAMS;

    /// Each row's [`super::Id`] is its name in CamelCase and names no other row, so a copied
    /// row cannot carry another parameter's handling.
    #[test]
    fn ids_match_names_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for p in PARAMS {
            let camel: String = p
                .name
                .split('-')
                .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
                .collect();
            assert_eq!(format!("{:?}", p.id), camel, "{}", p.name);
            assert!(seen.insert(p.id), "{:?} used twice", p.id);
        }
    }
}
