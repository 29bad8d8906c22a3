//! The transaction layer (RFC 3261 §17 with the RFC 6026 Accepted states): client and server,
//! INVITE and non-INVITE. Retransmits only over unreliable flows, matches by branch (with the
//! RFC 2543 fallback for servers), and tells the transaction user what happened.

mod client;
mod key;
mod server;

use std::collections::HashMap;
use std::time::Instant;

pub(crate) use client::{ClientEvent, ClientTx};
pub(crate) use key::{ClientKey, ServerKey};
pub(crate) use server::{ServerEvent, ServerTx};

use crate::flow::{FlowId, TimerConfig, Transmit};
use crate::message::{Method, SipMessage};
use crate::timer_queue::TimerQueue;

/// A transaction in the timer queue.
#[derive(Debug, Clone)]
enum TxKey {
    Client(ClientKey),
    Server(ServerKey),
}

/// What became of an incoming request.
#[derive(Debug)]
pub(crate) enum RequestDisposition {
    /// A new server transaction: the transaction user must respond.
    New(ServerKey),
    /// A retransmission or an ACK for a non-2xx final response, absorbed here.
    Absorbed,
    /// An ACK that belongs to a 2xx (RFC 6026: passed to the transaction user).
    AckFor2xx,
}

/// What became of an incoming response.
#[derive(Debug)]
pub(crate) enum ResponseDisposition {
    /// Delivered to the client transaction `key`.
    Matched(ClientKey, ClientEvent),
    /// Absorbed (a retransmitted non-2xx final).
    Absorbed,
    /// No transaction: a 2xx retransmission after the INVITE transaction ended, or stray.
    Unmatched,
}

/// Every live transaction, and their deadlines in one queue (so a timer tick costs the
/// same with ten or ten thousand transactions).
#[derive(Debug, Default)]
pub(crate) struct TransactionLayer {
    timers: TimerConfig,
    clients: HashMap<ClientKey, ClientTx>,
    servers: HashMap<ServerKey, ServerTx>,
    queue: TimerQueue<TxKey>,
}

impl TransactionLayer {
    pub(crate) fn new(timers: TimerConfig) -> Self {
        TransactionLayer {
            timers,
            ..TransactionLayer::default()
        }
    }

    /// Queues the client transaction's next deadline when it changed.
    fn reschedule_client(&mut self, key: &ClientKey) {
        if let Some(tx) = self.clients.get_mut(key) {
            let next = tx.next_timeout();
            if next != tx.scheduled {
                tx.scheduled = next;
                if let Some(at) = next {
                    self.queue.schedule(at, TxKey::Client(key.clone()));
                }
            }
        }
    }

    /// Queues the server transaction's next deadline when it changed.
    fn reschedule_server(&mut self, key: &ServerKey) {
        if let Some(tx) = self.servers.get_mut(key) {
            let next = tx.next_timeout();
            if next != tx.scheduled {
                tx.scheduled = next;
                if let Some(at) = next {
                    self.queue.schedule(at, TxKey::Server(key.clone()));
                }
            }
        }
    }

    /// Whether a queue entry is still the transaction's deadline.
    fn is_live(
        clients: &HashMap<ClientKey, ClientTx>,
        servers: &HashMap<ServerKey, ServerTx>,
        key: &TxKey,
        at: Instant,
    ) -> bool {
        match key {
            TxKey::Client(k) => clients.get(k).is_some_and(|tx| tx.scheduled == Some(at)),
            TxKey::Server(k) => servers.get(k).is_some_and(|tx| tx.scheduled == Some(at)),
        }
    }

    /// Drops stale deadlines from the top of the queue (after any change).
    fn settle(&mut self) {
        let (clients, servers) = (&self.clients, &self.servers);
        self.queue.prune(clients.len() + servers.len(), |key, at| {
            Self::is_live(clients, servers, key, at)
        });
    }

    /// Starts a client transaction for `request` (its top Via carries the branch).
    pub(crate) fn send_request(
        &mut self,
        now: Instant,
        request: SipMessage,
        flow: FlowId,
        reliable: bool,
        out: &mut Vec<Transmit>,
    ) -> Option<ClientKey> {
        let key = ClientKey::of_request(&request)?;
        let tx = ClientTx::start(now, request, flow, reliable, self.timers, out);
        self.clients.insert(key.clone(), tx);
        self.reschedule_client(&key);
        self.settle();
        Some(key)
    }

    /// Routes a response to its client transaction.
    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        response: &SipMessage,
        out: &mut Vec<Transmit>,
    ) -> ResponseDisposition {
        let Some(key) = ClientKey::of_response(response) else {
            return ResponseDisposition::Unmatched;
        };
        let Some(tx) = self.clients.get_mut(&key) else {
            return ResponseDisposition::Unmatched;
        };
        let event = tx.on_response(now, response, out);
        self.reschedule_client(&key);
        self.settle();
        match event {
            Some(event) => ResponseDisposition::Matched(key, event),
            None => ResponseDisposition::Absorbed,
        }
    }

    /// Routes a request to its server transaction or creates one.
    pub(crate) fn on_request(
        &mut self,
        now: Instant,
        request: &SipMessage,
        flow: FlowId,
        reliable: bool,
        out: &mut Vec<Transmit>,
    ) -> Option<RequestDisposition> {
        let key = ServerKey::of_request(request)?;
        if request.method() == Some(&Method::Ack) {
            let absorbed = self.servers.get_mut(&key).is_some_and(|tx| tx.on_ack(now));
            self.reschedule_server(&key);
            self.settle();
            return Some(if absorbed {
                RequestDisposition::Absorbed
            } else {
                RequestDisposition::AckFor2xx
            });
        }
        if let Some(tx) = self.servers.get_mut(&key) {
            tx.on_retransmission(out);
            return Some(RequestDisposition::Absorbed);
        }
        let tx = ServerTx::new(now, request.clone(), flow, reliable, self.timers);
        self.servers.insert(key.clone(), tx);
        self.reschedule_server(&key);
        self.settle();
        Some(RequestDisposition::New(key))
    }

    /// Sends `response` through server transaction `key`; `false` when it no longer exists
    /// or already sent a final response.
    pub(crate) fn respond(
        &mut self,
        now: Instant,
        key: &ServerKey,
        response: SipMessage,
        out: &mut Vec<Transmit>,
    ) -> bool {
        let sent = match self.servers.get_mut(key) {
            Some(tx) => tx.respond(now, response, out),
            None => return false,
        };
        self.reschedule_server(key);
        self.settle();
        sent
    }

    /// The request that opened server transaction `key`.
    pub(crate) fn server_request(&self, key: &ServerKey) -> Option<&SipMessage> {
        self.servers.get(key).map(|tx| &tx.request)
    }

    /// Whether the server transaction still awaits its final response.
    pub(crate) fn server_pending(&self, key: &ServerKey) -> bool {
        self.servers.get(key).is_some_and(|tx| !tx.has_final())
    }

    /// The INVITE server transaction a CANCEL is for (same branch and sent-by, §9.2).
    pub(crate) fn invite_for_cancel(&self, cancel: &SipMessage) -> Option<ServerKey> {
        let key = ServerKey::of_request(cancel)?.with_method(Method::Invite);
        self.servers.contains_key(&key).then_some(key)
    }

    /// Fires every timer due at `now`.
    pub(crate) fn on_timeout(
        &mut self,
        now: Instant,
        out: &mut Vec<Transmit>,
        client_events: &mut Vec<(ClientKey, ClientEvent)>,
        server_events: &mut Vec<(ServerKey, ServerEvent)>,
    ) {
        // Each due transaction fires once per tick; one still due afterwards is queued again
        // and fires on the next tick, at once.
        for (at, key) in self.queue.pop_due(now) {
            if !Self::is_live(&self.clients, &self.servers, &key, at) {
                continue;
            }
            match key {
                TxKey::Client(key) => {
                    let Some(tx) = self.clients.get_mut(&key) else {
                        continue;
                    };
                    tx.scheduled = None;
                    if let Some(event) = tx.on_timeout(now, out) {
                        client_events.push((key.clone(), event));
                    }
                    if tx.is_terminated() {
                        self.clients.remove(&key);
                    } else {
                        self.reschedule_client(&key);
                    }
                }
                TxKey::Server(key) => {
                    let Some(tx) = self.servers.get_mut(&key) else {
                        continue;
                    };
                    tx.scheduled = None;
                    if let Some(event) = tx.on_timeout(now, out) {
                        server_events.push((key.clone(), event));
                    }
                    if tx.is_terminated() {
                        self.servers.remove(&key);
                    } else {
                        self.reschedule_server(&key);
                    }
                }
            }
        }
        self.settle();
    }

    /// Fails every client transaction on `flow` (§17.1.4); server transactions on it end.
    pub(crate) fn fail_flow(&mut self, flow: FlowId) -> Vec<(ClientKey, ClientEvent)> {
        let mut failed = Vec::new();
        for (key, tx) in &mut self.clients {
            if tx.flow == flow && tx.fail() {
                failed.push((key.clone(), ClientEvent::TransportError));
            }
        }
        self.clients.retain(|_, tx| !tx.is_terminated());
        self.servers.retain(|_, tx| tx.flow != flow);
        self.settle();
        failed
    }

    /// Fails the pending client transactions of one Call-ID on `flow` (a send error).
    pub(crate) fn fail_call(
        &mut self,
        flow: FlowId,
        call_id: &str,
    ) -> Vec<(ClientKey, ClientEvent)> {
        let mut failed = Vec::new();
        for (key, tx) in &mut self.clients {
            if tx.flow == flow && tx.request.call_id() == Some(call_id) && tx.fail() {
                failed.push((key.clone(), ClientEvent::TransportError));
            }
        }
        self.clients.retain(|_, tx| !tx.is_terminated());
        self.settle();
        failed
    }

    /// Ends a client transaction early (a registration abandoned on shutdown).
    pub(crate) fn forget_client(&mut self, key: &ClientKey) {
        self.clients.remove(key);
        self.settle();
    }

    /// The earliest pending timer.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.queue.peek()
    }

    /// Number of live transactions (client, server), for tests and metrics.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.clients.len(), self.servers.len())
    }
}
