//! # sip-ua
//!
//! The Sipline user agent (work in progress): transactions, dialogs, registration and calls in an
//! I/O-free core fed messages and time, a tokio driver owning transport, timers and media, and
//! the headless popup model frontends render.
//!
//! ```
//! assert_eq!(sip_ua::DEFAULT_REGISTER_EXPIRES, 600);
//! ```

/// Default registration expiry in seconds (JsSIP's default).
pub const DEFAULT_REGISTER_EXPIRES: u32 = 600;
