//! Hold and resume change the media direction only when the peer gets to know: a re-INVITE
//! the core refuses (one already pending) or the peer rejects leaves the session's direction
//! as it was. Two agents through the in-process registrar double on loopback.

mod driver_support;

use std::sync::Arc;
use std::time::Duration;

use sip_media::Direction;
use sip_ua::driver::{AgentEvents, UserAgent};
use sip_ua::{Error, Event};

use driver_support::{Gate, GatedFactory, GatedMedia, LIMIT, RegistrarDouble, agent, wait};

/// Alice calls bob, bob answers; returns alice's media session and both agents.
async fn answered_call(
    double: &RegistrarDouble,
    bob_gate: Arc<Gate>,
) -> (
    (
        UserAgent,
        AgentEvents,
        sip_ua::driver::Call,
        Arc<GatedMedia>,
    ),
    (UserAgent, AgentEvents),
) {
    let alice_gate = Gate::closed();
    alice_gate.open();
    let alice_media = GatedFactory::new(alice_gate);
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), alice_media.clone()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), GatedFactory::new(bob_gate)).await;
    let call = alice.call("bob").await.unwrap();
    let incoming = wait(&mut bob_events, "incoming call", |e| match e {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    })
    .await;
    bob.call_handle(incoming).answer().await.unwrap();
    wait(&mut alice_events, "confirmed", |e| {
        matches!(e, Event::Confirmed { .. }).then_some(())
    })
    .await;
    let session = alice_media.session(0);
    ((alice, alice_events, call, session), (bob, bob_events))
}

/// Waits until `session` has `direction`.
async fn direction_becomes(session: &GatedMedia, direction: Direction, what: &str) {
    let reached = tokio::time::timeout(LIMIT, async {
        while sip_media::MediaSession::direction(session) != direction {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        reached.is_ok(),
        "{what}: direction stays {:?}, expected {direction:?}",
        sip_media::MediaSession::direction(session)
    );
}

#[tokio::test]
async fn a_resume_the_core_refuses_keeps_the_pending_hold_direction() {
    let double = RegistrarDouble::start().await.unwrap();
    let bob_gate = Gate::closed();
    bob_gate.open();
    let ((alice, mut alice_events, call, session), (bob, _bob_events)) =
        answered_call(&double, bob_gate.clone()).await;

    // Bob's answer to the hold waits at his gate: alice's re-INVITE stays pending.
    bob_gate.close();
    call.hold().await.unwrap();
    bob_gate.arrived(2).await;
    assert_eq!(
        sip_media::MediaSession::direction(&*session),
        Direction::SendOnly
    );

    let refused = call.resume().await;
    assert!(
        matches!(refused, Err(Error::InvalidCallState { .. })),
        "one re-INVITE at a time: {refused:?}"
    );
    direction_becomes(&session, Direction::SendOnly, "after the refused resume").await;

    bob_gate.open();
    let held = wait(&mut alice_events, "hold accepted", |e| match e {
        Event::HoldChanged { held, .. } => Some(*held),
        _ => None,
    })
    .await;
    assert!(held);
    assert_eq!(
        sip_media::MediaSession::direction(&*session),
        Direction::SendOnly
    );
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn a_hold_the_peer_rejects_restores_the_direction() {
    let double = RegistrarDouble::start().await.unwrap();
    let bob_gate = Gate::closed();
    bob_gate.open();
    let ((alice, mut alice_events, call, session), (bob, _bob_events)) =
        answered_call(&double, bob_gate.clone()).await;

    // Bob's media cannot use the re-offer: he answers 488.
    bob_gate.refuse_answers(true);
    call.hold().await.unwrap();
    let status = wait(&mut alice_events, "renegotiation failed", |e| match e {
        Event::RenegotiationFailed { status, .. } => Some(*status),
        Event::HoldChanged { .. } => panic!("the hold was refused, not accepted"),
        _ => None,
    })
    .await;
    assert_eq!(status, Some(488));
    direction_becomes(&session, Direction::SendRecv, "after the rejected hold").await;

    // The call carries on: the next hold works.
    bob_gate.refuse_answers(false);
    call.hold().await.unwrap();
    wait(&mut alice_events, "hold accepted", |e| match e {
        Event::HoldChanged { held: true, .. } => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(
        sip_media::MediaSession::direction(&*session),
        Direction::SendOnly
    );
    alice.shutdown().await;
    bob.shutdown().await;
}
