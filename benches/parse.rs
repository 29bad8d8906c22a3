//! `cargo bench --bench parse`: sip-proto's parse plus typed access of Via, From, To, Call-ID,
//! CSeq and Contact, beside rsip 0.4 on the same real messages in the same run; and
//! serialization throughput. Ends with one line:
//! `sip-proto vs rsip: <ratio>x (<a> ns vs <b> ns per message)`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use rsip::prelude::*;
use sip_proto::{Message, MessageRef};
use sipline_benches::corpus_message;

/// The four inputs the issue names, from `testdata/corpus/real/`.
const INPUTS: [(&str, &str); 4] = [
    ("jssip-invite-webrtc-sdp", "009-jssip-invite.sip"),
    ("jssip-200-invite", "018-jssip-200-invite.sip"),
    ("jssip-register-auth", "003-jssip-register-auth.sip"),
    ("kamailio-401-register", "002-kamailio-401-register.sip"),
];

/// Parses and reads the six headers every transaction and dialog lookup needs, into a view
/// reused from message to message (the documented fast path,
/// [`MessageRef::parse_in_place`]: the caller owns the header table, as with `httparse`).
fn sip_proto_parse_typed<'a>(msg: &mut MessageRef<'a>, bytes: &'a [u8]) -> usize {
    msg.parse_in_place(bytes).expect("corpus message parses");
    let via = msg.top_via().expect("Via").expect("typed Via");
    let from = msg.from().expect("From").expect("typed From");
    let to = msg.to().expect("To").expect("typed To");
    let call_id = msg.call_id().expect("Call-ID");
    let cseq = msg.cseq().expect("CSeq").expect("typed CSeq");
    let contact = msg.contact().next().map(|c| c.expect("typed Contact"));
    via.branch().map_or(0, str::len)
        + from.tag().map_or(0, str::len)
        + to.tag().map_or(0, str::len)
        + call_id.len()
        + cseq.seq as usize
        + usize::from(contact.is_some())
}

/// The same work with rsip: parse, then the typed form of the same six headers.
fn rsip_parse_typed(bytes: &[u8]) -> usize {
    let msg = rsip::SipMessage::try_from(bytes).expect("rsip parses the corpus message");
    let via = msg.via_header().expect("Via").typed().expect("typed Via");
    let from = msg
        .from_header()
        .expect("From")
        .typed()
        .expect("typed From");
    let to = msg.to_header().expect("To").typed().expect("typed To");
    let call_id = msg.call_id_header().expect("Call-ID");
    let cseq = msg
        .cseq_header()
        .expect("CSeq")
        .typed()
        .expect("typed CSeq");
    // rsip 0.4 cannot type JsSIP's REGISTER Contact (it chokes on the valueless `+sip.ice`
    // parameter); it still does the work, so the attempt counts.
    let contact = msg.contact_header().ok().map(|c| c.typed().is_ok());
    via.branch().map_or(0, |b| b.to_string().len())
        + from.tag().map_or(0, |t| t.to_string().len())
        + to.tag().map_or(0, |t| t.to_string().len())
        + call_id.value().len()
        + cseq.seq as usize
        + usize::from(contact.is_some())
}

fn bench_parse(c: &mut Criterion, inputs: &[(&str, Vec<u8>)]) {
    let mut group = c.benchmark_group("parse+typed");
    for (name, bytes) in inputs {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut msg = MessageRef::blank();
        group.bench_function(format!("sip-proto/{name}"), |b| {
            b.iter(|| sip_proto_parse_typed(&mut msg, black_box(bytes)))
        });
        group.bench_function(format!("rsip/{name}"), |b| {
            b.iter(|| rsip_parse_typed(black_box(bytes)))
        });
    }
    group.finish();
}

fn bench_serialize(c: &mut Criterion, inputs: &[(&str, Vec<u8>)]) {
    let mut group = c.benchmark_group("serialize");
    for (name, bytes) in inputs {
        let owned = Message::parse(bytes.clone()).expect("corpus message parses");
        let mut out = Vec::with_capacity(bytes.len() * 2);
        group.throughput(Throughput::Bytes(owned.len() as u64));
        group.bench_function(format!("sip-proto/{name}"), |b| {
            b.iter(|| {
                out.clear();
                black_box(&owned).write_to(&mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

/// Median nanoseconds per message of sip-proto and of rsip, measured for about `budget`.
///
/// The two run in alternating batches (ten rounds of all inputs each), so a busy machine
/// slows both alike; the median batch ignores the batches a preemption happened to hit.
fn median_ns_per_message(inputs: &[(&str, Vec<u8>)], budget: Duration) -> (f64, f64) {
    const ROUNDS: usize = 10;
    let per_message =
        |start: Instant| start.elapsed().as_nanos() as f64 / (ROUNDS * inputs.len()) as f64;
    let mut msg = MessageRef::blank();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while start.elapsed() < budget {
        let batch = Instant::now();
        for _ in 0..ROUNDS {
            for (_, bytes) in inputs {
                black_box(sip_proto_parse_typed(&mut msg, black_box(bytes)));
            }
        }
        ours.push(per_message(batch));
        let batch = Instant::now();
        for _ in 0..ROUNDS {
            for (_, bytes) in inputs {
                black_box(rsip_parse_typed(black_box(bytes)));
            }
        }
        theirs.push(per_message(batch));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ours), median(&mut theirs))
}

fn main() {
    let inputs: Vec<(&str, Vec<u8>)> = INPUTS
        .iter()
        .map(|(name, file)| (*name, corpus_message(file)))
        .collect();
    // Both parsers must agree that the inputs are fine before any figure means anything.
    for (name, bytes) in &inputs {
        assert!(
            sip_proto_parse_typed(&mut MessageRef::blank(), bytes) > 0,
            "{name}"
        );
        assert!(rsip_parse_typed(bytes) > 0, "{name}");
    }

    let mut criterion = Criterion::default().configure_from_args();
    bench_parse(&mut criterion, &inputs);
    bench_serialize(&mut criterion, &inputs);
    criterion.final_summary();

    let (ours, theirs) = median_ns_per_message(&inputs, Duration::from_secs(4));
    println!(
        "sip-proto vs rsip: {:.1}x ({:.0} ns vs {:.0} ns per message)",
        theirs / ours,
        ours,
        theirs
    );
}
