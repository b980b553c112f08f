//! Where image references live: the list of field paths is data, and every exception says why.
//!
//! A rule is a path *suffix*: it matches a scalar whose path from the document root ends with the
//! given segments, wherever the suffix starts. That is how Kubernetes pod specs appear at
//! different depths (Pod `spec`, Deployment `spec.template.spec`, CronJob
//! `spec.jobTemplate.spec.template.spec`, Argo Rollouts, Knative, `kind: List` items, …), the
//! same generalisation kustomize's legacy image filter makes (`api/filters/imagetag/legacy.go`),
//! plus `ephemeralContainers`, which kustomize misses.

/// One step of a path pattern.
#[derive(Debug, Clone, Copy)]
pub enum Seg {
    /// A mapping key equal to one of these names.
    Key(&'static [&'static str]),
    /// Any sequence index.
    Index,
}

/// A built-in image field.
#[derive(Debug)]
pub struct FieldRule {
    /// Path suffix, outermost first; the last segment is the key holding the image scalar.
    pub suffix: &'static [Seg],
    /// Shown by `explain` and in warnings.
    pub label: &'static str,
}

/// The keys whose value is a list of Kubernetes `Container`s (`core/v1` PodSpec).
pub const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// The built-in image fields.
pub const BUILTIN: &[FieldRule] = &[
    FieldRule {
        suffix: &[Seg::Key(CONTAINER_LISTS), Seg::Index, Seg::Key(&["image"])],
        label: "container image",
    },
    // Image volumes (KEP-4639, `volumes[].image.reference`): the kubelet pulls them like a
    // container image, so a mirror that misses them still pulls from the internet.
    FieldRule {
        suffix: &[Seg::Key(&["volumes"]), Seg::Index, Seg::Key(&["image"]), Seg::Key(&["reference"])],
        label: "image volume",
    },
];

/// Kinds whose objects are never modified, with the reason.
pub const NEVER_TOUCHED_KINDS: &[(&str, &str)] = &[(
    "CustomResourceDefinition",
    // Their OpenAPI schemas describe pod templates (`containers[].image` appears as property
    // names, defaults and examples); rewriting a schema changes the API, not a workload.
    "schemas describe image fields, they do not hold images",
)];
