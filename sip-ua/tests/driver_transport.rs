//! Transport failures before any flow came up are reported: an agent whose server refuses the
//! connection hears `TransportFailed` and a registration failure, never silence.

mod driver_support;

use std::sync::Arc;

use sip_ua::Event;
use sip_ua::driver::{FixedSdpFactory, FixedSdpMedia, UserAgent};
use sip_ua::state_item::StateItem;

use driver_support::{init_tracing, options, wait};

/// A loopback TCP port nobody listens on (bound, then released).
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("its address").port()
}

#[tokio::test]
async fn a_refused_connection_is_reported_and_fails_the_registration() {
    init_tracing();
    let server = format!("sip:127.0.0.1:{};transport=tcp", refused_port());
    let media = Arc::new(FixedSdpFactory::new(FixedSdpMedia::loopback_sdp()));
    let (ua, mut events) = UserAgent::start(options("201", &server), media).expect("agent starts");
    let mut item = StateItem::default();
    let mut transport_failed = None;
    let registration = wait(&mut events, "registration failure", |e| {
        item.on_event(e);
        if let Event::TransportFailed { reason } = e {
            transport_failed.get_or_insert_with(|| reason.clone());
        }
        match e {
            Event::RegistrationFailed { status, reason, .. } => Some((*status, reason.clone())),
            _ => None,
        }
    })
    .await;
    let transport_failed =
        transport_failed.expect("TransportFailed before the registration failure");
    assert!(!transport_failed.is_empty());
    assert_eq!(registration.0, None, "no status: nothing answered");
    assert!(
        registration.1.contains("cannot be reached") && registration.1.contains(&transport_failed),
        "the registration failure says why: {}",
        registration.1
    );
    assert_eq!(item.state(), "disconnected");
    // Reconnect attempts go on being reported, the registration failure only once.
    let again = wait(&mut events, "a second failed attempt", |e| match e {
        Event::TransportFailed { .. } => Some(false),
        Event::RegistrationFailed { .. } => Some(true),
        _ => None,
    })
    .await;
    assert!(
        !again,
        "the registration failure is reported once per run of failures"
    );
    tokio::time::timeout(std::time::Duration::from_secs(10), ua.shutdown())
        .await
        .expect("shutdown is bounded");
}
