//! Fresh identifiers: Via branches, From/To tags and Call-IDs, drawn from a CSPRNG.
//!
//! `rand`'s thread-local generator is a ChaCha-based CSPRNG seeded (and periodically
//! reseeded) from the operating system, so identifiers cannot be predicted by a peer, which
//! RFC 3261 §8.1.1.4/§19.3 ask for (a guessable Call-ID or tag helps hijack dialogs).
//!
//! ```
//! let branch = sip_proto::generate::branch();
//! assert!(branch.starts_with("z9hG4bK"));
//! assert_ne!(sip_proto::generate::tag(), sip_proto::generate::tag());
//! ```

use rand::Rng;
use rand::distr::Alphanumeric;

/// The RFC 3261 §8.1.1.7 magic cookie every branch this crate makes starts with.
pub const BRANCH_PREFIX: &str = "z9hG4bK";

fn random_chars(n: usize) -> impl Iterator<Item = char> {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(n)
        .map(char::from)
}

/// A Via branch: the magic cookie and 22 random alphanumerics (about 130 bits).
pub fn branch() -> String {
    let mut s = String::with_capacity(BRANCH_PREFIX.len() + 22);
    s.push_str(BRANCH_PREFIX);
    s.extend(random_chars(22));
    s
}

/// A From/To tag: 16 random alphanumerics (about 95 bits; §19.3 asks for at least 32).
pub fn tag() -> String {
    random_chars(16).collect()
}

/// A Call-ID: 24 random alphanumerics (about 140 bits), without a host part so it reveals
/// nothing about the sender.
pub fn call_id() -> String {
    random_chars(24).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn identifiers_have_the_right_shape_and_do_not_repeat() {
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let b = branch();
            assert!(b.starts_with(BRANCH_PREFIX) && b.len() == 29);
            assert!(crate::grammar::is_token(&b));
            let t = tag();
            assert_eq!(t.len(), 16);
            assert!(crate::grammar::is_token(&t));
            let c = call_id();
            assert_eq!(c.len(), 24);
            assert!(seen.insert(b) && seen.insert(t) && seen.insert(c));
        }
    }
}
