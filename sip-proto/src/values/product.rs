//! User-Agent and Server values (RFC 3261 §20.35, §20.41): product tokens and comments.

use std::fmt;

use crate::error::Result;
use crate::grammar::{Scanner, is_token_char, lws_len, syntax};

/// One element of a User-Agent or Server value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerItem<'a> {
    /// `name[/version]`.
    Product {
        /// Product name.
        name: &'a str,
        /// Product version.
        version: Option<&'a str>,
    },
    /// A comment's inner text, without the outer parentheses (nested ones kept).
    Comment(&'a str),
}

/// `User-Agent` / `Server`: `1*( product / comment )` separated by white space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Products<'a> {
    raw: &'a str,
}

/// `User-Agent` header value.
pub type UserAgent<'a> = Products<'a>;
/// `Server` header value.
pub type Server<'a> = Products<'a>;

impl<'a> Products<'a> {
    /// Parses and validates a User-Agent or Server value. Do not split it at commas:
    /// comments may contain them.
    pub fn parse(value: &'a str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let start = sc.pos();
        let mut count = 0;
        while !sc.is_empty() {
            scan_item(&mut sc)?;
            count += 1;
            sc.skip_lws();
        }
        if count == 0 {
            return Err(sc.error("product or comment"));
        }
        Ok(Products {
            raw: crate::grammar::trim_lws(&value[start..]),
        })
    }

    /// The value as written, trimmed.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// The products and comments in order.
    pub fn items(&self) -> impl Iterator<Item = ServerItem<'a>> + 'a {
        let mut sc = Scanner::new(self.raw);
        std::iter::from_fn(move || {
            sc.skip_lws();
            if sc.is_empty() {
                None
            } else {
                scan_item(&mut sc).ok()
            }
        })
    }

    /// The first product's name and version, typically the software itself.
    pub fn first_product(&self) -> Option<(&'a str, Option<&'a str>)> {
        self.items().find_map(|i| match i {
            ServerItem::Product { name, version } => Some((name, version)),
            ServerItem::Comment(_) => None,
        })
    }
}

fn scan_item<'a>(sc: &mut Scanner<'a>) -> Result<ServerItem<'a>> {
    if sc.peek() == Some(b'(') {
        return scan_comment(sc).map(ServerItem::Comment);
    }
    let name = sc.token("product token or comment")?;
    let version = if sc.eat_separator(b'/') {
        Some(sc.take_while1(is_token_char, "product version")?)
    } else {
        None
    };
    Ok(ServerItem::Product { name, version })
}

/// Consumes `( ... )` with nesting and `\` escapes; returns the inner text.
pub(crate) fn scan_comment<'a>(sc: &mut Scanner<'a>) -> Result<&'a str> {
    sc.expect(b'(', "(")?;
    let bytes = sc.src().as_bytes();
    let start = sc.pos();
    let mut depth = 1usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                if matches!(bytes.get(i + 1), None | Some(b'\r' | b'\n')) {
                    return Err(syntax(i + 1, "escaped character"));
                }
                i += 2;
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    sc.advance(i + 1 - sc.pos());
                    return Ok(&sc.src()[start..i]);
                }
            }
            b'\r' => {
                let n = lws_len(&bytes[i..]);
                if n == 0 {
                    return Err(syntax(i, ") closing the comment"));
                }
                i += n;
                continue;
            }
            b'\n' | 0 => return Err(syntax(i, ") closing the comment")),
            _ => {}
        }
        i += 1;
    }
    Err(syntax(bytes.len(), ") closing the comment"))
}

impl fmt::Display for Products<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kamailio_server() {
        let s = Products::parse("kamailio (5.6.3 (x86_64/linux))").unwrap();
        let items: Vec<_> = s.items().collect();
        assert_eq!(
            items,
            [
                ServerItem::Product {
                    name: "kamailio",
                    version: None
                },
                ServerItem::Comment("5.6.3 (x86_64/linux)")
            ]
        );
        assert_eq!(s.first_product(), Some(("kamailio", None)));
    }

    #[test]
    fn user_agents() {
        let u = Products::parse("JsSIP interop bench").unwrap();
        assert_eq!(u.items().count(), 3);
        let u = Products::parse("Softphone/1.2 (Linux, x86) SIPp/3.6.1").unwrap();
        assert_eq!(u.first_product(), Some(("Softphone", Some("1.2"))));
        assert_eq!(
            u.items().nth(2),
            Some(ServerItem::Product {
                name: "SIPp",
                version: Some("3.6.1")
            })
        );
        assert_eq!(u.to_string(), "Softphone/1.2 (Linux, x86) SIPp/3.6.1");
    }

    #[test]
    fn refused() {
        assert!(Products::parse("").is_err());
        assert!(Products::parse("a (b").is_err());
        assert!(Products::parse("a/").is_err());
        assert!(Products::parse("a \"b\"").is_err());
    }
}
