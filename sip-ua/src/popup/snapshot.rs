//! What a frontend renders, as plain data that serialises to JSON.

use std::time::Duration;

use serde::Serialize;

use crate::event::CallHandle;

/// Number of visualiser bands (SIP Core's analyser: a 32-point FFT, 16 bands).
pub const VISUALISER_BANDS: usize = sip_media::level::BANDS;

/// Everything a popup frontend draws, at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// Increases with every change of the model.
    pub revision: u64,
    /// Whether the configuration has a popup at all (`popup_config: null` turns it off).
    pub enabled: bool,
    /// Whether the popup is open.
    pub open: bool,
    /// Whether it is drawn large (full screen).
    pub large: bool,
    /// The registration indicator.
    pub registration: RegistrationView,
    /// The calls, oldest first.
    pub calls: Vec<CallView>,
    /// The call the popup shows and acts on, if any.
    pub focused_call: Option<u64>,
    /// The last call that ended, with why, until a new call starts.
    pub last_ended: Option<EndedView>,
    /// The action buttons.
    pub buttons: Vec<ButtonView>,
    /// Dial targets: the phonebook (without our own address) and named extensions.
    pub phonebook: Vec<DialEntryView>,
    /// The visualiser feed.
    pub visualiser: VisualiserView,
}

impl Snapshot {
    /// The focused call's view.
    pub fn focused(&self) -> Option<&CallView> {
        let id = self.focused_call?;
        self.calls.iter().find(|c| c.id == id)
    }

    /// The snapshot as JSON text, for web frontends.
    pub fn to_json(&self) -> String {
        // Serialising these plain types cannot fail: every map key is a string and every
        // float is finite (levels are clamped on the way in).
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The registration indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RegistrationView {
    /// Not connected to the server.
    Disconnected,
    /// Connected, not (yet) registered.
    Connected,
    /// Registered.
    Registered,
    /// Our binding was removed.
    Unregistered,
    /// Registration failed.
    Failed {
        /// The final status, if there was one.
        status: Option<u16>,
        /// Why, in words.
        reason: String,
    },
}

/// A call's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallDirectionView {
    /// We were called.
    Incoming,
    /// We called.
    Outgoing,
}

/// A call's state, as SIP Core's popup names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStateView {
    /// No call.
    Idle,
    /// Ringing here.
    Incoming,
    /// Ringing there.
    Outgoing,
    /// Answered, the session being set up.
    Connecting,
    /// Talking.
    Connected,
}

impl CallStateView {
    /// The state's name (`incoming`, `connected` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CallStateView::Idle => "idle",
            CallStateView::Incoming => "incoming",
            CallStateView::Outgoing => "outgoing",
            CallStateView::Connecting => "connecting",
            CallStateView::Connected => "connected",
        }
    }
}

/// One call as the popup shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallView {
    /// The call's handle number.
    pub id: u64,
    /// Incoming or outgoing.
    pub direction: CallDirectionView,
    /// Its state.
    pub state: CallStateView,
    /// Whether we put it on hold.
    pub on_hold: bool,
    /// Whether the peer put it on hold.
    pub held_by_remote: bool,
    /// Whether the callee's phone is ringing (180 received).
    pub ringing: bool,
    /// The peer's URI; `None` when the caller id is hidden.
    pub remote_uri: Option<String>,
    /// The name to show: the extension's or phonebook entry's name, else the display name,
    /// else the user part; `None` when the caller id is hidden.
    pub remote_name: Option<String>,
    /// Whether the caller id is hidden (openHAB `hideCallerId`).
    pub caller_hidden: bool,
    /// The camera entity of the peer's extension (a doorbell camera).
    pub camera_entity: Option<String>,
    /// Time since the call connected, as `m:ss` (`0:00` before).
    pub duration: String,
    /// Whether our microphone is muted.
    pub microphone_muted: bool,
    /// Whether our camera is muted.
    pub camera_muted: bool,
    /// DTMF digits the peer sent during the call.
    pub dtmf_received: String,
}

/// A call that ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndedView {
    /// The call's handle number.
    pub id: u64,
    /// The name that was shown.
    pub remote_name: Option<String>,
    /// `local`, `remote` or `system`.
    pub by: &'static str,
    /// Why (`remote-bye`, `rejected`, `failed` ...).
    pub cause: String,
    /// The failure status, for a failed outgoing call.
    pub status: Option<u16>,
}

/// A popup button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ButtonView {
    /// Its label.
    pub label: String,
    /// Its icon, such as `mdi:door-open`.
    pub icon: Option<String>,
    /// `dtmf` or `service_call`.
    pub kind: &'static str,
    /// Whether pressing it does something now (a DTMF button needs a connected call).
    pub enabled: bool,
}

/// A dial target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DialEntryView {
    /// What is dialled.
    pub number: String,
    /// The name shown, if any.
    pub name: Option<String>,
}

/// Levels of one side of the call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelView {
    /// RMS level in dBFS (-100 for silence).
    pub rms_dbfs: f32,
    /// Peak level in dBFS.
    pub peak_dbfs: f32,
    /// The bands' magnitudes, linear 0..1.
    pub bands: [f32; VISUALISER_BANDS],
}

impl Default for LevelView {
    fn default() -> Self {
        LevelView {
            rms_dbfs: sip_media::level::SILENCE_DBFS,
            peak_dbfs: sip_media::level::SILENCE_DBFS,
            bands: [0.0; VISUALISER_BANDS],
        }
    }
}

/// The visualiser feed: what we send and what we hear.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct VisualiserView {
    /// Our audio (after mute).
    pub local: LevelView,
    /// The peer's audio.
    pub remote: LevelView,
}

/// Formats a call duration as `m:ss` (minutes keep counting past 59: `75:02`).
pub fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// `CallHandle` to the number snapshots use.
pub(crate) fn id(call: CallHandle) -> u64 {
    call.0
}
