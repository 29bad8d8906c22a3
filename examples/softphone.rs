//! `cargo run --release --example softphone -- [ACCOUNT] [--ca FILE | --insecure] [--json]
//! COMMAND`: a command-line softphone for people and scripts.
//!
//! The account comes from `--config FILE [--ha-user NAME]` (SIP Core or openHAB) or from
//! `--server URL --user U --password P --domain D`, where URL is `ws://…`, `wss://…`,
//! `sip:host[:port][;transport=udp|tcp]` or `sips:host[:port]`. Commands:
//!
//! - `register`: register, report, unregister;
//! - `call TARGET [--dtmf DIGITS] [--dtmf-method rfc4733|info] [--duration SECS] [--video]
//!   [--play WAV] [--record WAV]`;
//! - `answer [--count N] [--duration SECS] [--reject CODE] [--play WAV] [--record WAV]`;
//! - `interactive`: commands on standard input (`help` lists them).
//!
//! Every event is printed on one line, with `--json` as one JSON object
//! (`{"event":"registered",...}`, `{"event":"state","state":"incoming:201@127.0.0.1"}`,
//! `{"event":"dtmf","digit":"5","method":"rfc4733",...}`, `{"event":"ended","cause":"remote-bye",...}`),
//! and after each call a `call-summary` with the RTP packets received and sent, the loudest
//! far-end level in dBFS and the codec. Calls send a 440 Hz tone unless `--play` is given.
//! Exit status 0 when every call ended normally, 1 when something failed, 2 for bad arguments.
//! `RUST_LOG=sip::wire=debug` logs every SIP message on stderr.

#[path = "softphone/cli.rs"]
mod cli;
#[path = "softphone/interactive.rs"]
mod interactive;
#[path = "softphone/media.rs"]
mod media;
#[path = "softphone/output.rs"]
mod output;
#[path = "softphone/phone.rs"]
mod phone;
#[path = "softphone/setup.rs"]
mod setup;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use serde_json::json;
use sip_ua::driver::UserAgent;

use cli::{Args, Command};
use media::SoftphoneMedia;
use output::Printer;
use phone::{Mode, Phone};

/// Log filter without `RUST_LOG`: Sipline's warnings, only errors of the WebRTC stack (whose
/// warnings during ICE and DTLS set-up are expected on every call).
const DEFAULT_LOG: &str = "error,sip_ua=warn,sip_transport=warn,sip_media=warn";

/// Exit status for arguments or a configuration that cannot work (as clap uses).
const USAGE: u8 = 2;

/// The command's mode, the file it plays and whether it offers video.
fn mode(command: Command, default_dtmf: sip_ua::DtmfMethod) -> (Mode, Option<std::path::PathBuf>) {
    match command {
        Command::Register => (Mode::Register, None),
        Command::Call(call) => (
            Mode::Call {
                target: call.target,
                dtmf: call
                    .dtmf
                    .map(|digits| (digits, call.dtmf_method.unwrap_or(default_dtmf))),
                duration: call.duration.map(Duration::from_secs),
                record: call.record,
            },
            call.play,
        ),
        Command::Answer(answer) => (
            Mode::Answer {
                count: answer.count,
                duration: answer.duration.map(Duration::from_secs),
                reject: answer.reject,
                record: answer.record,
            },
            answer.play,
        ),
        Command::Interactive => (Mode::Interactive, None),
    }
}

async fn run(args: Args) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG)),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
    if args.insecure {
        eprintln!(
            "softphone: WARNING: --insecure: TLS certificates are NOT verified; anyone on the \
             network path can read and change this phone's signalling and calls"
        );
    }
    let video = matches!(&args.command, Command::Call(call) if call.video);
    let setup = match setup::setup(&args, video) {
        Ok(setup) => setup,
        Err(e) => {
            eprintln!("softphone: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let (mode, play) = mode(args.command, setup.dtmf_method);
    let factory = match SoftphoneMedia::new(setup.media_kind, setup.media.clone(), play) {
        Ok(factory) => factory,
        Err(e) => {
            eprintln!("softphone: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let printer = Printer::new(args.json);
    printer.note(
        "starting",
        json!({
            "aor": setup.aor,
            "servers": setup.servers,
            "media": match setup.media_kind {
                media::MediaKind::WebRtc => "webrtc",
                media::MediaKind::PlainRtp => "rtp",
            },
        }),
    );
    let (ua, events) = match UserAgent::start(setup.agent, factory) {
        Ok(started) => started,
        Err(e) => {
            printer.error(&format!("cannot start: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let phone = Phone::new(
        ua,
        events,
        printer,
        mode,
        setup.registers,
        setup.dtmf_method,
    );
    match phone.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            Printer::new(args.json).error(&e);
            eprintln!("softphone: {e}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    run(Args::parse()).await
}
