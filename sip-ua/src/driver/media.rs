//! Media for the driver: one [`MediaSession`] per call, made by a [`MediaFactory`].

use std::sync::Arc;

use async_trait::async_trait;
use sip_media::{MediaOptions, MediaSession, RtpMedia, WebRtcMedia};

/// What the driver knows when a call needs a session: the signalling transport and, for an
/// incoming call, the caller's offer (so a factory can pick plain RTP or WebRTC, see
/// [`AutoMediaFactory`](super::AutoMediaFactory)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MediaContext<'a> {
    /// The transport of the flow in use; `None` when no flow is up.
    pub transport: Option<crate::flow::Transport>,
    /// The peer's SDP offer when the session must answer one; `None` when it makes the
    /// offer (outgoing calls, an INVITE without SDP).
    pub remote_offer: Option<&'a str>,
}

impl<'a> MediaContext<'a> {
    /// A context for a session on `transport` answering `remote_offer` (if any).
    pub fn new(
        transport: Option<crate::flow::Transport>,
        remote_offer: Option<&'a str>,
    ) -> MediaContext<'a> {
        MediaContext {
            transport,
            remote_offer,
        }
    }
}

/// Creates the media session of each new call.
#[async_trait]
pub trait MediaFactory: Send + Sync + 'static {
    /// A new session for one call.
    async fn create(&self) -> sip_media::Result<Arc<dyn MediaSession>>;

    /// A new session for one call, knowing its transport and the peer's offer; the driver
    /// always calls this one. The default ignores the context and calls
    /// [`create`](MediaFactory::create).
    async fn create_for(
        &self,
        context: MediaContext<'_>,
    ) -> sip_media::Result<Arc<dyn MediaSession>> {
        let _ = context;
        self.create().await
    }

    /// The configuration was reloaded ([`UserAgent::reload`](super::UserAgent::reload)) and
    /// its media or ICE settings changed: a factory that builds its options from the
    /// configuration takes the new ones here, for the calls that follow (calls in progress
    /// keep theirs). The default keeps the options it has.
    fn reconfigure(&self, config: &sip_config::PhoneConfig) {
        let _ = config;
    }
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

/// Plain RTP media (sip-media's [`RtpMedia`]: RTP/AVP, no ICE or DTLS) with fixed options, for
/// peers such as sipp or a PBX trunk that do not speak WebRTC.
#[derive(Debug, Clone)]
pub struct RtpFactory {
    options: MediaOptions,
}

impl RtpFactory {
    /// A factory creating [`RtpMedia`] sessions with `options`.
    pub fn new(options: MediaOptions) -> RtpFactory {
        RtpFactory { options }
    }
}

#[async_trait]
impl MediaFactory for RtpFactory {
    async fn create(&self) -> sip_media::Result<Arc<dyn MediaSession>> {
        Ok(Arc::new(RtpMedia::new(self.options.clone()).await?))
    }
}

/// Signalling-only media: offers and answers a fixed SDP and carries no RTP. For load
/// programs and signalling interop tests, where thousands of calls must not open sockets.
#[derive(Debug)]
pub struct FixedSdpMedia {
    sdp: String,
    direction: std::sync::Mutex<sip_media::Direction>,
    muted: std::sync::atomic::AtomicBool,
    camera_muted: std::sync::atomic::AtomicBool,
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
            camera_muted: std::sync::atomic::AtomicBool::new(false),
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

impl FixedSdpMedia {
    /// The fixed SDP with its direction attribute set to `direction` (so hold and resume are
    /// visible to the peer even without media).
    fn with_direction(&self, direction: sip_media::Direction) -> String {
        let mut out: String = self
            .sdp
            .split_inclusive('\n')
            .filter(|line| {
                !matches!(
                    line.trim(),
                    "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive"
                )
            })
            .collect();
        if !out.ends_with('\n') {
            out.push_str("\r\n");
        }
        out.push_str(&format!("a={}\r\n", direction.as_str()));
        out
    }
}

fn offered_direction(sdp: &str) -> sip_media::Direction {
    use sip_media::Direction;
    sdp.lines()
        .find_map(|line| match line.trim() {
            "a=sendonly" => Some(Direction::SendOnly),
            "a=recvonly" => Some(Direction::RecvOnly),
            "a=inactive" => Some(Direction::Inactive),
            "a=sendrecv" => Some(Direction::SendRecv),
            _ => None,
        })
        .unwrap_or(Direction::SendRecv)
}

#[async_trait]
impl MediaSession for FixedSdpMedia {
    async fn create_offer(&self) -> sip_media::Result<String> {
        Ok(self.with_direction(self.direction()))
    }

    async fn create_answer(&self, remote_offer: &str) -> sip_media::Result<String> {
        use sip_media::Direction;
        if !remote_offer.contains("m=audio") {
            return Err(sip_media::MediaError::UnusableSdp(
                "no audio stream in the offer".to_owned(),
            ));
        }
        // RFC 3264 §6.1: the answer mirrors a one-way offer.
        let answer = match (offered_direction(remote_offer), self.direction()) {
            (Direction::SendOnly, _) | (_, Direction::RecvOnly) => Direction::RecvOnly,
            (Direction::RecvOnly, _) | (_, Direction::SendOnly) => Direction::SendOnly,
            (Direction::Inactive, _) | (_, Direction::Inactive) => Direction::Inactive,
            _ => Direction::SendRecv,
        };
        Ok(self.with_direction(answer))
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

    fn set_camera_muted(&self, muted: bool) {
        self.camera_muted
            .store(muted, std::sync::atomic::Ordering::Relaxed);
    }

    fn is_camera_muted(&self) -> bool {
        self.camera_muted.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn video_codec(&self) -> Option<sip_media::video::VideoCodec> {
        None
    }

    fn take_video_frames(
        &self,
    ) -> Option<tokio::sync::mpsc::Receiver<sip_media::video::VideoFrame>> {
        None
    }

    async fn send_video_frame(
        &self,
        _frame: bytes::Bytes,
        _duration: std::time::Duration,
    ) -> sip_media::Result<()> {
        Err(sip_media::MediaError::InvalidState {
            operation: "send video frame",
            state: "signalling-only media has no RTP stream".to_owned(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use sip_media::Direction;

    #[tokio::test]
    async fn fixed_sdp_follows_the_direction_and_mirrors_one_way_offers() {
        let media = FixedSdpMedia::new(FixedSdpMedia::loopback_sdp());
        assert!(
            media
                .create_offer()
                .await
                .unwrap()
                .ends_with("a=sendrecv\r\n")
        );
        media.set_direction(Direction::SendOnly).await.unwrap();
        let hold = media.create_offer().await.unwrap();
        assert!(hold.ends_with("a=sendonly\r\n"));
        assert_eq!(hold.matches("a=").count(), 2, "{hold}");
        let other = FixedSdpMedia::new(FixedSdpMedia::loopback_sdp());
        assert!(
            other
                .create_answer(&hold)
                .await
                .unwrap()
                .ends_with("a=recvonly\r\n")
        );
        assert!(other.create_answer("v=0\r\n").await.is_err());
    }
}
