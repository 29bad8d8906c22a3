//! The committed JSON Schemas of the input formats.

use crate::Format;

/// The JSON Schema of a format's document, pretty-printed (what `sip-config/schemas/` holds).
pub fn json_schema(format: Format) -> String {
    let schema = match format {
        Format::SipCore => crate::sipcore::schema(),
        Format::OpenHab => crate::openhab::schema(),
    };
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of the openHAB per-device local account, pretty-printed.
pub fn local_account_schema() -> String {
    let mut text = serde_json::to_string_pretty(crate::openhab::local_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// The file name under `sip-config/schemas/` of a format's schema.
pub fn schema_file_name(format: Format) -> &'static str {
    match format {
        Format::SipCore => "sipcore.schema.json",
        Format::OpenHab => "openhab.schema.json",
    }
}
