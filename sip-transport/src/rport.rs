//! RFC 3581 (`rport`): the address the server saw a request come from.
//!
//! A client behind NAT sends `Via: SIP/2.0/UDP 192.168.1.20:5060;rport`; the server fills in
//! `received=203.0.113.7;rport=40312` in the response. That reflexive address is what a user
//! agent should put into its Contact (and use for keep-alive decisions) on that flow.

use std::net::SocketAddr;

use sip_proto::Message;
use sip_proto::values::Rport;

/// The reflexive transport address from a response's top Via: `received` (or the sent-by IP
/// when the server saw no difference) with the `rport` value. `None` when the response has
/// no parsable Via or the server filled in no `rport`.
///
/// ```
/// let response = sip_proto::Message::parse(
///     b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;received=203.0.113.7;rport=40312\r\n\
///       From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
///         .to_vec(),
/// )
/// .unwrap();
/// assert_eq!(sip_transport::rport::reflexive_address(&response), Some("203.0.113.7:40312".parse().unwrap()));
/// ```
pub fn reflexive_address(response: &Message) -> Option<SocketAddr> {
    let message = response.as_ref();
    let via = message.top_via()?.ok()?;
    let Some(Rport::Port(port)) = via.rport() else {
        return None;
    };
    let ip = via.received().or_else(|| via.host.ip())?;
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(via: &str) -> Message {
        Message::parse(
            format!(
                "SIP/2.0 200 OK\r\nVia: {via}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\
                 Call-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            )
            .into_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn received_and_rport_give_the_reflexive_address() {
        let r = response("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;rport=1234;received=192.0.2.1");
        assert_eq!(
            reflexive_address(&r),
            Some("192.0.2.1:1234".parse().unwrap())
        );
    }

    #[test]
    fn without_received_the_sent_by_ip_is_kept() {
        let r = response("SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK1;rport=40001");
        assert_eq!(
            reflexive_address(&r),
            Some("127.0.0.1:40001".parse().unwrap())
        );
    }

    #[test]
    fn no_rport_value_no_address() {
        assert_eq!(
            reflexive_address(&response("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1;rport")),
            None
        );
        assert_eq!(
            reflexive_address(&response("SIP/2.0/WSS abc.invalid;branch=z9hG4bK1")),
            None
        );
        let r = response("SIP/2.0/WSS abc.invalid;branch=z9hG4bK1;rport=5555");
        assert_eq!(reflexive_address(&r), None, "a host name is not an address");
    }
}
