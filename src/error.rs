//! Exit codes: which error ends the program with which code, decided in one place.
//!
//! Every layer returns its own typed error (a rule, the config, a parameter, the input); `main`
//! asks [`exit_code_for`] which code the chain deserves. Lower layers that have no typed error
//! of their own for a usage mistake (`verify`'s flags) use [`UsageError`], defined here and not
//! in `cli`, so nothing below the command line depends on it.

use std::process::ExitCode;

use crate::argocd::params::ParamError;
use crate::rewrite::RewriteError;
use crate::rules::RuleError;
use crate::settings::config::ConfigError;

/// Exit code for usage and configuration errors: the admin or the caller must change something.
pub const EXIT_USAGE: u8 = 1;
/// Exit code for bad input: the manifests, the chart, the repository.
pub const EXIT_INPUT: u8 = 2;
/// Exit code when `verify` found an image that is not ok.
pub const EXIT_VERIFY: u8 = 3;

/// A usage error (exit 1) that is not one of the library's typed errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Maps an error to the documented exit code by the typed errors in its chain: the first rule,
/// config, parameter or usage error makes it [`EXIT_USAGE`]; anything else is bad input.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if cause.is::<UsageError>()
            || cause.is::<RuleError>()
            || cause.is::<ConfigError>()
            || cause.is::<ParamError>()
        {
            return ExitCode::from(EXIT_USAGE);
        }
        if cause.is::<RewriteError>() {
            return ExitCode::from(EXIT_INPUT);
        }
    }
    ExitCode::from(EXIT_INPUT)
}
