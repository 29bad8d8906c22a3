//! The HTTP plumbing the adapters share: endpoint, client, error mapping and events.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response, Url};
use sip_config::Secret;

/// How long one request may take unless [`HttpEndpoint::timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a home-automation server is and how to authenticate to it.
#[derive(Clone)]
pub struct HttpEndpoint {
    /// The server's base URL, such as `http://openhab.local:8080` (a path prefix is kept).
    pub base_url: String,
    /// The API token (openHAB API token or Home Assistant long-lived token), sent as
    /// `Authorization: Bearer`.
    pub token: Option<Secret>,
    /// Time limit of one request, connection included.
    pub timeout: Duration,
}

impl std::fmt::Debug for HttpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpEndpoint")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl HttpEndpoint {
    /// An endpoint with the default timeout.
    pub fn new(base_url: impl Into<String>, token: Option<Secret>) -> HttpEndpoint {
        HttpEndpoint {
            base_url: base_url.into(),
            token,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same endpoint with another request time limit.
    pub fn timeout(mut self, timeout: Duration) -> HttpEndpoint {
        self.timeout = timeout;
        self
    }
}

/// Why a request to a home-automation server failed. Never contains a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// The base URL cannot be used.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An item, domain or service name that is not `[A-Za-z0-9_]+`.
    #[error("invalid {what} name {name:?} (allowed: letters, digits and _)")]
    InvalidName {
        /// `item`, `domain` or `service`.
        what: &'static str,
        /// The name given.
        name: String,
    },
    /// The HTTP client could not be set up (TLS configuration).
    #[error("HTTP client: {reason}")]
    Client {
        /// What went wrong.
        reason: String,
    },
    /// The server refused our token (401 or 403).
    #[error("{method} {url}: {status} unauthorized (check the API token)")]
    Unauthorized {
        /// The request method.
        method: &'static str,
        /// The request URL.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// Another failure status.
    #[error("{method} {url}: status {status}: {body}")]
    Status {
        /// The request method.
        method: &'static str,
        /// The request URL.
        url: String,
        /// The status.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// No answer within the time limit.
    #[error("{method} {url}: no answer within {timeout:?}")]
    Timeout {
        /// The request method.
        method: &'static str,
        /// The request URL.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// The server could not be reached (connection refused, DNS, TLS handshake).
    #[error("{method} {url}: unreachable: {reason}")]
    Unreachable {
        /// The request method.
        method: &'static str,
        /// The request URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The response body is not what the API returns.
    #[error("{method} {url}: unexpected response: {reason}")]
    InvalidResponse {
        /// The request method.
        method: &'static str,
        /// The request URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// What a background adapter task reports; failures never end a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdapterEvent {
    /// openHAB accepted a state string.
    StatePublished {
        /// The item.
        item: String,
        /// The state.
        state: String,
    },
    /// A state string could not be published.
    StatePublishFailed {
        /// The item.
        item: String,
        /// The state.
        state: String,
        /// Why.
        error: AdapterError,
    },
    /// A service call succeeded.
    ServiceCalled {
        /// The domain.
        domain: String,
        /// The service.
        service: String,
    },
    /// A service call failed.
    ServiceCallFailed {
        /// The domain.
        domain: String,
        /// The service.
        service: String,
        /// Why.
        error: AdapterError,
    },
}

/// An HTTP client bound to one endpoint.
#[derive(Debug, Clone)]
pub(crate) struct EndpointClient {
    client: Client,
    base: Url,
    token: Option<Secret>,
    timeout: Duration,
}

/// Checks a name that goes into a URL path.
pub(crate) fn check_name(what: &'static str, name: &str) -> Result<(), AdapterError> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(AdapterError::InvalidName {
            what,
            name: name.to_owned(),
        })
    }
}

impl EndpointClient {
    pub(crate) fn new(endpoint: &HttpEndpoint) -> Result<EndpointClient, AdapterError> {
        let invalid = |reason: &str| AdapterError::InvalidUrl {
            url: without_credentials(&endpoint.base_url),
            reason: reason.to_owned(),
        };
        let mut base = Url::parse(&endpoint.base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if base.cannot_be_a_base() || base.host().is_none() {
            return Err(invalid("it has no host"));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(invalid("put credentials in the token, not the URL"));
        }
        base.set_query(None);
        base.set_fragment(None);
        let provider = tokio_rustls::rustls::crypto::ring::default_provider();
        let roots = tokio_rustls::rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider.into())
            .with_safe_default_protocol_versions()
            .map_err(|e| AdapterError::Client {
                reason: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(endpoint.timeout)
            .connect_timeout(endpoint.timeout)
            .build()
            .map_err(|e| AdapterError::Client {
                reason: e.to_string(),
            })?;
        Ok(EndpointClient {
            client,
            base,
            token: endpoint.token.clone(),
            timeout: endpoint.timeout,
        })
    }

    /// The base URL with `segments` appended.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn with_auth(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token.expose()),
            None => request,
        }
    }

    pub(crate) fn post(&self, url: Url) -> RequestBuilder {
        self.with_auth(self.client.post(url))
    }

    pub(crate) fn get(&self, url: Url) -> RequestBuilder {
        self.with_auth(self.client.get(url))
    }

    /// Sends a request and turns every failure, including a non-2xx status, into an
    /// [`AdapterError`].
    pub(crate) async fn send(
        &self,
        method: &'static str,
        url: &Url,
        request: RequestBuilder,
    ) -> Result<Response, AdapterError> {
        let shown = url.to_string();
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                AdapterError::Timeout {
                    method,
                    url: shown.clone(),
                    timeout: self.timeout,
                }
            } else {
                AdapterError::Unreachable {
                    method,
                    url: shown.clone(),
                    reason: error_chain(&e),
                }
            }
        })?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(AdapterError::Unauthorized {
                method,
                url: shown,
                status,
            });
        }
        if !response.status().is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(AdapterError::Status {
                method,
                url: shown,
                status,
                body: body.chars().take(200).collect(),
            });
        }
        Ok(response)
    }

    /// Reads a successful response's body, mapping a timeout on the way.
    pub(crate) async fn body(
        &self,
        method: &'static str,
        url: &Url,
        response: Response,
    ) -> Result<Vec<u8>, AdapterError> {
        response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| match e.is_timeout() {
                true => AdapterError::Timeout {
                    method,
                    url: url.to_string(),
                    timeout: self.timeout,
                },
                false => AdapterError::InvalidResponse {
                    method,
                    url: url.to_string(),
                    reason: error_chain(&e),
                },
            })
    }
}

/// The URL as text with any user name and password replaced by `***`.
fn without_credentials(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("***");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        // Unparsable text may still hold `user:password@`: keep only what follows the `@`.
        Err(_) => match url.rsplit_once('@') {
            Some((_, rest)) => format!("***@{rest}"),
            None => url.to_owned(),
        },
    }
}

/// The error and its sources, joined (reqwest's top-level message alone says little).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
