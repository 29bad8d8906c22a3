//! Feature `device-audio`: listing devices, opening them by name, typed errors for wrong names.
//! Containers have no sound card; ALSA's `null` PCM (always defined by alsa-lib's
//! configuration) stands in for one.
#![cfg(feature = "device-audio")]

use sip_media::MediaError;
use sip_media::audio::device::{self, Microphone, Speaker};
use sip_media::audio::{FRAME_SAMPLES, PcmSink, PcmSource};

#[test]
fn devices_are_listed_and_opened_by_name() {
    let devices = device::list().expect("device list");
    println!("audio devices: {devices:?}");
    let null = devices
        .iter()
        .find(|d| d.name == "null")
        .expect("ALSA's null PCM is listed");
    assert!(null.output, "{null:?}");

    // Selecting by description works too.
    let mut speaker = Speaker::open(Some(&null.description)).expect("open the null speaker");
    assert_eq!(speaker.name(), "null");
    assert_eq!(
        speaker.played_samples(),
        0,
        "nothing written, nothing played"
    );
    speaker.write(&[1000; FRAME_SAMPLES]);
    // The device's callback plays (here: discards) what was written; it may already have
    // taken it by now, so the check is on what it played, not on what is still buffered.
    assert!(
        eventually(|| speaker.played_samples() > 0 && speaker.buffered_samples() == 0),
        "the speaker consumed its audio"
    );

    assert!(null.input, "{null:?}");
    let mut microphone = Microphone::open(Some("null")).expect("open the null microphone");
    assert!(
        eventually(|| microphone.buffered_samples() >= FRAME_SAMPLES),
        "the microphone delivers audio"
    );
    let mut frame = [1; FRAME_SAMPLES];
    assert!(microphone.fill(&mut frame), "a microphone never ends");
    // The null device records nothing but silence.
    assert!(frame.iter().all(|&s| s == 0));
}

/// Polls `condition` for up to 2 s.
fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if condition() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}

#[test]
fn a_wrong_name_names_the_available_devices() {
    let err = Speaker::open(Some("no such speaker")).unwrap_err();
    let MediaError::NoSuchAudioDevice {
        direction,
        ref name,
        ref available,
    } = err
    else {
        panic!("unexpected error {err}");
    };
    assert_eq!(direction, "output");
    assert_eq!(name, "no such speaker");
    assert!(available.iter().any(|d| d == "null"), "{available:?}");
    let text = err.to_string();
    assert!(
        text.contains("no such speaker") && text.contains("null"),
        "{text}"
    );

    let err = Microphone::open(Some("no such microphone")).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::NoSuchAudioDevice {
                direction: "input",
                ..
            }
        ),
        "{err}"
    );
}
