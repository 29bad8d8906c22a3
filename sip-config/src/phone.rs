//! [`PhoneConfig`]: the resolved, format-independent configuration other Sipline crates take.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Secret;

/// Default registration expiry in seconds (JsSIP's `register_expires`).
pub const DEFAULT_REGISTER_EXPIRES_SECS: u32 = 600;

/// A phone's whole configuration, resolved from SIP Core or openHAB settings.
///
/// Plain data: build it with [`crate::load_str`]/[`crate::load_file`], or by hand from
/// [`PhoneConfig::new`] and the public fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PhoneConfig {
    /// Who we are and how we authenticate.
    pub account: Account,
    /// Where the signalling connection goes.
    pub transport: TransportConfig,
    /// Whether and how often we register.
    pub registration: Registration,
    /// ICE servers and policies for media.
    pub ice: IceConfig,
    /// Audio/video choices.
    pub media: MediaConfig,
    /// When incoming calls are answered without a person.
    pub auto_answer: AutoAnswer,
    /// Whom to call as soon as the phone is ready, if anyone.
    pub auto_dial: Option<String>,
    /// How DTMF digits are sent.
    pub dtmf: DtmfDefaults,
    /// Ringing and ringback tones.
    pub tones: Tones,
    /// Known people and extensions.
    pub directory: Directory,
    /// The call popup's model; `None` when the configuration turns the popup off.
    pub popup: Option<PopupConfig>,
    /// Small presentation choices of the openHAB widget.
    pub ui: UiOptions,
    /// openHAB item that receives the call state (`registered`, `incoming:...`), if any.
    pub state_item: Option<String>,
    /// Whether verbose SIP tracing was asked for.
    pub debug: bool,
}

impl PhoneConfig {
    /// A configuration with the given identity and transport and every other part at its default.
    pub fn new(account: Account, transport: TransportConfig) -> Self {
        Self {
            account,
            transport,
            registration: Registration::default(),
            ice: IceConfig::default(),
            media: MediaConfig::default(),
            auto_answer: AutoAnswer::default(),
            auto_dial: None,
            dtmf: DtmfDefaults::default(),
            tones: Tones::default(),
            directory: Directory::default(),
            popup: None,
            ui: UiOptions::default(),
            state_item: None,
            debug: false,
        }
    }

    /// A copy with every secret (SIP password, TURN credentials) replaced by `***`, for printing.
    pub fn redacted(&self) -> Self {
        let mut copy = self.clone();
        copy.account.password = copy.account.password.masked();
        for server in &mut copy.ice.servers {
            server.credential = server.credential.as_ref().map(Secret::masked);
        }
        copy
    }

    /// The known extension with this number (name, doorbell camera, auto-answer choice), as the
    /// popup shows it for a caller.
    pub fn extension(&self, number: &str) -> Option<&ExtensionEntry> {
        self.directory
            .extensions
            .iter()
            .find(|e| e.number == number)
    }

    /// Whether an incoming call from `user@host` should be answered automatically, applying the
    /// per-extension rule first and the global rule otherwise.
    pub fn should_auto_answer(&self, user: &str, host: &str) -> bool {
        self.auto_answer.should_answer(user, host)
    }
}

/// The SIP identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// Address of record, `sip:user@domain`.
    pub aor: String,
    /// User name for digest authentication.
    pub auth_user: String,
    /// Digest password (redacted when printed).
    pub password: Secret,
    /// Display name put in `From`, if any.
    pub display_name: Option<String>,
}

impl Account {
    /// An account from its parts.
    pub fn new(aor: impl Into<String>, auth_user: impl Into<String>, password: Secret) -> Self {
        Self {
            aor: aor.into(),
            auth_user: auth_user.into(),
            password,
            display_name: None,
        }
    }
}

/// Signalling transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Server URLs in order of preference: `ws://`/`wss://` (RFC 7118) or `sip:`/`sips:` URIs
    /// for UDP/TCP/TLS.
    pub urls: Vec<String>,
    /// Interval of the CRLF keep-alive in milliseconds, if one is sent.
    pub keepalive_interval_ms: Option<u32>,
}

impl TransportConfig {
    /// A transport to one URL without keep-alive.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            urls: vec![url.into()],
            keepalive_interval_ms: None,
        }
    }
}

/// Registration behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Registration {
    /// Whether to REGISTER at all.
    pub enabled: bool,
    /// Requested expiry in seconds.
    pub expires_secs: u32,
}

impl Default for Registration {
    fn default() -> Self {
        Self {
            enabled: true,
            expires_secs: DEFAULT_REGISTER_EXPIRES_SECS,
        }
    }
}

/// ICE configuration (WebRTC `RTCConfiguration`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IceConfig {
    /// STUN and TURN servers.
    pub servers: Vec<IceServer>,
    /// Which candidates may be used.
    pub transport_policy: IceTransportPolicy,
    /// How many candidates to gather before an offer is made.
    pub candidate_pool_size: u8,
    /// Whether RTCP must share the RTP port.
    pub rtcp_mux: RtcpMuxPolicy,
    /// When to stop waiting for candidates.
    pub gathering: IceGathering,
    /// Other `RTCConfiguration` keys (for example `bundlePolicy`), kept unchanged.
    pub extra: BTreeMap<String, Value>,
}

impl Default for IceConfig {
    fn default() -> Self {
        Self {
            servers: Vec::new(),
            transport_policy: IceTransportPolicy::All,
            candidate_pool_size: 0,
            rtcp_mux: RtcpMuxPolicy::Require,
            gathering: IceGathering::default(),
            extra: BTreeMap::new(),
        }
    }
}

/// One STUN or TURN server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IceServer {
    /// `stun:`, `stuns:`, `turn:` or `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    pub username: Option<String>,
    /// TURN credential (redacted when printed).
    pub credential: Option<Secret>,
}

impl IceServer {
    /// A server without credentials.
    pub fn new(urls: Vec<String>) -> Self {
        Self {
            urls,
            username: None,
            credential: None,
        }
    }

    /// Whether any URL is a TURN relay.
    pub fn is_turn(&self) -> bool {
        self.urls
            .iter()
            .any(|u| u.starts_with("turn:") || u.starts_with("turns:"))
    }
}

/// Which ICE candidates may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum IceTransportPolicy {
    /// Host, server-reflexive and relay candidates.
    All,
    /// Relay (TURN) candidates only.
    Relay,
}

/// RTCP multiplexing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RtcpMuxPolicy {
    /// RTCP must be multiplexed on the RTP port.
    Require,
    /// RTCP multiplexing is offered but not required (legacy peers).
    Negotiate,
}

/// When candidate gathering stops waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct IceGathering {
    /// The timeout in milliseconds; `None` waits until gathering completes.
    pub timeout_ms: Option<u32>,
    /// How the timeout is measured.
    pub timeout_kind: GatheringTimeoutKind,
}

/// How an ICE gathering timeout is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GatheringTimeoutKind {
    /// Restarted by every new candidate: stop once no candidate came for the timeout (what SIP
    /// Core does with `iceGatheringTimeout`).
    #[default]
    Idle,
    /// A hard deadline counted from the start of gathering.
    Deadline,
}

/// Media choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct MediaConfig {
    /// Whether calls carry video.
    pub video: bool,
    /// Whether our own camera is shown/sent as well.
    pub local_video: bool,
    /// Aspect ratio of the video area, such as `4/3`, when the configuration sets one.
    pub video_aspect_ratio: Option<String>,
}

/// Auto-answer rule: a per-extension choice wins over the global policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct AutoAnswer {
    /// The rule for callers without a per-extension choice.
    pub policy: AutoAnswerPolicy,
    /// Per-extension choices keyed by the caller's user part (`popup_config.extensions`).
    pub per_extension: BTreeMap<String, bool>,
}

impl AutoAnswer {
    /// Whether a call from `user@host` is answered automatically.
    pub fn should_answer(&self, user: &str, host: &str) -> bool {
        if let Some(choice) = self.per_extension.get(user) {
            return *choice;
        }
        match &self.policy {
            AutoAnswerPolicy::Never => false,
            AutoAnswerPolicy::Always => true,
            AutoAnswerPolicy::Callers(callers) => callers.iter().any(|c| match &c.host {
                Some(h) => c.user == user && h.eq_ignore_ascii_case(host),
                None => c.user == user,
            }),
        }
    }
}

/// The global auto-answer policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AutoAnswerPolicy {
    /// Ring and wait for a person.
    #[default]
    Never,
    /// Answer every call.
    Always,
    /// Answer calls from these callers only.
    Callers(Vec<CallerPattern>),
}

/// A caller matched by user part, and by host too when one is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallerPattern {
    /// The caller's user part.
    pub user: String,
    /// The caller's host, compared without case; `None` matches any host.
    pub host: Option<String>,
}

impl CallerPattern {
    /// A pattern from its parts.
    pub fn new(user: impl Into<String>, host: Option<String>) -> Self {
        Self {
            user: user.into(),
            host,
        }
    }
}

/// How DTMF is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DtmfDefaults {
    /// The transport of the digits.
    pub method: DtmfMethod,
    /// Tone length in milliseconds.
    pub duration_ms: u32,
    /// Pause between tones in milliseconds.
    pub inter_tone_gap_ms: u32,
    /// A fixed digit string the UI offers to send during a call (openHAB `dtmfString`).
    pub preset: Option<String>,
}

impl Default for DtmfDefaults {
    fn default() -> Self {
        Self {
            method: DtmfMethod::Info,
            duration_ms: 100,
            inter_tone_gap_ms: 500,
            preset: None,
        }
    }
}

/// How DTMF digits travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DtmfMethod {
    /// SIP INFO with `application/dtmf-relay` (JsSIP's default, used by both upstreams).
    Info,
    /// RFC 4733 telephone-event RTP packets.
    Rfc4733,
}

/// Ringing tones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Tones {
    /// Whether tones are played at all.
    pub enabled: bool,
    /// Sound played while an incoming call rings; `None` uses the built-in tone.
    pub incoming_ringtone: Option<String>,
    /// Sound played while an outgoing call rings; `None` uses the built-in tone.
    pub ringback: Option<String>,
}

impl Default for Tones {
    fn default() -> Self {
        Self {
            enabled: true,
            incoming_ringtone: None,
            ringback: None,
        }
    }
}

/// People and extensions the phone knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Directory {
    /// Dial targets, in configuration order.
    pub phonebook: Vec<PhonebookEntry>,
    /// Our own address, left out of dial menus (openHAB `ownSipAddress`).
    pub own_address: Option<String>,
    /// Extensions with names and cameras (SIP Core `popup_config.extensions`).
    pub extensions: Vec<ExtensionEntry>,
}

/// One dial target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PhonebookEntry {
    /// Number or SIP address to dial.
    pub number: String,
    /// Name shown instead of the number.
    pub name: Option<String>,
}

impl PhonebookEntry {
    /// An entry from its parts.
    pub fn new(number: impl Into<String>, name: Option<String>) -> Self {
        Self {
            number: number.into(),
            name,
        }
    }
}

/// A known extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExtensionEntry {
    /// The extension number (user part).
    pub number: String,
    /// Its display name.
    pub name: Option<String>,
    /// Home Assistant camera shown while it calls (a doorbell).
    pub camera_entity: Option<String>,
    /// Per-extension auto-answer choice, overriding the global rule.
    pub auto_answer: Option<bool>,
}

/// The call popup's configuration. The extensions it shows (names, cameras) live in
/// [`Directory::extensions`]; look one up with [`PhoneConfig::extension`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PopupConfig {
    /// Whether the popup opens by itself on calls.
    pub auto_open: bool,
    /// Whether it is shown large (full screen).
    pub large: bool,
    /// Whether the header button that opens it is hidden.
    pub hide_header_button: bool,
    /// Action buttons shown during a call.
    pub buttons: Vec<PopupButton>,
    /// A custom popup component replacing the built-in one.
    pub override_component: Option<String>,
    /// Keys the built-in popup does not use, kept for custom popups.
    pub custom: BTreeMap<String, Value>,
}

impl Default for PopupConfig {
    fn default() -> Self {
        Self {
            auto_open: true,
            large: false,
            hide_header_button: false,
            buttons: Vec::new(),
            override_component: None,
            custom: BTreeMap::new(),
        }
    }
}

/// A button in the call popup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PopupButton {
    /// Its label.
    pub label: String,
    /// Its icon, such as `mdi:door-open`.
    pub icon: Option<String>,
    /// What pressing it does.
    pub action: ButtonAction,
}

/// What a popup button does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ButtonAction {
    /// Send DTMF digits in the current call.
    Dtmf {
        /// Digits from `0-9A-D#*` and `,` (a pause).
        digits: String,
    },
    /// Call a Home Assistant service.
    ServiceCall {
        /// Service domain, such as `light`.
        domain: String,
        /// Service name, such as `toggle`.
        service: String,
        /// Remaining service data, such as `entity_id`.
        data: BTreeMap<String, Value>,
    },
}

/// openHAB widget presentation options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct UiOptions {
    /// Whether the caller's identity is hidden on incoming calls.
    pub hide_caller_id: bool,
    /// Icon size in pixels, if set.
    pub icon_size: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_extension_auto_answer_overrides_the_global_rule() {
        let mut rule = AutoAnswer {
            policy: AutoAnswerPolicy::Always,
            ..Default::default()
        };
        rule.per_extension.insert("008".into(), false);
        assert!(!rule.should_answer("008", "pbx"));
        assert!(rule.should_answer("009", "pbx"));
        rule.policy = AutoAnswerPolicy::Callers(vec![
            CallerPattern::new("door", None),
            CallerPattern::new("gate", Some("pbx.lan".into())),
        ]);
        assert!(rule.should_answer("door", "anywhere"));
        assert!(rule.should_answer("gate", "PBX.lan"));
        assert!(!rule.should_answer("gate", "other"));
    }

    #[test]
    fn redacted_hides_every_secret() {
        let mut c = PhoneConfig::new(
            Account::new("sip:100@pbx", "100", Secret::new("pw")),
            TransportConfig::new("wss://pbx/ws"),
        );
        c.ice.servers.push(IceServer {
            credential: Some(Secret::new("turnpw")),
            ..IceServer::new(vec!["turn:t".into()])
        });
        let json = serde_json::to_string(&c.redacted()).unwrap();
        assert!(
            !json.contains("\"pw\"") && !json.contains("turnpw"),
            "{json}"
        );
    }
}
