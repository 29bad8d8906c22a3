//! Options of a media session: ICE, codecs, DTMF timing, visualiser rate.
//!
//! sip-media has its own option types so that it does not depend on the configuration crate;
//! the user agent maps its configuration onto these.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::error::{MediaError, Result};
use crate::video::VideoOptions;

/// One STUN or TURN server, as in the W3C `RTCIceServer` dictionary.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:` / `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    pub username: Option<String>,
    /// TURN credential. Never printed by `Debug`.
    pub credential: Option<String>,
}

impl fmt::Debug for IceServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field(
                "credential",
                &self.credential.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl IceServer {
    /// A STUN server (no credentials).
    pub fn stun(url: impl Into<String>) -> Self {
        IceServer {
            urls: vec![url.into()],
            ..Default::default()
        }
    }

    /// A TURN server with user name and credential.
    pub fn turn(
        url: impl Into<String>,
        username: impl Into<String>,
        credential: impl Into<String>,
    ) -> Self {
        IceServer {
            urls: vec![url.into()],
            username: Some(username.into()),
            credential: Some(credential.into()),
        }
    }
}

/// Which candidates ICE may use (`iceTransportPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IceTransportPolicy {
    /// Every candidate type.
    #[default]
    All,
    /// Only TURN relay candidates.
    Relay,
}

/// When the SDP goes out although ICE gathering has not completed.
///
/// Upstream JsSIP waits for gathering to complete, which takes 10 to 40 s behind some NATs;
/// SIP Core resets an idle timer per candidate. Both are offered; a hard deadline is the
/// default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatheringDeadline {
    /// Send the SDP at the latest this long after gathering started.
    Hard(Duration),
    /// Send the SDP when no new candidate arrived for this long.
    Idle(Duration),
}

impl Default for GatheringDeadline {
    fn default() -> Self {
        GatheringDeadline::Hard(Duration::from_secs(2))
    }
}

/// ICE configuration of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceOptions {
    /// STUN/TURN servers (`iceServers`).
    pub servers: Vec<IceServer>,
    /// `iceTransportPolicy`.
    pub policy: IceTransportPolicy,
    /// `iceCandidatePoolSize`.
    pub candidate_pool_size: u8,
    /// `iceGatheringTimeout`.
    pub gathering_deadline: GatheringDeadline,
    /// Local addresses to gather host candidates on. Empty means every non-loopback
    /// interface; `[127.0.0.1]` restricts the session to loopback (tests, same-host peers).
    pub gather_addresses: Vec<IpAddr>,
    /// Inclusive UDP port range for the media sockets; `None` means any ephemeral port.
    pub port_range: Option<(u16, u16)>,
    /// Public addresses to advertise instead of the host addresses (1:1 NAT).
    pub nat_1to1_ips: Vec<IpAddr>,
    /// Accept and resolve remote `.local` (mDNS) candidates. Needs a multicast route; turn it off
    /// where there is none (building the connection fails with `ENODEV` otherwise).
    pub mdns: bool,
}

impl Default for IceOptions {
    fn default() -> Self {
        IceOptions {
            servers: Vec::new(),
            policy: IceTransportPolicy::All,
            candidate_pool_size: 0,
            gathering_deadline: GatheringDeadline::default(),
            gather_addresses: Vec::new(),
            port_range: None,
            nat_1to1_ips: Vec::new(),
            mdns: true,
        }
    }
}

impl IceOptions {
    /// Gather on 127.0.0.1 only, mDNS off: what tests and same-host peers use.
    pub fn loopback() -> Self {
        IceOptions {
            gather_addresses: vec![IpAddr::from([127, 0, 0, 1])],
            mdns: false,
            ..Default::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Some((low, high)) = self.port_range
            && (low == 0 || low > high)
        {
            return Err(MediaError::InvalidOption {
                name: "port_range",
                reason: format!("{low}..={high} is not a non-empty range of non-zero ports"),
            });
        }
        let deadline = match self.gathering_deadline {
            GatheringDeadline::Hard(d) | GatheringDeadline::Idle(d) => d,
        };
        if deadline.is_zero() {
            return Err(MediaError::InvalidOption {
                name: "gathering_deadline",
                reason: "must be longer than zero".into(),
            });
        }
        for server in &self.servers {
            if server.urls.is_empty() {
                return Err(MediaError::InvalidOption {
                    name: "servers",
                    reason: "an ICE server has no URL".into(),
                });
            }
        }
        Ok(())
    }
}

/// An audio codec this crate encodes and decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// Opus, 48 kHz (RFC 7587).
    Opus,
    /// G.711 µ-law, 8 kHz, static payload type 0.
    Pcmu,
    /// G.711 A-law, 8 kHz, static payload type 8.
    Pcma,
    /// G.722 wideband (16 kHz audio, 8 kHz RTP clock as RFC 3551 fixes), static payload
    /// type 9. Not in the default list: add it to [`MediaOptions::codecs`] to offer it.
    G722,
}

impl AudioCodec {
    /// The encoding name as it appears in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            AudioCodec::Opus => "opus",
            AudioCodec::Pcmu => "PCMU",
            AudioCodec::Pcma => "PCMA",
            AudioCodec::G722 => "G722",
        }
    }

    /// RTP clock rate.
    pub fn clock_rate(self) -> u32 {
        match self {
            AudioCodec::Opus => 48_000,
            // G.722's RTP clock is 8 kHz although it samples at 16 kHz (RFC 3551 §4.5.2).
            AudioCodec::Pcmu | AudioCodec::Pcma | AudioCodec::G722 => 8_000,
        }
    }

    /// The payload type this crate offers for the codec.
    pub fn default_payload_type(self) -> u8 {
        match self {
            AudioCodec::Opus => 111,
            AudioCodec::Pcmu => 0,
            AudioCodec::Pcma => 8,
            AudioCodec::G722 => 9,
        }
    }

    /// Finds a codec by its `a=rtpmap` encoding name and clock rate.
    pub fn from_rtpmap(name: &str, clock_rate: u32) -> Option<Self> {
        [
            AudioCodec::Opus,
            AudioCodec::Pcmu,
            AudioCodec::Pcma,
            AudioCodec::G722,
        ]
        .into_iter()
        .find(|c| c.encoding_name().eq_ignore_ascii_case(name) && c.clock_rate() == clock_rate)
    }
}

impl fmt::Display for AudioCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.encoding_name(), self.clock_rate())
    }
}

/// Which Opus coding mode the encoder uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OpusMode {
    /// Speech-tuned coding (libopus `VOIP`: SILK or hybrid), best for voice at low bit rates
    /// and the costliest to encode (the SILK quantiser dominates a call's CPU time).
    #[default]
    Voice,
    /// Transform coding only (libopus `RESTRICTED_LOWDELAY`, CELT), 5 to 10 times cheaper to
    /// encode and to decode; good for speech at the default 32 kbit/s. For many concurrent
    /// calls on a small machine.
    LowCpu,
}

/// Opus encoder settings: how to trade CPU time per call against voice quality.
///
/// Every mode and complexity decodes everywhere (the decoder follows the packets), so these
/// change only this end's cost and sound. `benches/media_load.rs` prints the CPU time per
/// 20 ms frame of each choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusOptions {
    /// Coding mode.
    pub mode: OpusMode,
    /// Encoder complexity, 0 (cheapest) to 10 (libopus' default is 10, browsers use 9 on
    /// desktops and 5 on phones).
    pub complexity: u8,
    /// Target bit rate in bit/s (6,000 to 510,000).
    pub bitrate_bps: u32,
}

impl Default for OpusOptions {
    /// Voice mode at complexity 5 (the phone setting of browsers) and 32 kbit/s: about 40 %
    /// less encoder time than complexity 9 for a quality difference few listeners hear.
    fn default() -> Self {
        OpusOptions {
            mode: OpusMode::Voice,
            complexity: 5,
            bitrate_bps: 32_000,
        }
    }
}

impl OpusOptions {
    /// Transform coding at complexity 3 and 32 kbit/s: the cheapest setting that still
    /// sounds clean, for many concurrent calls (see the README's per-call figures).
    pub fn low_cpu() -> Self {
        OpusOptions {
            mode: OpusMode::LowCpu,
            complexity: 3,
            bitrate_bps: 32_000,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.complexity > 10 {
            return Err(MediaError::InvalidOption {
                name: "opus.complexity",
                reason: format!("{} is outside 0..=10", self.complexity),
            });
        }
        if !(6_000..=510_000).contains(&self.bitrate_bps) {
            return Err(MediaError::InvalidOption {
                name: "opus.bitrate_bps",
                reason: format!("{} is outside 6000..=510000", self.bitrate_bps),
            });
        }
        Ok(())
    }
}

/// RFC 4733 timing (JsSIP's defaults: 100 ms tones, 70 ms gaps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfOptions {
    /// How long each tone lasts.
    pub duration: Duration,
    /// Silence between two tones.
    pub gap: Duration,
    /// Volume field of the events, in -dBm0 (0 is loudest, 63 quietest).
    pub volume: u8,
}

impl Default for DtmfOptions {
    fn default() -> Self {
        DtmfOptions {
            duration: Duration::from_millis(u64::from(crate::DEFAULT_DTMF_DURATION_MS)),
            gap: Duration::from_millis(70),
            volume: 10,
        }
    }
}

/// Everything a media session is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaOptions {
    /// ICE configuration.
    pub ice: IceOptions,
    /// Audio codecs in order of preference (offered in this order).
    pub codecs: Vec<AudioCodec>,
    /// Opus encoder settings (CPU time per call against quality).
    pub opus: OpusOptions,
    /// DTMF timing.
    pub dtmf: DtmfOptions,
    /// Visualiser feed rate in Hz (SIP Core default 30).
    pub level_rate_hz: u32,
    /// Visualiser spectrum smoothing, 0 (none) to 1 exclusive (SIP Core default 0.5).
    pub level_smoothing_percent: u8,
    /// Video (off by default; WebRTC sessions only).
    pub video: VideoOptions,
    /// A label for log lines (the SIP Call-ID, usually).
    pub call_id: String,
}

impl Default for MediaOptions {
    fn default() -> Self {
        MediaOptions {
            ice: IceOptions::default(),
            codecs: vec![AudioCodec::Opus, AudioCodec::Pcmu, AudioCodec::Pcma],
            opus: OpusOptions::default(),
            dtmf: DtmfOptions::default(),
            level_rate_hz: 30,
            level_smoothing_percent: 50,
            video: VideoOptions::default(),
            call_id: String::new(),
        }
    }
}

impl MediaOptions {
    /// Default options with ICE restricted to loopback.
    pub fn loopback() -> Self {
        MediaOptions {
            ice: IceOptions::loopback(),
            ..Default::default()
        }
    }

    /// Checks option ranges.
    pub fn validate(&self) -> Result<()> {
        self.ice.validate()?;
        self.opus.validate()?;
        if self.codecs.is_empty() {
            return Err(MediaError::InvalidOption {
                name: "codecs",
                reason: "at least one audio codec is needed".into(),
            });
        }
        if self.level_rate_hz == 0 || self.level_rate_hz > 1000 {
            return Err(MediaError::InvalidOption {
                name: "level_rate_hz",
                reason: format!("{} is outside 1..=1000", self.level_rate_hz),
            });
        }
        if self.level_smoothing_percent >= 100 {
            return Err(MediaError::InvalidOption {
                name: "level_smoothing_percent",
                reason: format!("{} is outside 0..100", self.level_smoothing_percent),
            });
        }
        if self.dtmf.duration < std::time::Duration::from_millis(40) || self.dtmf.volume > 63 {
            return Err(MediaError::InvalidOption {
                name: "dtmf",
                reason: "tones need at least 40 ms and a volume of 0..=63".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_not_in_debug_output() {
        let server = IceServer::turn("turn:example.invalid", "alice", "s3cret");
        let text = format!("{server:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("alice"));
    }

    #[test]
    fn bad_port_range_is_rejected() {
        let mut options = MediaOptions::loopback();
        options.ice.port_range = Some((5000, 4000));
        assert!(matches!(
            options.validate(),
            Err(MediaError::InvalidOption {
                name: "port_range",
                ..
            })
        ));
        options.ice.port_range = Some((4000, 4010));
        options.validate().unwrap();
    }

    #[test]
    fn codec_lookup_checks_clock_rate() {
        assert_eq!(
            AudioCodec::from_rtpmap("OPUS", 48000),
            Some(AudioCodec::Opus)
        );
        assert_eq!(
            AudioCodec::from_rtpmap("pcmu", 8000),
            Some(AudioCodec::Pcmu)
        );
        assert_eq!(AudioCodec::from_rtpmap("PCMU", 16000), None);
        // G.722 is announced with its 8 kHz RTP clock (RFC 3551), not its 16 kHz sampling.
        assert_eq!(
            AudioCodec::from_rtpmap("g722", 8000),
            Some(AudioCodec::G722)
        );
        assert_eq!(AudioCodec::from_rtpmap("G722", 16000), None);
    }
}
