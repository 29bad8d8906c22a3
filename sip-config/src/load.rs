//! Entry points: text or files in, a checked [`PhoneConfig`] out.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::env::{self, EnvSource};
use crate::error::ConfigError;
use crate::issue::{Issue, JsonPath, Report};
use crate::phone::PhoneConfig;
use crate::{openhab, sipcore};

/// The configuration formats Sipline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// Home Assistant SIP Core `sip_config`.
    SipCore,
    /// openHAB `oh-sipclient` widget props.
    OpenHab,
}

impl Format {
    /// Every format, in a stable order.
    pub const ALL: [Format; 2] = [Format::SipCore, Format::OpenHab];

    /// The short name used on command lines (`sipcore`, `openhab`).
    pub fn name(self) -> &'static str {
        match self {
            Self::SipCore => "sipcore",
            Self::OpenHab => "openhab",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "sipcore" | "sip-core" | "sip_core" => Ok(Self::SipCore),
            "openhab" | "oh-sipclient" => Ok(Self::OpenHab),
            other => Err(format!(
                "unknown format `{other}`, expected `sipcore` or `openhab`"
            )),
        }
    }
}

/// The Home Assistant user a SIP Core configuration is resolved for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HaUser {
    /// The user's id (or person id without `person.`).
    pub id: Option<String>,
    /// The user's name.
    pub name: Option<String>,
}

impl HaUser {
    /// A user known by name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            id: None,
            name: Some(name.into()),
        }
    }

    /// A user known by id and name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            name: Some(name.into()),
        }
    }
}

/// What a configuration is resolved against.
///
/// `Debug` leaves out the local account (it holds a password).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// The format; detected from the content when `None`.
    pub format: Option<Format>,
    /// The Home Assistant user (SIP Core); without one, `backup_user` is used.
    pub ha_user: Option<HaUser>,
    /// The page origin (`https://ha.local:8123`) that relative URLs resolve against.
    pub origin: Option<String>,
    /// Home Assistant's ingress entry of the PBX add-on (`/api/hassio_ingress/<token>`), used
    /// when SIP Core has no `custom_wss_url`.
    pub ingress_entry: Option<String>,
    /// openHAB: the device's local account, merged over the widget props.
    pub openhab_local: Option<Value>,
    /// Where `${NAME}` references are looked up.
    pub env: EnvSource,
}

impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("format", &self.format)
            .field("ha_user", &self.ha_user)
            .field("origin", &self.origin)
            .field("ingress_entry", &self.ingress_entry)
            .field(
                "openhab_local",
                &self.openhab_local.as_ref().map(|_| "<local account>"),
            )
            .field("env", &self.env)
            .finish()
    }
}

impl LoadOptions {
    /// Options with every field at its default (format detected, process environment).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the format instead of detecting it.
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Sets the Home Assistant user (SIP Core).
    pub fn ha_user(mut self, user: HaUser) -> Self {
        self.ha_user = Some(user);
        self
    }

    /// Sets the page origin relative URLs resolve against.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Sets Home Assistant's ingress entry of the PBX add-on (SIP Core).
    pub fn ingress_entry(mut self, entry: impl Into<String>) -> Self {
        self.ingress_entry = Some(entry.into());
        self
    }

    /// Sets the openHAB device's local account.
    pub fn openhab_local(mut self, local: Value) -> Self {
        self.openhab_local = Some(local);
        self
    }

    /// Sets where `${NAME}` references are looked up.
    pub fn env(mut self, env: EnvSource) -> Self {
        self.env = env;
        self
    }
}

/// A configuration that parsed and validated, with its warnings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Loaded {
    /// The resolved configuration.
    pub config: PhoneConfig,
    /// The format it was read as.
    pub format: Format,
    /// Warnings (unknown keys and the like), in path order.
    pub warnings: Vec<Issue>,
}

/// Tells the format of a document from its keys.
pub fn detect_format(doc: &Value) -> Result<Format, String> {
    const SIPCORE: [&str; 8] = [
        "users",
        "backup_user",
        "custom_wss_url",
        "pbx_server",
        "ice_config",
        "popup_config",
        "sip_video",
        "auto_answer",
    ];
    const OPENHAB: [&str; 6] = [
        "websocketUrl",
        "domain",
        "username",
        "phonebook",
        "dtmfString",
        "disableRegister",
    ];
    let Some(map) = doc.as_object() else {
        return Err(format!(
            "the document is {}, not an object",
            crate::shape::describe(doc, false)
        ));
    };
    // Only openHAB widgets wrap their settings in `component`/`config`; a wrong component
    // name is then reported by the openHAB reader rather than as an unknown format.
    if map.contains_key("component") {
        return Ok(Format::OpenHab);
    }
    let sip = SIPCORE.iter().filter(|k| map.contains_key(**k)).count();
    let oh = OPENHAB.iter().filter(|k| map.contains_key(**k)).count();
    match sip.cmp(&oh) {
        std::cmp::Ordering::Greater => Ok(Format::SipCore),
        std::cmp::Ordering::Less => Ok(Format::OpenHab),
        std::cmp::Ordering::Equal => {
            Err("its keys match neither format clearly; name the format explicitly".to_owned())
        }
    }
}

// YAML goes through `serde_norway`, the maintained fork of the deprecated `serde_yaml` (same
// data model, so YAML and JSON documents become the same `serde_json::Value`).

/// Parses JSON (text starting with `{` or `[`) or YAML into a document; `origin` names the text
/// in syntax errors.
pub fn parse_document(text: &str, origin: &str) -> Result<Value, ConfigError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str(trimmed).map_err(|e| ConfigError::Syntax {
            syntax: "JSON",
            origin: origin.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    } else {
        serde_norway::from_str(trimmed).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            ConfigError::Syntax {
                syntax: "YAML",
                origin: origin.to_owned(),
                line,
                column,
                message: e.to_string(),
            }
        })
    }
}

/// Loads a configuration from JSON or YAML text; `origin` names it in messages.
pub fn load_str(text: &str, origin: &str, opts: &LoadOptions) -> Result<Loaded, ConfigError> {
    load_value(parse_document(text, origin)?, origin, opts)
}

/// Loads a configuration file (JSON or YAML).
pub fn load_file(path: impl AsRef<Path>, opts: &LoadOptions) -> Result<Loaded, ConfigError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    load_str(&text, &path.display().to_string(), opts)
}

/// Loads a configuration from an already parsed document.
pub fn load_value(mut doc: Value, origin: &str, opts: &LoadOptions) -> Result<Loaded, ConfigError> {
    let format = match opts.format {
        Some(f) => f,
        None => detect_format(&doc).map_err(|reason| ConfigError::UnknownFormat {
            origin: origin.to_owned(),
            reason,
        })?,
    };
    let mut issues = Vec::new();
    env::substitute(&mut doc, &opts.env, &JsonPath::root(), &mut issues);
    let mut local = opts.openhab_local.clone();
    if let Some(l) = &mut local {
        env::substitute(l, &opts.env, &JsonPath::root().key("local"), &mut issues);
    }
    let config = match format {
        Format::SipCore => sipcore::resolve(&doc, opts, &mut issues),
        Format::OpenHab => openhab::resolve(&doc, local.as_ref(), opts, &mut issues),
    };
    if config.is_none() && !issues.iter().any(Issue::is_error) {
        // Resolution gives up only after reporting why; should a path ever miss that, still
        // refuse with a message rather than an empty report.
        issues.push(Issue::error(
            &JsonPath::root(),
            "a document that could not be resolved",
            "a complete configuration",
        ));
    }
    let mut report = Report::default();
    report.extend(issues);
    report.normalize();
    for w in report.warnings() {
        tracing::warn!(target: "sip_config", origin, "{w}");
    }
    match config {
        Some(config) if !report.has_errors() => Ok(Loaded {
            config,
            format,
            warnings: report.into_issues(),
        }),
        _ => Err(ConfigError::Invalid {
            origin: origin.to_owned(),
            report,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_options_hides_the_local_account() {
        let opts = LoadOptions::new().openhab_local(serde_json::json!({"password": "tablet-pw"}));
        assert!(!format!("{opts:?}").contains("tablet-pw"));
    }

    #[test]
    fn syntax_errors_say_where() {
        let err = load_str("{\n  \"users\": [,]\n}", "a.json", &LoadOptions::new()).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Syntax {
                    syntax: "JSON",
                    line: 2,
                    ..
                }
            ),
            "{err}"
        );
        let err = load_str("config:\n  domain: [x\n", "w.yaml", &LoadOptions::new()).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Syntax {
                    syntax: "YAML",
                    line: 3,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn formats_are_detected_from_keys() {
        assert_eq!(
            detect_format(&serde_json::json!({"users": [], "pbx_server": "x"})),
            Ok(Format::SipCore)
        );
        assert_eq!(
            detect_format(&serde_json::json!({"websocketUrl": "/ws"})),
            Ok(Format::OpenHab)
        );
        assert_eq!(
            detect_format(&serde_json::json!({"component": "oh-sipclient"})),
            Ok(Format::OpenHab)
        );
        assert!(detect_format(&serde_json::json!({"foo": 1})).is_err());
        assert!(detect_format(&serde_json::json!([1])).is_err());
        let err = load_str("{\"foo\": 1}", "x.json", &LoadOptions::new()).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "cannot tell whether x.json is a SIP Core or an openHAB configuration"
            )
        );
    }
}
