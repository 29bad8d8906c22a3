//! Server transactions: INVITE (100 Trying after 200 ms, Timers G, H, I, L) and non-INVITE
//! (Timer J).

use std::time::{Duration, Instant};

use crate::flow::{FlowId, TimerConfig, Transmit};
use crate::message::{Method, SipMessage};

/// How long an INVITE may wait for the transaction user before we send 100 Trying (§17.2.1).
const TRYING_DELAY: Duration = Duration::from_millis(200);

/// What a server transaction tells its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerEvent {
    /// Timer H: the ACK for our non-2xx final never came.
    AckTimeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    Completed,
    /// INVITE: ACK received for a non-2xx final.
    Confirmed,
    /// INVITE after a 2xx (RFC 6026 Timer L).
    Accepted,
    Terminated,
}

#[derive(Debug)]
pub(crate) struct ServerTx {
    pub(crate) request: SipMessage,
    pub(crate) flow: FlowId,
    invite: bool,
    reliable: bool,
    timers: TimerConfig,
    state: State,
    last_response: Option<SipMessage>,
    trying_at: Option<Instant>,
    /// Timer G.
    retransmit_at: Option<Instant>,
    interval: Duration,
    /// Timer H or L.
    timeout_at: Option<Instant>,
    /// Timer I or J.
    end_at: Option<Instant>,
    /// The deadline queued for this transaction in the layer's timer queue.
    pub(crate) scheduled: Option<Instant>,
}

impl ServerTx {
    pub(crate) fn new(
        now: Instant,
        request: SipMessage,
        flow: FlowId,
        reliable: bool,
        timers: TimerConfig,
    ) -> ServerTx {
        let invite = request.method() == Some(&Method::Invite);
        ServerTx {
            request,
            flow,
            invite,
            reliable,
            timers,
            state: if invite {
                State::Proceeding
            } else {
                State::Trying
            },
            last_response: None,
            trying_at: invite.then_some(now + TRYING_DELAY),
            retransmit_at: None,
            interval: timers.t1,
            timeout_at: None,
            end_at: None,
            scheduled: None,
        }
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub(crate) fn has_final(&self) -> bool {
        !matches!(self.state, State::Trying | State::Proceeding)
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        [
            self.trying_at,
            self.retransmit_at,
            self.timeout_at,
            self.end_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn send(&self, out: &mut Vec<Transmit>, message: SipMessage) {
        out.push(Transmit {
            flow: self.flow,
            message,
        });
    }

    /// A retransmitted request: resend the last response, if any (§17.2.1, §17.2.2).
    pub(crate) fn on_retransmission(&mut self, out: &mut Vec<Transmit>) {
        if matches!(self.state, State::Proceeding | State::Completed)
            && let Some(response) = &self.last_response
        {
            self.send(out, response.clone());
        }
    }

    /// An ACK: `true` when it acknowledged our non-2xx final (absorbed here).
    pub(crate) fn on_ack(&mut self, now: Instant) -> bool {
        match self.state {
            State::Completed if self.invite => {
                self.state = State::Confirmed;
                self.retransmit_at = None;
                self.timeout_at = None;
                self.end_at = Some(
                    now + if self.reliable {
                        Duration::ZERO
                    } else {
                        self.timers.t4
                    },
                );
                true
            }
            State::Confirmed => true,
            _ => false,
        }
    }

    pub(crate) fn respond(
        &mut self,
        now: Instant,
        response: SipMessage,
        out: &mut Vec<Transmit>,
    ) -> bool {
        let Some(status) = response.status() else {
            return false;
        };
        if self.has_final() {
            return false;
        }
        self.trying_at = None;
        self.send(out, response.clone());
        self.last_response = Some(response);
        match status {
            100..=199 => self.state = State::Proceeding,
            200..=299 if self.invite => {
                // The transaction user retransmits the 2xx until the ACK (§13.3.1.4).
                self.state = State::Accepted;
                self.timeout_at = Some(now + self.timers.timeout());
            }
            _ if self.invite => {
                self.state = State::Completed;
                if !self.reliable {
                    self.retransmit_at = Some(now + self.timers.t1);
                }
                self.timeout_at = Some(now + self.timers.timeout());
            }
            _ => {
                self.state = State::Completed;
                self.end_at = Some(
                    now + if self.reliable {
                        Duration::ZERO
                    } else {
                        self.timers.timeout()
                    },
                );
            }
        }
        true
    }

    pub(crate) fn on_timeout(
        &mut self,
        now: Instant,
        out: &mut Vec<Transmit>,
    ) -> Option<ServerEvent> {
        if self.end_at.is_some_and(|t| t <= now) {
            self.state = State::Terminated;
            return None;
        }
        if self.timeout_at.is_some_and(|t| t <= now) {
            let was_completed = self.state == State::Completed;
            self.state = State::Terminated;
            return was_completed.then_some(ServerEvent::AckTimeout);
        }
        if self.trying_at.is_some_and(|t| t <= now) {
            self.trying_at = None;
            let trying = SipMessage::response_to(&self.request, 100);
            self.send(out, trying.clone());
            self.last_response = Some(trying);
        }
        if let Some(at) = self.retransmit_at.filter(|t| *t <= now) {
            if let Some(response) = &self.last_response {
                self.send(out, response.clone());
            }
            self.interval = (self.interval * 2).min(self.timers.t2);
            self.retransmit_at = Some(at + self.interval);
        }
        None
    }
}
