//! Call-progress tones: ringback (what the caller hears) and ringtone (what announces an
//! incoming call), as cadenced sums of sines.

use std::time::Duration;

use crate::audio::{FRAME_SAMPLES, PcmSource, SAMPLE_RATE};

/// A tone: frequencies played together, switched on and off by a repeating cadence.
#[derive(Debug, Clone, PartialEq)]
pub struct ToneSpec {
    /// Frequencies in Hz, summed.
    pub frequencies: Vec<f32>,
    /// `(on, off)` steps, repeated forever. Empty means continuously on.
    pub cadence: Vec<(Duration, Duration)>,
    /// Peak amplitude of the sum, 0..1 of full scale.
    pub amplitude: f32,
}

impl ToneSpec {
    /// A continuous tone (used for tests and as a test signal).
    pub fn continuous(frequency: f32, amplitude: f32) -> Self {
        ToneSpec {
            frequencies: vec![frequency],
            cadence: Vec::new(),
            amplitude,
        }
    }

    /// ETSI (ES 201 970, most of Europe) ringback: 425 Hz, 1 s on, 4 s off.
    pub fn ringback_etsi() -> Self {
        ToneSpec {
            frequencies: vec![425.0],
            cadence: vec![(Duration::from_secs(1), Duration::from_secs(4))],
            amplitude: 0.25,
        }
    }

    /// North American (ANSI T1.401) ringback: 440 + 480 Hz, 2 s on, 4 s off.
    pub fn ringback_north_america() -> Self {
        ToneSpec {
            frequencies: vec![440.0, 480.0],
            cadence: vec![(Duration::from_secs(2), Duration::from_secs(4))],
            amplitude: 0.25,
        }
    }

    /// A local ringtone for incoming calls: 440 + 480 Hz double ring (0.4 s on, 0.2 s off,
    /// 0.4 s on, 2 s off), loud enough to be noticed.
    pub fn ringtone() -> Self {
        ToneSpec {
            frequencies: vec![440.0, 480.0],
            cadence: vec![
                (Duration::from_millis(400), Duration::from_millis(200)),
                (Duration::from_millis(400), Duration::from_millis(2000)),
            ],
            amplitude: 0.5,
        }
    }
}

/// Plays a [`ToneSpec`] as a [`PcmSource`] at 48 kHz.
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    spec: ToneSpec,
    /// Sample index since start.
    position: u64,
    /// Cadence as sample counts `(on, off)`, and the total period.
    steps: Vec<(u64, u64)>,
    period: u64,
}

impl ToneGenerator {
    /// A generator starting at the beginning of the cadence.
    pub fn new(spec: ToneSpec) -> Self {
        let to_samples = |d: Duration| (d.as_secs_f64() * f64::from(SAMPLE_RATE)).round() as u64;
        let steps: Vec<(u64, u64)> = spec
            .cadence
            .iter()
            .map(|&(on, off)| (to_samples(on), to_samples(off)))
            .collect();
        let period = steps.iter().map(|(on, off)| on + off).sum();
        ToneGenerator {
            spec,
            position: 0,
            steps,
            period,
        }
    }

    fn is_on(&self, position: u64) -> bool {
        if self.period == 0 {
            return true;
        }
        let mut t = position % self.period;
        for &(on, off) in &self.steps {
            if t < on {
                return true;
            }
            if t < on + off {
                return false;
            }
            t -= on + off;
        }
        false
    }
}

impl PcmSource for ToneGenerator {
    fn fill(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> bool {
        let count = self.spec.frequencies.len().max(1) as f32;
        let scale = self.spec.amplitude.clamp(0.0, 1.0) * 32767.0 / count;
        for sample in frame.iter_mut() {
            *sample = if self.is_on(self.position) {
                let t = self.position as f64 / f64::from(SAMPLE_RATE);
                let sum: f64 = self
                    .spec
                    .frequencies
                    .iter()
                    .map(|&f| (2.0 * std::f64::consts::PI * f64::from(f) * t).sin())
                    .sum();
                (sum as f32 * scale) as i16
            } else {
                0
            };
            self.position += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::{SILENCE_DBFS, goertzel_dbfs, rms_dbfs};

    fn frames(generator: &mut ToneGenerator, count: usize) -> Vec<i16> {
        let mut out = Vec::new();
        let mut frame = [0i16; FRAME_SAMPLES];
        for _ in 0..count {
            generator.fill(&mut frame);
            out.extend_from_slice(&frame);
        }
        out
    }

    #[test]
    fn etsi_ringback_cadence() {
        let mut g = ToneGenerator::new(ToneSpec::ringback_etsi());
        let audio = frames(&mut g, 250); // 5 s
        let first_second = &audio[..48_000];
        let silent = &audio[48_000 + 960..5 * 48_000];
        assert!(goertzel_dbfs(first_second, 48_000, 425.0) > -15.0);
        assert_eq!(rms_dbfs(silent), SILENCE_DBFS);
        // The next period starts on again.
        let again = frames(&mut g, 10);
        assert!(rms_dbfs(&again) > -20.0);
    }

    #[test]
    fn north_american_ringback_has_both_frequencies() {
        let mut g = ToneGenerator::new(ToneSpec::ringback_north_america());
        let audio = frames(&mut g, 50); // 1 s, inside the 2 s on
        assert!(goertzel_dbfs(&audio, 48_000, 440.0) > -20.0);
        assert!(goertzel_dbfs(&audio, 48_000, 480.0) > -20.0);
        assert!(goertzel_dbfs(&audio, 48_000, 425.0) < -30.0);
        let mut rest = frames(&mut g, 100);
        rest.drain(..48_000); // skip to 3 s: off
        assert_eq!(rms_dbfs(&rest[960..]), SILENCE_DBFS);
    }

    #[test]
    fn ringtone_double_ring() {
        let mut g = ToneGenerator::new(ToneSpec::ringtone());
        let audio = frames(&mut g, 50);
        let ms = |m: usize| m * 48;
        assert!(rms_dbfs(&audio[ms(0)..ms(380)]) > -20.0);
        assert_eq!(rms_dbfs(&audio[ms(420)..ms(580)]), SILENCE_DBFS);
        assert!(rms_dbfs(&audio[ms(620)..ms(980)]) > -20.0);
    }
}
