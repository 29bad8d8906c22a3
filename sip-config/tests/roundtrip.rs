//! Property tests: any valid configuration survives a serde round trip, and valid SIP Core
//! documents always load.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};
use sip_config::{
    Account, AutoAnswerPolicy, ButtonAction, CallerPattern, ExtensionEntry, HaUser, IceServer,
    LoadOptions, PhoneConfig, PhonebookEntry, PopupButton, PopupConfig, Secret, TransportConfig,
    load_value,
};

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,8}"
}

fn simple_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        word().prop_map(Value::from),
    ]
}

fn button() -> impl Strategy<Value = PopupButton> {
    let action = prop_oneof![
        "[0-9A-D#*,]{1,6}".prop_map(|digits| ButtonAction::Dtmf { digits }),
        (
            word(),
            word(),
            prop::collection::btree_map(word(), simple_value(), 0..3)
        )
            .prop_map(|(domain, service, data)| ButtonAction::ServiceCall {
                domain,
                service,
                data
            }),
    ];
    (word(), prop::option::of(word()), action).prop_map(|(label, icon, action)| {
        let mut b = serde_json::from_value::<PopupButton>(
            json!({"label": "x", "icon": null, "action": {"type": "dtmf", "digits": "1"}}),
        )
        .expect("template");
        b.label = label;
        b.icon = icon;
        b.action = action;
        b
    })
}

prop_compose! {
    fn phone_config()(
        user in word(), host in word(), password in ".{0,12}", display in prop::option::of(".{0,12}"),
        urls in prop::collection::vec(word().prop_map(|h| format!("wss://{h}/ws")), 1..3),
        keepalive in prop::option::of(any::<u32>()),
        enabled in any::<bool>(), expires in any::<u32>(),
        servers in prop::collection::vec((word(), prop::option::of(word()), prop::option::of(".{0,8}")), 0..3),
        pool in any::<u8>(), timeout in prop::option::of(any::<u32>()),
        extra in prop::collection::btree_map(word(), simple_value(), 0..3),
        video in any::<bool>(), local_video in any::<bool>(),
        policy in prop_oneof![Just(0u8), Just(1), Just(2)],
        callers in prop::collection::vec((word(), prop::option::of(word())), 0..3),
        per_ext in prop::collection::btree_map("[0-9]{1,4}", any::<bool>(), 0..3),
        auto_dial in prop::option::of(word()),
        dtmf in (any::<u32>(), any::<u32>(), prop::option::of("[0-9#*]{1,5}")),
        tones in (any::<bool>(), prop::option::of(word()), prop::option::of(word())),
        book in prop::collection::vec(("[0-9]{1,4}", prop::option::of(".{0,10}")), 0..4),
        extensions in prop::collection::vec(("[0-9]{1,4}", prop::option::of(word()), prop::option::of(word()), prop::option::of(any::<bool>())), 0..3),
        popup in prop::option::of((any::<bool>(), any::<bool>(), any::<bool>(), prop::collection::vec(button(), 0..3), prop::option::of(word()), prop::collection::btree_map(word(), simple_value(), 0..2))),
        state_item in prop::option::of(word()), debug in any::<bool>(),
    ) -> PhoneConfig {
        let mut account = Account::new(format!("sip:{user}@{host}"), user.clone(), Secret::new(password));
        account.display_name = display;
        let mut transport = TransportConfig::new(urls[0].clone());
        transport.urls = urls;
        transport.keepalive_interval_ms = keepalive;
        let mut c = PhoneConfig::new(account, transport);
        c.registration.enabled = enabled;
        c.registration.expires_secs = expires;
        c.ice.servers = servers.into_iter().map(|(h, u, cred)| {
            let mut s = IceServer::new(vec![format!("turn:{h}")]);
            (s.username, s.credential) = (u, cred.map(Secret::new));
            s
        }).collect();
        c.ice.candidate_pool_size = pool;
        c.ice.gathering.timeout_ms = timeout;
        c.ice.extra = extra;
        c.media.video = video;
        c.media.local_video = local_video;
        c.auto_answer.policy = match policy {
            0 => AutoAnswerPolicy::Never,
            1 => AutoAnswerPolicy::Always,
            _ => AutoAnswerPolicy::Callers(callers.into_iter().map(|(u, h)| CallerPattern::new(u, h)).collect()),
        };
        c.auto_answer.per_extension = per_ext;
        c.auto_dial = auto_dial;
        (c.dtmf.duration_ms, c.dtmf.inter_tone_gap_ms, c.dtmf.preset) = dtmf;
        (c.tones.enabled, c.tones.incoming_ringtone, c.tones.ringback) = tones;
        c.directory.phonebook = book.into_iter().map(|(n, name)| PhonebookEntry::new(n, name)).collect();
        c.directory.extensions = extensions.into_iter().map(|(number, name, camera_entity, auto_answer)| {
            let mut e: ExtensionEntry = serde_json::from_value(json!({"number": "", "name": null, "camera_entity": null, "auto_answer": null})).expect("template");
            (e.number, e.name, e.camera_entity, e.auto_answer) = (number, name, camera_entity, auto_answer);
            e
        }).collect();
        c.popup = popup.map(|(auto_open, large, hide, buttons, comp, custom)| {
            let mut p = PopupConfig::default();
            (p.auto_open, p.large, p.hide_header_button, p.buttons, p.override_component, p.custom) = (auto_open, large, hide, buttons, comp, custom);
            p
        });
        c.state_item = state_item;
        c.debug = debug;
        c
    }
}

/// A valid SIP Core document with `n` distinct users and some buttons.
fn sipcore_doc() -> impl Strategy<Value = (Value, String)> {
    (
        prop::collection::btree_set("[a-z]{3,8}", 1..5),
        word(),
        prop::option::of(1u16..65535),
        prop::collection::vec("[0-9A-D#*,]{1,6}", 0..3),
        prop::collection::btree_map("[0-9]{2,4}", (word(), any::<bool>()), 0..3),
        any::<bool>(),
    )
        .prop_map(|(names, host, port, dtmf, exts, answer)| {
            let users: Vec<Value> = names
                .iter()
                .enumerate()
                .map(|(i, n)| json!({"ha_username": n, "extension": format!("{}", 100 + i), "password": format!("pw-{n}")}))
                .collect();
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let buttons: Vec<Value> =
                dtmf.iter().map(|d| json!({"label": "b", "type": "dtmf", "data": d})).collect();
            let extensions: BTreeMap<String, Value> = exts
                .into_iter()
                .map(|(k, (name, aa))| (k, json!({"name": name, "auto_answer": aa})))
                .collect();
            let doc = json!({
                "custom_wss_url": format!("wss://{host}{port}/ws"),
                "auto_answer": answer,
                "users": users,
                "popup_config": {"buttons": buttons, "extensions": extensions},
            });
            (doc, names.into_iter().next().unwrap_or_default())
        })
}

proptest! {
    #[test]
    fn phone_config_round_trips_through_serde(config in phone_config()) {
        let json = serde_json::to_string(&config).expect("serialize");
        let back: PhoneConfig = serde_json::from_str(&json).expect("deserialize");
        prop_assert_eq!(&back, &config);
        let yaml = serde_norway::to_string(&config).expect("yaml");
        let back: PhoneConfig = serde_norway::from_str(&yaml).expect("from yaml");
        prop_assert_eq!(back, config);
    }

    #[test]
    fn valid_sipcore_documents_load_and_round_trip((doc, first) in sipcore_doc()) {
        let opts = LoadOptions::new().ha_user(HaUser::named(first.clone()));
        let loaded = load_value(doc, "<prop>", &opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        prop_assert_eq!(loaded.config.account.display_name.as_deref(), Some(first.as_str()));
        let json = serde_json::to_value(&loaded.config).expect("serialize");
        let back: PhoneConfig = serde_json::from_value(json).expect("deserialize");
        prop_assert_eq!(back, loaded.config);
    }
}

/// Any JSON, with keys drawn mostly from the real formats so the walk goes deep.
fn arbitrary_document() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "custom_wss_url",
            "pbx_server",
            "users",
            "backup_user",
            "auto_answer",
            "sip_video",
            "ice_config",
            "iceServers",
            "urls",
            "username",
            "credential",
            "iceTransportPolicy",
            "iceCandidatePoolSize",
            "popup_config",
            "buttons",
            "extensions",
            "type",
            "data",
            "label",
            "domain",
            "service",
            "ha_username",
            "extension",
            "password",
            "overrides",
            "websocketUrl",
            "phonebook",
            "autoAnswer",
            "iconSize",
            "dtmfString",
            "component",
            "config",
            "8001",
        ])
        .prop_map(str::to_owned),
        "[a-z${}]{1,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("relay".to_owned()),
            Just("dtmf".to_owned()),
            Just("wss://h/ws".to_owned()),
            Just("oh-sipclient".to_owned()),
            "\\PC{0,12}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_documents_never_panic(doc in arbitrary_document(), sipcore in any::<bool>()) {
        let format = if sipcore { sip_config::Format::SipCore } else { sip_config::Format::OpenHab };
        let opts = LoadOptions::new().format(format).origin("https://o.lan").ha_user(HaUser::named("a"));
        // Either outcome is fine; reaching it without a panic is the property.
        let _ = load_value(doc.clone(), "<fuzz>", &opts);
        let _ = load_value(doc, "<fuzz>", &LoadOptions::new());
    }
}
