//! Media chosen per call: plain RTP for SIP trunks and PBXes (UDP, TCP, TLS), WebRTC for
//! browsers' transports (WS, WSS), and for an incoming offer whatever profile it uses.

use std::sync::Arc;

use async_trait::async_trait;
use sip_media::{MediaOptions, MediaSession, RtpMedia, WebRtcMedia};

use super::media::{MediaContext, MediaFactory};
use crate::flow::Transport;

/// The kind of media session a call gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaProfile {
    /// Plain RTP (`RTP/AVP`, symmetric RTP, no ICE or DTLS): sip-media's [`RtpMedia`].
    PlainRtp,
    /// WebRTC (`UDP/TLS/RTP/SAVPF`, ICE, DTLS-SRTP): sip-media's [`WebRtcMedia`].
    WebRtc,
}

impl MediaProfile {
    /// The profile an SDP offer asks for, from the protocol of its first media line; `None`
    /// when it has none this crate speaks (`RTP/SAVP` with SDES keys, no media line).
    pub fn of_offer(sdp: &str) -> Option<MediaProfile> {
        let proto = sdp
            .lines()
            .find_map(|line| line.trim().strip_prefix("m="))
            .and_then(|media| media.split_whitespace().nth(2))?;
        match proto.to_ascii_uppercase().as_str() {
            "RTP/AVP" | "RTP/AVPF" => Some(MediaProfile::PlainRtp),
            "UDP/TLS/RTP/SAVPF" | "UDP/TLS/RTP/SAVP" | "TCP/DTLS/RTP/SAVPF" | "RTP/SAVPF" => {
                Some(MediaProfile::WebRtc)
            }
            _ => None,
        }
    }

    /// The profile for our own offer on `transport`: WebRTC over WebSockets (browsers and
    /// their gateways), plain RTP over UDP, TCP and TLS; WebRTC when no flow is up.
    pub fn for_transport(transport: Option<Transport>) -> MediaProfile {
        match transport {
            Some(Transport::Udp | Transport::Tcp | Transport::Tls) => MediaProfile::PlainRtp,
            _ => MediaProfile::WebRtc,
        }
    }

    /// The profile for a call in `context`: the offer's when there is one this crate
    /// speaks, the transport's otherwise.
    pub fn choose(context: &MediaContext<'_>) -> MediaProfile {
        context
            .remote_offer
            .and_then(MediaProfile::of_offer)
            .unwrap_or_else(|| MediaProfile::for_transport(context.transport))
    }
}

/// Makes plain RTP or WebRTC sessions, per call (see [`MediaProfile::choose`]): an agent
/// reaching a Fritz!Box over UDP offers `RTP/AVP`, one on a WebSocket offers WebRTC, and an
/// incoming offer is answered in its own profile whatever the transport.
#[derive(Debug, Clone)]
pub struct AutoMediaFactory {
    options: MediaOptions,
}

impl AutoMediaFactory {
    /// A factory creating either kind of session with `options` (codecs, ports, ICE servers;
    /// plain RTP ignores the ICE settings).
    pub fn new(options: MediaOptions) -> AutoMediaFactory {
        AutoMediaFactory { options }
    }
}

#[async_trait]
impl MediaFactory for AutoMediaFactory {
    /// Without a context: a WebRTC session.
    async fn create(&self) -> sip_media::Result<Arc<dyn MediaSession>> {
        self.create_for(MediaContext::default()).await
    }

    async fn create_for(
        &self,
        context: MediaContext<'_>,
    ) -> sip_media::Result<Arc<dyn MediaSession>> {
        let profile = MediaProfile::choose(&context);
        tracing::debug!(?profile, transport = ?context.transport, "media for a new call");
        Ok(match profile {
            MediaProfile::PlainRtp => Arc::new(RtpMedia::new(self.options.clone()).await?),
            MediaProfile::WebRtc => Arc::new(WebRtcMedia::new(self.options.clone()).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_decides_then_the_transport() {
        let avp = "v=0\r\nm=audio 4000 RTP/AVP 0 101\r\n";
        let webrtc = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
        let sdes = "v=0\r\nm=audio 4000 RTP/SAVP 0\r\n";
        assert_eq!(MediaProfile::of_offer(avp), Some(MediaProfile::PlainRtp));
        assert_eq!(MediaProfile::of_offer(webrtc), Some(MediaProfile::WebRtc));
        assert_eq!(MediaProfile::of_offer(sdes), None);
        assert_eq!(MediaProfile::of_offer("v=0\r\n"), None);
        let choose = |transport, offer| MediaProfile::choose(&MediaContext::new(transport, offer));
        assert_eq!(
            choose(Some(Transport::Udp), Some(webrtc)),
            MediaProfile::WebRtc
        );
        assert_eq!(
            choose(Some(Transport::Wss), Some(avp)),
            MediaProfile::PlainRtp
        );
        assert_eq!(choose(Some(Transport::Tls), None), MediaProfile::PlainRtp);
        assert_eq!(
            choose(Some(Transport::Tcp), Some(sdes)),
            MediaProfile::PlainRtp
        );
        assert_eq!(choose(Some(Transport::Ws), None), MediaProfile::WebRtc);
        assert_eq!(choose(None, None), MediaProfile::WebRtc);
    }
}
