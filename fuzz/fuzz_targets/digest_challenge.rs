//! WWW-Authenticate challenge parsing and answering on arbitrary text: never panics; a digest
//! challenge that can be answered yields Authorization text that parses back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_proto::digest::{DigestRequest, Password};
use sip_proto::values::Credentials;
use sip_proto::values::Challenge;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(challenge) = Challenge::parse(text) else { return };
    let _ = challenge.realm();
    let _ = challenge.nonce();
    let password = Password::new("fuzz-password");
    let request = DigestRequest::new("REGISTER", "sip:127.0.0.1", "alice", &password)
        .cnonce("0a4f113b")
        .nc(1)
        .body(b"v=0\r\n");
    if let Ok(authorization) = request.answer(&challenge) {
        let header = authorization.to_string();
        Credentials::parse(&header).expect("our Authorization must parse back");
    }
});
