//! Splitting list header values at top-level commas.

use super::params::skip_ws;
use super::{skip_quoted, trim_lws};

/// Splits a list header value at commas that are outside quoted strings and `<...>`,
/// yielding each element trimmed of white space together with its offset in `value`.
///
/// A value that is blank yields nothing; empty elements between commas are yielded as empty
/// strings so that the element's own parser reports them.
pub fn split_list(value: &str) -> SplitList<'_> {
    SplitList {
        value,
        pos: 0,
        done: trim_lws(value).is_empty(),
    }
}

/// Iterator returned by [`split_list`].
#[derive(Debug, Clone)]
pub struct SplitList<'a> {
    value: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for SplitList<'a> {
    type Item = (&'a str, usize);

    fn next(&mut self) -> Option<(&'a str, usize)> {
        if self.done {
            return None;
        }
        let bytes = self.value.as_bytes();
        let start = self.pos;
        let mut i = start;
        // Jump between the only bytes that matter: ',' ends an element, '"' and '<' open a
        // span in which commas do not count. Most values hold none of them.
        let end = loop {
            let Some(j) = memchr::memchr3(b',', b'"', b'<', &bytes[i..]) else {
                self.done = true;
                break bytes.len();
            };
            i += j;
            match bytes[i] {
                b',' => {
                    self.pos = i + 1;
                    break i;
                }
                b'"' => i = skip_quoted(bytes, i + 1),
                _ => i = memchr::memchr(b'>', &bytes[i..]).map_or(bytes.len(), |k| i + k + 1),
            }
            if i >= bytes.len() {
                self.done = true;
                break bytes.len();
            }
        };
        let end = end.min(bytes.len());
        let piece = &self.value[start..end];
        let lead = skip_ws(piece.as_bytes(), 0);
        Some((trim_lws(piece), start + lead))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_quotes_and_angles() {
        let v = r#" "x,\"y" <sip:a,b>;q=1 ,sip:c , "#;
        let items: Vec<_> = split_list(v).collect();
        assert_eq!(items[0], (r#""x,\"y" <sip:a,b>;q=1"#, 1));
        assert_eq!(items[1].0, "sip:c");
        assert_eq!(items[2].0, "");
        assert_eq!(split_list("  ").count(), 0);
    }
}
