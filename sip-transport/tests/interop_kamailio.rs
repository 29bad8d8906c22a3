//! The transports against a real Kamailio (see `interop/kamailio`), inside the loopback-only
//! network namespace `scripts/test` creates. Skipped unless `SIPLINE_INTEROP` is set.
//!
//! Run by hand: `unshare -n bash -c 'ip link set lo up; scripts/in-netns cargo test -p
//! sip-transport --test interop_kamailio --offline'`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use sip_proto::Message;
use sip_proto::digest::{DigestRequest, Password};
use sip_proto::values::Challenge;
use sip_transport::{
    Backoff, Error, Flow, KeepAlive, TlsOptions, Transport, TransportConfig, TransportEvent,
    TransportEvents, TransportKind, TrustRoots, rfc7118,
};
use tokio::time::{Instant, timeout};

const LIMIT: Duration = Duration::from_secs(10);

/// The run directory of the shared Kamailio, or `None` (with a note) outside the namespace.
fn interop() -> Option<PathBuf> {
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!("skipped: needs the real peers, run scripts/test");
        return None;
    }
    Some(PathBuf::from(
        std::env::var("SIPLINE_RUN_DIR").expect("SIPLINE_RUN_DIR is set by scripts/in-netns"),
    ))
}

fn root() -> PathBuf {
    std::env::var("SIPLINE_ROOT").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."),
        PathBuf::from,
    )
}

fn trusting(ca: PathBuf) -> TlsOptions {
    TlsOptions::default()
        .with_roots(TrustRoots::None)
        .with_extra_ca_file(ca)
}

fn config(url: &str, run_dir: &std::path::Path) -> TransportConfig {
    TransportConfig::new(url)
        .with_tls(trusting(run_dir.join("ca.pem")))
        .with_connect_timeout(Duration::from_secs(3))
        .with_backoff(Backoff {
            min: Duration::from_millis(200),
            max: Duration::from_secs(1),
        })
}

async fn next_event(events: &mut TransportEvents) -> TransportEvent {
    timeout(LIMIT, events.recv())
        .await
        .expect("no event in time")
        .expect("transport stopped")
}

async fn connected(events: &mut TransportEvents) -> Flow {
    loop {
        match next_event(events).await {
            TransportEvent::Connected { flow, .. } => return flow,
            TransportEvent::Connecting { .. } => {}
            other => panic!("expected to connect, got {other:?}"),
        }
    }
}

/// The next message with this Call-ID (responses to other requests are skipped).
async fn response(events: &mut TransportEvents, call_id: &str) -> Message {
    loop {
        match next_event(events).await {
            TransportEvent::Message { message, .. }
                if message.as_ref().call_id() == Some(call_id) =>
            {
                return message;
            }
            TransportEvent::Message { .. } => {}
            other => panic!("expected a response, got {other:?}"),
        }
    }
}

struct Session {
    flow: Flow,
    host: String,
    n: u32,
    /// The Call-ID of the dialog in-dialog requests belong to.
    dialog: Option<String>,
}

impl Session {
    fn new(flow: Flow) -> Self {
        Session {
            flow,
            host: rfc7118::random_invalid_host(),
            n: 0,
            dialog: None,
        }
    }

    fn request(&mut self, method: &str, uri: &str, user: &str, extra: &str) -> (Message, String) {
        self.n += 1;
        let n = self.n;
        let call_id = self
            .dialog
            .clone()
            .unwrap_or_else(|| format!("{}-{}", self.host, method.to_ascii_lowercase()));
        let via = rfc7118::via_value(
            &self.flow,
            &self.host,
            &format!("z9hG4bK{}{n}", self.host.len() * 7919),
        );
        let text = format!(
            "{method} {uri} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n\
             From: <sip:{user}@127.0.0.1>;tag=t{n}\r\nTo: <sip:{user}@127.0.0.1>\r\n\
             Call-ID: {call_id}\r\nCSeq: {n} {method}\r\nUser-Agent: sipline-transport-test\r\n\
             {extra}Content-Length: 0\r\n\r\n"
        );
        (Message::parse(text.into_bytes()).unwrap(), call_id)
    }
}

async fn options_and_register(url: &str, kind: TransportKind) {
    let Some(run_dir) = interop() else { return };
    let (transport, mut events) = Transport::start(config(url, &run_dir)).unwrap();
    let flow = connected(&mut events).await;
    assert_eq!(flow.kind, kind);
    let mut session = Session::new(flow);

    let (options, call_id) = session.request("OPTIONS", "sip:127.0.0.1", "100", "");
    transport.send(&options).await.unwrap();
    let reply = response(&mut events, &call_id).await;
    assert_eq!(reply.as_ref().status(), Some(200), "{reply:?}");
    // rport (RFC 3581): Kamailio tells us the address it saw, which is our flow's local one.
    assert_eq!(
        sip_transport::rport::reflexive_address(&reply),
        Some(flow.local),
        "{reply:?}"
    );

    // User names of our own, so suites sharing the Kamailio never see each other's contacts.
    let user = format!("transport-{}", kind.uri_param());
    let contact = rfc7118::contact_uri(&flow, &user, &session.host);
    let (register, call_id) = session.request(
        "REGISTER",
        "sip:127.0.0.1",
        &user,
        &format!("Contact: <{contact}>\r\nExpires: 60\r\n"),
    );
    transport.send(&register).await.unwrap();
    let challenge = response(&mut events, &call_id).await;
    assert_eq!(challenge.as_ref().status(), Some(401), "{challenge:?}");
    let www = challenge
        .as_ref()
        .header(sip_proto::HeaderName::WwwAuthenticate)
        .expect("WWW-Authenticate");
    assert!(www.contains("realm=\"sipline.test\""), "{www}");

    // Answer the challenge with sip-proto's digest; Kamailio registers the contact.
    let parsed = Challenge::parse(www).unwrap();
    let password = Password::new("sipline-test");
    let cnonce = format!("{:016x}", rand::random::<u64>());
    let authorization = DigestRequest::new("REGISTER", "sip:127.0.0.1", &user, &password)
        .cnonce(&cnonce)
        .answer(&parsed)
        .unwrap();
    let (register, call_id) = session.request(
        "REGISTER",
        "sip:127.0.0.1",
        &user,
        &format!("Contact: <{contact}>\r\nExpires: 60\r\nAuthorization: {authorization}\r\n"),
    );
    transport.send(&register).await.unwrap();
    let ok = response(&mut events, &call_id).await;
    assert_eq!(ok.as_ref().status(), Some(200), "{ok:?}");
    let bound = ok
        .as_ref()
        .header(sip_proto::HeaderName::Contact)
        .expect("the bound Contact");
    assert!(bound.contains(&contact), "{bound} should hold {contact}");

    // A wrong password is refused.
    let wrong = Password::new("not-the-password");
    let authorization = DigestRequest::new("REGISTER", "sip:127.0.0.1", &user, &wrong)
        .cnonce(&cnonce)
        .nc(2)
        .answer(&parsed)
        .unwrap();
    let (register, call_id) = session.request(
        "REGISTER",
        "sip:127.0.0.1",
        &user,
        &format!("Contact: <{contact}>\r\nExpires: 60\r\nAuthorization: {authorization}\r\n"),
    );
    transport.send(&register).await.unwrap();
    let refused = response(&mut events, &call_id).await;
    assert!(
        matches!(refused.as_ref().status(), Some(401 | 403)),
        "{refused:?}"
    );
    assert_eq!(transport.stats().dropped(), 0);
    transport.close().await;
}

#[tokio::test]
async fn options_and_register_over_ws() {
    options_and_register("ws://127.0.0.1:8080/ws", TransportKind::Ws).await;
}

#[tokio::test]
async fn options_and_register_over_wss() {
    options_and_register("wss://127.0.0.1:8443/ws", TransportKind::Wss).await;
}

#[tokio::test]
async fn options_and_register_over_udp() {
    options_and_register("sip:127.0.0.1:5060;transport=udp", TransportKind::Udp).await;
}

#[tokio::test]
async fn options_and_register_over_tcp() {
    options_and_register("sip:127.0.0.1:5060;transport=tcp", TransportKind::Tcp).await;
}

#[tokio::test]
async fn options_and_register_over_tls() {
    options_and_register("sips:127.0.0.1:5061", TransportKind::Tls).await;
}

#[tokio::test]
async fn wss_with_the_wrong_ca_fails_with_a_certificate_error() {
    let Some(run_dir) = interop() else { return };
    let config = config("wss://127.0.0.1:8443/ws", &run_dir)
        .with_tls(trusting(run_dir.join("other-ca.pem")))
        .with_reconnect(false);
    let (transport, mut events) = Transport::start(config).unwrap();
    assert!(matches!(
        next_event(&mut events).await,
        TransportEvent::Connecting { .. }
    ));
    match next_event(&mut events).await {
        TransportEvent::Disconnected {
            reason: reason @ Error::Certificate { .. },
        } => {
            let text = reason.to_string();
            assert!(
                text.contains("certificate") && text.contains("unknown issuer"),
                "{text}"
            );
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    transport.close().await;
}

/// A Kamailio of this test's own on other ports, stopped by PID when dropped.
struct OwnKamailio {
    pid: u32,
    dir: PathBuf,
    ports: [u16; 4],
}

impl OwnKamailio {
    fn start(dir: PathBuf, ports: [u16; 4]) -> OwnKamailio {
        let pid = start_kamailio(&dir, ports);
        OwnKamailio { pid, dir, ports }
    }

    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.ports[2])
    }

    fn kill(&mut self) {
        signal("TERM", self.pid);
        // Wait until the process is gone, so its ports are free for a restart.
        let deadline = std::time::Instant::now() + LIMIT;
        while alive(self.pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn restart(&mut self) {
        self.pid = start_kamailio(&self.dir, self.ports);
    }

    /// Every process of this instance: the main one and its children.
    fn processes(&self) -> Vec<u32> {
        let mut all = vec![self.pid];
        let mut i = 0;
        while i < all.len() {
            all.extend(children(all[i]));
            i += 1;
        }
        all
    }
}

impl Drop for OwnKamailio {
    fn drop(&mut self) {
        for pid in self.processes() {
            signal("CONT", pid);
        }
        self.kill();
    }
}

fn start_kamailio(dir: &std::path::Path, ports: [u16; 4]) -> u32 {
    let output = Command::new(root().join("interop/kamailio/start"))
        .arg(dir)
        .env("KAMAILIO_SIP_PORT", ports[0].to_string())
        .env("KAMAILIO_TLS_PORT", ports[1].to_string())
        .env("KAMAILIO_WS_PORT", ports[2].to_string())
        .env("KAMAILIO_WSS_PORT", ports[3].to_string())
        .output()
        .expect("run interop/kamailio/start");
    assert!(
        output.status.success(),
        "kamailio start failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("a PID on the last line")
}

/// Whether `pid` is running (a zombie waiting to be reaped counts as gone).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

fn signal(name: &str, pid: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status();
}

fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // The parent PID is the second field after the parenthesised command name.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(pid) {
            found.push(child);
        }
    }
    found
}

fn own_dir(name: &str) -> PathBuf {
    let base = std::env::var("SIPLINE_RUN_DIR").unwrap();
    PathBuf::from(base).join(name)
}

#[tokio::test]
async fn ws_client_reconnects_after_a_kamailio_restart_within_the_backoff_bound() {
    let Some(_) = interop() else { return };
    let mut kamailio = OwnKamailio::start(own_dir("restart"), [15060, 15061, 18080, 18443]);
    let backoff = Backoff {
        min: Duration::from_millis(200),
        max: Duration::from_millis(800),
    };
    let config = TransportConfig::new(kamailio.ws_url())
        .with_backoff(backoff)
        .with_connect_timeout(Duration::from_secs(2));
    let (transport, mut events) = Transport::start(config).unwrap();
    connected(&mut events).await;

    kamailio.kill();
    match next_event(&mut events).await {
        TransportEvent::Disconnected { reason } => {
            assert!(matches!(reason, Error::ConnectionLost { .. }), "{reason}")
        }
        other => panic!("expected the connection to drop, got {other:?}"),
    }
    // Let a few reconnect attempts fail against the stopped server.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    kamailio.restart();
    let restarted = Instant::now();
    let flow = loop {
        match next_event(&mut events).await {
            TransportEvent::Connected { flow, .. } => break flow,
            TransportEvent::Connecting { .. } | TransportEvent::Disconnected { .. } => {}
            other => panic!("{other:?}"),
        }
    };
    let took = restarted.elapsed();
    // The longest wait is one back-off delay plus one connect (slack for a loaded 2-core CI).
    assert!(
        took <= backoff.max + Duration::from_millis(1000),
        "reconnected after {took:?}"
    );
    // And the new connection works.
    let mut session = Session::new(flow);
    let (options, call_id) = session.request("OPTIONS", "sip:127.0.0.1", "100", "");
    transport.send(&options).await.unwrap();
    assert_eq!(
        response(&mut events, &call_id).await.as_ref().status(),
        Some(200)
    );
    assert_eq!(transport.stats().connects, 2);
    transport.close().await;
}

#[tokio::test]
async fn keepalive_reports_a_frozen_kamailio_within_interval_plus_timeout() {
    let Some(_) = interop() else { return };
    let kamailio = OwnKamailio::start(own_dir("freeze"), [25060, 25061, 28080, 28443]);
    let keep_alive = KeepAlive {
        interval: Some(Duration::from_millis(700)),
        pong_timeout: Duration::from_millis(700),
        websocket_ping: true,
    };
    let config = TransportConfig::new(kamailio.ws_url())
        .with_keep_alive(keep_alive)
        .with_reconnect(false);
    let (transport, mut events) = Transport::start(config).unwrap();
    connected(&mut events).await;
    // While Kamailio runs, pings are answered.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let stats = transport.stats();
    assert!(
        stats.keepalive_pings >= 2 && stats.keepalive_pongs >= 2,
        "{stats:?}"
    );

    for pid in kamailio.processes() {
        signal("STOP", pid);
    }
    let frozen = Instant::now();
    match next_event(&mut events).await {
        TransportEvent::Disconnected {
            reason: Error::KeepAliveTimeout { .. },
        } => {}
        other => panic!("expected a keep-alive timeout, got {other:?}"),
    }
    let took = frozen.elapsed();
    let bound = keep_alive.interval.unwrap() + keep_alive.pong_timeout;
    // Slack: timer and scheduling latency on a loaded machine.
    assert!(
        took <= bound + Duration::from_millis(400),
        "detected after {took:?}, bound {bound:?}"
    );
    transport.close().await;
    drop(kamailio);
}

/// One registered user agent, driven by hand for the call tests.
struct Phone {
    transport: Transport,
    events: TransportEvents,
    session: Session,
    user: String,
    contact: String,
}

impl Phone {
    async fn register(run_dir: &std::path::Path, url: &str, user: &str) -> Phone {
        let (transport, mut events) = Transport::start(config(url, run_dir)).unwrap();
        let flow = connected(&mut events).await;
        let mut session = Session::new(flow);
        let contact = rfc7118::contact_uri(&flow, user, &session.host);
        let headers = format!("Contact: <{contact}>\r\nExpires: 60\r\n");
        let (register, call_id) = session.request("REGISTER", "sip:127.0.0.1", user, &headers);
        transport.send(&register).await.unwrap();
        let challenge = response(&mut events, &call_id).await;
        let authorization = answer(
            &challenge,
            sip_proto::HeaderName::WwwAuthenticate,
            "REGISTER",
            "sip:127.0.0.1",
            user,
        );
        let headers = format!("{headers}Authorization: {authorization}\r\n");
        let (register, call_id) = session.request("REGISTER", "sip:127.0.0.1", user, &headers);
        transport.send(&register).await.unwrap();
        assert_eq!(
            response(&mut events, &call_id).await.as_ref().status(),
            Some(200)
        );
        Phone {
            transport,
            events,
            session,
            user: user.to_owned(),
            contact,
        }
    }

    async fn next_request(&mut self, method: &str) -> Message {
        loop {
            match next_event(&mut self.events).await {
                TransportEvent::Message { message, .. }
                    if message
                        .as_ref()
                        .method()
                        .is_some_and(|m| m.as_str() == method) =>
                {
                    return message;
                }
                TransportEvent::Message { .. } => {}
                other => panic!("expected {method}, got {other:?}"),
            }
        }
    }

    /// A response to `request` echoing its Via, From, To (tagged), Call-ID, CSeq and
    /// Record-Route, with our Contact.
    fn reply(&self, request: &Message, status: &str) -> Message {
        let mut text = format!("SIP/2.0 {status}\r\n");
        for header in request.as_ref().headers() {
            use sip_proto::HeaderName as H;
            match header.name {
                H::To if !header.value.contains("tag=") => {
                    text.push_str(&format!("To: {};tag=callee\r\n", header.value))
                }
                H::Via | H::From | H::To | H::CallId | H::CSeq | H::RecordRoute => {
                    text.push_str(&format!("{}: {}\r\n", header.raw_name, header.value));
                }
                _ => {}
            }
        }
        text.push_str(&format!(
            "Contact: <{}>\r\nContent-Length: 0\r\n\r\n",
            self.contact
        ));
        Message::parse(text.into_bytes()).unwrap()
    }
}

fn answer(
    challenge: &Message,
    header: sip_proto::HeaderName<'_>,
    method: &str,
    uri: &str,
    user: &str,
) -> String {
    let value = challenge
        .as_ref()
        .header(header)
        .unwrap_or_else(|| panic!("no challenge in {challenge:?}"));
    let parsed = Challenge::parse(value).unwrap();
    let password = Password::new("sipline-test");
    let cnonce = format!("{:016x}", rand::random::<u64>());
    DigestRequest::new(method, uri, user, &password)
        .cnonce(&cnonce)
        .answer(&parsed)
        .unwrap()
        .to_string()
}

/// Two WebSocket clients call each other through Kamailio: the INVITE (after the proxy
/// challenge) reaches the callee over its own connection, and the ACK and BYE follow the
/// Record-Route and the callee's Contact back over the right connection.
#[tokio::test]
async fn ws_clients_call_each_other_through_kamailio() {
    let Some(run_dir) = interop() else { return };
    let ws = "ws://127.0.0.1:8080/ws";
    call(&run_dir, (ws, "transport-alice"), (ws, "transport-bob")).await;
}

/// A WebSocket client calls a UDP client: Kamailio double-record-routes between the two
/// transports and in-dialog requests cross back correctly.
#[tokio::test]
async fn ws_client_calls_a_udp_client_through_kamailio() {
    let Some(run_dir) = interop() else { return };
    let udp = "sip:127.0.0.1:5060;transport=udp";
    call(
        &run_dir,
        ("wss://127.0.0.1:8443/ws", "transport-carol"),
        (udp, "transport-dave"),
    )
    .await;
}

/// INVITE (answering the 407), 200, ACK, BYE, 200 between `caller` and `callee`
/// (transport URL, user).
async fn call(run_dir: &std::path::Path, caller: (&str, &str), callee: (&str, &str)) {
    let mut alice = Phone::register(run_dir, caller.0, caller.1).await;
    let mut bob = Phone::register(run_dir, callee.0, callee.1).await;

    let target = format!("sip:{}@127.0.0.1", bob.user);
    let alice_contact = format!("Contact: <{}>\r\n", alice.contact);
    let alice_user = alice.user.clone();
    let invite_headers = |extra: &str| format!("{alice_contact}{extra}");
    let (invite, call_id) =
        alice
            .session
            .request("INVITE", &target, &alice_user, &invite_headers(""));
    // The request helper addresses To to the caller; fix it to the callee.
    let (alice_to, bob_to) = (
        format!("To: <sip:{}@127.0.0.1>", alice.user),
        format!("To: <sip:{}@127.0.0.1>", bob.user),
    );
    let retarget = |m: Message| {
        let text = String::from_utf8(m.to_bytes())
            .unwrap()
            .replace(&alice_to, &bob_to);
        Message::parse(text.into_bytes()).unwrap()
    };
    alice.transport.send(&retarget(invite)).await.unwrap();
    let challenge = response(&mut alice.events, &call_id).await;
    assert_eq!(challenge.as_ref().status(), Some(407), "{challenge:?}");
    let authorization = answer(
        &challenge,
        sip_proto::HeaderName::ProxyAuthenticate,
        "INVITE",
        &target,
        &alice_user,
    );
    let (invite, _) = alice.session.request(
        "INVITE",
        &target,
        &alice_user,
        &invite_headers(&format!("Proxy-Authorization: {authorization}\r\n")),
    );
    alice.transport.send(&retarget(invite)).await.unwrap();

    // Bob gets the INVITE on his own WebSocket and answers 200.
    let incoming = bob.next_request("INVITE").await;
    assert_eq!(incoming.as_ref().call_id(), Some(call_id.as_str()));
    assert!(
        incoming
            .as_ref()
            .header(sip_proto::HeaderName::RecordRoute)
            .is_some(),
        "Kamailio record-routes: {incoming:?}"
    );
    bob.transport
        .send(&bob.reply(&incoming, "200 OK"))
        .await
        .unwrap();
    let ok = loop {
        let message = response(&mut alice.events, &call_id).await;
        if message.as_ref().status() == Some(200) {
            break message;
        }
    };

    // Alice's ACK and BYE: to Bob's Contact, through the route set (the 200's Record-Route
    // reversed, RFC 3261 §12.1.2).
    alice.session.dialog = Some(call_id.clone());
    let mut route_set: Vec<&str> = ok
        .as_ref()
        .headers_named(sip_proto::HeaderName::RecordRoute)
        .collect();
    route_set.reverse();
    let route = route_set.join(", ");
    let remote_contact = ok
        .as_ref()
        .header(sip_proto::HeaderName::Contact)
        .expect("Contact in the 200");
    let remote_uri = remote_contact
        .trim()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    for method in ["ACK", "BYE"] {
        let (request, _) = alice.session.request(
            method,
            &remote_uri,
            &alice_user,
            &format!("Route: {route}\r\n"),
        );
        let text = String::from_utf8(retarget(request).to_bytes()).unwrap();
        // In-dialog: the callee's tag on To.
        let text = text.replace(&bob_to, &format!("{bob_to};tag=callee"));
        alice
            .transport
            .send(&Message::parse(text.into_bytes()).unwrap())
            .await
            .unwrap();
        let received = bob.next_request(method).await;
        assert_eq!(received.as_ref().call_id(), Some(call_id.as_str()));
        if method == "BYE" {
            bob.transport
                .send(&bob.reply(&received, "200 OK"))
                .await
                .unwrap();
            let done = response(&mut alice.events, &call_id).await;
            assert_eq!(done.as_ref().status(), Some(200), "{done:?}");
        }
    }
    alice.transport.close().await;
    bob.transport.close().await;
}

/// Kamailio answers the RFC 5626 double-CRLF ping with a CRLF on every connection-oriented
/// transport, so keep-alive works without WebSocket pings too.
#[tokio::test]
async fn crlf_keepalive_is_answered_over_ws_tcp_and_tls() {
    let Some(run_dir) = interop() else { return };
    for url in [
        "ws://127.0.0.1:8080/ws",
        "wss://127.0.0.1:8443/ws",
        "sip:127.0.0.1:5060;transport=tcp",
        "sips:127.0.0.1:5061",
    ] {
        let keep_alive = KeepAlive {
            interval: Some(Duration::from_millis(200)),
            pong_timeout: Duration::from_millis(500),
            websocket_ping: false,
        };
        let (transport, mut events) =
            Transport::start(config(url, &run_dir).with_keep_alive(keep_alive)).unwrap();
        connected(&mut events).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let stats = transport.stats();
        assert!(
            stats.keepalive_pings >= 3 && stats.keepalive_pongs >= 3,
            "{url}: {stats:?}"
        );
        assert_eq!(stats.disconnects, 0, "{url}: {stats:?}");
        transport.close().await;
    }
}
