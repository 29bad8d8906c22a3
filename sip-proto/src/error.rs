//! The one error type of sip-proto.

use thiserror::Error;

/// Everything that can go wrong while parsing, validating or building SIP data.
///
/// Every parse error names the byte offset (from the start of the input handed to the parser)
/// and what was expected there, so a caller can point at the exact spot.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input does not follow the grammar at `offset`.
    #[error("syntax error at byte {offset}: expected {expected}")]
    Syntax {
        /// Byte offset of the first byte that does not fit.
        offset: usize,
        /// What the grammar wanted there (e.g. "SIP-Version", "CRLF", "host").
        expected: &'static str,
    },
    /// A configured limit was exceeded (message size, header count, line length).
    #[error("{what} limit of {limit} exceeded at byte {offset}")]
    Limit {
        /// Which limit ("message size", "header count", "line length").
        what: &'static str,
        /// The configured limit.
        limit: usize,
        /// Byte offset where the limit was hit.
        offset: usize,
    },
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
