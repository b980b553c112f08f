//! pullthrough: render an Argo CD application's manifests and rewrite every container image to a
//! mirror (an AWS ECR pull-through cache first of all), changing nothing but the image strings.
//!
//! The modules follow the pipeline, in the order data flows through it:
//!
//! | stage | module |
//! |---|---|
//! | process environment, read once | [`environ`] |
//! | CLI flags, `ARGOCD_*` env, parameters JSON, config file → one [`settings::Settings`] | [`cli`], [`settings`], [`argocd`] |
//! | Helm / Kustomize / directory rendering | [`render`] |
//! | finding image fields in the YAML/JSON stream | [`manifest`] |
//! | parsing image references, deciding the new value | `pullthrough-reference` (`crates/reference`), [`destination`], [`rules`] |
//! | planning and applying byte-span edits | [`rewrite`], [`splice`] |
//! | writing the result (stream, `explain` table/JSON) | [`emit`], [`explain`] |
//! | checking the mirror resolves what was written | [`verify`] |

pub mod argocd;
pub mod cli;
pub mod destination;
pub mod emit;
pub mod environ;
pub mod error;
pub mod explain;
pub mod manifest;
pub mod render;
pub mod rewrite;
pub mod rules;
pub mod settings;
pub mod splice;
pub mod verify;
