//! Runs the `sip-parse` example program on corpus files, standard input and bad input.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod support;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn binary() -> PathBuf {
    support::example_binary("sip-parse")
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn real_invite_and_401_are_described() {
    let out = run(
        &[
            "testdata/corpus/real/009-jssip-invite.sip",
            "testdata/corpus/real/002-kamailio-401-register.sip",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = lines(&out);
    assert_eq!(l.len(), 2);
    let invite = &l[0];
    assert_eq!(invite["ok"], true);
    assert_eq!(invite["kind"], "request");
    assert_eq!(invite["method"], "INVITE");
    assert_eq!(invite["uri"], "sip:201@127.0.0.1");
    assert_eq!(invite["status"], Value::Null);
    assert_eq!(invite["call_id"], "mp5cns5cr8i4j3o7b610");
    assert_eq!(invite["cseq"]["seq"], 4388);
    assert_eq!(invite["cseq"]["method"], "INVITE");
    assert_eq!(invite["from"]["uri"], "sip:200@127.0.0.1");
    assert_eq!(invite["from"]["tag"], "v31av4tfbe");
    assert_eq!(invite["to"]["tag"], Value::Null);
    assert_eq!(invite["via"][0]["transport"], "WS");
    assert_eq!(invite["via"][0]["host"], "s43p1uh2dusj.invalid");
    assert_eq!(invite["via"][0]["branch"], "z9hG4bK4170225");
    assert_eq!(
        invite["contact"][0]["uri"],
        "sip:jjil5gq0@s43p1uh2dusj.invalid;transport=ws;ob"
    );
    assert_eq!(invite["max_forwards"], 69);
    assert_eq!(invite["content_length"], 1552);
    assert_eq!(invite["body_len"], 1552);
    assert_eq!(invite["verdict"], "ok");

    let challenge = &l[1];
    assert_eq!(challenge["kind"], "response");
    assert_eq!(challenge["status"], 401);
    assert_eq!(challenge["reason"], "Unauthorized");
    assert_eq!(challenge["method"], Value::Null);
    assert_eq!(challenge["via"][0]["port"], Value::Null);
    assert_eq!(
        challenge["to"]["tag"],
        "9dd61ff61e802d8e2bef5f14621ef3c2.211e0000"
    );
}

#[test]
fn stdin_and_verdicts() {
    let bytes = std::fs::read(root().join("testdata/corpus/rfc4475/unkscm.sip")).unwrap();
    let out = run(&["-"], &bytes);
    assert!(out.status.success());
    let l = lines(&out);
    assert_eq!(l[0]["file"], "-");
    assert_eq!(l[0]["verdict"], 416);
}

#[test]
fn bad_input_reports_offset_and_fails() {
    let out = run(
        &[
            "testdata/corpus/rfc4475/ncl.sip",
            "testdata/corpus/rfc4475/esc01.sip",
            "no/such/file.sip",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let l = lines(&out);
    assert_eq!(l.len(), 3);
    assert_eq!(l[0]["ok"], false);
    assert_eq!(l[0]["error"]["offset"], 326);
    assert!(
        l[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Content-Length")
    );
    assert_eq!(l[1]["ok"], true);
    assert_eq!(l[2]["ok"], false);
    assert_eq!(l[2]["error"]["offset"], Value::Null);

    let garbage = run(&["-"], b"\x00\x01 not SIP at all\r\n\r\n");
    assert_eq!(garbage.status.code(), Some(1));
    assert_eq!(lines(&garbage)[0]["ok"], false);
}
