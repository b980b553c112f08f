//! The `pullthrough` binary: parse the command line, run, print the error chain once, pick the exit code.
//!
//! Everything else lives in the library (`pullthrough::cli::run`), so tests drive the same code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match pullthrough::cli::run() {
        Ok(code) => code,
        Err(err) => {
            // One line: Argo CD shows stderr in the UI and caches it, so the chain is joined, not dumped.
            let code = pullthrough::error::exit_code_for(&err);
            let msg = one_line(&err);
            if !msg.is_empty() {
                eprintln!("pullthrough: {msg}");
            }
            code
        }
    }
}

/// The error chain joined with `: `, skipping a cause whose text the message already holds
/// (typed errors often embed their source), and folded onto one line.
fn one_line(err: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg.split('\n')
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}
