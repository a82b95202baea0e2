//! Rows and answer shapes of the schedule: closures, series, sessions.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

pub use super::allocation::{Allocation, Rules, RulesInput};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{closures, series, sessions};
use crate::db::{AccountId, ClosureId, CourseId, OrganisationId, SeriesId, SessionId, VenueId};

crate::db::text_enum::text_enum! {
    /// Where a session stands.
    pub enum SessionStatus {
        Scheduled = "scheduled",
        Cancelled = "cancelled",
        Completed = "completed",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = closures)]
pub struct ClosureRow {
    pub id: ClosureId,
    pub organisation_id: OrganisationId,
    pub starts_local: NaiveDateTime,
    pub ends_local: NaiveDateTime,
    pub reason: String,
    pub created_at: NaiveDateTime,
    /// Only this venue is closed; `None`: the whole organisation.
    pub venue_id: Option<VenueId>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Closure {
    pub id: ClosureId,
    /// Local wall-clock start in the organisation's timezone, without a
    /// zone: `YYYY-MM-DDThh:mm:ss`.
    #[schema(value_type = String, pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", example = "2026-12-29T00:00:00")]
    pub starts_local: NaiveDateTime,
    /// Local wall-clock end (exclusive), without a zone.
    #[schema(value_type = String, pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", example = "2027-01-04T00:00:00")]
    pub ends_local: NaiveDateTime,
    pub reason: String,
    /// Only this venue is closed; absent: the whole organisation.
    pub venue_id: Option<VenueId>,
}

impl From<ClosureRow> for Closure {
    fn from(r: ClosureRow) -> Self {
        Closure {
            venue_id: r.venue_id,
            id: r.id,
            starts_local: r.starts_local,
            ends_local: r.ends_local,
            reason: r.reason,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClosure {
    /// First closed day (local).
    pub start_date: NaiveDate,
    /// Last closed day (local, inclusive).
    pub end_date: NaiveDate,
    /// Closed from this time on the first day (default: all day).
    pub start_time: Option<NaiveTime>,
    /// Closed until this time on the last day (default: all day).
    pub end_time: Option<NaiveTime>,
    /// e.g. 年末年始, 館内点検
    pub reason: String,
    /// Close one venue only (its sessions, its desk's service levels);
    /// absent: the whole organisation.
    pub venue_id: Option<uuid::Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClosureCreated {
    pub closure: Closure,
    /// Sessions already scheduled inside the closure. They are not cancelled
    /// automatically (they may have bookings): cancel or move them.
    pub overlapping_sessions: Vec<Session>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClosureFilter {
    /// Closures ending on or after this local date.
    pub from: Option<NaiveDate>,
    /// Closures starting on or before this local date.
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = series)]
#[diesel(treat_none_as_null = true)]
pub struct SeriesRow {
    pub id: SeriesId,
    pub organisation_id: OrganisationId,
    pub course_id: CourseId,
    pub venue_id: VenueId,
    pub room: Option<String>,
    pub rrule: String,
    pub starts_on: NaiveDate,
    pub until_on: Option<NaiveDate>,
    pub occurrence_count: Option<i32>,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub capacity: i32,
    pub fee_yen: i32,
    pub loaner_fee_yen: i32,
    pub booking_opens_days_before: i32,
    pub booking_closes_minutes_before: i32,
    pub waitlist_enabled: bool,
    pub skip_public_holidays: bool,
    pub skip_closures: bool,
    pub materialized_until: NaiveDate,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub allocation: Allocation,
    pub applications_close_at: Option<NaiveDateTime>,
    pub draw_at: Option<NaiveDateTime>,
    pub offer_hours: Option<i32>,
    pub first_timers_first: bool,
}

impl SeriesRow {
    pub fn rules(&self) -> Rules {
        Rules {
            allocation: self.allocation,
            applications_close_at: self.applications_close_at,
            draw_at: self.draw_at,
            offer_hours: self.offer_hours,
            first_timers_first: self.first_timers_first,
        }
    }

    pub fn set_rules(&mut self, r: Rules) {
        self.allocation = r.allocation;
        self.applications_close_at = r.applications_close_at;
        self.draw_at = r.draw_at;
        self.offer_hours = r.offer_hours;
        self.first_timers_first = r.first_timers_first;
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Series {
    pub id: SeriesId,
    pub course_id: CourseId,
    pub venue_id: VenueId,
    pub room: Option<String>,
    /// RFC 5545 RRULE value, e.g. `FREQ=WEEKLY;BYDAY=TU`.
    pub rrule: String,
    pub starts_on: NaiveDate,
    pub until: Option<NaiveDate>,
    pub count: Option<i32>,
    /// Local start time, e.g. `14:00:00`.
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub timezone: String,
    pub capacity: i32,
    pub fee_yen: i32,
    pub loaner_fee_yen: i32,
    pub instructor_ids: Vec<AccountId>,
    pub booking_opens_days_before: i32,
    pub booking_closes_minutes_before: i32,
    pub waitlist_enabled: bool,
    pub exception_dates: Vec<NaiveDate>,
    pub skip_public_holidays: bool,
    pub skip_closures: bool,
    /// Sessions exist up to this local date; a background job extends it.
    pub materialized_until: NaiveDate,
    /// `first_come` or `lottery` (for its sessions that start after the draw).
    pub allocation: Allocation,
    pub applications_close_at: Option<DateTime<Utc>>,
    pub draw_at: Option<DateTime<Utc>>,
    /// A freed seat is held this many hours for the first waiting resident;
    /// `null`: promoted at once.
    pub offer_hours: Option<i32>,
    /// Residents who never attended this course are drawn first.
    pub first_timers_first: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Series {
    pub fn new(
        r: SeriesRow,
        timezone: &str,
        instructor_ids: Vec<AccountId>,
        exception_dates: Vec<NaiveDate>,
    ) -> Self {
        Series {
            id: r.id,
            course_id: r.course_id,
            venue_id: r.venue_id,
            room: r.room,
            rrule: r.rrule,
            starts_on: r.starts_on,
            until: r.until_on,
            count: r.occurrence_count,
            start_time: r.start_time,
            end_time: r.end_time,
            timezone: timezone.to_owned(),
            capacity: r.capacity,
            fee_yen: r.fee_yen,
            loaner_fee_yen: r.loaner_fee_yen,
            instructor_ids,
            booking_opens_days_before: r.booking_opens_days_before,
            booking_closes_minutes_before: r.booking_closes_minutes_before,
            waitlist_enabled: r.waitlist_enabled,
            exception_dates,
            skip_public_holidays: r.skip_public_holidays,
            skip_closures: r.skip_closures,
            materialized_until: r.materialized_until,
            allocation: r.allocation,
            applications_close_at: r.applications_close_at.map(|t| t.and_utc()),
            draw_at: r.draw_at.map(|t| t.and_utc()),
            offer_hours: r.offer_hours,
            first_timers_first: r.first_timers_first,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// Create a series; on update every field is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesInput {
    pub course_id: Option<uuid::Uuid>,
    pub venue_id: Option<uuid::Uuid>,
    pub room: Option<String>,
    /// RRULE value without DTSTART, UNTIL or COUNT, e.g. `FREQ=MONTHLY;BYDAY=2TH,4TH`.
    pub rrule: Option<String>,
    pub starts_on: Option<NaiveDate>,
    /// Last possible date (inclusive). `null` on update removes it.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub until: Option<Option<NaiveDate>>,
    /// Number of rule occurrences (before holidays and closures are skipped).
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub count: Option<Option<i64>>,
    pub start_time: Option<NaiveTime>,
    /// Default: start_time plus the course's default length.
    pub end_time: Option<NaiveTime>,
    /// Default: the venue's default capacity.
    pub capacity: Option<i64>,
    /// Default: the course's default fee.
    pub fee_yen: Option<i64>,
    pub loaner_fee_yen: Option<i64>,
    pub instructor_ids: Option<Vec<uuid::Uuid>>,
    /// Booking opens this many days before a session (default 30).
    pub booking_opens_days_before: Option<i64>,
    /// Booking closes this many minutes before a session (default 0).
    pub booking_closes_minutes_before: Option<i64>,
    pub waitlist_enabled: Option<bool>,
    pub exception_dates: Option<Vec<NaiveDate>>,
    /// Skip Japanese public holidays (default true).
    pub skip_public_holidays: Option<bool>,
    /// Skip the organisation's closures (default true).
    pub skip_closures: Option<bool>,
    /// `first_come` (default) or `lottery`.
    pub allocation: Option<Allocation>,
    /// When applications close (RFC 3339; default: at the draw).
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub applications_close_at: Option<Option<DateTime<FixedOffset>>>,
    /// When the lottery is drawn (RFC 3339); required for a lottery.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub draw_at: Option<Option<DateTime<FixedOffset>>>,
    /// Hold a freed seat this many hours (1–720) for the first waiting
    /// resident; `null`: promote at once (default).
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub offer_hours: Option<Option<i64>>,
    /// Draw residents who never attended the course first (default false).
    pub first_timers_first: Option<bool>,
}

macro_rules! rules_input {
    ($t:ty) => {
        impl $t {
            pub fn rules(&self) -> RulesInput {
                RulesInput {
                    allocation: self.allocation,
                    applications_close_at: self.applications_close_at,
                    draw_at: self.draw_at,
                    offer_hours: self.offer_hours,
                    first_timers_first: self.first_timers_first,
                }
            }
        }
    };
}
rules_input!(SeriesInput);
rules_input!(NewSession);
rules_input!(SetAllocation);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeriesFilter {
    pub venue_id: Option<uuid::Uuid>,
    pub course_id: Option<uuid::Uuid>,
    pub limit: Option<i64>,
    pub cursor: Option<uuid::Uuid>,
}

/// What an edit of a series did to its future sessions.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SyncReport {
    /// New sessions.
    pub added: Vec<SessionId>,
    /// Sessions changed to follow the series.
    pub updated: Vec<SessionId>,
    /// Sessions without bookings that no longer belong to the series: deleted.
    pub removed: Vec<SessionId>,
    /// Sessions left as they were, and why (they have bookings).
    pub kept: Vec<KeptSession>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeptSession {
    pub session_id: SessionId,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesSaved {
    pub series: Series,
    pub sessions: SyncReport,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: SessionId,
    pub organisation_id: OrganisationId,
    pub series_id: Option<SeriesId>,
    pub occurrence_date: Option<NaiveDate>,
    pub course_id: CourseId,
    pub venue_id: VenueId,
    pub room: Option<String>,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub capacity: i32,
    pub seats_taken: i32,
    pub waitlist_count: i32,
    pub status: SessionStatus,
    pub cancel_reason: Option<String>,
    pub fee_yen: i32,
    pub loaner_fee_yen: i32,
    pub booking_opens_at: Option<NaiveDateTime>,
    pub booking_closes_at: Option<NaiveDateTime>,
    pub waitlist_enabled: bool,
    pub detached: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Last waitlist sequence number handed out (orders the waitlist).
    pub waitlist_seq: i32,
    pub allocation: Allocation,
    pub applications_close_at: Option<NaiveDateTime>,
    pub draw_at: Option<NaiveDateTime>,
    pub offer_hours: Option<i32>,
    pub first_timers_first: bool,
    /// When the draw ran (set once, by the draw that claimed the session).
    pub drawn_at: Option<NaiveDateTime>,
    /// Applications waiting for the draw.
    pub applications_count: i32,
}

impl SessionRow {
    pub fn has_bookings(&self) -> bool {
        self.seats_taken > 0 || self.waitlist_count > 0 || self.applications_count > 0
    }

    pub fn rules(&self) -> Rules {
        Rules {
            allocation: self.allocation,
            applications_close_at: self.applications_close_at,
            draw_at: self.draw_at,
            offer_hours: self.offer_hours,
            first_timers_first: self.first_timers_first,
        }
    }

    pub fn set_rules(&mut self, r: Rules) {
        self.allocation = r.allocation;
        self.applications_close_at = r.applications_close_at;
        self.draw_at = r.draw_at;
        self.offer_hours = r.offer_hours;
        self.first_timers_first = r.first_timers_first;
    }

    /// A lottery whose draw has not run: it takes applications, not bookings.
    pub fn awaits_draw(&self) -> bool {
        awaits_draw(self.allocation, self.drawn_at)
    }
}

/// A lottery whose draw has not run, from a session's two columns.
pub fn awaits_draw(allocation: Allocation, drawn_at: Option<NaiveDateTime>) -> bool {
    allocation == Allocation::Lottery && drawn_at.is_none()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CourseRef {
    pub id: CourseId,
    pub title: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VenueRef {
    pub id: VenueId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstructorRef {
    pub id: AccountId,
    pub name: String,
}

/// A session's times in the organisation's timezone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocalTimes {
    pub date: NaiveDate,
    /// `monday` … `sunday`
    pub weekday: String,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    pub id: SessionId,
    pub series_id: Option<SeriesId>,
    pub course: CourseRef,
    pub venue: VenueRef,
    pub room: Option<String>,
    pub status: SessionStatus,
    pub cancel_reason: Option<String>,
    /// UTC instant.
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub local: LocalTimes,
    pub capacity: i32,
    /// Confirmed bookings.
    pub seats_taken: i32,
    pub seats_left: i32,
    pub waitlist_count: i32,
    pub fee_yen: i32,
    pub loaner_fee_yen: i32,
    pub booking_opens_at: Option<DateTime<Utc>>,
    pub booking_closes_at: Option<DateTime<Utc>>,
    pub waitlist_enabled: bool,
    /// Moved or resized on its own: series edits leave it alone.
    pub detached: bool,
    /// `first_come`, or `lottery`: applications until
    /// `applications_close_at`, then a draw at `draw_at`.
    pub allocation: Allocation,
    pub applications_close_at: Option<DateTime<Utc>>,
    pub draw_at: Option<DateTime<Utc>>,
    /// When the draw ran; `null` before (see `GET /sessions/{id}/draw`).
    pub drawn_at: Option<DateTime<Utc>>,
    /// Applications waiting for the draw.
    pub applications: i32,
    /// A freed seat is held this many hours for the first waiting
    /// resident (status `offered`); `null`: promoted at once.
    pub offer_hours: Option<i32>,
    pub first_timers_first: bool,
    pub instructors: Vec<InstructorRef>,
    /// The venue's opening hours on the session's day (its own, else the
    /// organisation's); absent when the venue is closed that weekday.
    pub venue_hours: Option<crate::calendar::OpeningHours>,
}

impl Session {
    pub fn new(
        row: SessionRow,
        course: CourseRef,
        venue: VenueRef,
        instructors: Vec<InstructorRef>,
        tz: &chrono_tz::Tz,
        venue_hours: Option<crate::calendar::OpeningHours>,
    ) -> Self {
        let start = row.starts_at.and_utc();
        let end = row.ends_at.and_utc();
        let local_start = start.with_timezone(tz);
        let local_end = end.with_timezone(tz);
        Session {
            id: row.id,
            series_id: row.series_id,
            course,
            venue,
            room: row.room,
            status: row.status,
            cancel_reason: row.cancel_reason,
            starts_at: start,
            ends_at: end,
            local: LocalTimes {
                date: local_start.date_naive(),
                weekday: super::recurrence::weekday_name(local_start.date_naive()).to_owned(),
                start_time: local_start.time(),
                end_time: local_end.time(),
                timezone: tz.name().to_owned(),
            },
            capacity: row.capacity,
            seats_taken: row.seats_taken,
            seats_left: (row.capacity - row.seats_taken).max(0),
            waitlist_count: row.waitlist_count,
            fee_yen: row.fee_yen,
            loaner_fee_yen: row.loaner_fee_yen,
            booking_opens_at: row.booking_opens_at.map(|t| t.and_utc()),
            booking_closes_at: row.booking_closes_at.map(|t| t.and_utc()),
            waitlist_enabled: row.waitlist_enabled,
            detached: row.detached,
            allocation: row.allocation,
            applications_close_at: row.applications_close_at.map(|t| t.and_utc()),
            draw_at: row.draw_at.map(|t| t.and_utc()),
            drawn_at: row.drawn_at.map(|t| t.and_utc()),
            applications: row.applications_count,
            offer_hours: row.offer_hours,
            first_timers_first: row.first_timers_first,
            instructors,
            venue_hours,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionFilter {
    /// Sessions starting at or after this instant (default: now). An RFC 3339 instant, or a local date
    /// (from the start of that day in the organisation's timezone).
    #[param(value_type = Option<String>)]
    pub from: Option<crate::calendar::Instant>,
    /// Sessions starting before this instant. A date includes that whole day.
    #[param(value_type = Option<String>)]
    pub to: Option<crate::calendar::Instant>,
    pub venue_id: Option<uuid::Uuid>,
    pub course_id: Option<uuid::Uuid>,
    pub series_id: Option<uuid::Uuid>,
    pub status: Option<SessionStatus>,
    /// Only scheduled sessions with a free seat.
    pub available: Option<bool>,
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    pub course_id: uuid::Uuid,
    pub venue_id: uuid::Uuid,
    pub room: Option<String>,
    /// Local date.
    pub date: NaiveDate,
    pub start_time: NaiveTime,
    /// Default: start_time plus the course's default length.
    pub end_time: Option<NaiveTime>,
    pub capacity: Option<i64>,
    pub fee_yen: Option<i64>,
    pub loaner_fee_yen: Option<i64>,
    pub instructor_ids: Option<Vec<uuid::Uuid>>,
    pub booking_opens_days_before: Option<i64>,
    pub booking_closes_minutes_before: Option<i64>,
    pub waitlist_enabled: Option<bool>,
    /// `first_come` (default) or `lottery`.
    pub allocation: Option<Allocation>,
    /// When applications close (RFC 3339; default: at the draw).
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub applications_close_at: Option<Option<DateTime<FixedOffset>>>,
    /// When the lottery is drawn (RFC 3339); required for a lottery.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub draw_at: Option<Option<DateTime<FixedOffset>>>,
    /// Hold a freed seat this many hours (1–720) for the first waiting
    /// resident; `null`: promote at once (default).
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub offer_hours: Option<Option<i64>>,
    /// Draw residents who never attended the course first (default false).
    pub first_timers_first: Option<bool>,
}

/// Change how a session's seats are given out (before its draw), or how
/// long a freed seat is held (at any time).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAllocation {
    /// `first_come` (default) or `lottery`.
    pub allocation: Option<Allocation>,
    /// When applications close (RFC 3339; default: at the draw).
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub applications_close_at: Option<Option<DateTime<FixedOffset>>>,
    /// When the lottery is drawn (RFC 3339); required for a lottery.
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub draw_at: Option<Option<DateTime<FixedOffset>>>,
    /// Hold a freed seat this many hours (1–720) for the first waiting
    /// resident; `null`: promote at once (default).
    #[serde(default, with = "crate::validate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub offer_hours: Option<Option<i64>>,
    /// Draw residents who never attended the course first (default false).
    pub first_timers_first: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelSession {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveSession {
    /// New local date (default: unchanged).
    pub date: Option<NaiveDate>,
    pub start_time: Option<NaiveTime>,
    pub end_time: Option<NaiveTime>,
    pub venue_id: Option<uuid::Uuid>,
    pub room: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResizeSession {
    pub capacity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetInstructors {
    pub instructor_ids: Vec<uuid::Uuid>,
}
