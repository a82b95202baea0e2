//! Business time: opening hours per weekday (to the minute), minus Japanese
//! public holidays and closures (which may cover part of a day). Pure
//! functions, unit-tested; service levels and reminders count in it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::holidays;
use super::to_utc;

/// When the desk is open.
pub struct BusinessCalendar {
    pub tz: Tz,
    /// Monday first; `None` = closed all day.
    pub hours: [Option<(NaiveTime, NaiveTime)>; 7],
    /// Local `[start, end)` closures.
    pub closures: Vec<(NaiveDateTime, NaiveDateTime)>,
    holidays: holidays::Calendar,
}

impl BusinessCalendar {
    pub fn new(
        tz: Tz,
        hours: [Option<(NaiveTime, NaiveTime)>; 7],
        closures: Vec<(NaiveDateTime, NaiveDateTime)>,
    ) -> Self {
        BusinessCalendar {
            tz,
            hours,
            closures,
            holidays: holidays::Calendar::new(),
        }
    }

    /// Monday to Friday, 09:00–17:00.
    pub fn default_hours() -> [Option<(NaiveTime, NaiveTime)>; 7] {
        let day = NaiveTime::from_hms_opt(9, 0, 0).zip(NaiveTime::from_hms_opt(17, 0, 0));
        [day, day, day, day, day, None, None]
    }

    /// The open intervals of a local day, closures cut out.
    fn open_intervals(&self, date: NaiveDate) -> Vec<(NaiveDateTime, NaiveDateTime)> {
        let Some((opens, closes)) = self.hours[date.weekday().num_days_from_monday() as usize]
        else {
            return Vec::new();
        };
        if self.holidays.is_holiday(date) || closes <= opens {
            return Vec::new();
        }
        let mut intervals = vec![(date.and_time(opens), date.and_time(closes))];
        for &(c_start, c_end) in &self.closures {
            intervals = intervals
                .into_iter()
                .flat_map(|(s, e)| {
                    if c_end <= s || c_start >= e {
                        vec![(s, e)]
                    } else {
                        let mut parts = Vec::new();
                        if c_start > s {
                            parts.push((s, c_start));
                        }
                        if c_end < e {
                            parts.push((c_end, e));
                        }
                        parts
                    }
                })
                .collect();
        }
        intervals
    }

    /// The instant `minutes` of business time after `start`.
    pub fn add_business_minutes(&self, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        let local = start.with_timezone(&self.tz).naive_local();
        let mut left = Duration::minutes(minutes.max(0));
        let mut date = local.date();
        // Two years of closed days is a configuration error, not a loop.
        for _ in 0..730 {
            for (s, e) in self.open_intervals(date) {
                let from = s.max(local);
                if from >= e {
                    continue;
                }
                let available = e - from;
                if left <= available {
                    return to_utc(&self.tz, from + left);
                }
                left -= available;
            }
            date += Duration::days(1);
        }
        start + Duration::days(730)
    }

    /// The first day after `date` with some open time (no holiday, not
    /// closed all day): when a call not answered comes back.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date + Duration::days(1);
        for _ in 0..730 {
            if !self.open_intervals(day).is_empty() {
                return day;
            }
            day += Duration::days(1);
        }
        date + Duration::days(1)
    }

    /// Business minutes between two instants (0 if `end` is not after `start`).
    pub fn business_minutes_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        if end <= start {
            return 0;
        }
        let (a, b) = (
            start.with_timezone(&self.tz).naive_local(),
            end.with_timezone(&self.tz).naive_local(),
        );
        let mut total = Duration::zero();
        let mut date = a.date();
        while date <= b.date() {
            for (s, e) in self.open_intervals(date) {
                let (from, to) = (s.max(a), e.min(b));
                if to > from {
                    total += to - from;
                }
            }
            date += Duration::days(1);
        }
        total.num_minutes()
    }
}

/// A local wall-clock time as UTC (for tests and closures).
pub fn local(tz: &Tz, date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    tz.from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap_or_default())
        .earliest()
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn tokyo() -> BusinessCalendar {
        BusinessCalendar::new(
            chrono_tz::Asia::Tokyo,
            BusinessCalendar::default_hours(),
            vec![],
        )
    }

    #[test]
    fn a_friday_evening_ticket_before_a_holiday_weekend_is_due_on_tuesday() {
        // Fri 2027-01-08 18:30; Sat, Sun closed; Mon 2027-01-11 is 成人の日.
        let cal = tokyo();
        let tz = chrono_tz::Asia::Tokyo;
        let opened = local(&tz, d(2027, 1, 8), 18, 30);
        assert_eq!(
            cal.add_business_minutes(opened, 240),
            local(&tz, d(2027, 1, 12), 13, 0)
        );
        assert_eq!(
            cal.add_business_minutes(opened, 8 * 60 * 3),
            local(&tz, d(2027, 1, 14), 17, 0)
        );
        assert_eq!(
            cal.business_minutes_between(opened, local(&tz, d(2027, 1, 12), 10, 0)),
            60
        );
    }

    #[test]
    fn opening_hours_count_to_the_minute() {
        let tz = chrono_tz::Asia::Tokyo;
        let mut hours = BusinessCalendar::default_hours();
        hours[2] = NaiveTime::from_hms_opt(9, 30, 0).zip(NaiveTime::from_hms_opt(12, 15, 0)); // Wednesday mornings
        let cal = BusinessCalendar::new(tz, hours, vec![]);
        let opened = local(&tz, d(2026, 12, 2), 12, 0); // a Wednesday
        assert_eq!(
            cal.add_business_minutes(opened, 20),
            local(&tz, d(2026, 12, 3), 9, 5)
        );
    }

    #[test]
    fn a_part_day_closure_stops_the_clock() {
        let tz = chrono_tz::Asia::Tokyo;
        let closure = (
            d(2026, 12, 1).and_hms_opt(12, 0, 0).unwrap(),
            d(2026, 12, 1).and_hms_opt(15, 0, 0).unwrap(),
        );
        let cal = BusinessCalendar::new(tz, BusinessCalendar::default_hours(), vec![closure]);
        let opened = local(&tz, d(2026, 12, 1), 11, 0); // Tuesday
        assert_eq!(
            cal.add_business_minutes(opened, 90),
            local(&tz, d(2026, 12, 1), 15, 30)
        );
        assert_eq!(
            cal.business_minutes_between(opened, local(&tz, d(2026, 12, 1), 17, 0)),
            180
        );
    }

    #[test]
    fn outside_hours_nothing_elapses() {
        let tz = chrono_tz::Asia::Tokyo;
        let cal = tokyo();
        let sat = local(&tz, d(2026, 11, 28), 10, 0);
        let sun = local(&tz, d(2026, 11, 29), 16, 0);
        assert_eq!(cal.business_minutes_between(sat, sun), 0);
    }
}
