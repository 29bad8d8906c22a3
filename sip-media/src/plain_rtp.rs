//! [`RtpMedia`]: plain RTP (`RTP/AVP`, RFC 3550/3551) behind the same [`MediaSession`] trait,
//! for PBXes that do not speak WebRTC (a Fritz!Box, Asterisk without WebRTC): the same codecs,
//! DTMF, tones and levels, with symmetric RTP (RFC 4961: we send to where the peer's packets
//! come from) and RTCP sender reports on port+1 or muxed (RFC 5761).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use rtc::rtcp;
use rtc::rtp;
use rtc::shared::marshal::{Marshal, Unmarshal};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::error::{MediaError, Result};
use crate::frame_clock::FrameClock;
use crate::options::{AudioCodec, MediaOptions};
use crate::pipeline::{
    Engine, Negotiated, SendState, engine_session_methods, lock, spawn_level_task,
};
use crate::sdp::{self, Direction, MediaSection, SessionSummary};
use crate::session::{AnswerKind, IceState, MediaEvent, MediaSession, MediaStats};
use crate::video::{VideoCodec, VideoFrame};

/// Payload type offered for telephone-event/8000 over plain RTP (Asterisk's and most PBXes').
const TELEPHONE_EVENT_PT: u8 = 101;
/// Interval between RTCP sender reports (RFC 3550 suggests 5 s minimum).
const RTCP_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
struct Peer {
    /// Where RTP goes; replaced by the source address of the first packet received
    /// (symmetric RTP) when that differs.
    rtp: Option<SocketAddr>,
    rtcp: Option<SocketAddr>,
    latched: bool,
    rtcp_mux: bool,
    /// Middle 32 bits of the NTP time of the peer's last SR, and when it arrived.
    last_sr: Option<(u32, std::time::Instant)>,
    remote_ssrc: Option<u32>,
    round_trip: Option<Duration>,
}

#[derive(Debug, Default)]
struct Negotiation {
    awaiting_answer: bool,
    provisional: Option<String>,
    version: u64,
}

/// A plain-RTP media session for one call.
pub struct RtpMedia {
    engine: Arc<Engine>,
    options: MediaOptions,
    rtp: Arc<UdpSocket>,
    rtcp: Option<Arc<UdpSocket>>,
    address: IpAddr,
    session_id: u64,
    peer: Arc<Mutex<Peer>>,
    negotiation: tokio::sync::Mutex<Negotiation>,
    wanted: Mutex<Direction>,
    connected: Arc<AtomicBool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for RtpMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtpMedia")
            .field("call_id", &self.engine.call_id)
            .field("rtp", &self.rtp.local_addr().ok())
            .finish_non_exhaustive()
    }
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> MediaError {
    let what = what.into();
    move |source| MediaError::Io { what, source }
}

/// Binds an even RTP port and the odd RTCP port above it, inside `range` when given.
async fn bind_pair(
    ip: IpAddr,
    range: Option<(u16, u16)>,
) -> Result<(UdpSocket, Option<UdpSocket>)> {
    let candidates: Vec<u16> = match range {
        Some((low, high)) => (low..=high).filter(|p| p % 2 == 0).collect(),
        None => vec![0; 16],
    };
    for port in candidates {
        let Ok(rtp) = UdpSocket::bind((ip, port)).await else {
            continue;
        };
        let rtp_port = rtp.local_addr().map_err(io_error("RTP socket"))?.port();
        if rtp_port % 2 == 1 || rtp_port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = UdpSocket::bind((ip, rtp_port + 1)).await {
            return Ok((rtp, Some(rtcp)));
        }
    }
    Err(MediaError::Io {
        what: format!("RTP/RTCP port pair on {ip}"),
        source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "no free even/odd port pair"),
    })
}

/// NTP time (RFC 3550 §4) as a 64-bit fixed-point number.
fn ntp_now() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since.as_secs() + 2_208_988_800;
    let fraction = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (seconds << 32) | fraction
}

fn rtpmap_line(codec: AudioCodec, pt: u8) -> String {
    match codec {
        AudioCodec::Opus => format!("a=rtpmap:{pt} opus/48000/2\r\na=fmtp:{pt} useinbandfec=1\r\n"),
        other => format!(
            "a=rtpmap:{pt} {}/{}\r\n",
            other.encoding_name(),
            other.clock_rate()
        ),
    }
}

impl RtpMedia {
    /// Binds the RTP and RTCP sockets (on the first of `options.ice.gather_addresses`, or all
    /// interfaces) and starts the session's tasks. The address put in the SDP is the first
    /// NAT 1:1 address, else the bound address, else the interface that routes to the peer.
    pub async fn new(options: MediaOptions) -> Result<Self> {
        options.validate()?;
        let bind_ip = options
            .ice
            .gather_addresses
            .first()
            .copied()
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let (rtp, rtcp) = bind_pair(bind_ip, options.ice.port_range).await?;
        let address = options.ice.nat_1to1_ips.first().copied().unwrap_or(bind_ip);
        let engine = Engine::new(&options);
        let rtp = Arc::new(rtp);
        let rtcp = rtcp.map(Arc::new);
        let peer = Arc::new(Mutex::new(Peer::default()));
        let connected = Arc::new(AtomicBool::new(false));
        let ssrc: u32 = rand::random();
        let sent = Arc::new(AtomicU64::new(0));
        let mut tasks = vec![
            spawn_sender(
                engine.clone(),
                rtp.clone(),
                peer.clone(),
                ssrc,
                sent.clone(),
            ),
            spawn_receiver(engine.clone(), rtp.clone(), peer.clone(), connected.clone()),
            spawn_level_task(engine.clone(), options.level_rate_hz),
            spawn_rtcp_sender(
                engine.clone(),
                rtp.clone(),
                rtcp.clone(),
                peer.clone(),
                ssrc,
            ),
        ];
        if let Some(rtcp) = &rtcp {
            tasks.push(spawn_rtcp_receiver(
                engine.clone(),
                rtcp.clone(),
                peer.clone(),
            ));
        }
        Ok(RtpMedia {
            engine,
            options,
            rtp,
            rtcp,
            address,
            session_id: rand::random::<u32>().into(),
            peer,
            negotiation: tokio::sync::Mutex::new(Negotiation::default()),
            wanted: Mutex::new(Direction::SendRecv),
            connected,
            tasks: Mutex::new(tasks),
        })
    }

    /// The local RTP address.
    pub fn local_rtp_address(&self) -> Result<SocketAddr> {
        self.rtp.local_addr().map_err(io_error("RTP socket"))
    }

    fn advertised_address(&self, remote: Option<IpAddr>) -> IpAddr {
        if !self.address.is_unspecified() {
            return self.address;
        }
        // Find the interface that routes to the peer: connecting a UDP socket sends nothing.
        let target = remote.unwrap_or(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
            .and_then(|s| s.connect((target, 9)).and_then(|_| s.local_addr()))
            .map(|a| a.ip())
            .unwrap_or(self.address)
    }

    fn build_sdp(
        &self,
        version: u64,
        codecs: &[(AudioCodec, u8)],
        event_pt: Option<u8>,
        direction: Direction,
        rtcp_mux: bool,
        remote: Option<IpAddr>,
    ) -> Result<String> {
        let address = self.advertised_address(remote);
        let family = if address.is_ipv4() { "IP4" } else { "IP6" };
        let port = self.local_rtp_address()?.port();
        let mut formats: Vec<String> = codecs.iter().map(|(_, pt)| pt.to_string()).collect();
        formats.extend(event_pt.map(|pt| pt.to_string()));
        let mut sdp = format!(
            "v=0\r\no=sipline {} {version} IN {family} {address}\r\ns=-\r\nc=IN {family} {address}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP {}\r\n",
            self.session_id,
            formats.join(" ")
        );
        for &(codec, pt) in codecs {
            sdp.push_str(&rtpmap_line(codec, pt));
        }
        if let Some(pt) = event_pt {
            sdp.push_str(&format!(
                "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-15\r\n"
            ));
        }
        sdp.push_str("a=ptime:20\r\n");
        if rtcp_mux {
            sdp.push_str("a=rtcp-mux\r\n");
        } else if self.rtcp.is_some() {
            sdp.push_str(&format!("a=rtcp:{}\r\n", port + 1));
        }
        sdp.push_str(&format!("a={direction}\r\n"));
        Ok(sdp)
    }

    fn check_plain(audio: &MediaSection, codecs: &[AudioCodec]) -> Result<()> {
        if audio.is_secure() || !audio.protocol.starts_with("RTP/AVP") {
            return Err(MediaError::UnusableSdp(format!(
                "audio profile {} is not plain RTP/AVP (WebRTC peers need WebRtcMedia)",
                audio.protocol
            )));
        }
        if audio.connection.is_none() {
            return Err(MediaError::UnusableSdp("no c= address for audio".into()));
        }
        sdp::check_common_codec(audio, codecs)
    }

    fn remote_audio(summary: &SessionSummary) -> Result<&MediaSection> {
        summary
            .audio()
            .ok_or_else(|| MediaError::UnusableSdp("no active audio m-line".into()))
    }

    fn set_peer(&self, audio: &MediaSection, rtcp_mux: bool) {
        let Some(ip) = audio.connection else { return };
        let rtp = SocketAddr::new(ip, audio.port);
        let rtcp = if rtcp_mux {
            rtp
        } else {
            SocketAddr::new(ip, audio.rtcp_port.unwrap_or(audio.port.saturating_add(1)))
        };
        let mut peer = lock(&self.peer);
        // A latched address (symmetric RTP) wins over the SDP unless the SDP changed it.
        if peer.rtp != Some(rtp) || !peer.latched {
            peer.rtp = Some(rtp);
            peer.latched = false;
        }
        peer.rtcp = Some(rtcp);
        peer.rtcp_mux = rtcp_mux;
    }

    fn negotiate(
        &self,
        local: &SessionSummary,
        remote: &SessionSummary,
        answer_is_local: bool,
    ) -> Result<()> {
        let negotiated = Negotiated::from_exchange(local, remote, answer_is_local, &self.options)?;
        self.engine.set_negotiated(negotiated);
        Ok(())
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
    socket: Arc<UdpSocket>,
    peer: Arc<Mutex<Peer>>,
    ssrc: u32,
    sent: Arc<AtomicU64>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut state = SendState::new(ssrc);
        let mut clock = FrameClock::new();
        let mut reported = false;
        while !engine.closed.load(Ordering::Relaxed) {
            let skipped = clock.next_frame().await;
            state.skip_frames(skipped);
            let Some(target) = lock(&peer).rtp else {
                continue;
            };
            for packet in engine.tick(&mut state) {
                let Ok(bytes) = packet.marshal() else {
                    continue;
                };
                match socket.send_to(&bytes, target).await {
                    Ok(_) => {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) if !reported => {
                        tracing::warn!(call_id = %engine.call_id, %target, %error, "RTP send failed");
                        reported = true;
                    }
                    Err(_) => {}
                }
            }
        }
    })
}

fn is_rtcp(datagram: &[u8]) -> bool {
    // RFC 5761 §4: RTCP packet types 192..=223 sit where RTP has marker + payload type.
    datagram.len() >= 2 && (192..=223).contains(&datagram[1])
}

fn spawn_receiver(
    engine: Arc<Engine>,
    socket: Arc<UdpSocket>,
    peer: Arc<Mutex<Peer>>,
    connected: Arc<AtomicBool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 2048];
        while !engine.closed.load(Ordering::Relaxed) {
            let Ok((len, from)) = socket.recv_from(&mut buffer).await else {
                continue;
            };
            let datagram = &buffer[..len];
            if is_rtcp(datagram) {
                handle_rtcp(&engine, &peer, datagram);
                continue;
            }
            let mut bytes = Bytes::copy_from_slice(datagram);
            let Ok(packet) = rtp::Packet::unmarshal(&mut bytes) else {
                tracing::trace!(call_id = %engine.call_id, %from, "not an RTP packet");
                continue;
            };
            {
                let mut peer = lock(&peer);
                // Symmetric RTP: answer to where the media really comes from (NAT).
                if peer.rtp.is_some() && !peer.latched {
                    if peer.rtp != Some(from) {
                        tracing::debug!(call_id = %engine.call_id, %from, "latching RTP to source address");
                    }
                    peer.rtp = Some(from);
                    if peer.rtcp_mux {
                        peer.rtcp = Some(from);
                    }
                    peer.latched = true;
                }
                peer.remote_ssrc = Some(packet.header.ssrc);
            }
            if !connected.swap(true, Ordering::SeqCst) {
                engine.emit(MediaEvent::Connected);
            }
            engine.on_rtp(&packet);
        }
    })
}

fn handle_rtcp(engine: &Engine, peer: &Mutex<Peer>, datagram: &[u8]) {
    let mut bytes = Bytes::copy_from_slice(datagram);
    let Ok(packets) = rtcp::packet::unmarshal(&mut bytes) else {
        tracing::trace!(call_id = %engine.call_id, "undecodable RTCP");
        return;
    };
    let now = std::time::Instant::now();
    let ntp_middle = (ntp_now() >> 16) as u32;
    let mut peer = lock(peer);
    for packet in packets {
        let any = packet.as_any();
        let reports = if let Some(sr) = any.downcast_ref::<rtcp::sender_report::SenderReport>() {
            peer.last_sr = Some(((sr.ntp_time >> 16) as u32, now));
            sr.reports.clone()
        } else if let Some(rr) = any.downcast_ref::<rtcp::receiver_report::ReceiverReport>() {
            rr.reports.clone()
        } else {
            continue;
        };
        for report in reports {
            if report.last_sender_report != 0 {
                // RFC 3550 §6.4.1: RTT = A - LSR - DLSR, in 1/65536 s.
                let rtt = ntp_middle
                    .wrapping_sub(report.last_sender_report)
                    .wrapping_sub(report.delay);
                if rtt < 65_536 * 10 {
                    peer.round_trip = Some(Duration::from_secs_f64(f64::from(rtt) / 65_536.0));
                }
            }
        }
    }
}

fn spawn_rtcp_receiver(
    engine: Arc<Engine>,
    socket: Arc<UdpSocket>,
    peer: Arc<Mutex<Peer>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 2048];
        while !engine.closed.load(Ordering::Relaxed) {
            if let Ok((len, _)) = socket.recv_from(&mut buffer).await {
                handle_rtcp(&engine, &peer, &buffer[..len]);
            }
        }
    })
}

fn spawn_rtcp_sender(
    engine: Arc<Engine>,
    rtp: Arc<UdpSocket>,
    rtcp: Option<Arc<UdpSocket>>,
    peer: Arc<Mutex<Peer>>,
    ssrc: u32,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(RTCP_INTERVAL);
        interval.tick().await;
        while !engine.closed.load(Ordering::Relaxed) {
            interval.tick().await;
            let mut stats = MediaStats::default();
            engine.fill_stats(&mut stats);
            let (target, mux, reports) = {
                let peer = lock(&peer);
                let Some(target) = peer.rtcp else { continue };
                let reports = match peer.remote_ssrc {
                    Some(remote) => vec![rtcp::reception_report::ReceptionReport {
                        ssrc: remote,
                        total_lost: stats.packets_lost.min(0x7f_ffff) as u32,
                        last_sender_report: peer.last_sr.map_or(0, |(lsr, _)| lsr),
                        delay: peer
                            .last_sr
                            .map_or(0, |(_, at)| (at.elapsed().as_secs_f64() * 65_536.0) as u32),
                        ..Default::default()
                    }],
                    None => Vec::new(),
                };
                (target, peer.rtcp_mux, reports)
            };
            let report = rtcp::sender_report::SenderReport {
                ssrc,
                ntp_time: ntp_now(),
                packet_count: stats.packets_sent as u32,
                octet_count: stats.bytes_sent as u32,
                reports,
                ..Default::default()
            };
            let Ok(bytes) = report.marshal() else {
                continue;
            };
            let socket = match (&rtcp, mux) {
                (Some(rtcp), false) => rtcp,
                _ => &rtp,
            };
            if let Err(error) = socket.send_to(&bytes, target).await {
                tracing::debug!(call_id = %engine.call_id, %error, "RTCP send failed");
            }
        }
    })
}

#[async_trait]
impl MediaSession for RtpMedia {
    async fn create_offer(&self) -> Result<String> {
        self.check_open()?;
        let mut negotiation = self.negotiation.lock().await;
        negotiation.version += 1;
        let codecs: Vec<(AudioCodec, u8)> = self
            .options
            .codecs
            .iter()
            .map(|&c| (c, c.default_payload_type()))
            .collect();
        let remote_ip = lock(&self.peer).rtp.map(|a| a.ip());
        let direction = *lock(&self.wanted);
        let sdp = self.build_sdp(
            negotiation.version,
            &codecs,
            Some(TELEPHONE_EVENT_PT),
            direction,
            false,
            remote_ip,
        )?;
        negotiation.awaiting_answer = true;
        negotiation.provisional = None;
        tracing::debug!(target: "sip::wire", call_id = %self.engine.call_id, %sdp, "local SDP offer (RTP/AVP)");
        Ok(sdp)
    }

    async fn create_answer(&self, remote_offer: &str) -> Result<String> {
        self.check_open()?;
        let mut negotiation = self.negotiation.lock().await;
        let remote = sdp::parse(remote_offer)?;
        let audio = Self::remote_audio(&remote)?;
        Self::check_plain(audio, &self.options.codecs)?;
        // Answer with the offer's payload types, in the offer's order (RFC 3264 §6.1).
        let codecs: Vec<(AudioCodec, u8)> = audio
            .audio_codecs()
            .into_iter()
            .filter(|(c, _)| self.options.codecs.contains(c))
            .collect();
        let first_rate = codecs.first().map_or(8000, |(c, _)| c.clock_rate());
        let event_pt = audio
            .telephone_event(first_rate)
            .filter(|&(_, rate)| rate == 8000 || rate == first_rate)
            .map(|(pt, _)| pt);
        let direction = Direction::answer_to(audio.direction, *lock(&self.wanted));
        negotiation.version += 1;
        let sdp = self.build_sdp(
            negotiation.version,
            &codecs,
            event_pt,
            direction,
            audio.rtcp_mux,
            audio.connection,
        )?;
        self.set_peer(audio, audio.rtcp_mux);
        let local = sdp::parse(&sdp)?;
        self.negotiate(&local, &remote, true)?;
        negotiation.awaiting_answer = false;
        negotiation.provisional = None;
        tracing::debug!(target: "sip::wire", call_id = %self.engine.call_id, %sdp, "local SDP answer (RTP/AVP)");
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
        let audio = Self::remote_audio(&remote)?;
        Self::check_plain(audio, &self.options.codecs)?;
        if negotiation.provisional.as_deref() == Some(remote_answer) {
            if kind == AnswerKind::Final {
                negotiation.awaiting_answer = false;
                negotiation.provisional = None;
            }
            return Ok(());
        }
        // Plain RTP can simply re-target: a different final answer (another early dialog won)
        // replaces the early one.
        self.set_peer(audio, audio.rtcp_mux);
        let local_sdp = {
            let codecs: Vec<(AudioCodec, u8)> = self
                .options
                .codecs
                .iter()
                .map(|&c| (c, c.default_payload_type()))
                .collect();
            self.build_sdp(
                negotiation.version,
                &codecs,
                Some(TELEPHONE_EVENT_PT),
                *lock(&self.wanted),
                false,
                audio.connection,
            )?
        };
        let local = sdp::parse(&local_sdp)?;
        self.negotiate(&local, &remote, false)?;
        match kind {
            AnswerKind::Provisional => {
                negotiation.provisional = Some(remote_answer.to_owned());
                self.engine.emit(MediaEvent::EarlyMediaStarted);
            }
            AnswerKind::Final => {
                negotiation.awaiting_answer = false;
                negotiation.provisional = None;
            }
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
        None
    }

    fn take_video_frames(&self) -> Option<tokio::sync::mpsc::Receiver<VideoFrame>> {
        None
    }

    async fn send_video_frame(&self, _frame: Bytes, _duration: Duration) -> Result<()> {
        Err(MediaError::InvalidState {
            operation: "send video frame",
            state: "plain RTP sessions carry audio only".into(),
        })
    }

    async fn stats(&self) -> MediaStats {
        let mut stats = MediaStats::default();
        self.engine.fill_stats(&mut stats);
        let peer = lock(&self.peer);
        stats.round_trip_ms = peer.round_trip.map(|d| d.as_secs_f64() * 1000.0);
        stats.ice_state = if self.connected.load(Ordering::Relaxed) {
            IceState::Connected
        } else {
            IceState::New
        };
        if let (Ok(local), Some(remote)) = (self.rtp.local_addr(), peer.rtp) {
            stats.selected_pair = Some(format!("{local} -> {remote}"));
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
        self.engine.emit(MediaEvent::Closed);
        Ok(())
    }
}

impl Drop for RtpMedia {
    fn drop(&mut self) {
        self.engine.closed.store(true, Ordering::SeqCst);
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}
