//! The tokio driver: one task owning the transport, the core's timers and the calls' media,
//! with an async API for applications and one ordered event stream. Media work that waits
//! (ICE gathering for an offer or answer) runs in one task per call, in order, so signalling
//! never waits for it. [`UserAgent::reload`] applies a changed configuration, and only what
//! changed.

mod auto_media;
mod handle;
mod media;
mod run;
mod worker;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use auto_media::{AutoMediaFactory, MediaProfile};
pub use handle::{MediaHandle, MediaKind, MuteState};
pub use media::{
    FixedSdpFactory, FixedSdpMedia, MediaContext, MediaFactory, RtpFactory, WebRtcFactory,
};

use crate::config::CoreConfig;
use crate::error::{Error, Result};
use crate::event::{CallHandle, DtmfMethod, Event};

/// What [`UserAgent::start`] needs.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The core's account and protocol options.
    pub core: CoreConfig,
    /// Where and how to connect.
    pub transport: sip_transport::TransportConfig,
    /// Which incoming calls are answered without asking (openHAB and SIP Core rules).
    pub auto_answer: sip_config::AutoAnswer,
    /// A target called 1 s after registering (or after connecting when registration is off).
    pub auto_dial: Option<String>,
}

impl AgentOptions {
    /// Options from a resolved sip-config [`PhoneConfig`](sip_config::PhoneConfig): the
    /// account, every server URL (fail-over in order) and the keep-alive interval.
    pub fn from_phone(phone: &sip_config::PhoneConfig) -> Option<AgentOptions> {
        let mut urls = phone.transport.urls.iter();
        let mut transport = sip_transport::TransportConfig::new(urls.next()?.clone());
        for url in urls {
            transport = transport.with_server(sip_transport::WeightedServer::new(url.clone()));
        }
        if let Some(ms) = phone.transport.keepalive_interval_ms {
            let keep_alive = sip_transport::KeepAlive {
                interval: (ms > 0).then(|| std::time::Duration::from_millis(u64::from(ms))),
                ..Default::default()
            };
            transport = transport.with_keep_alive(keep_alive);
        }
        Some(AgentOptions {
            core: CoreConfig::from_phone(phone),
            transport,
            auto_answer: phone.auto_answer.clone(),
            auto_dial: phone.auto_dial.clone(),
        })
    }

    /// Options for an account reached through one server URL (`ws://…`, `wss://…`,
    /// `sip:host;transport=udp` …).
    pub fn new(core: CoreConfig, server: impl Into<String>) -> AgentOptions {
        AgentOptions {
            core,
            transport: sip_transport::TransportConfig::new(server),
            auto_answer: sip_config::AutoAnswer::default(),
            auto_dial: None,
        }
    }
}

pub(crate) enum Command {
    Register(oneshot::Sender<Result<()>>),
    Unregister {
        all: bool,
        reply: oneshot::Sender<Result<()>>,
    },
    Call {
        target: String,
        reply: oneshot::Sender<Result<CallHandle>>,
    },
    Answer {
        call: CallHandle,
        /// Send the answer in a 183 (early media) instead of the 200.
        early: bool,
        reply: oneshot::Sender<Result<()>>,
    },
    Reject {
        call: CallHandle,
        status: u16,
        reply: oneshot::Sender<Result<()>>,
    },
    Hangup {
        call: CallHandle,
        reply: oneshot::Sender<Result<()>>,
    },
    Hold {
        call: CallHandle,
        hold: bool,
        reply: oneshot::Sender<Result<()>>,
    },
    Transfer {
        call: CallHandle,
        target: String,
        reply: oneshot::Sender<Result<()>>,
    },
    Dtmf {
        call: CallHandle,
        digits: String,
        method: DtmfMethod,
        reply: oneshot::Sender<Result<()>>,
    },
    Mute {
        call: CallHandle,
        kind: MediaKind,
        muted: bool,
        reply: oneshot::Sender<Result<MuteState>>,
    },
    Muted {
        call: CallHandle,
        reply: oneshot::Sender<Result<MuteState>>,
    },
    Media {
        call: CallHandle,
        /// Reply only once the call has a session (or has ended).
        wait: bool,
        reply: oneshot::Sender<Result<Option<MediaHandle>>>,
    },
    Message {
        target: String,
        content_type: String,
        body: String,
        reply: oneshot::Sender<Result<()>>,
    },
    Reload {
        config: Box<sip_config::PhoneConfig>,
        reply: oneshot::Sender<Result<sip_config::ConfigDiff>>,
    },
    Shutdown(oneshot::Sender<()>),
}

/// A running user agent.
///
/// ```no_run
/// use std::sync::Arc;
/// use sip_ua::driver::{AgentOptions, FixedSdpFactory, FixedSdpMedia, UserAgent};
/// use sip_ua::{CoreConfig, Credentials, Event};
///
/// # async fn run() -> sip_ua::Result<()> {
/// let core = CoreConfig::new("sip:201@127.0.0.1", Credentials::new("201", "sipline-test"));
/// let media = Arc::new(FixedSdpFactory::new(FixedSdpMedia::loopback_sdp()));
/// let (ua, mut events) = UserAgent::start(AgentOptions::new(core, "ws://127.0.0.1:8080/ws"), media)?;
/// while let Some(event) = events.recv().await {
///     if let Event::Registered { .. } = event {
///         let call = ua.call("202").await?;
///         call.hangup().await?;
///         break;
///     }
/// }
/// ua.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct UserAgent {
    commands: mpsc::UnboundedSender<Box<Command>>,
    task: Option<JoinHandle<()>>,
}

/// The event stream of a [`UserAgent`].
#[derive(Debug)]
pub struct AgentEvents {
    /// Boxed: tokio allocates a channel's first 32-slot block up front, so small slots
    /// keep an idle agent small.
    events: mpsc::UnboundedReceiver<Box<Event>>,
}

impl AgentEvents {
    /// The next event; `None` once the user agent has stopped.
    pub async fn recv(&mut self) -> Option<Event> {
        self.events.recv().await.map(|event| *event)
    }
}

/// A handle on one call of a [`UserAgent`]. Every method asks the driver task and returns
/// once it has acted; none waits for the peer (outcomes arrive as [`Event`]s).
///
/// ```no_run
/// use sip_ua::driver::{Call, MediaKind};
///
/// # async fn show(call: Call) -> sip_ua::Result<()> {
/// call.answer().await?;
/// let media = call.wait_media().await?; // the session the answer made
/// let mut levels = media.levels(); // the visualiser feed
/// call.mute(MediaKind::Microphone, true).await?; // silence, no renegotiation
/// assert!(call.muted().await?.microphone);
/// let stats = media.stats().await;
/// println!("{} packets in, codec {:?}", stats.packets_received, stats.codec);
/// # let _ = levels.recv().await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Call {
    handle: CallHandle,
    commands: mpsc::UnboundedSender<Box<Command>>,
}

async fn ask<T>(
    commands: &mpsc::UnboundedSender<Box<Command>>,
    make: impl FnOnce(oneshot::Sender<Result<T>>) -> Command,
) -> Result<T> {
    let (reply, answer) = oneshot::channel();
    commands
        .send(Box::new(make(reply)))
        .map_err(|_| Error::Stopped)?;
    answer.await.map_err(|_| Error::Stopped)?
}

impl Call {
    /// The call's handle (as in [`Event`]s).
    pub fn handle(&self) -> CallHandle {
        self.handle
    }

    /// Answers an incoming call (the media session makes the SDP answer, or reuses the one
    /// [`Call::early_media`] sent).
    pub async fn answer(&self) -> Result<()> {
        let call = self.handle;
        ask(&self.commands, |reply| Command::Answer {
            call,
            early: false,
            reply,
        })
        .await
    }

    /// Starts media on an incoming call before answering it (a door station's sound before
    /// anyone picks up): the media session answers the caller's offer and the answer goes in
    /// a 183 Session Progress (reliably when the caller uses 100rel). A later
    /// [`Call::answer`] sends the 200 with the same answer.
    pub async fn early_media(&self) -> Result<()> {
        let call = self.handle;
        ask(&self.commands, |reply| Command::Answer {
            call,
            early: true,
            reply,
        })
        .await
    }

    /// Rejects an incoming call with `status` (486, 603, 480 ...).
    pub async fn reject(&self, status: u16) -> Result<()> {
        let call = self.handle;
        ask(&self.commands, |reply| Command::Reject {
            call,
            status,
            reply,
        })
        .await
    }

    /// Puts the call on hold (re-INVITE with `sendonly`).
    pub async fn hold(&self) -> Result<()> {
        let call = self.handle;
        ask(&self.commands, |reply| Command::Hold {
            call,
            hold: true,
            reply,
        })
        .await
    }

    /// Takes the call off hold (re-INVITE with `sendrecv`).
    pub async fn resume(&self) -> Result<()> {
        let call = self.handle;
        ask(&self.commands, |reply| Command::Hold {
            call,
            hold: false,
            reply,
        })
        .await
    }

    /// Sends DTMF digits in the RTP stream (RFC 4733) or by SIP INFO.
    pub async fn send_dtmf(&self, digits: &str, method: DtmfMethod) -> Result<()> {
        let call = self.handle;
        let digits = digits.to_owned();
        ask(&self.commands, |reply| Command::Dtmf {
            call,
            digits,
            method,
            reply,
        })
        .await
    }

    /// Blind transfer: asks the peer to call `target` (REFER); progress arrives as
    /// [`Event::TransferProgress`].
    pub async fn transfer(&self, target: &str) -> Result<()> {
        let call = self.handle;
        let target = target.to_owned();
        ask(&self.commands, |reply| Command::Transfer {
            call,
            target,
            reply,
        })
        .await
    }

    /// Ends the call however far it got.
    pub async fn hangup(&self) -> Result<()> {
        let call = self.handle;
        ask(&self.commands, |reply| Command::Hangup { call, reply }).await
    }

    /// Mutes or unmutes the microphone or the camera, without renegotiation; returns the
    /// call's mute state afterwards. Works before the call has media (an incoming call not yet
    /// answered): the session made on answer starts muted.
    pub async fn mute(&self, kind: MediaKind, muted: bool) -> Result<MuteState> {
        let call = self.handle;
        ask(&self.commands, |reply| Command::Mute {
            call,
            kind,
            muted,
            reply,
        })
        .await
    }

    /// The call's mute state.
    pub async fn muted(&self) -> Result<MuteState> {
        let call = self.handle;
        ask(&self.commands, |reply| Command::Muted { call, reply }).await
    }

    /// The call's media session, `None` while it has none yet (an incoming call before it is
    /// answered, an outgoing call whose offer is still being made).
    pub async fn media(&self) -> Result<Option<MediaHandle>> {
        let call = self.handle;
        ask(&self.commands, |reply| Command::Media {
            call,
            wait: false,
            reply,
        })
        .await
    }

    /// Waits until the call has a media session and returns it; fails with
    /// [`Error::UnknownCall`] when the call ends first.
    pub async fn wait_media(&self) -> Result<MediaHandle> {
        let call = self.handle;
        ask(&self.commands, |reply| Command::Media {
            call,
            wait: true,
            reply,
        })
        .await?
        .ok_or(Error::UnknownCall { call })
    }
}

impl UserAgent {
    /// Starts the transport and the driver task (inside a tokio runtime). Registration starts
    /// when the transport connects, unless switched off.
    pub fn start(
        options: AgentOptions,
        media: Arc<dyn MediaFactory>,
    ) -> Result<(UserAgent, AgentEvents)> {
        UserAgent::launch(options, None, media)
    }

    /// Starts from a resolved sip-config [`PhoneConfig`](sip_config::PhoneConfig) (see
    /// [`AgentOptions::from_phone`]), which [`UserAgent::reload`] later diffs against. Fails
    /// when the configuration has no server URL.
    pub fn start_with_config(
        config: sip_config::PhoneConfig,
        media: Arc<dyn MediaFactory>,
    ) -> Result<(UserAgent, AgentEvents)> {
        let options = AgentOptions::from_phone(&config).ok_or_else(|| Error::Transport {
            reason: "the configuration has no server URL (transport.urls is empty)".to_owned(),
        })?;
        UserAgent::launch(options, Some(config), media)
    }

    fn launch(
        options: AgentOptions,
        phone: Option<sip_config::PhoneConfig>,
        media: Arc<dyn MediaFactory>,
    ) -> Result<(UserAgent, AgentEvents)> {
        let (transport, wire) = sip_transport::Transport::start(options.transport.clone())
            .map_err(|e| Error::Transport {
                reason: e.to_string(),
            })?;
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(run::run(run::Setup {
            core: crate::UserAgentCore::new(options.core),
            policy: run::Policy {
                auto_answer: options.auto_answer,
                auto_dial: options.auto_dial,
            },
            transport,
            wire,
            transport_config: options.transport,
            phone,
            commands: command_rx,
            events: event_tx,
            factory: media,
        }));
        Ok((
            UserAgent {
                commands,
                task: Some(task),
            },
            AgentEvents { events },
        ))
    }

    /// Registers now (again).
    pub async fn register(&self) -> Result<()> {
        ask(&self.commands, Command::Register).await
    }

    /// Removes our binding (all bindings of the AOR with `all`).
    pub async fn unregister(&self, all: bool) -> Result<()> {
        ask(&self.commands, |reply| Command::Unregister { all, reply }).await
    }

    /// Calls `target` (an extension, `user@host` or a SIP URI).
    pub async fn call(&self, target: &str) -> Result<Call> {
        let target = target.to_owned();
        let handle = ask(&self.commands, |reply| Command::Call { target, reply }).await?;
        Ok(self.call_handle(handle))
    }

    /// Sends a MESSAGE (RFC 3428); the outcome arrives as [`Event::MessageSent`].
    pub async fn send_message(&self, target: &str, content_type: &str, body: &str) -> Result<()> {
        let (target, content_type, body) =
            (target.to_owned(), content_type.to_owned(), body.to_owned());
        ask(&self.commands, |reply| Command::Message {
            target,
            content_type,
            body,
            reply,
        })
        .await
    }

    /// Applies a new configuration, changing only what differs from the one in force
    /// (sip-config's [`diff`](sip_config::diff)): auto-answer and auto-dial in place, a new
    /// REGISTER when the account or registration settings changed, a new connection only when
    /// the transport settings changed (TLS, back-off and other [`AgentOptions`] settings the
    /// configuration does not carry stay). Calls carry on. Returns the diff.
    ///
    /// A new address of record or server first removes the old binding (an
    /// [`Event::Unregistered`], on the old connection and under the old AOR; the reload waits
    /// at most 2 s for the registrar), so calls to the old identity stop ringing here.
    ///
    /// An agent started with [`UserAgent::start`] has no configuration to compare with: its
    /// first reload applies everything (and reconnects). Changed media or ICE settings go to
    /// [`MediaFactory::reconfigure`], for the calls that follow.
    pub async fn reload(&self, config: sip_config::PhoneConfig) -> Result<sip_config::ConfigDiff> {
        let config = Box::new(config);
        ask(&self.commands, |reply| Command::Reload { config, reply }).await
    }

    /// A handle on a call announced by an event (e.g. [`Event::IncomingCall`]).
    pub fn call_handle(&self, handle: CallHandle) -> Call {
        Call {
            handle,
            commands: self.commands.clone(),
        }
    }

    /// Unregisters, ends every call and closes the transport, within a few seconds.
    pub async fn shutdown(mut self) {
        let (reply, done) = oneshot::channel();
        if self
            .commands
            .send(Box::new(Command::Shutdown(reply)))
            .is_ok()
        {
            let _ = done.await;
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for UserAgent {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
