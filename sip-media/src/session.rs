//! The [`MediaSession`] trait the user agent drives, and the events and statistics a session
//! reports.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::{broadcast, mpsc};

use crate::audio::{PcmSink, PcmSource};
use crate::error::Result;
use crate::level::LevelReport;
use crate::options::AudioCodec;
use crate::sdp::Direction;
use crate::video::{VideoCodec, VideoFrame};

/// Whether a remote answer is provisional (a 18x with SDP: early media) or final (2xx/ACK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// From a reliable or unreliable 18x: early media starts, the dialog may still change.
    Provisional,
    /// From the 2xx (or the ACK of a 2xx offer).
    Final,
}

/// ICE connectivity of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IceState {
    /// Not started.
    #[default]
    New,
    /// Checking candidate pairs.
    Checking,
    /// A pair works.
    Connected,
    /// Checks finished.
    Completed,
    /// Connectivity lost, may come back.
    Disconnected,
    /// No pair works.
    Failed,
    /// Closed.
    Closed,
}

/// Something that happened in a session, in order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// ICE state changed.
    IceState(IceState),
    /// Media can flow (ICE and DTLS up for WebRTC, first packet from the peer for plain RTP).
    Connected,
    /// Early media has started (a provisional answer with SDP was applied): stop local
    /// ringback.
    EarlyMediaStarted,
    /// The first far-end audio frame was decoded.
    FirstRemoteAudio,
    /// The far end sent an RFC 4733 digit.
    DtmfReceived(char),
    /// A queued DTMF string has been played completely.
    DtmfSent,
    /// Something failed that the session cannot recover from.
    Failed(String),
    /// The session was closed.
    Closed,
}

/// Counters and state of a session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaStats {
    /// RTP packets sent (audio and telephone-event).
    pub packets_sent: u64,
    /// RTP payload bytes sent.
    pub bytes_sent: u64,
    /// RTP packets received.
    pub packets_received: u64,
    /// RTP payload bytes received.
    pub bytes_received: u64,
    /// Packets lost, from sequence-number gaps.
    pub packets_lost: u64,
    /// Interarrival jitter (RFC 3550 §6.4.1) in milliseconds.
    pub jitter_ms: f64,
    /// Round-trip time from RTCP, when known.
    pub round_trip_ms: Option<f64>,
    /// The negotiated audio codec.
    pub codec: Option<AudioCodec>,
    /// ICE state.
    pub ice_state: IceState,
    /// The selected candidate pair, `local -> remote`, when known.
    pub selected_pair: Option<String>,
}

/// One media session per call, driven by the SDP bodies a SIP user agent carries. Non-trickle:
/// every SDP returned is complete.
#[async_trait]
pub trait MediaSession: Send + Sync {
    /// Creates an initial offer, or a re-offer (hold, resume, refresh) once negotiated.
    async fn create_offer(&self) -> Result<String>;

    /// Applies a remote offer (initial or re-INVITE) and returns the answer. An unusable
    /// offer gives an error for which [`MediaError::is_not_acceptable`] holds (answer 488).
    ///
    /// [`MediaError::is_not_acceptable`]: crate::MediaError::is_not_acceptable
    async fn create_answer(&self, remote_offer: &str) -> Result<String>;

    /// Applies the remote answer to our last offer: a provisional one (18x) and then the
    /// final one.
    async fn apply_answer(&self, remote_answer: &str, kind: AnswerKind) -> Result<()>;

    /// Sets the direction this end wants; it takes effect with the next offer or answer.
    async fn set_direction(&self, direction: Direction) -> Result<()>;

    /// The direction currently in effect for this end (from the last completed exchange).
    fn direction(&self) -> Direction;

    /// Mutes or unmutes the microphone without renegotiation (silence is sent).
    fn set_muted(&self, muted: bool);

    /// Whether the microphone is muted.
    fn is_muted(&self) -> bool;

    /// Mutes or unmutes the camera without renegotiation: while muted, frames given to
    /// [`send_video_frame`](Self::send_video_frame) are dropped instead of sent. A session
    /// without video keeps the state, so a later re-offer with video starts muted.
    fn set_camera_muted(&self, muted: bool);

    /// Whether the camera is muted.
    fn is_camera_muted(&self) -> bool;

    /// The negotiated video codec, when video was negotiated.
    fn video_codec(&self) -> Option<VideoCodec>;

    /// Takes the stream of received encoded video frames (once; `None` afterwards, and for
    /// sessions that carry no video).
    fn take_video_frames(&self) -> Option<mpsc::Receiver<VideoFrame>>;

    /// Sends one application-encoded frame (a VP8 frame or an H.264 Annex-B access unit) of
    /// the given display duration. An error when video is not negotiated in send mode.
    async fn send_video_frame(&self, frame: Bytes, duration: Duration) -> Result<()>;

    /// Replaces what is sent.
    fn set_source(&self, source: Box<dyn PcmSource>);

    /// Replaces where decoded audio goes (`None` discards it).
    fn set_sink(&self, sink: Option<Box<dyn PcmSink>>);

    /// Queues RFC 4733 digits (`0-9*#A-D`, `,` pauses 2 s).
    fn send_dtmf(&self, digits: &str) -> Result<()>;

    /// Subscribes to the session's events.
    fn events(&self) -> broadcast::Receiver<MediaEvent>;

    /// Subscribes to the visualiser feed (local and remote reports at the configured rate).
    fn levels(&self) -> broadcast::Receiver<LevelReport>;

    /// Current statistics.
    async fn stats(&self) -> MediaStats;

    /// Stops media and releases sockets. Idempotent.
    async fn close(&self) -> Result<()>;
}
