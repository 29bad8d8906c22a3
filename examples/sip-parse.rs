//! `sip-parse FILE...`: parses SIP messages and prints one JSON line per file.
//!
//! ```sh
//! cargo run --release --example sip-parse -- testdata/corpus/real/009-jssip-invite.sip
//! cat message.sip | cargo run --release --example sip-parse -- -
//! ```
//!
//! Each file is read as one datagram (bytes after the first message are ignored, as on UDP).
//! A line is `{"file", "ok": true, "kind", "method", "uri", "status", "reason", "call_id",
//! "cseq", "from", "to", "via", "contact", "max_forwards", "content_length", "body_len",
//! "verdict"}` or `{"file", "ok": false, "error": {"offset", "message"}}`. Header fields that
//! are absent or malformed are `null`; `verdict` is `"ok"`, the status code `validate()` owes
//! a request, or `"drop"` for a broken response. Exit status 0 when every file parsed, else 1.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Parser;
use serde_json::{Value, json};
use sip_proto::validate::{ValidateOptions, Verdict, validate};
use sip_proto::values::{Contact, NameAddr};
use sip_proto::{MessageRef, StartLine, parse_datagram};

/// Parse SIP messages and print one JSON line per file.
#[derive(Debug, Parser)]
#[command(name = "sip-parse", version, about)]
struct Args {
    /// Files holding one SIP message each; `-` reads standard input.
    #[arg(required = true)]
    files: Vec<String>,
}

fn read_input(file: &str) -> std::io::Result<Vec<u8>> {
    if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(file)
    }
}

fn addr_json(addr: Option<sip_proto::Result<NameAddr<'_>>>) -> Value {
    match addr {
        Some(Ok(a)) => json!({
            "display": a.display_name.map(|d| d.text().into_owned()),
            "uri": a.uri.to_string(),
            "tag": a.tag(),
        }),
        _ => Value::Null,
    }
}

fn describe(file: &str, msg: &MessageRef<'_>) -> Value {
    let (kind, method, uri, status, reason) = match msg.start_line() {
        StartLine::Request { method, uri, .. } => {
            ("request", Some(method.as_str()), Some(uri), None, None)
        }
        StartLine::Response { status, reason, .. } => {
            ("response", None, None, Some(status), Some(reason))
        }
    };
    let cseq = match msg.cseq() {
        Some(Ok(c)) => json!({"seq": c.seq, "method": c.method.as_str()}),
        _ => Value::Null,
    };
    let via: Vec<Value> = msg
        .via()
        .map(|v| match v {
            Ok(v) => json!({
                "transport": v.transport,
                "host": v.host.to_string(),
                "port": v.port,
                "branch": v.branch(),
            }),
            Err(_) => Value::Null,
        })
        .collect();
    let contact: Vec<Value> = msg
        .contact()
        .map(|c| match c {
            Ok(Contact::Wildcard) => json!({"uri": "*", "expires": null, "q": null}),
            Ok(c @ Contact::Address(a)) => json!({
                "uri": a.uri.to_string(),
                "expires": c.expires(),
                "q": c.q().map(|q| q.as_f32()),
            }),
            Err(_) => Value::Null,
        })
        .collect();
    let verdict = match validate(msg, &ValidateOptions::default()) {
        Verdict::Accept => json!("ok"),
        Verdict::Reject(r) => json!(r.status),
        Verdict::Drop { .. } => json!("drop"),
    };
    json!({
        "file": file,
        "ok": true,
        "kind": kind,
        "method": method,
        "uri": uri,
        "status": status,
        "reason": reason,
        "call_id": msg.call_id(),
        "cseq": cseq,
        "from": addr_json(msg.from()),
        "to": addr_json(msg.to()),
        "via": via,
        "contact": contact,
        "max_forwards": msg.max_forwards().and_then(Result::ok).map(|m| m.0),
        "content_length": msg.content_length().and_then(Result::ok).map(|c| c.0),
        "body_len": msg.body().len(),
        "verdict": verdict,
    })
}

fn report(file: &str) -> (Value, bool) {
    let bytes = match read_input(file) {
        Ok(b) => b,
        Err(e) => {
            let line = json!({"file": file, "ok": false, "error": {"offset": null, "message": e.to_string()}});
            return (line, false);
        }
    };
    match parse_datagram(&bytes) {
        Ok(d) => (describe(file, &d.message), true),
        Err(e) => (
            json!({"file": file, "ok": false, "error": {"offset": e.offset(), "message": e.to_string()}}),
            false,
        ),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_ok = true;
    for file in &args.files {
        let (line, ok) = report(file);
        all_ok &= ok;
        if writeln!(out, "{line}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
