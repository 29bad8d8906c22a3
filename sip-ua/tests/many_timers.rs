//! The timer queue under many transactions, on virtual time: 1,000 MESSAGE requests over UDP,
//! half of them answered after a second. Every unanswered one keeps Timer E's schedule
//! (0, .5, 1.5, 3.5, 7.5 s, then every T2 = 4 s) and fails at Timer F (32 s); every answered
//! one stops retransmitting at once and is gone after Timer K (T4 = 5 s). Nothing fires early,
//! late or twice, and the next timeout is always the earliest pending one.

mod common;

use std::collections::HashMap;

use common::pair::config;
use common::*;
use sip_ua::{Event, Method, SipMessage, Transport};

const N: usize = 1000;

#[test]
fn a_thousand_transactions_keep_their_timers() {
    let mut h = Harness::new(config("alice", 1));
    h.connect(Transport::Udp);
    for i in 0..N {
        h.ua.send_message(h.now, &format!("user{i}"), "text/plain", "hi")
            .unwrap();
    }
    let first = h.collect();
    assert_eq!(first.len(), N);
    assert_eq!(h.ua.transaction_counts(), (N, 0));
    assert_eq!(h.ua.poll_timeout(), Some(h.start + ms(500)));

    h.run_until(secs(1));
    // Answer every other request (by its target's number).
    for request in first.iter().filter(|m| user_number(m) % 2 == 0) {
        let mut ok = SipMessage::response_to(request, 200);
        let to = ok.to_header().unwrap().with_tag("t");
        ok.set_header("To", to.to_string());
        h.deliver(ok);
    }
    h.run_until(secs(40));

    let mut sends: HashMap<usize, Vec<u128>> = HashMap::new();
    for (at, m) in &h.sent {
        if m.method() == Some(&Method::Message) {
            sends
                .entry(user_number(m))
                .or_default()
                .push(at.as_millis());
        }
    }
    assert_eq!(sends.len(), N);
    for (user, times) in &sends {
        if user % 2 == 0 {
            assert_eq!(times, &[0, 500], "answered user{user}");
        } else {
            assert_eq!(
                times,
                &[
                    0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
                ],
                "unanswered user{user}"
            );
        }
    }
    let outcomes: Vec<Option<u16>> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::MessageSent { status, .. } => Some(*status),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes.len(), N, "one outcome per request");
    assert_eq!(outcomes.iter().filter(|s| **s == Some(200)).count(), N / 2);
    assert_eq!(outcomes.iter().filter(|s| s.is_none()).count(), N / 2);
    assert_eq!(h.ua.transaction_counts(), (0, 0));
    assert_eq!(h.ua.poll_timeout(), None, "no stale deadline left behind");
}

#[test]
fn answered_transactions_leave_after_timer_k() {
    let mut h = Harness::new(config("alice", 1));
    h.connect(Transport::Udp);
    for i in 0..N {
        h.ua.send_message(h.now, &format!("user{i}"), "text/plain", "hi")
            .unwrap();
    }
    for request in h.collect() {
        let mut ok = SipMessage::response_to(&request, 200);
        let to = ok.to_header().unwrap().with_tag("t");
        ok.set_header("To", to.to_string());
        h.deliver(ok);
    }
    // Timer E is cancelled for all of them: the next deadline is Timer K, T4 later.
    assert_eq!(h.ua.poll_timeout(), Some(h.start + secs(5)));
    h.run_until(ms(4999));
    assert_eq!(h.ua.transaction_counts(), (N, 0));
    h.run_until(secs(5));
    assert_eq!(h.ua.transaction_counts(), (0, 0));
    assert_eq!(h.ua.poll_timeout(), None);
}

fn user_number(m: &SipMessage) -> usize {
    let uri = m.request_uri().unwrap();
    uri.trim_start_matches("sip:user")
        .split('@')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
