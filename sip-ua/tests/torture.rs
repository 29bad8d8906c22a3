//! The RFC 4475 torture messages and the real-world corpus fed to the core as received:
//! nothing panics, every request that can be answered is answered, and the syntax errors get
//! the status `verdicts.tsv` gives.

use std::collections::HashMap;
use std::time::Instant;

use sip_ua::{CoreConfig, Credentials, FlowId, Transport, TransportEvent, UserAgentCore};

fn corpus(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = format!("{}/../testdata/corpus/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("sip"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn verdicts() -> HashMap<String, (String, String)> {
    let path = format!(
        "{}/../testdata/corpus/rfc4475/verdicts.tsv",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some((
                cols.first()?.to_string(),
                (cols.get(2)?.to_string(), cols.get(3)?.to_string()),
            ))
        })
        .collect()
}

fn ua() -> UserAgentCore {
    let mut ua = UserAgentCore::new(
        CoreConfig::new("sip:alice@example.com", Credentials::new("alice", "pw"))
            .with_register(false)
            .with_rng_seed(4),
    );
    ua.handle_transport_event(
        Instant::now(),
        TransportEvent::Connected {
            flow: FlowId(1),
            transport: Transport::Udp,
            local: "192.0.2.1:5060".into(),
        },
    );
    while ua.poll_event().is_some() {}
    ua
}

#[test]
fn torture_messages_never_panic_and_syntax_errors_get_their_status() {
    let verdicts = verdicts();
    let mut checked = 0;
    for (name, bytes) in corpus("rfc4475") {
        let mut ua = ua();
        let Ok(datagram) = sip_proto::parse_datagram(&bytes) else {
            continue;
        };
        let now = Instant::now();
        ua.handle_received(now, &datagram.message, FlowId(1));
        let sent: Vec<_> = std::iter::from_fn(|| ua.poll_transmit()).collect();
        // Let every timer run out as well.
        ua.handle_timeout(now + std::time::Duration::from_secs(300));
        let Some((class, expected)) = verdicts.get(&name) else {
            continue;
        };
        if class == "syntax-invalid"
            && let Ok(status) = expected.parse::<u16>()
        {
            assert_eq!(
                sent.first().and_then(|t| t.message.status()),
                Some(status),
                "{name}: {expected}"
            );
            checked += 1;
        }
        if expected.starts_with("drop") {
            assert!(sent.is_empty(), "{name}: a broken response is dropped");
        }
    }
    assert!(checked >= 10, "only {checked} verdicts checked");
}

#[test]
fn real_world_messages_are_handled_without_panicking() {
    for (name, bytes) in corpus("real") {
        let mut ua = ua();
        let message =
            sip_proto::MessageRef::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let now = Instant::now();
        ua.handle_received(now, &message, FlowId(1));
        while ua.poll_transmit().is_some() {}
        ua.handle_timeout(now + std::time::Duration::from_secs(300));
    }
}
