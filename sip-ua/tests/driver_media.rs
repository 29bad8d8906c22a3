//! The driver's per-call media API: mute state, the media handle (stats, levels, media
//! events), with fixed-SDP media and with real WebRTC on loopback, two agents through the
//! in-process registrar double; plain RTP media too.

mod driver_support;

use std::sync::Arc;
use std::time::Duration;

use sip_media::{MediaEvent, MediaOptions};
use sip_ua::driver::{
    FixedSdpFactory, FixedSdpMedia, MediaKind, MuteState, RtpFactory, WebRtcFactory,
};
use sip_ua::{CallHandle, DtmfMethod, Error, Event};

use driver_support::{LIMIT, RegistrarDouble, agent, wait};

fn fixed() -> Arc<FixedSdpFactory> {
    Arc::new(FixedSdpFactory::new(FixedSdpMedia::loopback_sdp()))
}

fn incoming(event: &Event) -> Option<CallHandle> {
    match event {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    }
}

fn confirmed(event: &Event) -> Option<()> {
    matches!(event, Event::Confirmed { .. }).then_some(())
}

#[tokio::test]
async fn mute_state_and_media_handles_follow_the_call() {
    let double = RegistrarDouble::start().await.unwrap();
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), fixed()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), fixed()).await;

    let outgoing = alice.call("bob").await.unwrap();
    assert!(
        outgoing.media().await.unwrap().is_some(),
        "the offer made a session"
    );
    let handle = wait(&mut bob_events, "incoming call", incoming).await;
    let ringing = bob.call_handle(handle);

    // Before the answer there is no session, but mute already holds and waiting works.
    assert!(ringing.media().await.unwrap().is_none());
    let waiter = tokio::spawn({
        let ringing = ringing.clone();
        async move { ringing.wait_media().await }
    });
    let state = ringing.mute(MediaKind::Microphone, true).await.unwrap();
    assert_eq!(
        state,
        MuteState {
            microphone: true,
            camera: false
        }
    );
    ringing.answer().await.unwrap();
    let media = tokio::time::timeout(LIMIT, waiter)
        .await
        .expect("wait_media returns after the answer")
        .unwrap()
        .unwrap();
    assert_eq!(media.call(), handle);
    assert!(
        media.is_microphone_muted(),
        "the session made on answer starts muted"
    );
    wait(&mut alice_events, "confirmed", confirmed).await;

    // Camera and microphone are independent; unmuting reaches the session.
    assert!(!media.is_camera_muted());
    let state = ringing.mute(MediaKind::Camera, true).await.unwrap();
    assert!(state.camera && state.microphone);
    assert!(
        media.is_camera_muted(),
        "the camera mute reaches the session"
    );
    let state = ringing.mute(MediaKind::Microphone, false).await.unwrap();
    assert_eq!(
        state,
        MuteState {
            microphone: false,
            camera: true
        }
    );
    assert!(!media.is_microphone_muted());
    assert_eq!(ringing.muted().await.unwrap(), state);
    assert!(state.is_muted(MediaKind::Camera) && !state.is_muted(MediaKind::Microphone));
    assert_eq!(outgoing.muted().await.unwrap(), MuteState::default());
    assert_eq!(media.stats().await, sip_media::MediaStats::default());

    outgoing.hangup().await.unwrap();
    wait(&mut bob_events, "ended", |e| {
        matches!(e, Event::Ended { .. }).then_some(())
    })
    .await;
    assert_eq!(
        ringing.media().await.unwrap_err(),
        Error::UnknownCall { call: handle }
    );
    assert!(ringing.mute(MediaKind::Microphone, true).await.is_err());
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn waiting_for_media_fails_when_the_call_ends_first() {
    let double = RegistrarDouble::start().await.unwrap();
    let (alice, _alice_events) = agent("alice", &double.ws_url(), fixed()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), fixed()).await;
    let outgoing = alice.call("bob").await.unwrap();
    let handle = wait(&mut bob_events, "incoming call", incoming).await;
    let ringing = bob.call_handle(handle);
    let waiter = tokio::spawn(async move { ringing.wait_media().await });
    // Let the wait reach the driver before the CANCEL ends the call.
    tokio::time::sleep(Duration::from_millis(50)).await;
    outgoing.hangup().await.unwrap();
    let result = tokio::time::timeout(LIMIT, waiter).await.unwrap().unwrap();
    assert_eq!(result.unwrap_err(), Error::UnknownCall { call: handle });
    alice.shutdown().await;
    bob.shutdown().await;
}

/// Polls `check` every 50 ms until it holds, for at most [`LIMIT`].
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + LIMIT;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn webrtc_media_handle_gives_stats_levels_and_received_digits() {
    let double = RegistrarDouble::start().await.unwrap();
    let media = || Arc::new(WebRtcFactory::new(MediaOptions::loopback()));
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), media()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), media()).await;

    let outgoing = alice.call("bob").await.unwrap();
    let handle = wait(&mut bob_events, "incoming call", incoming).await;
    let answered = bob.call_handle(handle);
    answered.answer().await.unwrap();
    wait(&mut alice_events, "confirmed", confirmed).await;
    let alice_media = outgoing.wait_media().await.unwrap();
    let bob_media = answered.wait_media().await.unwrap();

    // Audio flows both ways (the default source is silence-free comfort tone or tone).
    eventually("alice receives RTP", || async {
        alice_media.stats().await.packets_received > 0
    })
    .await;
    eventually("bob receives RTP", || async {
        bob_media.stats().await.packets_received > 0
    })
    .await;
    let stats = bob_media.stats().await;
    assert!(stats.codec.is_some(), "{stats:?}");

    // The visualiser feed runs.
    let mut levels = bob_media.levels();
    tokio::time::timeout(LIMIT, levels.recv())
        .await
        .expect("a level report")
        .expect("the feed is open");

    // RFC 4733 digits show on the media handle's events and on the agent's stream.
    let mut media_events = bob_media.events();
    outgoing.send_dtmf("5", DtmfMethod::Rfc4733).await.unwrap();
    let digit = tokio::time::timeout(LIMIT, async {
        loop {
            match media_events.recv().await {
                Ok(MediaEvent::DtmfReceived(digit)) => return digit,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("media events closed: {e}"),
            }
        }
    })
    .await
    .expect("the digit on the media events");
    assert_eq!(digit, '5');
    wait(&mut bob_events, "dtmf event", |e| match e {
        Event::DtmfReceived {
            digit,
            method: DtmfMethod::Rfc4733,
            ..
        } => Some(*digit),
        _ => None,
    })
    .await;

    // Mute reaches the WebRTC session.
    outgoing.mute(MediaKind::Microphone, true).await.unwrap();
    assert!(alice_media.is_microphone_muted());

    outgoing.hangup().await.unwrap();
    wait(&mut bob_events, "ended", |e| {
        matches!(e, Event::Ended { .. }).then_some(())
    })
    .await;
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn plain_rtp_media_flows_both_ways_and_carries_digits() {
    let double = RegistrarDouble::start().await.unwrap();
    let media = || Arc::new(RtpFactory::new(MediaOptions::loopback()));
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), media()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), media()).await;

    let outgoing = alice.call("bob").await.unwrap();
    let handle = wait(&mut bob_events, "incoming call", incoming).await;
    let answered = bob.call_handle(handle);
    answered.answer().await.unwrap();
    wait(&mut alice_events, "confirmed", confirmed).await;
    let alice_media = outgoing.wait_media().await.unwrap();
    let bob_media = answered.wait_media().await.unwrap();
    eventually("alice receives RTP", || async {
        alice_media.stats().await.packets_received > 0
    })
    .await;
    eventually("bob receives RTP", || async {
        bob_media.stats().await.packets_received > 0
    })
    .await;
    outgoing.send_dtmf("7", DtmfMethod::Rfc4733).await.unwrap();
    let digit = wait(&mut bob_events, "dtmf event", |e| match e {
        Event::DtmfReceived {
            digit,
            method: DtmfMethod::Rfc4733,
            ..
        } => Some(*digit),
        _ => None,
    })
    .await;
    assert_eq!(digit, '7');
    answered.hangup().await.unwrap();
    wait(&mut alice_events, "ended", |e| {
        matches!(e, Event::Ended { .. }).then_some(())
    })
    .await;
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn early_media_flows_before_the_answer_and_is_signalled_to_the_caller() {
    let double = RegistrarDouble::start().await.unwrap();
    let media = || Arc::new(RtpFactory::new(MediaOptions::loopback()));
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), media()).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), media()).await;

    let outgoing = alice.call("bob").await.unwrap();
    let alice_media = outgoing.wait_media().await.unwrap();
    let mut alice_media_events = alice_media.events();
    let handle = wait(&mut bob_events, "incoming call", incoming).await;
    let ringing = bob.call_handle(handle);
    ringing.early_media().await.unwrap();

    // The caller hears of it on both streams, and the callee's audio arrives unanswered.
    wait(&mut alice_events, "early media event", |e| {
        matches!(e, Event::EarlyMedia { .. }).then_some(())
    })
    .await;
    tokio::time::timeout(LIMIT, async {
        loop {
            match alice_media_events.recv().await {
                Ok(MediaEvent::EarlyMediaStarted) => break,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("media events closed: {e}"),
            }
        }
    })
    .await
    .expect("EarlyMediaStarted on the caller's media events");
    eventually("alice hears bob before the answer", || async {
        alice_media.stats().await.packets_received > 0
    })
    .await;
    assert!(ringing.media().await.unwrap().is_some());
    assert!(matches!(
        ringing.early_media().await,
        Err(Error::InvalidCallState { .. })
    ));

    // The answer repeats the 183's SDP; the call is set up.
    ringing.answer().await.unwrap();
    wait(&mut alice_events, "confirmed", confirmed).await;
    outgoing.hangup().await.unwrap();
    wait(&mut bob_events, "ended", |e| {
        matches!(e, Event::Ended { .. }).then_some(())
    })
    .await;
    alice.shutdown().await;
    bob.shutdown().await;
}
