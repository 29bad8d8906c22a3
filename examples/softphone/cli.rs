//! The softphone's command line (clap derive) and the checks on its values.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand};
use sip_config::Secret;
use sip_transport::{Target, TransportKind};
use sip_ua::DtmfMethod;

/// The whole command line.
#[derive(Parser)]
#[command(
    name = "softphone",
    about = "Sipline softphone: register, place and answer calls from the command line or a script",
    after_help = "Without --play, calls send a 440 Hz tone. Media is WebRTC for ws:// and wss:// \
                  servers and plain RTP for sip: and sips: servers; it stays on 127.0.0.1 when \
                  the server is on loopback.\n\
                  Exit status: 0 when every call ended normally, 1 when something failed, 2 for \
                  bad arguments or an unusable configuration."
)]
pub struct Args {
    /// SIP Core or openHAB configuration file (JSON or YAML) holding the account.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["server", "user", "password", "domain"],
          required_unless_present = "server")]
    pub config: Option<PathBuf>,
    /// Home Assistant user whose SIP Core account to use (with --config).
    #[arg(long, value_name = "NAME", requires = "config")]
    pub ha_user: Option<String>,
    /// Server: ws://host[:port]/path, wss://..., sip:host[:port][;transport=udp|tcp] or
    /// sips:host[:port].
    #[arg(long, value_name = "URL", value_parser = server_url, requires_all = ["user", "password", "domain"])]
    pub server: Option<Server>,
    /// SIP user name (the user part of the address and the digest user).
    #[arg(long, value_name = "U", requires = "server")]
    pub user: Option<String>,
    /// Digest password (never printed).
    #[arg(long, value_name = "P", requires = "server", value_parser = secret)]
    pub password: Option<Secret>,
    /// SIP domain of the account, as in sip:U@D.
    #[arg(long, value_name = "D", requires = "server")]
    pub domain: Option<String>,
    /// Extra CA certificate (PEM) trusted for wss:// and sips: servers.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub ca: Option<PathBuf>,
    /// DANGEROUS: accept ANY TLS certificate (self-signed, expired, another name). Anyone on
    /// the path can then read and change the calls. Lab use only.
    #[arg(long)]
    pub insecure: bool,
    /// Print every event as one JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The softphone's commands.
#[derive(Subcommand)]
pub enum Command {
    /// Register, report the result, unregister.
    Register,
    /// Call TARGET (an extension such as 201, user@host or a SIP URI).
    Call(CallArgs),
    /// Wait for incoming calls and answer (or reject) them.
    Answer(AnswerArgs),
    /// Read commands from standard input (type `help`).
    Interactive,
}

/// `call`'s arguments.
#[derive(ClapArgs)]
pub struct CallArgs {
    /// Whom to call.
    pub target: String,
    /// DTMF digits sent once the call is up (0-9, *, #, A-D).
    #[arg(long, value_name = "DIGITS", value_parser = dtmf_digits)]
    pub dtmf: Option<String>,
    /// How DTMF is sent (default: the configuration's method, else rfc4733).
    #[arg(long, value_name = "METHOD", value_parser = dtmf_method)]
    pub dtmf_method: Option<DtmfMethod>,
    /// Hang up this many seconds after the call is answered and its media flows (default:
    /// wait for the peer).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub duration: Option<u64>,
    /// Offer video too (receive-only: this program has no camera). Needs a ws:// or wss://
    /// server.
    #[arg(long)]
    pub video: bool,
    /// WAV file played to the peer once, instead of the 440 Hz tone.
    #[arg(long, value_name = "WAV")]
    pub play: Option<PathBuf>,
    /// Record what the peer sends to this WAV file (48 kHz mono).
    #[arg(long, value_name = "WAV")]
    pub record: Option<PathBuf>,
}

/// `answer`'s arguments.
#[derive(ClapArgs)]
pub struct AnswerArgs {
    /// Exit after this many calls (default: run until interrupted).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub count: Option<u32>,
    /// Hang up this many seconds after answering, counted once the media flows (default: wait
    /// for the caller).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub duration: Option<u64>,
    /// Reject every call with this status (400-699, such as 486 or 603) instead of answering.
    #[arg(long, value_name = "CODE", value_parser = clap::value_parser!(u16).range(400..=699))]
    pub reject: Option<u16>,
    /// WAV file played to the caller once, instead of the 440 Hz tone.
    #[arg(long, value_name = "WAV", conflicts_with = "reject")]
    pub play: Option<PathBuf>,
    /// Record what the caller sends to this WAV file (the second call to NAME-2.wav, ...).
    #[arg(long, value_name = "WAV", conflicts_with = "reject")]
    pub record: Option<PathBuf>,
}

/// A `--server` value that sip-transport can connect to.
#[derive(Debug, Clone)]
pub struct Server {
    /// As written (trimmed).
    pub url: String,
}

fn server_url(text: &str) -> Result<Server, String> {
    let target = Target::parse(text).map_err(|e| e.to_string())?;
    if target.kind == TransportKind::Tls && !text.trim().to_ascii_lowercase().starts_with("sips:") {
        return Err("for TLS write sips:host[:port]".to_owned());
    }
    Ok(Server {
        url: text.trim().to_owned(),
    })
}

fn secret(text: &str) -> Result<Secret, String> {
    if text.is_empty() {
        Err("the password is empty".to_owned())
    } else {
        Ok(Secret::new(text))
    }
}

/// Checks DTMF digits (0-9, *, #, A-D; `a-d` are taken as upper case).
pub fn dtmf_digits(text: &str) -> Result<String, String> {
    let digits = text.to_ascii_uppercase();
    if !digits.is_empty()
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || "*#ABCD".contains(c))
    {
        Ok(digits)
    } else {
        Err(format!(
            "{text:?} is not a DTMF string (use 0-9, *, # and A-D)"
        ))
    }
}

/// Parses `rfc4733` or `info`.
pub fn dtmf_method(text: &str) -> Result<DtmfMethod, String> {
    match text.to_ascii_lowercase().as_str() {
        "rfc4733" => Ok(DtmfMethod::Rfc4733),
        "info" => Ok(DtmfMethod::Info),
        _ => Err(format!(
            "{text:?} is not a DTMF method (use rfc4733 or info)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_of_every_kind_are_accepted_and_others_explained() {
        for good in [
            "ws://127.0.0.1:8080/ws",
            "wss://pbx.example.com/ws",
            "sip:127.0.0.1",
            "sip:127.0.0.1:5060;transport=tcp",
            "sips:pbx.example.com:5061",
        ] {
            assert!(server_url(good).is_ok(), "{good}");
        }
        assert_eq!(server_url(" sip:127.0.0.1 ").unwrap().url, "sip:127.0.0.1");
        for bad in [
            "http://x",
            "sip:x;transport=sctp",
            "sip:x;transport=tls",
            "sip:",
        ] {
            assert!(server_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dtmf_values_are_checked() {
        assert_eq!(dtmf_digits("1#a").unwrap(), "1#A");
        assert!(
            dtmf_digits("12x")
                .unwrap_err()
                .contains("not a DTMF string")
        );
        assert!(dtmf_digits("").is_err());
        assert_eq!(dtmf_method("INFO").unwrap(), DtmfMethod::Info);
        assert!(dtmf_method("sms").is_err());
    }
}
