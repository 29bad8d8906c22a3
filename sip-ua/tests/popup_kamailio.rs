//! The popup model end to end: two Sipline agents through the real Kamailio (see
//! `interop/kamailio`), the kitchen's popup driven by its agent's events and its actions
//! carried out on the agent. Skipped unless `SIPLINE_INTEROP` is set (`scripts/test`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sip_config::{Format, HaUser, LoadOptions, load_str};
use sip_ua::driver::{AgentEvents, AgentOptions, FixedSdpFactory, FixedSdpMedia, UserAgent};
use sip_ua::popup::{CallStateView, Command, PopupModel, RegistrationView};
use sip_ua::{CoreConfig, Credentials, DtmfMethod, EndedBy, Event};
use tokio::time::timeout;

const SERVER: &str = "ws://127.0.0.1:8080/ws";
const PASSWORD: &str = "sipline-test";
const LIMIT: Duration = Duration::from_secs(10);

fn agent(user: &str) -> (UserAgent, AgentEvents) {
    let core = CoreConfig::new(
        format!("sip:{user}@127.0.0.1"),
        Credentials::new(user, PASSWORD),
    );
    let media = Arc::new(FixedSdpFactory::new(FixedSdpMedia::loopback_sdp()));
    UserAgent::start(AgentOptions::new(core, SERVER), media).expect("user agent starts")
}

/// The next event, failing after the time limit.
async fn next(events: &mut AgentEvents, what: &str) -> Event {
    match timeout(LIMIT, events.recv()).await {
        Ok(Some(event)) => event,
        Ok(None) => panic!("the agent stopped while waiting for {what}"),
        Err(_) => panic!("no {what} within {LIMIT:?}"),
    }
}

#[tokio::test]
async fn a_doorbell_call_through_kamailio_drives_the_popup() {
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!("skipped: needs the real peers, run scripts/test");
        return;
    }
    let config = json!({
        "custom_wss_url": SERVER,
        "pbx_server": "127.0.0.1",
        "users": [{ "ha_username": "popup-kitchen", "password": PASSWORD }],
        "popup_config": {
            "buttons": [{ "label": "Open Door", "type": "dtmf", "data": "1" }],
            "extensions": {
                "popup-door": { "name": "Front Door", "camera_entity": "camera.front_door" }
            }
        }
    });
    let opts = LoadOptions::new()
        .format(Format::SipCore)
        .ha_user(HaUser::named("popup-kitchen"));
    let config = load_str(&config.to_string(), "<test>", &opts)
        .unwrap()
        .config;
    let mut popup = PopupModel::new(config, Instant::now());

    let (kitchen, mut kitchen_events) = agent("popup-kitchen");
    let (door, mut door_events) = agent("popup-door");
    // The kitchen registers: the indicator follows.
    loop {
        let event = next(&mut kitchen_events, "the kitchen's registration").await;
        popup.handle_event(&event, Instant::now());
        if matches!(event, Event::Registered { .. }) {
            break;
        }
    }
    assert_eq!(
        popup.snapshot(Instant::now()).registration,
        RegistrationView::Registered
    );
    while !matches!(
        next(&mut door_events, "the door's registration").await,
        Event::Registered { .. }
    ) {}

    let door_call = door.call("popup-kitchen").await.unwrap();
    let call = loop {
        let event = next(&mut kitchen_events, "the incoming call").await;
        popup.handle_event(&event, Instant::now());
        if let Event::IncomingCall { call, .. } = event {
            break call;
        }
    };
    let shown = popup.snapshot(Instant::now());
    assert!(shown.open, "auto_open");
    let c = shown.focused().unwrap();
    assert_eq!(c.remote_name.as_deref(), Some("Front Door"));
    assert_eq!(c.camera_entity.as_deref(), Some("camera.front_door"));
    assert_eq!(c.state, CallStateView::Incoming);

    let Ok(Command::Answer { call: answered }) = popup.answer(Instant::now()) else {
        panic!("the popup answers the ringing call");
    };
    assert_eq!(answered, call);
    kitchen.call_handle(call).answer().await.unwrap();
    loop {
        let event = next(&mut kitchen_events, "the ACK").await;
        popup.handle_event(&event, Instant::now());
        if matches!(event, Event::Confirmed { .. }) {
            break;
        }
    }
    assert_eq!(
        popup.snapshot(Instant::now()).focused().unwrap().state,
        CallStateView::Connected
    );

    // "Open Door": DTMF 1 with SIP Core's defaults (SIP INFO) through the proxy.
    let Ok(Command::SendDtmf {
        call: dtmf_call,
        digits,
        method,
        ..
    }) = popup.press_button(0, Instant::now())
    else {
        panic!("the button sends DTMF");
    };
    assert_eq!(
        (dtmf_call, digits.as_str(), method),
        (call, "1", DtmfMethod::Info)
    );
    kitchen
        .call_handle(call)
        .send_dtmf(&digits, method)
        .await
        .unwrap();
    loop {
        if let Event::DtmfReceived { digit, method, .. } =
            next(&mut door_events, "the door's DTMF").await
        {
            assert_eq!((digit, method), ('1', DtmfMethod::Info));
            break;
        }
    }

    // The door hangs up: the popup closes by itself.
    door_call.hangup().await.unwrap();
    loop {
        let event = next(&mut kitchen_events, "the BYE").await;
        popup.handle_event(&event, Instant::now());
        if let Event::Ended { by, .. } = event {
            assert_eq!(by, EndedBy::Remote);
            break;
        }
    }
    let shown = popup.snapshot(Instant::now());
    assert!(!shown.open && shown.calls.is_empty());
    assert_eq!(shown.last_ended.unwrap().cause, "remote-bye");
    kitchen.shutdown().await;
    door.shutdown().await;
}

#[tokio::test]
async fn an_openhab_tablet_opens_for_a_call_through_kamailio_and_sends_its_dtmf_string() {
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!("skipped: needs the real peers, run scripts/test");
        return;
    }
    // oh-sipclient props: no popup settings at all, yet the call UI shows every call.
    let props = json!({
        "component": "oh-sipclient",
        "config": {
            "websocketUrl": SERVER,
            "domain": "127.0.0.1",
            "username": "popup-oh-tablet",
            "password": PASSWORD,
            "phonebook": "popup-oh-door=Garden Gate, 100=Office",
            "dtmfString": "*1#"
        }
    });
    let opts = LoadOptions::new().format(Format::OpenHab);
    let config = load_str(&props.to_string(), "<test>", &opts)
        .unwrap()
        .config;
    let mut popup = PopupModel::new(config, Instant::now());
    let (tablet, mut tablet_events) = agent("popup-oh-tablet");
    let (door, mut door_events) = agent("popup-oh-door");
    loop {
        let event = next(&mut tablet_events, "the tablet's registration").await;
        popup.handle_event(&event, Instant::now());
        if matches!(event, Event::Registered { .. }) {
            break;
        }
    }
    while !matches!(
        next(&mut door_events, "the door's registration").await,
        Event::Registered { .. }
    ) {}

    let door_call = door.call("popup-oh-tablet").await.unwrap();
    let call = loop {
        let event = next(&mut tablet_events, "the incoming call").await;
        popup.handle_event(&event, Instant::now());
        if let Event::IncomingCall { call, .. } = event {
            break call;
        }
    };
    let shown = popup.snapshot(Instant::now());
    assert!(shown.open, "the widget shows every call");
    assert_eq!(
        shown.focused().unwrap().remote_name.as_deref(),
        Some("Garden Gate")
    );
    let Ok(Command::Answer { .. }) = popup.answer(Instant::now()) else {
        panic!("the popup answers the ringing call");
    };
    tablet.call_handle(call).answer().await.unwrap();
    loop {
        let event = next(&mut tablet_events, "the ACK").await;
        popup.handle_event(&event, Instant::now());
        if matches!(event, Event::Confirmed { .. }) {
            break;
        }
    }

    // The widget's DTMF button: the whole dtmfString by SIP INFO, through the proxy.
    let Ok(Command::SendDtmf { digits, method, .. }) = popup.press_button(0, Instant::now()) else {
        panic!("the DTMF button sends the dtmfString");
    };
    tablet
        .call_handle(call)
        .send_dtmf(&digits, method)
        .await
        .unwrap();
    let mut heard = String::new();
    while heard.len() < 3 {
        if let Event::DtmfReceived { digit, method, .. } =
            next(&mut door_events, "the door's DTMF").await
        {
            assert_eq!(method, DtmfMethod::Info);
            heard.push(digit);
        }
    }
    assert_eq!(heard, "*1#");

    door_call.hangup().await.unwrap();
    loop {
        let event = next(&mut tablet_events, "the BYE").await;
        popup.handle_event(&event, Instant::now());
        if matches!(event, Event::Ended { .. }) {
            break;
        }
    }
    assert!(!popup.snapshot(Instant::now()).open, "closed with the call");
    tablet.shutdown().await;
    door.shutdown().await;
}
