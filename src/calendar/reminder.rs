//! When reminders go out, as an organisation states it: `24h` (24 hours
//! before the start) or `1d@10:00` (the day before, at 10:00 local time).

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    HoursBefore(u32),
    DaysBeforeAt(u32, NaiveTime),
}

impl Rule {
    pub fn parse(raw: &str) -> Result<Rule, String> {
        let raw = raw.trim();
        let bad =
            || format!("{raw:?}: write hours before as `24h`, or a day and time as `1d@10:00`");
        if let Some(hours) = raw.strip_suffix('h') {
            let h: u32 = hours.parse().map_err(|_| bad())?;
            if !(1..=24 * 14).contains(&h) {
                return Err(format!("{raw:?}: between 1h and 336h"));
            }
            return Ok(Rule::HoursBefore(h));
        }
        let (days, time) = raw.split_once("d@").ok_or_else(bad)?;
        let d: u32 = days.parse().map_err(|_| bad())?;
        if !(0..=14).contains(&d) {
            return Err(format!("{raw:?}: between 0 and 14 days"));
        }
        let t = NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| bad())?;
        Ok(Rule::DaysBeforeAt(d, t))
    }

    /// A comma-separated list, at most five rules, no duplicates.
    pub fn parse_list(raw: &str) -> Result<Vec<Rule>, String> {
        let mut rules = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let rule = Rule::parse(part)?;
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        if rules.len() > 5 {
            return Err("at most 5 reminders".into());
        }
        Ok(rules)
    }

    /// The stored and shown form.
    pub fn key(&self) -> String {
        match self {
            Rule::HoursBefore(h) => format!("{h}h"),
            Rule::DaysBeforeAt(d, t) => format!("{d}d@{}", t.format("%H:%M")),
        }
    }

    /// When the reminder of a session starting at `start` is due.
    pub fn due_at(&self, start: DateTime<Utc>, tz: &Tz) -> DateTime<Utc> {
        match self {
            Rule::HoursBefore(h) => start - Duration::hours(i64::from(*h)),
            Rule::DaysBeforeAt(d, t) => {
                let day = start.with_timezone(tz).date_naive() - Duration::days(i64::from(*d));
                super::to_utc(tz, day.and_time(*t))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rules_are_read_and_written_back() {
        let rules = Rule::parse_list("24h, 2h,1d@10:00,24h").unwrap();
        let keys: Vec<String> = rules.iter().map(Rule::key).collect();
        assert_eq!(keys, ["24h", "2h", "1d@10:00"]);
        for bad in ["0h", "1000h", "1d", "1d@25:00", "tomorrow", "15d@10:00"] {
            assert!(Rule::parse(bad).is_err(), "{bad}");
        }
        assert!(Rule::parse_list("1h,2h,3h,4h,5h,6h").is_err());
    }

    #[test]
    fn the_day_before_at_ten_is_local_time() {
        let tz = chrono_tz::Asia::Tokyo;
        // Tuesday 2027-02-02 14:00 JST = 05:00 UTC.
        let start = tz
            .with_ymd_and_hms(2027, 2, 2, 14, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let due = Rule::parse("1d@10:00").unwrap().due_at(start, &tz);
        assert_eq!(
            due,
            tz.with_ymd_and_hms(2027, 2, 1, 10, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        );
        let due = Rule::parse("2h").unwrap().due_at(start, &tz);
        assert_eq!(due, start - Duration::hours(2));
    }
}
