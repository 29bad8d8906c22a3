//! What the popup asks the host to do: commands for the user agent, and service calls for
//! the home-automation system.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::event::{CallHandle, DtmfMethod};

/// The status a declined call is rejected with: 480, as JsSIP's `terminate()` (and so SIP
/// Core's and openHAB's popups) sends.
pub const DECLINE_STATUS: u16 = 480;

/// Which local media a mute action is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MediaKind {
    /// The microphone.
    Microphone,
    /// The camera.
    Camera,
}

/// Something the host must carry out on the user agent (or hand to the home-automation
/// system) after a popup action. The model has already updated its own state.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// Answer the incoming call.
    Answer {
        /// The call.
        call: CallHandle,
    },
    /// Reject the incoming call.
    Reject {
        /// The call.
        call: CallHandle,
        /// The final status ([`DECLINE_STATUS`]).
        status: u16,
    },
    /// End the call (BYE, or CANCEL before an answer).
    Hangup {
        /// The call.
        call: CallHandle,
    },
    /// Mute or unmute local media of the call.
    SetMuted {
        /// The call.
        call: CallHandle,
        /// Microphone or camera.
        kind: MediaKind,
        /// Muted after the command.
        muted: bool,
    },
    /// Start a call.
    Dial {
        /// The target as configured (`101`, `sip:door@pbx`); the user agent normalises it.
        target: String,
    },
    /// Send DTMF digits in the call.
    SendDtmf {
        /// The call.
        call: CallHandle,
        /// Digits from `0-9A-D#*` and `,` (a pause).
        digits: String,
        /// How the digits travel.
        method: DtmfMethod,
        /// Tone length in milliseconds.
        duration_ms: u32,
        /// Pause between tones in milliseconds.
        inter_tone_gap_ms: u32,
    },
    /// Perform a home-automation service call (a `service_call` button).
    ServiceCall(ServiceCall),
}

/// A Home Assistant style service call: `domain.service` with its data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceCall {
    /// The service domain, such as `lock`.
    pub domain: String,
    /// The service, such as `unlock`.
    pub service: String,
    /// The service data, such as `{"entity_id": "lock.front_door"}`.
    pub data: Map<String, Value>,
}

/// Why a service call failed, as the handler reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service call {domain}.{service} failed: {reason}")]
pub struct ServiceCallError {
    /// The service domain.
    pub domain: String,
    /// The service.
    pub service: String,
    /// What went wrong (never a token).
    pub reason: String,
}

/// Performs the service calls of `service_call` buttons; the host application implements it
/// (the `home-assistant` adapter does, over Home Assistant's REST API).
#[async_trait]
pub trait ServiceCallHandler: Send + Sync {
    /// Performs one service call.
    async fn call_service(&self, call: &ServiceCall) -> Result<(), ServiceCallError>;
}

/// Why a popup action could not be taken. The model is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// The action needs a call and the popup shows none.
    #[error("cannot {action}: there is no call")]
    NoCall {
        /// The action.
        action: &'static str,
    },
    /// The shown call is in a state where the action makes no sense.
    #[error("cannot {action} {call} while it is {state}")]
    WrongState {
        /// The action.
        action: &'static str,
        /// The call.
        call: CallHandle,
        /// Its state.
        state: &'static str,
    },
    /// No button has this index.
    #[error("no button {index} (the popup has {count})")]
    NoSuchButton {
        /// The index asked for.
        index: usize,
        /// How many buttons there are.
        count: usize,
    },
    /// No phonebook entry or extension has this index or number.
    #[error("no {what} {key:?} to dial")]
    UnknownTarget {
        /// `phonebook entry` or `extension`.
        what: &'static str,
        /// The index or number asked for.
        key: String,
    },
    /// The call handle is not one the popup knows.
    #[error("unknown call {call}")]
    UnknownCall {
        /// The handle.
        call: CallHandle,
    },
    /// An empty dial target or digit string.
    #[error("cannot {action}: {what} is empty")]
    Empty {
        /// The action.
        action: &'static str,
        /// What is empty.
        what: &'static str,
    },
    /// The camera cannot be muted in an audio-only call.
    #[error("cannot mute the camera: {call} has no video")]
    NoVideo {
        /// The call.
        call: CallHandle,
    },
}
