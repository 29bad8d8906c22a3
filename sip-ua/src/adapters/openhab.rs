//! openHAB: the call state, as oh-sipclient's state strings, posted to the `sipStateItem`
//! item (`POST /rest/items/{item}`, `text/plain`, API token as Bearer).

use tokio::sync::mpsc;

use super::http::{AdapterError, AdapterEvent, EndpointClient, HttpEndpoint, check_name};
use crate::event::Event;
use crate::state_item::StateItem;

/// A client for openHAB's REST API.
#[derive(Debug, Clone)]
pub struct OpenHabClient {
    http: EndpointClient,
}

impl OpenHabClient {
    /// A client for the openHAB server at `endpoint` (`http://openhab.local:8080`).
    pub fn new(endpoint: HttpEndpoint) -> Result<OpenHabClient, AdapterError> {
        Ok(OpenHabClient {
            http: EndpointClient::new(&endpoint)?,
        })
    }

    /// Sends a command to an item: its new state as plain text.
    pub async fn post_state(&self, item: &str, state: &str) -> Result<(), AdapterError> {
        check_name("item", item)?;
        let url = self.http.url(&["rest", "items", item]);
        let request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/plain")
            .body(state.to_owned());
        self.http.send("POST", &url, request).await.map(drop)
    }
}

/// Publishes the user agent's state to one openHAB item as events arrive, in order, from a
/// background task: [`on_event`](Self::on_event) never waits, and failures come back as
/// [`AdapterEvent::StatePublishFailed`].
#[derive(Debug)]
pub struct StateItemPublisher {
    item: String,
    states: StateItem,
    queue: mpsc::UnboundedSender<String>,
}

impl StateItemPublisher {
    /// Starts the publishing task (inside a tokio runtime) for `item` (the configuration's
    /// `state_item`). Returns the publisher and the stream of its outcomes.
    pub fn spawn(
        client: OpenHabClient,
        item: impl Into<String>,
    ) -> Result<(StateItemPublisher, mpsc::UnboundedReceiver<AdapterEvent>), AdapterError> {
        let item = item.into();
        check_name("item", &item)?;
        let (queue, mut pending) = mpsc::unbounded_channel::<String>();
        let (events, outcomes) = mpsc::unbounded_channel();
        let task_item = item.clone();
        tokio::spawn(async move {
            while let Some(state) = pending.recv().await {
                let event = match client.post_state(&task_item, &state).await {
                    Ok(()) => AdapterEvent::StatePublished {
                        item: task_item.clone(),
                        state,
                    },
                    Err(error) => {
                        tracing::warn!(item = %task_item, %error, "openHAB state not published");
                        AdapterEvent::StatePublishFailed {
                            item: task_item.clone(),
                            state,
                            error,
                        }
                    }
                };
                // Nobody listening is fine: publishing goes on.
                let _ = events.send(event);
            }
        });
        Ok((
            StateItemPublisher {
                item,
                states: StateItem::default(),
                queue,
            },
            outcomes,
        ))
    }

    /// The item published to.
    pub fn item(&self) -> &str {
        &self.item
    }

    /// Applies a user-agent event; when the state string changes, queues it for publishing
    /// and returns it.
    pub fn on_event(&mut self, event: &Event) -> Option<String> {
        let state = self.states.on_event(event)?;
        // The task only stops when the runtime does; a closed queue loses nothing that matters.
        let _ = self.queue.send(state.clone());
        Some(state)
    }
}
