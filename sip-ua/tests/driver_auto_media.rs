//! `AutoMediaFactory` picks the media by transport and offer: two agents talking directly
//! over UDP on loopback (no registrar) get plain RTP both ways; a WebRTC offer arriving over
//! UDP gets a WebRTC answer.

mod driver_support;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use sip_media::MediaOptions;
use sip_ua::driver::{
    AgentEvents, AgentOptions, AutoMediaFactory, MediaFactory, UserAgent, WebRtcFactory,
};
use sip_ua::{CallHandle, CoreConfig, Credentials, Event};

use driver_support::{LIMIT, init_tracing, wait};

/// A free loopback UDP address (bound, then released).
fn free_udp() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a loopback UDP port")
}

/// Agent `user` bound to `local`, sending everything to `peer` over UDP, registration off.
async fn udp_agent(
    user: &str,
    local: SocketAddr,
    peer: SocketAddr,
    media: Arc<dyn MediaFactory>,
) -> (UserAgent, AgentEvents) {
    init_tracing();
    let core = CoreConfig::new(
        format!("sip:{user}@127.0.0.1"),
        Credentials::new(user, "unused"),
    )
    .with_register(false);
    let mut options = AgentOptions::new(core, format!("sip:{peer};transport=udp"));
    options.transport = options.transport.with_udp_bind(local);
    let (ua, mut events) = UserAgent::start(options, media).expect("agent starts");
    wait(&mut events, "UDP socket bound", |e| {
        matches!(e, Event::TransportConnected { .. }).then_some(())
    })
    .await;
    (ua, events)
}

fn auto() -> Arc<AutoMediaFactory> {
    Arc::new(AutoMediaFactory::new(MediaOptions::loopback()))
}

/// The protocol of the first media line (`RTP/AVP`, `UDP/TLS/RTP/SAVPF` ...).
fn profile(sdp: &str) -> String {
    sdp.lines()
        .find_map(|line| line.strip_prefix("m="))
        .and_then(|m| m.split_whitespace().nth(2))
        .unwrap_or("")
        .to_owned()
}

/// Alice calls bob; returns the offer bob saw, the answer alice got, and both calls.
async fn call(
    alice: &UserAgent,
    alice_events: &mut AgentEvents,
    bob: &UserAgent,
    bob_events: &mut AgentEvents,
) -> (String, String, sip_ua::driver::Call, sip_ua::driver::Call) {
    let outgoing = alice.call("sip:bob@127.0.0.1").await.expect("call starts");
    let (handle, offer) = wait(bob_events, "incoming call", |e| match e {
        Event::IncomingCall {
            call, remote_sdp, ..
        } => Some((*call, remote_sdp.clone().unwrap_or_default())),
        _ => None,
    })
    .await;
    let answered = bob.call_handle(handle);
    answered.answer().await.expect("answer made");
    let answer = wait(alice_events, "the answer", |e| match e {
        Event::RemoteAnswer { sdp, .. } => Some(sdp.clone()),
        _ => None,
    })
    .await;
    (offer, answer, outgoing, answered)
}

async fn receives_rtp(who: &str, call: &sip_ua::driver::Call) {
    let media = call.wait_media().await.expect("the call has media");
    tokio::time::timeout(LIMIT, async {
        while media.stats().await.packets_received == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{who} receives no RTP"));
}

fn ended(event: &Event, call: CallHandle) -> Option<()> {
    matches!(event, Event::Ended { call: c, .. } if *c == call).then_some(())
}

#[tokio::test]
async fn agents_over_udp_get_plain_rtp_both_ways() {
    let (a, b) = (free_udp(), free_udp());
    let (alice, mut alice_events) = udp_agent("alice", a, b, auto()).await;
    let (bob, mut bob_events) = udp_agent("bob", b, a, auto()).await;
    let (offer, answer, outgoing, answered) =
        call(&alice, &mut alice_events, &bob, &mut bob_events).await;
    assert_eq!(
        profile(&offer),
        "RTP/AVP",
        "alice offers plain RTP over UDP:\n{offer}"
    );
    assert_eq!(
        profile(&answer),
        "RTP/AVP",
        "bob answers plain RTP:\n{answer}"
    );
    assert!(!offer.contains("a=fingerprint") && !answer.contains("a=ice-ufrag"));
    receives_rtp("alice", &outgoing).await;
    receives_rtp("bob", &answered).await;
    outgoing.hangup().await.unwrap();
    wait(&mut bob_events, "bob's call ended", |e| {
        ended(e, answered.handle())
    })
    .await;
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn a_webrtc_offer_over_udp_gets_a_webrtc_answer() {
    let (a, b) = (free_udp(), free_udp());
    let webrtc = Arc::new(WebRtcFactory::new(MediaOptions::loopback()));
    let (alice, mut alice_events) = udp_agent("alice", a, b, webrtc).await;
    let (bob, mut bob_events) = udp_agent("bob", b, a, auto()).await;
    let (offer, answer, outgoing, answered) =
        call(&alice, &mut alice_events, &bob, &mut bob_events).await;
    assert_eq!(profile(&offer), "UDP/TLS/RTP/SAVPF", "{offer}");
    assert_eq!(
        profile(&answer),
        "UDP/TLS/RTP/SAVPF",
        "bob follows the offer, not the transport:\n{answer}"
    );
    assert!(answer.contains("a=fingerprint"), "{answer}");
    receives_rtp("bob", &answered).await;
    outgoing.hangup().await.unwrap();
    wait(&mut bob_events, "bob's call ended", |e| {
        ended(e, answered.handle())
    })
    .await;
    alice.shutdown().await;
    bob.shutdown().await;
}
