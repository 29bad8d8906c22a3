//! A Sipline agent against sipp over UDP on loopback, one scenario of `interop/sipp` per test:
//! sipp answering with plain RTP and echoing our tone, sipp calling us, retransmissions (a
//! retransmitted 2xx and INVITE; our 200 and our BYE retransmitted after T1 while sipp is slow
//! to ACK or answer), a forked 2xx, 491 on our re-INVITE and a 200 racing our CANCEL. Each test checks
//! both sides: sipp's exit status (it fails on any unexpected or missing message) and our
//! events. Skipped unless `SIPLINE_INTEROP` is set.
//!
//! The agent talks to sipp directly (registration off, its transport's server is sipp, its
//! UDP socket bound to a known port so sipp can call it).
//!
//! Run by hand: `unshare -n bash -c 'ip link set lo up; scripts/in-netns cargo test -p sip-ua
//! --test sipp_scenarios --offline'`.

mod peers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use peers::{
    Sipp, collect_for, free_rtp_port, free_udp_port, interop, tone_and_ears, wait, wait_seen,
};
use sip_media::level::goertzel_dbfs;
use sip_media::{AudioCodec, MediaOptions};
use sip_ua::driver::{
    AgentEvents, AgentOptions, Call, FixedSdpFactory, FixedSdpMedia, MediaFactory, RtpFactory,
    UserAgent,
};
use sip_ua::{CoreConfig, Credentials, DtmfMethod, EndCause, EndedBy, Event, HoldSide};

const LIMIT: Duration = Duration::from_secs(10);
/// The tone we send; the echo must bring it back.
const TONE_HZ: f32 = 1000.0;

/// Plain RTP (PCMU) on loopback: sip-ua's [`RtpFactory`]. The driver uses whatever factory it
/// is given (nothing picks plain RTP by itself for a `sip:` server), so the test chooses it.
fn plain_rtp() -> Arc<dyn MediaFactory> {
    Arc::new(RtpFactory::new(MediaOptions {
        codecs: vec![AudioCodec::Pcmu],
        call_id: "sipp".into(),
        ..MediaOptions::loopback()
    }))
}

/// Sends our tone on the call's media and returns 500 ms of what comes back after the first
/// 200 ms (jitter buffer start, echo latency), waiting up to 5 s.
async fn echoed(call: &Call) -> Vec<i16> {
    let (media, mut heard) = tone_and_ears(call, TONE_HZ, 0.5).await;
    let audio = listen_until(&mut heard, 33_600).await;
    let stats = media.stats().await;
    assert!(
        audio.len() >= 33_600,
        "only {} samples came back (stats: {stats:?})",
        audio.len()
    );
    audio[9600..].to_vec()
}

/// At least `samples` decoded samples, or what came within 5 s.
async fn listen_until(
    heard: &mut tokio::sync::mpsc::Receiver<Vec<i16>>,
    samples: usize,
) -> Vec<i16> {
    let mut audio = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while audio.len() < samples {
            match heard.recv().await {
                Some(chunk) => audio.extend(chunk),
                None => break,
            }
        }
    })
    .await;
    audio
}

/// An agent whose transport server is sipp at `sipp_port`, its UDP socket on `own_port`,
/// registration off; returned once its transport is up.
async fn agent(
    user: &str,
    sipp_port: u16,
    own_port: u16,
    media: Arc<dyn MediaFactory>,
) -> (UserAgent, AgentEvents) {
    peers::init_logs();
    let core = CoreConfig::new(
        format!("sip:{user}@127.0.0.1"),
        Credentials::new(user, "not-used-by-sipp"),
    )
    .with_register(false);
    let mut options = AgentOptions::new(core, format!("sip:127.0.0.1:{sipp_port};transport=udp"));
    let bind: SocketAddr = ([127, 0, 0, 1], own_port).into();
    options.transport = options.transport.with_udp_bind(bind);
    let (ua, mut events) = UserAgent::start(options, media).expect("user agent starts");
    wait(&mut events, "the UDP transport", LIMIT, |e| {
        matches!(e, Event::TransportConnected { .. }).then_some(())
    })
    .await;
    (ua, events)
}

fn signalling_only() -> Arc<dyn MediaFactory> {
    Arc::new(FixedSdpFactory::new(FixedSdpMedia::loopback_sdp()))
}

fn ended(e: &Event) -> Option<(EndedBy, EndCause)> {
    match e {
        Event::Ended { by, cause, .. } => Some((*by, *cause)),
        Event::Failed { status, reason, .. } => panic!("call failed: {status:?} {reason}"),
        _ => None,
    }
}

fn confirmed(e: &Event) -> Option<()> {
    match e {
        Event::Confirmed { .. } => Some(()),
        Event::Failed { status, reason, .. } => panic!("call failed: {status:?} {reason}"),
        Event::Ended { cause, .. } => panic!("call ended early: {cause:?}"),
        _ => None,
    }
}

fn count(events: &[Event], pick: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| pick(e)).count()
}

fn is_accepted(e: &Event) -> bool {
    matches!(e, Event::Accepted { .. })
}

/// Asserts the 1 kHz tone came back loud: the echo carried our audio.
fn assert_tone(audio: &[i16]) {
    let level = goertzel_dbfs(audio, 48_000, TONE_HZ);
    println!("echoed {TONE_HZ} Hz at {level:.1} dBFS");
    assert!(level > -20.0, "echoed tone at {level:.1} dBFS");
}

/// A `sip:` URI on sipp's port.
fn at_sipp(user: &str, sipp_port: u16) -> String {
    format!("sip:{user}@127.0.0.1:{sipp_port}")
}

/// What every test here relies on, checked without sipp (so in a plain `cargo test` too): an
/// agent on a fixed UDP port connects and sends from that port.
#[tokio::test]
async fn agent_on_a_fixed_udp_port_sends_from_it() {
    let server = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server_port = server.local_addr().unwrap().port();
    let own_port = free_udp_port();
    let (ua, _events) = agent("6100", server_port, own_port, signalling_only()).await;
    ua.send_message(&at_sipp("peer", server_port), "text/plain", "hello")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let (len, from) = tokio::time::timeout(LIMIT, server.recv_from(&mut buf))
        .await
        .expect("the MESSAGE arrives")
        .unwrap();
    assert_eq!(from.port(), own_port);
    assert!(buf[..len].starts_with(b"MESSAGE sip:peer@127.0.0.1:"));
    ua.shutdown().await;
}

#[tokio::test]
async fn sipp_answers_with_plain_rtp_and_echoes_our_tone_and_dtmf() {
    let Some(run_dir) = interop() else { return };
    let (sipp_port, own_port, media_port) = (free_udp_port(), free_udp_port(), free_rtp_port());
    let mut sipp = Sipp::start(
        "uas_echo.xml",
        sipp_port,
        &["-rtp_echo".into(), "-mp".into(), media_port.to_string()],
        &run_dir,
    );
    sipp.listening(sipp_port).await;
    let (ua, mut events) = agent("6101", sipp_port, own_port, plain_rtp()).await;

    let call = ua.call(&at_sipp("echo", sipp_port)).await.unwrap();
    let ((), seen) = wait_seen(&mut events, "the answer", LIMIT, confirmed).await;
    assert_eq!(count(&seen, |e| matches!(e, Event::Ringing { .. })), 1);
    let answer = seen
        .iter()
        .find_map(|e| match e {
            Event::RemoteAnswer { sdp, .. } => Some(sdp.clone()),
            _ => None,
        })
        .expect("the 200 carried sipp's SDP");
    assert!(answer.contains(&format!("m=audio {media_port} RTP/AVP 0")));

    assert_tone(&echoed(&call).await);

    // RFC 4733 digits go out in the RTP stream and the echo brings them back.
    call.send_dtmf("159", DtmfMethod::Rfc4733).await.unwrap();
    let mut digits = String::new();
    while digits.len() < 3 {
        digits.push(
            wait(&mut events, "an echoed DTMF digit", LIMIT, |e| match e {
                Event::DtmfReceived {
                    digit,
                    method: DtmfMethod::Rfc4733,
                    ..
                } => Some(*digit),
                _ => None,
            })
            .await,
        );
    }
    assert_eq!(digits, "159");

    call.hangup().await.unwrap();
    assert_eq!(
        wait(&mut events, "the end", LIMIT, ended).await,
        (EndedBy::Local, EndCause::LocalBye)
    );
    let outcome = sipp.finish(LIMIT).await;
    outcome.assert_success("uas_echo");
    assert_eq!(outcome.received("BYE "), 1);
    ua.shutdown().await;
}

#[tokio::test]
async fn sipp_calls_us_we_answer_and_sipp_hangs_up() {
    let Some(run_dir) = interop() else { return };
    let (sipp_port, own_port, media_port) = (free_udp_port(), free_udp_port(), free_rtp_port());
    let (ua, mut events) = agent("6102", sipp_port, own_port, plain_rtp()).await;
    let sipp = Sipp::start(
        "uac_call.xml",
        sipp_port,
        &[
            "-rtp_echo".into(),
            "-mp".into(),
            media_port.to_string(),
            "-s".into(),
            "6102".into(),
            format!("127.0.0.1:{own_port}"),
        ],
        &run_dir,
    );

    let (handle, display_name, offer) = wait(&mut events, "sipp's INVITE", LIMIT, |e| match e {
        Event::IncomingCall {
            call,
            remote_uri,
            display_name,
            remote_sdp,
        } => {
            assert!(remote_uri.starts_with("sip:sipp@127.0.0.1"), "{remote_uri}");
            Some((*call, display_name.clone(), remote_sdp.clone()))
        }
        _ => None,
    })
    .await;
    assert_eq!(display_name.as_deref(), Some("sipp caller"));
    assert!(offer.expect("an offer").contains("RTP/AVP 0 101"));
    let call = ua.call_handle(handle);
    call.answer().await.unwrap();
    wait(&mut events, "sipp's ACK", LIMIT, confirmed).await;

    assert_tone(&echoed(&call).await);

    assert_eq!(
        wait(&mut events, "sipp's BYE", LIMIT, ended).await,
        (EndedBy::Remote, EndCause::RemoteBye)
    );
    sipp.finish(LIMIT).await.assert_success("uac_call");
    ua.shutdown().await;
}

#[tokio::test]
async fn retransmitted_2xx_is_acked_again_and_answers_the_call_once() {
    let Some(run_dir) = interop() else { return };
    let (sipp_port, own_port) = (free_udp_port(), free_udp_port());
    let mut sipp = Sipp::start("uas_2xx_retransmit.xml", sipp_port, &[], &run_dir);
    sipp.listening(sipp_port).await;
    let (ua, mut events) = agent("6103", sipp_port, own_port, signalling_only()).await;

    let call = ua.call(&at_sipp("retransmit", sipp_port)).await.unwrap();
    let ((), mut seen) = wait_seen(&mut events, "the answer", LIMIT, confirmed).await;
    seen.extend(collect_for(&mut events, Duration::from_millis(500)).await);
    assert_eq!(count(&seen, is_accepted), 1, "{seen:#?}");
    assert_eq!(
        count(&seen, |e| matches!(e, Event::Confirmed { .. })),
        1,
        "{seen:#?}"
    );

    call.hangup().await.unwrap();
    assert_eq!(
        wait(&mut events, "the end", LIMIT, ended).await,
        (EndedBy::Local, EndCause::LocalBye)
    );
    let outcome = sipp.finish(LIMIT).await;
    outcome.assert_success("uas_2xx_retransmit");
    assert_eq!(outcome.received("ACK "), 2, "one ACK per 2xx copy");
    ua.shutdown().await;
}

#[tokio::test]
async fn retransmitted_invite_starts_no_second_call() {
    let Some(run_dir) = interop() else { return };
    let (sipp_port, own_port) = (free_udp_port(), free_udp_port());
    let (ua, mut events) = agent("6104", sipp_port, own_port, signalling_only()).await;
    let sipp = Sipp::start(
        "uac_invite_retransmit.xml",
        sipp_port,
        &["-s".into(), "6104".into(), format!("127.0.0.1:{own_port}")],
        &run_dir,
    );

    let handle = wait(&mut events, "sipp's INVITE", LIMIT, |e| match e {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    })
    .await;
    // sipp sends the INVITE again as soon as we ring; give it time to arrive.
    let later = collect_for(&mut events, Duration::from_millis(800)).await;
    assert_eq!(
        count(&later, |e| matches!(e, Event::IncomingCall { .. })),
        0,
        "the retransmitted INVITE started a second call: {later:#?}"
    );
    ua.call_handle(handle).answer().await.unwrap();
    wait(&mut events, "sipp's ACK", LIMIT, confirmed).await;
    assert_eq!(
        wait(&mut events, "sipp's BYE", LIMIT, ended).await,
        (EndedBy::Remote, EndCause::RemoteBye)
    );
    let outcome = sipp.finish(LIMIT).await;
    outcome.assert_success("uac_invite_retransmit");
    assert_eq!(
        outcome.received("SIP/2.0 180"),
        2,
        "the INVITE retransmission is answered with our last provisional response"
    );
    ua.shutdown().await;
}

/// The gap between the first two messages starting with `start_line` that sipp received.
fn first_retransmission_after(outcome: &peers::SippOutcome, start_line: &str) -> Duration {
    let at = outcome.received_at(start_line);
    assert!(at.len() >= 2, "{start_line}: received at {at:?}");
    at[1] - at[0]
}

#[tokio::test]
async fn our_200_is_retransmitted_until_the_late_ack() {
    let Some(run_dir) = interop() else { return };
    let (sipp_port, own_port) = (free_udp_port(), free_udp_port());
    let (ua, mut events) = agent("6108", sipp_port, own_port, signalling_only()).await;
    let sipp = Sipp::start(
        "uac_late_ack.xml",
        sipp_port,
        &["-s".into(), "6108".into(), format!("127.0.0.1:{own_port}")],
        &run_dir,
    );
    let handle = wait(&mut events, "sipp's INVITE", LIMIT, |e| match e {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    })
    .await;
    ua.call_handle(handle).answer().await.unwrap();
    let ((), seen) = wait_seen(&mut events, "the late ACK", LIMIT, confirmed).await;
    assert_eq!(count(&seen, is_accepted), 1, "{seen:#?}");
    assert_eq!(
        wait(&mut events, "sipp's BYE", LIMIT, ended).await,
        (EndedBy::Remote, EndCause::RemoteBye)
    );
    let outcome = sipp.finish(LIMIT).await;
    outcome.assert_success("uac_late_ack");
    let gap = first_retransmission_after(&outcome, "SIP/2.0 200 OK");
    println!("our 200 OK was first retransmitted after {gap:?} (T1 = 500 ms)");
    assert!(
        gap >= Duration::from_millis(450) && gap < Duration::from_millis(1500),
        "{gap:?}"
    );
    ua.shutdown().await;
}

#[tokio::test]
async fn our_bye_is_retransmitted_by_timer_e_until_answered() {
    let Some(run_dir) = interop() else { return };
    let (sipp_port, own_port) = (free_udp_port(), free_udp_port());
    let mut sipp = Sipp::start("uas_late_bye_answer.xml", sipp_port, &[], &run_dir);
    sipp.listening(sipp_port).await;
    let (ua, mut events) = agent("6109", sipp_port, own_port, signalling_only()).await;

    let call = ua.call(&at_sipp("lossy", sipp_port)).await.unwrap();
    wait(&mut events, "the answer", LIMIT, confirmed).await;
    call.hangup().await.unwrap();
    assert_eq!(
        wait(&mut events, "the end", LIMIT, ended).await,
        (EndedBy::Local, EndCause::LocalBye)
    );
    let outcome = sipp.finish(LIMIT).await;
    outcome.assert_success("uas_late_bye_answer");
    let gap = first_retransmission_after(&outcome, "BYE ");
    println!("our BYE was first retransmitted after {gap:?} (T1 = 500 ms)");
    assert!(
        gap >= Duration::from_millis(450) && gap < Duration::from_millis(1500),
        "{gap:?}"
    );
    ua.shutdown().await;
}

#[tokio::test]
async fn forked_2xx_is_acked_and_the_second_dialog_ended_with_bye() {
    let Some(run_dir) = interop() else { return };
    let (sipp_port, own_port) = (free_udp_port(), free_udp_port());
    let mut sipp = Sipp::start("uas_forked_2xx.xml", sipp_port, &[], &run_dir);
    sipp.listening(sipp_port).await;
    let (ua, mut events) = agent("6105", sipp_port, own_port, signalling_only()).await;

    let call = ua.call(&at_sipp("forked", sipp_port)).await.unwrap();
    let ((), mut seen) = wait_seen(&mut events, "the answer", LIMIT, confirmed).await;
    // The second 200 comes after our first ACK; its ACK and BYE follow.
    seen.extend(collect_for(&mut events, Duration::from_secs(1)).await);
    assert_eq!(count(&seen, is_accepted), 1, "{seen:#?}");
    assert_eq!(
        count(&seen, |e| matches!(
            e,
            Event::Ended { .. } | Event::Failed { .. }
        )),
        0,
        "the second fork's BYE ended our call: {seen:#?}"
    );

    call.hangup().await.unwrap();
    assert_eq!(
        wait(&mut events, "the end", LIMIT, ended).await,
        (EndedBy::Local, EndCause::LocalBye)
    );
    let outcome = sipp.finish(LIMIT).await;
    outcome.assert_success("uas_forked_2xx");
    assert_eq!(outcome.received("ACK "), 2);
    assert_eq!(outcome.received("BYE "), 2);
    ua.shutdown().await;
}

#[tokio::test]
async fn re_invite_answered_491_is_retried_after_the_14_1_timer() {
    let Some(run_dir) = interop() else { return };
    let (sipp_port, own_port) = (free_udp_port(), free_udp_port());
    let mut sipp = Sipp::start("uas_491.xml", sipp_port, &[], &run_dir);
    sipp.listening(sipp_port).await;
    let (ua, mut events) = agent("6106", sipp_port, own_port, signalling_only()).await;

    let call = ua.call(&at_sipp("glare", sipp_port)).await.unwrap();
    wait(&mut events, "the answer", LIMIT, confirmed).await;
    let asked = Instant::now();
    call.hold().await.unwrap();
    let held = wait(
        &mut events,
        "the hold after the retry",
        LIMIT,
        |e| match e {
            Event::HoldChanged {
                side: HoldSide::Local,
                held,
                ..
            } => Some(*held),
            Event::RenegotiationFailed { status, .. } => {
                panic!("re-INVITE failed instead of being retried: {status:?}")
            }
            _ => None,
        },
    )
    .await;
    let waited = asked.elapsed();
    println!("hold took effect {waited:?} after asking (491, then the retry)");
    assert!(held);
    // We chose the Call-ID: the retry waits 2.1 s to 4 s (RFC 3261 §14.1); allow for load.
    assert!(
        waited >= Duration::from_millis(2100) && waited < Duration::from_secs(6),
        "retried after {waited:?}"
    );

    call.hangup().await.unwrap();
    assert_eq!(
        wait(&mut events, "the end", LIMIT, ended).await,
        (EndedBy::Local, EndCause::LocalBye)
    );
    let outcome = sipp.finish(LIMIT).await;
    outcome.assert_success("uas_491");
    assert_eq!(outcome.received("INVITE "), 3, "INVITE, re-INVITE, retry");
    ua.shutdown().await;
}

#[tokio::test]
async fn ok_racing_our_cancel_is_acked_then_ended_with_bye() {
    let Some(run_dir) = interop() else { return };
    let (sipp_port, own_port) = (free_udp_port(), free_udp_port());
    let mut sipp = Sipp::start("uas_200_after_cancel.xml", sipp_port, &[], &run_dir);
    sipp.listening(sipp_port).await;
    let (ua, mut events) = agent("6107", sipp_port, own_port, signalling_only()).await;

    let call = ua.call(&at_sipp("race", sipp_port)).await.unwrap();
    wait(&mut events, "ringing", LIMIT, |e| {
        matches!(e, Event::Ringing { .. }).then_some(())
    })
    .await;
    call.hangup().await.unwrap();
    let ((by, _cause), mut seen) = wait_seen(&mut events, "the end", LIMIT, |e| match e {
        Event::Ended { by, cause, .. } => Some((*by, *cause)),
        _ => None,
    })
    .await;
    assert_eq!(by, EndedBy::Local);
    let outcome = sipp.finish(LIMIT).await;
    seen.extend(collect_for(&mut events, Duration::from_millis(200)).await);
    assert_eq!(
        count(&seen, |e| matches!(e, Event::Ended { .. })),
        1,
        "{seen:#?}"
    );
    outcome.assert_success("uas_200_after_cancel");
    assert_eq!(outcome.received("CANCEL "), 1);
    assert_eq!(outcome.received("ACK "), 1);
    assert_eq!(outcome.received("BYE "), 1);
    ua.shutdown().await;
}
