//! The openHAB `sipStateItem` view: one state string per change, exactly as oh-sipclient
//! writes them.

use std::collections::HashMap;

use crate::event::{CallHandle, Event};
use crate::values::uri_user_host;

/// Turns the event stream into openHAB's state strings: `connected`, `disconnected`,
/// `registered`, `incoming:<user>@<host>`, `incoming-accepted:<user>@<host>`,
/// `outgoing:<user>@<host>`, `outgoing-accepted:<user>@<host>`, `ended:<user>@<host>` and
/// `failed:<user>@<host>`.
///
/// ```
/// use sip_ua::state_item::StateItem;
/// use sip_ua::{CallHandle, Event, FlowId};
///
/// let mut item = StateItem::default();
/// assert_eq!(item.on_event(&Event::TransportConnected { flow: FlowId(1) }).as_deref(), Some("connected"));
/// let call = CallHandle(1);
/// let incoming = Event::IncomingCall {
///     call,
///     remote_uri: "sip:201@127.0.0.1".into(),
///     display_name: None,
///     remote_sdp: None,
/// };
/// assert_eq!(item.on_event(&incoming).as_deref(), Some("incoming:201@127.0.0.1"));
/// assert_eq!(item.on_event(&Event::Accepted { call }).as_deref(), Some("incoming-accepted:201@127.0.0.1"));
/// ```
#[derive(Debug, Default, Clone)]
pub struct StateItem {
    state: String,
    /// Each call's direction (`true`: incoming) and `user@host`.
    calls: HashMap<CallHandle, (bool, String)>,
}

fn user_at_host(uri: &str) -> String {
    match uri_user_host(uri) {
        Some((Some(user), host)) => format!("{user}@{host}"),
        Some((None, host)) => host.to_owned(),
        None => uri.to_owned(),
    }
}

impl StateItem {
    /// The current state string (empty before the first event that sets one).
    pub fn state(&self) -> &str {
        &self.state
    }

    /// Applies an event; returns the new state string when it changed.
    pub fn on_event(&mut self, event: &Event) -> Option<String> {
        let next = match event {
            Event::TransportConnected { .. } => "connected".to_owned(),
            Event::TransportDisconnected { .. } | Event::TransportFailed { .. } => {
                "disconnected".to_owned()
            }
            Event::Registered { .. } => "registered".to_owned(),
            Event::IncomingCall {
                call, remote_uri, ..
            } => {
                let peer = user_at_host(remote_uri);
                self.calls.insert(*call, (true, peer.clone()));
                format!("incoming:{peer}")
            }
            Event::OutgoingCall { call, remote_uri } => {
                let peer = user_at_host(remote_uri);
                self.calls.insert(*call, (false, peer.clone()));
                format!("outgoing:{peer}")
            }
            Event::Accepted { call } => {
                let (incoming, peer) = self.calls.get(call)?;
                let prefix = if *incoming {
                    "incoming-accepted"
                } else {
                    "outgoing-accepted"
                };
                format!("{prefix}:{peer}")
            }
            Event::Ended { call, .. } => format!("ended:{}", self.calls.remove(call)?.1),
            Event::Failed { call, .. } => format!("failed:{}", self.calls.remove(call)?.1),
            _ => return None,
        };
        if next == self.state {
            return None;
        }
        self.state = next.clone();
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EndCause, EndedBy};
    use crate::flow::FlowId;

    #[test]
    fn the_strings_of_an_outgoing_call_and_a_failure() {
        let mut item = StateItem::default();
        let call = CallHandle(7);
        let mut seen = Vec::new();
        for event in [
            Event::TransportConnected { flow: FlowId(1) },
            Event::Registered {
                expires: std::time::Duration::from_secs(600),
                gruu: None,
            },
            Event::OutgoingCall {
                call,
                remote_uri: "sip:101@example.com;transport=ws".into(),
            },
            Event::Ringing { call },
            Event::Accepted { call },
            Event::Confirmed { call },
            Event::Ended {
                call,
                by: EndedBy::Remote,
                cause: EndCause::RemoteBye,
            },
            Event::OutgoingCall {
                call: CallHandle(8),
                remote_uri: "sip:102@example.com".into(),
            },
            Event::Failed {
                call: CallHandle(8),
                status: Some(486),
                reason: "Busy Here".into(),
            },
            Event::TransportDisconnected {
                flow: FlowId(1),
                reason: "closed".into(),
            },
        ] {
            seen.extend(item.on_event(&event));
        }
        assert_eq!(
            seen,
            [
                "connected",
                "registered",
                "outgoing:101@example.com",
                "outgoing-accepted:101@example.com",
                "ended:101@example.com",
                "outgoing:102@example.com",
                "failed:102@example.com",
                "disconnected",
            ]
        );
        assert_eq!(item.state(), "disconnected");
    }
}
