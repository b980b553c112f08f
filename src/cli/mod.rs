//! The command line: parse flags, resolve settings, run the pipeline, report.
//!
//! Exit codes: 0 success; 1 usage, config or parameter error; 2 bad input (manifests that do not
//! parse, a render that fails, an image policy refusal); 3 `verify` found images that are not ok.

pub mod args;
pub mod plugin;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use crate::emit::OutputFormat;
use crate::environ::Environ;
use crate::error::{UsageError, EXIT_USAGE, EXIT_VERIFY};
use crate::manifest::fastpath::Strategy;
use crate::rewrite::{self, Input, RewriteError};
use crate::rules::Rules;
use crate::settings::{self, Limits, RewriteSettings};
use args::{Cli, Command, RuleArgs};

/// Parses the process's arguments and environment and runs the command.
pub fn run() -> Result<ExitCode> {
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind::*;
            return match e.kind() {
                DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    Ok(ExitCode::SUCCESS)
                }
                _ => {
                    let _ = e.print();
                    Ok(ExitCode::from(EXIT_USAGE))
                }
            };
        }
    };
    let env = Environ::from_process();
    match cli.command {
        Command::Rewrite(a) => {
            let (settings, limits, warnings) = rewrite_settings(&a.rules, &env)?;
            print_warnings(&warnings);
            let inputs = read_inputs(&a.files, &limits)?;
            let (plan, _) = plan_inputs(&inputs, &settings, &limits, strategy(&env))?;
            write_rewritten(&inputs, &plan)?;
        }
        Command::Explain(a) => {
            let text = if let [dir] = a.files.as_slice() {
                if dir.is_dir() {
                    let pa = args::PluginArgs {
                        config: a.rules.config.clone(),
                    };
                    let src = plugin::ParamSource::Cli(&a.app, Some(&a.rules));
                    let ps = plugin::settings(&pa, src, &env, dir)?;
                    Some(plugin::explain(&ps, a.output)?)
                } else {
                    None
                }
            } else {
                None
            };
            let text = match text {
                Some(t) => t,
                None => {
                    let (settings, limits, warnings) = rewrite_settings(&a.rules, &env)?;
                    print_warnings(&warnings);
                    let inputs = read_inputs(&a.files, &limits)?;
                    let (plan, rules) = plan_inputs(&inputs, &settings, &limits, strategy(&env))?;
                    explain_text(&inputs, &plan, &rules, &limits, a.output)?
                }
            };
            crate::emit::stdout(text.as_bytes()).context("writing stdout")?;
        }
        Command::Generate(a) => {
            let ps =
                plugin::settings(&a, plugin::ParamSource::Argo, &env, &plugin::app_dir(None)?)?;
            let (inputs, plan) = plugin::generate(&ps)?;
            write_rewritten(&inputs, &plan)?;
        }
        Command::Init(a) => {
            let ps =
                plugin::settings(&a, plugin::ParamSource::Argo, &env, &plugin::app_dir(None)?)?;
            plugin::init(&ps)?;
        }
        Command::Parameters(a) => {
            let text = plugin::parameters(&a, &env, &plugin::app_dir(None)?)?;
            crate::emit::stdout(text.as_bytes()).context("writing stdout")?;
        }
        Command::Verify(a) => return verify(a, &env),
        Command::Render(a) => {
            let dir = plugin::app_dir(a.dir.as_deref())?;
            let src = plugin::ParamSource::Cli(&a.app, None);
            let ps = plugin::settings(&a.plugin, src, &env, &dir)?;
            let (inputs, plan) = plugin::generate(&ps)?;
            write_rewritten(&inputs, &plan)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the rewritten stream: every edit is checked first (`rewrite::output`), then the
/// slices go to stdout once.
fn write_rewritten(inputs: &[Input], plan: &rewrite::Plan) -> Result<()> {
    let out = rewrite::output(inputs, plan)?;
    crate::emit::stdout_with(|w| out.write_to(w)).context("writing stdout")
}

fn verify(a: args::VerifyCmdArgs, env: &Environ) -> Result<ExitCode> {
    let from_stdin = a.files.is_empty() || a.files.iter().any(|f| f.as_os_str() == "-");
    if from_stdin && a.verify.password_stdin {
        return Err(UsageError(
            "--password-stdin needs the manifests as files or a directory, not on stdin".into(),
        )
        .into());
    }
    let (plan, default_ns) = match a.files.as_slice() {
        [dir] if dir.is_dir() => {
            let pa = args::PluginArgs {
                config: a.rules.config.clone(),
            };
            let src = plugin::ParamSource::Cli(&a.app, Some(&a.rules));
            let ps = plugin::settings(&pa, src, env, dir)?;
            let (_, plan, rules) = plugin::render_and_plan(&ps)?;
            print_warnings(&plan.warnings);
            (plan, rules.default_namespace().to_string())
        }
        files => {
            let (settings, limits, warnings) = rewrite_settings(&a.rules, env)?;
            print_warnings(&warnings);
            let inputs = read_inputs(files, &limits)?;
            let (plan, rules) = plan_inputs(&inputs, &settings, &limits, strategy(env))?;
            (plan, rules.default_namespace().to_string())
        }
    };
    let checks = crate::verify::checks_from_plan(&plan, &default_ns);
    let report = crate::verify::run(&a.verify, checks, env)?;
    crate::emit::stdout(crate::verify::render_report(&report, a.verify.output).as_bytes())
        .context("writing stdout")?;
    Ok(if crate::verify::exit_ok(&report) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_VERIFY)
    })
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("PULLTHROUGH_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("pullthrough: warning: {w}");
    }
}

/// Applies `--mirror`, `--map`, `--exclude`, `--namespace`, `--strict`.
pub fn apply_rule_flags(a: &RuleArgs, s: &mut RewriteSettings) -> Result<()> {
    if let Some(m) = &a.mirror {
        s.mirror.set(Some(m.clone()), "--mirror");
    }
    if !a.map.is_empty() {
        let mut map = std::collections::BTreeMap::new();
        for m in &a.map {
            let (up, dest) = m
                .split_once('=')
                .filter(|(u, _)| !u.is_empty())
                .ok_or_else(|| {
                    UsageError(format!("--map {m:?}: expected UPSTREAM=PREFIX_OR_DEST"))
                })?;
            map.insert(up.to_string(), dest.to_string());
        }
        s.merge_registries(&map, "--map");
    }
    if !a.exclude.is_empty() {
        let mut ex = s.exclude.value.clone();
        ex.extend(a.exclude.iter().cloned());
        s.exclude.set(ex, "--exclude");
    }
    if let Some(ns) = &a.namespace {
        s.default_namespace = ns.clone();
    }
    if a.strict {
        s.strict.set(true, "--strict");
    }
    Ok(())
}

fn rewrite_settings(a: &RuleArgs, env: &Environ) -> Result<(RewriteSettings, Limits, Vec<String>)> {
    let base = settings::from_config(a.config.as_deref(), env)?;
    let mut s = base.rewrite;
    apply_rule_flags(a, &mut s)?;
    Ok((s, base.limits, base.warnings))
}

/// Reads the named files in order (`-` or none: stdin), each checked for size and UTF-8.
pub fn read_inputs(files: &[PathBuf], limits: &Limits) -> Result<Vec<Input>> {
    let mut inputs = Vec::new();
    let stdin_only = [PathBuf::from("-")];
    let files = if files.is_empty() {
        &stdin_only[..]
    } else {
        files
    };
    for f in files {
        let (name, bytes) = if f.as_os_str() == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .take(limits.max_input_bytes + 1)
                .read_to_end(&mut buf)
                .context("reading stdin")?;
            // Only max+1 bytes were read: the real size is unknown, say so.
            if buf.len() as u64 > limits.max_input_bytes {
                return Err(RewriteError {
                    input: "<stdin>".to_string(),
                    at: None,
                    msg: format!(
                        "input is more than {} bytes, over the limit (raise limits.maxInputBytes in the config)",
                        limits.max_input_bytes
                    ),
                }
                .into());
            }
            ("<stdin>".to_string(), buf)
        } else {
            let name = f.display().to_string();
            let meta = std::fs::metadata(f).map_err(|e| UsageError(format!("{name}: {e}")))?;
            if meta.len() > limits.max_input_bytes {
                return Err(RewriteError {
                    input: name,
                    at: None,
                    msg: format!(
                        "file is {} bytes, over the limit of {} bytes (raise limits.maxInputBytes in the config)",
                        meta.len(),
                        limits.max_input_bytes
                    ),
                }
                .into());
            }
            let bytes = std::fs::read(f).map_err(|e| UsageError(format!("{name}: {e}")))?;
            (name, bytes)
        };
        inputs.push(Input::from_bytes(name, bytes, limits)?);
    }
    Ok(inputs)
}

/// Plans the rewrite of inputs (warnings printed): the core of `rewrite`, `explain`, `verify`.
pub fn plan_inputs(
    inputs: &[Input],
    s: &RewriteSettings,
    limits: &Limits,
    strategy: Strategy,
) -> Result<(rewrite::Plan, Rules)> {
    let rules = Rules::compile(s)?;
    let opts = rewrite::Options {
        strict: s.strict.value,
        limits: *limits,
        strategy,
    };
    let plan = rewrite::plan(inputs, &rules, &opts)?;
    print_warnings(&plan.warnings);
    Ok((plan, rules))
}

/// How the planner reads inputs: `PULLTHROUGH_PLAN` (`full`, `fast`, `validated`) is a knob
/// for benchmarks and differential checks; the default validates every document.
pub fn strategy(env: &Environ) -> Strategy {
    Strategy::from_name(env.get("PULLTHROUGH_PLAN"))
}

/// The explain table or JSON of a plan, with the images that would still come from the
/// internet (every input read once more, whole, for them).
pub fn explain_text(
    inputs: &[Input],
    plan: &rewrite::Plan,
    rules: &Rules,
    limits: &Limits,
    format: OutputFormat,
) -> Result<String> {
    let parse = crate::manifest::yaml::ParseLimits {
        max_depth: limits.max_depth,
    };
    let mut leaks = Vec::with_capacity(inputs.len());
    for input in inputs {
        // The plan read these inputs already; an error here would have stopped it.
        leaks.push(crate::manifest::leaks(&input.text, parse, rules.fields()).unwrap_or_default());
    }
    let report = crate::explain::report(inputs, plan, rules, &leaks);
    Ok(match format {
        OutputFormat::Table => crate::explain::table(&report),
        OutputFormat::Json => crate::explain::json(&report),
    })
}
