//! The I/O-free core's own cost: a whole call (INVITE/180/200/ACK/BYE/200) between two cores,
//! and a digest registration (REGISTER/401/REGISTER/200) against a registrar double, every
//! message serialised and re-parsed by sip-proto as the transport would.
//!
//! A third case measures one timer tick (`handle_timeout` plus `poll_timeout`) of a core with
//! 1,000 live transactions (MESSAGE requests over UDP waiting for their responses), the
//! per-tick cost a load program with many agents pays.
//!
//! `cargo bench -p sip-ua --bench core`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use sip_ua::{
    CoreConfig, Credentials, Event, FlowId, SipMessage, Transport, TransportEvent, UserAgentCore,
};

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

fn core(user: &str, seed: u64, register: bool) -> UserAgentCore {
    let config = CoreConfig::new(
        format!("sip:{user}@example.com"),
        Credentials::new(user, "pw"),
    )
    .with_register(register)
    .with_rng_seed(seed);
    let mut ua = UserAgentCore::new(config);
    ua.handle_transport_event(
        Instant::now(),
        TransportEvent::Connected {
            flow: FlowId(1),
            transport: Transport::Ws,
            local: "127.0.0.1:5000".into(),
        },
    );
    while ua.poll_event().is_some() {}
    ua
}

fn wire(message: &SipMessage) -> SipMessage {
    SipMessage::parse(&message.to_bytes()).expect("our own message parses")
}

/// Moves every pending message between the two cores; returns how many moved.
fn pump(a: &mut UserAgentCore, b: &mut UserAgentCore, now: Instant) -> usize {
    let mut moved = 0;
    loop {
        let mut any = false;
        while let Some(t) = a.poll_transmit() {
            b.handle_message(now, wire(&t.message), FlowId(1));
            any = true;
            moved += 1;
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_message(now, wire(&t.message), FlowId(1));
            any = true;
            moved += 1;
        }
        if !any {
            return moved;
        }
    }
}

/// One call at virtual time `now`; the clock then moves past every linger timer (the
/// RFC 6026 Timer M keeps the INVITE transaction 32 s).
fn one_call(a: &mut UserAgentCore, b: &mut UserAgentCore, clock: &mut Instant) {
    let now = *clock;
    *clock += std::time::Duration::from_secs(40);
    let call = a.invite(now, "bob", Some(SDP)).unwrap();
    pump(a, b, now);
    let callee = std::iter::from_fn(|| b.poll_event())
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(call),
            _ => None,
        })
        .expect("incoming call");
    b.answer(now, callee, Some(SDP)).unwrap();
    pump(a, b, now);
    a.hangup(now, call).unwrap();
    let moved = pump(a, b, now);
    assert_eq!(moved, 2, "BYE and its 200");
    while a.poll_event().is_some() {}
    while b.poll_event().is_some() {}
    a.handle_timeout(*clock);
    b.handle_timeout(*clock);
    assert_eq!((a.active_calls(), b.active_calls()), (0, 0));
    assert_eq!(
        a.transaction_counts(),
        (0, 0),
        "nothing leaks from call to call"
    );
}

fn registration(ua: &mut UserAgentCore) {
    let now = Instant::now();
    ua.register(now).unwrap();
    let register = wire(&ua.poll_transmit().unwrap().message);
    let mut challenge = SipMessage::response_to(&register, 401);
    challenge.push_header(
        "WWW-Authenticate",
        "Digest realm=\"example.com\", nonce=\"abcdef0123456789\", qop=\"auth\", algorithm=MD5",
    );
    ua.handle_message(now, wire(&challenge), FlowId(1));
    let authorized = wire(&ua.poll_transmit().unwrap().message);
    assert!(authorized.header("Authorization").is_some());
    let mut ok = SipMessage::response_to(&authorized, 200);
    ok.push_header("Contact", authorized.header("Contact").unwrap());
    ua.handle_message(now, wire(&ok), FlowId(1));
    assert!(ua.is_registered());
    while ua.poll_event().is_some() {}
    ua.handle_timeout(now);
}

/// A core on UDP with `n` MESSAGE client transactions waiting for responses.
fn busy_core(n: usize, now: Instant) -> UserAgentCore {
    let config = CoreConfig::new("sip:dave@example.com", Credentials::new("dave", "pw"))
        .with_register(false)
        .with_rng_seed(4);
    let mut ua = UserAgentCore::new(config);
    ua.handle_transport_event(
        now,
        TransportEvent::Connected {
            flow: FlowId(1),
            transport: Transport::Udp,
            local: "127.0.0.1:5060".into(),
        },
    );
    for i in 0..n {
        let at = now + std::time::Duration::from_micros(i as u64);
        ua.send_message(at, &format!("user{i}"), "text/plain", "hello")
            .unwrap();
    }
    while ua.poll_transmit().is_some() {}
    while ua.poll_event().is_some() {}
    assert_eq!(ua.transaction_counts(), (n, 0));
    ua
}

fn benches(c: &mut Criterion) {
    let start = Instant::now();
    let mut busy = busy_core(1000, start);
    // Timer E first fires 500 ms after each request: a tick 1 ms in finds nothing due.
    let tick = start + std::time::Duration::from_millis(1);
    c.bench_function(
        "core: timer tick with 1,000 live transactions (handle_timeout + poll_timeout)",
        |bench| {
            bench.iter(|| {
                busy.handle_timeout(tick);
                std::hint::black_box(busy.poll_timeout())
            });
        },
    );
    assert_eq!(busy.transaction_counts(), (1000, 0));

    let mut a = core("alice", 1, false);
    let mut b = core("bob", 2, false);
    let mut clock = Instant::now();
    c.bench_function(
        "core: call setup and teardown (6 messages, both cores)",
        |bench| {
            bench.iter(|| one_call(&mut a, &mut b, &mut clock));
        },
    );
    let mut ua = core("carol", 3, true);
    while ua.poll_transmit().is_some() {}
    c.bench_function("core: digest registration (4 messages)", |bench| {
        bench.iter(|| registration(&mut ua));
    });
}

criterion_group!(core_benches, benches);
criterion_main!(core_benches);
