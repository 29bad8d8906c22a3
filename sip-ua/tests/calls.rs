//! Calls between two cores on virtual time, and against a scripted peer for the races.

mod common;

use common::pair::{Pair, Side, config};
use common::*;
use sip_ua::{CallHandle, EndCause, EndedBy, Event, Method, SipMessage, Transport};

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const ANSWER: &str = "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

fn incoming(events: &[Event]) -> CallHandle {
    events
        .iter()
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(*call),
            _ => None,
        })
        .expect("an incoming call")
}

/// Alice calls Bob; Bob's phone rings.
fn ringing(transport: Transport) -> (Pair, CallHandle, CallHandle) {
    let mut p = Pair::new(transport);
    let call = p.a.invite(p.now, "bob", Some(OFFER)).unwrap();
    p.pump();
    let callee = incoming(&p.events_b);
    (p, call, callee)
}

fn answered(transport: Transport) -> (Pair, CallHandle, CallHandle) {
    let (mut p, call, callee) = ringing(transport);
    p.b.answer(p.now, callee, Some(ANSWER)).unwrap();
    p.pump();
    (p, call, callee)
}

#[test]
fn basic_call_invite_ringing_answer_ack_and_bye() {
    let (mut p, call, callee) = ringing(Transport::Ws);
    match &p.events_b[0] {
        Event::IncomingCall {
            remote_uri,
            remote_sdp,
            ..
        } => {
            assert_eq!(remote_uri, "sip:alice@example.com");
            assert_eq!(remote_sdp.as_deref(), Some(OFFER));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        p.events_a,
        [
            Event::OutgoingCall {
                call,
                remote_uri: "sip:bob@example.com".into()
            },
            Event::Ringing { call }
        ]
    );
    p.b.answer(p.now, callee, Some(ANSWER)).unwrap();
    p.pump();
    assert_eq!(
        p.events_a[2..],
        [
            Event::RemoteAnswer {
                call,
                sdp: ANSWER.into()
            },
            Event::Accepted { call },
            Event::Confirmed { call },
        ]
    );
    assert_eq!(
        p.events_b[1..],
        [
            Event::Accepted { call: callee },
            Event::Confirmed { call: callee }
        ]
    );
    p.a.hangup(p.now, call).unwrap();
    p.pump();
    assert_eq!(
        p.flow(),
        [
            "A: INVITE",
            "B: 180 INVITE",
            "B: 200 INVITE",
            "A: ACK",
            "A: BYE",
            "B: 200 BYE"
        ]
    );
    assert!(p.events_a.contains(&Event::Ended {
        call,
        by: EndedBy::Local,
        cause: EndCause::LocalBye
    }));
    assert!(p.events_b.contains(&Event::Ended {
        call: callee,
        by: EndedBy::Remote,
        cause: EndCause::RemoteBye
    }));
    // The BYE request carries the dialog: To tag of Bob, Route-free, CSeq 2.
    let bye = &p.log[4].2;
    assert_eq!(bye.header("CSeq"), Some("2 BYE"));
    assert!(bye.to_header().unwrap().tag().is_some());
    assert_eq!(
        bye.request_uri(),
        p.log[2]
            .2
            .values("Contact")
            .next()
            .map(|c| &c[1..c.len() - 1])
    );
    assert_eq!((p.a.active_calls(), p.b.active_calls()), (0, 0));
    assert!(p.a.call_info(call).is_none(), "ended call reaped");
}

#[test]
fn callee_hangs_up() {
    let (mut p, call, callee) = answered(Transport::Ws);
    p.b.hangup(p.now, callee).unwrap();
    p.pump();
    assert!(p.events_a.contains(&Event::Ended {
        call,
        by: EndedBy::Remote,
        cause: EndCause::RemoteBye
    }));
    assert_eq!(p.flow().last().unwrap(), "A: 200 BYE");
}

#[test]
fn cancel_before_answer_gives_487_and_ack() {
    let (mut p, call, callee) = ringing(Transport::Ws);
    p.a.hangup(p.now, call).unwrap();
    p.pump();
    assert_eq!(
        p.flow(),
        [
            "A: INVITE",
            "B: 180 INVITE",
            "A: CANCEL",
            "B: 200 CANCEL",
            "B: 487 INVITE",
            "A: ACK"
        ]
    );
    assert!(p.events_b.contains(&Event::Ended {
        call: callee,
        by: EndedBy::Remote,
        cause: EndCause::RemoteCancel
    }));
    assert!(p.events_a.contains(&Event::Ended {
        call,
        by: EndedBy::Local,
        cause: EndCause::LocalCancel
    }));
    assert!(!p.events_a.iter().any(|e| matches!(e, Event::Failed { .. })));
    // The ACK for the 487 belongs to the INVITE transaction: same branch.
    let invite_branch = p.log[0].2.top_via().unwrap().branch().map(str::to_owned);
    assert_eq!(
        p.log[5].2.top_via().unwrap().branch().map(str::to_owned),
        invite_branch
    );
    assert_eq!(
        p.log[2].2.top_via().unwrap().branch().map(str::to_owned),
        invite_branch
    );
}

#[test]
fn reject_busy_decline_and_default_480() {
    for (status, by_hangup) in [(486, false), (603, false), (480, true)] {
        let (mut p, call, callee) = ringing(Transport::Ws);
        if by_hangup {
            p.b.hangup(p.now, callee).unwrap();
        } else {
            p.b.reject(p.now, callee, status).unwrap();
        }
        p.pump();
        assert!(
            p.events_a.iter().any(|e| matches!(e, Event::Failed { call: c, status: Some(s), .. } if *c == call && *s == status)),
            "{status}: {:?}",
            p.events_a
        );
        assert!(p.events_b.contains(&Event::Ended {
            call: callee,
            by: EndedBy::Local,
            cause: EndCause::Rejected
        }));
        assert_eq!(p.flow().last().unwrap(), "A: ACK");
    }
    let (mut p, _, callee) = ringing(Transport::Ws);
    assert!(p.b.reject(p.now, callee, 200).is_err());
}

#[test]
fn no_answer_timeout_cancels_after_60_seconds() {
    let (mut p, call, callee) = ringing(Transport::Ws);
    p.run_until(secs(59));
    assert!(p.events_a.iter().all(|e| !matches!(e, Event::Ended { .. })));
    p.run_until(secs(61));
    assert!(p.events_a.contains(&Event::Ended {
        call,
        by: EndedBy::System,
        cause: EndCause::NoAnswer
    }));
    assert!(
        p.events_b
            .iter()
            .any(|e| matches!(e, Event::Ended { call: c, .. } if *c == callee))
    );
}

#[test]
fn timer_a_retransmits_the_invite_over_udp_and_timer_b_gives_up_at_32_seconds() {
    let mut p = Pair::new(Transport::Udp);
    p.drop = Box::new(|side, _| side == Side::A);
    let call = p.a.invite(p.now, "bob", Some(OFFER)).unwrap();
    p.pump();
    p.run_until(secs(40));
    let times: Vec<u128> = p
        .log
        .iter()
        .filter(|(_, _, m)| m.method() == Some(&Method::Invite))
        .map(|(t, _, _)| t.as_millis())
        .collect();
    assert_eq!(times, [0, 500, 1500, 3500, 7500, 15500, 31500]);
    let failed = p
        .events_a
        .iter()
        .find(|e| matches!(e, Event::Failed { call: c, status: None, .. } if *c == call));
    assert!(failed.is_some(), "{:?}", p.events_a);
}

#[test]
fn no_retransmission_of_the_invite_over_websocket() {
    let mut p = Pair::new(Transport::Ws);
    p.drop = Box::new(|side, _| side == Side::A);
    p.a.invite(p.now, "bob", Some(OFFER)).unwrap();
    p.pump();
    p.run_until(secs(40));
    assert_eq!(p.log.len(), 1);
}

#[test]
fn lost_ack_makes_the_callee_retransmit_its_2xx_over_udp() {
    let (mut p, _call, callee) = ringing(Transport::Udp);
    let mut acks_dropped = 0;
    p.drop = Box::new(move |side, m| {
        if side == Side::A && m.method() == Some(&Method::Ack) && acks_dropped < 2 {
            acks_dropped += 1;
            return true;
        }
        false
    });
    p.b.answer(p.now, callee, Some(ANSWER)).unwrap();
    p.pump();
    p.run_until(secs(5));
    let oks: Vec<u128> = p
        .log
        .iter()
        .filter(|(_, s, m)| *s == Side::B && m.status() == Some(200))
        .map(|(t, _, _)| t.as_millis())
        .collect();
    assert_eq!(
        oks,
        [0, 500, 1500],
        "2xx retransmitted at T1 intervals until the ACK"
    );
    assert!(p.events_b.contains(&Event::Confirmed { call: callee }));
}

#[test]
fn never_acked_2xx_ends_the_call_with_bye_after_64_t1() {
    let (mut p, _call, callee) = ringing(Transport::Ws);
    p.drop = Box::new(|side, m| side == Side::A && m.method() == Some(&Method::Ack));
    p.b.answer(p.now, callee, Some(ANSWER)).unwrap();
    p.pump();
    p.run_until(secs(31));
    assert!(p.events_b.iter().all(|e| !matches!(e, Event::Ended { .. })));
    p.run_until(secs(33));
    assert!(p.events_b.contains(&Event::Ended {
        call: callee,
        by: EndedBy::System,
        cause: EndCause::Timeout
    }));
    assert!(
        p.log
            .iter()
            .any(|(_, s, m)| *s == Side::B && m.method() == Some(&Method::Bye))
    );
}

/// A scripted callee: responses built by hand from Alice's INVITE.
fn scripted_invite() -> (Harness, CallHandle, SipMessage) {
    let mut h = Harness::new(config("alice", 1));
    h.connect(Transport::Ws);
    let call =
        h.ua.invite(h.now, "sip:bob@example.com", Some(OFFER))
            .unwrap();
    let invite = h.collect().pop().unwrap();
    (h, call, invite)
}

fn response(invite: &SipMessage, status: u16, tag: &str) -> SipMessage {
    let mut r = SipMessage::response_to(invite, status);
    let to = r.to_header().unwrap().with_tag(tag);
    r.set_header("To", to.to_string());
    r.push_header("Contact", format!("<sip:bob-{tag}@10.0.0.2;transport=ws>"));
    if status == 200 {
        r.set_body("application/sdp", ANSWER);
    }
    r
}

#[test]
fn a_2xx_racing_the_cancel_is_acked_then_ended_with_bye() {
    let (mut h, call, invite) = scripted_invite();
    h.deliver(response(&invite, 180, "b1"));
    h.ua.hangup(h.now, call).unwrap();
    let cancel = h.collect();
    assert_eq!(cancel[0].method(), Some(&Method::Cancel));
    // The 200 for the INVITE crosses the CANCEL.
    let sent = h.deliver(response(&invite, 200, "b1"));
    let methods: Vec<_> = sent.iter().map(|m| m.method().cloned()).collect();
    assert_eq!(methods, [Some(Method::Ack), Some(Method::Bye)]);
    assert_eq!(
        sent[1].request_uri(),
        Some("sip:bob-b1@10.0.0.2;transport=ws")
    );
    let events = h.take_events();
    assert!(events.contains(&Event::Ended {
        call,
        by: EndedBy::Local,
        cause: EndCause::LocalCancel
    }));
    assert!(!events.iter().any(|e| matches!(e, Event::Accepted { .. })));
    // The CANCEL's 200 and the BYE's 200 close everything.
    h.deliver(SipMessage::response_to(&cancel[0], 200));
    let mut bye_ok = SipMessage::response_to(&sent[1], 200);
    bye_ok.set_header("To", sent[1].header("To").unwrap());
    h.deliver(bye_ok);
    assert!(h.ua.call_info(call).is_none());
}

#[test]
fn a_forked_second_2xx_gets_ack_and_bye() {
    let (mut h, call, invite) = scripted_invite();
    h.deliver(response(&invite, 180, "b1"));
    let mut progress = response(&invite, 183, "b2");
    progress.set_body("application/sdp", ANSWER);
    h.deliver(progress);
    let first = h.deliver(response(&invite, 200, "b1"));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].method(), Some(&Method::Ack));
    assert_eq!(
        first[0].request_uri(),
        Some("sip:bob-b1@10.0.0.2;transport=ws")
    );
    let second = h.deliver(response(&invite, 200, "b2"));
    let methods: Vec<_> = second.iter().map(|m| m.method().cloned()).collect();
    assert_eq!(methods, [Some(Method::Ack), Some(Method::Bye)]);
    assert!(
        second
            .iter()
            .all(|m| m.request_uri() == Some("sip:bob-b2@10.0.0.2;transport=ws"))
    );
    assert!(
        second
            .iter()
            .all(|m| m.to_header().unwrap().tag() == Some("b2"))
    );
    // A retransmission of the first 2xx is re-ACKed, nothing else.
    let again = h.deliver(response(&invite, 200, "b1"));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0], first[0]);
    let events = h.take_events();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Accepted { .. }))
            .count(),
        1
    );
    assert!(events.contains(&Event::Ringing { call }));
    assert!(events.contains(&Event::EarlyMedia {
        call,
        sdp: ANSWER.into()
    }));
}

#[test]
fn invite_challenged_by_a_proxy_is_retried_with_credentials_once() {
    let (mut h, call, invite) = scripted_invite();
    let mut challenge = SipMessage::response_to(&invite, 407);
    challenge.set_header("To", invite.to_header().unwrap().with_tag("p1").to_string());
    challenge.push_header(
        "Proxy-Authenticate",
        "Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\"",
    );
    let sent = h.deliver(challenge.clone());
    let methods: Vec<_> = sent.iter().map(|m| m.method().cloned()).collect();
    assert_eq!(
        methods,
        [Some(Method::Ack), Some(Method::Invite)],
        "ACK the 407, then retry"
    );
    let retry = &sent[1];
    assert_eq!(retry.header("CSeq"), Some("2 INVITE"));
    assert!(
        retry
            .header("Proxy-Authorization")
            .unwrap()
            .contains("username=\"alice\"")
    );
    assert_eq!(retry.body, invite.body);
    // A second challenge for the same realm means the password is wrong.
    let mut again = SipMessage::response_to(retry, 407);
    again.set_header("To", retry.to_header().unwrap().with_tag("p2").to_string());
    again.push_header(
        "Proxy-Authenticate",
        "Digest realm=\"example.com\", nonce=\"n2\", qop=\"auth\"",
    );
    let sent = h.deliver(again);
    assert_eq!(sent.len(), 1, "only the ACK");
    assert!(
        h.take_events()
            .iter()
            .any(|e| matches!(e, Event::Failed { call: c, status: Some(407), .. } if *c == call))
    );
}

#[test]
fn requests_for_unknown_dialogs_get_481_and_out_of_order_cseq_500() {
    let (mut p, _call, _callee) = answered(Transport::Ws);
    let bye = {
        let ack = p
            .log
            .iter()
            .find(|(_, _, m)| m.method() == Some(&Method::Ack))
            .unwrap()
            .2
            .clone();
        let mut bye = ack.clone();
        bye.start = sip_ua::StartLine::Request {
            method: Method::Bye,
            uri: ack.request_uri().unwrap().to_owned(),
        };
        bye.set_header("Via", "SIP/2.0/WS x.invalid;branch=z9hG4bKbye1");
        bye
    };
    let mut stale = bye.clone();
    stale.set_header("CSeq", "1 BYE");
    p.b.handle_message(p.now, stale, sip_ua::FlowId(1));
    assert_eq!(p.b.poll_transmit().unwrap().message.status(), Some(500));
    let mut unknown = bye.clone();
    unknown.set_header("Call-ID", "nope");
    unknown.set_header("CSeq", "5 BYE");
    unknown.set_header("Via", "SIP/2.0/WS x.invalid;branch=z9hG4bKbye2");
    p.b.handle_message(p.now, unknown, sip_ua::FlowId(1));
    assert_eq!(p.b.poll_transmit().unwrap().message.status(), Some(481));
}

#[test]
fn options_inside_a_dialog_is_answered_200_and_the_call_goes_on() {
    let (mut p, _call, callee) = answered(Transport::Ws);
    let ack = p
        .log
        .iter()
        .find(|(_, _, m)| m.method() == Some(&Method::Ack))
        .unwrap()
        .2
        .clone();
    let mut options = ack.clone();
    options.start = sip_ua::StartLine::Request {
        method: Method::Options,
        uri: ack.request_uri().unwrap().to_owned(),
    };
    options.set_header("Via", "SIP/2.0/WS x.invalid;branch=z9hG4bKopt1");
    options.set_header("CSeq", "2 OPTIONS");
    p.b.handle_message(p.now, options, sip_ua::FlowId(1));
    let answer = p.b.poll_transmit().unwrap().message;
    assert_eq!(answer.status(), Some(200));
    assert!(answer.header("Allow").unwrap().contains("PRACK"));
    assert!(answer.header("Supported").unwrap().contains("100rel"));
    assert!(p.b.call_info(callee).is_some(), "the call is still up");
    assert!(
        !p.b.poll_event()
            .is_some_and(|e| matches!(e, Event::Ended { .. })),
        "an OPTIONS does not end the call"
    );
}

#[test]
fn cancel_for_an_unknown_transaction_gets_481() {
    let mut h = Harness::new(config("bob", 3));
    h.connect(Transport::Ws);
    let mut cancel = SipMessage::request(Method::Cancel, "sip:bob@example.com");
    cancel.push_header("Via", "SIP/2.0/WS y.invalid;branch=z9hG4bKnothing");
    cancel.push_header("From", "<sip:alice@example.com>;tag=a");
    cancel.push_header("To", "<sip:bob@example.com>");
    cancel.push_header("Call-ID", "x");
    cancel.push_header("CSeq", "1 CANCEL");
    assert_eq!(h.deliver(cancel)[0].status(), Some(481));
}

#[test]
fn record_route_is_echoed_and_becomes_the_route_set_both_ways() {
    let mut p = Pair::new(Transport::Ws);
    // A proxy between them record-routes the INVITE.
    let call = p.a.invite(p.now, "bob", Some(OFFER)).unwrap();
    let mut invite = p.a.poll_transmit().unwrap().message;
    invite.push_header("Record-Route", "<sip:proxy.example.com;lr>");
    p.b.handle_message(p.now, invite, sip_ua::FlowId(1));
    let ringing = p.b.poll_transmit().unwrap().message;
    assert_eq!(
        ringing.header("Record-Route"),
        Some("<sip:proxy.example.com;lr>")
    );
    p.a.handle_message(p.now, ringing, sip_ua::FlowId(1));
    p.pump();
    let callee = incoming(&p.events_b);
    p.b.answer(p.now, callee, Some(ANSWER)).unwrap();
    p.pump();
    let ok = &p
        .log
        .iter()
        .find(|(_, _, m)| m.status() == Some(200))
        .unwrap()
        .2;
    assert_eq!(
        ok.header("Record-Route"),
        Some("<sip:proxy.example.com;lr>")
    );
    let ack = &p
        .log
        .iter()
        .find(|(_, _, m)| m.method() == Some(&Method::Ack))
        .unwrap()
        .2;
    assert_eq!(ack.header("Route"), Some("<sip:proxy.example.com;lr>"));
    p.b.hangup(p.now, callee).unwrap();
    p.pump();
    let bye = &p
        .log
        .iter()
        .find(|(_, _, m)| m.method() == Some(&Method::Bye))
        .unwrap()
        .2;
    assert_eq!(bye.header("Route"), Some("<sip:proxy.example.com;lr>"));
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::Ended { call: c, .. } if *c == call))
    );
}
