//! Everything the user agent reports, on one ordered stream.

use std::fmt;
use std::time::Duration;

use crate::flow::FlowId;

/// Identifies one call for the life of the user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub u64);

impl fmt::Display for CallHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

/// Which side ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndedBy {
    /// This user agent (hang-up, reject, cancel).
    Local,
    /// The peer (BYE, CANCEL).
    Remote,
    /// Neither: a timeout or a transport failure.
    System,
}

/// Why a call ended, in words stable enough for scripts (`remote-bye`, `no-answer` ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndCause {
    /// A BYE from us.
    LocalBye,
    /// A BYE from the peer.
    RemoteBye,
    /// We cancelled before an answer.
    LocalCancel,
    /// The caller cancelled before we answered.
    RemoteCancel,
    /// We rejected the incoming call.
    Rejected,
    /// Nobody answered in time.
    NoAnswer,
    /// Requests went unanswered (Timer B/F) or a dialog request failed with 408/481.
    Timeout,
    /// The transport flow failed.
    TransportError,
    /// The peer answered the INVITE with a failure status.
    Failed,
    /// The media session failed (ICE found no path, the SDP could not be applied).
    MediaFailed,
    /// The RFC 4028 session timer ran out without a refresh from the peer.
    SessionExpired,
}

impl EndCause {
    /// The kebab-case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            EndCause::LocalBye => "local-bye",
            EndCause::RemoteBye => "remote-bye",
            EndCause::LocalCancel => "local-cancel",
            EndCause::RemoteCancel => "remote-cancel",
            EndCause::Rejected => "rejected",
            EndCause::NoAnswer => "no-answer",
            EndCause::Timeout => "timeout",
            EndCause::TransportError => "transport-error",
            EndCause::Failed => "failed",
            EndCause::MediaFailed => "media-failed",
            EndCause::SessionExpired => "session-expired",
        }
    }
}

/// How a DTMF digit travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtmfMethod {
    /// RFC 4733 telephone-events in the RTP stream.
    Rfc4733,
    /// SIP INFO with an `application/dtmf-relay` body.
    Info,
}

impl DtmfMethod {
    /// `rfc4733` or `info`, as in JSON output and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            DtmfMethod::Rfc4733 => "rfc4733",
            DtmfMethod::Info => "info",
        }
    }
}

/// Which side put a call on hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HoldSide {
    /// We did (our offer was `sendonly` or `inactive`).
    Local,
    /// The peer did.
    Remote,
}

/// Something the application should know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A transport flow came up.
    TransportConnected {
        /// The flow.
        flow: FlowId,
    },
    /// A transport flow went down.
    TransportDisconnected {
        /// The flow.
        flow: FlowId,
        /// Why.
        reason: String,
    },
    /// A connection attempt failed before any flow came up (connection refused, TLS
    /// handshake failed, UDP socket not bound); the transport retries by its back-off.
    /// [`TransportDisconnected`](Event::TransportDisconnected) reports losing a flow.
    TransportFailed {
        /// Why, naming the server.
        reason: String,
    },
    /// The registrar accepted our binding.
    Registered {
        /// The expiry the registrar granted.
        expires: Duration,
        /// The public GRUU, when the registrar offered one.
        gruu: Option<String>,
    },
    /// Our binding was removed.
    Unregistered,
    /// Registration failed.
    RegistrationFailed {
        /// The final status, `None` for a timeout or transport error.
        status: Option<u16>,
        /// A human-readable reason (never a password).
        reason: String,
        /// When the next automatic attempt is made, if any.
        retry_in: Option<Duration>,
    },
    /// We started a call.
    OutgoingCall {
        /// The call.
        call: CallHandle,
        /// The target URI.
        remote_uri: String,
    },
    /// A new incoming call.
    IncomingCall {
        /// The call.
        call: CallHandle,
        /// The caller's URI.
        remote_uri: String,
        /// The caller's display name.
        display_name: Option<String>,
        /// The caller's SDP offer; `None` when the INVITE had no body (the answer carries
        /// our offer and the ACK the remote answer).
        remote_sdp: Option<String>,
    },
    /// The callee's phone rings (180).
    Ringing {
        /// The call.
        call: CallHandle,
    },
    /// A provisional response with SDP (183 early media).
    EarlyMedia {
        /// The call.
        call: CallHandle,
        /// The remote SDP.
        sdp: String,
    },
    /// The remote SDP answer (or, after our offerless 2xx, the ACK's answer).
    RemoteAnswer {
        /// The call.
        call: CallHandle,
        /// The SDP.
        sdp: String,
    },
    /// The call was answered (2xx received or sent).
    Accepted {
        /// The call.
        call: CallHandle,
    },
    /// The dialog is confirmed (ACK sent or received).
    Confirmed {
        /// The call.
        call: CallHandle,
    },
    /// The peer sent a new offer (re-INVITE or UPDATE): answer it with
    /// `answer_reoffer` (the driver does this with the media session). `None` when its
    /// re-INVITE had no SDP: our answer is then an offer.
    RemoteOffer {
        /// The call.
        call: CallHandle,
        /// The offer.
        sdp: Option<String>,
    },
    /// A call was put on hold or taken off hold.
    HoldChanged {
        /// The call.
        call: CallHandle,
        /// Who holds.
        side: HoldSide,
        /// On hold now.
        held: bool,
    },
    /// Our re-INVITE failed without ending the call; the previous session stays.
    RenegotiationFailed {
        /// The call.
        call: CallHandle,
        /// The final status, `None` when it could not be sent.
        status: Option<u16>,
    },
    /// The call ended after being established or while ringing.
    Ended {
        /// The call.
        call: CallHandle,
        /// Who ended it.
        by: EndedBy,
        /// Why.
        cause: EndCause,
    },
    /// An outgoing call failed before being answered.
    Failed {
        /// The call.
        call: CallHandle,
        /// The final status, `None` for a timeout or transport error.
        status: Option<u16>,
        /// The reason phrase or a description.
        reason: String,
    },
    /// The peer sent a DTMF digit.
    DtmfReceived {
        /// The call.
        call: CallHandle,
        /// `0-9`, `*`, `#` or `A-D`.
        digit: char,
        /// How it came.
        method: DtmfMethod,
    },
    /// The peer asked us to call `target` (REFER, RFC 3515); report the new call's progress
    /// with `notify_transfer`.
    TransferRequested {
        /// The call that was referred.
        call: CallHandle,
        /// Where to call.
        target: String,
    },
    /// A NOTIFY about our REFER: the status the transfer target gave.
    TransferProgress {
        /// The call we transferred.
        call: CallHandle,
        /// The status in the sipfrag (100, 180, 200, 486 ...).
        status: u16,
    },
    /// The outcome of our MESSAGE.
    MessageSent {
        /// The target URI.
        to: String,
        /// The final status, `None` for a timeout or transport error.
        status: Option<u16>,
    },
    /// A MESSAGE (RFC 3428) arrived.
    MessageReceived {
        /// The sender's URI.
        from: String,
        /// The Content-Type.
        content_type: String,
        /// The body as text.
        body: String,
    },
}
