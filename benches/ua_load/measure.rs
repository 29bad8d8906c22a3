//! What ua_load measures with: a counting global allocator (live heap bytes, allocations),
//! resident memory and CPU time from `/proc`, and the figures of one phase.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counts live heap bytes and allocations, so memory per agent and per call is measured
/// rather than guessed (RSS alone hides what the allocator keeps cached).
pub(crate) struct CountingAllocator;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
pub(crate) static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to the system allocator with the caller's layout; the
// counters are only statistics. (A global allocator must implement the unsafe trait.)
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE_BYTES.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Live heap bytes and resident memory at one moment.
#[derive(Clone, Copy)]
pub(crate) struct Memory {
    heap: isize,
    rss: isize,
}

impl Memory {
    pub(crate) fn now() -> Memory {
        let rss_kib = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<isize>().ok())
            })
            .unwrap_or(0);
        Memory {
            heap: LIVE_BYTES.load(Ordering::Relaxed),
            rss: rss_kib * 1024,
        }
    }

    /// Prints the growth since `base` per `count` things.
    pub(crate) fn print_per(&self, base: Memory, count: usize, what: &str) -> f64 {
        let count = count.max(1);
        let n = count as f64;
        let heap = (self.heap - base.heap) as f64 / n;
        let rss = (self.rss - base.rss) as f64 / n;
        println!(
            "memory per {what:<17} {:>9.1} kB live heap   {:>9.1} kB RSS   ({count} of them: heap {:.1} MB -> {:.1} MB)",
            heap / 1000.0,
            rss / 1000.0,
            base.heap as f64 / 1e6,
            self.heap as f64 / 1e6,
        );
        heap
    }
}

/// CPU time (user + system) of a process, from `/proc/PID/stat`, in seconds.
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Field 3 (state) is index 0 here; utime is field 14.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds used so far by this process and by Kamailio (its main process and children).
#[derive(Clone, Copy)]
pub(crate) struct Cpu {
    ours: f64,
    kamailio: f64,
    at: Instant,
}

impl Cpu {
    pub(crate) fn now() -> Cpu {
        let kamailio = std::env::var("SIPLINE_KAMAILIO_PID")
            .map(|main| {
                let mut total = cpu_seconds(&main);
                for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    let pid = entry.file_name().to_string_lossy().into_owned();
                    if !pid.bytes().all(|b| b.is_ascii_digit()) {
                        continue;
                    }
                    let parent = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                        .ok()
                        .and_then(|stat| {
                            let (_, rest) = stat.rsplit_once(')')?;
                            rest.split_whitespace().nth(1).map(str::to_owned)
                        });
                    if parent.as_deref() == Some(main.as_str()) {
                        total += cpu_seconds(&pid);
                    }
                }
                total
            })
            .unwrap_or(0.0);
        Cpu {
            ours: cpu_seconds("self"),
            kamailio,
            at: Instant::now(),
        }
    }

    /// Prints the CPU used since `base` per `count` calls and as a share of the wall time.
    pub(crate) fn print_since(&self, base: Cpu, count: usize, who: &str) {
        let wall = self.at.duration_since(base.at).as_secs_f64().max(1e-9);
        let per = |seconds: f64| seconds / count.max(1) as f64 * 1e6;
        let ours = self.ours - base.ours;
        let kamailio = self.kamailio - base.kamailio;
        println!(
            "CPU {who:<26} {:>7.1} µs/call ({:>5.0} % of a core)   Kamailio {:>7.1} µs/call ({:>5.0} % of a core)",
            per(ours),
            ours / wall * 100.0,
            per(kamailio),
            kamailio / wall * 100.0,
        );
    }
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Rates and latencies of one phase.
pub(crate) struct Figures {
    pub(crate) label: String,
    pub(crate) attempted: usize,
    pub(crate) succeeded: usize,
    pub(crate) elapsed: Duration,
    /// Sorted.
    pub(crate) latencies: Vec<Duration>,
}

impl Figures {
    pub(crate) fn rate(&self) -> f64 {
        self.succeeded as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub(crate) fn print(&self, unit: &str) {
        println!(
            "{:<30} {:>6} of {:>6} in {:>7.3} s = {:>8.1} {unit}   p50 {:>7.2} ms   p99 {:>7.2} ms",
            self.label,
            self.succeeded,
            self.attempted,
            self.elapsed.as_secs_f64(),
            self.rate(),
            ms(percentile(&self.latencies, 0.50)),
            ms(percentile(&self.latencies, 0.99)),
        );
    }
}
