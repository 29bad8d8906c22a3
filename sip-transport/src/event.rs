//! What a transport reports.

use crate::error::Error;
use crate::flow::Flow;
use sip_proto::Message;

/// An event from a [`Transport`](crate::Transport), in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportEvent {
    /// Connecting to `server` (attempt 1 is the first try after start or after a loss).
    Connecting {
        /// The attempt number since the last successful connection.
        attempt: u32,
        /// The server URL or URI.
        server: String,
    },
    /// Connected (for UDP: the socket is bound).
    Connected {
        /// The new flow: put its kind and local address into Via and Contact.
        flow: Flow,
        /// The server URL or URI.
        server: String,
    },
    /// A connect attempt failed or the connection was lost; a reconnect follows when enabled.
    Disconnected {
        /// What happened.
        reason: Error,
    },
    /// A whole SIP message arrived.
    Message {
        /// The message.
        message: Message,
        /// The flow it came in on: send the response back on it.
        flow: Flow,
    },
}
