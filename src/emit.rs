//! Emit: write the finished output once, after every step succeeded.
//!
//! Nothing is written to stdout before the whole stream has been rendered, scanned and spliced
//! (Argo CD would take partial output as the app's desired state). A reader that goes away
//! (`| head`) is not an error: a broken pipe ends the program quietly.

use std::io::{self, Write};

/// How a report (`explain`, `verify`) is printed.
#[derive(Debug, Clone, Copy, clap::ValueEnum, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON document for programs.
    Json,
}

/// Writes `bytes` to stdout in one go. A broken pipe counts as success.
pub fn stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes to stdout through `write` (buffered), so output kept as slices of the input is never
/// copied into one string. Call it only when the output is complete and checked; a broken pipe
/// counts as success.
pub fn stdout_with(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let out = io::stdout().lock();
    let mut w = io::BufWriter::with_capacity(1 << 16, out);
    match write(&mut w).and_then(|()| w.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
