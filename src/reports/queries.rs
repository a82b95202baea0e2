//! Loads the facts a report is computed from: one read per kind of record,
//! the organisation's rows of the period only, narrow columns.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::summary::{BookingFact, Facts, PersonFact, SessionFact, TicketFact};
use crate::db::schema::{
    bookings, course_topics, courses, devices, loans, payments, residents, sessions, tickets,
    topics, venues,
};
use crate::db::{CourseId, DbConnection, OrganisationId, ResidentId, SessionId, VenueId};
use crate::error::AppResult;

/// What a report is limited to (all optional).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub venue: Option<VenueId>,
    pub course: Option<CourseId>,
    /// A topic code: sessions of courses tagged with it.
    pub topic: Option<String>,
}

/// The period as UTC instants: [start, end).
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub tz: chrono_tz::Tz,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate, tz: chrono_tz::Tz) -> Period {
        let at = |d: NaiveDate| {
            crate::calendar::to_utc(&tz, d.and_time(chrono::NaiveTime::MIN)).naive_utc()
        };
        Period {
            from,
            to,
            start: at(from),
            end: at(to + chrono::Duration::days(1)),
            tz,
        }
    }
}

/// (session, resident, status, channel, attendance, kept age band)
type BookingLine = (
    SessionId,
    ResidentId,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// (resident, birth year, age band, district)
type PersonLine = (ResidentId, Option<i32>, Option<String>, Option<String>);

pub fn load(
    conn: &mut DbConnection,
    org: OrganisationId,
    period: &Period,
    scope: &Scope,
) -> AppResult<Facts> {
    let mut f = Facts {
        now: chrono::Utc::now().naive_utc(),
        ..Default::default()
    };
    // Courses in scope (by topic).
    let topic_courses: Option<Vec<CourseId>> = match &scope.topic {
        Some(code) => Some(
            course_topics::table
                .inner_join(courses::table)
                .filter(courses::organisation_id.eq(org))
                .filter(course_topics::topic_code.eq(code))
                .select(course_topics::course_id)
                .load(conn)?,
        ),
        None => None,
    };
    let mut q = sessions::table
        .filter(sessions::organisation_id.eq(org))
        .filter(sessions::starts_at.ge(period.start))
        .filter(sessions::starts_at.lt(period.end))
        .select((
            sessions::id,
            sessions::course_id,
            sessions::venue_id,
            sessions::starts_at,
            sessions::status,
            sessions::capacity,
        ))
        .into_boxed();
    if let Some(v) = scope.venue {
        q = q.filter(sessions::venue_id.eq(v));
    }
    if let Some(c) = scope.course {
        q = q.filter(sessions::course_id.eq(c));
    }
    if let Some(ids) = &topic_courses {
        q = q.filter(sessions::course_id.eq_any(ids.clone()));
    }
    let rows: Vec<(SessionId, CourseId, VenueId, NaiveDateTime, String, i32)> = q.load(conn)?;
    f.sessions = rows
        .into_iter()
        .map(
            |(id, course, venue, starts_at, status, capacity)| SessionFact {
                id,
                course,
                venue,
                local_date: starts_at.and_utc().with_timezone(&period.tz).date_naive(),
                starts_at,
                cancelled: status == "cancelled",
                capacity,
            },
        )
        .collect();
    // The period's bookings in one read, joined to the same sessions.
    let mut bq = bookings::table
        .inner_join(sessions::table)
        .filter(sessions::organisation_id.eq(org))
        .filter(sessions::starts_at.ge(period.start))
        .filter(sessions::starts_at.lt(period.end))
        .select((
            bookings::session_id,
            bookings::resident_id,
            bookings::status,
            bookings::channel,
            bookings::attendance,
            bookings::age_band,
        ))
        .into_boxed();
    if let Some(v) = scope.venue {
        bq = bq.filter(sessions::venue_id.eq(v));
    }
    if let Some(c) = scope.course {
        bq = bq.filter(sessions::course_id.eq(c));
    }
    if let Some(ids) = &topic_courses {
        bq = bq.filter(sessions::course_id.eq_any(ids.clone()));
    }
    let rows: Vec<BookingLine> = bq.load(conn)?;
    f.bookings = rows
        .into_iter()
        .map(
            |(session, resident, status, channel, attendance, age_band)| BookingFact {
                session,
                resident,
                status,
                channel,
                attendance,
                age_band,
            },
        )
        .collect();
    // The participants: who they are (coarsely) and whether they came before.
    let participants: HashSet<ResidentId> = f
        .bookings
        .iter()
        .filter(|b| matches!(b.attendance.as_deref(), Some("present" | "late")))
        .map(|b| b.resident)
        .collect();
    if !participants.is_empty() {
        let people: Vec<PersonLine> = residents::table
            .filter(residents::organisation_id.eq(org))
            .select((
                residents::id,
                residents::birth_year,
                residents::age_band,
                residents::district,
            ))
            .load(conn)?;
        for (id, birth_year, age_band, district) in people {
            if participants.contains(&id) {
                f.people.insert(
                    id,
                    PersonFact {
                        birth_year,
                        age_band,
                        district,
                    },
                );
            }
        }
        let before: Vec<ResidentId> = bookings::table
            .inner_join(sessions::table)
            .filter(sessions::organisation_id.eq(org))
            .filter(sessions::starts_at.lt(period.start))
            .filter(bookings::attendance.eq_any(["present", "late"]))
            .select(bookings::resident_id)
            .distinct()
            .load(conn)?;
        f.attended_before
            .extend(before.into_iter().filter(|r| participants.contains(r)));
    }
    f.course_names = courses::table
        .filter(courses::organisation_id.eq(org))
        .select((courses::id, courses::title))
        .load::<(CourseId, String)>(conn)?
        .into_iter()
        .collect();
    f.venue_names = venues::table
        .filter(venues::organisation_id.eq(org))
        .select((venues::id, venues::name))
        .load::<(VenueId, String)>(conn)?
        .into_iter()
        .collect();
    let tagged: Vec<(CourseId, String, String)> = course_topics::table
        .inner_join(courses::table)
        .inner_join(topics::table.on(topics::code.eq(course_topics::topic_code)))
        .filter(courses::organisation_id.eq(org))
        .filter(
            topics::organisation_id
                .is_null()
                .or(topics::organisation_id.eq(org)),
        )
        .select((course_topics::course_id, topics::code, topics::label))
        .load(conn)?;
    let mut course_topics: HashMap<CourseId, Vec<(String, String)>> = HashMap::new();
    for (course, code, label) in tagged {
        course_topics.entry(course).or_default().push((code, label));
    }
    if let Some(code) = &scope.topic {
        // A topic report counts that topic's line only.
        for list in course_topics.values_mut() {
            list.retain(|(c, _)| c == code);
        }
    }
    f.course_topics = course_topics;
    // Loans lent in the period (of the venue's devices, for a venue report).
    let mut lq = loans::table
        .inner_join(devices::table)
        .filter(loans::organisation_id.eq(org))
        .filter(loans::lent_at.ge(period.start))
        .filter(loans::lent_at.lt(period.end))
        .select((loans::due_at, loans::returned_at))
        .into_boxed();
    if let Some(v) = scope.venue {
        lq = lq.filter(devices::home_venue_id.eq(v));
    }
    let lent: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = lq.load(conn)?;
    f.loans_lent = lent.len() as i64;
    f.loans_overdue = lent
        .iter()
        .filter(|(due, back)| back.map_or(f.now > *due, |b| b > *due))
        .count() as i64;
    // Money taken and refunded on the period's days.
    let mut pq = payments::table
        .filter(payments::organisation_id.eq(org))
        .filter(payments::local_date.ge(period.from))
        .filter(payments::local_date.le(period.to))
        .select((payments::kind, payments::amount_yen, payments::session_id))
        .into_boxed();
    if let Some(v) = scope.venue {
        pq = pq.filter(payments::venue_id.eq(v));
    }
    let paid: Vec<(String, i32, SessionId)> = pq.load(conn)?;
    let in_scope: Option<HashSet<SessionId>> = (scope.course.is_some() || scope.topic.is_some())
        .then(|| f.sessions.iter().map(|s| s.id).collect());
    for (kind, amount, session) in paid {
        if in_scope.as_ref().is_some_and(|s| !s.contains(&session)) {
            continue;
        }
        if kind == "refund" {
            f.fees_refunded_yen += i64::from(amount);
        } else {
            f.fees_collected_yen += i64::from(amount);
        }
    }
    // Consultations taken in the period (duplicates merged away not counted).
    if scope.course.is_none() && scope.topic.is_none() {
        let mut tq = tickets::table
            .filter(tickets::organisation_id.eq(org))
            .filter(tickets::received_at.ge(period.start))
            .filter(tickets::received_at.lt(period.end))
            .filter(tickets::merged_into.is_null())
            .select(crate::tickets::types::TicketRow::as_select())
            .into_boxed();
        if let Some(v) = scope.venue {
            tq = tq.filter(tickets::venue_id.eq(v));
        }
        let rows: Vec<crate::tickets::types::TicketRow> = tq.load(conn)?;
        let calendars = crate::tickets::sla::Calendars::of(conn, org, &rows)?;
        f.tickets = rows
            .iter()
            .map(|r| {
                let cal = calendars.of_ticket(r);
                let minutes = |t: NaiveDateTime| {
                    cal.business_minutes_between(r.received_at.and_utc(), t.and_utc())
                };
                TicketFact {
                    channel: r.channel.as_str().to_owned(),
                    category: r.category.clone(),
                    venue: r.venue_id,
                    status: r.status.as_str().to_owned(),
                    on_the_spot: r.resolved_at == Some(r.received_at),
                    first_response_minutes: r.first_response_at.map(minutes),
                    resolution_minutes: r.resolved_at.map(minutes),
                }
            })
            .collect();
    }
    Ok(f)
}
