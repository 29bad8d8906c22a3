//! The transports against small in-process servers on loopback: subprotocol refusal, garbage
//! frames, handshake timeouts, keep-alive death, reconnect, UDP and TCP framing.

// tungstenite's handshake callback returns its (large) HTTP error response by value.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sip_proto::Message;
use sip_transport::{
    Backoff, Error, KeepAlive, Transport, TransportConfig, TransportEvent, TransportEvents,
    TransportKind,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

const LIMIT: Duration = Duration::from_secs(10);

fn options(n: u32) -> Message {
    Message::parse(
        format!(
            "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK{n}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\n\
             Call-ID: local-{n}\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    )
    .unwrap()
}

async fn next_event(events: &mut TransportEvents) -> TransportEvent {
    timeout(LIMIT, events.recv())
        .await
        .expect("no event in time")
        .expect("transport stopped")
}

async fn next_message(events: &mut TransportEvents) -> Message {
    loop {
        if let TransportEvent::Message { message, .. } = next_event(events).await {
            return message;
        }
    }
}

/// A listener for a test WebSocket server and its URL.
async fn ws_server() -> (String, TcpListener) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    (url, listener)
}

/// Accepts one WebSocket, answering `protocol` as the subprotocol (or none).
async fn accept_ws(
    listener: &TcpListener,
    protocol: Option<&'static str>,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let (tcp, _) = listener.accept().await.unwrap();
    tokio_tungstenite::accept_hdr_async(tcp, move |request: &Request, mut response: Response| {
        assert_eq!(
            request.headers().get("Sec-WebSocket-Protocol").unwrap(),
            "sip"
        );
        if let Some(p) = protocol {
            response
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(p));
        }
        Ok(response)
    })
    .await
    .unwrap()
}

fn quick(url: &str) -> TransportConfig {
    TransportConfig::new(url)
        .with_connect_timeout(Duration::from_secs(2))
        .with_backoff(Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_millis(300),
        })
        .with_keep_alive(KeepAlive::off())
}

#[tokio::test]
async fn server_refusing_the_sip_subprotocol_fails_clearly() {
    for answer in [None, Some("chat")] {
        let (url, listener) = ws_server().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = tokio_tungstenite::accept_hdr_async(
                tcp,
                move |_: &Request, mut response: Response| {
                    if let Some(p) = answer {
                        response
                            .headers_mut()
                            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(p));
                    }
                    Ok(response)
                },
            )
            .await;
        });
        let (transport, mut events) = Transport::start(quick(&url).with_reconnect(false)).unwrap();
        assert!(matches!(
            next_event(&mut events).await,
            TransportEvent::Connecting { attempt: 1, .. }
        ));
        match next_event(&mut events).await {
            TransportEvent::Disconnected {
                reason: reason @ Error::SubprotocolRefused { .. },
            } => {
                let text = reason.to_string();
                assert!(
                    text.contains("did not accept the \"sip\" subprotocol"),
                    "{text}"
                );
            }
            other => panic!("expected a subprotocol error, got {other:?}"),
        }
        assert!(matches!(
            transport.send(&options(1)).await,
            Err(Error::NotConnected { .. })
        ));
        transport.close().await;
        server.await.unwrap();
    }
}

#[tokio::test]
async fn garbage_frames_are_dropped_and_counted_and_the_connection_lives() {
    let (url, listener) = ws_server().await;
    let server = tokio::spawn(async move {
        let mut ws = accept_ws(&listener, Some("sip")).await;
        ws.send(WsMessage::Binary(vec![0u8, 1, 2, 3, 255].into()))
            .await
            .unwrap();
        ws.send(WsMessage::text("hello, not SIP\r\n"))
            .await
            .unwrap();
        ws.send(WsMessage::text(
            "OPTIONS sip:x SIP/2.0\r\nVia SIP/2.0/WS broken\r\n\r\n",
        ))
        .await
        .unwrap();
        ws.send(WsMessage::text(format!(
            "OPTIONS sip:x SIP/2.0\r\nX-Big: {}\r\n\r\n",
            "a".repeat(70_000)
        )))
        .await
        .unwrap();
        // A valid message, as binary: still delivered.
        ws.send(WsMessage::Binary(options(7).to_bytes().into()))
            .await
            .unwrap();
        // The client is still there and can send.
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Text(text))) => return text.to_string(),
                Some(Ok(_)) => continue,
                other => panic!("server lost the client: {other:?}"),
            }
        }
    });
    let (transport, mut events) = Transport::start(quick(&url)).unwrap();
    let message = next_message(&mut events).await;
    assert_eq!(message.as_ref().call_id(), Some("local-7"));
    let stats = transport.stats();
    assert_eq!(
        (
            stats.dropped_non_sip,
            stats.dropped_malformed,
            stats.dropped_oversized
        ),
        (2, 1, 1),
        "{stats:?}"
    );
    transport.send(&options(8)).await.unwrap();
    let echoed = timeout(LIMIT, server).await.unwrap().unwrap();
    assert!(echoed.contains("Call-ID: local-8"), "{echoed}");
    assert_eq!(transport.stats().disconnects, 0);
    transport.close().await;
}

#[tokio::test]
async fn a_server_that_never_finishes_the_handshake_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(tcp);
    });
    let config = quick(&url)
        .with_reconnect(false)
        .with_connect_timeout(Duration::from_millis(300));
    let (transport, mut events) = Transport::start(config).unwrap();
    next_event(&mut events).await;
    match next_event(&mut events).await {
        TransportEvent::Disconnected { reason } => {
            assert!(
                matches!(
                    reason,
                    Error::Timeout {
                        stage: "WebSocket handshake",
                        ..
                    }
                ),
                "{reason}"
            );
            assert!(reason.to_string().contains("timed out"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    transport.close().await;
    holder.abort();
}

#[tokio::test]
async fn an_unanswered_keepalive_reports_the_connection_dead_then_reconnects() {
    let (url, listener) = ws_server().await;
    let server = tokio::spawn(async move {
        // First connection: accept, then never read (no pongs, no CRLF).
        let silent = accept_ws(&listener, Some("sip")).await;
        let mut second = accept_ws(&listener, Some("sip")).await;
        drop(silent);
        // Second connection: answer CRLFCRLF with CRLF.
        while let Some(Ok(message)) = second.next().await {
            if let WsMessage::Text(text) = message
                && text.as_str() == "\r\n\r\n"
            {
                second.send(WsMessage::text("\r\n")).await.unwrap();
            }
        }
    });
    let keep_alive = KeepAlive {
        interval: Some(Duration::from_millis(300)),
        pong_timeout: Duration::from_millis(300),
        websocket_ping: false,
    };
    let (transport, mut events) =
        Transport::start(quick(&url).with_keep_alive(keep_alive)).unwrap();
    assert!(matches!(
        next_event(&mut events).await,
        TransportEvent::Connecting { .. }
    ));
    assert!(matches!(
        next_event(&mut events).await,
        TransportEvent::Connected { .. }
    ));
    let connected = tokio::time::Instant::now();
    match next_event(&mut events).await {
        TransportEvent::Disconnected {
            reason: Error::KeepAliveTimeout { .. },
        } => {}
        other => panic!("{other:?}"),
    }
    let detected = connected.elapsed();
    assert!(
        detected >= Duration::from_millis(550) && detected < Duration::from_millis(1500),
        "{detected:?}"
    );
    assert!(matches!(
        next_event(&mut events).await,
        TransportEvent::Connecting { attempt: 1, .. }
    ));
    assert!(matches!(
        next_event(&mut events).await,
        TransportEvent::Connected { .. }
    ));
    // The second server answers: pings keep succeeding for a while.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let stats = transport.stats();
    assert!(stats.keepalive_pongs >= 2, "{stats:?}");
    assert_eq!(stats.disconnects, 1, "{stats:?}");
    transport.close().await;
    server.abort();
}

#[tokio::test]
async fn fails_over_to_the_next_server() {
    // A port with nothing listening, weighted higher, then a live server.
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("ws://{}/ws", dead.local_addr().unwrap());
    drop(dead);
    let (url, listener) = ws_server().await;
    let server = tokio::spawn(async move {
        let mut ws = accept_ws(&listener, Some("sip")).await;
        while ws.next().await.is_some() {}
    });
    let config = quick(&dead_url)
        .with_server(sip_transport::WeightedServer::new(url.clone()).with_weight(0));
    let (transport, mut events) = Transport::start(config).unwrap();
    let mut seen = Vec::new();
    loop {
        match next_event(&mut events).await {
            TransportEvent::Connecting { server, .. } => seen.push(server),
            TransportEvent::Connected { server, flow } => {
                assert_eq!(server, url);
                assert_eq!(flow.kind, TransportKind::Ws);
                break;
            }
            TransportEvent::Disconnected { reason } => {
                assert!(matches!(reason, Error::Io { .. }), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen, [dead_url, url]);
    transport.close().await;
    server.abort();
}

#[tokio::test]
async fn events_are_also_a_stream() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let (transport, events) = Transport::start(quick(&format!("sip:{addr}"))).unwrap();
    let mut events = Box::pin(events);
    let first = timeout(LIMIT, events.next()).await.unwrap();
    assert!(
        matches!(first, Some(TransportEvent::Connected { .. })),
        "{first:?}"
    );
    transport.close().await;
    // The task has stopped: the stream ends.
    assert!(timeout(LIMIT, events.next()).await.unwrap().is_none());
}

#[tokio::test]
async fn udp_sends_and_receives_whole_datagrams() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let (transport, mut events) =
        Transport::start(quick(&format!("sip:{addr};transport=udp"))).unwrap();
    let flow = match next_event(&mut events).await {
        TransportEvent::Connected { flow, .. } => flow,
        other => panic!("{other:?}"),
    };
    assert_eq!((flow.kind, flow.remote), (TransportKind::Udp, addr));
    assert_eq!(flow.local.ip(), addr.ip());
    transport.send(&options(1)).await.unwrap();
    let mut buf = [0u8; 4096];
    let (len, from) = server.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..len], &options(1).to_bytes()[..]);
    assert_eq!(from, flow.local);
    // Junk is dropped, a message with trailing bytes is delivered (RFC 4475 dblreq).
    server.send_to(b"\x00\x01junk", from).await.unwrap();
    let mut with_trailer = options(2).to_bytes();
    with_trailer.extend_from_slice(b"INVITE sip:bob@x SIP/2.0\r\n\r\n");
    server.send_to(&with_trailer, from).await.unwrap();
    let message = next_message(&mut events).await;
    assert_eq!(message.as_ref().call_id(), Some("local-2"));
    assert_eq!(transport.stats().dropped_non_sip, 1);
    transport.close().await;
}

#[tokio::test]
async fn tcp_frames_messages_answers_pings_and_reconnects_on_lost_framing() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        // Two messages in one write, split unevenly, with a ping in between.
        let mut stream = options(1).to_bytes();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(&options(2).to_bytes());
        let (a, b) = stream.split_at(50);
        tcp.write_all(a).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        tcp.write_all(b).await.unwrap();
        let mut pong = [0u8; 2];
        tcp.read_exact(&mut pong).await.unwrap();
        assert_eq!(&pong, b"\r\n");
        // Garbage: framing is lost, the client must drop this connection and reconnect.
        tcp.write_all(b"\x16\x03\x01garbage\r\n\r\n").await.unwrap();
        let (mut second, _) = listener.accept().await.unwrap();
        second.write_all(&options(3).to_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let (transport, mut events) =
        Transport::start(quick(&format!("sip:{addr};transport=tcp"))).unwrap();
    let mut call_ids = Vec::new();
    let mut lost = None;
    while call_ids.len() < 3 {
        match next_event(&mut events).await {
            TransportEvent::Message { message, flow } => {
                assert_eq!(flow.kind, TransportKind::Tcp);
                call_ids.push(message.as_ref().call_id().unwrap().to_owned());
            }
            TransportEvent::Disconnected { reason } => lost = Some(reason),
            _ => {}
        }
    }
    assert_eq!(call_ids, ["local-1", "local-2", "local-3"]);
    assert!(matches!(lost, Some(Error::Framing { .. })), "{lost:?}");
    transport.close().await;
    server.abort();
}

#[tokio::test]
async fn a_server_that_never_finishes_the_tls_handshake_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        // The second connection waits in the backlog: connected, never answered either.
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(tcp);
    });
    for url in [format!("sips:{addr}"), format!("wss://{addr}/ws")] {
        let config = quick(&url)
            .with_reconnect(false)
            .with_connect_timeout(Duration::from_millis(300));
        let (transport, mut events) = Transport::start(config).unwrap();
        next_event(&mut events).await;
        match next_event(&mut events).await {
            TransportEvent::Disconnected { reason } => {
                assert!(
                    matches!(
                        reason,
                        Error::Timeout {
                            stage: "TLS handshake",
                            ..
                        }
                    ),
                    "{url}: {reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        transport.close().await;
    }
    holder.abort();
}

#[test]
fn starting_outside_a_runtime_is_an_error_not_a_panic() {
    let error = Transport::start(quick("ws://127.0.0.1:9/ws")).unwrap_err();
    assert!(matches!(error, Error::NoRuntime), "{error}");
}

#[tokio::test]
async fn ws_messages_much_larger_than_the_read_buffer_arrive_intact_both_ways() {
    // The client reads through a 4 KiB buffer; a 60 kB message must still arrive whole.
    let body = "v=0 ".repeat(15_000);
    let big = |n: u32| {
        Message::parse(
            format!(
                "MESSAGE sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK{n}\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\n\
                 Call-ID: big-{n}\r\nCSeq: {n} MESSAGE\r\nContent-Type: text/plain\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
        .unwrap()
    };
    let (url, listener) = ws_server().await;
    let sent = big(1).to_bytes();
    let server = tokio::spawn(async move {
        let mut ws = accept_ws(&listener, Some("sip")).await;
        // Two in a row, so the second starts inside the buffer the first one grew.
        ws.send(WsMessage::text(String::from_utf8(sent.to_vec()).unwrap()))
            .await
            .unwrap();
        ws.send(WsMessage::Binary(options(2).to_bytes().into()))
            .await
            .unwrap();
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Text(text))) => return text.to_string(),
                Some(Ok(_)) => continue,
                other => panic!("server lost the client: {other:?}"),
            }
        }
    });
    let (transport, mut events) = Transport::start(quick(&url)).unwrap();
    let received = next_message(&mut events).await;
    assert_eq!(received.as_ref().call_id(), Some("big-1"));
    assert!(received.to_bytes().len() > 60_000);
    assert_eq!(received.to_bytes(), big(1).to_bytes());
    let small = next_message(&mut events).await;
    assert_eq!(small.as_ref().call_id(), Some("local-2"));
    transport.send(&big(3)).await.unwrap();
    let echoed = timeout(LIMIT, server).await.unwrap().unwrap();
    assert_eq!(echoed.as_bytes(), &big(3).to_bytes()[..]);
    let stats = transport.stats();
    assert_eq!(
        (stats.dropped_oversized, stats.dropped_malformed),
        (0, 0),
        "{stats:?}"
    );
    transport.close().await;
}
