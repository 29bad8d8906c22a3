//! Stream framing for TCP, TLS and other byte streams.
//!
//! [`next_frame`] looks at the start of the transport's receive buffer and says what is
//! there: a whole message (and how many bytes to drop), an RFC 5626 keep-alive, or not
//! enough bytes yet. An error means the stream can no longer be framed (garbage, a limit
//! exceeded, conflicting `Content-Length`s): the transport must close the connection.
//!
//! ```
//! use sip_proto::framer::{Frame, KeepAlive, next_frame};
//! use sip_proto::Limits;
//!
//! let mut buf: Vec<u8> = b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n".to_vec();
//! let limits = Limits::default();
//! let consumed = match next_frame(&buf, &limits)? {
//!     Frame::KeepAlive { kind: KeepAlive::Ping, consumed } => consumed, // answer with CRLF
//!     other => panic!("{other:?}"),
//! };
//! buf.drain(..consumed);
//! assert!(matches!(next_frame(&buf, &limits)?, Frame::Message { .. }));
//! # Ok::<(), sip_proto::Error>(())
//! ```

use crate::error::Result;
use crate::limits::Limits;
use crate::message::MessageRef;
use crate::parser::{Parsed, parse_stream_with};

/// An RFC 5626 §4.4.1 keep-alive seen between messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    /// A double CRLF: the peer pings; answer with a single CRLF (a pong).
    Ping,
    /// A single CRLF not followed by another: the peer's pong (or a stray line end).
    Pong,
}

/// What the start of a stream buffer holds.
// `Message` carries the header table inline; boxing it would allocate per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Frame<'a> {
    /// A whole message; drop `consumed` bytes from the buffer after handling it.
    Message {
        /// The message, borrowing the buffer.
        message: MessageRef<'a>,
        /// Bytes it used.
        consumed: usize,
    },
    /// A keep-alive; drop `consumed` bytes and, for a ping, send `"\r\n"`.
    KeepAlive {
        /// Ping or pong.
        kind: KeepAlive,
        /// Bytes it used (4 for a ping, 2 for a pong).
        consumed: usize,
    },
    /// Not enough bytes yet: read more and call again with the grown buffer.
    Partial,
}

/// Frames the next item at the start of `buf`. Errors mean "close the connection".
///
/// A lone CRLF at the very end of the buffer is reported as a pong at once rather than
/// waiting to see whether a second CRLF (a ping) follows: a client that pinged needs the pong
/// promptly, and a server reading a ping split across two reads answers two pongs, which
/// RFC 5626 tolerates.
pub fn next_frame<'a>(buf: &'a [u8], limits: &Limits) -> Result<Frame<'a>> {
    if buf.starts_with(b"\r\n\r\n") {
        return Ok(Frame::KeepAlive {
            kind: KeepAlive::Ping,
            consumed: 4,
        });
    }
    if buf.starts_with(b"\r\n") {
        return Ok(Frame::KeepAlive {
            kind: KeepAlive::Pong,
            consumed: 2,
        });
    }
    if buf.is_empty() || buf == b"\r" {
        return Ok(Frame::Partial);
    }
    Ok(match parse_stream_with(buf, limits)? {
        // No wire log here: the transport logs every message in and out with its flow.
        Parsed::Complete { message, consumed } => Frame::Message { message, consumed },
        Parsed::Partial => Frame::Partial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    const OPTIONS: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 4\r\n\r\nbody";

    #[test]
    fn frames_back_to_back_messages_and_keepalives() {
        let mut stream = Vec::new();
        stream.extend_from_slice(OPTIONS);
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(OPTIONS);
        stream.extend_from_slice(b"\r\n");
        let limits = Limits::default();
        let mut buf = &stream[..];
        let mut seen = Vec::new();
        while !buf.is_empty() {
            let consumed = match next_frame(buf, &limits).unwrap() {
                Frame::Message { message, consumed } => {
                    assert_eq!(message.body(), b"body");
                    seen.push("msg");
                    consumed
                }
                Frame::KeepAlive { kind, consumed } => {
                    seen.push(if kind == KeepAlive::Ping {
                        "ping"
                    } else {
                        "pong"
                    });
                    consumed
                }
                Frame::Partial => panic!("partial"),
            };
            buf = &buf[consumed..];
        }
        assert_eq!(seen, ["msg", "ping", "msg", "pong"]);
    }

    #[test]
    fn every_prefix_is_partial_and_garbage_is_fatal() {
        let limits = Limits::default();
        for cut in 1..OPTIONS.len() {
            assert!(
                matches!(next_frame(&OPTIONS[..cut], &limits), Ok(Frame::Partial)),
                "{cut}"
            );
        }
        assert!(next_frame(b"HELLO THERE\r\n\r\n", &limits).is_err());
        let conflicting = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab";
        assert!(next_frame(conflicting, &limits).is_err());
    }

    #[test]
    fn oversized_stream_is_refused() {
        let limits = Limits {
            max_message_size: 100,
            ..Limits::default()
        };
        let big = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1000\r\n\r\n";
        assert!(matches!(next_frame(big, &limits), Err(Error::Limit { .. })));
        let mut endless_headers = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
        endless_headers.extend(std::iter::repeat_n(b"X: y\r\n".as_slice(), 30).flatten());
        assert!(matches!(
            next_frame(&endless_headers, &limits),
            Err(Error::Limit { .. })
        ));
    }
}
