//! [`WebRtcMedia`]: a [`MediaSession`] on the `webrtc` crate (DTLS-SRTP, ICE, RTCP mux), with
//! complete (non-trickle) SDP.

mod connection;
mod events;
mod fork;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use rtc::rtp_transceiver::RTCRtpTransceiverDirection;
use rtc::statistics::report::RTCStatsReportEntry;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{
    PeerConnection, RTCCertificate, RTCSessionDescription, StatsSelector,
};

use self::connection::LocalTracks;
use self::events::{Connected, GatherProgress, Handler, SessionShared};
use crate::error::{MediaError, Result};
use crate::frame_clock::FrameClock;
use crate::options::{GatheringDeadline, MediaOptions};
use crate::pipeline::{
    Engine, FRAME_PERIOD, Negotiated, SendState, engine_session_methods, lock, spawn_level_task,
};
use crate::sdp::{self, Direction, SessionSummary};
use crate::session::{AnswerKind, IceState, MediaEvent, MediaSession, MediaStats};
use crate::video::{VideoCodec, VideoFrame, VideoMode, VideoPacketizer, negotiated_video};

#[derive(Debug, Default)]
struct Negotiation {
    /// Our offer is out and no final answer applied yet.
    awaiting_answer: bool,
    /// The provisional answer applied to the outstanding offer, if any.
    provisional: Option<String>,
}

/// A WebRTC media session (audio over DTLS-SRTP with ICE) for one call.
///
/// Build one per call with [`WebRtcMedia::new`], then drive it through [`MediaSession`].
pub struct WebRtcMedia {
    /// The current peer connection (a forked final answer replaces it, see `fork.rs`).
    pc: Mutex<Arc<dyn PeerConnection>>,
    /// The current connection's event handler (retired with its connection).
    handler: Mutex<Arc<Handler>>,
    shared: Arc<SessionShared>,
    tracks: LocalTracks,
    /// The DTLS certificate of every connection of this session.
    certificate: RTCCertificate,
    track_id: String,
    engine: Arc<Engine>,
    options: MediaOptions,
    gather: watch::Receiver<GatherProgress>,
    ice: watch::Receiver<IceState>,
    negotiation: tokio::sync::Mutex<Negotiation>,
    wanted: Mutex<Direction>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    video_packetizer: tokio::sync::Mutex<VideoPacketizer>,
    video_frames: Mutex<Option<mpsc::Receiver<VideoFrame>>>,
}

impl std::fmt::Debug for WebRtcMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebRtcMedia")
            .field("call_id", &self.engine.call_id)
            .finish_non_exhaustive()
    }
}

fn to_transceiver_direction(direction: Direction) -> RTCRtpTransceiverDirection {
    match direction {
        Direction::SendRecv => RTCRtpTransceiverDirection::Sendrecv,
        Direction::SendOnly => RTCRtpTransceiverDirection::Sendonly,
        Direction::RecvOnly => RTCRtpTransceiverDirection::Recvonly,
        Direction::Inactive => RTCRtpTransceiverDirection::Inactive,
    }
}

impl WebRtcMedia {
    /// Builds the peer connection (sockets are bound now) and starts the session's tasks.
    pub async fn new(options: MediaOptions) -> Result<Self> {
        options.validate()?;
        let udp_addrs = connection::udp_addresses(&options)?;
        let engine = Engine::new(&options);
        let (gather_tx, gather_rx) = watch::channel(GatherProgress::default());
        let (ice_tx, ice_rx) = watch::channel(IceState::New);
        let (video_tx, video_rx) = mpsc::channel(64);
        let shared = Arc::new(SessionShared {
            engine: engine.clone(),
            gather: gather_tx,
            ice: ice_tx,
            connected: Connected::default(),
            video_codec: Arc::new(Mutex::new(None)),
            video_frames: video_tx,
        });
        let handler = Handler::new(shared.clone());
        let (tracks, ssrc, video_ssrc) = LocalTracks::new(&options);
        let certificate = connection::generate_certificate()?;
        let pc = connection::build(
            &options,
            handler.clone(),
            udp_addrs,
            &certificate,
            None,
            &tracks,
        )
        .await?;
        let sender_task = spawn_sender(shared.clone(), tracks.audio.clone(), ssrc);
        let level_task = spawn_level_task(engine.clone(), options.level_rate_hz);
        Ok(WebRtcMedia {
            pc: Mutex::new(pc),
            handler: Mutex::new(handler),
            shared,
            tracks,
            certificate,
            track_id: format!("sipline-audio-{ssrc:08x}"),
            engine,
            options,
            gather: gather_rx,
            ice: ice_rx,
            negotiation: tokio::sync::Mutex::new(Negotiation::default()),
            wanted: Mutex::new(Direction::SendRecv),
            tasks: Mutex::new(vec![sender_task, level_task]),
            video_packetizer: tokio::sync::Mutex::new(VideoPacketizer::new(video_ssrc)),
            video_frames: Mutex::new(Some(video_rx)),
        })
    }

    /// The current peer connection.
    fn pc(&self) -> Arc<dyn PeerConnection> {
        lock(&self.pc).clone()
    }

    /// Waits for ICE gathering to complete or for the configured deadline.
    async fn wait_for_gathering(&self) {
        let mut gather = self.gather.clone();
        let started = tokio::time::Instant::now();
        let (hard, idle) = match self.options.ice.gathering_deadline {
            GatheringDeadline::Hard(d) => (d, None),
            GatheringDeadline::Idle(d) => (d * 20, Some(d)),
        };
        let mut last_change = started;
        loop {
            if gather.borrow_and_update().complete {
                return;
            }
            let mut deadline = started + hard;
            if let Some(idle) = idle {
                deadline = deadline.min(last_change + idle);
            }
            tokio::select! {
                changed = gather.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    last_change = tokio::time::Instant::now();
                }
                _ = tokio::time::sleep_until(deadline) => {
                    tracing::warn!(
                        call_id = %self.engine.call_id,
                        candidates = gather.borrow().candidates,
                        "ICE gathering deadline reached; sending the SDP with what was gathered"
                    );
                    return;
                }
            }
        }
    }

    /// Sets our transceiver's direction: what we want when offering, or, when answering,
    /// what RFC 3264 §6.1 allows for the offered direction (the `rtc` core would answer an
    /// inactive offer with sendrecv).
    async fn apply_wanted_direction(&self, offered: Option<Direction>) -> Result<()> {
        let wanted = *lock(&self.wanted);
        let wanted = match offered {
            Some(offered) => Direction::answer_to(offered, wanted),
            None => wanted,
        };
        for transceiver in self.pc().get_transceivers().await {
            let Ok(Some(sender)) = transceiver.sender().await else {
                continue;
            };
            if sender.track().track_id().await == self.track_id {
                transceiver
                    .set_direction(to_transceiver_direction(wanted))
                    .await
                    .map_err(|e| MediaError::webrtc("set direction", e))?;
            }
        }
        Ok(())
    }

    async fn local_sdp(&self) -> Result<String> {
        self.wait_for_gathering().await;
        self.pc()
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or(MediaError::InvalidState {
                operation: "read local description",
                state: "none set".into(),
            })
    }

    fn negotiate(
        &self,
        local: &SessionSummary,
        remote: &SessionSummary,
        answer_is_local: bool,
    ) -> Result<()> {
        let negotiated = Negotiated::from_exchange(local, remote, answer_is_local, &self.options)?;
        self.engine.set_negotiated(negotiated);
        let answer = if answer_is_local { local } else { remote };
        if self.options.video.mode != VideoMode::Off {
            let video = negotiated_video(answer, &self.options.video.codecs);
            tracing::info!(call_id = %self.engine.call_id, ?video, "video negotiated");
            *lock(&self.shared.video_codec) = video;
        }
        Ok(())
    }

    fn remote_rejected(error: webrtc::error::Error) -> MediaError {
        MediaError::UnusableSdp(format!("rejected by the WebRTC stack: {error}"))
    }

    fn check_open(&self) -> Result<()> {
        if self.engine.closed.load(Ordering::SeqCst) {
            Err(MediaError::Closed)
        } else {
            Ok(())
        }
    }
}

fn spawn_sender(
    shared: Arc<SessionShared>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (engine, connected) = (&shared.engine, &shared.connected);
        let mut state = SendState::new(ssrc);
        let mut clock = FrameClock::new();
        let mut reported = false;
        while !engine.closed.load(Ordering::Relaxed) {
            if !connected.is_up() {
                // Wait for the connection (bounded, so a missed wake-up costs one period),
                // then send the first frame at once and pace from there.
                let _ = tokio::time::timeout(FRAME_PERIOD, connected.came_up.notified()).await;
                clock = FrameClock::new();
                // A new connection (a forked answer replaces it) gets its own first warning.
                reported = false;
                continue;
            }
            let skipped = clock.next_frame().await;
            state.skip_frames(skipped);
            for packet in engine.tick(&mut state) {
                if let Err(error) = track.write_rtp(packet).await {
                    if !reported {
                        tracing::warn!(call_id = %engine.call_id, %error, "RTP write failed");
                        reported = true;
                    }
                }
            }
        }
    })
}

#[async_trait]
impl MediaSession for WebRtcMedia {
    async fn create_offer(&self) -> Result<String> {
        self.check_open()?;
        let mut negotiation = self.negotiation.lock().await;
        self.apply_wanted_direction(None).await?;
        let offer = self
            .pc()
            .create_offer(None)
            .await
            .map_err(|e| MediaError::webrtc("create offer", e))?;
        self.pc()
            .set_local_description(offer)
            .await
            .map_err(|e| MediaError::webrtc("set local offer", e))?;
        let sdp = self.local_sdp().await?;
        negotiation.awaiting_answer = true;
        negotiation.provisional = None;
        tracing::debug!(target: "sip::wire", call_id = %self.engine.call_id, %sdp, "local SDP offer");
        Ok(sdp)
    }

    async fn create_answer(&self, remote_offer: &str) -> Result<String> {
        self.check_open()?;
        let mut negotiation = self.negotiation.lock().await;
        let remote = sdp::parse(remote_offer)?;
        sdp::check_webrtc(&remote, &self.options.codecs)?;
        let filtered = sdp::filter_remote_offer(remote_offer);
        let description = RTCSessionDescription::offer(filtered).map_err(Self::remote_rejected)?;
        self.pc()
            .set_remote_description(description)
            .await
            .map_err(Self::remote_rejected)?;
        self.apply_wanted_direction(remote.audio().map(|a| a.direction))
            .await?;
        let answer = self
            .pc()
            .create_answer(None)
            .await
            .map_err(|e| MediaError::webrtc("create answer", e))?;
        self.pc()
            .set_local_description(answer)
            .await
            .map_err(|e| MediaError::webrtc("set local answer", e))?;
        let sdp = self.local_sdp().await?;
        let local = sdp::parse(&sdp)?;
        self.negotiate(&local, &remote, true)?;
        negotiation.awaiting_answer = false;
        negotiation.provisional = None;
        tracing::debug!(target: "sip::wire", call_id = %self.engine.call_id, %sdp, "local SDP answer");
        Ok(sdp)
    }

    async fn apply_answer(&self, remote_answer: &str, kind: AnswerKind) -> Result<()> {
        self.check_open()?;
        let mut negotiation = self.negotiation.lock().await;
        if !negotiation.awaiting_answer {
            return Err(MediaError::InvalidState {
                operation: "apply answer",
                state: "no offer outstanding".into(),
            });
        }
        let remote = sdp::parse(remote_answer)?;
        sdp::check_webrtc(&remote, &self.options.codecs)?;
        match negotiation.provisional.as_deref() {
            Some(early) if early == remote_answer => {
                // A repeated 18x, or the 2xx repeating the early answer (RFC 6337 §3.1.1):
                // already in effect.
                if kind == AnswerKind::Final {
                    negotiation.awaiting_answer = false;
                    negotiation.provisional = None;
                }
                return Ok(());
            }
            Some(early) => {
                // A different answer to the same offer replaces the early one (see fork.rs).
                if fork::same_far_end(early, remote_answer) {
                    self.reapply_answer(remote_answer).await?;
                } else {
                    self.replace_connection(remote_answer).await?;
                }
            }
            None => {
                // The `rtc` core cannot go from a remote pranswer to the final answer (its ICE
                // transport refuses to start twice), so an early answer is applied as the
                // answer; a different final one then goes through fork.rs.
                let description = RTCSessionDescription::answer(remote_answer.to_owned())
                    .map_err(Self::remote_rejected)?;
                self.pc()
                    .set_remote_description(description)
                    .await
                    .map_err(Self::remote_rejected)?;
            }
        }
        if kind == AnswerKind::Provisional {
            negotiation.provisional = Some(remote_answer.to_owned());
        } else {
            negotiation.awaiting_answer = false;
            negotiation.provisional = None;
        }
        let local_sdp = self
            .pc()
            .local_description()
            .await
            .map(|d| d.sdp)
            .unwrap_or_default();
        let local = sdp::parse(&local_sdp)?;
        self.negotiate(&local, &remote, false)?;
        if kind == AnswerKind::Provisional {
            self.engine.emit(MediaEvent::EarlyMediaStarted);
        }
        Ok(())
    }

    async fn set_direction(&self, direction: Direction) -> Result<()> {
        self.check_open()?;
        *lock(&self.wanted) = direction;
        Ok(())
    }

    engine_session_methods!();

    fn video_codec(&self) -> Option<VideoCodec> {
        lock(&self.shared.video_codec).map(|(codec, _)| codec)
    }

    // Frames are dropped when the application does not keep up.
    fn take_video_frames(&self) -> Option<mpsc::Receiver<VideoFrame>> {
        lock(&self.video_frames).take()
    }

    async fn send_video_frame(&self, frame: Bytes, duration: std::time::Duration) -> Result<()> {
        self.check_open()?;
        let track = self.tracks.video.as_ref().ok_or(MediaError::InvalidState {
            operation: "send video frame",
            state: "video is not in send mode".into(),
        })?;
        let (codec, payload_type) =
            (*lock(&self.shared.video_codec)).ok_or(MediaError::InvalidState {
                operation: "send video frame",
                state: "no video codec negotiated".into(),
            })?;
        if !self.shared.connected.is_up() {
            return Err(MediaError::InvalidState {
                operation: "send video frame",
                state: "not connected".into(),
            });
        }
        if self.engine.camera_muted.load(Ordering::Relaxed) {
            // Muted without renegotiation: the far end keeps its last picture.
            return Ok(());
        }
        let packets = self
            .video_packetizer
            .lock()
            .await
            .packetize(codec, payload_type, &frame, duration)
            .map_err(|reason| MediaError::Codec {
                codec: codec.encoding_name(),
                reason,
            })?;
        for packet in packets {
            track
                .write_rtp(packet)
                .await
                .map_err(|e| MediaError::webrtc("write video RTP", e))?;
        }
        Ok(())
    }

    async fn stats(&self) -> MediaStats {
        let mut stats = MediaStats::default();
        self.engine.fill_stats(&mut stats);
        stats.ice_state = *self.ice.borrow();
        let report = self
            .pc()
            .get_stats(Instant::now(), StatsSelector::None)
            .await;
        let mut pair_id = None;
        for entry in report.iter() {
            if let RTCStatsReportEntry::Transport(transport) = entry
                && !transport.selected_candidate_pair_id.is_empty()
            {
                pair_id = Some(transport.selected_candidate_pair_id.clone());
            }
        }
        if let Some(RTCStatsReportEntry::IceCandidatePair(pair)) =
            pair_id.as_deref().and_then(|id| report.get(id))
        {
            if pair.current_round_trip_time > 0.0 {
                stats.round_trip_ms = Some(pair.current_round_trip_time * 1000.0);
            }
            // Candidate entries are keyed by a prefixed id; remote ones may be missing.
            let describe = |id: &str| match report
                .get(&format!("RTCLocalIceCandidate_{id}"))
                .or_else(|| report.get(&format!("RTCRemoteIceCandidate_{id}")))
                .or_else(|| report.get(id))
            {
                Some(RTCStatsReportEntry::LocalCandidate(c))
                | Some(RTCStatsReportEntry::RemoteCandidate(c)) => format!(
                    "{}:{} {}",
                    c.address.as_deref().unwrap_or("?"),
                    c.port,
                    c.candidate_type
                ),
                _ => id.to_string(),
            };
            stats.selected_pair = Some(format!(
                "{} -> {}",
                describe(&pair.local_candidate_id),
                describe(&pair.remote_candidate_id)
            ));
        }
        stats
    }

    async fn close(&self) -> Result<()> {
        if self.engine.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
        let _ = self.tracks.audio.unbind().await;
        let result = self
            .pc()
            .close()
            .await
            .map_err(|e| MediaError::webrtc("close", e));
        self.engine.emit(MediaEvent::Closed);
        result
    }
}

impl Drop for WebRtcMedia {
    fn drop(&mut self) {
        self.engine.closed.store(true, Ordering::SeqCst);
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}
