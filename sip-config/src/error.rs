//! The crate's error type.

use std::path::PathBuf;

use crate::issue::Report;

/// Why a configuration could not be loaded or watched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid JSON or YAML.
    #[error("{syntax} syntax error in {origin} at line {line}, column {column}: {message}")]
    Syntax {
        /// `JSON` or `YAML`.
        syntax: &'static str,
        /// The file name, or `<input>`.
        origin: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The format could not be told from the content; name it explicitly.
    #[error("cannot tell whether {origin} is a SIP Core or an openHAB configuration: {reason}")]
    UnknownFormat {
        /// The file name, or `<input>`.
        origin: String,
        /// What was seen.
        reason: String,
    },
    /// The document was read but is not a usable configuration; every problem is listed.
    #[error("{origin} is not a usable configuration ({count} error{s}):\n{report}", count = report.errors().count(), s = if report.errors().count() == 1 { "" } else { "s" })]
    Invalid {
        /// The file name, or `<input>`.
        origin: String,
        /// All errors and warnings found in one pass.
        report: Report,
    },
    /// The file watcher could not be started.
    #[error("cannot watch {path}: {source}")]
    Watch {
        /// The watched file.
        path: PathBuf,
        /// The watcher's error.
        #[source]
        source: notify::Error,
    },
}

impl ConfigError {
    /// The issue report, when the error is [`ConfigError::Invalid`].
    pub fn report(&self) -> Option<&Report> {
        match self {
            Self::Invalid { report, .. } => Some(report),
            _ => None,
        }
    }
}
