//! `ua.reload(config)`: applies what changed between two configurations, and only that
//! (sip-config's [`diff`](sip_config::diff) says what each change requires).

use std::time::Duration;

use sip_config::{Account, ConfigDiff, Effect, PhoneConfig, Secret};
use sip_transport::Transport;

use super::{Driver, now};
use crate::driver::AgentOptions;
use crate::error::{Error, Result};

/// A configuration with nothing set, to diff against when the agent did not start from a
/// [`PhoneConfig`]: every setting of the new one counts as changed.
fn nothing() -> PhoneConfig {
    let mut blank = PhoneConfig::new(
        Account::new("", "", Secret::new("")),
        sip_config::TransportConfig::new(""),
    );
    blank.transport.urls.clear();
    blank
}

/// How long a reload waits for the registrar to remove the old binding before going on.
const UNREGISTER_GRACE: Duration = Duration::from_secs(2);

/// Whether a change under `section` (`account`, `auto_dial` ...) is in `diff`.
fn touches(diff: &ConfigDiff, section: &str) -> bool {
    diff.changes.iter().any(|change| {
        let path = change.path.to_string();
        path == section
            || path
                .strip_prefix(section)
                .is_some_and(|rest| rest.starts_with(['.', '[']))
    })
}

impl Driver {
    /// Applies `new`: policies in place, a new REGISTER when the account or registration
    /// settings changed, a new connection only when the transport settings changed. Nothing
    /// is applied when `new` cannot be used (no server URL, transport refused).
    pub(super) async fn reload(&mut self, new: PhoneConfig) -> Result<ConfigDiff> {
        let fresh = AgentOptions::from_phone(&new).ok_or_else(|| Error::Transport {
            reason: "the new configuration has no server URL (transport.urls is empty)".to_owned(),
        })?;
        let diff = sip_config::diff(self.phone.as_deref().unwrap_or(&nothing()), &new);
        tracing::info!(%diff, "reloading the configuration");

        // Start the new connection before touching anything, so a refused transport leaves
        // the agent as it was.
        let reconnect = if diff.required() == Some(Effect::Reconnect) {
            let mut config = self.transport_config.clone();
            config.servers = fresh.transport.servers;
            config.keep_alive = fresh.transport.keep_alive;
            let started = Transport::start(config.clone()).map_err(|e| Error::Transport {
                reason: e.to_string(),
            })?;
            Some((config, started))
        } else {
            None
        };

        self.policy.auto_answer = new.auto_answer.clone();
        if touches(&diff, "auto_dial") {
            self.policy.auto_dial = new.auto_dial.clone();
            // A new target is dialled once, as on start; at once when already registered.
            let ready = self.current.is_some()
                && (self.core.is_registered() || !self.core.config().register);
            self.auto_dial_at = (ready && new.auto_dial.is_some())
                .then(|| tokio::time::Instant::now() + super::AUTO_DIAL_DELAY);
        }

        // A new server or address of record: the old binding would linger at the registrar
        // until it expires (calls to the old AOR still ringing here, or nowhere), so it is
        // removed first, on the old flow and under the old AOR.
        let moving = reconnect.is_some() || self.core.config().aor != fresh.core.aor;
        let unregistered = moving && self.core.is_registered();
        if unregistered {
            self.remove_binding().await;
        }
        if let Some((config, (transport, wire))) = reconnect {
            let old = std::mem::replace(&mut self.transport, transport);
            self.wire = wire;
            self.transport_config = config;
            old.close().await;
            self.disconnected("reconnecting for a new configuration".to_owned());
            if unregistered && self.core.config().register {
                // Registers on the new flow once it is up (unregistering cleared the wish).
                if let Err(e) = self.core.register(now()) {
                    tracing::warn!(error = %e, "registering on the new flow");
                }
            }
        }
        if touches(&diff, "account") || touches(&diff, "registration") {
            // Settings the PhoneConfig does not carry (timers, user agent, seed) stay.
            let mut core = self.core.config().clone();
            core.aor = fresh.core.aor;
            core.display_name = fresh.core.display_name;
            core.credentials = fresh.core.credentials;
            core.register = fresh.core.register;
            core.register_expires = fresh.core.register_expires;
            self.core.reconfigure(now(), core);
        }
        if touches(&diff, "media") || touches(&diff, "ice") {
            self.factory.reconfigure(&new);
        }
        self.phone = Some(Box::new(new));
        Ok(diff)
    }

    /// Unregisters our binding and waits (at most [`UNREGISTER_GRACE`]) for the registrar's
    /// answer, handling what arrives meanwhile; a registrar that does not answer in time
    /// leaves the binding to expire.
    async fn remove_binding(&mut self) {
        self.core.unregister(now(), false);
        self.flush().await;
        let deadline = tokio::time::Instant::now() + UNREGISTER_GRACE;
        while self.core.is_registered() && tokio::time::Instant::now() < deadline {
            let timer = self.core.poll_timeout().map(tokio::time::Instant::from_std);
            let wake = timer.map_or(deadline, |t| t.min(deadline));
            tokio::select! {
                event = self.wire.recv() => match event {
                    Some(event) => self.on_wire(event),
                    None => break,
                },
                () = tokio::time::sleep_until(wake) => self.core.handle_timeout(now()),
            }
            self.flush().await;
        }
        if self.core.is_registered() {
            tracing::warn!("the registrar did not remove the old binding in time");
        }
    }
}
