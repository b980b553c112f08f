//! Command-line flags as clap parses them (the "low-level" arguments). Nothing here has meaning
//! yet: [`super`] resolves them, with the environment and config file, into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::emit::OutputFormat;

#[derive(Debug, Parser)]
#[command(name = "pullthrough", version, about = "Rewrite container images in rendered Kubernetes manifests to a mirror, byte for byte", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rewrite the images of a manifest stream (files in order, or stdin) and print it.
    /// Works as a Helm 3 `--post-renderer`.
    Rewrite(RewriteArgs),
    /// Show every image field found, what it becomes and why (table or JSON). A directory
    /// argument is rendered first, exactly as `render` would.
    Explain(ExplainArgs),
    /// Argo CD plugin: render the app in the current directory, rewrite its images, print it.
    Generate(PluginArgs),
    /// Argo CD plugin: prepare the app (helm dependency build when charts/ lacks a dependency).
    Init(PluginArgs),
    /// Argo CD plugin: announce the parameters with this app's effective settings (JSON array).
    Parameters(PluginArgs),
    /// Run the generate pipeline locally on DIR, with parameters given on the command line.
    Render(RenderArgs),
    /// Check that every rewritten image resolves on the mirror (and upstream, with the same
    /// digest) before an app is switched on. Exit 3 when any image is not ok.
    Verify(VerifyCmdArgs),
}

#[derive(Debug, Args)]
pub struct VerifyCmdArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub app: AppArgs,
    #[command(flatten)]
    pub verify: crate::verify::VerifyArgs,
    /// Manifest files, an app directory (rendered like `render`), or `-`/none for stdin.
    #[arg(value_name = "DIR|FILE")]
    pub files: Vec<PathBuf>,
}

/// Options of the plugin commands (Argo CD gives everything else through the environment).
#[derive(Debug, Args, Clone, Default)]
pub struct PluginArgs {
    /// Config file (native format or the seed chart's values.yaml).
    /// Default: $PULLTHROUGH_CONFIG, else /etc/pullthrough/config.yaml when present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Application parameters given on the command line instead of by Argo CD.
#[derive(Debug, Args, Clone, Default)]
pub struct AppArgs {
    /// A string parameter (repeatable), e.g. `--param mirror=1111.dkr.ecr.eu-west-1.amazonaws.com`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub param: Vec<String>,
    /// A map parameter entry (repeatable), e.g. `--param-map registries.quay.io=quay`.
    #[arg(long = "param-map", value_name = "NAME.KEY=VALUE")]
    pub param_map: Vec<String>,
    /// An array parameter item (repeat to append), e.g. `--param-array values-files=values-prod.yaml`.
    #[arg(long = "param-array", value_name = "NAME=VALUE")]
    pub param_array: Vec<String>,
    /// A plugin env entry, as `spec.source.plugin.env` sets it (becomes ARGOCD_ENV_NAME).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub plugin: PluginArgs,
    #[command(flatten)]
    pub app: AppArgs,
    /// The app directory (default: the current directory).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Options shared by every command that rewrites.
#[derive(Debug, Args, Clone, Default)]
pub struct RuleArgs {
    /// Config file (native format or the seed chart's values.yaml).
    /// Default: $PULLTHROUGH_CONFIG, else /etc/pullthrough/config.yaml when present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Destination registry for relative prefixes: host[:port][/path].
    #[arg(long, value_name = "REGISTRY")]
    pub mirror: Option<String>,
    /// Map an upstream registry to a prefix under --mirror or a full destination
    /// (repeatable; adds to or replaces the config's `registries` entry).
    #[arg(long = "map", value_name = "UPSTREAM=PREFIX_OR_DEST")]
    pub map: Vec<String>,
    /// Leave images whose normalized name matches this glob untouched (repeatable; adds to the config's).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Namespace of objects that do not name one (for `namespaces` filters and explain).
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Unparseable or non-string images are errors instead of warnings.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct RewriteArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Manifest files; `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
    #[command(flatten)]
    pub app: AppArgs,
    /// Manifest files; `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}
