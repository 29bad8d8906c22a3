//! Every example of RFC 3261 §19.1.4, both the equal and the unequal lists, plus the
//! non-transitivity example.

use sip_proto::uri::Uri;

fn uri(s: &str) -> Uri<'_> {
    Uri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn assert_equal(a: &str, b: &str) {
    assert!(uri(a).rfc_eq(&uri(b)), "{a} should equal {b}");
    assert!(uri(b).rfc_eq(&uri(a)), "{b} should equal {a}");
    assert!(
        uri(a).to_owned().rfc_eq(&uri(b)),
        "owned {a} should equal {b}"
    );
}

fn assert_unequal(a: &str, b: &str) {
    assert!(!uri(a).rfc_eq(&uri(b)), "{a} should differ from {b}");
    assert!(!uri(b).rfc_eq(&uri(a)), "{b} should differ from {a}");
}

#[test]
fn rfc3261_equivalent_uris() {
    assert_equal(
        "sip:%61lice@atlanta.com;transport=TCP",
        "sip:alice@AtLanTa.CoM;Transport=tcp",
    );
    assert_equal("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5");
    assert_equal("sip:carol@chicago.com", "sip:carol@chicago.com;security=on");
    assert_equal(
        "sip:carol@chicago.com;newparam=5",
        "sip:carol@chicago.com;security=on",
    );
    assert_equal(
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    );
    assert_equal(
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    );
}

#[test]
fn rfc3261_non_equivalent_uris() {
    // different usernames
    assert_unequal(
        "SIP:ALICE@AtLanTa.CoM;Transport=udp",
        "sip:alice@AtLanTa.CoM;Transport=UDP",
    );
    // can resolve to different ports
    assert_unequal("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060");
    // can resolve to different transports
    assert_unequal("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp");
    // can resolve to different port and transports
    assert_unequal(
        "sip:bob@biloxi.com",
        "sip:bob@biloxi.com:6000;transport=tcp",
    );
    // different header component
    assert_unequal(
        "sip:carol@chicago.com",
        "sip:carol@chicago.com?Subject=next%20meeting",
    );
    // even though that's what phone21.boxesbybob.com resolves to
    assert_unequal("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4");
}

#[test]
fn rfc3261_equality_is_not_transitive() {
    assert_equal("sip:carol@chicago.com", "sip:carol@chicago.com;security=on");
    assert_equal(
        "sip:carol@chicago.com",
        "sip:carol@chicago.com;security=off",
    );
    assert_unequal(
        "sip:carol@chicago.com;security=on",
        "sip:carol@chicago.com;security=off",
    );
}

#[test]
fn further_rules() {
    // sip and sips never match.
    assert_unequal("sip:alice@atlanta.com", "sips:alice@atlanta.com");
    // user, ttl, method and maddr must match when present in either.
    assert_unequal("sip:alice@atlanta.com", "sip:alice@atlanta.com;user=phone");
    assert_unequal("sip:alice@atlanta.com;ttl=1", "sip:alice@atlanta.com");
    assert_unequal(
        "sip:alice@atlanta.com;maddr=239.1.1.1",
        "sip:alice@atlanta.com;maddr=239.1.1.2",
    );
    assert_equal(
        "sip:alice@atlanta.com;METHOD=invite",
        "sip:alice@atlanta.com;method=INVITE",
    );
    // escaped host-part characters compare to their plain form; password is case-sensitive.
    assert_equal("sip:alice:pw@atlanta.com", "sip:alice:%70w@atlanta.com");
    assert_unequal("sip:alice:pw@atlanta.com", "sip:alice:PW@atlanta.com");
    // IPv6 addresses compare by value.
    assert_equal("sip:[2001:db8::10]", "sip:[2001:0db8:0:0:0:0:0:10]");
    // different schemes never match.
    assert_unequal("sip:+1555@example.com;user=phone", "tel:+1555");
    assert_equal("URN:uuid:1", "urn:uuid:1");
}

#[test]
fn escaped_reserved_characters_are_not_their_literals() {
    // "Characters other than those in the reserved set are equivalent to their %HEX HEX
    // encoding": so %3B is not ';' and %40 is not '@'.
    assert_unequal("sip:user%3Bpar@example.com", "sip:user;par@example.com");
    assert_equal("sip:user%3bpar@example.com", "sip:user%3Bpar@example.com");
    assert_equal("sip:%75ser@example.com", "sip:user@example.com");
    assert_unequal(
        "sip:example.com?to=sip:bob%40biloxi.com",
        "sip:example.com?to=sip%3Abob%40biloxi.com",
    );
}
