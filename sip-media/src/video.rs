//! Experimental video (like JsSIP's `enableVideo`): VP8 and H.264 negotiation, sending
//! application-encoded frames (VP8 frames, H.264 Annex-B access units) and handing received
//! encoded frames to the application. No codec runs here: frames stay encoded.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc::rtp;
use rtc::rtp::codec::h264::{H264Packet, H264Payloader};
use rtc::rtp::codec::vp8::{Vp8Packet, Vp8Payloader};
use rtc::rtp::packetizer::{Depacketizer, Packetizer, new_packetizer};
use rtc::rtp::sequence::new_random_sequencer;

use crate::sdp::SessionSummary;

/// RTP clock rate of video.
pub const VIDEO_CLOCK_RATE: u32 = 90_000;
/// Payload size limit: leaves room for SRTP and headers in a 1280-byte IPv6 path.
const MTU: usize = 1200;

/// A video codec this crate negotiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// VP8 (RFC 7741).
    Vp8,
    /// H.264 constrained baseline, packetization mode 1 (RFC 6184).
    H264,
}

impl VideoCodec {
    /// Encoding name in `a=rtpmap`.
    pub fn encoding_name(self) -> &'static str {
        match self {
            VideoCodec::Vp8 => "VP8",
            VideoCodec::H264 => "H264",
        }
    }

    /// Payload type this crate offers.
    pub fn default_payload_type(self) -> u8 {
        match self {
            VideoCodec::Vp8 => 96,
            VideoCodec::H264 => 102,
        }
    }

    /// `a=fmtp` parameters offered.
    pub fn fmtp(self) -> &'static str {
        match self {
            VideoCodec::Vp8 => "",
            VideoCodec::H264 => {
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
            }
        }
    }
}

/// Whether and how a session carries video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VideoMode {
    /// Audio only.
    #[default]
    Off,
    /// Send application frames and receive.
    SendRecv,
    /// Receive only (no camera; e.g. a doorbell viewer).
    RecvOnly,
}

/// Video options of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoOptions {
    /// Off, send-receive or receive-only.
    pub mode: VideoMode,
    /// Codecs in order of preference.
    pub codecs: Vec<VideoCodec>,
}

impl Default for VideoOptions {
    fn default() -> Self {
        VideoOptions {
            mode: VideoMode::Off,
            codecs: vec![VideoCodec::Vp8, VideoCodec::H264],
        }
    }
}

/// One received encoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoFrame {
    /// Its codec.
    pub codec: VideoCodec,
    /// RTP timestamp (90 kHz).
    pub rtp_timestamp: u32,
    /// The encoded frame (VP8 frame, or H.264 Annex-B access unit).
    pub data: Bytes,
}

/// The video codec and payload type an answer settled on.
pub(crate) fn negotiated_video(
    answer: &SessionSummary,
    codecs: &[VideoCodec],
) -> Option<(VideoCodec, u8)> {
    let section = answer.video()?;
    section.formats.iter().find_map(|&pt| {
        let (name, rate) = section.codec_of(pt)?;
        let codec = codecs
            .iter()
            .copied()
            .find(|c| c.encoding_name().eq_ignore_ascii_case(&name) && rate == VIDEO_CLOCK_RATE)?;
        Some((codec, pt))
    })
}

/// Turns encoded frames into RTP packets for the negotiated codec.
pub(crate) struct VideoPacketizer {
    ssrc: u32,
    current: Option<(VideoCodec, u8, Box<dyn Packetizer>)>,
}

impl VideoPacketizer {
    pub fn new(ssrc: u32) -> Self {
        VideoPacketizer {
            ssrc,
            current: None,
        }
    }

    pub fn packetize(
        &mut self,
        codec: VideoCodec,
        payload_type: u8,
        frame: &Bytes,
        duration: Duration,
    ) -> Result<Vec<rtp::Packet>, String> {
        let matches =
            matches!(&self.current, Some((c, pt, _)) if *c == codec && *pt == payload_type);
        if !matches {
            let payloader: Box<dyn rtp::packetizer::Payloader> = match codec {
                VideoCodec::Vp8 => Box::new(Vp8Payloader::default()),
                VideoCodec::H264 => Box::new(H264Payloader::default()),
            };
            let packetizer = new_packetizer(
                Instant::now(),
                MTU,
                payload_type,
                self.ssrc,
                payloader,
                Box::new(new_random_sequencer()),
                VIDEO_CLOCK_RATE,
            );
            self.current = Some((codec, payload_type, Box::new(packetizer)));
        }
        let Some((_, _, packetizer)) = self.current.as_mut() else {
            return Err("no packetizer".into());
        };
        let samples = (duration.as_secs_f64() * f64::from(VIDEO_CLOCK_RATE)) as u32;
        packetizer
            .packetize(Instant::now(), frame, samples)
            .map_err(|e| e.to_string())
    }
}

/// Reassembles frames from in-order RTP packets (the marker bit ends a frame). A frame with a
/// gap in sequence numbers is dropped rather than handed on corrupt.
pub(crate) struct FrameAssembler {
    codec: VideoCodec,
    vp8: Vp8Packet,
    h264: H264Packet,
    buffer: BytesMut,
    timestamp: Option<u32>,
    next_sequence: Option<u16>,
    broken: bool,
}

impl FrameAssembler {
    pub fn new(codec: VideoCodec) -> Self {
        FrameAssembler {
            codec,
            vp8: Vp8Packet::default(),
            h264: H264Packet::default(),
            buffer: BytesMut::new(),
            timestamp: None,
            next_sequence: None,
            broken: false,
        }
    }

    pub fn codec(&self) -> VideoCodec {
        self.codec
    }

    pub fn push(&mut self, packet: &rtp::Packet) -> Option<VideoFrame> {
        let header = &packet.header;
        if self.timestamp != Some(header.timestamp) {
            self.buffer.clear();
            self.timestamp = Some(header.timestamp);
            self.broken = false;
        }
        if self
            .next_sequence
            .is_some_and(|s| s != header.sequence_number)
            && !self.buffer.is_empty()
        {
            self.broken = true;
        }
        self.next_sequence = Some(header.sequence_number.wrapping_add(1));
        let part = match self.codec {
            VideoCodec::Vp8 => self.vp8.depacketize(&packet.payload),
            VideoCodec::H264 => self.h264.depacketize(&packet.payload),
        };
        match part {
            Ok(bytes) => self.buffer.extend_from_slice(&bytes),
            Err(_) => self.broken = true,
        }
        if !header.marker {
            return None;
        }
        let data = std::mem::take(&mut self.buffer).freeze();
        self.timestamp = None;
        if self.broken || data.is_empty() {
            return None;
        }
        Some(VideoFrame {
            codec: self.codec,
            rtp_timestamp: header.timestamp,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_frames_survive_packetization() {
        let mut packetizer = VideoPacketizer::new(7);
        let mut assembler = FrameAssembler::new(VideoCodec::Vp8);
        for n in 0..5u8 {
            let frame: Bytes = (0..4000)
                .map(|i| (i as u8).wrapping_mul(n + 1))
                .collect::<Vec<_>>()
                .into();
            let packets = packetizer
                .packetize(VideoCodec::Vp8, 96, &frame, Duration::from_millis(33))
                .unwrap();
            assert!(packets.len() >= 4);
            let mut out = None;
            for p in &packets {
                out = assembler.push(p).or(out);
            }
            assert_eq!(out.unwrap().data, frame);
        }
    }

    #[test]
    fn h264_access_unit_survives_packetization() {
        let mut nal = vec![0u8, 0, 0, 1, 0x65];
        nal.extend((0..3000).map(|i| (i % 251) as u8 + 1));
        let frame = Bytes::from(nal);
        let mut packetizer = VideoPacketizer::new(9);
        let mut assembler = FrameAssembler::new(VideoCodec::H264);
        let packets = packetizer
            .packetize(VideoCodec::H264, 102, &frame, Duration::from_millis(33))
            .unwrap();
        let out = packets
            .iter()
            .filter_map(|p| assembler.push(p))
            .last()
            .unwrap();
        assert_eq!(out.data, frame);
    }

    #[test]
    fn a_lost_packet_drops_the_frame() {
        let mut packetizer = VideoPacketizer::new(7);
        let mut assembler = FrameAssembler::new(VideoCodec::Vp8);
        let frame = Bytes::from(vec![1u8; 5000]);
        let packets = packetizer
            .packetize(VideoCodec::Vp8, 96, &frame, Duration::from_millis(33))
            .unwrap();
        let frames: Vec<_> = packets
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .filter_map(|(_, p)| assembler.push(p))
            .collect();
        assert!(frames.is_empty());
    }
}
