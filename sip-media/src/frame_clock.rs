//! Paces the 20 ms send ticks against the wall clock, so a sender that ran late catches up
//! instead of drifting behind real time.
//!
//! `tokio::time::interval` with `MissedTickBehavior::Delay` (what the send loops used before)
//! shifts every later tick by the lateness: a stalled loop then sends fewer than 50 packets a
//! second for good and its RTP timestamps run slower than real time, which drains the far
//! end's jitter buffer. `Burst` catches up without bound, which under overload only piles more
//! work on a saturated machine. This clock catches up a few frames back to back and skips
//! (with a matching RTP timestamp jump, which receivers conceal as loss) beyond that.

use std::time::Duration;

use tokio::time::Instant;

use crate::pipeline::FRAME_PERIOD;

/// How many late frames are sent back to back before the rest are skipped (60 ms: enough for
/// a scheduling hiccup, short enough that a receiver's jitter buffer absorbs the burst).
pub(crate) const MAX_CATCH_UP_FRAMES: u32 = 3;

/// The deadline of the next frame and the catch-up rule.
#[derive(Debug)]
pub(crate) struct FrameClock {
    next: Instant,
    period: Duration,
}

impl FrameClock {
    /// A clock whose first frame is due now.
    pub fn new() -> Self {
        Self::with_period(FRAME_PERIOD)
    }

    fn with_period(period: Duration) -> Self {
        FrameClock {
            next: Instant::now(),
            period,
        }
    }

    /// Waits until the next frame is due. Returns how many frames to skip first (0 unless
    /// the caller fell more than [`MAX_CATCH_UP_FRAMES`] behind).
    pub async fn next_frame(&mut self) -> u32 {
        tokio::time::sleep_until(self.next).await;
        self.advance(Instant::now())
    }

    /// Moves the deadline one frame on from `now`'s point of view; see [`Self::next_frame`].
    fn advance(&mut self, now: Instant) -> u32 {
        let late = now.saturating_duration_since(self.next);
        let behind = u32::try_from(late.as_nanos() / self.period.as_nanos()).unwrap_or(u32::MAX);
        let skipped = if behind > MAX_CATCH_UP_FRAMES {
            self.next += self.period * behind;
            behind
        } else {
            0
        };
        self.next += self.period;
        skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test]
    async fn on_time_frames_skip_nothing_and_keep_the_period() {
        let mut clock = FrameClock::with_period(20 * MS);
        let start = clock.next;
        for i in 0..5u32 {
            assert_eq!(clock.advance(start + 20 * MS * i + MS), 0);
        }
        assert_eq!(clock.next, start + 100 * MS);
    }

    #[tokio::test]
    async fn a_short_stall_is_caught_up_frame_by_frame() {
        let mut clock = FrameClock::with_period(20 * MS);
        let start = clock.next;
        // Woken 50 ms late: 2 frames behind, sent back to back (deadlines already past).
        assert_eq!(clock.advance(start + 50 * MS), 0);
        assert_eq!(clock.next, start + 20 * MS);
        assert_eq!(clock.advance(start + 51 * MS), 0);
        assert_eq!(clock.advance(start + 52 * MS), 0);
        assert_eq!(clock.next, start + 60 * MS);
    }

    #[tokio::test]
    async fn a_long_stall_skips_to_real_time() {
        let mut clock = FrameClock::with_period(20 * MS);
        let start = clock.next;
        // 205 ms late: 10 frames behind, more than the catch-up allowance.
        assert_eq!(clock.advance(start + 205 * MS), 10);
        assert_eq!(clock.next, start + 220 * MS);
        assert_eq!(clock.advance(start + 221 * MS), 0);
    }

    #[tokio::test]
    async fn next_frame_waits_for_the_deadline() {
        let mut clock = FrameClock::new();
        let start = Instant::now();
        clock.next_frame().await;
        clock.next_frame().await;
        assert!(Instant::now() - start >= FRAME_PERIOD);
    }
}
