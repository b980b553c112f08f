//! Progress on stderr while the registries answer.

use std::io::{IsTerminal, Write};

use super::status::ImageResult;

/// Progress on stderr: a redrawn line on a terminal, one plain line per image otherwise.
pub(super) struct Progress {
    total: usize,
    done: usize,
    tty: bool,
}

impl Progress {
    pub(super) fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            tty: std::io::stderr().is_terminal(),
        }
    }

    pub(super) fn done(&mut self, r: &ImageResult) {
        self.done += 1;
        // The print macros (not a locked handle), so test harnesses capture the lines.
        if self.tty {
            eprint!(
                "\r\x1b[2Kverify [{}/{}] {} {}",
                self.done,
                self.total,
                r.status.as_str(),
                r.rewritten
            );
            let _ = std::io::stderr().flush();
        } else {
            eprintln!(
                "pullthrough: verify [{}/{}] {} {}",
                self.done,
                self.total,
                r.status.as_str(),
                r.rewritten
            );
        }
    }

    pub(super) fn finish(&mut self) {
        if self.tty && self.done > 0 {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}
