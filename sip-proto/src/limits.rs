//! Bounds the parser enforces so hostile input cannot make it work or allocate without end.

/// The most header lines one parsed message can hold: the size of the fixed slot array the
/// borrowed parser fills without allocating. A message with more lines is refused with
/// [`Error::Limit`](crate::Error::Limit) (`"header count"`); there is no spill path. One
/// extra line is accepted when it is the message's only `Content-Length`, so that the
/// serializer can always add the length to a message that lacked it.
pub const MAX_HEADER_SLOTS: usize = 64;

/// Limits applied while parsing and framing.
///
/// ```
/// let strict = sip_proto::Limits { max_message_size: 8 * 1024, ..Default::default() };
/// assert_eq!(strict.max_headers, 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest whole message (start line, headers and body) in bytes. Default 64 KiB.
    pub max_message_size: usize,
    /// Most header lines (folded continuation lines count with their header). Default and
    /// ceiling: [`MAX_HEADER_SLOTS`]; larger values are treated as the ceiling.
    pub max_headers: usize,
    /// Longest single physical line (start line or header line) in bytes. Default 8 KiB.
    pub max_line_length: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 64 * 1024,
            max_headers: MAX_HEADER_SLOTS,
            max_line_length: 8 * 1024,
        }
    }
}

impl Limits {
    /// The header-count limit actually in force (never above [`MAX_HEADER_SLOTS`]).
    pub fn effective_max_headers(&self) -> usize {
        self.max_headers.min(MAX_HEADER_SLOTS)
    }
}
