//! Home Assistant: service calls (`POST /api/services/{domain}/{service}`) and SIP Core's
//! configuration (`GET /api/sip-core/config`), with a long-lived access token.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::http::{AdapterError, AdapterEvent, EndpointClient, HttpEndpoint, check_name};
use crate::popup::{ServiceCall, ServiceCallError, ServiceCallHandler};

/// A client for Home Assistant's REST API.
#[derive(Debug, Clone)]
pub struct HomeAssistantClient {
    http: EndpointClient,
}

impl HomeAssistantClient {
    /// A client for the Home Assistant at `endpoint` (`http://homeassistant.local:8123`).
    pub fn new(endpoint: HttpEndpoint) -> Result<HomeAssistantClient, AdapterError> {
        Ok(HomeAssistantClient {
            http: EndpointClient::new(&endpoint)?,
        })
    }

    /// Performs a service call with its data as the JSON body.
    pub async fn call(&self, call: &ServiceCall) -> Result<(), AdapterError> {
        check_name("domain", &call.domain)?;
        check_name("service", &call.service)?;
        let url = self
            .http
            .url(&["api", "services", &call.domain, &call.service]);
        let body = serde_json::Value::Object(call.data.clone()).to_string();
        let request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.http.send("POST", &url, request).await.map(drop)
    }

    /// Fetches SIP Core's `sip_config` as JSON (load it with `sip_config::load_value`).
    pub async fn fetch_sip_core_config(&self) -> Result<serde_json::Value, AdapterError> {
        let url = self.http.url(&["api", "sip-core", "config"]);
        let request = self.http.get(url.clone());
        let response = self.http.send("GET", &url, request).await?;
        let body = self.http.body("GET", &url, response).await?;
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| AdapterError::InvalidResponse {
                method: "GET",
                url: url.to_string(),
                reason: format!("not JSON: {e}"),
            })?;
        if !value.is_object() {
            return Err(AdapterError::InvalidResponse {
                method: "GET",
                url: url.to_string(),
                reason: "expected a JSON object".to_owned(),
            });
        }
        Ok(value)
    }

    /// Performs a service call in the background and reports the outcome on `events`, so a
    /// slow or failing Home Assistant never holds up the caller (inside a tokio runtime).
    pub fn spawn_call(&self, call: ServiceCall, events: mpsc::UnboundedSender<AdapterEvent>) {
        let client = self.clone();
        tokio::spawn(async move {
            let event = match client.call(&call).await {
                Ok(()) => AdapterEvent::ServiceCalled {
                    domain: call.domain,
                    service: call.service,
                },
                Err(error) => {
                    tracing::warn!(domain = %call.domain, service = %call.service, %error, "service call failed");
                    AdapterEvent::ServiceCallFailed {
                        domain: call.domain,
                        service: call.service,
                        error,
                    }
                }
            };
            let _ = events.send(event);
        });
    }
}

#[async_trait]
impl ServiceCallHandler for HomeAssistantClient {
    async fn call_service(&self, call: &ServiceCall) -> Result<(), ServiceCallError> {
        self.call(call).await.map_err(|e| ServiceCallError {
            domain: call.domain.clone(),
            service: call.service.clone(),
            reason: e.to_string(),
        })
    }
}
