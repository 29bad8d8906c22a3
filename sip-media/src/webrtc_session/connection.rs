//! Building a session's peer connection: codecs, interceptors, ICE settings, sockets and
//! tracks. A forked final answer builds a second one with the first one's identity.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rtc::ice::mdns::MulticastDnsMode;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::certificate::CertificateParams;
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_G722, MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_PCMA, MIME_TYPE_PCMU,
    MIME_TYPE_TELEPHONE_EVENT, MIME_TYPE_VP8,
};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, RTCCertificate, RTCConfigurationBuilder,
    RTCIceCandidateType, RTCIceServer, RTCIceTransportPolicy, RTCRtcpMuxPolicy, Registry,
    SettingEngineBuilder, register_default_interceptors,
};

use super::events::Handler;
use crate::error::{MediaError, Result};
use crate::options::{AudioCodec, IceTransportPolicy, MediaOptions};
use crate::video::{VIDEO_CLOCK_RATE, VideoCodec, VideoMode};

/// Pacing of ICE connectivity checks. The `rtc` agent's default is 200 ms, and nominating a
/// pair takes a second round, which made up most of the answer-to-audio time; RFC 8445
/// §14.2's Ta is 50 ms.
const ICE_CHECK_INTERVAL: Duration = Duration::from_millis(50);
/// Checks per candidate pair before it fails: 28 × 50 ms, the `rtc` default's 1.4 s.
const ICE_BINDING_REQUESTS_PER_PAIR: u16 = 28;

/// Payload type this crate offers for telephone-event/8000 (what browsers commonly use).
const TELEPHONE_EVENT_PT: u8 = 126;

/// The ICE credentials a replacement connection takes over from the one whose offer went
/// out, so that the offer still describes it (with the session's certificate and the same
/// socket addresses).
#[derive(Clone)]
pub(super) struct IceCredentials {
    pub ufrag: String,
    pub pwd: String,
}

/// The session's DTLS certificate (ECDSA P-256, what browsers use), made once so every
/// connection of the session presents the fingerprint its offer announced.
pub(super) fn generate_certificate() -> Result<RTCCertificate> {
    let failed = |reason: String| {
        MediaError::webrtc(
            "generate DTLS certificate",
            webrtc::error::Error::Other(reason),
        )
    };
    let provider = rtc::crypto::default_provider().map_err(|e| failed(e.to_string()))?;
    let params =
        CertificateParams::new(vec!["sipline".to_owned()]).map_err(|e| failed(e.to_string()))?;
    RTCCertificate::generate(
        provider.crypto(),
        rtc::crypto::SignatureScheme::EcdsaP256Sha256,
        params,
    )
    .map_err(|e| failed(e.to_string()))
}

/// The local audio (and video) tracks a session sends on whichever connection is current.
pub(super) struct LocalTracks {
    pub audio: Arc<TrackLocalStaticRTP>,
    pub video: Option<Arc<TrackLocalStaticRTP>>,
}

impl LocalTracks {
    /// Tracks with fresh SSRCs for these options.
    pub fn new(options: &MediaOptions) -> (Self, u32, u32) {
        let (ssrc, video_ssrc): (u32, u32) = (rand::random(), rand::random());
        let track = |kind: RtpCodecKind, id: String, ssrc: u32| {
            Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                "sipline".to_owned(),
                id,
                kind.to_string(),
                kind,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        ..Default::default()
                    },
                    active: true,
                    ..Default::default()
                }],
            )))
        };
        let audio = track(
            RtpCodecKind::Audio,
            format!("sipline-audio-{ssrc:08x}"),
            ssrc,
        );
        let video = (options.video.mode == VideoMode::SendRecv).then(|| {
            track(
                RtpCodecKind::Video,
                format!("sipline-video-{video_ssrc:08x}"),
                video_ssrc,
            )
        });
        (LocalTracks { audio, video }, ssrc, video_ssrc)
    }
}

/// The UDP addresses to bind: each gather address with a port from the range (or any).
pub(super) fn udp_addresses(options: &MediaOptions) -> Result<Vec<SocketAddr>> {
    let ice = &options.ice;
    let addresses: Vec<IpAddr> = if ice.gather_addresses.is_empty() {
        vec![IpAddr::from([0, 0, 0, 0])]
    } else {
        ice.gather_addresses.clone()
    };
    let mut udp_addrs = Vec::with_capacity(addresses.len());
    for ip in addresses {
        udp_addrs.push(SocketAddr::new(ip, pick_port(ip, ice.port_range)?));
    }
    Ok(udp_addrs)
}

/// Builds a peer connection (its sockets are bound now) and adds the session's tracks.
pub(super) async fn build(
    options: &MediaOptions,
    handler: Arc<Handler>,
    udp_addrs: Vec<SocketAddr>,
    certificate: &RTCCertificate,
    credentials: Option<&IceCredentials>,
    tracks: &LocalTracks,
) -> Result<Arc<dyn PeerConnection>> {
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
    let mut settings = SettingEngineBuilder::new()
        .with_multicast_dns_mode(if ice.mdns {
            MulticastDnsMode::QueryOnly
        } else {
            MulticastDnsMode::Disabled
        })
        // The `rtc` agent paces checks at 200 ms by default, and nominating a pair takes
        // a second round: most of the answer-to-audio time. RFC 8445 §14.2's Ta is 50 ms;
        // the attempts per pair grow to keep the default 1.4 s before a pair fails.
        .with_ice_connection_attempts(
            Some(ICE_CHECK_INTERVAL),
            Some(ICE_BINDING_REQUESTS_PER_PAIR),
        );
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
        .with_rtcp_mux_policy(RTCRtcpMuxPolicy::Require);

    if let Some(credentials) = credentials {
        settings =
            settings.with_ice_credentials(credentials.ufrag.clone(), credentials.pwd.clone());
    }
    let configuration = configuration
        .with_certificates(vec![certificate.clone()])
        .build();
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
    pc.add_track(tracks.audio.clone() as Arc<dyn TrackLocal>)
        .await
        .map_err(|e| MediaError::webrtc("add audio track", e))?;
    match (&tracks.video, options.video.mode) {
        (Some(video), _) => {
            pc.add_track(video.clone() as Arc<dyn TrackLocal>)
                .await
                .map_err(|e| MediaError::webrtc("add video track", e))?;
        }
        (None, VideoMode::RecvOnly) => {
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
        }
        (None, _) => {}
    }
    Ok(pc)
}

fn codec_parameters(codec: AudioCodec) -> RTCRtpCodecParameters {
    let (mime_type, channels, fmtp) = match codec {
        AudioCodec::Opus => (MIME_TYPE_OPUS, 2, "minptime=10;useinbandfec=1"),
        AudioCodec::Pcmu => (MIME_TYPE_PCMU, 0, ""),
        AudioCodec::Pcma => (MIME_TYPE_PCMA, 0, ""),
        AudioCodec::G722 => (MIME_TYPE_G722, 0, ""),
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
