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
    /// A complete message was followed by bytes that are not part of it.
    #[error("{len} unexpected bytes after the message at byte {offset}")]
    TrailingBytes {
        /// Byte offset where the extra bytes start.
        offset: usize,
        /// How many extra bytes there are.
        len: usize,
    },
    /// A header needed by the operation is absent (e.g. building a response to a request
    /// without `CSeq`).
    #[error("missing {header} header")]
    MissingHeader {
        /// The header's canonical name.
        header: &'static str,
    },
    /// A value handed to a builder or setter cannot be written into a message.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was being set ("header value", "header name", "status code", ...).
        what: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
}

impl Error {
    /// Moves the byte offset of this error by `base`: a value parser reports offsets relative
    /// to the value it was given, and the message layer rebases them onto the whole message.
    #[must_use]
    pub fn at_offset(self, base: usize) -> Self {
        match self {
            Error::Syntax { offset, expected } => Error::Syntax {
                offset: offset.saturating_add(base),
                expected,
            },
            Error::Limit {
                what,
                limit,
                offset,
            } => Error::Limit {
                what,
                limit,
                offset: offset.saturating_add(base),
            },
            Error::TrailingBytes { offset, len } => Error::TrailingBytes {
                offset: offset.saturating_add(base),
                len,
            },
            other => other,
        }
    }

    /// The byte offset this error points at, when it has one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Error::Syntax { offset, .. }
            | Error::Limit { offset, .. }
            | Error::TrailingBytes { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}

/// Shorthand for results whose error is [`Error`](enum@Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;
