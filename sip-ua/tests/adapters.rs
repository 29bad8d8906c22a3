//! The home-automation adapters against a local in-process HTTP server on 127.0.0.1 that
//! records method, path, headers and body.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;
use sip_config::{Format, HaUser, LoadOptions, Secret, load_value};
use sip_ua::adapters::home_assistant::HomeAssistantClient;
use sip_ua::adapters::openhab::{OpenHabClient, StateItemPublisher};
use sip_ua::adapters::{AdapterError, AdapterEvent, HttpEndpoint};
use sip_ua::popup::{ServiceCall, ServiceCallHandler};
use sip_ua::{CallHandle, EndCause, EndedBy, Event, FlowId};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const TOKEN: &str = "s3cret-token";

/// One request as the server saw it.
#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    content_type: Option<String>,
    authorization: Option<String>,
    body: String,
}

/// The server's answer: status, body and a delay before answering.
type Reply = (u16, String, Duration);

/// Serves HTTP/1.1 on 127.0.0.1:0, answering every request with `reply`.
async fn serve(
    reply: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> (SocketAddr, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen_tx, seen_rx) = mpsc::unbounded_channel();
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (seen_tx, reply) = (seen_tx.clone(), reply.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let (seen_tx, reply) = (seen_tx.clone(), reply.clone());
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .map(|v| v.to_str().unwrap_or("<binary>").to_owned())
                        };
                        let mut seen = Seen {
                            method: req.method().to_string(),
                            path: req.uri().path().to_owned(),
                            content_type: header("content-type"),
                            authorization: header("authorization"),
                            body: String::new(),
                        };
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        seen.body = String::from_utf8_lossy(&body).into_owned();
                        let (status, text, delay) = reply(&seen);
                        let _ = seen_tx.send(seen);
                        tokio::time::sleep(delay).await;
                        let mut response = Response::new(Full::new(Bytes::from(text)));
                        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, seen_rx)
}

fn endpoint(addr: SocketAddr) -> HttpEndpoint {
    HttpEndpoint::new(format!("http://{addr}"), Some(Secret::new(TOKEN)))
}

fn ok() -> Reply {
    (200, String::new(), Duration::ZERO)
}

#[tokio::test]
async fn openhab_receives_each_state_string_in_order() {
    let (addr, mut seen) = serve(|_| ok()).await;
    let client = OpenHabClient::new(endpoint(addr)).unwrap();
    let (mut publisher, mut outcomes) = StateItemPublisher::spawn(client, "SipState").unwrap();
    let call = CallHandle(1);
    let script = [
        Event::TransportConnected { flow: FlowId(1) },
        Event::Registered {
            expires: Duration::from_secs(600),
            gruu: None,
        },
        Event::IncomingCall {
            call,
            remote_uri: "sip:door@127.0.0.1".into(),
            display_name: None,
            remote_sdp: None,
        },
        Event::Accepted { call },
        Event::Confirmed { call },
        Event::Ended {
            call,
            by: EndedBy::Remote,
            cause: EndCause::RemoteBye,
        },
    ];
    for event in &script {
        publisher.on_event(event);
    }
    let expected = [
        "connected",
        "registered",
        "incoming:door@127.0.0.1",
        "incoming-accepted:door@127.0.0.1",
        "ended:door@127.0.0.1",
    ];
    for state in expected {
        let request = seen.recv().await.unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/rest/items/SipState");
        assert_eq!(request.content_type.as_deref(), Some("text/plain"));
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(request.body, state);
        assert_eq!(
            outcomes.recv().await.unwrap(),
            AdapterEvent::StatePublished {
                item: "SipState".into(),
                state: state.into()
            }
        );
    }
}

#[tokio::test]
async fn a_401_from_openhab_is_an_event_and_publishing_goes_on() {
    let (addr, mut seen) = serve(|s| {
        if s.body == "connected" {
            (401, "no".into(), Duration::ZERO)
        } else {
            ok()
        }
    })
    .await;
    let client = OpenHabClient::new(endpoint(addr)).unwrap();
    let (mut publisher, mut outcomes) = StateItemPublisher::spawn(client, "SipState").unwrap();
    assert_eq!(
        publisher
            .on_event(&Event::TransportConnected { flow: FlowId(1) })
            .as_deref(),
        Some("connected")
    );
    publisher.on_event(&Event::Registered {
        expires: Duration::from_secs(600),
        gruu: None,
    });
    let AdapterEvent::StatePublishFailed { state, error, .. } = outcomes.recv().await.unwrap()
    else {
        panic!("the first publish fails");
    };
    assert_eq!(state, "connected");
    assert!(
        matches!(error, AdapterError::Unauthorized { status: 401, .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("401") && !text.contains(TOKEN), "{text}");
    assert!(matches!(
        outcomes.recv().await.unwrap(),
        AdapterEvent::StatePublished { state, .. } if state == "registered"
    ));
    assert_eq!(seen.recv().await.unwrap().body, "connected");
    assert_eq!(seen.recv().await.unwrap().body, "registered");
}

#[tokio::test]
async fn home_assistant_service_call_posts_the_data_as_json() {
    let (addr, mut seen) = serve(|_| (200, "[]".into(), Duration::ZERO)).await;
    let ha = HomeAssistantClient::new(endpoint(addr)).unwrap();
    let call = ServiceCall {
        domain: "lock".into(),
        service: "unlock".into(),
        data: json!({ "entity_id": "lock.front_door", "code": 1234 })
            .as_object()
            .unwrap()
            .clone(),
    };
    let handler: &dyn ServiceCallHandler = &ha;
    handler.call_service(&call).await.unwrap();
    let request = seen.recv().await.unwrap();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/api/services/lock/unlock")
    );
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
        json!({ "entity_id": "lock.front_door", "code": 1234 })
    );

    // A base URL with a path prefix keeps it.
    let prefixed = HttpEndpoint::new(format!("http://{addr}/ha/"), None);
    HomeAssistantClient::new(prefixed)
        .unwrap()
        .call(&call)
        .await
        .unwrap();
    let request = seen.recv().await.unwrap();
    assert_eq!(request.path, "/ha/api/services/lock/unlock");
    assert_eq!(request.authorization, None);
}

#[tokio::test]
async fn home_assistant_sip_core_config_is_fetched_and_loads() {
    let config = json!({
        "custom_wss_url": "wss://pbx.example.com:8089/ws",
        "users": [{ "ha_username": "jordy", "password": "1234" }],
        "popup_config": { "buttons": [{ "label": "Open", "type": "dtmf", "data": "1" }] }
    });
    let body = config.to_string();
    let (addr, mut seen) = serve(move |_| (200, body.clone(), Duration::ZERO)).await;
    let ha = HomeAssistantClient::new(endpoint(addr)).unwrap();
    let fetched = ha.fetch_sip_core_config().await.unwrap();
    assert_eq!(fetched, config);
    let request = seen.recv().await.unwrap();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/api/sip-core/config")
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let opts = LoadOptions::new()
        .format(Format::SipCore)
        .ha_user(HaUser::named("jordy"));
    let loaded = load_value(fetched, "home assistant", &opts).unwrap();
    assert_eq!(loaded.config.account.aor, "sip:jordy@pbx.example.com");

    // Not JSON, and JSON that is not an object, are clear errors.
    let (addr, _seen) = serve(|s| match s.path.as_str() {
        "/api/sip-core/config" => (200, "<html>".into(), Duration::ZERO),
        _ => ok(),
    })
    .await;
    let err = HomeAssistantClient::new(endpoint(addr))
        .unwrap()
        .fetch_sip_core_config()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AdapterError::InvalidResponse { reason, .. } if reason.starts_with("not JSON")),
        "{err:?}"
    );
    let (addr, _seen) = serve(|_| (200, "[1]".into(), Duration::ZERO)).await;
    let err = HomeAssistantClient::new(endpoint(addr))
        .unwrap()
        .fetch_sip_core_config()
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdapterError::InvalidResponse { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_timeout_and_a_refused_connection_are_events() {
    let (addr, _seen) = serve(|_| (200, String::new(), Duration::from_secs(5))).await;
    let ha = HomeAssistantClient::new(endpoint(addr).timeout(Duration::from_millis(200))).unwrap();
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let call = ServiceCall {
        domain: "light".into(),
        service: "toggle".into(),
        data: Default::default(),
    };
    ha.spawn_call(call.clone(), events_tx.clone());
    match events.recv().await.unwrap() {
        AdapterEvent::ServiceCallFailed {
            domain,
            service,
            error:
                AdapterError::Timeout {
                    method,
                    url,
                    timeout,
                },
        } => {
            assert_eq!(
                (domain.as_str(), service.as_str(), method),
                ("light", "toggle", "POST")
            );
            assert_eq!(url, format!("http://{addr}/api/services/light/toggle"));
            assert_eq!(timeout, Duration::from_millis(200));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }

    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let ha = HomeAssistantClient::new(HttpEndpoint::new(format!("http://127.0.0.1:{port}"), None))
        .unwrap();
    ha.spawn_call(call, events_tx);
    let event = events.recv().await.unwrap();
    assert!(
        matches!(
            &event,
            AdapterEvent::ServiceCallFailed {
                error: AdapterError::Unreachable { .. },
                ..
            }
        ),
        "{event:?}"
    );
    let openhab =
        OpenHabClient::new(HttpEndpoint::new(format!("http://127.0.0.1:{port}"), None)).unwrap();
    let err = openhab
        .post_state("SipState", "registered")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");
}

#[tokio::test]
async fn failure_statuses_and_bad_input_say_what_and_where() {
    let (addr, _seen) =
        serve(|_| (404, "Item SipState does not exist!".into(), Duration::ZERO)).await;
    let openhab = OpenHabClient::new(endpoint(addr)).unwrap();
    let err = openhab
        .post_state("SipState", "registered")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "POST http://{addr}/rest/items/SipState: status 404: Item SipState does not exist!"
        )
    );
    assert!(matches!(
        openhab.post_state("../x", "registered").await,
        Err(AdapterError::InvalidName { what: "item", .. })
    ));
    assert!(matches!(
        StateItemPublisher::spawn(openhab.clone(), "bad item"),
        Err(AdapterError::InvalidName { .. })
    ));
    let ha = HomeAssistantClient::new(endpoint(addr)).unwrap();
    let bad = ServiceCall {
        domain: "light/../../x".into(),
        service: "toggle".into(),
        data: Default::default(),
    };
    assert!(matches!(
        ha.call(&bad).await,
        Err(AdapterError::InvalidName { what: "domain", .. })
    ));
    for url in [
        "ftp://host",
        "not a url",
        "http://user:pw@host",
        "mailto:x@y",
    ] {
        let err = HomeAssistantClient::new(HttpEndpoint::new(url, None)).unwrap_err();
        assert!(
            matches!(err, AdapterError::InvalidUrl { .. }),
            "{url}: {err:?}"
        );
    }
    let err = HomeAssistantClient::new(HttpEndpoint::new("http://user:pw@host", None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid server URL \"http://***@host/\": put credentials in the token, not the URL"
    );
    let shown = format!("{:?}", endpoint(addr));
    assert!(!shown.contains(TOKEN) && shown.contains("***"), "{shown}");
}
