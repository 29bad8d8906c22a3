//! Reading, checking and filtering SDP bodies (RFC 4566 / 8866), just as far as media
//! negotiation needs: this crate owns the SDP rather than trusting the WebRTC stack with it.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use crate::error::{MediaError, Result};
use crate::options::AudioCodec;

/// Media direction of an m-line (RFC 3264 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Send and receive.
    #[default]
    SendRecv,
    /// Send only (e.g. we put the call on hold).
    SendOnly,
    /// Receive only (e.g. the far end put us on hold).
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    /// The SDP attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Whether media flows out in this direction.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether media flows in.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The direction as seen from the other end.
    pub fn reversed(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    /// The answer's direction for an offered direction when we want `wanted` (RFC 3264 §6.1).
    pub fn answer_to(offered: Direction, wanted: Direction) -> Direction {
        let send = wanted.sends() && offered.receives();
        let receive = wanted.receives() && offered.sends();
        match (send, receive) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    fn parse(value: &str) -> Option<Direction> {
        match value {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `a=rtpmap` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name as written.
    pub name: String,
    /// Clock rate.
    pub clock_rate: u32,
}

/// One m-line and its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSection {
    /// `audio`, `video`, `application`...
    pub kind: String,
    /// Port (0 = rejected / disabled).
    pub port: u16,
    /// Transport profile, e.g. `UDP/TLS/RTP/SAVPF` or `RTP/AVP`.
    pub protocol: String,
    /// Payload types in preference order.
    pub formats: Vec<u8>,
    /// rtpmaps by payload type (static types may have none).
    pub rtpmaps: HashMap<u8, RtpMap>,
    /// Direction (session-level one when the section has none).
    pub direction: Direction,
    /// `c=` address of the section, or the session's.
    pub connection: Option<IpAddr>,
    /// Whether a DTLS fingerprint applies (here or at session level).
    pub has_fingerprint: bool,
    /// Whether ICE credentials apply (here or at session level).
    pub has_ice_credentials: bool,
    /// `a=rtcp-mux`.
    pub rtcp_mux: bool,
    /// `a=rtcp:` port, when given.
    pub rtcp_port: Option<u16>,
}

impl MediaSection {
    /// Encoding name and clock rate of a payload type (static ones included).
    pub fn codec_of(&self, payload_type: u8) -> Option<(String, u32)> {
        if let Some(map) = self.rtpmaps.get(&payload_type) {
            return Some((map.name.clone(), map.clock_rate));
        }
        match payload_type {
            0 => Some(("PCMU".into(), 8000)),
            8 => Some(("PCMA".into(), 8000)),
            9 => Some(("G722".into(), 8000)),
            _ => None,
        }
    }

    /// Audio codecs of this section that this crate supports, in the section's order, with
    /// their payload types.
    pub fn audio_codecs(&self) -> Vec<(AudioCodec, u8)> {
        self.formats
            .iter()
            .filter_map(|&pt| {
                let (name, rate) = self.codec_of(pt)?;
                Some((AudioCodec::from_rtpmap(&name, rate)?, pt))
            })
            .collect()
    }

    /// Payload type and clock rate of telephone-event, preferring `prefer_rate`.
    pub fn telephone_event(&self, prefer_rate: u32) -> Option<(u8, u32)> {
        let events: Vec<(u8, u32)> = self
            .formats
            .iter()
            .filter_map(|&pt| {
                let (name, rate) = self.codec_of(pt)?;
                name.eq_ignore_ascii_case("telephone-event")
                    .then_some((pt, rate))
            })
            .collect();
        events
            .iter()
            .find(|(_, rate)| *rate == prefer_rate)
            .or_else(|| events.first())
            .copied()
    }

    /// Whether the profile is secure (DTLS-SRTP / SRTP).
    pub fn is_secure(&self) -> bool {
        self.protocol.contains("SAVP")
    }
}

/// What was read from an SDP body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// Media sections in order.
    pub media: Vec<MediaSection>,
}

impl SessionSummary {
    /// The first audio section that is not disabled.
    pub fn audio(&self) -> Option<&MediaSection> {
        self.media.iter().find(|m| m.kind == "audio" && m.port != 0)
    }

    /// Whether the audio is offered over DTLS-SRTP (`UDP/TLS/RTP/SAVPF`): a peer for
    /// [`WebRtcMedia`](crate::WebRtcMedia) rather than [`RtpMedia`](crate::RtpMedia). Lets a
    /// user agent pick the session kind for an incoming offer.
    pub fn is_webrtc(&self) -> bool {
        self.audio().is_some_and(MediaSection::is_secure)
    }

    /// The first video section that is not disabled.
    pub fn video(&self) -> Option<&MediaSection> {
        self.media.iter().find(|m| m.kind == "video" && m.port != 0)
    }
}

fn malformed(line: usize, reason: impl Into<String>) -> MediaError {
    MediaError::MalformedSdp {
        line,
        reason: reason.into(),
    }
}

fn parse_connection(value: &str, line: usize) -> Result<Option<IpAddr>> {
    let mut parts = value.split_whitespace();
    let (_net, _family, address) = (parts.next(), parts.next(), parts.next());
    let address = address.ok_or_else(|| malformed(line, "c= needs three fields"))?;
    // Multicast forms like 224.2.1.1/127 carry a TTL suffix.
    let address = address.split('/').next().unwrap_or(address);
    Ok(address.parse().ok())
}

/// Reads an SDP body. Accepts CRLF or LF line ends; rejects lines that are not `x=value`,
/// a missing `v=` line and m-lines without port, profile and formats.
pub fn parse(sdp: &str) -> Result<SessionSummary> {
    let mut media: Vec<MediaSection> = Vec::new();
    let mut session_direction = Direction::SendRecv;
    let mut session_connection = None;
    let mut session_fingerprint = false;
    let (mut session_ufrag, mut session_pwd) = (false, false);
    let mut media_has: Vec<(bool, bool, bool, bool)> = Vec::new(); // direction, ufrag, pwd, c=
    let mut saw_version = false;

    for (index, raw) in sdp.split('\n').enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let bytes = line.as_bytes();
        if bytes.len() < 2 || bytes[1] != b'=' || !bytes[0].is_ascii_lowercase() {
            return Err(malformed(number, format!("not a `x=value` line: {line:?}")));
        }
        let (kind, value) = (bytes[0], &line[2..]);
        if !saw_version {
            if kind != b'v' || value.trim() != "0" {
                return Err(malformed(number, "the body must start with v=0"));
            }
            saw_version = true;
            continue;
        }
        match kind {
            b'm' => {
                let mut parts = value.split_whitespace();
                let media_kind = parts
                    .next()
                    .ok_or_else(|| malformed(number, "empty m= line"))?;
                let port_text = parts
                    .next()
                    .ok_or_else(|| malformed(number, "m= line without port"))?;
                let port: u16 = port_text
                    .split('/')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| malformed(number, format!("bad port {port_text:?}")))?;
                let protocol = parts
                    .next()
                    .ok_or_else(|| malformed(number, "m= line without profile"))?;
                let formats: Vec<u8> = parts.filter_map(|f| f.parse().ok()).collect();
                media.push(MediaSection {
                    kind: media_kind.to_string(),
                    port,
                    protocol: protocol.to_string(),
                    formats,
                    rtpmaps: HashMap::new(),
                    direction: session_direction,
                    connection: session_connection,
                    has_fingerprint: session_fingerprint,
                    has_ice_credentials: false,
                    rtcp_mux: false,
                    rtcp_port: None,
                });
                media_has.push((false, false, false, false));
            }
            b'c' => {
                let address = parse_connection(value, number)?;
                match (media.last_mut(), media_has.last_mut()) {
                    (Some(section), Some(has)) => {
                        section.connection = address;
                        has.3 = true;
                    }
                    _ => session_connection = address,
                }
            }
            b'a' => {
                let (name, attr_value) = match value.split_once(':') {
                    Some((n, v)) => (n, Some(v)),
                    None => (value, None),
                };
                let in_media = media.last_mut().zip(media_has.last_mut());
                match (name, in_media) {
                    ("fingerprint", None) => session_fingerprint = true,
                    ("ice-ufrag", None) => session_ufrag = true,
                    ("ice-pwd", None) => session_pwd = true,
                    (d, None) if Direction::parse(d).is_some() => {
                        session_direction = Direction::parse(d).unwrap_or_default();
                    }
                    (_, None) => {}
                    ("fingerprint", Some((section, _))) => section.has_fingerprint = true,
                    ("ice-ufrag", Some((_, has))) => has.1 = true,
                    ("ice-pwd", Some((_, has))) => has.2 = true,
                    ("rtcp-mux", Some((section, _))) => section.rtcp_mux = true,
                    ("rtcp", Some((section, _))) => {
                        section.rtcp_port = attr_value
                            .and_then(|v| v.split_whitespace().next())
                            .and_then(|p| p.parse().ok());
                    }
                    ("rtpmap", Some((section, _))) => {
                        let text = attr_value.unwrap_or("");
                        let (pt, encoding) = text
                            .split_once(' ')
                            .ok_or_else(|| malformed(number, format!("bad rtpmap {text:?}")))?;
                        let payload_type: u8 = pt
                            .trim()
                            .parse()
                            .map_err(|_| malformed(number, format!("bad payload type {pt:?}")))?;
                        let mut fields = encoding.trim().split('/');
                        let name = fields.next().unwrap_or("").to_string();
                        let clock_rate: u32 =
                            fields.next().and_then(|r| r.parse().ok()).ok_or_else(|| {
                                malformed(number, format!("bad clock rate in {text:?}"))
                            })?;
                        section.rtpmaps.insert(
                            payload_type,
                            RtpMap {
                                payload_type,
                                name,
                                clock_rate,
                            },
                        );
                    }
                    (d, Some((section, has))) => {
                        if let Some(direction) = Direction::parse(d) {
                            section.direction = direction;
                            has.0 = true;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if !saw_version {
        return Err(malformed(1, "empty SDP body"));
    }
    for (section, has) in media.iter_mut().zip(&media_has) {
        section.has_ice_credentials = (has.1 || session_ufrag) && (has.2 || session_pwd);
        if !has.0 {
            section.direction = session_direction;
        }
    }
    Ok(SessionSummary { media })
}

/// Checks that a remote WebRTC description can be used with `codecs`: an audio section with
/// a secure profile, a fingerprint, ICE credentials and a common codec.
pub fn check_webrtc(summary: &SessionSummary, codecs: &[AudioCodec]) -> Result<()> {
    let audio = summary
        .audio()
        .ok_or_else(|| MediaError::UnusableSdp("no active audio m-line".into()))?;
    if !audio.is_secure() {
        return Err(MediaError::UnusableSdp(format!(
            "audio profile {} is not DTLS-SRTP (plain RTP needs the plain-RTP session)",
            audio.protocol
        )));
    }
    if !audio.has_fingerprint {
        return Err(MediaError::UnusableSdp("no a=fingerprint for DTLS".into()));
    }
    if !audio.has_ice_credentials {
        return Err(MediaError::UnusableSdp("no a=ice-ufrag / a=ice-pwd".into()));
    }
    check_common_codec(audio, codecs)
}

/// Checks that `audio` offers at least one of `codecs`.
pub fn check_common_codec(audio: &MediaSection, codecs: &[AudioCodec]) -> Result<()> {
    if audio.audio_codecs().iter().any(|(c, _)| codecs.contains(c)) {
        Ok(())
    } else {
        let offered: Vec<String> = audio
            .formats
            .iter()
            .map(|&pt| match audio.codec_of(pt) {
                Some((name, rate)) => format!("{name}/{rate}"),
                None => pt.to_string(),
            })
            .collect();
        Err(MediaError::UnusableSdp(format!(
            "no common audio codec: offered [{}], supported [{}]",
            offered.join(", "),
            codecs
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// Removes payload types from the audio m-lines, with their rtpmap, fmtp and rtcp-fb lines.
/// Used to drop `telephone-event` at clock rates other than 8 kHz from a remote offer: the
/// `rtc` core matches codecs without the clock rate and would answer the 48 kHz one twice
/// (see `shared/notes/webrtc-0.21.md`).
pub fn remove_audio_payload_types(sdp: &str, drop: impl Fn(&str, u32) -> bool) -> String {
    let summary = match parse(sdp) {
        Ok(summary) => summary,
        Err(_) => return sdp.to_string(),
    };
    let mut section_index: Option<usize> = None;
    let mut dropped: Vec<u8> = Vec::new();
    let mut out = String::with_capacity(sdp.len());
    for raw in sdp.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\r', '\n']);
        let ending = &raw[line.len()..];
        if let Some(rest) = line.strip_prefix("m=") {
            section_index = Some(section_index.map_or(0, |i| i + 1));
            let section = section_index.and_then(|i| summary.media.get(i));
            dropped = match section {
                Some(s) if s.kind == "audio" => s
                    .formats
                    .iter()
                    .copied()
                    .filter(|&pt| s.codec_of(pt).is_some_and(|(n, r)| drop(&n, r)))
                    .collect(),
                _ => Vec::new(),
            };
            if !dropped.is_empty() {
                let mut fields: Vec<&str> = rest.split(' ').collect();
                let keep_prefix = fields.len().min(3);
                let formats: Vec<&str> = fields
                    .split_off(keep_prefix)
                    .into_iter()
                    .filter(|f| f.parse::<u8>().map_or(true, |pt| !dropped.contains(&pt)))
                    .collect();
                fields.extend(formats);
                out.push_str("m=");
                out.push_str(&fields.join(" "));
                out.push_str(ending);
                continue;
            }
        } else if !dropped.is_empty() {
            let attribute_pt = ["a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"]
                .iter()
                .find_map(|p| line.strip_prefix(p))
                .and_then(|rest| rest.split(' ').next())
                .and_then(|pt| pt.parse::<u8>().ok());
            if attribute_pt.is_some_and(|pt| dropped.contains(&pt)) {
                continue;
            }
        }
        out.push_str(raw);
    }
    out
}

/// Drops `telephone-event` entries whose clock rate is not 8000 when an 8000 one exists.
pub fn filter_remote_offer(sdp: &str) -> String {
    let has_8k_event = parse(sdp)
        .ok()
        .and_then(|s| s.audio().and_then(|a| a.telephone_event(8000)))
        .is_some_and(|(_, rate)| rate == 8000);
    if !has_8k_event {
        return sdp.to_string();
    }
    remove_audio_payload_types(sdp, |name, rate| {
        name.eq_ignore_ascii_case("telephone-event") && rate != 8000
    })
}

/// The outcome of an offer/answer for audio, read from the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiatedAudio {
    /// The codec both ends send (the answer's first supported one).
    pub codec: AudioCodec,
    /// Its payload type.
    pub payload_type: u8,
    /// telephone-event payload type and clock rate, when negotiated.
    pub telephone_event: Option<(u8, u32)>,
}

/// Reads the negotiated audio parameters from an answer (local or remote).
pub fn negotiated_audio(answer: &SessionSummary, codecs: &[AudioCodec]) -> Result<NegotiatedAudio> {
    let audio = answer
        .audio()
        .ok_or_else(|| MediaError::UnusableSdp("the answer has no active audio m-line".into()))?;
    let (codec, payload_type) = audio
        .audio_codecs()
        .into_iter()
        .find(|(c, _)| codecs.contains(c))
        .ok_or_else(|| {
            check_common_codec(audio, codecs)
                .err()
                .unwrap_or_else(|| MediaError::UnusableSdp("no common audio codec".into()))
        })?;
    Ok(NegotiatedAudio {
        codec,
        payload_type,
        telephone_event: audio.telephone_event(codec.clock_rate()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROMIUM_OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0\r\na=fingerprint:sha-256 AB:CD\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\na=sendrecv\r\na=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\na=rtpmap:110 telephone-event/48000\r\n\
a=rtpmap:126 telephone-event/8000\r\n";

    #[test]
    fn reads_a_browser_offer() {
        let summary = parse(CHROMIUM_OFFER).unwrap();
        let audio = summary.audio().unwrap();
        assert_eq!(audio.port, 9);
        assert!(audio.is_secure() && audio.has_fingerprint && audio.has_ice_credentials);
        assert!(audio.rtcp_mux);
        assert_eq!(
            audio.audio_codecs(),
            vec![
                (AudioCodec::Opus, 111),
                (AudioCodec::G722, 9),
                (AudioCodec::Pcmu, 0),
                (AudioCodec::Pcma, 8)
            ]
        );
        assert_eq!(audio.telephone_event(48000), Some((110, 48000)));
        assert_eq!(audio.telephone_event(8000), Some((126, 8000)));
        check_webrtc(&summary, &[AudioCodec::Opus]).unwrap();
        assert!(summary.is_webrtc());
        let plain = CHROMIUM_OFFER.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP");
        assert!(!parse(&plain).unwrap().is_webrtc());
    }

    #[test]
    fn filter_drops_48k_telephone_event_only() {
        let filtered = filter_remote_offer(CHROMIUM_OFFER);
        assert!(filtered.contains("m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 126\r\n"));
        assert!(!filtered.contains("telephone-event/48000"));
        assert!(filtered.contains("a=rtpmap:126 telephone-event/8000\r\n"));
        assert!(filtered.contains("a=fmtp:111 minptime=10"));
        let summary = parse(&filtered).unwrap();
        assert_eq!(
            summary.audio().unwrap().telephone_event(48000),
            Some((126, 8000))
        );
    }

    #[test]
    fn unusable_offers_are_typed_errors() {
        let no_fp = CHROMIUM_OFFER.replace("a=fingerprint:sha-256 AB:CD\r\n", "");
        let err = check_webrtc(&parse(&no_fp).unwrap(), &[AudioCodec::Opus]).unwrap_err();
        assert!(
            err.is_not_acceptable() && err.to_string().contains("fingerprint"),
            "{err}"
        );

        let no_ice = CHROMIUM_OFFER.replace("a=ice-pwd:0123456789012345678901\r\n", "");
        let err = check_webrtc(&parse(&no_ice).unwrap(), &[AudioCodec::Opus]).unwrap_err();
        assert!(err.to_string().contains("ice"), "{err}");

        let plain = CHROMIUM_OFFER.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP");
        let err = check_webrtc(&parse(&plain).unwrap(), &[AudioCodec::Opus]).unwrap_err();
        assert!(err.to_string().contains("RTP/AVP"), "{err}");

        let g722_only = CHROMIUM_OFFER.replace("111 63 9 0 8 13 110 126", "9 13");
        let err = check_webrtc(&parse(&g722_only).unwrap(), &[AudioCodec::Opus]).unwrap_err();
        assert!(err.to_string().contains("no common audio codec"), "{err}");

        let video_only = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
        let err = check_webrtc(&parse(video_only).unwrap(), &[AudioCodec::Opus]).unwrap_err();
        assert!(err.to_string().contains("audio"), "{err}");
    }

    #[test]
    fn malformed_bodies_report_the_line() {
        for (body, line) in [
            ("", 1),
            ("hello", 1),
            ("v=0\r\nm=audio\r\n", 2),
            ("v=0\r\nm=audio x RTP/AVP 0\r\n", 2),
            ("v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0\r\n", 3),
            ("v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:zz PCMU/8000\r\n", 3),
            ("v=0\r\nc=IN\r\n", 2),
            ("o=x\r\nv=0\r\n", 1),
        ] {
            match parse(body) {
                Err(MediaError::MalformedSdp { line: l, .. }) => assert_eq!(l, line, "{body:?}"),
                other => panic!("{body:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn never_panics_on_truncations() {
        for end in 0..CHROMIUM_OFFER.len() {
            if CHROMIUM_OFFER.is_char_boundary(end) {
                let _ = parse(&CHROMIUM_OFFER[..end]);
                let _ = filter_remote_offer(&CHROMIUM_OFFER[..end]);
            }
        }
    }

    #[test]
    fn directions() {
        let held = CHROMIUM_OFFER.replace("a=sendrecv", "a=sendonly");
        assert_eq!(
            parse(&held).unwrap().audio().unwrap().direction,
            Direction::SendOnly
        );
        assert_eq!(
            Direction::answer_to(Direction::SendOnly, Direction::SendRecv),
            Direction::RecvOnly
        );
        assert_eq!(
            Direction::answer_to(Direction::Inactive, Direction::SendRecv),
            Direction::Inactive
        );
        let session_level = "v=0\r\na=recvonly\r\nm=audio 4000 RTP/AVP 0\r\n";
        assert_eq!(
            parse(session_level).unwrap().audio().unwrap().direction,
            Direction::RecvOnly
        );
    }

    #[test]
    fn negotiated_from_answer() {
        let answer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0 126\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:126 telephone-event/8000\r\n";
        let n = negotiated_audio(
            &parse(answer).unwrap(),
            &[AudioCodec::Opus, AudioCodec::Pcmu],
        )
        .unwrap();
        assert_eq!(n.codec, AudioCodec::Pcmu);
        assert_eq!(n.payload_type, 0);
        assert_eq!(n.telephone_event, Some((126, 8000)));
    }
}
