//! A 183 with SDP, then a 200 with a different SDP: from another fork (a new connection takes
//! over the offer's identity) or from the same far end (re-applied on the same connection).

use std::time::Duration;

use sip_media::audio::AppSink;
use sip_media::level::goertzel_dbfs;
use sip_media::tones::{ToneGenerator, ToneSpec};
use sip_media::{AnswerKind, AudioCodec, MediaEvent, MediaOptions, MediaSession, WebRtcMedia};
use tokio::sync::{broadcast, mpsc};

async fn session(call_id: &str) -> WebRtcMedia {
    WebRtcMedia::new(MediaOptions {
        codecs: vec![AudioCodec::Opus],
        call_id: call_id.to_string(),
        ..MediaOptions::loopback()
    })
    .await
    .unwrap()
}

fn tone(session: &WebRtcMedia, hz: f32) {
    session.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(hz, 0.5))));
}

fn listen(session: &WebRtcMedia) -> mpsc::Receiver<Vec<i16>> {
    let (sink, heard) = AppSink::channel(500);
    session.set_sink(Some(Box::new(sink)));
    heard
}

/// Waits until the last 200 ms heard carry `hz` clearly above `other_hz`, or fails after 10 s.
async fn hears(heard: &mut mpsc::Receiver<Vec<i16>>, hz: f32, other_hz: f32, what: &str) {
    let mut audio: Vec<i16> = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = heard.recv().await {
            audio.extend(chunk);
            if audio.len() >= 9600 {
                let tail = &audio[audio.len() - 9600..];
                if goertzel_dbfs(tail, 48_000, hz) > -30.0
                    && goertzel_dbfs(tail, 48_000, other_hz) < -50.0
                {
                    return;
                }
                audio.drain(..audio.len() - 9600);
            }
        }
    })
    .await;
    assert!(found.is_ok(), "{what}: {hz} Hz not heard alone within 10 s");
}

async fn connected(events: &mut broadcast::Receiver<MediaEvent>) {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.recv().await {
                Ok(MediaEvent::Connected) => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("event stream closed"),
            }
        }
    })
    .await
    .expect("connected in time");
}

#[tokio::test]
async fn final_answer_from_another_fork_replaces_the_early_one() {
    let caller = session("fork-caller").await;
    let early = session("fork-early").await; // e.g. a PBX playing an announcement
    let late = session("fork-final").await; // the phone that answers
    tone(&caller, 1000.0);
    tone(&early, 425.0);
    tone(&late, 700.0);
    let mut caller_heard = listen(&caller);
    let mut late_heard = listen(&late);
    let mut caller_events = caller.events();

    let offer = caller.create_offer().await.unwrap();
    // The forking proxy hands the same offer to both; the first answers with early media.
    let early_answer = early.create_answer(&offer).await.unwrap();

    caller
        .apply_answer(&early_answer, AnswerKind::Provisional)
        .await
        .unwrap();
    connected(&mut caller_events).await;
    hears(
        &mut caller_heard,
        425.0,
        700.0,
        "early media from the first fork",
    )
    .await;

    // The other fork's user answers: it sets its answer (starting ICE) and sends the 200.
    let final_answer = late.create_answer(&offer).await.unwrap();
    caller
        .apply_answer(&final_answer, AnswerKind::Final)
        .await
        .unwrap();
    // The early fork is cancelled by SIP; its media stops.
    early.close().await.unwrap();

    connected(&mut caller_events).await;
    hears(&mut caller_heard, 700.0, 425.0, "the answering fork").await;
    hears(
        &mut late_heard,
        1000.0,
        425.0,
        "the caller, at the answering fork",
    )
    .await;
    assert!(matches!(
        caller.stats().await.ice_state,
        sip_media::IceState::Connected | sip_media::IceState::Completed
    ));

    // The offer/answer exchange is over.
    assert!(
        caller
            .apply_answer(&final_answer, AnswerKind::Final)
            .await
            .is_err()
    );
    caller.close().await.unwrap();
    late.close().await.unwrap();
}

#[tokio::test]
async fn final_answer_from_the_same_far_end_is_reapplied() {
    let caller = session("same-caller").await;
    let callee = session("same-callee").await;
    tone(&caller, 1000.0);
    tone(&callee, 425.0);
    let mut callee_heard = listen(&callee);
    let mut caller_events = caller.events();

    let offer = caller.create_offer().await.unwrap();
    let answer = callee.create_answer(&offer).await.unwrap();
    // The early answer lets only the far end send (a gateway's early media), the final one
    // opens both ways: same ICE credentials and fingerprint, different direction.
    assert!(answer.contains("a=sendrecv"), "{answer}");
    let early_answer = answer.replace("a=sendrecv", "a=sendonly");
    caller
        .apply_answer(&early_answer, AnswerKind::Provisional)
        .await
        .unwrap();
    assert_eq!(caller.direction(), sip_media::Direction::RecvOnly);
    connected(&mut caller_events).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let silent = callee.stats().await.packets_received;

    caller
        .apply_answer(&answer, AnswerKind::Final)
        .await
        .unwrap();
    assert_eq!(caller.direction(), sip_media::Direction::SendRecv);
    hears(&mut callee_heard, 1000.0, 425.0, "the caller after the 200").await;
    assert!(
        callee.stats().await.packets_received > silent,
        "the caller sends only after the final answer"
    );
    caller.close().await.unwrap();
    callee.close().await.unwrap();
}
