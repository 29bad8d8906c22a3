//! Re-INVITE hold and resume both ways, and glare with the RFC 3261 §14.1 timers.

mod common;

use common::pair::{Pair, Side};
use common::*;
use sip_ua::{CallHandle, Event, HoldSide, Method, Transport};

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
const HOLD: &str = "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
const ANSWER: &str = "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n";
const HELD_ANSWER: &str = "v=0\r\no=- 2 3 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=recvonly\r\n";

fn established(transport: Transport) -> (Pair, CallHandle, CallHandle) {
    let mut p = Pair::new(transport);
    let call = p.a.invite(p.now, "bob", Some(OFFER)).unwrap();
    p.pump();
    let callee = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(*call),
            _ => None,
        })
        .unwrap();
    p.b.answer(p.now, callee, Some(ANSWER)).unwrap();
    p.pump();
    p.events_a.clear();
    p.events_b.clear();
    p.log.clear();
    (p, call, callee)
}

/// Answers every RemoteOffer Bob gets with `answer`.
fn bob_answers(p: &mut Pair, answer: &str) {
    let offers: Vec<CallHandle> = p
        .events_b
        .iter()
        .filter_map(|e| match e {
            Event::RemoteOffer { call, .. } => Some(*call),
            _ => None,
        })
        .collect();
    for call in offers {
        p.b.answer_reoffer(p.now, call, answer).unwrap();
    }
    p.events_b
        .retain(|e| !matches!(e, Event::RemoteOffer { .. }));
    p.pump();
}

#[test]
fn hold_and_resume_by_reinvite() {
    let (mut p, call, callee) = established(Transport::Ws);
    p.a.reinvite(p.now, call, HOLD).unwrap();
    p.pump();
    assert!(p.events_b.contains(&Event::HoldChanged {
        call: callee,
        side: HoldSide::Remote,
        held: true
    }));
    assert!(p.events_b.contains(&Event::RemoteOffer {
        call: callee,
        sdp: Some(HOLD.into())
    }));
    bob_answers(&mut p, HELD_ANSWER);
    assert_eq!(p.flow(), ["A: INVITE", "B: 200 INVITE", "A: ACK"]);
    let reinvite = &p.log[0].2;
    assert_eq!(reinvite.header("CSeq"), Some("2 INVITE"));
    assert!(
        reinvite.to_header().unwrap().tag().is_some(),
        "in the dialog"
    );
    assert!(p.events_a.contains(&Event::RemoteAnswer {
        call,
        sdp: HELD_ANSWER.into()
    }));
    assert!(p.events_a.contains(&Event::HoldChanged {
        call,
        side: HoldSide::Local,
        held: true
    }));
    // Resume.
    p.a.reinvite(p.now, call, OFFER).unwrap();
    p.pump();
    bob_answers(&mut p, ANSWER);
    assert!(p.events_a.contains(&Event::HoldChanged {
        call,
        side: HoldSide::Local,
        held: false
    }));
    assert!(p.events_b.contains(&Event::HoldChanged {
        call: callee,
        side: HoldSide::Remote,
        held: false
    }));
    // No second Confirmed/Accepted for a re-INVITE; the call is still up.
    assert!(
        !p.events_b
            .iter()
            .any(|e| matches!(e, Event::Confirmed { .. } | Event::Ended { .. }))
    );
    assert_eq!(p.b.active_calls(), 1);
    // The callee can renegotiate too.
    p.b.reinvite(p.now, callee, HOLD).unwrap();
    p.pump();
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::RemoteOffer { .. }))
    );
}

#[test]
fn glare_gets_491_and_each_side_retries_after_its_14_1_delay() {
    let (mut p, call, callee) = established(Transport::Ws);
    // Both offer at the same moment: deliver neither until both are sent.
    p.a.reinvite(p.now, call, HOLD).unwrap();
    p.b.reinvite(p.now, callee, HOLD).unwrap();
    p.pump();
    let statuses: Vec<_> = p
        .log
        .iter()
        .filter_map(|(_, s, m)| m.status().map(|st| (*s, st)))
        .collect();
    assert_eq!(statuses, [(Side::B, 491), (Side::A, 491)], "{:?}", p.flow());
    p.log.clear();
    // Alice owns the Call-ID (she called): 2.1-4 s. Bob: 0-2 s, so Bob retries first.
    p.run_for(secs(5));
    let invites: Vec<_> = p
        .log
        .iter()
        .filter(|(_, _, m)| m.method() == Some(&Method::Invite))
        .map(|(t, s, _)| (*s, *t))
        .collect();
    assert!(!invites.is_empty());
    assert_eq!(invites[0].0, Side::B, "{invites:?}");
    assert!(invites[0].1 <= secs(2), "{invites:?}");
    bob_answers(&mut p, ANSWER);
    // Alice answers Bob's offer, then her own retry goes through.
    let offers: Vec<CallHandle> = p
        .events_a
        .iter()
        .filter_map(|e| match e {
            Event::RemoteOffer { call, .. } => Some(*call),
            _ => None,
        })
        .collect();
    for c in offers {
        p.a.answer_reoffer(p.now, c, HELD_ANSWER).unwrap();
    }
    p.pump();
    p.run_for(secs(5));
    bob_answers(&mut p, HELD_ANSWER);
    let alice_retry = p
        .log
        .iter()
        .find(|(_, s, m)| *s == Side::A && m.method() == Some(&Method::Invite))
        .map(|(t, _, _)| *t)
        .expect("Alice retried");
    assert!(alice_retry >= ms(2100), "{alice_retry:?}");
    assert!(p.events_a.contains(&Event::HoldChanged {
        call,
        side: HoldSide::Local,
        held: true
    }));
    assert_eq!((p.a.active_calls(), p.b.active_calls()), (1, 1));
}

#[test]
fn reinvite_while_an_offer_is_pending_is_refused() {
    let (mut p, call, _callee) = established(Transport::Ws);
    p.a.reinvite(p.now, call, HOLD).unwrap();
    assert!(p.a.reinvite(p.now, call, OFFER).is_err());
    assert!(
        p.a.answer_reoffer(p.now, call, OFFER).is_err(),
        "no offer to answer"
    );
}

#[test]
fn a_rejected_reoffer_keeps_the_call() {
    let (mut p, call, callee) = established(Transport::Ws);
    p.a.reinvite(p.now, call, HOLD).unwrap();
    p.pump();
    p.b.reject_reoffer(p.now, callee, 488).unwrap();
    p.pump();
    assert!(p.events_a.contains(&Event::RenegotiationFailed {
        call,
        status: Some(488)
    }));
    assert_eq!((p.a.active_calls(), p.b.active_calls()), (1, 1));
    p.a.hangup(p.now, call).unwrap();
    p.pump();
    assert_eq!((p.a.active_calls(), p.b.active_calls()), (0, 0));
}

#[test]
fn session_timer_refreshed_by_update_keeps_the_call_and_a_missing_refresh_ends_it() {
    let (mut p, call, callee) = established(Transport::Ws);
    // Bob's 200 set the timer (90 s, Alice refreshes).
    p.run_until(secs(200));
    let updates: Vec<_> = p
        .log
        .iter()
        .filter(|(_, s, m)| *s == Side::A && m.method() == Some(&Method::Update))
        .map(|(t, _, m)| (t.as_secs(), m.header("Session-Expires").map(str::to_owned)))
        .collect();
    assert_eq!(
        updates,
        [
            (45, Some("90;refresher=uac".to_owned())),
            (90, Some("90;refresher=uac".to_owned())),
            (135, Some("90;refresher=uac".to_owned())),
            (180, Some("90;refresher=uac".to_owned())),
        ]
    );
    assert!(
        !p.events_a
            .iter()
            .chain(&p.events_b)
            .any(|e| matches!(e, Event::Ended { .. }))
    );
    // Alice's refreshes stop reaching Bob: he ends the call 60 s after the last one.
    p.drop = Box::new(|side, m| side == Side::A && m.method() == Some(&Method::Update));
    p.run_until(secs(300));
    assert!(p.events_b.contains(&Event::Ended {
        call: callee,
        by: sip_ua::EndedBy::System,
        cause: sip_ua::EndCause::SessionExpired
    }));
    let bye_at = p
        .log
        .iter()
        .find(|(_, s, m)| *s == Side::B && m.method() == Some(&Method::Bye))
        .map(|(t, _, _)| t.as_secs());
    assert_eq!(bye_at, Some(240), "60 s after the refresh at 180 s");
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::Ended { call: c, .. } if *c == call))
    );
}

#[test]
fn the_answer_carries_session_expires_and_require_timer() {
    let mut p = Pair::new(Transport::Ws);
    p.a.invite(p.now, "bob", Some(OFFER)).unwrap();
    p.pump();
    let invite = &p.log[0].2;
    assert_eq!(invite.header("Session-Expires"), Some("90"));
    assert!(invite.header("Supported").unwrap().contains("timer"));
    let callee = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(*call),
            _ => None,
        })
        .unwrap();
    p.b.answer(p.now, callee, Some(ANSWER)).unwrap();
    p.pump();
    let ok = &p
        .log
        .iter()
        .find(|(_, _, m)| m.status() == Some(200))
        .unwrap()
        .2;
    assert_eq!(ok.header("Session-Expires"), Some("90;refresher=uac"));
    assert_eq!(ok.header("Require"), Some("timer"));
}
