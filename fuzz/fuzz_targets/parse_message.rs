//! Datagram parse, every typed accessor, validate(), and the owned round trip on arbitrary bytes.
//! Whatever parses must serialize to bytes that parse again to an equal message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_proto::validate::{ValidateOptions, validate};
use sip_proto::{Message, MessageRef, parse_datagram};

fuzz_target!(|data: &[u8]| {
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
