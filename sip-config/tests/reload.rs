//! Reload rules: what a change requires, and the watcher keeping the old config on broken edits.
//! Real files in a temp dir; every wait is bounded.

use std::time::Duration;

use serde_json::json;
use sip_config::{
    ConfigError, ConfigWatcher, Effect, HaUser, LoadOptions, ReloadEvent, diff, load_value,
};

const WAIT: Duration = Duration::from_secs(10);

fn doc(url: &str, password: &str, dtmf: &str) -> serde_json::Value {
    json!({
        "custom_wss_url": url,
        "users": [{"ha_username": "jordy", "extension": "101", "password": password}],
        "popup_config": {"buttons": [{"label": "Open", "type": "dtmf", "data": dtmf}]},
    })
}

fn opts() -> LoadOptions {
    LoadOptions::new().ha_user(HaUser::named("jordy"))
}

fn load(v: serde_json::Value) -> sip_config::PhoneConfig {
    load_value(v, "<test>", &opts()).expect("valid").config
}

#[test]
fn diff_says_what_each_change_requires() {
    let base = doc("wss://pbx/ws", "pw", "1");
    let old = load(base.clone());
    let effect = |new: serde_json::Value| diff(&old, &load(new)).required();
    assert_eq!(effect(base.clone()), None);
    assert_eq!(
        effect(doc("wss://other/ws", "pw", "1")),
        Some(Effect::Reconnect)
    );
    assert_eq!(
        effect(doc("wss://pbx/ws", "pw2", "1")),
        Some(Effect::Reregister)
    );
    assert_eq!(
        effect(doc("wss://pbx/ws", "pw", "2")),
        Some(Effect::ApplyLive)
    );
    let mut tones = base.clone();
    tones["incomingRingtoneUrl"] = json!("/ring.mp3");
    tones["auto_answer"] = json!(true);
    tones["popup_config"]["large"] = json!(true);
    let d = diff(&old, &load(tones));
    assert_eq!(d.required(), Some(Effect::ApplyLive));
    let paths: Vec<String> = d.changes.iter().map(|c| c.path.to_string()).collect();
    assert_eq!(
        paths,
        [
            "auto_answer.policy",
            "popup.large",
            "tones.incoming_ringtone"
        ]
    );
    let mut pbx = base;
    pbx["pbx_server"] = json!("sip.example");
    assert_eq!(effect(pbx), Some(Effect::Reregister));
}

async fn next(watcher: &mut ConfigWatcher) -> ReloadEvent {
    tokio::time::timeout(WAIT, watcher.next())
        .await
        .expect("a reload event in time")
        .expect("watcher running")
}

fn write(path: &std::path::Path, text: &str) {
    // Like an editor's safe save: write a sibling, then rename it over the file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

#[tokio::test]
async fn watcher_applies_good_edits_and_keeps_the_old_config_on_bad_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sip-config.json");
    std::fs::write(&path, doc("wss://pbx/ws", "pw", "1").to_string()).expect("write");
    let (mut watcher, first) = ConfigWatcher::start(&path, opts()).expect("start");
    assert_eq!(first.config.transport.urls[0], "wss://pbx/ws");

    // A good edit (in place) is applied, with its diff.
    std::fs::write(&path, doc("wss://pbx/ws", "pw2", "1").to_string()).expect("write");
    match next(&mut watcher).await {
        ReloadEvent::Applied { config, diff, .. } => {
            assert_eq!(config.account.password.expose(), "pw2");
            assert_eq!(diff.required(), Some(Effect::Reregister));
        }
        other => panic!("expected Applied, got {other:?}"),
    }

    // Broken JSON: rejected, old config kept.
    write(&path, "{ \"custom_wss_url\": ");
    match next(&mut watcher).await {
        ReloadEvent::Rejected {
            error: ConfigError::Syntax { .. },
        } => {}
        other => panic!("expected a syntax rejection, got {other:?}"),
    }
    assert_eq!(watcher.current().account.password.expose(), "pw2");

    // Parses but does not validate: rejected with the reason and its path.
    write(&path, &doc("http://pbx/ws", "pw3", "1x").to_string());
    match next(&mut watcher).await {
        ReloadEvent::Rejected { error } => {
            let text = error.to_string();
            assert!(
                text.contains("custom_wss_url") && text.contains("popup_config.buttons[0].data"),
                "{text}"
            );
            assert!(!text.contains("pw3"), "password leaked: {text}");
        }
        other => panic!("expected an invalid rejection, got {other:?}"),
    }
    assert_eq!(watcher.current().transport.urls[0], "wss://pbx/ws");

    // Fixed, with a new URL: applied, needs a reconnect.
    write(&path, &doc("wss://pbx2/ws", "pw3", "1").to_string());
    match next(&mut watcher).await {
        ReloadEvent::Applied { diff, .. } => assert_eq!(diff.required(), Some(Effect::Reconnect)),
        other => panic!("expected Applied, got {other:?}"),
    }
    assert_eq!(watcher.current().transport.urls[0], "wss://pbx2/ws");

    // Rewriting the same content produces no event.
    write(&path, &doc("wss://pbx2/ws", "pw3", "1").to_string());
    assert!(
        tokio::time::timeout(Duration::from_millis(800), watcher.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn watcher_refuses_to_start_on_an_invalid_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.json");
    std::fs::write(&path, doc("ftp://pbx/ws", "pw", "1").to_string()).expect("write");
    let err = ConfigWatcher::start(&path, opts()).expect_err("invalid");
    assert!(err.report().is_some_and(|r| r.has_errors()));
}
