//! The Sipline demo (placeholder until the frontend issue lands).
fn main() {
    println!("Sipline {}", sip_proto::SIP_VERSION);
}
