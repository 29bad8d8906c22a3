//! Two `WebRtcMedia` sessions talking over 127.0.0.1: tones, DTMF, mute, hold, early media.

use std::time::{Duration, Instant};

use sip_media::audio::AppSink;
use sip_media::level::{goertzel_dbfs, rms_dbfs};
use sip_media::tones::{ToneGenerator, ToneSpec};
use sip_media::{
    AnswerKind, AudioCodec, Direction, MediaEvent, MediaOptions, MediaSession, WebRtcMedia,
};
use tokio::sync::{broadcast, mpsc};

fn options(codecs: &[AudioCodec], call_id: &str) -> MediaOptions {
    MediaOptions {
        codecs: codecs.to_vec(),
        call_id: call_id.to_string(),
        ..MediaOptions::loopback()
    }
}

async fn wait_for(
    events: &mut broadcast::Receiver<MediaEvent>,
    wanted: impl Fn(&MediaEvent) -> bool,
    within: Duration,
) -> MediaEvent {
    tokio::time::timeout(within, async {
        loop {
            match events.recv().await {
                Ok(event) if wanted(&event) => return event,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("event stream closed"),
            }
        }
    })
    .await
    .expect("event did not arrive in time")
}

/// Collects audio from `rx` until `window` samples are in hand, or fails after `within`.
async fn collect(rx: &mut mpsc::Receiver<Vec<i16>>, samples: usize, within: Duration) -> Vec<i16> {
    let mut audio = Vec::new();
    tokio::time::timeout(within, async {
        while audio.len() < samples {
            match rx.recv().await {
                Some(chunk) => audio.extend(chunk),
                None => break,
            }
        }
    })
    .await
    .ok();
    audio
}

fn drain(rx: &mut mpsc::Receiver<Vec<i16>>) {
    while rx.try_recv().is_ok() {}
}

struct Call {
    caller: WebRtcMedia,
    callee: WebRtcMedia,
    caller_events: broadcast::Receiver<MediaEvent>,
    callee_events: broadcast::Receiver<MediaEvent>,
}

async fn connect(caller_codecs: &[AudioCodec], callee_codecs: &[AudioCodec]) -> Call {
    let caller = WebRtcMedia::new(options(caller_codecs, "caller"))
        .await
        .unwrap();
    let callee = WebRtcMedia::new(options(callee_codecs, "callee"))
        .await
        .unwrap();
    let caller_events = caller.events();
    let callee_events = callee.events();
    let offer = caller.create_offer().await.unwrap();
    assert!(
        offer.contains("a=candidate"),
        "offer carries candidates:\n{offer}"
    );
    assert!(offer.contains("127.0.0.1"), "loopback candidate:\n{offer}");
    let answer = callee.create_answer(&offer).await.unwrap();
    caller
        .apply_answer(&answer, AnswerKind::Final)
        .await
        .unwrap();
    Call {
        caller,
        callee,
        caller_events,
        callee_events,
    }
}

/// Sends a 1 kHz tone from caller to callee and checks it is detected within 1 s of the
/// callee's connection coming up.
async fn tone_is_heard(codec: AudioCodec) {
    let mut call = connect(
        &[codec],
        &[
            AudioCodec::Opus,
            AudioCodec::Pcmu,
            AudioCodec::Pcma,
            AudioCodec::G722,
        ],
    )
    .await;
    call.caller
        .set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
            1000.0, 0.5,
        ))));
    let (sink, mut heard) = AppSink::channel(500);
    call.callee.set_sink(Some(Box::new(sink)));
    wait_for(
        &mut call.callee_events,
        |e| *e == MediaEvent::Connected,
        Duration::from_secs(10),
    )
    .await;
    let connected = Instant::now();
    let deadline = connected + Duration::from_secs(1);
    let mut detected_after = None;
    let mut audio = Vec::new();
    while Instant::now() < deadline {
        if let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_millis(50), heard.recv()).await
        {
            audio.extend(chunk);
        }
        if audio.len() >= 4800 {
            let window = &audio[audio.len() - 4800..];
            let tone = goertzel_dbfs(window, 48_000, 1000.0);
            let other = goertzel_dbfs(window, 48_000, 1333.0);
            if tone > -20.0 && other < tone - 20.0 {
                detected_after = Some(connected.elapsed());
                break;
            }
        }
    }
    let after = detected_after.unwrap_or_else(|| {
        panic!(
            "{codec}: 1 kHz not detected within 1 s of connection ({} samples heard)",
            audio.len()
        )
    });
    println!("{codec}: tone detected {after:?} after connection");
    let stats = call.callee.stats().await;
    assert_eq!(stats.codec, Some(codec));
    assert!(stats.packets_received > 0);
    let caller_stats = call.caller.stats().await;
    assert!(caller_stats.packets_sent > 0 && caller_stats.bytes_sent > 0);
    assert!(
        caller_stats
            .selected_pair
            .as_deref()
            .unwrap_or("")
            .contains("127.0.0.1"),
        "{caller_stats:?}"
    );
    let _ = &mut call.caller_events;
    call.caller.close().await.unwrap();
    call.callee.close().await.unwrap();
}

#[tokio::test]
async fn opus_tone_is_heard_within_a_second() {
    tone_is_heard(AudioCodec::Opus).await;
}

#[tokio::test]
async fn pcmu_tone_is_heard_within_a_second() {
    tone_is_heard(AudioCodec::Pcmu).await;
}

#[tokio::test]
async fn g722_tone_is_heard_within_a_second() {
    tone_is_heard(AudioCodec::G722).await;
}

#[tokio::test]
async fn dtmf_digits_arrive_exactly_once() {
    let mut call = connect(&[AudioCodec::Opus], &[AudioCodec::Opus]).await;
    wait_for(
        &mut call.caller_events,
        |e| *e == MediaEvent::Connected,
        Duration::from_secs(10),
    )
    .await;
    wait_for(
        &mut call.callee_events,
        |e| *e == MediaEvent::Connected,
        Duration::from_secs(10),
    )
    .await;
    call.caller.send_dtmf("123#*0").unwrap();
    let mut digits = String::new();
    while digits.len() < 6 {
        if let MediaEvent::DtmfReceived(d) = wait_for(
            &mut call.callee_events,
            |e| matches!(e, MediaEvent::DtmfReceived(_)),
            Duration::from_secs(5),
        )
        .await
        {
            digits.push(d);
        }
    }
    assert_eq!(digits, "123#*0");
    wait_for(
        &mut call.caller_events,
        |e| *e == MediaEvent::DtmfSent,
        Duration::from_secs(5),
    )
    .await;
    // No digit is reported twice.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(event) = call.callee_events.try_recv() {
        assert!(
            !matches!(event, MediaEvent::DtmfReceived(_)),
            "extra {event:?}"
        );
    }
    assert!(call.caller.send_dtmf("12x").is_err());
    call.caller.close().await.unwrap();
    call.callee.close().await.unwrap();
}

#[tokio::test]
async fn mute_and_hold_stop_the_tone() {
    let mut call = connect(&[AudioCodec::Opus], &[AudioCodec::Opus]).await;
    call.caller
        .set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
            1000.0, 0.5,
        ))));
    let (sink, mut heard) = AppSink::channel(500);
    call.callee.set_sink(Some(Box::new(sink)));
    wait_for(
        &mut call.callee_events,
        |e| *e == MediaEvent::Connected,
        Duration::from_secs(10),
    )
    .await;
    let audio = collect(&mut heard, 9600, Duration::from_secs(2)).await;
    assert!(goertzel_dbfs(&audio[4800..], 48_000, 1000.0) > -20.0);

    // Mute: no renegotiation, silence at the far end.
    call.caller.set_muted(true);
    assert!(call.caller.is_muted());
    // Packets sent before the mute may still be in flight on a loaded machine: silence must
    // set in within 2 s and last 200 ms, while audio keeps flowing.
    let mut audio = Vec::new();
    let silent = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(chunk) = heard.recv().await {
            audio.extend(chunk);
            if audio.len() >= 9600 && rms_dbfs(&audio[audio.len() - 9600..]) < -60.0 {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(
        silent,
        "muted audio never fell silent ({} samples heard)",
        audio.len()
    );
    call.caller.set_muted(false);

    // Hold: a sendonly re-offer from the callee stops what the caller sends to it... and
    // here the caller holds: it re-offers inactive, and no packets reach the callee.
    call.caller
        .set_direction(Direction::Inactive)
        .await
        .unwrap();
    let reoffer = call.caller.create_offer().await.unwrap();
    assert!(reoffer.contains("a=inactive"), "{reoffer}");
    let reanswer = call.callee.create_answer(&reoffer).await.unwrap();
    assert!(reanswer.contains("a=inactive"), "{reanswer}");
    call.caller
        .apply_answer(&reanswer, AnswerKind::Final)
        .await
        .unwrap();
    assert_eq!(call.caller.direction(), Direction::Inactive);
    tokio::time::sleep(Duration::from_millis(200)).await;
    drain(&mut heard);
    let before = call.callee.stats().await.packets_received;
    let audio = collect(&mut heard, 4800, Duration::from_millis(600)).await;
    let after = call.callee.stats().await.packets_received;
    assert!(
        audio.is_empty(),
        "{} samples heard while inactive",
        audio.len()
    );
    assert_eq!(before, after, "packets arrived while inactive");

    // Resume.
    call.caller
        .set_direction(Direction::SendRecv)
        .await
        .unwrap();
    let reoffer = call.caller.create_offer().await.unwrap();
    let reanswer = call.callee.create_answer(&reoffer).await.unwrap();
    call.caller
        .apply_answer(&reanswer, AnswerKind::Final)
        .await
        .unwrap();
    assert_eq!(call.caller.direction(), Direction::SendRecv);
    let audio = collect(&mut heard, 9600, Duration::from_secs(2)).await;
    assert!(audio.len() >= 9600);
    assert!(goertzel_dbfs(&audio[4800..], 48_000, 1000.0) > -20.0);
    let _ = &mut call.caller_events;
    call.caller.close().await.unwrap();
    call.callee.close().await.unwrap();
}

#[tokio::test]
async fn sendonly_hold_stops_media_towards_the_holder() {
    let mut call = connect(&[AudioCodec::Pcmu], &[AudioCodec::Pcmu]).await;
    call.callee
        .set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
            1000.0, 0.5,
        ))));
    wait_for(
        &mut call.caller_events,
        |e| *e == MediaEvent::Connected,
        Duration::from_secs(10),
    )
    .await;
    call.caller
        .set_direction(Direction::SendOnly)
        .await
        .unwrap();
    let reoffer = call.caller.create_offer().await.unwrap();
    let reanswer = call.callee.create_answer(&reoffer).await.unwrap();
    assert!(reanswer.contains("a=recvonly"), "{reanswer}");
    call.caller
        .apply_answer(&reanswer, AnswerKind::Final)
        .await
        .unwrap();
    assert_eq!(call.callee.direction(), Direction::RecvOnly);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = call.caller.stats().await.packets_received;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(call.caller.stats().await.packets_received, before);
    let _ = &mut call.callee_events;
    call.caller.close().await.unwrap();
    call.callee.close().await.unwrap();
}

#[tokio::test]
async fn early_media_then_final_answer() {
    let caller = WebRtcMedia::new(options(&[AudioCodec::Opus], "early-caller"))
        .await
        .unwrap();
    let callee = WebRtcMedia::new(options(&[AudioCodec::Opus], "early-callee"))
        .await
        .unwrap();
    let mut events = caller.events();
    callee.set_source(Box::new(ToneGenerator::new(ToneSpec::ringback_etsi())));
    let (sink, mut heard) = AppSink::channel(500);
    caller.set_sink(Some(Box::new(sink)));
    let offer = caller.create_offer().await.unwrap();
    let answer = callee.create_answer(&offer).await.unwrap();
    caller
        .apply_answer(&answer, AnswerKind::Provisional)
        .await
        .unwrap();
    wait_for(
        &mut events,
        |e| *e == MediaEvent::EarlyMediaStarted,
        Duration::from_secs(1),
    )
    .await;
    // The same SDP again in a second 183 changes nothing.
    caller
        .apply_answer(&answer, AnswerKind::Provisional)
        .await
        .unwrap();
    let audio = collect(&mut heard, 24_000, Duration::from_secs(5)).await;
    assert!(
        goertzel_dbfs(&audio, 48_000, 425.0) > -30.0,
        "ringback heard as early media"
    );
    caller
        .apply_answer(&answer, AnswerKind::Final)
        .await
        .unwrap();
    // No offer is outstanding any more.
    let err = caller
        .apply_answer(&answer, AnswerKind::Final)
        .await
        .unwrap_err();
    assert!(
        matches!(err, sip_media::MediaError::InvalidState { .. }),
        "{err}"
    );
    caller.close().await.unwrap();
    callee.close().await.unwrap();
    assert!(
        caller.create_offer().await.is_err(),
        "closed sessions refuse work"
    );
}

#[tokio::test]
async fn unusable_offers_are_not_acceptable() {
    let callee = WebRtcMedia::new(options(&[AudioCodec::Opus], "bad"))
        .await
        .unwrap();
    let caller = WebRtcMedia::new(options(&[AudioCodec::Opus], "ok"))
        .await
        .unwrap();
    let good = caller.create_offer().await.unwrap();
    let cases = [
        "garbage".to_string(),
        good.replace("a=fingerprint", "a=x-fingerprint"),
        good.replace("a=ice-pwd", "a=x-ice-pwd"),
        good.replace("opus/48000", "speex/48000"),
        good.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP"),
    ];
    for bad in cases {
        let err = callee.create_answer(&bad).await.unwrap_err();
        assert!(err.is_not_acceptable(), "{err}");
    }
    // The session is still usable after the bad offers.
    let answer = callee.create_answer(&good).await.unwrap();
    caller
        .apply_answer(&answer, AnswerKind::Final)
        .await
        .unwrap();
    caller.close().await.unwrap();
    callee.close().await.unwrap();
}
