//! `cargo run --release --example demo`: a door station rings a kitchen tablet, on loopback,
//! with no set-up.
//!
//! An in-process SIP-over-WebSocket registrar and proxy (a test double, see
//! `support/registrar_double.rs`) stands in for Kamailio. A "Front Door" station and a
//! "Kitchen" tablet, both Sipline agents with real WebRTC media (ICE on 127.0.0.1 only, mDNS
//! off), register with it. The door calls the kitchen; the kitchen's popup model opens showing
//! "Front Door" and its camera entity; the kitchen answers; the visualiser moves with the
//! door's chime; the kitchen presses "Open Door" (DTMF 1 by RFC 4733); the door reports "door
//! opened" and hangs up. On a terminal the popup is drawn live with ratatui; otherwise one line
//! is printed per step. Exits 0 only if every step happened, within the time limit.

#[path = "support/demo_ui.rs"]
mod demo_ui;
#[path = "support/registrar_double.rs"]
mod registrar_double;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use sip_config::{Format, HaUser, LoadOptions, PhoneConfig, load_str};
use sip_media::MediaOptions;
use sip_media::level::{LevelReport, LevelSide};
use sip_media::tones::{ToneGenerator, ToneSpec};
use sip_ua::driver::{AgentEvents, AgentOptions, Call, UserAgent, WebRtcFactory};
use sip_ua::popup::{Command, PopupModel};
use sip_ua::{CallHandle, DtmfMethod, EndedBy, Event};
use tokio::sync::{broadcast, mpsc};

use demo_ui::Ui;
use registrar_double::RegistrarDouble;

/// The demo's command line.
#[derive(Debug, Parser)]
#[command(about = "Sipline demo: a door station rings a kitchen tablet on loopback (no set-up)")]
struct Args {
    /// Print one line per step even when stdout is a terminal.
    #[arg(long)]
    plain: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
    timeout: u64,
}

/// The steps, in order; the demo succeeds when all are done.
const STEPS: [&str; 6] = [
    "registered",
    "ringing",
    "answered",
    "visualiser",
    "door opened",
    "hung up",
];

/// The door's two-tone doorbell chime, repeating.
fn chime() -> ToneGenerator {
    ToneGenerator::new(ToneSpec {
        frequencies: vec![660.0, 880.0],
        cadence: vec![(Duration::from_millis(400), Duration::from_millis(200))],
        amplitude: 0.5,
    })
}

/// The door calls the kitchen and plays its chime into the call once the call has media.
async fn ring(door: &UserAgent) -> Result<Call, String> {
    let call = door
        .call("kitchen")
        .await
        .map_err(|e| format!("the door could not call: {e}"))?;
    let media_of = call.clone();
    tokio::spawn(async move {
        if let Ok(media) = media_of.wait_media().await {
            media.set_source(Box::new(chime()));
        }
    });
    Ok(call)
}

fn phone(server: &str, user: &str, popup: serde_json::Value) -> Result<PhoneConfig, String> {
    let doc = json!({
        "custom_wss_url": server,
        "pbx_server": "127.0.0.1",
        "users": [{ "ha_username": user, "password": "demo" }],
        "popup_config": popup,
    });
    let opts = LoadOptions::new()
        .format(Format::SipCore)
        .ha_user(HaUser::named(user));
    load_str(&doc.to_string(), user, &opts)
        .map(|l| l.config)
        .map_err(|e| format!("the {user} configuration: {e}"))
}

/// A Sipline agent with WebRTC media on loopback.
fn agent(config: &PhoneConfig) -> Result<(UserAgent, AgentEvents), String> {
    let options = AgentOptions::from_phone(config).ok_or("no server URL")?;
    let media = Arc::new(WebRtcFactory::new(MediaOptions::loopback()));
    UserAgent::start(options, media).map_err(|e| e.to_string())
}

/// The next level report, or never when there is no session yet.
async fn next_level(levels: &mut Option<broadcast::Receiver<LevelReport>>) -> LevelReport {
    loop {
        match levels {
            Some(rx) => match rx.recv().await {
                Ok(report) => return report,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => *levels = None,
            },
            None => std::future::pending::<()>().await,
        }
    }
}

/// Runs the scenario; returns an error naming the step that failed.
async fn run(ui: &mut Ui) -> Result<(), String> {
    let double = RegistrarDouble::start()
        .await
        .map_err(|e| format!("starting the registrar double on 127.0.0.1: {e}"))?;
    let server = double.ws_url();
    let mut kitchen_config = phone(
        &server,
        "kitchen",
        json!({
            "buttons": [
                { "label": "Open Door", "icon": "mdi:door-open", "type": "dtmf", "data": "1" }
            ],
            "extensions": {
                "door": { "name": "Front Door", "camera_entity": "camera.front_door" }
            }
        }),
    )?;
    kitchen_config.dtmf.method = sip_config::DtmfMethod::Rfc4733;
    let door_config = phone(&server, "door", json!({}))?;

    let (kitchen, mut kitchen_events) = agent(&kitchen_config)?;
    let (door, mut door_events) = agent(&door_config)?;
    // The kitchen call's level feed, once its media exists.
    let (levels_tx, mut levels_rx) = mpsc::unbounded_channel();
    let mut popup = PopupModel::new(kitchen_config, Instant::now());
    let mut levels: Option<broadcast::Receiver<LevelReport>> = None;
    let mut registered = (false, false);
    let mut door_call: Option<Call> = None;
    let mut kitchen_call: Option<CallHandle> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let step = |ui: &mut Ui, name: &str, text: String| ui.step(name, text);

    let outcome = loop {
        let now = Instant::now();
        tokio::select! {
            event = kitchen_events.recv() => {
                let Some(event) = event else { break Err("the kitchen agent stopped".to_owned()) };
                popup.handle_event(&event, now);
                match event {
                    Event::Registered { .. } => registered.0 = true,
                    Event::RegistrationFailed { reason, .. } => {
                        break Err(format!("the kitchen could not register: {reason}"));
                    }
                    Event::IncomingCall { call, .. } => {
                        kitchen_call = Some(call);
                        let shown = popup.snapshot(now);
                        let Some(c) = shown.focused() else { break Err("the popup shows no call".into()) };
                        if !shown.open {
                            break Err("the popup did not open on the incoming call".into());
                        }
                        step(ui, "ringing", format!(
                            "the kitchen popup opens: {} ({}), {}",
                            c.remote_name.clone().unwrap_or_default(),
                            c.camera_entity.clone().unwrap_or_default(),
                            c.state.as_str(),
                        ));
                        match popup.answer(now) {
                            Ok(Command::Answer { call }) => {
                                let call = kitchen.call_handle(call);
                                if let Err(e) = call.answer().await {
                                    break Err(format!("answering: {e}"));
                                }
                                let levels_tx = levels_tx.clone();
                                tokio::spawn(async move {
                                    if let Ok(media) = call.wait_media().await {
                                        let _ = levels_tx.send(media.levels());
                                    }
                                });
                            }
                            other => break Err(format!("the popup could not answer: {other:?}")),
                        }
                    }
                    Event::Confirmed { .. } => {
                        step(ui, "answered", "the kitchen answered: connected, media on 127.0.0.1".into());
                    }
                    Event::Ended { by, cause, .. } => {
                        if by != EndedBy::Remote {
                            break Err(format!("the call ended on the kitchen's side: {}", cause.as_str()));
                        }
                        if popup.snapshot(now).open {
                            break Err("the popup stayed open after the call".into());
                        }
                        step(ui, "hung up", format!("the door hung up ({}); the kitchen popup closed", cause.as_str()));
                        break Ok(());
                    }
                    Event::Failed { status, reason, .. } => {
                        break Err(format!("the call failed: {status:?} {reason}"));
                    }
                    _ => {}
                }
            }
            event = door_events.recv() => {
                let Some(event) = event else { break Err("the door agent stopped".to_owned()) };
                match event {
                    Event::Registered { .. } => registered.1 = true,
                    Event::RegistrationFailed { reason, .. } => {
                        break Err(format!("the door could not register: {reason}"));
                    }
                    Event::DtmfReceived { digit: '1', method: DtmfMethod::Rfc4733, .. } => {
                        step(ui, "door opened", "the door got DTMF 1 by RFC 4733: door opened".into());
                        if let Some(call) = &door_call
                            && let Err(e) = call.hangup().await
                        {
                            break Err(format!("the door could not hang up: {e}"));
                        }
                    }
                    Event::Failed { status, reason, .. } => {
                        break Err(format!("the door's call failed: {status:?} {reason}"));
                    }
                    Event::Ended { by, cause, .. } if by != EndedBy::Local => {
                        break Err(format!("the door's call ended early: {}", cause.as_str()));
                    }
                    _ => {}
                }
                if registered == (true, true) && door_call.is_none() {
                    step(ui, "registered", format!("Front Door and Kitchen registered with the registrar double at {server}"));
                    match ring(&door).await {
                        Ok(call) => door_call = Some(call),
                        Err(e) => break Err(e),
                    }
                }
            }
            Some(feed) = levels_rx.recv() => levels = Some(feed),
            report = next_level(&mut levels) => {
                popup.handle_levels(&report, now);
                let moving = report.side == LevelSide::Remote
                    && report.rms_dbfs > -50.0
                    && report.spectrum.iter().any(|b| *b > 0.01);
                if moving && !ui.done("visualiser") && ui.done("answered") {
                    step(ui, "visualiser", format!(
                        "the visualiser moves with the door's chime (remote {:.0} dBFS)", report.rms_dbfs
                    ));
                    match popup.press_button(0, now) {
                        Ok(Command::SendDtmf { call, digits, method, .. }) => {
                            if let Err(e) = kitchen.call_handle(call).send_dtmf(&digits, method).await {
                                break Err(format!("sending DTMF: {e}"));
                            }
                            step(ui, "", format!("the kitchen pressed \"Open Door\": DTMF {digits} by {}", method.as_str()));
                        }
                        other => break Err(format!("the Open Door button did not send DTMF: {other:?}")),
                    }
                }
            }
            _ = tick.tick() => {
                popup.tick(now);
            }
        }
        // A registration that arrived on the kitchen's stream last also starts the call.
        if registered == (true, true) && door_call.is_none() {
            step(
                ui,
                "registered",
                format!("Front Door and Kitchen registered with the registrar double at {server}"),
            );
            match ring(&door).await {
                Ok(call) => door_call = Some(call),
                Err(e) => break Err(e),
            }
        }
        ui.draw(&popup.snapshot(Instant::now()));
    };
    let _ = kitchen_call;
    tokio::join!(kitchen.shutdown(), door.shutdown());
    drop(double);
    outcome
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let terminal = !args.plain && std::io::stdout().is_terminal();
    let mut ui = Ui::new(terminal, &STEPS);
    let limit = Duration::from_secs(args.timeout);
    let result = match tokio::time::timeout(limit, run(&mut ui)).await {
        Ok(result) => result,
        Err(_) => Err(format!("timed out after {} s", args.timeout)),
    };
    let missing = ui.missing();
    ui.finish();
    match result {
        Ok(()) if missing.is_empty() => {
            println!("demo passed: every step happened");
            ExitCode::SUCCESS
        }
        Ok(()) => {
            eprintln!(
                "demo failed: steps that did not happen: {}",
                missing.join(", ")
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("demo failed: {e}");
            if missing.is_empty() {
                eprintln!("every step happened, but not in time (the agents were shutting down)");
            } else {
                eprintln!("steps that did not happen: {}", missing.join(", "));
            }
            ExitCode::FAILURE
        }
    }
}
