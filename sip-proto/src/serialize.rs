//! Writing messages to bytes.
//!
//! The serializer writes each header as `Name: value` with the name as it was written and
//! the value byte for byte (folds included), so a parsed message re-serializes faithfully.
//! The one exception is `Content-Length`: it is always written from the actual body length,
//! once (a second `Content-Length` line is dropped, a missing one is added at the end).

use crate::header_name::HeaderName;
use crate::message::{MessageRef, StartLine};

/// Appends the decimal digits of `n` to `out` without going through `fmt`.
pub(crate) fn write_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Writes a start line and its CRLF.
pub(crate) fn write_start_line(out: &mut Vec<u8>, start: &StartLine<'_>) {
    match start {
        StartLine::Request {
            method,
            uri,
            version,
        } => {
            out.extend_from_slice(method.as_str().as_bytes());
            out.push(b' ');
            out.extend_from_slice(uri.as_bytes());
            out.push(b' ');
            out.extend_from_slice(version.as_bytes());
        }
        StartLine::Response {
            version,
            status,
            reason,
        } => {
            out.extend_from_slice(version.as_bytes());
            out.push(b' ');
            write_decimal(out, usize::from(*status));
            out.push(b' ');
            out.extend_from_slice(reason.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Writes headers, the fixed-up `Content-Length`, the empty line and the body.
pub(crate) fn write_rest<'h>(
    out: &mut Vec<u8>,
    headers: impl Iterator<Item = (HeaderName<'h>, &'h str, &'h str)>,
    body: &[u8],
) {
    write_headers(out, headers, body.len());
    out.extend_from_slice(body);
}

/// Writes headers, a `Content-Length` of `body_len` and the empty line.
pub(crate) fn write_headers<'h>(
    out: &mut Vec<u8>,
    headers: impl Iterator<Item = (HeaderName<'h>, &'h str, &'h str)>,
    body_len: usize,
) {
    let mut wrote_length = false;
    for (name, raw_name, value) in headers {
        if name == HeaderName::ContentLength {
            if wrote_length {
                continue;
            }
            wrote_length = true;
            out.extend_from_slice(raw_name.as_bytes());
            out.extend_from_slice(b": ");
            write_decimal(out, body_len);
        } else {
            out.extend_from_slice(raw_name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    if !wrote_length {
        out.extend_from_slice(b"Content-Length: ");
        write_decimal(out, body_len);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

impl MessageRef<'_> {
    /// Appends the message to `out` (reuse one `Vec` across messages to avoid allocating).
    ///
    /// The output always re-parses to a message equal to this one, with a correct
    /// `Content-Length`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.head_str().len() + self.body().len() + 32);
        write_start_line(out, &self.start_line());
        write_rest(
            out,
            self.headers().map(|h| (h.name, h.raw_name, h.value)),
            self.body(),
        );
    }

    /// The message as a new byte vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_digits() {
        for n in [0usize, 7, 10, 65535, usize::MAX] {
            let mut out = Vec::new();
            write_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }

    #[test]
    fn content_length_is_fixed_up() {
        let msg = MessageRef::parse(
            b"MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\nX: y\r\nContent-Length: 2\r\n\r\nhi",
        )
        .unwrap();
        assert_eq!(
            msg.to_bytes(),
            b"MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\nX: y\r\n\r\nhi".to_vec()
        );
        let no_length = MessageRef::parse(b"SIP/2.0 200 OK\r\nX: y\r\n\r\nbody").unwrap();
        assert_eq!(
            no_length.to_bytes(),
            b"SIP/2.0 200 OK\r\nX: y\r\nContent-Length: 4\r\n\r\nbody".to_vec()
        );
    }
}
