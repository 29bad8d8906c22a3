//! # sip-media
//!
//! Media sessions for SIP calls, driven by the SDP bodies a user agent carries: WebRTC
//! (DTLS-SRTP, ICE, non-trickle) on the `webrtc` crate, with Opus (pure-Rust `opus-rs`,
//! [`OpusOptions`] trading CPU per call against quality), PCMU, PCMA and G.722 encoded and
//! decoded here, RFC 4733 DTMF, call-progress tones and a visualiser feed. A 183's answer
//! followed by a different 2xx answer (forked early dialogs) is handled. Feature
//! `device-audio` adds microphone and speaker through `cpal` (`audio::device`).
//!
//! ```no_run
//! use sip_media::{MediaOptions, MediaSession, WebRtcMedia, tones::{ToneGenerator, ToneSpec}};
//!
//! # async fn call(remote_answer: &str) -> Result<(), sip_media::MediaError> {
//! let media = WebRtcMedia::new(MediaOptions::default()).await?;
//! media.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(1000.0, 0.3))));
//! let offer = media.create_offer().await?; // goes into the INVITE
//! media.apply_answer(remote_answer, sip_media::AnswerKind::Final).await?; // from the 200
//! media.send_dtmf("123#")?;
//! media.close().await?;
//! # Ok(()) }
//! ```
//!
//! The pure parts work without a network:
//!
//! ```
//! use sip_media::dtmf::{DtmfReceiver, EventPayload};
//!
//! let packet = EventPayload { event: 11, end: true, volume: 10, duration: 800 };
//! let mut receiver = DtmfReceiver::new();
//! assert_eq!(receiver.on_packet(1234, &packet.to_bytes()), Some('#'));
//! assert_eq!(receiver.on_packet(1234, &packet.to_bytes()), None); // a repeated end packet
//! ```

pub mod audio;
pub mod dtmf;
mod error;
mod frame_clock;
pub mod level;
mod options;
mod pipeline;
mod plain_rtp;
pub mod sdp;
mod session;
pub mod tones;
pub mod video;
mod webrtc_session;

pub use error::{MediaError, Result};
pub use options::{
    AudioCodec, DtmfOptions, GatheringDeadline, IceOptions, IceServer, IceTransportPolicy,
    MediaOptions, OpusMode, OpusOptions,
};
pub use plain_rtp::RtpMedia;
pub use sdp::Direction;
pub use session::{AnswerKind, IceState, MediaEvent, MediaSession, MediaStats};
pub use webrtc_session::WebRtcMedia;

/// Default RFC 4733 tone duration in milliseconds (JsSIP's default).
pub const DEFAULT_DTMF_DURATION_MS: u32 = 100;
