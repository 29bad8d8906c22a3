//! The committed JSON Schemas match the model types. Regenerate with
//! `SIPLINE_BLESS=1 cargo test -p sip-config --test schemas`.

use sip_config::{Format, json_schema, local_account_schema, schema_file_name};

fn check(file: &str, generated: &str) {
    let path = format!("{}/schemas/{file}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("SIPLINE_BLESS").is_some() {
        std::fs::write(&path, generated).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{path} is out of date with the model types; regenerate it with\n  \
         SIPLINE_BLESS=1 cargo test -p sip-config --test schemas\nand commit the result"
    );
}

#[test]
fn committed_schemas_are_current() {
    for format in Format::ALL {
        check(schema_file_name(format), &json_schema(format));
    }
    check("openhab-local.schema.json", &local_account_schema());
}

#[test]
fn schemas_describe_the_documented_keys() {
    let sipcore: serde_json::Value = serde_json::from_str(&json_schema(Format::SipCore)).unwrap();
    for key in [
        "custom_wss_url",
        "pbx_server",
        "users",
        "backup_user",
        "ice_config",
        "popup_config",
    ] {
        assert!(
            sipcore["properties"].get(key).is_some(),
            "SIP Core schema lacks {key}"
        );
    }
    assert_eq!(
        sipcore["$defs"]["Secret"],
        serde_json::Value::Null,
        "secrets are inlined"
    );
    let user = &sipcore["$defs"]["SipCoreUser"]["properties"]["password"];
    assert_eq!(user["writeOnly"], true, "{user}");
    let openhab: serde_json::Value = serde_json::from_str(&json_schema(Format::OpenHab)).unwrap();
    for key in [
        "websocketUrl",
        "domain",
        "autoAnswer",
        "enableSIPDebug",
        "iconSize",
    ] {
        assert!(
            openhab["properties"].get(key).is_some(),
            "openHAB schema lacks {key}"
        );
    }
}
