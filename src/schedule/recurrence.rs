//! Expanding a series into dated occurrences: an RFC 5545 rule (rrule crate)
//! over local wall-clock dates, minus exception dates, Japanese public
//! holidays and closures, converted to UTC in the organisation's timezone.
//!
//! The rule is expanded as *floating* time (wall-clock, no zone) and each
//! occurrence is then placed in the zone, so a weekly 14:00 class stays at
//! 14:00 local across daylight-saving changes.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use rrule::{Frequency, RRule, Tz as RuleTz, Unvalidated};

use crate::calendar::{holidays, to_utc};

/// How a series repeats, as stored.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The RRULE value, e.g. `FREQ=WEEKLY;BYDAY=TU`.
    pub rrule: String,
    pub starts_on: NaiveDate,
    pub until: Option<NaiveDate>,
    pub count: Option<u32>,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub exception_dates: Vec<NaiveDate>,
    pub skip_public_holidays: bool,
    pub skip_closures: bool,
}

/// A closure in local wall-clock time, `[starts, ends)`.
#[derive(Debug, Clone)]
pub struct Closure {
    pub starts: NaiveDateTime,
    pub ends: NaiveDateTime,
    /// Why (e.g. 年末年始), for the preview of a series.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The local date the rule produced (the session's identity in its series).
    pub date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("{0}")]
    InvalidRule(String),
    #[error("end_time must be after start_time")]
    EndBeforeStart,
    #[error("the series would produce more than {0} sessions within the horizon")]
    TooManySessions(usize),
}

/// Parses and checks an RRULE value. Sessions repeat at most daily, and the
/// start date, end and count are fields of their own.
pub fn parse_rule(text: &str) -> Result<RRule<Unvalidated>, RuleError> {
    let text = text.trim();
    let upper = text.to_ascii_uppercase();
    let body = upper.strip_prefix("RRULE:").unwrap_or(&upper);
    if body.contains("DTSTART") || body.contains('\n') {
        return Err(RuleError::InvalidRule(
            "give only the RRULE value, e.g. FREQ=WEEKLY;BYDAY=TU".into(),
        ));
    }
    for part in body.split(';') {
        let key = part.split('=').next().unwrap_or("");
        if matches!(key, "UNTIL" | "COUNT") {
            return Err(RuleError::InvalidRule(format!(
                "{key} is not part of the rule: use the until or count field"
            )));
        }
        if matches!(key, "BYHOUR" | "BYMINUTE" | "BYSECOND") {
            return Err(RuleError::InvalidRule(format!(
                "{key} is not supported: use start_time and end_time"
            )));
        }
    }
    for part in body.split(';') {
        if let Some(n) = part.strip_prefix("INTERVAL=")
            && n.trim().parse::<u32>().is_ok_and(|n| n == 0)
        {
            return Err(RuleError::InvalidRule("INTERVAL must be at least 1".into()));
        }
    }
    let rule: RRule<Unvalidated> = body.parse().map_err(|e: rrule::RRuleError| {
        RuleError::InvalidRule(format!("not a valid RRULE: {e}"))
    })?;
    if matches!(
        rule.get_freq(),
        Frequency::Hourly | Frequency::Minutely | Frequency::Secondly
    ) {
        return Err(RuleError::InvalidRule(
            "sessions repeat at most daily (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY)".into(),
        ));
    }
    Ok(rule)
}

/// Whether a (parsed-ok) rule yields at least one date from `starts_on` up
/// to `until` (or within the next 9 years, enough for 29 February).
pub fn ever_occurs(
    rrule: &str,
    starts_on: NaiveDate,
    start_time: NaiveTime,
    until: Option<NaiveDate>,
) -> bool {
    let Ok(rule) = parse_rule(rrule) else {
        return false;
    };
    let at = |date: NaiveDate, time: NaiveTime| RuleTz::UTC.from_utc_datetime(&date.and_time(time));
    let last = until.unwrap_or(starts_on + Duration::days(366 * 9));
    let Ok(set) = rule.build(at(starts_on, start_time)) else {
        return false;
    };
    let end = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(start_time);
    !set.before(at(last, end)).all(1).dates.is_empty()
}

/// Every occurrence from the start of the series up to and including
/// `through` (a local date), at most `max`; more is an error.
pub fn expand(
    pattern: &Pattern,
    tz: &chrono_tz::Tz,
    closures: &[Closure],
    through: NaiveDate,
    max: usize,
) -> Result<Vec<Occurrence>, RuleError> {
    expand_noting(pattern, tz, closures, through, max, &mut Vec::new())
}

/// `expand`, noting each date the rule produced but the series skips, and
/// why in words (`成人の日`, the closure's reason, `除外日`).
pub fn expand_noting(
    pattern: &Pattern,
    tz: &chrono_tz::Tz,
    closures: &[Closure],
    through: NaiveDate,
    max: usize,
    skipped: &mut Vec<(NaiveDate, String)>,
) -> Result<Vec<Occurrence>, RuleError> {
    if pattern.end_time <= pattern.start_time {
        return Err(RuleError::EndBeforeStart);
    }
    let mut rule = parse_rule(&pattern.rrule)?;
    if let Some(count) = pattern.count {
        rule = rule.count(count);
    }
    let floating =
        |date: NaiveDate, time: NaiveTime| RuleTz::UTC.from_utc_datetime(&date.and_time(time));
    let dt_start = floating(pattern.starts_on, pattern.start_time);
    let last = pattern.until.map_or(through, |until| until.min(through));
    let set = rule
        .build(dt_start)
        .map_err(|e| RuleError::InvalidRule(format!("not a valid RRULE: {e}")))?
        .before(floating(
            last,
            NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(pattern.start_time),
        ));
    // Enough head-room for skipped dates; more than that means "too many".
    let limit = u16::try_from(max.saturating_mul(2).saturating_add(64)).unwrap_or(u16::MAX);
    let generated = set.all(limit);
    let holidays = holidays::Calendar::new();
    let mut out = Vec::new();
    for start in generated.dates {
        let date = start.date_naive();
        let local_start = date.and_time(pattern.start_time);
        let local_end = date.and_time(pattern.end_time);
        if pattern.exception_dates.contains(&date) {
            skipped.push((date, "除外日".to_owned()));
            continue;
        }
        if pattern.skip_public_holidays && holidays.is_holiday(date) {
            skipped.push((date, holidays.name(date).unwrap_or_else(|| "祝日".into())));
            continue;
        }
        if pattern.skip_closures
            && let Some(c) = closures
                .iter()
                .find(|c| c.starts < local_end && local_start < c.ends)
        {
            skipped.push((date, format!("休館日（{}）", c.reason)));
            continue;
        }
        out.push(Occurrence {
            date,
            starts_at: to_utc(tz, local_start),
            ends_at: to_utc(tz, local_end),
        });
        if out.len() > max {
            return Err(RuleError::TooManySessions(max));
        }
    }
    if generated.limited && out.len() >= max {
        return Err(RuleError::TooManySessions(max));
    }
    Ok(out)
}

/// The weekday name used in answers (`monday` … `sunday`).
pub fn weekday_name(date: NaiveDate) -> &'static str {
    match date.weekday() {
        chrono::Weekday::Mon => "monday",
        chrono::Weekday::Tue => "tuesday",
        chrono::Weekday::Wed => "wednesday",
        chrono::Weekday::Thu => "thursday",
        chrono::Weekday::Fri => "friday",
        chrono::Weekday::Sat => "saturday",
        chrono::Weekday::Sun => "sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_interval_and_a_rule_that_never_occurs_are_refused() {
        assert!(parse_rule("FREQ=WEEKLY;INTERVAL=0").is_err());
        assert!(parse_rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU").is_ok());
        let d = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
        let t = NaiveTime::from_hms_opt(14, 0, 0).unwrap();
        assert!(!ever_occurs(
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            d,
            t,
            None
        ));
        assert!(ever_occurs(
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
            d,
            t,
            None
        ));
        assert!(!ever_occurs(
            "FREQ=WEEKLY;BYDAY=TU",
            d + Duration::days(1),
            t,
            Some(d + Duration::days(5))
        ));
        assert!(ever_occurs("FREQ=WEEKLY;BYDAY=TU", d, t, Some(d)));
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn pattern(rrule: &str, starts_on: NaiveDate) -> Pattern {
        Pattern {
            rrule: rrule.into(),
            starts_on,
            until: None,
            count: None,
            start_time: time(14, 0),
            end_time: time(16, 0),
            exception_dates: vec![],
            skip_public_holidays: true,
            skip_closures: true,
        }
    }

    fn dates(occ: &[Occurrence]) -> Vec<NaiveDate> {
        occ.iter().map(|o| o.date).collect()
    }

    #[test]
    fn every_tuesday_at_14_tokyo_is_05_utc() {
        let p = pattern("FREQ=WEEKLY;BYDAY=TU", date(2026, 12, 1));
        let occ = expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2026, 12, 22), 100).unwrap();
        assert_eq!(
            dates(&occ),
            [
                date(2026, 12, 1),
                date(2026, 12, 8),
                date(2026, 12, 15),
                date(2026, 12, 22)
            ]
        );
        assert_eq!(occ[0].starts_at.to_rfc3339(), "2026-12-01T05:00:00+00:00");
        assert_eq!(occ[0].ends_at.to_rfc3339(), "2026-12-01T07:00:00+00:00");
    }

    #[test]
    fn second_and_fourth_thursday() {
        let mut p = pattern("FREQ=MONTHLY;BYDAY=2TH,4TH", date(2027, 2, 1));
        p.start_time = time(10, 0);
        p.end_time = time(12, 0);
        let occ = expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2027, 3, 31), 100).unwrap();
        // The 2nd Thursday of February 2027 is 2/11, 建国記念の日: skipped.
        assert_eq!(
            dates(&occ),
            [date(2027, 2, 25), date(2027, 3, 11), date(2027, 3, 25)]
        );
    }

    #[test]
    fn japanese_holidays_are_skipped_on_real_dates() {
        // Mon 2026-09-21 敬老の日, Tue 2026-09-22 国民の休日, Wed 2026-09-23 秋分の日.
        let mut p = pattern("FREQ=DAILY", date(2026, 9, 20));
        p.skip_public_holidays = true;
        let occ = expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2026, 9, 24), 100).unwrap();
        assert_eq!(dates(&occ), [date(2026, 9, 20), date(2026, 9, 24)]);
        p.skip_public_holidays = false;
        let occ = expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2026, 9, 24), 100).unwrap();
        assert_eq!(occ.len(), 5);
    }

    #[test]
    fn coming_of_age_day_and_a_substitute_holiday_are_skipped() {
        // Mon 2027-01-11 成人の日; 2026-05-06 振替休日 (5/3 憲法記念日 is a Sunday).
        let p = pattern("FREQ=WEEKLY;BYDAY=MO", date(2027, 1, 4));
        let occ = expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2027, 1, 18), 100).unwrap();
        assert_eq!(dates(&occ), [date(2027, 1, 4), date(2027, 1, 18)]);
        let p = pattern("FREQ=WEEKLY;BYDAY=WE", date(2026, 4, 29));
        let occ = expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2026, 5, 13), 100).unwrap();
        // 4/29 昭和の日 and 5/6 振替休日 are both skipped.
        assert_eq!(dates(&occ), [date(2026, 5, 13)]);
    }

    #[test]
    fn closures_and_exception_dates_are_skipped() {
        let mut p = pattern("FREQ=DAILY", date(2026, 12, 27));
        p.skip_public_holidays = false;
        p.exception_dates = vec![date(2027, 1, 5)];
        let closure = Closure {
            starts: date(2026, 12, 29).and_time(time(0, 0)),
            ends: date(2027, 1, 4).and_time(time(0, 0)),
            reason: "休館".into(),
        };
        let occ = expand(
            &p,
            &chrono_tz::Asia::Tokyo,
            &[closure],
            date(2027, 1, 6),
            100,
        )
        .unwrap();
        assert_eq!(
            dates(&occ),
            [
                date(2026, 12, 27),
                date(2026, 12, 28),
                date(2027, 1, 4),
                date(2027, 1, 6)
            ]
        );
    }

    #[test]
    fn a_closure_for_part_of_a_day_skips_only_overlapping_sessions() {
        let mut p = pattern("FREQ=DAILY", date(2026, 12, 1));
        p.skip_public_holidays = false;
        let afternoon_off = Closure {
            starts: date(2026, 12, 2).and_time(time(13, 0)),
            ends: date(2026, 12, 2).and_time(time(17, 0)),
            reason: "休館".into(),
        };
        let morning_off = Closure {
            starts: date(2026, 12, 3).and_time(time(9, 0)),
            ends: date(2026, 12, 3).and_time(time(12, 0)),
            reason: "休館".into(),
        };
        let occ = expand(
            &p,
            &chrono_tz::Asia::Tokyo,
            &[afternoon_off, morning_off],
            date(2026, 12, 3),
            100,
        )
        .unwrap();
        assert_eq!(dates(&occ), [date(2026, 12, 1), date(2026, 12, 3)]);
    }

    #[test]
    fn a_weekly_14_00_stays_at_14_00_local_across_daylight_saving() {
        let p = Pattern {
            skip_public_holidays: false,
            ..pattern("FREQ=WEEKLY;BYDAY=TU", date(2027, 3, 23))
        };
        let berlin = chrono_tz::Europe::Berlin;
        let occ = expand(&p, &berlin, &[], date(2027, 4, 6), 100).unwrap();
        // Summer time starts on Sunday 2027-03-28.
        assert_eq!(occ[0].starts_at.to_rfc3339(), "2027-03-23T13:00:00+00:00");
        assert_eq!(occ[1].starts_at.to_rfc3339(), "2027-03-30T12:00:00+00:00");
        for o in &occ {
            assert_eq!(o.starts_at.with_timezone(&berlin).time(), time(14, 0));
        }
    }

    #[test]
    fn until_and_count_end_the_series() {
        let mut p = pattern("FREQ=WEEKLY;BYDAY=TU", date(2026, 12, 1));
        p.count = Some(2);
        assert_eq!(
            expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2027, 6, 1), 100)
                .unwrap()
                .len(),
            2
        );
        p.count = None;
        p.until = Some(date(2026, 12, 15));
        assert_eq!(
            expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2027, 6, 1), 100)
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn weekdays_9_to_17() {
        let mut p = pattern("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", date(2026, 11, 30));
        p.start_time = time(9, 0);
        p.end_time = time(17, 0);
        let occ = expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2026, 12, 6), 100).unwrap();
        assert_eq!(occ.len(), 5);
    }

    #[test]
    fn bad_rules_are_refused() {
        for bad in [
            "",
            "FREQ=SOMETIMES",
            "FREQ=HOURLY",
            "FREQ=WEEKLY;COUNT=3",
            "FREQ=DAILY;BYHOUR=9",
            "DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY",
            "FREQ=WEEKLY;BYDAY=XX",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_rule("RRULE:FREQ=WEEKLY;BYDAY=TU").is_ok());
    }

    #[test]
    fn an_end_before_the_start_is_refused() {
        let mut p = pattern("FREQ=DAILY", date(2026, 12, 1));
        p.end_time = time(13, 0);
        assert_eq!(
            expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2026, 12, 2), 10),
            Err(RuleError::EndBeforeStart)
        );
    }

    #[test]
    fn too_many_sessions_is_an_error() {
        let p = Pattern {
            skip_public_holidays: false,
            ..pattern("FREQ=DAILY", date(2026, 1, 1))
        };
        assert_eq!(
            expand(&p, &chrono_tz::Asia::Tokyo, &[], date(2027, 12, 31), 100),
            Err(RuleError::TooManySessions(100))
        );
    }
}
