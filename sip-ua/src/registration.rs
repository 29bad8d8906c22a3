//! Registration (RFC 3261 §10 with RFC 5626 outbound and RFC 7118 WebSocket contacts):
//! register, refresh at a random point between half the expiry and 32 s before it, retry
//! 423 with Min-Expires, back off after failures, unregister, and start again after every
//! reconnect.

use std::time::{Duration, Instant};

use rand::Rng;

use crate::auth::{AuthRefusal, AuthSession};
use crate::core::Ctx;
use crate::event::Event;
use crate::message::{Method, SipMessage};
use crate::transaction::{ClientEvent, ClientKey};
use crate::values::{NameAddr, uri_user_host};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Registering,
    Unregistering,
}

/// The registration state of one account.
#[derive(Debug)]
pub(crate) struct Registration {
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// The expiry we ask for (raised by a 423).
    expires: u32,
    phase: Phase,
    /// The user wants a binding (cleared by `unregister`).
    wanted: bool,
    registered: bool,
    refresh_at: Option<Instant>,
    retry_at: Option<Instant>,
    failures: u32,
    auth: AuthSession,
    pending: Option<(ClientKey, SipMessage)>,
    unregister_all: bool,
}

impl Registration {
    pub(crate) fn new(ctx: &mut Ctx) -> Registration {
        Registration {
            call_id: ctx.random_token(22),
            from_tag: ctx.random_token(10),
            cseq: 0,
            expires: ctx.config.register_expires,
            phase: Phase::Idle,
            wanted: ctx.config.register,
            registered: false,
            refresh_at: None,
            retry_at: None,
            failures: 0,
            auth: AuthSession::default(),
            pending: None,
            unregister_all: false,
        }
    }

    /// Whether a binding is in place.
    pub(crate) fn is_registered(&self) -> bool {
        self.registered
    }

    /// Whether this key is our pending REGISTER.
    pub(crate) fn owns(&self, key: &ClientKey) -> bool {
        self.pending.as_ref().is_some_and(|(k, _)| k == key)
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        [self.refresh_at, self.retry_at].into_iter().flatten().min()
    }

    /// `register()`: bind now (also resets a failure).
    pub(crate) fn register(&mut self, now: Instant, ctx: &mut Ctx) {
        self.wanted = true;
        self.failures = 0;
        self.auth = AuthSession::default();
        self.expires = ctx.config.register_expires;
        self.send(now, ctx, Phase::Registering);
    }

    /// `unregister()`: remove our binding (or every binding of the AOR with `all`).
    pub(crate) fn unregister(&mut self, now: Instant, ctx: &mut Ctx, all: bool) {
        self.wanted = false;
        self.refresh_at = None;
        self.retry_at = None;
        self.unregister_all = all;
        if ctx.flow.is_none() {
            if self.registered {
                self.registered = false;
                ctx.events.push_back(Event::Unregistered);
            }
            return;
        }
        self.send(now, ctx, Phase::Unregistering);
    }

    /// A flow came up: bind again when the user wants a binding.
    pub(crate) fn on_connected(&mut self, now: Instant, ctx: &mut Ctx) {
        if self.wanted {
            self.failures = 0;
            self.send(now, ctx, Phase::Registering);
        }
    }

    /// The flow went down: the binding is unusable until we register on the next flow.
    pub(crate) fn on_disconnected(&mut self) {
        self.pending = None;
        self.phase = Phase::Idle;
        self.registered = false;
        self.refresh_at = None;
        self.retry_at = None;
    }

    pub(crate) fn on_timeout(&mut self, now: Instant, ctx: &mut Ctx) {
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if due(self.refresh_at) || due(self.retry_at) {
            self.refresh_at = None;
            self.retry_at = None;
            if self.wanted && self.pending.is_none() {
                self.send(now, ctx, Phase::Registering);
            }
        }
    }

    fn contact(&self, ctx: &Ctx, expires: u32) -> Option<String> {
        if self.unregister_all && expires == 0 {
            return Some("*".to_owned());
        }
        let uri = ctx.contact_uri(true)?;
        Some(format!(
            "<{uri}>;+sip.instance=\"<{}>\";reg-id={};expires={expires}",
            ctx.config.instance_id, ctx.config.reg_id
        ))
    }

    fn send(&mut self, now: Instant, ctx: &mut Ctx, phase: Phase) {
        let expires = if phase == Phase::Unregistering {
            0
        } else {
            self.expires
        };
        let Some(contact) = self.contact(ctx, expires) else {
            // Not connected: on_connected will send.
            return;
        };
        if let Some((old, _)) = self.pending.take() {
            ctx.tx.forget_client(&old);
        }
        self.cseq += 1;
        let mut request = SipMessage::request(Method::Register, ctx.config.registrar_uri());
        request.push_header("Max-Forwards", "70");
        request.push_header("To", NameAddr::new(ctx.config.aor.clone()).to_string());
        request.push_header("From", ctx.local_from(&self.from_tag));
        request.push_header("Call-ID", self.call_id.clone());
        request.push_header("CSeq", format!("{} REGISTER", self.cseq));
        request.push_header("Contact", contact);
        request.push_header("Expires", expires.to_string());
        request.push_header("Allow", crate::core::ALLOW);
        request.push_header("Supported", "path, outbound, gruu");
        request.push_header("User-Agent", ctx.config.user_agent.clone());
        self.phase = phase;
        self.transmit(now, ctx, request);
    }

    fn transmit(&mut self, now: Instant, ctx: &mut Ctx, request: SipMessage) {
        match ctx.send_request(now, request) {
            Ok((key, sent)) => self.pending = Some((key, sent)),
            Err(_) => self.phase = Phase::Idle,
        }
    }

    pub(crate) fn on_client_event(&mut self, now: Instant, ctx: &mut Ctx, event: ClientEvent) {
        let Some((_, request)) = self.pending.take() else {
            return;
        };
        let response = match event {
            ClientEvent::Provisional(response) => {
                tracing::debug!(status = response.status(), "registration in progress");
                // Still waiting: put the request back.
                let key = crate::transaction::ClientKey::of_request(&request);
                self.pending = key.map(|k| (k, request));
                return;
            }
            ClientEvent::Final(response) => response,
            ClientEvent::Timeout => {
                return self.fail(now, ctx, None, "registrar did not answer (timeout)", None);
            }
            ClientEvent::TransportError => {
                // The reconnect re-registers; nothing to schedule here.
                self.phase = Phase::Idle;
                self.registered = false;
                ctx.events.push_back(Event::RegistrationFailed {
                    status: None,
                    reason: "transport error".to_owned(),
                    retry_in: None,
                });
                return;
            }
        };
        let status = response.status().unwrap_or(500);
        let reason = response.reason().unwrap_or("").to_owned();
        match status {
            200..=299 => self.on_success(now, ctx, &response),
            401 | 407 => {
                let mut retry = request;
                self.cseq += 1;
                retry.set_header("CSeq", format!("{} REGISTER", self.cseq));
                let cnonce = ctx.random_token(16);
                match self
                    .auth
                    .answer(&mut retry, &response, &ctx.config.credentials, &cnonce)
                {
                    Ok(()) => self.transmit(now, ctx, retry),
                    Err(refusal) => {
                        let why = match refusal {
                            AuthRefusal::Rejected { realm } => {
                                format!(
                                    "authentication failed for realm \"{realm}\": wrong user name or password"
                                )
                            }
                            AuthRefusal::NoCredentials { realm } => {
                                format!("no credentials for realm \"{realm}\"")
                            }
                            AuthRefusal::UnsupportedAlgorithm { algorithm } => {
                                format!("unsupported digest algorithm {algorithm}")
                            }
                        };
                        // Never retried automatically: a wrong password must not loop.
                        self.fail_final(ctx, Some(status), why);
                    }
                }
            }
            423 => {
                let min = response
                    .header("Min-Expires")
                    .and_then(|v| v.trim().parse::<u32>().ok());
                match min {
                    Some(min) if min > self.expires && self.phase == Phase::Registering => {
                        self.expires = min;
                        self.send(now, ctx, Phase::Registering);
                    }
                    _ => self.fail_final(
                        ctx,
                        Some(423),
                        "423 Interval Too Brief without a usable Min-Expires".to_owned(),
                    ),
                }
            }
            403 | 404 => self.fail_final(ctx, Some(status), format!("{status} {reason}")),
            _ => {
                let retry_after = response
                    .header("Retry-After")
                    .and_then(|v| v.split([';', '(']).next())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                self.fail(
                    now,
                    ctx,
                    Some(status),
                    &format!("{status} {reason}"),
                    retry_after,
                );
            }
        }
    }

    fn on_success(&mut self, now: Instant, ctx: &mut Ctx, response: &SipMessage) {
        self.auth.succeeded();
        self.failures = 0;
        if self.phase == Phase::Unregistering {
            self.phase = Phase::Idle;
            self.registered = false;
            self.refresh_at = None;
            ctx.events.push_back(Event::Unregistered);
            return;
        }
        self.phase = Phase::Idle;
        let ours = ctx.contact_uri(true);
        let ours = ours.as_deref().and_then(uri_user_host);
        let mut granted = None;
        let mut gruu = None;
        for value in response.values("Contact") {
            let Some(contact) = NameAddr::parse(value) else {
                continue;
            };
            if ours.is_some() && uri_user_host(&contact.uri) == ours {
                granted = contact
                    .param("expires")
                    .flatten()
                    .and_then(|e| e.parse::<u32>().ok());
                gruu = contact.param("pub-gruu").flatten().map(str::to_owned);
            }
        }
        let expires = granted
            .or_else(|| {
                response
                    .header("Expires")
                    .and_then(|e| e.trim().parse().ok())
            })
            .unwrap_or(self.expires);
        if expires == 0 {
            self.fail(
                now,
                ctx,
                Some(200),
                "registrar granted no binding (expires 0)",
                None,
            );
            return;
        }
        self.registered = true;
        self.refresh_at = Some(now + self.refresh_delay(ctx, expires));
        ctx.events.push_back(Event::Registered {
            expires: Duration::from_secs(u64::from(expires)),
            gruu,
        });
    }

    /// Between 50 % of the expiry and 32 s before it, randomised (JsSIP spreads refreshes
    /// so that many agents do not refresh in step).
    fn refresh_delay(&self, ctx: &mut Ctx, expires: u32) -> Duration {
        let expires = u64::from(expires) * 1000;
        let low = expires / 2;
        let high = expires.saturating_sub(32_000).max(low);
        Duration::from_millis(ctx.rng.random_range(low..=high))
    }

    /// A failure that is retried after `Retry-After` or an RFC 5626 §4.5 back-off.
    fn fail(
        &mut self,
        now: Instant,
        ctx: &mut Ctx,
        status: Option<u16>,
        reason: &str,
        retry_after: Option<Duration>,
    ) {
        self.phase = Phase::Idle;
        self.registered = false;
        self.refresh_at = None;
        self.failures += 1;
        let retry_in = retry_after.unwrap_or_else(|| {
            let exp = self.failures.saturating_sub(1).min(16);
            let bound = ctx
                .config
                .retry_base
                .saturating_mul(1 << exp)
                .min(ctx.config.retry_max);
            // Between 50 % and 100 % of the bound so that agents spread out.
            let ms = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX);
            Duration::from_millis(ctx.rng.random_range(ms / 2..=ms))
        });
        let retry_in = self.wanted.then_some(retry_in);
        self.retry_at = retry_in.map(|d| now + d);
        tracing::warn!(?status, reason, ?retry_in, "registration failed");
        ctx.events.push_back(Event::RegistrationFailed {
            status,
            reason: reason.to_owned(),
            retry_in,
        });
    }

    /// A failure that needs the user (wrong password, forbidden): no automatic retry.
    fn fail_final(&mut self, ctx: &mut Ctx, status: Option<u16>, reason: String) {
        self.phase = Phase::Idle;
        self.registered = false;
        self.refresh_at = None;
        self.retry_at = None;
        tracing::warn!(?status, reason, "registration failed");
        ctx.events.push_back(Event::RegistrationFailed {
            status,
            reason,
            retry_in: None,
        });
    }
}
