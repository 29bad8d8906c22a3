//! The `popup` program with a real account, run in a pseudo-terminal against the real Kamailio
//! (see `interop/kamailio`), its screen read through a terminal emulator. Skipped unless
//! `SIPLINE_INTEROP` is set (`scripts/test`).
//!
//! The popup registers (indicator), a Sipline agent in the test calls it, the screen shows the
//! caller, `a` answers, the agent's tone moves the visualiser, `h` hangs up; `d` declines the
//! next call; the phonebook dials the agent, `m` mutes, F1 presses "Open Door" (DTMF 1); the
//! agent hangs up, and `q` quits.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};
use sip_media::MediaOptions;
use sip_media::tones::{ToneGenerator, ToneSpec};
use sip_ua::driver::{AgentEvents, AgentOptions, UserAgent, WebRtcFactory};
use sip_ua::{CoreConfig, Credentials, DtmfMethod, EndedBy, Event};
use tokio::time::timeout;

mod support;

const SERVER: &str = "ws://127.0.0.1:8080/ws";
const PASSWORD: &str = "sipline-test";
const TABLET: &str = "popup-program-tablet";
const DOOR: &str = "popup-program-door";
const LIMIT: Duration = Duration::from_secs(15);
const ROWS: u16 = 40;
const COLS: u16 = 120;

/// The popup in a pseudo-terminal, its output fed to a terminal emulator.
struct Popup {
    child: Box<dyn Child + Send + Sync>,
    keys: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
}

impl Popup {
    fn start(args: &[String]) -> Popup {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(support::example_binary("popup"));
        command.args(args);
        command.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(command).expect("the popup starts");
        drop(pair.slave);
        let mut output = pair.master.try_clone_reader().unwrap();
        let keys = pair.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(ROWS).unwrap(),
            NonZeroU16::new(COLS).unwrap(),
            0,
        )));
        let feed = screen.clone();
        std::thread::spawn(move || {
            // Keeps the master end open until the popup exits (the reader sees EOF then).
            let _master = pair.master;
            let mut buf = [0u8; 8192];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buf[..n]);
            }
        });
        Popup {
            child,
            keys,
            screen,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn press(&mut self, key: &str) {
        self.keys.write_all(key.as_bytes()).unwrap();
        self.keys.flush().unwrap();
    }

    /// Waits until the screen satisfies `check`; fails with the screen as it was.
    async fn wait_for(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let shown = self.contents();
            if check(&shown) {
                return shown;
            }
            assert!(
                Instant::now() < deadline,
                "the popup never showed {what} within {LIMIT:?}; its screen:\n{shown}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Popup {
    fn drop(&mut self) {
        // Only when a check failed: stop the program this test started.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The far-end level the visualiser's title shows (`visualiser: far end -12 dBFS`).
fn far_end_dbfs(screen: &str) -> Option<f32> {
    let rest = screen.split("visualiser: far end ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

async fn next(events: &mut AgentEvents, what: &str, popup: &Popup) -> Event {
    match timeout(LIMIT, events.recv()).await {
        Ok(Some(event)) => event,
        Ok(None) => panic!("the agent stopped while waiting for {what}"),
        Err(_) => panic!(
            "no {what} within {LIMIT:?}; the popup's screen:\n{}",
            popup.contents()
        ),
    }
}

fn run_dir() -> PathBuf {
    let base = std::env::var_os("SIPLINE_RUN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("popup-program-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_popup_registers_takes_declines_and_places_calls_through_kamailio() {
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!("skipped: needs the real peers, run scripts/test");
        return;
    }
    let dir = run_dir();
    let config = dir.join("sip_config.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "custom_wss_url": SERVER,
            "pbx_server": "127.0.0.1",
            "users": [{ "ha_username": TABLET, "password": PASSWORD }],
            "popup_config": {
                "buttons": [{ "label": "Open Door", "type": "dtmf", "data": "1" }],
                "extensions": {
                    DOOR: { "name": "Front Door", "camera_entity": "camera.front_door" }
                }
            }
        })
        .to_string(),
    )
    .unwrap();
    let mut popup = Popup::start(&[
        "--config".into(),
        config.display().to_string(),
        "--ha-user".into(),
        TABLET.into(),
        "--media-address".into(),
        "127.0.0.1".into(),
    ]);
    popup
        .wait_for("the registration indicator", |s| s.contains("● registered"))
        .await;

    let core = CoreConfig::new(
        format!("sip:{DOOR}@127.0.0.1"),
        Credentials::new(DOOR, PASSWORD),
    );
    let media = Arc::new(WebRtcFactory::new(MediaOptions::loopback()));
    let (door, mut events) =
        UserAgent::start(AgentOptions::new(core, SERVER), media).expect("the agent starts");
    while !matches!(
        next(&mut events, "the door's registration", &popup).await,
        Event::Registered { .. }
    ) {}
    let call = door.call(TABLET).await.unwrap();
    // The door plays a steady tone, which the popup's visualiser shows once answered.
    let door_media = timeout(LIMIT, call.wait_media())
        .await
        .expect("the door's media within the limit")
        .unwrap();
    door_media.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
        440.0, 0.5,
    ))));

    let ringing = popup
        .wait_for("the caller", |s| {
            s.contains("Front Door camera.front_door") && s.contains("incoming incoming")
        })
        .await;
    assert_eq!(
        far_end_dbfs(&ringing),
        Some(-100.0),
        "no far-end audio before the answer:\n{ringing}"
    );
    popup.press("a");
    popup
        .wait_for("the connected call", |s| s.contains("incoming connected"))
        .await;
    loop {
        if let Event::Confirmed { .. } = next(&mut events, "the answer", &popup).await {
            break;
        }
    }
    let hearing = popup
        .wait_for("the far end's tone in the visualiser", |s| {
            far_end_dbfs(s).is_some_and(|db| db > -40.0)
                && s.chars().any(|c| ('▁'..='█').contains(&c))
        })
        .await;
    println!(
        "the popup's visualiser: far end {:?} dBFS",
        far_end_dbfs(&hearing)
    );

    popup.press("h");
    loop {
        if let Event::Ended { by, .. } = next(&mut events, "the hang-up", &popup).await {
            assert_eq!(by, EndedBy::Remote);
            break;
        }
    }
    popup
        .wait_for("the ended call", |s| {
            s.contains("last call ended: local-bye")
        })
        .await;
    let shown = popup.contents();
    assert!(
        shown.contains("SIP log") && shown.contains("SIP/2.0"),
        "the SIP log pane shows the messages:\n{shown}"
    );

    // A second call is declined with `d`: 480, as JsSIP's terminate().
    let call = door.call(TABLET).await.unwrap();
    popup
        .wait_for("the second call", |s| s.contains("incoming incoming"))
        .await;
    popup.press("d");
    loop {
        match next(&mut events, "the decline", &popup).await {
            Event::Failed {
                call: c, status, ..
            } if c == call.handle() => {
                assert_eq!(status, Some(480));
                break;
            }
            Event::Ended { call: c, .. } if c == call.handle() => {
                panic!("the declined call ended instead of failing")
            }
            _ => {}
        }
    }

    // The phonebook dials the door (Down selects it, Enter dials); the door answers.
    popup
        .wait_for("the door in the phonebook", |s| {
            s.contains(&format!("Front Door ({DOOR})"))
        })
        .await;
    popup.press("\x1b[B");
    popup.press("\r");
    let call = loop {
        if let Event::IncomingCall {
            call, remote_uri, ..
        } = next(&mut events, "the popup's call", &popup).await
        {
            assert!(remote_uri.contains(TABLET), "{remote_uri}");
            break door.call_handle(call);
        }
    };
    call.answer().await.unwrap();
    popup
        .wait_for("the outgoing call connected", |s| {
            s.contains("outgoing connected")
        })
        .await;
    // `m` mutes the microphone; F1 presses "Open Door" (DTMF 1 by SIP INFO, SIP Core's default).
    popup.press("m");
    popup
        .wait_for("the microphone muted", |s| s.contains("mic muted"))
        .await;
    popup.press("\x1bOP");
    loop {
        if let Event::DtmfReceived { digit, method, .. } =
            next(&mut events, "the Open Door digit", &popup).await
        {
            assert_eq!((digit, method), ('1', DtmfMethod::Info));
            break;
        }
    }
    // The door hangs up: the popup shows it.
    call.hangup().await.unwrap();
    popup
        .wait_for("the call the door ended", |s| {
            s.contains("last call ended: remote-bye")
        })
        .await;

    popup.press("q");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = popup.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the popup did not quit on q; its screen:\n{}",
            popup.contents()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}\n{}", popup.contents());
    door.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
