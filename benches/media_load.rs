//! Load program for sip-media on loopback (prints figures; not a criterion bench).
//!
//! ```sh
//! unshare -n bash -c 'ip link set lo up; SIPLINE_INTEROP=1 cargo bench -p sipline-benches --bench media_load'
//! ```
//!
//! 1. Time from applying the remote answer to the first decoded audio frame, for two
//!    `WebRtcMedia` sessions, side by side with Chromium's figure for the same exchange (two
//!    `RTCPeerConnection`s in one headless page, `interop/browser/peer.js`; only when
//!    `SIPLINE_INTEROP` is set and `interop/browser/node_modules` exists).
//! 2. CPU time per 20 ms frame of each encoder and decoder setting (thread CPU time, so the
//!    figure holds on a busy machine): what a call costs before any networking.
//! 3. CPU and resident memory per call at 1, 10 and 50 concurrent Opus calls, with the default
//!    Opus settings and with `OpusOptions::low_cpu()`; each call is two sessions in this
//!    process (both ends encode and decode 20 ms Opus frames), so the per-call figure covers
//!    both ends. `MEDIA_LOAD_CALLS=10,50` picks other counts (and shortens part 1 to one run);
//!    `MEDIA_LOAD_OPUS=default` or `low-cpu` runs one setting only.

use std::process::Stdio;
use std::time::{Duration, Instant};

use sip_media::audio::{AudioDecoder, AudioEncoder, FRAME_SAMPLES, PcmSource};
use sip_media::tones::{ToneGenerator, ToneSpec};
use sip_media::{
    AnswerKind, AudioCodec, MediaEvent, MediaOptions, MediaSession, OpusMode, OpusOptions,
    WebRtcMedia,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const TIMING_RUNS: usize = 20;
const MEASURE: Duration = Duration::from_secs(10);

fn options(call_id: String, opus: OpusOptions) -> MediaOptions {
    MediaOptions {
        codecs: vec![AudioCodec::Opus],
        opus,
        call_id,
        ..MediaOptions::loopback()
    }
}

async fn wait_event(
    media: &mut tokio::sync::broadcast::Receiver<MediaEvent>,
    wanted: MediaEvent,
) -> bool {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match media.recv().await {
                Ok(event) if event == wanted => return true,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .unwrap_or(false)
}

/// One connected call: both ends send a tone.
async fn call(id: usize, opus: OpusOptions) -> (WebRtcMedia, WebRtcMedia, Duration) {
    let caller = WebRtcMedia::new(options(format!("bench-{id}-a"), opus))
        .await
        .expect("caller");
    let callee = WebRtcMedia::new(options(format!("bench-{id}-b"), opus))
        .await
        .expect("callee");
    caller.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
        440.0, 0.3,
    ))));
    callee.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
        1000.0, 0.3,
    ))));
    let mut events = caller.events();
    let offer = caller.create_offer().await.expect("offer");
    let answer = callee.create_answer(&offer).await.expect("answer");
    let start = Instant::now();
    caller
        .apply_answer(&answer, AnswerKind::Final)
        .await
        .expect("apply answer");
    assert!(
        wait_event(&mut events, MediaEvent::FirstRemoteAudio).await,
        "no audio in call {id}"
    );
    (caller, callee, start.elapsed())
}

fn summary(label: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    let pick = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    println!(
        "{label:<44} median {:7.1} ms   p90 {:7.1} ms   min {:7.1} ms   ({} runs)",
        pick(0.5),
        pick(0.9),
        values[0],
        values.len()
    );
}

async fn chromium_timing() -> Option<Vec<(f64, f64)>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../interop/browser");
    if std::env::var_os("SIPLINE_INTEROP").is_none()
        || !std::path::Path::new(dir)
            .join("node_modules/playwright-core")
            .exists()
    {
        println!("Chromium side skipped: set SIPLINE_INTEROP and run `npm ci` in interop/browser");
        return None;
    }
    let mut child = tokio::process::Command::new("node")
        .arg("peer.js")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let mut lines = BufReader::new(child.stdout.take()?).lines();
    // All requests at once, then end of input: the peer works through them in order.
    let request = format!(
        "{{\"id\":1,\"cmd\":\"setup\"}}\n{{\"id\":2,\"cmd\":\"loopbackTiming\",\"runs\":{TIMING_RUNS}}}\n{{\"cmd\":\"quit\"}}\n"
    );
    stdin.write_all(request.as_bytes()).await.ok()?;
    drop(stdin);
    let _setup = lines.next_line().await.ok()??;
    let timing: serde_json::Value = serde_json::from_str(&lines.next_line().await.ok()??).ok()?;
    let _ = child.wait().await;
    timing["result"]
        .as_array()?
        .iter()
        .map(|r| Some((r["firstPacketMs"].as_f64()?, r["firstDecodedMs"].as_f64()?)))
        .collect()
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process, in clock ticks (100 per second on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The machine's one-minute load average: how much else competed for the cores.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU time this thread has run, in microseconds (`/proc/thread-self/schedstat`, ns).
fn thread_cpu_us() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1000.0)
}

/// Encoder and decoder CPU time per 20 ms frame of a speech-band tone pair.
fn codec_costs() {
    const FRAMES: usize = 500;
    let settings = [
        (
            "Opus default (voice, complexity 5)",
            AudioCodec::Opus,
            OpusOptions::default(),
        ),
        (
            "Opus voice, complexity 9 (browsers' desktop)",
            AudioCodec::Opus,
            OpusOptions {
                mode: OpusMode::Voice,
                complexity: 9,
                ..OpusOptions::default()
            },
        ),
        (
            "Opus low_cpu() (CELT, complexity 3)",
            AudioCodec::Opus,
            OpusOptions::low_cpu(),
        ),
        (
            "PCMU (with 48 -> 8 kHz resampling)",
            AudioCodec::Pcmu,
            OpusOptions::default(),
        ),
    ];
    for (label, codec, opus) in settings {
        let mut source = ToneGenerator::new(ToneSpec {
            frequencies: vec![440.0, 1000.0],
            cadence: Vec::new(),
            amplitude: 0.3,
        });
        let mut frames = vec![[0i16; FRAME_SAMPLES]; 50];
        for frame in &mut frames {
            source.fill(frame);
        }
        let mut encoder = AudioEncoder::with_opus_options(codec, opus).expect("encoder");
        let mut decoder = AudioDecoder::new(codec).expect("decoder");
        let (mut payload, mut pcm) = (Vec::new(), Vec::with_capacity(FRAME_SAMPLES));
        let (mut encode_us, mut decode_us, mut bytes) = (0.0, 0.0, 0);
        for i in 0..FRAMES {
            let t0 = thread_cpu_us();
            encoder
                .encode(&frames[i % frames.len()], &mut payload)
                .expect("encode");
            let t1 = thread_cpu_us();
            pcm.clear();
            decoder.decode(&payload, &mut pcm).expect("decode");
            decode_us += thread_cpu_us() - t1;
            encode_us += t1 - t0;
            bytes += payload.len();
        }
        let frames = FRAMES as f64;
        println!(
            "{label:<46} encode {:6.1} us/frame, decode {:5.1} us/frame, {:3.0} B/frame \
             (one direction of one call: {:4.2} % of a core)",
            encode_us / frames,
            decode_us / frames,
            bytes as f64 / frames,
            (encode_us + decode_us) / frames * 50.0 / 1e4,
        );
    }
}

async fn load(calls: usize, opus: OpusOptions) {
    let rss_before = rss_mib();
    let mut sessions = Vec::with_capacity(calls);
    for id in 0..calls {
        let (a, b, _) = call(id, opus).await;
        sessions.push((a, b));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut received_before = 0;
    let mut sent_before = 0;
    for (a, b) in &sessions {
        let (sa, sb) = (a.stats().await, b.stats().await);
        received_before += sa.packets_received + sb.packets_received;
        sent_before += sa.packets_sent + sb.packets_sent;
    }
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    tokio::time::sleep(MEASURE).await;
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    let rss = rss_mib();
    let mut received = 0;
    let mut sent = 0;
    let mut lost = 0;
    for (a, b) in &sessions {
        let (sa, sb) = (a.stats().await, b.stats().await);
        received += sa.packets_received + sb.packets_received;
        sent += sa.packets_sent + sb.packets_sent;
        lost += sa.packets_lost + sb.packets_lost;
    }
    let expected = (2 * calls) as f64 * wall * 50.0;
    let setting = if opus.mode == OpusMode::LowCpu {
        "low_cpu"
    } else {
        "default"
    };
    let sent_in_window = (sent - sent_before) as f64;
    // CPU per call at the full 100 packets/s per call: what the call really costs, whatever
    // share of the machine this process was given.
    let full_rate_share = if sent_in_window > 0.0 {
        100.0 * cpu / sent_in_window * (2.0 * 50.0)
    } else {
        0.0
    };
    println!(
        "{calls:>3} calls, Opus {setting:<7}: CPU {:6.1}% of one core ({:5.2}% per call; {:5.2}% per call at full rate), \
         RSS +{:6.1} MiB ({:5.2} MiB per call), packets sent {} received {:.0} of {:.0} expected ({:.1}%), lost {lost}, \
         load average {}",
        100.0 * cpu / wall,
        100.0 * cpu / wall / calls as f64,
        full_rate_share,
        rss - rss_before,
        (rss - rss_before) / calls as f64,
        sent - sent_before,
        (received - received_before) as f64,
        expected,
        100.0 * (received - received_before) as f64 / expected,
        load_average(),
    );
    for (a, b) in sessions {
        let _ = a.close().await;
        let _ = b.close().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        println!("== answer applied -> first decoded audio frame (loopback, Opus, non-trickle)");
        let mut ours = Vec::new();
        let runs = if std::env::var_os("MEDIA_LOAD_CALLS").is_some() {
            1
        } else {
            TIMING_RUNS
        };
        for id in 0..runs {
            let (a, b, elapsed) = call(id, OpusOptions::default()).await;
            ours.push(elapsed.as_secs_f64() * 1000.0);
            let _ = a.close().await;
            let _ = b.close().await;
        }
        summary("sip-media WebRtcMedia (first decoded frame)", ours);
        if let Some(chromium) = chromium_timing().await {
            summary(
                "Chromium 2 PCs (first packet received)",
                chromium.iter().map(|r| r.0).collect(),
            );
            summary(
                "Chromium 2 PCs (first decoded samples)",
                chromium.iter().map(|r| r.1).collect(),
            );
        }
        println!("\n== codec CPU time per 20 ms frame (thread CPU time)");
        codec_costs();
        println!("\n== concurrent Opus calls (2 sessions each, both ends encode and decode)");
        let counts: Vec<usize> = std::env::var("MEDIA_LOAD_CALLS")
            .ok()
            .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![1, 10, 50]);
        let settings: Vec<OpusOptions> = match std::env::var("MEDIA_LOAD_OPUS").as_deref() {
            Ok("default") => vec![OpusOptions::default()],
            Ok("low-cpu") => vec![OpusOptions::low_cpu()],
            _ => vec![OpusOptions::default(), OpusOptions::low_cpu()],
        };
        for calls in counts {
            for &opus in &settings {
                load(calls, opus).await;
            }
        }
    });
}
