//! A string that never shows itself in logs, `Debug`, `Display` or errors.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// A secret such as a SIP password or a TURN credential.
///
/// `Debug` and `Display` print `***`; read the value with [`Secret::expose`]. Serde reads and
/// writes the real value (so a configuration can be saved and compared); use
/// [`PhoneConfig::redacted`](crate::PhoneConfig::redacted) before printing a whole configuration.
///
/// ```
/// let s = sip_config::Secret::new("hunter2");
/// assert_eq!(format!("{s} {s:?}"), "*** ***");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The text printed in place of a secret.
    pub const MASK: &'static str = "***";

    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value; hand it only to code that authenticates.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same secret replaced by [`Secret::MASK`] (empty stays empty, so "no password" shows).
    pub fn masked(&self) -> Self {
        if self.0.is_empty() {
            Self::default()
        } else {
            Self(Self::MASK.to_owned())
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MASK)
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }

    fn inline_schema() -> bool {
        true
    }

    // `writeOnly` is JSON Schema's marker for secrets; the validator never echoes such values.
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "writeOnly": true })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_and_masked_hide_the_value() {
        let s = Secret::new("s3cret");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(s.to_string(), "***");
        assert_eq!(s.masked().expose(), "***");
        assert_eq!(Secret::default().masked().expose(), "");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"s3cret\"");
    }
}
