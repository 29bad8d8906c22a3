//! Transaction matching keys (RFC 3261 §17.1.3 and §17.2.3).

use crate::message::{Method, SipMessage};

/// A client transaction: the branch we generated plus the CSeq method (a CANCEL shares its
/// INVITE's branch).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey {
    pub(crate) branch: String,
    pub(crate) method: Method,
}

impl ClientKey {
    pub(crate) fn of_request(request: &SipMessage) -> Option<ClientKey> {
        Some(ClientKey {
            branch: request.top_via()?.branch()?.to_owned(),
            method: request.method()?.clone(),
        })
    }

    pub(crate) fn of_response(response: &SipMessage) -> Option<ClientKey> {
        Some(ClientKey {
            branch: response.top_via()?.branch()?.to_owned(),
            method: response.cseq()?.method,
        })
    }
}

/// A server transaction: branch, sent-by and method for RFC 3261 peers; for RFC 2543 peers
/// (no magic cookie) the Request-URI, From tag, Call-ID, CSeq number and top Via (§17.2.3).
/// ACK is keyed as the INVITE it acknowledges.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ServerKey {
    Rfc3261 {
        branch: String,
        sent_by: String,
        method: Method,
    },
    Rfc2543 {
        request_uri: String,
        from_tag: String,
        call_id: String,
        cseq: u32,
        via: String,
        method: Method,
    },
}

impl ServerKey {
    pub(crate) fn of_request(request: &SipMessage) -> Option<ServerKey> {
        let via = request.top_via()?;
        let mut method = request.method()?.clone();
        if method == Method::Ack {
            method = Method::Invite;
        }
        if via.has_rfc3261_branch() {
            return Some(ServerKey::Rfc3261 {
                branch: via.branch()?.to_owned(),
                sent_by: via.sent_by.to_ascii_lowercase(),
                method,
            });
        }
        Some(ServerKey::Rfc2543 {
            request_uri: request.request_uri()?.to_owned(),
            from_tag: request.from_header()?.tag().unwrap_or("").to_owned(),
            call_id: request.call_id()?.to_owned(),
            cseq: request.cseq()?.seq,
            via: format!("{} {}{}", via.transport, via.sent_by, via.params),
            method,
        })
    }

    pub(crate) fn with_method(self, method: Method) -> ServerKey {
        match self {
            ServerKey::Rfc3261 {
                branch, sent_by, ..
            } => ServerKey::Rfc3261 {
                branch,
                sent_by,
                method,
            },
            ServerKey::Rfc2543 {
                request_uri,
                from_tag,
                call_id,
                cseq,
                via,
                ..
            } => ServerKey::Rfc2543 {
                request_uri,
                from_tag,
                call_id,
                cseq,
                via,
                method,
            },
        }
    }
}
