//! Reading Home Assistant SIP Core's `sip_config` into a [`PhoneConfig`].

mod model;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

pub use model::{
    BackupUser, ButtonType, OneOrMany, RtcIceServer, SipCoreButton, SipCoreConfig,
    SipCoreExtension, SipCoreIce, SipCorePopup, SipCoreUser,
};

use crate::checks;
use crate::document::{decode, deep_merge, pruned, schema_of, shape, without_shadowed};
use crate::issue::{Issue, JsonPath};
use crate::phone::{
    Account, AutoAnswer, AutoAnswerPolicy, ButtonAction, DtmfDefaults, ExtensionEntry,
    GatheringTimeoutKind, IceConfig, IceGathering, IceServer, IceTransportPolicy, PhoneConfig,
    PopupButton, PopupConfig, Tones, TransportConfig,
};
use crate::shape::Findings;
use crate::{LoadOptions, Secret};

/// SIP Core's ICE gathering timeout when `iceGatheringTimeout` is not set (milliseconds).
pub const DEFAULT_ICE_GATHERING_TIMEOUT_MS: u32 = 5000;
/// SIP Core's WebSocket keep-alive interval when `heartbeatIntervalMs` is not set.
pub const DEFAULT_HEARTBEAT_INTERVAL_MS: u32 = 30_000;

const OWNER: &str = "SIP Core";

/// Keys of `ice_config` that Sipline reads itself.
const ICE_KEYS: [&str; 5] = [
    "iceGatheringTimeout",
    "iceServers",
    "iceTransportPolicy",
    "iceCandidatePoolSize",
    "rtcpMuxPolicy",
];
/// Other WebRTC `RTCConfiguration` members (W3C webrtc-pc), passed on unchanged.
const RTC_CONFIGURATION_KEYS: [&str; 4] = [
    "bundlePolicy",
    "certificates",
    "peerIdentity",
    "sdpSemantics",
];
/// Keys of the built-in popup.
const POPUP_KEYS: [&str; 5] = [
    "auto_open",
    "large",
    "hide_header_button",
    "buttons",
    "extensions",
];

/// The JSON Schema of SIP Core's `sip_config`.
pub(crate) fn schema() -> &'static Value {
    static CELL: OnceLock<Value> = OnceLock::new();
    schema_of::<SipCoreConfig>(&CELL)
}

/// Which account was chosen, and where it sits in the document.
struct Selected {
    user: SipCoreUser,
    /// Index into `users`; `None` for `backup_user`.
    index: Option<usize>,
}

/// Reads, checks and resolves a SIP Core document; issues go to `issues`.
pub(crate) fn resolve(
    doc: &Value,
    opts: &LoadOptions,
    issues: &mut Vec<Issue>,
) -> Option<PhoneConfig> {
    let root = JsonPath::root();
    let mut findings = Findings::default();
    shape(doc, schema(), OWNER, &root, &mut findings);
    let mut override_docs = BTreeMap::new();
    if let Some(Value::Array(users)) = doc.get("users") {
        for (i, user) in users.iter().enumerate() {
            if let Some(over) = user.get("overrides").filter(|o| o.is_object()) {
                let at = root.key("users").index(i).key("overrides");
                shape(over, schema(), OWNER, &at, &mut findings);
                for key in ["users", "backup_user"] {
                    if over.get(key).is_some() {
                        findings.issues.push(Issue::warning(
                            &at.key(key),
                            format!("`{key}` inside overrides"),
                            "settings of this user only (it is ignored)",
                        ));
                    }
                }
                override_docs.insert(i, (at, over.clone()));
            }
        }
    }
    let clean = pruned(doc, &root, &findings);
    issues.append(&mut findings.issues.clone());
    let base: SipCoreConfig = decode(clean.clone(), &root, issues)?;

    let mut semantic = check(&base, opts);
    let selected = select_user(&base, opts, &mut semantic);

    // Deep-merge the chosen user's overrides, then check the merged result again: problems that
    // come from the overrides are reported at their place inside `users[i].overrides`.
    let mut effective = base;
    if let Some(sel) = &selected {
        if let Some((i, at)) = sel
            .index
            .and_then(|i| override_docs.get(&i).map(|(at, _)| (i, at)))
        {
            let mut over = clean
                .pointer(&format!("/users/{i}/overrides"))
                .cloned()
                .unwrap_or_default();
            if let Value::Object(o) = &mut over {
                o.remove("users");
                o.remove("backup_user");
            }
            let mut merged = clean.clone();
            deep_merge(&mut merged, &over);
            if let Some(m) = decode::<SipCoreConfig>(merged, &root, issues) {
                let before: Vec<Issue> = semantic.clone();
                for mut issue in check(&m, opts) {
                    if issue.path.touches(&over) {
                        issue.path = at.join(&issue.path);
                    } else if before.contains(&issue) {
                        continue;
                    } else {
                        issue.found = format!("{} (after merging {at})", issue.found);
                    }
                    semantic.push(issue);
                }
                effective = m;
            }
        }
    }
    issues.extend(without_shadowed(semantic, &findings));
    if issues.iter().any(Issue::is_error) {
        return None;
    }
    build(&effective, &selected?.user, opts)
}

/// The WebSocket URL: `custom_wss_url`, or Home Assistant ingress on the page origin.
fn ws_url(cfg: &SipCoreConfig, opts: &LoadOptions, out: &mut Vec<Issue>) -> Option<String> {
    let path = JsonPath::root().key("custom_wss_url");
    if let Some(raw) = &cfg.custom_wss_url {
        return checks::transport_url(raw, &path, out);
    }
    match (&opts.origin, &opts.ingress_entry) {
        (Some(origin), Some(entry)) => {
            let url = url::Url::parse(origin).ok()?;
            let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
            let host = url.host_str()?;
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            let entry = entry.trim_end_matches('/');
            Some(format!("{scheme}://{host}{port}{entry}/ws"))
        }
        _ => {
            out.push(Issue::error(
                &path,
                "nothing",
                "a ws:// or wss:// URL (Home Assistant ingress is only known inside Home Assistant; \
                 otherwise pass the page origin and the add-on's ingress entry)",
            ));
            None
        }
    }
}

/// Semantic checks of one (possibly merged) SIP Core configuration.
fn check(cfg: &SipCoreConfig, opts: &LoadOptions) -> Vec<Issue> {
    let root = JsonPath::root();
    let mut out = Vec::new();
    let url = ws_url(cfg, opts, &mut out);
    if cfg.pbx_server.is_none()
        && url
            .as_deref()
            .is_some_and(|u| checks::url_host(u).is_none())
    {
        out.push(Issue::error(
            &root.key("pbx_server"),
            "nothing, and the server URL has no host to use instead",
            "the SIP domain",
        ));
    }
    if cfg
        .pbx_server
        .as_deref()
        .is_some_and(|s| s.trim().is_empty())
    {
        out.push(Issue::error(
            &root.key("pbx_server"),
            "an empty string",
            "the PBX host name, or no key to use the WebSocket host",
        ));
    }

    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, user) in cfg.users.iter().enumerate() {
        let at = root.key("users").index(i);
        check_user(user, &at, &mut out);
        if let Some(name) = user.ha_username.as_deref().filter(|n| !n.is_empty()) {
            if let Some(first) = seen.insert(name, i) {
                out.push(Issue::error(
                    &at.key("ha_username"),
                    format!("{name:?}, already used by users[{first}]"),
                    "each Home Assistant user once",
                ));
            }
        }
    }
    match &cfg.backup_user {
        Some(BackupUser::One(b)) => check_user(b, &root.key("backup_user"), &mut out),
        Some(BackupUser::List(list)) => {
            if list.is_empty() {
                out.push(Issue::error(
                    &root.key("backup_user"),
                    "an empty list",
                    "one account (or a list starting with one)",
                ));
            }
            for (i, b) in list.iter().enumerate() {
                check_user(b, &root.key("backup_user").index(i), &mut out);
            }
        }
        None => {}
    }

    if let Some(ice) = &cfg.ice_config {
        let at = root.key("ice_config");
        let servers = ice.ice_servers.as_deref().unwrap_or_default();
        for (i, s) in servers.iter().enumerate() {
            let sp = at.key("iceServers").index(i);
            match &s.urls {
                Some(urls) => checks::ice_server(&ice_server(s, urls), &sp, &mut out),
                None => out.push(Issue::error(
                    &sp.key("urls"),
                    "nothing",
                    "a stun:/turn: URL or a list of them",
                )),
            }
        }
        if ice.ice_transport_policy == Some(IceTransportPolicy::Relay)
            && !servers
                .iter()
                .any(|s| s.urls.as_ref().is_some_and(|u| ice_server(s, u).is_turn()))
        {
            out.push(Issue::error(
                &at.key("iceTransportPolicy"),
                "`relay` without any TURN server",
                "a turn: or turns: server in iceServers, or `all`",
            ));
        }
        for key in ice.other.keys() {
            // Near misses of our keys were already reported by the shape check.
            let near_miss = crate::issue::did_you_mean(key, ICE_KEYS).is_some();
            if !RTC_CONFIGURATION_KEYS.contains(&key.as_str()) && !near_miss {
                out.push(Issue::warning(
                    &at.key(key),
                    format!("the key `{key}`, which is not an RTCConfiguration key"),
                    "an RTCConfiguration key (it is kept and passed on)",
                ));
            }
        }
    }

    if let Some(Some(popup)) = &cfg.popup_config {
        let at = root.key("popup_config");
        if cfg.popup_override_component.is_none() {
            for key in popup.custom.keys() {
                if crate::issue::did_you_mean(key, POPUP_KEYS).is_none() {
                    out.push(Issue::warning(
                        &at.key(key),
                        format!("the custom key `{key}` but no popup_override_component"),
                        "a key the built-in popup knows (custom keys only serve custom popups; it is kept)",
                    ));
                }
            }
        }
        for (i, b) in popup.buttons.iter().flatten().enumerate() {
            check_button(b, &at.key("buttons").index(i), &mut out);
        }
        for (key, ext) in popup.extensions.iter().flatten() {
            let ep = at.key("extensions").key(key);
            if key.trim().is_empty() {
                out.push(Issue::error(
                    &ep,
                    "an empty extension number",
                    "the extension number as the key",
                ));
            }
            if let Some(e) = ext.extension.as_deref().filter(|e| e != key) {
                out.push(Issue::warning(
                    &ep.key("extension"),
                    format!("{e:?}"),
                    format!("{key:?}, the key it is listed under (the key is used)"),
                ));
            }
        }
    }
    out
}

fn check_user(user: &SipCoreUser, at: &JsonPath, out: &mut Vec<Issue>) {
    match user.ha_username.as_deref() {
        None => out.push(Issue::error(
            &at.key("ha_username"),
            "nothing",
            "the Home Assistant user name",
        )),
        Some(n) if n.trim().is_empty() => out.push(Issue::error(
            &at.key("ha_username"),
            "an empty string",
            "the Home Assistant user name",
        )),
        Some(_) => {}
    }
    if user
        .extension
        .as_deref()
        .is_some_and(|e| e.trim().is_empty())
    {
        out.push(Issue::error(
            &at.key("extension"),
            "an empty string",
            "the SIP extension, or no key to use ha_username",
        ));
    }
    // SIP Core always registers, so an account without a password cannot work.
    if user.password.as_ref().is_none_or(Secret::is_empty) {
        let found = if user.password.is_some() {
            "an empty password"
        } else {
            "nothing"
        };
        out.push(Issue::error(
            &at.key("password"),
            found,
            "the SIP password (SIP Core always registers)",
        ));
    }
}

fn check_button(b: &SipCoreButton, at: &JsonPath, out: &mut Vec<Issue>) {
    if b.label.as_deref().is_none_or(|l| l.trim().is_empty()) {
        out.push(Issue::error(
            &at.key("label"),
            "nothing",
            "the button's label",
        ));
    }
    let dp = at.key("data");
    match (b.kind, &b.data) {
        (None, _) => out.push(Issue::error(
            &at.key("type"),
            "nothing",
            "`service_call` or `dtmf`",
        )),
        (Some(_), None) => out.push(Issue::error(&dp, "nothing", "the button's data")),
        (Some(ButtonType::Dtmf), Some(Value::String(digits))) => {
            checks::dtmf_digits(digits, &dp, out);
        }
        (Some(ButtonType::Dtmf), Some(other)) => {
            let hint = other.is_number().then(|| format!("\"{other}\""));
            out.push(
                Issue::error(
                    &dp,
                    crate::shape::describe(other, false),
                    "a string of DTMF digits",
                )
                .suggest(hint),
            );
        }
        (Some(ButtonType::ServiceCall), Some(Value::Object(map))) => {
            for key in ["domain", "service"] {
                match map.get(key) {
                    Some(Value::String(s)) if !s.trim().is_empty() => {}
                    Some(other) => out.push(Issue::error(&dp.key(key), crate::shape::describe(other, false), format!("the service {key} as a string"))),
                    None => out.push(Issue::error(&dp, format!("a service call without `{key}`"), "an object with `domain` and `service`, such as {\"domain\": \"light\", \"service\": \"toggle\"}")),
                }
            }
        }
        (Some(ButtonType::ServiceCall), Some(other)) => out.push(Issue::error(
            &dp,
            crate::shape::describe(other, false),
            "an object with `domain` and `service`",
        )),
    }
}

fn ice_server(s: &RtcIceServer, urls: &OneOrMany) -> IceServer {
    IceServer {
        urls: urls.to_vec(),
        username: s.username.clone(),
        credential: s.credential.clone(),
    }
}

/// Chooses the account: `users[]` by Home Assistant user id, then by user name, then
/// `backup_user`.
fn select_user(cfg: &SipCoreConfig, opts: &LoadOptions, out: &mut Vec<Issue>) -> Option<Selected> {
    let root = JsonPath::root();
    let ha = opts.ha_user.as_ref();
    let wanted = [
        ha.and_then(|h| h.id.as_deref()),
        ha.and_then(|h| h.name.as_deref()),
    ];
    for key in wanted.into_iter().flatten() {
        if let Some(i) = cfg
            .users
            .iter()
            .position(|u| u.ha_username.as_deref() == Some(key))
        {
            return Some(Selected {
                user: cfg.users[i].clone(),
                index: Some(i),
            });
        }
    }
    if let Some((b, _)) = cfg.backup_user.as_ref().and_then(BackupUser::first) {
        return Some(Selected {
            user: b.clone(),
            index: None,
        });
    }
    let who = match ha {
        Some(h) => format!(
            "no entry for the Home Assistant user {:?}",
            h.name.as_deref().or(h.id.as_deref()).unwrap_or_default()
        ),
        None => "no Home Assistant user given".to_owned(),
    };
    let known: Vec<&str> = cfg
        .users
        .iter()
        .filter_map(|u| u.ha_username.as_deref())
        .collect();
    let suggestion = ha
        .and_then(|h| h.name.as_deref())
        .and_then(|n| crate::issue::did_you_mean(n, known.iter().copied()));
    out.push(
        Issue::error(
            &root.key("users"),
            format!("{who} and no backup_user"),
            "a users[] entry whose ha_username matches the user, or a backup_user",
        )
        .suggest(suggestion),
    );
    None
}

/// Builds the [`PhoneConfig`] of an already checked configuration.
fn build(cfg: &SipCoreConfig, user: &SipCoreUser, opts: &LoadOptions) -> Option<PhoneConfig> {
    let mut scratch = Vec::new();
    let url = ws_url(cfg, opts, &mut scratch)?;
    let ha_username = user.ha_username.clone()?;
    // Documented upstream but never implemented there (it registers `undefined@host`).
    let extension = user
        .extension
        .clone()
        .unwrap_or_else(|| ha_username.clone());
    // Upstream falls back to the page's host *with* its port; a SIP domain has no port.
    let domain = cfg.pbx_server.clone().or_else(|| checks::url_host(&url))?;
    let mut account = Account::new(
        format!("sip:{extension}@{domain}"),
        extension.clone(),
        user.password.clone().unwrap_or_default(),
    );
    account.display_name = Some(user.display_name.clone().unwrap_or(ha_username));

    let mut transport = TransportConfig::new(url);
    transport.keepalive_interval_ms = Some(
        cfg.heartbeat_interval_ms
            .unwrap_or(DEFAULT_HEARTBEAT_INTERVAL_MS),
    );

    let mut config = PhoneConfig::new(account, transport);
    config.ice = ice(cfg.ice_config.as_ref());
    config.media.video = cfg.sip_video.unwrap_or(false);
    config.media.local_video = config.media.video;
    config.dtmf = DtmfDefaults::default();
    config.tones = Tones {
        enabled: true,
        incoming_ringtone: cfg.incoming_ringtone_url.clone(),
        ringback: cfg.outgoing_ringtone_url.clone(),
    };
    config.directory.own_address = Some(extension);

    let mut auto_answer = AutoAnswer {
        policy: if cfg.auto_answer == Some(true) {
            AutoAnswerPolicy::Always
        } else {
            AutoAnswerPolicy::Never
        },
        per_extension: BTreeMap::new(),
    };
    let popup = cfg
        .popup_config
        .clone()
        .unwrap_or(Some(SipCorePopup::default()));
    if let Some(p) = &popup {
        for (number, ext) in p.extensions.iter().flatten() {
            if let Some(choice) = ext.auto_answer {
                auto_answer.per_extension.insert(number.clone(), choice);
            }
            config.directory.extensions.push(ExtensionEntry {
                number: number.clone(),
                name: ext.name.clone(),
                camera_entity: ext.camera_entity.clone(),
                auto_answer: ext.auto_answer,
            });
        }
    }
    config.auto_answer = auto_answer;
    config.popup = popup.map(|p| PopupConfig {
        auto_open: p.auto_open.unwrap_or(true),
        large: p.large.unwrap_or(false),
        hide_header_button: p.hide_header_button.unwrap_or(false),
        buttons: p.buttons.iter().flatten().filter_map(button).collect(),
        override_component: cfg.popup_override_component.clone(),
        custom: p.custom.clone(),
    });
    Some(config)
}

fn button(b: &SipCoreButton) -> Option<PopupButton> {
    let action = match (b.kind?, b.data.as_ref()?) {
        (ButtonType::Dtmf, Value::String(d)) => ButtonAction::Dtmf { digits: d.clone() },
        (ButtonType::ServiceCall, Value::Object(m)) => {
            let mut data: BTreeMap<String, Value> = m.clone().into_iter().collect();
            let domain = data.remove("domain")?.as_str()?.to_owned();
            let service = data.remove("service")?.as_str()?.to_owned();
            ButtonAction::ServiceCall {
                domain,
                service,
                data,
            }
        }
        _ => return None,
    };
    Some(PopupButton {
        label: b.label.clone()?,
        icon: b.icon.clone(),
        action,
    })
}

fn ice(ice: Option<&SipCoreIce>) -> IceConfig {
    let mut out = IceConfig {
        gathering: IceGathering {
            timeout_ms: Some(DEFAULT_ICE_GATHERING_TIMEOUT_MS),
            timeout_kind: GatheringTimeoutKind::Idle,
        },
        ..IceConfig::default()
    };
    let Some(ice) = ice else { return out };
    out.servers = ice
        .ice_servers
        .iter()
        .flatten()
        .filter_map(|s| s.urls.as_ref().map(|u| ice_server(s, u)))
        .collect();
    if let Some(p) = ice.ice_transport_policy {
        out.transport_policy = p;
    }
    if let Some(n) = ice.ice_candidate_pool_size {
        out.candidate_pool_size = n;
    }
    if let Some(m) = ice.rtcp_mux_policy {
        out.rtcp_mux = m;
    }
    if let Some(t) = ice.ice_gathering_timeout {
        out.gathering.timeout_ms = Some(t);
    }
    out.extra = ice.other.clone();
    out
}
