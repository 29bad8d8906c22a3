//! What the programs that run a real account (`popup`, `doorstation`) share: the options that
//! load the account from a SIP Core or openHAB configuration, and the media options made from
//! it (ICE servers, policy and gathering timeout, the local addresses to gather on).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use sip_config::{
    GatheringTimeoutKind, HaUser, IceTransportPolicy, LoadOptions, Loaded, PhoneConfig, load_file,
    parse_document,
};
use sip_media::{GatheringDeadline, IceServer, MediaOptions};

/// Where the account comes from, and where media may go.
#[derive(Debug, clap::Args)]
pub struct AccountArgs {
    /// SIP Core or openHAB configuration file (JSON or YAML).
    #[arg(long)]
    pub config: PathBuf,
    /// Home Assistant user whose SIP Core account to use.
    #[arg(long)]
    pub ha_user: Option<String>,
    /// Page origin a relative openHAB `websocketUrl` (such as /ws) resolves against, such as
    /// https://openhab.local:8443.
    #[arg(long, value_name = "URL")]
    pub origin: Option<String>,
    /// openHAB: this device's local account (JSON or YAML with username, password,
    /// ownSipAddress, sipStateItem), merged over the widget props.
    #[arg(long, value_name = "FILE")]
    pub openhab_local: Option<PathBuf>,
    /// Local address to gather media (ICE) candidates on; repeat for several. Default: every
    /// non-loopback interface. Only loopback addresses (127.0.0.1) also turn mDNS off, for
    /// peers on the same host.
    #[arg(long, value_name = "IP")]
    pub media_address: Vec<IpAddr>,
}

impl AccountArgs {
    /// Loads and resolves the configuration; the error names the file and what is wrong.
    pub fn load(&self) -> Result<Loaded, String> {
        let mut opts = LoadOptions::new();
        if let Some(user) = &self.ha_user {
            opts = opts.ha_user(HaUser::named(user.clone()));
        }
        if let Some(origin) = &self.origin {
            opts = opts.origin(origin.clone());
        }
        if let Some(path) = &self.openhab_local {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--openhab-local {}: {e}", path.display()))?;
            let local = parse_document(&text, &path.display().to_string())
                .map_err(|e| format!("--openhab-local: {e}"))?;
            opts = opts.openhab_local(local);
        }
        load_file(&self.config, &opts).map_err(|e| e.to_string())
    }

    /// WebRTC media options from the configuration's ICE settings and `--media-address`.
    pub fn media_options(&self, config: &PhoneConfig) -> MediaOptions {
        media_options(config, &self.media_address)
    }
}

/// WebRTC media options from the configuration's ICE settings, gathering on `addresses` (every
/// non-loopback interface when empty).
pub fn media_options(config: &PhoneConfig, addresses: &[IpAddr]) -> MediaOptions {
    let mut options = MediaOptions::default();
    let ice = &mut options.ice;
    ice.servers = config
        .ice
        .servers
        .iter()
        .map(|s| IceServer {
            urls: s.urls.clone(),
            username: s.username.clone(),
            credential: s.credential.as_ref().map(|c| c.expose().to_owned()),
        })
        .collect();
    ice.policy = match config.ice.transport_policy {
        IceTransportPolicy::Relay => sip_media::IceTransportPolicy::Relay,
        _ => sip_media::IceTransportPolicy::All,
    };
    ice.candidate_pool_size = config.ice.candidate_pool_size;
    // `None` (wait for gathering to complete, as openHAB) keeps sip-media's hard deadline, so a
    // STUN server that never answers cannot hold a call back for half a minute.
    if let Some(ms) = config.ice.gathering.timeout_ms {
        let timeout = Duration::from_millis(u64::from(ms));
        ice.gathering_deadline = match config.ice.gathering.timeout_kind {
            GatheringTimeoutKind::Deadline => GatheringDeadline::Hard(timeout),
            _ => GatheringDeadline::Idle(timeout),
        };
    }
    ice.gather_addresses = addresses.to_vec();
    // Peers on loopback only need no mDNS, and a loopback-only host may have no multicast
    // route (building the connection would then fail).
    if !addresses.is_empty() && addresses.iter().all(IpAddr::is_loopback) {
        ice.mdns = false;
    }
    options
}
