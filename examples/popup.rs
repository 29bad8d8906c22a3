//! `cargo run --example popup -- --config FILE [--ha-user NAME]`: an interactive terminal call
//! popup for a real account, drawn with ratatui from sip-ua's headless popup model.
//!
//! Keys: digits, `*`, `#` type on the dial pad (sent as DTMF during a call); Enter dials the
//! pad (or the selected phonebook entry when the pad is empty); Up/Down select a phonebook
//! entry; `a` answers, `d` declines, `h` hangs up, `m` mutes or unmutes the microphone; F1-F9
//! press the popup buttons; Backspace edits the pad; `q` quits. Service-call buttons go to Home
//! Assistant when `--ha-url` is given (long-lived token from `SIPLINE_HA_TOKEN`).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, List, ListState, Paragraph};
use sip_config::Secret;
use sip_media::level::LevelReport;
use sip_ua::adapters::home_assistant::HomeAssistantClient;
use sip_ua::adapters::{AdapterEvent, HttpEndpoint};
use sip_ua::driver::{MediaHandle, UserAgent, WebRtcFactory};
use sip_ua::popup::{Command, MediaKind, PopupModel, RegistrationView, Snapshot};
use sip_ua::{CallHandle, Event};
use tokio::sync::{broadcast, mpsc};

#[path = "support/account.rs"]
mod account;

/// The popup's command line.
#[derive(Debug, Parser)]
#[command(
    about = "Sipline popup: an interactive terminal call popup for a SIP Core or openHAB account"
)]
struct Args {
    #[command(flatten)]
    account: account::AccountArgs,
    /// Home Assistant base URL for service-call buttons (token from `SIPLINE_HA_TOKEN`).
    #[arg(long, value_name = "URL")]
    ha_url: Option<String>,
}

/// Collects `sip::wire` log lines for the SIP log pane.
#[derive(Clone, Default)]
struct LogPane(Arc<Mutex<Vec<String>>>);

impl std::io::Write for LogPane {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut lines) = self.0.lock() {
            lines.extend(String::from_utf8_lossy(buf).lines().map(str::to_owned));
            let excess = lines.len().saturating_sub(500);
            lines.drain(..excess);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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

fn draw(
    terminal: &mut DefaultTerminal,
    popup: &Snapshot,
    pad: &str,
    selected: &mut ListState,
    status: &str,
    log: &LogPane,
) {
    let log_lines: Vec<String> = log.0.lock().map(|l| l.clone()).unwrap_or_default();
    let _ = terminal.draw(|frame| {
        let [header, main, bars, sip_log, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Min(4),
            Constraint::Length(1),
        ])
        .areas(frame.area());
        let [call_area, book_area] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(main);
        let registration = match &popup.registration {
            RegistrationView::Registered => "● registered".green(),
            RegistrationView::Failed { status, reason } => {
                format!("● registration failed: {status:?} {reason}").red()
            }
            other => format!("● {other:?}").to_lowercase().yellow(),
        };
        frame.render_widget(Line::from(vec!["Sipline popup  ".bold(), registration]), header);
        let mut lines = vec![Line::from(format!("dial pad: {pad}_"))];
        match popup.focused() {
            Some(c) => {
                lines.push(
                    Line::from(format!(
                        "{} {}",
                        c.remote_name.clone().unwrap_or_else(|| "(caller id hidden)".into()),
                        c.camera_entity.clone().unwrap_or_default()
                    ))
                    .bold(),
                );
                lines.push(Line::from(format!(
                    "{} {}{}  {}{}",
                    match c.direction {
                        sip_ua::popup::CallDirectionView::Incoming => "incoming",
                        _ => "outgoing",
                    },
                    c.state.as_str(),
                    if c.on_hold || c.held_by_remote { " (on hold)" } else { "" },
                    c.duration,
                    if c.microphone_muted { "  mic muted" } else { "" },
                )));
            }
            None => lines.push(Line::from(match &popup.last_ended {
                Some(e) => format!("last call ended: {}", e.cause),
                None => "no call".to_owned(),
            })),
        }
        let buttons: Vec<String> = popup
            .buttons
            .iter()
            .enumerate()
            .map(|(i, b)| format!("F{} {}{}", i + 1, b.label, if b.enabled { "" } else { " (off)" }))
            .collect();
        lines.push(Line::from(buttons.join("  ")));
        lines.push(Line::from(status.to_owned()).italic());
        frame.render_widget(Paragraph::new(lines).block(Block::bordered().title("call")), call_area);
        let entries: Vec<String> = popup
            .phonebook
            .iter()
            .map(|e| match &e.name {
                Some(name) => format!("{name} ({})", e.number),
                None => e.number.clone(),
            })
            .collect();
        frame.render_stateful_widget(
            List::new(entries)
                .block(Block::bordered().title("phonebook"))
                .highlight_style(Style::default().reversed()),
            book_area,
            selected,
        );
        let data: Vec<Bar<'_>> = popup
            .visualiser
            .remote
            .bands
            .iter()
            .map(|b| Bar::default().value((b.clamp(0.0, 1.0) * 100.0) as u64))
            .collect();
        frame.render_widget(
            BarChart::default()
                .block(Block::bordered().title(format!(
                    "visualiser: far end {:.0} dBFS",
                    popup.visualiser.remote.rms_dbfs
                )))
                .bar_width(2)
                .max(100)
                .data(BarGroup::default().bars(&data)),
            bars,
        );
        let height = sip_log.height.saturating_sub(2) as usize;
        let start = log_lines.len().saturating_sub(height);
        let shown: Vec<Line<'_>> = log_lines[start..].iter().map(|l| Line::from(l.as_str())).collect();
        frame.render_widget(Paragraph::new(shown).block(Block::bordered().title("SIP log")), sip_log);
        frame.render_widget(
            Line::from("0-9*# pad  Enter dial/DTMF  ↑↓ phonebook  a answer  d decline  h hang up  m mute  F1-F9 buttons  q quit"),
            footer,
        );
    });
}

async fn run(args: Args) -> Result<(), String> {
    let loaded = args.account.load()?;
    // Configuration warnings (unknown keys ...) start in the status line.
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let config = loaded.config;
    let ha = match &args.ha_url {
        Some(url) => {
            let token = std::env::var("SIPLINE_HA_TOKEN").ok().map(Secret::new);
            Some(
                HomeAssistantClient::new(HttpEndpoint::new(url.clone(), token))
                    .map_err(|e| format!("--ha-url: {e}"))?,
            )
        }
        None => None,
    };
    if !std::io::stdout().is_terminal() {
        return Err("the popup needs a terminal (stdout is not one)".to_owned());
    }
    let log = LogPane::default();
    let writer = log.clone();
    let _ = tracing_subscriber::fmt()
        .with_env_filter("sip::wire=debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .try_init();
    let options = sip_ua::driver::AgentOptions::from_phone(&config)
        .ok_or("the configuration has no server URL")?;
    let media = Arc::new(WebRtcFactory::new(args.account.media_options(&config)));
    let (ua, mut events) = UserAgent::start(options, media).map_err(|e| e.to_string())?;
    let mut popup = PopupModel::new(config, Instant::now());

    let (keys_tx, mut keys) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while let Ok(term_event) = event::read() {
            if let TermEvent::Key(key) = term_event
                && key.kind == KeyEventKind::Press
                && keys_tx.send(key.code).is_err()
            {
                break;
            }
        }
    });
    let (adapter_tx, mut adapter_events) = mpsc::unbounded_channel::<AdapterEvent>();
    let mut terminal = ratatui::init();
    let mut pad = String::new();
    let mut selected = ListState::default();
    let mut status = warnings.join("; ");
    // Each call's media once it has some; the visualiser follows the shown call's.
    let (media_tx, mut media_rx) = mpsc::unbounded_channel::<(CallHandle, MediaHandle)>();
    let mut media: HashMap<CallHandle, MediaHandle> = HashMap::new();
    let mut levels_of: Option<CallHandle> = None;
    let mut levels = None;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        let now = Instant::now();
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    match &event {
                        Event::IncomingCall { call, .. } | Event::OutgoingCall { call, .. } => {
                            let (call, media_tx) = (ua.call_handle(*call), media_tx.clone());
                            tokio::spawn(async move {
                                if let Ok(handle) = call.wait_media().await {
                                    let _ = media_tx.send((call.handle(), handle));
                                }
                            });
                        }
                        Event::Ended { call, .. } | Event::Failed { call, .. } => {
                            media.remove(call);
                        }
                        _ => {}
                    }
                    popup.handle_event(&event, now);
                }
                None => { status = "the user agent stopped".into(); }
            },
            Some((call, handle)) = media_rx.recv() => { media.insert(call, handle); levels_of = None; }
            report = next_level(&mut levels) => { popup.handle_levels(&report, now); }
            Some(outcome) = adapter_events.recv() => { status = format!("{outcome:?}"); }
            _ = tick.tick() => { popup.tick(now); }
            Some(key) = keys.recv() => {
                let shown = popup.snapshot(now);
                let in_call = shown.focused().is_some_and(|c| c.state == sip_ua::popup::CallStateView::Connected);
                let action = match key {
                    KeyCode::Char('q') => break,
                    KeyCode::Char(c) if c.is_ascii_digit() || c == '*' || c == '#' => {
                        if in_call { popup.send_digits(&c.to_string(), now).map(Some) } else { pad.push(c); Ok(None) }
                    }
                    KeyCode::Backspace => { pad.pop(); Ok(None) }
                    KeyCode::Up => { selected.select_previous(); Ok(None) }
                    KeyCode::Down => { selected.select_next(); Ok(None) }
                    KeyCode::Enter if !pad.is_empty() => popup.dial(&std::mem::take(&mut pad), now).map(Some),
                    KeyCode::Enter => match selected.selected() {
                        Some(i) => popup.dial_entry(i, now).map(Some),
                        None => Ok(None),
                    },
                    KeyCode::Char('a') => popup.answer(now).map(Some),
                    KeyCode::Char('d') => popup.decline(now).map(Some),
                    KeyCode::Char('h') => popup.hangup(now).map(Some),
                    KeyCode::Char('m') => {
                        let muted = shown.focused().is_some_and(|c| c.microphone_muted);
                        popup.set_muted(MediaKind::Microphone, !muted, now).map(Some)
                    }
                    KeyCode::F(n) if n >= 1 => popup.press_button(usize::from(n - 1), now).map(Some),
                    _ => Ok(None),
                };
                match action {
                    Ok(Some(command)) => status = execute(&ua, command, ha.as_ref(), &adapter_tx).await,
                    Ok(None) => {}
                    Err(e) => status = e.to_string(),
                }
            }
        }
        let snapshot = popup.snapshot(Instant::now());
        let shown = snapshot.focused_call.map(CallHandle);
        if shown != levels_of {
            levels_of = shown;
            levels = shown.and_then(|c| media.get(&c)).map(MediaHandle::levels);
        }
        draw(&mut terminal, &snapshot, &pad, &mut selected, &status, &log);
    }
    ratatui::restore();
    ua.shutdown().await;
    Ok(())
}

/// Carries out a popup command; returns what to show in the status line.
async fn execute(
    ua: &UserAgent,
    command: Command,
    ha: Option<&HomeAssistantClient>,
    adapter_events: &mpsc::UnboundedSender<AdapterEvent>,
) -> String {
    let result = match command {
        Command::Answer { call } => ua.call_handle(call).answer().await,
        Command::Reject { call, status } => ua.call_handle(call).reject(status).await,
        Command::Hangup { call } => ua.call_handle(call).hangup().await,
        Command::SendDtmf {
            call,
            digits,
            method,
            ..
        } => ua.call_handle(call).send_dtmf(&digits, method).await,
        Command::Dial { target } => ua.call(&target).await.map(drop),
        Command::SetMuted { call, kind, muted } => {
            ua.call_handle(call).mute(kind, muted).await.map(drop)
        }
        Command::ServiceCall(call) => {
            return match ha {
                Some(ha) => {
                    ha.spawn_call(call.clone(), adapter_events.clone());
                    format!("service call {}.{} sent", call.domain, call.service)
                }
                None => format!(
                    "service call {}.{}: no --ha-url given",
                    call.domain, call.service
                ),
            };
        }
        other => return format!("not supported here: {other:?}"),
    };
    match result {
        Ok(()) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("popup: {e}");
            ExitCode::FAILURE
        }
    }
}
