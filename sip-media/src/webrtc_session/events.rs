//! Events of a session's peer connection: gathering progress, ICE and DTLS state, remote
//! tracks (audio into the engine, video into the frame stream).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnectionEventHandler, RTCIceConnectionState, RTCIceGatheringState,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState,
};

use crate::pipeline::{Engine, lock};
use crate::session::{IceState, MediaEvent};
use crate::video::{FrameAssembler, VideoCodec, VideoFrame};

/// The negotiated video codec and payload type, shared with the receive task.
pub(super) type SharedVideoCodec = Arc<Mutex<Option<(VideoCodec, u8)>>>;

/// ICE gathering progress of the current peer connection.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct GatherProgress {
    pub complete: bool,
    pub candidates: u32,
}

/// Whether DTLS-SRTP is up, and a wake-up for the sender waiting for it.
#[derive(Debug, Default)]
pub(super) struct Connected {
    up: AtomicBool,
    /// Signalled when the connection comes up, so the first packet leaves at once instead
    /// of at the next 20 ms tick.
    pub came_up: tokio::sync::Notify,
}

impl Connected {
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    /// Marks the connection up; true when it was down.
    pub fn set_up(&self) -> bool {
        let was_up = self.up.swap(true, Ordering::SeqCst);
        if !was_up {
            self.came_up.notify_one();
        }
        !was_up
    }

    pub fn set_down(&self) {
        self.up.store(false, Ordering::SeqCst);
    }
}

/// What the handlers of a session's successive peer connections share (a forked final
/// answer replaces the connection, see `fork.rs`).
pub(super) struct SessionShared {
    pub engine: Arc<Engine>,
    pub gather: watch::Sender<GatherProgress>,
    pub ice: watch::Sender<IceState>,
    pub connected: Connected,
    pub video_codec: SharedVideoCodec,
    pub video_frames: mpsc::Sender<VideoFrame>,
}

/// The event handler of one peer connection.
pub(super) struct Handler {
    shared: Arc<SessionShared>,
    /// Set when this connection is being replaced: its closing must not reach the session.
    retired: AtomicBool,
}

impl Handler {
    pub fn new(shared: Arc<SessionShared>) -> Arc<Self> {
        Arc::new(Handler {
            shared,
            retired: AtomicBool::new(false),
        })
    }

    /// Stops forwarding this connection's events (it is about to be closed and replaced).
    pub fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
    }

    fn is_retired(&self) -> bool {
        self.retired.load(Ordering::SeqCst)
    }
}

pub(super) fn ice_state(state: RTCIceConnectionState) -> IceState {
    match state {
        RTCIceConnectionState::Checking => IceState::Checking,
        RTCIceConnectionState::Connected => IceState::Connected,
        RTCIceConnectionState::Completed => IceState::Completed,
        RTCIceConnectionState::Disconnected => IceState::Disconnected,
        RTCIceConnectionState::Failed => IceState::Failed,
        RTCIceConnectionState::Closed => IceState::Closed,
        _ => IceState::New,
    }
}

#[async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if self.is_retired() {
            return;
        }
        tracing::debug!(call_id = %self.shared.engine.call_id, candidate = ?event.candidate, "local ICE candidate");
        self.shared.gather.send_modify(|g| g.candidates += 1);
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if self.is_retired() {
            return;
        }
        tracing::debug!(call_id = %self.shared.engine.call_id, %state, "ICE gathering");
        self.shared
            .gather
            .send_modify(|g| g.complete = state == RTCIceGatheringState::Complete);
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        if self.is_retired() {
            return;
        }
        let state = ice_state(state);
        self.shared.ice.send_replace(state);
        self.shared.engine.emit(MediaEvent::IceState(state));
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        if self.is_retired() {
            return;
        }
        tracing::debug!(call_id = %self.shared.engine.call_id, %state, "peer connection");
        match state {
            RTCPeerConnectionState::Connected if self.shared.connected.set_up() => {
                self.shared.engine.emit(MediaEvent::Connected);
            }
            RTCPeerConnectionState::Failed => {
                self.shared.connected.set_down();
                tracing::warn!(call_id = %self.shared.engine.call_id, "media connection failed");
                self.shared
                    .engine
                    .emit(MediaEvent::Failed("ICE/DTLS connection failed".into()));
            }
            RTCPeerConnectionState::Closed => self.shared.connected.set_down(),
            _ => {}
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        if self.is_retired() {
            return;
        }
        // Keep our own handle: get_receivers() may come back empty (see the notes).
        if track.kind().await == RtpCodecKind::Video {
            spawn_video_reader(
                track,
                self.shared.video_codec.clone(),
                self.shared.video_frames.clone(),
                self.shared.engine.call_id.clone(),
            );
            return;
        }
        let engine = self.shared.engine.clone();
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                match event {
                    TrackRemoteEvent::OnRtpPacket(packet) => engine.on_rtp(&packet),
                    TrackRemoteEvent::OnEnded => break,
                    _ => {}
                }
            }
        });
    }
}

fn spawn_video_reader(
    track: Arc<dyn TrackRemote>,
    codec: SharedVideoCodec,
    frames: mpsc::Sender<VideoFrame>,
    call_id: String,
) {
    tokio::spawn(async move {
        let mut assembler: Option<FrameAssembler> = None;
        let mut dropped = 0u64;
        while let Some(event) = track.poll().await {
            let TrackRemoteEvent::OnRtpPacket(packet) = event else {
                if matches!(event, TrackRemoteEvent::OnEnded) {
                    break;
                }
                continue;
            };
            let Some((current, _)) = *lock(&codec) else {
                continue;
            };
            let assembler = match &mut assembler {
                Some(a) if a.codec() == current => a,
                slot => slot.insert(FrameAssembler::new(current)),
            };
            if let Some(frame) = assembler.push(&packet)
                && frames.try_send(frame).is_err()
            {
                dropped += 1;
                if dropped.is_power_of_two() {
                    tracing::debug!(%call_id, dropped, "video frames dropped: application not reading");
                }
            }
        }
    });
}
