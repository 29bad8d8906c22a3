//! Headers whose value is one decimal number: Max-Forwards, Content-Length, Expires,
//! Min-Expires and RSeq.

use std::fmt;

use crate::error::Result;
use crate::grammar::{Scanner, syntax};

/// Parses a value that is exactly one `1*DIGIT` fitting a `u32`.
pub(crate) fn parse_number(value: &str, expected: &'static str) -> Result<u32> {
    let mut sc = Scanner::new(value);
    sc.skip_lws();
    let n = sc.number_u32(expected)?;
    sc.end("end of value after the number")?;
    Ok(n)
}

macro_rules! number_header {
    ($(#[$doc:meta])* $name:ident($ty:ty), $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $ty);

        impl $name {
            /// Parses the header value.
            pub fn parse(value: &str) -> Result<Self> {
                let n = parse_number(value, $what)?;
                <$ty>::try_from(n).map($name).map_err(|_| syntax(value.len() - value.trim_start().len(), concat!($what, " in range")))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

number_header!(
    /// `Max-Forwards` (0..=255; RFC 4475 scalar02 carries 300, which is refused).
    MaxForwards(u8),
    "Max-Forwards"
);
number_header!(
    /// `Content-Length` in bytes.
    ContentLength(u32),
    "Content-Length"
);
number_header!(
    /// `Expires` in seconds (0..=2^32-1).
    Expires(u32),
    "Expires"
);
number_header!(
    /// `Min-Expires` in seconds.
    MinExpires(u32),
    "Min-Expires"
);
number_header!(
    /// `RSeq` (RFC 3262), the sequence number of a reliable provisional response.
    RSeq(u32),
    "RSeq"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn parse() {
        assert_eq!(MaxForwards::parse(" 0068 ").unwrap(), MaxForwards(68));
        assert_eq!(ContentLength::parse("150").unwrap().0, 150);
        assert_eq!(Expires::parse("4294967295").unwrap().0, u32::MAX);
        assert_eq!(MinExpires::parse("60").unwrap().to_string(), "60");
        assert_eq!(RSeq::parse("988789").unwrap().0, 988789);
    }

    #[test]
    fn refused() {
        // RFC 4475 scalar02.
        assert_eq!(
            MaxForwards::parse("300"),
            Err(Error::Syntax {
                offset: 0,
                expected: "Max-Forwards in range"
            })
        );
        assert!(Expires::parse("10000000000000000000000000000000000000000").is_err());
        assert!(ContentLength::parse("-1").is_err());
        assert!(ContentLength::parse("1 2").is_err());
        assert!(ContentLength::parse("").is_err());
    }
}
