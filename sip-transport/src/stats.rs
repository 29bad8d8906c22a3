//! Counters a transport keeps: messages in and out, frames dropped and why, reconnects.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, shared between the transport task and its handle.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub dropped_oversized: AtomicU64,
    pub dropped_malformed: AtomicU64,
    pub dropped_non_sip: AtomicU64,
    pub keepalive_pings: AtomicU64,
    pub keepalive_pongs: AtomicU64,
    pub connects: AtomicU64,
    pub disconnects: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> TransportStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TransportStats {
            sent: get(&self.sent),
            received: get(&self.received),
            dropped_oversized: get(&self.dropped_oversized),
            dropped_malformed: get(&self.dropped_malformed),
            dropped_non_sip: get(&self.dropped_non_sip),
            keepalive_pings: get(&self.keepalive_pings),
            keepalive_pongs: get(&self.keepalive_pongs),
            connects: get(&self.connects),
            disconnects: get(&self.disconnects),
        }
    }
}

/// A snapshot of a transport's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportStats {
    /// SIP messages sent.
    pub sent: u64,
    /// SIP messages received and handed on.
    pub received: u64,
    /// Frames dropped for exceeding the size limit.
    pub dropped_oversized: u64,
    /// Frames that looked like SIP but did not parse.
    pub dropped_malformed: u64,
    /// Frames that were not SIP at all (binary junk, HTTP, ...).
    pub dropped_non_sip: u64,
    /// Keep-alive pings sent (CRLFCRLF and WebSocket pings).
    pub keepalive_pings: u64,
    /// Keep-alive answers received (CRLF and WebSocket pongs).
    pub keepalive_pongs: u64,
    /// Successful connects (the first one included).
    pub connects: u64,
    /// Connections lost or failed.
    pub disconnects: u64,
}

impl TransportStats {
    /// All dropped frames.
    pub fn dropped(&self) -> u64 {
        self.dropped_oversized + self.dropped_malformed + self.dropped_non_sip
    }
}
