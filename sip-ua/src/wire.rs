//! Conversion between the core's editable [`SipMessage`] and sip-proto's parsed messages:
//! everything from the network is parsed (and limited) by sip-proto, everything we send is
//! checked by it before it leaves.

use sip_proto::{MessageRef, StartLine as ProtoStartLine};

use crate::message::{Method, SipMessage};

impl SipMessage {
    /// Parses one message with sip-proto's parser and default limits.
    ///
    /// ```
    /// let m = sip_ua::SipMessage::parse(
    ///     b"OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    /// )?;
    /// assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bK1"));
    /// # Ok::<(), sip_proto::Error>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> sip_proto::Result<SipMessage> {
        Ok(SipMessage::from_proto(&MessageRef::parse(bytes)?))
    }

    /// Copies a parsed message: start line, every header line (compact names expanded,
    /// folds unfolded) and the body.
    pub fn from_proto(message: &MessageRef<'_>) -> SipMessage {
        let mut out = match message.start_line() {
            ProtoStartLine::Request { method, uri, .. } => {
                SipMessage::request(Method::parse(method.as_str()), uri)
            }
            ProtoStartLine::Response { status, reason, .. } => SipMessage::response(status, reason),
        };
        for header in message.headers() {
            if header.name.as_str().eq_ignore_ascii_case("Content-Length") {
                continue;
            }
            out.push_header(header.name.as_str(), header.value_unfolded().into_owned());
        }
        out.body = message.body().to_vec();
        out
    }

    /// The sip-proto owned message for the transport (re-parsed, so it is checked).
    pub fn to_proto(&self) -> sip_proto::Result<sip_proto::Message> {
        sip_proto::Message::parse(self.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_messages_parse_and_round_trip() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/corpus/real");
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("sip") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let message = SipMessage::parse(&bytes).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            assert!(message.call_id().is_some(), "{path:?}");
            assert!(message.cseq().is_some(), "{path:?}");
            assert!(message.top_via().is_some(), "{path:?}");
            let again = SipMessage::parse(&message.to_bytes()).unwrap();
            assert_eq!(again, message, "{path:?}");
            assert!(message.to_proto().is_ok());
            count += 1;
        }
        assert!(count >= 10, "only {count} corpus files");
    }
}
