//! The media of the softphone's calls: what each call sends (a 440 Hz tone or `--play`), the
//! recording of what it receives, the loudest far-end level and the summary after the call.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sip_media::audio::{PcmSource, WavRecorder, WavSource};
use sip_media::level::{LevelSide, SILENCE_DBFS};
use sip_media::tones::{ToneGenerator, ToneSpec};
use sip_media::{MediaEvent, MediaOptions, MediaSession, RtpMedia, WebRtcMedia};
use sip_ua::CallHandle;
use sip_ua::driver::{MediaFactory, MediaHandle};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::output::CallSummary;

/// The tone every call sends without `--play`.
pub const TONE_HZ: f32 = 440.0;
/// Its amplitude: half of full scale, an RMS level of about -9 dBFS.
pub const TONE_AMPLITUDE: f32 = 0.5;

/// Which media stack calls use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// WebRTC (ICE, DTLS-SRTP): what WebSocket servers and browsers expect.
    WebRtc,
    /// Plain RTP/AVP: what UDP/TCP PBXes expect.
    PlainRtp,
}

/// Creates each call's session and sets what it sends.
pub struct SoftphoneMedia {
    kind: MediaKind,
    options: MediaOptions,
    play: Option<PathBuf>,
}

impl SoftphoneMedia {
    /// A factory for sessions of `kind`. `play` is read now so that a bad file is reported
    /// before any call.
    pub fn new(
        kind: MediaKind,
        options: MediaOptions,
        play: Option<PathBuf>,
    ) -> Result<Arc<SoftphoneMedia>, String> {
        if let Some(path) = &play {
            let wav = WavSource::open(path, false)
                .map_err(|e| format!("--play {}: {e}", path.display()))?;
            if wav.is_empty() {
                return Err(format!(
                    "--play {}: the file holds no audio",
                    path.display()
                ));
            }
        }
        Ok(Arc::new(SoftphoneMedia {
            kind,
            options,
            play,
        }))
    }

    fn source(&self) -> sip_media::Result<Box<dyn PcmSource>> {
        Ok(match &self.play {
            Some(path) => Box::new(WavSource::open(path, false)?),
            None => Box::new(ToneGenerator::new(ToneSpec::continuous(
                TONE_HZ,
                TONE_AMPLITUDE,
            ))),
        })
    }
}

#[async_trait]
impl MediaFactory for SoftphoneMedia {
    async fn create(&self) -> sip_media::Result<Arc<dyn MediaSession>> {
        let source = self.source()?;
        let session: Arc<dyn MediaSession> = match self.kind {
            MediaKind::WebRtc => Arc::new(WebRtcMedia::new(self.options.clone()).await?),
            MediaKind::PlainRtp => Arc::new(RtpMedia::new(self.options.clone()).await?),
        };
        session.set_source(source);
        Ok(session)
    }
}

/// Where call number `n` (from 1) of a command records: the path itself for the first call,
/// `NAME-n.EXT` beside it for later ones.
pub fn recording_path(base: &Path, n: u32) -> PathBuf {
    if n <= 1 {
        return base.to_path_buf();
    }
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "recording".to_owned());
    let name = match base.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    base.with_file_name(name)
}

/// The media of one call while it lasts.
pub struct CallMedia {
    media: MediaHandle,
    loudest: Arc<Mutex<f32>>,
    watchers: Vec<JoinHandle<()>>,
    recording: Option<PathBuf>,
}

impl CallMedia {
    /// Starts watching a call's media: its far-end levels, and its events, which go to
    /// `events` tagged with the call. Records the far end to `record` when given.
    pub fn attach(
        media: MediaHandle,
        record: Option<PathBuf>,
        events: mpsc::UnboundedSender<(CallHandle, MediaEvent)>,
    ) -> Result<CallMedia, String> {
        if let Some(path) = &record {
            let recorder = WavRecorder::create(path)
                .map_err(|e| format!("--record {}: {e}", path.display()))?;
            media.set_sink(Some(Box::new(recorder)));
        }
        let loudest = Arc::new(Mutex::new(SILENCE_DBFS));
        let call = media.call();
        let mut levels = media.levels();
        let max = loudest.clone();
        let level_watcher = tokio::spawn(async move {
            loop {
                match levels.recv().await {
                    Ok(report) if report.side == LevelSide::Remote => {
                        if let Ok(mut max) = max.lock() {
                            *max = max.max(report.rms_dbfs);
                        }
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        let mut media_events = media.events();
        let event_watcher = tokio::spawn(async move {
            loop {
                match media_events.recv().await {
                    Ok(event) => {
                        if events.send((call, event)).is_err() {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Ok(CallMedia {
            media,
            loudest,
            watchers: vec![level_watcher, event_watcher],
            recording: record,
        })
    }

    /// Stops watching, finishes the recording and reads the counters.
    pub async fn finish(self) -> CallSummary {
        for watcher in &self.watchers {
            watcher.abort();
        }
        // Dropping the recorder writes the WAV header's final sizes.
        self.media.set_sink(None);
        let stats = self.media.stats().await;
        let rx_level_max_dbfs = self.loudest.lock().map(|m| *m).unwrap_or(SILENCE_DBFS);
        CallSummary {
            rx_packets: stats.packets_received,
            tx_packets: stats.packets_sent,
            rx_level_max_dbfs,
            codec: stats.codec.map(|c| c.encoding_name().to_ascii_lowercase()),
            recording: self.recording.map(|p| p.display().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_calls_record_beside_the_first() {
        let base = Path::new("/tmp/out.wav");
        assert_eq!(recording_path(base, 1), base);
        assert_eq!(recording_path(base, 3), Path::new("/tmp/out-3.wav"));
        assert_eq!(recording_path(Path::new("rec"), 2), Path::new("rec-2"));
    }

    #[test]
    fn a_missing_play_file_is_reported_before_any_call() {
        let Err(e) = SoftphoneMedia::new(
            MediaKind::WebRtc,
            MediaOptions::loopback(),
            Some("/nonexistent/greeting.wav".into()),
        ) else {
            panic!("a missing file was accepted");
        };
        assert!(e.contains("--play /nonexistent/greeting.wav"), "{e}");
    }
}
