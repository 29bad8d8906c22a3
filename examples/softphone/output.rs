//! What the softphone prints: one line per event, as JSON (`--json`) or as text.

use std::io::Write;

use serde_json::{Value, json};
use sip_ua::state_item::StateItem;
use sip_ua::{EndedBy, Event, HoldSide};

/// What one finished call looked like, printed as `call-summary`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSummary {
    /// RTP packets received.
    pub rx_packets: u64,
    /// RTP packets sent.
    pub tx_packets: u64,
    /// The loudest far-end audio, RMS over one level period, in dBFS (-100 for silence).
    pub rx_level_max_dbfs: f32,
    /// The negotiated audio codec, `None` when media never started.
    pub codec: Option<String>,
    /// Where the far end's audio was recorded.
    pub recording: Option<String>,
}

/// Prints events to stdout and keeps the openHAB-style state string.
#[derive(Debug)]
pub struct Printer {
    json: bool,
    state: StateItem,
}

fn ended_by(by: EndedBy) -> &'static str {
    match by {
        EndedBy::Local => "local",
        EndedBy::Remote => "remote",
        _ => "system",
    }
}

/// The JSON object for an agent event, `None` for events scripts do not need (SDP bodies).
pub fn event_json(event: &Event) -> Option<Value> {
    let value = match event {
        Event::TransportConnected { flow } => json!({"event": "connected", "flow": flow.0}),
        Event::TransportFailed { reason } => json!({"event": "transport-failed", "reason": reason}),
        Event::TransportDisconnected { flow, reason } => {
            json!({"event": "disconnected", "flow": flow.0, "reason": reason})
        }
        Event::Registered { expires, gruu } => {
            json!({"event": "registered", "expires": expires.as_secs(), "gruu": gruu})
        }
        Event::Unregistered => json!({"event": "unregistered"}),
        Event::RegistrationFailed {
            status,
            reason,
            retry_in,
        } => json!({
            "event": "registration-failed",
            "status": status,
            "reason": reason,
            "retry_in": retry_in.map(|d| d.as_secs()),
        }),
        Event::OutgoingCall { call, remote_uri } => {
            json!({"event": "outgoing", "call": call.0, "remote_uri": remote_uri})
        }
        Event::IncomingCall {
            call,
            remote_uri,
            display_name,
            ..
        } => json!({
            "event": "incoming",
            "call": call.0,
            "remote_uri": remote_uri,
            "display_name": display_name,
        }),
        Event::Ringing { call } => json!({"event": "ringing", "call": call.0}),
        Event::EarlyMedia { call, .. } => json!({"event": "early-media", "call": call.0}),
        Event::Accepted { call } => json!({"event": "accepted", "call": call.0}),
        Event::Confirmed { call } => json!({"event": "confirmed", "call": call.0}),
        Event::HoldChanged { call, side, held } => json!({
            "event": if *held { "held" } else { "resumed" },
            "call": call.0,
            "side": if *side == HoldSide::Local { "local" } else { "remote" },
        }),
        Event::RenegotiationFailed { call, status } => {
            json!({"event": "renegotiation-failed", "call": call.0, "status": status})
        }
        Event::Ended { call, by, cause } => json!({
            "event": "ended",
            "call": call.0,
            "by": ended_by(*by),
            "cause": cause.as_str(),
        }),
        Event::Failed {
            call,
            status,
            reason,
        } => json!({"event": "failed", "call": call.0, "status": status, "reason": reason}),
        Event::DtmfReceived {
            call,
            digit,
            method,
        } => json!({
            "event": "dtmf",
            "call": call.0,
            "digit": digit.to_string(),
            "method": method.as_str(),
        }),
        Event::TransferRequested { call, target } => {
            json!({"event": "transfer-requested", "call": call.0, "target": target})
        }
        Event::TransferProgress { call, status } => {
            json!({"event": "transfer-progress", "call": call.0, "status": status})
        }
        Event::MessageSent { to, status } => {
            json!({"event": "message-sent", "to": to, "status": status})
        }
        Event::MessageReceived {
            from,
            content_type,
            body,
        } => json!({
            "event": "message",
            "from": from,
            "content_type": content_type,
            "body": body,
        }),
        _ => return None,
    };
    Some(value)
}

/// The object as one JSON line with `event` first (serde_json sorts keys otherwise), so
/// people reading a log see what each line is at once.
fn json_line(value: &Value) -> String {
    let Some(object) = value.as_object() else {
        return value.to_string();
    };
    let Some(event) = object.get("event") else {
        return value.to_string();
    };
    let mut rest = object.clone();
    rest.remove("event");
    let tail = Value::Object(rest).to_string();
    match tail.strip_prefix('{') {
        Some("}") | None => format!("{{\"event\":{event}}}"),
        Some(fields) => format!("{{\"event\":{event},{fields}"),
    }
}

/// One line of text for a JSON event object: its name, then its fields as `key=value`.
fn text_line(value: &Value) -> String {
    let Some(object) = value.as_object() else {
        return value.to_string();
    };
    let name = object
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or("event");
    // `state registered` reads better than `state state=registered`.
    if let (2, Some(Value::String(state))) = (object.len(), object.get(name)) {
        return format!("{name} {state}");
    }
    let mut line = name.to_owned();
    for (key, field) in object {
        match field {
            _ if key == "event" => {}
            Value::Null => {}
            Value::String(s) => line.push_str(&format!(" {key}={s}")),
            other => line.push_str(&format!(" {key}={other}")),
        }
    }
    line
}

impl Printer {
    /// A printer writing JSON lines or text lines.
    pub fn new(json: bool) -> Printer {
        Printer {
            json,
            state: StateItem::default(),
        }
    }

    /// Prints one object (as JSON, or as `name key=value ...`).
    pub fn emit(&self, value: Value) {
        let line = if self.json {
            json_line(&value)
        } else {
            text_line(&value)
        };
        let mut out = std::io::stdout().lock();
        // A closed stdout (the script went away) must not stop the calls.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// Prints an agent event, and a `state` line when the openHAB state string changes.
    pub fn event(&mut self, event: &Event) {
        if let Some(value) = event_json(event) {
            self.emit(value);
        }
        if let Some(state) = self.state.on_event(event) {
            self.emit(json!({"event": "state", "state": state}));
        }
    }

    /// Prints a call's summary.
    pub fn summary(&self, call: sip_ua::CallHandle, summary: &CallSummary) {
        self.emit(json!({
            "event": "call-summary",
            "call": call.0,
            "rx_packets": summary.rx_packets,
            "tx_packets": summary.tx_packets,
            // One decimal is all a level needs, and it keeps the lines short.
            "rx_level_max_dbfs": (f64::from(summary.rx_level_max_dbfs) * 10.0).round() / 10.0,
            "codec": summary.codec,
            "recording": summary.recording,
        }));
    }

    /// Prints a problem (also on a line of its own in JSON mode, so scripts see it).
    pub fn error(&self, message: &str) {
        self.emit(json!({"event": "error", "message": message}));
    }

    /// Prints a note from the softphone itself (`answering`, `hanging-up` ...).
    pub fn note(&self, event: &str, fields: Value) {
        let mut value = json!({"event": event});
        if let (Some(object), Value::Object(extra)) = (value.as_object_mut(), fields) {
            object.extend(extra);
        }
        self.emit(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_ua::{CallHandle, DtmfMethod, EndCause};

    #[test]
    fn events_become_the_documented_json_objects() {
        let dtmf = Event::DtmfReceived {
            call: CallHandle(3),
            digit: '5',
            method: DtmfMethod::Rfc4733,
        };
        assert_eq!(
            event_json(&dtmf).unwrap(),
            json!({"event": "dtmf", "call": 3, "digit": "5", "method": "rfc4733"})
        );
        let ended = Event::Ended {
            call: CallHandle(3),
            by: EndedBy::Remote,
            cause: EndCause::RemoteBye,
        };
        assert_eq!(
            event_json(&ended).unwrap(),
            json!({"event": "ended", "call": 3, "by": "remote", "cause": "remote-bye"})
        );
        let registered = Event::Registered {
            expires: std::time::Duration::from_secs(600),
            gruu: None,
        };
        assert_eq!(event_json(&registered).unwrap()["event"], "registered");
    }

    #[test]
    fn json_lines_start_with_the_event_name() {
        let value = json!({"status": 486, "event": "failed", "call": 2});
        let line = json_line(&value);
        assert!(line.starts_with(r#"{"event":"failed","#), "{line}");
        assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), value);
        assert_eq!(
            json_line(&json!({"event": "unregistered"})),
            r#"{"event":"unregistered"}"#
        );
    }

    #[test]
    fn text_lines_name_the_event_then_its_fields() {
        let value =
            json!({"event": "failed", "call": 2, "status": 486, "reason": "Busy Here", "x": null});
        assert_eq!(
            text_line(&value),
            "failed call=2 reason=Busy Here status=486"
        );
        let state = json!({"event": "state", "state": "incoming:201@127.0.0.1"});
        assert_eq!(text_line(&state), "state incoming:201@127.0.0.1");
    }
}
