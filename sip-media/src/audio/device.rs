//! Microphone and speaker through `cpal` (feature `device-audio`): device listing, selection
//! by name (SIP Core lets users pick their input and output devices), and conversion between
//! the device's rate, channels and sample format and the pipeline's 48 kHz mono `i16`.
//!
//! ```no_run
//! use sip_media::audio::device::{self, Microphone, Speaker};
//!
//! # fn run() -> Result<(), sip_media::MediaError> {
//! for d in device::list()? {
//!     println!("{} (input: {}, output: {})", d.name, d.input, d.output);
//! }
//! let microphone = Microphone::open(None)?; // the system default
//! let speaker = Speaker::open(Some("default"))?;
//! // session.set_source(Box::new(microphone)); session.set_sink(Some(Box::new(speaker)));
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{Device, FromSample, Sample, SampleFormat, SizedSample, Stream, StreamConfig};

use super::{FRAME_SAMPLES, PcmSink, PcmSource, SAMPLE_RATE};
use crate::error::{MediaError, Result};
use crate::pipeline::lock;

/// Audio buffered between the device callback and the pipeline before the oldest is dropped
/// (200 ms: a device or the network stalling must not let latency grow without bound).
const MAX_BUFFERED: usize = SAMPLE_RATE as usize / 5;

/// One audio device the system offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioDevice {
    /// The name to select it by: the audio system's identifier (ALSA: `default`, `null`,
    /// `hw:CARD=PCH,DEV=0`, ...).
    pub name: String,
    /// The human-readable description (also accepted when selecting).
    pub description: String,
    /// Can record (a microphone).
    pub input: bool,
    /// Can play (a speaker).
    pub output: bool,
}

fn device_error(device: &str, error: impl std::fmt::Display) -> MediaError {
    MediaError::AudioDevice {
        device: device.to_owned(),
        reason: error.to_string(),
    }
}

/// The identifier a device is selected by.
fn name_of(device: &Device) -> String {
    device
        .id()
        .map(|id| id.id().to_owned())
        .unwrap_or_else(|_| description_of(device))
}

fn description_of(device: &Device) -> String {
    device
        .description()
        .map(|d| d.name().to_owned())
        .unwrap_or_default()
}

/// Every device of the default audio host, with what it can do.
pub fn list() -> Result<Vec<AudioDevice>> {
    let host = cpal::default_host();
    let devices = host.devices().map_err(|e| device_error("", e))?;
    Ok(devices
        .map(|device| AudioDevice {
            name: name_of(&device),
            description: description_of(&device),
            input: device.supports_input(),
            output: device.supports_output(),
        })
        .collect())
}

/// Finds a device by name or description (`None`: the system default) for one direction.
fn find(name: Option<&str>, input: bool) -> Result<Device> {
    let host = cpal::default_host();
    let direction = if input { "input" } else { "output" };
    let Some(name) = name else {
        let default = if input {
            host.default_input_device()
        } else {
            host.default_output_device()
        };
        return default.ok_or_else(|| MediaError::NoSuchAudioDevice {
            direction,
            name: "(system default)".into(),
            available: Vec::new(),
        });
    };
    let devices = if input {
        host.input_devices().map_err(|e| device_error(name, e))?
    } else {
        host.output_devices().map_err(|e| device_error(name, e))?
    };
    let mut available = Vec::new();
    for device in devices {
        let device_name = name_of(&device);
        if device_name == name || description_of(&device) == name {
            return Ok(device);
        }
        available.push(device_name);
    }
    Err(MediaError::NoSuchAudioDevice {
        direction,
        name: name.to_owned(),
        available,
    })
}

/// Linear-interpolation rate converter for a continuous mono stream.
#[derive(Debug)]
struct RateConverter {
    /// Input samples per output sample.
    step: f64,
    /// Position of the next output sample, relative to `previous`.
    position: f64,
    previous: f32,
}

impl RateConverter {
    fn new(from_hz: u32, to_hz: u32) -> Self {
        RateConverter {
            step: f64::from(from_hz) / f64::from(to_hz),
            position: 0.0,
            previous: 0.0,
        }
    }

    /// Converts `input`, appending to `out`.
    fn process(&mut self, input: &[f32], out: &mut impl Extend<f32>) {
        for &sample in input {
            // Output samples between `previous` (at 0) and `sample` (at 1).
            while self.position < 1.0 {
                let t = self.position as f32;
                out.extend([self.previous + (sample - self.previous) * t]);
                self.position += self.step;
            }
            self.position -= 1.0;
            self.previous = sample;
        }
    }
}

fn to_i16(sample: f32) -> i16 {
    (sample * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// A microphone as a [`PcmSource`]: the device's audio, mixed to mono and converted to 48 kHz.
/// When the device delivers too little, the frame is completed with silence.
pub struct Microphone {
    _stream: Stream,
    name: String,
    buffer: Arc<Mutex<VecDeque<i16>>>,
}

impl std::fmt::Debug for Microphone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Microphone")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Microphone {
    /// Opens the input device with this name or description (as [`list`] reports them), or
    /// the default one.
    pub fn open(name: Option<&str>) -> Result<Self> {
        let device = find(name, true)?;
        let name = name_of(&device);
        let supported = device
            .default_input_config()
            .map_err(|e| device_error(&name, e))?;
        let config = supported.config();
        let buffer = Arc::new(Mutex::new(VecDeque::with_capacity(MAX_BUFFERED)));
        let stream = match supported.sample_format() {
            SampleFormat::F32 => input_stream::<f32>(&device, &name, config, buffer.clone()),
            SampleFormat::I16 => input_stream::<i16>(&device, &name, config, buffer.clone()),
            SampleFormat::I32 => input_stream::<i32>(&device, &name, config, buffer.clone()),
            SampleFormat::U16 => input_stream::<u16>(&device, &name, config, buffer.clone()),
            other => Err(device_error(
                &name,
                format!("sample format {other} not handled"),
            )),
        }?;
        stream.play().map_err(|e| device_error(&name, e))?;
        Ok(Microphone {
            _stream: stream,
            name,
            buffer,
        })
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Samples recorded and not yet taken by the pipeline (at 48 kHz).
    pub fn buffered_samples(&self) -> usize {
        lock(&self.buffer).len()
    }
}

fn input_stream<T>(
    device: &Device,
    name: &str,
    config: StreamConfig,
    buffer: Arc<Mutex<VecDeque<i16>>>,
) -> Result<Stream>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    let mut converter = RateConverter::new(config.sample_rate, SAMPLE_RATE);
    let mut mono = Vec::new();
    let mut converted = Vec::new();
    let device_name = name.to_owned();
    device
        .build_input_stream::<T, _, _>(
            config,
            move |data: &[T], _| {
                mono.clear();
                mono.extend(data.chunks(channels).map(|frame| {
                    frame.iter().map(|s| f32::from_sample(*s)).sum::<f32>() / channels as f32
                }));
                converted.clear();
                converter.process(&mono, &mut converted);
                let mut buffer = lock(&buffer);
                buffer.extend(converted.iter().map(|&s| to_i16(s)));
                let excess = buffer.len().saturating_sub(MAX_BUFFERED);
                buffer.drain(..excess);
            },
            move |error| tracing::warn!(device = %device_name, %error, "microphone stream error"),
            None,
        )
        .map_err(|e| device_error(name, e))
}

impl PcmSource for Microphone {
    fn fill(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> bool {
        let mut buffer = lock(&self.buffer);
        let available = buffer.len().min(FRAME_SAMPLES);
        for (slot, sample) in frame.iter_mut().zip(buffer.drain(..available)) {
            *slot = sample;
        }
        frame[available..].fill(0);
        true
    }
}

/// A speaker as a [`PcmSink`]: far-end audio converted to the device's rate and copied to all
/// its channels. When the far end delivers too little, the device plays silence.
pub struct Speaker {
    _stream: Stream,
    name: String,
    buffer: Arc<Mutex<VecDeque<f32>>>,
    /// Samples the device took from `buffer` (silence played for lack of audio not counted).
    played: Arc<AtomicU64>,
    converter: RateConverter,
    /// Reused per write: the far end's samples as floats, then at the device's rate.
    input: Vec<f32>,
    scratch: Vec<f32>,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Speaker {
    /// Opens the output device with this name or description (as [`list`] reports them), or
    /// the default one.
    pub fn open(name: Option<&str>) -> Result<Self> {
        let device = find(name, false)?;
        let name = name_of(&device);
        let supported = device
            .default_output_config()
            .map_err(|e| device_error(&name, e))?;
        let config = supported.config();
        let rate = config.sample_rate;
        let buffer = Arc::new(Mutex::new(VecDeque::with_capacity(MAX_BUFFERED)));
        let played = Arc::new(AtomicU64::new(0));
        let shared = (buffer.clone(), played.clone());
        let stream = match supported.sample_format() {
            SampleFormat::F32 => output_stream::<f32>(&device, &name, config, shared),
            SampleFormat::I16 => output_stream::<i16>(&device, &name, config, shared),
            SampleFormat::I32 => output_stream::<i32>(&device, &name, config, shared),
            SampleFormat::U16 => output_stream::<u16>(&device, &name, config, shared),
            other => Err(device_error(
                &name,
                format!("sample format {other} not handled"),
            )),
        }?;
        stream.play().map_err(|e| device_error(&name, e))?;
        Ok(Speaker {
            _stream: stream,
            name,
            buffer,
            played,
            converter: RateConverter::new(SAMPLE_RATE, rate),
            input: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Samples waiting to be played (at the device's rate).
    pub fn buffered_samples(&self) -> usize {
        lock(&self.buffer).len()
    }

    /// Samples the device has taken and played so far (at the device's rate); the silence it
    /// plays when the far end delivers too little is not counted, so a count that stops
    /// growing during a call means the far end's audio stopped.
    pub fn played_samples(&self) -> u64 {
        self.played.load(Ordering::Relaxed)
    }
}

fn output_stream<T>(
    device: &Device,
    name: &str,
    config: StreamConfig,
    (buffer, played): (Arc<Mutex<VecDeque<f32>>>, Arc<AtomicU64>),
) -> Result<Stream>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels.max(1));
    let device_name = name.to_owned();
    device
        .build_output_stream::<T, _, _>(
            config,
            move |data: &mut [T], _| {
                let mut buffer = lock(&buffer);
                let mut taken = 0;
                for frame in data.chunks_mut(channels) {
                    let sample = buffer.pop_front().inspect(|_| taken += 1);
                    frame.fill(T::from_sample(sample.unwrap_or(0.0)));
                }
                played.fetch_add(taken, Ordering::Relaxed);
            },
            move |error| tracing::warn!(device = %device_name, %error, "speaker stream error"),
            None,
        )
        .map_err(|e| device_error(name, e))
}

impl PcmSink for Speaker {
    fn write(&mut self, samples: &[i16]) {
        self.input.clear();
        self.input
            .extend(samples.iter().map(|&s| f32::from(s) / 32768.0));
        self.scratch.clear();
        self.converter.process(&self.input, &mut self.scratch);
        let mut buffer = lock(&self.buffer);
        buffer.extend(self.scratch.iter().copied());
        let excess = buffer.len().saturating_sub(MAX_BUFFERED);
        buffer.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::goertzel_dbfs;

    #[test]
    fn rate_converter_keeps_a_tone_and_the_rate() {
        let tone: Vec<f32> = (0..44_100)
            .map(|n| (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 44_100.0).sin() * 0.5)
            .collect();
        let mut converter = RateConverter::new(44_100, 48_000);
        let mut out = Vec::new();
        for chunk in tone.chunks(441) {
            converter.process(chunk, &mut out);
        }
        assert!((out.len() as i64 - 48_000).abs() <= 1, "{}", out.len());
        let pcm: Vec<i16> = out.iter().map(|&s| to_i16(s)).collect();
        assert!(goertzel_dbfs(&pcm, 48_000, 1000.0) > -10.0);
        assert!(goertzel_dbfs(&pcm, 48_000, 3000.0) < -40.0);
    }
}
