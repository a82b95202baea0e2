//! Who may join a course: an age range on the session date and a list of
//! districts. The check is pure: it sees only what the resident's record
//! says, and when the record lacks what a rule needs it says what is
//! missing instead of guessing.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validate::{Checker, optional_text};

pub const MAX_AGE: i64 = 130;
pub const MAX_DISTRICTS: usize = 100;

/// A course's rule; every part optional, none at all admits everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// Youngest age admitted, on the session date (e.g. 65 for 65歳以上).
    pub min_age: Option<i32>,
    /// Oldest age admitted, on the session date.
    pub max_age: Option<i32>,
    /// Districts admitted (as written in residents' records); empty: any.
    #[serde(default)]
    pub districts: Vec<String>,
}

/// What the resident's record says, as far as eligibility goes.
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    pub birth_year: Option<i32>,
    pub age_band: Option<&'a str>,
    pub district: Option<&'a str>,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Eligible,
    /// Not admitted, and why.
    Ineligible(String),
    /// The record lacks what the rule needs: the fields to ask for, and why.
    Unknown(Vec<&'static str>, String),
}

/// Age bands of the residents' register as inclusive age ranges.
fn band_range(band: &str) -> Option<(i32, i32)> {
    match band {
        "under_60" => Some((0, 59)),
        "60s" => Some((60, 69)),
        "70s" => Some((70, 79)),
        "80s" => Some((80, 89)),
        "90_plus" => Some((90, 200)),
        _ => None,
    }
}

impl Eligibility {
    pub fn is_open(&self) -> bool {
        self.min_age.is_none() && self.max_age.is_none() && self.districts.is_empty()
    }

    /// Checks a requested rule (422 naming `eligibility.*`); district names
    /// are trimmed, emptied ones dropped, duplicates removed.
    pub fn parse(self, v: &mut Checker) -> Eligibility {
        for (field, value) in [("min_age", self.min_age), ("max_age", self.max_age)] {
            if value.is_some_and(|a| !(0..=MAX_AGE).contains(&i64::from(a))) {
                v.fail(
                    &format!("eligibility.{field}"),
                    format!("must be between 0 and {MAX_AGE}"),
                );
            }
        }
        if let (Some(min), Some(max)) = (self.min_age, self.max_age)
            && min > max
        {
            v.fail("eligibility.max_age", "must not be below min_age");
        }
        if self.districts.len() > MAX_DISTRICTS {
            v.fail(
                "eligibility.districts",
                format!("at most {MAX_DISTRICTS} districts"),
            );
        }
        let mut districts = Vec::new();
        for (i, d) in self.districts.iter().enumerate() {
            match optional_text(Some(d), 100) {
                Ok(Some(name)) if !districts.contains(&name) => districts.push(name),
                Ok(_) => {}
                Err(m) => v.fail(&format!("eligibility.districts[{i}]"), m),
            }
        }
        Eligibility {
            min_age: self.min_age,
            max_age: self.max_age,
            districts,
        }
    }

    /// Stored form of the district list: one per line.
    pub fn districts_text(&self) -> Option<String> {
        (!self.districts.is_empty()).then(|| self.districts.join("\n"))
    }

    pub fn from_stored(
        min_age: Option<i32>,
        max_age: Option<i32>,
        districts: Option<&str>,
    ) -> Self {
        Eligibility {
            min_age,
            max_age,
            districts: districts
                .map(|d| d.lines().map(str::to_owned).collect())
                .unwrap_or_default(),
        }
    }

    /// A sentence for staff: who the course is for.
    pub fn describe(&self) -> String {
        let age = match (self.min_age, self.max_age) {
            (Some(min), Some(max)) => Some(format!("aged {min} to {max}")),
            (Some(min), None) => Some(format!("aged {min} and over")),
            (None, Some(max)) => Some(format!("aged {max} and under")),
            (None, None) => None,
        };
        let districts = (!self.districts.is_empty())
            .then(|| format!("living in {}", self.districts.join(", ")));
        match (age, districts) {
            (Some(a), Some(d)) => format!("residents {a} {d}"),
            (Some(a), None) => format!("residents {a}"),
            (None, Some(d)) => format!("residents {d}"),
            (None, None) => "everyone".to_owned(),
        }
    }

    /// Whether `person` may join a session held on `on` (local date).
    ///
    /// Age from a birth year is the age reached in the session's calendar
    /// year (年齢到達年), as municipal programmes count it when only the
    /// year is known; from an age band, only when the whole band is inside
    /// or outside the range.
    pub fn check(&self, person: Person<'_>, on: NaiveDate) -> Verdict {
        if self.is_open() {
            return Verdict::Eligible;
        }
        let mut missing = Vec::new();
        let mut reasons = Vec::new();
        if self.min_age.is_some() || self.max_age.is_some() {
            let min = self.min_age.unwrap_or(0);
            let max = self.max_age.unwrap_or(i32::MAX);
            let range = match (person.birth_year, person.age_band.and_then(band_range)) {
                (Some(year), _) => Some((on.year() - year, on.year() - year)),
                (None, Some(band)) => Some(band),
                (None, None) => None,
            };
            match range {
                Some((low, high)) if low >= min && high <= max => {}
                Some((low, high)) if high < min || low > max => reasons.push(format!(
                    "the course is for {} and the resident is {}",
                    self.describe(),
                    if low == high {
                        format!("{low} in {}", on.year())
                    } else {
                        format!("in the age band {low}–{high}")
                    }
                )),
                Some(_) => {
                    missing.push("birth_year");
                }
                None => missing.push("birth_year"),
            }
        }
        if !self.districts.is_empty() {
            match person.district {
                Some(d) if self.districts.iter().any(|x| x == d) => {}
                Some(d) => reasons.push(format!(
                    "the course is for residents of {} and the resident lives in {d}",
                    self.districts.join(", ")
                )),
                None => missing.push("district"),
            }
        }
        if !reasons.is_empty() {
            return Verdict::Ineligible(reasons.join("; "));
        }
        if !missing.is_empty() {
            let why = format!(
                "the course is for {}: record the resident's {} to book them",
                self.describe(),
                missing.join(" and ")
            );
            return Verdict::Unknown(missing, why);
        }
        Verdict::Eligible
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, 6, 1).unwrap()
    }

    fn person<'a>(
        birth_year: Option<i32>,
        band: Option<&'a str>,
        district: Option<&'a str>,
    ) -> Person<'a> {
        Person {
            birth_year,
            age_band: band,
            district,
        }
    }

    fn over(min: i32) -> Eligibility {
        Eligibility {
            min_age: Some(min),
            ..Default::default()
        }
    }

    #[test]
    fn an_open_course_admits_anyone_even_with_an_empty_record() {
        let rule = Eligibility::default();
        assert_eq!(
            rule.check(person(None, None, None), d(2026)),
            Verdict::Eligible
        );
    }

    #[test]
    fn age_from_the_birth_year_is_the_age_reached_that_year() {
        let rule = over(65);
        assert_eq!(
            rule.check(person(Some(1961), None, None), d(2026)),
            Verdict::Eligible
        );
        assert!(matches!(
            rule.check(person(Some(1962), None, None), d(2026)),
            Verdict::Ineligible(r) if r.contains("64 in 2026")
        ));
        // The same resident is admitted to next year's sessions.
        assert_eq!(
            rule.check(person(Some(1962), None, None), d(2027)),
            Verdict::Eligible
        );
    }

    #[test]
    fn an_age_band_decides_only_when_the_whole_band_is_in_or_out() {
        let rule = over(65);
        assert_eq!(
            rule.check(person(None, Some("70s"), None), d(2026)),
            Verdict::Eligible
        );
        assert!(matches!(
            rule.check(person(None, Some("under_60"), None), d(2026)),
            Verdict::Ineligible(_)
        ));
        assert!(matches!(
            rule.check(person(None, Some("60s"), None), d(2026)),
            Verdict::Unknown(m, _) if m == vec!["birth_year"]
        ));
    }

    #[test]
    fn a_missing_birth_year_and_district_are_asked_for() {
        let rule = Eligibility {
            min_age: Some(55),
            max_age: None,
            districts: vec!["留萌".into()],
        };
        match rule.check(person(None, None, None), d(2026)) {
            Verdict::Unknown(missing, why) => {
                assert_eq!(missing, vec!["birth_year", "district"]);
                assert!(why.contains("birth_year and district"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn districts_and_maximum_age_refuse_with_the_reason() {
        let rule = Eligibility {
            min_age: None,
            max_age: Some(80),
            districts: vec!["本町".into(), "港町".into()],
        };
        assert_eq!(
            rule.check(person(Some(1950), None, Some("港町")), d(2026)),
            Verdict::Eligible
        );
        assert!(matches!(
            rule.check(person(Some(1950), None, Some("山手")), d(2026)),
            Verdict::Ineligible(r) if r.contains("山手")
        ));
        assert!(matches!(
            rule.check(person(Some(1940), None, Some("本町")), d(2026)),
            Verdict::Ineligible(r) if r.contains("86 in 2026")
        ));
    }

    #[test]
    fn a_rule_is_checked_when_set() {
        let mut v = Checker::new();
        let parsed = Eligibility {
            min_age: Some(70),
            max_age: Some(60),
            districts: vec![" 本町 ".into(), "本町".into(), "".into()],
        }
        .parse(&mut v);
        assert_eq!(parsed.districts, vec!["本町".to_owned()]);
        assert!(v.finish().is_err());
    }
}
