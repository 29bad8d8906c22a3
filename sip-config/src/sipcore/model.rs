//! The SIP Core `sip_config` document as users write it (source of its JSON Schema).

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::Secret;
use crate::phone::{IceTransportPolicy, RtcpMuxPolicy};

/// Home Assistant SIP Core's `sip_config` (the JSON object in SIP Core's settings, formerly the
/// file `sip-config.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "SIP Core sip_config")]
#[non_exhaustive]
pub struct SipCoreConfig {
    /// WebSocket URL of the PBX, used when Home Assistant ingress is not set up
    /// (`wss://sip.example.com/ws`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_wss_url: Option<String>,
    /// SIP domain (the PBX address); defaults to the WebSocket URL's host without its port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pbx_server: Option<String>,
    /// SIP accounts, chosen by Home Assistant user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<SipCoreUser>,
    /// The account used when no entry of `users` matches the Home Assistant user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_user: Option<BackupUser>,
    /// Whether incoming calls are answered automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_answer: Option<bool>,
    /// Whether calls use video (experimental upstream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sip_video: Option<bool>,
    /// WebRTC `RTCConfiguration` plus `iceGatheringTimeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ice_config: Option<SipCoreIce>,
    /// Ringtone played on incoming calls.
    #[serde(
        rename = "incomingRingtoneUrl",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub incoming_ringtone_url: Option<String>,
    /// Ringback tone played on outgoing calls.
    #[serde(
        rename = "outgoingRingtoneUrl",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub outgoing_ringtone_url: Option<String>,
    /// Popup settings; `null` turns the popup off, a missing key keeps the default popup.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<SipCorePopup>")]
    pub popup_config: Option<Option<SipCorePopup>>,
    /// Custom element that replaces the built-in popup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub popup_override_component: Option<String>,
    /// Interval of the WebSocket keep-alive in milliseconds (default 30000).
    #[serde(
        rename = "heartbeatIntervalMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub heartbeat_interval_ms: Option<u32>,
}

/// Keeps "present but null" apart from "missing" (`Some(None)` versus `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// One SIP account of SIP Core.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct SipCoreUser {
    /// The Home Assistant user this account belongs to (matched by user id, then user name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha_username: Option<String>,
    /// SIP extension (user part and auth user); defaults to `ha_username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// SIP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Display name; defaults to `ha_username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Settings deep-merged over the whole configuration for this user (same keys as the top
    /// level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<Map<String, Value>>,
}

/// `backup_user`: one account, or (accepted upstream too) a list whose first entry is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum BackupUser {
    /// One account.
    One(SipCoreUser),
    /// A list of accounts; the first is used.
    List(Vec<SipCoreUser>),
}

impl BackupUser {
    /// The account used, with its path suffix (`[0]` for the list form).
    pub fn first(&self) -> Option<(&SipCoreUser, Option<usize>)> {
        match self {
            Self::One(u) => Some((u, None)),
            Self::List(list) => list.first().map(|u| (u, Some(0))),
        }
    }
}

/// SIP Core's ICE settings: a WebRTC `RTCConfiguration` plus `iceGatheringTimeout`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct SipCoreIce {
    /// Milliseconds without a new candidate after which gathering stops (default 5000).
    #[serde(
        rename = "iceGatheringTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ice_gathering_timeout: Option<u32>,
    /// STUN and TURN servers.
    #[serde(
        rename = "iceServers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ice_servers: Option<Vec<RtcIceServer>>,
    /// `all` or `relay` (TURN only).
    #[serde(
        rename = "iceTransportPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ice_transport_policy: Option<IceTransportPolicy>,
    /// Candidates gathered before an offer is made.
    #[serde(
        rename = "iceCandidatePoolSize",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ice_candidate_pool_size: Option<u8>,
    /// `require` (recommended) or `negotiate`.
    #[serde(
        rename = "rtcpMuxPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub rtcp_mux_policy: Option<RtcpMuxPolicy>,
    /// Other `RTCConfiguration` keys (`bundlePolicy`, ...), passed on unchanged.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// A WebRTC `RTCIceServer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RtcIceServer {
    /// One URL or a list of URLs (`stun:`, `turn:`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<OneOrMany>,
    /// TURN user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<Secret>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single string.
    One(String),
    /// A list of strings.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

/// SIP Core's built-in popup settings; unknown keys are kept for custom popups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct SipCorePopup {
    /// Open the popup on incoming and outgoing calls (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_open: Option<bool>,
    /// Show the popup large (full screen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large: Option<bool>,
    /// Hide the header button that opens the popup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_header_button: Option<bool>,
    /// Buttons shown during a call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buttons: Option<Vec<SipCoreButton>>,
    /// Known extensions keyed by extension number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<BTreeMap<String, SipCoreExtension>>,
    /// Keys for custom popups, kept unchanged.
    #[serde(flatten)]
    pub custom: BTreeMap<String, Value>,
}

/// A popup button.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct SipCoreButton {
    /// The button's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Material Design icon, such as `mdi:door-open`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// `service_call` or `dtmf`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ButtonType>,
    /// DTMF digits (a string), or the service call (`domain`, `service` and its data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// What a popup button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ButtonType {
    /// Call a Home Assistant service.
    #[serde(rename = "service_call", alias = "SERVICE_CALL")]
    ServiceCall,
    /// Send DTMF digits.
    #[serde(rename = "dtmf", alias = "DTMF")]
    Dtmf,
}

impl JsonSchema for ButtonType {
    fn schema_name() -> Cow<'static, str> {
        "ButtonType".into()
    }

    // Upstream code uses lower case; its documentation shows upper case. Both are accepted.
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "What the button does.",
            "type": "string",
            "enum": ["service_call", "dtmf", "SERVICE_CALL", "DTMF"]
        })
    }
}

/// A known extension in the popup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct SipCoreExtension {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The extension number again (documented upstream; must match the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Camera entity shown while this extension calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_entity: Option<String>,
    /// Answer calls from this extension automatically (overrides the global `auto_answer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_answer: Option<bool>,
}
