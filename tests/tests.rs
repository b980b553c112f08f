//! The integration tests, one binary (as ripgrep's `tests/tests.rs`): every file beside this one
//! is a module here, so `util` is compiled once and the suite links once. Each module runs the
//! real `pullthrough` binary or library against real tools; see the module's own docs.
//!
//! Run one module: `cargo test --test tests cli::` (names are `module::test`).

mod util;

mod adversarial;
mod adversarial_oracle;
mod cli;
mod contract;
mod corpus;
mod fastpath;
mod fixtures;
mod generated;
mod go_semantics;
mod install_files;
mod kustomize_params;
mod oracle_selftest;
mod profiles;
mod properties;
mod quick;
mod render_directory;
mod render_helm;
mod render_kustomize;
mod verify;
