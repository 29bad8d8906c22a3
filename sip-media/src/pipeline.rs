//! The audio engine shared by the WebRTC and plain-RTP sessions: 20 ms send ticks (source,
//! mute, DTMF, encoder, RTP packetisation) and the receive path (jitter and loss accounting,
//! DTMF detection, decoder, sink, levels).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::rtp;
use tokio::sync::broadcast;

use crate::audio::{AudioDecoder, AudioEncoder, FRAME_SAMPLES, PcmSink, PcmSource, Silence};
use crate::dtmf::{DtmfReceiver, DtmfSender, DtmfTick};
use crate::error::Result;
use crate::level::{LevelMeter, LevelReport, LevelSide};
use crate::options::{AudioCodec, MediaOptions, OpusOptions};
use crate::sdp::{Direction, NegotiatedAudio, SessionSummary};
use crate::session::{MediaEvent, MediaStats};

/// The 20 ms frame period.
pub(crate) const FRAME_PERIOD: Duration = Duration::from_millis(20);

/// What negotiation settled, as the engine needs it.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    pub audio: NegotiatedAudio,
    /// This end's direction.
    pub direction: Direction,
    /// Payload type → codec for everything the far end may send.
    pub receive_map: HashMap<u8, AudioCodec>,
    /// Payload types of telephone-event the far end may send.
    pub receive_events: Vec<u8>,
}

impl Negotiated {
    /// What an offer/answer exchange settled: the codec and direction from the answer (ours
    /// when `answer_is_local`), and every payload type either side listed, since the far end
    /// may send any codec of its offer or our answer (RFC 3264 §5.1, §6.1).
    pub fn from_exchange(
        local: &SessionSummary,
        remote: &SessionSummary,
        answer_is_local: bool,
        options: &MediaOptions,
    ) -> Result<Negotiated> {
        let answer = if answer_is_local { local } else { remote };
        let audio = crate::sdp::negotiated_audio(answer, &options.codecs)?;
        let answer_direction = answer.audio().map(|a| a.direction).unwrap_or_default();
        let direction = if answer_is_local {
            answer_direction
        } else {
            answer_direction.reversed()
        };
        let mut receive_map = HashMap::new();
        let mut receive_events = Vec::new();
        for section in [local.audio(), remote.audio()].into_iter().flatten() {
            for (codec, pt) in section.audio_codecs() {
                receive_map.entry(pt).or_insert(codec);
            }
            if let Some((pt, _)) = section.telephone_event(audio.codec.clock_rate()) {
                receive_events.push(pt);
            }
        }
        Ok(Negotiated {
            audio,
            direction,
            receive_map,
            receive_events,
        })
    }
}

#[derive(Debug, Default)]
struct ReceiveState {
    ssrc: Option<u32>,
    highest_seq: Option<u16>,
    extended_max: u64,
    base_seq: u64,
    received: u64,
    jitter: f64,
    last_transit: Option<f64>,
    clock_origin: Option<Instant>,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the engine's state
/// stays consistent per field, so continuing beats losing the call).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// State shared by a session, its send task and its receive path.
pub(crate) struct Engine {
    pub call_id: String,
    opus: OpusOptions,
    pub negotiated: Mutex<Option<Negotiated>>,
    source: Mutex<Box<dyn PcmSource>>,
    sink: Mutex<Option<Box<dyn PcmSink>>>,
    pub muted: AtomicBool,
    /// The camera is muted: video frames handed to the session are dropped.
    pub camera_muted: AtomicBool,
    dtmf_out: Mutex<DtmfSender>,
    dtmf_in: Mutex<DtmfReceiver>,
    decoders: Mutex<HashMap<u8, AudioDecoder>>,
    local_meter: Mutex<LevelMeter>,
    remote_meter: Mutex<LevelMeter>,
    receive: Mutex<ReceiveState>,
    first_audio: AtomicBool,
    pub events: broadcast::Sender<MediaEvent>,
    pub levels: broadcast::Sender<LevelReport>,
    packets_sent: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    pub closed: AtomicBool,
}

/// Per-send-task state: sequence numbers and timestamps of the outgoing stream.
pub(crate) struct SendState {
    pub ssrc: u32,
    sequence: u16,
    timestamp: u32,
    encoder: Option<AudioEncoder>,
    payload: Vec<u8>,
    frame: Box<[i16; FRAME_SAMPLES]>,
    was_dtmf_busy: bool,
    /// Frames the clock skipped since the last tick (their RTP time passes unsent).
    skipped_frames: u32,
}

impl SendState {
    pub fn new(ssrc: u32) -> Self {
        SendState {
            ssrc,
            sequence: rand::random(),
            timestamp: rand::random(),
            encoder: None,
            payload: Vec::with_capacity(1500),
            frame: Box::new([0; FRAME_SAMPLES]),
            was_dtmf_busy: false,
            skipped_frames: 0,
        }
    }

    /// Records frames the send clock skipped: the next packet's RTP timestamp jumps over
    /// them, so the far end sees (and conceals) a gap instead of a stream running slow.
    pub fn skip_frames(&mut self, frames: u32) {
        self.skipped_frames = self.skipped_frames.saturating_add(frames);
    }
}

impl Engine {
    pub fn new(options: &MediaOptions) -> Arc<Self> {
        let smoothing = f32::from(options.level_smoothing_percent) / 100.0;
        Arc::new(Engine {
            call_id: options.call_id.clone(),
            opus: options.opus,
            negotiated: Mutex::new(None),
            source: Mutex::new(Box::new(Silence)),
            sink: Mutex::new(None),
            muted: AtomicBool::new(false),
            camera_muted: AtomicBool::new(false),
            dtmf_out: Mutex::new(DtmfSender::new(options.dtmf)),
            dtmf_in: Mutex::new(DtmfReceiver::new()),
            decoders: Mutex::new(HashMap::new()),
            local_meter: Mutex::new(LevelMeter::new(LevelSide::Local, smoothing)),
            remote_meter: Mutex::new(LevelMeter::new(LevelSide::Remote, smoothing)),
            receive: Mutex::new(ReceiveState::default()),
            first_audio: AtomicBool::new(false),
            events: broadcast::channel(256).0,
            levels: broadcast::channel(64).0,
            packets_sent: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        })
    }

    pub fn emit(&self, event: MediaEvent) {
        tracing::debug!(call_id = %self.call_id, ?event, "media event");
        // No subscriber is not an error: events are informational.
        let _ = self.events.send(event);
    }

    pub fn set_source(&self, source: Box<dyn PcmSource>) {
        *lock(&self.source) = source;
    }

    pub fn set_sink(&self, sink: Option<Box<dyn PcmSink>>) {
        *lock(&self.sink) = sink;
    }

    pub fn queue_dtmf(&self, digits: &str) -> Result<()> {
        lock(&self.dtmf_out).queue(digits)
    }

    pub fn set_negotiated(&self, negotiated: Negotiated) {
        tracing::info!(
            call_id = %self.call_id,
            codec = %negotiated.audio.codec,
            payload_type = negotiated.audio.payload_type,
            telephone_event = ?negotiated.audio.telephone_event,
            direction = %negotiated.direction,
            "media negotiated"
        );
        *lock(&self.negotiated) = Some(negotiated);
    }

    pub fn direction(&self) -> Option<Direction> {
        lock(&self.negotiated).as_ref().map(|n| n.direction)
    }

    /// Produces the packets of one 20 ms tick (none while not negotiated or not sending).
    pub fn tick(&self, state: &mut SendState) -> Vec<rtp::Packet> {
        let Some(negotiated) = lock(&self.negotiated).clone() else {
            return Vec::new();
        };
        {
            let mut source = lock(&self.source);
            if !source.fill(&mut state.frame) {
                // An ended source (a file played once) is replaced by silence.
                *source = Box::new(Silence);
            }
        }
        if self.muted.load(Ordering::Relaxed) {
            state.frame.fill(0);
        }
        lock(&self.local_meter).push(&state.frame[..]);

        let codec = negotiated.audio.codec;
        let step = codec.clock_rate() / 50;
        if state.skipped_frames > 0 {
            state.timestamp = state
                .timestamp
                .wrapping_add(step.wrapping_mul(state.skipped_frames));
            state.skipped_frames = 0;
        }
        let timestamp = state.timestamp;
        state.timestamp = state.timestamp.wrapping_add(step);
        if !negotiated.direction.sends() {
            return Vec::new();
        }
        let mut packets = Vec::new();
        let (tick, busy) = {
            let mut dtmf = lock(&self.dtmf_out);
            match negotiated.audio.telephone_event {
                Some((_, clock)) => (dtmf.tick(timestamp, clock), dtmf.is_busy()),
                None => (DtmfTick::Audio, dtmf.is_busy()),
            }
        };
        if state.was_dtmf_busy && !busy {
            self.emit(MediaEvent::DtmfSent);
        }
        state.was_dtmf_busy = busy;
        match (tick, negotiated.audio.telephone_event) {
            (DtmfTick::Events(events), Some((pt, _))) => {
                for event in events {
                    packets.push(self.packet(
                        state,
                        pt,
                        event.marker,
                        event.timestamp,
                        Bytes::copy_from_slice(&event.payload.to_bytes()),
                    ));
                }
            }
            _ => {
                if state.encoder.as_ref().map(|e| e.codec()) != Some(codec) {
                    match AudioEncoder::with_opus_options(codec, self.opus) {
                        Ok(encoder) => state.encoder = Some(encoder),
                        Err(error) => {
                            tracing::warn!(call_id = %self.call_id, %error, "no encoder");
                            return packets;
                        }
                    }
                }
                let Some(encoder) = state.encoder.as_mut() else {
                    return packets;
                };
                let mut payload = std::mem::take(&mut state.payload);
                match encoder.encode(&state.frame[..], &mut payload) {
                    Ok(()) => {
                        let bytes = Bytes::copy_from_slice(&payload);
                        packets.push(self.packet(
                            state,
                            negotiated.audio.payload_type,
                            false,
                            timestamp,
                            bytes,
                        ));
                    }
                    Err(error) => {
                        tracing::warn!(call_id = %self.call_id, %error, "encoding failed");
                    }
                }
                state.payload = payload;
            }
        }
        packets
    }

    fn packet(
        &self,
        state: &mut SendState,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: Bytes,
    ) -> rtp::Packet {
        let sequence_number = state.sequence;
        state.sequence = state.sequence.wrapping_add(1);
        self.packets_sent.fetch_add(1, Ordering::Relaxed);
        self.bytes_sent
            .fetch_add(payload.len() as u64, Ordering::Relaxed);
        rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                marker,
                payload_type,
                sequence_number,
                timestamp,
                ssrc: state.ssrc,
                ..Default::default()
            },
            payload,
        }
    }

    /// Handles one received RTP packet.
    pub fn on_rtp(&self, packet: &rtp::Packet) {
        let header = &packet.header;
        let Some(negotiated) = lock(&self.negotiated).clone() else {
            return;
        };
        self.bytes_received
            .fetch_add(packet.payload.len() as u64, Ordering::Relaxed);
        let clock = negotiated
            .receive_map
            .get(&header.payload_type)
            .map_or(negotiated.audio.codec.clock_rate(), |c| c.clock_rate());
        self.account(header.ssrc, header.sequence_number, header.timestamp, clock);

        if negotiated.receive_events.contains(&header.payload_type) {
            if let Some(digit) = lock(&self.dtmf_in).on_packet(header.timestamp, &packet.payload) {
                self.emit(MediaEvent::DtmfReceived(digit));
            }
            return;
        }
        let Some(&codec) = negotiated.receive_map.get(&header.payload_type) else {
            tracing::trace!(call_id = %self.call_id, pt = header.payload_type, "unknown payload type");
            return;
        };
        if !negotiated.direction.receives() {
            return;
        }
        let mut decoded = Vec::with_capacity(FRAME_SAMPLES);
        {
            let mut decoders = lock(&self.decoders);
            let decoder = match decoders.entry(header.payload_type) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => {
                    match AudioDecoder::new(codec) {
                        Ok(decoder) => entry.insert(decoder),
                        Err(error) => {
                            tracing::warn!(call_id = %self.call_id, %error, "no decoder");
                            return;
                        }
                    }
                }
            };
            if let Err(error) = decoder.decode(&packet.payload, &mut decoded) {
                tracing::debug!(call_id = %self.call_id, %error, "undecodable packet");
                return;
            }
        }
        if decoded.is_empty() {
            return;
        }
        lock(&self.remote_meter).push(&decoded);
        if let Some(sink) = lock(&self.sink).as_mut() {
            sink.write(&decoded);
        }
        if !self.first_audio.swap(true, Ordering::Relaxed) {
            self.emit(MediaEvent::FirstRemoteAudio);
        }
    }

    fn account(&self, ssrc: u32, sequence: u16, timestamp: u32, clock: u32) {
        let mut r = lock(&self.receive);
        if r.ssrc != Some(ssrc) {
            // A new stream (or a re-INVITE changed the source): start counting afresh.
            *r = ReceiveState {
                ssrc: Some(ssrc),
                highest_seq: Some(sequence),
                extended_max: u64::from(sequence) + (1 << 16),
                base_seq: u64::from(sequence) + (1 << 16),
                received: 1,
                jitter: 0.0,
                last_transit: None,
                clock_origin: Some(Instant::now()),
            };
        } else {
            r.received += 1;
            if let Some(highest) = r.highest_seq {
                let delta = sequence.wrapping_sub(highest) as i16;
                if delta > 0 {
                    r.extended_max += delta as u64;
                    r.highest_seq = Some(sequence);
                }
            }
        }
        // RFC 3550 §6.4.1 interarrival jitter, in timestamp units.
        let origin = *r.clock_origin.get_or_insert_with(Instant::now);
        let arrival = origin.elapsed().as_secs_f64() * f64::from(clock);
        let transit = arrival - f64::from(timestamp);
        if let Some(last) = r.last_transit {
            let mut d = (transit - last).abs();
            // Timestamp wrap-around shows as a huge step; ignore it.
            if d > f64::from(u32::MAX) / 2.0 {
                d = 0.0;
            }
            r.jitter += (d - r.jitter) / 16.0;
        }
        r.last_transit = Some(transit);
    }

    /// Counters for [`MediaStats`].
    pub fn fill_stats(&self, stats: &mut MediaStats) {
        stats.packets_sent = self.packets_sent.load(Ordering::Relaxed);
        stats.bytes_sent = self.bytes_sent.load(Ordering::Relaxed);
        stats.bytes_received = self.bytes_received.load(Ordering::Relaxed);
        let negotiated = lock(&self.negotiated).clone();
        stats.codec = negotiated.as_ref().map(|n| n.audio.codec);
        let clock = negotiated.map_or(48_000, |n| n.audio.codec.clock_rate());
        let r = lock(&self.receive);
        stats.packets_received = r.received;
        let expected = (r.extended_max + 1).saturating_sub(r.base_seq);
        stats.packets_lost = if r.ssrc.is_some() {
            expected.saturating_sub(r.received)
        } else {
            0
        };
        stats.jitter_ms = r.jitter / f64::from(clock) * 1000.0;
    }

    /// Publishes one local and one remote level report, if anyone listens.
    pub fn publish_levels(&self) {
        if self.levels.receiver_count() == 0 {
            return;
        }
        let local = lock(&self.local_meter).report();
        let remote = lock(&self.remote_meter).report();
        let _ = self.levels.send(local);
        let _ = self.levels.send(remote);
    }
}

/// Spawns the task that publishes the visualiser feed at `rate_hz` until the engine closes.
pub(crate) fn spawn_level_task(engine: Arc<Engine>, rate_hz: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate_hz)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !engine.closed.load(Ordering::Relaxed) {
            interval.tick().await;
            engine.publish_levels();
        }
    })
}

/// The [`MediaSession`](crate::MediaSession) methods that WebRTC and plain-RTP sessions answer
/// alike from their shared [`Engine`] (field `engine: Arc<Engine>`) and the direction they want
/// (field `wanted: Mutex<Direction>`), written once and expanded inside each
/// `impl MediaSession`. The async methods stay in the impls: `async_trait` rewrites them before
/// this macro expands.
macro_rules! engine_session_methods {
    () => {
        fn direction(&self) -> $crate::sdp::Direction {
            self.engine
                .direction()
                .unwrap_or(*$crate::pipeline::lock(&self.wanted))
        }

        fn set_muted(&self, muted: bool) {
            self.engine
                .muted
                .store(muted, ::std::sync::atomic::Ordering::Relaxed);
        }

        fn is_muted(&self) -> bool {
            self.engine
                .muted
                .load(::std::sync::atomic::Ordering::Relaxed)
        }

        fn set_camera_muted(&self, muted: bool) {
            self.engine
                .camera_muted
                .store(muted, ::std::sync::atomic::Ordering::Relaxed);
        }

        fn is_camera_muted(&self) -> bool {
            self.engine
                .camera_muted
                .load(::std::sync::atomic::Ordering::Relaxed)
        }

        fn set_source(&self, source: Box<dyn $crate::audio::PcmSource>) {
            self.engine.set_source(source);
        }

        fn set_sink(&self, sink: Option<Box<dyn $crate::audio::PcmSink>>) {
            self.engine.set_sink(sink);
        }

        fn send_dtmf(&self, digits: &str) -> $crate::Result<()> {
            self.check_open()?;
            self.engine.queue_dtmf(digits)
        }

        fn events(&self) -> ::tokio::sync::broadcast::Receiver<$crate::MediaEvent> {
            self.engine.events.subscribe()
        }

        fn levels(&self) -> ::tokio::sync::broadcast::Receiver<$crate::level::LevelReport> {
            self.engine.levels.subscribe()
        }
    };
}
pub(crate) use engine_session_methods;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::NegotiatedAudio;

    fn engine(codec: AudioCodec) -> Arc<Engine> {
        let engine = Engine::new(&MediaOptions::default());
        engine.set_negotiated(Negotiated {
            audio: NegotiatedAudio {
                codec,
                payload_type: codec.default_payload_type(),
                telephone_event: None,
            },
            direction: Direction::SendRecv,
            receive_map: HashMap::new(),
            receive_events: Vec::new(),
        });
        engine
    }

    #[test]
    fn consecutive_ticks_advance_one_frame_each() {
        let engine = engine(AudioCodec::Pcmu);
        let mut state = SendState::new(7);
        let first = engine.tick(&mut state).remove(0).header;
        let second = engine.tick(&mut state).remove(0).header;
        assert_eq!(second.timestamp.wrapping_sub(first.timestamp), 160);
        assert_eq!(
            second.sequence_number,
            first.sequence_number.wrapping_add(1)
        );
        assert_eq!(second.ssrc, 7);
    }

    #[test]
    fn skipped_frames_jump_the_timestamp_but_not_the_sequence() {
        let engine = engine(AudioCodec::Opus);
        let mut state = SendState::new(7);
        let first = engine.tick(&mut state).remove(0).header;
        state.skip_frames(5);
        let next = engine.tick(&mut state).remove(0).header;
        // 6 frames of 960 samples at 48 kHz later; the sequence stays contiguous, so the
        // receiver sees a gap in time (concealed), not lost packets.
        assert_eq!(next.timestamp.wrapping_sub(first.timestamp), 6 * 960);
        assert_eq!(next.sequence_number, first.sequence_number.wrapping_add(1));
        let after = engine.tick(&mut state).remove(0).header;
        assert_eq!(after.timestamp.wrapping_sub(next.timestamp), 960);
    }
}
