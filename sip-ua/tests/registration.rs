//! Registration, digest and the non-INVITE transactions, on virtual time with a scripted
//! registrar double.

mod common;

use common::*;
use sip_ua::{Event, Method, SipMessage, Transport};

fn register_ok(h: &mut Harness, registrar: &mut Registrar) {
    let first = h
        .collect()
        .pop()
        .or_else(|| h.sent.last().map(|(_, m)| m.clone()))
        .unwrap();
    let retry = h.deliver(registrar.handle(&first));
    assert_eq!(retry.len(), 1, "one authenticated REGISTER");
    let ok = h.deliver(registrar.handle(&retry[0]));
    assert!(ok.is_empty());
}

#[test]
fn registers_with_digest_over_websocket_with_an_rfc5626_contact() {
    let mut h = Harness::new(Harness::alice());
    h.connect(Transport::Ws);
    let register = h.sent[0].1.clone();
    assert_eq!(register.request_uri(), Some("sip:example.com"));
    let via = register.top_via().unwrap();
    assert_eq!(via.transport, "WS");
    assert!(via.sent_by.ends_with(".invalid"), "{}", via.sent_by);
    assert!(via.has_rfc3261_branch());
    let contact = register.header("Contact").unwrap();
    assert!(contact.contains(".invalid;transport=ws;ob>"), "{contact}");
    assert!(contact.contains("+sip.instance=\"<urn:uuid:"), "{contact}");
    assert_eq!(contact_param(&register, "reg-id"), Some(Some("1")));
    assert_eq!(register.header("Expires"), Some("600"));

    let mut registrar = Registrar::new("secret");
    let retry = h.deliver(registrar.handle(&register));
    assert_eq!(retry.len(), 1);
    let retry = &retry[0];
    assert!(
        registrar.authorized(retry),
        "digest verified by the registrar double"
    );
    assert_eq!(retry.cseq().unwrap().seq, register.cseq().unwrap().seq + 1);
    assert_eq!(retry.call_id(), register.call_id());
    assert_ne!(
        retry.top_via().unwrap().branch(),
        register.top_via().unwrap().branch(),
        "a new transaction"
    );
    h.deliver(registrar.handle(retry));
    assert!(h.ua.is_registered());
    let events = h.take_events();
    assert!(events.contains(&Event::Registered {
        expires: secs(600),
        gruu: None
    }));
    // The Debug output of the whole user agent never shows the password.
    assert!(!format!("{:?}", h.ua).contains("secret"));
}

#[test]
fn refreshes_between_half_and_expiry_minus_32_seconds() {
    let mut h = Harness::new(Harness::alice());
    h.connect(Transport::Ws);
    let mut registrar = Registrar::new("secret");
    register_ok(&mut h, &mut registrar);
    let registered_at = h.elapsed();
    let refresh = h.run_until_sent(secs(700));
    assert_eq!(refresh.len(), 1, "one refresh");
    let at = h.sent.last().unwrap().0 - registered_at;
    assert!(at >= secs(300) && at <= secs(568), "refresh after {at:?}");
    // The registrar challenges the refresh with a new nonce: answered, not a failure.
    let retry = h.deliver(registrar.handle(&refresh[0]));
    assert_eq!(retry.len(), 1);
    h.deliver(registrar.handle(&retry[0]));
    assert!(h.ua.is_registered());
    assert!(
        h.take_events()
            .iter()
            .all(|e| !matches!(e, Event::RegistrationFailed { .. }))
    );
}

#[test]
fn refresh_times_are_randomised_across_agents() {
    let mut times = Vec::new();
    for seed in 0..8 {
        let mut h = Harness::new(Harness::alice().with_rng_seed(seed));
        h.connect(Transport::Ws);
        let mut registrar = Registrar::new("secret");
        register_ok(&mut h, &mut registrar);
        h.run_until_sent(secs(700));
        times.push(h.sent.last().unwrap().0);
    }
    times.sort();
    times.dedup();
    assert!(times.len() > 4, "refreshes spread out: {times:?}");
}

#[test]
fn timer_e_retransmits_over_udp_and_timer_f_gives_up_at_32_seconds() {
    let mut h = Harness::new(Harness::alice());
    h.connect(Transport::Udp);
    h.run_until(secs(40));
    let times: Vec<_> = h.sent.iter().map(|(t, _)| t.as_millis()).collect();
    // T1 doubling to T2 = 4 s: 0, .5, 1.5, 3.5, 7.5, 11.5, ... until Timer F at 32 s.
    assert_eq!(
        times[..7],
        [0, 500, 1500, 3500, 7500, 11500, 15500],
        "{times:?}"
    );
    assert!(times.iter().all(|t| *t < 32_000));
    assert_eq!(times.len(), 11, "{times:?}");
    let failed = h
        .take_events()
        .into_iter()
        .find_map(|e| match e {
            Event::RegistrationFailed {
                status: None,
                retry_in,
                ..
            } => Some(retry_in),
            _ => None,
        })
        .expect("timeout reported");
    let retry_in = failed.expect("timeouts are retried");
    assert!(retry_in >= secs(15) && retry_in <= secs(30), "{retry_in:?}");
}

#[test]
fn no_retransmission_over_reliable_transports_and_timer_f_still_fires() {
    let mut h = Harness::new(Harness::alice());
    h.connect(Transport::Tcp);
    h.run_until(ms(31_999));
    assert_eq!(h.sent.len(), 1);
    assert!(
        h.take_events()
            .iter()
            .all(|e| !matches!(e, Event::RegistrationFailed { .. }))
    );
    h.run_until(secs(32));
    assert!(
        h.take_events()
            .iter()
            .any(|e| matches!(e, Event::RegistrationFailed { status: None, .. }))
    );
}

#[test]
fn provisional_response_slows_timer_e_to_t2() {
    let mut h = Harness::new(Harness::alice());
    h.connect(Transport::Udp);
    let register = h.sent[0].1.clone();
    h.run_until(ms(600));
    let mut trying = SipMessage::response_to(&register, 100);
    trying.set_header("To", to_tagged(&register));
    h.deliver(trying);
    h.run_until(secs(20));
    let times: Vec<_> = h.sent.iter().map(|(t, _)| t.as_millis()).collect();
    assert_eq!(times, [0, 500, 4600, 8600, 12600, 16600], "{times:?}");
}

#[test]
fn interval_too_brief_is_retried_with_min_expires() {
    let mut h = Harness::new(Harness::alice().with_register_expires(60));
    h.connect(Transport::Ws);
    let register = h.sent[0].1.clone();
    assert_eq!(register.header("Expires"), Some("60"));
    let mut too_brief = SipMessage::response_to(&register, 423);
    too_brief.push_header("Min-Expires", "3600");
    let retry = h.deliver(too_brief);
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].header("Expires"), Some("3600"));
    assert_eq!(contact_param(&retry[0], "expires"), Some(Some("3600")));
    // A second 423 that does not raise the minimum is a failure, not a loop.
    let mut again = SipMessage::response_to(&retry[0], 423);
    again.push_header("Min-Expires", "3600");
    assert!(h.deliver(again).is_empty());
    assert!(h.take_events().iter().any(|e| matches!(
        e,
        Event::RegistrationFailed {
            status: Some(423),
            retry_in: None,
            ..
        }
    )));
}

#[test]
fn wrong_password_fails_after_one_retry_and_never_loops() {
    let mut h = Harness::new(Harness::alice());
    h.connect(Transport::Ws);
    let mut registrar = Registrar::new("another-password");
    let register = h.sent[0].1.clone();
    let retry = h.deliver(registrar.handle(&register));
    assert_eq!(retry.len(), 1, "one authenticated retry");
    assert!(!registrar.authorized(&retry[0]));
    let after = h.deliver(registrar.handle(&retry[0]));
    assert!(after.is_empty(), "no second retry");
    let events = h.take_events();
    let failure = events
        .iter()
        .find_map(|e| match e {
            Event::RegistrationFailed {
                status,
                reason,
                retry_in,
            } => Some((*status, reason.clone(), *retry_in)),
            _ => None,
        })
        .unwrap();
    assert_eq!(failure.0, Some(401));
    assert!(
        failure.1.contains("wrong user name or password"),
        "{}",
        failure.1
    );
    assert!(!failure.1.contains("secret"));
    assert_eq!(failure.2, None);
    assert!(h.run_until(secs(7200)).is_empty(), "nothing more is sent");
    assert!(h.ua.poll_timeout().is_none());
}

#[test]
fn stale_nonce_is_answered_again() {
    let mut h = Harness::new(Harness::alice());
    h.connect(Transport::Ws);
    let mut registrar = Registrar::new("secret");
    let register = h.sent[0].1.clone();
    let retry = h.deliver(registrar.handle(&register));
    // The registrar says the (correct) answer used an expired nonce.
    let stale = registrar.challenge(&retry[0], true);
    let again = h.deliver(stale);
    assert_eq!(again.len(), 1);
    assert!(registrar.authorized(&again[0]));
    h.deliver(registrar.handle(&again[0]));
    assert!(h.ua.is_registered());
}

#[test]
fn retry_after_and_back_off_after_server_failures() {
    let mut h = Harness::new(Harness::alice());
    h.connect(Transport::Ws);
    let register = h.sent[0].1.clone();
    let mut unavailable = SipMessage::response_to(&register, 503);
    unavailable.push_header("Retry-After", "120");
    h.deliver(unavailable);
    assert!(h.take_events().contains(&Event::RegistrationFailed {
        status: Some(503),
        reason: "503 Service Unavailable".into(),
        retry_in: Some(secs(120)),
    }));
    assert!(h.run_until(ms(119_999)).is_empty());
    let retry = h.run_until(secs(120));
    assert_eq!(retry.len(), 1);
    // Without Retry-After: 30 s base doubling, each randomised between 50 % and 100 %.
    let mut bounds = Vec::new();
    let mut last = retry[0].clone();
    for _ in 0..3 {
        h.deliver(SipMessage::response_to(&last, 500));
        let retry_in = h
            .take_events()
            .into_iter()
            .find_map(|e| match e {
                Event::RegistrationFailed { retry_in, .. } => retry_in,
                _ => None,
            })
            .unwrap();
        bounds.push(retry_in);
        let next = h.run_for(retry_in);
        assert_eq!(next.len(), 1);
        last = next[0].clone();
    }
    assert!(bounds[0] >= secs(30) && bounds[0] <= secs(60), "{bounds:?}");
    assert!(
        bounds[1] >= secs(60) && bounds[1] <= secs(120),
        "{bounds:?}"
    );
    assert!(
        bounds[2] >= secs(120) && bounds[2] <= secs(240),
        "{bounds:?}"
    );
}

#[test]
fn unregister_removes_our_binding_or_all_bindings() {
    for all in [false, true] {
        let mut h = Harness::new(Harness::alice());
        h.connect(Transport::Ws);
        let mut registrar = Registrar::new("secret");
        register_ok(&mut h, &mut registrar);
        h.ua.unregister(h.now, all);
        let unregister = h.collect();
        assert_eq!(unregister.len(), 1);
        let req = &unregister[0];
        assert_eq!(req.header("Expires"), Some("0"));
        if all {
            assert_eq!(req.header("Contact"), Some("*"));
        } else {
            assert_eq!(contact_param(req, "expires"), Some(Some("0")));
        }
        // Challenged again (new nonce), answered, then accepted.
        let retry = h.deliver(registrar.handle(req));
        h.deliver(registrar.handle(&retry[0]));
        assert_eq!(registrar.bindings, 0);
        assert!(!h.ua.is_registered());
        assert!(h.take_events().contains(&Event::Unregistered));
        assert!(
            h.run_until(secs(3600)).is_empty(),
            "no refresh after unregister"
        );
    }
}

#[test]
fn registers_again_after_every_reconnect_and_not_when_disabled() {
    let mut h = Harness::new(Harness::alice());
    h.connect(Transport::Ws);
    let mut registrar = Registrar::new("secret");
    register_ok(&mut h, &mut registrar);
    h.disconnect();
    assert!(!h.ua.is_registered());
    assert!(
        h.run_until(secs(3600)).is_empty(),
        "no refresh while disconnected"
    );
    h.connect(Transport::Ws);
    let again = h.collect();
    let again = if again.is_empty() {
        vec![h.sent.last().unwrap().1.clone()]
    } else {
        again
    };
    assert_eq!(again[0].method(), Some(&Method::Register));
    let first_call_id = h.sent[0].1.call_id().map(str::to_owned);
    assert_eq!(
        again[0].call_id().map(str::to_owned),
        first_call_id,
        "same Call-ID (RFC 5626)"
    );

    let mut off = Harness::new(Harness::alice().with_register(false));
    off.connect(Transport::Ws);
    assert!(off.sent.is_empty());
    assert!(off.ua.register(off.now).is_err());
}

#[test]
fn options_unknown_methods_and_unsupported_extensions_are_answered() {
    let mut h = Harness::new(Harness::alice().with_register(false));
    h.connect(Transport::Udp);
    let request = |method: Method, user: &str| {
        let mut r = SipMessage::request(method.clone(), format!("sip:{user}@192.0.2.10:5062"));
        r.push_header("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKopt1");
        r.push_header("From", "<sip:bob@example.com>;tag=b1");
        r.push_header("To", "<sip:alice@example.com>");
        r.push_header("Call-ID", "opt-call");
        r.push_header("CSeq", format!("1 {method}"));
        r
    };
    let options = request(Method::Options, "alice");
    let answer = h.deliver(options.clone());
    assert_eq!(answer[0].status(), Some(200));
    assert!(answer[0].header("Allow").unwrap().contains("INVITE"));
    assert!(
        answer[0]
            .header("Accept")
            .unwrap()
            .contains("application/sdp")
    );
    assert!(answer[0].to_header().unwrap().tag().is_some());
    // A retransmission gets the same response again, from the server transaction.
    let again = h.deliver(options);
    assert_eq!(again, answer);
    // Timer J keeps the transaction 64*T1 over UDP, then it is gone.
    assert_eq!(h.ua.transaction_counts(), (0, 1));
    h.run_for(secs(32));
    assert_eq!(h.ua.transaction_counts(), (0, 0));

    let mut publish = request(Method::Other("PUBLISH".into()), "alice");
    publish.set_header("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKpub");
    assert_eq!(h.deliver(publish)[0].status(), Some(501));

    let mut unknown_user = request(Method::Options, "carol");
    unknown_user.set_header("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcarol");
    assert_eq!(h.deliver(unknown_user)[0].status(), Some(404));

    let mut require = request(Method::Options, "alice");
    require.set_header("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKreq");
    require.push_header("Require", "foo, outbound");
    let refused = h.deliver(require);
    assert_eq!(refused[0].status(), Some(420));
    assert_eq!(refused[0].header("Unsupported"), Some("foo"));

    let mut message = request(Method::Message, "alice");
    message.set_header("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKmsg");
    message.set_body("text/plain", "hello");
    assert_eq!(h.deliver(message)[0].status(), Some(200));
    assert!(h.take_events().contains(&Event::MessageReceived {
        from: "sip:bob@example.com".into(),
        content_type: "text/plain".into(),
        body: "hello".into(),
    }));
}
