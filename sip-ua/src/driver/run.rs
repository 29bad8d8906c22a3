//! The driver task: transport events, commands, timers and finished media work in; transmits,
//! media jobs and events out. It never waits for media (see [`super::worker`]).

mod media_flow;
mod reload;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sip_media::AnswerKind;
use sip_transport::{Flow, Transport, TransportEvent as WireEvent, TransportEvents, TransportKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use self::media_flow::CallMedia;
use super::worker::{Finished, MediaJob, Reply, Worker};
use super::{Command, MediaFactory, MediaHandle, MediaKind};
use crate::UserAgentCore;
use crate::error::{Error, Result};
use crate::event::{CallHandle, DtmfMethod, Event};
use crate::flow::{FlowId, Transport as Kind, TransportEvent};

/// How long shutdown waits for the unregistration, the BYEs and the media to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

fn kind(kind: TransportKind) -> Kind {
    match kind {
        TransportKind::Udp => Kind::Udp,
        TransportKind::Tcp => Kind::Tcp,
        TransportKind::Tls => Kind::Tls,
        TransportKind::Ws => Kind::Ws,
        _ => Kind::Wss,
    }
}

/// The transport's flows under the core's opaque ids.
#[derive(Default)]
struct Flows {
    ids: HashMap<Flow, FlowId>,
    flows: HashMap<FlowId, Flow>,
    next: u64,
}

impl Flows {
    fn id(&mut self, flow: Flow) -> FlowId {
        if let Some(id) = self.ids.get(&flow) {
            return *id;
        }
        self.next += 1;
        let id = FlowId(self.next);
        self.ids.insert(flow, id);
        self.flows.insert(id, flow);
        id
    }
}

/// How long after registering (or connecting, without registration) auto-dial calls.
const AUTO_DIAL_DELAY: Duration = Duration::from_secs(1);

/// The configured automatic behaviours.
pub(super) struct Policy {
    pub(super) auto_answer: sip_config::AutoAnswer,
    pub(super) auto_dial: Option<String>,
}

/// What the driver task starts with.
pub(super) struct Setup {
    pub(super) core: UserAgentCore,
    pub(super) policy: Policy,
    pub(super) transport: Transport,
    pub(super) wire: TransportEvents,
    /// The transport options in force (kept for a reload that reconnects).
    pub(super) transport_config: sip_transport::TransportConfig,
    /// The configuration the agent started from, when it started from one (for reload's diff).
    pub(super) phone: Option<sip_config::PhoneConfig>,
    /// Commands and events travel boxed (small channel blocks, see `AgentEvents`).
    pub(super) commands: mpsc::UnboundedReceiver<Box<Command>>,
    pub(super) events: mpsc::UnboundedSender<Box<Event>>,
    pub(super) factory: Arc<dyn MediaFactory>,
}

struct Driver {
    policy: Policy,
    /// When auto-dial fires (once per user agent).
    auto_dial_at: Option<tokio::time::Instant>,
    core: UserAgentCore,
    transport: Transport,
    wire: TransportEvents,
    transport_config: sip_transport::TransportConfig,
    /// Boxed: most agents have none, and the driver lives in every agent's task.
    phone: Option<Box<sip_config::PhoneConfig>>,
    flows: Flows,
    current: Option<FlowId>,
    /// A failed connection attempt already failed the pending registration (reported once
    /// until the next connection or `register()`).
    unreachable_reported: bool,
    media: HashMap<CallHandle, CallMedia>,
    factory: Arc<dyn MediaFactory>,
    /// Where media work reports back to the loop: made with the first media work, since
    /// tokio allocates a channel's first 32-slot block up front and most agents never call.
    finished: Option<mpsc::UnboundedSender<Finished>>,
    finished_rx: Option<mpsc::UnboundedReceiver<Finished>>,
    /// Workers and closes of ended calls, awaited (bounded) at shutdown.
    closing: Vec<JoinHandle<()>>,
    events: mpsc::UnboundedSender<Box<Event>>,
}

/// The driver task. Not an `async fn`: an async fn keeps its argument's slot in the future for
/// its whole life, so the `Setup` and the `Driver` built from it would both stay in every
/// agent's task; building the driver first leaves only the driver in the future.
pub(super) fn run(setup: Setup) -> impl std::future::Future<Output = ()> + Send {
    let mut commands = setup.commands;
    let mut driver = Driver {
        policy: setup.policy,
        auto_dial_at: None,
        core: setup.core,
        transport: setup.transport,
        wire: setup.wire,
        transport_config: setup.transport_config,
        phone: setup.phone.map(Box::new),
        flows: Flows::default(),
        current: None,
        unreachable_reported: false,
        media: HashMap::new(),
        factory: setup.factory,
        finished: None,
        finished_rx: None,
        closing: Vec::new(),
        events: setup.events,
    };
    // An async block (not an async fn taking them) owns these two directly, once.
    async move {
        loop {
            let deadline = driver
                .core
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            let dial_at = driver.auto_dial_at;
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let dial = async {
                match dial_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            // The rarely taken branches (commands, shutdown) are boxed: their futures would
            // otherwise be part of every agent's task, idle or not.
            tokio::select! {
                event = driver.wire.recv() => match event {
                    Some(event) => driver.on_wire(event),
                    None => {
                        tracing::warn!("transport stopped: the user agent stops");
                        Box::pin(driver.shutdown()).await;
                        return;
                    }
                },
                command = commands.recv() => match command.map(|command| *command) {
                    Some(Command::Shutdown(reply)) => {
                        Box::pin(driver.shutdown()).await;
                        let _ = reply.send(());
                        return;
                    }
                    Some(command) => Box::pin(driver.on_command(command)).await,
                    None => {
                        Box::pin(driver.shutdown()).await;
                        return;
                    }
                },
                Some(finished) = next_finished(&mut driver.finished_rx) => driver.on_finished(finished),
                () = sleep => driver.core.handle_timeout(now()),
                () = dial => driver.auto_dial(),
            }
            driver.flush().await;
        }
    }
}

/// The next finished media work; pending while no media work was ever started.
async fn next_finished(
    finished: &mut Option<mpsc::UnboundedReceiver<Finished>>,
) -> Option<Finished> {
    match finished {
        Some(finished) => finished.recv().await,
        None => std::future::pending().await,
    }
}

/// Answers an API caller (nobody waits for automatic actions: their failure is logged).
fn respond<T>(reply: Reply<T>, result: Result<T>, what: &str) {
    match reply {
        Some(reply) => {
            let _ = reply.send(result);
        }
        None => {
            if let Err(e) = result {
                tracing::warn!(error = %e, "{what} failed");
            }
        }
    }
}

impl Driver {
    fn on_wire(&mut self, event: WireEvent) {
        match event {
            WireEvent::Connected { flow, server } => {
                tracing::info!(%flow, server, "transport connected");
                let id = self.flows.id(flow);
                self.current = Some(id);
                self.unreachable_reported = false;
                self.core.handle_transport_event(
                    now(),
                    TransportEvent::Connected {
                        flow: id,
                        transport: kind(flow.kind),
                        local: flow.local.to_string(),
                    },
                );
            }
            WireEvent::Disconnected { reason } if self.current.is_some() => {
                self.disconnected(reason.to_string());
            }
            WireEvent::Disconnected { reason } => self.connect_failed(reason.to_string()),
            WireEvent::Message { message, flow } => {
                let id = self.flows.id(flow);
                self.core.handle_received(now(), &message.as_ref(), id);
            }
            other => tracing::debug!(?other, "transport event"),
        }
    }

    /// The current flow is gone: the core fails its transactions and registers again on the
    /// next flow.
    fn disconnected(&mut self, reason: String) {
        if let Some(id) = self.current.take() {
            self.core
                .handle_transport_event(now(), TransportEvent::Disconnected { flow: id, reason });
        }
    }

    /// The transport of the flow in use, for media factories choosing by transport.
    fn transport_kind(&self) -> Option<Kind> {
        let flow = self.flows.flows.get(&self.current?)?;
        Some(kind(flow.kind))
    }

    /// A connection attempt failed with no flow up: the application hears it, and a
    /// registration waiting for the flow fails (once per run of failures) instead of waiting
    /// silently; the transport's reconnect registers again.
    fn connect_failed(&mut self, reason: String) {
        tracing::warn!(reason, "transport could not connect");
        self.emit(Event::TransportFailed {
            reason: reason.clone(),
        });
        if self.core.config().register && !self.core.is_registered() && !self.unreachable_reported {
            self.unreachable_reported = true;
            self.emit(Event::RegistrationFailed {
                status: None,
                reason: format!("the server cannot be reached: {reason}"),
                retry_in: None,
            });
        }
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Register(reply) => {
                self.unreachable_reported = false;
                let _ = reply.send(self.core.register(now()));
            }
            Command::Unregister { all, reply } => {
                self.core.unregister(now(), all);
                let _ = reply.send(Ok(()));
            }
            Command::Call { target, reply } => self.call(target, Some(reply)),
            Command::Answer { call, early, reply } => self.answer(call, early, Some(reply)),
            Command::Reject {
                call,
                status,
                reply,
            } => {
                let _ = reply.send(self.core.reject(now(), call, status));
            }
            Command::Hangup { call, reply } => {
                let _ = reply.send(self.core.hangup(now(), call));
            }
            Command::Hold { call, hold, reply } => self.hold(call, hold, reply),
            Command::Transfer {
                call,
                target,
                reply,
            } => {
                let _ = reply.send(self.core.refer(now(), call, &target));
            }
            Command::Dtmf {
                call,
                digits,
                method,
                reply,
            } => {
                let result = match method {
                    DtmfMethod::Info => self.core.send_info_dtmf(
                        now(),
                        call,
                        &digits,
                        Duration::from_millis(u64::from(sip_media::DEFAULT_DTMF_DURATION_MS)),
                    ),
                    _ => match self.media.get(&call).map(|m| m.session.as_ref()) {
                        Some(Some(session)) => session.send_dtmf(&digits).map_err(media_error),
                        Some(None) => Err(Error::InvalidCallState {
                            call,
                            action: "send RFC 4733 DTMF",
                            state: "without media (not answered)",
                        }),
                        None => Err(Error::UnknownCall { call }),
                    },
                };
                let _ = reply.send(result);
            }
            Command::Mute {
                call,
                kind,
                muted,
                reply,
            } => {
                let result = match self.media.get_mut(&call) {
                    Some(media) => {
                        media.mute = media.mute.with(kind, muted);
                        if let Some(session) = &media.session {
                            match kind {
                                MediaKind::Microphone => session.set_muted(muted),
                                MediaKind::Camera => session.set_camera_muted(muted),
                            }
                        }
                        tracing::debug!(%call, ?kind, muted, "mute");
                        Ok(media.mute)
                    }
                    None => Err(Error::UnknownCall { call }),
                };
                let _ = reply.send(result);
            }
            Command::Muted { call, reply } => {
                let result = self
                    .media
                    .get(&call)
                    .map(|m| m.mute)
                    .ok_or(Error::UnknownCall { call });
                let _ = reply.send(result);
            }
            Command::Media { call, wait, reply } => match self.media.get_mut(&call) {
                Some(media) => match &media.session {
                    Some(session) => {
                        let _ = reply.send(Ok(Some(MediaHandle::new(call, session.clone()))));
                    }
                    None if wait => media.waiters.push(reply),
                    None => {
                        let _ = reply.send(Ok(None));
                    }
                },
                None => {
                    let _ = reply.send(Err(Error::UnknownCall { call }));
                }
            },
            Command::Message {
                target,
                content_type,
                body,
                reply,
            } => {
                let _ = reply.send(self.core.send_message(now(), &target, &content_type, &body));
            }
            Command::Reload { config, reply } => {
                let _ = reply.send(self.reload(*config).await);
            }
            Command::Shutdown(_) => {}
        }
    }

    /// Hands an event to the application (nobody listening is fine).
    fn emit(&self, event: Event) {
        let _ = self.events.send(Box::new(event));
    }

    /// Where media work reports back; makes the channel on first use.
    fn finished_sender(&mut self) -> mpsc::UnboundedSender<Finished> {
        if let Some(sender) = &self.finished {
            return sender.clone();
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        self.finished_rx = Some(receiver);
        self.finished.insert(sender).clone()
    }

    fn auto_dial(&mut self) {
        self.auto_dial_at = None;
        if let Some(target) = self.policy.auto_dial.take() {
            tracing::info!(target, "auto-dial");
            self.call(target, None);
        }
    }

    /// Sends what the core queued and applies its events to the media sessions.
    async fn flush(&mut self) {
        // Handling an event can queue messages (a 488) and sending can queue events (a send
        // failure): drain both until neither has anything.
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.core.poll_transmit() {
                progressed = true;
                self.send(transmit).await;
            }
            while let Some(event) = self.core.poll_event() {
                progressed = true;
                self.on_core_event(&event);
                self.emit(event);
            }
            if !progressed {
                break;
            }
        }
    }

    async fn send(&mut self, transmit: crate::flow::Transmit) {
        let Some(flow) = self.flows.flows.get(&transmit.flow).copied() else {
            return;
        };
        let failed = match transmit.message.to_proto() {
            Ok(message) => self
                .transport
                .send_on(flow, &message)
                .await
                .err()
                .map(|e| e.to_string()),
            Err(e) => Some(format!("message did not serialise: {e}")),
        };
        if let Some(reason) = failed {
            tracing::warn!(%flow, reason, "send failed");
            self.core.handle_transport_event(
                now(),
                TransportEvent::SendFailed {
                    flow: transmit.flow,
                    call_id: transmit.message.call_id().map(str::to_owned),
                    reason,
                },
            );
        }
    }

    fn on_core_event(&mut self, event: &Event) {
        match event {
            Event::IncomingCall {
                call,
                remote_sdp,
                remote_uri,
                ..
            } => {
                let worker =
                    Worker::start(*call, None, self.factory.clone(), self.finished_sender());
                let mut media = CallMedia::new(worker);
                media.remote_offer.clone_from(remote_sdp);
                self.media.insert(*call, media);
                let (user, host) = crate::values::uri_user_host(remote_uri)
                    .map(|(user, host)| (user.unwrap_or(""), host))
                    .unwrap_or(("", ""));
                if self.policy.auto_answer.should_answer(user, host) {
                    tracing::info!(%call, remote_uri, "auto-answer");
                    self.answer(*call, false, None);
                }
            }
            Event::Registered { .. } | Event::TransportConnected { .. }
                if self.policy.auto_dial.is_some()
                    && self.auto_dial_at.is_none()
                    && self.ready_to_dial(event) =>
            {
                self.auto_dial_at = Some(tokio::time::Instant::now() + AUTO_DIAL_DELAY);
            }
            Event::EarlyMedia { call, sdp } | Event::RemoteAnswer { call, sdp } => {
                let kind = if matches!(event, Event::EarlyMedia { .. }) {
                    AnswerKind::Provisional
                } else {
                    AnswerKind::Final
                };
                if let Some(media) = self.media.get_mut(call) {
                    if kind == AnswerKind::Final {
                        // Our re-offer (if any) was accepted: nothing to undo.
                        media.direction_before = None;
                    }
                    media.worker.queue(MediaJob::Apply {
                        sdp: sdp.clone(),
                        kind,
                    });
                }
            }
            Event::RenegotiationFailed { call, .. } => {
                // Our hold or resume was refused (or given up after 491s): undo its
                // direction so the media matches what the peer knows.
                if let Some(media) = self.media.get_mut(call)
                    && let Some(direction) = media.direction_before.take()
                {
                    media.worker.queue(MediaJob::Restore { direction });
                }
            }
            Event::RemoteOffer { call, sdp } => match self.media.get(call) {
                Some(media) => media
                    .worker
                    .queue(MediaJob::AnswerReoffer { offer: sdp.clone() }),
                None => {
                    let _ = self.core.reject_reoffer(now(), *call, 488);
                }
            },
            Event::Ended { call, .. } | Event::Failed { call, .. } => {
                if let Some(media) = self.media.remove(call) {
                    self.closing.retain(|task| !task.is_finished());
                    self.closing.extend(media.end(*call));
                }
            }
            _ => {}
        }
    }

    /// Whether `event` is the signal auto-dial waits for: registration, or the connection
    /// when registration is off.
    fn ready_to_dial(&self, event: &Event) -> bool {
        matches!(event, Event::Registered { .. }) || !self.core.config().register
    }

    async fn shutdown(mut self) {
        let calls: Vec<CallHandle> = self.media.keys().copied().collect();
        for call in calls {
            let _ = self.core.hangup(now(), call);
        }
        if self.core.is_registered() {
            self.core.unregister(now(), false);
        }
        self.flush().await;
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while (self.core.is_registered() || self.core.transaction_counts().0 > 0)
            && tokio::time::Instant::now() < deadline
        {
            let timer = self.core.poll_timeout().map(tokio::time::Instant::from_std);
            let wake = timer.map_or(deadline, |t| t.min(deadline));
            tokio::select! {
                event = self.wire.recv() => match event {
                    Some(event) => self.on_wire(event),
                    None => break,
                },
                () = tokio::time::sleep_until(wake) => self.core.handle_timeout(now()),
            }
            self.flush().await;
        }
        let calls: Vec<CallHandle> = self.media.keys().copied().collect();
        for call in calls {
            if let Some(media) = self.media.remove(&call) {
                self.closing.extend(media.end(call));
            }
        }
        // Media closes within what is left of the grace period (at least a second); a session
        // still gathering candidates may not.
        let closing = futures_join(std::mem::take(&mut self.closing));
        let until = deadline.max(tokio::time::Instant::now() + Duration::from_secs(1));
        if tokio::time::timeout_at(until, closing).await.is_err() {
            tracing::warn!("media sessions still closing at shutdown");
        }
        self.transport.close().await;
    }
}

/// Waits for every task.
async fn futures_join(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

fn media_error(e: sip_media::MediaError) -> Error {
    Error::Media {
        reason: e.to_string(),
    }
}
