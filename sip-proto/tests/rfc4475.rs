//! All 49 RFC 4475 torture messages, handled as `testdata/corpus/rfc4475/verdicts.tsv` says.
//!
//! Each message is parsed as a datagram. `syntax-valid` ones must parse (and pass validation);
//! `syntax-invalid` ones must be refused, by the parser or by `validate()` with the listed
//! status; `semantic` ones parse and `validate()` gives the listed verdict for a UA whose
//! capabilities are described by [`uas_profile`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use sip_proto::validate::{ValidateOptions, Verdict, validate};
use sip_proto::{HeaderName, Method, parse_datagram};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus/rfc4475")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(format!("{name}.sip"))).unwrap()
}

/// A UAS that supports a few common extensions, takes SDP, plain text and multipart bodies
/// and answers with SDP.
fn uas_profile() -> ValidateOptions<'static> {
    ValidateOptions {
        supported: Some(&["100rel", "timer", "replaces", "outbound"]),
        accepted_types: Some(&["application/sdp", "text/plain", "multipart/mixed"]),
        response_types: Some(&["application/sdp"]),
        ..ValidateOptions::default()
    }
}

/// How each message must be handled.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Parses with nothing trailing and validates as acceptable.
    Parse,
    /// Refused by the parser itself.
    ParseError,
    /// Parses; `validate()` with the UAS profile owes this status.
    Status(u16),
    /// Parses (a response); `validate()` says drop it.
    Drop,
}

/// One line per message; the comment says what RFC 4475 tortures there.
fn expectations() -> BTreeMap<&'static str, Expect> {
    use Expect::*;
    BTreeMap::from([
        // 3.1.1: valid messages.
        ("wsinv", Parse),   // unusual white space, folding, compact names everywhere
        ("intmeth", Parse), // method and header names using every token character
        ("esc01", Parse),   // escapes in URIs, a folded Contact
        ("escnull", Parse), // %00 in user parts
        ("esc02", Parse),   // % in a method token, a C%6Fntact extension header
        ("lwsdisp", Parse), // display name token glued to '<'
        ("longreq", Parse), // very long values and many headers
        ("dblreq", Parse),  // two requests in one datagram: first only, rest trailing
        ("semiuri", Parse), // ';' inside the user part of the Request-URI
        ("transports", Parse), // Via with SCTP, TLS, UNKNOWN transports
        ("mpart01", Parse), // binary multipart body kept byte-exact
        ("unreason", Parse), // UTF-8 reason phrase
        ("noreason", Parse), // empty reason phrase
        // 3.1.2: invalid messages.
        ("badinv01", Status(400)), // empty Via and Contact parameters ";;,;,,"
        ("clerr", ParseError),     // Content-Length larger than the datagram
        ("ncl", ParseError),       // negative Content-Length
        ("scalar02", Status(400)), // CSeq number above 2^32-1 (and more overflows)
        ("scalarlg", Drop),        // response with overflowing CSeq: drop
        ("quotbal", Status(400)),  // unterminated quoted display name
        ("ltgtruri", Status(400)), // Request-URI in angle brackets
        ("lwsruri", ParseError),   // white space inside the Request-URI
        ("lwsstart", ParseError),  // two spaces between start-line elements
        ("trws", ParseError),      // trailing white space after SIP-Version
        ("escruri", Status(400)),  // escaped headers in the Request-URI
        ("baddate", Status(400)),  // Date not in GMT
        ("regbadct", Status(400)), // Contact URI with '?' but no angle brackets
        ("badaspec", Status(400)), // white space inside <...> in To
        ("baddn", ParseError),     // unquoted display name with a comma; no empty line
        ("badvers", Status(505)),  // SIP/7.0
        ("mismatch01", Status(400)), // CSeq method differs from the request method
        ("mismatch02", Status(400)), // unknown method with a CSeq of INVITE
        ("bigcode", ParseError),   // 10-digit status code: response dropped
        // 3.2: transaction layer.
        ("badbranch", Parse), // branch is just the magic cookie: still acceptable
        // 3.3: application layer.
        ("insuf", Status(400)),   // no To, From, Call-ID, Max-Forwards
        ("unkscm", Status(416)),  // Request-URI with an unknown scheme
        ("novelsc", Status(416)), // soap.beep: Request-URI
        ("unksm2", Parse),        // To/From/Contact with non-SIP schemes: accept
        ("bext01", Status(420)),  // Require of unknown extensions
        ("invut", Status(415)),   // body of an unknown type
        ("regaut01", Parse),      // unknown auth scheme; 401 from a registrar: see below
        ("multi01", Status(400)), // duplicated single-valued headers
        ("mcl01", Status(400)),   // two different Content-Length headers
        ("bcast", Parse),         // response with a broadcast Via: accept
        ("zeromf", Parse),        // Max-Forwards 0 at a UAS: accept (483 at a proxy, below)
        ("cparam01", Parse),      // unknown parameter belongs to the Contact header
        ("cparam02", Parse),      // unknown parameter belongs to the URI
        ("regescrt", Parse),      // escaped Route header inside a bracketed Contact URI
        ("sdp01", Status(406)),   // Accept admits nothing we can answer with
        // 3.4: backward compatibility.
        ("inv2543", Parse), // RFC 2543 INVITE: no branch, no Max-Forwards, no Content-Length
    ])
}

fn verdicts_tsv() -> Vec<(String, String, String)> {
    std::fs::read_to_string(dir().join("verdicts.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[0].to_owned(), c[2].to_owned(), c[3].to_owned())
        })
        .collect()
}

#[test]
fn expectations_match_verdicts_tsv() {
    let table = expectations();
    let tsv = verdicts_tsv();
    assert_eq!(tsv.len(), 49);
    assert_eq!(table.len(), 49);
    for (name, class, expected) in tsv {
        let exp = *table
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} not encoded"));
        match class.as_str() {
            "syntax-valid" => assert_eq!(exp, Expect::Parse, "{name}"),
            "syntax-invalid" => {
                let ok = match exp {
                    Expect::ParseError => true,
                    Expect::Status(s) => expected.starts_with(&s.to_string()),
                    Expect::Drop => expected.starts_with("drop"),
                    Expect::Parse => false,
                };
                assert!(ok, "{name}: {exp:?} does not refuse as {expected}");
            }
            "semantic" => {
                let ok = match exp {
                    Expect::Status(s) => expected.starts_with(&s.to_string()),
                    Expect::Parse => expected.starts_with("accept") || name == "regaut01",
                    _ => false,
                };
                assert!(ok, "{name}: {exp:?} vs {expected}");
            }
            other => panic!("unknown class {other}"),
        }
    }
}

#[test]
fn every_message_handled_as_expected() {
    let profile = uas_profile();
    for (name, exp) in expectations() {
        let bytes = read(name);
        let parsed = parse_datagram(&bytes);
        match exp {
            Expect::ParseError => {
                assert!(parsed.is_err(), "{name}: parsed but must be refused");
                continue;
            }
            _ => {
                let dgram = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
                if name != "dblreq" && name != "mcl01" {
                    assert!(dgram.trailing.is_empty(), "{name}: trailing bytes");
                }
                let verdict = validate(&dgram.message, &profile);
                match exp {
                    Expect::Parse => assert_eq!(verdict, Verdict::Accept, "{name}"),
                    Expect::Status(s) => {
                        assert_eq!(verdict.status(), Some(s), "{name}: {verdict:?}")
                    }
                    Expect::Drop => assert!(
                        matches!(verdict, Verdict::Drop { .. }),
                        "{name}: {verdict:?}"
                    ),
                    Expect::ParseError => unreachable!(),
                }
            }
        }
    }
}

#[test]
fn dblreq_reports_the_second_request_as_trailing() {
    let bytes = read("dblreq");
    let dgram = parse_datagram(&bytes).unwrap();
    assert_eq!(dgram.message.method(), Some(Method::Register));
    assert!(dgram.message.body().is_empty());
    // The trailing bytes start with the empty line and then the INVITE.
    let trailing = std::str::from_utf8(dgram.trailing).unwrap();
    assert!(
        trailing
            .trim_start()
            .starts_with("INVITE sip:joe@example.com SIP/2.0")
    );
}

#[test]
fn mcl01_is_framed_by_the_first_length_and_refused() {
    let bytes = read("mcl01");
    let dgram = parse_datagram(&bytes).unwrap();
    assert_eq!(dgram.message.body(), b"There's no wa");
    assert_eq!(dgram.message.count_lines(HeaderName::ContentLength), 2);
    // On a stream the conflict is fatal: the connection cannot be framed.
    assert!(sip_proto::parse_stream(&bytes).is_err());
}

#[test]
fn baddn_is_refused_for_its_display_name_too() {
    // The corpus copy ends without the empty line, which the parser refuses. With it added
    // the unquoted comma in the display name still earns a 400.
    let mut bytes = read("baddn");
    bytes.extend_from_slice(b"\r\n");
    let msg = sip_proto::MessageRef::parse(&bytes).unwrap();
    assert_eq!(validate(&msg, &uas_profile()).status(), Some(400));
}

#[test]
fn registrar_challenges_unknown_auth_scheme() {
    // RFC 4475 §3.3.7: a registrar answers the unknown scheme with a 401 challenge.
    let registrar = ValidateOptions {
        require_digest_credentials: true,
        ..uas_profile()
    };
    let bytes = read("regaut01");
    let msg = parse_datagram(&bytes).unwrap().message;
    assert_eq!(validate(&msg, &registrar).status(), Some(401));
}

#[test]
fn proxy_refuses_zero_max_forwards() {
    let proxy = ValidateOptions {
        proxy: true,
        ..uas_profile()
    };
    let bytes = read("zeromf");
    let msg = parse_datagram(&bytes).unwrap().message;
    assert_eq!(validate(&msg, &proxy).status(), Some(483));
}

#[test]
fn bext01_lists_the_unsupported_tags() {
    let bytes = read("bext01");
    let msg = parse_datagram(&bytes).unwrap().message;
    match validate(&msg, &uas_profile()) {
        Verdict::Reject(r) => {
            assert_eq!(r.status, 420);
            assert_eq!(
                r.unsupported,
                ["nothingSupportsThis", "nothingSupportsThisEither"]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn mpart01_binary_body_is_byte_exact() {
    let bytes = read("mpart01");
    let msg = parse_datagram(&bytes).unwrap().message;
    assert_eq!(msg.body().len(), 553);
    assert_eq!(msg.body(), &bytes[bytes.len() - 553..]);
}
