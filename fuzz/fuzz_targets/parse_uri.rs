//! URI parsing on arbitrary text: never panics; whatever parses prints back to a URI that parses
//! again and is equal under RFC 3261 §19.1.4.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_proto::uri::Uri;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(uri) = Uri::parse(text) else { return };
    let printed = uri.to_string();
    let again = Uri::parse(&printed).expect("a printed URI must re-parse");
    assert!(uri.rfc_eq(&again), "{text:?} printed as {printed:?} is not equal to itself");
});
