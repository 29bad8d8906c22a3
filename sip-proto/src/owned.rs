//! The owned message: for storing, queueing and sending.
//!
//! A [`Message`] keeps its serialized header section, its body and the same offset table the
//! borrowed parser builds, so [`Message::as_ref`] gives a [`MessageRef`] (and every typed
//! accessor) without re-parsing. Structured edits re-serialize and re-index the message, so
//! its bytes are always exactly what [`Message::to_bytes`] sends, `Content-Length` included.

use crate::error::{Error, Result};
use crate::header_name::HeaderName;
use crate::limits::Limits;
use crate::message::{Layout, MessageRef};
use crate::serialize::{write_rest, write_start_line};

/// An owned SIP message.
///
/// ```
/// use sip_proto::{HeaderName, Message};
///
/// let mut msg = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\n\r\n".to_vec())?;
/// msg.append_header(HeaderName::Extension("X-Room"), "kitchen")?;
/// msg.set_body(b"hello".to_vec())?;
/// assert_eq!(msg.as_ref().header(HeaderName::Extension("x-room")), Some("kitchen"));
/// assert_eq!(msg.as_ref().content_length().unwrap()?.0, 5);
/// assert!(msg.to_bytes().ends_with(b"\r\n\r\nhello"));
/// # Ok::<(), sip_proto::Error>(())
/// ```
#[derive(Clone)]
pub struct Message {
    head: String,
    body: Vec<u8>,
    layout: Box<Layout>,
}

impl Message {
    /// Parses exactly one message from owned bytes (see [`MessageRef::parse`]). The bytes are
    /// kept as they are when their `Content-Length` is already right, else re-serialized.
    pub fn parse(bytes: Vec<u8>) -> Result<Message> {
        let (head_len, needs_rewrite) = {
            let msg = MessageRef::parse(&bytes)?;
            let head_len = msg.layout().head_len as usize;
            let declared = msg.header(HeaderName::ContentLength);
            let ok = msg.layout().message_start == 0
                && msg.count_lines(HeaderName::ContentLength) == 1
                && declared.and_then(|v| v.parse::<usize>().ok()) == Some(msg.body().len());
            (head_len, !ok)
        };
        if needs_rewrite {
            return Message::from_ref(&MessageRef::parse(&bytes)?);
        }
        Message::from_serialized(bytes, head_len)
    }

    /// Copies a borrowed message (serializing it with a correct `Content-Length`).
    pub fn from_ref(msg: &MessageRef<'_>) -> Result<Message> {
        let mut buf = Vec::with_capacity(msg.head_str().len() + msg.body().len() + 32);
        msg.write_to(&mut buf);
        Message::from_written(buf)
    }

    /// Indexes bytes this crate just wrote.
    pub(crate) fn from_written(buf: Vec<u8>) -> Result<Message> {
        let head_len = MessageRef::parse_with(&buf, &unbounded())?
            .layout()
            .head_len as usize;
        Message::from_serialized(buf, head_len)
    }

    fn from_serialized(mut buf: Vec<u8>, head_len: usize) -> Result<Message> {
        let body = buf.split_off(head_len);
        let head = String::from_utf8(buf).map_err(|e| Error::Syntax {
            offset: e.utf8_error().valid_up_to(),
            expected: "UTF-8 text",
        })?;
        let layout = {
            // Re-index the head alone: the body is not needed to find the offsets.
            let msg = crate::parser::parse_head_only(&head)?;
            Box::new(*msg.layout())
        };
        Ok(Message { head, body, layout })
    }

    /// The borrowed view, with every accessor of [`MessageRef`].
    pub fn as_ref(&self) -> MessageRef<'_> {
        MessageRef::from_parts(&self.head, &self.body, *self.layout)
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The serialized message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.head.len() + self.body.len());
        self.write_to(&mut out);
        out
    }

    /// Appends the serialized message to `out`: two copies, no formatting.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.head.as_bytes());
        out.extend_from_slice(&self.body);
    }

    /// The size of the serialized message in bytes.
    pub fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// Always false: a message has at least a start line.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Replaces the body; `Content-Length` follows.
    pub fn set_body(&mut self, body: Vec<u8>) -> Result<()> {
        self.body = body;
        self.rebuild(|_| {})
    }

    /// Adds a header line at the end.
    pub fn append_header(&mut self, name: HeaderName<'_>, value: &str) -> Result<()> {
        let name = checked_name(&name)?;
        check_value(value)?;
        self.rebuild(|lines| lines.push((name.to_owned(), value.to_owned())))
    }

    /// Inserts a header line before line `index` (0 = first; past the end appends). Used
    /// e.g. to push a `Via` on top.
    pub fn insert_header(&mut self, index: usize, name: HeaderName<'_>, value: &str) -> Result<()> {
        let name = checked_name(&name)?;
        check_value(value)?;
        self.rebuild(|lines| {
            let at = index.min(lines.len());
            lines.insert(at, (name.to_owned(), value.to_owned()));
        })
    }

    /// Sets header `name` to a single line with `value`: the first existing line is replaced
    /// in place, later ones are removed; appended when absent.
    pub fn set_header(&mut self, name: HeaderName<'_>, value: &str) -> Result<()> {
        let canonical = checked_name(&name)?;
        check_value(value)?;
        self.rebuild(|lines| {
            let mut seen = false;
            lines.retain_mut(|(n, v)| {
                if HeaderName::parse(n) != name {
                    return true;
                }
                if seen {
                    return false;
                }
                seen = true;
                *v = value.to_owned();
                true
            });
            if !seen {
                lines.push((canonical.to_owned(), value.to_owned()));
            }
        })
    }

    /// Removes every line of header `name`; returns how many were removed.
    pub fn remove_header(&mut self, name: HeaderName<'_>) -> Result<usize> {
        let mut removed = 0;
        self.rebuild(|lines| {
            let before = lines.len();
            lines.retain(|(n, _)| HeaderName::parse(n) != name);
            removed = before - lines.len();
        })?;
        Ok(removed)
    }

    /// Re-serializes with edited header lines (raw name, value).
    fn rebuild(&mut self, edit: impl FnOnce(&mut Vec<(String, String)>)) -> Result<()> {
        let view = self.as_ref();
        let mut lines: Vec<(String, String)> = view
            .headers()
            .map(|h| (h.raw_name.to_owned(), h.value.to_owned()))
            .collect();
        edit(&mut lines);
        let mut buf = Vec::with_capacity(self.len() + 64);
        write_start_line(&mut buf, &view.start_line());
        write_rest(
            &mut buf,
            lines
                .iter()
                .map(|(n, v)| (HeaderName::parse(n), n.as_str(), v.as_str())),
            &self.body,
        );
        *self = Message::from_written(buf)?;
        Ok(())
    }
}

/// Limits for re-indexing bytes this crate produced: only the slot count still applies.
fn unbounded() -> Limits {
    Limits {
        max_message_size: usize::MAX / 2,
        max_line_length: usize::MAX / 2,
        ..Limits::default()
    }
}

pub(crate) fn checked_name<'n>(name: &HeaderName<'n>) -> Result<&'n str> {
    let text = name.as_str();
    if crate::grammar::is_token(text) {
        Ok(text)
    } else {
        Err(Error::InvalidInput {
            what: "header name",
            reason: "not a token",
        })
    }
}

/// A value must stay on its line: CR and LF would inject headers.
pub(crate) fn check_value(value: &str) -> Result<()> {
    if value.bytes().any(|b| b == b'\r' || b == b'\n') {
        return Err(Error::InvalidInput {
            what: "header value",
            reason: "contains CR or LF",
        });
    }
    Ok(())
}

impl<'a> From<&'a Message> for MessageRef<'a> {
    fn from(msg: &'a Message) -> Self {
        msg.as_ref()
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Message").field(&self.as_ref()).finish()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.as_ref() == other.as_ref()
    }
}

impl PartialEq<MessageRef<'_>> for Message {
    fn eq(&self, other: &MessageRef<'_>) -> bool {
        self.as_ref() == *other
    }
}

impl MessageRef<'_> {
    /// Copies this message into an owned [`Message`] (serialized with a correct
    /// `Content-Length`). A parsed message always converts; the `Result` covers views
    /// assembled by other means.
    pub fn to_owned_message(&self) -> Result<Message> {
        Message::from_ref(self)
    }
}

impl TryFrom<&MessageRef<'_>> for Message {
    type Error = Error;

    fn try_from(msg: &MessageRef<'_>) -> Result<Message> {
        Message::from_ref(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n\
Subject: one\r\nSubject: two\r\nCall-ID: c1\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn parse_keeps_canonical_bytes_and_fixes_lengths() {
        let msg = Message::parse(REQ.to_vec()).unwrap();
        assert_eq!(msg.to_bytes(), REQ);
        assert_eq!(msg.len(), REQ.len());
        let no_length = Message::parse(b"SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\nhi".to_vec()).unwrap();
        assert_eq!(
            no_length.to_bytes(),
            b"SIP/2.0 200 OK\r\nCall-ID: x\r\nContent-Length: 2\r\n\r\nhi"
        );
    }

    #[test]
    fn structured_edits_reindex_the_message() {
        let mut msg = Message::parse(REQ.to_vec()).unwrap();
        msg.insert_header(0, HeaderName::Via, "SIP/2.0/WSS proxy;branch=z9hG4bK2")
            .unwrap();
        msg.set_header(HeaderName::Subject, "only").unwrap();
        msg.set_body(b"body".to_vec()).unwrap();
        let view = msg.as_ref();
        let vias: Vec<&str> = view.headers_named(HeaderName::Via).collect();
        assert_eq!(
            vias,
            [
                "SIP/2.0/WSS proxy;branch=z9hG4bK2",
                "SIP/2.0/UDP h1;branch=z9hG4bK1"
            ]
        );
        assert_eq!(
            view.headers_named(HeaderName::Subject).collect::<Vec<_>>(),
            ["only"]
        );
        assert_eq!(view.content_length().unwrap().unwrap().0, 4);
        assert_eq!(view.body(), b"body");
        assert_eq!(msg.remove_header(HeaderName::Via).unwrap(), 2);
        assert_eq!(msg.as_ref().count_lines(HeaderName::Via), 0);
        assert_eq!(msg.remove_header(HeaderName::Via).unwrap(), 0);
        // The bytes always re-parse to the same message.
        let bytes = msg.to_bytes();
        assert_eq!(MessageRef::parse(&bytes).unwrap(), msg.as_ref());
    }

    #[test]
    fn injection_and_bad_names_are_refused() {
        let mut msg = Message::parse(REQ.to_vec()).unwrap();
        let before = msg.to_bytes();
        assert!(matches!(
            msg.append_header(HeaderName::Subject, "x\r\nEvil: 1"),
            Err(Error::InvalidInput {
                what: "header value",
                ..
            })
        ));
        assert!(matches!(
            msg.append_header(HeaderName::Extension("Bad Name"), "x"),
            Err(Error::InvalidInput {
                what: "header name",
                ..
            })
        ));
        assert_eq!(msg.to_bytes(), before, "a refused edit changes nothing");
    }
}
