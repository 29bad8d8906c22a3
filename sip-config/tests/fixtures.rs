//! The committed fixtures load as documented, and broken ones report every problem.

use std::collections::BTreeMap;

use sip_config::{
    AutoAnswerPolicy, ButtonAction, CallerPattern, ConfigError, EnvSource, Format,
    GatheringTimeoutKind, HaUser, IceTransportPolicy, LoadOptions, Loaded, PhonebookEntry,
    RtcpMuxPolicy, load_file,
};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn env() -> EnvSource {
    EnvSource::Map(BTreeMap::from([
        ("TURN_SECRET".to_owned(), "turn-s3cret".to_owned()),
        (
            "KITCHEN_SIP_PASSWORD".to_owned(),
            "kitchen-s3cret".to_owned(),
        ),
        (
            "HALLWAY_SIP_PASSWORD".to_owned(),
            "hallway-s3cret".to_owned(),
        ),
    ]))
}

fn load(name: &str, opts: LoadOptions) -> Loaded {
    match load_file(fixture(name), &opts.env(env())) {
        Ok(l) => l,
        Err(e) => panic!("{name}: {e}"),
    }
}

fn report(name: &str, opts: LoadOptions) -> String {
    match load_file(fixture(name), &opts.env(env())) {
        Ok(_) => panic!("{name} loaded but should not"),
        Err(e @ ConfigError::Invalid { .. }) => {
            e.to_string().replace(env!("CARGO_MANIFEST_DIR"), "$CRATE")
        }
        Err(other) => panic!("{name}: unexpected error {other}"),
    }
}

#[test]
fn upstream_default_resolves_for_each_user() {
    let opts = LoadOptions::new()
        .origin("https://ha.local:8123")
        .ingress_entry("/api/hassio_ingress/abc");
    let jordy = load(
        "sipcore-default.json",
        opts.clone().ha_user(HaUser::named("jordy")),
    );
    assert_eq!(jordy.format, Format::SipCore);
    assert!(jordy.warnings.is_empty(), "{:?}", jordy.warnings);
    let c = &jordy.config;
    assert_eq!(
        c.transport.urls,
        vec!["wss://ha.local:8123/api/hassio_ingress/abc/ws".to_owned()]
    );
    // pbx_server defaults to the WebSocket host without the port.
    assert_eq!(c.account.aor, "sip:101@ha.local");
    assert_eq!(c.account.auth_user, "101");
    assert_eq!(c.account.password.expose(), "1234");
    assert_eq!(c.account.display_name.as_deref(), Some("jordy"));
    assert_eq!(c.ice.gathering.timeout_ms, Some(1000));
    assert_eq!(c.ice.gathering.timeout_kind, GatheringTimeoutKind::Idle);
    assert_eq!(
        c.ice.servers[0].urls,
        vec!["stun:stun.l.google.com:19302".to_owned()]
    );
    assert_eq!(c.ice.rtcp_mux, RtcpMuxPolicy::Require);
    assert_eq!(c.dtmf.duration_ms, 100);
    assert_eq!(c.dtmf.inter_tone_gap_ms, 500);
    assert_eq!(
        c.tones.incoming_ringtone.as_deref(),
        Some("/sip_core_files/ring-tone.mp3")
    );
    let popup = c.popup.as_ref().expect("popup");
    assert!(popup.auto_open);
    assert_eq!(popup.buttons[0].label, "Open Door");
    assert_eq!(
        popup.buttons[0].action,
        ButtonAction::Dtmf { digits: "1".into() }
    );
    match &popup.buttons[1].action {
        ButtonAction::ServiceCall {
            domain,
            service,
            data,
        } => {
            assert_eq!((domain.as_str(), service.as_str()), ("light", "toggle"));
            assert_eq!(data["entity_id"], "light.bedroom_lights");
        }
        other => panic!("{other:?}"),
    }
    let doorbell = c
        .directory
        .extensions
        .iter()
        .find(|e| e.number == "8001")
        .expect("doorbell");
    assert_eq!(doorbell.camera_entity.as_deref(), Some("camera.doorbell"));

    // Unknown HA user: the backup user.
    let guest = load(
        "sipcore-default.json",
        opts.clone().ha_user(HaUser::named("guest")),
    );
    assert_eq!(guest.config.account.aor, "sip:100@ha.local");
    // Matching by id wins over matching by name.
    let by_id = load(
        "sipcore-default.json",
        opts.ha_user(HaUser::new("alice", "jordy")),
    );
    assert_eq!(by_id.config.account.aor, "sip:102@ha.local");
}

#[test]
fn custom_config_applies_every_rule() {
    let kitchen = load(
        "sipcore-custom.json",
        LoadOptions::new().ha_user(HaUser::named("kitchen")),
    );
    let c = &kitchen.config;
    // The extension defaults to the HA user name (upstream registers `undefined@host`).
    assert_eq!(c.account.aor, "sip:kitchen@pbx.home.lan");
    assert_eq!(c.account.password.expose(), "kitchen-s3cret");
    assert_eq!(c.account.display_name.as_deref(), Some("Kitchen tablet"));
    assert_eq!(c.transport.keepalive_interval_ms, Some(15000));
    assert_eq!(c.ice.transport_policy, IceTransportPolicy::Relay);
    assert_eq!(
        c.ice.servers[0].credential.as_ref().map(|s| s.expose()),
        Some("turn-s3cret")
    );
    assert_eq!(c.ice.extra["bundlePolicy"], "max-bundle");
    // The user's overrides are deep-merged: large popup, no video; the rest stays.
    let popup = c.popup.as_ref().expect("popup");
    assert!(popup.large && popup.auto_open);
    assert!(!c.media.video);
    assert_eq!(popup.custom["theme"], "dark");
    assert_eq!(
        popup.override_component.as_deref(),
        Some("my-doorbell-popup")
    );
    // Per-extension auto-answer overrides the global `auto_answer: false`.
    assert!(c.should_auto_answer("300", "pbx.home.lan"));
    assert!(!c.should_auto_answer("8001", "pbx.home.lan"));
    assert!(!c.should_auto_answer("999", "pbx.home.lan"));
    let hall = load(
        "sipcore-custom.json",
        LoadOptions::new().ha_user(HaUser::named("hall")),
    );
    assert_eq!(hall.config.account.aor, "sip:201@pbx.home.lan");
    assert!(hall.config.media.video && !hall.config.popup.as_ref().is_some_and(|p| p.large));
}

#[test]
fn openhab_widget_with_local_account() {
    let local: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("openhab-local.json")).unwrap())
            .unwrap();
    let opts = LoadOptions::new().origin("https://openhab.home.lan:8443");
    let shared = load("openhab-widget.yaml", opts.clone());
    let c = &shared.config;
    assert_eq!(shared.format, Format::OpenHab);
    assert_eq!(
        c.transport.urls,
        vec!["wss://openhab.home.lan:8443/sip/ws".to_owned()]
    );
    assert_eq!(c.account.aor, "sip:hallway@sip.home.lan");
    assert_eq!(c.account.password.expose(), "hallway-s3cret");
    assert_eq!(
        c.directory.phonebook,
        vec![
            PhonebookEntry::new("100", Some("Front door".into())),
            PhonebookEntry::new("200", Some("Kitchen".into())),
            PhonebookEntry::new("300", Some("Garage".into())),
        ]
    );
    assert_eq!(c.dtmf.duration_ms, 160);
    assert_eq!(c.dtmf.inter_tone_gap_ms, 640);
    assert_eq!(c.dtmf.preset.as_deref(), Some("*1#"));
    assert_eq!(
        c.auto_answer.policy,
        AutoAnswerPolicy::Callers(vec![
            CallerPattern::new("door", Some("sip.home.lan".into())),
            CallerPattern::new("200", None),
        ])
    );
    assert!(
        c.should_auto_answer("door", "sip.home.lan") && !c.should_auto_answer("door", "elsewhere")
    );
    assert_eq!(c.ui.icon_size, Some(40));
    assert!(c.media.video && !c.media.local_video);
    assert!(c.tones.enabled);
    // The widget shows its call UI for every call: a popup that opens by itself, with the
    // widget's DTMF button sending `dtmfString`.
    let popup = c.popup.as_ref().expect("openHAB props give a popup");
    assert!(popup.auto_open && !popup.large && !popup.hide_header_button);
    assert_eq!(popup.buttons.len(), 1);
    assert_eq!(popup.buttons[0].label, "Send DTMF");
    assert_eq!(popup.buttons[0].icon.as_deref(), Some("f7:number_square"));
    assert_eq!(
        popup.buttons[0].action,
        ButtonAction::Dtmf {
            digits: "*1#".into()
        }
    );
    insta::assert_json_snapshot!("openhab_widget_popup", popup);

    let tablet = load("openhab-widget.yaml", opts.openhab_local(local));
    let t = &tablet.config;
    assert_eq!(t.account.aor, "sip:tablet-kitchen@sip.home.lan");
    assert_eq!(t.account.password.expose(), "kitchen-pw");
    assert_eq!(t.directory.own_address.as_deref(), Some("200"));
    assert_eq!(t.state_item.as_deref(), Some("Kitchen_SIP_State"));
}

#[test]
fn openhab_door_station_props() {
    let door = load("openhab-props.json", LoadOptions::new());
    let c = &door.config;
    assert!(!c.registration.enabled);
    assert_eq!(c.account.auth_user, "door-auth");
    assert_eq!(c.auto_dial.as_deref(), Some("sip:100@sip.home.lan"));
    assert_eq!(c.auto_answer.policy, AutoAnswerPolicy::Always);
    assert_eq!(
        c.directory.phonebook,
        vec![PhonebookEntry::new("sip:100@sip.home.lan", None)]
    );
    assert!(c.debug && c.ui.hide_caller_id);
    assert_eq!(c.ice.gathering.timeout_ms, None);
    // No `dtmfString`: the popup still opens on calls, without buttons.
    let popup = c.popup.as_ref().expect("openHAB props give a popup");
    assert!(popup.auto_open && popup.buttons.is_empty());
}

#[test]
fn relative_openhab_url_needs_an_origin() {
    insta::assert_snapshot!(report("openhab-widget.yaml", LoadOptions::new()));
}

#[test]
fn sipcore_errors_all_at_once() {
    let text = report(
        "sipcore-broken.json",
        LoadOptions::new().ha_user(HaUser::named("jordy")),
    );
    assert!(!text.contains("secret-not-shown"));
    insta::assert_snapshot!(text);
}

#[test]
fn openhab_errors_all_at_once() {
    insta::assert_snapshot!(report("openhab-broken.yaml", LoadOptions::new()));
}

#[test]
fn sipcore_default_needs_a_url_outside_home_assistant() {
    insta::assert_snapshot!(report("sipcore-default.json", LoadOptions::new()));
}

#[test]
fn missing_environment_variable_is_named() {
    let opts = LoadOptions::new()
        .ha_user(HaUser::named("kitchen"))
        .env(EnvSource::Map(BTreeMap::new()));
    let err = load_file(fixture("sipcore-custom.json"), &opts).expect_err("variables are missing");
    insta::assert_snapshot!(
        err.to_string()
            .replace(env!("CARGO_MANIFEST_DIR"), "$CRATE")
    );
}

#[test]
fn resolved_configs_snapshot_redacted() {
    let opts = LoadOptions::new()
        .origin("https://ha.local:8123")
        .ingress_entry("/api/hassio_ingress/abc");
    let loaded = load("sipcore-default.json", opts.ha_user(HaUser::named("jordy")));
    insta::assert_json_snapshot!("sipcore_default_jordy", loaded.config.redacted());
    let door = load("openhab-props.json", LoadOptions::new());
    insta::assert_json_snapshot!("openhab_door_station", door.config.redacted());
}
