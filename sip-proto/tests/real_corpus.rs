//! Every captured real message (JsSIP, Kamailio, SIPp) parses, with the fields readable by eye.

use std::path::PathBuf;

use sip_proto::{HeaderName, Message, MessageRef, Method, Parsed, parse_datagram, parse_stream};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus/real")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (file, first line) from INDEX.tsv.
fn index() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(corpus_dir().join("INDEX.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[0].to_owned(), cols[5].to_owned())
        })
        .collect()
}

#[test]
fn every_real_message_parses_whole() {
    let entries = index();
    assert!(
        entries.len() >= 67,
        "INDEX.tsv lists {} files",
        entries.len()
    );
    for (file, first_line) in entries {
        let bytes = read(&file);
        let dgram = parse_datagram(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(dgram.trailing.is_empty(), "{file}: trailing bytes");
        let msg = dgram.message;
        assert_eq!(
            msg.head_str().lines().next(),
            Some(first_line.as_str()),
            "{file}"
        );

        // The declared length is the body we sliced.
        let declared: usize = msg
            .header(HeaderName::ContentLength)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(declared, msg.body().len(), "{file}");
        assert!(
            msg.call_id().is_some_and(|c| !c.is_empty()),
            "{file}: Call-ID"
        );
        assert!(msg.header(HeaderName::CSeq).is_some(), "{file}: CSeq");
        assert!(
            msg.headers_named(HeaderName::Via).count() >= 1,
            "{file}: Via"
        );

        // Stream framing sees the same message and consumes all of it.
        match parse_stream(&bytes).unwrap() {
            Parsed::Complete { message, consumed } => {
                assert_eq!(consumed, bytes.len(), "{file}");
                assert_eq!(message, msg, "{file}");
            }
            Parsed::Partial => panic!("{file}: partial"),
        }
        // Every proper prefix is partial, never an error.
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                matches!(parse_stream(&bytes[..cut]), Ok(Parsed::Partial)),
                "{file}: prefix of {cut} bytes"
            );
        }

        // Serializing reproduces the captured bytes exactly (they are canonical already).
        assert_eq!(msg.to_bytes(), bytes, "{file}: serialization differs");
        let owned = Message::parse(bytes.clone()).unwrap();
        assert_eq!(owned.to_bytes(), bytes, "{file}");
        assert_eq!(owned, msg, "{file}");
    }
}

#[test]
fn jssip_invite_fields() {
    let bytes = read("009-jssip-invite.sip");
    let msg = MessageRef::parse(&bytes).unwrap();
    assert_eq!(msg.method(), Some(Method::Invite));
    assert_eq!(msg.request_uri_str(), Some("sip:201@127.0.0.1"));
    assert_eq!(msg.version(), "SIP/2.0");
    assert_eq!(msg.call_id(), Some("mp5cns5cr8i4j3o7b610"));
    assert_eq!(msg.header(HeaderName::CSeq), Some("4388 INVITE"));
    assert_eq!(msg.header(HeaderName::MaxForwards), Some("69"));
    assert_eq!(
        msg.header(HeaderName::Via),
        Some("SIP/2.0/WS s43p1uh2dusj.invalid;branch=z9hG4bK4170225")
    );
    assert_eq!(
        msg.header(HeaderName::From),
        Some("<sip:200@127.0.0.1>;tag=v31av4tfbe")
    );
    assert_eq!(msg.header(HeaderName::To), Some("<sip:201@127.0.0.1>"));
    assert_eq!(
        msg.header(HeaderName::Contact),
        Some("<sip:jjil5gq0@s43p1uh2dusj.invalid;transport=ws;ob>")
    );
    assert_eq!(msg.header(HeaderName::ContentType), Some("application/sdp"));
    assert_eq!(msg.header(HeaderName::SessionExpires), Some("90"));
    // Allow is a list: split at commas.
    let allow: Vec<&str> = msg.headers_named(HeaderName::Allow).collect();
    assert_eq!(allow.len(), 11);
    assert_eq!(allow[0], "INVITE");
    assert_eq!(allow[10], "SUBSCRIBE");
    assert_eq!(
        msg.headers_named(HeaderName::Supported).collect::<Vec<_>>(),
        ["timer", "ice", "replaces", "outbound"]
    );
    assert_eq!(
        msg.header(HeaderName::UserAgent),
        Some("JsSIP interop bench")
    );
    assert_eq!(msg.body().len(), 1552);
    assert!(
        msg.body()
            .starts_with(b"v=0\r\no=- 2780427709425802900 2 IN IP4 127.0.0.1\r\n")
    );
    assert_eq!(msg.header_count(), 13);

    // Typed views of the same headers.
    let allow: Vec<Method<'_>> = msg.allow().map(Result::unwrap).collect();
    assert_eq!(allow.len(), 11);
    assert_eq!((allow[0], allow[10]), (Method::Invite, Method::Subscribe));
    let supported: Vec<&str> = msg.supported().map(|t| t.unwrap().as_str()).collect();
    assert_eq!(supported, ["timer", "ice", "replaces", "outbound"]);
    assert!(msg.session_expires().unwrap().is_ok());
    assert!(msg.user_agent().unwrap().is_ok());
    assert!(
        msg.content_type()
            .unwrap()
            .unwrap()
            .is("application", "sdp")
    );
    assert_eq!(msg.max_forwards().unwrap().unwrap().0, 69);
    assert_eq!(msg.cseq().unwrap().unwrap().seq, 4388);
    let via = msg.top_via().unwrap().unwrap();
    assert_eq!(
        (via.transport, via.branch()),
        ("WS", Some("z9hG4bK4170225"))
    );
    assert_eq!(msg.from().unwrap().unwrap().tag(), Some("v31av4tfbe"));
    assert_eq!(msg.to().unwrap().unwrap().tag(), None);
    assert_eq!(msg.contact().count(), 1);
    assert!(msg.event().is_none() && msg.rseq().is_none() && msg.retry_after().is_none());
}

#[test]
fn kamailio_challenge_is_not_split_at_commas() {
    let bytes = read("002-kamailio-401-register.sip");
    let msg = MessageRef::parse(&bytes).unwrap();
    assert!(msg.is_response());
    assert_eq!(msg.status(), Some(401));
    assert_eq!(msg.reason(), Some("Unauthorized"));
    let challenges: Vec<&str> = msg.headers_named(HeaderName::WwwAuthenticate).collect();
    assert_eq!(
        challenges,
        [
            "Digest realm=\"127.0.0.1\", nonce=\"awTnlGsE5mg+p6ZPPjtnYIGO8yIgjqoELnTYFIA=\", qop=\"auth\""
        ]
    );
    assert_eq!(
        msg.header(HeaderName::Server),
        Some("kamailio (5.6.3 (x86_64/linux))")
    );
    assert_eq!(
        msg.header(HeaderName::Via),
        Some(
            "SIP/2.0/WS llqujp2dpm9r.invalid;branch=z9hG4bK4186651;rport=41634;received=127.0.0.1"
        )
    );
    assert_eq!(msg.header(HeaderName::CSeq), Some("1 REGISTER"));
    assert!(msg.body().is_empty());
    let challenge = msg.www_authenticate().next().unwrap().unwrap();
    assert!(challenge.scheme.eq_ignore_ascii_case("Digest"));
    assert!(msg.server().unwrap().is_ok());
    assert_eq!(
        msg.to().unwrap().unwrap().tag(),
        Some("9dd61ff61e802d8e2bef5f14621ef3c2.211e0000")
    );
}

#[test]
fn every_typed_view_of_every_real_message_parses() {
    for (file, _) in index() {
        let bytes = read(&file);
        let msg = MessageRef::parse(&bytes).unwrap();
        let ok = msg.via().all(|v| v.is_ok())
            && msg.from().is_some_and(|f| f.is_ok())
            && msg.to().is_some_and(|t| t.is_ok())
            && msg.cseq().is_some_and(|c| c.is_ok())
            && msg.contact().all(|c| c.is_ok())
            && msg.route().all(|r| r.is_ok())
            && msg.record_route().all(|r| r.is_ok())
            && msg.allow().all(|a| a.is_ok())
            && msg.supported().all(|s| s.is_ok())
            && msg.www_authenticate().all(|c| c.is_ok())
            && msg.proxy_authenticate().all(|c| c.is_ok())
            && msg.authorization().all(|c| c.is_ok())
            && msg.proxy_authorization().all(|c| c.is_ok())
            && msg.max_forwards().is_none_or(|m| m.is_ok())
            && msg.expires().is_none_or(|e| e.is_ok())
            && msg.content_type().is_none_or(|c| c.is_ok())
            && msg.user_agent().is_none_or(|u| u.is_ok())
            && msg.server().is_none_or(|s| s.is_ok())
            && msg.session_expires().is_none_or(|s| s.is_ok())
            && msg.request_uri().is_none_or(|u| u.is_ok());
        assert!(ok, "{file}: a typed view failed");
        assert_eq!(
            sip_proto::validate::validate(&msg, &Default::default()),
            sip_proto::validate::Verdict::Accept,
            "{file}"
        );
    }
}
