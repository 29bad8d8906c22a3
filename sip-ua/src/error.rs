//! The crate's error type.

use crate::event::CallHandle;

/// Why a command to the user agent could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No transport flow is connected, so nothing can be sent.
    #[error("not connected: no transport flow to send {what} on")]
    NotConnected {
        /// What was to be sent.
        what: &'static str,
    },
    /// The call handle is unknown (it ended or never existed).
    #[error("unknown call {call}")]
    UnknownCall {
        /// The handle.
        call: CallHandle,
    },
    /// The call is in a state where the command makes no sense.
    #[error("call {call}: cannot {action} while {state}")]
    InvalidCallState {
        /// The call.
        call: CallHandle,
        /// The command.
        action: &'static str,
        /// The call's state.
        state: &'static str,
    },
    /// A target or URI that cannot be turned into a SIP URI.
    #[error("invalid target {target:?}: {reason}")]
    InvalidTarget {
        /// The text given.
        target: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A status code outside the range the command allows.
    #[error("invalid status {status} for {action} (allowed {allowed})")]
    InvalidStatus {
        /// The status given.
        status: u16,
        /// The command.
        action: &'static str,
        /// The allowed range.
        allowed: &'static str,
    },
    /// The transport could not be started.
    #[error("transport: {reason}")]
    Transport {
        /// What went wrong.
        reason: String,
    },
    /// The media session failed (making or applying SDP).
    #[error("media: {reason}")]
    Media {
        /// What went wrong.
        reason: String,
    },
    /// The user agent has stopped.
    #[error("the user agent has stopped")]
    Stopped,
    /// A character that is not a DTMF digit.
    #[error("invalid DTMF digit {digit:?} (allowed: 0-9 * # A-D)")]
    InvalidDtmf {
        /// The character.
        digit: char,
    },
    /// Registration is switched off in the configuration (call-only mode).
    #[error("registration is disabled in the configuration")]
    RegistrationDisabled,
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
