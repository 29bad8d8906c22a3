//! The popup's state machine: user-agent events and user actions in, snapshots and commands
//! out. No I/O and no clock: the caller passes `now`.

use std::time::Instant;

use serde_json::Map;
use sip_config::{ButtonAction, PhoneConfig, PopupButton};
use sip_media::level::{LevelReport, LevelSide};
use tokio::sync::watch;

use super::command::{ActionError, Command, DECLINE_STATUS, MediaKind, ServiceCall};
use super::snapshot::{
    ButtonView, CallDirectionView, CallStateView, CallView, DialEntryView, EndedView, LevelView,
    RegistrationView, Snapshot, VisualiserView, format_duration, id,
};
use crate::event::{CallHandle, DtmfMethod, EndedBy, Event, HoldSide};
use crate::values::uri_user_host;

/// One call the popup tracks.
#[derive(Debug, Clone)]
struct PopupCall {
    handle: CallHandle,
    direction: CallDirectionView,
    state: CallStateView,
    on_hold: bool,
    held_by_remote: bool,
    ringing: bool,
    remote_uri: String,
    remote_name: String,
    camera_entity: Option<String>,
    connected_at: Option<Instant>,
    microphone_muted: bool,
    camera_muted: bool,
    dtmf_received: String,
}

/// The headless call popup: what SIP Core's call popup and openHAB's oh-sipclient show, for
/// any frontend to render. Feed it the user agent's events with
/// [`handle_event`](Self::handle_event), call its actions on user input, execute the
/// [`Command`]s they return, and draw [`snapshot`](Self::snapshot)s (or watch
/// [`changes`](Self::changes)).
#[derive(Debug)]
pub struct PopupModel {
    config: PhoneConfig,
    open: bool,
    registration: RegistrationView,
    calls: Vec<PopupCall>,
    focused: Option<CallHandle>,
    last_ended: Option<EndedView>,
    visualiser: VisualiserView,
    revision: u64,
    changes: watch::Sender<Snapshot>,
    last_published: Option<Snapshot>,
}

impl PopupModel {
    /// A closed popup with no calls, from the phone's configuration (its popup config, or the
    /// openHAB props sip-config resolved into it).
    pub fn new(config: PhoneConfig, now: Instant) -> PopupModel {
        let (changes, _) = watch::channel(Snapshot {
            revision: 0,
            enabled: config.popup.is_some(),
            open: false,
            large: false,
            registration: RegistrationView::Disconnected,
            calls: Vec::new(),
            focused_call: None,
            last_ended: None,
            buttons: Vec::new(),
            phonebook: Vec::new(),
            visualiser: VisualiserView::default(),
        });
        let mut model = PopupModel {
            config,
            open: false,
            registration: RegistrationView::Disconnected,
            calls: Vec::new(),
            focused: None,
            last_ended: None,
            visualiser: VisualiserView::default(),
            revision: 0,
            changes,
            last_published: None,
        };
        model.publish(now);
        model
    }

    /// A stream of snapshots: the receiver sees the latest one after every change (a slow
    /// frontend skips intermediate ones, never the last).
    pub fn changes(&self) -> watch::Receiver<Snapshot> {
        self.changes.subscribe()
    }

    /// The configuration the popup was built from.
    pub fn config(&self) -> &PhoneConfig {
        &self.config
    }

    /// Applies one user-agent event. Returns whether the snapshot changed.
    pub fn handle_event(&mut self, event: &Event, now: Instant) -> bool {
        match event {
            Event::TransportConnected { .. } => {
                if self.registration == RegistrationView::Disconnected {
                    self.registration = RegistrationView::Connected;
                }
            }
            Event::TransportDisconnected { .. } => {
                self.registration = RegistrationView::Disconnected;
            }
            Event::Registered { .. } => self.registration = RegistrationView::Registered,
            Event::Unregistered => self.registration = RegistrationView::Unregistered,
            Event::RegistrationFailed { status, reason, .. } => {
                self.registration = RegistrationView::Failed {
                    status: *status,
                    reason: reason.clone(),
                };
            }
            Event::IncomingCall {
                call,
                remote_uri,
                display_name,
                ..
            } => self.add_call(
                *call,
                CallDirectionView::Incoming,
                remote_uri,
                display_name.as_deref(),
            ),
            Event::OutgoingCall { call, remote_uri } => {
                self.add_call(*call, CallDirectionView::Outgoing, remote_uri, None)
            }
            Event::Ringing { call } | Event::EarlyMedia { call, .. } => {
                if let Some(c) = self.call_mut(*call) {
                    c.ringing = true;
                }
            }
            Event::Accepted { call } => {
                if let Some(c) = self.call_mut(*call)
                    && c.state != CallStateView::Connected
                {
                    c.state = CallStateView::Connecting;
                }
            }
            Event::Confirmed { call } => {
                if let Some(c) = self.call_mut(*call)
                    && c.state != CallStateView::Connected
                {
                    c.state = CallStateView::Connected;
                    c.connected_at = Some(now);
                }
            }
            Event::HoldChanged { call, side, held } => {
                if let Some(c) = self.call_mut(*call) {
                    match side {
                        HoldSide::Local => c.on_hold = *held,
                        _ => c.held_by_remote = *held,
                    }
                }
            }
            Event::DtmfReceived { call, digit, .. } => {
                if let Some(c) = self.call_mut(*call) {
                    c.dtmf_received.push(*digit);
                }
            }
            Event::Ended { call, by, cause } => {
                let by = match by {
                    EndedBy::Local => "local",
                    EndedBy::Remote => "remote",
                    _ => "system",
                };
                self.remove_call(*call, by, cause.as_str().to_owned(), None);
            }
            Event::Failed {
                call,
                status,
                reason,
            } => {
                let _ = reason;
                self.remove_call(*call, "remote", "failed".to_owned(), *status);
            }
            _ => return false,
        }
        self.publish(now)
    }

    /// Applies a level report from the media session (the visualiser feed).
    pub fn handle_levels(&mut self, report: &LevelReport, now: Instant) -> bool {
        let finite = |v: f32, floor: f32| if v.is_finite() { v } else { floor };
        let silence = sip_media::level::SILENCE_DBFS;
        let mut view = LevelView {
            rms_dbfs: finite(report.rms_dbfs, silence),
            peak_dbfs: finite(report.peak_dbfs, silence),
            bands: report.spectrum,
        };
        for band in &mut view.bands {
            *band = finite(*band, 0.0).clamp(0.0, 1.0);
        }
        match report.side {
            LevelSide::Local => self.visualiser.local = view,
            LevelSide::Remote => self.visualiser.remote = view,
        }
        self.publish(now)
    }

    /// Re-publishes when a shown duration changed; call it about once a second.
    pub fn tick(&mut self, now: Instant) -> bool {
        self.publish(now)
    }

    /// The current snapshot.
    pub fn snapshot(&self, now: Instant) -> Snapshot {
        let hide = self.config.ui.hide_caller_id;
        let calls = self
            .calls
            .iter()
            .map(|c| {
                let hidden = hide && c.direction == CallDirectionView::Incoming;
                CallView {
                    id: id(c.handle),
                    direction: c.direction,
                    state: c.state,
                    on_hold: c.on_hold,
                    held_by_remote: c.held_by_remote,
                    ringing: c.ringing,
                    remote_uri: (!hidden).then(|| c.remote_uri.clone()),
                    remote_name: (!hidden).then(|| c.remote_name.clone()),
                    caller_hidden: hidden,
                    camera_entity: c.camera_entity.clone(),
                    duration: format_duration(
                        c.connected_at
                            .map(|t| now.saturating_duration_since(t))
                            .unwrap_or_default(),
                    ),
                    microphone_muted: c.microphone_muted,
                    camera_muted: c.camera_muted,
                    dtmf_received: c.dtmf_received.clone(),
                }
            })
            .collect();
        let connected = self
            .focused_call()
            .is_some_and(|c| c.state == CallStateView::Connected);
        let buttons = self
            .buttons()
            .iter()
            .map(|b| {
                let (kind, enabled) = match &b.action {
                    ButtonAction::Dtmf { .. } => ("dtmf", connected),
                    _ => ("service_call", true),
                };
                ButtonView {
                    label: b.label.clone(),
                    icon: b.icon.clone(),
                    kind,
                    enabled,
                }
            })
            .collect();
        Snapshot {
            revision: self.revision,
            enabled: self.config.popup.is_some(),
            open: self.open,
            large: self.config.popup.as_ref().is_some_and(|p| p.large),
            registration: self.registration.clone(),
            calls,
            focused_call: self.focused.map(id),
            last_ended: self.last_ended.clone(),
            buttons,
            phonebook: self.dial_entries(),
            visualiser: self.visualiser.clone(),
        }
    }

    /// Opens the popup (the header button).
    pub fn open(&mut self, now: Instant) {
        if self.config.popup.is_some() {
            self.open = true;
        }
        self.publish(now);
    }

    /// Closes the popup.
    pub fn close(&mut self, now: Instant) {
        self.open = false;
        self.publish(now);
    }

    /// Shows another call (call waiting).
    pub fn focus(&mut self, call: CallHandle, now: Instant) -> Result<(), ActionError> {
        if self.call(call).is_none() {
            return Err(ActionError::UnknownCall { call });
        }
        self.focused = Some(call);
        self.publish(now);
        Ok(())
    }

    /// Answers the shown incoming call.
    pub fn answer(&mut self, now: Instant) -> Result<Command, ActionError> {
        let call = self.focused_in("answer", &[CallStateView::Incoming])?;
        if let Some(c) = self.call_mut(call) {
            c.state = CallStateView::Connecting;
        }
        self.publish(now);
        Ok(Command::Answer { call })
    }

    /// Declines the shown incoming call.
    pub fn decline(&mut self, now: Instant) -> Result<Command, ActionError> {
        let call = self.focused_in("decline", &[CallStateView::Incoming])?;
        self.publish(now);
        Ok(Command::Reject {
            call,
            status: DECLINE_STATUS,
        })
    }

    /// Hangs up the shown call (cancels it while it rings there).
    pub fn hangup(&mut self, now: Instant) -> Result<Command, ActionError> {
        let call = self.focused_in(
            "hang up",
            &[
                CallStateView::Outgoing,
                CallStateView::Connecting,
                CallStateView::Connected,
            ],
        )?;
        self.publish(now);
        Ok(Command::Hangup { call })
    }

    /// Mutes or unmutes the microphone or camera of the shown call.
    pub fn set_muted(
        &mut self,
        kind: MediaKind,
        muted: bool,
        now: Instant,
    ) -> Result<Command, ActionError> {
        let call = self.focused.ok_or(ActionError::NoCall { action: "mute" })?;
        if kind == MediaKind::Camera && !self.config.media.video {
            return Err(ActionError::NoVideo { call });
        }
        if let Some(c) = self.call_mut(call) {
            match kind {
                MediaKind::Microphone => c.microphone_muted = muted,
                MediaKind::Camera => c.camera_muted = muted,
            }
        }
        self.publish(now);
        Ok(Command::SetMuted { call, kind, muted })
    }

    /// Dials a target typed by the user (or an extension number).
    pub fn dial(&mut self, target: &str, now: Instant) -> Result<Command, ActionError> {
        let target = target.trim();
        if target.is_empty() {
            return Err(ActionError::Empty {
                action: "dial",
                what: "the target",
            });
        }
        self.publish(now);
        Ok(Command::Dial {
            target: target.to_owned(),
        })
    }

    /// Dials the phonebook entry at `index` of [`Snapshot::phonebook`].
    pub fn dial_entry(&mut self, index: usize, now: Instant) -> Result<Command, ActionError> {
        let entry =
            self.dial_entries()
                .into_iter()
                .nth(index)
                .ok_or(ActionError::UnknownTarget {
                    what: "phonebook entry",
                    key: index.to_string(),
                })?;
        self.dial(&entry.number, now)
    }

    /// Dials a configured extension by its number.
    pub fn dial_extension(&mut self, number: &str, now: Instant) -> Result<Command, ActionError> {
        if self.config.extension(number).is_none() {
            return Err(ActionError::UnknownTarget {
                what: "extension",
                key: number.to_owned(),
            });
        }
        self.dial(number, now)
    }

    /// Sends DTMF digits in the shown call with the configured method and timing (the dial
    /// pad during a call).
    pub fn send_digits(&mut self, digits: &str, now: Instant) -> Result<Command, ActionError> {
        if digits.is_empty() {
            return Err(ActionError::Empty {
                action: "send DTMF",
                what: "the digit string",
            });
        }
        let call = self.focused_in("send DTMF in", &[CallStateView::Connected])?;
        self.publish(now);
        let dtmf = &self.config.dtmf;
        Ok(Command::SendDtmf {
            call,
            digits: digits.to_owned(),
            method: match dtmf.method {
                sip_config::DtmfMethod::Rfc4733 => DtmfMethod::Rfc4733,
                _ => DtmfMethod::Info,
            },
            duration_ms: dtmf.duration_ms,
            inter_tone_gap_ms: dtmf.inter_tone_gap_ms,
        })
    }

    /// Presses the button at `index`: a DTMF button sends its digits in the shown call, a
    /// service-call button yields a [`ServiceCall`] for the host's
    /// [`ServiceCallHandler`](super::ServiceCallHandler).
    pub fn press_button(&mut self, index: usize, now: Instant) -> Result<Command, ActionError> {
        let buttons = self.buttons();
        let button = buttons.get(index).ok_or(ActionError::NoSuchButton {
            index,
            count: buttons.len(),
        })?;
        match &button.action {
            ButtonAction::Dtmf { digits } => {
                let digits = digits.clone();
                self.send_digits(&digits, now)
            }
            ButtonAction::ServiceCall {
                domain,
                service,
                data,
            } => Ok(Command::ServiceCall(ServiceCall {
                domain: domain.clone(),
                service: service.clone(),
                data: data
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Map<_, _>>(),
            })),
            _ => Err(ActionError::NoSuchButton {
                index,
                count: buttons.len(),
            }),
        }
    }

    fn buttons(&self) -> &[PopupButton] {
        self.config
            .popup
            .as_ref()
            .map(|p| p.buttons.as_slice())
            .unwrap_or_default()
    }

    fn dial_entries(&self) -> Vec<DialEntryView> {
        let own = self.config.directory.own_address.as_deref();
        let mut entries: Vec<DialEntryView> = self
            .config
            .directory
            .phonebook
            .iter()
            .filter(|e| Some(e.number.as_str()) != own)
            .map(|e| DialEntryView {
                number: e.number.clone(),
                name: e.name.clone(),
            })
            .collect();
        for ext in &self.config.directory.extensions {
            if ext.name.is_some() && !entries.iter().any(|e| e.number == ext.number) {
                entries.push(DialEntryView {
                    number: ext.number.clone(),
                    name: ext.name.clone(),
                });
            }
        }
        entries
    }

    fn call(&self, call: CallHandle) -> Option<&PopupCall> {
        self.calls.iter().find(|c| c.handle == call)
    }

    fn call_mut(&mut self, call: CallHandle) -> Option<&mut PopupCall> {
        self.calls.iter_mut().find(|c| c.handle == call)
    }

    fn focused_call(&self) -> Option<&PopupCall> {
        self.call(self.focused?)
    }

    fn focused_in(
        &self,
        action: &'static str,
        states: &[CallStateView],
    ) -> Result<CallHandle, ActionError> {
        let call = self.focused_call().ok_or(ActionError::NoCall { action })?;
        if states.contains(&call.state) {
            Ok(call.handle)
        } else {
            Err(ActionError::WrongState {
                action,
                call: call.handle,
                state: call.state.as_str(),
            })
        }
    }

    fn add_call(
        &mut self,
        handle: CallHandle,
        direction: CallDirectionView,
        remote_uri: &str,
        display_name: Option<&str>,
    ) {
        if self.call(handle).is_some() {
            return;
        }
        let (user, host) = uri_user_host(remote_uri).unwrap_or((None, remote_uri));
        let user = user.unwrap_or(host);
        let extension = self.config.extension(user);
        let phonebook_name = self
            .config
            .directory
            .phonebook
            .iter()
            .find(|e| {
                let number = e.number.trim();
                number == user
                    || number == remote_uri
                    || uri_user_host(number) == Some((Some(user), host))
            })
            .and_then(|e| e.name.clone());
        let remote_name = extension
            .and_then(|e| e.name.clone())
            .or(phonebook_name)
            .or_else(|| display_name.filter(|d| !d.is_empty()).map(str::to_owned))
            .unwrap_or_else(|| user.to_owned());
        let state = match direction {
            CallDirectionView::Incoming => CallStateView::Incoming,
            CallDirectionView::Outgoing => CallStateView::Outgoing,
        };
        self.calls.push(PopupCall {
            handle,
            direction,
            state,
            on_hold: false,
            held_by_remote: false,
            ringing: false,
            remote_uri: remote_uri.to_owned(),
            remote_name,
            camera_entity: extension.and_then(|e| e.camera_entity.clone()),
            connected_at: None,
            microphone_muted: false,
            camera_muted: false,
            dtmf_received: String::new(),
        });
        self.last_ended = None;
        if self.focused.is_none() {
            self.focused = Some(handle);
        }
        if self.config.popup.as_ref().is_some_and(|p| p.auto_open) {
            self.open = true;
        }
    }

    fn remove_call(
        &mut self,
        handle: CallHandle,
        by: &'static str,
        cause: String,
        status: Option<u16>,
    ) {
        let Some(pos) = self.calls.iter().position(|c| c.handle == handle) else {
            return;
        };
        let call = self.calls.remove(pos);
        self.last_ended = Some(EndedView {
            id: id(handle),
            remote_name: Some(call.remote_name).filter(|_| {
                !(self.config.ui.hide_caller_id && call.direction == CallDirectionView::Incoming)
            }),
            by,
            cause,
            status,
        });
        if self.focused == Some(handle) {
            self.focused = self.calls.last().map(|c| c.handle);
        }
        if self.calls.is_empty() {
            self.visualiser = VisualiserView::default();
            if self.config.popup.as_ref().is_some_and(|p| p.auto_open) {
                self.open = false;
            }
        }
    }

    /// Publishes a snapshot when it differs from the last one; returns whether it did.
    fn publish(&mut self, now: Instant) -> bool {
        let mut snapshot = self.snapshot(now);
        if let Some(last) = &self.last_published {
            snapshot.revision = last.revision;
            if *last == snapshot {
                return false;
            }
        }
        self.revision += 1;
        snapshot.revision = self.revision;
        self.changes.send_replace(snapshot.clone());
        self.last_published = Some(snapshot);
        true
    }
}
