//! Load program: N OPTIONS to Kamailio and their 200s, over one WebSocket connection and over
//! UDP with sip-transport, then the same OPTIONS load from sipp over UDP, with messages per
//! second, p50/p99 round trip and the ratio to sipp.
//!
//! Needs the Kamailio test server, so run it inside the loopback-only namespace:
//!
//! ```sh
//! cargo bench -p sipline-benches --bench transport_load --no-run
//! unshare -n bash -c 'ip link set lo up; scripts/in-netns \
//!     cargo bench -p sipline-benches --bench transport_load --offline'
//! ```
//!
//! `SIPLINE_LOAD_N` (default 20000) sets the number of requests and `SIPLINE_LOAD_WINDOW`
//! (default 50) how many are in flight at once (sipp's `-l`). Requests are built before the
//! clock starts; the figures cover serializing, sending, receiving, framing and parsing.
//! Without `SIPLINE_INTEROP` it prints that it was skipped and exits.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use sip_proto::Message;
use sip_transport::{KeepAlive, Transport, TransportConfig, TransportEvent, rfc7118};

struct Figures {
    label: String,
    sent: usize,
    answered: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.answered as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self) {
        println!(
            "{:<26} {:>8} sent {:>8} answered in {:>7.3} s = {:>9.0} msg/s   p50 {:>7.3} ms   p99 {:>7.3} ms",
            self.label,
            self.sent,
            self.answered,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
        );
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn transport_load(label: &str, url: &str, n: usize, window: usize) -> Figures {
    let config = TransportConfig::new(url)
        .with_keep_alive(KeepAlive::off())
        .with_reconnect(false);
    let (transport, mut events) = Transport::start(config).expect("start the transport");
    let flow = loop {
        match events.recv().await.expect("transport stopped") {
            TransportEvent::Connected { flow, .. } => break flow,
            TransportEvent::Connecting { .. } => {}
            other => panic!("{label}: cannot connect: {other:?}"),
        }
    };
    let host = rfc7118::random_invalid_host();
    let requests: Vec<(String, Message)> = (0..n)
        .map(|i| {
            let call_id = format!("load-{i}-{host}");
            let via = rfc7118::via_value(&flow, &host, &format!("z9hG4bKload{i}"));
            let text = format!(
                "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n\
                 From: <sip:load@127.0.0.1>;tag={i}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: {call_id}\r\n\
                 CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            );
            (call_id, Message::parse(text.into_bytes()).expect("a valid OPTIONS"))
        })
        .collect();

    let mut in_flight: HashMap<String, Instant> = HashMap::with_capacity(window * 2);
    let mut rtts = Vec::with_capacity(n);
    let mut next = 0;
    let start = Instant::now();
    while rtts.len() < n {
        while next < n && in_flight.len() < window {
            let (call_id, message) = &requests[next];
            in_flight.insert(call_id.clone(), Instant::now());
            transport.send(message).await.expect("send");
            next += 1;
        }
        // UDP may lose a datagram under load: give up on the stragglers after a second.
        let event = match tokio::time::timeout(Duration::from_secs(1), events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(_) if next == n => break,
            Err(_) => {
                in_flight.clear();
                continue;
            }
        };
        if let TransportEvent::Message { message, .. } = event
            && message.as_ref().status() == Some(200)
            && let Some(sent) = message
                .as_ref()
                .call_id()
                .and_then(|id| in_flight.remove(id))
        {
            rtts.push(sent.elapsed());
        }
    }
    let elapsed = start.elapsed();
    transport.close().await;
    rtts.sort_unstable();
    Figures {
        label: label.to_owned(),
        sent: n,
        answered: rtts.len(),
        elapsed,
        p50: percentile(&rtts, 0.50),
        p99: percentile(&rtts, 0.99),
    }
}

/// sipp's own OPTIONS load over UDP with the same count and window.
fn sipp_load(n: usize, window: usize) -> Option<Figures> {
    let root = std::env::var("SIPLINE_ROOT")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/..").to_owned());
    let run_dir = std::env::var("SIPLINE_RUN_DIR")
        .unwrap_or_else(|_| std::env::temp_dir().display().to_string());
    let screen = format!("{run_dir}/sipp-load.screen");
    let start = Instant::now();
    let status = Command::new("sipp")
        .args(["-sf", &format!("{root}/interop/sipp/options.xml")])
        .args([
            "-m",
            &n.to_string(),
            "-l",
            &window.to_string(),
            "-r",
            "1000000",
            "-rp",
            "1000",
        ])
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            "5070",
            "-timeout",
            "120",
            "-trace_screen",
            "-screen_file",
            &screen,
        ])
        .arg("127.0.0.1:5060")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    let elapsed = start.elapsed();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            println!("sipp failed ({s}); see {screen}");
            return None;
        }
        Err(e) => {
            println!("sipp not runnable: {e}");
            return None;
        }
    }
    // sipp's final screen: cumulative (second column) successful calls and call rate.
    let text = std::fs::read_to_string(&screen).unwrap_or_default();
    let cumulative = |row: &str| -> Option<f64> {
        let line = text
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with(row))?;
        line.split('|')
            .nth(2)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let answered = cumulative("Successful call").unwrap_or(0.0) as usize;
    // sipp's own rate excludes its start-up; fall back to the wall clock.
    let elapsed = match cumulative("Call Rate") {
        Some(rate) if rate > 0.0 => Duration::from_secs_f64(answered as f64 / rate),
        _ => elapsed,
    };
    Some(Figures {
        label: "sipp UDP (peer)".into(),
        sent: n,
        answered,
        elapsed,
        p50: Duration::ZERO,
        p99: Duration::ZERO,
    })
}

fn main() {
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!(
            "skipped: needs the real peers, run inside scripts/in-netns (see the file's docs)"
        );
        return;
    }
    let n = env_number("SIPLINE_LOAD_N", 20_000);
    let window = env_number("SIPLINE_LOAD_WINDOW", 50);
    println!("{n} OPTIONS to Kamailio, {window} in flight");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let ws = runtime.block_on(transport_load(
        "sip-transport WS",
        "ws://127.0.0.1:8080/ws",
        n,
        window,
    ));
    ws.print();
    let udp = runtime.block_on(transport_load(
        "sip-transport UDP",
        "sip:127.0.0.1:5060;transport=udp",
        n,
        window,
    ));
    udp.print();
    if let Some(sipp) = sipp_load(n, window) {
        println!(
            "{:<26} {:>8} sent {:>8} answered in {:>7.3} s = {:>9.0} msg/s   (sipp's own rate)",
            sipp.label,
            sipp.sent,
            sipp.answered,
            sipp.elapsed.as_secs_f64(),
            sipp.rate()
        );
        println!(
            "ratio UDP sip-transport / sipp: {:.2}",
            udp.rate() / sipp.rate()
        );
        println!(
            "ratio WS  sip-transport / sipp: {:.2}",
            ws.rate() / sipp.rate()
        );
    }
}
