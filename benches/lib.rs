//! Shared helpers for the Sipline benchmarks and load programs.

use std::path::{Path, PathBuf};

/// The repository's test corpus of real messages (`testdata/corpus/real/`).
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus/real")
}

/// Reads one message of the real corpus by file name, byte-exact.
///
/// # Panics
/// When the file is missing: a benchmark without its input measures nothing.
pub fn corpus_message(file: &str) -> Vec<u8> {
    let path = corpus_dir().join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
