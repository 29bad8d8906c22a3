//! The public handle: start a transport, send messages, read events, close.

use std::sync::Arc;

use bytes::Bytes;
use sip_proto::Message;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::TransportConfig;
use crate::driver::{Command, Driver, Outgoing};
use crate::error::{Error, Result};
use crate::event::TransportEvent;
use crate::flow::{Flow, TransportKind};
use crate::link::ConnectSettings;
use crate::resolve::Dns;
use crate::stats::{Counters, TransportStats};
use crate::target::Target;

/// Largest WebSocket message tungstenite assembles; beyond it the connection fails. Our own
/// (smaller) SIP limit drops oversized messages without closing.
const WS_HARD_LIMIT: usize = 1024 * 1024;

/// A running transport: one background task owning the socket(s), reconnecting as configured.
///
/// Dropping the handle stops the task; [`Transport::close`] also waits for it.
#[derive(Debug)]
pub struct Transport {
    commands: mpsc::Sender<Command>,
    counters: Arc<Counters>,
    task: Option<JoinHandle<()>>,
    kind: TransportKind,
}

/// The event stream of a [`Transport`].
#[derive(Debug)]
pub struct TransportEvents {
    events: mpsc::Receiver<Box<TransportEvent>>,
}

impl TransportEvents {
    /// The next event; `None` once the transport has stopped.
    pub async fn recv(&mut self) -> Option<TransportEvent> {
        self.events.recv().await.map(|event| *event)
    }
}

/// The events as a [`Stream`](futures_util::Stream), for `select!`-style drivers.
impl futures_util::Stream for TransportEvents {
    type Item = TransportEvent;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<TransportEvent>> {
        self.events
            .poll_recv(cx)
            .map(|event| event.map(|event| *event))
    }
}

impl Transport {
    /// Checks the configuration, then starts connecting in a background task (must be called
    /// inside a tokio runtime). Progress arrives as [`TransportEvent`]s.
    pub fn start(config: TransportConfig) -> Result<(Transport, TransportEvents)> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let targets = config
            .servers
            .iter()
            .map(|server| Target::parse(&server.url))
            .collect::<Result<Vec<_>>>()?;
        let Some(first) = targets.first() else {
            return Err(Error::InvalidTarget {
                target: String::new(),
                reason: "no server configured".into(),
            });
        };
        let kind = first.kind;
        let has_udp = targets.iter().any(|t| t.kind == TransportKind::Udp);
        if has_udp && targets.len() > 1 {
            return Err(Error::InvalidTarget {
                target: config.servers[1].url.clone(),
                reason: "a UDP transport takes exactly one server".into(),
            });
        }
        let tls = if targets.iter().any(|t| t.kind.is_secure()) {
            Some(config.tls.client_config()?)
        } else {
            None
        };
        let settings = ConnectSettings {
            tls,
            accepting_invalid_certificates: config.tls.danger_accept_invalid_certificates,
            timeout: config.connect_timeout,
            ws_hard_limit: WS_HARD_LIMIT.max(config.max_message_size),
            dns: Arc::new(Dns::new(config.dns_servers.clone())),
        };
        let (command_tx, command_rx) = mpsc::channel(256);
        let (event_tx, event_rx) = mpsc::channel(1024);
        let counters = Arc::new(Counters::default());
        let driver = Driver {
            config,
            targets,
            settings,
            commands: command_rx,
            events: event_tx,
            counters: counters.clone(),
        };
        let task = runtime.spawn(driver.run());
        Ok((
            Transport {
                commands: command_tx,
                counters,
                task: Some(task),
                kind,
            },
            TransportEvents { events: event_rx },
        ))
    }

    /// The transport kind of the configured servers.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// Sends one message on the current connection (UDP: to the server) and returns the
    /// flow it went out on.
    pub async fn send(&self, message: &Message) -> Result<Flow> {
        self.send_command(Bytes::from(message.to_bytes()), None)
            .await
    }

    /// Sends on a given flow, e.g. a response on the flow its request came in on. For UDP the
    /// flow's remote address is the destination; for a connection the flow must be the
    /// current one, else [`Error::NotConnected`].
    pub async fn send_on(&self, flow: Flow, message: &Message) -> Result<Flow> {
        self.send_command(Bytes::from(message.to_bytes()), Some(flow))
            .await
    }

    async fn send_command(&self, bytes: Bytes, flow: Option<Flow>) -> Result<Flow> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Send(Box::new(Outgoing { bytes, flow, reply })))
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    /// A snapshot of the counters (messages, drops, keep-alives, reconnects).
    pub fn stats(&self) -> TransportStats {
        self.counters.snapshot()
    }

    /// Closes the connection (a WebSocket close frame, a TCP shutdown) and waits for the task.
    pub async fn close(mut self) {
        let _ = self.commands.send(Command::Close).await;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        // The task ends when the command channel closes; nothing to abort forcibly.
        let _ = self.commands.try_send(Command::Close);
    }
}
