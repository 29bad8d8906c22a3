//! A second, different answer to the same offer: the 2xx of another fork after a 183 with
//! SDP (forked early dialogs), or one far end changing its early answer.
//!
//! The `rtc` core applies one remote answer per offer and starts ICE and DTLS once, so:
//! - **Same far end** (same ICE credentials and DTLS fingerprint, e.g. a gateway turning
//!   early `sendonly` into `sendrecv`): the session makes a fresh internal re-offer on the
//!   same connection and applies the new answer to it. Nothing goes on the wire; ICE and DTLS
//!   continue.
//! - **Another far end** (another fork): its ICE agent and DTLS certificate are new, which one
//!   connection cannot take on. The session closes its connection and builds a new one with
//!   the identity the offer announced (ICE credentials, the session's DTLS certificate, the
//!   same UDP sockets' addresses), so the offer that went out in the INVITE still describes
//!   it, then applies the new answer. The forked far end connects to the same address with the same
//!   credentials it was given.

use std::net::SocketAddr;
use std::time::Duration;

use webrtc::media_stream::track_local::TrackLocal;
use webrtc::peer_connection::{PeerConnection, RTCSessionDescription};

use super::WebRtcMedia;
use super::connection::{self, IceCredentials};
use super::events::Handler;
use crate::error::{MediaError, Result};
use crate::pipeline::lock;

/// Attempts to rebind the released sockets (the old connection's driver lets go of them
/// asynchronously) before giving up.
const REBIND_ATTEMPTS: u32 = 20;
const REBIND_PAUSE: Duration = Duration::from_millis(25);

/// The value of the first `a=<name>:` line (session or media level).
fn attribute<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    sdp.lines().find_map(|line| {
        line.trim_end()
            .strip_prefix("a=")?
            .strip_prefix(name)?
            .strip_prefix(':')
            .map(str::trim)
    })
}

/// Who terminates the media of a description: its ICE credentials and DTLS fingerprint.
fn transport_identity(sdp: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    (
        attribute(sdp, "ice-ufrag"),
        attribute(sdp, "ice-pwd"),
        attribute(sdp, "fingerprint"),
    )
}

/// Whether two answers come from the same ICE agent and DTLS endpoint.
pub(super) fn same_far_end(a: &str, b: &str) -> bool {
    transport_identity(a) == transport_identity(b)
}

/// The UDP host candidates' addresses of our own description: the sockets to bind again.
fn host_udp_addresses(sdp: &str) -> Vec<SocketAddr> {
    let mut addresses = Vec::new();
    for line in sdp.lines() {
        let Some(candidate) = line.trim_end().strip_prefix("a=candidate:") else {
            continue;
        };
        // foundation component transport priority address port "typ" type ...
        let fields: Vec<&str> = candidate.split_whitespace().collect();
        if fields.len() < 8 || !fields[2].eq_ignore_ascii_case("udp") || fields[7] != "host" {
            continue;
        }
        if let (Ok(ip), Ok(port)) = (fields[4].parse(), fields[5].parse())
            && !addresses.contains(&SocketAddr::new(ip, port))
        {
            addresses.push(SocketAddr::new(ip, port));
        }
    }
    addresses
}

impl WebRtcMedia {
    /// Applies a different answer from the same far end: re-offer internally, then answer.
    pub(super) async fn reapply_answer(&self, answer: &str) -> Result<()> {
        let pc = self.pc();
        self.apply_wanted_direction(None).await?;
        let offer = pc
            .create_offer(None)
            .await
            .map_err(|e| MediaError::webrtc("create internal re-offer", e))?;
        pc.set_local_description(offer)
            .await
            .map_err(|e| MediaError::webrtc("set internal re-offer", e))?;
        let description =
            RTCSessionDescription::answer(answer.to_owned()).map_err(Self::remote_rejected)?;
        pc.set_remote_description(description)
            .await
            .map_err(Self::remote_rejected)
    }

    /// Applies an answer from another far end on a new connection with the old one's
    /// identity (see the module documentation).
    pub(super) async fn replace_connection(&self, answer: &str) -> Result<()> {
        // Check the answer before tearing anything down.
        let description =
            RTCSessionDescription::answer(answer.to_owned()).map_err(Self::remote_rejected)?;
        let old = self.pc();
        let offer = old
            .local_description()
            .await
            .ok_or(MediaError::InvalidState {
                operation: "apply a forked answer",
                state: "no local offer".into(),
            })?
            .sdp;
        let (Some(ice_ufrag), Some(ice_pwd)) =
            (attribute(&offer, "ice-ufrag"), attribute(&offer, "ice-pwd"))
        else {
            return Err(MediaError::InvalidState {
                operation: "apply a forked answer",
                state: "our offer has no ICE credentials".into(),
            });
        };
        let addresses = host_udp_addresses(&offer);
        if addresses.is_empty() {
            return Err(MediaError::InvalidState {
                operation: "apply a forked answer",
                state: "our offer has no UDP host candidate to take over".into(),
            });
        }
        let credentials = IceCredentials {
            ufrag: ice_ufrag.to_owned(),
            pwd: ice_pwd.to_owned(),
        };
        tracing::info!(
            call_id = %self.engine.call_id,
            ?addresses,
            "final answer from another far end than the early one: replacing the connection"
        );

        // Quiet the old connection first: its closing must not reach the session, and the
        // sender must not write to a track being unbound.
        lock(&self.handler).retire();
        self.shared.connected.set_down();
        let _ = self.tracks.audio.unbind().await;
        if let Some(video) = &self.tracks.video {
            let _ = video.unbind().await;
        }
        if let Err(error) = old.close().await {
            tracing::warn!(call_id = %self.engine.call_id, %error, "closing the early connection");
        }
        drop(old);

        let handler = Handler::new(self.shared.clone());
        let pc = self.rebind(&credentials, &addresses, &handler).await?;
        *lock(&self.handler) = handler;
        *lock(&self.pc) = pc.clone();

        self.apply_wanted_direction(None).await?;
        let offer = pc
            .create_offer(None)
            .await
            .map_err(|e| MediaError::webrtc("create replacement offer", e))?;
        pc.set_local_description(offer)
            .await
            .map_err(|e| MediaError::webrtc("set replacement offer", e))?;
        pc.set_remote_description(description)
            .await
            .map_err(Self::remote_rejected)
    }

    /// Builds the replacement connection on the old sockets' addresses, retrying while the
    /// old driver still holds them.
    async fn rebind(
        &self,
        credentials: &IceCredentials,
        addresses: &[SocketAddr],
        handler: &std::sync::Arc<Handler>,
    ) -> Result<std::sync::Arc<dyn PeerConnection>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match connection::build(
                &self.options,
                handler.clone(),
                addresses.to_vec(),
                &self.certificate,
                Some(credentials),
                &self.tracks,
            )
            .await
            {
                Ok(pc) => return Ok(pc),
                Err(error) if attempt >= REBIND_ATTEMPTS => return Err(error),
                Err(error) => {
                    tracing::debug!(call_id = %self.engine.call_id, %error, attempt, "rebinding media sockets");
                    tokio::time::sleep(REBIND_PAUSE).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        a=fingerprint:sha-256 AA:BB\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
        a=ice-ufrag:abcd\r\na=ice-pwd:secretsecretsecret\r\n\
        a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n\
        a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n\
        a=candidate:2 1 tcp 1671430143 127.0.0.1 9 typ host tcptype active\r\n\
        a=candidate:3 1 udp 1694498815 192.0.2.1 50000 typ srflx raddr 127.0.0.1 rport 40000\r\n";

    #[test]
    fn host_udp_candidates_are_the_sockets_to_rebind() {
        assert_eq!(
            host_udp_addresses(OFFER),
            vec![SocketAddr::from(([127, 0, 0, 1], 40000))]
        );
        assert!(host_udp_addresses("v=0\r\n").is_empty());
    }

    #[test]
    fn far_end_identity_is_ice_credentials_and_fingerprint() {
        let other_direction = OFFER.replace("t=0 0", "t=0 0\r\na=sendonly");
        assert!(same_far_end(OFFER, &other_direction));
        let other_ufrag = OFFER.replace("ice-ufrag:abcd", "ice-ufrag:wxyz");
        assert!(!same_far_end(OFFER, &other_ufrag));
        let other_fingerprint = OFFER.replace("AA:BB", "CC:DD");
        assert!(!same_far_end(OFFER, &other_fingerprint));
        assert_eq!(attribute(OFFER, "ice-pwd"), Some("secretsecretsecret"));
    }
}
