//! Rate conversion between the 48 kHz pipeline and the narrower codec rates by an integer
//! factor: 6 for 8 kHz G.711 (the default), 3 for 16 kHz G.722.
//!
//! A windowed-sinc low-pass FIR removes what cannot be represented below the narrow rate's
//! Nyquist frequency before decimating, and the images after zero-stuffing when interpolating.

const G711_FACTOR: usize = 6;
const TAPS: usize = 72;

/// Low-pass taps with a cut-off at `cutoff_hz` of 48 kHz, Blackman window.
fn low_pass_taps(cutoff_hz: f32) -> [f32; TAPS] {
    let mut taps = [0f32; TAPS];
    let cutoff = cutoff_hz / 48_000.0;
    let middle = (TAPS - 1) as f32 / 2.0;
    let mut sum = 0.0;
    for (i, tap) in taps.iter_mut().enumerate() {
        let x = i as f32 - middle;
        let sinc = if x == 0.0 {
            2.0 * cutoff
        } else {
            (2.0 * std::f32::consts::PI * cutoff * x).sin() / (std::f32::consts::PI * x)
        };
        let phase = 2.0 * std::f32::consts::PI * i as f32 / (TAPS - 1) as f32;
        let window = 0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos();
        *tap = sinc * window;
        sum += *tap;
    }
    for tap in &mut taps {
        *tap /= sum;
    }
    taps
}

/// 48 kHz → 8 kHz (or another integer fraction), keeping filter state across frames.
#[derive(Debug, Clone)]
pub struct Downsampler {
    taps: [f32; TAPS],
    history: Vec<f32>,
    factor: usize,
}

impl Default for Downsampler {
    /// 48 kHz → 8 kHz, pass band up to 3.4 kHz.
    fn default() -> Self {
        Self::with_factor(G711_FACTOR, 3_400.0)
    }
}

impl Downsampler {
    /// 48 kHz → 48 kHz / `factor` (at least 1), passing up to `cutoff_hz`.
    pub fn with_factor(factor: usize, cutoff_hz: f32) -> Self {
        Downsampler {
            taps: low_pass_taps(cutoff_hz),
            history: vec![0.0; TAPS],
            factor: factor.max(1),
        }
    }

    /// Converts `input` (48 kHz, length a multiple of the factor) and appends to `output`.
    pub fn process(&mut self, input: &[i16], output: &mut Vec<i16>) {
        self.history.extend(input.iter().map(|&s| f32::from(s)));
        let start = self.history.len() - input.len();
        for i in (start..self.history.len()).step_by(self.factor) {
            let acc: f32 = self
                .taps
                .iter()
                .enumerate()
                .map(|(k, t)| t * self.history[i - k])
                .sum();
            output.push(acc.round().clamp(-32768.0, 32767.0) as i16);
        }
        let keep = self.history.len() - TAPS;
        self.history.drain(..keep);
    }
}

/// 8 kHz (or another integer fraction) → 48 kHz, keeping filter state across frames.
#[derive(Debug, Clone)]
pub struct Upsampler {
    taps: [f32; TAPS],
    history: Vec<f32>,
    factor: usize,
}

impl Default for Upsampler {
    /// 8 kHz → 48 kHz, pass band up to 3.4 kHz.
    fn default() -> Self {
        Self::with_factor(G711_FACTOR, 3_400.0)
    }
}

impl Upsampler {
    /// 48 kHz / `factor` (at least 1) → 48 kHz, passing up to `cutoff_hz`.
    pub fn with_factor(factor: usize, cutoff_hz: f32) -> Self {
        Upsampler {
            taps: low_pass_taps(cutoff_hz),
            history: vec![0.0; TAPS],
            factor: factor.max(1),
        }
    }

    /// Converts `input` and appends `factor` times as many samples to `output`.
    pub fn process(&mut self, input: &[i16], output: &mut Vec<i16>) {
        for &sample in input {
            for phase in 0..self.factor {
                // Zero-stuffed stream: one real sample followed by factor - 1 zeros, gain
                // `factor`.
                let value = if phase == 0 {
                    f32::from(sample) * self.factor as f32
                } else {
                    0.0
                };
                self.history.push(value);
                let n = self.history.len() - 1;
                let acc: f32 = self
                    .taps
                    .iter()
                    .enumerate()
                    .map(|(k, t)| t * self.history[n - k])
                    .sum();
                output.push(acc.round().clamp(-32768.0, 32767.0) as i16);
            }
            let keep = self.history.len() - TAPS;
            self.history.drain(..keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::goertzel_dbfs;

    fn tone(freq: f32, rate: f32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| ((2.0 * std::f32::consts::PI * freq * i as f32 / rate).sin() * 16000.0) as i16)
            .collect()
    }

    #[test]
    fn tone_survives_down_and_up() {
        let input = tone(1000.0, 48_000.0, 9600);
        let mut down = Downsampler::default();
        let mut narrow = Vec::new();
        down.process(&input, &mut narrow);
        assert_eq!(narrow.len(), 1600);
        let level = goertzel_dbfs(&narrow[400..], 8000, 1000.0);
        assert!(level > -10.0, "{level}");
        let mut up = Upsampler::default();
        let mut wide = Vec::new();
        up.process(&narrow, &mut wide);
        assert_eq!(wide.len(), 9600);
        let level = goertzel_dbfs(&wide[2400..], 48_000, 1000.0);
        assert!(level > -10.0, "{level}");
    }

    #[test]
    fn high_tone_is_removed() {
        let input = tone(10_000.0, 48_000.0, 9600);
        let mut down = Downsampler::default();
        let mut narrow = Vec::new();
        down.process(&input, &mut narrow);
        // 10 kHz would alias to 2 kHz at 8 kHz without the filter.
        let level = goertzel_dbfs(&narrow[400..], 8000, 2000.0);
        assert!(level < -50.0, "{level}");
    }
}
