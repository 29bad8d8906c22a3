//! Reliable provisional responses (RFC 3262, `100rel`) on virtual time: the UAC PRACKs each
//! reliable 18x once and drops retransmissions, answers a PRACK challenge; the UAS sends its
//! 18x reliably when the caller requires it, retransmits at T1 doubling until the PRACK, gives
//! up with 500 after 64·T1, answers unknown PRACKs 481 and holds its 2xx back while a reliable
//! 18x with SDP is unacknowledged. Also the busy policy for a second call.

mod common;

use common::pair::{Pair, Side, config};
use common::*;
use sip_ua::policy::SecondCall;
use sip_ua::{CallHandle, EndCause, EndedBy, Event, Method, SipMessage, Transport};

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const ANSWER: &str = "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

fn lists_100rel(m: &SipMessage, header: &str) -> bool {
    m.values(header).any(|t| t.eq_ignore_ascii_case("100rel"))
}

fn rseq(m: &SipMessage) -> u32 {
    m.header("RSeq")
        .expect("an RSeq")
        .parse()
        .expect("a number")
}

fn incoming(events: &[Event]) -> CallHandle {
    events
        .iter()
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(*call),
            _ => None,
        })
        .expect("an incoming call")
}

// ---------------------------------------------------------------------------------------
// UAC: a scripted callee.

fn scripted_callee(transport: Transport) -> (Harness, CallHandle, SipMessage) {
    let mut h = Harness::new(config("alice", 1));
    h.connect(transport);
    let call = h.ua.invite(h.now, "bob", Some(OFFER)).unwrap();
    let invite = h.collect().pop().unwrap();
    (h, call, invite)
}

fn provisional(invite: &SipMessage, status: u16, rseq: Option<u32>, sdp: bool) -> SipMessage {
    let mut r = SipMessage::response_to(invite, status);
    let to = r.to_header().unwrap().with_tag("b1");
    r.set_header("To", to.to_string());
    r.push_header("Contact", "<sip:bob@10.0.0.2:5060>");
    r.push_header("Record-Route", "<sip:proxy.example.com;lr>");
    if let Some(rseq) = rseq {
        r.push_header("Require", "100rel");
        r.push_header("RSeq", rseq.to_string());
    }
    if sdp {
        r.set_body("application/sdp", ANSWER);
    }
    r
}

#[test]
fn invite_advertises_100rel() {
    let (_, _, invite) = scripted_callee(Transport::Ws);
    assert!(
        lists_100rel(&invite, "Supported"),
        "{:?}",
        invite.header("Supported")
    );
    assert!(!lists_100rel(&invite, "Require"));
}

#[test]
fn uac_pracks_each_reliable_provisional_once() {
    let (mut h, call, invite) = scripted_callee(Transport::Udp);
    let sent = h.deliver(provisional(&invite, 183, Some(7), true));
    assert_eq!(sent.len(), 1, "one PRACK");
    let prack = &sent[0];
    assert_eq!(prack.method(), Some(&Method::Prack));
    assert_eq!(prack.header("RAck"), Some("7 1 INVITE"));
    assert_eq!(prack.header("CSeq"), Some("2 PRACK"));
    assert_eq!(prack.request_uri(), Some("sip:bob@10.0.0.2:5060"));
    assert_eq!(prack.header("Route"), Some("<sip:proxy.example.com;lr>"));
    assert_eq!(prack.to_header().unwrap().tag(), Some("b1"));
    assert_eq!(prack.call_id(), invite.call_id());
    let early: Vec<_> = h
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, Event::EarlyMedia { .. }))
        .collect();
    assert_eq!(
        early,
        [Event::EarlyMedia {
            call,
            sdp: ANSWER.into()
        }]
    );

    // The callee retransmits the 183 before our PRACK reached it: dropped, no second PRACK.
    assert!(
        h.deliver(provisional(&invite, 183, Some(7), true))
            .is_empty()
    );
    assert!(
        h.take_events().is_empty(),
        "a retransmission is not processed again"
    );
    assert!(h.deliver(SipMessage::response_to(prack, 200)).is_empty());

    // The next reliable 18x (RSeq one higher) is PRACKed; one out of order is not.
    let sent = h.deliver(provisional(&invite, 180, Some(8), false));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("RAck"), Some("8 1 INVITE"));
    assert_eq!(sent[0].header("CSeq"), Some("3 PRACK"));
    assert!(
        h.deliver(provisional(&invite, 180, Some(10), false))
            .is_empty()
    );
    assert!(h.deliver(SipMessage::response_to(&sent[0], 200)).is_empty());

    // An unreliable 180 is not PRACKed.
    assert!(h.deliver(provisional(&invite, 180, None, false)).is_empty());

    // The 2xx confirms the dialog; our CSeq goes on after the PRACKs.
    let mut ok = provisional(&invite, 200, None, true);
    ok.remove_header("Require");
    let sent = h.deliver(ok);
    assert_eq!(sent[0].method(), Some(&Method::Ack));
    assert_eq!(sent[0].header("CSeq"), Some("1 ACK"));
    h.ua.hangup(h.now, call).unwrap();
    let bye = h.collect().pop().unwrap();
    assert_eq!(bye.method(), Some(&Method::Bye));
    assert_eq!(bye.header("CSeq"), Some("4 BYE"));
}

#[test]
fn uac_answers_a_prack_challenge_once() {
    let (mut h, _call, invite) = scripted_callee(Transport::Ws);
    let prack = h
        .deliver(provisional(&invite, 183, Some(1), true))
        .pop()
        .unwrap();
    let mut challenge = SipMessage::response_to(&prack, 407);
    challenge.push_header(
        "Proxy-Authenticate",
        "Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\", algorithm=MD5",
    );
    let retry = h.deliver(challenge.clone()).pop().expect("PRACK again");
    assert_eq!(retry.method(), Some(&Method::Prack));
    assert_eq!(retry.header("RAck"), Some("1 1 INVITE"));
    assert_eq!(retry.header("CSeq"), Some("3 PRACK"));
    assert!(retry.header("Proxy-Authorization").is_some());
    assert_ne!(
        retry.top_via().unwrap().branch(),
        prack.top_via().unwrap().branch()
    );
    // A second challenge for the answered PRACK is not answered again (no loop).
    let mut again = SipMessage::response_to(&retry, 407);
    again.push_header(
        "Proxy-Authenticate",
        "Digest realm=\"example.com\", nonce=\"n2\", qop=\"auth\", algorithm=MD5",
    );
    assert!(h.deliver(again).is_empty());
}

// ---------------------------------------------------------------------------------------
// UAS: a scripted caller requiring 100rel.

struct Caller {
    h: Harness,
    invite: SipMessage,
    branch: u32,
}

impl Caller {
    fn new(require: bool) -> Caller {
        let mut h = Harness::new(Harness::alice().with_register(false));
        h.connect(Transport::Udp);
        let mut invite = SipMessage::request(Method::Invite, "sip:alice@192.0.2.10:5062");
        invite.push_header("Via", "SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKinvite1");
        invite.push_header("Max-Forwards", "70");
        invite.push_header("From", "<sip:bob@example.com>;tag=bob1");
        invite.push_header("To", "<sip:alice@example.com>");
        invite.push_header("Call-ID", "call-100rel");
        invite.push_header("CSeq", "10 INVITE");
        invite.push_header("Contact", "<sip:bob@192.0.2.99:5060>");
        invite.push_header("Supported", "100rel, timer");
        if require {
            invite.push_header("Require", "100rel");
        }
        invite.set_body("application/sdp", OFFER);
        Caller {
            h,
            invite,
            branch: 1,
        }
    }

    /// A PRACK (or another in-dialog request) for the dialog of `response`.
    fn request(&mut self, method: Method, response: &SipMessage, seq: u32) -> SipMessage {
        self.branch += 1;
        let mut r = SipMessage::request(method.clone(), "sip:alice@192.0.2.10:5062");
        r.push_header(
            "Via",
            format!(
                "SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKreq{}",
                self.branch
            ),
        );
        r.push_header("Max-Forwards", "70");
        r.push_header("From", "<sip:bob@example.com>;tag=bob1");
        r.push_header("To", response.header("To").unwrap());
        r.push_header("Call-ID", "call-100rel");
        r.push_header("CSeq", format!("{seq} {method}"));
        r
    }

    fn prack(&mut self, response: &SipMessage, seq: u32, rseq: u32) -> SipMessage {
        let mut prack = self.request(Method::Prack, response, seq);
        prack.push_header("RAck", format!("{rseq} 10 INVITE"));
        prack
    }

    fn statuses(sent: &[SipMessage]) -> Vec<(u16, String)> {
        sent.iter()
            .map(|m| {
                (
                    m.status().unwrap_or(0),
                    m.cseq().map(|c| c.method.to_string()).unwrap_or_default(),
                )
            })
            .collect()
    }
}

#[test]
fn required_100rel_is_accepted_and_the_180_sent_reliably() {
    let mut c = Caller::new(true);
    let sent = c.h.deliver(c.invite.clone());
    assert_eq!(sent.len(), 1, "no 420: {:?}", Caller::statuses(&sent));
    let ringing = &sent[0];
    assert_eq!(ringing.status(), Some(180));
    assert!(lists_100rel(ringing, "Require"));
    let first = rseq(ringing);
    assert!((1..=0x7fff_ffff).contains(&first));
    let call = incoming(&c.h.take_events());

    // Retransmitted at T1 doubling until the PRACK.
    c.h.run_until(secs(2));
    let times: Vec<u128> =
        c.h.sent
            .iter()
            .filter(|(_, m)| m.status() == Some(180))
            .map(|(t, _)| t.as_millis())
            .collect();
    assert_eq!(times, [0, 500, 1500]);
    assert!(c.h.sent.iter().all(|(_, m)| rseq(m) == first));

    let prack = c.prack(ringing, 11, first);
    let sent = c.h.deliver(prack);
    assert_eq!(Caller::statuses(&sent), [(200, "PRACK".to_owned())]);
    assert!(
        c.h.run_until(secs(20)).is_empty(),
        "no retransmission after the PRACK"
    );

    // A 180 without SDP does not hold the 2xx back.
    c.h.ua.answer(c.h.now, call, Some(ANSWER)).unwrap();
    let sent = c.h.collect();
    assert_eq!(Caller::statuses(&sent), [(200, "INVITE".to_owned())]);
    assert!(lists_100rel(&sent[0], "Supported"));
}

#[test]
fn a_prack_that_matches_nothing_gets_481() {
    let mut c = Caller::new(true);
    let ringing = c.h.deliver(c.invite.clone()).pop().unwrap();
    let first = rseq(&ringing);
    let wrong = c.prack(&ringing, 11, first.wrapping_add(5));
    assert_eq!(
        Caller::statuses(&c.h.deliver(wrong)),
        [(481, "PRACK".to_owned())]
    );
    // The 180 is still unacknowledged: retransmitted, then PRACKed properly.
    assert_eq!(c.h.run_until(ms(600)).len(), 1);
    let right = c.prack(&ringing, 12, first);
    assert_eq!(
        Caller::statuses(&c.h.deliver(right)),
        [(200, "PRACK".to_owned())]
    );
    // Acknowledged already: a further PRACK for it matches nothing.
    let again = c.prack(&ringing, 13, first);
    assert_eq!(
        Caller::statuses(&c.h.deliver(again)),
        [(481, "PRACK".to_owned())]
    );
    // A PRACK outside any dialog (no To tag) too.
    let mut stray = c.prack(&ringing, 14, first);
    stray.set_header("To", "<sip:alice@example.com>");
    assert_eq!(
        Caller::statuses(&c.h.deliver(stray)),
        [(481, "PRACK".to_owned())]
    );
}

#[test]
fn the_2xx_waits_for_the_prack_of_a_reliable_183_with_sdp() {
    let mut c = Caller::new(true);
    let ringing = c.h.deliver(c.invite.clone()).pop().unwrap();
    let call = incoming(&c.h.take_events());
    let first = rseq(&ringing);

    // Early media while the 180 is unacknowledged: queued behind it (§3).
    c.h.ua.early_media(c.h.now, call, ANSWER).unwrap();
    assert!(c.h.collect().is_empty());
    let prack = c.prack(&ringing, 11, first);
    let sent = c.h.deliver(prack);
    assert_eq!(
        Caller::statuses(&sent),
        [(200, "PRACK".to_owned()), (183, "INVITE".to_owned())]
    );
    let progress = sent[1].clone();
    assert_eq!(rseq(&progress), first + 1);
    assert_eq!(progress.body_text(), Some(ANSWER));

    // Answered before the 183's PRACK: accepted, but no 2xx on the wire yet.
    c.h.ua.answer(c.h.now, call, Some(ANSWER)).unwrap();
    assert!(c.h.collect().is_empty());
    assert!(c.h.take_events().contains(&Event::Accepted { call }));
    // The 183 keeps being retransmitted meanwhile, the 2xx does not go out.
    let resent = c.h.run_until(ms(700));
    assert_eq!(Caller::statuses(&resent), [(183, "INVITE".to_owned())]);

    let prack = c.prack(&progress, 12, first + 1);
    let sent = c.h.deliver(prack);
    assert_eq!(
        Caller::statuses(&sent),
        [(200, "PRACK".to_owned()), (200, "INVITE".to_owned())]
    );
    let mut ack = c.request(Method::Ack, &sent[1], 10);
    ack.set_header("Via", "SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKack1");
    c.h.deliver(ack);
    assert!(c.h.take_events().contains(&Event::Confirmed { call }));
    assert!(
        c.h.run_until(secs(10))
            .iter()
            .all(|m| m.status() != Some(183)),
        "the final response stopped the 183's retransmission"
    );
}

#[test]
fn no_prack_within_64_t1_ends_the_call_with_500() {
    let mut c = Caller::new(true);
    c.h.deliver(c.invite.clone());
    let call = incoming(&c.h.take_events());
    c.h.run_until(secs(31));
    assert!(c.h.events.is_empty(), "{:?}", c.h.events);
    c.h.run_until(secs(33));
    let times: Vec<u128> =
        c.h.sent
            .iter()
            .filter(|(_, m)| m.status() == Some(180))
            .map(|(t, _)| t.as_millis())
            .collect();
    // T1 doubling with no T2 cap (RFC 3262 §3), for 64·T1.
    assert_eq!(times, [0, 500, 1500, 3500, 7500, 15500, 31500]);
    let failure = c.h.sent.iter().find(|(_, m)| m.status() == Some(500));
    assert_eq!(failure.map(|(t, _)| t.as_millis()), Some(32_000));
    assert_eq!(
        c.h.take_events(),
        [Event::Ended {
            call,
            by: EndedBy::System,
            cause: EndCause::Timeout
        }]
    );
    assert!(c.h.ua.answer(c.h.now, call, Some(ANSWER)).is_err());
}

#[test]
fn cancel_while_the_2xx_waits_for_a_prack_gives_487() {
    let mut c = Caller::new(true);
    let ringing = c.h.deliver(c.invite.clone()).pop().unwrap();
    let call = incoming(&c.h.take_events());
    let first = rseq(&ringing);
    let prack = c.prack(&ringing, 11, first);
    c.h.deliver(prack);
    c.h.ua.early_media(c.h.now, call, ANSWER).unwrap();
    c.h.ua.answer(c.h.now, call, Some(ANSWER)).unwrap();
    c.h.collect();
    let mut cancel = SipMessage::request(Method::Cancel, "sip:alice@192.0.2.10:5062");
    for name in ["Via", "Max-Forwards", "From", "To", "Call-ID"] {
        cancel.push_header(name, c.invite.header(name).unwrap());
    }
    cancel.push_header("CSeq", "10 CANCEL");
    let sent = c.h.deliver(cancel);
    assert_eq!(
        Caller::statuses(&sent),
        [(200, "CANCEL".to_owned()), (487, "INVITE".to_owned())]
    );
    assert!(c.h.take_events().contains(&Event::Ended {
        call,
        by: EndedBy::Remote,
        cause: EndCause::RemoteCancel
    }));
    assert!(
        c.h.run_until(secs(5))
            .iter()
            .all(|m| m.status() != Some(183)),
        "no reliable retransmission after the final response"
    );
}

#[test]
fn a_caller_that_only_supports_100rel_gets_reliable_responses_when_configured() {
    let mut c = Caller::new(false);
    let ringing = c.h.deliver(c.invite.clone()).pop().unwrap();
    assert!(ringing.header("RSeq").is_none(), "off by default");

    let mut c = Caller::new(false);
    let mut config = Harness::alice().with_register(false);
    config.prefer_100rel = true;
    c.h = Harness::new(config);
    c.h.connect(Transport::Udp);
    let ringing = c.h.deliver(c.invite.clone()).pop().unwrap();
    assert!(lists_100rel(&ringing, "Require"));
    assert!(ringing.header("RSeq").is_some());
}

// ---------------------------------------------------------------------------------------
// Two cores.

#[test]
fn two_cores_over_udp_with_a_lost_prack() {
    let mut bob = config("bob", 2);
    bob.prefer_100rel = true;
    let mut p = Pair::with(config("alice", 1), bob, Transport::Udp);
    let mut pracks_dropped = 0;
    p.drop = Box::new(move |side, m| {
        if side == Side::A && m.method() == Some(&Method::Prack) && pracks_dropped < 2 {
            pracks_dropped += 1;
            return true;
        }
        false
    });
    let call = p.a.invite(p.now, "bob", Some(OFFER)).unwrap();
    p.pump();
    let callee = incoming(&p.events_b);
    // The 180's PRACK is lost once (Timer E resends it at 500 ms).
    p.run_until(ms(600));
    p.b.early_media(p.now, callee, ANSWER).unwrap();
    p.b.answer(p.now, callee, Some(ANSWER)).unwrap();
    p.pump();
    p.run_until(secs(3));
    let flow = p.flow();
    let first_ok = flow
        .iter()
        .position(|l| l == "B: 200 INVITE")
        .expect("answered");
    let second_prack_ok = flow
        .iter()
        .enumerate()
        .filter(|(_, l)| *l == "B: 200 PRACK")
        .nth(1)
        .map(|(i, _)| i)
        .expect("both PRACKs answered");
    assert!(second_prack_ok < first_ok, "{flow:#?}");
    assert!(p.events_a.contains(&Event::Confirmed { call }));
    assert!(p.events_b.contains(&Event::Confirmed { call: callee }));
    assert!(p.events_a.contains(&Event::EarlyMedia {
        call,
        sdp: ANSWER.into()
    }));
    // Each reliable response was PRACKed by one transaction (retransmissions share its branch).
    let branches: std::collections::HashSet<_> = p
        .log
        .iter()
        .filter(|(_, _, m)| m.method() == Some(&Method::Prack))
        .map(|(_, _, m)| m.top_via().unwrap().branch().unwrap().to_owned())
        .collect();
    assert_eq!(branches.len(), 2);
    p.a.hangup(p.now, call).unwrap();
    p.pump();
    assert!(p.events_b.contains(&Event::Ended {
        call: callee,
        by: EndedBy::Remote,
        cause: EndCause::RemoteBye
    }));
}

// ---------------------------------------------------------------------------------------
// A second call while one is in progress.

#[test]
fn a_second_call_rings_by_default_and_gets_486_when_configured() {
    for (policy, expect) in [(SecondCall::Allow, 180), (SecondCall::RejectBusy, 486)] {
        let mut c = Caller::new(false);
        c.h = Harness::new(
            Harness::alice()
                .with_register(false)
                .with_second_call(policy),
        );
        c.h.connect(Transport::Udp);
        assert_eq!(c.h.deliver(c.invite.clone())[0].status(), Some(180));
        c.h.take_events();
        let mut second = c.invite.clone();
        second.set_header("Via", "SIP/2.0/UDP 192.0.2.98:5060;branch=z9hG4bKsecond");
        second.set_header("Call-ID", "second-call");
        second.set_header("From", "<sip:carol@example.com>;tag=carol1");
        let sent = c.h.deliver(second);
        assert_eq!(sent[0].status(), Some(expect), "{policy:?}");
        let rang =
            c.h.take_events()
                .iter()
                .any(|e| matches!(e, Event::IncomingCall { .. }));
        assert_eq!(rang, expect == 180, "{policy:?}");
        assert_eq!(c.h.ua.active_calls(), if expect == 180 { 2 } else { 1 });
    }
}
