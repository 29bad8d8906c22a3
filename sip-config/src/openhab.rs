//! Reading openHAB `oh-sipclient` widget props (plus a device's local account) into a
//! [`PhoneConfig`].

use std::borrow::Cow;
use std::sync::OnceLock;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checks;
use crate::document::{decode, pruned, schema_of, shape, without_shadowed};
use crate::issue::{Issue, JsonPath};
use crate::phone::{
    Account, AutoAnswerPolicy, ButtonAction, DtmfDefaults, DtmfMethod, PhoneConfig, PopupButton,
    PopupConfig, Tones, TransportConfig,
};
use crate::shape::Findings;
use crate::{LoadOptions, Secret};

/// openHAB's `dtmfString` tone length in milliseconds.
pub const OPENHAB_DTMF_DURATION_MS: u32 = 160;
/// openHAB's `dtmfString` gap between tones in milliseconds.
pub const OPENHAB_DTMF_GAP_MS: u32 = 640;

const OWNER: &str = "oh-sipclient";

/// Top-level keys of an openHAB widget definition around the props in `config`.
const WIDGET_KEYS: [&str; 7] = [
    "component",
    "config",
    "slots",
    "uid",
    "tags",
    "props",
    "timestamp",
];

/// The props of openHAB's `oh-sipclient` widget (the widget's `config`).
///
/// The widget has no separate popup: its call UI sits in the page and changes with every call
/// (answer and decline while one rings, hang up while it lasts, a DTMF button once it is up,
/// back to the dial button when it ends). Resolved props therefore always carry a
/// [`PopupConfig`] that behaves the same way:
///
/// | popup | value | why |
/// | --- | --- | --- |
/// | `auto_open` | `true` | the widget shows every incoming and outgoing call, and drops it when the call ends |
/// | `large` | `false` | the widget stays in its card |
/// | `hide_header_button` | `false` | the widget's dial button is always there without a call |
/// | `buttons` | one `Send DTMF` button (icon `f7:number_square`) sending `dtmfString`, when set | the widget's orange DTMF button, shown only while a call is up (DTMF buttons are disabled otherwise) |
///
/// The other props the widget reads act through the rest of the [`PhoneConfig`]: names come
/// from the `phonebook` (a caller not in it shows its user part, where the widget shows
/// nothing), `hideCallerId` hides the caller, DTMF uses SIP INFO with 160 ms tones and 640 ms
/// gaps, and `enableVideo` gives the camera mute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    title = "openHAB oh-sipclient props",
    // The schema keeps the first sentence; the popup mapping below is for Rust readers.
    description = "The props of openHAB's `oh-sipclient` widget (the widget's `config`)."
)]
#[non_exhaustive]
pub struct OpenHabProps {
    /// WebSocket URL: absolute, or relative like `/ws` (resolved against the page origin,
    /// http becoming ws and https wss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket_url: Option<String>,
    /// SIP domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// SIP user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// SIP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Authorization user, when it differs from `username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_user: Option<String>,
    /// Play ringing and ringback tones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_tones: Option<bool>,
    /// One address, or `number=name` pairs separated by commas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phonebook: Option<String>,
    /// DTMF digits the widget offers to send during a call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtmf_string: Option<String>,
    /// Hide the caller's identity on incoming calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_caller_id: Option<bool>,
    /// Enable video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_video: Option<bool>,
    /// Show the local camera as well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_local_video: Option<bool>,
    /// Aspect ratio of the video area, such as `4/3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_video_aspect_ratio: Option<String>,
    /// Do not register (call-only clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_register: Option<bool>,
    /// `*`, or `user` and `user@host` items separated by commas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_answer: Option<AutoAnswerSetting>,
    /// Address called as soon as the client is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_dial: Option<String>,
    /// Item receiving the SIP state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sip_state_item: Option<String>,
    /// Verbose SIP logging.
    #[serde(
        rename = "enableSIPDebug",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_sip_debug: Option<bool>,
    /// Icon size in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_size: Option<IconSize>,
}

/// openHAB `autoAnswer`: a pattern string (upstream), or a boolean (Sipline also accepts it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AutoAnswerSetting {
    /// `*`, or `user` and `user@host` items separated by commas.
    Pattern(String),
    /// `true` answers every call, `false` none.
    Flag(bool),
}

/// Icon size as a number or a numeric string (the widget editor stores text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IconSize {
    /// Pixels.
    Pixels(u32),
    /// Pixels written as text.
    Text(String),
}

impl JsonSchema for IconSize {
    fn schema_name() -> Cow<'static, str> {
        "IconSize".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Icon size in pixels, as a number or as digits in a string.",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": "^[0-9]+$" }
            ]
        })
    }
}

/// The per-device account an openHAB client keeps in its browser (`openhab.ui:sipConfig`),
/// merged over the widget props: how wall tablets get their own accounts and call each other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "openHAB oh-sipclient local account")]
#[non_exhaustive]
pub struct OpenHabLocal {
    /// SIP user name of this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// SIP password of this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// This device's own address, left out of the dial menu.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_sip_address: Option<String>,
    /// Item receiving this device's SIP state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sip_state_item: Option<String>,
}

/// The JSON Schema of the widget props.
pub(crate) fn schema() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    schema_of::<OpenHabProps>(&CELL)
}

/// The JSON Schema of the local account.
pub(crate) fn local_schema() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    schema_of::<OpenHabLocal>(&CELL)
}

/// Where the props are: a widget (`component: oh-sipclient` with `config`) or bare props.
fn locate(doc: &Value, issues: &mut Vec<Issue>) -> (JsonPath, Value) {
    let root = JsonPath::root();
    if let Some(component) = doc.get("component") {
        if component.as_str() != Some("oh-sipclient") {
            issues.push(Issue::error(
                &root.key("component"),
                crate::shape::describe(component, false),
                "`oh-sipclient`",
            ));
        }
        for key in doc.as_object().into_iter().flat_map(|m| m.keys()) {
            if !WIDGET_KEYS.contains(&key.as_str()) {
                let suggestion = crate::issue::did_you_mean(key, WIDGET_KEYS);
                issues.push(
                    Issue::warning(
                        &root.key(key),
                        format!("the unknown key `{key}`"),
                        "a key of an openHAB widget (it is ignored)",
                    )
                    .suggest(suggestion),
                );
            }
        }
        return (
            root.key("config"),
            doc.get("config")
                .cloned()
                .unwrap_or(Value::Object(Default::default())),
        );
    }
    (root, doc.clone())
}

/// Reads, checks and resolves openHAB props (and the local account, if given).
pub(crate) fn resolve(
    doc: &Value,
    local: Option<&Value>,
    opts: &LoadOptions,
    issues: &mut Vec<Issue>,
) -> Option<PhoneConfig> {
    let (at, props_doc) = locate(doc, issues);
    let mut findings = Findings::default();
    shape(&props_doc, schema(), OWNER, &at, &mut findings);
    let local_at = JsonPath::root().key("local");
    if let Some(l) = local {
        shape(
            l,
            local_schema(),
            "the local account",
            &local_at,
            &mut findings,
        );
    }
    issues.extend(findings.issues.iter().cloned());
    let props: OpenHabProps = decode(pruned(&props_doc, &at, &findings), &at, issues)?;
    let local: OpenHabLocal = match local {
        Some(l) => decode(pruned(l, &local_at, &findings), &local_at, issues)?,
        None => OpenHabLocal::default(),
    };
    let mut semantic = Vec::new();
    let config = build(&props, &local, &at, &local_at, opts, &mut semantic);
    issues.extend(without_shadowed(semantic, &findings));
    if issues.iter().any(Issue::is_error) {
        None
    } else {
        config
    }
}

/// Label of the button that sends `dtmfString` (the widget's DTMF button has only an icon).
const DTMF_BUTTON_LABEL: &str = "Send DTMF";

/// The popup that behaves like the widget (see [`OpenHabProps`]).
fn widget_popup(dtmf: Option<&str>) -> PopupConfig {
    PopupConfig {
        auto_open: true,
        large: false,
        hide_header_button: false,
        buttons: dtmf
            .map(|digits| PopupButton {
                label: DTMF_BUTTON_LABEL.to_owned(),
                icon: Some("f7:number_square".to_owned()),
                action: ButtonAction::Dtmf {
                    digits: digits.to_owned(),
                },
            })
            .into_iter()
            .collect(),
        override_component: None,
        custom: Default::default(),
    }
}

/// Resolves `websocketUrl` against the page origin; http(s) becomes ws(s).
fn websocket_url(
    raw: &str,
    path: &JsonPath,
    opts: &LoadOptions,
    out: &mut Vec<Issue>,
) -> Option<String> {
    let absolute = match url::Url::parse(raw) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            let Some(origin) = &opts.origin else {
                out.push(Issue::error(path, format!("the relative URL {raw:?}"), "an absolute ws:// or wss:// URL, or a page origin to resolve it against (--origin)"));
                return None;
            };
            match url::Url::parse(origin).and_then(|o| o.join(raw)) {
                Ok(u) => u,
                Err(e) => {
                    out.push(Issue::error(
                        path,
                        format!("{raw:?} against the origin {origin:?} ({e})"),
                        "a URL that resolves against the page origin",
                    ));
                    return None;
                }
            }
        }
        Err(e) => {
            out.push(Issue::error(
                path,
                format!("{raw:?}, which is not a URL ({e})"),
                "a ws:// or wss:// URL, or a path like /ws",
            ));
            return None;
        }
    };
    // Upstream does the same: the widget's URL may be written as http(s).
    let text = absolute.to_string();
    let text = match absolute.scheme() {
        "http" | "https" => text.replacen("http", "ws", 1),
        _ => text,
    };
    checks::transport_url(&text, path, out)
}

fn build(
    p: &OpenHabProps,
    local: &OpenHabLocal,
    at: &JsonPath,
    local_at: &JsonPath,
    opts: &LoadOptions,
    out: &mut Vec<Issue>,
) -> Option<PhoneConfig> {
    // The device's local account wins over the widget's, key by key (upstream `{...config, ...local}`).
    let (username, user_path) = match &local.username {
        Some(u) => (Some(u.clone()), local_at.key("username")),
        None => (p.username.clone(), at.key("username")),
    };
    let (password, pw_path) = match &local.password {
        Some(pw) => (Some(pw.clone()), local_at.key("password")),
        None => (p.password.clone(), at.key("password")),
    };
    let register = p.disable_register != Some(true);

    let url = match &p.websocket_url {
        Some(raw) => websocket_url(raw, &at.key("websocketUrl"), opts, out),
        None => {
            out.push(Issue::error(
                &at.key("websocketUrl"),
                "nothing",
                "the WebSocket URL of the SIP server",
            ));
            None
        }
    };
    let username = match username.filter(|u| !u.trim().is_empty()) {
        Some(u) => Some(u),
        None => {
            out.push(Issue::error(&user_path, "nothing", "the SIP user name"));
            None
        }
    };
    if register && password.as_ref().is_none_or(Secret::is_empty) {
        let found = if password.is_some() {
            "an empty password"
        } else {
            "nothing"
        };
        out.push(Issue::error(
            &pw_path,
            found,
            "the SIP password (registration is on; set disableRegister to call without one)",
        ));
    }
    let domain = match p.domain.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(d.to_owned()),
        None => {
            // Upstream builds `sip:user@undefined`; Sipline falls back to the WebSocket host.
            let host = url.as_deref().and_then(checks::url_host);
            if let Some(h) = &host {
                out.push(Issue::warning(
                    &at.key("domain"),
                    "nothing",
                    format!("the SIP domain (using the WebSocket host `{h}`)"),
                ));
            } else if url.is_some() {
                out.push(Issue::error(&at.key("domain"), "nothing", "the SIP domain"));
            }
            host
        }
    };
    let dtmf_preset = p.dtmf_string.as_deref().filter(|d| !d.is_empty());
    if let Some(d) = dtmf_preset {
        checks::dtmf_digits(d, &at.key("dtmfString"), out);
    }
    let phonebook = p
        .phonebook
        .as_deref()
        .map(|b| checks::phonebook(b, &at.key("phonebook"), out))
        .unwrap_or_default();
    let policy = match &p.auto_answer {
        None | Some(AutoAnswerSetting::Flag(false)) => AutoAnswerPolicy::Never,
        Some(AutoAnswerSetting::Flag(true)) => AutoAnswerPolicy::Always,
        Some(AutoAnswerSetting::Pattern(s)) if s.trim() == "*" => AutoAnswerPolicy::Always,
        Some(AutoAnswerSetting::Pattern(s)) if s.trim().is_empty() => AutoAnswerPolicy::Never,
        Some(AutoAnswerSetting::Pattern(s)) => {
            AutoAnswerPolicy::Callers(checks::callers(s, &at.key("autoAnswer"), out))
        }
    };
    let icon_size = match &p.icon_size {
        None => None,
        Some(IconSize::Pixels(n)) => Some(*n),
        Some(IconSize::Text(t)) => match t.trim().parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                out.push(Issue::error(
                    &at.key("iconSize"),
                    format!("{t:?}"),
                    "a size in pixels, such as 40",
                ));
                None
            }
        },
    };

    let (url, username, domain) = (url?, username?, domain?);
    let auth_user = p
        .authorization_user
        .clone()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| username.clone());
    let account = Account::new(
        format!("sip:{username}@{domain}"),
        auth_user,
        password.unwrap_or_default(),
    );
    let mut config = PhoneConfig::new(account, TransportConfig::new(url));
    config.registration.enabled = register;
    config.media.video = p.enable_video.unwrap_or(false);
    config.media.local_video = config.media.video && p.enable_local_video.unwrap_or(false);
    config.media.video_aspect_ratio = p.default_video_aspect_ratio.clone();
    config.auto_answer.policy = policy;
    config.auto_dial = p
        .auto_dial
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    config.dtmf = DtmfDefaults {
        method: DtmfMethod::Info,
        duration_ms: OPENHAB_DTMF_DURATION_MS,
        inter_tone_gap_ms: OPENHAB_DTMF_GAP_MS,
        preset: dtmf_preset.map(str::to_owned),
    };
    config.tones = Tones {
        enabled: p.enable_tones.unwrap_or(false),
        incoming_ringtone: None,
        ringback: None,
    };
    config.directory.phonebook = phonebook;
    config.popup = Some(widget_popup(dtmf_preset));
    config.directory.own_address = local.own_sip_address.clone();
    config.ui.hide_caller_id = p.hide_caller_id.unwrap_or(false);
    config.ui.icon_size = icon_size;
    config.state_item = local
        .sip_state_item
        .clone()
        .or_else(|| p.sip_state_item.clone());
    config.debug = p.enable_sip_debug.unwrap_or(false);
    Some(config)
}
