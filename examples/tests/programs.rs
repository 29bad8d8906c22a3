//! The frontend programs as a user runs them: the demo end to end in non-terminal mode, and
//! every program's `--help` and bad arguments.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;

fn binary(name: &str) -> PathBuf {
    support::example_binary(name)
}

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(binary(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_demo_runs_every_step_on_loopback() {
    let started = Instant::now();
    // stdout is a pipe: the demo prints one line per step.
    let out = run("demo", &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "demo failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
    let expected = [
        "registered with the registrar double at ws://127.0.0.1:",
        "the kitchen popup opens: Front Door (camera.front_door), incoming",
        "the kitchen answered: connected",
        "the visualiser moves with the door's chime",
        "the kitchen pressed \"Open Door\": DTMF 1 by rfc4733",
        "the door got DTMF 1 by RFC 4733: door opened",
        "the door hung up (remote-bye); the kitchen popup closed",
        "demo passed: every step happened",
    ];
    let mut lines = stdout.lines();
    for want in expected {
        assert!(
            lines.any(|l| l.contains(want)),
            "missing (in order) {want:?} in:\n{stdout}"
        );
    }
}

#[test]
fn the_demo_explains_itself_and_its_arguments() {
    let out = run("demo", &["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(
        help.contains("door station rings a kitchen tablet") && help.contains("--timeout"),
        "{help}"
    );

    let out = run("demo", &["--timeout", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("invalid value '0' for '--timeout <TIMEOUT>'"),
        "{err}"
    );

    let out = run("demo", &["--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unexpected argument '--bogus'"));
}

#[test]
fn a_demo_that_cannot_finish_in_time_fails_and_says_which_steps_are_missing() {
    let out = run("demo", &["--timeout", "1"]);
    let stderr = text(&out.stderr);
    // One second is rarely enough for two WebRTC agents; when it is, the run must pass.
    if out.status.success() {
        assert!(text(&out.stdout).contains("demo passed"));
    } else {
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("demo failed: timed out after 1 s"),
            "{stderr}"
        );
        assert!(
            stderr.contains("steps that did not happen: ")
                || stderr.contains("every step happened, but not in time"),
            "{stderr}"
        );
    }
}

#[test]
fn the_doorstation_explains_itself_and_rejects_bad_arguments() {
    let out = run("doorstation", &["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for want in [
        "headless intercom",
        "--config",
        "--dtmf-code",
        "--on-code",
        "--greeting",
    ] {
        assert!(help.contains(want), "{want} missing in:\n{help}");
    }

    let out = run("doorstation", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--config <CONFIG>"),
        "{}",
        text(&out.stderr)
    );

    let out = run(
        "doorstation",
        &[
            "--config",
            "x.json",
            "--dtmf-code",
            "1x",
            "--on-code",
            "true",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("a DTMF code is made of 0-9, *, # and A-D"),
        "{}",
        text(&out.stderr)
    );

    let out = run("doorstation", &["--config", "x.json", "--dtmf-code", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--on-code <ON_CODE>"),
        "{}",
        text(&out.stderr)
    );

    let out = run("doorstation", &["--config", "/nonexistent/door.json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("doorstation: ") && err.contains("/nonexistent/door.json"),
        "{err}"
    );

    let out = run(
        "doorstation",
        &["--config", "x.json", "--media-address", "lan0"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value 'lan0' for '--media-address <IP>'"),
        "{}",
        text(&out.stderr)
    );
}

/// openHAB props with a relative WebSocket URL, written to a temporary file.
fn relative_openhab_props(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("sipline-{name}-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{ "websocketUrl": "/ws", "domain": "127.0.0.1", "username": "tablet", "password": "pw" }"#,
    )
    .unwrap();
    path
}

#[test]
fn the_account_programs_explain_openhab_origins_and_local_accounts() {
    for program in ["doorstation", "popup"] {
        let out = run(program, &["--help"]);
        let help = text(&out.stdout);
        for want in ["--origin", "--openhab-local", "--media-address"] {
            assert!(help.contains(want), "{program}: {want} missing in:\n{help}");
        }

        // A relative openHAB URL needs the page origin, and the message says so.
        let props = relative_openhab_props(program);
        let out = run(program, &["--config", props.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.starts_with(&format!("{program}: "))
                && err.contains("websocketUrl")
                && err.contains("--origin"),
            "{err}"
        );

        let out = run(
            program,
            &[
                "--config",
                props.to_str().unwrap(),
                "--openhab-local",
                "/nonexistent/local.json",
            ],
        );
        let _ = std::fs::remove_file(&props);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.contains("--openhab-local /nonexistent/local.json"),
            "{err}"
        );
    }
}

#[test]
fn the_popup_explains_itself_and_needs_a_terminal() {
    let out = run("popup", &["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(
        help.contains("interactive terminal call popup") && help.contains("--ha-user"),
        "{help}"
    );

    let out = run("popup", &["--ha-user", "kitchen"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--config <CONFIG>"),
        "{}",
        text(&out.stderr)
    );

    let out = run("popup", &["--config", "/nonexistent/popup.json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("popup: ") && err.contains("/nonexistent/popup.json"),
        "{err}"
    );

    // A valid configuration, but stdout is a pipe here.
    let config = std::env::temp_dir().join(format!("sipline-popup-{}.json", std::process::id()));
    std::fs::write(
        &config,
        r#"{ "custom_wss_url": "ws://127.0.0.1:9/ws", "users": [{ "ha_username": "kitchen", "password": "pw" }] }"#,
    )
    .unwrap();
    let out = run(
        "popup",
        &["--config", config.to_str().unwrap(), "--ha-user", "kitchen"],
    );
    let _ = std::fs::remove_file(&config);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "popup: the popup needs a terminal (stdout is not one)"
    );
}
