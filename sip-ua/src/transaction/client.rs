//! Client transactions: INVITE (Timers A, B, D, M) and non-INVITE (Timers E, F, K).

use std::time::{Duration, Instant};

use crate::flow::{FlowId, TimerConfig, Transmit};
use crate::message::{Method, SipMessage};

/// What a client transaction tells its user.
#[derive(Debug, Clone)]
pub(crate) enum ClientEvent {
    /// A provisional response.
    Provisional(SipMessage),
    /// A final response (for INVITE, every 2xx while Accepted, RFC 6026).
    Final(SipMessage),
    /// Timer B or F fired: no final response.
    Timeout,
    /// The flow failed.
    TransportError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Calling (INVITE) or Trying (non-INVITE).
    Trying,
    Proceeding,
    Completed,
    /// INVITE after a 2xx (RFC 6026 Timer M).
    Accepted,
    Terminated,
}

#[derive(Debug)]
pub(crate) struct ClientTx {
    pub(crate) request: SipMessage,
    pub(crate) flow: FlowId,
    invite: bool,
    reliable: bool,
    timers: TimerConfig,
    state: State,
    /// Timer A or E.
    retransmit_at: Option<Instant>,
    interval: Duration,
    /// Timer B or F.
    timeout_at: Option<Instant>,
    /// Timer D, K or M.
    end_at: Option<Instant>,
    /// The ACK for a non-2xx final, resent on each retransmitted final.
    ack: Option<SipMessage>,
    /// The deadline queued for this transaction in the layer's timer queue.
    pub(crate) scheduled: Option<Instant>,
}

impl ClientTx {
    pub(crate) fn start(
        now: Instant,
        request: SipMessage,
        flow: FlowId,
        reliable: bool,
        timers: TimerConfig,
        out: &mut Vec<Transmit>,
    ) -> ClientTx {
        let invite = request.method() == Some(&Method::Invite);
        out.push(Transmit {
            flow,
            message: request.clone(),
        });
        ClientTx {
            request,
            flow,
            invite,
            reliable,
            timers,
            state: State::Trying,
            retransmit_at: (!reliable).then(|| now + timers.t1),
            interval: timers.t1,
            timeout_at: Some(now + timers.timeout()),
            end_at: None,
            ack: None,
            scheduled: None,
        }
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        [self.retransmit_at, self.timeout_at, self.end_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Moves to Terminated after a transport error; `false` if it was already done.
    pub(crate) fn fail(&mut self) -> bool {
        let pending = matches!(self.state, State::Trying | State::Proceeding);
        self.state = State::Terminated;
        pending
    }

    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        response: &SipMessage,
        out: &mut Vec<Transmit>,
    ) -> Option<ClientEvent> {
        let status = response.status()?;
        match (self.state, status) {
            (State::Trying | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                if self.invite {
                    // §17.1.1.2: a provisional stops Timers A and B; the TU's no-answer
                    // timer bounds the ringing.
                    self.retransmit_at = None;
                    self.timeout_at = None;
                } else if !self.reliable {
                    // §17.1.2.2: in Proceeding, retransmit every T2.
                    self.interval = self.timers.t2;
                    self.retransmit_at = Some(now + self.timers.t2);
                }
                Some(ClientEvent::Provisional(response.clone()))
            }
            (State::Trying | State::Proceeding, 200..=299) if self.invite => {
                self.state = State::Accepted;
                self.retransmit_at = None;
                self.timeout_at = None;
                self.end_at = Some(now + self.timers.timeout());
                Some(ClientEvent::Final(response.clone()))
            }
            (State::Accepted, 200..=299) => Some(ClientEvent::Final(response.clone())),
            (State::Trying | State::Proceeding, 200..=699) => {
                self.state = State::Completed;
                self.retransmit_at = None;
                self.timeout_at = None;
                let linger = if self.reliable {
                    Duration::ZERO
                } else if self.invite {
                    // Timer D: at least 32 s over unreliable transports.
                    Duration::from_secs(32).max(self.timers.timeout())
                } else {
                    self.timers.t4
                };
                self.end_at = Some(now + linger);
                if self.invite {
                    let ack = ack_for_non_2xx(&self.request, response);
                    out.push(Transmit {
                        flow: self.flow,
                        message: ack.clone(),
                    });
                    self.ack = Some(ack);
                }
                Some(ClientEvent::Final(response.clone()))
            }
            (State::Completed, 300..=699) => {
                // A retransmitted final: re-ACK (INVITE) and absorb.
                if let Some(ack) = &self.ack {
                    out.push(Transmit {
                        flow: self.flow,
                        message: ack.clone(),
                    });
                }
                None
            }
            _ => None,
        }
    }

    pub(crate) fn on_timeout(
        &mut self,
        now: Instant,
        out: &mut Vec<Transmit>,
    ) -> Option<ClientEvent> {
        if self.end_at.is_some_and(|t| t <= now) {
            self.state = State::Terminated;
            self.end_at = None;
            return None;
        }
        if self.timeout_at.is_some_and(|t| t <= now) {
            self.state = State::Terminated;
            self.timeout_at = None;
            self.retransmit_at = None;
            return Some(ClientEvent::Timeout);
        }
        if let Some(at) = self.retransmit_at.filter(|t| *t <= now) {
            out.push(Transmit {
                flow: self.flow,
                message: self.request.clone(),
            });
            self.interval = if self.invite {
                self.interval * 2
            } else if self.state == State::Proceeding {
                self.timers.t2
            } else {
                (self.interval * 2).min(self.timers.t2)
            };
            self.retransmit_at = Some(at + self.interval);
        }
        None
    }
}

/// The ACK for a non-2xx final response (§17.1.1.3): same Request-URI, Call-ID, From, top
/// Via and Route as the INVITE, To from the response, CSeq number with method ACK.
pub(crate) fn ack_for_non_2xx(invite: &SipMessage, response: &SipMessage) -> SipMessage {
    let mut ack = SipMessage::request(Method::Ack, invite.request_uri().unwrap_or_default());
    if let Some(via) = invite.values("Via").next() {
        ack.push_header("Via", via);
    }
    ack.push_header("Max-Forwards", "70");
    for name in ["From", "Call-ID"] {
        if let Some(value) = invite.header(name) {
            ack.push_header(name, value);
        }
    }
    if let Some(to) = response.header("To") {
        ack.push_header("To", to);
    }
    if let Some(cseq) = invite.cseq() {
        ack.push_header("CSeq", format!("{} ACK", cseq.seq));
    }
    for route in invite.header_values_raw("Route") {
        ack.push_header("Route", route);
    }
    ack
}
