//! Digest authentication of our requests (RFC 3261 §22, RFC 7616, RFC 8760): credentials per
//! realm, the Authorization lines for a 401/407, and the retry rules that stop a wrong
//! password from looping.

use sip_proto::digest::DigestRequest;
use sip_proto::values::Challenge;

pub use sip_proto::digest::Password;

use crate::message::SipMessage;

/// A user name and password, for one realm or for any realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The authentication user name.
    pub username: String,
    /// The password.
    pub password: Password,
    /// The realm these credentials are for; `None` answers any realm.
    pub realm: Option<String>,
}

impl Credentials {
    /// Credentials for any realm.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: Password::new(password.into()),
            realm: None,
        }
    }

    /// The same credentials restricted to `realm`.
    pub fn for_realm(mut self, realm: impl Into<String>) -> Credentials {
        self.realm = Some(realm.into());
        self
    }
}

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthRefusal {
    /// No credentials for the realm.
    NoCredentials { realm: String },
    /// The challenge asks for an algorithm we do not implement.
    UnsupportedAlgorithm { algorithm: String },
    /// The same realm challenged a request that already carried fresh credentials: the
    /// password is wrong.
    Rejected { realm: String },
}

/// The authentication state of one request chain (a REGISTER and its refreshes, one
/// INVITE, one BYE ...): which realms were answered, so a second non-stale challenge for the
/// same realm is taken as a wrong password rather than answered again.
#[derive(Debug, Default, Clone)]
pub(crate) struct AuthSession {
    answered: Vec<(String, String)>,
    /// Consecutive stale retries, bounded so a broken server cannot make us loop.
    stale_retries: u32,
}

const MAX_STALE_RETRIES: u32 = 3;

impl AuthSession {
    /// Adds Authorization/Proxy-Authorization lines answering every digest challenge in
    /// `response` to `request` (whose CSeq and branch the caller renews).
    pub(crate) fn answer(
        &mut self,
        request: &mut SipMessage,
        response: &SipMessage,
        credentials: &[Credentials],
        cnonce: &str,
    ) -> Result<(), AuthRefusal> {
        let mut lines = Vec::new();
        for (challenge_header, answer_header) in [
            ("WWW-Authenticate", "Authorization"),
            ("Proxy-Authenticate", "Proxy-Authorization"),
        ] {
            for raw in response.header_values_raw(challenge_header) {
                let Ok(challenge) = Challenge::parse(raw) else {
                    continue;
                };
                if !challenge.is_digest() {
                    continue;
                }
                let (Some(realm), Some(nonce)) = (challenge.realm(), challenge.nonce()) else {
                    continue;
                };
                let (realm, nonce) = (realm.into_owned(), nonce.into_owned());
                // Several challenges for one realm (e.g. SHA-256 and MD5): answer the first
                // we can compute and skip the rest.
                if lines
                    .iter()
                    .any(|(_, answered, _): &(&str, String, String)| *answered == realm)
                {
                    continue;
                }
                let creds = credentials
                    .iter()
                    .find(|c| c.realm.as_deref() == Some(realm.as_str()))
                    .or_else(|| credentials.iter().find(|c| c.realm.is_none()))
                    .ok_or_else(|| AuthRefusal::NoCredentials {
                        realm: realm.clone(),
                    })?;
                let stale = challenge.stale();
                let seen = self.answered.iter().any(|(r, _)| *r == realm);
                if seen && !stale {
                    return Err(AuthRefusal::Rejected { realm });
                }
                if stale {
                    self.stale_retries += 1;
                    if self.stale_retries > MAX_STALE_RETRIES {
                        return Err(AuthRefusal::Rejected { realm });
                    }
                }
                let crate::message::StartLine::Request { method, uri } = &request.start else {
                    continue;
                };
                let answer =
                    DigestRequest::new(method.as_str(), uri, &creds.username, &creds.password)
                        .body(&request.body)
                        .cnonce(cnonce)
                        .answer(&challenge);
                match answer {
                    Ok(authorization) => {
                        self.answered.push((realm.clone(), nonce));
                        lines.push((answer_header, realm, authorization.to_string()));
                    }
                    Err(_) if response.header_values_raw(challenge_header).count() > 1 => continue,
                    Err(_) => {
                        return Err(AuthRefusal::UnsupportedAlgorithm {
                            algorithm: challenge.algorithm().unwrap_or("MD5").to_owned(),
                        });
                    }
                }
            }
        }
        if lines.is_empty() {
            return Err(AuthRefusal::UnsupportedAlgorithm {
                algorithm: "(no usable Digest challenge)".to_owned(),
            });
        }
        request.remove_header("Authorization");
        request.remove_header("Proxy-Authorization");
        for (name, _, value) in lines {
            request.push_header(name, value);
        }
        Ok(())
    }

    /// A success resets the stale counter and keeps the answered realms, so the refreshes of
    /// a registration can be challenged again with a fresh nonce.
    pub(crate) fn succeeded(&mut self) {
        self.answered.clear();
        self.stale_retries = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Method;

    fn register() -> SipMessage {
        let mut r = SipMessage::request(Method::Register, "sip:example.com");
        r.push_header("CSeq", "2 REGISTER");
        r
    }

    fn challenged(values: &[&str]) -> SipMessage {
        let mut r = SipMessage::response(401, "Unauthorized");
        for v in values {
            r.push_header("WWW-Authenticate", *v);
        }
        r
    }

    #[test]
    fn answers_with_a_verifiable_digest() {
        let mut request = register();
        let response = challenged(&["Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\""]);
        let creds = [Credentials::new("alice", "pw")];
        let mut session = AuthSession::default();
        session
            .answer(&mut request, &response, &creds, "c1")
            .unwrap();
        let value = request.header("Authorization").unwrap();
        let parsed = sip_proto::values::Credentials::parse(value).unwrap();
        assert!(
            sip_proto::digest::verify(&parsed, "REGISTER", b"", "alice", &Password::new("pw"))
                .unwrap()
        );
        // The same realm challenging again (not stale) means the password is wrong.
        let again = challenged(&["Digest realm=\"example.com\", nonce=\"n2\", qop=\"auth\""]);
        assert_eq!(
            session.answer(&mut request, &again, &creds, "c2"),
            Err(AuthRefusal::Rejected {
                realm: "example.com".into()
            })
        );
    }

    #[test]
    fn picks_credentials_per_realm_and_skips_unusable_challenges() {
        let mut request = register();
        let response = challenged(&[
            "Digest realm=\"b.example\", nonce=\"n\", algorithm=SHA-1",
            "Digest realm=\"b.example\", nonce=\"n\", algorithm=SHA-256, qop=\"auth\"",
        ]);
        let creds = [
            Credentials::new("anyone", "x"),
            Credentials::new("bee", "y").for_realm("b.example"),
        ];
        AuthSession::default()
            .answer(&mut request, &response, &creds, "c")
            .unwrap();
        let value = request.header("Authorization").unwrap();
        assert!(value.contains("username=\"bee\""), "{value}");
        assert!(value.contains("algorithm=SHA-256"), "{value}");
    }

    #[test]
    fn refuses_realms_without_credentials_and_unknown_algorithms() {
        let creds = [Credentials::new("a", "b").for_realm("one")];
        let response = challenged(&["Digest realm=\"two\", nonce=\"n\""]);
        assert!(matches!(
            AuthSession::default().answer(&mut register(), &response, &creds, "c"),
            Err(AuthRefusal::NoCredentials { .. })
        ));
        let creds = [Credentials::new("a", "b")];
        let response = challenged(&["Digest realm=\"two\", nonce=\"n\", algorithm=SHA-1"]);
        assert!(matches!(
            AuthSession::default().answer(&mut register(), &response, &creds, "c"),
            Err(AuthRefusal::UnsupportedAlgorithm { .. })
        ));
    }

    #[test]
    fn password_is_masked() {
        let c = Credentials::new("alice", "secret-pw");
        assert!(!format!("{c:?}").contains("secret-pw"));
    }
}
