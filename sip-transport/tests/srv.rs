//! DNS SRV (RFC 3263 §4.2) against a small in-process DNS server on loopback: the transport
//! follows the SRV records in priority order and fails over between them.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::proto::op::Message as DnsMessage;
use hickory_resolver::proto::rr::rdata::SRV;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use sip_transport::{
    Backoff, KeepAlive, Transport, TransportConfig, TransportEvent, TransportKind,
};
use tokio::net::{TcpListener, UdpSocket};
use tokio::time::timeout;

/// Answers SRV queries for `_sip._tcp.sipline.test.` and `_sip._udp.sipline.test.` with the
/// given (priority, port) records pointing at `localhost.`; everything else gets no answer.
async fn dns_server(tcp: Vec<(u16, u16)>, udp: Vec<(u16, u16)>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((len, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let Ok(query) = DnsMessage::from_vec(&buf[..len]) else {
                continue;
            };
            let mut response = DnsMessage::response(query.metadata.id, query.metadata.op_code);
            for question in &query.queries {
                response.add_query(question.clone());
                let records = match question.name().to_ascii().as_str() {
                    "_sip._tcp.sipline.test." => &tcp,
                    "_sip._udp.sipline.test." => &udp,
                    _ => continue,
                };
                if question.query_type() != RecordType::SRV {
                    continue;
                }
                for &(priority, port) in records {
                    let srv = SRV::new(priority, 10, port, Name::from_ascii("localhost.").unwrap());
                    response.add_answer(Record::from_rdata(
                        question.name().clone(),
                        60,
                        RData::SRV(srv),
                    ));
                }
            }
            let _ = socket.send_to(&response.to_vec().unwrap(), from).await;
        }
    });
    addr
}

fn config(target: &str, dns: SocketAddr) -> TransportConfig {
    TransportConfig::new(target)
        .with_dns_servers(vec![dns])
        .with_keep_alive(KeepAlive::off())
        .with_connect_timeout(Duration::from_secs(2))
        .with_backoff(Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_millis(200),
        })
}

async fn connected(transport_events: &mut sip_transport::TransportEvents) -> sip_transport::Flow {
    loop {
        match timeout(Duration::from_secs(10), transport_events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            TransportEvent::Connected { flow, .. } => return flow,
            TransportEvent::Connecting { .. } => {}
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn tcp_follows_srv_priorities_and_fails_over() {
    let live = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let live_port = live.local_addr().unwrap().port();
    let dead_port = {
        let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
        dead.local_addr().unwrap().port()
    };
    // The preferred record points at a closed port; the second at the live listener.
    let dns = dns_server(vec![(20, live_port), (10, dead_port)], vec![]).await;
    let accept = tokio::spawn(async move { live.accept().await.unwrap() });
    let (transport, mut events) =
        Transport::start(config("sip:sipline.test;transport=tcp", dns)).unwrap();
    let flow = connected(&mut events).await;
    assert_eq!(
        (flow.kind, flow.remote.port()),
        (TransportKind::Tcp, live_port)
    );
    accept.await.unwrap();
    transport.close().await;
}

#[tokio::test]
async fn udp_uses_the_srv_port() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = server.local_addr().unwrap().port();
    let dns = dns_server(vec![], vec![(10, port)]).await;
    let (transport, mut events) = Transport::start(config("sip:sipline.test", dns)).unwrap();
    let flow = connected(&mut events).await;
    assert_eq!((flow.kind, flow.remote.port()), (TransportKind::Udp, port));
    transport.close().await;
}

#[tokio::test]
async fn without_srv_records_the_host_is_used_with_the_default_port() {
    // No SRV answer for this name: A/AAAA of the host itself, port 5060.
    let dns = dns_server(vec![], vec![]).await;
    let (transport, mut events) = Transport::start(config("sip:localhost", dns)).unwrap();
    let flow = connected(&mut events).await;
    assert_eq!(flow.remote.port(), 5060);
    assert!(flow.remote.ip().is_loopback());
    transport.close().await;
}
