//! Encoders and decoders between 20 ms frames of 48 kHz mono PCM and RTP payloads.

use audio_codec::g722::{G722Decoder, G722Encoder};
use audio_codec::{Decoder as _, Encoder as _};

use crate::audio::g711;
use crate::audio::resample::{Downsampler, Upsampler};
use crate::error::{MediaError, Result};
use crate::options::{AudioCodec, OpusMode, OpusOptions};

/// Samples in one 20 ms frame at 48 kHz, the rate of the whole pipeline.
pub const FRAME_SAMPLES: usize = 960;
/// The pipeline's sample rate.
pub const SAMPLE_RATE: u32 = 48_000;

/// The rate converters between 48 kHz and a codec's own rate (8 kHz G.711, 16 kHz G.722).
fn narrow_rate_filter(codec: AudioCodec) -> (Downsampler, Upsampler) {
    match codec {
        AudioCodec::G722 => (
            Downsampler::with_factor(3, 7_000.0),
            Upsampler::with_factor(3, 7_000.0),
        ),
        _ => (Downsampler::default(), Upsampler::default()),
    }
}

/// Encodes 20 ms frames of 48 kHz mono PCM into RTP payloads of one codec.
pub struct AudioEncoder {
    codec: AudioCodec,
    opus: Option<Box<opus_rs::OpusEncoder>>,
    g722: Option<Box<G722Encoder>>,
    down: Downsampler,
    scratch: Vec<i16>,
}

impl std::fmt::Debug for AudioEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioEncoder")
            .field("codec", &self.codec)
            .finish()
    }
}

impl AudioEncoder {
    /// An encoder for `codec` (Opus with [`OpusOptions::default`]).
    pub fn new(codec: AudioCodec) -> Result<Self> {
        Self::with_opus_options(codec, OpusOptions::default())
    }

    /// An encoder for `codec`, with these Opus settings when `codec` is Opus.
    pub fn with_opus_options(codec: AudioCodec, options: OpusOptions) -> Result<Self> {
        let opus = match codec {
            AudioCodec::Opus => {
                options.validate()?;
                let application = match options.mode {
                    OpusMode::Voice => opus_rs::Application::Voip,
                    OpusMode::LowCpu => opus_rs::Application::RestrictedLowDelay,
                };
                let mut encoder =
                    opus_rs::OpusEncoder::new(48_000, 1, application).map_err(|reason| {
                        MediaError::Codec {
                            codec: "opus",
                            reason: reason.into(),
                        }
                    })?;
                // Both fit in i32: validate() bounds them.
                encoder.bitrate_bps = options.bitrate_bps as i32;
                encoder.complexity = i32::from(options.complexity);
                Some(Box::new(encoder))
            }
            AudioCodec::Pcmu | AudioCodec::Pcma | AudioCodec::G722 => None,
        };
        Ok(AudioEncoder {
            codec,
            opus,
            g722: (codec == AudioCodec::G722).then(|| Box::new(G722Encoder::new())),
            down: narrow_rate_filter(codec).0,
            scratch: Vec::with_capacity(FRAME_SAMPLES),
        })
    }

    /// The codec.
    pub fn codec(&self) -> AudioCodec {
        self.codec
    }

    /// RTP timestamp increment of one frame.
    pub fn timestamp_step(&self) -> u32 {
        self.codec.clock_rate() / 50
    }

    /// Encodes one frame of [`FRAME_SAMPLES`] samples, replacing `out`'s contents.
    pub fn encode(&mut self, frame: &[i16], out: &mut Vec<u8>) -> Result<()> {
        if frame.len() != FRAME_SAMPLES {
            return Err(MediaError::Codec {
                codec: self.codec.encoding_name(),
                reason: format!("frame of {} samples, expected {FRAME_SAMPLES}", frame.len()),
            });
        }
        out.clear();
        match (&mut self.opus, self.codec) {
            (Some(opus), _) => {
                out.resize(1275, 0);
                let len = opus
                    .encode_i16(frame, FRAME_SAMPLES, out)
                    .map_err(|reason| MediaError::Codec {
                        codec: "opus",
                        reason: reason.into(),
                    })?;
                out.truncate(len);
            }
            (None, AudioCodec::G722) => {
                self.scratch.clear();
                self.down.process(frame, &mut self.scratch);
                let Some(g722) = self.g722.as_mut() else {
                    return Err(MediaError::Codec {
                        codec: "G722",
                        reason: "no encoder state".into(),
                    });
                };
                out.resize(g722.max_encode_bytes(self.scratch.len()), 0);
                let len = g722
                    .encode_into(&self.scratch, out)
                    .map_err(|e| MediaError::Codec {
                        codec: "G722",
                        reason: e.to_string(),
                    })?;
                out.truncate(len);
            }
            (None, codec) => {
                self.scratch.clear();
                self.down.process(frame, &mut self.scratch);
                let law = if codec == AudioCodec::Pcmu {
                    g711::linear_to_ulaw
                } else {
                    g711::linear_to_alaw
                };
                out.extend(self.scratch.iter().map(|&s| law(s)));
            }
        }
        Ok(())
    }
}

/// Decodes RTP payloads of one codec into 48 kHz mono PCM.
pub struct AudioDecoder {
    codec: AudioCodec,
    opus: Option<Box<opus_rs::OpusDecoder>>,
    g722: Option<Box<G722Decoder>>,
    up: Upsampler,
    float: Vec<f32>,
    narrow: Vec<i16>,
}

impl std::fmt::Debug for AudioDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioDecoder")
            .field("codec", &self.codec)
            .finish()
    }
}

impl AudioDecoder {
    /// A decoder for `codec`.
    pub fn new(codec: AudioCodec) -> Result<Self> {
        let opus = match codec {
            AudioCodec::Opus => Some(Box::new(opus_rs::OpusDecoder::new(48_000, 1).map_err(
                |reason| MediaError::Codec {
                    codec: "opus",
                    reason: reason.into(),
                },
            )?)),
            AudioCodec::Pcmu | AudioCodec::Pcma | AudioCodec::G722 => None,
        };
        Ok(AudioDecoder {
            codec,
            opus,
            g722: (codec == AudioCodec::G722).then(|| Box::new(G722Decoder::new())),
            up: narrow_rate_filter(codec).1,
            float: vec![0.0; 5760],
            narrow: Vec::new(),
        })
    }

    /// The codec.
    pub fn codec(&self) -> AudioCodec {
        self.codec
    }

    /// Decodes one payload, appending 48 kHz samples to `out`.
    pub fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<()> {
        match (&mut self.opus, self.codec) {
            (Some(opus), _) => {
                // 120 ms is the longest Opus packet.
                let samples = opus
                    .decode(payload, 5760, &mut self.float)
                    .map_err(|reason| MediaError::Codec {
                        codec: "opus",
                        reason: reason.into(),
                    })?;
                out.extend(
                    self.float[..samples.min(self.float.len())]
                        .iter()
                        .map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16),
                );
            }
            (None, AudioCodec::G722) => {
                let Some(g722) = self.g722.as_mut() else {
                    return Err(MediaError::Codec {
                        codec: "G722",
                        reason: "no decoder state".into(),
                    });
                };
                self.narrow.clear();
                self.narrow
                    .resize(g722.max_decode_samples(payload.len()), 0);
                let samples =
                    g722.decode_into(payload, &mut self.narrow)
                        .map_err(|e| MediaError::Codec {
                            codec: "G722",
                            reason: e.to_string(),
                        })?;
                self.narrow.truncate(samples);
                self.up.process(&self.narrow, out);
            }
            (None, codec) => {
                let law = if codec == AudioCodec::Pcmu {
                    g711::ulaw_to_linear
                } else {
                    g711::alaw_to_linear
                };
                self.narrow.clear();
                self.narrow.extend(payload.iter().map(|&b| law(b)));
                self.up.process(&self.narrow, out);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::goertzel_dbfs;

    fn tone_frames(frames: usize) -> Vec<Vec<i16>> {
        let mut n = 0usize;
        (0..frames)
            .map(|_| {
                (0..FRAME_SAMPLES)
                    .map(|_| {
                        n += 1;
                        ((2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 48_000.0).sin()
                            * 12000.0) as i16
                    })
                    .collect()
            })
            .collect()
    }

    fn round_trip(codec: AudioCodec) {
        let mut encoder = AudioEncoder::new(codec).unwrap();
        let mut decoder = AudioDecoder::new(codec).unwrap();
        let mut payload = Vec::new();
        let mut decoded = Vec::new();
        for frame in tone_frames(25) {
            encoder.encode(&frame, &mut payload).unwrap();
            assert!(!payload.is_empty());
            decoder.decode(&payload, &mut decoded).unwrap();
        }
        assert_eq!(decoded.len(), 25 * FRAME_SAMPLES);
        let tail = &decoded[decoded.len() - 9600..];
        let at_tone = goertzel_dbfs(tail, 48_000, 1000.0);
        let off_tone = goertzel_dbfs(tail, 48_000, 1700.0);
        assert!(at_tone > -12.0, "{codec}: {at_tone}");
        assert!(
            off_tone < at_tone - 20.0,
            "{codec}: {off_tone} vs {at_tone}"
        );
    }

    #[test]
    fn opus_round_trip() {
        round_trip(AudioCodec::Opus);
    }

    #[test]
    fn opus_low_cpu_and_high_complexity_round_trip() {
        for options in [
            OpusOptions::low_cpu(),
            OpusOptions {
                complexity: 10,
                ..OpusOptions::default()
            },
        ] {
            let mut encoder = AudioEncoder::with_opus_options(AudioCodec::Opus, options).unwrap();
            let mut decoder = AudioDecoder::new(AudioCodec::Opus).unwrap();
            let (mut payload, mut decoded) = (Vec::new(), Vec::new());
            for frame in tone_frames(25) {
                encoder.encode(&frame, &mut payload).unwrap();
                decoder.decode(&payload, &mut decoded).unwrap();
            }
            let tail = &decoded[decoded.len() - 9600..];
            let at_tone = goertzel_dbfs(tail, 48_000, 1000.0);
            let off_tone = goertzel_dbfs(tail, 48_000, 1700.0);
            assert!(at_tone > -12.0, "{options:?}: {at_tone}");
            assert!(
                off_tone < at_tone - 20.0,
                "{options:?}: {off_tone} vs {at_tone}"
            );
        }
    }

    #[test]
    fn out_of_range_opus_options_are_rejected() {
        let bad = OpusOptions {
            complexity: 11,
            ..OpusOptions::default()
        };
        assert!(matches!(
            AudioEncoder::with_opus_options(AudioCodec::Opus, bad),
            Err(MediaError::InvalidOption {
                name: "opus.complexity",
                ..
            })
        ));
        let bad = OpusOptions {
            bitrate_bps: 1_000,
            ..OpusOptions::default()
        };
        assert!(AudioEncoder::with_opus_options(AudioCodec::Opus, bad).is_err());
    }

    #[test]
    fn pcmu_round_trip() {
        round_trip(AudioCodec::Pcmu);
    }

    #[test]
    fn pcma_round_trip() {
        round_trip(AudioCodec::Pcma);
    }

    #[test]
    fn g722_round_trip_is_wideband() {
        round_trip(AudioCodec::G722);
        // 6 kHz is beyond G.711's band but inside G.722's.
        let mut encoder = AudioEncoder::new(AudioCodec::G722).unwrap();
        let mut decoder = AudioDecoder::new(AudioCodec::G722).unwrap();
        let (mut payload, mut decoded) = (Vec::new(), Vec::new());
        for i in 0..25 {
            let frame: Vec<i16> = (0..FRAME_SAMPLES)
                .map(|n| {
                    let t = (i * FRAME_SAMPLES + n) as f32 / 48_000.0;
                    ((2.0 * std::f32::consts::PI * 6000.0 * t).sin() * 12000.0) as i16
                })
                .collect();
            encoder.encode(&frame, &mut payload).unwrap();
            assert_eq!(payload.len(), 160, "64 kbit/s: 160 bytes per 20 ms");
            decoder.decode(&payload, &mut decoded).unwrap();
        }
        assert_eq!(decoded.len(), 25 * FRAME_SAMPLES);
        let level = goertzel_dbfs(&decoded[decoded.len() - 9600..], 48_000, 6000.0);
        assert!(level > -15.0, "6 kHz through G.722: {level}");
    }

    #[test]
    fn garbage_payload_is_an_error_or_noise_not_a_panic() {
        let mut decoder = AudioDecoder::new(AudioCodec::Opus).unwrap();
        let mut out = Vec::new();
        for seed in 0u8..64 {
            let payload: Vec<u8> = (0..(seed as usize * 3 + 2))
                .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
                .collect();
            let _ = decoder.decode(&payload, &mut out);
        }
    }

    #[test]
    fn wrong_frame_size_is_an_error() {
        let mut encoder = AudioEncoder::new(AudioCodec::Pcmu).unwrap();
        let mut out = Vec::new();
        assert!(encoder.encode(&[0; 10], &mut out).is_err());
    }
}
