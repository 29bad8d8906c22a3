//! From the command line to the user agent's options: the account (a configuration file or
//! `--server/--user/--password/--domain`), TLS trust and the kind of media.

use std::net::IpAddr;

use sip_config::{Account, HaUser, LoadOptions, PhoneConfig, TransportConfig, load_file};
use sip_media::MediaOptions;
use sip_media::video::VideoMode;
use sip_transport::{Target, TlsOptions, TransportKind};
use sip_ua::DtmfMethod;
use sip_ua::driver::AgentOptions;

use crate::cli::Args;
use crate::media::MediaKind;

/// Everything the phone is started with.
#[derive(Debug)]
pub struct Setup {
    /// The user agent's options (auto-answer and auto-dial off: the command decides).
    pub agent: AgentOptions,
    /// WebRTC or plain RTP.
    pub media_kind: MediaKind,
    /// Options of every call's media session.
    pub media: MediaOptions,
    /// The DTMF method when `--dtmf-method` is not given.
    pub dtmf_method: DtmfMethod,
    /// Whether the account registers (a configuration may switch registration off).
    pub registers: bool,
    /// Our address of record, for the first line printed.
    pub aor: String,
    /// The server URLs, in order.
    pub servers: Vec<String>,
}

/// Whether a host is this machine (media then stays on 127.0.0.1, where browsers and the
/// WebRTC stack would otherwise skip loopback candidates).
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn phone_config(args: &Args) -> Result<PhoneConfig, String> {
    if let Some(path) = &args.config {
        let mut opts = LoadOptions::new();
        if let Some(user) = &args.ha_user {
            opts = opts.ha_user(HaUser::named(user.clone()));
        }
        let loaded = load_file(path, &opts).map_err(|e| e.to_string())?;
        for warning in &loaded.warnings {
            eprintln!("softphone: {}: {warning}", path.display());
        }
        return Ok(loaded.config);
    }
    // clap makes these present together; the messages cover a caller building Args by hand.
    let server = args.server.as_ref().ok_or("give --config or --server")?;
    let user = args.user.as_deref().ok_or("--server needs --user")?;
    let password = args.password.clone().ok_or("--server needs --password")?;
    let domain = args.domain.as_deref().ok_or("--server needs --domain")?;
    if user.is_empty() || user.contains(['@', ':', ' ']) {
        return Err(format!(
            "--user {user:?} must be a plain user name (no @, : or spaces)"
        ));
    }
    if domain.is_empty() || domain.contains(['@', '/', ' ']) {
        return Err(format!(
            "--domain {domain:?} must be a host name or address"
        ));
    }
    let mut phone = PhoneConfig::new(
        Account::new(format!("sip:{user}@{domain}"), user, password),
        TransportConfig::new(server.url.clone()),
    );
    phone.dtmf.method = sip_config::DtmfMethod::Rfc4733;
    Ok(phone)
}

/// Builds the setup; the error explains what is wrong with the arguments or configuration.
pub fn setup(args: &Args, video: bool) -> Result<Setup, String> {
    let phone = phone_config(args)?;
    let first = phone
        .transport
        .urls
        .first()
        .ok_or("the configuration has no server URL")?;
    let target = Target::parse(first).map_err(|e| format!("server {first:?}: {e}"))?;
    let mut agent =
        AgentOptions::from_phone(&phone).ok_or("the configuration has no server URL")?;
    agent.auto_answer = sip_config::AutoAnswer::default();
    agent.auto_dial = None;
    let mut tls = TlsOptions::default();
    if let Some(ca) = &args.ca {
        tls = tls.with_extra_ca_file(ca.clone());
        // Read it now, so a bad file is a usage error and not a connection failure later.
        tls.client_config()
            .map_err(|e| format!("--ca {}: {e}", ca.display()))?;
    }
    tls.danger_accept_invalid_certificates = args.insecure;
    agent.transport = agent.transport.with_tls(tls);

    let media_kind = match target.kind {
        TransportKind::Ws | TransportKind::Wss => MediaKind::WebRtc,
        _ => MediaKind::PlainRtp,
    };
    let mut media = if is_loopback(&target.host) {
        MediaOptions::loopback()
    } else {
        MediaOptions::default()
    };
    media.ice.servers = phone
        .ice
        .servers
        .iter()
        .map(|s| {
            let mut server =
                sip_media::IceServer::stun(s.urls.first().cloned().unwrap_or_default());
            server.urls = s.urls.clone();
            server.username = s.username.clone();
            server.credential = s.credential.as_ref().map(|c| c.expose().to_owned());
            server
        })
        .collect();
    if video {
        if media_kind != MediaKind::WebRtc {
            return Err("--video needs a ws:// or wss:// server (video is WebRTC only)".into());
        }
        media.video.mode = VideoMode::RecvOnly;
    }
    media
        .validate()
        .map_err(|e| format!("media options: {e}"))?;
    let dtmf_method = match phone.dtmf.method {
        sip_config::DtmfMethod::Info => DtmfMethod::Info,
        _ => DtmfMethod::Rfc4733,
    };
    Ok(Setup {
        agent,
        media_kind,
        media,
        dtmf_method,
        registers: phone.registration.enabled,
        aor: phone.account.aor.clone(),
        servers: phone.transport.urls.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(line: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("softphone").chain(line.iter().copied())).unwrap()
    }

    #[test]
    fn a_command_line_account_becomes_the_agent_options() {
        let args = args(&[
            "--server",
            "ws://127.0.0.1:8080/ws",
            "--user",
            "201",
            "--password",
            "s3cret-pw",
            "--domain",
            "127.0.0.1",
            "register",
        ]);
        let setup = setup(&args, false).unwrap();
        assert_eq!(setup.aor, "sip:201@127.0.0.1");
        assert_eq!(setup.agent.core.aor, "sip:201@127.0.0.1");
        assert_eq!(setup.media_kind, MediaKind::WebRtc);
        assert_eq!(setup.dtmf_method, DtmfMethod::Rfc4733);
        // The server is on loopback: so is the media.
        assert_eq!(
            setup.media.ice.gather_addresses,
            [IpAddr::from([127, 0, 0, 1])]
        );
        assert!(!setup.agent.transport.tls.danger_accept_invalid_certificates);
        let printed = format!("{setup:?}");
        assert!(!printed.contains("s3cret-pw"), "{printed}");
    }

    #[test]
    fn sip_servers_get_plain_rtp_and_refuse_video() {
        let line = [
            "--server",
            "sip:pbx.example.com;transport=tcp",
            "--user",
            "201",
            "--password",
            "pw",
            "--domain",
            "example.com",
            "--insecure",
            "register",
        ];
        let setup = setup(&args(&line), false).unwrap();
        assert_eq!(setup.media_kind, MediaKind::PlainRtp);
        assert!(setup.media.ice.gather_addresses.is_empty());
        assert!(setup.agent.transport.tls.danger_accept_invalid_certificates);
        assert!(
            super::setup(&args(&line), true)
                .unwrap_err()
                .contains("--video")
        );
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["pbx.example.com", "192.168.1.2", "10.0.0.1"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
