//! The popup model driven by scripted event sequences (no sockets, no clock).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::json;
use sip_config::{Format, HaUser, LoadOptions, PhoneConfig, load_str};
use sip_media::level::{LevelReport, LevelSide};
use sip_ua::popup::{
    ActionError, CallDirectionView, CallStateView, Command, DECLINE_STATUS, MediaKind, PopupModel,
    RegistrationView, ServiceCall, ServiceCallError, ServiceCallHandler,
};
use sip_ua::{CallHandle, DtmfMethod, EndCause, EndedBy, Event, FlowId};

fn sipcore(popup: serde_json::Value, extra: serde_json::Value) -> PhoneConfig {
    let mut doc = json!({
        "custom_wss_url": "ws://127.0.0.1:5066/ws",
        "users": [{ "ha_username": "kitchen", "password": "pw" }],
        "popup_config": popup,
    });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        doc.extend(extra.clone());
    }
    let opts = LoadOptions::new()
        .format(Format::SipCore)
        .ha_user(HaUser::named("kitchen"));
    load_str(&doc.to_string(), "<test>", &opts).unwrap().config
}

fn door_config() -> PhoneConfig {
    sipcore(
        json!({
            "buttons": [
                { "label": "Open Door", "icon": "mdi:door-open", "type": "dtmf", "data": "1" },
                { "label": "Lights", "type": "service_call",
                  "data": { "domain": "light", "service": "toggle", "entity_id": "light.hall" } }
            ],
            "extensions": {
                "door": { "name": "Front Door", "camera_entity": "camera.front_door" }
            }
        }),
        json!({}),
    )
}

fn incoming(call: u64, uri: &str, display: Option<&str>) -> Event {
    Event::IncomingCall {
        call: CallHandle(call),
        remote_uri: uri.into(),
        display_name: display.map(str::to_owned),
        remote_sdp: Some("v=0\r\n".into()),
    }
}

#[test]
fn a_doorbell_call_from_ring_to_hang_up() {
    let t0 = Instant::now();
    let mut popup = PopupModel::new(door_config(), t0);
    let call = CallHandle(7);
    assert!(!popup.snapshot(t0).open);

    popup.handle_event(&incoming(7, "sip:door@127.0.0.1", Some("Door")), t0);
    let s = popup.snapshot(t0);
    assert!(s.open, "auto_open opens the popup on an incoming call");
    let c = s.focused().unwrap();
    assert_eq!(c.direction, CallDirectionView::Incoming);
    assert_eq!(c.state, CallStateView::Incoming);
    assert_eq!(c.remote_name.as_deref(), Some("Front Door"));
    assert_eq!(c.camera_entity.as_deref(), Some("camera.front_door"));
    assert_eq!(c.duration, "0:00");
    assert!(!s.buttons[0].enabled, "DTMF needs a connected call");
    assert!(s.buttons[1].enabled, "service calls work any time");
    assert!(matches!(
        popup.press_button(0, t0),
        Err(ActionError::WrongState {
            state: "incoming",
            ..
        })
    ));

    assert_eq!(popup.answer(t0), Ok(Command::Answer { call }));
    assert_eq!(
        popup.snapshot(t0).focused().unwrap().state,
        CallStateView::Connecting
    );
    popup.handle_event(&Event::Accepted { call }, t0);
    let t1 = t0 + Duration::from_millis(300);
    popup.handle_event(&Event::Confirmed { call }, t1);
    let s = popup.snapshot(t1 + Duration::from_secs(9));
    assert_eq!(s.focused().unwrap().state, CallStateView::Connected);
    assert_eq!(s.focused().unwrap().duration, "0:09");
    assert!(s.buttons[0].enabled);

    assert_eq!(
        popup.press_button(0, t1),
        Ok(Command::SendDtmf {
            call,
            digits: "1".into(),
            method: DtmfMethod::Info,
            duration_ms: 100,
            inter_tone_gap_ms: 500,
        })
    );
    popup.handle_event(
        &Event::DtmfReceived {
            call,
            digit: '#',
            method: DtmfMethod::Rfc4733,
        },
        t1,
    );
    assert_eq!(popup.snapshot(t1).focused().unwrap().dtmf_received, "#");

    assert_eq!(popup.hangup(t1), Ok(Command::Hangup { call }));
    popup.handle_event(
        &Event::Ended {
            call,
            by: EndedBy::Local,
            cause: EndCause::LocalBye,
        },
        t1,
    );
    let s = popup.snapshot(t1);
    assert!(
        !s.open,
        "auto_open closes the popup when the last call ends"
    );
    assert!(s.calls.is_empty() && s.focused_call.is_none());
    let ended = s.last_ended.unwrap();
    assert_eq!((ended.by, ended.cause.as_str()), ("local", "local-bye"));
    assert_eq!(ended.remote_name.as_deref(), Some("Front Door"));
}

#[test]
fn durations_are_minutes_and_seconds() {
    use sip_ua::popup::format_duration;
    assert_eq!(format_duration(Duration::ZERO), "0:00");
    assert_eq!(format_duration(Duration::from_millis(59_999)), "0:59");
    assert_eq!(format_duration(Duration::from_secs(60)), "1:00");
    assert_eq!(format_duration(Duration::from_secs(75 * 60 + 2)), "75:02");
}

#[test]
fn decline_rejects_with_480_and_only_while_ringing() {
    let t0 = Instant::now();
    let mut popup = PopupModel::new(door_config(), t0);
    assert_eq!(
        popup.decline(t0),
        Err(ActionError::NoCall { action: "decline" })
    );
    popup.handle_event(&incoming(1, "sip:door@127.0.0.1", None), t0);
    assert_eq!(
        popup.hangup(t0),
        Err(ActionError::WrongState {
            action: "hang up",
            call: CallHandle(1),
            state: "incoming"
        })
    );
    assert_eq!(
        popup.decline(t0),
        Ok(Command::Reject {
            call: CallHandle(1),
            status: DECLINE_STATUS
        })
    );
    assert_eq!(DECLINE_STATUS, 480);
    popup.handle_event(
        &Event::Ended {
            call: CallHandle(1),
            by: EndedBy::Local,
            cause: EndCause::Rejected,
        },
        t0,
    );
    assert_eq!(
        popup.snapshot(t0).last_ended.unwrap().cause,
        "rejected".to_owned()
    );
}

#[test]
fn outgoing_call_from_the_phonebook_that_fails() {
    let t0 = Instant::now();
    let config = sipcore(
        json!({ "auto_open": false, "extensions": { "101": { "name": "Office" } } }),
        json!({}),
    );
    let mut popup = PopupModel::new(config, t0);
    let book = popup.snapshot(t0).phonebook;
    assert_eq!(book.len(), 1);
    assert_eq!(
        (book[0].number.as_str(), book[0].name.as_deref()),
        ("101", Some("Office"))
    );
    assert_eq!(
        popup.dial_entry(0, t0),
        Ok(Command::Dial {
            target: "101".into()
        })
    );
    assert!(matches!(
        popup.dial_entry(5, t0),
        Err(ActionError::UnknownTarget { .. })
    ));
    assert!(matches!(
        popup.dial_extension("999", t0),
        Err(ActionError::UnknownTarget { .. })
    ));
    assert!(matches!(
        popup.dial("  ", t0),
        Err(ActionError::Empty { .. })
    ));

    let call = CallHandle(3);
    popup.handle_event(
        &Event::OutgoingCall {
            call,
            remote_uri: "sip:101@127.0.0.1".into(),
        },
        t0,
    );
    let s = popup.snapshot(t0);
    assert!(!s.open, "auto_open off leaves the popup closed");
    let c = s.focused().unwrap();
    assert_eq!(
        (c.direction, c.state, c.ringing),
        (CallDirectionView::Outgoing, CallStateView::Outgoing, false)
    );
    assert_eq!(c.remote_name.as_deref(), Some("Office"));
    popup.handle_event(&Event::Ringing { call }, t0);
    assert!(popup.snapshot(t0).focused().unwrap().ringing);
    assert!(matches!(
        popup.answer(t0),
        Err(ActionError::WrongState { .. })
    ));
    popup.handle_event(
        &Event::Failed {
            call,
            status: Some(486),
            reason: "Busy Here".into(),
        },
        t0,
    );
    let ended = popup.snapshot(t0).last_ended.unwrap();
    assert_eq!((ended.cause.as_str(), ended.status), ("failed", Some(486)));
}

#[test]
fn names_come_from_extensions_then_phonebook_then_display_name_then_user() {
    let t0 = Instant::now();
    let config = sipcore(
        json!({ "extensions": { "door": { "name": "Front Door" } } }),
        json!({}),
    );
    let mut popup = PopupModel::new(config, t0);
    popup.handle_event(&incoming(1, "sip:door@h", Some("Ignored")), t0);
    popup.handle_event(&incoming(2, "sip:alice@h", Some("Alice A.")), t0);
    popup.handle_event(&incoming(3, "sip:bob@h;transport=ws", None), t0);
    popup.handle_event(&incoming(4, "garbage", Some("")), t0);
    let names: Vec<_> = popup
        .snapshot(t0)
        .calls
        .into_iter()
        .map(|c| c.remote_name.unwrap())
        .collect();
    assert_eq!(names, ["Front Door", "Alice A.", "bob", "garbage"]);
}

#[test]
fn openhab_props_hide_the_caller_id_and_name_phonebook_callers() {
    let t0 = Instant::now();
    let props = json!({
        "websocketUrl": "ws://127.0.0.1:5066/ws",
        "domain": "127.0.0.1",
        "username": "tablet",
        "password": "pw",
        "phonebook": "sip:door@127.0.0.1=Door, 100=Office",
        "hideCallerId": true
    });
    let opts = LoadOptions::new().format(Format::OpenHab);
    let config = load_str(&props.to_string(), "<props>", &opts)
        .unwrap()
        .config;
    let mut popup = PopupModel::new(config, t0);
    popup.handle_event(&incoming(1, "sip:door@127.0.0.1", Some("D")), t0);
    let s = popup.snapshot(t0);
    let c = s.focused().unwrap();
    assert!(c.caller_hidden);
    assert_eq!((c.remote_name.clone(), c.remote_uri.clone()), (None, None));
    let shown = serde_json::to_string(c).unwrap();
    assert!(
        !shown.contains("door@") && !shown.contains("\"D\""),
        "{shown}"
    );
    popup.handle_event(
        &Event::OutgoingCall {
            call: CallHandle(2),
            remote_uri: "sip:100@127.0.0.1".into(),
        },
        t0,
    );
    let s = popup.snapshot(t0);
    assert_eq!(s.calls[1].remote_name.as_deref(), Some("Office"));
    assert!(
        !s.calls[1].caller_hidden,
        "outgoing calls show whom we call"
    );
    assert_eq!(s.phonebook.len(), 2);
}

#[test]
fn an_openhab_widget_opens_for_every_call_and_its_dtmf_button_sends_the_dtmf_string() {
    let t0 = Instant::now();
    let props = json!({
        "component": "oh-sipclient",
        "config": {
            "websocketUrl": "ws://127.0.0.1:5066/ws",
            "domain": "127.0.0.1",
            "username": "tablet",
            "password": "pw",
            "phonebook": "door=Front door, 100=Office",
            "dtmfString": "*1#"
        }
    });
    let opts = LoadOptions::new().format(Format::OpenHab);
    let config = load_str(&props.to_string(), "<props>", &opts)
        .unwrap()
        .config;
    let mut popup = PopupModel::new(config, t0);
    let s = popup.snapshot(t0);
    assert!(s.enabled && !s.open && !s.large);
    assert_eq!(s.buttons.len(), 1);
    assert_eq!(
        (s.buttons[0].label.as_str(), s.buttons[0].kind),
        ("Send DTMF", "dtmf")
    );
    assert!(!s.buttons[0].enabled, "the widget shows it only in a call");

    // An incoming call opens it, named from the phonebook.
    popup.handle_event(&incoming(1, "sip:door@127.0.0.1", None), t0);
    let s = popup.snapshot(t0);
    assert!(s.open);
    assert_eq!(
        s.focused().unwrap().remote_name.as_deref(),
        Some("Front door")
    );
    assert_eq!(
        popup.press_button(0, t0),
        Err(ActionError::WrongState {
            action: "send DTMF in",
            call: CallHandle(1),
            state: "incoming",
        })
    );
    assert_eq!(
        popup.answer(t0),
        Ok(Command::Answer {
            call: CallHandle(1)
        })
    );
    popup.handle_event(
        &Event::Confirmed {
            call: CallHandle(1),
        },
        t0,
    );
    assert!(popup.snapshot(t0).buttons[0].enabled);
    // The widget's sendDTMF: the whole dtmfString by SIP INFO, 160 ms tones, 640 ms gaps.
    assert_eq!(
        popup.press_button(0, t0),
        Ok(Command::SendDtmf {
            call: CallHandle(1),
            digits: "*1#".into(),
            method: DtmfMethod::Info,
            duration_ms: 160,
            inter_tone_gap_ms: 640,
        })
    );
    popup.handle_event(
        &Event::Ended {
            call: CallHandle(1),
            by: EndedBy::Remote,
            cause: EndCause::RemoteBye,
        },
        t0,
    );
    assert!(!popup.snapshot(t0).open, "closes when the call ends");

    // An outgoing call (the dial button) opens it too.
    popup.handle_event(
        &Event::OutgoingCall {
            call: CallHandle(2),
            remote_uri: "sip:100@127.0.0.1".into(),
        },
        t0,
    );
    let s = popup.snapshot(t0);
    assert!(s.open);
    assert_eq!(s.focused().unwrap().remote_name.as_deref(), Some("Office"));
}

#[test]
fn a_null_popup_config_never_opens() {
    let t0 = Instant::now();
    let mut popup = PopupModel::new(sipcore(json!(null), json!({})), t0);
    popup.open(t0);
    popup.handle_event(&incoming(1, "sip:door@h", None), t0);
    let s = popup.snapshot(t0);
    assert!(!s.enabled && !s.open);
    assert_eq!(s.calls.len(), 1, "calls are still tracked");
}

#[test]
fn call_waiting_keeps_the_popup_open_until_the_last_call_ends() {
    let t0 = Instant::now();
    let mut popup = PopupModel::new(door_config(), t0);
    popup.handle_event(&incoming(1, "sip:a@h", None), t0);
    popup.handle_event(&incoming(2, "sip:b@h", None), t0);
    assert_eq!(popup.snapshot(t0).focused_call, Some(1));
    popup.focus(CallHandle(2), t0).unwrap();
    assert_eq!(
        popup.answer(t0),
        Ok(Command::Answer {
            call: CallHandle(2)
        })
    );
    assert_eq!(
        popup.focus(CallHandle(9), t0),
        Err(ActionError::UnknownCall {
            call: CallHandle(9)
        })
    );
    popup.handle_event(
        &Event::Ended {
            call: CallHandle(2),
            by: EndedBy::Remote,
            cause: EndCause::RemoteBye,
        },
        t0,
    );
    let s = popup.snapshot(t0);
    assert!(s.open);
    assert_eq!(s.focused_call, Some(1), "focus moves to the remaining call");
    popup.handle_event(
        &Event::Ended {
            call: CallHandle(1),
            by: EndedBy::Remote,
            cause: EndCause::RemoteCancel,
        },
        t0,
    );
    assert!(!popup.snapshot(t0).open);
    // Events for calls the popup does not know change nothing.
    assert!(!popup.handle_event(
        &Event::Confirmed {
            call: CallHandle(1)
        },
        t0
    ));
}

#[test]
fn hold_and_mute_states() {
    let t0 = Instant::now();
    let mut popup = PopupModel::new(door_config(), t0);
    assert_eq!(
        popup.set_muted(MediaKind::Microphone, true, t0),
        Err(ActionError::NoCall { action: "mute" })
    );
    let call = CallHandle(1);
    popup.handle_event(&incoming(1, "sip:door@h", None), t0);
    popup.handle_event(&Event::Confirmed { call }, t0);
    assert_eq!(
        popup.set_muted(MediaKind::Microphone, true, t0),
        Ok(Command::SetMuted {
            call,
            kind: MediaKind::Microphone,
            muted: true
        })
    );
    assert_eq!(
        popup.set_muted(MediaKind::Camera, true, t0),
        Err(ActionError::NoVideo { call }),
        "sip_video is off"
    );
    popup.handle_event(
        &Event::HoldChanged {
            call,
            side: sip_ua::HoldSide::Remote,
            held: true,
        },
        t0,
    );
    let c = popup.snapshot(t0).calls.remove(0);
    assert!(c.microphone_muted && !c.camera_muted && c.held_by_remote && !c.on_hold);

    let mut video = sipcore(json!({}), json!({ "sip_video": true }));
    video.media.video = true;
    let mut popup = PopupModel::new(video, t0);
    popup.handle_event(&incoming(1, "sip:door@h", None), t0);
    assert!(popup.set_muted(MediaKind::Camera, true, t0).is_ok());
    assert!(popup.snapshot(t0).calls[0].camera_muted);
}

#[test]
fn registration_indicator_follows_the_user_agent() {
    let t0 = Instant::now();
    let mut popup = PopupModel::new(door_config(), t0);
    let reg = |p: &PopupModel| p.snapshot(t0).registration;
    assert_eq!(reg(&popup), RegistrationView::Disconnected);
    popup.handle_event(&Event::TransportConnected { flow: FlowId(1) }, t0);
    assert_eq!(reg(&popup), RegistrationView::Connected);
    popup.handle_event(
        &Event::Registered {
            expires: Duration::from_secs(600),
            gruu: None,
        },
        t0,
    );
    assert_eq!(reg(&popup), RegistrationView::Registered);
    popup.handle_event(
        &Event::RegistrationFailed {
            status: Some(403),
            reason: "Forbidden".into(),
            retry_in: None,
        },
        t0,
    );
    assert_eq!(
        reg(&popup),
        RegistrationView::Failed {
            status: Some(403),
            reason: "Forbidden".into()
        }
    );
    let json = popup.snapshot(t0).to_json();
    assert!(
        json.contains(r#""registration":{"state":"failed","status":403,"reason":"Forbidden"}"#),
        "{json}"
    );
    popup.handle_event(
        &Event::TransportDisconnected {
            flow: FlowId(1),
            reason: "closed".into(),
        },
        t0,
    );
    assert_eq!(reg(&popup), RegistrationView::Disconnected);
}

#[test]
fn the_change_stream_sees_every_change_and_only_changes() {
    let t0 = Instant::now();
    let mut popup = PopupModel::new(door_config(), t0);
    let mut changes = popup.changes();
    assert!(!changes.has_changed().unwrap());
    let first = changes.borrow_and_update().revision;

    popup.handle_event(&incoming(1, "sip:door@h", None), t0);
    assert!(changes.has_changed().unwrap());
    let s = changes.borrow_and_update().clone();
    assert!(s.revision > first && s.open);

    // Nothing happened: no new snapshot.
    assert!(!popup.tick(t0 + Duration::from_millis(500)));
    assert!(!changes.has_changed().unwrap());
    popup.handle_event(
        &Event::Confirmed {
            call: CallHandle(1),
        },
        t0,
    );
    changes.borrow_and_update();
    assert!(!popup.tick(t0 + Duration::from_millis(900)));
    // The shown duration moved to 0:01.
    assert!(popup.tick(t0 + Duration::from_millis(1000)));
    assert_eq!(changes.borrow_and_update().calls[0].duration, "0:01");
}

#[test]
fn the_visualiser_feed_is_clamped_and_cleared_after_the_call() {
    let t0 = Instant::now();
    let mut popup = PopupModel::new(door_config(), t0);
    popup.handle_event(&incoming(1, "sip:door@h", None), t0);
    let mut spectrum = [0.25f32; 16];
    spectrum[3] = f32::NAN;
    spectrum[4] = 7.0;
    popup.handle_levels(
        &LevelReport {
            side: LevelSide::Remote,
            rms_dbfs: -12.0,
            peak_dbfs: f32::INFINITY,
            spectrum,
        },
        t0,
    );
    let s = popup.snapshot(t0);
    let remote = &s.visualiser.remote;
    assert_eq!(remote.rms_dbfs, -12.0);
    assert_eq!(remote.peak_dbfs, -100.0);
    assert_eq!(
        (remote.bands[0], remote.bands[3], remote.bands[4]),
        (0.25, 0.0, 1.0)
    );
    assert_eq!(s.visualiser.local.rms_dbfs, -100.0);
    assert!(s.to_json().contains(r#""rms_dbfs":-12.0"#));
    popup.handle_event(
        &Event::Ended {
            call: CallHandle(1),
            by: EndedBy::Remote,
            cause: EndCause::RemoteBye,
        },
        t0,
    );
    assert_eq!(popup.snapshot(t0).visualiser.remote.rms_dbfs, -100.0);
}

struct Recorder(Mutex<Vec<ServiceCall>>);

#[async_trait]
impl ServiceCallHandler for Recorder {
    async fn call_service(&self, call: &ServiceCall) -> Result<(), ServiceCallError> {
        self.0.lock().unwrap().push(call.clone());
        if call.domain == "lock" {
            return Err(ServiceCallError {
                domain: call.domain.clone(),
                service: call.service.clone(),
                reason: "401 Unauthorized".into(),
            });
        }
        Ok(())
    }
}

#[tokio::test]
async fn service_call_buttons_go_to_the_host_handler() {
    let t0 = Instant::now();
    let mut popup = PopupModel::new(door_config(), t0);
    assert!(matches!(
        popup.press_button(2, t0),
        Err(ActionError::NoSuchButton { index: 2, count: 2 })
    ));
    let Ok(Command::ServiceCall(call)) = popup.press_button(1, t0) else {
        panic!("the second button is a service call");
    };
    assert_eq!(
        (call.domain.as_str(), call.service.as_str()),
        ("light", "toggle")
    );
    assert_eq!(
        serde_json::Value::Object(call.data.clone()),
        json!({ "entity_id": "light.hall" })
    );
    let handler = Recorder(Mutex::new(Vec::new()));
    let dyn_handler: &dyn ServiceCallHandler = &handler;
    assert!(dyn_handler.call_service(&call).await.is_ok());
    let lock = ServiceCall {
        domain: "lock".into(),
        service: "unlock".into(),
        data: Default::default(),
    };
    let err = dyn_handler.call_service(&lock).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "service call lock.unlock failed: 401 Unauthorized"
    );
    assert_eq!(handler.0.lock().unwrap().len(), 2);
}
