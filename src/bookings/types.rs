//! Booking rows, the booking state machine, requests and answers.

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::bookings;
use crate::db::{AccountId, BookingId, EnrolmentId, OrganisationId, ResidentId, SessionId};

crate::db::text_enum::text_enum! {
    /// Where a booking stands. `applied`: an application to a lottery,
    /// before its draw. `offered`: a freed seat held for this resident
    /// until `offer_expires_at`.
    pub enum BookingStatus {
        Applied = "applied",
        Confirmed = "confirmed",
        Offered = "offered",
        Waitlisted = "waitlisted",
        Cancelled = "cancelled",
    }
}

impl BookingStatus {
    /// The allowed moves: the draw confirms or waitlists an application; a
    /// waitlisted booking is promoted, or offered a held seat which is
    /// accepted (confirmed) or declined or let expire (cancelled); any
    /// active booking can be cancelled; nothing leaves `cancelled`.
    pub fn can_become(self, next: BookingStatus) -> bool {
        use BookingStatus::*;
        matches!(
            (self, next),
            (Applied, Confirmed)
                | (Applied, Waitlisted)
                | (Applied, Cancelled)
                | (Waitlisted, Confirmed)
                | (Waitlisted, Offered)
                | (Waitlisted, Cancelled)
                | (Offered, Confirmed)
                | (Offered, Cancelled)
                | (Confirmed, Cancelled)
        )
    }

    /// Not cancelled.
    pub const ACTIVE: [BookingStatus; 4] = [
        BookingStatus::Applied,
        BookingStatus::Confirmed,
        BookingStatus::Offered,
        BookingStatus::Waitlisted,
    ];
}

crate::db::text_enum::text_enum! {
    /// How a booking reached the centre.
    pub enum Channel {
        Phone = "phone",
        Counter = "counter",
        Email = "email",
        Web = "web",
        WalkIn = "walk_in",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    Present,
    Late,
    Absent,
}

impl Attendance {
    pub fn as_str(self) -> &'static str {
        match self {
            Attendance::Present => "present",
            Attendance::Late => "late",
            Attendance::Absent => "absent",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bookings)]
pub struct BookingRow {
    pub id: BookingId,
    pub organisation_id: OrganisationId,
    pub session_id: SessionId,
    pub resident_id: ResidentId,
    pub status: BookingStatus,
    pub channel: Channel,
    pub reference: String,
    pub needs_loaner: bool,
    pub notes: Option<String>,
    pub waitlist_seq: Option<i32>,
    pub over_capacity: bool,
    pub fee_due_yen: i32,
    pub window_override_reason: Option<String>,
    pub entered_by: AccountId,
    pub cancel_reason: Option<String>,
    pub cancelled_by: Option<AccountId>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub promoted_at: Option<NaiveDateTime>,
    pub attendance: Option<String>,
    pub attendance_marked_by: Option<AccountId>,
    pub attendance_marked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub enrolment_id: Option<EnrolmentId>,
    pub fee_exemption_reason: Option<String>,
    /// The class fee, priced when the booking was made (0 when waived).
    pub class_fee_yen: i32,
    /// The loaner fee, due only while a device is reserved or lent.
    pub loaner_fee_yen: i32,
    pub eligibility_override_reason: Option<String>,
    pub offered_at: Option<NaiveDateTime>,
    pub offer_expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResidentRef {
    pub id: ResidentId,
    pub name: String,
    pub kana: String,
    pub phone: Option<String>,
    pub contact_preference: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Booking {
    pub id: BookingId,
    /// Six characters to read to the resident, e.g. `K7M2QX`.
    pub reference: String,
    pub session_id: SessionId,
    pub resident: ResidentRef,
    pub status: BookingStatus,
    /// 1 = next in line; only for waitlisted bookings.
    pub waitlist_position: Option<i64>,
    pub channel: Channel,
    pub needs_loaner: bool,
    /// Loaner: `none`, `reserved`, `waitlisted`, `out` or `returned`.
    pub loaner: String,
    /// Yen due for this booking now: the class fee, plus the loaner fee
    /// while a device is reserved or lent for it (`fee_breakdown` says why).
    pub fee_due: i32,
    /// Each part of the fee, whether it is due and why.
    pub fee_breakdown: Vec<FeeLine>,
    pub notes: Option<String>,
    /// Booked beyond capacity on purpose (a walk-in the instructor accepted).
    pub over_capacity: bool,
    pub window_override_reason: Option<String>,
    pub fee_exemption_reason: Option<String>,
    /// Booked although the course's eligibility said no, and why.
    pub eligibility_override_reason: Option<String>,
    /// The staff account that entered the booking.
    pub entered_by: AccountId,
    /// `present`, `late`, `absent` or `no_show`.
    pub attendance: Option<String>,
    pub cancel_reason: Option<String>,
    pub cancelled_at: Option<DateTime<chrono::Utc>>,
    pub promoted_at: Option<DateTime<chrono::Utc>>,
    /// When a held seat was offered (status `offered`, or since answered).
    pub offered_at: Option<DateTime<chrono::Utc>>,
    /// Until when the offered seat is held; after it, it passes to the next.
    pub offer_expires_at: Option<DateTime<chrono::Utc>>,
    pub created_at: DateTime<chrono::Utc>,
    /// What staff should know (e.g. `recent_no_shows` with the dates);
    /// never a refusal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<BookingWarning>,
}

/// Something staff should know about a booking they just made.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct BookingWarning {
    /// `recent_no_shows`
    pub code: String,
    pub message: String,
    /// The local dates of the sessions missed.
    pub dates: Vec<chrono::NaiveDate>,
}

impl Booking {
    pub fn new(
        r: BookingRow,
        resident: ResidentRef,
        waitlist_position: Option<i64>,
        loaner: String,
    ) -> Self {
        let fee_breakdown = FeeLine::of(&r, &loaner);
        Booking {
            fee_breakdown,
            eligibility_override_reason: r.eligibility_override_reason,
            id: r.id,
            reference: r.reference,
            session_id: r.session_id,
            resident,
            status: r.status,
            waitlist_position,
            channel: r.channel,
            needs_loaner: r.needs_loaner,
            loaner,
            fee_due: r.fee_due_yen,
            notes: r.notes,
            over_capacity: r.over_capacity,
            window_override_reason: r.window_override_reason,
            fee_exemption_reason: r.fee_exemption_reason,
            entered_by: r.entered_by,
            attendance: r.attendance,
            cancel_reason: r.cancel_reason,
            cancelled_at: r.cancelled_at.map(|t| t.and_utc()),
            promoted_at: r.promoted_at.map(|t| t.and_utc()),
            offered_at: r.offered_at.map(|t| t.and_utc()),
            offer_expires_at: r.offer_expires_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
            warnings: Vec::new(),
        }
    }
}

/// One part of a booking's fee.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeeLine {
    /// `class` or `loaner`.
    pub item: String,
    pub yen: i32,
    /// Counted in `fee_due`.
    pub due: bool,
    /// Why it is (or is not) due, for staff to read out.
    pub why: String,
}

impl FeeLine {
    /// The parts of a booking's fee given its loaner state (`label`).
    pub fn of(r: &BookingRow, loaner: &str) -> Vec<FeeLine> {
        let waived = r.fee_exemption_reason.as_deref();
        let class_why = match waived {
            Some(reason) => format!("fee waived: {reason}"),
            None if r.class_fee_yen == 0 => "the class is free".to_owned(),
            None => "class fee".to_owned(),
        };
        let mut lines = vec![FeeLine {
            item: "class".into(),
            yen: r.class_fee_yen,
            due: true,
            why: class_why,
        }];
        let device = match loaner {
            "reserved" => Some((true, "a loaner device is reserved for this booking")),
            "out" => Some((true, "a loaner device is lent for this booking")),
            "returned" => Some((true, "a loaner device was lent for this booking")),
            "waitlisted" => Some((
                false,
                "waiting for a loaner device: its fee is due only once one is reserved",
            )),
            _ if r.needs_loaner => Some((
                false,
                "no loaner device is reserved: nothing is due for one",
            )),
            _ => None,
        };
        if let Some((due, why)) = device {
            let why = match waived {
                Some(reason) if due => format!("{why}; fee waived: {reason}"),
                _ => why.to_owned(),
            };
            lines.push(FeeLine {
                item: "loaner".into(),
                yen: r.loaner_fee_yen,
                due,
                why,
            });
        }
        lines
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBooking {
    pub resident_id: uuid::Uuid,
    pub channel: Channel,
    #[serde(default)]
    pub needs_loaner: bool,
    pub notes: Option<String>,
    /// Book outside the booking window (coordinators and admins), saying why.
    pub override_window_reason: Option<String>,
    /// When no loaner device is free: book the seat without one, or put the
    /// loaner request on its own waitlist. Absent: 409 `no_loaner_available`.
    pub if_no_loaner: Option<NoLoaner>,
    /// Waive the fee, saying why (e.g. 生活保護受給, 初回無料).
    pub fee_exemption_reason: Option<String>,
    /// Book a resident the course's eligibility does not admit
    /// (coordinators and admins), saying why.
    pub override_eligibility_reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoLoaner {
    BookWithout,
    Waitlist,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBooking {
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookingCancelled {
    pub booking: Booking,
    /// The waitlisted booking that took the freed seat, if any.
    pub promoted: Option<Booking>,
    /// The waitlisted booking the freed seat is now held for (`offered`),
    /// when the session holds offers.
    pub offered: Option<Booking>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferAnswered {
    pub booking: Booking,
    /// After a decline: the next waiting booking the seat is now held for.
    pub offered: Option<Booking>,
    /// After a decline, when the session promotes at once: who got the seat.
    pub promoted: Option<Booking>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineOffer {
    /// Why (default: the resident declined).
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceMark {
    pub booking_id: uuid::Uuid,
    pub attendance: Attendance,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceMarks {
    /// One or many marks, applied together.
    pub marks: Vec<AttendanceMark>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickResident {
    pub family_name: String,
    pub given_name: String,
    pub family_name_kana: String,
    pub given_name_kana: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WalkIn {
    /// An existing resident …
    pub resident_id: Option<uuid::Uuid>,
    /// … or a new one, registered with names and kana only.
    pub resident: Option<QuickResident>,
    #[serde(default)]
    pub needs_loaner: bool,
    /// When no loaner device is free, as for a booking. Absent: 409
    /// `no_loaner_available`.
    pub if_no_loaner: Option<NoLoaner>,
    /// Seat them even if the session is full.
    #[serde(default)]
    pub over_capacity: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Roster {
    pub session_id: SessionId,
    pub capacity: i32,
    pub seats_taken: i32,
    pub confirmed: Vec<Booking>,
    /// Seats held for a waiting resident until they answer.
    pub offered: Vec<Booking>,
    /// In order: position 1 first.
    pub waitlisted: Vec<Booking>,
    /// Applications to the lottery, before its draw.
    pub applied: Vec<Booking>,
    pub cancelled: Vec<Booking>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentToCall {
    pub booking_id: BookingId,
    pub reference: String,
    pub resident: ResidentRef,
    /// The booking's status before the session was cancelled.
    pub was: BookingStatus,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BookingFilter {
    /// A reference code as the resident reads it (case and hyphens ignored).
    pub reference: Option<String>,
    pub resident_id: Option<uuid::Uuid>,
    pub session_id: Option<uuid::Uuid>,
    pub status: Option<BookingStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<uuid::Uuid>,
}

#[cfg(test)]
mod tests {
    use super::BookingStatus::*;

    #[test]
    fn the_booking_state_machine() {
        let all = [Applied, Confirmed, Offered, Waitlisted, Cancelled];
        let allowed = [
            (Applied, Confirmed),
            (Applied, Waitlisted),
            (Applied, Cancelled),
            (Waitlisted, Confirmed),
            (Waitlisted, Offered),
            (Waitlisted, Cancelled),
            (Offered, Confirmed),
            (Offered, Cancelled),
            (Confirmed, Cancelled),
        ];
        for from in all {
            for to in all {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
    }
}
