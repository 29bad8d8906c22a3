//! Problems found in a configuration: where, what was found, what was expected.

use std::fmt;

use serde::Serialize;

/// How bad an [`Issue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Kept going; the configuration is usable (for example an unknown key, which is ignored).
    Warning,
    /// The configuration cannot be used.
    Error,
}

/// A location inside a configuration document, printed like `popup_config.buttons[1].data`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JsonPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Segment {
    Key(String),
    Index(usize),
}

impl JsonPath {
    /// The document's root.
    pub fn root() -> Self {
        Self::default()
    }

    /// This path followed by an object key.
    pub fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_owned()));
        next
    }

    /// This path followed by a list index.
    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// This path followed by every segment of `tail`.
    pub(crate) fn join(&self, tail: &JsonPath) -> Self {
        let mut next = self.clone();
        next.0.extend(tail.0.iter().cloned());
        next
    }

    /// Whether `prefix` is this path or one of its ancestors.
    pub(crate) fn starts_with(&self, prefix: &JsonPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// The part of this path after `prefix`, if it starts with it.
    pub(crate) fn strip_prefix(&self, prefix: &JsonPath) -> Option<JsonPath> {
        self.0
            .strip_prefix(prefix.0.as_slice())
            .map(|rest| JsonPath(rest.to_vec()))
    }

    /// Whether some prefix of this path (or the path itself) names a value inside `doc`.
    pub(crate) fn touches(&self, doc: &serde_json::Value) -> bool {
        let mut cur = doc;
        for seg in &self.0 {
            let next = match (seg, cur) {
                (Segment::Key(k), serde_json::Value::Object(m)) => m.get(k),
                (Segment::Index(i), serde_json::Value::Array(a)) => a.get(*i),
                _ => None,
            };
            match next {
                Some(v) => cur = v,
                None => return false,
            }
        }
        true
    }

    /// Replaces the value this path names inside `doc`: object keys are removed (every model
    /// field is optional), list items are replaced by `neutral` so later indices keep their paths.
    pub(crate) fn prune(&self, doc: &mut serde_json::Value, neutral: serde_json::Value) {
        let Some((last, parents)) = self.0.split_last() else {
            return;
        };
        let mut cur = doc;
        for seg in parents {
            let next = match (seg, cur) {
                (Segment::Key(k), serde_json::Value::Object(m)) => m.get_mut(k),
                (Segment::Index(i), serde_json::Value::Array(a)) => a.get_mut(*i),
                _ => None,
            };
            match next {
                Some(v) => cur = v,
                None => return,
            }
        }
        match (last, cur) {
            (Segment::Key(k), serde_json::Value::Object(m)) => {
                m.remove(k);
            }
            (Segment::Index(i), serde_json::Value::Array(a)) => {
                if let Some(slot) = a.get_mut(*i) {
                    *slot = neutral;
                }
            }
            _ => {}
        }
    }

    /// The last object key of the path, if it ends with one.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if is_identifier(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                // Keys such as extension numbers ("008") are quoted so the path stays unambiguous.
                Segment::Key(k) => write!(f, "[{}]", serde_json::Value::from(k.as_str()))?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for JsonPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One problem in a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Issue {
    /// Error or warning.
    pub severity: Severity,
    /// Where in the document.
    pub path: JsonPath,
    /// What was there (secret values are never shown).
    pub found: String,
    /// What would have been right.
    pub expected: String,
    /// A likely intended spelling for a misspelt key or value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl Issue {
    /// An error at `path`.
    pub fn error(path: &JsonPath, found: impl Into<String>, expected: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            path: path.clone(),
            found: found.into(),
            expected: expected.into(),
            suggestion: None,
        }
    }

    /// A warning at `path`.
    pub fn warning(path: &JsonPath, found: impl Into<String>, expected: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(path, found, expected)
        }
    }

    /// Adds a did-you-mean suggestion.
    pub fn suggest(mut self, suggestion: Option<String>) -> Self {
        self.suggestion = suggestion;
        self
    }

    /// Whether this issue makes the configuration unusable.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{level} at {}: found {}, expected {}",
            self.path, self.found, self.expected
        )?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean `{s}`?)")?;
        }
        Ok(())
    }
}

/// Every issue found in one pass over a configuration, errors first, each group in path order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    issues: Vec<Issue>,
}

impl Report {
    /// Adds an issue.
    pub fn push(&mut self, issue: Issue) {
        self.issues.push(issue);
    }

    /// Adds many issues.
    pub fn extend(&mut self, issues: impl IntoIterator<Item = Issue>) {
        self.issues.extend(issues);
    }

    /// Whether any issue is an error.
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(Issue::is_error)
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.is_error())
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| !i.is_error())
    }

    /// All issues, errors first.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// Sorts errors first, then by path, and drops exact duplicates.
    pub(crate) fn normalize(&mut self) {
        self.issues.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.path.cmp(&b.path))
        });
        self.issues.dedup();
    }

    /// Consumes the report, giving its issues.
    pub fn into_issues(self) -> Vec<Issue> {
        self.issues
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

/// The closest of `candidates` to `word`, when it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_javascript() {
        let p = JsonPath::root()
            .key("popup_config")
            .key("buttons")
            .index(1)
            .key("data");
        assert_eq!(p.to_string(), "popup_config.buttons[1].data");
        let e = JsonPath::root().key("extensions").key("008");
        assert_eq!(e.to_string(), "extensions[\"008\"]");
        assert_eq!(JsonPath::root().to_string(), "(root)");
    }

    #[test]
    fn suggestions_find_typos_only() {
        let keys = ["auto_answer", "sip_video", "users"];
        assert_eq!(
            did_you_mean("auto_anwser", keys).as_deref(),
            Some("auto_answer")
        );
        assert_eq!(did_you_mean("colour", keys), None);
    }
}
