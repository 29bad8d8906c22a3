//! Checks a JSON document against the JSON Schema generated from this crate's model types.
//!
//! The model structs are the single source of truth: `schemars` turns them into the committed
//! schemas, and this checker walks a document against the same schema, so the keys it knows, the
//! types it expects and the schema users get can never drift apart. It understands the subset of
//! JSON Schema that `schemars` emits for our types and reports every problem in one pass.

use serde_json::{Map, Value};

use crate::issue::{Issue, JsonPath, did_you_mean};

/// What a shape check found: the issues, and for each error the place to prune from the
/// document (with a neutral stand-in for list items) so the rest can still be read and checked.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) issues: Vec<Issue>,
    pub(crate) prunes: Vec<(JsonPath, Value)>,
}

impl Findings {
    fn error(&mut self, issue: Issue, neutral: Value) {
        self.prunes.push((issue.path.clone(), neutral));
        self.issues.push(issue);
    }

    fn has_errors(&self) -> bool {
        self.issues.iter().any(Issue::is_error)
    }

    fn extend(&mut self, other: Findings) {
        self.issues.extend(other.issues);
        self.prunes.extend(other.prunes);
    }
}

fn neutral_for(types: Option<&Value>) -> Value {
    let first = match types {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    match first {
        Some("object") => Value::Object(Map::new()),
        Some("array") => Value::Array(Vec::new()),
        Some("string") => Value::from(""),
        Some("boolean") => Value::Bool(false),
        Some("integer" | "number") => Value::from(0),
        _ => Value::Null,
    }
}

/// Walks documents against one root schema.
pub(crate) struct ShapeChecker<'s> {
    root: &'s Value,
    /// Noun used in unknown-key warnings ("SIP Core", "oh-sipclient").
    owner: &'static str,
}

impl<'s> ShapeChecker<'s> {
    pub(crate) fn new(root: &'s Value, owner: &'static str) -> Self {
        Self { root, owner }
    }

    /// Checks `value` at `path` against the root schema.
    pub(crate) fn check_root(&self, value: &Value, path: &JsonPath, out: &mut Findings) {
        self.check(self.root, value, path, false, out);
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut schema = schema;
        // References chain at most a few levels; the bound guards against a cyclic schema.
        for _ in 0..8 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(r) => match r.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
                    Some(target) => schema = target,
                    None => return &Value::Bool(true),
                },
                None => break,
            }
        }
        schema
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        path: &JsonPath,
        secret: bool,
        out: &mut Findings,
    ) {
        let schema = self.resolve(schema);
        let obj = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                out.error(
                    Issue::error(path, describe(value, secret), "nothing here"),
                    Value::Null,
                );
                return;
            }
            Value::Object(o) => o,
            _ => return,
        };
        let secret = secret || obj.get("writeOnly") == Some(&Value::Bool(true));

        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(alternatives)) = obj.get(key) {
                self.check_alternatives(alternatives, value, path, secret, out);
                return;
            }
        }
        if let Some(allowed) = allowed_values(obj) {
            if !allowed.contains(value) {
                let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                let suggestion = value
                    .as_str()
                    .and_then(|v| did_you_mean(v, names.iter().copied()));
                let neutral = allowed.first().cloned().unwrap_or(Value::Null);
                out.error(
                    Issue::error(path, describe(value, secret), one_of(&allowed))
                        .suggest(suggestion),
                    neutral,
                );
            }
            return;
        }
        if let Some(types) = obj.get("type") {
            if !type_matches(types, value) {
                out.error(
                    Issue::error(path, describe(value, secret), describe_types(types)),
                    neutral_for(Some(types)),
                );
                return;
            }
        }
        if let Some(n) = value.as_f64() {
            if let Some(min) = obj.get("minimum").and_then(Value::as_f64) {
                if n < min {
                    out.error(
                        Issue::error(
                            path,
                            describe(value, secret),
                            format!("a number of at least {min}"),
                        ),
                        Value::from(0),
                    );
                }
            }
            if let Some(max) = obj.get("maximum").and_then(Value::as_f64) {
                if n > max {
                    out.error(
                        Issue::error(
                            path,
                            describe(value, secret),
                            format!("a number of at most {max}"),
                        ),
                        Value::from(0),
                    );
                }
            }
        }
        match value {
            Value::Object(map) => self.check_object(obj, map, path, out),
            Value::Array(items) => {
                if let Some(item_schema) = obj.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item_schema, item, &path.index(i), secret, out);
                    }
                }
            }
            _ => {}
        }
    }

    fn check_alternatives(
        &self,
        alternatives: &[Value],
        value: &Value,
        path: &JsonPath,
        secret: bool,
        out: &mut Findings,
    ) {
        let mut best: Option<Findings> = None;
        for alt in alternatives {
            let mut trial = Findings::default();
            self.check(alt, value, path, secret, &mut trial);
            if !trial.has_errors() {
                out.extend(trial);
                return;
            }
            // An alternative of the value's own type explains the problem best (a list whose
            // third item is wrong, rather than "expected a string or a list").
            if self.type_of(alt).is_some_and(|t| type_matches(&t, value)) && best.is_none() {
                best = Some(trial);
            }
        }
        match best {
            Some(issues) => out.extend(issues),
            None => {
                let mut allowed = Vec::new();
                for alt in alternatives {
                    self.consts(alt, &mut allowed);
                }
                if !allowed.is_empty() {
                    let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                    let suggestion = value
                        .as_str()
                        .and_then(|v| did_you_mean(v, names.iter().copied()));
                    let neutral = allowed[0].clone();
                    out.error(
                        Issue::error(path, describe(value, secret), one_of(&allowed))
                            .suggest(suggestion),
                        neutral,
                    );
                    return;
                }
                let expected: Vec<String> = alternatives
                    .iter()
                    .filter(|alt| self.type_of(alt).is_none_or(|t| t != "null"))
                    .map(|alt| self.describe_schema(alt))
                    .collect();
                let neutral =
                    neutral_for(alternatives.first().and_then(|a| self.type_of(a)).as_ref());
                out.error(
                    Issue::error(path, describe(value, secret), join_or(&expected)),
                    neutral,
                );
            }
        }
    }

    fn type_of(&self, schema: &Value) -> Option<Value> {
        let s = self.resolve(schema);
        if let Some(t) = s.get("type") {
            return Some(t.clone());
        }
        allowed_values(s.as_object()?).map(|vals| {
            let kinds: Vec<Value> = vals.iter().map(|v| Value::from(json_type(v))).collect();
            Value::Array(kinds)
        })
    }

    /// Every `const`/`enum` value reachable through references and alternatives.
    fn consts(&self, schema: &Value, out: &mut Vec<Value>) {
        let Some(obj) = self.resolve(schema).as_object() else {
            return;
        };
        if let Some(vals) = allowed_values(obj) {
            out.extend(vals);
        }
        for key in ["anyOf", "oneOf"] {
            for alt in obj.get(key).and_then(Value::as_array).into_iter().flatten() {
                self.consts(alt, out);
            }
        }
    }

    fn describe_schema(&self, schema: &Value) -> String {
        let s = self.resolve(schema);
        let mut allowed = Vec::new();
        self.consts(s, &mut allowed);
        if !allowed.is_empty() {
            return one_of(&allowed);
        }
        if let Some(obj) = s.as_object() {
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(alts)) = obj.get(key) {
                    let described: Vec<String> = alts
                        .iter()
                        .filter(|alt| self.type_of(alt).is_none_or(|t| t != "null"))
                        .map(|alt| self.describe_schema(alt))
                        .collect();
                    return join_or(&described);
                }
            }
            if let Some(vals) = allowed_values(obj) {
                return one_of(&vals);
            }
            if let Some(t) = obj.get("type") {
                if t == "array" {
                    if let Some(items) = obj.get("items") {
                        return format!("a list of {}", plural(&self.describe_schema(items)));
                    }
                }
                return describe_types(t);
            }
        }
        "a value".to_owned()
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        map: &Map<String, Value>,
        path: &JsonPath,
        out: &mut Findings,
    ) {
        let empty = Map::new();
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let additional = schema.get("additionalProperties");
        if props.is_empty() && additional.is_none() {
            // A schema without `properties` accepts any object (service call data, overrides).
            return;
        }
        for (key, val) in map {
            let key_path = path.key(key);
            if let Some(prop_schema) = props.get(key) {
                self.check(prop_schema, val, &key_path, false, out);
                continue;
            }
            let suggestion = did_you_mean(key, props.keys().map(String::as_str));
            match additional {
                // Open objects (custom popup keys, extra RTCConfiguration keys, maps keyed by
                // extension) keep unknown keys; a near miss of a known key is still reported.
                Some(extra) if extra != &Value::Bool(false) => {
                    if suggestion.is_some() {
                        out.issues.push(
                            Issue::warning(
                                &key_path,
                                format!("the custom key `{key}`"),
                                "a known key (it is kept as a custom key)",
                            )
                            .suggest(suggestion),
                        );
                    }
                    self.check(extra, val, &key_path, false, out);
                }
                _ => out.issues.push(
                    Issue::warning(
                        &key_path,
                        format!("the unknown key `{key}`"),
                        format!("a key {} knows (it is ignored)", self.owner),
                    )
                    .suggest(suggestion),
                ),
            }
        }
        if let Some(Value::Array(required)) = schema.get("required") {
            for key in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(key) {
                    let expected = props
                        .get(key)
                        .map(|s| self.describe_schema(s))
                        .unwrap_or_else(|| "a value".to_owned());
                    out.issues.push(Issue::error(
                        &path.key(key),
                        "nothing (the key is missing)",
                        expected,
                    ));
                }
            }
        }
    }
}

fn allowed_values(obj: &Map<String, Value>) -> Option<Vec<Value>> {
    if let Some(c) = obj.get("const") {
        return Some(vec![c.clone()]);
    }
    obj.get("enum").and_then(Value::as_array).cloned()
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(types: &Value, value: &Value) -> bool {
    let one = |t: &str| match t {
        "integer" => match value {
            Value::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            _ => false,
        },
        "number" => value.is_number(),
        other => json_type(value) == other,
    };
    match types {
        Value::String(t) => one(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(one),
        _ => true,
    }
}

fn type_noun(t: &str) -> &'static str {
    match t {
        "null" => "null",
        "boolean" => "true or false",
        "integer" => "a whole number",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        "object" => "an object",
        _ => "a value",
    }
}

fn describe_types(types: &Value) -> String {
    match types {
        Value::String(t) => type_noun(t).to_owned(),
        Value::Array(ts) => {
            // `null` only means "may be left out"; saying so in every message is noise.
            let real: Vec<&str> = ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            let shown = if real.is_empty() { vec!["null"] } else { real };
            let nouns: Vec<String> = shown.into_iter().map(|t| type_noun(t).to_owned()).collect();
            join_or(&nouns)
        }
        _ => "a value".to_owned(),
    }
}

fn plural(noun: &str) -> String {
    let bare = noun
        .strip_prefix("a ")
        .or_else(|| noun.strip_prefix("an "))
        .unwrap_or(noun);
    if bare.ends_with('s') {
        bare.to_owned()
    } else {
        format!("{bare}s")
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => "a value".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn one_of(vals: &[Value]) -> String {
    let shown: Vec<String> = vals
        .iter()
        .map(|v| {
            format!(
                "`{}`",
                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
            )
        })
        .collect();
    match shown.as_slice() {
        [one] => one.clone(),
        _ => format!("one of {}", shown.join(", ")),
    }
}

/// A short description of a value for messages; secrets show only their type.
pub(crate) fn describe(value: &Value, secret: bool) -> String {
    const MAX: usize = 48;
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        _ if secret => format!("{} (hidden)", type_noun(json_type(value))),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.is_empty() => "an empty string".to_owned(),
        Value::String(s) if s.chars().count() > MAX => {
            let cut: String = s.chars().take(MAX).collect();
            format!("{}…", Value::from(cut))
        }
        Value::String(s) => Value::from(s.as_str()).to_string(),
        Value::Array(a) if a.is_empty() => "an empty list".to_owned(),
        Value::Array(a) => format!(
            "a list of {} item{}",
            a.len(),
            if a.len() == 1 { "" } else { "s" }
        ),
        Value::Object(o) if o.is_empty() => "an empty object".to_owned(),
        Value::Object(o) => {
            let keys: Vec<String> = o.keys().take(4).map(|k| format!("`{k}`")).collect();
            let more = if o.len() > 4 { ", …" } else { "" };
            format!("an object with {}{more}", keys.join(", "))
        }
    }
}
