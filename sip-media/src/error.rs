//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong in a media session.
///
/// SDP variants are what a user agent turns into `488 Not Acceptable Here`: see
/// [`MediaError::is_not_acceptable`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The remote SDP could not be read at all.
    #[error("malformed SDP at line {line}: {reason}")]
    MalformedSdp {
        /// 1-based line number in the SDP body.
        line: usize,
        /// What was wrong with it.
        reason: String,
    },
    /// The remote SDP is well formed but cannot be used (no audio, no common codec, no
    /// fingerprint, no ICE credentials, unsupported profile).
    #[error("unusable SDP: {0}")]
    UnusableSdp(String),
    /// An operation was called in a state where it makes no sense (for example applying an
    /// answer while no offer is outstanding).
    #[error("invalid state for {operation}: {state}")]
    InvalidState {
        /// The operation that was attempted.
        operation: &'static str,
        /// The state the session was in.
        state: String,
    },
    /// The WebRTC stack reported an error.
    #[error("WebRTC {operation} failed: {source}")]
    WebRtc {
        /// What was being done.
        operation: &'static str,
        /// The error from the `webrtc` crate.
        #[source]
        source: webrtc::error::Error,
    },
    /// A codec could not be set up or failed on a frame.
    #[error("codec {codec}: {reason}")]
    Codec {
        /// The codec's name.
        codec: &'static str,
        /// What failed.
        reason: String,
    },
    /// A WAV file could not be read or written.
    #[error("WAV file {path}: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// The error from `hound`.
        #[source]
        source: hound::Error,
    },
    /// A socket could not be opened or used.
    #[error("I/O on {what}: {source}")]
    Io {
        /// Which socket or file.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An option was out of range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option's name.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A DTMF string held a character that is not a DTMF digit.
    #[error("invalid DTMF character {character:?} at position {position}")]
    InvalidDtmf {
        /// The character.
        character: char,
        /// Its 0-based position in the string.
        position: usize,
    },
    /// The session was closed.
    #[error("media session is closed")]
    Closed,
    /// No audio device has the requested name (feature `device-audio`).
    #[error("no audio {direction} device named {name:?}; available: {}", available.join(", "))]
    NoSuchAudioDevice {
        /// `input` or `output`.
        direction: &'static str,
        /// The name asked for.
        name: String,
        /// The names of the devices that exist for that direction.
        available: Vec<String>,
    },
    /// An audio device could not be listed, opened or started (feature `device-audio`).
    #[error("audio device {device:?}: {reason}")]
    AudioDevice {
        /// The device's name (empty when listing failed).
        device: String,
        /// What the audio system reported.
        reason: String,
    },
}

impl MediaError {
    /// Whether a user agent should answer the offer that caused this error with
    /// `488 Not Acceptable Here`.
    pub fn is_not_acceptable(&self) -> bool {
        matches!(
            self,
            MediaError::MalformedSdp { .. } | MediaError::UnusableSdp(_)
        )
    }

    pub(crate) fn webrtc(operation: &'static str, source: webrtc::error::Error) -> Self {
        MediaError::WebRtc { operation, source }
    }
}

/// Result alias of this crate.
pub type Result<T, E = MediaError> = std::result::Result<T, E>;
