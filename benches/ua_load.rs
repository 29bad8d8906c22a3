//! Load program for sip-ua (prints figures; not a criterion bench): N Sipline agents in one
//! process, each on its own WebSocket, register with digest through Kamailio; then calls
//! between them at a fixed rate (INVITE, 407 and the authenticated INVITE, 100, 180, 200, ACK,
//! BYE; signalling only, with `FixedSdpFactory`); then the same call workload from sipp over
//! UDP (sipp UAC -> Kamailio -> sipp UAS) against the same Kamailio, for a ratio.
//!
//! Needs the Kamailio test server, so run it inside the loopback-only namespace:
//!
//! ```sh
//! cargo bench -p sipline-benches --bench ua_load --no-run
//! unshare -n bash -c 'ip link set lo up; scripts/in-netns \
//!     cargo bench -p sipline-benches --bench ua_load --offline'
//! # quick mode (scripts/test runs it as a smoke test, in the dev profile):
//! unshare -n bash -c 'ip link set lo up; scripts/in-netns \
//!     cargo test -p sipline-benches --bench ua_load --offline -- --agents 20 --calls 20'
//! ```
//!
//! Options: `--agents N` (default 1000), `--calls C` (default 5000), `--rate R` call attempts
//! per second (default 500; 0 = as fast as the window allows), `--window W` calls in flight at
//! most (default 500), `--register-window W` registrations in flight (default 100),
//! `--no-sipp`. Exits non-zero when an agent fails to register, a call fails or a call is not
//! torn down. Without `SIPLINE_INTEROP` it prints that it was skipped and exits.
//!
//! What is measured:
//! - registrations per second and p50/p99 from start to `Registered` (connect, REGISTER,
//!   401, REGISTER with credentials, 200);
//! - call setups per second and p50/p99 setup latency: from `ua.call()` to the caller's
//!   `Confirmed` (2xx received, ACK sent); the caller hangs up (BYE) at once;
//! - memory per registered agent and per established call (both ends are in this process, so a
//!   call's figure covers caller and callee): live heap bytes from a counting global allocator
//!   and resident memory from `/proc/self/status`, each as a difference from a baseline taken
//!   after the tokio runtime started (its fixed cost excluded).
//!
//! The sipp workload is the same: the same Kamailio routes, the same digest challenge on the
//! INVITE, the same SDP, the same rate, count and window; only the transport differs (UDP,
//! one socket per side, as sipp cannot open a WebSocket), so the ratio compares Sipline's
//! whole stack (WebSocket framing, transactions, dialogs, digest, the driver) with sipp's
//! scenario engine on a path Kamailio handles at least as cheaply.
//!
//! Where an idle registered agent's memory goes. It was 178.6 kB; heaptrack (200 agents,
//! 2026-11-24) showed 131 kB of tungstenite read buffer (128 KiB by default per connection,
//! zero-filled on the first read), a 14.4 kB sip-ua driver future, a 4.1 kB sip-transport
//! driver future and ~16 kB of empty tokio channel blocks (tokio allocates a 32-slot block per
//! mpsc channel when it is made). Now 23.5 kB (1,000 agents), after:
//! - a 4 KiB WebSocket read buffer (sip-transport `link.rs`; tungstenite reserves a longer
//!   frame's full length when one arrives): 178.6 -> 51.7 kB;
//! - the sip-ua driver future 14.4 -> 4.0 kB (`driver::run` builds the driver before its async
//!   block, so the `Setup` it came from is not kept beside it; commands and shutdown boxed):
//!   51.7 -> 40.8 kB;
//! - sip-transport's command and event channels carrying boxes (one 32-slot block of 8-byte
//!   slots instead of 112- and 128-byte ones), connecting boxed out of its task: 40.8 -> 32.0 kB;
//! - sip-ua's command and event channels boxed the same way and its media-work channel made
//!   with the first call: 32.0 -> 23.5 kB (a call's figure rose 36 -> 44 kB by that channel).
//!
//! What is left (heaptrack, 200 agents, per-site peaks): the sip-ua driver task 3.5 kB, the
//! sip-transport task 2.8 kB, this program's per-agent task 0.8 kB; the 4 KiB read buffer;
//! ~1.2 kB tungstenite write buffer (grown to the largest frame sent, a REGISTER); ~1.5 kB of
//! hash tables; ~4.3 kB of tokio channel state (six channels, this program's own included, at
//! ~0.5 kB each, and 1.3 kB of blocks); the core's registration and transaction state (the
//! last REGISTER kept for a refresh, timers).

#[path = "ua_load/measure.rs"]
mod measure;
#[path = "ua_load/sipp.rs"]
mod sipp;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use measure::{ALLOCATIONS, Cpu, Figures, Memory};

use sip_transport::Backoff;
use sip_ua::driver::{AgentEvents, AgentOptions, FixedSdpFactory, FixedSdpMedia, UserAgent};
use sip_ua::{CallHandle, CoreConfig, Credentials, Event};
use tokio::sync::{Semaphore, mpsc, oneshot};

const PASSWORD: &str = "sipline-test";
const SERVER: &str = "ws://127.0.0.1:8080/ws";
/// How long one registration or one call setup may take before it counts as failed.
const STEP_LIMIT: Duration = Duration::from_secs(30);

/// The command line.
struct Options {
    agents: usize,
    calls: usize,
    rate: f64,
    window: usize,
    register_window: usize,
    sipp: bool,
}

impl Options {
    fn parse() -> Result<Options, String> {
        let mut options = Options {
            agents: 1000,
            calls: 5000,
            rate: 500.0,
            window: 500,
            register_window: 100,
            sipp: true,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> Result<f64, String> {
                args.next()
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|v| *v >= 0.0)
                    .ok_or_else(|| format!("{name} needs a number"))
            };
            match arg.as_str() {
                "--agents" => options.agents = number("--agents")? as usize,
                "--calls" => options.calls = number("--calls")? as usize,
                "--rate" => options.rate = number("--rate")?,
                "--window" => options.window = number("--window")? as usize,
                "--register-window" => {
                    options.register_window = number("--register-window")? as usize
                }
                "--no-sipp" => options.sipp = false,
                // `cargo bench` passes `--bench` to programs without a harness.
                "--bench" => {}
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if options.agents < 2 || options.window == 0 || options.register_window == 0 {
            return Err("--agents must be at least 2, the windows at least 1".into());
        }
        Ok(options)
    }
}

/// What the controller asks one agent to do.
enum Order {
    /// Call `target`; report the setup latency on `done`; hang up at once unless `hold`.
    Call {
        target: String,
        hold: bool,
        done: oneshot::Sender<Result<Duration, String>>,
    },
    /// Hang up every held call.
    HangUpHeld(oneshot::Sender<()>),
}

/// Tallies across agents, to check that every call was really set up and torn down.
#[derive(Default)]
struct Tally {
    incoming: AtomicUsize,
    answer_errors: AtomicUsize,
    /// Calls ended by the peer's BYE (callee side of every call the caller hung up).
    ended_by_remote_bye: AtomicUsize,
    /// Calls ended any other way than a BYE either side.
    ended_otherwise: AtomicUsize,
}

struct Pending {
    started: Instant,
    hold: bool,
    done: oneshot::Sender<Result<Duration, String>>,
}

fn user(index: usize) -> String {
    format!("uaload-{index}")
}

/// One agent: reports its registration, answers incoming calls, places ordered calls.
async fn run_agent(
    ua: UserAgent,
    mut events: AgentEvents,
    mut orders: mpsc::UnboundedReceiver<Order>,
    registered: oneshot::Sender<Result<Duration, String>>,
    tally: Arc<Tally>,
) {
    let started = Instant::now();
    let mut registered = Some(registered);
    let mut pending: HashMap<CallHandle, Pending> = HashMap::new();
    let mut held: Vec<CallHandle> = Vec::new();
    loop {
        tokio::select! {
            order = orders.recv() => match order {
                Some(Order::Call { target, hold, done }) => {
                    let started = Instant::now();
                    match ua.call(&target).await {
                        Ok(call) => {
                            pending.insert(call.handle(), Pending { started, hold, done });
                        }
                        Err(e) => {
                            let _ = done.send(Err(format!("call not placed: {e}")));
                        }
                    }
                }
                Some(Order::HangUpHeld(done)) => {
                    for call in held.drain(..) {
                        let _ = ua.call_handle(call).hangup().await;
                    }
                    let _ = done.send(());
                }
                None => break,
            },
            event = events.recv() => match event {
                Some(Event::Registered { .. }) => {
                    if let Some(tx) = registered.take() {
                        let _ = tx.send(Ok(started.elapsed()));
                    }
                }
                Some(Event::RegistrationFailed { status, reason, .. }) => {
                    if let Some(tx) = registered.take() {
                        let _ = tx.send(Err(format!("registration failed: {status:?} {reason}")));
                    }
                }
                Some(Event::IncomingCall { call, .. }) => {
                    tally.incoming.fetch_add(1, Ordering::Relaxed);
                    if ua.call_handle(call).answer().await.is_err() {
                        tally.answer_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Some(Event::Confirmed { call }) => {
                    if let Some(p) = pending.remove(&call) {
                        let _ = p.done.send(Ok(p.started.elapsed()));
                        if p.hold {
                            held.push(call);
                        } else {
                            let _ = ua.call_handle(call).hangup().await;
                        }
                    }
                }
                Some(Event::Failed { call, status, reason }) => {
                    if let Some(p) = pending.remove(&call) {
                        let _ = p.done.send(Err(format!("call failed: {status:?} {reason}")));
                    }
                }
                Some(Event::Ended { call, cause, .. }) => {
                    if let Some(p) = pending.remove(&call) {
                        let _ = p.done.send(Err(format!("call ended before setup: {cause:?}")));
                    }
                    match cause {
                        sip_ua::EndCause::RemoteBye => {
                            tally.ended_by_remote_bye.fetch_add(1, Ordering::Relaxed);
                        }
                        sip_ua::EndCause::LocalBye => {}
                        _ => {
                            tally.ended_otherwise.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Some(_) => {}
                None => break,
            },
        }
    }
    ua.shutdown().await;
}

fn agent_options(index: usize) -> AgentOptions {
    let name = user(index);
    let core = CoreConfig::new(
        format!("sip:{name}@127.0.0.1"),
        Credentials::new(name.clone(), PASSWORD),
    );
    let mut options = AgentOptions::new(core, SERVER);
    options.transport = options
        .transport
        .with_connect_timeout(Duration::from_secs(10))
        .with_backoff(Backoff {
            min: Duration::from_millis(200),
            max: Duration::from_secs(2),
        });
    options
}

/// Starts `count` agents, at most `window` registering at once; returns their order channels
/// and the registration figures.
async fn register_all(
    count: usize,
    window: usize,
    tally: &Arc<Tally>,
) -> Result<
    (
        Vec<mpsc::UnboundedSender<Order>>,
        Vec<tokio::task::JoinHandle<()>>,
        Figures,
    ),
    String,
> {
    let media = Arc::new(FixedSdpFactory::new(FixedSdpMedia::loopback_sdp()));
    let gate = Arc::new(Semaphore::new(window));
    let (results_tx, mut results) = mpsc::unbounded_channel();
    let mut orders = Vec::with_capacity(count);
    let mut tasks = Vec::with_capacity(count);
    let start = Instant::now();
    for index in 0..count {
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let (ua, events) = UserAgent::start(agent_options(index), media.clone())
            .map_err(|e| format!("agent {index} does not start: {e}"))?;
        let (order_tx, order_rx) = mpsc::unbounded_channel();
        let (registered_tx, registered_rx) = oneshot::channel();
        tasks.push(tokio::spawn(run_agent(
            ua,
            events,
            order_rx,
            registered_tx,
            tally.clone(),
        )));
        orders.push(order_tx);
        let results_tx = results_tx.clone();
        tokio::spawn(async move {
            let outcome = match tokio::time::timeout(STEP_LIMIT, registered_rx).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(_)) => Err("agent stopped".to_owned()),
                Err(_) => Err(format!("not registered within {STEP_LIMIT:?}")),
            };
            drop(permit);
            let _ = results_tx.send((index, outcome));
        });
    }
    drop(results_tx);
    let mut latencies = Vec::with_capacity(count);
    let mut failures = Vec::new();
    while let Some((index, outcome)) = results.recv().await {
        match outcome {
            Ok(latency) => latencies.push(latency),
            Err(e) => failures.push(format!("{}: {e}", user(index))),
        }
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    let figures = Figures {
        label: "Sipline registrations (WS)".into(),
        attempted: count,
        succeeded: latencies.len(),
        elapsed,
        latencies,
    };
    if let Some(first) = failures.first() {
        figures.print("reg/s");
        return Err(format!(
            "{} of {count} agents did not register; first: {first}",
            failures.len()
        ));
    }
    Ok((orders, tasks, figures))
}

/// The pairing of calls: the first half of the agents calls the second half.
fn pair(call: usize, agents: usize) -> (usize, usize) {
    let half = agents / 2;
    let caller = call % half;
    (caller, caller + half)
}

/// Places `calls` calls at `rate` per second (0: as fast as the window allows) with at most
/// `window` setups in flight.
async fn call_load(
    orders: &[mpsc::UnboundedSender<Order>],
    calls: usize,
    rate: f64,
    window: usize,
) -> (Figures, Vec<String>) {
    let gate = Arc::new(Semaphore::new(window));
    let (results_tx, mut results) = mpsc::unbounded_channel();
    let interval = (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate));
    let start = Instant::now();
    for call in 0..calls {
        if let Some(interval) = interval {
            // Open loop: call n leaves at n / rate, however late earlier calls were.
            tokio::time::sleep_until((start + interval * call as u32).into()).await;
        }
        let permit = gate.clone().acquire_owned().await.expect("gate open");
        let (caller, callee) = pair(call, orders.len());
        let (done, outcome) = oneshot::channel();
        let order = Order::Call {
            target: format!("sip:{}@127.0.0.1", user(callee)),
            hold: false,
            done,
        };
        if orders[caller].send(order).is_err() {
            let _ = results_tx.send(Err(format!("agent {caller} stopped")));
            continue;
        }
        let results_tx = results_tx.clone();
        tokio::spawn(async move {
            let outcome = match tokio::time::timeout(STEP_LIMIT, outcome).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(_)) => Err("agent stopped".to_owned()),
                Err(_) => Err(format!("not set up within {STEP_LIMIT:?}")),
            };
            drop(permit);
            let _ = results_tx.send(outcome);
        });
    }
    drop(results_tx);
    let mut latencies = Vec::with_capacity(calls);
    let mut failures = Vec::new();
    while let Some(outcome) = results.recv().await {
        match outcome {
            Ok(latency) => latencies.push(latency),
            Err(e) => failures.push(e),
        }
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    (
        Figures {
            label: "Sipline call setups (WS)".into(),
            attempted: calls,
            succeeded: latencies.len(),
            elapsed,
            latencies,
        },
        failures,
    )
}

/// Sets up one held call per caller (half the agents), measures the memory they take, and
/// hangs them up.
async fn held_calls(
    orders: &[mpsc::UnboundedSender<Order>],
) -> Result<(usize, Memory, Memory), String> {
    let half = orders.len() / 2;
    let before = Memory::now();
    let mut setups = Vec::with_capacity(half);
    for (caller, order_tx) in orders[..half].iter().enumerate() {
        let (done, outcome) = oneshot::channel();
        let order = Order::Call {
            target: format!("sip:{}@127.0.0.1", user(caller + half)),
            hold: true,
            done,
        };
        order_tx
            .send(order)
            .map_err(|_| format!("agent {caller} stopped"))?;
        setups.push(outcome);
    }
    let mut established = 0;
    for outcome in setups {
        match tokio::time::timeout(STEP_LIMIT, outcome).await {
            Ok(Ok(Ok(_))) => established += 1,
            Ok(Ok(Err(e))) => return Err(format!("held call: {e}")),
            _ => return Err("held call not set up in time".into()),
        }
    }
    // Let the callees see their ACKs (their `Confirmed`) before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = Memory::now();
    let mut hangups = Vec::with_capacity(half);
    for order in &orders[..half] {
        let (done, finished) = oneshot::channel();
        if order.send(Order::HangUpHeld(done)).is_ok() {
            hangups.push(finished);
        }
    }
    for finished in hangups {
        let _ = finished.await;
    }
    Ok((established, before, during))
}

/// Waits until every callee saw its BYE (or `limit` passes); returns how many did.
async fn wait_for_byes(tally: &Tally, expected: usize, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let seen = tally.ended_by_remote_bye.load(Ordering::Relaxed);
        if seen >= expected || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn sipline(options: &Options) -> Result<Figures, String> {
    let tally = Arc::new(Tally::default());
    let base = Memory::now();
    let (orders, tasks, registrations) =
        register_all(options.agents, options.register_window, &tally).await?;
    registrations.print("reg/s");
    // Let the last 200s' transactions finish before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let registered = Memory::now();
    let per_agent = registered.print_per(base, options.agents, "registered agent");

    let (established, before, during) = held_calls(&orders).await?;
    during.print_per(before, established, "call (both ends)");
    let byes = wait_for_byes(&tally, established, Duration::from_secs(10)).await;
    if byes < established {
        return Err(format!(
            "{} of {established} held calls not torn down by BYE",
            established - byes
        ));
    }

    let allocations_before = ALLOCATIONS.load(Ordering::Relaxed);
    let cpu_before = Cpu::now();
    let (calls, failures) = call_load(&orders, options.calls, options.rate, options.window).await;
    let cpu_after = Cpu::now();
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations_before;
    calls.print("setups/s");
    cpu_after.print_since(cpu_before, calls.succeeded, "Sipline (both ends)");
    let byes = wait_for_byes(
        &tally,
        established + calls.succeeded,
        Duration::from_secs(10),
    )
    .await;
    println!(
        "heap allocations per call (both ends, setup and BYE): {:.0}",
        allocations as f64 / calls.succeeded.max(1) as f64
    );
    let torn_down = byes - established;
    if options.agents >= 1000 {
        println!(
            "goal under 30 kB per registered agent: {}",
            if per_agent < 30_000.0 {
                "met"
            } else {
                "missed"
            }
        );
    }

    // Unregister and close every agent.
    drop(orders);
    for task in tasks {
        let _ = task.await;
    }
    let answer_errors = tally.answer_errors.load(Ordering::Relaxed);
    let otherwise = tally.ended_otherwise.load(Ordering::Relaxed);
    if let Some(first) = failures.first() {
        return Err(format!(
            "{} of {} calls failed; first: {first}",
            failures.len(),
            options.calls
        ));
    }
    if torn_down < calls.succeeded || answer_errors > 0 || otherwise > 0 {
        return Err(format!(
            "{torn_down} of {} calls torn down by BYE, {answer_errors} answer errors, {otherwise} calls ended otherwise",
            calls.succeeded
        ));
    }
    Ok(calls)
}

fn main() {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(e) => {
            eprintln!(
                "ua_load: {e}\nusage: ua_load [--agents N] [--calls C] [--rate R] [--window W] [--register-window W] [--no-sipp]"
            );
            std::process::exit(2);
        }
    };
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!("skipped: needs the real peers, run scripts/test (see the file's docs)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "{} agents over WebSocket through Kamailio; {} calls at {} per second, at most {} in flight",
        options.agents,
        options.calls,
        if options.rate > 0.0 {
            format!("{}", options.rate)
        } else {
            "as many as possible".to_owned()
        },
        options.window
    );
    let ours = match runtime.block_on(sipline(&options)) {
        Ok(figures) => figures,
        Err(e) => {
            eprintln!("ua_load: {e}");
            std::process::exit(1);
        }
    };
    if options.rate >= 500.0 && options.calls >= 1000 {
        // The open loop's last call leaves at (calls - 1) / rate: allow that tail.
        let met = ours.rate() >= 0.98 * 500.0;
        println!(
            "goal 500 call setups per second: {}",
            if met { "met" } else { "missed" }
        );
    }
    if !options.sipp {
        return;
    }
    match sipp::sipp_calls(options.calls, options.rate, options.window) {
        Ok((peer, cpu_before, cpu_after)) => {
            peer.print("setups/s");
            // sipp's own CPU is not counted: it is a child we only wait for.
            cpu_after.print_since(cpu_before, peer.succeeded, "(sipp phase, sipp not counted)");
            println!("(sipp's response times are whole milliseconds: its clock ticks in ms)");
            println!(
                "ratio Sipline / sipp call setups per second: {:.2}",
                ours.rate() / peer.rate()
            );
            if peer.succeeded < peer.attempted {
                eprintln!(
                    "ua_load: sipp completed only {} of {} calls",
                    peer.succeeded, peer.attempted
                );
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("ua_load: {e}");
            std::process::exit(1);
        }
    }
}
