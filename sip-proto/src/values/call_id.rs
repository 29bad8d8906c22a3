//! The Call-ID header value (RFC 3261 §20.8): `word [ "@" word ]`.

use std::fmt;

use crate::error::Result;
use crate::grammar::{Scanner, is_word_char};

/// A Call-ID, compared byte for byte (it is case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallId<'a>(pub &'a str);

impl<'a> CallId<'a> {
    /// Parses a Call-ID value, surrounding white space removed.
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let start = sc.pos();
        sc.take_while1(is_word_char, "Call-ID word")?;
        if sc.eat(b'@') {
            sc.take_while1(is_word_char, "Call-ID word after @")?;
        }
        let end = sc.pos();
        sc.end("end of Call-ID")?;
        Ok(CallId(&value[start..end]))
    }

    /// The Call-ID text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl fmt::Display for CallId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(
            CallId::parse("gnnfvja52ea4ea9hstpela").unwrap().as_str(),
            "gnnfvja52ea4ea9hstpela"
        );
        assert_eq!(
            CallId::parse(" a84b4c76e66710@pc33.atlanta.com ")
                .unwrap()
                .0,
            "a84b4c76e66710@pc33.atlanta.com"
        );
        assert!(CallId::parse("").is_err());
        assert!(CallId::parse("a b").is_err());
        assert!(CallId::parse("a@b@c").is_err());
        assert!(CallId::parse("a@").is_err());
    }
}
