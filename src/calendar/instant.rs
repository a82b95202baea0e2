//! `Instant`: a query parameter naming a point in time, given either as an
//! RFC 3339 instant (`2026-12-01T09:00:00+09:00`) or as a local date
//! (`2026-12-01`), which means the start of that day in the organisation's
//! timezone (or, for an upper bound, the start of the next day, so the day
//! is included). Handlers call `resolve_start`/`resolve_end` once the
//! timezone is known; queries read `utc()`.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instant {
    At(DateTime<Utc>),
    /// A local date not yet placed in a timezone.
    Day(NaiveDate),
}

pub const EXPECTED: &str =
    "an RFC 3339 instant such as 2026-12-01T09:00:00+09:00, or a date such as 2026-12-01";

impl Instant {
    pub fn parse(text: &str) -> Option<Instant> {
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Some(Instant::At(at.with_timezone(&Utc)));
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .map(Instant::Day)
    }

    /// A date becomes the start of that day in `tz`.
    pub fn resolve_start(&mut self, tz: chrono_tz::Tz) {
        if let Instant::Day(d) = *self {
            *self = Instant::At(super::to_utc(&tz, d.and_time(NaiveTime::MIN)));
        }
    }

    /// A date becomes the start of the next day in `tz` (an exclusive upper
    /// bound that includes the whole day).
    pub fn resolve_end(&mut self, tz: chrono_tz::Tz) {
        if let Instant::Day(d) = *self {
            let next = d + Duration::days(1);
            *self = Instant::At(super::to_utc(&tz, next.and_time(NaiveTime::MIN)));
        }
    }

    /// The instant; an unresolved date counts as UTC midnight.
    pub fn utc(self) -> DateTime<Utc> {
        match self {
            Instant::At(at) => at,
            Instant::Day(d) => d.and_time(NaiveTime::MIN).and_utc(),
        }
    }

    pub fn naive_utc(self) -> NaiveDateTime {
        self.utc().naive_utc()
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
        let text = String::deserialize(d)?;
        Instant::parse(text.trim())
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not {EXPECTED}")))
    }
}

/// Resolves an optional lower and upper bound in one go.
pub fn resolve(from: &mut Option<Instant>, to: &mut Option<Instant>, tz: chrono_tz::Tz) {
    if let Some(f) = from.as_mut() {
        f.resolve_start(tz);
    }
    if let Some(t) = to.as_mut() {
        t.resolve_end(tz);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_the_local_day() {
        let mut from = Instant::parse("2026-12-01").unwrap();
        let mut to = from;
        from.resolve_start(chrono_tz::Asia::Tokyo);
        to.resolve_end(chrono_tz::Asia::Tokyo);
        assert_eq!(from.utc().to_rfc3339(), "2026-11-30T15:00:00+00:00");
        assert_eq!(to.utc().to_rfc3339(), "2026-12-01T15:00:00+00:00");
    }

    #[test]
    fn an_instant_keeps_its_offset_and_garbage_is_refused() {
        let at = Instant::parse("2026-12-01T09:00:00+09:00").unwrap();
        assert_eq!(at.utc().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert!(Instant::parse("2026-12").is_none());
        assert!(Instant::parse("tomorrow").is_none());
    }
}
