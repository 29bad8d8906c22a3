//! Media work runs off the driver loop: while a call's answer or offer waits (here at a gate
//! the test holds closed, standing in for ICE gathering), registration, MESSAGE and other calls
//! go on; a hang-up during the wait ends the call cleanly and closes its media.

mod driver_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sip_ua::driver::{FixedSdpFactory, FixedSdpMedia};
use sip_ua::{CallHandle, EndedBy, Error, Event};

use driver_support::{Gate, GatedFactory, LIMIT, RegistrarDouble, agent, wait};

fn fixed() -> Arc<FixedSdpFactory> {
    Arc::new(FixedSdpFactory::new(FixedSdpMedia::loopback_sdp()))
}

fn incoming(event: &Event) -> Option<CallHandle> {
    match event {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    }
}

#[tokio::test]
async fn a_slow_answer_does_not_hold_up_registration_messages_or_other_calls() {
    let double = RegistrarDouble::start().await.unwrap();
    let gate = Gate::closed();
    let slow = GatedFactory::new(gate.clone());
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), fixed()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), slow.clone()).await;
    let (carol, mut carol_events) = agent("carol", &double.ws_url(), fixed()).await;

    alice.call("bob").await.unwrap();
    let first = wait(&mut bob_events, "alice's call", incoming).await;
    let answering = tokio::spawn({
        let call = bob.call_handle(first);
        async move { call.answer().await }
    });
    gate.arrived(1).await;

    // Bob's answer is stuck in "gathering"; his agent still does everything else.
    carol
        .send_message("bob", "text/plain", "still there?")
        .await
        .unwrap();
    let body = wait(&mut bob_events, "carol's MESSAGE", |e| match e {
        Event::MessageReceived { body, .. } => Some(body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(body, "still there?");
    wait(&mut carol_events, "MESSAGE answered", |e| match e {
        Event::MessageSent { status, .. } => Some(*status),
        _ => None,
    })
    .await
    .filter(|s| *s == 200)
    .expect("bob's agent answered the MESSAGE 200");

    bob.register().await.unwrap();
    wait(&mut bob_events, "bob's re-registration", |e| {
        matches!(e, Event::Registered { .. }).then_some(())
    })
    .await;

    carol.call("bob").await.unwrap();
    let second = wait(&mut bob_events, "carol's call", incoming).await;
    assert_ne!(second, first);
    wait(&mut carol_events, "carol hears ringing", |e| {
        matches!(e, Event::Ringing { .. }).then_some(())
    })
    .await;
    assert!(!answering.is_finished(), "the answer waited at the gate");

    // Gathering done: the 200 goes out with the answer and the first call is set up.
    gate.open();
    tokio::time::timeout(LIMIT, answering)
        .await
        .expect("the answer completes")
        .unwrap()
        .unwrap();
    wait(&mut alice_events, "alice's call confirmed", |e| {
        matches!(e, Event::Confirmed { .. }).then_some(())
    })
    .await;
    bob.call_handle(second).answer().await.unwrap();
    wait(&mut carol_events, "carol's call confirmed", |e| {
        matches!(e, Event::Confirmed { .. }).then_some(())
    })
    .await;
    alice.shutdown().await;
    bob.shutdown().await;
    carol.shutdown().await;
}

#[tokio::test]
async fn hanging_up_while_the_answer_is_made_ends_the_call_and_closes_its_media() {
    let double = RegistrarDouble::start().await.unwrap();
    let gate = Gate::closed();
    let slow = GatedFactory::new(gate.clone());
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), fixed()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), slow.clone()).await;

    alice.call("bob").await.unwrap();
    let call = wait(&mut bob_events, "incoming call", incoming).await;
    let answering = tokio::spawn({
        let call = bob.call_handle(call);
        async move { call.answer().await }
    });
    gate.arrived(1).await;

    bob.call_handle(call).hangup().await.unwrap();
    let by = wait(&mut bob_events, "bob's call ended", |e| match e {
        Event::Ended { by, .. } => Some(*by),
        _ => None,
    })
    .await;
    assert_eq!(by, EndedBy::Local);
    // Alice's call fails (never accepted) rather than being answered late.
    let outcome = wait(&mut alice_events, "alice's call outcome", |e| match e {
        Event::Accepted { .. } => Some(None),
        Event::Failed { status, .. } => Some(Some(*status)),
        Event::Ended { .. } => Some(Some(None)),
        _ => None,
    })
    .await;
    assert!(
        outcome.is_some(),
        "alice's call was accepted after bob hung up"
    );

    // The session is closed at once, although its answer was still "gathering".
    let session = slow.session(0);
    let deadline = tokio::time::Instant::now() + LIMIT;
    while !session.closed.load(Ordering::SeqCst) {
        assert!(tokio::time::Instant::now() < deadline, "media never closed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The answer's caller hears the call is gone without waiting for the gathering.
    let result = tokio::time::timeout(LIMIT, answering)
        .await
        .expect("the answer returns")
        .unwrap();
    assert_eq!(result.unwrap_err(), Error::UnknownCall { call });
    gate.open();

    // Bob's agent is fine afterwards.
    alice.call("bob").await.unwrap();
    let again = wait(&mut bob_events, "the next call", incoming).await;
    bob.call_handle(again).answer().await.unwrap();
    wait(&mut alice_events, "the next call confirmed", |e| {
        matches!(e, Event::Confirmed { .. }).then_some(())
    })
    .await;
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn a_slow_offer_does_not_hold_up_incoming_calls() {
    let double = RegistrarDouble::start().await.unwrap();
    let gate = Gate::closed();
    let slow = GatedFactory::new(gate.clone());
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), fixed()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), slow.clone()).await;

    // Bob dials; his offer waits at the gate. Meanwhile alice's call reaches bob and rings;
    // then the offer is ready and bob's INVITE goes out.
    let (call, ()) = tokio::join!(bob.call("alice"), async {
        gate.arrived(1).await;
        alice.call("bob").await.unwrap();
        wait(&mut bob_events, "alice's call", incoming).await;
        wait(&mut alice_events, "ringing at bob", |e| {
            matches!(e, Event::Ringing { .. }).then_some(())
        })
        .await;
        gate.open();
    });
    let call = call.unwrap();
    wait(&mut alice_events, "bob's call", incoming).await;
    assert!(call.media().await.unwrap().is_some());
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn a_slow_re_offer_does_not_hold_up_signalling_and_the_hold_follows() {
    let double = RegistrarDouble::start().await.unwrap();
    let gate = Gate::closed();
    let slow = GatedFactory::new(gate.clone());
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), fixed()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), slow.clone()).await;

    alice.call("bob").await.unwrap();
    let call = bob.call_handle(wait(&mut bob_events, "incoming call", incoming).await);
    // The answer passes the gate once; the hold's re-offer waits at it.
    let (answered, ()) = tokio::join!(call.answer(), async {
        gate.arrived(1).await;
        gate.open();
    });
    answered.unwrap();
    wait(&mut alice_events, "confirmed", |e| {
        matches!(e, Event::Confirmed { .. }).then_some(())
    })
    .await;
    gate.close();

    let (held, ()) = tokio::join!(call.hold(), async {
        gate.arrived(2).await;
        alice
            .send_message("bob", "text/plain", "on hold yet?")
            .await
            .unwrap();
        wait(&mut bob_events, "alice's MESSAGE", |e| {
            matches!(e, Event::MessageReceived { .. }).then_some(())
        })
        .await;
        gate.open();
    });
    held.unwrap();
    let side = wait(&mut alice_events, "held by bob", |e| match e {
        Event::HoldChanged {
            side, held: true, ..
        } => Some(*side),
        _ => None,
    })
    .await;
    assert_eq!(side, sip_ua::HoldSide::Remote);
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_a_call_whose_answer_never_comes_and_closes_its_media() {
    let double = RegistrarDouble::start().await.unwrap();
    let gate = Gate::closed();
    let slow = GatedFactory::new(gate.clone());
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), fixed()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), slow.clone()).await;

    alice.call("bob").await.unwrap();
    let call = bob.call_handle(wait(&mut bob_events, "incoming call", incoming).await);
    let answering = tokio::spawn(async move { call.answer().await });
    gate.arrived(1).await;

    // The gate never opens: shutdown still finishes, ends the call and closes the session.
    tokio::time::timeout(LIMIT, bob.shutdown())
        .await
        .expect("shutdown is bounded");
    assert!(slow.session(0).closed.load(Ordering::SeqCst));
    let result = tokio::time::timeout(LIMIT, answering)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_err(), "{result:?}");
    wait(&mut alice_events, "alice's call fails", |e| match e {
        Event::Failed { status, .. } => Some(*status),
        _ => None,
    })
    .await;
    alice.shutdown().await;
}
