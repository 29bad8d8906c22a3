//! Digest authentication (RFC 2617, RFC 7616, RFC 8760): MD5, SHA-256 and SHA-512-256, their
//! `-sess` variants, qop `auth` and `auth-int`, nonce counts, client nonces and `userhash`.
//!
//! A client answers a parsed [`Challenge`](crate::values::Challenge) with
//! [`DigestRequest::answer`]; a server checks parsed
//! [`Credentials`](crate::values::Credentials) with [`verify`] or [`verify_ha1`]. Passwords
//! travel as [`Password`], which never prints.
//!
//! ```
//! use sip_proto::digest::{DigestRequest, Password, verify};
//! use sip_proto::values::{Challenge, Credentials};
//!
//! let challenge = Challenge::parse(r#"Digest realm="example.com", nonce="abc", qop="auth""#).unwrap();
//! let password = Password::new("secret");
//! let auth = DigestRequest::new("REGISTER", "sip:example.com", "alice", &password)
//!     .cnonce("0a4f113b")
//!     .answer(&challenge)
//!     .unwrap();
//! let header = auth.to_string();
//! assert!(header.starts_with("Digest username=\"alice\", realm=\"example.com\""));
//! let creds = Credentials::parse(&header).unwrap();
//! assert!(verify(&creds, "REGISTER", b"", "alice", &password).unwrap());
//! ```

mod algorithm;
mod password;
mod response;

pub use algorithm::{Algorithm, Qop};
pub use password::Password;
pub use response::{Authorization, DigestInput, DigestRequest, verify, verify_ha1};
