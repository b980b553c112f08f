//! Helpers shared by the integration tests (the modules of `tests/tests.rs`: `use crate::util;`).
//!
//! * [`tools`]: paths of the external tools installed by `scripts/install-tools`
//!   (a missing tool is a test failure, never a skip).
//! * [`cmd`]: [`cmd::TestDir`] (a scratch directory) and [`cmd::Cmd`] (runs the real
//!   `pullthrough` binary, or another program, with a cleared environment).
//! * [`rules`]: `Rules` from a native config's text, as the binary builds them.
//! * [`corpus`]: the corpus files of `tests/data/corpus`.
//! * [`oracle`]: what Argo CD reads from a manifest stream, via `.tools/bin/yaml-oracle`,
//!   and [`oracle::differing_paths`] to compare two readings.

pub mod cmd;
pub mod corpus;
pub mod oracle;
pub mod rules;
pub mod tools;
