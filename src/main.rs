//! The `pullthrough` binary: parse the command line, run, print the error chain once, pick the exit code.
//!
//! Everything else lives in the library (`pullthrough::cli::run`), so tests drive the same code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match pullthrough::cli::run() {
        Ok(code) => code,
        Err(err) => {
            // One line: Argo CD shows stderr in the UI and caches it, so the chain is joined, not dumped.
            let code = pullthrough::cli::exit_code_for(&err);
            let msg = format!("{err:#}");
            if !msg.is_empty() {
                eprintln!("pullthrough: {msg}");
            }
            code
        }
    }
}
