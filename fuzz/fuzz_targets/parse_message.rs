//! Datagram parse, every typed accessor, validate(), and the owned round trip on arbitrary bytes.
//! Whatever parses must serialize to bytes that parse again to an equal message, and the
//! in-place parse into a reused view must agree with a fresh parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_proto::validate::{ValidateOptions, validate};
use sip_proto::{Message, MessageRef, parse_datagram};

/// What the reused view holds before each in-place parse, so that stale state would show.
const EARLIER: &[u8] = b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let mut view = MessageRef::parse(EARLIER).expect("the earlier message parses");
    match (MessageRef::parse(data), view.parse_in_place(data)) {
        (Ok(fresh), Ok(())) => assert_eq!(fresh, view, "parse_in_place differs from parse"),
        (Err(fresh), Err(in_place)) => {
            assert_eq!(fresh, in_place, "parse_in_place fails differently");
            assert_eq!(view.header_count(), 0, "a failed parse_in_place leaves headers");
        }
        (fresh, in_place) => panic!("parse gave {fresh:?}, parse_in_place {in_place:?}"),
    }

    let Ok(datagram) = parse_datagram(data) else { return };
    let msg = datagram.message;
    touch_typed_views(&msg);
    let _ = validate(&msg, &ValidateOptions::default());

    let serialized = msg.to_bytes();
    let reparsed = MessageRef::parse(&serialized).expect("serialized message must re-parse");
    assert_eq!(msg, reparsed, "serialize then parse changed the message");

    let owned = Message::from_ref(&msg).expect("a parsed message converts to an owned one");
    assert_eq!(owned.as_ref(), msg);
});

fn touch_typed_views(msg: &MessageRef<'_>) {
    let _ = msg.request_uri();
    msg.via().for_each(drop);
    let _ = msg.from();
    let _ = msg.to();
    let _ = msg.cseq();
    msg.contact().for_each(drop);
    msg.route().for_each(drop);
    msg.record_route().for_each(drop);
    let _ = msg.max_forwards();
    let _ = msg.content_length();
    let _ = msg.content_type();
    let _ = msg.expires();
    let _ = msg.date();
    msg.www_authenticate().for_each(drop);
    msg.authorization().for_each(drop);
}
