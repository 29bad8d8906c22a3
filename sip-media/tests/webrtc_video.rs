//! Experimental video between two `WebRtcMedia` sessions on 127.0.0.1.

use std::time::Duration;

use bytes::Bytes;
use sip_media::video::{VideoCodec, VideoMode, VideoOptions};
use sip_media::{AnswerKind, MediaEvent, MediaOptions, MediaSession, WebRtcMedia};
use tokio::sync::broadcast;

fn options(mode: VideoMode, codecs: &[VideoCodec], call_id: &str) -> MediaOptions {
    MediaOptions {
        video: VideoOptions {
            mode,
            codecs: codecs.to_vec(),
        },
        call_id: call_id.into(),
        ..MediaOptions::loopback()
    }
}

async fn connected(events: &mut broadcast::Receiver<MediaEvent>) {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(MediaEvent::Connected) = events.recv().await {
                return;
            }
        }
    })
    .await
    .expect("connected");
}

fn frame(n: u8, len: usize) -> Bytes {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(n).wrapping_add(n))
        .collect::<Vec<_>>()
        .into()
}

async fn frames_arrive(codec: VideoCodec) {
    let sender = WebRtcMedia::new(options(VideoMode::SendRecv, &[codec], "video-tx"))
        .await
        .unwrap();
    let receiver = WebRtcMedia::new(options(
        VideoMode::RecvOnly,
        &[VideoCodec::Vp8, VideoCodec::H264],
        "video-rx",
    ))
    .await
    .unwrap();
    let mut events = sender.events();
    let offer = sender.create_offer().await.unwrap();
    assert!(offer.contains("m=video"), "{offer}");
    let answer = receiver.create_answer(&offer).await.unwrap();
    let video_answer = &answer[answer.find("m=video").expect("video answered")..];
    assert!(video_answer.contains("a=recvonly"), "{video_answer}");
    sender
        .apply_answer(&answer, AnswerKind::Final)
        .await
        .unwrap();
    assert_eq!(sender.video_codec(), Some(codec));
    assert_eq!(receiver.video_codec(), Some(codec));
    let mut frames = receiver.take_video_frames().unwrap();
    assert!(receiver.take_video_frames().is_none());
    connected(&mut events).await;

    let sent: Vec<Bytes> = (1..=20u8)
        .map(|n| {
            let mut f = frame(n, 3000 + usize::from(n) * 100).to_vec();
            if codec == VideoCodec::H264 {
                // One Annex-B IDR NAL unit per frame.
                f.splice(0..0, [0, 0, 0, 1, 0x65]);
                for b in &mut f[5..] {
                    *b |= 1; // no emulated start codes
                }
            }
            Bytes::from(f)
        })
        .collect();
    for f in &sent {
        sender
            .send_video_frame(f.clone(), Duration::from_millis(33))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(33)).await;
    }
    let mut received = Vec::new();
    while let Ok(Some(f)) = tokio::time::timeout(Duration::from_millis(500), frames.recv()).await {
        assert_eq!(f.codec, codec);
        received.push(f.data);
    }
    // Loopback loses nothing; the first frames may precede the receiver's track setup.
    assert!(
        received.len() >= 18,
        "{codec:?}: {} of 20 frames",
        received.len()
    );
    for data in &received {
        assert!(
            sent.contains(data),
            "{codec:?}: a received frame differs from every sent one"
        );
    }
    // Camera muted (through the trait, as sip-ua's driver does): frames are not sent, and
    // sending resumes on unmute without renegotiation.
    let session: &dyn MediaSession = &sender;
    session.set_camera_muted(true);
    assert!(session.is_camera_muted());
    for f in &sent[..5] {
        session
            .send_video_frame(f.clone(), Duration::from_millis(33))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(33)).await;
    }
    let while_muted = tokio::time::timeout(Duration::from_millis(500), frames.recv()).await;
    assert!(
        while_muted.is_err(),
        "{codec:?}: a frame arrived while the camera was muted"
    );
    session.set_camera_muted(false);
    let mut after_unmute = 0;
    for f in &sent[..5] {
        session
            .send_video_frame(f.clone(), Duration::from_millis(33))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(33)).await;
    }
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(500), frames.recv()).await {
        after_unmute += 1;
    }
    assert!(
        after_unmute >= 4,
        "{codec:?}: {after_unmute} of 5 frames after unmuting"
    );
    // The receive-only side cannot send.
    assert!(
        receiver
            .send_video_frame(sent[0].clone(), Duration::from_millis(33))
            .await
            .is_err()
    );
    sender.close().await.unwrap();
    receiver.close().await.unwrap();
}

#[tokio::test]
async fn vp8_frames_are_received() {
    frames_arrive(VideoCodec::Vp8).await;
}

#[tokio::test]
async fn h264_frames_are_received() {
    frames_arrive(VideoCodec::H264).await;
}

#[tokio::test]
async fn audio_only_session_rejects_video() {
    let caller = WebRtcMedia::new(options(VideoMode::SendRecv, &[VideoCodec::Vp8], "v"))
        .await
        .unwrap();
    let callee = WebRtcMedia::new(options(VideoMode::Off, &[], "a"))
        .await
        .unwrap();
    let offer = caller.create_offer().await.unwrap();
    let answer = callee.create_answer(&offer).await.unwrap();
    caller
        .apply_answer(&answer, AnswerKind::Final)
        .await
        .unwrap();
    assert_eq!(caller.video_codec(), None, "{answer}");
    caller.close().await.unwrap();
    callee.close().await.unwrap();
}
