//! A TEST DOUBLE of a SIP registrar and proxy over WebSocket (RFC 7118), in-process and on
//! loopback only, so the demo needs no Kamailio. It is not a SIP server: it keeps one binding
//! per user, forwards requests statelessly (RFC 3261 §16.11 style branches) with a
//! Record-Route so in-dialog requests come back through it, and sends each response to the
//! connection its request came from. No authentication, no retransmissions (WebSocket is
//! reliable), no forking.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use sip_ua::{Method, SipMessage, StartLine};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// One registered user: the connection it registered on and its Contact URI.
#[derive(Debug, Clone)]
struct Binding {
    conn: u64,
    contact: String,
}

#[derive(Debug, Default)]
struct State {
    conns: HashMap<u64, mpsc::UnboundedSender<String>>,
    bindings: HashMap<String, Binding>,
    next_conn: u64,
}

/// The running double. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct RegistrarDouble {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for RegistrarDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RegistrarDouble {
    /// Listens on 127.0.0.1 on a free port.
    pub async fn start() -> std::io::Result<RegistrarDouble> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, addr, shared.clone()));
            }
        });
        Ok(RegistrarDouble { addr, state, task })
    }

    /// The WebSocket URL agents connect to (`ws://127.0.0.1:PORT`).
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The users with a binding now, sorted (for tests counting bindings).
    #[allow(dead_code)] // used by sip-ua's driver tests, not by the demo
    pub fn bound_users(&self) -> Vec<String> {
        let mut users: Vec<String> = match self.state.lock() {
            Ok(s) => s.bindings.keys().cloned().collect(),
            Err(_) => Vec::new(),
        };
        users.sort();
        users
    }
}

/// Offers the `sip` subprotocol RFC 7118 requires.
#[allow(clippy::result_large_err)] // tungstenite's callback signature
fn accept_sip(_request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    response
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
    Ok(response)
}

async fn serve(stream: TcpStream, local: SocketAddr, state: Arc<Mutex<State>>) {
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, accept_sip).await else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let conn = {
        let Ok(mut s) = state.lock() else { return };
        s.next_conn += 1;
        let conn = s.next_conn;
        s.conns.insert(conn, tx);
        conn
    };
    let writer = tokio::spawn(async move {
        while let Some(text) = rx.recv().await {
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(frame)) = source.next().await {
        let bytes = match &frame {
            Message::Text(text) => text.as_bytes().to_vec(),
            Message::Binary(bytes) => bytes.to_vec(),
            Message::Close(_) => break,
            _ => continue,
        };
        if let Ok(message) = SipMessage::parse(&bytes) {
            route(&state, conn, local, message);
        }
    }
    if let Ok(mut s) = state.lock() {
        s.conns.remove(&conn);
        s.bindings.retain(|_, b| b.conn != conn);
    }
    writer.abort();
}

/// The URI inside `<...>`, or the whole value up to its parameters.
fn uri_of(value: &str) -> String {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => value[a + 1..b].to_owned(),
        _ => value.split(';').next().unwrap_or(value).trim().to_owned(),
    }
}

fn user_host(uri: &str) -> (String, String) {
    match sip_ua::values::uri_user_host(uri) {
        Some((user, host)) => (user.unwrap_or_default().to_owned(), host.to_owned()),
        None => (String::new(), String::new()),
    }
}

fn send(state: &State, conn: u64, message: &SipMessage) {
    if let Some(tx) = state.conns.get(&conn) {
        let _ = tx.send(String::from_utf8_lossy(&message.to_bytes()).into_owned());
    }
}

fn route(state: &Mutex<State>, from: u64, local: SocketAddr, mut message: SipMessage) {
    let Ok(mut s) = state.lock() else { return };
    if !message.is_request() {
        // Our Via is on top: its branch names the connection the request came from.
        let target = message
            .top_via()
            .and_then(|v| v.branch().map(str::to_owned))
            .and_then(|b| {
                b.strip_prefix("z9hG4bK-dbl-")?
                    .split('-')
                    .next()?
                    .parse()
                    .ok()
            });
        if let Some(conn) = target {
            let vias: Vec<String> = message.values("Via").skip(1).map(str::to_owned).collect();
            message.remove_header("Via");
            for via in vias {
                message.push_header("Via", via);
            }
            send(&s, conn, &message);
        }
        return;
    }
    let method = message.method().cloned();
    if method == Some(Method::Register) {
        let user = message
            .to_header()
            .map(|t| user_host(&t.uri).0)
            .unwrap_or_default();
        let contact = message.header("Contact").map(uri_of);
        let expires_zero = message.header("Expires").map(str::trim) == Some("0")
            || message
                .header("Contact")
                .is_some_and(|c| c.contains("expires=0"));
        let mut ok = SipMessage::response_to(&message, 200);
        match contact {
            Some(contact) if !expires_zero => {
                s.bindings.insert(
                    user,
                    Binding {
                        conn: from,
                        contact,
                    },
                );
                if let Some(c) = message.header("Contact") {
                    ok.push_header("Contact", format!("{c};expires=600"));
                }
            }
            _ => {
                s.bindings.remove(&user);
            }
        }
        send(&s, from, &ok);
        return;
    }
    // Drop our own Route entry (loose routing, RFC 3261 §16.4).
    let routes: Vec<String> = message.values("Route").map(str::to_owned).collect();
    if let Some(first) = routes.first()
        && uri_of(first).contains(&local.to_string())
    {
        message.remove_header("Route");
        for route in &routes[1..] {
            message.push_header("Route", route.clone());
        }
    }
    let uri = message.request_uri().unwrap_or_default().to_owned();
    let (user, host) = user_host(&uri);
    let binding = s
        .bindings
        .values()
        .find(|b| user_host(&b.contact).1 == host)
        .or_else(|| s.bindings.get(&user))
        .cloned();
    let Some(binding) = binding else {
        if method != Some(Method::Ack) {
            send(&s, from, &SipMessage::response_to(&message, 404));
        }
        return;
    };
    if message.to_header().is_some_and(|t| t.tag().is_none()) && method == Some(Method::Invite) {
        if let StartLine::Request { uri, .. } = &mut message.start {
            uri.clone_from(&binding.contact);
        }
        message.prepend_header("Record-Route", format!("<sip:{local};transport=ws;lr>"));
    }
    let original = message
        .top_via()
        .and_then(|v| v.branch().map(str::to_owned))
        .unwrap_or_default();
    // CANCEL and a non-2xx ACK carry the INVITE's branch: the derived branch matches too.
    let digest = original.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    message.prepend_header(
        "Via",
        format!("SIP/2.0/WS {local};branch=z9hG4bK-dbl-{from}-{digest:x}"),
    );
    send(&s, binding.conn, &message);
}
