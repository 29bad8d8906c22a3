//! Media options for the programs that run a real account (`popup`, `doorstation`): the
//! configuration's ICE servers, policy and gathering timeout, and the local addresses to gather
//! candidates on.

use std::net::IpAddr;
use std::time::Duration;

use sip_config::{GatheringTimeoutKind, IceTransportPolicy, PhoneConfig};
use sip_media::{GatheringDeadline, IceServer, MediaOptions};

/// The help text of the `--media-address` option both programs take.
pub const MEDIA_ADDRESS_HELP: &str = "Local address to gather media (ICE) candidates on; repeat for several. Default: every \
     non-loopback interface. Only loopback addresses (127.0.0.1) also turn mDNS off, for \
     peers on the same host";

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
