//! # sip-config
//!
//! Reads the configurations users already have — Home Assistant **SIP Core**'s `sip_config` and
//! openHAB's **`oh-sipclient`** widget props (JSON or YAML) — checks them with precise messages
//! and resolves them into one [`PhoneConfig`] that the rest of Sipline takes.
//!
//! ```
//! use sip_config::{load_str, Format, LoadOptions, HaUser};
//!
//! let text = r#"{
//!     "custom_wss_url": "wss://pbx.example.com:8089/ws",
//!     "users": [{ "ha_username": "jordy", "password": "1234" }],
//!     "auto_anwser": true
//! }"#;
//! let opts = LoadOptions::new().format(Format::SipCore).ha_user(HaUser::named("jordy"));
//! let loaded = load_str(text, "<doc>", &opts).unwrap();
//! // The extension defaults to the HA user name, the domain to the URL host without its port.
//! assert_eq!(loaded.config.account.aor, "sip:jordy@pbx.example.com");
//! // Unknown keys are warnings, with a suggestion.
//! assert_eq!(loaded.warnings[0].to_string(),
//!     "warning at auto_anwser: found the unknown key `auto_anwser`, expected a key SIP Core knows (it is ignored) (did you mean `auto_answer`?)");
//! ```
//!
//! ## Checking
//! Every problem is found in one pass ([`Report`]): each [`Issue`] has its path
//! (`popup_config.buttons[1].data`), what was found, what was expected and, for misspelt keys or
//! values, a suggestion. The structure is checked against the JSON Schema generated from this
//! crate's model types ([`SipCoreConfig`], [`OpenHabProps`], [`OpenHabLocal`]; committed under
//! `sip-config/schemas/`), then the meaning: WebSocket URLs must be `ws`/`wss` (`sip`/`sips` for
//! UDP/TCP/TLS), `relay` needs a TURN server, TURN servers need credentials, DTMF data must match
//! `[0-9A-D#*,]+`, service calls need `domain` and `service`, users must be unique, and an
//! account that registers needs a password. Passwords and TURN credentials are [`Secret`]s:
//! `Debug`, `Display` and messages never show them. Strings may use `${ENV_VAR}` (see
//! [`EnvSource`]); `$${` writes a literal `${`.
//!
//! ## Rules, and where Sipline differs from upstream
//! - **User selection (SIP Core)**: `users[]` by Home Assistant user id, then by user name, then
//!   `backup_user` (one account, or a list whose first entry is used, as upstream accepts). The
//!   chosen user's `overrides` are deep-merged over the whole configuration; problems inside
//!   them are reported at `users[i].overrides...`.
//! - **Extension defaults to `ha_username`** when missing. Upstream documents this but does not
//!   do it, and registers `undefined@host`.
//! - **`pbx_server` defaults to the WebSocket URL's host without its port.** Upstream uses the
//!   page's host *with* its port, which is not a SIP domain.
//! - **No `custom_wss_url`**: upstream asks Home Assistant for the add-on's ingress entry; outside
//!   Home Assistant give [`LoadOptions::origin`] and [`LoadOptions::ingress_entry`].
//! - **`popup_config: null`** turns the popup off; a missing key keeps the default popup (as
//!   upstream). `auto_open` defaults to true.
//! - **Button `type`** accepts `service_call`/`dtmf` (upstream code) and `SERVICE_CALL`/`DTMF`
//!   (upstream docs).
//! - **Per-extension auto-answer**: `popup_config.extensions["<ext>"].auto_answer` overrides
//!   the global `auto_answer` for calls from that extension (asked for in SIP Core issue #111).
//! - **ICE gathering**: SIP Core's `iceGatheringTimeout` (default 5000 ms) restarts with every
//!   candidate, so it is an idle timer ([`GatheringTimeoutKind::Idle`]); openHAB waits for
//!   gathering to complete.
//! - **openHAB `websocketUrl`** may be relative (`/ws`): it is resolved against the page origin,
//!   http becoming ws and https wss, as upstream.
//! - **openHAB `domain`** missing: upstream registers `user@undefined`; Sipline warns and uses the
//!   WebSocket host.
//! - **openHAB local account** (`username`, `password`, `ownSipAddress`, `sipStateItem`) is
//!   merged over the widget props key by key, as upstream; its issues are reported at `local.*`.
//! - **Phonebook**: one address, or `number=name` pairs separated by commas, each part
//!   **trimmed** (upstream keeps the spaces, so `100 = Door` never matched).
//! - **`autoAnswer` (openHAB)**: `*`, or a comma list of `user` and `user@host`; Sipline also
//!   accepts `true`/`false` (upstream would compare `"true"` with the caller's name).
//! - **DTMF defaults**: SIP Core buttons 100 ms tones with 500 ms gaps (JsSIP's defaults);
//!   openHAB's `dtmfString` 160 ms and 640 ms. Both send SIP INFO, as JsSIP does.
//! - **Registration**: always on for SIP Core, `disableRegister` for openHAB; expiry 600 s.
//!
//! ## Reloading
//! [`diff`] says what changed between two configurations and what that requires
//! ([`Effect::Reconnect`], [`Effect::Reregister`] or [`Effect::ApplyLive`]);
//! [`ConfigWatcher`] watches a file and emits a new configuration only when it parses and
//! validates, keeping the old one on a broken edit and saying why. (Upstream SIP Core's reload
//! restarts the connection with the old URL.)

mod checks;
mod diff;
mod document;
mod env;
mod error;
mod issue;
mod load;
mod openhab;
mod phone;
mod schema;
mod secret;
mod shape;
mod sipcore;
mod watch;

pub use diff::{Change, ConfigDiff, Effect, diff};
pub use env::EnvSource;
pub use error::ConfigError;
pub use issue::{Issue, JsonPath, Report, Severity};
pub use load::{
    Format, HaUser, LoadOptions, Loaded, detect_format, load_file, load_str, load_value,
    parse_document,
};
pub use openhab::{
    AutoAnswerSetting, IconSize, OPENHAB_DTMF_DURATION_MS, OPENHAB_DTMF_GAP_MS, OpenHabLocal,
    OpenHabProps,
};
pub use phone::*;
pub use schema::{json_schema, local_account_schema, schema_file_name};
pub use secret::Secret;
pub use sipcore::{
    BackupUser, ButtonType, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_ICE_GATHERING_TIMEOUT_MS,
    OneOrMany, RtcIceServer, SipCoreButton, SipCoreConfig, SipCoreExtension, SipCoreIce,
    SipCorePopup, SipCoreUser,
};
pub use watch::{ConfigWatcher, ReloadEvent};
