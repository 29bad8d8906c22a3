//! Header field names: every standard SIP name, its compact form, and extension names kept raw.
//!
//! Names compare case-insensitively (RFC 3261 §7.3.1) and a compact form equals its full name
//! (`i` is `Call-ID`). Unknown names stay [`HeaderName::Extension`] with the text as written.

use std::fmt;
use std::hash::{Hash, Hasher};

macro_rules! standard_headers {
    ($( $(#[$doc:meta])* $variant:ident => $canonical:literal $(, $compact:literal)? ;)*) => {
        /// The name of a header field.
        ///
        /// Equality and hashing are case-insensitive for [`HeaderName::Extension`], so
        /// `Extension("X-Foo") == Extension("x-foo")`.
        #[derive(Debug, Clone, Copy)]
        #[non_exhaustive]
        pub enum HeaderName<'a> {
            $( $(#[$doc])* $variant, )*
            /// A name this crate does not know, as written in the message.
            Extension(&'a str),
        }

        /// Standard names in table order: `(variant, canonical spelling, compact form)`.
        /// The index into this table is what the parser stores per header slot.
        const STANDARD: &[(HeaderName<'static>, &str, Option<u8>)] = &[
            $( (HeaderName::$variant, $canonical, standard_headers!(@compact $($compact)?)), )*
        ];

        /// Fieldless twin of the standard variants: its discriminants are the table indices.
        #[derive(Clone, Copy)]
        #[repr(u8)]
        enum Std {
            $( $variant, )*
        }

        impl HeaderName<'_> {
            /// Index of this name in the standard table, `None` for an extension.
            #[inline]
            pub(crate) fn standard_index(&self) -> Option<u8> {
                match self {
                    $( HeaderName::$variant => Some(Std::$variant as u8), )*
                    HeaderName::Extension(_) => None,
                }
            }
        }
    };
    (@compact $c:literal) => { Some($c) };
    (@compact) => { None };
}

// Ordered so the headers of a typical request come first: lookups scan this table.
standard_headers! {
    /// `Via` (compact `v`).
    Via => "Via", b'v';
    /// `From` (compact `f`).
    From => "From", b'f';
    /// `To` (compact `t`).
    To => "To", b't';
    /// `Call-ID` (compact `i`).
    CallId => "Call-ID", b'i';
    /// `CSeq`.
    CSeq => "CSeq";
    /// `Contact` (compact `m`).
    Contact => "Contact", b'm';
    /// `Max-Forwards`.
    MaxForwards => "Max-Forwards";
    /// `Content-Length` (compact `l`).
    ContentLength => "Content-Length", b'l';
    /// `Content-Type` (compact `c`).
    ContentType => "Content-Type", b'c';
    /// `Route`.
    Route => "Route";
    /// `Record-Route`.
    RecordRoute => "Record-Route";
    /// `Expires`.
    Expires => "Expires";
    /// `Allow`.
    Allow => "Allow";
    /// `Supported` (compact `k`).
    Supported => "Supported", b'k';
    /// `Require`.
    Require => "Require";
    /// `Proxy-Require`.
    ProxyRequire => "Proxy-Require";
    /// `Unsupported`.
    Unsupported => "Unsupported";
    /// `User-Agent`.
    UserAgent => "User-Agent";
    /// `Server`.
    Server => "Server";
    /// `Authorization`.
    Authorization => "Authorization";
    /// `Proxy-Authorization`.
    ProxyAuthorization => "Proxy-Authorization";
    /// `WWW-Authenticate`.
    WwwAuthenticate => "WWW-Authenticate";
    /// `Proxy-Authenticate`.
    ProxyAuthenticate => "Proxy-Authenticate";
    /// `Authentication-Info`.
    AuthenticationInfo => "Authentication-Info";
    /// `Accept`.
    Accept => "Accept";
    /// `Accept-Encoding`.
    AcceptEncoding => "Accept-Encoding";
    /// `Accept-Language`.
    AcceptLanguage => "Accept-Language";
    /// `Alert-Info`.
    AlertInfo => "Alert-Info";
    /// `Allow-Events` (compact `u`).
    AllowEvents => "Allow-Events", b'u';
    /// `Call-Info`.
    CallInfo => "Call-Info";
    /// `Content-Disposition`.
    ContentDisposition => "Content-Disposition";
    /// `Content-Encoding` (compact `e`).
    ContentEncoding => "Content-Encoding", b'e';
    /// `Content-Language`.
    ContentLanguage => "Content-Language";
    /// `Date`.
    Date => "Date";
    /// `Error-Info`.
    ErrorInfo => "Error-Info";
    /// `Event` (compact `o`).
    Event => "Event", b'o';
    /// `Identity` (compact `y`).
    Identity => "Identity", b'y';
    /// `In-Reply-To`.
    InReplyTo => "In-Reply-To";
    /// `MIME-Version`.
    MimeVersion => "MIME-Version";
    /// `Min-Expires`.
    MinExpires => "Min-Expires";
    /// `Min-SE`.
    MinSe => "Min-SE";
    /// `Organization`.
    Organization => "Organization";
    /// `Path`.
    Path => "Path";
    /// `Priority`.
    Priority => "Priority";
    /// `RAck`.
    RAck => "RAck";
    /// `Reason`.
    Reason => "Reason";
    /// `Refer-To` (compact `r`).
    ReferTo => "Refer-To", b'r';
    /// `Referred-By` (compact `b`).
    ReferredBy => "Referred-By", b'b';
    /// `Replaces`.
    Replaces => "Replaces";
    /// `Reply-To`.
    ReplyTo => "Reply-To";
    /// `Retry-After`.
    RetryAfter => "Retry-After";
    /// `RSeq`.
    RSeq => "RSeq";
    /// `Service-Route`.
    ServiceRoute => "Service-Route";
    /// `Session-Expires` (compact `x`).
    SessionExpires => "Session-Expires", b'x';
    /// `Subject` (compact `s`).
    Subject => "Subject", b's';
    /// `Subscription-State`.
    SubscriptionState => "Subscription-State";
    /// `Timestamp`.
    Timestamp => "Timestamp";
    /// `Warning`.
    Warning => "Warning";
    /// `Accept-Contact` (compact `a`).
    AcceptContact => "Accept-Contact", b'a';
    /// `Reject-Contact` (compact `j`).
    RejectContact => "Reject-Contact", b'j';
    /// `Request-Disposition` (compact `d`).
    RequestDisposition => "Request-Disposition", b'd';
    /// `P-Asserted-Identity`.
    PAssertedIdentity => "P-Asserted-Identity";
    /// `P-Preferred-Identity`.
    PPreferredIdentity => "P-Preferred-Identity";
    /// `Privacy`.
    Privacy => "Privacy";
    /// `History-Info` (RFC 7044).
    HistoryInfo => "History-Info";
    /// `Diversion` (RFC 5806).
    Diversion => "Diversion";
    /// `Refer-Sub` (RFC 4488).
    ReferSub => "Refer-Sub";
    /// `Target-Dialog` (RFC 4538).
    TargetDialog => "Target-Dialog";
    /// `SIP-ETag` (RFC 3903).
    SipETag => "SIP-ETag";
    /// `SIP-If-Match` (RFC 3903).
    SipIfMatch => "SIP-If-Match";
    /// `Security-Client` (RFC 3329).
    SecurityClient => "Security-Client";
    /// `Security-Server` (RFC 3329).
    SecurityServer => "Security-Server";
    /// `Security-Verify` (RFC 3329).
    SecurityVerify => "Security-Verify";
    /// `Resource-Priority` (RFC 4412).
    ResourcePriority => "Resource-Priority";
    /// `Accept-Resource-Priority` (RFC 4412).
    AcceptResourcePriority => "Accept-Resource-Priority";
    /// `Recv-Info` (RFC 6086).
    RecvInfo => "Recv-Info";
    /// `Info-Package` (RFC 6086).
    InfoPackage => "Info-Package";
    /// `Session-ID` (RFC 7989).
    SessionId => "Session-ID";
    /// `Max-Breadth` (RFC 5393).
    MaxBreadth => "Max-Breadth";
    /// `Flow-Timer` (RFC 5626).
    FlowTimer => "Flow-Timer";
}

/// Marker stored in a header slot for an extension name.
pub(crate) const EXTENSION_INDEX: u8 = u8::MAX;

impl<'a> HeaderName<'a> {
    /// Recognises `name` (full or compact form, any case); unknown names become
    /// [`HeaderName::Extension`] borrowing `name`.
    pub fn parse(name: &'a str) -> Self {
        let standard = if crate::grammar::is_token(name) {
            lookup(name.as_bytes())
        } else {
            None
        };
        match standard {
            Some(i) => STANDARD[usize::from(i)].0,
            None => HeaderName::Extension(name),
        }
    }

    /// The canonical spelling (`Call-ID`, `WWW-Authenticate`); an extension gives its text.
    pub fn as_str(&self) -> &'a str {
        match self.standard_index() {
            Some(i) => STANDARD[usize::from(i)].1,
            None => match self {
                HeaderName::Extension(s) => s,
                // standard_index() is Some for every other variant.
                _ => "",
            },
        }
    }

    /// The compact form (`i` for Call-ID), if the name has one.
    pub fn compact(&self) -> Option<char> {
        self.standard_index()
            .and_then(|i| STANDARD[usize::from(i)].2)
            .map(char::from)
    }

    /// Whether this header's grammar is a comma-separated list, so that one header line may
    /// carry several values (RFC 3261 §7.3.1). Authentication headers, `Date`, `User-Agent`,
    /// `Server`, `Call-ID`, `CSeq`, `From`, `To` and extensions are never split.
    pub fn is_list(&self) -> bool {
        use HeaderName::*;
        matches!(
            self,
            Via | Contact
                | Route
                | RecordRoute
                | Allow
                | Supported
                | Require
                | ProxyRequire
                | Unsupported
                | Accept
                | AcceptEncoding
                | AcceptLanguage
                | AlertInfo
                | AllowEvents
                | CallInfo
                | ContentEncoding
                | ContentLanguage
                | ErrorInfo
                | InReplyTo
                | Path
                | Reason
                | ServiceRoute
                | Warning
                | AcceptContact
                | RejectContact
                | RequestDisposition
                | PAssertedIdentity
                | PPreferredIdentity
                | Privacy
                | HistoryInfo
                | Diversion
                | SecurityClient
                | SecurityServer
                | SecurityVerify
                | ResourcePriority
                | AcceptResourcePriority
                | RecvInfo
        )
    }

    /// Whether a request or response may carry this header at most once (RFC 3261 §7.3.1
    /// and §20: the headers whose grammar is not a list). Used by validation to refuse
    /// duplicates of `From`, `To`, `Call-ID`, `CSeq`, `Max-Forwards`, `Content-Length` ...
    pub fn is_single(&self) -> bool {
        use HeaderName::*;
        matches!(
            self,
            From | To
                | CallId
                | CSeq
                | MaxForwards
                | ContentLength
                | ContentType
                | Expires
                | MinExpires
                | Date
                | RSeq
                | RAck
                | SessionExpires
                | MinSe
                | SubscriptionState
                | Event
                | ReferTo
                | ReferredBy
                | Timestamp
                | ReferSub
                | TargetDialog
                | SipETag
                | SipIfMatch
                | SessionId
                | MaxBreadth
                | FlowTimer
        )
    }

    pub(crate) fn from_index(index: u8, raw: &'a str) -> Self {
        match STANDARD.get(usize::from(index)) {
            Some(entry) => entry.0,
            None => HeaderName::Extension(raw),
        }
    }
}

/// A name of 2 to [`MAX_KEYED_LEN`] bytes folded with bit 5 set (which lowercases letters)
/// into three words: for 8 bytes and more the words at offsets 0, `min(8, n - 8)` and
/// `n - 8` (overlapping); for 4 to 7 bytes the 4-byte words at 0 and `n - 4`; below that the
/// bytes themselves. Equal keys and lengths mean equal names, ignoring ASCII case.
type Key = [u64; 3];

/// The longest standard name (`Accept-Resource-Priority`) fits in three words.
const MAX_KEYED_LEN: usize = 24;

/// `width` bytes of `name` from `at`, folded, little-endian (compile-time twin of [`load`]).
const fn load_const(name: &[u8], at: usize, width: usize) -> u64 {
    let mut v = 0u64;
    let mut i = 0;
    while i < width {
        v |= ((name[at + i] | 0x20) as u64) << (8 * i);
        i += 1;
    }
    v
}

/// [`Key`] of a standard name, at compile time.
const fn key_const(name: &[u8]) -> Key {
    let n = name.len();
    if n >= 8 {
        let middle = if n - 8 < 8 { n - 8 } else { 8 };
        [
            load_const(name, 0, 8),
            load_const(name, middle, 8),
            load_const(name, n - 8, 8),
        ]
    } else if n >= 4 {
        [
            load_const(name, 0, 4) | (load_const(name, n - 4, 4) << 32),
            0,
            0,
        ]
    } else {
        [load_const(name, 0, n), 0, 0]
    }
}

/// Eight bytes of `name` from `at`, folded.
#[inline(always)]
fn load(name: &[u8], at: usize) -> Option<u64> {
    let word = <[u8; 8]>::try_from(name.get(at..at + 8)?).ok()?;
    Some(u64::from_le_bytes(word) | 0x2020_2020_2020_2020)
}

/// Four bytes of `name` from `at`, folded.
#[inline(always)]
fn load4(name: &[u8], at: usize) -> Option<u64> {
    let word = <[u8; 4]>::try_from(name.get(at..at + 4)?).ok()?;
    Some(u64::from(u32::from_le_bytes(word) | 0x2020_2020))
}

/// [`Key`] of a name read from a message, a few word loads; `None` when it is too long or
/// too short to be a (full) standard name.
#[inline(always)]
fn key(name: &[u8]) -> Option<Key> {
    let n = name.len();
    match n {
        8..=MAX_KEYED_LEN => Some([
            load(name, 0)?,
            load(name, (n - 8).min(8))?,
            load(name, n - 8)?,
        ]),
        4..=7 => Some([load4(name, 0)? | (load4(name, n - 4)? << 32), 0, 0]),
        2..=3 => Some([
            name.iter()
                .rev()
                .fold(0, |v, &b| (v << 8) | u64::from(b | 0x20)),
            0,
            0,
        ]),
        _ => None,
    }
}

const fn hash_slot(key: &Key, len: usize) -> usize {
    let mixed = key[0] ^ key[2].rotate_left(29) ^ (len as u64);
    (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
}

/// Open-addressing table from [`hash_slot`] to standard-table index (`u8::MAX` = empty).
const NAME_HASH: [u8; 256] = {
    let mut table = [u8::MAX; 256];
    let mut i = 0;
    while i < STANDARD.len() {
        let name = STANDARD[i].1.as_bytes();
        let mut slot = hash_slot(&key_const(name), name.len());
        while table[slot] != u8::MAX {
            slot = (slot + 1) % 256;
        }
        table[slot] = i as u8;
        i += 1;
    }
    table
};

/// Key and length of each standard name, by standard-table index.
const KEYS: [(Key, usize); STANDARD.len()] = {
    let mut table = [([0; 3], 0); STANDARD.len()];
    let mut i = 0;
    while i < STANDARD.len() {
        let name = STANDARD[i].1.as_bytes();
        table[i] = (key_const(name), name.len());
        i += 1;
    }
    table
};

/// Compact form (lowercase letter) to standard-table index.
const COMPACT: [u8; 26] = {
    let mut table = [u8::MAX; 26];
    let mut i = 0;
    while i < STANDARD.len() {
        if let Some(c) = STANDARD[i].2 {
            table[(c - b'a') as usize] = i as u8;
        }
        i += 1;
    }
    table
};

/// Finds the standard-table index for `name`, case-insensitively, full or compact form.
///
/// Bit 5 lowercases ASCII letters; among token characters only letters map onto letters
/// that way, and only `-` or a CR onto `-`, so for a token (or a header line, which holds no
/// CR) a match means the very name.
#[inline(always)]
pub(crate) fn lookup(bytes: &[u8]) -> Option<u8> {
    if let [c] = bytes {
        let c = c.to_ascii_lowercase();
        return match c {
            b'a'..=b'z' => Some(COMPACT[usize::from(c - b'a')]).filter(|&i| i != u8::MAX),
            _ => None,
        };
    }
    let key = key(bytes)?;
    let mut slot = hash_slot(&key, bytes.len());
    loop {
        let index = NAME_HASH[slot];
        if index == u8::MAX {
            return None;
        }
        if KEYS.get(usize::from(index)) == Some(&(key, bytes.len())) {
            return Some(index);
        }
        slot = (slot + 1) % 256;
    }
}

impl PartialEq for HeaderName<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderName::Extension(a), HeaderName::Extension(b)) => a.eq_ignore_ascii_case(b),
            _ => self.standard_index().is_some() && self.standard_index() == other.standard_index(),
        }
    }
}

impl Eq for HeaderName<'_> {}

impl Hash for HeaderName<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            HeaderName::Extension(s) => {
                state.write_u8(EXTENSION_INDEX);
                for b in s.bytes() {
                    state.write_u8(b.to_ascii_lowercase());
                }
            }
            other => state.write_u8(other.standard_index().unwrap_or(EXTENSION_INDEX)),
        }
    }
}

impl fmt::Display for HeaderName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'a> From<&'a str> for HeaderName<'a> {
    fn from(name: &'a str) -> Self {
        HeaderName::parse(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_forms_map_to_full_names() {
        let pairs = [
            ("i", HeaderName::CallId),
            ("m", HeaderName::Contact),
            ("e", HeaderName::ContentEncoding),
            ("l", HeaderName::ContentLength),
            ("c", HeaderName::ContentType),
            ("f", HeaderName::From),
            ("s", HeaderName::Subject),
            ("k", HeaderName::Supported),
            ("t", HeaderName::To),
            ("v", HeaderName::Via),
            ("o", HeaderName::Event),
            ("u", HeaderName::AllowEvents),
            ("r", HeaderName::ReferTo),
            ("b", HeaderName::ReferredBy),
            ("x", HeaderName::SessionExpires),
            ("y", HeaderName::Identity),
            ("a", HeaderName::AcceptContact),
            ("j", HeaderName::RejectContact),
            ("d", HeaderName::RequestDisposition),
        ];
        for (compact, full) in pairs {
            assert_eq!(HeaderName::parse(compact), full, "{compact}");
            assert_eq!(
                HeaderName::parse(&compact.to_uppercase()),
                full,
                "{compact}"
            );
            assert_eq!(full.compact(), compact.chars().next());
        }
    }

    #[test]
    fn names_are_case_insensitive_and_unknown_kept_raw() {
        assert_eq!(HeaderName::parse("mAx-FoRwArDs"), HeaderName::MaxForwards);
        assert_eq!(
            HeaderName::parse("www-authenticate").as_str(),
            "WWW-Authenticate"
        );
        let ext = HeaderName::parse("C%6Fntact");
        assert_eq!(ext, HeaderName::Extension("c%6fNTACT"));
        assert_ne!(ext, HeaderName::Contact);
        assert_eq!(ext.as_str(), "C%6Fntact");
        assert_eq!(HeaderName::parse("z"), HeaderName::Extension("z"));
        // Near misses at each word-comparison length (under 4, 4 to 7, 8 and more).
        for (near, standard) in [
            ("Tp", HeaderName::To),
            ("CSez", HeaderName::CSeq),
            ("Call-IE", HeaderName::CallId),
            ("Content-Lengtg", HeaderName::ContentLength),
            ("Dontent-Length", HeaderName::ContentLength),
            ("Content_Length", HeaderName::ContentLength),
        ] {
            assert_eq!(HeaderName::parse(near), HeaderName::Extension(near));
            assert_ne!(HeaderName::parse(near), standard);
        }
        assert_eq!(
            HeaderName::parse("cONTENT-lENGTH"),
            HeaderName::ContentLength
        );
    }

    #[test]
    fn every_standard_name_round_trips() {
        for (name, canonical, _) in STANDARD {
            assert_eq!(HeaderName::parse(canonical), *name);
            assert_eq!(name.as_str(), *canonical);
        }
        assert!(STANDARD.len() < usize::from(EXTENSION_INDEX));
    }
}
