//! The environment `argocd-cmp-server` gives plugin commands (see `argocd-cmp.md` §4).
//!
//! Read from an [`Environ`] snapshot; nothing here touches the process.

use std::collections::BTreeMap;

use crate::environ::Environ;

/// The build environment Argo CD sets for `init` and `generate` (a reduced set for the
/// parameters announcement; absent variables are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArgoEnv {
    /// `ARGOCD_APP_NAME`: `name`, or `<appNamespace>_<name>` for apps outside the control plane.
    pub app_name: Option<String>,
    /// `ARGOCD_APP_NAMESPACE`: the destination namespace.
    pub app_namespace: Option<String>,
    /// `ARGOCD_APP_SOURCE_PATH`: the app's path inside the repository.
    pub source_path: Option<String>,
    /// `KUBE_VERSION`, e.g. `1.30.0`.
    pub kube_version: Option<String>,
    /// `KUBE_API_VERSIONS`, split on commas.
    pub kube_api_versions: Vec<String>,
    /// `ARGOCD_APP_PARAMETERS`, raw JSON.
    pub parameters: Option<String>,
    /// `ARGOCD_ENV_<NAME>` variables, prefix removed.
    pub plugin_env: BTreeMap<String, String>,
    /// The variables Argo CD substitutes into `$VAR` references: `ARGOCD_APP_*` only.
    pub build_env: BTreeMap<String, String>,
}

/// Variables of the build environment, as `repository.go` `newEnv` sets them: what Argo CD's
/// `Env.Envsubst` knows. `KUBE_VERSION`/`KUBE_API_VERSIONS` reach a plugin's environment
/// (`getPluginEnvs`) but not that env, so `$KUBE_VERSION` in a native source's value becomes ""
/// and does here too.
const BUILD_VARS: &[&str] = &[
    "ARGOCD_APP_NAME",
    "ARGOCD_APP_NAMESPACE",
    "ARGOCD_APP_PROJECT_NAME",
    "ARGOCD_APP_REVISION",
    "ARGOCD_APP_REVISION_SHORT",
    "ARGOCD_APP_REVISION_SHORT_8",
    "ARGOCD_APP_SOURCE_REPO_URL",
    "ARGOCD_APP_SOURCE_PATH",
    "ARGOCD_APP_SOURCE_TARGET_REVISION",
];

impl ArgoEnv {
    pub fn from_environ(env: &Environ) -> ArgoEnv {
        let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).map(str::to_string);
        ArgoEnv {
            app_name: get("ARGOCD_APP_NAME"),
            app_namespace: get("ARGOCD_APP_NAMESPACE"),
            source_path: get("ARGOCD_APP_SOURCE_PATH"),
            kube_version: get("KUBE_VERSION"),
            kube_api_versions: env
                .get("KUBE_API_VERSIONS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            parameters: env.get("ARGOCD_APP_PARAMETERS").map(str::to_string),
            plugin_env: env
                .with_prefix("ARGOCD_ENV_")
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            build_env: BUILD_VARS
                .iter()
                .filter_map(|k| Some((k.to_string(), env.get(k)?.to_string())))
                .collect(),
        }
    }

    /// The Helm release name Argo CD uses: the name part of `ARGOCD_APP_NAME` (`ns_name` → `name`).
    pub fn release_name(&self) -> Option<String> {
        let n = self.app_name.as_deref()?;
        Some(n.split_once('_').map_or(n, |(_, name)| name).to_string())
    }
}
