//! Request methods.

use std::fmt;

/// A SIP request method. Methods are case-sensitive (RFC 3261 §7.1): `invite` is an
/// extension method, not [`Method::Invite`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method<'a> {
    /// `INVITE` (RFC 3261).
    Invite,
    /// `ACK` (RFC 3261).
    Ack,
    /// `BYE` (RFC 3261).
    Bye,
    /// `CANCEL` (RFC 3261).
    Cancel,
    /// `OPTIONS` (RFC 3261).
    Options,
    /// `REGISTER` (RFC 3261).
    Register,
    /// `PRACK` (RFC 3262).
    Prack,
    /// `SUBSCRIBE` (RFC 6665).
    Subscribe,
    /// `NOTIFY` (RFC 6665).
    Notify,
    /// `PUBLISH` (RFC 3903).
    Publish,
    /// `INFO` (RFC 6086).
    Info,
    /// `REFER` (RFC 3515).
    Refer,
    /// `MESSAGE` (RFC 3428).
    Message,
    /// `UPDATE` (RFC 3311).
    Update,
    /// Any other method token, as written.
    Extension(&'a str),
}

impl<'a> Method<'a> {
    /// Maps a method token to its variant; unknown tokens become [`Method::Extension`].
    /// The caller is responsible for `token` being a valid RFC 3261 `token`.
    pub fn parse(token: &'a str) -> Self {
        match token {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "PUBLISH" => Method::Publish,
            "INFO" => Method::Info,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "UPDATE" => Method::Update,
            other => Method::Extension(other),
        }
    }

    /// The method as written on the wire.
    pub fn as_str(&self) -> &'a str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Publish => "PUBLISH",
            Method::Info => "INFO",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Update => "UPDATE",
            Method::Extension(s) => s,
        }
    }
}

impl fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'a> From<&'a str> for Method<'a> {
    fn from(token: &'a str) -> Self {
        Method::parse(token)
    }
}

#[cfg(test)]
mod tests {
    use super::Method;

    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(Method::parse("INVITE"), Method::Invite);
        assert_eq!(Method::parse("invite"), Method::Extension("invite"));
        assert_eq!(Method::parse("RE%47IST%45R").as_str(), "RE%47IST%45R");
        for m in [
            "INVITE",
            "ACK",
            "BYE",
            "CANCEL",
            "OPTIONS",
            "REGISTER",
            "PRACK",
            "SUBSCRIBE",
        ] {
            assert_eq!(Method::parse(m).as_str(), m);
        }
    }
}
