//! What the driver tests share: agents on the in-process WebSocket registrar double (loopback
//! only), event waits, and a media factory whose offers and answers wait at a gate the test
//! opens (slow ICE gathering, made deterministic).
#![allow(dead_code, unused_imports)]

#[path = "../../../examples/support/registrar_double.rs"]
pub mod registrar_double;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sip_media::{MediaSession, MediaStats};
use sip_ua::driver::{AgentEvents, AgentOptions, FixedSdpMedia, MediaFactory, UserAgent};
use sip_ua::{CoreConfig, Credentials, Event};
use tokio::sync::{Notify, watch};

pub use registrar_double::RegistrarDouble;

/// How long any one expected thing may take.
pub const LIMIT: Duration = Duration::from_secs(10);

pub fn init_tracing() {
    // `RUST_LOG=sip::wire=debug` shows every message.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Options of agent `user` (`sip:<user>@127.0.0.1`, no password needed by the double).
pub fn options(user: &str, server: &str) -> AgentOptions {
    let core = CoreConfig::new(
        format!("sip:{user}@127.0.0.1"),
        Credentials::new(user, "unused"),
    );
    AgentOptions::new(core, server)
}

/// Starts agent `user` on `server` and waits for its registration.
pub async fn agent(
    user: &str,
    server: &str,
    media: Arc<dyn MediaFactory>,
) -> (UserAgent, AgentEvents) {
    init_tracing();
    let (ua, mut events) = UserAgent::start(options(user, server), media).expect("agent starts");
    wait(&mut events, "registered", |e| {
        matches!(e, Event::Registered { .. }).then_some(())
    })
    .await;
    (ua, events)
}

/// Waits for the first event `pick` accepts; panics naming `what` after [`LIMIT`].
pub async fn wait<T>(
    events: &mut AgentEvents,
    what: &str,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(LIMIT, async {
        while let Some(event) = events.recv().await {
            if let Some(found) = pick(&event) {
                return Some(found);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(found)) => found,
        Ok(None) => panic!("event stream ended waiting for {what}"),
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// A gate media operations wait at until the test opens it.
#[derive(Debug)]
pub struct Gate {
    open: watch::Sender<bool>,
    /// Operations that reached the gate.
    arrived: AtomicUsize,
    arrival: Notify,
    /// Answers made past the gate fail (an offer the media cannot use: the peer gets 488).
    refusing: AtomicBool,
}

impl Gate {
    pub fn closed() -> Arc<Gate> {
        Arc::new(Gate {
            open: watch::channel(false).0,
            arrived: AtomicUsize::new(0),
            arrival: Notify::new(),
            refusing: AtomicBool::new(false),
        })
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// From now on answers fail (`true`) or are made again (`false`).
    pub fn refuse_answers(&self, refuse: bool) {
        self.refusing.store(refuse, Ordering::SeqCst);
    }

    pub fn close(&self) {
        self.open.send_replace(false);
    }

    /// Waits until `count` operations have reached the gate.
    pub async fn arrived(&self, count: usize) {
        tokio::time::timeout(LIMIT, async {
            while self.arrived.load(Ordering::SeqCst) < count {
                let notified = self.arrival.notified();
                if self.arrived.load(Ordering::SeqCst) >= count {
                    break;
                }
                notified.await;
            }
        })
        .await
        .expect("a media operation reached the gate");
    }

    async fn pass(&self) {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        self.arrival.notify_waiters();
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|open| *open).await;
    }
}

/// Fixed-SDP media whose offers and answers wait at a [`Gate`] (as WebRTC's do for ICE
/// gathering), recording whether it was closed.
#[derive(Debug)]
pub struct GatedMedia {
    inner: FixedSdpMedia,
    gate: Arc<Gate>,
    pub closed: AtomicBool,
}

#[async_trait]
impl MediaSession for GatedMedia {
    async fn create_offer(&self) -> sip_media::Result<String> {
        self.gate.pass().await;
        self.inner.create_offer().await
    }
    async fn create_answer(&self, remote_offer: &str) -> sip_media::Result<String> {
        self.gate.pass().await;
        if self.gate.refusing.load(Ordering::SeqCst) {
            return Err(sip_media::MediaError::UnusableSdp(
                "the test refuses this offer".to_owned(),
            ));
        }
        self.inner.create_answer(remote_offer).await
    }
    async fn apply_answer(
        &self,
        remote_answer: &str,
        kind: sip_media::AnswerKind,
    ) -> sip_media::Result<()> {
        self.inner.apply_answer(remote_answer, kind).await
    }
    async fn set_direction(&self, direction: sip_media::Direction) -> sip_media::Result<()> {
        self.inner.set_direction(direction).await
    }
    fn direction(&self) -> sip_media::Direction {
        self.inner.direction()
    }
    fn set_muted(&self, muted: bool) {
        self.inner.set_muted(muted);
    }
    fn is_muted(&self) -> bool {
        self.inner.is_muted()
    }
    fn set_camera_muted(&self, muted: bool) {
        self.inner.set_camera_muted(muted);
    }
    fn is_camera_muted(&self) -> bool {
        self.inner.is_camera_muted()
    }
    fn video_codec(&self) -> Option<sip_media::video::VideoCodec> {
        self.inner.video_codec()
    }
    fn take_video_frames(
        &self,
    ) -> Option<tokio::sync::mpsc::Receiver<sip_media::video::VideoFrame>> {
        self.inner.take_video_frames()
    }
    async fn send_video_frame(
        &self,
        frame: bytes::Bytes,
        duration: std::time::Duration,
    ) -> sip_media::Result<()> {
        self.inner.send_video_frame(frame, duration).await
    }
    fn set_source(&self, source: Box<dyn sip_media::audio::PcmSource>) {
        self.inner.set_source(source);
    }
    fn set_sink(&self, sink: Option<Box<dyn sip_media::audio::PcmSink>>) {
        self.inner.set_sink(sink);
    }
    fn send_dtmf(&self, digits: &str) -> sip_media::Result<()> {
        self.inner.send_dtmf(digits)
    }
    fn events(&self) -> tokio::sync::broadcast::Receiver<sip_media::MediaEvent> {
        self.inner.events()
    }
    fn levels(&self) -> tokio::sync::broadcast::Receiver<sip_media::level::LevelReport> {
        self.inner.levels()
    }
    async fn stats(&self) -> MediaStats {
        self.inner.stats().await
    }
    async fn close(&self) -> sip_media::Result<()> {
        self.closed.store(true, Ordering::SeqCst);
        self.inner.close().await
    }
}

/// Makes [`GatedMedia`] sessions sharing one gate, keeping each for inspection.
#[derive(Debug)]
pub struct GatedFactory {
    pub gate: Arc<Gate>,
    pub sessions: Mutex<Vec<Arc<GatedMedia>>>,
}

impl GatedFactory {
    pub fn new(gate: Arc<Gate>) -> Arc<GatedFactory> {
        Arc::new(GatedFactory {
            gate,
            sessions: Mutex::new(Vec::new()),
        })
    }

    pub fn session(&self, index: usize) -> Arc<GatedMedia> {
        self.sessions.lock().unwrap()[index].clone()
    }
}

#[async_trait]
impl MediaFactory for GatedFactory {
    async fn create(&self) -> sip_media::Result<Arc<dyn MediaSession>> {
        let session = Arc::new(GatedMedia {
            inner: FixedSdpMedia::new(FixedSdpMedia::loopback_sdp()),
            gate: self.gate.clone(),
            closed: AtomicBool::new(false),
        });
        self.sessions.lock().unwrap().push(session.clone());
        Ok(session)
    }
}
