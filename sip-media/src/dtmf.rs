//! RFC 4733 telephone-events: the sender's schedule (tones, gaps, pauses) and the receiver's
//! de-duplication.

use std::collections::VecDeque;
use std::time::Duration;

use crate::error::{MediaError, Result};
use crate::options::DtmfOptions;

/// Frame period of the media pipeline.
const FRAME: Duration = Duration::from_millis(20);
/// A `,` in a DTMF string pauses this long (JsSIP, SIP Core).
pub const PAUSE: Duration = Duration::from_secs(2);

/// Maps a DTMF character to its RFC 4733 event code.
pub fn event_code(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// Maps an RFC 4733 event code (0..=15) back to its character.
pub fn event_digit(code: u8) -> Option<char> {
    match code {
        0..=9 => Some((b'0' + code) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + code - 12) as char),
        _ => None,
    }
}

/// The 4-byte payload of one telephone-event packet (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    /// Event code (0..=15 for DTMF).
    pub event: u8,
    /// The E bit: this is one of the final packets of the event.
    pub end: bool,
    /// Volume in -dBm0, 0..=63.
    pub volume: u8,
    /// Duration so far, in units of the telephone-event clock.
    pub duration: u16,
}

impl EventPayload {
    /// Serialises the payload.
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            d[0],
            d[1],
        ]
    }

    /// Parses a payload; `None` when it is shorter than 4 bytes.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let b: &[u8; 4] = bytes.get(..4)?.try_into().ok()?;
        Some(EventPayload {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }
}

/// One telephone-event packet to send: the payload, the marker bit and the RTP timestamp
/// (the event's start, shared by all its packets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// Payload.
    pub payload: EventPayload,
    /// Marker bit (first packet of an event only).
    pub marker: bool,
    /// RTP timestamp of the event's start.
    pub timestamp: u32,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Tone(u8),
    /// Frames of ordinary audio (gap between tones, or a `,` pause).
    Audio(u32),
}

#[derive(Debug, Clone, Copy)]
struct Active {
    event: u8,
    timestamp: u32,
    frames_sent: u32,
    frames_total: u32,
}

/// What the sender should put on the wire in one 20 ms tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DtmfTick {
    /// No event in progress: send audio.
    Audio,
    /// Send these telephone-event packets instead of audio.
    Events(Vec<EventPacket>),
}

/// Plays queued DTMF strings as RFC 4733 events, 20 ms per tick: marker on the first packet,
/// one timestamp per event, growing duration, three end packets, then the gap.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    options: DtmfOptions,
    queue: VecDeque<Step>,
    active: Option<Active>,
}

impl DtmfSender {
    /// A sender with the given timing.
    pub fn new(options: DtmfOptions) -> Self {
        DtmfSender {
            options,
            queue: VecDeque::new(),
            active: None,
        }
    }

    fn frames(duration: Duration) -> u32 {
        (duration.as_millis().div_ceil(FRAME.as_millis())).max(1) as u32
    }

    /// Queues `digits` (0-9, *, #, A-D; `,` pauses 2 s). Nothing is queued when any character
    /// is invalid.
    pub fn queue(&mut self, digits: &str) -> Result<()> {
        let mut steps = Vec::new();
        for (position, character) in digits.chars().enumerate() {
            if character == ',' {
                steps.push(Step::Audio(Self::frames(PAUSE)));
                continue;
            }
            let code = event_code(character).ok_or(MediaError::InvalidDtmf {
                character,
                position,
            })?;
            steps.push(Step::Tone(code));
            steps.push(Step::Audio(Self::frames(self.options.gap)));
        }
        self.queue.extend(steps);
        Ok(())
    }

    /// Whether events or pauses are still queued or playing.
    pub fn is_busy(&self) -> bool {
        self.active.is_some() || !self.queue.is_empty()
    }

    /// Advances one 20 ms frame. `timestamp` is the RTP timestamp this frame would carry and
    /// `event_clock` the telephone-event clock rate.
    pub fn tick(&mut self, timestamp: u32, event_clock: u32) -> DtmfTick {
        if self.active.is_none() {
            match self.queue.pop_front() {
                None => return DtmfTick::Audio,
                Some(Step::Audio(frames)) => {
                    if frames > 1 {
                        self.queue.push_front(Step::Audio(frames - 1));
                    }
                    return DtmfTick::Audio;
                }
                Some(Step::Tone(event)) => {
                    self.active = Some(Active {
                        event,
                        timestamp,
                        frames_sent: 0,
                        frames_total: Self::frames(self.options.duration),
                    });
                }
            }
        }
        let Some(mut active) = self.active else {
            return DtmfTick::Audio;
        };
        active.frames_sent += 1;
        let per_frame = event_clock / 50;
        let duration = (active.frames_sent * per_frame).min(u32::from(u16::MAX)) as u16;
        let payload = |end| EventPayload {
            event: active.event,
            end,
            volume: self.options.volume,
            duration,
        };
        let first = active.frames_sent == 1;
        let packets = if active.frames_sent >= active.frames_total {
            self.active = None;
            (0..3)
                .map(|i| EventPacket {
                    payload: payload(true),
                    marker: first && i == 0,
                    timestamp: active.timestamp,
                })
                .collect()
        } else {
            self.active = Some(active);
            vec![EventPacket {
                payload: payload(false),
                marker: first,
                timestamp: active.timestamp,
            }]
        };
        DtmfTick::Events(packets)
    }
}

/// Turns received telephone-event packets into digits, each event exactly once whatever the
/// duplicates, end-packet repeats or reordering.
#[derive(Debug, Clone, Default)]
pub struct DtmfReceiver {
    seen: VecDeque<(u32, u8)>,
}

impl DtmfReceiver {
    /// How many recent events are remembered for de-duplication.
    const MEMORY: usize = 64;

    /// A receiver with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one packet's RTP timestamp and payload; returns the digit when this is the
    /// first packet seen of a new event.
    pub fn on_packet(&mut self, timestamp: u32, payload: &[u8]) -> Option<char> {
        let event = EventPayload::parse(payload)?;
        let digit = event_digit(event.event)?;
        let key = (timestamp, event.event);
        if self.seen.contains(&key) {
            return None;
        }
        if self.seen.len() == Self::MEMORY {
            self.seen.pop_front();
        }
        self.seen.push_back(key);
        Some(digit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(sender: &mut DtmfSender, ticks: usize) -> Vec<(u32, EventPacket)> {
        let mut out = Vec::new();
        for i in 0..ticks as u32 {
            let ts = 1000 + i * 960;
            if let DtmfTick::Events(packets) = sender.tick(ts, 8000) {
                out.extend(packets.into_iter().map(|p| (i, p)));
            }
        }
        out
    }

    #[test]
    fn codes_round_trip() {
        for c in "0123456789*#ABCD".chars() {
            assert_eq!(event_digit(event_code(c).unwrap()), Some(c));
        }
        assert_eq!(event_code('x'), None);
        assert_eq!(event_digit(16), None);
    }

    #[test]
    fn one_digit_follows_rfc4733() {
        let mut sender = DtmfSender::new(DtmfOptions::default());
        sender.queue("5").unwrap();
        let packets = run(&mut sender, 20);
        // 100 ms = 5 frames: 4 growing packets and 3 end packets.
        assert_eq!(packets.len(), 7);
        let ts = packets[0].1.timestamp;
        assert!(
            packets
                .iter()
                .all(|(_, p)| p.timestamp == ts && p.payload.event == 5)
        );
        assert!(packets[0].1.marker);
        assert!(packets[1..].iter().all(|(_, p)| !p.marker));
        let durations: Vec<u16> = packets.iter().map(|(_, p)| p.payload.duration).collect();
        assert_eq!(durations, vec![160, 320, 480, 640, 800, 800, 800]);
        assert!(packets[..4].iter().all(|(_, p)| !p.payload.end));
        assert!(packets[4..].iter().all(|(_, p)| p.payload.end));
        assert!(!sender.is_busy() || matches!(sender.tick(0, 8000), DtmfTick::Audio));
    }

    #[test]
    fn gap_and_pause_are_audio() {
        let mut sender = DtmfSender::new(DtmfOptions::default());
        sender.queue("1,2").unwrap();
        let packets = run(&mut sender, 200);
        let starts: Vec<u32> = packets
            .iter()
            .filter(|(_, p)| p.marker)
            .map(|(tick, _)| *tick)
            .collect();
        // Digit 1 at tick 0 (5 ticks), gap 70 ms = 4 ticks, pause 2 s = 100 ticks.
        assert_eq!(starts, vec![0, 5 + 4 + 100]);
    }

    #[test]
    fn invalid_digit_queues_nothing() {
        let mut sender = DtmfSender::new(DtmfOptions::default());
        let err = sender.queue("12x").unwrap_err();
        assert!(matches!(
            err,
            MediaError::InvalidDtmf {
                character: 'x',
                position: 2
            }
        ));
        assert!(!sender.is_busy());
    }

    #[test]
    fn receiver_yields_each_event_once() {
        let mut sender = DtmfSender::new(DtmfOptions::default());
        sender.queue("123#*0").unwrap();
        let mut packets: Vec<EventPacket> =
            run(&mut sender, 200).into_iter().map(|(_, p)| p).collect();
        // Duplicate everything and reverse pairs to simulate reordering.
        let copy = packets.clone();
        packets.extend(copy);
        for pair in packets.chunks_mut(2) {
            pair.reverse();
        }
        let mut receiver = DtmfReceiver::new();
        let digits: String = packets
            .iter()
            .filter_map(|p| receiver.on_packet(p.timestamp, &p.payload.to_bytes()))
            .collect();
        assert_eq!(digits, "123#*0");
    }

    #[test]
    fn same_digit_twice_is_two_events() {
        let mut sender = DtmfSender::new(DtmfOptions::default());
        sender.queue("11").unwrap();
        let mut receiver = DtmfReceiver::new();
        let digits: String = run(&mut sender, 50)
            .iter()
            .filter_map(|(_, p)| receiver.on_packet(p.timestamp, &p.payload.to_bytes()))
            .collect();
        assert_eq!(digits, "11");
    }

    #[test]
    fn short_or_unknown_payloads_are_ignored() {
        let mut receiver = DtmfReceiver::new();
        assert_eq!(receiver.on_packet(1, &[1, 2]), None);
        assert_eq!(receiver.on_packet(1, &[40, 0, 0, 160]), None);
    }
}
