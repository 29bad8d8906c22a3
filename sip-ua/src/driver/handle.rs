//! What applications reach of a call's media through the driver: the session's statistics,
//! visualiser feed and events, and the call's mute state.

use std::fmt;
use std::sync::Arc;

use sip_media::audio::{PcmSink, PcmSource};
use sip_media::level::LevelReport;
use sip_media::{MediaEvent, MediaSession, MediaStats};
use tokio::sync::broadcast;

use crate::event::CallHandle;
pub use crate::popup::MediaKind;

/// What a call has muted. Muting never renegotiates: the microphone sends silence, the camera
/// stops feeding frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MuteState {
    /// The microphone sends silence.
    pub microphone: bool,
    /// The camera is off: the session drops the video frames the application gives it, so
    /// the far end keeps its last picture.
    pub camera: bool,
}

impl MuteState {
    /// Whether `kind` is muted.
    pub fn is_muted(self, kind: MediaKind) -> bool {
        match kind {
            MediaKind::Microphone => self.microphone,
            MediaKind::Camera => self.camera,
        }
    }

    /// The state with `kind` set to `muted`.
    pub(crate) fn with(mut self, kind: MediaKind, muted: bool) -> MuteState {
        match kind {
            MediaKind::Microphone => self.microphone = muted,
            MediaKind::Camera => self.camera = muted,
        }
        self
    }
}

/// A call's media session, as the driver created it: statistics, the level (visualiser) feed,
/// media events (RFC 4733 digits, early media started, first remote audio, ICE state) and the
/// audio source and sink.
///
/// Mute through [`Call::mute`](super::Call::mute), not on the session, so the driver's mute
/// state stays true (it is applied again to a session made later, e.g. on answer).
#[derive(Clone)]
pub struct MediaHandle {
    call: CallHandle,
    session: Arc<dyn MediaSession>,
}

impl fmt::Debug for MediaHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaHandle")
            .field("call", &self.call)
            .field("direction", &self.session.direction())
            .field("muted", &self.session.is_muted())
            .finish_non_exhaustive()
    }
}

impl MediaHandle {
    pub(crate) fn new(call: CallHandle, session: Arc<dyn MediaSession>) -> MediaHandle {
        MediaHandle { call, session }
    }

    /// The call this media belongs to.
    pub fn call(&self) -> CallHandle {
        self.call
    }

    /// Packet, byte and loss counters, jitter, round-trip time, codec and ICE state.
    pub async fn stats(&self) -> MediaStats {
        self.session.stats().await
    }

    /// The visualiser feed: local and remote level reports at the configured rate.
    pub fn levels(&self) -> broadcast::Receiver<LevelReport> {
        self.session.levels()
    }

    /// The session's events from now on: [`MediaEvent::DtmfReceived`],
    /// [`MediaEvent::EarlyMediaStarted`], [`MediaEvent::FirstRemoteAudio`], ICE changes ...
    /// (RFC 4733 digits also arrive on the agent's event stream as
    /// [`Event::DtmfReceived`](crate::Event::DtmfReceived)).
    pub fn events(&self) -> broadcast::Receiver<MediaEvent> {
        self.session.events()
    }

    /// The direction in effect (`sendrecv`, `sendonly` while we hold ...).
    pub fn direction(&self) -> sip_media::Direction {
        self.session.direction()
    }

    /// Whether the microphone sends silence now.
    pub fn is_microphone_muted(&self) -> bool {
        self.session.is_muted()
    }

    /// Whether the session drops the camera's frames now.
    pub fn is_camera_muted(&self) -> bool {
        self.session.is_camera_muted()
    }

    /// Replaces what is sent (a WAV file, a tone, a microphone).
    pub fn set_source(&self, source: Box<dyn PcmSource>) {
        self.session.set_source(source);
    }

    /// Replaces where decoded far-end audio goes (`None` discards it).
    pub fn set_sink(&self, sink: Option<Box<dyn PcmSink>>) {
        self.session.set_sink(sink);
    }

    /// The session itself, for what this handle does not cover. Offer/answer and closing
    /// belong to the driver: calling them here desynchronises the call.
    pub fn session(&self) -> &Arc<dyn MediaSession> {
        &self.session
    }
}
