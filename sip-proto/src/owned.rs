//! The owned message: for storing, queueing and sending.
//!
//! A [`Message`] keeps its serialized header section, its body and the same offset table the
//! borrowed parser builds, so [`Message::as_ref`] gives a [`MessageRef`] (and every typed
//! accessor) without re-parsing. Structured edits re-serialize and re-index the message, so
//! its bytes are always exactly what [`Message::to_bytes`] sends, `Content-Length` included.

use crate::error::{Error, Result};
use crate::header_name::HeaderName;
use crate::message::{Layout, MessageRef};
use crate::serialize::{write_headers, write_start_line};

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
    pub fn parse(mut bytes: Vec<u8>) -> Result<Message> {
        let layout = {
            let msg = MessageRef::parse(&bytes)?;
            if !msg.is_canonical() {
                return Message::from_ref(&msg);
            }
            Box::new(*msg.layout())
        };
        // The offsets of the parse are offsets into the head: keep them, no second parse.
        let body = bytes.split_off(layout.head_len as usize);
        let head = head_string(bytes)?;
        Ok(Message { head, body, layout })
    }

    /// Copies a borrowed message. Canonical bytes (see [`Message::parse`]) are copied with
    /// their offsets as they are; anything else is serialized with a correct
    /// `Content-Length` and indexed again.
    pub fn from_ref(msg: &MessageRef<'_>) -> Result<Message> {
        if msg.is_canonical() {
            return Ok(Message {
                head: msg.head_text().to_owned(),
                body: msg.body().to_vec(),
                layout: Box::new(*msg.layout()),
            });
        }
        let mut head = Vec::with_capacity(msg.head_str().len() + 32);
        write_start_line(&mut head, &msg.start_line());
        write_headers(
            &mut head,
            msg.headers().map(|h| (h.name, h.raw_name, h.value)),
            msg.body().len(),
        );
        Message::from_head_and_body(head, msg.body().to_vec())
    }

    /// Indexes a header section this crate just wrote (start line to empty line, with the
    /// right `Content-Length`) and its body.
    pub(crate) fn from_head_and_body(head: Vec<u8>, body: Vec<u8>) -> Result<Message> {
        let head = head_string(head)?;
        let layout = Box::new(*crate::parser::parse_head_only(&head)?.layout());
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
        self.rebuild_for_body(|_| {}, body.len())?;
        self.body = body;
        Ok(())
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

    /// Re-serializes the header section with edited header lines (raw name, value).
    fn rebuild(&mut self, edit: impl FnOnce(&mut Vec<(String, String)>)) -> Result<()> {
        self.rebuild_for_body(edit, self.body.len())
    }

    /// [`Message::rebuild`] for a body of `body_len` bytes. On error nothing changes.
    fn rebuild_for_body(
        &mut self,
        edit: impl FnOnce(&mut Vec<(String, String)>),
        body_len: usize,
    ) -> Result<()> {
        let view = self.as_ref();
        let mut lines: Vec<(String, String)> = view
            .headers()
            .map(|h| (h.raw_name.to_owned(), h.value.to_owned()))
            .collect();
        edit(&mut lines);
        let mut head = Vec::with_capacity(self.head.len() + 64);
        write_start_line(&mut head, &view.start_line());
        write_headers(
            &mut head,
            lines
                .iter()
                .map(|(n, v)| (HeaderName::parse(n), n.as_str(), v.as_str())),
            body_len,
        );
        let head = head_string(head)?;
        let layout = Box::new(*crate::parser::parse_head_only(&head)?.layout());
        self.head = head;
        self.layout = layout;
        Ok(())
    }
}

/// The header section as a `String` (it was parsed or written as text, so this only fails
/// if that invariant is broken).
fn head_string(head: Vec<u8>) -> Result<String> {
    String::from_utf8(head).map_err(|e| Error::Syntax {
        offset: e.utf8_error().valid_up_to(),
        expected: "UTF-8 text",
    })
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

    #[test]
    fn an_edit_over_the_header_limit_keeps_the_message_whole() {
        let mut bytes = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
        for i in 0..63 {
            bytes.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"Content-Length: 4\r\n\r\nbody");
        let mut msg = Message::parse(bytes.clone()).unwrap();
        assert!(matches!(
            msg.append_header(HeaderName::Subject, "one too many"),
            Err(Error::Limit {
                what: "header count",
                ..
            })
        ));
        assert_eq!(msg.to_bytes(), bytes);
        msg.set_body(b"longer body".to_vec()).unwrap();
        assert_eq!(msg.as_ref().content_length().unwrap().unwrap().0, 11);
        assert_eq!(msg.body(), b"longer body");
    }
}
