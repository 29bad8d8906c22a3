//! Property tests for the value half: generated URIs and header values survive
//! `parse(display(x)) == x`, and no value parser panics on arbitrary input.

use proptest::prelude::*;
use sip_proto::uri::Uri;
use sip_proto::values::{
    CSeq, CallId, Challenge, Contact, ContentType, Credentials, Date, Event, MediaRange, NameAddr,
    Products, RAck, Reason, RetryAfter, SessionExpires, SubscriptionState, Token, Via,
};

fn escaped_text(class: &'static str) -> impl Strategy<Value = String> {
    // Characters of the class, plus escapes of anything (including reserved bytes).
    let plain =
        proptest::sample::select(class.chars().collect::<Vec<_>>()).prop_map(|c| c.to_string());
    let escape = any::<u8>().prop_map(|b| format!("%{b:02X}"));
    proptest::collection::vec(prop_oneof![4 => plain, 1 => escape], 1..12).prop_map(|v| v.concat())
}

const USER: &str = "abcXYZ019-_.!~*'()&=+$,;?/";
const PARAM: &str = "abcXYZ019-_.!~*'()[]/:&+$";
const HEADER: &str = "abcXYZ019-_.!~*'()[]/?:+$";

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9-]{0,8}){0,3}"
            .prop_filter("no trailing -", |s| !s.ends_with('-')),
        any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        any::<u128>().prop_map(|a| format!("[{}]", std::net::Ipv6Addr::from(a))),
    ]
}

fn sip_uri() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        proptest::option::of((
            escaped_text(USER),
            proptest::option::of(escaped_text("abc123&=+$,")),
        )),
        host(),
        proptest::option::of(any::<u16>()),
        proptest::collection::vec(
            (
                escaped_text(PARAM),
                proptest::option::of(escaped_text(PARAM)),
            ),
            0..4,
        ),
        proptest::collection::vec((escaped_text(HEADER), escaped_text(HEADER)), 0..3),
    )
        .prop_map(|(secure, userinfo, host, port, params, headers)| {
            let mut s = String::from(if secure { "sips:" } else { "sip:" });
            if let Some((user, password)) = userinfo {
                s += &user;
                if let Some(p) = password {
                    s += ":";
                    s += &p;
                }
                s += "@";
            }
            s += &host;
            if let Some(p) = port {
                s += &format!(":{p}");
            }
            for (name, value) in params {
                s += ";";
                s += &name;
                if let Some(v) = value {
                    s += "=";
                    s += &v;
                }
            }
            for (i, (name, value)) in headers.iter().enumerate() {
                s += if i == 0 { "?" } else { "&" };
                s += &format!("{name}={value}");
            }
            s
        })
}

proptest! {
    #[test]
    fn sip_uris_round_trip(text in sip_uri()) {
        let uri = Uri::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let written = uri.to_string();
        let again = Uri::parse(&written).unwrap();
        prop_assert_eq!(again, uri);
        prop_assert!(uri.rfc_eq(&again));
        let owned = uri.to_owned();
        prop_assert_eq!(owned.uri(), uri);
        prop_assert!(owned.rfc_eq(&uri));
    }

    #[test]
    fn name_addrs_round_trip(
        uri in sip_uri(),
        display in proptest::option::of("[ -~]{0,12}"),
        tag in proptest::option::of("[a-zA-Z0-9.~-]{1,12}"),
    ) {
        let mut text = String::new();
        if let Some(d) = &display {
            text += &format!("\"{}\" ", d.replace('\\', "\\\\").replace('"', "\\\""));
        }
        text += &format!("<{uri}>");
        if let Some(t) = &tag {
            text += &format!(";tag={t}");
        }
        let a = NameAddr::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(a.tag(), tag.as_deref());
        if let Some(d) = &display {
            prop_assert_eq!(a.display_name.unwrap().text(), d.as_str());
        }
        let written = a.to_string();
        prop_assert_eq!(NameAddr::parse(&written).unwrap(), a);
    }

    #[test]
    fn vias_round_trip(
        transport in "(UDP|TCP|TLS|WS|WSS|SCTP)",
        host in host(),
        port in proptest::option::of(any::<u16>()),
        branch in "z9hG4bK[a-zA-Z0-9]{1,16}",
        rport in proptest::option::of(proptest::option::of(any::<u16>())),
        folded in any::<bool>(),
    ) {
        let mut text = format!("SIP/2.0/{transport}{}{host}", if folded { "\r\n " } else { " " });
        if let Some(p) = port {
            text += &format!(":{p}");
        }
        text += &format!(";branch={branch}");
        match rport {
            Some(Some(p)) => text += &format!(";rport={p}"),
            Some(None) => text += ";rport",
            None => {}
        }
        let v = Via::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(v.branch(), Some(branch.as_str()));
        prop_assert_eq!(v.port, port);
        let written = v.to_string();
        prop_assert_eq!(Via::parse(&written).unwrap(), v);
    }

    #[test]
    fn no_value_parser_panics(input in "\\PC{0,64}|[\\x00-\\x7f]{0,64}") {
        let s = input.as_str();
        let _ = Uri::parse(s);
        let _ = NameAddr::parse(s);
        let _ = Contact::parse(s);
        let _ = Via::parse(s);
        let _ = CSeq::parse(s);
        let _ = CallId::parse(s);
        let _ = RAck::parse(s);
        let _ = Date::parse(s);
        let _ = Token::parse(s);
        let _ = ContentType::parse(s);
        let _ = MediaRange::parse(s);
        let _ = Event::parse(s);
        let _ = SubscriptionState::parse(s);
        let _ = Reason::parse(s);
        let _ = RetryAfter::parse(s);
        let _ = SessionExpires::parse(s);
        let _ = Products::parse(s);
        if let Ok(c) = Challenge::parse(s) {
            let _ = c.to_string();
            let _ = c.qop_options().count();
        }
        if let Ok(c) = Credentials::parse(s) {
            let _ = c.to_string();
            let _ = c.nc();
        }
        if let Ok(Uri::Sip(u)) = Uri::parse(s) {
            let _ = u.user_unescaped();
            let _ = u.header_pairs().count();
            let _ = u.params.iter().count();
        }
    }

    #[test]
    fn no_panic_on_sip_like_noise(input in "(sip:|<|>|\"|;|=|,|@|\\[|\\]|:|%|\\\\|\r\n |[a-z0-9]){0,40}") {
        let s = input.as_str();
        let _ = Uri::parse(s).map(|u| u.to_string());
        let _ = NameAddr::parse(s).map(|a| a.to_string());
        let _ = Contact::parse(s).map(|c| (c.expires(), c.q(), c.instance()));
        let _ = Via::parse(s).map(|v| v.to_string());
        let _ = Challenge::parse(s).map(|c| c.to_string());
    }
}
