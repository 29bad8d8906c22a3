//! The `doorstation` program end to end through the real Kamailio (see `interop/kamailio`),
//! with a Sipline agent in the test as the far end and a local HTTP server standing in for
//! openHAB. Skipped unless `SIPLINE_INTEROP` is set (`scripts/test`).
//!
//! The door station registers; a line on its standard input makes it call the agent, which
//! hears the greeting's tone and keys the door code by RFC 4733, and the configured command
//! touches a file; SIGUSR1 makes it call again; the agent calls the door station, which answers
//! by itself; every state string reaches `POST /rest/items/{item}`.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sip_media::MediaOptions;
use sip_media::audio::{AppSink, SAMPLE_RATE};
use sip_media::level::goertzel_dbfs;
use sip_ua::driver::{AgentEvents, AgentOptions, Call, UserAgent, WebRtcFactory};
use sip_ua::{CoreConfig, Credentials, DtmfMethod, Event};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::timeout;

mod support;

const SERVER: &str = "ws://127.0.0.1:8080/ws";
const PASSWORD: &str = "sipline-test";
const STATION: &str = "doorstation-e2e-door";
const AGENT: &str = "doorstation-e2e-agent";
const ITEM: &str = "Door_E2E_SIP_State";
const TOKEN: &str = "oh-test-token";
/// The greeting's tone and a frequency it has no energy at.
const TONE_HZ: f32 = 700.0;
const OFF_TONE_HZ: f32 = 1900.0;
const DOOR_CODE: &str = "#7";
const LIMIT: Duration = Duration::from_secs(15);

/// One request the openHAB stand-in saw.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    content_type: Option<String>,
    authorization: Option<String>,
    body: String,
}

/// Serves HTTP/1.1 on 127.0.0.1:0 like openHAB's REST API (200 to everything), recording each
/// request.
async fn openhab() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let all = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let all = all.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let all = all.clone();
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .map(|v| v.to_str().unwrap_or("<binary>").to_owned())
                        };
                        let mut seen = Seen {
                            method: req.method().to_string(),
                            path: req.uri().path().to_owned(),
                            content_type: header("content-type"),
                            authorization: header("authorization"),
                            body: String::new(),
                        };
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        seen.body = String::from_utf8_lossy(&body).into_owned();
                        all.lock().unwrap().push(seen);
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, seen)
}

/// Sends the call's decoded far-end audio to the test.
async fn listen(call: &Call) -> mpsc::Receiver<Vec<i16>> {
    let media = timeout(LIMIT, call.wait_media())
        .await
        .expect("the call's media within the limit")
        .expect("the call has media");
    let (sink, audio) = AppSink::channel(1024);
    media.set_sink(Some(Box::new(sink)));
    audio
}

/// The door station as a child process, its stdout lines collected.
struct Station {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<Vec<String>>>,
}

impl Station {
    fn start(args: &[String]) -> Station {
        let mut child = Command::new(support::example_binary("doorstation"))
            .args(args)
            .env("SIPLINE_OPENHAB_TOKEN", TOKEN)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the doorstation starts");
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    output.lock().unwrap().push(line);
                }
            });
        }
        Station {
            stdin: child.stdin.take(),
            child,
            output,
        }
    }

    fn log(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits until the door station printed a line containing `what`.
    async fn expect_line(&self, what: &str) {
        let deadline = Instant::now() + LIMIT;
        while Instant::now() < deadline {
            if self.output.lock().unwrap().iter().any(|l| l.contains(what)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the doorstation never printed {what:?}; its output:\n{}",
            self.log()
        );
    }
}

impl Drop for Station {
    fn drop(&mut self) {
        // Only when a check failed: stop the program this test started, by its PID.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Three seconds of a `TONE_HZ` sine at half scale, 16 kHz mono (resampled by the station).
fn write_greeting(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..3 * 16_000 {
        let t = n as f32 / 16_000.0;
        let v = (2.0 * std::f32::consts::PI * TONE_HZ * t).sin() * 0.5 * 32767.0;
        writer.write_sample(v as i16).unwrap();
    }
    writer.finalize().unwrap();
}

async fn next(events: &mut AgentEvents, what: &str, station: &Station) -> Event {
    match timeout(LIMIT, events.recv()).await {
        Ok(Some(event)) => event,
        Ok(None) => panic!("the agent stopped while waiting for {what}"),
        Err(_) => panic!(
            "no {what} within {LIMIT:?}; the doorstation printed:\n{}",
            station.log()
        ),
    }
}

/// Reads the far end's decoded audio until half a second of it carries sound, and checks
/// that the sound is the greeting's tone.
async fn hears_the_greeting(audio: &mut mpsc::Receiver<Vec<i16>>, station: &Station) {
    let window = SAMPLE_RATE as usize / 2;
    let mut heard: Vec<i16> = Vec::new();
    let deadline = Instant::now() + LIMIT;
    loop {
        let chunk = match timeout(Duration::from_secs(1), audio.recv()).await {
            Ok(Some(chunk)) => chunk,
            _ if Instant::now() < deadline => continue,
            _ => panic!(
                "no greeting heard within {LIMIT:?} ({} loud samples); the doorstation printed:\n{}",
                heard.len(),
                station.log()
            ),
        };
        // Skip silence before the greeting starts (and the codec's ramp-up).
        if heard.is_empty() && chunk.iter().all(|s| s.unsigned_abs() < 2000) {
            continue;
        }
        heard.extend_from_slice(&chunk);
        if heard.len() >= window + SAMPLE_RATE as usize / 10 {
            break;
        }
    }
    // Past the first 100 ms (the codec settles), half a second of the tone.
    let steady = &heard[SAMPLE_RATE as usize / 10..][..window];
    let tone = goertzel_dbfs(steady, SAMPLE_RATE, TONE_HZ);
    let off = goertzel_dbfs(steady, SAMPLE_RATE, OFF_TONE_HZ);
    println!("the far end hears {tone:.1} dBFS at {TONE_HZ} Hz, {off:.1} dBFS at {OFF_TONE_HZ} Hz");
    assert!(
        tone > -15.0 && tone - off > 25.0,
        "the far end hears {tone:.1} dBFS at {TONE_HZ} Hz and {off:.1} dBFS at {OFF_TONE_HZ} Hz"
    );
}

/// Waits until the openHAB stand-in has seen every state in `want`, in this order.
async fn openhab_saw(seen: &Mutex<Vec<Seen>>, want: &[String], station: &Station) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let bodies: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.body.clone())
            .collect();
        let mut rest = bodies.iter();
        if want.iter().all(|w| rest.any(|b| b == w)) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "openHAB did not see {want:?} in order; it saw {bodies:?}; the doorstation printed:\n{}",
                station.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn run_dir() -> PathBuf {
    let base = std::env::var_os("SIPLINE_RUN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("doorstation-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_door_station_calls_greets_opens_the_door_answers_and_reports_to_openhab() {
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!("skipped: needs the real peers, run scripts/test");
        return;
    }
    let dir = run_dir();
    let greeting = dir.join("greeting.wav");
    write_greeting(&greeting);
    let opened = dir.join("door-opened");
    let _ = std::fs::remove_file(&opened);
    let config = dir.join("door.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "websocketUrl": SERVER,
            "domain": "127.0.0.1",
            "username": STATION,
            "password": PASSWORD,
            "sipStateItem": ITEM
        })
        .to_string(),
    )
    .unwrap();
    let (http, seen) = openhab().await;

    // The far end registers first, so the station's first call finds it.
    let core = CoreConfig::new(
        format!("sip:{AGENT}@127.0.0.1"),
        Credentials::new(AGENT, PASSWORD),
    );
    let media = Arc::new(WebRtcFactory::new(MediaOptions::loopback()));
    let (agent, mut events) =
        UserAgent::start(AgentOptions::new(core, SERVER), media).expect("the agent starts");
    let mut station = Station::start(&[
        "--config".into(),
        config.display().to_string(),
        "--call".into(),
        AGENT.into(),
        "--auto-answer".into(),
        AGENT.into(),
        "--greeting".into(),
        greeting.display().to_string(),
        "--dtmf-code".into(),
        DOOR_CODE.into(),
        "--on-code".into(),
        format!("touch '{}'", opened.display()),
        "--openhab-url".into(),
        format!("http://{http}"),
        "--media-address".into(),
        "127.0.0.1".into(),
    ]);
    while !matches!(
        next(&mut events, "the agent's registration", &station).await,
        Event::Registered { .. }
    ) {}
    station.expect_line("event: Registered").await;
    openhab_saw(&seen, &["registered".into()], &station).await;

    // A line on stdin: the station calls the agent, which answers and hears the greeting.
    writeln!(station.stdin.as_mut().unwrap(), "ring").unwrap();
    station.stdin.as_mut().unwrap().flush().unwrap();
    let call = loop {
        if let Event::IncomingCall {
            call, remote_uri, ..
        } = next(&mut events, "the station's call", &station).await
        {
            assert!(remote_uri.contains(STATION), "{remote_uri}");
            break agent.call_handle(call);
        }
    };
    call.answer().await.unwrap();
    let mut audio = listen(&call).await;
    hears_the_greeting(&mut audio, &station).await;

    // The far end keys the door code by RFC 4733: the command runs.
    call.send_dtmf(DOOR_CODE, DtmfMethod::Rfc4733)
        .await
        .unwrap();
    let deadline = Instant::now() + LIMIT;
    while !opened.exists() {
        assert!(
            Instant::now() < deadline,
            "the door command did not run; the doorstation printed:\n{}",
            station.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    station.expect_line(&format!("code {DOOR_CODE}: ran")).await;
    call.hangup().await.unwrap();
    station.expect_line("event: Ended").await;

    // SIGUSR1 triggers a call too; the agent is busy this time.
    station.signal("USR1");
    let call = loop {
        if let Event::IncomingCall { call, .. } =
            next(&mut events, "the call on SIGUSR1", &station).await
        {
            break agent.call_handle(call);
        }
    };
    call.reject(486).await.unwrap();
    station.expect_line("event: Failed").await;

    // The agent calls the station: a listed caller, answered without a key press, and greeted.
    let call = agent.call(STATION).await.unwrap();
    let mut audio = listen(&call).await;
    loop {
        match next(&mut events, "the station's answer", &station).await {
            Event::Confirmed { call: c } if c == call.handle() => break,
            Event::Failed { status, reason, .. } => {
                panic!(
                    "the station did not answer: {status:?} {reason}\n{}",
                    station.log()
                )
            }
            _ => {}
        }
    }
    hears_the_greeting(&mut audio, &station).await;
    call.hangup().await.unwrap();

    let peer = format!("{AGENT}@127.0.0.1");
    openhab_saw(
        &seen,
        &[
            "registered".into(),
            format!("outgoing:{peer}"),
            format!("outgoing-accepted:{peer}"),
            format!("ended:{peer}"),
            format!("outgoing:{peer}"),
            format!("failed:{peer}"),
            format!("incoming:{peer}"),
            format!("incoming-accepted:{peer}"),
            format!("ended:{peer}"),
        ],
        &station,
    )
    .await;
    for request in seen.lock().unwrap().iter() {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", format!("/rest/items/{ITEM}").as_str())
        );
        assert_eq!(request.content_type.as_deref(), Some("text/plain"));
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }

    // Ctrl-C: the station unregisters and exits cleanly.
    station.signal("INT");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = station.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the doorstation did not stop on SIGINT"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}\n{}", station.log());
    agent.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
