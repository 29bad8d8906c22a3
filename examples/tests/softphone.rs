//! The softphone as a user or a script runs it: `--help` and bad arguments (exit status 2), and,
//! inside the loopback-only namespace `scripts/test` creates, the real thing against Kamailio:
//! registration over ws, wss and udp, a wrong password, and two softphones calling each other
//! (tone, RFC 4733 DTMF, recording, JSON events and call summaries on both sides).
//!
//! Run the interop part by hand: `unshare -n bash -c 'ip link set lo up; scripts/in-netns cargo
//! test -p sipline-examples --test softphone --offline'`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sip_media::audio::{FRAME_SAMPLES, PcmSource, WavSource};
use sip_media::level::goertzel_dbfs;

mod support;

const PASSWORD: &str = "sipline-test";
const WS: &str = "ws://127.0.0.1:8080/ws";
const WSS: &str = "wss://127.0.0.1:8443/ws";
const UDP: &str = "sip:127.0.0.1:5060;transport=udp";

fn softphone() -> Command {
    let mut command = Command::new(support::example_binary("softphone"));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn run(args: &[&str]) -> Output {
    softphone().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the softphone with `args` and checks it stops with status 2 and `message` on stderr.
fn usage_error(args: &[&str], message: &str) {
    let out = run(args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}\nstderr:\n{err}");
    assert!(
        err.contains(message),
        "{args:?}: wanted {message:?} in:\n{err}"
    );
}

#[test]
fn help_describes_the_commands_and_names_insecure_loudly() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for want in [
        "--config <FILE>",
        "--ha-user <NAME>",
        "--server <URL>",
        "--password <P>",
        "--ca <FILE>",
        "--json",
        "register",
        "call",
        "answer",
        "interactive",
        "440 Hz",
        "Exit status",
    ] {
        assert!(help.contains(want), "{want:?} missing in:\n{help}");
    }
    let insecure = help
        .lines()
        .skip_while(|l| !l.contains("--insecure"))
        .take(2)
        .collect::<String>();
    assert!(insecure.contains("DANGEROUS"), "{help}");

    let out = run(&["call", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for want in [
        "<TARGET>",
        "--dtmf <DIGITS>",
        "--dtmf-method <METHOD>",
        "--duration <SECS>",
        "--video",
        "--play <WAV>",
        "--record <WAV>",
    ] {
        assert!(help.contains(want), "{want:?} missing in:\n{help}");
    }
    let out = run(&["answer", "--help"]);
    let help = text(&out.stdout);
    for want in ["--count <N>", "--reject <CODE>", "--duration <SECS>"] {
        assert!(help.contains(want), "{want:?} missing in:\n{help}");
    }
}

#[test]
fn bad_arguments_are_explained_with_status_2() {
    let account = [
        "--server",
        WS,
        "--user",
        "u",
        "--password",
        "p",
        "--domain",
        "d",
    ];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        account.iter().chain(extra).copied().collect()
    };
    usage_error(&[], "--config <FILE>");
    usage_error(&with(&[]), "requires a subcommand");
    usage_error(&with(&["dance"]), "unrecognized subcommand 'dance'");
    usage_error(
        &[
            "--server",
            "http://pbx",
            "--user",
            "u",
            "--password",
            "p",
            "--domain",
            "d",
            "register",
        ],
        "expected ws://, wss://, sip: or sips:",
    );
    usage_error(
        &[
            "--server",
            "sip:pbx;transport=sctp",
            "--user",
            "u",
            "--password",
            "p",
            "--domain",
            "d",
            "register",
        ],
        "unsupported transport",
    );
    usage_error(
        &["--server", WS, "--user", "u", "register"],
        "--password <P>",
    );
    usage_error(
        &["--config", "phone.json", "--server", WS, "register"],
        "cannot be used with",
    );
    usage_error(&["--ha-user", "jordy", "register"], "--config <FILE>");
    usage_error(
        &with(&["--ca", "x.pem", "--insecure", "register"]),
        "cannot be used with",
    );
    usage_error(&with(&["call"]), "<TARGET>");
    usage_error(
        &with(&["call", "201", "--dtmf", "12x"]),
        "is not a DTMF string",
    );
    usage_error(
        &with(&["call", "201", "--dtmf-method", "sms"]),
        "is not a DTMF method",
    );
    usage_error(
        &with(&["call", "201", "--duration", "0"]),
        "--duration <SECS>",
    );
    usage_error(&with(&["answer", "--reject", "200"]), "--reject <CODE>");
    usage_error(&with(&["answer", "--count", "0"]), "--count <N>");
    usage_error(
        &with(&["answer", "--reject", "486", "--record", "x.wav"]),
        "cannot be used with",
    );
    // Checked after parsing, still before connecting anywhere.
    usage_error(
        &["--config", "/nonexistent/phone.yaml", "register"],
        "/nonexistent/phone.yaml",
    );
    usage_error(
        &with(&["--ca", "/nonexistent/ca.pem", "register"]),
        "--ca /nonexistent/ca.pem",
    );
    usage_error(
        &with(&["call", "201", "--play", "/nonexistent/greeting.wav"]),
        "--play /nonexistent/greeting.wav",
    );
    usage_error(
        &[
            "--server",
            UDP,
            "--user",
            "u",
            "--password",
            "p",
            "--domain",
            "d",
            "call",
            "201",
            "--video",
        ],
        "--video needs a ws:// or wss:// server",
    );
    usage_error(
        &[
            "--server",
            WS,
            "--user",
            "a@b",
            "--password",
            "p",
            "--domain",
            "d",
            "register",
        ],
        "must be a plain user name",
    );
}

#[test]
fn insecure_prints_a_warning() {
    // The account is checked after the warning; a bad --play stops it before connecting.
    let out = run(&[
        "--server",
        WSS,
        "--user",
        "u",
        "--password",
        "p",
        "--domain",
        "d",
        "--insecure",
        "call",
        "201",
        "--play",
        "/nonexistent.wav",
    ]);
    let err = text(&out.stderr);
    assert!(
        err.contains("WARNING: --insecure: TLS certificates are NOT verified"),
        "{err}"
    );
}

#[test]
fn a_refused_connection_fails_the_registration_with_the_reason() {
    // A loopback port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("ws://127.0.0.1:{port}/ws");
    let out = run(&[
        "--json",
        "--server",
        &server,
        "--user",
        "u",
        "--password",
        "p",
        "--domain",
        "127.0.0.1",
        "register",
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(r#"{"event":"transport-failed","reason":"#),
        "{stdout}"
    );
    assert!(stderr.contains("registration failed"), "{stderr}");
}

/// Where Kamailio runs, or `None` (after printing why) outside `scripts/test`.
fn interop() -> Option<PathBuf> {
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!("skipped: needs the real peers, run scripts/test");
        return None;
    }
    Some(PathBuf::from(
        std::env::var("SIPLINE_RUN_DIR").expect("SIPLINE_RUN_DIR is set by scripts/in-netns"),
    ))
}

fn account(server: &str, user: &str, password: &str) -> Vec<String> {
    [
        "--json",
        "--server",
        server,
        "--user",
        user,
        "--password",
        password,
        "--domain",
        "127.0.0.1",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A softphone running in the background, its JSON lines read as they come.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<Value>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Running {
    fn start(args: &[String]) -> Running {
        Running::spawn(softphone().args(args))
    }

    /// Started with a pipe on standard input (for `interactive`).
    fn start_typing(args: &[String]) -> (Running, std::process::ChildStdin) {
        let mut running = Running::spawn(softphone().args(args).stdin(Stdio::piped()));
        let stdin = running.child.stdin.take().unwrap();
        (running, stdin)
    }

    fn spawn(command: &mut Command) -> Running {
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
            stderr: Some(stderr),
        }
    }

    /// Waits for an event named `name`, failing after `limit`.
    fn wait_for(&mut self, name: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let value: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                    self.seen.push(value.clone());
                    if value["event"] == name {
                        return value;
                    }
                }
                Err(_) => panic!(
                    "no {name:?} event within {limit:?}; seen:\n{}",
                    self.transcript()
                ),
            }
        }
    }

    /// Waits for the exit (killing the process after `limit`); returns the status code, every
    /// event and stderr.
    fn finish(mut self, limit: Duration) -> (Option<i32>, Vec<Value>, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the softphone did not exit within {limit:?}; seen:\n{}",
                    self.transcript()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        for line in self.lines.iter() {
            self.seen.push(
                serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")),
            );
        }
        let stderr = self
            .stderr
            .take()
            .map(|t| t.join().unwrap())
            .unwrap_or_default();
        (status.code(), std::mem::take(&mut self.seen), stderr)
    }

    fn transcript(&self) -> String {
        self.seen
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed assertion must not leave the process running.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn names(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["event"].as_str()).collect()
}

fn one<'a>(events: &'a [Value], name: &str) -> &'a Value {
    let found: Vec<&Value> = events.iter().filter(|e| e["event"] == name).collect();
    assert_eq!(found.len(), 1, "{name}: {events:#?}");
    found[0]
}

fn register_and_unregister(server: &str, user: &str, extra: &[String]) {
    let mut args = account(server, user, PASSWORD);
    args.extend_from_slice(extra);
    args.push("register".into());
    let (code, events, stderr) = Running::start(&args).finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{events:#?}\n{stderr}");
    let names = names(&events);
    let registered = names.iter().position(|n| *n == "registered");
    let unregistered = names.iter().position(|n| *n == "unregistered");
    assert!(
        registered.is_some() && registered < unregistered,
        "{names:?}\n{stderr}"
    );
    assert_eq!(one(&events, "registered")["expires"], 600, "{events:#?}");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "state" && e["state"] == "registered"),
        "{events:#?}"
    );
}

#[test]
fn registers_over_ws() {
    if interop().is_none() {
        return;
    }
    register_and_unregister(WS, "7101", &[]);
}

#[test]
fn registers_over_ws_printing_text_lines() {
    if interop().is_none() {
        return;
    }
    let out = run(&[
        "--server",
        WS,
        "--user",
        "7105",
        "--password",
        PASSWORD,
        "--domain",
        "127.0.0.1",
        "register",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    for want in [
        "starting aor=sip:7105@127.0.0.1 media=webrtc servers=[\"ws://127.0.0.1:8080/ws\"]",
        "registered expires=600",
        "state registered",
        "unregistered",
    ] {
        assert!(lines.contains(&want), "{want:?} missing in:\n{stdout}");
    }
}

#[test]
fn registers_over_udp() {
    if interop().is_none() {
        return;
    }
    register_and_unregister(UDP, "7102", &[]);
}

#[test]
fn registers_over_wss_trusting_the_given_ca() {
    let Some(run_dir) = interop() else { return };
    let ca = run_dir.join("ca.pem").display().to_string();
    register_and_unregister(WSS, "7103", &["--ca".into(), ca]);
}

#[test]
fn wss_checks_the_certificate_unless_told_insecure() {
    if interop().is_none() {
        return;
    }
    // Kamailio's certificate comes from a throw-away CA the system does not trust.
    let mut args = account(WSS, "7106", PASSWORD);
    args.push("register".into());
    let (code, events, stderr) = Running::start(&args).finish(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{events:#?}\n{stderr}");
    let failed = one(&events, "registration-failed");
    assert!(
        failed["reason"]
            .as_str()
            .is_some_and(|r| r.to_ascii_lowercase().contains("certificate")),
        "{failed}"
    );
    register_and_unregister(WSS, "7107", &["--insecure".into()]);
}

#[test]
fn a_wrong_password_fails_with_status_1() {
    if interop().is_none() {
        return;
    }
    let mut args = account(WS, "7104", "not-the-password");
    args.push("register".into());
    let (code, events, stderr) = Running::start(&args).finish(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{events:#?}\n{stderr}");
    let failed = one(&events, "registration-failed");
    assert!(
        failed["status"] == 401 || failed["status"] == 403,
        "{failed}"
    );
    assert!(stderr.contains("registration failed"), "{stderr}");
}

/// The 440 Hz level and a 1 kHz reference level (dBFS) of the middle of a recording.
fn tone_levels(path: &std::path::Path) -> (usize, f32, f32) {
    let mut wav = WavSource::open(path, false)
        .unwrap_or_else(|e| panic!("the recording {} is unreadable: {e}", path.display()));
    let mut samples = Vec::with_capacity(wav.len());
    let mut frame = [0i16; FRAME_SAMPLES];
    while wav.fill(&mut frame) {
        samples.extend_from_slice(&frame);
    }
    // Skip the start (media setting up) and keep one second.
    let start = (samples.len() / 3).min(samples.len());
    let end = (start + 48_000).min(samples.len());
    let window = &samples[start..end];
    (
        samples.len(),
        goertzel_dbfs(window, 48_000, 440.0),
        goertzel_dbfs(window, 48_000, 1_000.0),
    )
}

#[test]
fn two_softphones_call_through_kamailio_with_tone_dtmf_and_recording() {
    if interop().is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("sipline-softphone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let recording = dir.join("answer.wav");
    let mut answer_args = account(WS, "7202", PASSWORD);
    answer_args.extend(
        [
            "answer",
            "--count",
            "1",
            "--duration",
            "3",
            "--record",
            recording.to_str().unwrap(),
        ]
        .map(str::to_owned),
    );
    let mut answerer = Running::start(&answer_args);
    answerer.wait_for("waiting", Duration::from_secs(20));

    let mut call_args = account(WS, "7201", PASSWORD);
    call_args.extend(["call", "7202", "--dtmf", "1#", "--duration", "2"].map(str::to_owned));
    let caller = Running::start(&call_args);
    let (caller_code, caller_events, caller_err) = caller.finish(Duration::from_secs(40));
    let (answer_code, answer_events, answer_err) = answerer.finish(Duration::from_secs(20));
    let both = format!(
        "caller:\n{caller_events:#?}\n{caller_err}\nanswerer:\n{answer_events:#?}\n{answer_err}"
    );
    assert_eq!(caller_code, Some(0), "{both}");
    assert_eq!(answer_code, Some(0), "{both}");

    // The caller: registered, called, answered, sent the digits, hung up after 2 s.
    let names_caller = names(&caller_events);
    for want in [
        "registered",
        "outgoing",
        "accepted",
        "confirmed",
        "dtmf-sent",
        "ended",
        "call-summary",
    ] {
        assert!(names_caller.contains(&want), "caller lacks {want}\n{both}");
    }
    let states: Vec<&str> = caller_events
        .iter()
        .filter(|e| e["event"] == "state")
        .filter_map(|e| e["state"].as_str())
        .collect();
    for want in [
        "outgoing:7202@127.0.0.1",
        "outgoing-accepted:7202@127.0.0.1",
        "ended:7202@127.0.0.1",
    ] {
        assert!(
            states.contains(&want),
            "caller state {want} missing: {states:?}"
        );
    }
    let sent = one(&caller_events, "dtmf-sent");
    assert_eq!(
        (sent["digits"].as_str(), sent["method"].as_str()),
        (Some("1#"), Some("rfc4733"))
    );
    let ended = one(&caller_events, "ended");
    assert_eq!(
        (ended["by"].as_str(), ended["cause"].as_str()),
        (Some("local"), Some("local-bye")),
        "{both}"
    );

    // The answerer: the call came in, was answered, the digits arrived by RFC 4733, the
    // caller hung up.
    let states: Vec<&str> = answer_events
        .iter()
        .filter(|e| e["event"] == "state")
        .filter_map(|e| e["state"].as_str())
        .collect();
    for want in [
        "registered",
        "incoming:7201@127.0.0.1",
        "incoming-accepted:7201@127.0.0.1",
        "ended:7201@127.0.0.1",
    ] {
        assert!(
            states.contains(&want),
            "answerer state {want} missing: {states:?}"
        );
    }
    let digits: Vec<(&str, &str)> = answer_events
        .iter()
        .filter(|e| e["event"] == "dtmf")
        .map(|e| {
            (
                e["digit"].as_str().unwrap_or(""),
                e["method"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(digits, [("1", "rfc4733"), ("#", "rfc4733")], "{both}");
    let ended = one(&answer_events, "ended");
    assert_eq!(
        (ended["by"].as_str(), ended["cause"].as_str()),
        (Some("remote"), Some("remote-bye")),
        "{both}"
    );

    // Both summaries: packets both ways, the 440 Hz tone (amplitude 0.5, about -9 dBFS RMS)
    // heard, Opus negotiated.
    for (side, events) in [("caller", &caller_events), ("answerer", &answer_events)] {
        let summary = one(events, "call-summary");
        let rx = summary["rx_packets"].as_u64().unwrap_or(0);
        let tx = summary["tx_packets"].as_u64().unwrap_or(0);
        let level = summary["rx_level_max_dbfs"].as_f64().unwrap_or(-100.0);
        // Debug builds of the media pipeline run slower than real time while other builds
        // share the two cores: a few packets are all that can be asked.
        assert!(rx > 0 && tx > 0, "{side}: {summary}");
        assert!(
            (-14.0..=-5.0).contains(&level),
            "{side}: level {level} in {summary}"
        );
        assert_eq!(summary["codec"], "opus", "{side}: {summary}");
    }

    // The recording holds the tone: 440 Hz loud, 1 kHz far below it.
    let (length, tone, other) = tone_levels(&recording);
    // The caller hangs up 2 s after its media flows; with every test running at once on two
    // cores (debug builds) runs recorded 1.1 to 1.7 s of it, less while other builds run.
    println!("recorded {:.2} s of the caller", length as f64 / 48_000.0);
    assert!(length > 9_600, "only {length} samples recorded");
    assert!(tone > -20.0, "440 Hz at {tone:.1} dBFS in the recording");
    assert!(
        tone - other > 30.0,
        "440 Hz {tone:.1} dBFS vs 1 kHz {other:.1} dBFS"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes `seconds` of a `frequency` tone (amplitude 0.3) as a 48 kHz WAV file.
fn write_tone(path: &std::path::Path, frequency: f32, seconds: usize) {
    use sip_media::audio::{PcmSink, WavRecorder};
    let mut wav = WavRecorder::create(path).unwrap();
    let samples: Vec<i16> = (0..48_000 * seconds)
        .map(|i| {
            let t = i as f32 / 48_000.0;
            (0.3 * 32767.0 * (2.0 * std::f32::consts::PI * frequency * t).sin()) as i16
        })
        .collect();
    wav.write(&samples);
    wav.finish().unwrap();
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sipline-softphone-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn calls_over_udp_with_plain_rtp_info_dtmf_and_a_played_file() {
    if interop().is_none() {
        return;
    }
    let dir = temp_dir("udp");
    let (greeting, recording) = (dir.join("1khz.wav"), dir.join("answer.wav"));
    write_tone(&greeting, 1_000.0, 4);
    let mut answer_args = account(UDP, "7212", PASSWORD);
    answer_args.extend(
        [
            "answer",
            "--count",
            "1",
            "--record",
            recording.to_str().unwrap(),
        ]
        .map(str::to_owned),
    );
    let mut answerer = Running::start(&answer_args);
    answerer.wait_for("waiting", Duration::from_secs(20));
    let mut call_args = account(UDP, "7211", PASSWORD);
    call_args.extend(
        [
            "call",
            "7212",
            "--dtmf",
            "5",
            "--dtmf-method",
            "info",
            "--duration",
            "2",
            "--play",
            greeting.to_str().unwrap(),
        ]
        .map(str::to_owned),
    );
    let (caller_code, caller_events, caller_err) =
        Running::start(&call_args).finish(Duration::from_secs(40));
    let (answer_code, answer_events, answer_err) = answerer.finish(Duration::from_secs(20));
    let both = format!(
        "caller:\n{caller_events:#?}\n{caller_err}\nanswerer:\n{answer_events:#?}\n{answer_err}"
    );
    assert_eq!((caller_code, answer_code), (Some(0), Some(0)), "{both}");
    for events in [&caller_events, &answer_events] {
        assert_eq!(one(events, "starting")["media"], "rtp", "{both}");
        let summary = one(events, "call-summary");
        assert!(summary["rx_packets"].as_u64().unwrap_or(0) > 0, "{both}");
    }
    let dtmf = one(&answer_events, "dtmf");
    assert_eq!(
        (dtmf["digit"].as_str(), dtmf["method"].as_str()),
        (Some("5"), Some("info")),
        "{both}"
    );
    // The caller heard the answerer's 440 Hz tone; the answerer recorded the caller's file.
    let level = one(&caller_events, "call-summary")["rx_level_max_dbfs"]
        .as_f64()
        .unwrap_or(-100.0);
    assert!((-14.0..=-5.0).contains(&level), "{both}");
    let mut wav = WavSource::open(&recording, false).unwrap();
    let mut samples = Vec::new();
    let mut frame = [0i16; FRAME_SAMPLES];
    while wav.fill(&mut frame) {
        samples.extend_from_slice(&frame);
    }
    let window = &samples[samples.len() / 3..];
    let (played, tone) = (
        goertzel_dbfs(window, 48_000, 1_000.0),
        goertzel_dbfs(window, 48_000, 440.0),
    );
    assert!(
        played > -25.0 && played - tone > 30.0,
        "1 kHz {played:.1} dBFS, 440 Hz {tone:.1} dBFS"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_rejected_call_ends_the_caller_with_status_1() {
    if interop().is_none() {
        return;
    }
    let mut answer_args = account(WS, "7222", PASSWORD);
    answer_args.extend(["answer", "--count", "1", "--reject", "603"].map(str::to_owned));
    let mut answerer = Running::start(&answer_args);
    answerer.wait_for("waiting", Duration::from_secs(20));
    let mut call_args = account(WS, "7221", PASSWORD);
    call_args.extend(["call", "7222"].map(str::to_owned));
    let (caller_code, caller_events, caller_err) =
        Running::start(&call_args).finish(Duration::from_secs(40));
    let (answer_code, answer_events, answer_err) = answerer.finish(Duration::from_secs(20));
    let both = format!(
        "caller:\n{caller_events:#?}\n{caller_err}\nanswerer:\n{answer_events:#?}\n{answer_err}"
    );
    assert_eq!((caller_code, answer_code), (Some(1), Some(0)), "{both}");
    assert_eq!(one(&caller_events, "failed")["status"], 603, "{both}");
    assert!(caller_err.contains("failed: 603"), "{both}");
    assert_eq!(one(&answer_events, "rejecting")["status"], 603, "{both}");
    assert_eq!(one(&answer_events, "ended")["cause"], "rejected", "{both}");
    let summary = one(&answer_events, "call-summary");
    assert_eq!(summary["rx_packets"], 0, "{both}");
}

#[test]
fn interactive_commands_place_a_call_send_dtmf_mute_and_hang_up() {
    if interop().is_none() {
        return;
    }
    let mut answer_args = account(WS, "7232", PASSWORD);
    answer_args.extend(["answer", "--count", "1"].map(str::to_owned));
    let mut answerer = Running::start(&answer_args);
    answerer.wait_for("waiting", Duration::from_secs(20));

    let mut args = account(WS, "7231", PASSWORD);
    args.push("interactive".into());
    let (mut phone, mut keys) = Running::start_typing(&args);
    let limit = Duration::from_secs(20);
    phone.wait_for("ready", limit);
    let mut type_line = |line: &str| writeln!(keys, "{line}").unwrap();
    type_line("hangup");
    assert_eq!(
        phone.wait_for("error", limit)["message"],
        "there is no call"
    );
    type_line("call 7232");
    phone.wait_for("confirmed", limit);
    phone.wait_for("media-connected", limit);
    type_line("dtmf 7 info");
    phone.wait_for("dtmf-sent", limit);
    type_line("mute");
    assert_eq!(phone.wait_for("muted", limit)["muted"], true);
    type_line("calls");
    let calls = phone.wait_for("calls", limit);
    assert_eq!(calls["calls"][0]["current"], true, "{calls}");
    type_line("fly away");
    assert!(
        phone.wait_for("error", limit)["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown command")),
    );
    type_line("hangup");
    let ended = phone.wait_for("ended", limit);
    assert_eq!(ended["cause"], "local-bye", "{ended}");
    phone.wait_for("call-summary", limit);
    type_line("quit");
    let (code, events, stderr) = phone.finish(limit);
    assert_eq!(code, Some(0), "{events:#?}\n{stderr}");

    let (code, events, stderr) = answerer.finish(limit);
    assert_eq!(code, Some(0), "{events:#?}\n{stderr}");
    let dtmf = one(&events, "dtmf");
    assert_eq!(
        (dtmf["digit"].as_str(), dtmf["method"].as_str()),
        (Some("7"), Some("info"))
    );
    assert_eq!(one(&events, "ended")["cause"], "remote-bye");
}

/// A SIP Core configuration with two Home Assistant users on Kamailio.
fn sip_core_config(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("sip_config.json");
    let config = serde_json::json!({
        "custom_wss_url": WS,
        "pbx_server": "127.0.0.1",
        "users": [
            { "ha_username": "jordy", "extension": "7241", "password": PASSWORD },
            { "ha_username": "anna", "extension": "7242", "password": PASSWORD },
        ],
    });
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

#[test]
fn a_config_user_that_does_not_exist_is_a_usage_error() {
    let dir = temp_dir("config-usage");
    let config = sip_core_config(&dir);
    usage_error(
        &[
            "--config",
            config.to_str().unwrap(),
            "--ha-user",
            "nobody",
            "register",
        ],
        "nobody",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn registers_with_the_account_of_a_sip_core_config() {
    if interop().is_none() {
        return;
    }
    let dir = temp_dir("config");
    let config = sip_core_config(&dir);
    let args = [
        "--json",
        "--config",
        config.to_str().unwrap(),
        "--ha-user",
        "anna",
        "register",
    ]
    .map(str::to_owned);
    let (code, events, stderr) = Running::start(&args).finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{events:#?}\n{stderr}");
    assert_eq!(
        one(&events, "starting")["aor"],
        "sip:7242@127.0.0.1",
        "{events:#?}"
    );
    one(&events, "registered");
    one(&events, "unregistered");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_terminate_signal_hangs_up_and_exits_cleanly() {
    if interop().is_none() {
        return;
    }
    let mut answer_args = account(WS, "7252", PASSWORD);
    answer_args.push("answer".into());
    let mut answerer = Running::start(&answer_args);
    answerer.wait_for("waiting", Duration::from_secs(20));
    let mut call_args = account(WS, "7251", PASSWORD);
    call_args.extend(["call", "7252"].map(str::to_owned));
    let mut caller = Running::start(&call_args);
    caller.wait_for("confirmed", Duration::from_secs(20));
    answerer.wait_for("confirmed", Duration::from_secs(20));
    let status = Command::new("kill")
        .args(["-TERM", &answerer.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (answer_code, answer_events, answer_err) = answerer.finish(Duration::from_secs(20));
    let (caller_code, caller_events, caller_err) = caller.finish(Duration::from_secs(20));
    let both = format!(
        "caller:\n{caller_events:#?}\n{caller_err}\nanswerer:\n{answer_events:#?}\n{answer_err}"
    );
    assert_eq!((answer_code, caller_code), (Some(0), Some(0)), "{both}");
    assert_eq!(
        one(&answer_events, "interrupted")["signal"],
        "TERM",
        "{both}"
    );
    assert_eq!(one(&answer_events, "ended")["cause"], "local-bye", "{both}");
    assert_eq!(
        one(&caller_events, "ended")["cause"],
        "remote-bye",
        "{both}"
    );
    one(&caller_events, "call-summary");
    one(&answer_events, "call-summary");
}

#[test]
fn a_video_call_to_an_audio_only_phone_keeps_the_audio() {
    if interop().is_none() {
        return;
    }
    let mut answer_args = account(WS, "7262", PASSWORD);
    answer_args.extend(["answer", "--count", "1"].map(str::to_owned));
    let mut answerer = Running::start(&answer_args);
    answerer.wait_for("waiting", Duration::from_secs(20));
    let mut call_args = account(WS, "7261", PASSWORD);
    call_args.extend(["call", "7262", "--video", "--duration", "2"].map(str::to_owned));
    let (caller_code, caller_events, caller_err) =
        Running::start(&call_args).finish(Duration::from_secs(40));
    let (answer_code, answer_events, answer_err) = answerer.finish(Duration::from_secs(20));
    let both = format!(
        "caller:\n{caller_events:#?}\n{caller_err}\nanswerer:\n{answer_events:#?}\n{answer_err}"
    );
    assert_eq!((caller_code, answer_code), (Some(0), Some(0)), "{both}");
    for events in [&caller_events, &answer_events] {
        let summary = one(events, "call-summary");
        assert!(summary["rx_packets"].as_u64().unwrap_or(0) > 0, "{both}");
        assert_eq!(summary["codec"], "opus", "{both}");
    }
}

#[test]
fn interactive_answers_an_incoming_call_when_told() {
    if interop().is_none() {
        return;
    }
    let limit = Duration::from_secs(20);
    let mut args = account(WS, "7272", PASSWORD);
    args.push("interactive".into());
    let (mut phone, mut keys) = Running::start_typing(&args);
    phone.wait_for("ready", limit);
    let mut call_args = account(WS, "7271", PASSWORD);
    call_args.extend(["call", "7272", "--duration", "1"].map(str::to_owned));
    let caller = Running::start(&call_args);
    let incoming = phone.wait_for("incoming", limit);
    assert_eq!(incoming["remote_uri"], "sip:7271@127.0.0.1", "{incoming}");
    writeln!(keys, "answer").unwrap();
    phone.wait_for("confirmed", limit);
    assert_eq!(phone.wait_for("ended", limit)["cause"], "remote-bye");
    writeln!(keys, "answer").unwrap();
    assert_eq!(
        phone.wait_for("error", limit)["message"],
        "there is no call"
    );
    drop(keys); // end of input quits
    let (code, events, stderr) = phone.finish(limit);
    assert_eq!(code, Some(0), "{events:#?}\n{stderr}");
    let (code, events, stderr) = caller.finish(limit);
    assert_eq!(code, Some(0), "{events:#?}\n{stderr}");
    assert!(one(&events, "call-summary")["rx_packets"].as_u64() > Some(0));
}
