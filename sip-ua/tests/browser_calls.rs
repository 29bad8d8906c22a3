//! A Sipline agent (sip-ua's `WebRtcFactory`, ICE on loopback; tone and ears attached through
//! `call.wait_media()`) and JsSIP 3.13.8 in headless Chromium
//! (`interop/browser/ua-peer.js` + `ua-page.js`), both registered with Kamailio over WebSocket,
//! call each other in both directions: audio both ways (Chromium's inbound packet count, our
//! decoded level), DTMF both ways by SIP INFO and by RFC 4733, hang-up from either side.
//! Skipped unless `SIPLINE_INTEROP` is set.
//!
//! Run by hand: `unshare -n bash -c 'ip link set lo up; scripts/in-netns cargo test -p sip-ua
//! --test browser_calls --offline'`.

mod peers;

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use peers::{interop, listen_for, root, tone_and_ears, wait};
use serde_json::{Value, json};
use sip_media::MediaOptions;
use sip_media::level::rms_dbfs;
use sip_ua::driver::{AgentEvents, AgentOptions, Call, UserAgent, WebRtcFactory};
use sip_ua::{CoreConfig, Credentials, DtmfMethod, EndCause, EndedBy, Event};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_secs(15);
const PASSWORD: &str = "sipline-test";
const WS: &str = "ws://127.0.0.1:8080/ws";
const SIPLINE_USER: &str = "5811";
const BROWSER_USER: &str = "5812";

/// The node process driving Chromium; killed by its PID when dropped.
struct Browser {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl Browser {
    async fn start() -> Browser {
        let dir = root().join("interop/browser");
        assert!(
            dir.join("node_modules/playwright-core").exists(),
            "run `npm ci` in interop/browser (scripts/install-deps does)"
        );
        let mut child = Command::new("node")
            .arg("ua-peer.js")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().expect("stdin");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Browser {
            child,
            stdin,
            lines,
            next_id: 0,
        }
    }

    /// Runs `window.agent[cmd](args)` in the page and returns its result.
    async fn call(&mut self, cmd: &str, args: Value) -> Value {
        self.next_id += 1;
        let mut request = args;
        request["id"] = json!(self.next_id);
        request["cmd"] = json!(cmd);
        self.stdin
            .write_all(format!("{request}\n").as_bytes())
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

    /// The next JsSIP event of `kind` (registered, incoming, accepted, confirmed, ended,
    /// failed, dtmf ...).
    async fn event(&mut self, kind: &str) -> Value {
        self.call("waitEvent", json!({"type": kind, "timeout": 15000}))
            .await
    }

    /// Polls `cmd` until `ok` accepts its result.
    async fn poll(&mut self, cmd: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + LIMIT;
        loop {
            let result = self.call(cmd, json!({})).await;
            if ok(&result) {
                return result;
            }
            assert!(
                Instant::now() < deadline,
                "the browser never showed {what}: {result}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn quit(mut self) {
        let _ = self.stdin.write_all(b"{\"cmd\":\"quit\"}\n").await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// The loudest 100 ms (dBFS) of what the call decoded over 3 s.
async fn loudest(heard: &mut mpsc::Receiver<Vec<i16>>) -> f32 {
    let audio = listen_for(heard, Duration::from_secs(3)).await;
    assert!(!audio.is_empty(), "no audio decoded from the browser");
    audio
        .chunks(4800)
        .map(rms_dbfs)
        .fold(f32::NEG_INFINITY, f32::max)
}

/// Our agent with sip-ua's [`WebRtcFactory`], ICE on loopback.
async fn sipline_agent() -> (UserAgent, AgentEvents) {
    peers::init_logs();
    let core = CoreConfig::new(
        format!("sip:{SIPLINE_USER}@127.0.0.1"),
        Credentials::new(SIPLINE_USER, PASSWORD),
    );
    let media = Arc::new(WebRtcFactory::new(MediaOptions::loopback()));
    let (ua, mut events) =
        UserAgent::start(AgentOptions::new(core, WS), media).expect("user agent starts");
    wait(&mut events, "registration", LIMIT, |e| match e {
        Event::Registered { .. } => Some(()),
        Event::RegistrationFailed { status, reason, .. } => {
            panic!("registration failed: {status:?} {reason}")
        }
        _ => None,
    })
    .await;
    (ua, events)
}

fn confirmed(e: &Event) -> Option<()> {
    match e {
        Event::Confirmed { .. } => Some(()),
        Event::Failed { status, reason, .. } => panic!("call failed: {status:?} {reason}"),
        Event::Ended { cause, .. } => panic!("call ended early: {cause:?}"),
        _ => None,
    }
}

fn ended(e: &Event) -> Option<(EndedBy, EndCause)> {
    match e {
        Event::Ended { by, cause, .. } => Some((*by, *cause)),
        Event::Failed { status, reason, .. } => panic!("call failed: {status:?} {reason}"),
        _ => None,
    }
}

/// Audio both ways: Chromium receives and plays our tone, we decode Chromium's fake
/// microphone.
async fn audio_both_ways(browser: &mut Browser, heard: &mut mpsc::Receiver<Vec<i16>>) {
    let stats = browser
        .poll("stats", "our tone playing", |s| {
            s["inbound"]["packetsReceived"].as_u64().unwrap_or(0) > 0
                && s["inbound"]["totalAudioEnergy"].as_f64().unwrap_or(0.0) > 0.0
                // Our tone's amplitude is 0.3 of full scale.
                && s["inbound"]["audioLevel"].as_f64().unwrap_or(0.0) > 0.1
        })
        .await;
    println!("Chromium stats: {stats}");
    let level = loudest(heard).await;
    println!("loudest 100 ms from Chromium: {level:.1} dBFS");
    assert!(level > -50.0, "browser audio decoded at {level:.1} dBFS");
}

/// Digits we receive by `method`.
async fn our_digits(events: &mut AgentEvents, method: DtmfMethod, count: usize) -> String {
    let mut digits = String::new();
    while digits.len() < count {
        digits.push(
            wait(
                events,
                "a DTMF digit from the browser",
                LIMIT,
                |e| match e {
                    Event::DtmfReceived {
                        digit, method: m, ..
                    } if *m == method => Some(*digit),
                    _ => None,
                },
            )
            .await,
        );
    }
    digits
}

/// DTMF both ways by SIP INFO and by RFC 4733.
async fn dtmf_both_ways(browser: &mut Browser, call: &Call, events: &mut AgentEvents) {
    call.send_dtmf("12", DtmfMethod::Info).await.unwrap();
    browser
        .poll("receivedDtmf", "our INFO digits", |d| d["info"] == "12")
        .await;
    browser
        .call("dtmf", json!({"tones": "56", "transport": "INFO"}))
        .await;
    assert_eq!(our_digits(events, DtmfMethod::Info, 2).await, "56");
    call.send_dtmf("34", DtmfMethod::Rfc4733).await.unwrap();
    browser
        .poll("receivedDtmf", "our RFC 4733 digits", |d| d["rtp"] == "34")
        .await;
    browser
        .call("dtmf", json!({"tones": "78", "transport": "RFC2833"}))
        .await;
    assert_eq!(our_digits(events, DtmfMethod::Rfc4733, 2).await, "78");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipline_and_jssip_in_chromium_call_each_other_through_kamailio() {
    if interop().is_none() {
        return;
    }
    let (ua, mut events) = sipline_agent().await;
    let mut browser = Browser::start().await;
    let started = browser
        .call(
            "start",
            json!({
                "wsUrl": WS,
                "uri": format!("sip:{BROWSER_USER}@127.0.0.1"),
                "password": PASSWORD,
                "displayName": "Chromium",
            }),
        )
        .await;
    println!("browser agent registered: {started}");

    // 1. We call the browser; it answers; DTMF both ways by INFO and RFC 4733; it hangs up.
    let call = ua.call(BROWSER_USER).await.unwrap();
    let (_media, mut heard) = tone_and_ears(&call, 440.0, 0.3).await;
    let incoming = browser.event("incoming").await;
    assert!(
        incoming["uri"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("sip:{SIPLINE_USER}@")),
        "{incoming}"
    );
    assert_eq!(incoming["hasSdp"], json!(true));
    wait(&mut events, "ringing", LIMIT, |e| {
        matches!(e, Event::Ringing { .. }).then_some(())
    })
    .await;
    browser.call("answer", json!({})).await;
    wait(&mut events, "the browser's answer", LIMIT, confirmed).await;
    browser.event("confirmed").await;
    audio_both_ways(&mut browser, &mut heard).await;
    dtmf_both_ways(&mut browser, &call, &mut events).await;
    browser.call("hangup", json!({})).await;
    assert_eq!(
        wait(&mut events, "the browser's BYE", LIMIT, ended).await,
        (EndedBy::Remote, EndCause::RemoteBye)
    );
    assert_eq!(browser.event("ended").await["originator"], json!("local"));

    // 2. The browser calls us (its offer, our answer); DTMF both ways again; we hang up.
    browser
        .call(
            "call",
            json!({"target": format!("sip:{SIPLINE_USER}@127.0.0.1")}),
        )
        .await;
    let (handle, remote_uri, offer) =
        wait(&mut events, "the browser's INVITE", LIMIT, |e| match e {
            Event::IncomingCall {
                call,
                remote_uri,
                remote_sdp,
                ..
            } => Some((*call, remote_uri.clone(), remote_sdp.clone())),
            _ => None,
        })
        .await;
    assert_eq!(remote_uri, format!("sip:{BROWSER_USER}@127.0.0.1"));
    assert!(offer.expect("an SDP offer").contains("a=fingerprint:"));
    let call = ua.call_handle(handle);
    call.answer().await.unwrap();
    let (_media, mut heard) = tone_and_ears(&call, 440.0, 0.3).await;
    browser.event("accepted").await;
    wait(&mut events, "the browser's ACK", LIMIT, confirmed).await;
    audio_both_ways(&mut browser, &mut heard).await;
    dtmf_both_ways(&mut browser, &call, &mut events).await;
    call.hangup().await.unwrap();
    assert_eq!(
        wait(&mut events, "the end", LIMIT, ended).await,
        (EndedBy::Local, EndCause::LocalBye)
    );
    assert_eq!(browser.event("ended").await["originator"], json!("remote"));

    browser.quit().await;
    ua.shutdown().await;
}
