//! From bytes to messages: whole-frame decoding (UDP datagrams, WebSocket messages), stream
//! framing (TCP, TLS) and keep-alive recognition, on sip-proto's parser.

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};
use sip_proto::framer::{self, Frame};
use sip_proto::{Limits, Message, parse_datagram_with};

/// Why an incoming frame was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Drop {
    /// Larger than the configured limit.
    Oversized { size: usize, limit: usize },
    /// Looked like SIP but did not parse.
    Malformed { reason: String },
    /// Not SIP at all.
    NotSip { first_bytes: String },
}

impl fmt::Display for Drop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drop::Oversized { size, limit } => {
                write!(f, "{size} bytes exceed the {limit}-byte limit")
            }
            Drop::Malformed { reason } => write!(f, "malformed SIP message: {reason}"),
            Drop::NotSip { first_bytes } => {
                write!(f, "not a SIP message (starts with {first_bytes:?})")
            }
        }
    }
}

/// A keep-alive frame (RFC 5626 §4.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeepAliveFrame {
    /// CRLFCRLF: answer with CRLF.
    Ping,
    /// A lone CRLF: the answer to our ping.
    Pong,
}

/// Recognises a whole frame that is only a keep-alive.
pub(crate) fn classify_keepalive(frame: &[u8]) -> Option<KeepAliveFrame> {
    match frame {
        b"\r\n\r\n" => Some(KeepAliveFrame::Ping),
        b"\r\n" => Some(KeepAliveFrame::Pong),
        _ => None,
    }
}

fn limits(max_message_size: usize) -> Limits {
    Limits {
        max_message_size,
        ..Limits::default()
    }
}

/// Whether the first line looks like a SIP start line: `SIP/2.0 ...` or `... SIP/2.0`.
fn looks_like_sip(frame: &[u8]) -> bool {
    let start = frame
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(frame.len());
    let rest = &frame[start..];
    let line_end = rest
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(rest.len())
        .min(8 * 1024);
    let line = &rest[..line_end];
    let trimmed = line.strip_suffix(b"\r").unwrap_or(line);
    trimmed.starts_with(b"SIP/")
        || trimmed.ends_with(b"SIP/2.0")
        || trimmed.windows(4).any(|w| w == b"SIP/")
}

fn not_sip(frame: &[u8]) -> Drop {
    let head = &frame[..frame.len().min(24)];
    Drop::NotSip {
        first_bytes: String::from_utf8_lossy(head).into_owned(),
    }
}

/// Decodes one whole frame (a UDP datagram or a WebSocket message). Bytes after the message
/// are ignored (RFC 3261 §18.3, RFC 4475 `dblreq`).
pub(crate) fn decode_datagram(frame: &[u8], max_message_size: usize) -> Result<Message, Drop> {
    if frame.len() > max_message_size {
        return Err(Drop::Oversized {
            size: frame.len(),
            limit: max_message_size,
        });
    }
    if !looks_like_sip(frame) {
        return Err(not_sip(frame));
    }
    match parse_datagram_with(frame, &limits(max_message_size)) {
        Ok(datagram) => {
            if !datagram.trailing.is_empty() {
                tracing::debug!(
                    trailing = datagram.trailing.len(),
                    "ignoring bytes after the message"
                );
            }
            Message::from_ref(&datagram.message).map_err(|e| Drop::Malformed {
                reason: e.to_string(),
            })
        }
        Err(e) => Err(Drop::Malformed {
            reason: e.to_string(),
        }),
    }
}

/// One thing read off a stream.
#[derive(Debug)]
pub(crate) enum Piece {
    /// CRLFCRLF from the peer: answer with CRLF.
    Ping,
    /// A CRLF answering our ping.
    Pong,
    /// A whole message and its bytes.
    Message { message: Message, raw: Bytes },
    /// A framed message that does not parse; framing is intact so the connection lives.
    Dropped { drop: Drop, raw: Bytes },
}

/// Splits a TCP/TLS byte stream into messages by `Content-Length` (RFC 3261 §18.3).
#[derive(Debug)]
pub(crate) struct StreamFramer {
    buf: BytesMut,
    max_message_size: usize,
    /// Bytes of an oversized message still to discard as they arrive.
    skip: usize,
}

impl StreamFramer {
    pub fn new(max_message_size: usize) -> Self {
        StreamFramer {
            buf: BytesMut::new(),
            max_message_size,
            skip: 0,
        }
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        let skipped = self.skip.min(bytes.len());
        self.skip -= skipped;
        self.buf.extend_from_slice(&bytes[skipped..]);
    }

    /// An oversized message whose header section is complete and whose length is clear:
    /// drop its head now and the rest of it as it arrives, so the connection survives.
    fn drop_oversized(&mut self) -> Option<Piece> {
        let (head_end, len) = declared_length(&self.buf)?;
        if len <= self.max_message_size {
            return None;
        }
        let raw = self.buf.split_to(head_end).freeze();
        let body_here = self.buf.len().min(len - head_end);
        self.buf.advance(body_here);
        self.skip = len - head_end - body_here;
        Some(Piece::Dropped {
            drop: Drop::Oversized {
                size: len,
                limit: self.max_message_size,
            },
            raw,
        })
    }

    /// The next piece, `Ok(None)` when more bytes are needed, `Err` when framing is lost.
    pub fn next_piece(&mut self) -> Result<Option<Piece>, String> {
        if !self.buf.is_empty()
            && !self.buf.starts_with(b"\r")
            && !looks_like_sip(&self.buf)
            && self.buf.contains(&b'\n')
        {
            return Err(not_sip(&self.buf).to_string());
        }
        let limits = limits(self.max_message_size);
        let outcome = match framer::next_frame(&self.buf, &limits) {
            Ok(Frame::Partial) => {
                if let Some(dropped) = self.drop_oversized() {
                    return Ok(Some(dropped));
                }
                if self.buf.len() > self.max_message_size {
                    return Err(format!(
                        "no complete message within {} bytes",
                        self.max_message_size
                    ));
                }
                return Ok(None);
            }
            Ok(Frame::KeepAlive { kind, consumed }) => Ok((
                match kind {
                    framer::KeepAlive::Ping => Piece::Ping,
                    _ => Piece::Pong,
                },
                consumed,
            )),
            Ok(Frame::Message { message, consumed }) => {
                Err((Message::from_ref(&message), consumed))
            }
            Err(e) => match declared_length(&self.buf) {
                Some((_, len)) if len > self.max_message_size => {
                    return Ok(self.drop_oversized());
                }
                // Bad but its extent is clear: wait for all of it, then skip it.
                Some((_, len)) if self.buf.len() < len => return Ok(None),
                // The message is bad but its extent is clear: skip it, keep the connection.
                Some((_, len)) => {
                    let raw = self.buf.split_to(len).freeze();
                    return Ok(Some(Piece::Dropped {
                        drop: Drop::Malformed {
                            reason: e.to_string(),
                        },
                        raw,
                    }));
                }
                _ => return Err(e.to_string()),
            },
        };
        Ok(Some(match outcome {
            Ok((piece, consumed)) => {
                self.buf.advance(consumed);
                piece
            }
            Err((converted, consumed)) => {
                let raw = self.buf.split_to(consumed).freeze();
                match converted {
                    Ok(message) => Piece::Message { message, raw },
                    Err(e) => Piece::Dropped {
                        drop: Drop::Malformed {
                            reason: e.to_string(),
                        },
                        raw,
                    },
                }
            }
        }))
    }
}

/// The end of the header section and the whole length of the message at the start of `buf`,
/// when the header section is complete and the body length unambiguous (one numeric
/// `Content-Length`/`l`, or none meaning 0); `None` when the stream cannot be re-synchronised.
fn declared_length(buf: &[u8]) -> Option<(usize, usize)> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lengths = head.lines().filter_map(|line| {
        let (name, value) = line.split_once(':')?;
        let name = name.trim();
        (name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l"))
            .then(|| value.trim())
    });
    let body = match (lengths.next(), lengths.next()) {
        (None, _) => 0,
        (Some(value), None) => value.parse::<usize>().ok()?,
        (Some(_), Some(_)) => return None,
    };
    Some((head_end, head_end.checked_add(body)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn keepalives_are_recognised() {
        assert_eq!(classify_keepalive(b"\r\n\r\n"), Some(KeepAliveFrame::Ping));
        assert_eq!(classify_keepalive(b"\r\n"), Some(KeepAliveFrame::Pong));
        assert_eq!(classify_keepalive(OPTIONS), None);
    }

    #[test]
    fn datagram_ignores_trailing_bytes() {
        let mut frame = OPTIONS.to_vec();
        frame.extend_from_slice(b"junk after the message");
        let message = decode_datagram(&frame, 65_535).unwrap();
        assert_eq!(message.to_bytes(), OPTIONS);
    }

    #[test]
    fn datagram_drops_say_why() {
        assert!(matches!(
            decode_datagram(OPTIONS, 10),
            Err(Drop::Oversized { size: _, limit: 10 })
        ));
        assert!(matches!(
            decode_datagram(b"\x00\x01\x02binary", 100),
            Err(Drop::NotSip { .. })
        ));
        assert!(matches!(
            decode_datagram(b"GET / HTTP/1.1\r\n\r\n", 100),
            Err(Drop::NotSip { .. })
        ));
        let broken = b"OPTIONS sip:x SIP/2.0\r\nVia SIP/2.0/UDP x\r\n\r\n";
        assert!(matches!(
            decode_datagram(broken, 1000),
            Err(Drop::Malformed { .. })
        ));
    }

    #[test]
    fn stream_frames_messages_split_anywhere() {
        let mut stream = OPTIONS.to_vec();
        stream.extend_from_slice(b"\r\n");
        stream.extend_from_slice(OPTIONS);
        for chunk in [1, 7, 64, stream.len()] {
            let mut framer = StreamFramer::new(65_535);
            let mut pieces = Vec::new();
            // A ping arrives whole (a lone CRLF is taken for a pong at once).
            framer.extend(b"\r\n\r\n");
            for part in stream.chunks(chunk) {
                framer.extend(part);
                while let Some(piece) = framer.next_piece().unwrap() {
                    pieces.push(piece);
                }
            }
            let kinds: Vec<&str> = pieces
                .iter()
                .map(|p| match p {
                    Piece::Ping => "ping",
                    Piece::Pong => "pong",
                    Piece::Message { .. } => "message",
                    Piece::Dropped { .. } => "dropped",
                })
                .collect();
            assert_eq!(
                kinds,
                ["ping", "message", "pong", "message"],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn stream_skips_a_malformed_message_with_clear_length() {
        let mut framer = StreamFramer::new(65_535);
        framer
            .extend(b"OPTIONS sip:x SIP/2.0\r\nVia SIP/2.0/TCP x\r\nContent-Length: 3\r\n\r\nabc");
        framer.extend(OPTIONS);
        assert!(matches!(
            framer.next_piece(),
            Ok(Some(Piece::Dropped { .. }))
        ));
        assert!(matches!(
            framer.next_piece(),
            Ok(Some(Piece::Message { .. }))
        ));
        assert!(matches!(framer.next_piece(), Ok(None)));
    }

    #[test]
    fn stream_skips_an_oversized_message_arriving_in_pieces() {
        let mut framer = StreamFramer::new(1000);
        let body = vec![b'x'; 5000];
        let mut big = format!(
            "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\nFrom: <sip:a@b>;tag=1\r\n\
             To: <sip:a@b>\r\nCall-ID: big\r\nCSeq: 1 MESSAGE\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        big.extend_from_slice(&body);
        big.extend_from_slice(OPTIONS);
        let mut pieces = Vec::new();
        for chunk in big.chunks(700) {
            framer.extend(chunk);
            while let Some(piece) = framer.next_piece().unwrap() {
                pieces.push(piece);
            }
        }
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert!(
            matches!(&pieces[0], Piece::Dropped { drop: Drop::Oversized { size, limit: 1000 }, .. } if *size > 5000)
        );
        assert!(matches!(&pieces[1], Piece::Message { .. }));
    }

    #[test]
    fn stream_framing_lost_on_garbage() {
        let mut framer = StreamFramer::new(65_535);
        framer.extend(b"\x16\x03\x01 not sip at all\r\n");
        assert!(framer.next_piece().is_err());
    }

    #[test]
    fn stream_without_end_of_headers_is_bounded() {
        let mut framer = StreamFramer::new(200);
        framer.extend(b"OPTIONS sip:x SIP/2.0\r\n");
        for _ in 0..20 {
            framer.extend(b"X-Filler: 0123456789\r\n");
        }
        assert!(framer.next_piece().is_err());
    }
}
