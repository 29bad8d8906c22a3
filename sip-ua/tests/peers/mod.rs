//! Helpers for tests against real peers (sipp, JsSIP in Chromium): the `SIPLINE_INTEROP`
//! switch, free loopback ports, waiting for agent events, and a sipp process owned by PID.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sip_media::audio::AppSink;
use sip_media::tones::{ToneGenerator, ToneSpec};
use sip_ua::Event;
use sip_ua::driver::{AgentEvents, Call, MediaHandle};
use tokio::sync::mpsc;

/// The run directory (logs, certificates) when the real peers are available; `None` (after
/// saying so) for a plain `cargo test`.
pub fn interop() -> Option<PathBuf> {
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!("skipped: needs the real peers, run scripts/test");
        return None;
    }
    Some(PathBuf::from(
        std::env::var("SIPLINE_RUN_DIR").expect("SIPLINE_RUN_DIR is set by scripts/in-netns"),
    ))
}

/// The repository root.
pub fn root() -> PathBuf {
    std::env::var("SIPLINE_ROOT").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."),
        PathBuf::from,
    )
}

/// Logs `RUST_LOG` asks for (`RUST_LOG=sip::wire=debug` shows every message).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("bind a probe socket on loopback")
        .port()
}

/// An even UDP port on 127.0.0.1 (RTP), with the three above it free too (sipp's echo opens
/// the audio port and the video port two above).
pub fn free_rtp_port() -> u16 {
    loop {
        let port = free_udp_port() & !1;
        if !(1024..=65530).contains(&port) {
            continue;
        }
        let free = (port..port + 4).all(|p| std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok());
        if free {
            return port;
        }
    }
}

/// Waits up to `limit` for the first event `pick` accepts, panicking with `what` on timeout,
/// and returning every event seen on the way too (so tests can assert what must not happen).
pub async fn wait_seen<T>(
    events: &mut AgentEvents,
    what: &str,
    limit: Duration,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> (T, Vec<Event>) {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(limit, async {
        loop {
            let event = events.recv().await.expect("user agent stopped");
            let found = pick(&event);
            seen.push(event);
            if let Some(found) = found {
                return found;
            }
        }
    })
    .await;
    match found {
        Ok(found) => (found, seen),
        Err(_) => panic!("no {what} within {limit:?}; events seen: {seen:#?}"),
    }
}

/// Waits up to `limit` for the first event `pick` accepts.
pub async fn wait<T>(
    events: &mut AgentEvents,
    what: &str,
    limit: Duration,
    pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    wait_seen(events, what, limit, pick).await.0
}

/// Every event arriving within `window`.
pub async fn collect_for(events: &mut AgentEvents, window: Duration) -> Vec<Event> {
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(window, async {
        while let Some(event) = events.recv().await {
            seen.push(event);
        }
    })
    .await;
    seen
}

/// Makes the call's media (through the driver's [`MediaHandle`]) send a continuous tone and
/// hand what it decodes (48 kHz) to the returned receiver.
pub async fn tone_and_ears(
    call: &Call,
    hz: f32,
    amplitude: f32,
) -> (MediaHandle, mpsc::Receiver<Vec<i16>>) {
    let media = tokio::time::timeout(Duration::from_secs(10), call.wait_media())
        .await
        .expect("the call has media within 10 s")
        .expect("the call has media");
    media.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
        hz, amplitude,
    ))));
    let (sink, heard) = AppSink::channel(1000);
    media.set_sink(Some(Box::new(sink)));
    (media, heard)
}

/// Everything decoded within `span`.
pub async fn listen_for(heard: &mut mpsc::Receiver<Vec<i16>>, span: Duration) -> Vec<i16> {
    let end = tokio::time::Instant::now() + span;
    let mut audio = Vec::new();
    while let Ok(Some(chunk)) = tokio::time::timeout_at(end, heard.recv()).await {
        audio.extend(chunk);
    }
    audio
}

/// A sipp process running one scenario from `interop/sipp`, killed by its PID when dropped.
/// Its message and error logs go to the run directory and are printed when it fails.
pub struct Sipp {
    child: Option<Child>,
    name: String,
    messages: PathBuf,
    errors: PathBuf,
    stderr: PathBuf,
}

/// How a sipp run ended.
pub struct SippOutcome {
    /// sipp's exit status (0: every call succeeded).
    pub status: ExitStatus,
    /// The message log (`-trace_msg`).
    pub messages: String,
    /// The error log (`-trace_err`).
    pub errors: String,
}

impl SippOutcome {
    /// Received SIP messages whose first line starts with `start_line` (e.g. `"ACK "` or
    /// `"SIP/2.0 180"`), counted in the message log.
    pub fn received(&self, start_line: &str) -> usize {
        self.received_at(start_line).len()
    }

    /// When sipp received each message whose first line starts with `start_line`, as
    /// durations since the first message it logged (from the log's timestamp lines,
    /// `----- 2026-11-24 04:39:14.854335`).
    pub fn received_at(&self, start_line: &str) -> Vec<Duration> {
        let mut found = Vec::new();
        let mut first_stamp = None;
        let mut stamp = None;
        let mut lines = self.messages.lines();
        while let Some(line) = lines.next() {
            if line.starts_with("-----") {
                stamp = line.rsplit(' ').next().and_then(seconds_of_day);
                first_stamp = first_stamp.or(stamp);
            } else if line.contains("message received") {
                let first = lines
                    .by_ref()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("");
                if first.starts_with(start_line) {
                    let since = stamp.zip(first_stamp).map_or(0.0, |(s, f)| s - f);
                    found.push(Duration::from_secs_f64(since.max(0.0)));
                }
            }
        }
        found
    }

    /// Panics (showing both logs) unless sipp exited 0.
    pub fn assert_success(&self, name: &str) {
        assert!(
            self.status.success(),
            "sipp scenario {name} failed ({}).\nErrors:\n{}\nMessages:\n{}",
            self.status,
            self.errors,
            self.messages
        );
    }
}

impl Sipp {
    /// Starts `sipp -sf interop/sipp/<scenario> -i 127.0.0.1 -p <port> -m 1` with `extra`
    /// arguments (a remote `127.0.0.1:port` for client scenarios), logging into `run_dir`.
    pub fn start(scenario: &str, port: u16, extra: &[String], run_dir: &Path) -> Sipp {
        let name = format!("{}-{port}", scenario.trim_end_matches(".xml"));
        let messages = run_dir.join(format!("sipp-{name}-messages.log"));
        let errors = run_dir.join(format!("sipp-{name}-errors.log"));
        let stderr = run_dir.join(format!("sipp-{name}-stderr.log"));
        let scenario_path = root().join("interop/sipp").join(scenario);
        let child = Command::new(sipp_binary())
            .arg("-sf")
            .arg(&scenario_path)
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin"])
            .arg("-trace_msg")
            .arg("-message_file")
            .arg(&messages)
            .arg("-trace_err")
            .arg("-error_file")
            .arg(&errors)
            .args(extra)
            .current_dir(run_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("create sipp's stderr log"))
            .spawn()
            .unwrap_or_else(|e| panic!("start sipp for {scenario}: {e}"));
        Sipp {
            child: Some(child),
            name,
            messages,
            errors,
            stderr,
        }
    }

    /// Waits until sipp listens on its SIP port (it opens it right after start).
    pub async fn listening(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "sipp {} exited at start ({status}): {}",
                    self.name,
                    read(&self.stderr)
                );
            }
            assert!(Instant::now() < deadline, "sipp never bound port {port}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits up to `limit` for sipp to exit and collects its logs.
    pub async fn finish(mut self, limit: Duration) -> SippOutcome {
        let mut child = self.child.take().expect("sipp is running");
        let deadline = Instant::now() + limit;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(None) | Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "sipp {} did not finish within {limit:?}.\nErrors:\n{}\n{}\nMessages:\n{}",
                        self.name,
                        read(&self.errors),
                        read(&self.stderr),
                        read(&self.messages)
                    );
                }
            }
        };
        SippOutcome {
            status,
            messages: read(&self.messages),
            errors: format!("{}\n{}", read(&self.errors), read(&self.stderr)),
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Kills exactly the process we started (by its PID).
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `04:39:14.854335` as seconds since midnight.
fn seconds_of_day(clock: &str) -> Option<f64> {
    let mut parts = clock.split(':');
    let hours: f64 = parts.next()?.parse().ok()?;
    let minutes: f64 = parts.next()?.parse().ok()?;
    let seconds: f64 = parts.next()?.parse().ok()?;
    Some(hours * 3600.0 + minutes * 60.0 + seconds)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()))
}

/// `sipp`, or Debian's `sip-tester` name for it.
pub fn sipp_binary() -> &'static str {
    for candidate in ["sipp", "sip-tester"] {
        if Command::new(candidate)
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
        {
            return candidate;
        }
    }
    panic!("sipp is not installed (scripts/install-deps installs it)");
}
