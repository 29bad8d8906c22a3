//! Inputs the fuzzers once crashed on (`fuzz/regressions/<target>/`), replayed on every test run
//! with the same checks as the fuzz targets, so a fixed bug stays fixed without a fuzzer.

use std::path::{Path, PathBuf};

use sip_proto::digest::{DigestRequest, Password};
use sip_proto::values::{Challenge, Credentials};
use sip_proto::{Message, MessageRef, parse_datagram};

fn regressions(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("readable regression input");
            (path, bytes)
        })
        .collect()
}

#[test]
fn parse_message_regressions_parse_or_fail_cleanly_and_round_trip() {
    for (path, bytes) in regressions("parse_message") {
        let Ok(datagram) = parse_datagram(&bytes) else {
            continue;
        };
        let msg = datagram.message;
        msg.via().for_each(drop);
        let _ = (msg.from(), msg.to(), msg.cseq(), msg.request_uri());
        msg.contact().for_each(drop);
        msg.www_authenticate().for_each(drop);
        let again = msg.to_bytes();
        let reparsed = MessageRef::parse(&again).unwrap_or_else(|e| {
            panic!("{}: serialized form does not re-parse: {e}", path.display())
        });
        assert_eq!(msg, reparsed, "{}", path.display());
        let owned = Message::from_ref(&msg).expect("owned conversion");
        assert_eq!(owned.as_ref(), msg, "{}", path.display());
    }
}

#[test]
fn digest_challenge_regressions_answer_with_parsable_credentials() {
    for (path, bytes) in regressions("digest_challenge") {
        let text = std::str::from_utf8(&bytes).expect("regression inputs are UTF-8");
        let challenge = Challenge::parse(text)
            .unwrap_or_else(|e| panic!("{}: challenge should parse: {e}", path.display()));
        let password = Password::new("fuzz-password");
        let authorization = DigestRequest::new("REGISTER", "sip:127.0.0.1", "alice", &password)
            .cnonce("0a4f113b")
            .nc(1)
            .answer(&challenge)
            .unwrap_or_else(|e| panic!("{}: challenge should be answerable: {e}", path.display()));
        let header = authorization.to_string();
        let credentials = Credentials::parse(&header)
            .unwrap_or_else(|e| panic!("{}: {header:?} does not parse back: {e}", path.display()));
        assert_eq!(credentials.nonce(), challenge.nonce(), "{}", path.display());
    }
}

#[test]
fn parse_uri_regressions_print_back_to_an_equal_uri() {
    for (path, bytes) in regressions("parse_uri") {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let Ok(uri) = sip_proto::uri::Uri::parse(text) else {
            continue;
        };
        let printed = uri.to_string();
        let again = sip_proto::uri::Uri::parse(&printed)
            .unwrap_or_else(|e| panic!("{}: {printed:?} does not re-parse: {e}", path.display()));
        assert!(uri.rfc_eq(&uri), "{}: not equal to itself", path.display());
        assert!(
            uri.rfc_eq(&again),
            "{}: not equal to its printed form",
            path.display()
        );
    }
}
