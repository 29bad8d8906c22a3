//! `cargo run --release --example demo`: the Sipline demo.
//!
//! Until the intercom demo (two agents calling through an in-process registrar) lands, this
//! parses a real JsSIP/Kamailio call flow from the repository's corpus and pretty-prints what
//! sip-proto reads from each message, then validates it. Exits non-zero if any message fails.

use std::path::Path;
use std::process::ExitCode;

use sip_proto::validate::{ValidateOptions, Verdict, validate};
use sip_proto::{MessageRef, StartLine};

/// A registration with its digest challenge, then a call with DTMF by INFO and a BYE.
const FLOW: [&str; 9] = [
    "001-jssip-register.sip",
    "002-kamailio-401-register.sip",
    "003-jssip-register-auth.sip",
    "004-kamailio-200-register.sip",
    "009-jssip-invite.sip",
    "018-jssip-200-invite.sip",
    "022-jssip-info.sip",
    "038-jssip-bye.sip",
    "040-jssip-200-bye.sip",
];

fn main() -> ExitCode {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus/real");
    let mut failures = 0;
    for file in FLOW {
        let path = corpus.join(file);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                failures += 1;
                continue;
            }
        };
        match MessageRef::parse(&bytes) {
            Ok(msg) => print_message(file, &msg),
            Err(e) => {
                eprintln!("{file}: {e}");
                failures += 1;
            }
        }
    }
    if failures == 0 {
        println!("\nall {} messages parsed and validated", FLOW.len());
        ExitCode::SUCCESS
    } else {
        eprintln!("{failures} message(s) failed");
        ExitCode::FAILURE
    }
}

fn print_message(file: &str, msg: &MessageRef<'_>) {
    println!("\n── {file} ({} bytes of body)", msg.body().len());
    match msg.start_line() {
        StartLine::Request { method, uri, .. } => println!("   request   {method} {uri}"),
        StartLine::Response { status, reason, .. } => println!("   response  {status} {reason}"),
    }
    if let Some(Ok(via)) = msg.top_via() {
        println!(
            "   via       {}/{}/{} {} branch={}",
            via.protocol,
            via.version,
            via.transport,
            via.host,
            via.branch().unwrap_or("-")
        );
    }
    for (label, addr) in [("from", msg.from()), ("to", msg.to())] {
        if let Some(Ok(addr)) = addr {
            let display = addr.display_name.as_ref().map(|d| d.text());
            println!(
                "   {label:<9} {}{} tag={}",
                display.map(|d| format!("\"{d}\" ")).unwrap_or_default(),
                addr.uri,
                addr.tag().unwrap_or("-")
            );
        }
    }
    if let Some(Ok(cseq)) = msg.cseq() {
        println!("   cseq      {} {}", cseq.seq, cseq.method);
    }
    println!("   call-id   {}", msg.call_id().unwrap_or("-"));
    for contact in msg.contact().flatten() {
        if let Some(addr) = contact.address() {
            println!("   contact   {} expires={:?}", addr.uri, contact.expires());
        }
    }
    for challenge in msg.www_authenticate().flatten() {
        println!(
            "   challenge realm={} algorithm={}",
            challenge.realm().unwrap_or_default(),
            challenge.algorithm().unwrap_or("MD5")
        );
    }
    let verdict = match validate(msg, &ValidateOptions::default()) {
        Verdict::Accept => "acceptable".to_string(),
        other => format!("a user agent owes {:?}", other.status()),
    };
    println!("   verdict   {verdict}");
}
