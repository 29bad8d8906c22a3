//! Differential test against rsip 0.4: on every corpus message both parsers accept, both must
//! read the same method, request URI, status code and header values (in order). Messages only
//! one of them accepts are counted and printed, never silently skipped: the RFC 4475 verdict
//! tests say which side is right about those.

use std::path::Path;

use rsip::message::HasHeaders;
use sip_proto::uri::Uri;
use sip_proto::{HeaderName, MessageRef, StartLine};

/// Every corpus message with its file name.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus");
    let mut out = Vec::new();
    for dir in ["real", "rfc4475"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("corpus folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "sip") {
                let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
                out.push((name, std::fs::read(&path).expect("readable")));
            }
        }
    }
    out.sort();
    out
}

/// White space inside a value is not significant to either parser's model; compare it folded.
fn squash(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One header line as (canonical name, value) from sip-proto.
fn ours(msg: &MessageRef<'_>) -> Vec<(String, String)> {
    msg.headers()
        .map(|h| {
            (
                h.name.as_str().to_ascii_lowercase(),
                squash(&h.value_unfolded()),
            )
        })
        .collect()
}

/// One header line as (canonical name, value) from rsip, names mapped through sip-proto's
/// table so compact and canonical forms compare equal.
fn theirs(msg: &rsip::SipMessage) -> Vec<(String, String)> {
    msg.headers()
        .iter()
        .map(|h| {
            let line = h.to_string();
            let (name, value) = line.split_once(':').expect("rsip prints `Name: value`");
            let name = HeaderName::parse(name.trim()).as_str().to_ascii_lowercase();
            (name, squash(value))
        })
        .collect()
}

#[test]
fn sip_proto_and_rsip_read_the_same_fields_where_both_accept() {
    let mut both = 0;
    let mut only_ours = Vec::new();
    let mut only_rsip = Vec::new();
    for (name, bytes) in corpus() {
        // sip-proto parses the start line lazily: a request whose URI does not parse is one we
        // refuse (validate() answers 400/416), so it is not "accepted" here.
        let mine = MessageRef::parse(&bytes).and_then(|m| match m.request_uri() {
            Some(Err(e)) => Err(e),
            _ => Ok(m),
        });
        let other = rsip::SipMessage::try_from(bytes.as_slice());
        let (mine, other) = match (mine, other) {
            (Ok(m), Ok(o)) => (m, o),
            (Ok(_), Err(_)) => {
                only_ours.push(name);
                continue;
            }
            (Err(_), Ok(_)) => {
                only_rsip.push(name);
                continue;
            }
            (Err(_), Err(_)) => continue,
        };
        both += 1;
        match (mine.start_line(), &other) {
            (StartLine::Request { method, uri, .. }, rsip::SipMessage::Request(req)) => {
                assert_eq!(method.as_str(), req.method().to_string(), "{name}: method");
                // rsip re-prints URIs (it upper-cases `transport=ws`): compare by RFC 3261
                // §19.1.4 equality, not text.
                let theirs = req.uri().to_string();
                let a = Uri::parse(uri).unwrap_or_else(|e| panic!("{name}: our URI: {e}"));
                let b = Uri::parse(&theirs).unwrap_or_else(|e| panic!("{name}: rsip URI: {e}"));
                assert!(
                    a.rfc_eq(&b),
                    "{name}: request URI {uri:?} vs rsip's {theirs:?}"
                );
            }
            (StartLine::Response { status, .. }, rsip::SipMessage::Response(resp)) => {
                assert_eq!(status, resp.status_code().code(), "{name}: status");
            }
            _ => panic!("{name}: one parser saw a request, the other a response"),
        }
        assert_eq!(ours(&mine), theirs(&other), "{name}: headers");
        assert_eq!(mine.body(), other.body().as_slice(), "{name}: body");
    }
    println!("both accept {both}; only sip-proto: {only_ours:?}; only rsip: {only_rsip:?}");
    assert!(
        both >= 40,
        "too few messages in common ({both}) for the comparison to mean much"
    );
}
