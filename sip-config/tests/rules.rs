//! The resolution rules, each on a small inline document.

use serde_json::{Value, json};
use sip_config::{ConfigError, HaUser, LoadOptions, Loaded, load_value};

fn opts() -> LoadOptions {
    LoadOptions::new().ha_user(HaUser::named("jordy"))
}

fn with_user(mut doc: Value) -> Value {
    if doc.get("custom_wss_url").is_none() {
        doc["custom_wss_url"] = json!("wss://pbx.lan:8089/ws");
    }
    if doc.get("users").is_none() {
        doc["users"] = json!([{"ha_username": "jordy", "extension": "101", "password": "pw"}]);
    }
    doc
}

fn ok(doc: Value) -> Loaded {
    load_value(with_user(doc), "<doc>", &opts()).unwrap_or_else(|e| panic!("{e}"))
}

fn issues(doc: Value) -> Vec<String> {
    match load_value(with_user(doc), "<doc>", &opts()) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(ConfigError::Invalid { report, .. }) => {
            report.issues().iter().map(ToString::to_string).collect()
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn problems_inside_overrides_are_reported_there() {
    let found = issues(json!({
        "users": [{"ha_username": "jordy", "password": "pw", "overrides": {
            "custom_wss_url": "http://elsewhere/ws",
            "sip_vidoe": true,
            "ice_config": {"iceTransportPolicy": "relay"}
        }}]
    }));
    assert_eq!(
        found,
        [
            "error at users[0].overrides.custom_wss_url: found \"http://elsewhere/ws\" (http:// is not a WebSocket scheme), expected a ws:// or wss:// URL (or a sip:/sips: URI for UDP/TCP/TLS) (did you mean `ws://elsewhere/ws`?)",
            "error at users[0].overrides.ice_config.iceTransportPolicy: found `relay` without any TURN server, expected a turn: or turns: server in iceServers, or `all`",
            "warning at users[0].overrides.sip_vidoe: found the unknown key `sip_vidoe`, expected a key SIP Core knows (it is ignored) (did you mean `sip_video`?)",
        ]
    );
}

#[test]
fn overrides_of_other_users_do_not_apply() {
    let doc = json!({
        "sip_video": false,
        "users": [
            {"ha_username": "jordy", "password": "pw"},
            {"ha_username": "alice", "password": "pw", "overrides": {"sip_video": true}}
        ]
    });
    assert!(!ok(doc.clone()).config.media.video);
    let alice = load_value(
        with_user(doc),
        "<doc>",
        &LoadOptions::new().ha_user(HaUser::named("alice")),
    )
    .unwrap();
    assert!(alice.config.media.video);
}

#[test]
fn popup_null_turns_the_popup_off_and_missing_keeps_it() {
    assert_eq!(ok(json!({"popup_config": null})).config.popup, None);
    let default = ok(json!({})).config.popup.expect("default popup");
    assert!(default.auto_open && default.buttons.is_empty());
}

#[test]
fn passwords_never_appear_in_messages() {
    let found = issues(json!({"users": [{"ha_username": "jordy", "password": 987654}]}));
    assert_eq!(
        found,
        ["error at users[0].password: found a whole number (hidden), expected a string"]
    );
    let found = issues(json!({"users": [{"ha_username": "jordy", "password": "pa${x-y}"}]}));
    assert!(
        found[0].starts_with("error at users[0].password: found a `${...}` reference"),
        "{found:?}"
    );
    assert!(!found[0].contains("x-y"));
}

#[test]
fn domain_default_is_the_websocket_host_without_port() {
    assert_eq!(ok(json!({})).config.account.aor, "sip:101@pbx.lan");
    let v6 = ok(json!({"custom_wss_url": "wss://[fd00::5]:8089/ws"}));
    assert_eq!(v6.config.account.aor, "sip:101@[fd00::5]");
    let explicit = ok(json!({"pbx_server": "sip.example:5060"}));
    assert_eq!(explicit.config.account.aor, "sip:101@sip.example:5060");
}

#[test]
fn unknown_keys_in_open_objects_are_still_warnings() {
    let found = issues(json!({
        "ice_config": {"bundlePolicy": "max-bundle", "iceServer": [], "foo": 1},
        "popup_config": {"theme": "dark", "extensions": {"8001": {"extension": "8002"}}}
    }));
    assert_eq!(
        found,
        [
            "warning at ice_config.foo: found the key `foo`, which is not an RTCConfiguration key, expected an RTCConfiguration key (it is kept and passed on)",
            "warning at ice_config.iceServer: found the custom key `iceServer`, expected a known key (it is kept as a custom key) (did you mean `iceServers`?)",
            "warning at popup_config.extensions[\"8001\"].extension: found \"8002\", expected \"8001\", the key it is listed under (the key is used)",
            "warning at popup_config.theme: found the custom key `theme` but no popup_override_component, expected a key the built-in popup knows (custom keys only serve custom popups; it is kept)",
        ]
    );
}

#[test]
fn turn_servers_need_credentials_and_urls_need_ice_schemes() {
    let found = issues(
        json!({"ice_config": {"iceServers": [{"urls": "turn:t.lan"}, {"urls": ["stun:s.lan", "s.lan"]}]}}),
    );
    assert_eq!(
        found,
        [
            "error at ice_config.iceServers[0].credential: found nothing, expected a TURN credential",
            "error at ice_config.iceServers[0].username: found nothing, expected a TURN user name (browsers reject TURN servers without one)",
            "error at ice_config.iceServers[1].urls[1]: found \"s.lan\", expected a stun:, stuns:, turn: or turns: URL such as `stun:stun.l.google.com:19302`",
        ]
    );
}

#[test]
fn unknown_user_without_backup_suggests_a_close_name() {
    let doc = with_user(json!({}));
    let err = load_value(
        doc,
        "<doc>",
        &LoadOptions::new().ha_user(HaUser::named("Jordy")),
    )
    .unwrap_err();
    assert_eq!(
        err.report().unwrap().to_string(),
        "error at users: found no entry for the Home Assistant user \"Jordy\" and no backup_user, expected a users[] entry whose ha_username matches the user, or a backup_user (did you mean `jordy`?)"
    );
}

#[test]
fn openhab_domain_falls_back_to_the_websocket_host_with_a_warning() {
    let doc = json!({"websocketUrl": "wss://oh.lan:8443/ws", "username": "tab", "password": "pw"});
    let l = load_value(doc, "<doc>", &LoadOptions::new()).unwrap();
    assert_eq!(l.config.account.aor, "sip:tab@oh.lan");
    assert_eq!(
        l.warnings[0].to_string(),
        "warning at domain: found nothing, expected the SIP domain (using the WebSocket host `oh.lan`)"
    );
}

#[test]
fn openhab_register_without_password_is_an_error_but_call_only_is_fine() {
    let doc = json!({"websocketUrl": "wss://oh.lan/ws", "domain": "d", "username": "door"});
    let err = load_value(doc.clone(), "<doc>", &LoadOptions::new()).unwrap_err();
    assert!(
        err.to_string()
            .contains("error at password: found nothing, expected the SIP password"),
        "{err}"
    );
    let mut call_only = doc;
    call_only["disableRegister"] = json!(true);
    assert!(load_value(call_only, "<doc>", &LoadOptions::new()).is_ok());
}

#[test]
fn backup_user_may_be_a_list_whose_first_entry_is_used() {
    let doc = json!({"custom_wss_url": "wss://pbx.lan/ws", "backup_user": [{"ha_username": "tablet", "extension": "200", "password": "pw"}]});
    let l = load_value(doc, "<doc>", &LoadOptions::new()).unwrap();
    assert_eq!(l.config.account.aor, "sip:200@pbx.lan");
    let bad = json!({"custom_wss_url": "wss://pbx.lan/ws", "backup_user": [{"extension": "200", "password": ""}]});
    let err = load_value(bad, "<doc>", &LoadOptions::new()).unwrap_err();
    assert_eq!(
        err.report().unwrap().to_string(),
        "error at backup_user[0].ha_username: found nothing, expected the Home Assistant user name\n\
         error at backup_user[0].password: found an empty password, expected the SIP password (SIP Core always registers)"
    );
}

#[test]
fn sip_uri_transports_are_accepted_and_give_the_domain() {
    let l = ok(json!({"custom_wss_url": "sip:pbx.lan:5060;transport=tcp"}));
    assert_eq!(l.config.transport.urls, ["sip:pbx.lan:5060;transport=tcp"]);
    assert_eq!(l.config.account.aor, "sip:101@pbx.lan");
}

#[test]
fn openhab_widget_wrapper_is_checked_too() {
    let doc = json!({"component": "oh-sipclinet", "confg": {}, "config": {"websocketUrl": "wss://oh/ws", "domain": "d", "username": "u", "password": "p"}});
    let err = load_value(doc, "<doc>", &LoadOptions::new()).unwrap_err();
    assert_eq!(
        err.report().unwrap().to_string(),
        "error at component: found \"oh-sipclinet\", expected `oh-sipclient`\n\
         warning at confg: found the unknown key `confg`, expected a key of an openHAB widget (it is ignored) (did you mean `config`?)"
    );
}
