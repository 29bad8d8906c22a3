//! Single tokens from list headers: Allow (methods), Supported, Require, Proxy-Require and
//! Unsupported (option tags). Split the header with [`crate::grammar::split_list`] first.

use std::fmt;

use crate::error::Result;
use crate::grammar::Scanner;

/// One token of a list header, e.g. `100rel` in `Supported: 100rel, timer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token<'a>(pub &'a str);

/// An option tag (Supported, Require, Proxy-Require, Unsupported).
pub type OptionTag<'a> = Token<'a>;

impl<'a> Token<'a> {
    /// Parses one list element, surrounding white space removed.
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let t = sc.token("token")?;
        sc.end("end of token")?;
        Ok(Token(t))
    }

    /// The token text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// Case-insensitive comparison (option tags are compared case-insensitively in practice).
    pub fn is(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::split_list;

    #[test]
    fn split_and_parse() {
        let tags: Vec<_> = split_list("path,gruu, outbound")
            .map(|(v, _)| Token::parse(v).unwrap().0)
            .collect();
        assert_eq!(tags, ["path", "gruu", "outbound"]);
        assert!(Token::parse("100rel").unwrap().is("100REL"));
        assert!(Token::parse("a b").is_err());
        assert!(Token::parse("").is_err());
        assert!(Token::parse("a,b").is_err());
    }
}
