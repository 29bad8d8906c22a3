//! Media for the driver: one [`MediaSession`] per call, made by a [`MediaFactory`].

use std::sync::Arc;

use async_trait::async_trait;
use sip_media::{MediaOptions, MediaSession, WebRtcMedia};

/// Creates the media session of each new call.
#[async_trait]
pub trait MediaFactory: Send + Sync + 'static {
    /// A new session for one call.
    async fn create(&self) -> sip_media::Result<Arc<dyn MediaSession>>;
}

/// WebRTC media (sip-media's [`WebRtcMedia`]) with fixed options.
#[derive(Debug, Clone)]
pub struct WebRtcFactory {
    options: MediaOptions,
}

impl WebRtcFactory {
    /// A factory creating [`WebRtcMedia`] sessions with `options`.
    pub fn new(options: MediaOptions) -> WebRtcFactory {
        WebRtcFactory { options }
    }
}

#[async_trait]
impl MediaFactory for WebRtcFactory {
    async fn create(&self) -> sip_media::Result<Arc<dyn MediaSession>> {
        Ok(Arc::new(WebRtcMedia::new(self.options.clone()).await?))
    }
}

/// Signalling-only media: offers and answers a fixed SDP and carries no RTP. For load
/// programs and signalling interop tests, where thousands of calls must not open sockets.
#[derive(Debug)]
pub struct FixedSdpMedia {
    sdp: String,
    direction: std::sync::Mutex<sip_media::Direction>,
    muted: std::sync::atomic::AtomicBool,
    events: tokio::sync::broadcast::Sender<sip_media::MediaEvent>,
    levels: tokio::sync::broadcast::Sender<sip_media::level::LevelReport>,
}

impl FixedSdpMedia {
    /// A session that offers and answers `sdp`.
    pub fn new(sdp: impl Into<String>) -> FixedSdpMedia {
        FixedSdpMedia {
            sdp: sdp.into(),
            direction: std::sync::Mutex::new(sip_media::Direction::SendRecv),
            muted: std::sync::atomic::AtomicBool::new(false),
            events: tokio::sync::broadcast::channel(4).0,
            levels: tokio::sync::broadcast::channel(1).0,
        }
    }

    /// A minimal valid audio SDP (PCMU on a discard port of the loopback address).
    pub fn loopback_sdp() -> String {
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
            .to_owned()
    }
}

#[async_trait]
impl MediaSession for FixedSdpMedia {
    async fn create_offer(&self) -> sip_media::Result<String> {
        Ok(self.sdp.clone())
    }

    async fn create_answer(&self, remote_offer: &str) -> sip_media::Result<String> {
        if !remote_offer.contains("m=audio") {
            return Err(sip_media::MediaError::UnusableSdp(
                "no audio stream in the offer".to_owned(),
            ));
        }
        Ok(self.sdp.clone())
    }

    async fn apply_answer(
        &self,
        _remote_answer: &str,
        _kind: sip_media::AnswerKind,
    ) -> sip_media::Result<()> {
        Ok(())
    }

    async fn set_direction(&self, direction: sip_media::Direction) -> sip_media::Result<()> {
        if let Ok(mut d) = self.direction.lock() {
            *d = direction;
        }
        Ok(())
    }

    fn direction(&self) -> sip_media::Direction {
        self.direction.lock().map(|d| *d).unwrap_or_default()
    }

    fn set_muted(&self, muted: bool) {
        self.muted
            .store(muted, std::sync::atomic::Ordering::Relaxed);
    }

    fn is_muted(&self) -> bool {
        self.muted.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set_source(&self, _source: Box<dyn sip_media::audio::PcmSource>) {}

    fn set_sink(&self, _sink: Option<Box<dyn sip_media::audio::PcmSink>>) {}

    fn send_dtmf(&self, _digits: &str) -> sip_media::Result<()> {
        Err(sip_media::MediaError::InvalidState {
            operation: "send_dtmf",
            state: "signalling-only media has no RTP stream".to_owned(),
        })
    }

    fn events(&self) -> tokio::sync::broadcast::Receiver<sip_media::MediaEvent> {
        self.events.subscribe()
    }

    fn levels(&self) -> tokio::sync::broadcast::Receiver<sip_media::level::LevelReport> {
        self.levels.subscribe()
    }

    async fn stats(&self) -> sip_media::MediaStats {
        sip_media::MediaStats::default()
    }

    async fn close(&self) -> sip_media::Result<()> {
        let _ = self.events.send(sip_media::MediaEvent::Closed);
        Ok(())
    }
}

/// Makes [`FixedSdpMedia`] sessions.
#[derive(Debug, Clone)]
pub struct FixedSdpFactory {
    sdp: String,
}

impl FixedSdpFactory {
    /// Sessions offering and answering `sdp`.
    pub fn new(sdp: impl Into<String>) -> FixedSdpFactory {
        FixedSdpFactory { sdp: sdp.into() }
    }
}

#[async_trait]
impl MediaFactory for FixedSdpFactory {
    async fn create(&self) -> sip_media::Result<Arc<dyn MediaSession>> {
        Ok(Arc::new(FixedSdpMedia::new(self.sdp.clone())))
    }
}
