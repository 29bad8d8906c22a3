//! Property tests: generated messages (random headers, parameters, quoting, folding, compact
//! names, bodies) parse to what was generated and round-trip `parse(serialize(m)) == m`;
//! arbitrary and mutated bytes never make the parser panic, and whatever parses round-trips.

use proptest::prelude::*;
use sip_proto::framer::next_frame;
use sip_proto::validate::{ValidateOptions, validate};
use sip_proto::{HeaderName, Limits, Message, MessageRef, StartLine, parse_datagram, parse_stream};

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,11}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9-]{0,8}){0,2}",
        (0u8..=255, 0u8..=255, 0u8..=255, 1u8..=254)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        Just("[2001:db8::10]".to_owned()),
    ]
}

fn params() -> impl Strategy<Value = String> {
    prop::collection::vec((token(), prop::option::of(token())), 0..4).prop_map(|ps| {
        ps.into_iter()
            .map(|(k, v)| match v {
                Some(v) => format!(";{k}={v}"),
                None => format!(";{k}"),
            })
            .collect()
    })
}

fn sip_uri() -> impl Strategy<Value = String> {
    (
        prop::option::of("[a-z0-9]{1,8}"),
        host(),
        prop::option::of(1u16..),
        params(),
    )
        .prop_map(|(user, host, port, params)| {
            let user = user.map(|u| format!("{u}@")).unwrap_or_default();
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("sip:{user}{host}{port}{params}")
        })
}

fn quoted() -> impl Strategy<Value = String> {
    // Quoted strings with escaped quotes and backslashes, commas and angle brackets inside.
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9 ,<>;=]{1,6}".prop_map(|s| s),
            Just("\\\"".to_owned()),
            Just("\\\\".to_owned()),
        ],
        0..4,
    )
    .prop_map(|parts| format!("\"{}\"", parts.concat()))
}

fn name_addr() -> impl Strategy<Value = String> {
    (prop::option::of(quoted()), sip_uri(), params()).prop_map(|(display, uri, params)| {
        match display {
            Some(d) => format!("{d} <{uri}>{params}"),
            None => format!("<{uri}>{params}"),
        }
    })
}

/// A header value: words separated by spaces, commas or folds, never with white space at
/// either end (the parser trims it).
fn value() -> impl Strategy<Value = String> {
    let word = prop_oneof![token(), quoted(), name_addr(), sip_uri()];
    let sep = prop_oneof![
        Just(" ".to_owned()),
        Just(", ".to_owned()),
        Just(",".to_owned()),
        Just("\r\n ".to_owned()),
        Just("\r\n\t  ".to_owned()),
        Just(" ;".to_owned()),
    ];
    (word.clone(), prop::collection::vec((sep, word), 0..4)).prop_map(|(first, rest)| {
        let mut v = first;
        for (s, w) in rest {
            v.push_str(&s);
            v.push_str(&w);
        }
        v
    })
}

fn header_name() -> impl Strategy<Value = String> {
    let names = prop_oneof![
        Just("Via"),
        Just("v"),
        Just("From"),
        Just("f"),
        Just("To"),
        Just("t"),
        Just("Call-ID"),
        Just("i"),
        Just("Contact"),
        Just("m"),
        Just("Subject"),
        Just("s"),
        Just("Supported"),
        Just("k"),
        Just("Allow"),
        Just("Route"),
        Just("Record-Route"),
        Just("WWW-Authenticate"),
        Just("User-Agent"),
        Just("Date"),
        Just("X-Extension"),
        Just("NewFangled-Header"),
    ];
    // Random letter case: names are case-insensitive.
    (names, prop::collection::vec(any::<bool>(), 20)).prop_map(|(n, upper)| {
        n.chars()
            .zip(upper.into_iter().cycle())
            .map(|(c, u)| {
                if u {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
struct Generated {
    start: String,
    headers: Vec<(String, String, String)>, // (name, separator after the name, value)
    body: Vec<u8>,
}

impl Generated {
    fn bytes(&self) -> Vec<u8> {
        let mut out = self.start.clone().into_bytes();
        out.extend_from_slice(b"\r\n");
        for (name, sep, value) in &self.headers {
            out.extend_from_slice(format!("{name}{sep}{value}\r\n").as_bytes());
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

fn start_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop_oneof![
                Just("INVITE".to_owned()),
                Just("REGISTER".to_owned()),
                Just("OPTIONS".to_owned()),
                token()
            ],
            sip_uri()
        )
            .prop_map(|(m, u)| format!("{m} {u} SIP/2.0")),
        (100u16..700, "[a-zA-Z0-9 ]{0,20}").prop_map(|(s, r)| format!("SIP/2.0 {s} {r}")),
    ]
}

fn message() -> impl Strategy<Value = Generated> {
    let sep = prop_oneof![
        Just(": ".to_owned()),
        Just(":".to_owned()),
        Just(" :  ".to_owned()),
        Just(":\r\n ".to_owned())
    ];
    (
        start_line(),
        prop::collection::vec((header_name(), sep, value()), 0..20),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(start, headers, body)| Generated {
            start,
            headers,
            body,
        })
}

fn check_round_trip(msg: &MessageRef<'_>) {
    let bytes = msg.to_bytes();
    let again = MessageRef::parse(&bytes).expect("serialized output parses");
    assert_eq!(&again, msg);
    // The written Content-Length is the body's.
    assert_eq!(
        again
            .content_length()
            .expect("has length")
            .expect("valid")
            .0 as usize,
        again.body().len()
    );
    let owned = Message::from_ref(msg).expect("converts");
    assert_eq!(owned, *msg);
    // Canonical input is kept byte for byte, the rest is re-serialized: either way the
    // owned bytes parse back to the same message.
    let owned_bytes = owned.to_bytes();
    assert_eq!(
        MessageRef::parse(&owned_bytes).expect("owned bytes parse"),
        *msg
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_messages_parse_as_written_and_round_trip(g in message()) {
        let bytes = g.bytes();
        let msg = MessageRef::parse(&bytes).expect("generated message parses");
        match msg.start_line() {
            StartLine::Request { method, uri, .. } => {
                prop_assert_eq!(format!("{method} {uri} SIP/2.0"), g.start.clone());
            }
            StartLine::Response { status, reason, .. } => {
                prop_assert_eq!(format!("SIP/2.0 {status} {reason}"), g.start.clone());
            }
        }
        let parsed: Vec<_> = msg.headers().collect();
        prop_assert_eq!(parsed.len(), g.headers.len() + 1);
        for (h, (name, _, value)) in parsed.iter().zip(&g.headers) {
            prop_assert_eq!(h.raw_name, name.as_str());
            prop_assert_eq!(h.name, HeaderName::parse(name));
            prop_assert_eq!(h.value, value.as_str());
        }
        prop_assert_eq!(msg.body(), &g.body[..]);
        check_round_trip(&msg);
        // Typed access and validation never panic.
        let _ = msg.via().count() + msg.contact().count();
        let _ = (msg.from(), msg.to(), msg.cseq(), msg.max_forwards());
        let _ = validate(&msg, &ValidateOptions::default());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(g in message(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = g.bytes();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        exercise(&bytes);
        // Truncations are partial or errors on a stream, never panics.
        for cut in [bytes.len() / 3, bytes.len() / 2] {
            let _ = parse_stream(&bytes[..cut]);
        }
    }
}

fn exercise(bytes: &[u8]) {
    let limits = Limits::default();
    let _ = parse_stream(bytes);
    let _ = next_frame(bytes, &limits);
    if let Ok(d) = parse_datagram(bytes) {
        let msg = d.message;
        let _ = msg.via().count() + msg.contact().count() + msg.route().count();
        let _ = (
            msg.from(),
            msg.to(),
            msg.cseq(),
            msg.max_forwards(),
            msg.request_uri(),
        );
        let _ = validate(&msg, &ValidateOptions::default());
        check_round_trip(&msg);
    }
}

#[test]
fn sixty_four_headers_without_length_still_round_trip() {
    let mut bytes = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
    for i in 0..64 {
        bytes.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    bytes.extend_from_slice(b"\r\n");
    let msg = MessageRef::parse(&bytes).unwrap();
    assert_eq!(msg.header_count(), 64);
    check_round_trip(&msg);
    // A 65th ordinary header is over the limit.
    let mut over = bytes[..bytes.len() - 2].to_vec();
    over.extend_from_slice(b"X-65: v\r\n\r\n");
    assert!(matches!(
        MessageRef::parse(&over),
        Err(sip_proto::Error::Limit { .. })
    ));
}
