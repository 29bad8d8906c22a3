//! DTMF by SIP INFO and MESSAGE both ways, on virtual time.

mod common;

use common::pair::{Pair, Side};
use common::*;
use sip_ua::{DtmfMethod, Event, Method, Transport};

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

#[test]
fn info_dtmf_is_sent_one_digit_per_request_and_reported_in_order() {
    let mut p = Pair::new(Transport::Udp);
    let call = p.a.invite(p.now, "bob", Some(SDP)).unwrap();
    p.pump();
    let callee = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(*call),
            _ => None,
        })
        .unwrap();
    p.b.answer(p.now, callee, Some(SDP)).unwrap();
    p.pump();
    assert!(
        p.a.send_info_dtmf(p.now, call, "1x", ms(100)).is_err(),
        "x is no digit"
    );
    p.log.clear();
    p.a.send_info_dtmf(p.now, call, "12#", ms(100)).unwrap();
    p.pump();
    p.run_for(secs(3));
    let infos: Vec<_> = p
        .log
        .iter()
        .filter(|(_, s, m)| *s == Side::A && m.method() == Some(&Method::Info))
        .map(|(t, _, m)| (t.as_millis(), String::from_utf8(m.body.clone()).unwrap()))
        .collect();
    assert_eq!(
        infos,
        [
            (0, "Signal=1\r\nDuration=100\r\n".to_owned()),
            (600, "Signal=2\r\nDuration=100\r\n".to_owned()),
            (1200, "Signal=#\r\nDuration=100\r\n".to_owned()),
        ]
    );
    let info = &p
        .log
        .iter()
        .find(|(_, _, m)| m.method() == Some(&Method::Info))
        .unwrap()
        .2;
    assert_eq!(info.header("Content-Type"), Some("application/dtmf-relay"));
    let digits: Vec<_> = p
        .events_b
        .iter()
        .filter_map(|e| match e {
            Event::DtmfReceived { digit, method, .. } => Some((*digit, *method)),
            _ => None,
        })
        .collect();
    assert_eq!(
        digits,
        [
            ('1', DtmfMethod::Info),
            ('2', DtmfMethod::Info),
            ('#', DtmfMethod::Info)
        ]
    );
    let oks = p
        .log
        .iter()
        .filter(|(_, s, m)| {
            *s == Side::B && m.status() == Some(200) && m.cseq().unwrap().method == Method::Info
        })
        .count();
    assert_eq!(oks, 3);
}

#[test]
fn message_both_ways() {
    let mut p = Pair::new(Transport::Ws);
    p.a.send_message(p.now, "bob", "text/plain", "door opened")
        .unwrap();
    p.pump();
    assert_eq!(
        p.events_b,
        [Event::MessageReceived {
            from: "sip:alice@example.com".into(),
            content_type: "text/plain".into(),
            body: "door opened".into(),
        }]
    );
    assert_eq!(
        p.events_a,
        [Event::MessageSent {
            to: "sip:bob@example.com".into(),
            status: Some(200)
        }]
    );
    // A MESSAGE nobody answers reports a timeout.
    p.drop = Box::new(|side, _| side == Side::A);
    p.events_a.clear();
    p.a.send_message(p.now, "bob", "text/plain", "anyone?")
        .unwrap();
    p.pump();
    p.run_for(secs(40));
    assert_eq!(
        p.events_a,
        [Event::MessageSent {
            to: "sip:bob@example.com".into(),
            status: None
        }]
    );
}

#[test]
fn blind_transfer_by_refer_with_notify_progress() {
    let mut p = Pair::new(Transport::Ws);
    let call = p.a.invite(p.now, "bob", Some(SDP)).unwrap();
    p.pump();
    let callee = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(*call),
            _ => None,
        })
        .unwrap();
    p.b.answer(p.now, callee, Some(SDP)).unwrap();
    p.pump();
    p.log.clear();
    p.a.refer(p.now, call, "carol").unwrap();
    p.pump();
    assert!(p.events_b.contains(&Event::TransferRequested {
        call: callee,
        target: "sip:carol@example.com".into()
    }));
    p.b.notify_transfer(p.now, callee, 200).unwrap();
    p.pump();
    assert_eq!(
        p.flow(),
        [
            "A: REFER",
            "B: 202 REFER",
            "B: NOTIFY",
            "A: 200 NOTIFY",
            "B: NOTIFY",
            "A: 200 NOTIFY"
        ]
    );
    let refer = &p.log[0].2;
    assert_eq!(refer.header("Refer-To"), Some("<sip:carol@example.com>"));
    let last = &p.log[4].2;
    assert_eq!(last.header("Event"), Some("refer"));
    assert!(
        last.header("Subscription-State")
            .unwrap()
            .starts_with("terminated")
    );
    assert_eq!(
        last.header("Content-Type"),
        Some("message/sipfrag;version=2.0")
    );
    let progress: Vec<u16> = p
        .events_a
        .iter()
        .filter_map(|e| match e {
            Event::TransferProgress { status, .. } => Some(*status),
            _ => None,
        })
        .collect();
    assert_eq!(progress, [100, 200]);
    assert!(
        p.b.notify_transfer(p.now, callee, 200).is_err(),
        "the subscription ended"
    );
}
