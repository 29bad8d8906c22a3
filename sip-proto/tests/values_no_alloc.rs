//! The value parsers and the URI parser allocate nothing, on good input and on bad: every
//! header value of both corpora is parsed and its hot accessors read under a counting global
//! allocator.

// A global allocator must implement the unsafe `GlobalAlloc` trait; the implementation only
// forwards to the system allocator and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sip_proto::grammar::split_list;
use sip_proto::uri::Uri;
use sip_proto::values::{
    CSeq, CallId, Challenge, Contact, ContentLength, ContentType, Credentials, Date, DisplayName,
    Expires, MaxForwards, MediaRange, NameAddr, Products, RetryAfter, Token, Via,
};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Every header field of every corpus message, read before counting starts.
fn corpus_fields() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus");
    let mut fields = Vec::new();
    for sub in ["real", "rfc4475"] {
        for entry in std::fs::read_dir(root.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "sip") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let end = bytes
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .unwrap_or(bytes.len());
            let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
            let mut lines = head.split("\r\n");
            if let Some(start) = lines.next() {
                // The Request-URI, when there is one, goes through the URI parser too.
                if let Some(uri) = start.split(' ').nth(1) {
                    fields.push(("request-uri".to_owned(), uri.to_owned()));
                }
            }
            for line in lines {
                if line.starts_with([' ', '\t']) {
                    if let Some(last) = fields.last_mut() {
                        last.1.push_str("\r\n");
                        last.1.push_str(line);
                    }
                } else if let Some((name, value)) = line.split_once(':') {
                    fields.push((name.trim().to_ascii_lowercase(), value.to_owned()));
                }
            }
        }
    }
    fields
}

/// Parses one field and reads what a user agent reads; returns a number so that nothing is
/// optimised away.
fn parse_and_read(name: &str, value: &str) -> usize {
    let len = |s: Option<&str>| s.map_or(0, str::len);
    let mut n = 0;
    match name {
        "request-uri" => {
            if let Ok(Uri::Sip(u)) = Uri::parse(value) {
                n += len(u.user) + len(u.transport()) + usize::from(u.lr());
            }
        }
        "via" | "v" => {
            for (item, _) in split_list(value) {
                if let Ok(v) = Via::parse(item) {
                    n += len(v.branch())
                        + usize::from(v.rport().is_some())
                        + usize::from(v.received().is_some());
                }
            }
        }
        "from" | "f" | "to" | "t" => {
            if let Ok(a) = NameAddr::parse(value) {
                // `text()` borrows unless the quoted name holds `\` escapes: undoing those is
                // the one step that allocates, and only when asked for.
                let display = a.display_name;
                n += len(a.tag())
                    + display.map_or(0, |d| match d {
                        DisplayName::Quoted(raw) if raw.contains('\\') => raw.len(),
                        d => d.text().len(),
                    });
                if let Some(u) = a.uri.as_sip() {
                    n += len(u.user);
                }
            }
        }
        "contact" | "m" => {
            for (item, _) in split_list(value) {
                if let Ok(c) = Contact::parse(item) {
                    n += c.expires().unwrap_or(0) as usize + len(c.instance());
                    n += c.q().map_or(0, |q| usize::from(q.thousandths()));
                }
            }
        }
        "route" | "record-route" => {
            for (item, _) in split_list(value) {
                n += NameAddr::parse(item).map_or(0, |a| a.params.iter().count());
            }
        }
        "call-id" | "i" => n += CallId::parse(value).map_or(0, |c| c.0.len()),
        "cseq" => n += CSeq::parse(value).map_or(0, |c| c.seq as usize + c.method.as_str().len()),
        "max-forwards" => n += MaxForwards::parse(value).map_or(0, |m| usize::from(m.0)),
        "content-length" | "l" => n += ContentLength::parse(value).map_or(0, |c| c.0 as usize),
        "expires" => n += Expires::parse(value).map_or(0, |e| e.0 as usize),
        "content-type" | "c" => n += ContentType::parse(value).map_or(0, |c| c.subtype.len()),
        "accept" => {
            for (item, _) in split_list(value) {
                n += MediaRange::parse(item).map_or(0, |m| usize::from(m.q().thousandths()));
            }
        }
        "allow" | "supported" | "k" | "require" => {
            for (item, _) in split_list(value) {
                n += Token::parse(item).map_or(0, |t| t.0.len());
            }
        }
        "www-authenticate" | "proxy-authenticate" => {
            if let Ok(c) = Challenge::parse(value) {
                n += c.realm().map_or(0, |r| r.len()) + c.nonce().map_or(0, |r| r.len());
                n += c.qop_options().count();
            }
        }
        "authorization" | "proxy-authorization" => {
            if let Ok(c) = Credentials::parse(value) {
                n += c.username().map_or(0, |u| u.len()) + len(c.response());
            }
        }
        "user-agent" | "server" => n += Products::parse(value).map_or(0, |p| p.items().count()),
        "date" => n += Date::parse(value).map_or(0, |d| usize::from(d.day)),
        "retry-after" => n += RetryAfter::parse(value).map_or(0, |r| r.seconds as usize),
        _ => {}
    }
    n
}

#[test]
fn value_parsers_do_not_allocate() {
    let fields = corpus_fields();
    assert!(fields.len() > 1000, "{} fields", fields.len());
    let before = ALLOCATIONS.with(Cell::get);
    let mut touched = 0;
    for (name, value) in &fields {
        touched += parse_and_read(name, value);
    }
    let allocations = ALLOCATIONS.with(Cell::get) - before;
    assert!(touched > 0);
    assert_eq!(
        allocations, 0,
        "value parsing allocated {allocations} times"
    );
}
