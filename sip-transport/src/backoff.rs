//! Reconnect timing (randomised exponential back-off) and the weighted server list.

use std::time::Duration;

use rand::Rng;
use rand::seq::SliceRandom;

/// Randomised exponential back-off between reconnect attempts.
///
/// Before reconnect attempt `n` (1 for the first retry) the delay is drawn uniformly from
/// `[min, min(max, min * 2^(n-1))]`, so it starts at `min` and never exceeds `max`. The
/// defaults, 2 s and 30 s, are JsSIP's `connection_recovery_min_interval` and
/// `connection_recovery_max_interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The shortest delay.
    pub min: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            min: Duration::from_secs(2),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The upper bound of the delay before reconnect attempt `attempt` (1-based).
    pub fn bound(&self, attempt: u32) -> Duration {
        let max = self.max.max(self.min);
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.min.checked_mul(factor).map_or(max, |d| d.min(max))
    }

    /// A random delay before reconnect attempt `attempt` (1-based), within `[min, bound]`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let bound = self.bound(attempt);
        if bound <= self.min {
            return bound;
        }
        rand::rng().random_range(self.min..=bound)
    }
}

/// A server URL with its weight, as in JsSIP's socket list: higher weights are tried first,
/// servers of equal weight in random order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedServer {
    /// The server URL (`wss://pbx.example.com:8089/ws`, `sip:pbx;transport=tcp`, ...).
    pub url: String,
    /// Its weight; 0 is the lowest.
    pub weight: u32,
}

impl WeightedServer {
    /// A server with weight 0.
    pub fn new(url: impl Into<String>) -> Self {
        WeightedServer {
            url: url.into(),
            weight: 0,
        }
    }

    /// The same server with another weight.
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }
}

/// The order in which to try servers: by weight, highest first, ties shuffled.
pub(crate) fn failover_order(servers: &[WeightedServer]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..servers.len()).collect();
    order.shuffle(&mut rand::rng());
    // A stable sort keeps the shuffled order among equal weights.
    order.sort_by_key(|&i| std::cmp::Reverse(servers[i].weight));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_within_min_and_max() {
        let backoff = Backoff::default();
        assert_eq!(backoff.bound(1), Duration::from_secs(2));
        assert_eq!(backoff.bound(2), Duration::from_secs(4));
        assert_eq!(backoff.bound(4), Duration::from_secs(16));
        assert_eq!(backoff.bound(5), Duration::from_secs(30));
        assert_eq!(backoff.bound(200), Duration::from_secs(30));
        for attempt in 1..40 {
            let delay = backoff.delay(attempt);
            assert!(
                delay >= backoff.min && delay <= backoff.bound(attempt),
                "{delay:?}"
            );
        }
    }

    #[test]
    fn delays_are_randomised() {
        let backoff = Backoff::default();
        let delays: std::collections::HashSet<_> = (0..20).map(|_| backoff.delay(6)).collect();
        assert!(delays.len() > 1);
    }

    #[test]
    fn max_below_min_is_min() {
        let backoff = Backoff {
            min: Duration::from_secs(5),
            max: Duration::from_secs(1),
        };
        assert_eq!(backoff.delay(3), Duration::from_secs(5));
    }

    #[test]
    fn heavier_servers_come_first() {
        let servers = vec![
            WeightedServer::new("wss://a/ws"),
            WeightedServer::new("wss://b/ws").with_weight(10),
            WeightedServer::new("wss://c/ws").with_weight(5),
            WeightedServer::new("wss://d/ws").with_weight(10),
        ];
        for _ in 0..10 {
            let order = failover_order(&servers);
            let weights: Vec<u32> = order.iter().map(|&i| servers[i].weight).collect();
            assert_eq!(weights, vec![10, 10, 5, 0]);
        }
    }
}
