//! The Date header value (RFC 3261 §20.17): an RFC 1123 date, always in GMT.

use std::fmt;

use crate::error::Result;
use crate::grammar::{Scanner, syntax};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Date: Sat, 13 Nov 2010 23:29:00 GMT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year (four digits).
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=31 (checked against the month).
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=60 (60 for a leap second).
    pub second: u8,
    /// Day of the week as written, 0 = Monday.
    pub weekday: u8,
}

fn fixed_digits(sc: &mut Scanner<'_>, n: usize, expected: &'static str) -> Result<u32> {
    let start = sc.pos();
    let d = sc.take_while(|b| b.is_ascii_digit());
    if d.len() != n {
        return Err(syntax(start, expected));
    }
    Ok(d.bytes().fold(0, |v, b| v * 10 + u32::from(b - b'0')))
}

fn name_index(sc: &mut Scanner<'_>, names: &[&str], expected: &'static str) -> Result<usize> {
    let start = sc.pos();
    let word = sc.take_while(|b| b.is_ascii_alphabetic());
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(word))
        .ok_or(syntax(start, expected))
}

fn is_leap(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// Parses an RFC 1123 date in GMT; any other zone (RFC 4475 `baddate`) is refused.
    pub fn parse(value: &str) -> Result<Self> {
        let mut sc = Scanner::new(value);
        sc.skip_lws();
        let weekday = name_index(&mut sc, &WEEKDAYS, "day of the week (Mon..Sun)")?;
        sc.expect(b',', ", after the day of the week")?;
        sc.expect(b' ', "space")?;
        let day_at = sc.pos();
        let day = fixed_digits(&mut sc, 2, "two-digit day")?;
        sc.expect(b' ', "space")?;
        let month = name_index(&mut sc, &MONTHS, "month (Jan..Dec)")? as u32 + 1;
        sc.expect(b' ', "space")?;
        let year = fixed_digits(&mut sc, 4, "four-digit year")?;
        sc.expect(b' ', "space")?;
        let time_at = sc.pos();
        let hour = fixed_digits(&mut sc, 2, "two-digit hour")?;
        sc.expect(b':', ":")?;
        let minute = fixed_digits(&mut sc, 2, "two-digit minute")?;
        sc.expect(b':', ":")?;
        let second = fixed_digits(&mut sc, 2, "two-digit second")?;
        sc.expect(b' ', "space")?;
        // ABNF literals are case-insensitive (RFC 2234), so "gmt" and "sat" are fine too.
        if !sc
            .rest()
            .get(..3)
            .is_some_and(|z| z.eq_ignore_ascii_case("GMT"))
        {
            return Err(sc.error("GMT"));
        }
        sc.advance(3);
        sc.end("end of date")?;
        if day == 0 || day > days_in_month(year, month) {
            return Err(syntax(day_at, "day within the month"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(syntax(time_at, "time of day"));
        }
        Ok(Date {
            year: year as u16,
            month: month as u8,
            day: day as u8,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
            weekday: weekday as u8,
        })
    }

    /// Seconds since 1970-01-01T00:00:00Z (negative before it).
    pub fn unix_time(&self) -> i64 {
        // Days from civil (proleptic Gregorian), after Howard Hinnant's algorithm.
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            WEEKDAYS[usize::from(self.weekday % 7)],
            self.day,
            MONTHS[usize::from((self.month.clamp(1, 12)) - 1)],
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn parse() {
        let d = Date::parse("Sat, 13 Nov 2010 23:29:00 GMT").unwrap();
        assert_eq!(
            (d.year, d.month, d.day, d.hour, d.minute, d.second),
            (2010, 11, 13, 23, 29, 0)
        );
        assert_eq!(d.unix_time(), 1_289_690_940);
        assert_eq!(d.to_string(), "Sat, 13 Nov 2010 23:29:00 GMT");
        assert_eq!(
            Date::parse("Thu, 01 Jan 1970 00:00:00 GMT")
                .unwrap()
                .unix_time(),
            0
        );
        assert_eq!(
            Date::parse("Tue, 29 Feb 2000 12:00:00 GMT").unwrap().day,
            29
        );
    }

    #[test]
    fn refused() {
        // RFC 4475 baddate.
        assert_eq!(
            Date::parse("Fri, 01 Jan 2010 16:00:00 EST"),
            Err(Error::Syntax {
                offset: 26,
                expected: "GMT"
            })
        );
        assert!(Date::parse("Fri, 1 Jan 2010 16:00:00 GMT").is_err());
        assert!(Date::parse("Fri, 30 Feb 2010 16:00:00 GMT").is_err());
        assert!(Date::parse("Fri, 01 Foo 2010 16:00:00 GMT").is_err());
        assert!(Date::parse("Fri, 01 Jan 2010 24:00:00 GMT").is_err());
        assert!(Date::parse("Fri, 01 Jan 2010 16:00:00 GMT x").is_err());
        assert!(Date::parse("Friday, 01 Jan 2010 16:00:00 GMT").is_err());
    }
}
