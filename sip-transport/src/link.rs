//! Opening one connection: TCP connect, optional TLS, optional WebSocket handshake, each step
//! bounded by the connect timeout and failing with an error that names the step and the peer.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::PROTOCOL;
use crate::error::{Error, Result};
use crate::flow::{Flow, TransportKind};
use crate::target::Target;

/// The WebSocket read buffer per connection (tungstenite grows it for a longer frame).
const WS_READ_BUFFER: usize = 4096;

/// A TCP stream, with or without TLS.
#[derive(Debug)]
pub(crate) enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// An open connection.
pub(crate) enum Link {
    /// WebSocket: one SIP message per WebSocket message.
    Ws(Box<WebSocketStream<Io>>),
    /// TCP or TLS: a byte stream framed by Content-Length.
    Stream(Io),
}

/// What a connection needs besides the target.
#[derive(Clone)]
pub(crate) struct ConnectSettings {
    pub tls: Option<Arc<ClientConfig>>,
    pub accepting_invalid_certificates: bool,
    pub timeout: Duration,
    /// The largest WebSocket message tungstenite will assemble (a hard limit: beyond it the
    /// connection fails); our own, smaller, SIP limit drops messages without closing.
    pub ws_hard_limit: usize,
    /// DNS (SRV, then A/AAAA).
    pub dns: Arc<crate::resolve::Dns>,
}

/// Connects to the first address of `target` that answers.
pub(crate) async fn open(target: &Target, settings: &ConnectSettings) -> Result<(Link, Flow)> {
    let addrs = settings.dns.addresses(target).await?;
    let mut last_error = None;
    for remote in addrs {
        match open_addr(target, remote, settings).await {
            Ok(opened) => return Ok(opened),
            Err(error) => {
                tracing::debug!(%remote, %error, "connect attempt failed");
                last_error = Some(error);
            }
        }
    }
    Err(last_error.unwrap_or(Error::NotConnected {
        peer: target.to_string(),
    }))
}

async fn open_addr(
    target: &Target,
    remote: SocketAddr,
    settings: &ConnectSettings,
) -> Result<(Link, Flow)> {
    let tcp = match tokio::time::timeout(settings.timeout, TcpStream::connect(remote)).await {
        Err(_) => return Err(Error::timeout("TCP connect", remote, settings.timeout)),
        Ok(Err(e)) => return Err(Error::io("connect to", remote, e)),
        Ok(Ok(tcp)) => tcp,
    };
    tcp.set_nodelay(true)
        .map_err(|e| Error::io("set TCP_NODELAY on", remote, e))?;
    let local = tcp
        .local_addr()
        .map_err(|e| Error::io("read the local address of", remote, e))?;
    let io = if target.kind.is_secure() {
        let config = settings.tls.clone().ok_or_else(|| Error::TlsConfig {
            reason: "no TLS configuration for a secure target".into(),
        })?;
        let tls = crate::tls::handshake(
            config,
            &target.host,
            remote,
            tcp,
            settings.timeout,
            settings.accepting_invalid_certificates,
        )
        .await?;
        Io::Tls(Box::new(tls))
    } else {
        Io::Plain(tcp)
    };
    let flow = Flow {
        kind: target.kind,
        local,
        remote,
    };
    let link = match target.kind {
        TransportKind::Ws | TransportKind::Wss => {
            Link::Ws(Box::new(ws_handshake(target, remote, io, settings).await?))
        }
        _ => Link::Stream(io),
    };
    Ok((link, flow))
}

async fn ws_handshake(
    target: &Target,
    remote: SocketAddr,
    io: Io,
    settings: &ConnectSettings,
) -> Result<WebSocketStream<Io>> {
    let url = target.url.clone().unwrap_or_else(|| target.to_string());
    let handshake_error = |reason: String| Error::WebSocketHandshake {
        url: url.clone(),
        reason,
    };
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| handshake_error(e.to_string()))?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(PROTOCOL));
    // tungstenite's default 128 KiB read buffer is allocated (and zero-filled) per connection:
    // most of an idle agent's memory. SIP messages are mostly under 4 KiB, and tungstenite
    // reserves a longer frame's full length when one arrives, so a small buffer loses nothing.
    let config = WebSocketConfig::default()
        .read_buffer_size(WS_READ_BUFFER)
        .max_message_size(Some(settings.ws_hard_limit))
        .max_frame_size(Some(settings.ws_hard_limit));
    let handshake = tokio_tungstenite::client_async_with_config(request, io, Some(config));
    let (stream, response) = match tokio::time::timeout(settings.timeout, handshake).await {
        Err(_) => {
            return Err(Error::timeout(
                "WebSocket handshake",
                remote,
                settings.timeout,
            ));
        }
        Ok(Err(WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(_)))) => {
            return Err(Error::SubprotocolRefused {
                url,
                answered: None,
            });
        }
        Ok(Err(WsError::Http(response))) => {
            return Err(handshake_error(format!(
                "HTTP status {}",
                response.status()
            )));
        }
        Ok(Err(e)) => return Err(handshake_error(e.to_string())),
        Ok(Ok(done)) => done,
    };
    // tungstenite checks that a requested subprotocol came back; check it is exactly `sip`.
    let answered = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if !answered
        .as_deref()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case(PROTOCOL))
    {
        return Err(Error::SubprotocolRefused { url, answered });
    }
    Ok(stream)
}
