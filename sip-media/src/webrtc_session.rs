//! [`WebRtcMedia`]: a [`MediaSession`] on the `webrtc` crate (DTLS-SRTP, ICE, RTCP mux), with
//! complete (non-trickle) SDP.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_PCMA, MIME_TYPE_PCMU, MIME_TYPE_TELEPHONE_EVENT,
    MIME_TYPE_VP8,
};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use rtc::statistics::report::RTCStatsReportEntry;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateType, RTCIceConnectionState, RTCIceGatheringState,
    RTCIceServer, RTCIceTransportPolicy, RTCPeerConnectionIceEvent, RTCPeerConnectionState,
    RTCRtcpMuxPolicy, RTCSessionDescription, Registry, SettingEngineBuilder, StatsSelector,
    register_default_interceptors,
};

use crate::audio::{PcmSink, PcmSource};
use crate::error::{MediaError, Result};
use crate::level::LevelReport;
use crate::options::{AudioCodec, GatheringDeadline, IceTransportPolicy, MediaOptions};
use crate::pipeline::{Engine, FRAME_PERIOD, Negotiated, SendState, lock, spawn_level_task};
use crate::sdp::{self, Direction, SessionSummary};
use crate::session::{AnswerKind, IceState, MediaEvent, MediaSession, MediaStats};
use crate::video::{
    FrameAssembler, VIDEO_CLOCK_RATE, VideoCodec, VideoFrame, VideoMode, VideoPacketizer,
    negotiated_video,
};

/// The negotiated video codec and payload type, shared with the receive task.
type SharedVideoCodec = Arc<Mutex<Option<(VideoCodec, u8)>>>;

/// Payload type this crate offers for telephone-event/8000 (what browsers commonly use).
const TELEPHONE_EVENT_PT: u8 = 126;

#[derive(Debug, Clone, Copy, Default)]
struct GatherProgress {
    complete: bool,
    candidates: u32,
}

struct Handler {
    engine: Arc<Engine>,
    gather: watch::Sender<GatherProgress>,
    ice: watch::Sender<IceState>,
    connected: Arc<AtomicBool>,
    video_codec: SharedVideoCodec,
    video_frames: mpsc::Sender<VideoFrame>,
}

fn ice_state(state: RTCIceConnectionState) -> IceState {
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
        tracing::debug!(call_id = %self.engine.call_id, candidate = ?event.candidate, "local ICE candidate");
        self.gather.send_modify(|g| g.candidates += 1);
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        tracing::debug!(call_id = %self.engine.call_id, %state, "ICE gathering");
        self.gather
            .send_modify(|g| g.complete = state == RTCIceGatheringState::Complete);
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        let state = ice_state(state);
        self.ice.send_replace(state);
        self.engine.emit(MediaEvent::IceState(state));
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(call_id = %self.engine.call_id, %state, "peer connection");
        match state {
            RTCPeerConnectionState::Connected if !self.connected.swap(true, Ordering::SeqCst) => {
                self.engine.emit(MediaEvent::Connected);
            }
            RTCPeerConnectionState::Failed => {
                self.connected.store(false, Ordering::SeqCst);
                tracing::warn!(call_id = %self.engine.call_id, "media connection failed");
                self.engine
                    .emit(MediaEvent::Failed("ICE/DTLS connection failed".into()));
            }
            RTCPeerConnectionState::Closed => self.connected.store(false, Ordering::SeqCst),
            _ => {}
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        // Keep our own handle: get_receivers() may come back empty (see the notes).
        if track.kind().await == RtpCodecKind::Video {
            spawn_video_reader(
                track,
                self.video_codec.clone(),
                self.video_frames.clone(),
                self.engine.call_id.clone(),
            );
            return;
        }
        let engine = self.engine.clone();
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
    pc: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    track_id: String,
    engine: Arc<Engine>,
    options: MediaOptions,
    gather: watch::Receiver<GatherProgress>,
    ice: watch::Receiver<IceState>,
    negotiation: tokio::sync::Mutex<Negotiation>,
    wanted: Mutex<Direction>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    connected: Arc<AtomicBool>,
    video_track: Option<Arc<TrackLocalStaticRTP>>,
    video_codec: SharedVideoCodec,
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

fn codec_parameters(codec: AudioCodec) -> RTCRtpCodecParameters {
    let (mime_type, channels, fmtp) = match codec {
        AudioCodec::Opus => (MIME_TYPE_OPUS, 2, "minptime=10;useinbandfec=1"),
        AudioCodec::Pcmu => (MIME_TYPE_PCMU, 0, ""),
        AudioCodec::Pcma => (MIME_TYPE_PCMA, 0, ""),
    };
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime_type.to_owned(),
            clock_rate: codec.clock_rate(),
            channels,
            sdp_fmtp_line: fmtp.to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: codec.default_payload_type(),
    }
}

fn video_codec_parameters(codec: VideoCodec) -> RTCRtpCodecParameters {
    let feedback = |typ: &str, parameter: &str| RTCPFeedback {
        typ: typ.to_owned(),
        parameter: parameter.to_owned(),
    };
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: match codec {
                VideoCodec::Vp8 => MIME_TYPE_VP8,
                VideoCodec::H264 => MIME_TYPE_H264,
            }
            .to_owned(),
            clock_rate: VIDEO_CLOCK_RATE,
            channels: 0,
            sdp_fmtp_line: codec.fmtp().to_owned(),
            rtcp_feedback: vec![
                feedback("nack", ""),
                feedback("nack", "pli"),
                feedback("ccm", "fir"),
            ],
        },
        payload_type: codec.default_payload_type(),
    }
}

/// Picks a free UDP port for `ip` in `range`. The port is released again before the WebRTC
/// stack binds it, so another program could take it in between; binding then fails and the
/// session reports the error.
fn pick_port(ip: IpAddr, range: Option<(u16, u16)>) -> Result<u16> {
    let Some((low, high)) = range else {
        return Ok(0);
    };
    for port in low..=high {
        if std::net::UdpSocket::bind((ip, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(MediaError::Io {
        what: format!("UDP ports {low}..={high} on {ip}"),
        source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "no free port in range"),
    })
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
        let mut media_engine = MediaEngine::default();
        for &codec in &options.codecs {
            media_engine
                .register_codec(codec_parameters(codec), RtpCodecKind::Audio)
                .map_err(|e| MediaError::webrtc("register codec", e))?;
        }
        media_engine
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: RTCRtpCodec {
                        mime_type: MIME_TYPE_TELEPHONE_EVENT.to_owned(),
                        clock_rate: 8000,
                        channels: 0,
                        sdp_fmtp_line: "0-15".to_owned(),
                        rtcp_feedback: vec![],
                    },
                    payload_type: TELEPHONE_EVENT_PT,
                },
                RtpCodecKind::Audio,
            )
            .map_err(|e| MediaError::webrtc("register telephone-event", e))?;
        if options.video.mode != VideoMode::Off {
            for &codec in &options.video.codecs {
                media_engine
                    .register_codec(video_codec_parameters(codec), RtpCodecKind::Video)
                    .map_err(|e| MediaError::webrtc("register video codec", e))?;
            }
        }
        let registry = register_default_interceptors(Registry::new(), &mut media_engine)
            .map_err(|e| MediaError::webrtc("register interceptors", e))?;

        let ice = &options.ice;
        let mut settings = SettingEngineBuilder::new().with_multicast_dns_mode(if ice.mdns {
            MulticastDnsMode::QueryOnly
        } else {
            MulticastDnsMode::Disabled
        });
        if !ice.nat_1to1_ips.is_empty() {
            settings = settings.with_nat_1to1_ips(
                ice.nat_1to1_ips.iter().map(|ip| ip.to_string()).collect(),
                RTCIceCandidateType::Host,
            );
        }
        let configuration = RTCConfigurationBuilder::new()
            .with_ice_servers(
                ice.servers
                    .iter()
                    .map(|s| RTCIceServer {
                        urls: s.urls.clone(),
                        username: s.username.clone().unwrap_or_default(),
                        credential: s.credential.clone().unwrap_or_default(),
                    })
                    .collect(),
            )
            .with_ice_transport_policy(match ice.policy {
                IceTransportPolicy::All => RTCIceTransportPolicy::All,
                IceTransportPolicy::Relay => RTCIceTransportPolicy::Relay,
            })
            .with_ice_candidate_pool_size(ice.candidate_pool_size)
            .with_rtcp_mux_policy(RTCRtcpMuxPolicy::Require)
            .build();

        let addresses: Vec<IpAddr> = if ice.gather_addresses.is_empty() {
            vec![IpAddr::from([0, 0, 0, 0])]
        } else {
            ice.gather_addresses.clone()
        };
        let mut udp_addrs = Vec::with_capacity(addresses.len());
        for ip in addresses {
            udp_addrs.push(SocketAddr::new(ip, pick_port(ip, ice.port_range)?));
        }

        let engine = Engine::new(&options);
        let (gather_tx, gather_rx) = watch::channel(GatherProgress::default());
        let (ice_tx, ice_rx) = watch::channel(IceState::New);
        let connected = Arc::new(AtomicBool::new(false));
        let video_codec: SharedVideoCodec = Arc::new(Mutex::new(None));
        let (video_tx, video_rx) = mpsc::channel(64);
        let handler = Arc::new(Handler {
            engine: engine.clone(),
            gather: gather_tx,
            ice: ice_tx,
            connected: connected.clone(),
            video_codec: video_codec.clone(),
            video_frames: video_tx,
        });
        let pc = PeerConnectionBuilder::new()
            .with_configuration(configuration)
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings.build())
            .with_handler(handler)
            .with_udp_addrs(udp_addrs)
            .build()
            .await
            .map_err(|e| MediaError::webrtc("build peer connection", e))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);

        let ssrc: u32 = rand::random();
        let track_id = format!("sipline-audio-{ssrc:08x}");
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "sipline".to_owned(),
            track_id.clone(),
            "audio".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                active: true,
                ..Default::default()
            }],
        )));
        pc.add_track(track.clone() as Arc<dyn TrackLocal>)
            .await
            .map_err(|e| MediaError::webrtc("add audio track", e))?;

        let video_ssrc: u32 = rand::random();
        let video_track = match options.video.mode {
            VideoMode::Off => None,
            VideoMode::SendRecv => {
                let video = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                    "sipline".to_owned(),
                    format!("sipline-video-{video_ssrc:08x}"),
                    "video".to_owned(),
                    RtpCodecKind::Video,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters {
                            ssrc: Some(video_ssrc),
                            ..Default::default()
                        },
                        active: true,
                        ..Default::default()
                    }],
                )));
                pc.add_track(video.clone() as Arc<dyn TrackLocal>)
                    .await
                    .map_err(|e| MediaError::webrtc("add video track", e))?;
                Some(video)
            }
            VideoMode::RecvOnly => {
                pc.add_transceiver_from_kind(
                    RtpCodecKind::Video,
                    Some(RTCRtpTransceiverInit {
                        direction: RTCRtpTransceiverDirection::Recvonly,
                        streams: vec![],
                        send_encodings: vec![],
                    }),
                )
                .await
                .map_err(|e| MediaError::webrtc("add receive-only video", e))?;
                None
            }
        };

        let sender_task = spawn_sender(engine.clone(), track.clone(), ssrc, connected.clone());
        let level_task = spawn_level_task(engine.clone(), options.level_rate_hz);
        Ok(WebRtcMedia {
            pc,
            track,
            track_id,
            engine,
            options,
            gather: gather_rx,
            ice: ice_rx,
            negotiation: tokio::sync::Mutex::new(Negotiation::default()),
            wanted: Mutex::new(Direction::SendRecv),
            tasks: Mutex::new(vec![sender_task, level_task]),
            connected,
            video_track,
            video_codec,
            video_packetizer: tokio::sync::Mutex::new(VideoPacketizer::new(video_ssrc)),
            video_frames: Mutex::new(Some(video_rx)),
        })
    }

    /// The negotiated video codec, when video was negotiated.
    pub fn video_codec(&self) -> Option<VideoCodec> {
        lock(&self.video_codec).map(|(codec, _)| codec)
    }

    /// Takes the stream of received encoded video frames (once; `None` afterwards). Frames
    /// are dropped when the application does not keep up.
    pub fn take_video_frames(&self) -> Option<mpsc::Receiver<VideoFrame>> {
        lock(&self.video_frames).take()
    }

    /// Sends one application-encoded frame (a VP8 frame or an H.264 Annex-B access unit) of
    /// the given display duration.
    pub async fn send_video_frame(
        &self,
        frame: Bytes,
        duration: std::time::Duration,
    ) -> Result<()> {
        self.check_open()?;
        let track = self.video_track.as_ref().ok_or(MediaError::InvalidState {
            operation: "send video frame",
            state: "video is not in send mode".into(),
        })?;
        let (codec, payload_type) = (*lock(&self.video_codec)).ok_or(MediaError::InvalidState {
            operation: "send video frame",
            state: "no video codec negotiated".into(),
        })?;
        if !self.connected.load(Ordering::Relaxed) {
            return Err(MediaError::InvalidState {
                operation: "send video frame",
                state: "not connected".into(),
            });
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
        for transceiver in self.pc.get_transceivers().await {
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
        self.pc
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
        let answer = if answer_is_local { local } else { remote };
        let audio = sdp::negotiated_audio(answer, &self.options.codecs)?;
        let answer_direction = answer.audio().map(|a| a.direction).unwrap_or_default();
        let direction = if answer_is_local {
            answer_direction
        } else {
            answer_direction.reversed()
        };
        let mut receive_map = HashMap::new();
        let mut receive_events = Vec::new();
        for section in [local.audio(), remote.audio()].into_iter().flatten() {
            for (codec, pt) in section.audio_codecs() {
                receive_map.entry(pt).or_insert(codec);
            }
            if let Some((pt, _)) = section.telephone_event(audio.codec.clock_rate()) {
                receive_events.push(pt);
            }
        }
        self.engine.set_negotiated(Negotiated {
            audio,
            direction,
            receive_map,
            receive_events,
        });
        if self.options.video.mode != VideoMode::Off {
            let video = negotiated_video(answer, &self.options.video.codecs);
            tracing::info!(call_id = %self.engine.call_id, ?video, "video negotiated");
            *lock(&self.video_codec) = video;
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
    engine: Arc<Engine>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    connected: Arc<AtomicBool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut state = SendState::new(ssrc);
        let mut interval = tokio::time::interval(FRAME_PERIOD);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reported = false;
        while !engine.closed.load(Ordering::Relaxed) {
            interval.tick().await;
            if !connected.load(Ordering::Relaxed) {
                continue;
            }
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
            .pc
            .create_offer(None)
            .await
            .map_err(|e| MediaError::webrtc("create offer", e))?;
        self.pc
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
        self.pc
            .set_remote_description(description)
            .await
            .map_err(Self::remote_rejected)?;
        self.apply_wanted_direction(remote.audio().map(|a| a.direction))
            .await?;
        let answer = self
            .pc
            .create_answer(None)
            .await
            .map_err(|e| MediaError::webrtc("create answer", e))?;
        self.pc
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
        let same_as_provisional = negotiation.provisional.as_deref() == Some(remote_answer);
        match (kind, negotiation.provisional.as_deref()) {
            (AnswerKind::Provisional, Some(_)) | (AnswerKind::Final, Some(_))
                if same_as_provisional =>
            {
                // A repeated 18x, or the 2xx repeating the early answer (RFC 6337 §3.1.1):
                // already in effect.
                if kind == AnswerKind::Final {
                    negotiation.awaiting_answer = false;
                    negotiation.provisional = None;
                }
                return Ok(());
            }
            (_, Some(_)) => {
                return Err(MediaError::InvalidState {
                    operation: "apply answer",
                    state: "a different early answer is already in effect (a forked early \
                            dialog needs its own session)"
                        .into(),
                });
            }
            (_, None) => {
                // The `rtc` core cannot go from a remote pranswer to the final answer (its ICE
                // transport refuses to start twice), so an early answer is applied as the
                // answer; the 2xx then must repeat it, as SIP requires within a dialog.
                let description = RTCSessionDescription::answer(remote_answer.to_owned())
                    .map_err(Self::remote_rejected)?;
                self.pc
                    .set_remote_description(description)
                    .await
                    .map_err(Self::remote_rejected)?;
                if kind == AnswerKind::Provisional {
                    negotiation.provisional = Some(remote_answer.to_owned());
                } else {
                    negotiation.awaiting_answer = false;
                }
            }
        }
        let local_sdp = self
            .pc
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

    fn direction(&self) -> Direction {
        self.engine.direction().unwrap_or(*lock(&self.wanted))
    }

    fn set_muted(&self, muted: bool) {
        self.engine.muted.store(muted, Ordering::Relaxed);
    }

    fn is_muted(&self) -> bool {
        self.engine.muted.load(Ordering::Relaxed)
    }

    fn set_source(&self, source: Box<dyn PcmSource>) {
        self.engine.set_source(source);
    }

    fn set_sink(&self, sink: Option<Box<dyn PcmSink>>) {
        self.engine.set_sink(sink);
    }

    fn send_dtmf(&self, digits: &str) -> Result<()> {
        self.check_open()?;
        self.engine.queue_dtmf(digits)
    }

    fn events(&self) -> broadcast::Receiver<MediaEvent> {
        self.engine.events.subscribe()
    }

    fn levels(&self) -> broadcast::Receiver<LevelReport> {
        self.engine.levels.subscribe()
    }

    async fn stats(&self) -> MediaStats {
        let mut stats = MediaStats::default();
        self.engine.fill_stats(&mut stats);
        stats.ice_state = *self.ice.borrow();
        let report = self.pc.get_stats(Instant::now(), StatsSelector::None).await;
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
        let _ = self.track.unbind().await;
        let result = self
            .pc
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
