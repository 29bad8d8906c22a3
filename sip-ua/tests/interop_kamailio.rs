//! Sipline user agents against a real Kamailio (see `interop/kamailio`), inside the
//! loopback-only network namespace `scripts/test` creates. Skipped unless `SIPLINE_INTEROP` is
//! set.
//!
//! Run by hand: `unshare -n bash -c 'ip link set lo up; scripts/in-netns cargo test -p sip-ua
//! --test interop_kamailio --offline'`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sip_transport::{Backoff, TlsOptions, TrustRoots};
use sip_ua::driver::{AgentEvents, AgentOptions, FixedSdpFactory, FixedSdpMedia, UserAgent};
use sip_ua::{CoreConfig, Credentials, DtmfMethod, EndCause, EndedBy, Event, HoldSide};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);
const PASSWORD: &str = "sipline-test";

fn interop() -> Option<PathBuf> {
    if std::env::var("SIPLINE_INTEROP").is_err() {
        println!("skipped: needs the real peers, run scripts/test");
        return None;
    }
    Some(PathBuf::from(
        std::env::var("SIPLINE_RUN_DIR").expect("SIPLINE_RUN_DIR is set by scripts/in-netns"),
    ))
}

fn start(
    user: &str,
    password: &str,
    server: &str,
    run_dir: &std::path::Path,
) -> (UserAgent, AgentEvents) {
    start_with(user, password, server, run_dir, |_| {})
}

fn start_with(
    user: &str,
    password: &str,
    server: &str,
    run_dir: &std::path::Path,
    adjust: impl FnOnce(&mut AgentOptions),
) -> (UserAgent, AgentEvents) {
    // `RUST_LOG=sip::wire=debug` shows every message.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let core = CoreConfig::new(
        format!("sip:{user}@127.0.0.1"),
        Credentials::new(user, password),
    );
    let mut options = AgentOptions::new(core, server);
    options.transport = options
        .transport
        .with_tls(
            TlsOptions::default()
                .with_roots(TrustRoots::None)
                .with_extra_ca_file(run_dir.join("ca.pem")),
        )
        .with_connect_timeout(Duration::from_secs(3))
        .with_backoff(Backoff {
            min: Duration::from_millis(200),
            max: Duration::from_secs(1),
        });
    adjust(&mut options);
    let media = Arc::new(FixedSdpFactory::new(FixedSdpMedia::loopback_sdp()));
    UserAgent::start(options, media).expect("user agent starts")
}

/// Waits for the first event `pick` accepts, failing on timeout or on a registration failure
/// it was not asked for.
async fn wait<T>(
    events: &mut AgentEvents,
    what: &str,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let found = timeout(LIMIT, async {
        loop {
            let event = events.recv().await.expect("user agent stopped");
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no {what} within {LIMIT:?}"))
}

async fn registered(events: &mut AgentEvents) {
    wait(events, "registration", |e| match e {
        Event::Registered { .. } => Some(()),
        Event::RegistrationFailed { status, reason, .. } => {
            panic!("registration failed: {status:?} {reason}")
        }
        _ => None,
    })
    .await;
}

async fn register_and_unregister(server: &str, user: &str) {
    let Some(run_dir) = interop() else { return };
    let (ua, mut events) = start(user, PASSWORD, server, &run_dir);
    registered(&mut events).await;
    ua.unregister(false).await.unwrap();
    wait(&mut events, "unregistration", |e| {
        matches!(e, Event::Unregistered).then_some(())
    })
    .await;
    ua.shutdown().await;
}

#[tokio::test]
async fn registers_with_digest_over_ws() {
    register_and_unregister("ws://127.0.0.1:8080/ws", "5101").await;
}

#[tokio::test]
async fn registers_with_digest_over_wss() {
    register_and_unregister("wss://127.0.0.1:8443/ws", "5102").await;
}

#[tokio::test]
async fn registers_with_digest_over_udp() {
    register_and_unregister("sip:127.0.0.1:5060;transport=udp", "5103").await;
}

#[tokio::test]
async fn registers_with_digest_over_tcp() {
    register_and_unregister("sip:127.0.0.1:5060;transport=tcp", "5104").await;
}

#[tokio::test]
async fn wrong_password_fails_cleanly_without_retrying() {
    let Some(run_dir) = interop() else { return };
    let (ua, mut events) = start(
        "5105",
        "not-the-password",
        "ws://127.0.0.1:8080/ws",
        &run_dir,
    );
    let (status, reason, retry_in) = wait(&mut events, "a registration failure", |e| match e {
        Event::RegistrationFailed {
            status,
            reason,
            retry_in,
        } => Some((*status, reason.clone(), *retry_in)),
        Event::Registered { .. } => panic!("registered with a wrong password"),
        _ => None,
    })
    .await;
    assert_eq!(status, Some(401));
    assert!(reason.contains("wrong user name or password"), "{reason}");
    assert_eq!(retry_in, None);
    // Nothing more happens: no retry loop.
    let quiet = timeout(Duration::from_secs(2), async {
        loop {
            match events.recv().await {
                Some(Event::RegistrationFailed { .. } | Event::Registered { .. }) => return false,
                Some(_) => {}
                None => return true,
            }
        }
    })
    .await;
    assert!(
        quiet.unwrap_or(true),
        "a second registration attempt was made"
    );
    ua.shutdown().await;
}

struct Phone {
    ua: UserAgent,
    events: AgentEvents,
}

async fn phone(user: &str, server: &str, run_dir: &std::path::Path) -> Phone {
    let (ua, mut events) = start(user, PASSWORD, server, run_dir);
    registered(&mut events).await;
    Phone { ua, events }
}

async fn incoming(phone: &mut Phone) -> sip_ua::driver::Call {
    let handle = wait(&mut phone.events, "an incoming call", |e| match e {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    })
    .await;
    phone.ua.call_handle(handle)
}

async fn ended(phone: &mut Phone) -> (EndedBy, EndCause) {
    wait(&mut phone.events, "the end of the call", |e| match e {
        Event::Ended { by, cause, .. } => Some((*by, *cause)),
        Event::Failed { status, reason, .. } => panic!("call failed: {status:?} {reason}"),
        _ => None,
    })
    .await
}

async fn two_phones(a: &str, b: &str, server: &str) -> Option<(Phone, Phone)> {
    let run_dir = interop()?;
    Some((
        phone(a, server, &run_dir).await,
        phone(b, server, &run_dir).await,
    ))
}

#[tokio::test]
async fn two_agents_call_each_other_through_kamailio_and_either_hangs_up() {
    let Some((mut alice, mut bob)) = two_phones("5201", "5202", "ws://127.0.0.1:8080/ws").await
    else {
        return;
    };
    for caller_hangs_up in [true, false] {
        let call = alice.ua.call("5202").await.unwrap();
        let answer_side = incoming(&mut bob).await;
        wait(&mut alice.events, "ringing", |e| {
            matches!(e, Event::Ringing { .. }).then_some(())
        })
        .await;
        answer_side.answer().await.unwrap();
        wait(&mut alice.events, "the answer", |e| match e {
            Event::RemoteAnswer { sdp, .. } => {
                assert!(sdp.contains("m=audio"));
                Some(())
            }
            _ => None,
        })
        .await;
        wait(&mut alice.events, "confirmation", |e| {
            matches!(e, Event::Confirmed { .. }).then_some(())
        })
        .await;
        wait(&mut bob.events, "the ACK", |e| {
            matches!(e, Event::Confirmed { .. }).then_some(())
        })
        .await;
        // DTMF by SIP INFO through the proxy.
        call.send_dtmf("4#", DtmfMethod::Info).await.unwrap();
        for expected in ['4', '#'] {
            let digit = wait(&mut bob.events, "a DTMF digit", |e| match e {
                Event::DtmfReceived {
                    digit,
                    method: DtmfMethod::Info,
                    ..
                } => Some(*digit),
                _ => None,
            })
            .await;
            assert_eq!(digit, expected);
        }
        // Hold and resume by re-INVITE through the proxy.
        for held in [true, false] {
            if held {
                call.hold().await.unwrap();
            } else {
                call.resume().await.unwrap();
            }
            let hold = |side| {
                move |e: &Event| match e {
                    Event::HoldChanged {
                        side: s, held: h, ..
                    } if *s == side => Some(*h),
                    Event::RenegotiationFailed { status, .. } => {
                        panic!("re-INVITE failed: {status:?}")
                    }
                    _ => None,
                }
            };
            assert_eq!(
                wait(&mut bob.events, "the remote hold", hold(HoldSide::Remote)).await,
                held
            );
            assert_eq!(
                wait(&mut alice.events, "the local hold", hold(HoldSide::Local)).await,
                held
            );
        }
        if caller_hangs_up {
            call.hangup().await.unwrap();
            assert_eq!(
                ended(&mut bob).await,
                (EndedBy::Remote, EndCause::RemoteBye)
            );
            assert_eq!(
                ended(&mut alice).await,
                (EndedBy::Local, EndCause::LocalBye)
            );
        } else {
            answer_side.hangup().await.unwrap();
            assert_eq!(
                ended(&mut alice).await,
                (EndedBy::Remote, EndCause::RemoteBye)
            );
            assert_eq!(ended(&mut bob).await, (EndedBy::Local, EndCause::LocalBye));
        }
    }
    alice.ua.shutdown().await;
    bob.ua.shutdown().await;
}

#[tokio::test]
async fn cancel_before_answer_and_decline_through_kamailio() {
    let Some((mut alice, mut bob)) = two_phones("5301", "5302", "ws://127.0.0.1:8080/ws").await
    else {
        return;
    };
    let call = alice.ua.call("5302").await.unwrap();
    incoming(&mut bob).await;
    wait(&mut alice.events, "ringing", |e| {
        matches!(e, Event::Ringing { .. }).then_some(())
    })
    .await;
    call.hangup().await.unwrap();
    assert_eq!(
        ended(&mut bob).await,
        (EndedBy::Remote, EndCause::RemoteCancel)
    );
    assert_eq!(
        ended(&mut alice).await,
        (EndedBy::Local, EndCause::LocalCancel)
    );

    alice.ua.call("5302").await.unwrap();
    incoming(&mut bob).await.reject(603).await.unwrap();
    let status = wait(&mut alice.events, "the decline", |e| match e {
        Event::Failed { status, .. } => Some(*status),
        _ => None,
    })
    .await;
    assert_eq!(status, Some(603));
    alice.ua.shutdown().await;
    bob.ua.shutdown().await;
}

#[tokio::test]
async fn udp_agents_call_each_other_through_kamailio() {
    let Some((mut alice, mut bob)) =
        two_phones("5401", "5402", "sip:127.0.0.1:5060;transport=udp").await
    else {
        return;
    };
    let call = alice.ua.call("5402").await.unwrap();
    incoming(&mut bob).await.answer().await.unwrap();
    wait(&mut alice.events, "confirmation", |e| {
        matches!(e, Event::Confirmed { .. }).then_some(())
    })
    .await;
    wait(&mut bob.events, "the ACK", |e| {
        matches!(e, Event::Confirmed { .. }).then_some(())
    })
    .await;
    call.hangup().await.unwrap();
    assert_eq!(
        ended(&mut bob).await,
        (EndedBy::Remote, EndCause::RemoteBye)
    );
    alice.ua.shutdown().await;
    bob.ua.shutdown().await;
}

#[tokio::test]
async fn message_through_kamailio() {
    let Some((alice, mut bob)) = two_phones("5501", "5502", "ws://127.0.0.1:8080/ws").await else {
        return;
    };
    let mut alice = alice;
    alice
        .ua
        .send_message("5502", "text/plain", "door opened")
        .await
        .unwrap();
    let body = wait(&mut bob.events, "the MESSAGE", |e| match e {
        Event::MessageReceived { body, from, .. } => {
            assert_eq!(from, "sip:5501@127.0.0.1");
            Some(body.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(body, "door opened");
    let status = wait(&mut alice.events, "the MESSAGE outcome", |e| match e {
        Event::MessageSent { status, .. } => Some(*status),
        _ => None,
    })
    .await;
    assert_eq!(status, Some(200));
    alice.ua.shutdown().await;
    bob.ua.shutdown().await;
}

#[tokio::test]
async fn auto_dial_after_registration_and_auto_answer() {
    let Some(run_dir) = interop() else { return };
    let (bob_ua, mut bob_events) =
        start_with("5602", PASSWORD, "ws://127.0.0.1:8080/ws", &run_dir, |o| {
            o.auto_answer.policy = sip_config::AutoAnswerPolicy::Always;
        });
    registered(&mut bob_events).await;
    let (alice_ua, mut alice_events) =
        start_with("5601", PASSWORD, "ws://127.0.0.1:8080/ws", &run_dir, |o| {
            o.auto_dial = Some("5602".into());
        });
    registered(&mut alice_events).await;
    let remote = wait(&mut alice_events, "the auto-dialled call", |e| match e {
        Event::OutgoingCall { remote_uri, .. } => Some(remote_uri.clone()),
        _ => None,
    })
    .await;
    assert_eq!(remote, "sip:5602@127.0.0.1");
    wait(&mut bob_events, "the auto-answered call", |e| {
        matches!(e, Event::Confirmed { .. }).then_some(())
    })
    .await;
    wait(&mut alice_events, "the answer", |e| {
        matches!(e, Event::Confirmed { .. }).then_some(())
    })
    .await;
    alice_ua.shutdown().await;
    assert_eq!(
        wait(&mut bob_events, "the end", |e| match e {
            Event::Ended { cause, .. } => Some(*cause),
            _ => None,
        })
        .await,
        EndCause::RemoteBye,
        "shutdown hangs up"
    );
    bob_ua.shutdown().await;
}

/// A Kamailio of this test's own on other ports (so restarting it disturbs no other test),
/// stopped by its PID.
struct OwnKamailio {
    pid: u32,
    dir: PathBuf,
    ports: [u16; 4],
}

impl OwnKamailio {
    fn start(dir: PathBuf, ports: [u16; 4]) -> OwnKamailio {
        std::fs::create_dir_all(&dir).expect("run dir");
        let pid = Self::spawn(&dir, ports);
        OwnKamailio { pid, dir, ports }
    }

    fn spawn(dir: &std::path::Path, ports: [u16; 4]) -> u32 {
        let root = std::env::var("SIPLINE_ROOT").map_or_else(
            |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."),
            PathBuf::from,
        );
        let output = std::process::Command::new(root.join("interop/kamailio/start"))
            .arg(dir)
            .env("KAMAILIO_SIP_PORT", ports[0].to_string())
            .env("KAMAILIO_TLS_PORT", ports[1].to_string())
            .env("KAMAILIO_WS_PORT", ports[2].to_string())
            .env("KAMAILIO_WSS_PORT", ports[3].to_string())
            .output()
            .expect("run interop/kamailio/start");
        assert!(
            output.status.success(),
            "kamailio start failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .expect("a PID on the last line")
    }

    fn stop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let deadline = std::time::Instant::now() + LIMIT;
        while std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn restart(&mut self) {
        self.pid = Self::spawn(&self.dir, self.ports);
    }
}

impl Drop for OwnKamailio {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn registers_again_after_kamailio_restarts() {
    let Some(run_dir) = interop() else { return };
    let own_dir = run_dir.join("ua-restart");
    let mut kamailio = OwnKamailio::start(own_dir.clone(), [35060, 35061, 38080, 38443]);
    let (ua, mut events) = start("5701", PASSWORD, "ws://127.0.0.1:38080/ws", &own_dir);
    registered(&mut events).await;
    kamailio.stop();
    wait(&mut events, "the disconnection", |e| {
        matches!(e, Event::TransportDisconnected { .. }).then_some(())
    })
    .await;
    kamailio.restart();
    wait(&mut events, "the reconnection", |e| {
        matches!(e, Event::TransportConnected { .. }).then_some(())
    })
    .await;
    registered(&mut events).await;
    ua.shutdown().await;
}
