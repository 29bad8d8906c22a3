//! The stream framer fed arbitrary bytes in arbitrary chunk sizes, as a TCP reader would: never
//! panics, always makes progress, and frames the same messages whatever the chunking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_proto::Limits;
use sip_proto::framer::{Frame, next_frame};

/// Frames `input` fed in chunks of `chunk` bytes; returns each message's bytes (or None on a
/// framing error, which closes the connection).
fn frame_all(input: &[u8], chunk: usize) -> Option<Vec<Vec<u8>>> {
    let limits = Limits::default();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut fed = 0;
    loop {
        match next_frame(&buf, &limits) {
            Err(_) => return None,
            Ok(Frame::Message { message, consumed }) => {
                assert!(consumed > 0 && consumed <= buf.len());
                out.push(message.to_bytes());
                buf.drain(..consumed);
            }
            Ok(Frame::KeepAlive { consumed, .. }) => {
                assert!(consumed > 0 && consumed <= buf.len());
                buf.drain(..consumed);
            }
            Ok(Frame::Partial) => {
                if fed == input.len() {
                    return Some(out);
                }
                let end = (fed + chunk).min(input.len());
                buf.extend_from_slice(&input[fed..end]);
                fed = end;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, input)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let whole = frame_all(input, input.len().max(1));
    let chunked = frame_all(input, chunk);
    if let (Some(whole), Some(chunked)) = (whole, chunked) {
        // A message split across reads must frame exactly as when it arrives at once.
        let n = whole.len().min(chunked.len());
        assert_eq!(whole[..n], chunked[..n]);
    }
});
