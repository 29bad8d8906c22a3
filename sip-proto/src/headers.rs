//! Header storage: a fixed array of slots holding byte offsets into the message, in order.
//!
//! One slot per header *line* (with its folded continuation lines). Offsets instead of
//! slices let the owned [`Message`](crate::Message) keep the very same table next to its
//! buffer. List-valued headers are split at top-level commas lazily, while iterating
//! ([`Values`]), so parsing never allocates and never splits a header whose grammar is not a
//! list (`WWW-Authenticate`, `Date`, `User-Agent` ...).

use crate::grammar::{SplitList, split_list};
use crate::header_name::{EXTENSION_INDEX, HeaderName};
use crate::limits::MAX_HEADER_SLOTS;

/// One header line as offsets into the message bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) name_start: u32,
    pub(crate) value_start: u32,
    pub(crate) value_len: u32,
    pub(crate) name_len: u16,
    /// Index into the standard-name table, or [`EXTENSION_INDEX`].
    pub(crate) kind: u8,
    /// Unused; makes the slot padding-free, so a blank table is one plain memset.
    pub(crate) spare: u8,
}

impl Slot {
    #[inline]
    pub(crate) fn name<'a>(&self, src: &'a str) -> &'a str {
        let start = self.name_start as usize;
        src.get(start..start + usize::from(self.name_len))
            .unwrap_or("")
    }

    #[inline]
    pub(crate) fn value<'a>(&self, src: &'a str) -> &'a str {
        let start = self.value_start as usize;
        src.get(start..start + self.value_len as usize)
            .unwrap_or("")
    }

    #[inline]
    pub(crate) fn header_name<'a>(&self, src: &'a str) -> HeaderName<'a> {
        HeaderName::from_index(self.kind, self.name(src))
    }

    #[inline]
    pub(crate) fn is(&self, name: &HeaderName<'_>) -> bool {
        match name.standard_index() {
            Some(i) => self.kind == i,
            None => false,
        }
    }
}

/// The ordered header table of one message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderTable {
    /// One spare slot for a `Content-Length` beyond the limit (see the parser).
    pub(crate) slots: [Slot; MAX_HEADER_SLOTS + 1],
    pub(crate) len: usize,
}

impl Default for HeaderTable {
    fn default() -> Self {
        HeaderTable {
            slots: [Slot::default(); MAX_HEADER_SLOTS + 1],
            len: 0,
        }
    }
}

impl HeaderTable {
    pub(crate) fn as_slice(&self) -> &[Slot] {
        &self.slots[..self.len]
    }
}

/// One header line of a parsed message: its name and its raw value.
///
/// The value is trimmed of surrounding white space but otherwise as written: a folded value
/// keeps its `CRLF SP` sequences (every value parser treats them as white space; use
/// [`Header::value_unfolded`] for display).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The name, compact forms mapped to their full name.
    pub name: HeaderName<'a>,
    /// The name exactly as written (`i`, `CALL-ID`, `Call-ID` ...).
    pub raw_name: &'a str,
    /// The whole value of this line (list headers not split).
    pub value: &'a str,
}

impl<'a> Header<'a> {
    /// The value with each fold (`CRLF` followed by white space) replaced by one space.
    /// Borrows when the value was not folded.
    pub fn value_unfolded(&self) -> std::borrow::Cow<'a, str> {
        unfold(self.value)
    }

    /// The values of this line: split at top-level commas when the header is a list
    /// ([`HeaderName::is_list`]), else the whole value once.
    pub fn values(&self) -> LineValues<'a> {
        LineValues::new(self.name.is_list(), self.value)
    }
}

/// Replaces each line fold in `value` with a single space (RFC 3261 §7.3.1).
pub fn unfold(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains('\n') {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(nl) = rest.find('\n') {
        out.push_str(rest[..nl].trim_end_matches(['\r', ' ', '\t']));
        rest = rest[nl + 1..].trim_start_matches([' ', '\t']);
        out.push(' ');
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The values carried by one header line.
#[derive(Debug, Clone)]
pub struct LineValues<'a> {
    inner: LineValuesInner<'a>,
}

#[derive(Debug, Clone)]
enum LineValuesInner<'a> {
    Whole(Option<&'a str>),
    List(SplitList<'a>),
}

impl<'a> LineValues<'a> {
    fn new(list: bool, value: &'a str) -> Self {
        let inner = if !list {
            LineValuesInner::Whole(Some(value))
        } else if memchr::memchr(b',', value.as_bytes()).is_none() {
            // Nearly every line holds one value: without a comma there is nothing to split,
            // and the parser already trimmed the ends.
            LineValuesInner::Whole((!value.is_empty()).then_some(value))
        } else {
            LineValuesInner::List(split_list(value))
        };
        LineValues { inner }
    }
}

impl<'a> Iterator for LineValues<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match &mut self.inner {
            LineValuesInner::Whole(v) => v.take(),
            LineValuesInner::List(split) => split.next().map(|(piece, _)| piece),
        }
    }
}

/// Iterator over all values of one header name across the message, in order; list headers
/// are split at top-level commas (`Via: a, b` plus `v: c` yields `a`, `b`, `c`).
#[derive(Debug, Clone)]
pub struct Values<'s, 'a> {
    src: &'a str,
    slots: std::slice::Iter<'s, Slot>,
    name: HeaderName<'s>,
    current: Option<LineValues<'a>>,
}

impl<'s, 'a> Values<'s, 'a> {
    pub(crate) fn new(src: &'a str, slots: &'s [Slot], name: HeaderName<'s>) -> Self {
        Values {
            src,
            slots: slots.iter(),
            name,
            current: None,
        }
    }
}

impl<'a> Iterator for Values<'_, 'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            if let Some(current) = self.current.as_mut() {
                if let Some(v) = current.next() {
                    return Some(v);
                }
                self.current = None;
            }
            let slot = self.slots.find(|s| matches_name(s, self.src, &self.name))?;
            let value = slot.value(self.src);
            // A line holding one value (nearly all of them) is returned as it is, without
            // setting up a split of it: what `LineValues` would yield.
            if !self.name.is_list() {
                return Some(value);
            }
            if memchr::memchr(b',', value.as_bytes()).is_none() {
                if value.is_empty() {
                    continue;
                }
                return Some(value);
            }
            self.current = Some(LineValues {
                inner: LineValuesInner::List(split_list(value)),
            });
        }
    }
}

#[inline]
pub(crate) fn matches_name(slot: &Slot, src: &str, name: &HeaderName<'_>) -> bool {
    match name {
        HeaderName::Extension(ext) => {
            slot.kind == EXTENSION_INDEX && slot.name(src).eq_ignore_ascii_case(ext)
        }
        std => slot.is(std),
    }
}

/// Iterator over every header line of a message, in order.
#[derive(Debug, Clone)]
pub struct Headers<'s, 'a> {
    pub(crate) src: &'a str,
    pub(crate) slots: std::slice::Iter<'s, Slot>,
}

impl<'a> Iterator for Headers<'_, 'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        let slot = self.slots.next()?;
        Some(Header {
            name: slot.header_name(self.src),
            raw_name: slot.name(self.src),
            value: slot.value(self.src),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.slots.size_hint()
    }
}

impl ExactSizeIterator for Headers<'_, '_> {}

impl<'a> DoubleEndedIterator for Headers<'_, 'a> {
    fn next_back(&mut self) -> Option<Header<'a>> {
        let slot = self.slots.next_back()?;
        Some(Header {
            name: slot.header_name(self.src),
            raw_name: slot.name(self.src),
            value: slot.value(self.src),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfold_replaces_folds_with_one_space() {
        assert_eq!(unfold("a,\r\n   b"), "a, b");
        assert_eq!(unfold("plain"), "plain");
    }

    #[test]
    fn list_values_split_only_for_list_headers() {
        let via = Header {
            name: HeaderName::Via,
            raw_name: "v",
            value: "SIP/2.0/UDP a, SIP/2.0/TCP \"b,c\"",
        };
        assert_eq!(via.values().count(), 2);
        let auth = Header {
            name: HeaderName::WwwAuthenticate,
            raw_name: "WWW-Authenticate",
            value: "Digest realm=\"x\", nonce=\"y\"",
        };
        assert_eq!(auth.values().count(), 1);
    }
}
