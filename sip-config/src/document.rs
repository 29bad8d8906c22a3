//! Shared steps of reading a document: shape check, pruning of bad parts, typed decoding.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::issue::{Issue, JsonPath};
use crate::shape::{Findings, ShapeChecker};

/// The JSON Schema of `T` as a value (generated once per type by the caller's `OnceLock`).
pub(crate) fn schema_of<T: JsonSchema>(cell: &'static OnceLock<Value>) -> &'static Value {
    cell.get_or_init(|| schemars::schema_for!(T).to_value())
}

/// Shape-checks `doc` (found at `at` in the file) against `schema`; collects findings.
pub(crate) fn shape(
    doc: &Value,
    schema: &Value,
    owner: &'static str,
    at: &JsonPath,
    out: &mut Findings,
) {
    ShapeChecker::new(schema, owner).check_root(doc, at, out);
}

/// Removes every part of `doc` (found at `at`) that the shape check rejected, so the rest can be
/// decoded and checked further.
pub(crate) fn pruned(doc: &Value, at: &JsonPath, findings: &Findings) -> Value {
    let mut copy = doc.clone();
    for (path, neutral) in &findings.prunes {
        if let Some(rel) = path.strip_prefix(at) {
            rel.prune(&mut copy, neutral.clone());
        }
    }
    copy
}

/// Decodes an already shape-checked and pruned document.
pub(crate) fn decode<T: DeserializeOwned>(
    doc: Value,
    at: &JsonPath,
    issues: &mut Vec<Issue>,
) -> Option<T> {
    match serde_json::from_value(doc) {
        Ok(t) => Some(t),
        Err(e) => {
            // The schema and the types come from the same definitions, so this means a bug here;
            // still say what happened rather than panic.
            issues.push(Issue::error(
                at,
                format!("a document the reader could not decode ({e})"),
                "a document matching the schema",
            ));
            None
        }
    }
}

/// Drops semantic issues inside parts the shape check already rejected (one report per cause).
pub(crate) fn without_shadowed(semantic: Vec<Issue>, findings: &Findings) -> Vec<Issue> {
    semantic
        .into_iter()
        .filter(|i| !findings.prunes.iter().any(|(p, _)| i.path.starts_with(p)))
        .collect()
}

/// Merges `over` into `base`: objects key by key, recursively; anything else replaces.
pub(crate) fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) => deep_merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_merge_recurses_into_objects_only() {
        let mut base = serde_json::json!({"a": {"b": 1, "c": [1, 2]}, "d": 1});
        deep_merge(&mut base, &serde_json::json!({"a": {"c": [3]}, "e": true}));
        assert_eq!(
            base,
            serde_json::json!({"a": {"b": 1, "c": [3]}, "d": 1, "e": true})
        );
    }
}
