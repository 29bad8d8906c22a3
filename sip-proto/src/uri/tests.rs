use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

#[test]
fn full_sip_uri() {
    let s = "sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr;maddr=239.255.255.1;ttl=15?subject=hi&x=";
    let Uri::Sip(u) = Uri::parse(s).unwrap() else {
        panic!("sip")
    };
    assert!(u.secure);
    assert_eq!(u.user, Some("alice"));
    assert_eq!(u.password, Some("secret"));
    assert_eq!(
        u.host,
        Host::Ipv6("2001:db8::10".parse::<Ipv6Addr>().unwrap())
    );
    assert_eq!(u.port, Some(5061));
    assert_eq!(u.transport(), Some("tcp"));
    assert!(u.lr());
    assert_eq!(u.maddr(), Some("239.255.255.1"));
    assert_eq!(u.ttl(), Some(15));
    assert_eq!(
        u.header_pairs().collect::<Vec<_>>(),
        [("subject", "hi"), ("x", "")]
    );
    assert_eq!(u.to_string(), s);
}

#[test]
fn user_with_semicolon_and_escapes() {
    // RFC 4475 semiuri and esc01.
    let Uri::Sip(u) = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap() else {
        panic!()
    };
    assert_eq!(u.user, Some("user;par=u%40example.net"));
    assert_eq!(u.user_unescaped().unwrap(), "user;par=u@example.net");
    assert!(u.params.is_empty());
    let Uri::Sip(u) = Uri::parse("sip:sips%3Auser%40example.com@example.net").unwrap() else {
        panic!()
    };
    assert_eq!(u.user_unescaped().unwrap(), "sips:user@example.com");
    let Uri::Sip(u) = Uri::parse("sip:null-%00-null@example.com").unwrap() else {
        panic!()
    };
    assert_eq!(u.user_unescaped().unwrap(), "null-\0-null");
}

#[test]
fn host_only_and_ipv4() {
    let Uri::Sip(u) = Uri::parse("SIP:127.0.0.1").unwrap() else {
        panic!()
    };
    assert_eq!(u.host, Host::Ipv4(Ipv4Addr::LOCALHOST));
    assert_eq!(u.user, None);
    assert_eq!(u.to_string(), "sip:127.0.0.1");
}

#[test]
fn tel_and_other() {
    assert!(matches!(
        Uri::parse("tel:+1-555-0100").unwrap(),
        Uri::Tel(_)
    ));
    assert_eq!(
        Uri::parse("urn:uuid:59e46466-7295").unwrap(),
        Uri::Other {
            scheme: "urn",
            rest: "uuid:59e46466-7295"
        }
    );
    assert_eq!(
        Uri::parse("soap.beep://192.0.2.103:3002").unwrap(),
        Uri::Other {
            scheme: "soap.beep",
            rest: "//192.0.2.103:3002"
        }
    );
    assert_eq!(Uri::parse("isbn:2983792873").unwrap().scheme(), "isbn");
}

#[test]
fn refused_with_offsets() {
    let err = |s| match Uri::parse(s) {
        Err(crate::Error::Syntax { offset, .. }) => offset,
        other => panic!("{s}: {other:?}"),
    };
    assert_eq!(err("sip:user@example.com:5060:1"), 25);
    assert_eq!(err("sip:us er@example.com"), 6);
    assert_eq!(err("sip:user@"), 9);
    assert_eq!(err("sip:user@host:99999"), 14);
    assert_eq!(err("sip:user@host;=x"), 14);
    assert_eq!(err("sip:user@[::1"), 13);
    assert_eq!(err("sip:%zzuser@host"), 4);
    assert_eq!(err("sip:host?"), 9);
    assert_eq!(err("nocolon"), 7);
    assert_eq!(err("1x:foo"), 0);
    assert_eq!(err("http:"), 5);
    assert_eq!(err("http:a b"), 6);
    assert_eq!(err("sip:user@host name"), 13);
}

#[test]
fn owned_round_trip() {
    for s in [
        "sip:alice@atlanta.com",
        "sips:a:b@[::1]:5061;lr?h=v",
        "sip:host;transport=ws",
        "sip:192.0.2.1:5060",
        "tel:+1-555;ext=2",
        "urn:uuid:1",
        "sip:%61lice@AtLanTa.CoM;transport=TCP",
    ] {
        let uri = Uri::parse(s).unwrap();
        let owned = uri.to_owned();
        assert_eq!(owned.as_str(), s);
        assert_eq!(owned.uri(), uri, "{s}");
        assert_eq!(owned.uri().to_string(), s);
    }
}

#[test]
fn rfc5118_ipv6_references() {
    // 4.1: a valid IPv6 reference.
    let Uri::Sip(u) = Uri::parse("sip:[2001:db8::10]").unwrap() else {
        panic!()
    };
    assert_eq!(u.host, Host::Ipv6("2001:db8::10".parse().unwrap()));
    // 4.2: an IPv6 address without brackets is not a host.
    assert!(Uri::parse("sip:2001:db8::10").is_err());
    // 4.3: the port is ambiguous only to a broken parser: all of it is the address.
    let Uri::Sip(u) = Uri::parse("sip:[2001:db8::10:5070]").unwrap() else {
        panic!()
    };
    assert_eq!(u.host, Host::Ipv6("2001:db8::10:5070".parse().unwrap()));
    assert_eq!(u.port, None);
    // 4.4: port after the bracket.
    let Uri::Sip(u) = Uri::parse("sip:user@[2001:db8::10]:5070").unwrap() else {
        panic!()
    };
    assert_eq!(u.port, Some(5070));
    // 4.9: IPv4-mapped address.
    let Uri::Sip(u) = Uri::parse("sip:[::ffff:192.0.2.10]").unwrap() else {
        panic!()
    };
    assert_eq!(u.host.to_string(), "[::ffff:192.0.2.10]");
    // 4.10: dotted-quad tail in an IPv6 reference.
    assert!(Uri::parse("sip:[2001:db8::192.0.2.1]").is_ok());
    assert!(Uri::parse("sip:[2001:db8::10").is_err());
    assert!(Uri::parse("sip:[2001:db8:::10]").is_err());
    assert!(Uri::parse("sip:[2001:db8::10]5070").is_err());
}

#[test]
fn escaped_param_names() {
    // RFC 4475 esc01's Contact URI.
    let Uri::Sip(u) =
        Uri::parse("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31").unwrap()
    else {
        panic!()
    };
    assert!(u.lr());
    assert_eq!(
        u.param("name").and_then(|p| p.value),
        Some("v%61lue%25%34%31")
    );
    assert_eq!(
        escape::unescape(u.param("name").unwrap().value.unwrap()),
        "value%41"
    );
    assert_eq!(u.user_unescaped().unwrap(), "caller");
}
