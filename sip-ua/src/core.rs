//! The I/O-free user agent: feed it messages, transport events and the time; poll it for
//! messages to send, events and its next timeout.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::call::Calls;
use crate::config::CoreConfig;
use crate::error::{Error, Result};
use crate::event::{CallHandle, Event};
use crate::flow::{FlowId, Transmit, Transport, TransportEvent};
use crate::message::{Method, SipMessage};
use crate::registration::Registration;
use crate::transaction::{
    ClientEvent, ClientKey, RequestDisposition, ResponseDisposition, ServerEvent, ServerKey,
    TransactionLayer,
};
use crate::values::{NameAddr, uri_user_host};

/// The methods we accept, for Allow headers.
pub(crate) const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, UPDATE, REFER, NOTIFY, PRACK";

/// The option tags we support (Require of anything else gets 420).
pub(crate) const SUPPORTED: &[&str] = &["100rel", "path", "outbound", "gruu", "timer"];

/// The request body types we take.
pub(crate) const ACCEPTED_TYPES: &[&str] =
    &["application/sdp", "text/plain", "application/dtmf-relay"];

/// The flow requests are sent on.
#[derive(Debug, Clone)]
pub(crate) struct ActiveFlow {
    pub(crate) id: FlowId,
    pub(crate) transport: Transport,
    pub(crate) local: String,
}

/// What the protocol machines share: configuration, randomness, the active flow, the
/// transaction layer and the output queues.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) config: CoreConfig,
    pub(crate) rng: StdRng,
    pub(crate) flow: Option<ActiveFlow>,
    /// The user part of our Contact (random, like JsSIP, so it names this instance).
    pub(crate) contact_user: String,
    /// The RFC 7118 `.invalid` host for WebSocket Via and Contact.
    pub(crate) ws_host: String,
    pub(crate) tx: TransactionLayer,
    pub(crate) out: Vec<Transmit>,
    pub(crate) events: VecDeque<Event>,
}

impl Ctx {
    /// A random alphanumeric token.
    pub(crate) fn random_token(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| char::from(CHARS[self.rng.random_range(0..CHARS.len())]))
            .collect()
    }

    fn sent_by(&self, flow: &ActiveFlow) -> String {
        if flow.transport.is_websocket() {
            self.ws_host.clone()
        } else {
            flow.local.clone()
        }
    }

    /// Our Contact URI on the active flow (`ob` marks an RFC 5626 outbound registration).
    pub(crate) fn contact_uri(&self, outbound: bool) -> Option<String> {
        let flow = self.flow.as_ref()?;
        Some(format!(
            "sip:{}@{};transport={}{}",
            self.contact_user,
            self.sent_by(flow),
            flow.transport.uri_param(),
            if outbound { ";ob" } else { "" }
        ))
    }

    /// Our From value with `tag`.
    pub(crate) fn local_from(&self, tag: &str) -> String {
        NameAddr {
            display: self.config.display_name.clone(),
            uri: self.config.aor.clone(),
            params: String::new(),
        }
        .with_tag(tag)
        .to_string()
    }

    /// Puts a fresh top Via on `request` and starts its client transaction on the active
    /// flow. Returns the key and the request as sent.
    pub(crate) fn send_request(
        &mut self,
        now: Instant,
        mut request: SipMessage,
    ) -> Result<(ClientKey, SipMessage)> {
        let what = "a request";
        let flow = self.flow.clone().ok_or(Error::NotConnected { what })?;
        let branch = format!("z9hG4bK{}", self.random_token(16));
        request.remove_header("Via");
        request.prepend_header(
            "Via",
            format!(
                "SIP/2.0/{} {};branch={branch};rport",
                flow.transport.via_token(),
                self.sent_by(&flow)
            ),
        );
        let key = self
            .tx
            .send_request(
                now,
                request.clone(),
                flow.id,
                flow.transport.is_reliable(),
                &mut self.out,
            )
            .ok_or(Error::NotConnected { what })?;
        Ok((key, request))
    }

    /// Starts a client transaction for `request` keeping its Via (a CANCEL must carry its
    /// INVITE's branch, §9.1).
    pub(crate) fn send_request_keep_via(
        &mut self,
        now: Instant,
        request: SipMessage,
    ) -> Result<ClientKey> {
        let what = "a CANCEL";
        let flow = self.flow.clone().ok_or(Error::NotConnected { what })?;
        self.tx
            .send_request(
                now,
                request,
                flow.id,
                flow.transport.is_reliable(),
                &mut self.out,
            )
            .ok_or(Error::NotConnected { what })
    }

    /// Sends a request outside any transaction (the ACK for a 2xx, §13.2.2.4) with a new
    /// branch; returns it as sent, for retransmission.
    pub(crate) fn send_stateless(&mut self, mut request: SipMessage) -> Option<SipMessage> {
        let flow = self.flow.clone()?;
        let branch = format!("z9hG4bK{}", self.random_token(16));
        request.remove_header("Via");
        request.prepend_header(
            "Via",
            format!(
                "SIP/2.0/{} {};branch={branch};rport",
                flow.transport.via_token(),
                self.sent_by(&flow)
            ),
        );
        self.out.push(Transmit {
            flow: flow.id,
            message: request.clone(),
        });
        Some(request)
    }

    /// Resends a message already carrying its Via on the active flow.
    pub(crate) fn resend(&mut self, message: &SipMessage) {
        if let Some(flow) = &self.flow {
            self.out.push(Transmit {
                flow: flow.id,
                message: message.clone(),
            });
        }
    }

    /// Our Contact header value for dialogs.
    pub(crate) fn contact_header(&self) -> Option<String> {
        self.contact_uri(true).map(|uri| format!("<{uri}>"))
    }

    /// Answers a server transaction.
    pub(crate) fn respond(&mut self, now: Instant, key: &ServerKey, response: SipMessage) {
        if !self.tx.respond(now, key, response, &mut self.out) {
            tracing::debug!("response dropped: its server transaction is gone or final");
        }
    }

    /// 200 to an OPTIONS, in or out of a dialog (§11.2): what we allow, accept and support.
    pub(crate) fn capabilities_response(
        &self,
        key: &ServerKey,
        to_tag: Option<&str>,
    ) -> Option<SipMessage> {
        let mut response = self.response_for(key, 200, to_tag)?;
        response.push_header("Allow", ALLOW);
        response.push_header("Accept", ACCEPTED_TYPES.join(", "));
        response.push_header("Supported", SUPPORTED.join(", "));
        Some(response)
    }

    /// A response to the request of `key`, with our To tag when it has none.
    pub(crate) fn response_for(
        &self,
        key: &ServerKey,
        status: u16,
        to_tag: Option<&str>,
    ) -> Option<SipMessage> {
        let request = self.tx.server_request(key)?;
        let mut response = SipMessage::response_to(request, status);
        // §12.1.1: responses that create a dialog carry the Record-Route set back.
        if request.method() == Some(&Method::Invite) && (101..300).contains(&status) {
            for route in request.header_values_raw("Record-Route") {
                response.push_header("Record-Route", route);
            }
        }
        if let (Some(tag), Some(to)) = (to_tag, request.to_header())
            && to.tag().is_none()
        {
            response.set_header("To", to.with_tag(tag).to_string());
        }
        Some(response)
    }
}

/// The I/O-free user agent core.
///
/// ```
/// use std::time::Instant;
/// use sip_ua::{CoreConfig, Credentials, FlowId, Transport, TransportEvent, UserAgentCore};
///
/// let now = Instant::now();
/// let config = CoreConfig::new("sip:alice@example.com", Credentials::new("alice", "pw"));
/// let mut ua = UserAgentCore::new(config);
/// ua.handle_transport_event(now, TransportEvent::Connected {
///     flow: FlowId(1),
///     transport: Transport::Ws,
///     local: "127.0.0.1:50000".into(),
/// });
/// let register = ua.poll_transmit().expect("a REGISTER");
/// assert_eq!(register.message.method(), Some(&sip_ua::Method::Register));
/// assert!(ua.poll_timeout().is_some());
/// ```
#[derive(Debug)]
pub struct UserAgentCore {
    ctx: Ctx,
    registration: Registration,
    calls: Calls,
    transmits: VecDeque<Transmit>,
    /// Our MESSAGE requests in flight: the target, and the request for an auth retry.
    standalone: HashMap<ClientKey, (String, SipMessage, crate::auth::AuthSession)>,
}

impl UserAgentCore {
    /// A core for `config`; nothing is sent until a flow connects.
    pub fn new(config: CoreConfig) -> UserAgentCore {
        let mut rng = match config.rng_seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        let mut config = config;
        if config.instance_id.is_empty() {
            config.instance_id = random_uuid_urn(&mut rng);
        }
        let mut ctx = Ctx {
            config,
            rng,
            flow: None,
            contact_user: String::new(),
            ws_host: String::new(),
            tx: TransactionLayer::default(),
            out: Vec::new(),
            events: VecDeque::new(),
        };
        ctx.tx = TransactionLayer::new(ctx.config.timers);
        ctx.contact_user = ctx.random_token(8);
        ctx.ws_host = format!("{}.invalid", ctx.random_token(12));
        let registration = Registration::new(&mut ctx);
        UserAgentCore {
            ctx,
            registration,
            calls: Calls::default(),
            transmits: VecDeque::new(),
            standalone: HashMap::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &CoreConfig {
        &self.ctx.config
    }

    /// Whether our binding is in place.
    pub fn is_registered(&self) -> bool {
        self.registration.is_registered()
    }

    /// Our Contact URI on the active flow.
    pub fn contact_uri(&self) -> Option<String> {
        self.ctx.contact_uri(false)
    }

    /// Number of live (client, server) transactions.
    pub fn transaction_counts(&self) -> (usize, usize) {
        self.ctx.tx.counts()
    }

    /// The driver reports a flow change.
    pub fn handle_transport_event(&mut self, now: Instant, event: TransportEvent) {
        match event {
            TransportEvent::Connected {
                flow,
                transport,
                local,
            } => {
                self.ctx.flow = Some(ActiveFlow {
                    id: flow,
                    transport,
                    local,
                });
                self.ctx
                    .events
                    .push_back(Event::TransportConnected { flow });
                self.registration.on_connected(now, &mut self.ctx);
            }
            TransportEvent::Disconnected { flow, reason } => {
                let failed = self.ctx.tx.fail_flow(flow);
                if self.ctx.flow.as_ref().is_some_and(|f| f.id == flow) {
                    self.ctx.flow = None;
                    self.registration.on_disconnected();
                }
                self.ctx
                    .events
                    .push_back(Event::TransportDisconnected { flow, reason });
                for (key, event) in failed {
                    self.dispatch_client_event(now, key, event);
                }
            }
            TransportEvent::SendFailed {
                flow,
                call_id,
                reason,
            } => {
                tracing::warn!(%flow, reason, "send failed");
                let failed = match call_id {
                    Some(call_id) => self.ctx.tx.fail_call(flow, &call_id),
                    None => self.ctx.tx.fail_flow(flow),
                };
                for (key, event) in failed {
                    self.dispatch_client_event(now, key, event);
                }
            }
        }
        self.flush();
    }

    /// The driver received `message` on `flow`.
    pub fn handle_message(&mut self, now: Instant, message: SipMessage, flow: FlowId) {
        tracing::debug!(target: "sip::wire", %flow, "recv {}", message.summary());
        if message.is_request() {
            self.handle_request(now, message, flow);
        } else {
            self.handle_response(now, message);
        }
        self.flush();
    }

    /// The driver received a parsed message: it is checked with sip-proto's
    /// [`validate`](sip_proto::validate::validate) first (RFC 3261 §8.2: a broken request gets
    /// its 400/415/416/420/505 here, statelessly; a broken response is dropped), then handed
    /// to [`UserAgentCore::handle_message`].
    pub fn handle_received(
        &mut self,
        now: Instant,
        message: &sip_proto::MessageRef<'_>,
        flow: FlowId,
    ) {
        use sip_proto::validate::{ValidateOptions, Verdict, validate};
        let options = ValidateOptions {
            supported: Some(SUPPORTED),
            accepted_types: Some(ACCEPTED_TYPES),
            ..ValidateOptions::default()
        };
        match validate(message, &options) {
            Verdict::Accept => self.handle_message(now, SipMessage::from_proto(message), flow),
            Verdict::Drop { reason } => {
                tracing::debug!(target: "sip::wire", %flow, reason, "broken response dropped");
            }
            Verdict::Reject(rejection) => {
                let request = SipMessage::from_proto(message);
                tracing::debug!(
                    target: "sip::wire",
                    %flow,
                    status = rejection.status,
                    detail = rejection.detail,
                    "request refused: {}",
                    request.summary()
                );
                if request.method() == Some(&Method::Ack) {
                    return;
                }
                let mut response = SipMessage::response_to(&request, rejection.status);
                if let Some(to) = request.to_header()
                    && to.tag().is_none()
                {
                    let tag = self.ctx.random_token(10);
                    response.set_header("To", to.with_tag(&tag).to_string());
                }
                if !rejection.unsupported.is_empty() {
                    response.push_header("Unsupported", rejection.unsupported.join(", "));
                }
                if rejection.status == 415 {
                    response.push_header("Accept", ACCEPTED_TYPES.join(", "));
                }
                self.ctx.out.push(Transmit {
                    flow,
                    message: response,
                });
                self.flush();
            }
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut client_events = Vec::new();
        let mut server_events = Vec::new();
        self.ctx.tx.on_timeout(
            now,
            &mut self.ctx.out,
            &mut client_events,
            &mut server_events,
        );
        for (key, event) in client_events {
            self.dispatch_client_event(now, key, event);
        }
        for (_key, event) in server_events {
            match event {
                ServerEvent::AckTimeout => tracing::debug!("no ACK for a final response (Timer H)"),
            }
        }
        self.registration.on_timeout(now, &mut self.ctx);
        self.calls.on_timeout(now, &mut self.ctx);
        self.flush();
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let transmit = self.transmits.pop_front()?;
        tracing::debug!(target: "sip::wire", flow = %transmit.flow, "send {}", transmit.message.summary());
        Some(transmit)
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.ctx.events.pop_front()
    }

    /// When [`UserAgentCore::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.ctx.tx.next_timeout(),
            self.registration.next_timeout(),
            self.calls.next_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Registers now (again), resetting a previous failure.
    pub fn register(&mut self, now: Instant) -> Result<()> {
        if !self.ctx.config.register {
            return Err(Error::RegistrationDisabled);
        }
        self.registration.register(now, &mut self.ctx);
        self.flush();
        Ok(())
    }

    /// Removes our binding; with `all`, every binding of the AOR (`Contact: *`).
    pub fn unregister(&mut self, now: Instant, all: bool) {
        self.registration.unregister(now, &mut self.ctx, all);
        self.flush();
    }

    /// Calls `target` (normalised with the account's domain, see
    /// [`crate::policy::normalize_target`]) with our SDP offer. The answer arrives as
    /// [`Event::RemoteAnswer`].
    pub fn invite(
        &mut self,
        now: Instant,
        target: &str,
        sdp_offer: Option<&str>,
    ) -> Result<CallHandle> {
        let uri = crate::policy::normalize_target(target, self.ctx.config.domain())?;
        let handle = self.calls.invite(now, &mut self.ctx, &uri, sdp_offer);
        self.flush();
        handle
    }

    /// Answers an incoming call with our SDP (an answer, or an offer when the INVITE had none).
    pub fn answer(&mut self, now: Instant, call: CallHandle, sdp: Option<&str>) -> Result<()> {
        let result = self.calls.answer(now, &mut self.ctx, call, sdp);
        self.flush();
        result
    }

    /// Sends early media on an incoming call before answering: 183 Session Progress with our
    /// SDP (the answer to the caller's offer). When the caller uses `100rel` (RFC 3262) it goes
    /// reliably, and a later [`UserAgentCore::answer`] waits for its PRACK.
    pub fn early_media(&mut self, now: Instant, call: CallHandle, sdp: &str) -> Result<()> {
        let result = self.calls.early_media(now, &mut self.ctx, call, sdp);
        self.flush();
        result
    }

    /// Rejects an incoming call with a 3xx–6xx status (486 busy, 603 decline, 480 ...).
    pub fn reject(&mut self, now: Instant, call: CallHandle, status: u16) -> Result<()> {
        let result = self.calls.reject(now, &mut self.ctx, call, status);
        self.flush();
        result
    }

    /// Ends a call however far it got: CANCEL, 480, or BYE.
    pub fn hangup(&mut self, now: Instant, call: CallHandle) -> Result<()> {
        let result = self.calls.hangup(now, &mut self.ctx, call, None);
        self.flush();
        result
    }

    /// Ends a call because its media failed (ICE failure, unusable answer): like
    /// [`UserAgentCore::hangup`], reported as [`EndCause::MediaFailed`](crate::EndCause::MediaFailed).
    pub fn end_for_media_failure(&mut self, now: Instant, call: CallHandle) -> Result<()> {
        let why = Some((crate::EndedBy::System, crate::EndCause::MediaFailed));
        let result = self.calls.hangup(now, &mut self.ctx, call, why);
        self.flush();
        result
    }

    /// Sends a new offer in a confirmed call (hold with `sendonly`, resume with `sendrecv`,
    /// or any media change). The answer arrives as [`Event::RemoteAnswer`]; a 491 is retried
    /// after the RFC 3261 §14.1 delay.
    pub fn reinvite(&mut self, now: Instant, call: CallHandle, sdp: &str) -> Result<()> {
        let result = self.calls.reinvite(now, &mut self.ctx, call, sdp);
        self.flush();
        result
    }

    /// Sends `digits` by SIP INFO (`application/dtmf-relay`), one request per digit spaced by
    /// `duration` plus JsSIP's 500 ms gap.
    pub fn send_info_dtmf(
        &mut self,
        now: Instant,
        call: CallHandle,
        digits: &str,
        duration: std::time::Duration,
    ) -> Result<()> {
        let result = self
            .calls
            .send_info_dtmf(now, &mut self.ctx, call, digits, duration);
        self.flush();
        result
    }

    /// Blind transfer: asks the peer to call `target` (REFER with Refer-To); progress arrives as
    /// [`Event::TransferProgress`].
    pub fn refer(&mut self, now: Instant, call: CallHandle, target: &str) -> Result<()> {
        let uri = crate::policy::normalize_target(target, self.ctx.config.domain())?;
        let result = self.calls.refer(now, &mut self.ctx, call, &uri);
        self.flush();
        result
    }

    /// After [`Event::TransferRequested`]: reports the transfer call's status to the referrer
    /// (NOTIFY with a sipfrag; a final status ends the subscription).
    pub fn notify_transfer(&mut self, now: Instant, call: CallHandle, status: u16) -> Result<()> {
        let result = self.calls.notify_transfer(now, &mut self.ctx, call, status);
        self.flush();
        result
    }

    /// Answers the peer's re-offer announced by [`Event::RemoteOffer`].
    pub fn answer_reoffer(&mut self, now: Instant, call: CallHandle, sdp: &str) -> Result<()> {
        let result = self.calls.answer_reoffer(now, &mut self.ctx, call, sdp);
        self.flush();
        result
    }

    /// Refuses the peer's re-offer (488 when its SDP is unusable); the call goes on.
    pub fn reject_reoffer(&mut self, now: Instant, call: CallHandle, status: u16) -> Result<()> {
        let result = self.calls.reject_reoffer(now, &mut self.ctx, call, status);
        self.flush();
        result
    }

    /// Sends a MESSAGE (RFC 3428) outside any dialog; the outcome arrives as
    /// [`Event::MessageSent`].
    pub fn send_message(
        &mut self,
        now: Instant,
        target: &str,
        content_type: &str,
        body: &str,
    ) -> Result<()> {
        let uri = crate::policy::normalize_target(target, self.ctx.config.domain())?;
        let tag = self.ctx.random_token(10);
        let call_id = self.ctx.random_token(22);
        let mut request = SipMessage::request(Method::Message, uri.clone());
        request.push_header("Max-Forwards", "70");
        request.push_header("To", NameAddr::new(uri.clone()).to_string());
        request.push_header("From", self.ctx.local_from(&tag));
        request.push_header("Call-ID", call_id);
        request.push_header("CSeq", "1 MESSAGE");
        request.push_header("User-Agent", self.ctx.config.user_agent.clone());
        request.set_body(content_type, body.as_bytes());
        let (key, sent) = self.ctx.send_request(now, request)?;
        self.standalone
            .insert(key, (uri, sent, crate::auth::AuthSession::default()));
        self.flush();
        Ok(())
    }

    /// A snapshot of a call, `None` once it is gone.
    pub fn call_info(&self, call: CallHandle) -> Option<crate::CallInfo> {
        self.calls.info(call)
    }

    /// Number of calls not yet ended.
    pub fn active_calls(&self) -> usize {
        self.calls.active()
    }

    /// Takes a reloaded account (identity, credentials, registration switch and expiry) while
    /// calls and transactions carry on: the binding is renewed with the new settings (a
    /// REGISTER now when connected, on connect otherwise), or removed when registration is
    /// now off. The instance id stays unless the new configuration sets one.
    pub fn reconfigure(&mut self, now: Instant, config: CoreConfig) {
        if self.ctx.config.register && !config.register {
            // Removed under the identity the registrar knows.
            self.registration.unregister(now, &mut self.ctx, false);
        }
        let instance_id = std::mem::take(&mut self.ctx.config.instance_id);
        self.ctx.config = config;
        if self.ctx.config.instance_id.is_empty() {
            self.ctx.config.instance_id = instance_id;
        }
        if self.ctx.config.register {
            self.registration.register(now, &mut self.ctx);
        }
        self.flush();
    }

    fn flush(&mut self) {
        self.transmits.extend(self.ctx.out.drain(..));
    }

    fn dispatch_client_event(&mut self, now: Instant, key: ClientKey, event: ClientEvent) {
        if self.registration.owns(&key) {
            self.registration.on_client_event(now, &mut self.ctx, event);
        } else if self.calls.owns(&key) {
            self.calls.on_client_event(now, &mut self.ctx, key, event);
        } else if let Some((to, request, mut auth)) = self.standalone.remove(&key) {
            let status = match event {
                ClientEvent::Provisional(_) => {
                    self.standalone.insert(key, (to, request, auth));
                    return;
                }
                ClientEvent::Final(response) => {
                    let status = response.status();
                    if matches!(status, Some(401 | 407)) {
                        let mut retry = request;
                        let seq = retry.cseq().map_or(1, |c| c.seq + 1);
                        retry.set_header("CSeq", format!("{seq} MESSAGE"));
                        let cnonce = self.ctx.random_token(16);
                        if auth
                            .answer(&mut retry, &response, &self.ctx.config.credentials, &cnonce)
                            .is_ok()
                            && let Ok((key, sent)) = self.ctx.send_request(now, retry)
                        {
                            self.standalone.insert(key, (to, sent, auth));
                            return;
                        }
                    }
                    status
                }
                ClientEvent::Timeout | ClientEvent::TransportError => None,
            };
            self.ctx.events.push_back(Event::MessageSent { to, status });
        }
    }

    fn handle_response(&mut self, now: Instant, response: SipMessage) {
        match self.ctx.tx.on_response(now, &response, &mut self.ctx.out) {
            ResponseDisposition::Matched(key, event) => self.dispatch_client_event(now, key, event),
            ResponseDisposition::Absorbed => {}
            ResponseDisposition::Unmatched => {
                tracing::debug!("stray response dropped: {}", response.summary());
            }
        }
    }

    fn handle_request(&mut self, now: Instant, request: SipMessage, flow: FlowId) {
        let reliable = self
            .ctx
            .flow
            .as_ref()
            .filter(|f| f.id == flow)
            .is_none_or(|f| f.transport.is_reliable());
        let Some(disposition) =
            self.ctx
                .tx
                .on_request(now, &request, flow, reliable, &mut self.ctx.out)
        else {
            tracing::debug!(
                "request without usable Via/CSeq dropped: {}",
                request.summary()
            );
            return;
        };
        let key = match disposition {
            RequestDisposition::New(key) => key,
            RequestDisposition::Absorbed => return,
            RequestDisposition::AckFor2xx => {
                self.calls.on_ack(now, &mut self.ctx, &request);
                return;
            }
        };
        self.handle_new_request(now, key, &request);
    }

    fn handle_new_request(&mut self, now: Instant, key: ServerKey, request: &SipMessage) {
        let Some(method) = request.method().cloned() else {
            return;
        };
        if let Some(status) = self.precheck(request) {
            let tag = self.ctx.random_token(10);
            if let Some(mut response) = self.ctx.response_for(&key, status.0, Some(&tag)) {
                if let Some(unsupported) = status.1 {
                    response.push_header("Unsupported", unsupported);
                }
                self.ctx.respond(now, &key, response);
            }
            return;
        }
        let in_dialog = request.to_header().is_some_and(|to| to.tag().is_some());
        if in_dialog && method != Method::Cancel {
            if !self
                .calls
                .on_in_dialog_request(now, &mut self.ctx, &key, request)
            {
                // §12.2.2: no such dialog.
                if let Some(response) = self.ctx.response_for(&key, 481, None) {
                    self.ctx.respond(now, &key, response);
                }
            }
            return;
        }
        if method == Method::Invite {
            self.calls
                .on_incoming_invite(now, &mut self.ctx, key, request);
            return;
        }
        let tag = self.ctx.random_token(10);
        let response = match method {
            Method::Options => self.ctx.capabilities_response(&key, Some(&tag)),
            Method::Message => {
                let from = request.from_header().map(|f| f.uri).unwrap_or_default();
                self.ctx.events.push_back(Event::MessageReceived {
                    from,
                    content_type: request
                        .header("Content-Type")
                        .unwrap_or("text/plain")
                        .to_owned(),
                    body: String::from_utf8_lossy(&request.body).into_owned(),
                });
                self.ctx.response_for(&key, 200, Some(&tag))
            }
            Method::Cancel => match self.ctx.tx.invite_for_cancel(request) {
                Some(invite) if self.ctx.tx.server_pending(&invite) => {
                    // §9.2: 200 for the CANCEL, then 487 for the INVITE.
                    if let Some(ok) = self.ctx.response_for(&key, 200, None) {
                        self.ctx.respond(now, &key, ok);
                    }
                    self.on_cancel(now, &invite);
                    None
                }
                Some(_) => self.ctx.response_for(&key, 200, None),
                None => self.ctx.response_for(&key, 481, Some(&tag)),
            },
            Method::Bye
            | Method::Info
            | Method::Update
            | Method::Refer
            | Method::Notify
            | Method::Prack => self.ctx.response_for(&key, 481, Some(&tag)),
            _ => self.ctx.response_for(&key, 501, Some(&tag)).map(|mut r| {
                r.push_header("Allow", ALLOW);
                r
            }),
        };
        if let Some(response) = response {
            self.ctx.respond(now, &key, response);
        }
    }

    /// A CANCEL matched a pending INVITE: end it with 487 (§9.2).
    fn on_cancel(&mut self, now: Instant, invite: &ServerKey) {
        if !self.calls.on_cancel(now, &mut self.ctx, invite) {
            let tag = self.ctx.random_token(10);
            if let Some(response) = self.ctx.response_for(invite, 487, Some(&tag)) {
                self.ctx.respond(now, invite, response);
            }
        }
    }

    /// Checks every new request must pass: ours (404), supported extensions (420).
    fn precheck(&self, request: &SipMessage) -> Option<(u16, Option<String>)> {
        let unsupported: Vec<&str> = request
            .values("Require")
            .filter(|tag| !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(tag)))
            .collect();
        if !unsupported.is_empty() && request.method() != Some(&Method::Cancel) {
            return Some((420, Some(unsupported.join(", "))));
        }
        let user = request
            .request_uri()
            .and_then(uri_user_host)
            .and_then(|(user, _)| user);
        match user {
            Some(user) if user != self.ctx.contact_user && user != self.ctx.config.user() => {
                Some((404, None))
            }
            _ => None,
        }
    }
}

/// A version-4 UUID URN from `rng` (RFC 5626 `+sip.instance`).
fn random_uuid_urn(rng: &mut StdRng) -> String {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
