//! A virtual-time harness around the I/O-free core and a scripted registrar double.
#![allow(dead_code)]

pub mod pair;

use std::time::{Duration, Instant};

use sip_ua::values::{NameAddr, param};
use sip_ua::{
    CoreConfig, Credentials, Event, FlowId, Method, SipMessage, Transport, TransportEvent,
    UserAgentCore,
};

pub const FLOW: FlowId = FlowId(1);

/// One user agent core on a virtual clock, recording what it sends and when.
pub struct Harness {
    pub start: Instant,
    pub now: Instant,
    pub ua: UserAgentCore,
    /// Everything sent so far, with the time since `start`.
    pub sent: Vec<(Duration, SipMessage)>,
    pub events: Vec<Event>,
}

impl Harness {
    pub fn new(config: CoreConfig) -> Harness {
        let start = Instant::now();
        Harness {
            start,
            now: start,
            ua: UserAgentCore::new(config),
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn alice() -> CoreConfig {
        CoreConfig::new("sip:alice@example.com", Credentials::new("alice", "secret"))
            .with_rng_seed(1)
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    pub fn connect(&mut self, transport: Transport) {
        self.ua.handle_transport_event(
            self.now,
            TransportEvent::Connected {
                flow: FLOW,
                transport,
                local: "192.0.2.10:5062".into(),
            },
        );
        self.collect();
    }

    pub fn disconnect(&mut self) {
        self.ua.handle_transport_event(
            self.now,
            TransportEvent::Disconnected {
                flow: FLOW,
                reason: "closed".into(),
            },
        );
        self.collect();
    }

    /// Drains transmits and events; returns the messages sent in this step.
    pub fn collect(&mut self) -> Vec<SipMessage> {
        let mut new = Vec::new();
        while let Some(t) = self.ua.poll_transmit() {
            assert_eq!(t.flow, FLOW);
            new.push(t.message.clone());
            self.sent.push((self.elapsed(), t.message));
        }
        while let Some(e) = self.ua.poll_event() {
            self.events.push(e);
        }
        new
    }

    pub fn deliver(&mut self, message: SipMessage) -> Vec<SipMessage> {
        let message = pair::over_the_wire(&message);
        self.ua.handle_message(self.now, message, FLOW);
        self.collect()
    }

    /// Runs timers up to `elapsed` from the start; returns what was sent meanwhile.
    pub fn run_until(&mut self, elapsed: Duration) -> Vec<SipMessage> {
        let deadline = self.start + elapsed;
        let mut new = Vec::new();
        while let Some(t) = self.ua.poll_timeout() {
            if t > deadline {
                break;
            }
            self.now = self.now.max(t);
            self.ua.handle_timeout(self.now);
            new.extend(self.collect());
        }
        self.now = deadline.max(self.now);
        new
    }

    /// Runs timers until something is sent (or `limit` from the start passes).
    pub fn run_until_sent(&mut self, limit: Duration) -> Vec<SipMessage> {
        let deadline = self.start + limit;
        while let Some(t) = self.ua.poll_timeout() {
            if t > deadline {
                break;
            }
            self.now = self.now.max(t);
            self.ua.handle_timeout(self.now);
            let new = self.collect();
            if !new.is_empty() {
                return new;
            }
        }
        self.now = deadline.max(self.now);
        Vec::new()
    }

    pub fn run_for(&mut self, d: Duration) -> Vec<SipMessage> {
        let target = self.elapsed() + d;
        self.run_until(target)
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}

/// A registrar double: challenges every REGISTER without valid credentials, checks the MD5
/// digest itself, and answers with the scripted expiry.
pub struct Registrar {
    pub realm: String,
    pub password: String,
    pub nonce_counter: u32,
    pub expires: u32,
    pub bindings: u32,
}

impl Registrar {
    pub fn new(password: &str) -> Registrar {
        Registrar {
            realm: "example.com".into(),
            password: password.into(),
            nonce_counter: 0,
            expires: 600,
            bindings: 0,
        }
    }

    pub fn nonce(&self) -> String {
        format!("nonce{}", self.nonce_counter)
    }

    pub fn challenge(&mut self, request: &SipMessage, stale: bool) -> SipMessage {
        self.nonce_counter += 1;
        let mut r = SipMessage::response_to(request, 401);
        r.set_header("To", to_tagged(request));
        r.push_header(
            "WWW-Authenticate",
            format!(
                "Digest realm=\"{}\", nonce=\"{}\", qop=\"auth\", algorithm=MD5{}",
                self.realm,
                self.nonce(),
                if stale { ", stale=true" } else { "" }
            ),
        );
        r
    }

    /// Whether the request's Authorization is right for the current nonce, checked with
    /// sip-proto's server-side verification.
    pub fn authorized(&self, request: &SipMessage) -> bool {
        let Some(value) = request.header("Authorization") else {
            return false;
        };
        let Ok(credentials) = sip_proto::values::Credentials::parse(value) else {
            return false;
        };
        let nonce_ok = credentials.params.text("nonce").as_deref() == Some(self.nonce().as_str());
        nonce_ok
            && sip_proto::digest::verify(
                &credentials,
                "REGISTER",
                &request.body,
                "alice",
                &sip_proto::digest::Password::new(self.password.clone()),
            )
            .unwrap_or(false)
    }

    /// 200 OK echoing the Contact with the granted expiry.
    pub fn accept(&mut self, request: &SipMessage) -> SipMessage {
        let mut r = SipMessage::response_to(request, 200);
        r.set_header("To", to_tagged(request));
        let contact = request.header("Contact").unwrap().to_owned();
        let requested: u32 = request.header("Expires").unwrap().parse().unwrap();
        if requested == 0 {
            self.bindings = 0;
        } else {
            let c = NameAddr::parse(&contact).unwrap();
            r.push_header(
                "Contact",
                format!("<{}>;expires={}", c.uri, self.expires.min(requested)),
            );
            self.bindings = 1;
        }
        r
    }

    /// The usual registrar: challenge, then accept valid credentials.
    pub fn handle(&mut self, request: &SipMessage) -> SipMessage {
        assert_eq!(request.method(), Some(&Method::Register));
        if self.authorized(request) {
            self.accept(request)
        } else {
            self.challenge(request, false)
        }
    }
}

pub fn to_tagged(request: &SipMessage) -> String {
    NameAddr::parse(request.header("To").unwrap())
        .unwrap()
        .with_tag("reg1")
        .to_string()
}

pub fn contact_param<'a>(request: &'a SipMessage, name: &str) -> Option<Option<&'a str>> {
    let contact = request.header("Contact")?;
    let i = contact.find('>')?;
    param(&contact[i + 1..], name)
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}
