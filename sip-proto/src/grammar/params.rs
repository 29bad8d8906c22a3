//! [`Params`]: a lazy, allocation-free view over `;name[=value]` parameters.

use std::borrow::Cow;
use std::fmt;

use super::{eq_ignore_case, skip_quoted, unquote};

/// One `name[=value]` parameter. The value is raw: quoted values keep their quotes and
/// escapes (see [`Param::text`]), URI parameters keep their `%` escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// Parameter name as written (compare with [`eq_ignore_case`]).
    pub name: &'a str,
    /// Raw value, `None` for a flag parameter such as `lr`.
    pub value: Option<&'a str>,
}

impl<'a> Param<'a> {
    /// The value with surrounding quotes removed (escapes still in place), borrowed.
    pub fn value_unquoted(&self) -> Option<&'a str> {
        self.value.map(strip_quotes)
    }

    /// The value as text: quotes removed and `\` escapes undone.
    pub fn text(&self) -> Option<Cow<'a, str>> {
        self.value.map(|v| {
            if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                unquote(&v[1..v.len() - 1])
            } else {
                Cow::Borrowed(v)
            }
        })
    }
}

impl fmt::Display for Param<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        if let Some(v) = self.value {
            write!(f, "={v}")?;
        }
        Ok(())
    }
}

fn strip_quotes(v: &str) -> &str {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// A lazy view over already validated `;name[=value]` parameters.
///
/// Holding only the raw slice keeps parsing allocation-free; lookups scan it (parameter lists
/// are short, so this is faster than building a map).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Params<'a> {
    raw: &'a str,
}

impl<'a> Params<'a> {
    /// Wraps raw parameter text that a parser has validated (starting with `;`, or empty).
    pub(crate) fn new(raw: &'a str) -> Self {
        Self { raw }
    }

    /// The raw text, starting with `;` (empty when there are no parameters).
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The parameters in order.
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter { rest: self.raw }
    }

    /// The first parameter called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<Param<'a>> {
        self.iter().find(|p| eq_ignore_case(p.name, name))
    }

    /// Whether a parameter called `name` is present (with or without value).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value of `name` with quotes stripped, when present with a value.
    pub fn value(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(|p| p.value_unquoted())
    }
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Display for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in self.iter() {
            write!(f, ";{p}")?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for Params<'a> {
    type Item = Param<'a>;
    type IntoIter = ParamIter<'a>;
    fn into_iter(self) -> ParamIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Params`].
#[derive(Debug, Clone)]
pub struct ParamIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        // Byte-based: every delimiter is ASCII, so each cut lands on a char boundary.
        let s = self.rest;
        let b = s.as_bytes();
        let mut i = skip_ws(b, 0);
        if b.get(i) != Some(&b';') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let name_start = i;
        while i < b.len() && !matches!(b[i], b'=' | b';' | b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        let name = &s[name_start..i];
        let j = skip_ws(b, i);
        if b.get(j) == Some(&b'=') {
            let start = skip_ws(b, j + 1);
            let end = start + value_len(&b[start..]);
            self.rest = &s[end..];
            Some(Param {
                name,
                value: Some(&s[start..end]),
            })
        } else {
            self.rest = &s[i..];
            Some(Param { name, value: None })
        }
    }
}

#[inline]
pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// Length of a raw parameter value at the start of `v`: a whole quoted string, or up to the
/// next `;`, `?`, `,`, `>` or white space.
fn value_len(bytes: &[u8]) -> usize {
    if bytes.first() == Some(&b'"') {
        return skip_quoted(bytes, 1);
    }
    bytes
        .iter()
        .position(|b| matches!(b, b';' | b'?' | b',' | b'>' | b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(bytes.len())
}
