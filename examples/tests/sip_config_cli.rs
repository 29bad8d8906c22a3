//! The `sip-config` example: `check` prints the resolved configuration (redacted) and exits 0, or
//! lists every error with its path and exits 1.

use std::path::PathBuf;
use std::process::{Command, Output};

mod support;

fn binary() -> PathBuf {
    support::example_binary("sip-config")
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../sip-config/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args).env_remove("HALLWAY_SIP_PASSWORD");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run sip-config")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_prints_the_resolved_config_redacted() {
    let f = fixture("sipcore-default.json");
    let out = run(
        &[
            "check",
            &f,
            "--ha-user",
            "jordy",
            "--origin",
            "https://ha.local:8123",
            "--ingress-entry",
            "/api/hassio_ingress/t",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(config["account"]["aor"], "sip:101@ha.local");
    assert_eq!(config["account"]["password"], "***");
    assert_eq!(config["popup"]["buttons"][0]["label"], "Open Door");
    assert!(!text(&out.stdout).contains("1234"), "password printed");
}

#[test]
fn check_openhab_yaml_with_local_account_and_env_secret() {
    let out = run(
        &[
            "check",
            &fixture("openhab-widget.yaml"),
            "--format",
            "openhab",
            "--origin",
            "https://oh.lan:8443",
            "--local",
            &fixture("openhab-local.json"),
        ],
        &[("HALLWAY_SIP_PASSWORD", "from-env")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(config["account"]["aor"], "sip:tablet-kitchen@sip.home.lan");
    assert_eq!(config["transport"]["urls"][0], "wss://oh.lan:8443/sip/ws");
    assert_eq!(config["dtmf"]["duration_ms"], 160);
}

#[test]
fn check_lists_every_error_and_exits_1() {
    let out = run(
        &[
            "check",
            &fixture("sipcore-broken.json"),
            "--ha-user",
            "jordy",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    for needle in [
        "error at custom_wss_url:",
        "error at popup_config.buttons[0].data: found \"1x\"",
        "error at users[1].ha_username:",
        "warning at auto_anwser:",
        "(did you mean `auto_answer`?)",
        "16 error(s)",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert!(
        !err.contains("secret-not-shown"),
        "password printed:\n{err}"
    );
}

#[test]
fn missing_environment_variable_is_named() {
    let out = run(
        &[
            "check",
            &fixture("openhab-widget.yaml"),
            "--origin",
            "https://oh.lan",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("`HALLWAY_SIP_PASSWORD`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unreadable_file_and_bad_format_fail_clearly() {
    let out = run(&["check", "/nonexistent/sip-config.json"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/sip-config.json"));
    let out = run(
        &[
            "check",
            &fixture("sipcore-default.json"),
            "--format",
            "asterisk",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown format `asterisk`"));
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = run(&["schema", "sipcore"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let committed = std::fs::read_to_string(format!(
        "{}/../sip-config/schemas/sipcore.schema.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("committed schema");
    assert_eq!(text(&out.stdout), committed);
}
