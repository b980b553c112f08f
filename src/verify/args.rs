//! The flags of `pullthrough verify` and their parsing.

use std::path::PathBuf;

use crate::emit::OutputFormat;

/// The flags of `pullthrough verify` (besides the rewrite options and the inputs).
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Only check the mirror; do not compare digests with the upstream registry.
    #[arg(long)]
    pub no_upstream: bool,
    /// User name for the mirror registry, with the password on stdin (ECR: `AWS`).
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the mirror password from stdin (`aws ecr get-login-password | pullthrough verify
    /// --username AWS --password-stdin …`).
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Docker config directory holding config.json (default: $DOCKER_CONFIG, else ~/.docker).
    #[arg(long, value_name = "DIR")]
    pub docker_config: Option<PathBuf>,
    /// Use plain HTTP for this registry host[:port] (test registries only; repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// Registry lookups in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Timeout of each HTTP request, in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_timeout)]
    pub timeout: f64,
    /// Retries of a request answered 429 or 5xx (exponential backoff, at most 8 s each).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
}

impl Default for VerifyArgs {
    fn default() -> Self {
        VerifyArgs {
            no_upstream: false,
            username: None,
            password_stdin: false,
            docker_config: None,
            insecure_registry: Vec::new(),
            concurrency: 8,
            timeout: 10.0,
            retries: 3,
            output: OutputFormat::Table,
        }
    }
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds in (0, 3600]")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_parse_with_clap() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct T {
            #[command(flatten)]
            v: VerifyArgs,
        }
        let t = T::try_parse_from([
            "t",
            "--insecure-registry",
            "a:1",
            "--insecure-registry",
            "b",
            "--timeout",
            "0.5",
            "-o",
            "json",
        ])
        .unwrap();
        assert_eq!(t.v.insecure_registry, vec!["a:1", "b"]);
        assert_eq!(t.v.timeout, 0.5);
        assert_eq!(t.v.output, OutputFormat::Json);
        let d = T::try_parse_from(["t"]).unwrap().v;
        let def = VerifyArgs::default();
        assert_eq!(
            (d.concurrency, d.timeout, d.retries, d.output),
            (def.concurrency, def.timeout, def.retries, def.output)
        );
        assert!(T::try_parse_from(["t", "--username", "u"]).is_err());
        assert!(T::try_parse_from(["t", "--timeout", "0"]).is_err());
    }
}
