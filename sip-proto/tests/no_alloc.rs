//! The borrowed parse, and typed access to the headers a UA reads on every message, perform
//! zero heap allocations. A counting global allocator proves it.

// A global allocator must implement the unsafe `GlobalAlloc` trait; the implementation only
// forwards to the system allocator and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sip_proto::{HeaderName, MessageRef, parse_datagram, parse_stream};

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

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Parses and reads what a UA reads: start line, Via, From, To, Call-ID, CSeq, Contact.
fn parse_and_read(bytes: &[u8]) -> usize {
    let msg = MessageRef::parse(bytes).expect("parses");
    read(&msg)
}

/// Reads the start line, Via, From, To, Call-ID, CSeq, Contact, Allow and the body.
fn read(msg: &MessageRef<'_>) -> usize {
    let mut touched = 0;
    touched += msg.start_line().version_len();
    for via in msg.via() {
        let via = via.expect("Via");
        touched += via.branch().map_or(0, str::len);
    }
    touched += msg
        .from()
        .expect("From")
        .expect("From")
        .tag()
        .map_or(0, str::len);
    touched += msg.to().expect("To").expect("To").tag().map_or(0, str::len);
    touched += msg.call_id().expect("Call-ID").len();
    touched += msg.cseq().expect("CSeq").expect("CSeq").seq as usize;
    for contact in msg.contact() {
        touched += contact
            .expect("Contact")
            .expires()
            .map_or(1, |e| e as usize);
    }
    touched += msg.headers_named(HeaderName::Allow).count();
    touched += msg.body().len();
    touched
}

trait VersionLen {
    fn version_len(&self) -> usize;
}

impl VersionLen for sip_proto::StartLine<'_> {
    fn version_len(&self) -> usize {
        match self {
            sip_proto::StartLine::Request { version, .. }
            | sip_proto::StartLine::Response { version, .. } => version.len(),
        }
    }
}

#[test]
fn borrowed_parse_and_typed_access_do_not_allocate() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus/real");
    for file in [
        "009-jssip-invite.sip",
        "018-jssip-200-invite.sip",
        "003-jssip-register-auth.sip",
        "002-kamailio-401-register.sip",
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let mut touched = 0;
        let n = allocations_during(|| {
            touched = parse_and_read(&bytes);
            touched += parse_datagram(&bytes)
                .map(|d| d.trailing.len())
                .unwrap_or(1);
            touched += usize::from(parse_stream(&bytes).is_ok());
        });
        assert!(touched > 0);
        assert_eq!(n, 0, "{file}: {n} allocations");

        // The fast path: a view reused from message to message, parsed in place.
        let mut reused = MessageRef::blank();
        let mut touched = 0;
        let n = allocations_during(|| {
            for _ in 0..3 {
                reused.parse_in_place(&bytes).expect("parses in place");
                touched += read(&reused);
            }
        });
        assert!(touched > 0);
        assert_eq!(n, 0, "{file}: {n} allocations");
    }
}

#[test]
fn the_counter_does_count() {
    let n = allocations_during(|| {
        let v: Vec<u8> = Vec::with_capacity(16);
        std::hint::black_box(v);
    });
    assert_eq!(n, 1);
}
