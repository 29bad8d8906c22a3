//! What changed between two configurations, and what applying the change requires.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::issue::JsonPath;
use crate::phone::PhoneConfig;

/// What a change requires to take effect, from lightest to heaviest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Effect {
    /// Applied without touching the connection or registration (popup, buttons, tones,
    /// auto-answer, directory, and media/ICE settings, which the next call uses).
    ApplyLive,
    /// Needs a new REGISTER (credentials, identity, expiry).
    Reregister,
    /// Needs a new connection (server URL, keep-alive); re-registration follows.
    Reconnect,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ApplyLive => "apply live",
            Self::Reregister => "re-register",
            Self::Reconnect => "reconnect",
        })
    }
}

/// One changed setting. Values are not included, so secrets cannot leak through a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Change {
    /// The setting, as a path into [`PhoneConfig`] (`transport.urls[0]`).
    pub path: JsonPath,
    /// What it requires.
    pub effect: Effect,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} changed ({})", self.path, self.effect)
    }
}

/// Every change between two configurations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfigDiff {
    /// The changes, in path order.
    pub changes: Vec<Change>,
}

impl ConfigDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The heaviest effect needed, or `None` when nothing changed.
    pub fn required(&self) -> Option<Effect> {
        self.changes.iter().map(|c| c.effect).max()
    }
}

impl fmt::Display for ConfigDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.required() {
            None => f.write_str("no changes"),
            Some(effect) => {
                write!(
                    f,
                    "{} change{} ({effect}):",
                    self.changes.len(),
                    if self.changes.len() == 1 { "" } else { "s" }
                )?;
                for c in &self.changes {
                    write!(f, "\n  {c}")?;
                }
                Ok(())
            }
        }
    }
}

/// Which effect a change under a top-level [`PhoneConfig`] field has.
fn effect_of(section: &str) -> Effect {
    match section {
        "transport" => Effect::Reconnect,
        "account" | "registration" => Effect::Reregister,
        _ => Effect::ApplyLive,
    }
}

/// Compares two configurations field by field.
///
/// ```
/// use sip_config::{diff, Account, Effect, PhoneConfig, Secret, TransportConfig};
/// let old = PhoneConfig::new(Account::new("sip:100@pbx", "100", Secret::new("a")), TransportConfig::new("wss://pbx/ws"));
/// let mut new = old.clone();
/// new.account.password = Secret::new("b");
/// new.debug = true;
/// let d = diff(&old, &new);
/// assert_eq!(d.required(), Some(Effect::Reregister));
/// assert_eq!(d.to_string(), "2 changes (re-register):\n  account.password changed (re-register)\n  debug changed (apply live)");
/// ```
pub fn diff(old: &PhoneConfig, new: &PhoneConfig) -> ConfigDiff {
    let (a, b) = match (serde_json::to_value(old), serde_json::to_value(new)) {
        (Ok(a), Ok(b)) => (a, b),
        // Serializing plain data cannot fail; treat the impossible case as "everything changed".
        _ => {
            return ConfigDiff {
                changes: vec![Change {
                    path: JsonPath::root().key("transport"),
                    effect: Effect::Reconnect,
                }],
            };
        }
    };
    let mut changes = Vec::new();
    walk(&a, &b, &JsonPath::root(), None, &mut changes);
    changes.sort_by(|x, y| x.path.cmp(&y.path));
    ConfigDiff { changes }
}

fn walk(a: &Value, b: &Value, path: &JsonPath, effect: Option<Effect>, out: &mut Vec<Change>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let e = effect.unwrap_or_else(|| effect_of(k));
                walk(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &path.key(k),
                    Some(e),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                walk(p, q, &path.index(i), effect, out);
            }
        }
        _ => out.push(Change {
            path: path.clone(),
            effect: effect.unwrap_or(Effect::Reconnect),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Account, Secret, TransportConfig};

    fn base() -> PhoneConfig {
        PhoneConfig::new(
            Account::new("sip:100@pbx", "100", Secret::new("pw")),
            TransportConfig::new("wss://pbx/ws"),
        )
    }

    #[test]
    fn classifies_changes() {
        let old = base();
        assert!(diff(&old, &old).is_empty());
        let mut new = old.clone();
        new.transport.urls = vec!["wss://other/ws".into()];
        new.registration.expires_secs = 300;
        new.popup = Some(Default::default());
        let d = diff(&old, &new);
        assert_eq!(d.required(), Some(Effect::Reconnect));
        let effects: Vec<_> = d
            .changes
            .iter()
            .map(|c| (c.path.to_string(), c.effect))
            .collect();
        assert_eq!(
            effects,
            vec![
                ("popup".into(), Effect::ApplyLive),
                ("registration.expires_secs".into(), Effect::Reregister),
                ("transport.urls[0]".into(), Effect::Reconnect),
            ]
        );
        assert!(!d.to_string().contains("pw"));
    }
}
