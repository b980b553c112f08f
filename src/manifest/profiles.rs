//! Built-in profiles: opt-in sets of image fields for operators that create pods from images
//! named outside a pod spec. Each is limited to cases seen in real rendered manifests (the
//! corpus in `tests/data/corpus`, see its README), and the README lists the exact fields.

use super::fields::ValueKind;

/// One profile, as data.
#[derive(Debug)]
pub struct Profile {
    pub name: &'static str,
    /// Where it was proven (corpus file and what it holds).
    pub evidence: &'static str,
    /// (kinds, API group, paths from the object root)
    pub fields: &'static [(&'static [&'static str], &'static str, &'static [&'static str])],
    /// Container argument flags followed by an image (`--flag=IMAGE` or `--flag IMAGE`).
    pub args: &'static [&'static str],
    /// (env name glob, how the value is read, list separator)
    pub env: &'static [(&'static str, ValueKind, Option<char>)],
}

pub const PROFILES: &[Profile] = &[
    Profile {
        name: "prometheus-operator",
        evidence: "kube-prometheus-stack: spec.image of Prometheus, Alertmanager and ThanosRuler; the operator's --prometheus-config-reloader flag",
        fields: &[(&["Prometheus", "Alertmanager", "ThanosRuler"], "monitoring.coreos.com", &["spec.image"])],
        args: &["--prometheus-config-reloader"],
        env: &[],
    },
    Profile {
        name: "cert-manager",
        evidence: "cert-manager: the controller's --acme-http01-solver-image flag",
        fields: &[],
        args: &["--acme-http01-solver-image"],
        env: &[],
    },
    Profile {
        name: "argo-workflows",
        evidence: "argo-workflows: the controller's --executor-image flag, followed by the image as the next argument",
        fields: &[],
        args: &["--executor-image"],
        env: &[],
    },
    Profile {
        name: "harbor",
        evidence: "harbor: Trivy's DB repositories in env values (comma-separated repositories, no tag)",
        fields: &[],
        args: &[],
        env: &[
            ("SCANNER_TRIVY_DB_REPOSITORY", ValueKind::Repository, Some(',')),
            ("SCANNER_TRIVY_JAVA_DB_REPOSITORY", ValueKind::Repository, Some(',')),
        ],
    },
];

pub fn find(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.name == name)
}
