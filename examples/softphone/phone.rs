//! The softphone's event loop: agent events, media sessions and events, timers (hang-up after
//! `--duration`, DTMF once the media is up) and, in interactive mode, typed commands.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use sip_media::MediaEvent;
use sip_ua::driver::{AgentEvents, MediaHandle, UserAgent};
use sip_ua::{CallHandle, DtmfMethod, EndCause, Event};
use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};
use tokio::signal::unix::SignalKind;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::media::{CallMedia, recording_path};
use crate::output::{CallSummary, Printer};

/// How long connecting and the first registration may take before the command gives up.
const READY_LIMIT: Duration = Duration::from_secs(20);
/// How long calls may take to end after an interrupt or `quit`.
const STOP_LIMIT: Duration = Duration::from_secs(5);
/// Pause between the media coming up and the first DTMF digit: RFC 4733 packets sent while
/// the far end's receive path is still starting would be lost.
const DTMF_DELAY: Duration = Duration::from_millis(500);
/// How long `--duration` waits for the media beyond its own time before ending the call.
const MEDIA_GRACE: Duration = Duration::from_secs(10);
/// The status a call gets when this command cannot take it.
const BUSY: u16 = 486;

/// DTMF digits and how to send them.
pub type Dtmf = (String, DtmfMethod);

/// What the command does.
pub enum Mode {
    /// Register, report, unregister.
    Register,
    /// Place one call.
    Call {
        /// Whom to call.
        target: String,
        /// Digits to send once the call is up, and how.
        dtmf: Option<Dtmf>,
        /// Hang up this long after the media flows.
        duration: Option<Duration>,
        /// Where to record the far end.
        record: Option<PathBuf>,
    },
    /// Take incoming calls.
    Answer {
        /// Stop after this many calls.
        count: Option<u32>,
        /// Hang up this long after answering, once the media flows.
        duration: Option<Duration>,
        /// Reject with this status instead of answering.
        reject: Option<u16>,
        /// Where to record (later calls beside it).
        record: Option<PathBuf>,
    },
    /// Commands typed on standard input.
    Interactive,
}

/// One call this command looks after.
#[derive(Default)]
pub(crate) struct CallState {
    pub(crate) incoming: bool,
    pub(crate) answered: bool,
    confirmed: bool,
    media_connected: bool,
    pub(crate) media: Option<CallMedia>,
    record: Option<PathBuf>,
    hangup_after: Option<Duration>,
    hangup_at: Option<Instant>,
    dtmf: Option<Dtmf>,
    dtmf_at: Option<Instant>,
}

/// The running softphone.
pub struct Phone {
    pub(crate) ua: UserAgent,
    events: AgentEvents,
    /// Calls' media sessions as the driver makes them.
    media_ready_tx: mpsc::UnboundedSender<MediaHandle>,
    media_ready: mpsc::UnboundedReceiver<MediaHandle>,
    media_tx: mpsc::UnboundedSender<(CallHandle, MediaEvent)>,
    media_rx: mpsc::UnboundedReceiver<(CallHandle, MediaEvent)>,
    pub(crate) printer: Printer,
    mode: Mode,
    registers: bool,
    pub(crate) default_dtmf: DtmfMethod,
    pub(crate) calls: HashMap<CallHandle, CallState>,
    ready: bool,
    registered: bool,
    /// When the command gives up waiting to be registered (or connected, without
    /// registration).
    ready_deadline: Option<Instant>,
    last_disconnect: Option<String>,
    /// Calls taken by `answer` so far.
    taken: u32,
    /// Problems with calls (did not end normally), for the exit status.
    problems: Vec<String>,
    stop_by: Option<Instant>,
    pub(crate) current: Option<CallHandle>,
    done: Option<Result<(), String>>,
}

/// Whether a call that ended this way ended normally (a person's choice, not an error).
fn normal_end(cause: EndCause) -> bool {
    matches!(
        cause,
        EndCause::LocalBye
            | EndCause::RemoteBye
            | EndCause::LocalCancel
            | EndCause::RemoteCancel
            | EndCause::Rejected
    )
}

/// `486 Busy Here`, or the reason alone when no response came (timeout, transport).
fn with_status(status: Option<u16>, reason: &str) -> String {
    match status {
        Some(status) => format!("{status} {reason}"),
        None => reason.to_owned(),
    }
}

async fn next_line(lines: &mut Option<Lines<BufReader<Stdin>>>) -> Option<String> {
    match lines {
        Some(lines) => match lines.next_line().await {
            Ok(Some(line)) => Some(line),
            // End of input (or unreadable input) means quit.
            Ok(None) | Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

impl Phone {
    /// A phone driving `ua` for `mode`.
    pub fn new(
        ua: UserAgent,
        events: AgentEvents,
        printer: Printer,
        mode: Mode,
        registers: bool,
        default_dtmf: DtmfMethod,
    ) -> Phone {
        let (media_tx, media_rx) = mpsc::unbounded_channel();
        let (media_ready_tx, media_ready) = mpsc::unbounded_channel();
        Phone {
            ua,
            events,
            media_ready_tx,
            media_ready,
            media_tx,
            media_rx,
            printer,
            mode,
            registers,
            default_dtmf,
            calls: HashMap::new(),
            ready: false,
            registered: false,
            ready_deadline: Some(Instant::now() + READY_LIMIT),
            last_disconnect: None,
            taken: 0,
            problems: Vec::new(),
            stop_by: None,
            current: None,
            done: None,
        }
    }

    /// Runs the command to its end, then shuts the agent down. `Err` explains what failed.
    pub async fn run(mut self) -> Result<(), String> {
        if matches!(self.mode, Mode::Register) && !self.registers {
            return Err("registration is switched off in the configuration".to_owned());
        }
        let mut stdin = matches!(self.mode, Mode::Interactive)
            .then(|| BufReader::new(tokio::io::stdin()).lines());
        // Ctrl-C and a service manager's TERM both end the calls first.
        let signal = |kind| {
            tokio::signal::unix::signal(kind).map_err(|e| format!("cannot watch signals: {e}"))
        };
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let outcome = loop {
            let wake = self.next_wake();
            tokio::select! {
                event = self.events.recv() => match event {
                    Some(event) => self.on_event(event).await,
                    None => break Err("the user agent stopped".to_owned()),
                },
                Some(media) = self.media_ready.recv() => self.on_media_ready(media).await,
                Some((call, event)) = self.media_rx.recv() => self.on_media(call, event),
                _ = tokio::time::sleep_until(wake) => self.on_time().await,
                line = next_line(&mut stdin) => match line {
                    Some(line) => self.on_line(&line).await,
                    None => {
                        stdin = None;
                        self.stop().await;
                    }
                },
                _ = interrupt.recv() => {
                    self.printer.note("interrupted", json!({"signal": "INT"}));
                    self.stop().await;
                }
                _ = terminate.recv() => {
                    self.printer.note("interrupted", json!({"signal": "TERM"}));
                    self.stop().await;
                }
            }
            if let Some(outcome) = self.outcome() {
                break outcome;
            }
        };
        let leftover: Vec<CallHandle> = self.calls.keys().copied().collect();
        for call in leftover {
            self.problems
                .push(format!("{call} was still up when the softphone stopped"));
            self.finish_call(call).await;
        }
        self.ua.shutdown().await;
        outcome.and_then(|()| match self.problems.as_slice() {
            [] => Ok(()),
            problems => Err(problems.join("; ")),
        })
    }

    /// The result, once the command is over.
    fn outcome(&mut self) -> Option<Result<(), String>> {
        if let Some(done) = self.done.take() {
            return Some(done);
        }
        let idle = self.calls.is_empty();
        if let Some(stop_by) = self.stop_by {
            return (idle || Instant::now() >= stop_by).then_some(Ok(()));
        }
        match &self.mode {
            Mode::Answer {
                count: Some(count), ..
            } => (idle && self.taken >= *count).then_some(Ok(())),
            _ => None,
        }
    }

    fn next_wake(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        self.calls
            .values()
            .flat_map(|c| [c.hangup_at, c.dtmf_at])
            .chain([self.ready_deadline, self.stop_by])
            .flatten()
            .min()
            .unwrap_or(far)
    }

    /// Hangs up every call and stops once they ended (or after [`STOP_LIMIT`]).
    pub(crate) async fn stop(&mut self) {
        if self.stop_by.is_some() {
            return;
        }
        self.stop_by = Some(Instant::now() + STOP_LIMIT);
        let calls: Vec<CallHandle> = self.calls.keys().copied().collect();
        for call in calls {
            if let Err(e) = self.ua.call_handle(call).hangup().await {
                self.printer
                    .error(&format!("could not hang up {call}: {e}"));
            }
        }
    }

    async fn on_event(&mut self, event: Event) {
        self.printer.event(&event);
        match event {
            Event::TransportConnected { .. } if !self.registers => self.on_ready().await,
            Event::TransportDisconnected { reason, .. } | Event::TransportFailed { reason } => {
                self.last_disconnect = Some(reason)
            }
            Event::Registered { .. } => {
                self.registered = true;
                self.on_ready().await;
            }
            // Before the first registration (or when registering is the command) a failure
            // ends the command; later ones are retried by the agent.
            Event::RegistrationFailed { status, reason, .. }
                if !self.registered || matches!(self.mode, Mode::Register) =>
            {
                self.done = Some(Err(format!(
                    "registration failed: {}",
                    with_status(status, &reason)
                )));
            }
            Event::Unregistered if matches!(self.mode, Mode::Register) => {
                self.done = Some(Ok(()));
            }
            Event::IncomingCall { call, .. } => self.on_incoming(call).await,
            Event::Confirmed { call } => {
                if let Some(state) = self.calls.get_mut(&call) {
                    state.confirmed = true;
                    state.answered = true;
                }
                self.schedule_hangup(call);
                self.schedule_dtmf(call);
            }
            Event::Ended { call, cause, .. } => {
                if !normal_end(cause) && self.calls.contains_key(&call) {
                    self.problems
                        .push(format!("{call} ended: {}", cause.as_str()));
                }
                self.end_call(call).await;
            }
            Event::Failed {
                call,
                status,
                reason,
            } => {
                if self.calls.contains_key(&call) {
                    self.problems
                        .push(format!("{call} failed: {}", with_status(status, &reason)));
                }
                self.end_call(call).await;
            }
            _ => {}
        }
    }

    /// Registered (or connected, without registration): the command can start.
    async fn on_ready(&mut self) {
        if self.ready {
            return;
        }
        self.ready = true;
        self.ready_deadline = None;
        match &self.mode {
            Mode::Register => {
                if let Err(e) = self.ua.unregister(false).await {
                    self.done = Some(Err(format!("could not unregister: {e}")));
                }
            }
            Mode::Call {
                target,
                dtmf,
                duration,
                record,
            } => {
                let (target, dtmf, duration, record) =
                    (target.clone(), dtmf.clone(), *duration, record.clone());
                if let Err(e) = self.place_call(&target, dtmf, duration, record).await {
                    self.done = Some(Err(e));
                }
            }
            Mode::Answer { .. } => self.printer.note("waiting", json!({})),
            Mode::Interactive => self
                .printer
                .note("ready", json!({"help": "type help for the commands"})),
        }
    }

    /// Starts a call and tracks it.
    pub(crate) async fn place_call(
        &mut self,
        target: &str,
        dtmf: Option<Dtmf>,
        duration: Option<Duration>,
        record: Option<PathBuf>,
    ) -> Result<(), String> {
        let call = self
            .ua
            .call(target)
            .await
            .map_err(|e| format!("cannot call {target}: {e}"))?;
        let handle = call.handle();
        self.calls.insert(
            handle,
            CallState {
                record,
                hangup_after: duration,
                dtmf,
                ..CallState::default()
            },
        );
        self.watch_media(handle);
        self.current = Some(handle);
        Ok(())
    }

    async fn on_incoming(&mut self, call: CallHandle) {
        let (duration, reject, record) = match &self.mode {
            Mode::Answer {
                count,
                duration,
                reject,
                record,
            } if count.is_none_or(|c| self.taken < c) && self.stop_by.is_none() => {
                (*duration, *reject, record.clone())
            }
            Mode::Interactive if self.stop_by.is_none() => {
                self.calls.insert(
                    call,
                    CallState {
                        incoming: true,
                        ..CallState::default()
                    },
                );
                self.current = Some(call);
                self.printer
                    .note("hint", json!({"text": "type answer or reject"}));
                return;
            }
            _ => {
                // Not a call this command takes: busy.
                if let Err(e) = self.ua.call_handle(call).reject(BUSY).await {
                    self.printer.error(&format!("could not reject {call}: {e}"));
                }
                return;
            }
        };
        self.taken += 1;
        self.calls.insert(
            call,
            CallState {
                incoming: true,
                record: record.map(|r| recording_path(&r, self.taken)),
                hangup_after: duration,
                ..CallState::default()
            },
        );
        match reject {
            Some(code) => self.reject(call, code).await,
            None => self.answer(call).await,
        }
    }

    /// Answers a tracked incoming call.
    pub(crate) async fn answer(&mut self, call: CallHandle) {
        self.printer.note("answering", json!({"call": call.0}));
        match self.ua.call_handle(call).answer().await {
            Ok(()) => {
                self.watch_media(call);
                if let Some(state) = self.calls.get_mut(&call) {
                    state.answered = true;
                }
            }
            Err(e) => {
                self.problems.push(format!("could not answer {call}: {e}"));
                self.printer.error(&format!("could not answer {call}: {e}"));
            }
        }
    }

    /// Rejects a tracked incoming call.
    pub(crate) async fn reject(&mut self, call: CallHandle, code: u16) {
        self.printer
            .note("rejecting", json!({"call": call.0, "status": code}));
        if let Err(e) = self.ua.call_handle(call).reject(code).await {
            self.problems.push(format!("could not reject {call}: {e}"));
            self.printer.error(&format!("could not reject {call}: {e}"));
        }
    }

    /// Waits (on a task of its own) for the call's media session, which the driver makes
    /// while the call goes on, and hands it to the loop.
    fn watch_media(&self, call: CallHandle) {
        let call = self.ua.call_handle(call);
        let ready = self.media_ready_tx.clone();
        tokio::spawn(async move {
            // An error means the call ended first: there is nothing to watch.
            if let Ok(media) = call.wait_media().await {
                let _ = ready.send(media);
            }
        });
    }

    /// A call's media session exists: watch it, and record it when asked.
    async fn on_media_ready(&mut self, media: MediaHandle) {
        let call = media.call();
        let Some(state) = self.calls.get_mut(&call) else {
            return;
        };
        if state.media.is_some() {
            return;
        }
        match CallMedia::attach(media, state.record.clone(), self.media_tx.clone()) {
            Ok(media) => state.media = Some(media),
            Err(e) => {
                self.problems.push(e.clone());
                self.printer.error(&e);
                if let Err(e) = self.ua.call_handle(call).hangup().await {
                    self.printer
                        .error(&format!("could not hang up {call}: {e}"));
                }
            }
        }
    }

    fn on_media(&mut self, call: CallHandle, event: MediaEvent) {
        match event {
            MediaEvent::Connected => {
                self.printer
                    .note("media-connected", json!({"call": call.0}));
                // ICE restarts report Connected again: the clock starts only once.
                let first = match self.calls.get_mut(&call) {
                    Some(state) => !std::mem::replace(&mut state.media_connected, true),
                    None => false,
                };
                if first {
                    self.schedule_hangup(call);
                }
                self.schedule_dtmf(call);
            }
            MediaEvent::FirstRemoteAudio => self
                .printer
                .note("first-remote-audio", json!({"call": call.0})),
            MediaEvent::Failed(reason) => self
                .printer
                .note("media-failed", json!({"call": call.0, "reason": reason})),
            // Digits come as agent events; the rest is detail.
            _ => {}
        }
    }

    /// Sets when `--duration` ends the call: that long after it is answered and its media
    /// flows, so the time is talk time even when ICE and DTLS are slow; without media, that
    /// long plus [`MEDIA_GRACE`].
    fn schedule_hangup(&mut self, call: CallHandle) {
        if let Some(state) = self.calls.get_mut(&call)
            && let Some(after) = state.hangup_after
            && state.confirmed
        {
            let wait = if state.media_connected {
                after
            } else {
                after + MEDIA_GRACE
            };
            state.hangup_at = Some(Instant::now() + wait);
        }
    }

    /// Sets when the call's DTMF goes out: once the call is confirmed and, for RFC 4733, the
    /// media is up.
    fn schedule_dtmf(&mut self, call: CallHandle) {
        if let Some(state) = self.calls.get_mut(&call)
            && let Some((_, method)) = &state.dtmf
            && state.dtmf_at.is_none()
            && state.confirmed
            && (state.media_connected || *method == DtmfMethod::Info)
        {
            state.dtmf_at = Some(Instant::now() + DTMF_DELAY);
        }
    }

    /// Sends DTMF on a call, reporting the outcome.
    pub(crate) async fn send_dtmf(
        &mut self,
        call: CallHandle,
        digits: &str,
        method: DtmfMethod,
    ) -> Result<(), String> {
        self.ua
            .call_handle(call)
            .send_dtmf(digits, method)
            .await
            .map_err(|e| format!("could not send DTMF {digits} on {call}: {e}"))?;
        self.printer.note(
            "dtmf-sent",
            json!({"call": call.0, "digits": digits, "method": method.as_str()}),
        );
        Ok(())
    }

    async fn on_time(&mut self) {
        let now = Instant::now();
        if self.ready_deadline.is_some_and(|d| d <= now) {
            self.ready_deadline = None;
            let why = self
                .last_disconnect
                .as_deref()
                .map(|r| format!(" (last disconnect: {r})"))
                .unwrap_or_default();
            let what = if self.registers {
                "registered"
            } else {
                "connected"
            };
            self.done = Some(Err(format!(
                "not {what} within {} s{why}",
                READY_LIMIT.as_secs()
            )));
            return;
        }
        let due: Vec<(CallHandle, bool, Option<Dtmf>)> = self
            .calls
            .iter_mut()
            .filter_map(|(call, state)| {
                let hang_up = state.hangup_at.is_some_and(|t| t <= now);
                let dtmf = state.dtmf_at.is_some_and(|t| t <= now);
                if hang_up {
                    state.hangup_at = None;
                }
                let digits = if dtmf {
                    state.dtmf_at = None;
                    state.dtmf.take()
                } else {
                    None
                };
                (hang_up || digits.is_some()).then_some((*call, hang_up, digits))
            })
            .collect();
        for (call, hang_up, digits) in due {
            if let Some((digits, method)) = digits
                && let Err(e) = self.send_dtmf(call, &digits, method).await
            {
                self.problems.push(e.clone());
                self.printer.error(&e);
            }
            if hang_up {
                self.printer.note("hanging-up", json!({"call": call.0}));
                if let Err(e) = self.ua.call_handle(call).hangup().await {
                    self.printer
                        .error(&format!("could not hang up {call}: {e}"));
                }
            }
        }
    }

    /// The call is over: its summary, and the end of a one-call command.
    async fn end_call(&mut self, call: CallHandle) {
        if !self.calls.contains_key(&call) {
            return;
        }
        if let Some(state) = self.calls.get(&call)
            && let Some((digits, _)) = &state.dtmf
        {
            self.problems.push(format!(
                "{call} ended before the DTMF digits {digits} were sent"
            ));
        }
        self.finish_call(call).await;
        if matches!(self.mode, Mode::Call { .. }) && self.calls.is_empty() {
            self.done = Some(Ok(()));
        }
        if self.current == Some(call) {
            self.current = self.calls.keys().max().copied();
        }
    }

    /// Forgets a call and prints its summary.
    async fn finish_call(&mut self, call: CallHandle) {
        let Some(state) = self.calls.remove(&call) else {
            return;
        };
        let summary = match state.media {
            Some(media) => media.finish().await,
            None => CallSummary {
                rx_packets: 0,
                tx_packets: 0,
                rx_level_max_dbfs: sip_media::level::SILENCE_DBFS,
                codec: None,
                recording: None,
            },
        };
        self.printer.summary(call, &summary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_choices_of_people_are_normal_ends() {
        assert!(normal_end(EndCause::RemoteBye));
        assert!(normal_end(EndCause::LocalBye));
        assert!(normal_end(EndCause::Rejected));
        assert!(!normal_end(EndCause::MediaFailed));
        assert!(!normal_end(EndCause::Timeout));
        assert!(!normal_end(EndCause::NoAnswer));
    }
}
