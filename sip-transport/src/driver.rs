//! The task behind a [`Transport`](crate::Transport): owns the socket, connects and reconnects,
//! keeps the connection alive, reads and frames, and hands whole messages to the events channel.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::backoff::failover_order;
use crate::codec::{self, Drop, Piece, StreamFramer};
use crate::config::TransportConfig;
use crate::error::{Error, Result};
use crate::event::TransportEvent;
use crate::flow::{Flow, TransportKind};
use crate::keepalive::{PingAction, PingState};
use crate::link::{self, ConnectSettings, Io, Link};
use crate::stats::Counters;
use crate::target::Target;

/// A request from the handle to the task.
pub(crate) enum Command {
    /// Send one serialized message. Boxed: tokio allocates a 32-slot block per channel when
    /// it is made, and every idle agent pays for it; a small slot keeps that block small.
    Send(Box<Outgoing>),
    /// Close the connection and stop.
    Close,
}

/// One message to send, on `flow` or the current connection.
pub(crate) struct Outgoing {
    pub bytes: Bytes,
    pub flow: Option<Flow>,
    pub reply: oneshot::Sender<Result<Flow>>,
}

/// Everything the task needs.
pub(crate) struct Driver {
    pub config: TransportConfig,
    pub targets: Vec<Target>,
    pub settings: ConnectSettings,
    pub commands: mpsc::Receiver<Command>,
    /// Boxed events, for the same reason as [`Command::Send`].
    pub events: mpsc::Sender<Box<TransportEvent>>,
    pub counters: Arc<Counters>,
}

/// Why a session ended.
enum Ended {
    /// The user asked to close (or dropped the handle).
    Closed,
    /// The connection was lost.
    Lost(Error),
}

impl Driver {
    async fn emit(&self, event: TransportEvent) {
        // Nobody listening is fine: the transport still sends.
        let _ = self.events.send(Box::new(event)).await;
    }

    /// Runs until closed.
    pub async fn run(mut self) {
        if self.targets.first().map(|t| t.kind) == Some(TransportKind::Udp) {
            // Boxed so a UDP transport's future does not size every connection-based one.
            Box::pin(self.run_udp()).await;
        } else {
            self.run_connections().await;
        }
    }

    fn wire_log(&self, direction: &'static str, flow: &Flow, bytes: &[u8]) {
        tracing::debug!(
            target: "sip::wire",
            %flow,
            direction,
            len = bytes.len(),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }

    fn dropped(&self, flow: &Flow, drop: &Drop) {
        let counter = match drop {
            Drop::Oversized { .. } => &self.counters.dropped_oversized,
            Drop::Malformed { .. } => &self.counters.dropped_malformed,
            Drop::NotSip { .. } => &self.counters.dropped_non_sip,
        };
        Counters::bump(counter);
        tracing::warn!(%flow, %drop, "dropped an incoming frame");
    }

    async fn deliver(&self, flow: Flow, frame: &[u8]) {
        match codec::decode_datagram(frame, self.config.max_message_size) {
            Ok(message) => {
                Counters::bump(&self.counters.received);
                self.emit(TransportEvent::Message { message, flow }).await;
            }
            Err(drop) => self.dropped(&flow, &drop),
        }
    }

    // ---- UDP ---------------------------------------------------------------------------

    async fn run_udp(&mut self) {
        let target = self.targets[0].clone();
        let (socket, flow) = match self.open_udp(&target).await {
            Ok(opened) => opened,
            Err(error) => {
                self.emit(TransportEvent::Disconnected { reason: error })
                    .await;
                self.fail_commands_until_closed(&target).await;
                return;
            }
        };
        Counters::bump(&self.counters.connects);
        self.emit(TransportEvent::Connected {
            flow,
            server: target.to_string(),
        })
        .await;
        let mut buf = vec![0u8; 65_536];
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    None | Some(Command::Close) => return,
                    Some(Command::Send(outgoing)) => {
                        let Outgoing { bytes, flow: on, reply } = *outgoing;
                        let to = on.filter(|f| f.kind == TransportKind::Udp).map_or(flow.remote, |f| f.remote);
                        let out = Flow { remote: to, ..flow };
                        let result = self.send_datagram(&socket, &out, &bytes).await.map(|()| out);
                        let _ = reply.send(result);
                    }
                },
                received = socket.recv_from(&mut buf) => match received {
                    Ok((len, from)) => {
                        let datagram = &buf[..len];
                        let in_flow = Flow { remote: from, ..flow };
                        if datagram.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                            // An RFC 5626 keep-alive; nothing to deliver.
                            continue;
                        }
                        self.wire_log("in", &in_flow, datagram);
                        self.deliver(in_flow, datagram).await;
                    }
                    // ICMP port unreachable from an earlier send shows up here; the socket lives.
                    Err(error) => tracing::debug!(%flow, %error, "UDP receive error"),
                },
            }
        }
    }

    async fn open_udp(&self, target: &Target) -> Result<(UdpSocket, Flow)> {
        let remote = self.settings.dns.addresses(target).await?[0];
        let bind: SocketAddr = match self.config.udp_bind {
            Some(addr) => addr,
            None if remote.is_ipv6() => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
            None => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(bind)
            .await
            .map_err(|e| Error::io("bind", bind, e))?;
        // Learn the local address the kernel picks towards the server without connecting the
        // socket (replies may come from other addresses). The probe takes any free port: a
        // configured fixed port is already the socket's.
        let probe_bind = SocketAddr::new(bind.ip(), 0);
        let probe = UdpSocket::bind(probe_bind)
            .await
            .map_err(|e| Error::io("bind", probe_bind, e))?;
        probe
            .connect(remote)
            .await
            .map_err(|e| Error::io("route to", remote, e))?;
        let mut local = socket
            .local_addr()
            .map_err(|e| Error::io("read the local address of", bind, e))?;
        if local.ip().is_unspecified()
            && let Ok(routed) = probe.local_addr()
        {
            local.set_ip(routed.ip());
        }
        Ok((
            socket,
            Flow {
                kind: TransportKind::Udp,
                local,
                remote,
            },
        ))
    }

    async fn send_datagram(&self, socket: &UdpSocket, flow: &Flow, bytes: &[u8]) -> Result<()> {
        if bytes.len() > self.config.max_message_size {
            return Err(Error::MessageTooLarge {
                size: bytes.len(),
                limit: self.config.max_message_size,
                peer: flow.remote.to_string(),
            });
        }
        self.wire_log("out", flow, bytes);
        socket
            .send_to(bytes, flow.remote)
            .await
            .map_err(|e| Error::io("send to", flow.remote, e))?;
        Counters::bump(&self.counters.sent);
        Ok(())
    }

    async fn fail_commands_until_closed(&mut self, target: &Target) {
        while let Some(command) = self.commands.recv().await {
            match command {
                Command::Close => return,
                Command::Send(outgoing) => {
                    let reply = outgoing.reply;
                    let _ = reply.send(Err(Error::NotConnected {
                        peer: target.to_string(),
                    }));
                }
            }
        }
    }

    // ---- Connection-oriented: TCP, TLS, WS, WSS ----------------------------------------

    async fn run_connections(&mut self) {
        let order = failover_order(&self.config.servers);
        let mut failures: u32 = 0;
        let mut attempt: u32 = 0;
        loop {
            if failures > 0 {
                if !self.config.reconnect {
                    self.fail_commands_until_closed(&self.targets[0].clone())
                        .await;
                    return;
                }
                let delay = self.config.backoff.delay(failures);
                tracing::info!(?delay, failures, "reconnecting after back-off");
                if self
                    .wait_refusing_sends(Instant::now() + delay)
                    .await
                    .is_err()
                {
                    return;
                }
            }
            attempt += 1;
            let target = self.targets[order[(attempt as usize - 1) % order.len()]].clone();
            self.emit(TransportEvent::Connecting {
                attempt,
                server: target.to_string(),
            })
            .await;
            let settings = self.settings.clone();
            // Connecting (TCP, TLS, WebSocket handshakes) is boxed: inline, its large future
            // would size every connection's task for the whole session.
            let opened = tokio::select! {
                opened = Box::pin(link::open(&target, &settings)) => opened,
                closed = self.refuse_sends_until_closed(&target) => { let () = closed; return; }
            };
            match opened {
                Err(error) => {
                    tracing::warn!(server = %target, %error, "connect failed");
                    Counters::bump(&self.counters.disconnects);
                    self.emit(TransportEvent::Disconnected { reason: error })
                        .await;
                    failures += 1;
                }
                Ok((link, flow)) => {
                    Counters::bump(&self.counters.connects);
                    tracing::info!(%flow, server = %target, "connected");
                    self.emit(TransportEvent::Connected {
                        flow,
                        server: target.to_string(),
                    })
                    .await;
                    attempt = 0;
                    let ended = match link {
                        Link::Ws(ws) => self.ws_session(*ws, flow).await,
                        Link::Stream(io) => self.stream_session(io, flow).await,
                    };
                    match ended {
                        Ended::Closed => return,
                        Ended::Lost(reason) => {
                            tracing::warn!(%flow, %reason, "connection lost");
                            Counters::bump(&self.counters.disconnects);
                            self.emit(TransportEvent::Disconnected { reason }).await;
                            failures = 1;
                        }
                    }
                }
            }
        }
    }

    /// Answers sends with `NotConnected` until `until`; `Err` when asked to close.
    async fn wait_refusing_sends(&mut self, until: Instant) -> std::result::Result<(), ()> {
        let peer = self
            .targets
            .first()
            .map(|t| t.to_string())
            .unwrap_or_default();
        loop {
            tokio::select! {
                () = sleep_until(until) => return Ok(()),
                command = self.commands.recv() => match command {
                    None | Some(Command::Close) => return Err(()),
                    Some(Command::Send(outgoing)) => {
                        let reply = outgoing.reply;
                        let _ = reply.send(Err(Error::NotConnected { peer: peer.clone() }));
                    }
                },
            }
        }
    }

    async fn refuse_sends_until_closed(&mut self, target: &Target) {
        while let Some(command) = self.commands.recv().await {
            match command {
                Command::Close => return,
                Command::Send(outgoing) => {
                    let reply = outgoing.reply;
                    let _ = reply.send(Err(Error::NotConnected {
                        peer: target.to_string(),
                    }));
                }
            }
        }
    }

    fn check_outgoing(&self, flow: &Flow, on: Option<Flow>, bytes: &[u8]) -> Result<()> {
        if let Some(on) = on
            && on != *flow
        {
            return Err(Error::NotConnected {
                peer: on.to_string(),
            });
        }
        if bytes.len() > self.config.max_message_size {
            return Err(Error::MessageTooLarge {
                size: bytes.len(),
                limit: self.config.max_message_size,
                peer: flow.remote.to_string(),
            });
        }
        Ok(())
    }

    async fn ws_session(&mut self, mut ws: WebSocketStream<Io>, flow: Flow) -> Ended {
        let mut ping = PingState::new(self.config.keep_alive, Instant::now());
        let far_future = Instant::now() + Duration::from_secs(86_400 * 365);
        loop {
            let deadline = ping.deadline().unwrap_or(far_future);
            tokio::select! {
                command = self.commands.recv() => match command {
                    None | Some(Command::Close) => {
                        let _ = tokio::time::timeout(self.config.connect_timeout, ws.close(None)).await;
                        return Ended::Closed;
                    }
                    Some(Command::Send(outgoing)) => {
                        let Outgoing { bytes, flow: on, reply } = *outgoing;
                        if let Err(error) = self.check_outgoing(&flow, on, &bytes) {
                            let _ = reply.send(Err(error));
                            continue;
                        }
                        self.wire_log("out", &flow, &bytes);
                        let frame = match tokio_tungstenite::tungstenite::Utf8Bytes::try_from(bytes.clone()) {
                            Ok(text) => WsMessage::Text(text),
                            Err(_) => WsMessage::Binary(bytes),
                        };
                        match ws_write(&mut ws, frame, self.config.connect_timeout).await {
                            Ok(()) => {
                                Counters::bump(&self.counters.sent);
                                let _ = reply.send(Ok(flow));
                            }
                            Err(e) => {
                                let error = lost(&flow, e.to_string());
                                let _ = reply.send(Err(lost(&flow, e.to_string())));
                                return Ended::Lost(error);
                            }
                        }
                    }
                },
                incoming = ws.next() => {
                    let message = match incoming {
                        None => return Ended::Lost(lost(&flow, "closed by the server".into())),
                        Some(Err(e)) => return Ended::Lost(lost(&flow, e.to_string())),
                        Some(Ok(message)) => message,
                    };
                    ping.on_traffic(Instant::now());
                    let payload: Bytes = match message {
                        WsMessage::Text(text) => text.into(),
                        WsMessage::Binary(data) => data,
                        WsMessage::Pong(_) => {
                            Counters::bump(&self.counters.keepalive_pongs);
                            continue;
                        }
                        // tungstenite queues the pong for a ping itself.
                        WsMessage::Ping(_) | WsMessage::Frame(_) => continue,
                        WsMessage::Close(frame) => {
                            let why = frame.map_or_else(|| "closed by the server".to_owned(), |f| format!("closed by the server: {} {}", f.code, f.reason));
                            return Ended::Lost(lost(&flow, why));
                        }
                    };
                    match codec::classify_keepalive(&payload) {
                        Some(codec::KeepAliveFrame::Pong) => Counters::bump(&self.counters.keepalive_pongs),
                        Some(codec::KeepAliveFrame::Ping) => {
                            if let Err(e) = ws_write(&mut ws, WsMessage::text("\r\n"), self.config.connect_timeout).await {
                                return Ended::Lost(lost(&flow, e.to_string()));
                            }
                        }
                        None => {
                            self.wire_log("in", &flow, &payload);
                            self.deliver(flow, &payload).await;
                        }
                    }
                },
                () = sleep_until(deadline) => match ping.on_timer(Instant::now()) {
                    Some(PingAction::Ping) => {
                        Counters::bump(&self.counters.keepalive_pings);
                        let mut result = ws_write(&mut ws, WsMessage::text("\r\n\r\n"), self.config.connect_timeout).await;
                        if result.is_ok() && self.config.keep_alive.websocket_ping {
                            result = ws_write(&mut ws, WsMessage::Ping(Bytes::from_static(b"sipline")), self.config.connect_timeout).await;
                        }
                        if let Err(e) = result {
                            return Ended::Lost(lost(&flow, e.to_string()));
                        }
                    }
                    Some(PingAction::Dead) => return Ended::Lost(self.keepalive_timeout(&flow)),
                    None => {}
                },
            }
        }
    }

    fn keepalive_timeout(&self, flow: &Flow) -> Error {
        Error::KeepAliveTimeout {
            peer: flow.remote.to_string(),
            after: self.config.keep_alive.pong_timeout,
        }
    }

    async fn stream_session(&mut self, mut io: Io, flow: Flow) -> Ended {
        let mut ping = PingState::new(self.config.keep_alive, Instant::now());
        let far_future = Instant::now() + Duration::from_secs(86_400 * 365);
        let mut framer = StreamFramer::new(self.config.max_message_size);
        let mut buf = BytesMut::with_capacity(16 * 1024);
        loop {
            let deadline = ping.deadline().unwrap_or(far_future);
            tokio::select! {
                command = self.commands.recv() => match command {
                    None | Some(Command::Close) => {
                        let _ = tokio::time::timeout(self.config.connect_timeout, io.shutdown()).await;
                        return Ended::Closed;
                    }
                    Some(Command::Send(outgoing)) => {
                        let Outgoing { bytes, flow: on, reply } = *outgoing;
                        if let Err(error) = self.check_outgoing(&flow, on, &bytes) {
                            let _ = reply.send(Err(error));
                            continue;
                        }
                        self.wire_log("out", &flow, &bytes);
                        match write_all(&mut io, &bytes, self.config.connect_timeout).await {
                            Ok(()) => {
                                Counters::bump(&self.counters.sent);
                                let _ = reply.send(Ok(flow));
                            }
                            Err(e) => {
                                let _ = reply.send(Err(lost(&flow, e.to_string())));
                                return Ended::Lost(lost(&flow, e.to_string()));
                            }
                        }
                    }
                },
                read = io.read_buf(&mut buf) => {
                    match read {
                        Ok(0) => return Ended::Lost(lost(&flow, "closed by the server".into())),
                        Err(e) => return Ended::Lost(lost(&flow, e.to_string())),
                        Ok(_) => {}
                    }
                    ping.on_traffic(Instant::now());
                    framer.extend(&buf);
                    buf.clear();
                    loop {
                        match framer.next_piece() {
                            Ok(None) => break,
                            Ok(Some(Piece::Pong)) => Counters::bump(&self.counters.keepalive_pongs),
                            Ok(Some(Piece::Ping)) => {
                                if let Err(e) = write_all(&mut io, b"\r\n", self.config.connect_timeout).await {
                                    return Ended::Lost(lost(&flow, e.to_string()));
                                }
                            }
                            Ok(Some(Piece::Message { message, raw })) => {
                                self.wire_log("in", &flow, &raw);
                                Counters::bump(&self.counters.received);
                                self.emit(TransportEvent::Message { message, flow }).await;
                            }
                            Ok(Some(Piece::Dropped { drop, raw })) => {
                                self.wire_log("in", &flow, &raw);
                                self.dropped(&flow, &drop);
                            }
                            Err(reason) => {
                                // Framing is lost: nothing after this point can be trusted.
                                return Ended::Lost(Error::Framing { peer: flow.remote.to_string(), reason });
                            }
                        }
                    }
                },
                () = sleep_until(deadline) => match ping.on_timer(Instant::now()) {
                    Some(PingAction::Ping) => {
                        Counters::bump(&self.counters.keepalive_pings);
                        if let Err(e) = write_all(&mut io, b"\r\n\r\n", self.config.connect_timeout).await {
                            return Ended::Lost(lost(&flow, e.to_string()));
                        }
                    }
                    Some(PingAction::Dead) => return Ended::Lost(self.keepalive_timeout(&flow)),
                    None => {}
                },
            }
        }
    }
}

/// Writes and flushes, failing when the peer stops reading for `limit` (a frozen server
/// fills the socket buffers; the keep-alive timer cannot fire while a write hangs).
async fn write_all(io: &mut Io, bytes: &[u8], limit: Duration) -> std::result::Result<(), String> {
    let write = async {
        io.write_all(bytes).await?;
        io.flush().await
    };
    match tokio::time::timeout(limit, write).await {
        Err(_) => Err(format!("writing stalled for {limit:?}")),
        Ok(result) => result.map_err(|e| e.to_string()),
    }
}

/// Sends one WebSocket message, with the same stall bound as [`write_all`].
async fn ws_write(
    ws: &mut WebSocketStream<Io>,
    message: WsMessage,
    limit: Duration,
) -> std::result::Result<(), String> {
    match tokio::time::timeout(limit, ws.send(message)).await {
        Err(_) => Err(format!("writing stalled for {limit:?}")),
        Ok(result) => result.map_err(|e| e.to_string()),
    }
}

fn lost(flow: &Flow, reason: String) -> Error {
    Error::ConnectionLost {
        peer: flow.remote.to_string(),
        kind: flow.kind,
        reason,
    }
}
