//! `${ENV_VAR}` substitution, so secrets can live in the environment instead of the file.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::issue::{Issue, JsonPath};

/// Where `${NAME}` references are looked up.
///
/// `Debug` shows variable names only: the values are usually secrets.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum EnvSource {
    /// The process environment.
    #[default]
    Process,
    /// A fixed map (tests, or callers that manage their own secrets).
    Map(BTreeMap<String, String>),
    /// No substitution: `${...}` stays as written.
    Disabled,
}

impl std::fmt::Debug for EnvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Process => f.write_str("Process"),
            Self::Map(map) => f
                .debug_tuple("Map")
                .field(&map.keys().collect::<Vec<_>>())
                .finish(),
            Self::Disabled => f.write_str("Disabled"),
        }
    }
}

impl EnvSource {
    fn lookup(&self, name: &str) -> Option<String> {
        match self {
            Self::Process => std::env::var(name).ok(),
            Self::Map(map) => map.get(name).cloned(),
            Self::Disabled => None,
        }
    }
}

/// Replaces `${NAME}` in every string of `value`; `$${` writes a literal `${`.
///
/// Each missing variable or malformed reference becomes an error at its path; the value then
/// keeps the reference text, and the variable's would-be content is never part of the message.
pub(crate) fn substitute(
    value: &mut Value,
    env: &EnvSource,
    path: &JsonPath,
    out: &mut Vec<Issue>,
) {
    if matches!(env, EnvSource::Disabled) {
        return;
    }
    match value {
        Value::String(s) if s.contains('$') => match expand(s, env) {
            Ok(expanded) => *s = expanded,
            Err(problem) => out.push(problem.into_issue(path)),
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute(item, env, &path.index(i), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                substitute(v, env, &path.key(k), out);
            }
        }
        _ => {}
    }
}

enum Problem {
    Missing(String),
    Unclosed,
    BadName,
}

impl Problem {
    fn into_issue(self, path: &JsonPath) -> Issue {
        match self {
            Problem::Missing(name) => Issue::error(
                path,
                format!("a reference to the environment variable `{name}`, which is not set"),
                format!("`{name}` to be set in the environment"),
            ),
            Problem::Unclosed => Issue::error(
                path,
                "`${` without a closing `}`",
                "`${NAME}` (or `$${` for a literal `${`)",
            ),
            // The "name" may be part of a password that happens to contain `${`: never echo it.
            Problem::BadName => Issue::error(
                path,
                "a `${...}` reference whose name is not letters, digits and `_`",
                "`${NAME}` (or `$${` for a literal `${`)",
            ),
        }
    }
}

fn expand(s: &str, env: &EnvSource) -> Result<String, Problem> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after.find('}').ok_or(Problem::Unclosed)?;
            let name = &after[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Problem::BadName);
            }
            out.push_str(
                &env.lookup(name)
                    .ok_or_else(|| Problem::Missing(name.to_owned()))?,
            );
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> EnvSource {
        EnvSource::Map(BTreeMap::from([("SIP_PW".to_owned(), "s3cret".to_owned())]))
    }

    #[test]
    fn debug_hides_values() {
        assert_eq!(format!("{:?}", env()), "Map([\"SIP_PW\"])");
    }

    #[test]
    fn expands_escapes_and_reports() {
        assert_eq!(
            expand("a${SIP_PW}b", &env()).ok().as_deref(),
            Some("as3cretb")
        );
        assert_eq!(expand("$${x} $5", &env()).ok().as_deref(), Some("${x} $5"));
        let mut v = serde_json::json!({"users": [{"password": "${NOPE}"}]});
        let mut issues = Vec::new();
        substitute(&mut v, &env(), &JsonPath::root(), &mut issues);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].path.to_string(), "users[0].password");
        assert!(issues[0].found.contains("`NOPE`"));
    }
}
