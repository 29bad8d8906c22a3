//! The driver task: transport events, commands and timers in, transmits, media actions and
//! events out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sip_media::{AnswerKind, MediaEvent, MediaSession};
use sip_transport::{Flow, Transport, TransportEvent as WireEvent, TransportEvents, TransportKind};
use tokio::sync::{mpsc, oneshot};

use super::{Command, MediaFactory, MediaHandle, MediaKind, MuteState};
use crate::UserAgentCore;
use crate::error::{Error, Result};
use crate::event::{CallHandle, DtmfMethod, Event};
use crate::flow::{FlowId, Transport as Kind, TransportEvent};

/// How long shutdown waits for the unregistration and the BYEs.
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

/// Media of one call.
#[derive(Default)]
struct CallMedia {
    session: Option<Arc<dyn MediaSession>>,
    remote_offer: Option<String>,
    mute: MuteState,
    /// `Call::wait_media` callers, answered when the session exists.
    waiters: Vec<oneshot::Sender<Result<Option<MediaHandle>>>>,
}

impl CallMedia {
    /// Takes the call's new session: applies the mute state and answers the waiters.
    fn set_session(&mut self, call: CallHandle, session: Arc<dyn MediaSession>) {
        session.set_muted(self.mute.microphone);
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(Ok(Some(MediaHandle::new(call, session.clone()))));
        }
        self.session = Some(session);
    }

    /// The call ended: waiters learn it is gone.
    fn end(&mut self, call: CallHandle) {
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(Err(Error::UnknownCall { call }));
        }
    }
}

struct Driver {
    policy: Policy,
    /// When auto-dial fires (once per user agent).
    auto_dial_at: Option<tokio::time::Instant>,
    /// Events of every call's media session, tagged with the call.
    media_events: mpsc::UnboundedSender<(CallHandle, MediaEvent)>,
    core: UserAgentCore,
    transport: Transport,
    flows: Flows,
    current: Option<FlowId>,
    media: HashMap<CallHandle, CallMedia>,
    factory: Arc<dyn MediaFactory>,
    events: mpsc::UnboundedSender<Event>,
}

pub(super) async fn run(
    core: UserAgentCore,
    policy: Policy,
    transport: Transport,
    mut wire: TransportEvents,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Event>,
    factory: Arc<dyn MediaFactory>,
) {
    let (media_events, mut media_rx) = mpsc::unbounded_channel();
    let mut driver = Driver {
        policy,
        auto_dial_at: None,
        media_events,
        core,
        transport,
        flows: Flows::default(),
        current: None,
        media: HashMap::new(),
        factory,
        events,
    };
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
        tokio::select! {
            event = wire.recv() => match event {
                Some(event) => driver.on_wire(event),
                None => break,
            },
            command = commands.recv() => match command {
                Some(Command::Shutdown(reply)) => {
                    driver.shutdown(&mut wire).await;
                    let _ = reply.send(());
                    return;
                }
                Some(command) => driver.on_command(command).await,
                None => {
                    driver.shutdown(&mut wire).await;
                    return;
                }
            },
            Some((call, event)) = media_rx.recv() => driver.on_media(call, event),
            () = sleep => driver.core.handle_timeout(now()),
            () = dial => driver.auto_dial().await,
        }
        driver.flush().await;
    }
}

impl Driver {
    fn on_wire(&mut self, event: WireEvent) {
        match event {
            WireEvent::Connected { flow, server } => {
                tracing::info!(%flow, server, "transport connected");
                let id = self.flows.id(flow);
                self.current = Some(id);
                self.core.handle_transport_event(
                    now(),
                    TransportEvent::Connected {
                        flow: id,
                        transport: kind(flow.kind),
                        local: flow.local.to_string(),
                    },
                );
            }
            WireEvent::Disconnected { reason } => {
                if let Some(id) = self.current.take() {
                    self.core.handle_transport_event(
                        now(),
                        TransportEvent::Disconnected {
                            flow: id,
                            reason: reason.to_string(),
                        },
                    );
                }
            }
            WireEvent::Message { message, flow } => {
                let id = self.flows.id(flow);
                self.core.handle_received(now(), &message.as_ref(), id);
            }
            other => tracing::debug!(?other, "transport event"),
        }
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Register(reply) => {
                let _ = reply.send(self.core.register(now()));
            }
            Command::Unregister { all, reply } => {
                self.core.unregister(now(), all);
                let _ = reply.send(Ok(()));
            }
            Command::Call { target, reply } => {
                let _ = reply.send(self.call(&target).await);
            }
            Command::Answer { call, reply } => {
                let _ = reply.send(self.answer(call).await);
            }
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
            Command::Hold { call, hold, reply } => {
                let _ = reply.send(self.hold(call, hold).await);
            }
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
                    _ => match self.media.get(&call).and_then(|m| m.session.clone()) {
                        Some(session) => session.send_dtmf(&digits).map_err(media_error),
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
                        if kind == MediaKind::Microphone
                            && let Some(session) = &media.session
                        {
                            session.set_muted(muted);
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
            Command::Shutdown(_) => {}
        }
    }

    async fn auto_dial(&mut self) {
        self.auto_dial_at = None;
        if let Some(target) = self.policy.auto_dial.take() {
            tracing::info!(target, "auto-dial");
            if let Err(e) = self.call(&target).await {
                tracing::warn!(target, error = %e, "auto-dial failed");
            }
        }
    }

    fn on_media(&mut self, call: CallHandle, event: MediaEvent) {
        match event {
            MediaEvent::DtmfReceived(digit) => {
                let _ = self.events.send(Event::DtmfReceived {
                    call,
                    digit,
                    method: DtmfMethod::Rfc4733,
                });
            }
            MediaEvent::Failed(reason) => {
                tracing::warn!(%call, reason, "media failed: ending the call");
                let _ = self.core.end_for_media_failure(now(), call);
            }
            other => tracing::debug!(%call, ?other, "media event"),
        }
    }

    /// Forwards a session's events into the driver loop until the session closes.
    fn watch(&self, call: CallHandle, session: &Arc<dyn MediaSession>) {
        let mut events = session.events();
        let sink = self.media_events.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => {
                        if sink.send((call, event)).is_err() {
                            break;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
    }

    async fn call(&mut self, target: &str) -> Result<CallHandle> {
        let session = self.factory.create().await.map_err(media_error)?;
        let offer = match session.create_offer().await {
            Ok(offer) => offer,
            Err(e) => {
                let _ = session.close().await;
                return Err(media_error(e));
            }
        };
        match self.core.invite(now(), target, Some(&offer)) {
            Ok(handle) => {
                self.watch(handle, &session);
                let mut media = CallMedia::default();
                media.set_session(handle, session);
                self.media.insert(handle, media);
                Ok(handle)
            }
            Err(e) => {
                let _ = session.close().await;
                Err(e)
            }
        }
    }

    async fn answer(&mut self, call: CallHandle) -> Result<()> {
        let offer = self
            .media
            .get(&call)
            .ok_or(Error::UnknownCall { call })?
            .remote_offer
            .clone();
        let session = self.factory.create().await.map_err(media_error)?;
        let sdp = match &offer {
            Some(offer) => session.create_answer(offer).await,
            None => session.create_offer().await,
        };
        let sdp = match sdp {
            Ok(sdp) => sdp,
            Err(e) => {
                let _ = session.close().await;
                if e.is_not_acceptable() {
                    // RFC 3261 §13.3.1.3: an offer we cannot use gets 488.
                    self.core.reject(now(), call, 488)?;
                }
                return Err(media_error(e));
            }
        };
        self.core.answer(now(), call, Some(&sdp))?;
        self.watch(call, &session);
        if let Some(media) = self.media.get_mut(&call) {
            media.set_session(call, session);
        }
        Ok(())
    }

    async fn hold(&mut self, call: CallHandle, hold: bool) -> Result<()> {
        let session = self
            .media
            .get(&call)
            .and_then(|m| m.session.clone())
            .ok_or(Error::UnknownCall { call })?;
        let direction = if hold {
            sip_media::Direction::SendOnly
        } else {
            sip_media::Direction::SendRecv
        };
        session
            .set_direction(direction)
            .await
            .map_err(media_error)?;
        let offer = session.create_offer().await.map_err(media_error)?;
        self.core.reinvite(now(), call, &offer)
    }

    /// The peer's re-offer: the media session answers it (488 when it cannot).
    async fn answer_reoffer(&mut self, call: CallHandle, offer: Option<&str>) {
        let Some(session) = self.media.get(&call).and_then(|m| m.session.clone()) else {
            let _ = self.core.reject_reoffer(now(), call, 488);
            return;
        };
        let sdp = match offer {
            Some(offer) => session.create_answer(offer).await,
            None => session.create_offer().await,
        };
        let result = match sdp {
            Ok(sdp) => self.core.answer_reoffer(now(), call, &sdp),
            Err(e) => {
                tracing::warn!(%call, error = %e, "re-offer not usable");
                self.core.reject_reoffer(now(), call, 488)
            }
        };
        if let Err(e) = result {
            tracing::warn!(%call, error = %e, "re-offer not answered");
        }
    }

    /// Sends what the core queued and applies its events to the media sessions.
    async fn flush(&mut self) {
        // Handling an event can queue messages (answering a re-offer) and sending can queue
        // events (a send failure): drain both until neither has anything.
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.core.poll_transmit() {
                progressed = true;
                self.send(transmit).await;
            }
            while let Some(event) = self.core.poll_event() {
                progressed = true;
                self.on_core_event(&event).await;
                let _ = self.events.send(event);
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

    async fn on_core_event(&mut self, event: &Event) {
        match event {
            Event::IncomingCall {
                call,
                remote_sdp,
                remote_uri,
                ..
            } => {
                self.media.insert(
                    *call,
                    CallMedia {
                        remote_offer: remote_sdp.clone(),
                        ..CallMedia::default()
                    },
                );
                let (user, host) = crate::values::uri_user_host(remote_uri)
                    .map(|(user, host)| (user.unwrap_or(""), host))
                    .unwrap_or(("", ""));
                if self.policy.auto_answer.should_answer(user, host) {
                    tracing::info!(%call, remote_uri, "auto-answer");
                    if let Err(e) = self.answer(*call).await {
                        tracing::warn!(%call, error = %e, "auto-answer failed");
                    }
                }
            }
            Event::Registered { .. } | Event::TransportConnected { .. }
                if self.policy.auto_dial.is_some() && self.auto_dial_at.is_none() =>
            {
                // Without registration the connection is the signal to dial.
                let ready =
                    matches!(event, Event::Registered { .. }) || !self.core.config().register;
                if ready {
                    self.auto_dial_at = Some(tokio::time::Instant::now() + AUTO_DIAL_DELAY);
                }
            }
            Event::EarlyMedia { call, sdp } | Event::RemoteAnswer { call, sdp } => {
                let kind = if matches!(event, Event::EarlyMedia { .. }) {
                    AnswerKind::Provisional
                } else {
                    AnswerKind::Final
                };
                if let Some(session) = self.media.get(call).and_then(|m| m.session.clone())
                    && let Err(e) = session.apply_answer(sdp, kind).await
                {
                    tracing::warn!(%call, error = %e, "remote SDP not usable: hanging up");
                    let _ = self.core.end_for_media_failure(now(), *call);
                }
            }
            Event::RemoteOffer { call, sdp } => {
                self.answer_reoffer(*call, sdp.as_deref()).await;
            }
            Event::Ended { call, .. } | Event::Failed { call, .. } => {
                if let Some(mut media) = self.media.remove(call) {
                    media.end(*call);
                    if let Some(session) = media.session {
                        let _ = session.close().await;
                    }
                }
            }
            _ => {}
        }
    }

    async fn shutdown(mut self, wire: &mut TransportEvents) {
        let calls: Vec<CallHandle> = self.media.keys().copied().collect();
        for call in calls {
            let _ = self.core.hangup(now(), call);
        }
        let registered = self.core.is_registered();
        if registered {
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
                event = wire.recv() => match event {
                    Some(event) => self.on_wire(event),
                    None => break,
                },
                () = tokio::time::sleep_until(wake) => self.core.handle_timeout(now()),
            }
            self.flush().await;
        }
        for (_, media) in self.media.drain() {
            if let Some(session) = media.session {
                let _ = session.close().await;
            }
        }
        self.transport.close().await;
    }
}

fn media_error(e: sip_media::MediaError) -> Error {
    Error::Media {
        reason: e.to_string(),
    }
}
