//! # sip-media
//!
//! Media sessions for SIP calls (work in progress): WebRTC on the `webrtc` crate and plain RTP,
//! driven by SDP offer/answer, with Opus/G.711, RFC 4733 DTMF, tones and a visualiser feed.
//!
//! ```
//! assert_eq!(sip_media::DEFAULT_DTMF_DURATION_MS, 100);
//! ```

/// Default RFC 4733 tone duration in milliseconds (JsSIP's default).
pub const DEFAULT_DTMF_DURATION_MS: u32 = 100;
