//! The visualiser feed end to end: a tone sent by one `WebRtcMedia` shows at the other end's
//! remote level reports with its level and in its spectrum band; silence shows low levels.

use std::time::Duration;

use sip_media::audio::Silence;
use sip_media::level::{BANDS, LevelReport, LevelSide};
use sip_media::tones::{ToneGenerator, ToneSpec};
use sip_media::{AnswerKind, AudioCodec, MediaOptions, MediaSession, WebRtcMedia};
use tokio::sync::broadcast;

/// 3 kHz is the centre of band 2 (16 bands of 1.5 kHz over 0..24 kHz at 48 kHz).
const TONE_HZ: f32 = 3000.0;
const TONE_BAND: usize = 2;
/// A sine of amplitude 0.5: peak -6 dBFS, RMS -9 dBFS.
const AMPLITUDE: f32 = 0.5;

async fn session(call_id: &str) -> WebRtcMedia {
    WebRtcMedia::new(MediaOptions {
        codecs: vec![AudioCodec::Opus],
        call_id: call_id.to_string(),
        ..MediaOptions::loopback()
    })
    .await
    .unwrap()
}

/// Waits up to 10 s for a report of `side` that satisfies `wanted`; returns the last report
/// of that side seen when none did.
async fn report_where(
    levels: &mut broadcast::Receiver<LevelReport>,
    side: LevelSide,
    wanted: impl Fn(&LevelReport) -> bool,
) -> Result<LevelReport, Option<LevelReport>> {
    let mut last = None;
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match levels.recv().await {
                Ok(report) if report.side == side => {
                    if wanted(&report) {
                        return Some(report);
                    }
                    last = Some(report);
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .await;
    match found {
        Ok(Some(report)) => Ok(report),
        _ => Err(last),
    }
}

fn loudest_band(report: &LevelReport) -> usize {
    (0..BANDS)
        .max_by(|&a, &b| report.spectrum[a].total_cmp(&report.spectrum[b]))
        .unwrap_or(0)
}

/// A report over the tone alone (the first ones also cover the silence before it): RMS
/// -9 dBFS within 3 dB, and the tone's band stands out: loudest, and at least 4 times every
/// band two or more away.
fn shows_the_tone(report: &LevelReport) -> bool {
    let tone = report.spectrum[TONE_BAND];
    (report.rms_dbfs - -9.0).abs() < 3.0
        && report.peak_dbfs > -10.0
        && loudest_band(report) == TONE_BAND
        && (0..BANDS)
            .filter(|b| b.abs_diff(TONE_BAND) >= 2)
            .all(|b| report.spectrum[b] * 4.0 < tone)
}

#[tokio::test]
async fn remote_levels_follow_the_far_end_tone_and_silence() {
    let caller = session("visual-caller").await;
    let callee = session("visual-callee").await;
    caller.set_source(Box::new(ToneGenerator::new(ToneSpec::continuous(
        TONE_HZ, AMPLITUDE,
    ))));
    let mut caller_levels = caller.levels();
    let mut callee_levels = callee.levels();
    let offer = caller.create_offer().await.unwrap();
    let answer = callee.create_answer(&offer).await.unwrap();
    caller
        .apply_answer(&answer, AnswerKind::Final)
        .await
        .unwrap();

    // The sender's own feed shows the tone as it leaves...
    let local = report_where(&mut caller_levels, LevelSide::Local, shows_the_tone).await;
    assert!(local.is_ok(), "caller's local feed: {local:?}");
    // ...and the far end's remote feed shows it after Opus and the network.
    let remote = report_where(&mut callee_levels, LevelSide::Remote, shows_the_tone).await;
    assert!(remote.is_ok(), "callee's remote feed: {remote:?}");
    // The callee sends silence (its default source): its remote feed at the caller is low.
    let quiet = report_where(&mut caller_levels, LevelSide::Remote, |r| {
        r.rms_dbfs < -60.0
    })
    .await;
    assert!(quiet.is_ok(), "caller's remote feed: {quiet:?}");

    // The tone stops: the far end's remote feed falls to silence.
    caller.set_source(Box::new(Silence));
    let silent = report_where(&mut callee_levels, LevelSide::Remote, |r| {
        r.rms_dbfs < -60.0 && r.peak_dbfs < -50.0
    })
    .await;
    assert!(
        silent.is_ok(),
        "callee's remote feed after silence: {silent:?}"
    );

    caller.close().await.unwrap();
    callee.close().await.unwrap();
}
