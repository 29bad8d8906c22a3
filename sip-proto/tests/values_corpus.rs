//! Every typed header value in the test corpora through the value parsers, independently of
//! the message layer: the real captures and the RFC 4475 messages that must parse yield no
//! error; the RFC 4475 messages refused for a bad value are refused by that value's parser.

use sip_proto::grammar::split_list;
use sip_proto::values::{
    CSeq, CallId, Challenge, Contact, ContentLength, ContentType, Credentials, Date, Event,
    Expires, MaxForwards, MediaRange, MinExpires, MinSe, NameAddr, Products, RAck, RSeq, Reason,
    RetryAfter, SessionExpires, SubscriptionState, Token, Via,
};

fn corpus_dir(sub: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/corpus")
        .join(sub)
}

/// The header fields of a message: (name, value), folded lines kept inside the value.
fn headers(message: &[u8]) -> Vec<(String, String)> {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(message.len());
    let head = String::from_utf8_lossy(&message[..end]);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n").skip(1) {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push_str("\r\n");
                last.1.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.to_owned()));
        }
    }
    fields
}

/// Parses one header field with its typed parser; `None` for headers without one.
fn check(name: &str, value: &str) -> Option<Result<(), String>> {
    fn each<'a, T>(
        value: &'a str,
        parse: impl Fn(&'a str) -> sip_proto::Result<T>,
    ) -> Result<(), String> {
        for (item, _) in split_list(value) {
            parse(item).map_err(|e| format!("{item:?}: {e}"))?;
        }
        Ok(())
    }
    fn one<'a, T>(
        value: &'a str,
        parse: impl Fn(&'a str) -> sip_proto::Result<T>,
    ) -> Result<(), String> {
        parse(value)
            .map(|_| ())
            .map_err(|e| format!("{value:?}: {e}"))
    }
    Some(match name {
        "via" | "v" => each(value, Via::parse),
        "from" | "f" | "to" | "t" | "refer-to" | "r" => one(value, NameAddr::parse),
        "route" | "record-route" => each(value, NameAddr::parse),
        "contact" | "m" => each(value, Contact::parse),
        "call-id" | "i" => one(value, CallId::parse),
        "cseq" => one(value, CSeq::parse),
        "max-forwards" => one(value, MaxForwards::parse),
        "content-length" | "l" => one(value, ContentLength::parse),
        "expires" => one(value, Expires::parse),
        "min-expires" => one(value, MinExpires::parse),
        "content-type" | "c" => one(value, ContentType::parse),
        "allow" | "supported" | "k" | "require" | "proxy-require" | "unsupported" => {
            each(value, Token::parse)
        }
        "accept" => each(value, MediaRange::parse),
        "www-authenticate" | "proxy-authenticate" => one(value, Challenge::parse),
        "authorization" | "proxy-authorization" => one(value, Credentials::parse),
        "event" | "o" => one(value, Event::parse),
        "subscription-state" => one(value, SubscriptionState::parse),
        "session-expires" | "x" => one(value, SessionExpires::parse),
        "min-se" => one(value, MinSe::parse),
        "reason" => each(value, Reason::parse),
        "rseq" => one(value, RSeq::parse),
        "rack" => one(value, RAck::parse),
        "user-agent" | "server" => one(value, Products::parse),
        "date" => one(value, Date::parse),
        "retry-after" => one(value, RetryAfter::parse),
        _ => return None,
    })
}

#[test]
fn every_real_header_value_parses() {
    let mut checked = 0;
    for entry in std::fs::read_dir(corpus_dir("real")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sip") {
            continue;
        }
        for (name, value) in headers(&std::fs::read(&path).unwrap()) {
            if let Some(result) = check(&name, &value) {
                result.unwrap_or_else(|e| panic!("{}: {name}: {e}", path.display()));
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "only {checked} typed values checked");
}

/// Messages whose RFC 4475 verdict is `parse`/`accept`, or a status owed for a reason other
/// than a malformed typed value.
fn must_parse(name: &str, expected: &str) -> bool {
    let owed_for_other_reasons = [
        "clerr",
        "lwsruri",
        "lwsstart",
        "trws",
        "escruri",
        "ltgtruri",
        "badvers",
        "mismatch01",
        "mismatch02",
        "bigcode",
        "insuf",
        "unkscm",
        "novelsc",
        "bext01",
        "invut",
        "regaut01",
        "multi01",
        "mcl01",
        "sdp01",
        "zeromf",
    ];
    expected.starts_with("parse")
        || expected.starts_with("accept")
        || owed_for_other_reasons.contains(&name)
}

/// The values the RFC says are malformed, for the messages refused because of them
/// (scalar02 and scalarlg are out-of-range scalars; badinv01 has stray `;;,` in Via and
/// `;;;;` after its Contact; ncl a negative Content-Length).
const BAD_VALUES: [(&str, &[&str]); 9] = [
    ("scalar02", &["cseq", "max-forwards", "expires"]),
    ("scalarlg", &["cseq", "retry-after"]),
    ("badinv01", &["via", "contact"]),
    ("ncl", &["content-length"]),
    ("quotbal", &["to"]),
    ("baddate", &["date"]),
    ("regbadct", &["contact"]),
    ("badaspec", &["to"]),
    ("baddn", &["from", "to"]),
];

#[test]
fn rfc4475_values_as_the_verdicts_say() {
    let verdicts = std::fs::read_to_string(corpus_dir("rfc4475").join("verdicts.tsv")).unwrap();
    let mut seen_bad = 0;
    for line in verdicts
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, expected) = (cols[0], cols[3]);
        let message = std::fs::read(corpus_dir("rfc4475").join(format!("{name}.sip"))).unwrap();
        let bad = BAD_VALUES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[][..], |(_, h)| *h);
        for (header, value) in headers(&message) {
            let Some(result) = check(&header, &value) else {
                continue;
            };
            if bad.contains(&header.as_str()) {
                assert!(
                    result.is_err(),
                    "{name}: {header}: {value:?} must be refused"
                );
                seen_bad += 1;
            } else if must_parse(name, expected) || !bad.is_empty() {
                result.unwrap_or_else(|e| panic!("{name}: {header}: {e}"));
            }
        }
    }
    assert_eq!(
        seen_bad,
        BAD_VALUES.iter().map(|(_, h)| h.len()).sum::<usize>()
    );
}
