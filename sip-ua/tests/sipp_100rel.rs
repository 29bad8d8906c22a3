//! Reliable provisional responses (RFC 3262) against sipp over UDP on loopback: sipp answering
//! our call with a reliable 183 with SDP that we must PRACK before its 200
//! (`interop/sipp/uas_100rel.xml`), and sipp calling us with `Require: 100rel`, PRACKing our
//! reliable 180 (`interop/sipp/uac_100rel.xml`). sipp fails its scenario on any missing,
//! extra or malformed message (a wrong RAck, a second PRACK, no RSeq), so its exit status is
//! the verdict, beside our own events. Skipped unless `SIPLINE_INTEROP` is set.
//!
//! Run by hand: `unshare -n bash -c 'ip link set lo up; scripts/in-netns cargo test -p sip-ua
//! --test sipp_100rel --offline'`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sip_ua::driver::{AgentEvents, AgentOptions, FixedSdpFactory, FixedSdpMedia, UserAgent};
use sip_ua::{CoreConfig, Credentials, EndedBy, Event};

const LIMIT: Duration = Duration::from_secs(10);

/// The run directory when the real peers are available.
fn interop() -> Option<PathBuf> {
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!("skipped: needs the real peers, run scripts/test");
        return None;
    }
    Some(PathBuf::from(
        std::env::var("SIPLINE_RUN_DIR").expect("SIPLINE_RUN_DIR is set by scripts/in-netns"),
    ))
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../interop/sipp")
        .join(name)
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("bind a probe socket on loopback")
        .port()
}

fn sipp_binary() -> &'static str {
    ["sipp", "sip-tester"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("-v")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        })
        .expect("sipp is installed (scripts/install-deps)")
}

/// One sipp process, killed by its PID if the test ends before it does.
struct Sipp {
    child: Child,
    log: PathBuf,
    errors: PathBuf,
}

impl Sipp {
    fn start(run_dir: &Path, name: &str, port: u16, extra: &[&str]) -> Sipp {
        let log = run_dir.join(format!("sipp-{name}-{port}-messages.log"));
        let errors = run_dir.join(format!("sipp-{name}-{port}-errors.log"));
        let child = Command::new(sipp_binary())
            .arg("-sf")
            .arg(scenario(name))
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin"])
            .args(["-trace_msg", "-message_file"])
            .arg(&log)
            .args(["-trace_err", "-error_file"])
            .arg(&errors)
            .args(extra)
            .current_dir(run_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start sipp with {name}: {e}"));
        Sipp { child, log, errors }
    }

    /// Waits until sipp has bound its port.
    async fn listening(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            assert!(Instant::now() < deadline, "sipp never bound port {port}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for sipp to exit; panics with its logs unless it succeeded.
    async fn succeeds(mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(25);
        let status: ExitStatus = loop {
            if let Some(status) = self.child.try_wait().expect("sipp status") {
                break status;
            }
            assert!(Instant::now() < deadline, "sipp did not finish");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let messages = std::fs::read_to_string(&self.log).unwrap_or_default();
        let errors = std::fs::read_to_string(&self.errors).unwrap_or_default();
        assert!(
            status.success(),
            "sipp failed ({status}).\nErrors:\n{errors}\nMessages:\n{messages}"
        );
        messages
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A Sipline agent on UDP port `local` whose server is sipp on `sipp_port`, registration off,
/// with signalling-only media.
fn agent(local: u16, sipp_port: u16) -> (UserAgent, AgentEvents) {
    let core = CoreConfig::new("sip:alice@127.0.0.1", Credentials::new("alice", "unused"))
        .with_register(false);
    let mut options = AgentOptions::new(core, format!("sip:127.0.0.1:{sipp_port};transport=udp"));
    options.transport = options
        .transport
        .with_udp_bind(([127, 0, 0, 1], local).into());
    let media = Arc::new(FixedSdpFactory::new(FixedSdpMedia::loopback_sdp()));
    UserAgent::start(options, media).expect("agent starts")
}

async fn wait_for<T>(
    events: &mut AgentEvents,
    what: &str,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(LIMIT, async {
        loop {
            let event = events.recv().await.expect("agent running");
            if let Some(found) = pick(&event) {
                return found;
            }
            seen.push(event);
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no {what} within {LIMIT:?}; seen {seen:#?}"))
}

/// The SIP messages sipp received whose first line starts with `start`.
fn received(messages: &str, start: &str) -> usize {
    let mut count = 0;
    let mut lines = messages.lines();
    while let Some(line) = lines.next() {
        if line.contains("message received") {
            let first = lines.by_ref().map(str::trim).find(|l| !l.is_empty());
            if first.is_some_and(|l| l.starts_with(start)) {
                count += 1;
            }
        }
    }
    count
}

#[tokio::test]
async fn sipp_answers_our_call_with_a_reliable_183_that_we_prack() {
    let Some(run_dir) = interop() else {
        return;
    };
    let sipp_port = free_udp_port();
    let sipp = Sipp::start(&run_dir, "uas_100rel.xml", sipp_port, &[]);
    sipp.listening(sipp_port).await;
    let (ua, mut events) = agent(free_udp_port(), sipp_port);
    let call = ua
        .call(&format!("sip:sipp@127.0.0.1:{sipp_port}"))
        .await
        .expect("INVITE sent");
    let handle = call.handle();
    let sdp = wait_for(&mut events, "early media", |e| match e {
        Event::EarlyMedia { call, sdp } if *call == handle => Some(sdp.clone()),
        _ => None,
    })
    .await;
    assert!(sdp.contains("m=audio"), "{sdp}");
    wait_for(&mut events, "confirmed call", |e| {
        matches!(e, Event::Confirmed { call } if *call == handle).then_some(())
    })
    .await;
    call.hangup().await.expect("BYE sent");
    wait_for(&mut events, "end of the call", |e| {
        matches!(e, Event::Ended { call, by: EndedBy::Local, .. } if *call == handle).then_some(())
    })
    .await;
    let messages = sipp.succeeds().await;
    assert_eq!(received(&messages, "PRACK "), 1, "one PRACK:\n{messages}");
    ua.shutdown().await;
}

#[tokio::test]
async fn sipp_calls_us_requiring_100rel_and_pracks_our_180() {
    let Some(run_dir) = interop() else {
        return;
    };
    let sipp_port = free_udp_port();
    let local = free_udp_port();
    let (ua, mut events) = agent(local, sipp_port);
    wait_for(&mut events, "transport up", |e| {
        matches!(e, Event::TransportConnected { .. }).then_some(())
    })
    .await;
    let remote = format!("127.0.0.1:{local}");
    let sipp = Sipp::start(
        &run_dir,
        "uac_100rel.xml",
        sipp_port,
        &["-s", "alice", &remote],
    );
    let handle = wait_for(&mut events, "incoming call", |e| match e {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    })
    .await;
    // Answer once sipp's PRACK for our reliable 180 is through (on loopback it takes
    // microseconds), so sipp sees its 200 (PRACK) before the 200 (INVITE) it scripts next.
    tokio::time::sleep(Duration::from_millis(500)).await;
    ua.call_handle(handle).answer().await.expect("answered");
    wait_for(&mut events, "confirmed call", |e| {
        matches!(e, Event::Confirmed { call } if *call == handle).then_some(())
    })
    .await;
    wait_for(&mut events, "BYE from sipp", |e| {
        matches!(e, Event::Ended { call, by: EndedBy::Remote, .. } if *call == handle).then_some(())
    })
    .await;
    let messages = sipp.succeeds().await;
    assert_eq!(received(&messages, "SIP/2.0 180"), 1, "{messages}");
    assert_eq!(received(&messages, "SIP/2.0 420"), 0, "{messages}");
    ua.shutdown().await;
}
