//! `ua.reload(config)`: only what changed takes effect — policies in place, a new REGISTER for
//! account changes, a new connection only for transport changes — through the in-process
//! registrar double on loopback.

mod driver_support;

use std::sync::Arc;

use sip_config::{Account, AutoAnswer, AutoAnswerPolicy, Effect, PhoneConfig, Secret};
use sip_ua::driver::{AgentEvents, FixedSdpFactory, FixedSdpMedia, MediaFactory, UserAgent};
use sip_ua::{CallHandle, Error, Event};

use driver_support::{RegistrarDouble, agent, init_tracing, wait};

fn fixed() -> Arc<FixedSdpFactory> {
    Arc::new(FixedSdpFactory::new(FixedSdpMedia::loopback_sdp()))
}

fn phone(user: &str, server: &str) -> PhoneConfig {
    PhoneConfig::new(
        Account::new(format!("sip:{user}@127.0.0.1"), user, Secret::new("pw")),
        sip_config::TransportConfig::new(server),
    )
}

async fn configured(config: &PhoneConfig) -> (UserAgent, AgentEvents) {
    init_tracing();
    let (ua, mut events) =
        UserAgent::start_with_config(config.clone(), fixed()).expect("agent starts");
    wait(&mut events, "registered", |e| {
        matches!(e, Event::Registered { .. }).then_some(())
    })
    .await;
    (ua, events)
}

fn incoming(event: &Event) -> Option<CallHandle> {
    match event {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    }
}

/// Collects events up to the first `pick` accepts.
async fn until(events: &mut AgentEvents, what: &str, pick: impl Fn(&Event) -> bool) -> Vec<Event> {
    let mut seen = Vec::new();
    wait(events, what, |e| {
        seen.push(e.clone());
        pick(e).then_some(())
    })
    .await;
    seen
}

fn reconnected_or_registered(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(
            e,
            Event::TransportDisconnected { .. }
                | Event::TransportConnected { .. }
                | Event::Registered { .. }
        )
    })
}

#[tokio::test]
async fn live_changes_apply_in_place_without_reconnecting_or_registering() {
    let double = RegistrarDouble::start().await.unwrap();
    let config = phone("alice", &double.ws_url());
    let (alice, mut alice_events) = configured(&config).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), fixed()).await;

    let same = alice.reload(config.clone()).await.unwrap();
    assert!(same.is_empty(), "{same}");

    let mut answering = config.clone();
    let mut auto = AutoAnswer::default();
    auto.policy = AutoAnswerPolicy::Always;
    answering.auto_answer = auto;
    answering.debug = true;
    let diff = alice.reload(answering).await.unwrap();
    assert_eq!(diff.required(), Some(Effect::ApplyLive), "{diff}");

    // The new policy answers bob's call by itself.
    bob.call("alice").await.unwrap();
    wait(&mut bob_events, "bob's call confirmed", |e| {
        matches!(e, Event::Confirmed { .. }).then_some(())
    })
    .await;
    let seen = until(&mut alice_events, "alice's call confirmed", |e| {
        matches!(e, Event::Confirmed { .. })
    })
    .await;
    assert!(!reconnected_or_registered(&seen), "{seen:?}");
    assert!(seen.iter().any(|e| incoming(e).is_some()));
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn an_account_change_registers_again_on_the_same_connection() {
    let double = RegistrarDouble::start().await.unwrap();
    let config = phone("alice", &double.ws_url());
    let (alice, mut alice_events) = configured(&config).await;
    let (bob, _bob_events) = agent("bob", &double.ws_url(), fixed()).await;
    assert_eq!(double.bound_users(), ["alice", "bob"]);

    let mut renamed = config.clone();
    renamed.account = Account::new("sip:alicia@127.0.0.1", "alicia", Secret::new("new"));
    let diff = alice.reload(renamed).await.unwrap();
    assert_eq!(diff.required(), Some(Effect::Reregister), "{diff}");
    let seen = until(&mut alice_events, "registered again", |e| {
        matches!(e, Event::Registered { .. })
    })
    .await;
    assert!(
        !seen.iter().any(|e| matches!(
            e,
            Event::TransportDisconnected { .. } | Event::TransportConnected { .. }
        )),
        "{seen:?}"
    );
    let unregistered = seen
        .iter()
        .position(|e| matches!(e, Event::Unregistered))
        .expect("the old binding was removed");
    assert!(
        seen[unregistered..]
            .iter()
            .any(|e| matches!(e, Event::Registered { .. })),
        "removed before the new registration: {seen:?}"
    );
    assert_eq!(
        double.bound_users(),
        ["alicia", "bob"],
        "the old AOR's binding is gone"
    );

    // The new address of record reaches alice's agent.
    bob.call("alicia").await.unwrap();
    wait(&mut alice_events, "call to the new AOR", incoming).await;
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn a_transport_change_reconnects_to_the_new_server_and_registers_there() {
    let first = RegistrarDouble::start().await.unwrap();
    let second = RegistrarDouble::start().await.unwrap();
    let config = phone("alice", &first.ws_url());
    let (alice, mut alice_events) = configured(&config).await;
    let (bob, _bob_events) = agent("bob", &second.ws_url(), fixed()).await;

    let mut moved = config.clone();
    moved.transport.urls = vec![second.ws_url()];
    let diff = alice.reload(moved).await.unwrap();
    assert_eq!(diff.required(), Some(Effect::Reconnect), "{diff}");
    let seen = until(&mut alice_events, "registered on the new server", |e| {
        matches!(e, Event::Registered { .. })
    })
    .await;
    let order: Vec<&str> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Unregistered => Some("unregistered"),
            Event::TransportDisconnected { .. } => Some("disconnected"),
            Event::TransportConnected { .. } => Some("connected"),
            Event::Registered { .. } => Some("registered"),
            _ => None,
        })
        .collect();
    // The old binding is removed on the old connection before it closes.
    assert_eq!(
        order,
        ["unregistered", "disconnected", "connected", "registered"]
    );
    assert_eq!(first.bound_users(), Vec::<String>::new());
    assert_eq!(second.bound_users(), ["alice", "bob"]);

    // Bob, registered only with the second server, reaches alice.
    bob.call("alice").await.unwrap();
    wait(&mut alice_events, "call through the new server", incoming).await;
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn a_new_auto_dial_target_is_called_once_registered() {
    let double = RegistrarDouble::start().await.unwrap();
    let config = phone("alice", &double.ws_url());
    let (alice, mut alice_events) = configured(&config).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), fixed()).await;

    let mut dialling = config.clone();
    dialling.auto_dial = Some("bob".to_owned());
    let diff = alice.reload(dialling).await.unwrap();
    assert_eq!(diff.required(), Some(Effect::ApplyLive), "{diff}");
    wait(&mut bob_events, "alice's auto-dialled call", incoming).await;
    wait(&mut alice_events, "alice's outgoing call", |e| match e {
        Event::OutgoingCall { remote_uri, .. } => Some(remote_uri.clone()),
        _ => None,
    })
    .await;
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn switching_registration_off_unregisters() {
    let double = RegistrarDouble::start().await.unwrap();
    let config = phone("alice", &double.ws_url());
    let (alice, mut alice_events) = configured(&config).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), fixed()).await;

    let mut call_only = config.clone();
    call_only.registration.enabled = false;
    let diff = alice.reload(call_only).await.unwrap();
    assert_eq!(diff.required(), Some(Effect::Reregister), "{diff}");
    wait(&mut alice_events, "unregistered", |e| {
        matches!(e, Event::Unregistered).then_some(())
    })
    .await;
    assert_eq!(alice.register().await, Err(Error::RegistrationDisabled));

    // The registrar has no binding for alice any more.
    bob.call("alice").await.unwrap();
    let status = wait(&mut bob_events, "bob's call fails", |e| match e {
        Event::Failed { status, .. } => Some(*status),
        _ => None,
    })
    .await;
    assert_eq!(status, Some(404));
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn a_configuration_without_a_server_is_refused_and_changes_nothing() {
    let double = RegistrarDouble::start().await.unwrap();
    let config = phone("alice", &double.ws_url());
    let (alice, mut alice_events) = configured(&config).await;
    let (bob, mut bob_events) = agent("bob", &double.ws_url(), fixed()).await;

    let mut broken = config.clone();
    broken.transport.urls.clear();
    broken.account = Account::new("sip:other@127.0.0.1", "other", Secret::new("x"));
    assert!(matches!(
        alice.reload(broken.clone()).await,
        Err(Error::Transport { .. })
    ));
    assert!(matches!(
        UserAgent::start_with_config(broken, fixed()),
        Err(Error::Transport { .. })
    ));

    // Still alice, still registered: bob reaches her.
    bob.call("alice").await.unwrap();
    wait(&mut alice_events, "bob's call", incoming).await;
    wait(&mut bob_events, "ringing", |e| {
        matches!(e, Event::Ringing { .. }).then_some(())
    })
    .await;
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn an_agent_started_from_options_takes_a_whole_configuration_on_reload() {
    let double = RegistrarDouble::start().await.unwrap();
    let (alice, mut alice_events) = agent("alice", &double.ws_url(), fixed()).await;
    let diff = alice
        .reload(phone("alice", &double.ws_url()))
        .await
        .unwrap();
    assert_eq!(diff.required(), Some(Effect::Reconnect), "{diff}");
    wait(&mut alice_events, "registered after the reconnect", |e| {
        matches!(e, Event::Registered { .. }).then_some(())
    })
    .await;
    alice.shutdown().await;
}

/// Fixed-SDP media that records the configurations it was given.
#[derive(Default)]
struct Recording {
    seen: std::sync::Mutex<Vec<PhoneConfig>>,
}

#[async_trait::async_trait]
impl MediaFactory for Recording {
    async fn create(&self) -> sip_media::Result<Arc<dyn sip_media::MediaSession>> {
        fixed().create().await
    }

    fn reconfigure(&self, config: &PhoneConfig) {
        self.seen.lock().unwrap().push(config.clone());
    }
}

#[tokio::test]
async fn media_changes_reach_the_factory_and_other_changes_do_not() {
    let double = RegistrarDouble::start().await.unwrap();
    let config = phone("alice", &double.ws_url());
    let factory = Arc::new(Recording::default());
    let (alice, mut alice_events) =
        UserAgent::start_with_config(config.clone(), factory.clone()).unwrap();
    wait(&mut alice_events, "registered", |e| {
        matches!(e, Event::Registered { .. }).then_some(())
    })
    .await;

    let mut video = config.clone();
    video.media.video = true;
    let diff = alice.reload(video.clone()).await.unwrap();
    assert_eq!(diff.required(), Some(Effect::ApplyLive), "{diff}");
    let mut renamed = video.clone();
    renamed.account.display_name = Some("Alice".to_owned());
    alice.reload(renamed).await.unwrap();

    let seen = factory.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "only the media change reached the factory");
    assert!(seen[0].media.video);
    alice.shutdown().await;
}
