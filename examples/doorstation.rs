//! `cargo run --example doorstation -- --config FILE --call TARGET ...`: a headless intercom
//! for a small board.
//!
//! Registers with the account of a SIP Core or openHAB configuration, calls `--call` when a
//! line arrives on standard input or on SIGUSR1, answers callers listed by `--auto-answer` (or
//! the configuration's auto-answer rules), plays `--greeting` to whoever it talks to, runs
//! `--on-code` when the peer keys `--dtmf-code` (by RFC 4733 or SIP INFO), and publishes its
//! state to the configuration's openHAB `sipStateItem` when `--openhab-url` is given (token
//! from the `SIPLINE_OPENHAB_TOKEN` environment variable). One line per event on stdout.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use sip_config::{AutoAnswerPolicy, CallerPattern, Secret};
use sip_media::audio::WavSource;
use sip_ua::adapters::HttpEndpoint;
use sip_ua::adapters::openhab::{OpenHabClient, StateItemPublisher};
use sip_ua::driver::{AgentOptions, UserAgent, WebRtcFactory};
use sip_ua::{CallHandle, Event};

#[path = "support/account.rs"]
mod account;

/// The door station's command line.
#[derive(Debug, Parser)]
#[command(
    about = "Sipline door station: a headless intercom (call on a trigger, auto-answer, open the door on a DTMF code)"
)]
struct Args {
    #[command(flatten)]
    account: account::AccountArgs,
    /// Whom to call on a trigger (a line on stdin or SIGUSR1), such as `101`.
    #[arg(long)]
    call: Option<String>,
    /// Callers answered automatically: `*` or comma-separated `user` / `user@host`
    /// (replaces the configuration's rule).
    #[arg(long, value_name = "CALLERS")]
    auto_answer: Option<String>,
    /// WAV file played to the peer once the call is up.
    #[arg(long, value_name = "WAV")]
    greeting: Option<PathBuf>,
    /// The DTMF code that runs `--on-code`, such as `1` or `#42`.
    #[arg(long, value_parser = dtmf_code, requires = "on_code")]
    dtmf_code: Option<String>,
    /// Shell command run (by `sh -c`) when the code is keyed, such as `gpioset 0 17=1`.
    #[arg(long, requires = "dtmf_code")]
    on_code: Option<String>,
    /// openHAB base URL, to publish the state to the configuration's `sipStateItem`.
    #[arg(long, value_name = "URL")]
    openhab_url: Option<String>,
}

fn dtmf_code(text: &str) -> Result<String, String> {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || "*#ABCD".contains(c))
    {
        Ok(text.to_owned())
    } else {
        Err("a DTMF code is made of 0-9, *, # and A-D".to_owned())
    }
}

fn callers(list: &str) -> AutoAnswerPolicy {
    match list.trim() {
        "*" => AutoAnswerPolicy::Always,
        "" => AutoAnswerPolicy::Never,
        list => AutoAnswerPolicy::Callers(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|c| match c.split_once('@') {
                    Some((user, host)) => CallerPattern::new(user, Some(host.to_owned())),
                    None => CallerPattern::new(c, None),
                })
                .collect(),
        ),
    }
}

async fn run(args: Args) -> Result<(), String> {
    let loaded = args.account.load()?;
    for warning in &loaded.warnings {
        eprintln!("{warning}");
    }
    let mut config = loaded.config;
    if let Some(list) = &args.auto_answer {
        config.auto_answer.policy = callers(list);
    }
    // Read now, so a bad file fails here and not at the first call.
    let greeting = match &args.greeting {
        Some(path) => Some(
            WavSource::open(path, false)
                .map_err(|e| format!("--greeting {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let mut publisher = match (&args.openhab_url, &config.state_item) {
        (Some(url), Some(item)) => {
            let token = std::env::var("SIPLINE_OPENHAB_TOKEN").ok().map(Secret::new);
            let client = OpenHabClient::new(HttpEndpoint::new(url.clone(), token))
                .map_err(|e| format!("--openhab-url: {e}"))?;
            let (publisher, mut outcomes) =
                StateItemPublisher::spawn(client, item.clone()).map_err(|e| e.to_string())?;
            tokio::spawn(async move {
                while let Some(outcome) = outcomes.recv().await {
                    println!("openhab: {outcome:?}");
                }
            });
            Some(publisher)
        }
        (Some(_), None) => {
            return Err("--openhab-url needs a `sipStateItem` in the configuration".to_owned());
        }
        _ => None,
    };
    let options = AgentOptions::from_phone(&config).ok_or("the configuration has no server URL")?;
    let media = Arc::new(WebRtcFactory::new(args.account.media_options(&config)));
    let (ua, mut events) = UserAgent::start(options, media).map_err(|e| e.to_string())?;
    let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
        .map_err(|e| format!("SIGUSR1: {e}"))?;
    // Standard input is read on a thread of its own: tokio's stdin reads on its blocking pool,
    // and a read that never returns would keep the runtime (and the program) from exiting.
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<()>();
    std::thread::spawn(move || {
        for _ in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines_tx.send(()).is_err() {
                break;
            }
        }
    });
    let mut stdin_open = true;
    let mut keyed: std::collections::HashMap<CallHandle, String> = Default::default();
    println!(
        "doorstation: {} via {}",
        config.account.aor,
        config.transport.urls.join(", ")
    );
    let outcome = loop {
        let trigger = tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break Err("the user agent stopped".to_owned()) };
                if let Some(p) = &mut publisher {
                    p.on_event(&event);
                }
                println!("event: {event:?}");
                if let (Event::DtmfReceived { call, digit, .. }, Some(code), Some(command)) =
                    (&event, &args.dtmf_code, &args.on_code)
                {
                    let digits = keyed.entry(*call).or_default();
                    digits.push(*digit);
                    if digits.ends_with(code.as_str()) {
                        digits.clear();
                        let status = tokio::process::Command::new("sh").arg("-c").arg(command).status().await;
                        match status {
                            Ok(s) => println!("code {code}: ran {command:?}: {s}"),
                            Err(e) => println!("code {code}: could not run {command:?}: {e}"),
                        }
                    }
                }
                if let (Event::IncomingCall { call, .. } | Event::OutgoingCall { call, .. }, Some(wav)) = (&event, &greeting) {
                    // The greeting starts when the call's media connects (sources are read
                    // only once media flows); a call that ends first has no media to wait for.
                    let (call, wav) = (ua.call_handle(*call), wav.clone());
                    tokio::spawn(async move {
                        if let Ok(media) = call.wait_media().await {
                            media.set_source(Box::new(wav));
                        }
                    });
                }
                if let Event::Ended { call, .. } | Event::Failed { call, .. } = &event {
                    keyed.remove(call);
                }
                false
            }
            _ = usr1.recv() => true,
            line = lines.recv(), if stdin_open => match line {
                Some(()) => true,
                None => { stdin_open = false; false }
            },
            _ = tokio::signal::ctrl_c() => break Ok(()),
        };
        if trigger {
            match &args.call {
                Some(target) => match ua.call(target).await {
                    Ok(call) => println!("trigger: calling {target} ({})", call.handle()),
                    Err(e) => println!("trigger: cannot call {target}: {e}"),
                },
                None => println!("trigger: no --call target"),
            }
        }
    };
    ua.shutdown().await;
    outcome
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doorstation: {e}");
            ExitCode::FAILURE
        }
    }
}
