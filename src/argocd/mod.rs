//! Argo CD integration: the plugin parameters and the CMP environment.

pub mod parameters;
