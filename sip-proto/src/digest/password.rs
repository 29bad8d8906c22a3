//! [`Password`]: a secret that never shows in logs, `Debug` output or errors.

use std::fmt;

/// A password. `Debug` prints `Password(<redacted>)`; there is no `Display`. Read it only
/// where it is hashed, through [`Password::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(secret: impl Into<String>) -> Self {
        Password(secret.into())
    }

    /// The secret itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl From<String> for Password {
    fn from(s: String) -> Self {
        Password(s)
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Self {
        Password(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let p = Password::new("Circle of Life");
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
        assert_eq!(format!("{:?}", Some(&p)), "Some(Password(<redacted>))");
        assert_eq!(p.expose(), "Circle of Life");
    }
}
