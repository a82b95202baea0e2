//! How a session's seats are given out: first come (as booked), or by a
//! lottery (抽選) after an application period; and whether a freed seat is
//! offered to the first waiting resident for some hours instead of given at
//! once. A series carries the rules for the sessions it stores; a one-off
//! session carries its own. The draw itself and the offers live with the
//! bookings (`bookings::lottery`, `bookings::offers`).

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

use crate::validate::Checker;

crate::db::text_enum::text_enum! {
    /// `first_come`: bookings take seats as they arrive. `lottery`:
    /// applications until `applications_close_at`, a draw at `draw_at`.
    pub enum Allocation {
        FirstCome = "first_come",
        Lottery = "lottery",
    }
}

/// The longest an offer may be held: 30 days.
pub const MAX_OFFER_HOURS: i64 = 720;

/// A session's (or series') allocation rules, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub allocation: Allocation,
    pub applications_close_at: Option<NaiveDateTime>,
    pub draw_at: Option<NaiveDateTime>,
    /// Hold a freed seat for the first waiting resident this long; `None`:
    /// promote at once.
    pub offer_hours: Option<i32>,
    /// Residents who never attended a class of the course are drawn first.
    pub first_timers_first: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            allocation: Allocation::FirstCome,
            applications_close_at: None,
            draw_at: None,
            offer_hours: None,
            first_timers_first: false,
        }
    }
}

/// Changes to the rules a request carries; absent fields keep what is
/// stored, `null` clears.
#[derive(Debug, Default, Clone)]
pub struct RulesInput {
    pub allocation: Option<Allocation>,
    pub applications_close_at: Option<Option<DateTime<FixedOffset>>>,
    pub draw_at: Option<Option<DateTime<FixedOffset>>>,
    pub offer_hours: Option<Option<i64>>,
    pub first_timers_first: Option<bool>,
}

impl RulesInput {
    pub fn is_empty(&self) -> bool {
        self.allocation.is_none()
            && self.applications_close_at.is_none()
            && self.draw_at.is_none()
            && self.offer_hours.is_none()
            && self.first_timers_first.is_none()
    }
}

fn utc(t: DateTime<FixedOffset>) -> NaiveDateTime {
    t.with_timezone(&Utc).naive_utc()
}

impl Rules {
    pub fn is_lottery(&self) -> bool {
        self.allocation == Allocation::Lottery
    }

    /// The rules after `input`, checked: a lottery needs `draw_at`, its
    /// applications close no later than the draw (by default at the draw),
    /// and first-come sessions have neither. Problems go to `v` by field.
    pub fn apply(self, input: &RulesInput, v: &mut Checker) -> Rules {
        let mut r = self;
        if let Some(a) = input.allocation {
            r.allocation = a;
        }
        if let Some(t) = input.applications_close_at {
            r.applications_close_at = t.map(utc);
        }
        if let Some(t) = input.draw_at {
            r.draw_at = t.map(utc);
        }
        if let Some(h) = input.offer_hours {
            r.offer_hours = h.map(|h| {
                v.check(
                    "offer_hours",
                    if (1..=MAX_OFFER_HOURS).contains(&h) {
                        Ok(h as i32)
                    } else {
                        Err(format!(
                            "must be between 1 and {MAX_OFFER_HOURS} hours, or null to promote at once"
                        ))
                    },
                )
            });
        }
        if let Some(f) = input.first_timers_first {
            r.first_timers_first = f;
        }
        match r.allocation {
            Allocation::FirstCome => {
                if input.allocation.is_none()
                    && (r.draw_at.is_some() || r.applications_close_at.is_some())
                {
                    v.fail(
                        "allocation",
                        "draw_at and applications_close_at are for \"allocation\": \"lottery\"",
                    );
                }
                r.applications_close_at = None;
                r.draw_at = None;
                r.first_timers_first = false;
            }
            Allocation::Lottery => match r.draw_at {
                None => v.fail("draw_at", "a lottery needs the time of its draw"),
                Some(draw) => {
                    let close = *r.applications_close_at.get_or_insert(draw);
                    if close > draw {
                        v.fail(
                            "applications_close_at",
                            "applications must close no later than the draw",
                        );
                    }
                }
            },
        }
        r
    }

    /// The rules a session starting at `starts_at` gets from its series,
    /// stored at `now`: a lottery only for sessions that start after the
    /// draw and whose draw is still to come; the others are first come.
    pub fn for_session(self, starts_at: NaiveDateTime, now: NaiveDateTime) -> Rules {
        match self.draw_at {
            Some(draw) if self.is_lottery() && draw < starts_at && draw > now => self,
            _ => Rules {
                allocation: Allocation::FirstCome,
                applications_close_at: None,
                draw_at: None,
                first_timers_first: false,
                ..self
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn lottery(draw: &str) -> RulesInput {
        RulesInput {
            allocation: Some(Allocation::Lottery),
            draw_at: Some(Some(at(draw))),
            ..Default::default()
        }
    }

    #[test]
    fn applications_close_at_the_draw_unless_said() {
        let mut v = Checker::new();
        let r = Rules::default().apply(&lottery("2027-03-20T10:00:00+09:00"), &mut v);
        assert!(v.finish().is_ok());
        assert_eq!(r.applications_close_at, r.draw_at);
        assert_eq!(
            r.draw_at.unwrap().to_string(),
            "2027-03-20 01:00:00",
            "stored in UTC"
        );
    }

    #[test]
    fn a_lottery_needs_a_draw_and_closes_before_it() {
        let mut v = Checker::new();
        Rules::default().apply(
            &RulesInput {
                allocation: Some(Allocation::Lottery),
                ..Default::default()
            },
            &mut v,
        );
        assert!(v.finish().is_err());
        let mut v = Checker::new();
        let mut input = lottery("2027-03-20T10:00:00+09:00");
        input.applications_close_at = Some(Some(at("2027-03-21T10:00:00+09:00")));
        Rules::default().apply(&input, &mut v);
        assert!(v.finish().is_err());
    }

    #[test]
    fn offers_are_held_between_an_hour_and_thirty_days() {
        for (hours, ok) in [(0, false), (1, true), (24, true), (720, true), (721, false)] {
            let mut v = Checker::new();
            let r = Rules::default().apply(
                &RulesInput {
                    offer_hours: Some(Some(hours)),
                    ..Default::default()
                },
                &mut v,
            );
            assert_eq!(v.finish().is_ok(), ok, "{hours}");
            if ok {
                assert_eq!(r.offer_hours, Some(hours as i32));
            }
        }
    }

    #[test]
    fn going_back_to_first_come_forgets_the_draw() {
        let mut v = Checker::new();
        let r = Rules::default().apply(&lottery("2027-03-20T10:00:00+09:00"), &mut v);
        let r = r.apply(
            &RulesInput {
                allocation: Some(Allocation::FirstCome),
                ..Default::default()
            },
            &mut v,
        );
        assert!(v.finish().is_ok());
        assert_eq!(r.draw_at, None);
        assert!(!r.is_lottery());
    }

    #[test]
    fn series_sessions_before_the_draw_or_stored_after_it_are_first_come() {
        let mut v = Checker::new();
        let r = Rules::default().apply(&lottery("2027-03-20T10:00:00+09:00"), &mut v);
        let draw = r.draw_at.unwrap();
        let day = chrono::Duration::days(1);
        assert!(r.for_session(draw + day, draw - day).is_lottery());
        assert!(!r.for_session(draw - day, draw - day * 2).is_lottery());
        assert!(!r.for_session(draw + day * 7, draw + day).is_lottery());
    }
}
