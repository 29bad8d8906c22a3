//! Options of the I/O-free core.

use std::time::Duration;

use crate::auth::Credentials;
use crate::flow::TimerConfig;

/// What the core needs to know about its account and behaviour.
///
/// ```
/// use sip_ua::{CoreConfig, Credentials};
///
/// let config = CoreConfig::new("sip:alice@example.com", Credentials::new("alice", "pw"))
///     .with_register_expires(300);
/// assert_eq!(config.registrar_uri(), "sip:example.com");
/// ```
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Our address of record, `sip:user@domain`.
    pub aor: String,
    /// The display name put in From.
    pub display_name: Option<String>,
    /// Credentials, for any realm or per realm.
    pub credentials: Vec<Credentials>,
    /// The registrar URI; `None` means `sip:<domain of the AOR>`.
    pub registrar: Option<String>,
    /// Whether to register at all (off: call-only mode, openHAB `disableRegister`).
    pub register: bool,
    /// The expiry we ask for, in seconds (default 600 like JsSIP).
    pub register_expires: u32,
    /// The RFC 5626 instance id, `urn:uuid:...`; stable across restarts when configured.
    pub instance_id: String,
    /// The RFC 5626 `reg-id`.
    pub reg_id: u32,
    /// The User-Agent header.
    pub user_agent: String,
    /// Transaction timer bases.
    pub timers: TimerConfig,
    /// How long an outgoing call may ring before we cancel it (default 60 s).
    pub no_answer_timeout: Duration,
    /// The RFC 4028 session interval we ask for (default 90 s like JsSIP); `None` switches
    /// session timers off.
    pub session_expires: Option<Duration>,
    /// The first failure back-off (RFC 5626 §4.5 base time, default 30 s).
    pub retry_base: Duration,
    /// The longest failure back-off (default 1800 s).
    pub retry_max: Duration,
    /// Whether an incoming call may ring while another is in progress (default: yes, call
    /// waiting), or gets 486 Busy Here. Neither SIP Core nor openHAB has a setting for it.
    pub second_call: crate::policy::SecondCall,
    /// Send our provisional responses reliably (RFC 3262) also when the caller only supports
    /// `100rel` (default off; a caller that requires it always gets them reliably).
    pub prefer_100rel: bool,
    /// Seed for tags, branches and refresh jitter; `None` seeds from the OS.
    pub rng_seed: Option<u64>,
}

impl CoreConfig {
    /// A configuration with JsSIP's defaults for the given account.
    pub fn new(aor: impl Into<String>, credentials: Credentials) -> CoreConfig {
        CoreConfig {
            aor: aor.into(),
            display_name: None,
            credentials: vec![credentials],
            registrar: None,
            register: true,
            register_expires: crate::DEFAULT_REGISTER_EXPIRES,
            instance_id: String::new(),
            reg_id: 1,
            user_agent: concat!("Sipline/", env!("CARGO_PKG_VERSION")).to_owned(),
            timers: TimerConfig::default(),
            no_answer_timeout: Duration::from_secs(60),
            session_expires: Some(Duration::from_secs(90)),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(1800),
            second_call: crate::policy::SecondCall::Allow,
            prefer_100rel: false,
            rng_seed: None,
        }
    }

    /// Sets the requested registration expiry.
    pub fn with_register_expires(mut self, secs: u32) -> CoreConfig {
        self.register_expires = secs;
        self
    }

    /// Switches registration on or off.
    pub fn with_register(mut self, register: bool) -> CoreConfig {
        self.register = register;
        self
    }

    /// Sets the transaction timers.
    pub fn with_timers(mut self, timers: TimerConfig) -> CoreConfig {
        self.timers = timers;
        self
    }

    /// Sets what happens to a second incoming call (486 Busy Here, or call waiting).
    pub fn with_second_call(mut self, policy: crate::policy::SecondCall) -> CoreConfig {
        self.second_call = policy;
        self
    }

    /// Seeds the random generator (deterministic tests).
    pub fn with_rng_seed(mut self, seed: u64) -> CoreConfig {
        self.rng_seed = Some(seed);
        self
    }

    /// The user part of the AOR (empty when it has none).
    pub fn user(&self) -> &str {
        crate::values::uri_user_host(&self.aor)
            .and_then(|(user, _)| user)
            .unwrap_or("")
    }

    /// The domain of the AOR.
    pub fn domain(&self) -> &str {
        crate::values::uri_user_host(&self.aor)
            .map(|(_, host)| host)
            .unwrap_or("")
    }

    /// The registrar URI (configured, or `sip:<domain>`).
    pub fn registrar_uri(&self) -> String {
        self.registrar
            .clone()
            .unwrap_or_else(|| format!("sip:{}", self.domain()))
    }
}

impl CoreConfig {
    /// The core options of a resolved sip-config [`PhoneConfig`](sip_config::PhoneConfig):
    /// account, credentials, registration switch and expiry.
    ///
    /// ```
    /// use sip_config::{Account, PhoneConfig, Secret, TransportConfig};
    ///
    /// let phone = PhoneConfig::new(
    ///     Account::new("sip:201@pbx.example.com", "201", Secret::new("pw")),
    ///     TransportConfig::new("wss://pbx.example.com/ws"),
    /// );
    /// let core = sip_ua::CoreConfig::from_phone(&phone);
    /// assert_eq!(core.domain(), "pbx.example.com");
    /// assert_eq!(core.register_expires, 600);
    /// assert!(!format!("{core:?}").contains("pw\""));
    /// ```
    pub fn from_phone(phone: &sip_config::PhoneConfig) -> CoreConfig {
        let aor = if phone.account.aor.contains(':') {
            phone.account.aor.clone()
        } else {
            format!("sip:{}", phone.account.aor)
        };
        let mut core = CoreConfig::new(
            aor,
            Credentials::new(
                phone.account.auth_user.clone(),
                phone.account.password.expose(),
            ),
        );
        core.display_name = phone.account.display_name.clone();
        core.register = phone.registration.enabled;
        core.register_expires = phone.registration.expires_secs;
        core
    }
}
