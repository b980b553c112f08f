//! The rendered charts of `tests/data/corpus` (Apache-2.0, provenance in its README).

use std::path::{Path, PathBuf};

/// Every `*.yaml` corpus file, sorted by name. Fails the test if the corpus is incomplete, so a
/// lost file cannot shrink what a corpus-wide test covers.
pub fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 18, "corpus files: {}", files.len());
    files
}
