//! Levels for a visualiser (RMS and peak in dBFS, a 16-band spectrum) and a Goertzel tone
//! detector.

use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

/// Size of the spectrum FFT; SIP Core's analyser uses 32, giving 16 bands.
pub const FFT_SIZE: usize = 32;
/// Number of spectrum bands.
pub const BANDS: usize = FFT_SIZE / 2;
/// The floor reported for digital silence.
pub const SILENCE_DBFS: f32 = -100.0;

/// Which side of the call a level report describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelSide {
    /// What this end sends (after mute).
    Local,
    /// What the far end sends (decoded).
    Remote,
}

/// One visualiser sample.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelReport {
    /// Which audio this is.
    pub side: LevelSide,
    /// RMS level over the period since the previous report, in dBFS.
    pub rms_dbfs: f32,
    /// Peak absolute sample over the same period, in dBFS.
    pub peak_dbfs: f32,
    /// Smoothed magnitudes of the 16 bands (0 Hz up to half the sample rate), linear 0..1.
    pub spectrum: [f32; BANDS],
}

/// Converts a linear amplitude (1.0 = full scale) to dBFS, floored at [`SILENCE_DBFS`].
pub fn to_dbfs(amplitude: f32) -> f32 {
    if amplitude <= 0.0 {
        SILENCE_DBFS
    } else {
        (20.0 * amplitude.log10()).max(SILENCE_DBFS)
    }
}

/// RMS of `samples` in dBFS (a full-scale sine reads -3 dBFS).
pub fn rms_dbfs(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return SILENCE_DBFS;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    to_dbfs(((sum / samples.len() as f64).sqrt() / 32768.0) as f32)
}

/// Level of the `frequency` component of `samples` in dBFS of a sine's amplitude (a full-scale
/// sine at exactly that frequency reads about 0), by the Goertzel algorithm.
pub fn goertzel_dbfs(samples: &[i16], sample_rate: u32, frequency: f32) -> f32 {
    if samples.is_empty() {
        return SILENCE_DBFS;
    }
    let omega = 2.0 * std::f64::consts::PI * f64::from(frequency) / f64::from(sample_rate);
    let coeff = 2.0 * omega.cos();
    let (mut s1, mut s2) = (0f64, 0f64);
    for &sample in samples {
        let s0 = f64::from(sample) / 32768.0 + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let amplitude = 2.0 * power.max(0.0).sqrt() / samples.len() as f64;
    to_dbfs(amplitude as f32)
}

/// Accumulates audio and produces [`LevelReport`]s, like a Web Audio `AnalyserNode`
/// (Blackman window, smoothing between reports).
pub struct LevelMeter {
    side: LevelSide,
    smoothing: f32,
    fft: Arc<dyn Fft<f32>>,
    window: [f32; FFT_SIZE],
    recent: [i16; FFT_SIZE],
    recent_len: usize,
    sum_squares: f64,
    count: usize,
    peak: i32,
    smoothed: [f32; BANDS],
}

impl std::fmt::Debug for LevelMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LevelMeter")
            .field("side", &self.side)
            .finish()
    }
}

impl LevelMeter {
    /// A meter; `smoothing` in 0..1 as `AnalyserNode.smoothingTimeConstant`.
    pub fn new(side: LevelSide, smoothing: f32) -> Self {
        let mut window = [0f32; FFT_SIZE];
        for (i, w) in window.iter_mut().enumerate() {
            let phase = 2.0 * std::f32::consts::PI * i as f32 / FFT_SIZE as f32;
            *w = 0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos();
        }
        LevelMeter {
            side,
            smoothing: smoothing.clamp(0.0, 0.99),
            fft: FftPlanner::new().plan_fft_forward(FFT_SIZE),
            window,
            recent: [0; FFT_SIZE],
            recent_len: 0,
            sum_squares: 0.0,
            count: 0,
            peak: 0,
            smoothed: [0.0; BANDS],
        }
    }

    /// Feeds samples.
    pub fn push(&mut self, samples: &[i16]) {
        for &s in samples {
            self.sum_squares += f64::from(s) * f64::from(s);
            self.peak = self.peak.max(i32::from(s).abs());
        }
        self.count += samples.len();
        let tail = &samples[samples.len().saturating_sub(FFT_SIZE)..];
        let keep = FFT_SIZE - tail.len();
        self.recent.copy_within(FFT_SIZE - keep.., 0);
        self.recent[keep..].copy_from_slice(tail);
        self.recent_len = (self.recent_len + tail.len()).min(FFT_SIZE);
    }

    /// Produces a report over the samples pushed since the last one, and starts a new period.
    pub fn report(&mut self) -> LevelReport {
        let rms = if self.count == 0 {
            0.0
        } else {
            ((self.sum_squares / self.count as f64).sqrt() / 32768.0) as f32
        };
        let mut buffer: Vec<Complex32> = self
            .recent
            .iter()
            .zip(self.window.iter())
            .map(|(&s, &w)| Complex32::new(f32::from(s) / 32768.0 * w, 0.0))
            .collect();
        self.fft.process(&mut buffer);
        for (band, value) in self.smoothed.iter_mut().enumerate() {
            let magnitude = buffer[band].norm() / FFT_SIZE as f32;
            *value = self.smoothing * *value + (1.0 - self.smoothing) * magnitude;
        }
        let report = LevelReport {
            side: self.side,
            rms_dbfs: to_dbfs(rms),
            peak_dbfs: to_dbfs(self.peak as f32 / 32768.0),
            spectrum: self.smoothed,
        };
        self.sum_squares = 0.0;
        self.count = 0;
        self.peak = 0;
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, amplitude: f32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                ((2.0 * std::f32::consts::PI * freq * i as f32 / 48_000.0).sin()
                    * amplitude
                    * 32767.0) as i16
            })
            .collect()
    }

    #[test]
    fn full_scale_sine_levels() {
        let samples = sine(1000.0, 1.0, 4800);
        assert!((rms_dbfs(&samples) + 3.01).abs() < 0.1);
        assert!(goertzel_dbfs(&samples, 48_000, 1000.0).abs() < 0.2);
        assert!(goertzel_dbfs(&samples, 48_000, 1500.0) < -30.0);
        assert_eq!(rms_dbfs(&[0; 100]), SILENCE_DBFS);
    }

    #[test]
    fn meter_reports_and_resets() {
        let mut meter = LevelMeter::new(LevelSide::Remote, 0.5);
        meter.push(&sine(6000.0, 0.5, 1600));
        let report = meter.report();
        assert!((report.peak_dbfs + 6.0).abs() < 0.2, "{}", report.peak_dbfs);
        assert!((report.rms_dbfs + 9.0).abs() < 0.2, "{}", report.rms_dbfs);
        // 6 kHz sits in band 4 of 16 (1.5 kHz each at 48 kHz).
        let loudest = (0..BANDS)
            .max_by(|&a, &b| report.spectrum[a].total_cmp(&report.spectrum[b]))
            .unwrap();
        assert_eq!(loudest, 4);
        let first = report.spectrum[4];
        meter.push(&[0; 960]);
        let quiet = meter.report();
        assert_eq!(quiet.rms_dbfs, SILENCE_DBFS);
        // Smoothing 0.5: half the previous magnitude remains.
        assert!((quiet.spectrum[4] - first * 0.5).abs() < 1e-4);
    }
}
