//! The headless call popup: what SIP Core's call popup and openHAB's oh-sipclient show in the
//! browser, as a model any frontend renders (a terminal UI, a native GUI, a web page).
//!
//! The [`PopupModel`] is I/O-free: feed it the user agent's [`Event`](crate::Event)s and the
//! media session's level reports with the current time, call its actions on user input, and
//! carry out the [`Command`]s they return (on the user agent, or through a
//! [`ServiceCallHandler`] for `service_call` buttons). Render [`Snapshot`]s, which serialise to
//! JSON, or watch [`PopupModel::changes`].
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sip_config::{load_str, Format, HaUser, LoadOptions};
//! use sip_ua::popup::{CallStateView, Command, PopupModel};
//! use sip_ua::{CallHandle, Event};
//!
//! // A SIP Core configuration with a doorbell extension and an "Open Door" button.
//! let text = r#"{
//!     "custom_wss_url": "ws://127.0.0.1:5066/ws",
//!     "users": [{ "ha_username": "kitchen", "password": "pw" }],
//!     "popup_config": {
//!         "buttons": [{ "label": "Open Door", "type": "dtmf", "data": "1" }],
//!         "extensions": { "door": { "name": "Front Door", "camera_entity": "camera.front_door" } }
//!     }
//! }"#;
//! let opts = LoadOptions::new().format(Format::SipCore).ha_user(HaUser::named("kitchen"));
//! let config = load_str(text, "<doc>", &opts).unwrap().config;
//!
//! let t0 = Instant::now();
//! let mut popup = PopupModel::new(config, t0);
//! let call = CallHandle(1);
//! popup.handle_event(&Event::IncomingCall {
//!     call,
//!     remote_uri: "sip:door@127.0.0.1".into(),
//!     display_name: None,
//!     remote_sdp: None,
//! }, t0);
//! let shown = popup.snapshot(t0);
//! assert!(shown.open);
//! assert_eq!(shown.calls[0].remote_name.as_deref(), Some("Front Door"));
//! assert_eq!(shown.calls[0].camera_entity.as_deref(), Some("camera.front_door"));
//!
//! assert_eq!(popup.answer(t0), Ok(Command::Answer { call }));
//! popup.handle_event(&Event::Confirmed { call }, t0);
//! let later = popup.snapshot(t0 + Duration::from_secs(65));
//! assert_eq!(later.calls[0].state, CallStateView::Connected);
//! assert_eq!(later.calls[0].duration, "1:05");
//! assert!(later.to_json().contains(r#""remote_name":"Front Door""#));
//! // "Open Door" sends DTMF 1 with SIP Core's defaults (SIP INFO, 100 ms tones, 500 ms gaps).
//! assert!(matches!(popup.press_button(0, t0), Ok(Command::SendDtmf { digits, .. }) if digits == "1"));
//! ```

mod command;
mod model;
mod snapshot;

pub use command::{
    ActionError, Command, DECLINE_STATUS, MediaKind, ServiceCall, ServiceCallError,
    ServiceCallHandler,
};
pub use model::PopupModel;
pub use snapshot::{
    ButtonView, CallDirectionView, CallStateView, CallView, DialEntryView, EndedView, LevelView,
    RegistrationView, Snapshot, VISUALISER_BANDS, VisualiserView, format_duration,
};
