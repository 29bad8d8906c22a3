//! The audio pipeline's ends: sources that produce 20 ms frames of 48 kHz mono PCM and sinks
//! that consume decoded audio, plus the codecs in between.

mod codec;
#[cfg(feature = "device-audio")]
pub mod device;
pub mod g711;
mod resample;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

pub use codec::{AudioDecoder, AudioEncoder, FRAME_SAMPLES, SAMPLE_RATE};
pub use resample::{Downsampler, Upsampler};

use crate::error::{MediaError, Result};

/// Produces audio to send, one 20 ms frame at a time.
pub trait PcmSource: Send + 'static {
    /// Fills `frame` with the next 20 ms. Returns `false` once the source has ended (the
    /// frame is then silence), after which the session sends silence.
    fn fill(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> bool;
}

/// Consumes decoded far-end audio at 48 kHz mono.
pub trait PcmSink: Send + 'static {
    /// Takes decoded samples (usually one 20 ms frame).
    fn write(&mut self, samples: &[i16]);
}

/// Digital silence forever.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silence;

impl PcmSource for Silence {
    fn fill(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> bool {
        frame.fill(0);
        true
    }
}

/// A WAV file played once or looped, converted to 48 kHz mono (channels averaged, rate
/// converted by linear interpolation).
#[derive(Debug, Clone)]
pub struct WavSource {
    samples: Vec<i16>,
    position: usize,
    looped: bool,
}

impl WavSource {
    /// Reads the whole file now, so a bad file fails here and not during the call.
    pub fn open(path: impl AsRef<Path>, looped: bool) -> Result<Self> {
        let path = path.as_ref();
        let wav_error = |source| MediaError::Wav {
            path: path.to_path_buf(),
            source,
        };
        let mut reader = hound::WavReader::open(path).map_err(wav_error)?;
        let spec = reader.spec();
        let channels = usize::from(spec.channels.max(1));
        let interleaved: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Int => {
                let shift = 1i64 << (spec.bits_per_sample.clamp(1, 32) - 1);
                reader
                    .samples::<i32>()
                    .map(|s| s.map(|v| v as f32 / shift as f32))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(wav_error)?
            }
            hound::SampleFormat::Float => reader
                .samples::<f32>()
                .collect::<std::result::Result<_, _>>()
                .map_err(wav_error)?,
        };
        let mono: Vec<f32> = interleaved
            .chunks(channels)
            .map(|c| c.iter().sum::<f32>() / c.len() as f32)
            .collect();
        let samples = resample_linear(&mono, spec.sample_rate, SAMPLE_RATE);
        Ok(WavSource {
            samples,
            position: 0,
            looped,
        })
    }

    /// Length in 48 kHz samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether the file holds no audio.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

fn resample_linear(input: &[f32], from: u32, to: u32) -> Vec<i16> {
    if input.is_empty() || from == 0 {
        return Vec::new();
    }
    let out_len = (input.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    (0..out_len)
        .map(|i| {
            let x = i as f64 * f64::from(from) / f64::from(to);
            let k = x.floor() as usize;
            let frac = (x - k as f64) as f32;
            let a = input[k.min(input.len() - 1)];
            let b = input[(k + 1).min(input.len() - 1)];
            ((a + (b - a) * frac) * 32767.0)
                .round()
                .clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

impl PcmSource for WavSource {
    fn fill(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> bool {
        let mut written = 0;
        while written < FRAME_SAMPLES {
            if self.position >= self.samples.len() {
                if self.looped && !self.samples.is_empty() {
                    self.position = 0;
                } else {
                    frame[written..].fill(0);
                    return written > 0;
                }
            }
            let n = (FRAME_SAMPLES - written).min(self.samples.len() - self.position);
            frame[written..written + n]
                .copy_from_slice(&self.samples[self.position..self.position + n]);
            self.position += n;
            written += n;
        }
        true
    }
}

/// Audio pushed by the application: any chunk sizes, re-cut into 20 ms frames. When the
/// application falls behind, silence fills the gap; when the sender side is dropped the
/// source ends.
#[derive(Debug)]
pub struct AppSource {
    receiver: mpsc::Receiver<Vec<i16>>,
    pending: Vec<i16>,
    ended: bool,
}

impl AppSource {
    /// A source and the sender the application pushes 48 kHz mono samples into. `capacity`
    /// chunks may wait before `send` waits.
    pub fn channel(capacity: usize) -> (mpsc::Sender<Vec<i16>>, AppSource) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        (
            sender,
            AppSource {
                receiver,
                pending: Vec::new(),
                ended: false,
            },
        )
    }
}

impl PcmSource for AppSource {
    fn fill(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> bool {
        while self.pending.len() < FRAME_SAMPLES && !self.ended {
            match self.receiver.try_recv() {
                Ok(chunk) => self.pending.extend_from_slice(&chunk),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => self.ended = true,
            }
        }
        let n = self.pending.len().min(FRAME_SAMPLES);
        frame[..n].copy_from_slice(&self.pending[..n]);
        frame[n..].fill(0);
        self.pending.drain(..n);
        !(self.ended && self.pending.is_empty() && n == 0)
    }
}

/// Hands decoded audio to the application through a bounded channel; frames are dropped (and
/// counted) when the application does not keep up, so the network side never blocks.
#[derive(Debug)]
pub struct AppSink {
    sender: mpsc::Sender<Vec<i16>>,
    dropped: u64,
}

impl AppSink {
    /// A sink and the receiver the application reads 48 kHz mono chunks from.
    pub fn channel(capacity: usize) -> (AppSink, mpsc::Receiver<Vec<i16>>) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        (AppSink { sender, dropped: 0 }, receiver)
    }

    /// Frames dropped because the application's receiver was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

impl PcmSink for AppSink {
    fn write(&mut self, samples: &[i16]) {
        if self.sender.try_send(samples.to_vec()).is_err() {
            self.dropped += 1;
        }
    }
}

/// Records decoded audio to a 16-bit 48 kHz mono WAV file; the header is finalised when the
/// recorder is dropped (or [`WavRecorder::finish`] is called).
pub struct WavRecorder {
    path: PathBuf,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
}

impl std::fmt::Debug for WavRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavRecorder")
            .field("path", &self.path)
            .finish()
    }
}

impl WavRecorder {
    /// Creates (or truncates) the file.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(&path, spec).map_err(|source| MediaError::Wav {
            path: path.clone(),
            source,
        })?;
        Ok(WavRecorder {
            path,
            writer: Some(writer),
        })
    }

    /// Finalises the file and reports any error.
    pub fn finish(mut self) -> Result<()> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<()> {
        match self.writer.take() {
            Some(writer) => writer.finalize().map_err(|source| MediaError::Wav {
                path: self.path.clone(),
                source,
            }),
            None => Ok(()),
        }
    }
}

impl PcmSink for WavRecorder {
    fn write(&mut self, samples: &[i16]) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        for &s in samples {
            if let Err(error) = writer.write_sample(s) {
                tracing::warn!(path = %self.path.display(), %error, "WAV recording stopped");
                self.writer = None;
                return;
            }
        }
    }
}

impl Drop for WavRecorder {
    fn drop(&mut self) {
        if let Err(error) = self.finish_inner() {
            tracing::warn!(%error, "WAV recording could not be finalised");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::goertzel_dbfs;
    use crate::tones::{ToneGenerator, ToneSpec};

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("sip-media-{}-{name}", std::process::id()))
    }

    #[test]
    fn wav_record_then_play_once_and_looped() {
        let path = temp_path("tone.wav");
        let mut recorder = WavRecorder::create(&path).unwrap();
        let mut tone = ToneGenerator::new(ToneSpec::continuous(1000.0, 0.5));
        let mut frame = [0i16; FRAME_SAMPLES];
        for _ in 0..5 {
            tone.fill(&mut frame);
            recorder.write(&frame);
        }
        recorder.finish().unwrap();

        let mut once = WavSource::open(&path, false).unwrap();
        assert_eq!(once.len(), 5 * FRAME_SAMPLES);
        let mut played = Vec::new();
        for _ in 0..5 {
            assert!(once.fill(&mut frame));
            played.extend_from_slice(&frame);
        }
        assert!(goertzel_dbfs(&played, SAMPLE_RATE, 1000.0) > -7.0);
        assert!(!once.fill(&mut frame), "a played-once file ends");
        assert!(frame.iter().all(|&s| s == 0));

        let mut looped = WavSource::open(&path, true).unwrap();
        for _ in 0..12 {
            assert!(looped.fill(&mut frame));
        }
        assert!(goertzel_dbfs(&frame, SAMPLE_RATE, 1000.0) > -7.0);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn wav_at_8khz_stereo_is_converted() {
        let path = temp_path("stereo8k.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..8000 {
            let v =
                ((2.0 * std::f32::consts::PI * 500.0 * i as f32 / 8000.0).sin() * 10000.0) as i16;
            writer.write_sample(v).unwrap();
            writer.write_sample(v).unwrap();
        }
        writer.finalize().unwrap();
        let source = WavSource::open(&path, false).unwrap();
        assert_eq!(source.len(), 48_000);
        assert!(goertzel_dbfs(&source.samples, SAMPLE_RATE, 500.0) > -12.0);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn missing_wav_is_a_typed_error() {
        let err = WavSource::open("/nonexistent/x.wav", false).unwrap_err();
        assert!(matches!(err, MediaError::Wav { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/x.wav"));
    }

    #[test]
    fn app_source_recuts_chunks_and_ends() {
        let (sender, mut source) = AppSource::channel(8);
        sender.try_send(vec![1; 500]).unwrap();
        sender.try_send(vec![2; 700]).unwrap();
        let mut frame = [0i16; FRAME_SAMPLES];
        assert!(source.fill(&mut frame));
        assert_eq!(frame[499], 1);
        assert_eq!(frame[500], 2);
        drop(sender);
        assert!(source.fill(&mut frame));
        assert_eq!(frame[239], 2);
        assert_eq!(frame[240], 0);
        assert!(!source.fill(&mut frame));
    }

    #[test]
    fn app_sink_drops_when_full() {
        let (mut sink, mut receiver) = AppSink::channel(1);
        sink.write(&[1, 2]);
        sink.write(&[3]);
        assert_eq!(sink.dropped(), 1);
        assert_eq!(receiver.try_recv().unwrap(), vec![1, 2]);
    }
}
