//! A real browser: headless Chromium (with JsSIP's browser bundle on the page) driven by
//! `interop/browser/peer.js`; SDP exchanged directly, no SIP. Runs only with `SIPLINE_INTEROP`
//! set (scripts/test, inside a loopback-only network namespace).

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sip_media::audio::AppSink;
use sip_media::level::rms_dbfs;
use sip_media::tones::{ToneGenerator, ToneSpec};
use sip_media::{AnswerKind, MediaEvent, MediaOptions, MediaSession, WebRtcMedia};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{broadcast, mpsc};

fn interop_enabled() -> bool {
    if std::env::var_os("SIPLINE_INTEROP").is_none() {
        println!("skipped: needs the real peers, run scripts/test");
        return false;
    }
    true
}

/// The node process driving Chromium.
struct Browser {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl Browser {
    async fn start() -> Browser {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../interop/browser");
        assert!(
            std::path::Path::new(dir)
                .join("node_modules/playwright-core")
                .exists(),
            "run `npm ci` in interop/browser (scripts/install-deps does)"
        );
        let mut child = Command::new("node")
            .arg("peer.js")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().expect("stdin");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut browser = Browser {
            child,
            stdin,
            lines,
            next_id: 0,
        };
        let setup = browser.call("setup", json!({})).await;
        println!("browser: {setup}");
        browser
    }

    async fn call(&mut self, cmd: &str, args: Value) -> Value {
        self.next_id += 1;
        let mut request = args;
        request["id"] = json!(self.next_id);
        request["cmd"] = json!(cmd);
        let line = format!("{request}\n");
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("write to node");
        let reply = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("browser did not answer {cmd} within 30 s"))
            .expect("read from node")
            .unwrap_or_else(|| panic!("browser exited during {cmd}"));
        let reply: Value = serde_json::from_str(&reply).expect("JSON reply");
        assert_eq!(
            reply["ok"],
            json!(true),
            "{cmd} failed in the browser: {reply}"
        );
        reply["result"].clone()
    }

    async fn stats_until(&mut self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let stats = self.call("stats", json!({})).await;
            if ok(&stats) {
                return stats;
            }
            assert!(
                Instant::now() < deadline,
                "browser stats never showed {what}: {stats}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn quit(mut self) {
        let _ = self.stdin.write_all(b"{\"cmd\":\"quit\"}\n").await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

async fn wait_for(
    events: &mut broadcast::Receiver<MediaEvent>,
    wanted: impl Fn(&MediaEvent) -> bool,
    within: Duration,
    what: &str,
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
    .unwrap_or_else(|_| panic!("{what} did not happen within {within:?}"))
}

/// Loudest 100 ms window of what we decode from the browser over `span`.
async fn loudest_window(heard: &mut mpsc::Receiver<Vec<i16>>, span: Duration) -> f32 {
    let end = Instant::now() + span;
    let mut audio = Vec::new();
    while Instant::now() < end {
        if let Ok(Some(chunk)) =
            tokio::time::timeout(Duration::from_millis(100), heard.recv()).await
        {
            audio.extend(chunk);
        }
    }
    assert!(!audio.is_empty(), "no audio decoded from the browser");
    audio
        .chunks(4800)
        .map(rms_dbfs)
        .fold(f32::NEG_INFINITY, f32::max)
}

async fn check_media_and_dtmf(
    media: &WebRtcMedia,
    browser: &mut Browser,
    mut events: broadcast::Receiver<MediaEvent>,
    mut heard: mpsc::Receiver<Vec<i16>>,
) {
    wait_for(
        &mut events,
        |e| *e == MediaEvent::Connected,
        Duration::from_secs(15),
        "ICE/DTLS with Chromium",
    )
    .await;

    // Browser -> us: Chromium's fake microphone beeps; we decode it.
    let level = loudest_window(&mut heard, Duration::from_secs(3)).await;
    println!("loudest 100 ms from Chromium: {level:.1} dBFS");
    assert!(level > -50.0, "browser audio decoded at {level} dBFS");

    // Us -> browser: Chromium receives our RTP.
    let stats = browser
        .stats_until("inbound packets", |s| {
            s["inbound"]["packetsReceived"].as_u64().unwrap_or(0) > 0
        })
        .await;
    println!("Chromium stats: {stats}");

    // DTMF us -> browser.
    media.send_dtmf("123#*0").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let digits = browser.call("receivedDtmf", json!({})).await;
        if digits == json!("123#*0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Chromium saw DTMF {digits}, expected 123#*0"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // DTMF browser -> us (RTCDTMFSender).
    browser.call("dtmf", json!({"tones": "123#*0"})).await;
    let mut digits = String::new();
    while digits.len() < 6 {
        if let MediaEvent::DtmfReceived(d) = wait_for(
            &mut events,
            |e| matches!(e, MediaEvent::DtmfReceived(_)),
            Duration::from_secs(5),
            "a DTMF digit from Chromium",
        )
        .await
        {
            digits.push(d);
        }
    }
    assert_eq!(digits, "123#*0");
    let ours = media.stats().await;
    println!("our stats: {ours:?}");
    assert_eq!(ours.packets_lost, 0);
}

fn session_options(call_id: &str) -> MediaOptions {
    MediaOptions {
        call_id: call_id.into(),
        ..MediaOptions::loopback()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_answers_our_offer() {
    if !interop_enabled() {
        return;
    }
    let mut browser = Browser::start().await;
    let media = WebRtcMedia::new(session_options("to-chromium"))
        .await
        .unwrap();
    media.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
        1000.0, 0.3,
    ))));
    let (sink, heard) = AppSink::channel(1000);
    media.set_sink(Some(Box::new(sink)));
    let events = media.events();
    let offer = media.create_offer().await.unwrap();
    let answer = browser.call("answer", json!({"sdp": offer})).await;
    let answer = answer.as_str().expect("answer SDP");
    media.apply_answer(answer, AnswerKind::Final).await.unwrap();
    check_media_and_dtmf(&media, &mut browser, events, heard).await;
    media.close().await.unwrap();
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_answer_chromiums_offer() {
    if !interop_enabled() {
        return;
    }
    let mut browser = Browser::start().await;
    let media = WebRtcMedia::new(session_options("from-chromium"))
        .await
        .unwrap();
    media.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
        1000.0, 0.3,
    ))));
    let (sink, heard) = AppSink::channel(1000);
    media.set_sink(Some(Box::new(sink)));
    let events = media.events();
    let offer = browser.call("offer", json!({})).await;
    let offer = offer.as_str().expect("offer SDP");
    assert!(
        offer.contains("telephone-event/48000"),
        "Chromium offers te/48000 (the trap)"
    );
    let answer = media.create_answer(offer).await.unwrap();
    assert!(!answer.contains("telephone-event/48000"), "{answer}");
    assert!(answer.contains("telephone-event/8000"), "{answer}");
    browser.call("applyAnswer", json!({"sdp": answer})).await;
    check_media_and_dtmf(&media, &mut browser, events, heard).await;
    media.close().await.unwrap();
    browser.quit().await;
}
