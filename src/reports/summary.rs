//! The organisation's report for a period, computed from the facts the
//! queries load: pure, so its arithmetic is unit-tested and every number
//! can be traced back to a list.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{CourseId, ResidentId, SessionId, VenueId};

/// One session in the period.
#[derive(Debug, Clone)]
pub struct SessionFact {
    pub id: SessionId,
    pub course: CourseId,
    pub venue: VenueId,
    pub starts_at: NaiveDateTime,
    /// Local date of the session (ages are counted on it).
    pub local_date: NaiveDate,
    pub cancelled: bool,
    pub capacity: i32,
}

/// One booking of a session in the period.
#[derive(Debug, Clone)]
pub struct BookingFact {
    pub session: SessionId,
    pub resident: ResidentId,
    /// `confirmed`, `waitlisted` or `cancelled`.
    pub status: String,
    pub channel: String,
    /// `present`, `late`, `absent`, `no_show` or none.
    pub attendance: Option<String>,
    /// The age band at the session, kept when the person was erased.
    pub age_band: Option<String>,
}

/// What the report needs of a participant.
#[derive(Debug, Clone, Default)]
pub struct PersonFact {
    pub birth_year: Option<i32>,
    pub age_band: Option<String>,
    pub district: Option<String>,
}

/// A month of the period.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct MonthLine {
    /// `YYYY-MM`
    pub month: String,
    pub sessions_held: i64,
    /// People who attended that month (each once).
    pub participants: i64,
    pub attendances: i64,
    pub attendance_rate: Option<f64>,
}

/// One consultation taken in the period.
#[derive(Debug, Clone)]
pub struct TicketFact {
    pub channel: String,
    pub category: String,
    pub venue: Option<VenueId>,
    pub status: String,
    pub on_the_spot: bool,
    pub first_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
}

/// Everything loaded for a period.
#[derive(Debug, Default)]
pub struct Facts {
    pub now: NaiveDateTime,
    pub sessions: Vec<SessionFact>,
    pub bookings: Vec<BookingFact>,
    pub people: HashMap<ResidentId, PersonFact>,
    /// Participants who attended something before the period.
    pub attended_before: HashSet<ResidentId>,
    pub course_names: HashMap<CourseId, String>,
    pub venue_names: HashMap<VenueId, String>,
    /// The topics of each course: (code, label).
    pub course_topics: HashMap<CourseId, Vec<(String, String)>>,
    pub loans_lent: i64,
    pub loans_overdue: i64,
    pub fees_collected_yen: i64,
    pub fees_refunded_yen: i64,
    pub tickets: Vec<TicketFact>,
}

/// A line of a per-course, per-topic or per-venue table.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq)]
pub struct Line {
    /// Course or venue id, or topic code.
    pub key: String,
    pub name: String,
    pub sessions_held: i64,
    pub seats_offered: i64,
    pub seats_taken: i64,
    pub attendances: i64,
    pub participants: i64,
    pub no_shows: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Consultations {
    pub total: i64,
    pub by_channel: BTreeMap<String, i64>,
    pub by_category: BTreeMap<String, i64>,
    /// By venue name (`会場なし` for tickets taken at no venue).
    pub by_venue: BTreeMap<String, i64>,
    /// `resolved` (resolved or closed), `cancelled`, `open`.
    pub by_outcome: BTreeMap<String, i64>,
    pub resolved_on_the_spot: i64,
    /// Share of all consultations resolved on the spot (0–1).
    pub resolved_on_the_spot_share: Option<f64>,
    /// Median business minutes from intake to the first response.
    pub median_first_response_minutes: Option<f64>,
    /// Median business minutes from intake to resolution.
    pub median_resolution_minutes: Option<f64>,
}

/// The organisation's figures for a period (local dates, inclusive).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Summary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Sessions in the period that took place (not cancelled, started).
    pub sessions_held: i64,
    pub sessions_cancelled: i64,
    /// Sessions in the period still to come.
    pub sessions_upcoming: i64,
    /// Seats of the sessions held.
    pub seats_offered: i64,
    /// Confirmed bookings of the sessions held.
    pub seats_taken: i64,
    /// Confirmed bookings of the period's sessions (held or to come).
    pub bookings: i64,
    pub bookings_by_channel: BTreeMap<String, i64>,
    pub bookings_cancelled: i64,
    pub bookings_waitlisted: i64,
    /// People who attended (present or late) at least once.
    pub participants: i64,
    /// Participants whose first attendance ever is in the period.
    pub first_time_participants: i64,
    /// Attendances (present or late).
    pub attendances: i64,
    /// Attendances over marked bookings (attended, absent, no-show).
    pub attendance_rate: Option<f64>,
    pub no_shows: i64,
    /// Absences announced beforehand.
    pub absences: i64,
    /// Participants by age band at their last session in the period
    /// (`under_60`, `60s`, `70s`, `80s`, `90_plus`, `unknown`).
    pub participants_by_age_band: BTreeMap<String, i64>,
    /// Participants by district (`unknown` when not recorded).
    pub participants_by_district: BTreeMap<String, i64>,
    pub by_course: Vec<Line>,
    pub by_topic: Vec<Line>,
    pub by_venue: Vec<Line>,
    /// Month by month (of the sessions' local dates).
    pub by_month: Vec<MonthLine>,
    /// Devices lent in the period.
    pub loaners_lent: i64,
    /// Of those, returned late or still out after they were due.
    pub loaners_overdue: i64,
    pub fees_collected_yen: i64,
    pub fees_refunded_yen: i64,
    pub fees_net_yen: i64,
    /// Consultations taken in the period.
    pub consultations: Consultations,
}

/// The band of an age (age reached in the year of `on`).
pub fn age_band(birth_year: i32, on: NaiveDate) -> &'static str {
    match on.year() - birth_year {
        ..=59 => "under_60",
        60..=69 => "60s",
        70..=79 => "70s",
        80..=89 => "80s",
        _ => "90_plus",
    }
}

fn attended(a: Option<&str>) -> bool {
    matches!(a, Some("present" | "late"))
}

fn median(values: Vec<i64>) -> Option<f64> {
    crate::tickets::stats::median(values)
}

#[derive(Default)]
struct Acc {
    held: i64,
    offered: i64,
    taken: i64,
    attendances: i64,
    no_shows: i64,
    people: HashSet<ResidentId>,
}

impl Acc {
    fn line(&self, key: String, name: String) -> Line {
        Line {
            key,
            name,
            sessions_held: self.held,
            seats_offered: self.offered,
            seats_taken: self.taken,
            attendances: self.attendances,
            participants: self.people.len() as i64,
            no_shows: self.no_shows,
        }
    }
}

pub fn compute(from: NaiveDate, to: NaiveDate, f: &Facts) -> Summary {
    let sessions: HashMap<SessionId, &SessionFact> = f.sessions.iter().map(|s| (s.id, s)).collect();
    let is_held = |s: &SessionFact| !s.cancelled && s.starts_at <= f.now;
    let mut by_course: BTreeMap<CourseId, Acc> = BTreeMap::new();
    let mut by_venue: BTreeMap<VenueId, Acc> = BTreeMap::new();
    let mut by_topic: BTreeMap<String, (String, Acc)> = BTreeMap::new();
    let (mut held, mut cancelled, mut upcoming, mut offered) = (0, 0, 0, 0i64);
    for s in &f.sessions {
        if s.cancelled {
            cancelled += 1;
        } else if is_held(s) {
            held += 1;
            offered += i64::from(s.capacity);
            for acc in [
                by_course.entry(s.course).or_default(),
                by_venue.entry(s.venue).or_default(),
            ] {
                acc.held += 1;
                acc.offered += i64::from(s.capacity);
            }
            for (code, label) in f.course_topics.get(&s.course).into_iter().flatten() {
                let t = by_topic
                    .entry(code.clone())
                    .or_insert_with(|| (label.clone(), Acc::default()));
                t.1.held += 1;
                t.1.offered += i64::from(s.capacity);
            }
        } else {
            upcoming += 1;
        }
    }
    let mut out = Summary {
        from,
        to,
        sessions_held: held,
        sessions_cancelled: cancelled,
        sessions_upcoming: upcoming,
        seats_offered: offered,
        seats_taken: 0,
        bookings: 0,
        bookings_by_channel: BTreeMap::new(),
        bookings_cancelled: 0,
        bookings_waitlisted: 0,
        participants: 0,
        first_time_participants: 0,
        attendances: 0,
        attendance_rate: None,
        no_shows: 0,
        absences: 0,
        participants_by_age_band: BTreeMap::new(),
        participants_by_district: BTreeMap::new(),
        by_course: Vec::new(),
        by_topic: Vec::new(),
        by_venue: Vec::new(),
        by_month: Vec::new(),
        loaners_lent: f.loans_lent,
        loaners_overdue: f.loans_overdue,
        fees_collected_yen: f.fees_collected_yen,
        fees_refunded_yen: f.fees_refunded_yen,
        fees_net_yen: f.fees_collected_yen - f.fees_refunded_yen,
        consultations: consultations(f),
    };
    // Each participant's band at their last attended session of the period.
    let mut last: HashMap<ResidentId, (NaiveDateTime, Option<String>, NaiveDate)> = HashMap::new();
    // Month → (held, people, attendances, marked).
    let mut months: BTreeMap<String, (i64, HashSet<ResidentId>, i64, i64)> = BTreeMap::new();
    let month_of = |d: NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    let mut d = NaiveDate::from_ymd_opt(from.year(), from.month(), 1).unwrap_or(from);
    while d <= to {
        months.entry(month_of(d)).or_default();
        d = d
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(to + chrono::Duration::days(1));
    }
    for s in f.sessions.iter().filter(|s| is_held(s)) {
        months.entry(month_of(s.local_date)).or_default().0 += 1;
    }
    let mut marked = 0i64;
    for b in &f.bookings {
        let Some(s) = sessions.get(&b.session) else {
            continue;
        };
        match b.status.as_str() {
            "cancelled" => {
                out.bookings_cancelled += 1;
                continue;
            }
            // A held offer is a waiting resident until they answer.
            "waitlisted" | "offered" => {
                out.bookings_waitlisted += 1;
                continue;
            }
            // An application before its draw is not a booking yet.
            "applied" => continue,
            _ => {}
        }
        if s.cancelled {
            continue;
        }
        out.bookings += 1;
        *out.bookings_by_channel
            .entry(b.channel.clone())
            .or_default() += 1;
        if !is_held(s) {
            continue;
        }
        out.seats_taken += 1;
        let came = attended(b.attendance.as_deref());
        let no_show = b.attendance.as_deref() == Some("no_show");
        let month = months.entry(month_of(s.local_date)).or_default();
        if came {
            month.1.insert(b.resident);
            month.2 += 1;
        }
        if b.attendance.is_some() {
            month.3 += 1;
        }
        if came {
            out.attendances += 1;
            let seen =
                last.entry(b.resident)
                    .or_insert((s.starts_at, b.age_band.clone(), s.local_date));
            if s.starts_at >= seen.0 {
                *seen = (s.starts_at, b.age_band.clone(), s.local_date);
            }
        }
        if no_show {
            out.no_shows += 1;
        }
        if b.attendance.as_deref() == Some("absent") {
            out.absences += 1;
        }
        if b.attendance.is_some() {
            marked += 1;
        }
        let mut accs: Vec<&mut Acc> = vec![by_course.entry(s.course).or_default()];
        accs.push(by_venue.entry(s.venue).or_default());
        for acc in accs {
            acc.taken += 1;
            if came {
                acc.attendances += 1;
                acc.people.insert(b.resident);
            }
            if no_show {
                acc.no_shows += 1;
            }
        }
        for (code, label) in f.course_topics.get(&s.course).into_iter().flatten() {
            let t = by_topic
                .entry(code.clone())
                .or_insert_with(|| (label.clone(), Acc::default()));
            t.1.taken += 1;
            if came {
                t.1.attendances += 1;
                t.1.people.insert(b.resident);
            }
            if no_show {
                t.1.no_shows += 1;
            }
        }
    }
    out.attendance_rate = (marked > 0).then(|| out.attendances as f64 / marked as f64);
    out.by_month = months
        .into_iter()
        .map(|(month, (held, people, came, marked))| MonthLine {
            month,
            sessions_held: held,
            participants: people.len() as i64,
            attendances: came,
            attendance_rate: (marked > 0).then(|| came as f64 / marked as f64),
        })
        .collect();
    out.participants = last.len() as i64;
    out.first_time_participants = last
        .keys()
        .filter(|r| !f.attended_before.contains(r))
        .count() as i64;
    for (resident, (_, kept_band, on)) in &last {
        let person = f.people.get(resident).cloned().unwrap_or_default();
        let band = match (person.birth_year, kept_band, &person.age_band) {
            (Some(year), _, _) => age_band(year, *on).to_owned(),
            (None, Some(kept), _) => kept.clone(),
            (None, None, Some(recorded)) => recorded.clone(),
            (None, None, None) => "unknown".to_owned(),
        };
        *out.participants_by_age_band.entry(band).or_default() += 1;
        let district = person.district.unwrap_or_else(|| "unknown".into());
        *out.participants_by_district.entry(district).or_default() += 1;
    }
    fn name<K: std::hash::Hash + Eq>(m: &HashMap<K, String>, k: &K) -> String {
        m.get(k).cloned().unwrap_or_default()
    }
    out.by_course = by_course
        .iter()
        .map(|(id, a)| a.line(id.to_string(), name(&f.course_names, id)))
        .collect();
    out.by_venue = by_venue
        .iter()
        .map(|(id, a)| a.line(id.to_string(), name(&f.venue_names, id)))
        .collect();
    out.by_topic = by_topic
        .into_iter()
        .map(|(code, (label, a))| a.line(code, label))
        .collect();
    for lines in [&mut out.by_course, &mut out.by_venue] {
        lines.sort_by(|a, b| a.name.cmp(&b.name).then(a.key.cmp(&b.key)));
    }
    out
}

fn consultations(f: &Facts) -> Consultations {
    let mut c = Consultations {
        total: f.tickets.len() as i64,
        by_channel: BTreeMap::new(),
        by_category: BTreeMap::new(),
        by_venue: BTreeMap::new(),
        by_outcome: BTreeMap::new(),
        resolved_on_the_spot: 0,
        resolved_on_the_spot_share: None,
        median_first_response_minutes: median(
            f.tickets
                .iter()
                .filter_map(|t| t.first_response_minutes)
                .collect(),
        ),
        median_resolution_minutes: median(
            f.tickets
                .iter()
                .filter_map(|t| t.resolution_minutes)
                .collect(),
        ),
    };
    for t in &f.tickets {
        *c.by_channel.entry(t.channel.clone()).or_default() += 1;
        *c.by_category.entry(t.category.clone()).or_default() += 1;
        let venue = t
            .venue
            .and_then(|v| f.venue_names.get(&v).cloned())
            .unwrap_or_else(|| "会場なし".into());
        *c.by_venue.entry(venue).or_default() += 1;
        let outcome = match t.status.as_str() {
            "resolved" | "closed" => "resolved",
            "cancelled" => "cancelled",
            _ => "open",
        };
        *c.by_outcome.entry(outcome.to_owned()).or_default() += 1;
        if t.on_the_spot {
            c.resolved_on_the_spot += 1;
        }
    }
    c.resolved_on_the_spot_share =
        (c.total > 0).then(|| c.resolved_on_the_spot as f64 / c.total as f64);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn ages_fall_in_the_band_reached_that_year() {
        assert_eq!(age_band(1960, day("2026-01-05")), "60s");
        assert_eq!(age_band(1957, day("2026-01-05")), "60s");
        assert_eq!(age_band(1956, day("2026-01-05")), "70s");
        assert_eq!(age_band(1930, day("2026-01-05")), "90_plus");
        assert_eq!(age_band(1990, day("2026-01-05")), "under_60");
    }

    fn session(n: u128, course: u128, held: bool, cancelled: bool) -> SessionFact {
        SessionFact {
            id: SessionId(uuid::Uuid::from_u128(n)),
            course: CourseId(uuid::Uuid::from_u128(course)),
            venue: VenueId(uuid::Uuid::from_u128(99)),
            starts_at: if held {
                day("2026-01-10")
            } else {
                day("2026-03-10")
            }
            .and_hms_opt(5, 0, 0)
            .unwrap(),
            local_date: day("2026-01-10"),
            cancelled,
            capacity: 10,
        }
    }

    fn booking(session: u128, who: u128, status: &str, attendance: Option<&str>) -> BookingFact {
        BookingFact {
            session: SessionId(uuid::Uuid::from_u128(session)),
            resident: ResidentId(uuid::Uuid::from_u128(who)),
            status: status.into(),
            channel: "phone".into(),
            attendance: attendance.map(str::to_owned),
            age_band: None,
        }
    }

    #[test]
    fn held_sessions_seats_and_attendance_add_up() {
        let mut f = Facts {
            now: day("2026-02-01").and_hms_opt(0, 0, 0).unwrap(),
            ..Default::default()
        };
        f.sessions = vec![
            session(1, 7, true, false),
            session(2, 7, true, true),
            session(3, 7, false, false),
        ];
        f.bookings = vec![
            booking(1, 10, "confirmed", Some("present")),
            booking(1, 11, "confirmed", Some("late")),
            booking(1, 12, "confirmed", Some("no_show")),
            booking(1, 13, "confirmed", Some("absent")),
            booking(1, 14, "cancelled", None),
            booking(1, 15, "waitlisted", None),
            booking(3, 10, "confirmed", None),
        ];
        f.people.insert(
            ResidentId(uuid::Uuid::from_u128(10)),
            PersonFact {
                birth_year: Some(1950),
                age_band: None,
                district: Some("北区".into()),
            },
        );
        f.attended_before
            .insert(ResidentId(uuid::Uuid::from_u128(11)));
        let s = compute(day("2026-01-01"), day("2026-03-31"), &f);
        assert_eq!(
            (s.sessions_held, s.sessions_cancelled, s.sessions_upcoming),
            (1, 1, 1)
        );
        assert_eq!((s.seats_offered, s.seats_taken, s.bookings), (10, 4, 5));
        assert_eq!((s.bookings_cancelled, s.bookings_waitlisted), (1, 1));
        assert_eq!(
            (s.participants, s.first_time_participants, s.attendances),
            (2, 1, 2)
        );
        assert_eq!((s.no_shows, s.absences), (1, 1));
        assert_eq!(s.attendance_rate, Some(0.5));
        assert_eq!(s.participants_by_age_band["70s"], 1);
        assert_eq!(s.participants_by_age_band["unknown"], 1);
        assert_eq!(s.participants_by_district["北区"], 1);
        assert_eq!(s.by_course.len(), 1);
        assert_eq!(s.by_course[0].participants, 2);
        assert_eq!(s.by_course[0].seats_taken, 4);
    }

    #[test]
    fn a_band_kept_at_erasure_counts_as_the_birth_year_did() {
        let mut f = Facts {
            now: day("2026-02-01").and_hms_opt(0, 0, 0).unwrap(),
            ..Default::default()
        };
        f.sessions = vec![session(1, 7, true, false)];
        f.bookings = vec![booking(1, 10, "confirmed", Some("present"))];
        let who = ResidentId(uuid::Uuid::from_u128(10));
        f.people.insert(
            who,
            PersonFact {
                birth_year: Some(1956),
                ..Default::default()
            },
        );
        let before = compute(day("2026-01-01"), day("2026-01-31"), &f);
        f.people.insert(who, PersonFact::default());
        f.bookings[0].age_band = Some(age_band(1956, day("2026-01-10")).to_owned());
        let after = compute(day("2026-01-01"), day("2026-01-31"), &f);
        assert_eq!(before, after);
    }

    #[test]
    fn applications_are_not_bookings_and_held_offers_wait() {
        let mut f = Facts {
            now: day("2026-02-01").and_hms_opt(0, 0, 0).unwrap(),
            ..Default::default()
        };
        f.sessions = vec![session(1, 7, true, false)];
        f.bookings = vec![
            booking(1, 10, "confirmed", Some("present")),
            booking(1, 11, "applied", None),
            booking(1, 12, "offered", None),
        ];
        let s = compute(day("2026-01-01"), day("2026-01-31"), &f);
        assert_eq!(s.bookings, 1);
        assert_eq!(s.bookings_waitlisted, 1);
    }
}
