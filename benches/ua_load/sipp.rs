//! The peer workload: the same calls from sipp over UDP (a sipp UAS registers with digest,
//! a sipp UAC calls it through Kamailio with `interop/sipp/load_*.xml`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::{Cpu, Figures};

/// Starts sipp with `args` in `dir` (its trace files land there).
fn sipp(dir: &str, args: &[&str]) -> std::io::Result<std::process::Child> {
    Command::new("sipp")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// Reads the response times sipp's `-trace_rtt` wrote (`date_ms;rtt_ms;rtd_no` per line).
fn sipp_rtts(dir: &str, scenario: &str) -> Vec<Duration> {
    let mut rtts = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return rtts;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(scenario) && name.ends_with("_rtt.csv")) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines() {
            let mut fields = line.split(';');
            let (_, Some(rtt)) = (fields.next(), fields.next()) else {
                continue;
            };
            if let Ok(rtt) = rtt.trim().parse::<f64>() {
                rtts.push(Duration::from_secs_f64(rtt / 1e3));
            }
        }
    }
    rtts.sort_unstable();
    rtts
}

/// The cumulative count in a row of sipp's final screen (e.g. "Successful call").
fn sipp_cumulative(screen: &str, row: &str) -> Option<f64> {
    let line = screen
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with(row))?;
    line.split('|')
        .nth(2)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The same call workload from sipp over UDP: a sipp UAS registers, a sipp UAC calls it
/// through Kamailio.
pub(crate) fn sipp_calls(
    calls: usize,
    rate: f64,
    window: usize,
) -> Result<(Figures, Cpu, Cpu), String> {
    let root = std::env::var("SIPLINE_ROOT")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/..").to_owned());
    let run_dir = std::env::var("SIPLINE_RUN_DIR")
        .unwrap_or_else(|_| std::env::temp_dir().display().to_string());
    let dir = format!("{run_dir}/ua-load-sipp");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{dir}: {e}"))?;
    let scenario = |name: &str| format!("{root}/interop/sipp/{name}.xml");
    let (uac_port, uas_port) = ("5091", "5092");
    let common = [
        "-i",
        "127.0.0.1",
        "-timeout",
        "120",
        "-trace_screen",
        "-trace_err",
    ];

    let register = scenario("load_register");
    let mut args = vec!["-sf", &register, "-m", "1", "-p", uas_port];
    args.extend(common);
    args.push("127.0.0.1:5060");
    let status = sipp(&dir, &args)
        .and_then(|mut child| child.wait())
        .map_err(|e| format!("sipp not runnable: {e}"))?;
    if !status.success() {
        return Err(format!("sipp UAS did not register ({status}); see {dir}"));
    }

    let uas_scenario = scenario("load_uas");
    let count = calls.to_string();
    // No -m: a late ACK after the BYE would count as a call of its own and end it early.
    let mut args = vec!["-sf", &uas_scenario, "-p", uas_port];
    args.extend(common);
    let mut uas = sipp(&dir, &args).map_err(|e| format!("sipp UAS: {e}"))?;
    // Let the UAS bind before the first INVITE reaches it.
    std::thread::sleep(Duration::from_millis(300));

    let uac_scenario = scenario("load_uac");
    let (rate_arg, window_arg) = (
        if rate > 0.0 {
            format!("{rate}")
        } else {
            "1000000".to_owned()
        },
        window.to_string(),
    );
    let mut args = vec![
        "-sf",
        &uac_scenario,
        "-m",
        &count,
        "-r",
        &rate_arg,
        "-rp",
        "1000",
        "-l",
        &window_arg,
        "-p",
        uac_port,
        "-trace_rtt",
        "-rtt_freq",
        "1",
        // A 180 passed after the 200 by Kamailio's UDP workers is ignored, not fatal.
        "-default_behaviors",
        "all,-abortunexp",
    ];
    args.extend(common);
    args.push("127.0.0.1:5060");
    let start = Instant::now();
    let cpu_before = Cpu::now();
    // sipp's own -timeout did not always end it when calls piled up at an unbounded rate:
    // give up on it ourselves, a little after that.
    let limit = Duration::from_secs(130);
    let uac = sipp(&dir, &args)
        .map_err(|e| format!("sipp UAC: {e}"))
        .and_then(|mut child| {
            while start.elapsed() < limit {
                match child.try_wait() {
                    Ok(Some(status)) => return Ok(status),
                    Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                    Err(e) => return Err(format!("sipp UAC: {e}")),
                }
            }
            let _ = child.kill();
            let _ = child.wait();
            Err(format!(
                "sipp UAC did not finish within {limit:?}; see {dir}"
            ))
        });
    let elapsed = start.elapsed();
    let cpu_after = Cpu::now();
    // The UAC has its BYEs answered when it ends: the UAS has nothing left to do.
    let _ = uas.kill();
    let _ = uas.wait();
    let uac = uac?;

    let screen = std::fs::read_dir(&dir)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .find(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("load_uac") && name.ends_with("_screen.log")
        })
        .and_then(|e| std::fs::read_to_string(e.path()).ok())
        .unwrap_or_default();
    let succeeded = sipp_cumulative(&screen, "Successful call").unwrap_or(0.0) as usize;
    let latencies = sipp_rtts(&dir, "load_uac");
    if !uac.success() {
        println!("sipp UAC ended with {uac}: see {dir}");
    }
    Ok((
        Figures {
            label: "sipp call setups (UDP, peer)".into(),
            attempted: calls,
            succeeded,
            elapsed,
            latencies,
        },
        cpu_before,
        cpu_after,
    ))
}
