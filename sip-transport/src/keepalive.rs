//! Keep-alive settings and the ping/pong bookkeeping of one connection.

use std::time::Duration;

use tokio::time::Instant;

/// Keep-alive for connection-oriented transports (TCP, TLS, WS, WSS).
///
/// Every `interval` the transport sends an RFC 5626 double-CRLF ping (on WebSocket as a text
/// message, plus a WebSocket ping frame when `websocket_ping` is set) and expects an answer
/// (a CRLF, a WebSocket pong or any other traffic) within `pong_timeout`; otherwise the
/// connection is reported dead and, with reconnect on, replaced. So a dead server is
/// detected within `interval + pong_timeout`. A server's double-CRLF ping is answered with a
/// single CRLF. UDP sends no keep-alives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAlive {
    /// Time between pings; `None` turns keep-alive off.
    pub interval: Option<Duration>,
    /// How long to wait for the answer to a ping.
    pub pong_timeout: Duration,
    /// Also send WebSocket ping frames (answered by the server's WebSocket layer).
    pub websocket_ping: bool,
}

impl Default for KeepAlive {
    /// Ping every 30 s, wait 10 s for the answer, with WebSocket pings.
    fn default() -> Self {
        KeepAlive {
            interval: Some(Duration::from_secs(30)),
            pong_timeout: Duration::from_secs(10),
            websocket_ping: true,
        }
    }
}

impl KeepAlive {
    /// Keep-alive off.
    pub fn off() -> Self {
        KeepAlive {
            interval: None,
            ..KeepAlive::default()
        }
    }
}

/// Ping/pong state of one connection.
#[derive(Debug)]
pub(crate) struct PingState {
    settings: KeepAlive,
    next_ping: Option<Instant>,
    pong_due: Option<Instant>,
}

/// What the keep-alive timer asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PingAction {
    /// Send a ping now.
    Ping,
    /// The last ping went unanswered: the connection is dead.
    Dead,
}

impl PingState {
    pub fn new(settings: KeepAlive, now: Instant) -> Self {
        PingState {
            settings,
            next_ping: settings.interval.map(|i| now + i),
            pong_due: None,
        }
    }

    /// When the timer must next fire, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        self.pong_due.or(self.next_ping)
    }

    /// The timer fired at `now`.
    pub fn on_timer(&mut self, now: Instant) -> Option<PingAction> {
        if let Some(due) = self.pong_due {
            return (now >= due).then_some(PingAction::Dead);
        }
        let interval = self.settings.interval?;
        let next = self.next_ping?;
        if now < next {
            return None;
        }
        self.pong_due = Some(now + self.settings.pong_timeout);
        self.next_ping = Some(now + interval);
        Some(PingAction::Ping)
    }

    /// Anything arrived from the peer: it is alive.
    pub fn on_traffic(&mut self, now: Instant) {
        if self.pong_due.take().is_some()
            && let Some(interval) = self.settings.interval
        {
            self.next_ping = Some(now + interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> KeepAlive {
        KeepAlive {
            interval: Some(Duration::from_secs(30)),
            pong_timeout: Duration::from_secs(10),
            websocket_ping: false,
        }
    }

    #[test]
    fn pings_after_the_interval_and_declares_death_after_the_timeout() {
        let start = Instant::now();
        let mut state = PingState::new(settings(), start);
        assert_eq!(state.deadline(), Some(start + Duration::from_secs(30)));
        assert_eq!(state.on_timer(start + Duration::from_secs(29)), None);
        assert_eq!(
            state.on_timer(start + Duration::from_secs(30)),
            Some(PingAction::Ping)
        );
        assert_eq!(state.deadline(), Some(start + Duration::from_secs(40)));
        assert_eq!(
            state.on_timer(start + Duration::from_secs(40)),
            Some(PingAction::Dead)
        );
    }

    #[test]
    fn an_answer_rearms_the_ping() {
        let start = Instant::now();
        let mut state = PingState::new(settings(), start);
        state.on_timer(start + Duration::from_secs(30));
        state.on_traffic(start + Duration::from_secs(31));
        assert_eq!(state.deadline(), Some(start + Duration::from_secs(61)));
        assert_eq!(state.on_timer(start + Duration::from_secs(45)), None);
    }

    #[test]
    fn off_never_fires() {
        let mut state = PingState::new(KeepAlive::off(), Instant::now());
        assert_eq!(state.deadline(), None);
        assert_eq!(
            state.on_timer(Instant::now() + Duration::from_secs(3600)),
            None
        );
    }
}
