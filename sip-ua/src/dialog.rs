//! Dialogs (RFC 3261 §12): identity, route set, remote target, CSeq rules and the requests
//! sent inside them.

use crate::message::{Method, SipMessage};
use crate::values::NameAddr;

/// Whether the dialog has been confirmed by a 2xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DialogState {
    Early,
    Confirmed,
}

/// One dialog, from our side.
#[derive(Debug, Clone)]
pub(crate) struct Dialog {
    pub(crate) call_id: String,
    pub(crate) local_tag: String,
    pub(crate) remote_tag: String,
    /// Our From (UAC) or To (UAS) value, with our tag.
    local: String,
    /// The peer's value, with its tag.
    remote: String,
    /// Where requests go: the peer's Contact URI.
    pub(crate) remote_target: String,
    /// Route set, in the order Route headers are written.
    route_set: Vec<String>,
    pub(crate) local_seq: u32,
    remote_seq: Option<u32>,
    pub(crate) state: DialogState,
}

/// Why an in-dialog request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CSeqError {
    /// Lower than the last one seen: 500 (§12.2.2).
    OutOfOrder,
}

fn contact_uri(message: &SipMessage) -> Option<String> {
    message
        .values("Contact")
        .next()
        .and_then(NameAddr::parse)
        .map(|c| c.uri)
}

impl Dialog {
    /// The UAC side of a dialog created by a response with a To tag (§12.1.2).
    pub(crate) fn from_response(request: &SipMessage, response: &SipMessage) -> Option<Dialog> {
        let remote_tag = response.to_header()?.tag()?.to_owned();
        let status = response.status()?;
        let mut route_set: Vec<String> =
            response.values("Record-Route").map(str::to_owned).collect();
        route_set.reverse();
        Some(Dialog {
            call_id: request.call_id()?.to_owned(),
            local_tag: request.from_header()?.tag()?.to_owned(),
            remote_tag,
            local: request.header("From")?.to_owned(),
            remote: response.header("To")?.to_owned(),
            remote_target: contact_uri(response)
                .unwrap_or_else(|| request.request_uri().unwrap_or_default().to_owned()),
            route_set,
            local_seq: request.cseq()?.seq,
            remote_seq: None,
            state: if (200..300).contains(&status) {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
        })
    }

    /// The UAS side of a dialog created by our response to `request` (§12.1.1).
    pub(crate) fn from_request(
        request: &SipMessage,
        local_tag: &str,
        confirmed: bool,
    ) -> Option<Dialog> {
        let to = request.to_header()?.with_tag(local_tag);
        Some(Dialog {
            call_id: request.call_id()?.to_owned(),
            local_tag: local_tag.to_owned(),
            remote_tag: request.from_header()?.tag().unwrap_or("").to_owned(),
            local: to.to_string(),
            remote: request.header("From")?.to_owned(),
            remote_target: contact_uri(request)?,
            route_set: request.values("Record-Route").map(str::to_owned).collect(),
            local_seq: 0,
            remote_seq: Some(request.cseq()?.seq),
            state: if confirmed {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
        })
    }

    /// Whether `request` belongs to this dialog (Call-ID, To tag ours, From tag theirs).
    pub(crate) fn matches_request(&self, request: &SipMessage) -> bool {
        request.call_id() == Some(self.call_id.as_str())
            && request
                .to_header()
                .and_then(|t| t.tag().map(str::to_owned))
                .as_deref()
                == Some(self.local_tag.as_str())
            && request
                .from_header()
                .map(|f| f.tag().unwrap_or("").to_owned())
                .as_deref()
                == Some(self.remote_tag.as_str())
    }

    /// A 2xx confirms an early dialog and may refresh the route set's target (§12.1.2, §13.2.2.4).
    pub(crate) fn confirm(&mut self, response: &SipMessage) {
        self.state = DialogState::Confirmed;
        let mut route_set: Vec<String> =
            response.values("Record-Route").map(str::to_owned).collect();
        route_set.reverse();
        self.route_set = route_set;
        self.target_refresh(response);
    }

    /// A target refresh request or response updates the remote target (§12.2).
    pub(crate) fn target_refresh(&mut self, message: &SipMessage) {
        if let Some(uri) = contact_uri(message) {
            self.remote_target = uri;
        }
    }

    /// §12.2.2: a request with a lower CSeq than the last one is out of order.
    pub(crate) fn check_remote_cseq(&mut self, request: &SipMessage) -> Result<(), CSeqError> {
        let Some(seq) = request.cseq().map(|c| c.seq) else {
            return Err(CSeqError::OutOfOrder);
        };
        if request.method() == Some(&Method::Ack) || request.method() == Some(&Method::Cancel) {
            return Ok(());
        }
        match self.remote_seq {
            Some(last) if seq <= last => Err(CSeqError::OutOfOrder),
            _ => {
                self.remote_seq = Some(seq);
                Ok(())
            }
        }
    }

    /// A request inside the dialog (§12.2.1.1); ACK reuses `ack_seq`, others take the next
    /// local CSeq. The Via is added when sent.
    pub(crate) fn request(&mut self, method: Method, ack_seq: Option<u32>) -> SipMessage {
        let seq = match ack_seq {
            Some(seq) => seq,
            None => {
                self.local_seq += 1;
                self.local_seq
            }
        };
        // Loose routing when the first route has `lr`; else strict routing (§12.2.1.1).
        let strict = self
            .route_set
            .first()
            .and_then(|r| NameAddr::parse(r))
            .is_some_and(|r| !r.uri.contains(";lr"));
        let (uri, routes): (String, Vec<String>) = if strict {
            let first = NameAddr::parse(&self.route_set[0])
                .map(|r| r.uri)
                .unwrap_or_default();
            let mut routes: Vec<String> = self.route_set[1..].to_vec();
            routes.push(format!("<{}>", self.remote_target));
            (first, routes)
        } else {
            (self.remote_target.clone(), self.route_set.clone())
        };
        let mut request = SipMessage::request(method.clone(), uri);
        request.push_header("Max-Forwards", "70");
        for route in routes {
            request.push_header("Route", route);
        }
        request.push_header("From", self.local.clone());
        request.push_header("To", self.remote.clone());
        request.push_header("Call-ID", self.call_id.clone());
        request.push_header("CSeq", format!("{seq} {method}"));
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> SipMessage {
        let mut r = SipMessage::request(Method::Invite, "sip:bob@example.com");
        r.push_header("Via", "SIP/2.0/WS a.invalid;branch=z9hG4bK1");
        r.push_header("From", "<sip:alice@example.com>;tag=a1");
        r.push_header("To", "<sip:bob@example.com>");
        r.push_header("Call-ID", "c1");
        r.push_header("CSeq", "7 INVITE");
        r.push_header("Contact", "<sip:x@a.invalid;transport=ws>");
        r
    }

    #[test]
    fn uac_route_set_is_reversed_and_requests_are_loose_routed() {
        let req = invite();
        let mut ok = SipMessage::response_to(&req, 200);
        ok.set_header("To", "<sip:bob@example.com>;tag=b1");
        ok.push_header("Record-Route", "<sip:p2;lr>, <sip:p1;lr>");
        ok.push_header("Contact", "<sip:bob@10.0.0.2>");
        let mut d = Dialog::from_response(&req, &ok).unwrap();
        assert_eq!(d.state, DialogState::Confirmed);
        let bye = d.request(Method::Bye, None);
        assert_eq!(bye.request_uri(), Some("sip:bob@10.0.0.2"));
        let routes: Vec<_> = bye.header_values_raw("Route").collect();
        assert_eq!(routes, ["<sip:p1;lr>", "<sip:p2;lr>"]);
        assert_eq!(bye.header("CSeq"), Some("8 BYE"));
        assert_eq!(bye.header("To"), Some("<sip:bob@example.com>;tag=b1"));
        let ack = d.request(Method::Ack, Some(7));
        assert_eq!(ack.header("CSeq"), Some("7 ACK"));
    }

    #[test]
    fn strict_router_gets_the_request_uri() {
        let req = invite();
        let mut ok = SipMessage::response_to(&req, 200);
        ok.set_header("To", "<sip:bob@example.com>;tag=b1");
        ok.push_header("Record-Route", "<sip:strict.example.com>");
        ok.push_header("Contact", "<sip:bob@10.0.0.2>");
        let mut d = Dialog::from_response(&req, &ok).unwrap();
        let bye = d.request(Method::Bye, None);
        assert_eq!(bye.request_uri(), Some("sip:strict.example.com"));
        assert_eq!(bye.header("Route"), Some("<sip:bob@10.0.0.2>"));
    }

    #[test]
    fn uas_checks_cseq_order_and_matches_tags() {
        let mut req = invite();
        req.push_header("Record-Route", "<sip:p1;lr>");
        let mut d = Dialog::from_request(&req, "b1", true).unwrap();
        let mut bye = SipMessage::request(Method::Bye, "sip:x@a.invalid");
        bye.push_header("From", "<sip:alice@example.com>;tag=a1");
        bye.push_header("To", "<sip:bob@example.com>;tag=b1");
        bye.push_header("Call-ID", "c1");
        bye.push_header("CSeq", "6 BYE");
        assert!(d.matches_request(&bye));
        assert_eq!(d.check_remote_cseq(&bye), Err(CSeqError::OutOfOrder));
        bye.set_header("CSeq", "8 BYE");
        assert_eq!(d.check_remote_cseq(&bye), Ok(()));
        let ours = d.request(Method::Bye, None);
        assert_eq!(ours.request_uri(), Some("sip:x@a.invalid;transport=ws"));
        assert_eq!(ours.header("Route"), Some("<sip:p1;lr>"));
        assert_eq!(ours.header("From"), Some("<sip:bob@example.com>;tag=b1"));
        bye.set_header("To", "<sip:bob@example.com>;tag=zz");
        assert!(!d.matches_request(&bye));
    }
}
