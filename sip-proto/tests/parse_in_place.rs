//! `MessageRef::parse_in_place` into one reused view gives exactly what `MessageRef::parse`
//! gives, message after message, for every corpus message (good and bad, large and small,
//! in an order where a short message follows a long one), and leaves the view blank on error.

use std::path::PathBuf;

use sip_proto::{Header, MessageRef};

/// Every `.sip` file of both corpora, sorted by name.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus");
    let mut files = Vec::new();
    for dir in ["real", "rfc4475"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("corpus directory") {
            let path = entry.expect("corpus entry").path();
            if path.extension().is_some_and(|e| e == "sip") {
                let bytes = std::fs::read(&path).expect("corpus file");
                files.push((path.display().to_string(), bytes));
            }
        }
    }
    files.sort();
    assert!(
        files.len() > 100,
        "both corpora found ({} files)",
        files.len()
    );
    files
}

/// Everything a caller can see of a parsed message, raw header lines included.
fn seen<'a>(msg: &MessageRef<'a>) -> (String, Vec<Header<'a>>, &'a [u8], &'a str) {
    (
        format!("{:?}", msg.start_line()),
        msg.headers().collect(),
        msg.body(),
        msg.head_str(),
    )
}

#[test]
fn a_reused_view_matches_a_fresh_parse_for_every_corpus_message() {
    let files = corpus();
    let mut view = MessageRef::blank();
    let (mut parsed, mut refused) = (0, 0);
    // Forwards and backwards, so each message follows both a longer and a shorter one.
    for (name, bytes) in files.iter().chain(files.iter().rev()) {
        let fresh = MessageRef::parse(bytes);
        let in_place = view.parse_in_place(bytes);
        match fresh {
            Ok(fresh) => {
                assert_eq!(in_place, Ok(()), "{name}");
                assert_eq!(seen(&view), seen(&fresh), "{name}");
                assert_eq!(view.header_count(), fresh.header_count(), "{name}");
                parsed += 1;
            }
            Err(e) => {
                assert_eq!(in_place, Err(e), "{name}");
                assert_eq!(
                    seen(&view),
                    seen(&MessageRef::blank()),
                    "{name}: left blank"
                );
                assert_eq!(view.header_count(), 0, "{name}");
                refused += 1;
            }
        }
    }
    assert!(
        parsed > 0 && refused > 0,
        "{parsed} parsed, {refused} refused"
    );
}
