//! Argo CD integration: the CMP environment, the plugin parameters and their table.

pub mod env;
pub mod parameters;
pub mod params;
