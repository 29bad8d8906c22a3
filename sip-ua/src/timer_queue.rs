//! A min-heap of deadlines with lazy deletion, so the next timeout and the due timers are
//! found without scanning every transaction or call.
//!
//! The owner of the timed items keeps, per item, the deadline it last scheduled. An entry in
//! the heap is live only while its deadline equals that record; a changed or cancelled timer
//! just leaves a stale entry behind, skipped when it reaches the top (and swept out when stale
//! entries outnumber live ones).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Instant;

#[derive(Debug)]
struct Entry<K> {
    at: Instant,
    /// Insertion order, so equal deadlines pop first-in first-out (deterministic runs).
    seq: u64,
    key: K,
}

impl<K> PartialEq for Entry<K> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<K> Eq for Entry<K> {}

impl<K> PartialOrd for Entry<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Entry<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Deadlines keyed by `K`, earliest first.
#[derive(Debug)]
pub(crate) struct TimerQueue<K> {
    heap: BinaryHeap<Reverse<Entry<K>>>,
    next_seq: u64,
}

impl<K> Default for TimerQueue<K> {
    fn default() -> Self {
        TimerQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<K> TimerQueue<K> {
    /// Adds a deadline for `key` (the owner records `at` as the live one).
    pub(crate) fn schedule(&mut self, at: Instant, key: K) {
        self.next_seq += 1;
        self.heap.push(Reverse(Entry {
            at,
            seq: self.next_seq,
            key,
        }));
    }

    /// The earliest deadline, once [`TimerQueue::prune`] has dropped stale tops.
    pub(crate) fn peek(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    /// Removes every entry due at `now` (live or stale; the owner checks).
    pub(crate) fn pop_due(&mut self, now: Instant) -> Vec<(Instant, K)> {
        let mut due = Vec::new();
        while self.heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
            if let Some(Reverse(e)) = self.heap.pop() {
                due.push((e.at, e.key));
            }
        }
        due
    }

    /// Drops stale entries from the top, so [`TimerQueue::peek`] is exact; sweeps the whole
    /// heap when it holds many more entries than `live` items.
    pub(crate) fn prune(&mut self, live: usize, is_live: impl Fn(&K, Instant) -> bool) {
        if self.heap.len() > 2 * live + 64 {
            self.heap.retain(|Reverse(e)| is_live(&e.key, e.at));
        }
        while self
            .heap
            .peek()
            .is_some_and(|Reverse(e)| !is_live(&e.key, e.at))
        {
            self.heap.pop();
        }
    }

    /// Number of entries, stale ones included.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;

    #[test]
    fn earliest_first_and_stale_entries_skipped() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut live: HashMap<u32, Instant> = HashMap::new();
        let mut q = TimerQueue::default();
        for (key, ms) in [(1, 300), (2, 100), (3, 200)] {
            live.insert(key, at(ms));
            q.schedule(at(ms), key);
        }
        // Key 2 moves later: its first entry turns stale.
        live.insert(2, at(400));
        q.schedule(at(400), 2);
        q.prune(live.len(), |k, t| live.get(k) == Some(&t));
        assert_eq!(q.peek(), Some(at(200)));
        let due: Vec<u32> = q
            .pop_due(at(300))
            .into_iter()
            .filter(|(t, k)| live.get(k) == Some(t))
            .map(|(_, k)| k)
            .collect();
        assert_eq!(due, [3, 1]);
        assert_eq!(q.peek(), Some(at(400)));
        assert!(q.pop_due(at(399)).is_empty());
    }

    #[test]
    fn stale_entries_are_swept_when_they_pile_up() {
        let t0 = Instant::now();
        let mut q = TimerQueue::default();
        for i in 0..1000u64 {
            q.schedule(t0 + Duration::from_secs(i), 7u32);
        }
        let last = t0 + Duration::from_secs(999);
        q.prune(1, |_, t| t == last);
        assert_eq!(q.len(), 1);
        assert_eq!(q.peek(), Some(last));
    }
}
