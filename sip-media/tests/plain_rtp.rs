//! Plain RTP (`RTP/AVP`): two `RtpMedia` sessions on loopback, and (with `SIPLINE_INTEROP`)
//! our tone and DTMF echoed back by sipp's RTP echo.

use std::process::Stdio;
use std::time::Duration;

use sip_media::audio::AppSink;
use sip_media::level::{goertzel_dbfs, rms_dbfs};
use sip_media::tones::{ToneGenerator, ToneSpec};
use sip_media::{
    AnswerKind, AudioCodec, Direction, MediaEvent, MediaOptions, MediaSession, RtpMedia,
};
use tokio::sync::{broadcast, mpsc};

fn options(codecs: &[AudioCodec], call_id: &str) -> MediaOptions {
    MediaOptions {
        codecs: codecs.to_vec(),
        call_id: call_id.into(),
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

async fn collect(rx: &mut mpsc::Receiver<Vec<i16>>, samples: usize, within: Duration) -> Vec<i16> {
    let mut audio = Vec::new();
    let _ = tokio::time::timeout(within, async {
        while audio.len() < samples {
            match rx.recv().await {
                Some(chunk) => audio.extend(chunk),
                None => break,
            }
        }
    })
    .await;
    audio
}

async fn digits(events: &mut broadcast::Receiver<MediaEvent>, count: usize) -> String {
    let mut digits = String::new();
    while digits.len() < count {
        if let MediaEvent::DtmfReceived(d) = wait_for(
            events,
            |e| matches!(e, MediaEvent::DtmfReceived(_)),
            Duration::from_secs(5),
        )
        .await
        {
            digits.push(d);
        }
    }
    digits
}

#[tokio::test]
async fn two_plain_rtp_sessions_talk() {
    let caller = RtpMedia::new(options(&[AudioCodec::Pcma, AudioCodec::Pcmu], "rtp-caller"))
        .await
        .unwrap();
    let callee = RtpMedia::new(options(&[AudioCodec::Pcmu, AudioCodec::Pcma], "rtp-callee"))
        .await
        .unwrap();
    let mut callee_events = callee.events();
    caller.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
        1000.0, 0.5,
    ))));
    let (sink, mut heard) = AppSink::channel(500);
    callee.set_sink(Some(Box::new(sink)));

    let offer = caller.create_offer().await.unwrap();
    assert!(
        offer.contains("m=audio ") && offer.contains(" RTP/AVP 8 0 101\r\n"),
        "{offer}"
    );
    assert!(offer.contains("c=IN IP4 127.0.0.1"), "{offer}");
    let answer = callee.create_answer(&offer).await.unwrap();
    // The answer keeps the offerer's order: PCMA first.
    assert!(answer.contains(" RTP/AVP 8 0 101\r\n"), "{answer}");
    caller
        .apply_answer(&answer, AnswerKind::Final)
        .await
        .unwrap();

    let audio = collect(&mut heard, 9600, Duration::from_secs(3)).await;
    assert!(audio.len() >= 9600);
    assert!(goertzel_dbfs(&audio[4800..], 48_000, 1000.0) > -20.0);
    let stats = callee.stats().await;
    assert_eq!(stats.codec, Some(AudioCodec::Pcma));
    assert_eq!(stats.packets_lost, 0);

    caller.send_dtmf("123#*0").unwrap();
    assert_eq!(digits(&mut callee_events, 6).await, "123#*0");

    // Mute and hold behave as with WebRTC.
    caller.set_muted(true);
    // Packets sent before the mute may still be in flight on a loaded machine: silence must
    // set in within 2 s and stay for 100 ms.
    let mut audio = Vec::new();
    let silent = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(chunk) = heard.recv().await {
            audio.extend(chunk);
            if audio.len() >= 4800 && rms_dbfs(&audio[audio.len() - 4800..]) < -60.0 {
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
    caller.set_muted(false);
    callee.set_direction(Direction::SendOnly).await.unwrap();
    let reoffer = callee.create_offer().await.unwrap();
    assert!(reoffer.contains("a=sendonly"));
    let reanswer = caller.create_answer(&reoffer).await.unwrap();
    assert!(reanswer.contains("a=recvonly"), "{reanswer}");
    callee
        .apply_answer(&reanswer, AnswerKind::Final)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = callee.stats().await.packets_received;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        callee.stats().await.packets_received,
        before,
        "the held caller stops sending"
    );

    caller.close().await.unwrap();
    callee.close().await.unwrap();
}

#[tokio::test]
async fn webrtc_offers_are_refused_by_plain_rtp() {
    let session = RtpMedia::new(options(&[AudioCodec::Pcmu], "refuse"))
        .await
        .unwrap();
    let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 4000 UDP/TLS/RTP/SAVPF 0\r\na=fingerprint:sha-256 AA\r\n";
    let err = session.create_answer(offer).await.unwrap_err();
    assert!(err.is_not_acceptable(), "{err}");
    let no_codec = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 18\r\n";
    assert!(
        session
            .create_answer(no_codec)
            .await
            .unwrap_err()
            .is_not_acceptable()
    );
    session.close().await.unwrap();
}

/// sipp's `-rtp_echo` sends every datagram that reaches its media port back to the sender.
/// It echoes without any SIP dialog: the built-in `uas` scenario only keeps sipp running,
/// so no scenario file is needed. The answer SDP below stands in for the one sipp's UAS would
/// send in a 200 OK.
#[tokio::test]
async fn sipp_echoes_our_tone_and_dtmf() {
    if std::env::var_os("SIPLINE_INTEROP").is_none() {
        println!("skipped: needs the real peers, run scripts/test");
        return;
    }
    let media_port = {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port() & !1;
        drop(probe);
        port
    };
    let sip_port = {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let sipp = which_sipp();
    let mut child = tokio::process::Command::new(&sipp)
        .args(["-sn", "uas", "-rtp_echo", "-nostdin", "-i", "127.0.0.1"])
        .args(["-p", &sip_port.to_string(), "-mp", &media_port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{sipp} starts: {e}"));
    tokio::time::sleep(Duration::from_millis(500)).await;

    for codec in [AudioCodec::Pcmu, AudioCodec::Opus] {
        let session = RtpMedia::new(options(&[codec], "sipp-echo")).await.unwrap();
        let mut events = session.events();
        session.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
            1000.0, 0.5,
        ))));
        let (sink, mut heard) = AppSink::channel(500);
        session.set_sink(Some(Box::new(sink)));
        let _offer = session.create_offer().await.unwrap();
        let (name, rate) = (codec.encoding_name(), codec.clock_rate());
        let pt = codec.default_payload_type();
        let answer = format!(
            "v=0\r\no=sipp 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {media_port} RTP/AVP {pt} 101\r\na=rtpmap:{pt} {name}/{rate}\r\n\
a=rtpmap:101 telephone-event/8000\r\n"
        );
        session
            .apply_answer(&answer, AnswerKind::Final)
            .await
            .unwrap();
        wait_for(
            &mut events,
            |e| *e == MediaEvent::Connected,
            Duration::from_secs(3),
        )
        .await;
        let audio = collect(&mut heard, 24_000, Duration::from_secs(3)).await;
        assert!(
            audio.len() >= 24_000,
            "{codec}: echo brought back {} samples",
            audio.len()
        );
        let level = goertzel_dbfs(&audio[9600..], 48_000, 1000.0);
        println!("{codec}: echoed 1 kHz at {level:.1} dBFS");
        assert!(level > -20.0, "{codec}: {level}");
        session.send_dtmf("159").unwrap();
        assert_eq!(digits(&mut events, 3).await, "159");
        let stats = session.stats().await;
        assert!(
            stats
                .selected_pair
                .unwrap()
                .ends_with(&format!("127.0.0.1:{media_port}"))
        );
        session.close().await.unwrap();
    }
    child.start_kill().ok();
    let _ = child.wait().await;
}

fn which_sipp() -> String {
    for candidate in ["sipp", "sip-tester"] {
        if std::process::Command::new(candidate)
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
        {
            return candidate.to_string();
        }
    }
    panic!("sipp is not installed (scripts/install-deps installs it)");
}
