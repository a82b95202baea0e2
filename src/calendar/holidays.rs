//! Japanese public holidays (national holidays, substitute holidays and
//! 国民の休日), from the rule-based `jpholiday` crate rather than a hand list.

use chrono::NaiveDate;
use jpholiday::jpholiday::JPHoliday;

pub struct Calendar(JPHoliday<'static>);

impl Calendar {
    pub fn new() -> Self {
        Calendar(JPHoliday::new())
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.0.is_holiday(&date)
    }

    pub fn name(&self, date: NaiveDate) -> Option<String> {
        self.0.is_holiday_name(&date)
    }
}

impl Default for Calendar {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn known_holidays_of_2026_and_2027() {
        let c = Calendar::new();
        for (date, what) in [
            (d(2026, 9, 21), "敬老の日"),
            (d(2026, 9, 22), "国民の休日"),
            (d(2026, 9, 23), "秋分の日"),
            (d(2026, 5, 6), "振替休日"),
            (d(2027, 1, 1), "元日"),
            (d(2027, 1, 11), "成人の日"),
            (d(2027, 2, 23), "天皇誕生日"),
        ] {
            assert!(c.is_holiday(date), "{date} {what}");
        }
        for date in [d(2026, 9, 24), d(2026, 12, 29), d(2027, 1, 12)] {
            assert!(!c.is_holiday(date), "{date} is a working day");
        }
    }
}
