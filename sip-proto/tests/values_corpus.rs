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

/// Parses `text` as `$ty`; when it parses, its `Display` output must parse too and be written
/// back identically (so writing is stable and never produces something unreadable).
macro_rules! round_trip {
    ($text:expr, $ty:ident) => {{
        let text: &str = $text;
        match $ty::parse(text) {
            Err(e) => Err(format!("{text:?}: {e}")),
            Ok(value) => {
                let written = value.to_string();
                match $ty::parse(&written) {
                    Ok(again) if again.to_string() == written => Ok(()),
                    other => panic!(
                        "{} {text:?} is written as {written:?}, which reads back as {other:?}",
                        stringify!($ty)
                    ),
                }
            }
        }
    }};
}

/// [`round_trip`] for each element of a list header.
macro_rules! each {
    ($value:expr, $ty:ident) => {{
        let mut result = Ok(());
        for (item, _) in split_list($value) {
            if let Err(e) = round_trip!(item, $ty) {
                result = Err(e);
                break;
            }
        }
        result
    }};
}

/// Parses one header field with its typed parser; `None` for headers without one.
fn check(name: &str, value: &str) -> Option<Result<(), String>> {
    Some(match name {
        "via" | "v" => each!(value, Via),
        "from" | "f" | "to" | "t" | "refer-to" | "r" => round_trip!(value, NameAddr),
        "route" | "record-route" => each!(value, NameAddr),
        "contact" | "m" => each!(value, Contact),
        "call-id" | "i" => round_trip!(value, CallId),
        "cseq" => round_trip!(value, CSeq),
        "max-forwards" => round_trip!(value, MaxForwards),
        "content-length" | "l" => round_trip!(value, ContentLength),
        "expires" => round_trip!(value, Expires),
        "min-expires" => round_trip!(value, MinExpires),
        "content-type" | "c" => round_trip!(value, ContentType),
        "allow" | "supported" | "k" | "require" | "proxy-require" | "unsupported" => {
            each!(value, Token)
        }
        "accept" => each!(value, MediaRange),
        "www-authenticate" | "proxy-authenticate" => round_trip!(value, Challenge),
        "authorization" | "proxy-authorization" => round_trip!(value, Credentials),
        "event" | "o" => round_trip!(value, Event),
        "subscription-state" => round_trip!(value, SubscriptionState),
        "session-expires" | "x" => round_trip!(value, SessionExpires),
        "min-se" => round_trip!(value, MinSe),
        "reason" => each!(value, Reason),
        "rseq" => round_trip!(value, RSeq),
        "rack" => round_trip!(value, RAck),
        "user-agent" | "server" => round_trip!(value, Products),
        "date" => round_trip!(value, Date),
        "retry-after" => round_trip!(value, RetryAfter),
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
