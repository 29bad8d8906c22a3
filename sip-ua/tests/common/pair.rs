//! Two user agent cores wired back to back on one virtual clock.

use std::time::{Duration, Instant};

use sip_ua::{
    CoreConfig, Credentials, Event, FlowId, SipMessage, Transport, TransportEvent, UserAgentCore,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

pub type DropRule = Box<dyn FnMut(Side, &SipMessage) -> bool>;

pub struct Pair {
    pub start: Instant,
    pub now: Instant,
    pub a: UserAgentCore,
    pub b: UserAgentCore,
    /// Every message sent, with the time and the sender.
    pub log: Vec<(Duration, Side, SipMessage)>,
    pub events_a: Vec<Event>,
    pub events_b: Vec<Event>,
    /// Messages for which this returns true are lost.
    pub drop: DropRule,
}

pub fn config(user: &str, seed: u64) -> CoreConfig {
    CoreConfig::new(
        format!("sip:{user}@example.com"),
        Credentials::new(user, "pw"),
    )
    .with_register(false)
    .with_rng_seed(seed)
}

impl Pair {
    pub fn new(transport: Transport) -> Pair {
        Pair::with(config("alice", 1), config("bob", 2), transport)
    }

    pub fn with(a: CoreConfig, b: CoreConfig, transport: Transport) -> Pair {
        let start = Instant::now();
        let mut pair = Pair {
            start,
            now: start,
            a: UserAgentCore::new(a),
            b: UserAgentCore::new(b),
            log: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
            drop: Box::new(|_, _| false),
        };
        for (ua, local) in [
            (&mut pair.a, "10.0.0.1:5060"),
            (&mut pair.b, "10.0.0.2:5060"),
        ] {
            ua.handle_transport_event(
                start,
                TransportEvent::Connected {
                    flow: FlowId(1),
                    transport,
                    local: local.into(),
                },
            );
        }
        pair.pump();
        pair.events_a.clear();
        pair.events_b.clear();
        pair
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Moves messages between the two until both are quiet.
    pub fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit() {
                moved = true;
                self.log
                    .push((self.now - self.start, Side::A, t.message.clone()));
                if !(self.drop)(Side::A, &t.message) {
                    self.b
                        .handle_message(self.now, over_the_wire(&t.message), FlowId(1));
                }
            }
            while let Some(t) = self.b.poll_transmit() {
                moved = true;
                self.log
                    .push((self.now - self.start, Side::B, t.message.clone()));
                if !(self.drop)(Side::B, &t.message) {
                    self.a
                        .handle_message(self.now, over_the_wire(&t.message), FlowId(1));
                }
            }
            if !moved {
                break;
            }
        }
        while let Some(e) = self.a.poll_event() {
            self.events_a.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.events_b.push(e);
        }
    }

    /// Runs both clocks to `elapsed` from the start, pumping after every timer.
    pub fn run_until(&mut self, elapsed: Duration) {
        let deadline = self.start + elapsed;
        loop {
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= deadline => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                    self.pump();
                }
                _ => break,
            }
        }
        self.now = self.now.max(deadline);
    }

    pub fn run_for(&mut self, d: Duration) {
        let target = self.elapsed() + d;
        self.run_until(target);
    }

    /// The summaries of what was sent, `A: INVITE sip:...`, in order.
    pub fn flow(&self) -> Vec<String> {
        self.log
            .iter()
            .map(|(_, side, m)| {
                let line = match m.status() {
                    Some(status) => format!(
                        "{status} {}",
                        m.cseq().map(|c| c.method.to_string()).unwrap_or_default()
                    ),
                    None => m.method().map(|m| m.to_string()).unwrap_or_default(),
                };
                format!("{side:?}: {line}")
            })
            .collect()
    }
}

/// Serialises and re-parses with sip-proto, as the transport would.
pub fn over_the_wire(message: &SipMessage) -> SipMessage {
    let bytes = message.to_bytes();
    SipMessage::parse(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
}
