//! Residents' rights under Japan's personal-information law (APPI): what is
//! held about a person, all of it, on request; and erasure, which replaces
//! every identifying field while the anonymous facts the reports count
//! (bookings, attendance, age band, district, money) stay as they were.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::db::schema::{
    audit_log, bookings, call_list_items, call_outcomes, enrolment_conflicts, loans,
    outbox_messages, payments, resident_erasures, residents, sessions, ticket_events,
    ticket_messages, tickets,
};
use crate::db::{AccountId, DbConnection, OrganisationId, ResidentId};
use crate::error::{AppError, AppResult};
use crate::residents::types::{Resident, ResidentRow};

/// A booking's free texts: (id, notes, cancel, window override, fee
/// exemption, eligibility override).
type BookingTexts = (
    crate::db::BookingId,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// What replaces an erased text.
pub const ERASED: &str = "（消去）";

/// Everything held about a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentExport {
    pub exported_at: chrono::DateTime<Utc>,
    pub resident: Resident,
    /// Set when the person was erased.
    #[schema(value_type = Option<Object>)]
    pub erased: Option<Value>,
    #[schema(value_type = Vec<Object>)]
    pub bookings: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub loans: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub payments: Vec<Value>,
    /// Consultations with their timelines and the mails sent about them.
    #[schema(value_type = Vec<Object>)]
    pub tickets: Vec<Value>,
    /// Mails written to the person (the outbox).
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<Value>,
    /// Calls to make or made, with their outcomes.
    #[schema(value_type = Vec<Object>)]
    pub calls: Vec<Value>,
}

fn at(t: NaiveDateTime) -> Value {
    json!(t.and_utc())
}

fn opt_at(t: Option<NaiveDateTime>) -> Value {
    t.map_or(Value::Null, at)
}

fn resident_row(
    conn: &mut DbConnection,
    org: OrganisationId,
    id: ResidentId,
) -> AppResult<ResidentRow> {
    residents::table
        .filter(residents::organisation_id.eq(org))
        .filter(residents::id.eq(id))
        .select(ResidentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("resident"))
}

/// Everything about a resident (audited as `resident.export`).
pub fn export(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ResidentId,
) -> AppResult<ResidentExport> {
    let org = caller.organisation_id;
    let row = resident_row(conn, org, id)?;
    let erased: Option<(String, NaiveDateTime)> = resident_erasures::table
        .filter(resident_erasures::resident_id.eq(id))
        .select((resident_erasures::reason, resident_erasures::erased_at))
        .first(conn)
        .optional()?;
    type BookingLine = (
        String,
        String,
        String,
        String,
        bool,
        Option<String>,
        Option<String>,
        i32,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<String>,
        NaiveDateTime,
        String,
    );
    let booked: Vec<BookingLine> = bookings::table
        .inner_join(sessions::table)
        .filter(bookings::resident_id.eq(id))
        .order(sessions::starts_at.asc())
        .select((
            bookings::id,
            bookings::reference,
            bookings::status,
            bookings::channel,
            bookings::needs_loaner,
            bookings::notes,
            bookings::attendance,
            bookings::fee_due_yen,
            bookings::created_at,
            bookings::cancelled_at,
            bookings::cancel_reason,
            sessions::starts_at,
            sessions::course_id,
        ))
        .load(conn)?;
    let bookings_out = booked
        .into_iter()
        .map(|b| {
            json!({"id": b.0, "reference": b.1, "status": b.2, "channel": b.3, "needs_loaner": b.4,
                   "notes": b.5, "attendance": b.6, "fee_due_yen": b.7, "booked_at": at(b.8),
                   "cancelled_at": opt_at(b.9), "cancel_reason": b.10, "session_starts_at": at(b.11),
                   "course_id": b.12})
        })
        .collect();
    let lent: Vec<crate::devices::types::LoanRow> = loans::table
        .filter(loans::resident_id.eq(id))
        .select(crate::devices::types::LoanRow::as_select())
        .load(conn)?;
    let loans_out = lent
        .into_iter()
        .map(|l| serde_json::to_value(crate::devices::types::Loan::from(l)).unwrap_or(Value::Null))
        .collect();
    let paid: Vec<crate::fees::queries::PaymentRow> = payments::table
        .filter(payments::resident_id.eq(id))
        .select(crate::fees::queries::PaymentRow::as_select())
        .order(payments::created_at.asc())
        .load(conn)?;
    let payments_out = paid
        .into_iter()
        .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
        .collect();
    let asked: Vec<crate::tickets::types::TicketRow> = tickets::table
        .filter(tickets::organisation_id.eq(org))
        .filter(tickets::resident_id.eq(id))
        .select(crate::tickets::types::TicketRow::as_select())
        .load(conn)?;
    let mut tickets_out = Vec::new();
    for t in asked {
        let timeline: Vec<(String, Option<String>, Option<String>, NaiveDateTime)> =
            ticket_events::table
                .filter(ticket_events::ticket_id.eq(t.id))
                .order(ticket_events::created_at.asc())
                .select((
                    ticket_events::kind,
                    ticket_events::to_status,
                    ticket_events::body,
                    ticket_events::created_at,
                ))
                .load(conn)?;
        let mails: Vec<(String, String, NaiveDateTime, Option<NaiveDateTime>)> =
            ticket_messages::table
                .filter(ticket_messages::ticket_id.eq(t.id))
                .select((
                    ticket_messages::to_email,
                    ticket_messages::body,
                    ticket_messages::created_at,
                    ticket_messages::sent_at,
                ))
                .load(conn)?;
        let mut ticket = serde_json::to_value(crate::tickets::types::Ticket::from(t))
            .map_err(|e| AppError::Internal(e.into()))?;
        ticket["timeline"] = timeline
            .into_iter()
            .map(|(kind, to, body, when)| json!({"kind": kind, "to_status": to, "body": body, "at": at(when)}))
            .collect();
        ticket["mails"] = mails
            .into_iter()
            .map(|(to, body, created, sent)| json!({"to": to, "body": body, "created_at": at(created), "sent_at": opt_at(sent)}))
            .collect();
        tickets_out.push(ticket);
    }
    type Mail = (
        String,
        String,
        String,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let mails: Vec<Mail> = outbox_messages::table
        .filter(outbox_messages::organisation_id.eq(org))
        .filter(outbox_messages::resident_id.eq(id))
        .order(outbox_messages::created_at.asc())
        .select((
            outbox_messages::kind,
            outbox_messages::recipient,
            outbox_messages::subject,
            outbox_messages::body,
            outbox_messages::status,
            outbox_messages::created_at,
            outbox_messages::sent_at,
        ))
        .load(conn)?;
    let messages_out = mails
        .into_iter()
        .map(|m| {
            json!({"kind": m.0, "to": m.1, "subject": m.2, "body": m.3, "status": m.4,
                        "created_at": at(m.5), "sent_at": opt_at(m.6)})
        })
        .collect();
    type Call = (
        String,
        String,
        String,
        String,
        i32,
        Option<String>,
        Option<String>,
        NaiveDateTime,
    );
    let calls: Vec<Call> = call_list_items::table
        .filter(call_list_items::organisation_id.eq(org))
        .filter(call_list_items::resident_id.eq(id))
        .order(call_list_items::created_at.asc())
        .select((
            call_list_items::id,
            call_list_items::reason,
            call_list_items::script,
            call_list_items::status,
            call_list_items::tries,
            call_list_items::last_outcome,
            call_list_items::last_note,
            call_list_items::created_at,
        ))
        .load(conn)?;
    let mut calls_out = Vec::new();
    for c in calls {
        let outcomes: Vec<(String, Option<String>, NaiveDateTime)> = call_outcomes::table
            .filter(call_outcomes::call_id.eq(&c.0))
            .order(call_outcomes::created_at.asc())
            .select((
                call_outcomes::outcome,
                call_outcomes::note,
                call_outcomes::created_at,
            ))
            .load(conn)?;
        calls_out.push(json!({"reason": c.1, "script": c.2, "status": c.3, "tries": c.4,
            "last_outcome": c.5, "last_note": c.6, "created_at": at(c.7),
            "outcomes": outcomes.into_iter().map(|(o, n, w)| json!({"outcome": o, "note": n, "at": at(w)})).collect::<Vec<_>>()}));
    }
    crate::audit::record(
        conn,
        caller,
        "resident.export",
        "resident",
        id.to_string(),
        "exported everything held about the resident".to_owned(),
    )?;
    Ok(ResidentExport {
        exported_at: Utc::now(),
        resident: row.into(),
        erased: erased.map(|(reason, when)| json!({"reason": reason, "at": at(when)})),
        bookings: bookings_out,
        loans: loans_out,
        payments: payments_out,
        tickets: tickets_out,
        messages: messages_out,
        calls: calls_out,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// Why (e.g. 本人からの削除の申出, 保存期間の経過).
    pub reason: String,
    /// Admins only: erase although a loan is open or money is owed, saying
    /// why (the loan and the money stay on record, anonymously).
    pub override_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Erased {
    pub resident_id: ResidentId,
    pub erased_at: chrono::DateTime<Utc>,
    /// Bookings that keep their (anonymous) place in the reports.
    pub bookings_kept: i64,
}

/// Who erases: staff (with a reason) or the retention job.
pub struct Eraser {
    pub organisation: OrganisationId,
    pub actor: Option<AccountId>,
    pub admin: bool,
}

/// Replaces a person's identifying fields everywhere, keeping what the
/// reports count. Refused while an upcoming booking stands, and while a
/// loan is open or money is owed unless an admin overrides with a reason.
/// Call inside a write transaction.
pub fn erase(
    conn: &mut DbConnection,
    who: &Eraser,
    id: ResidentId,
    reason: &str,
    override_reason: Option<&str>,
) -> AppResult<Erased> {
    let org = who.organisation;
    let row = resident_row(conn, org, id)?;
    let already: i64 = resident_erasures::table
        .filter(resident_erasures::resident_id.eq(id))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Err(AppError::conflict(
            "already_erased",
            "this person was already erased",
        ));
    }
    let now = Utc::now().naive_utc();
    let upcoming: i64 = bookings::table
        .inner_join(sessions::table)
        .filter(bookings::resident_id.eq(id))
        .filter(bookings::status.ne("cancelled"))
        .filter(sessions::status.ne("cancelled"))
        .filter(sessions::starts_at.gt(now))
        .count()
        .get_result(conn)?;
    if upcoming > 0 {
        return Err(AppError::conflict(
            "upcoming_bookings",
            format!("the person has {upcoming} upcoming booking(s): cancel them first"),
        ));
    }
    let open_loans: i64 = loans::table
        .filter(loans::resident_id.eq(id))
        .filter(loans::returned_at.is_null())
        .count()
        .get_result(conn)?;
    let (due, paid, refunded) = owed(conn, id, now)?;
    let owes = due - (paid - refunded);
    let blocked = blocked_code(open_loans, owes).map(|code| {
        let detail = if code == "open_loan" {
            format!("{open_loans} device(s) lent to the person are not back")
        } else {
            format!("the person owes {owes} yen for sessions held")
        };
        (code, detail)
    });
    if let Some((code, detail)) = &blocked {
        let (code, detail) = (*code, detail.clone());
        match override_reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(_) if who.admin => {}
            Some(_) => {
                return Err(AppError::forbidden(
                    "forbidden",
                    "only an admin may erase a person with an open loan or money owed",
                ));
            }
            None => {
                return Err(AppError::conflict(
                    code,
                    format!("{detail}; an admin may erase anyway with override_reason"),
                ));
            }
        }
    }
    // Reports keep each booking's age band as it was on the session's day.
    let theirs: Vec<(crate::db::BookingId, NaiveDateTime)> = bookings::table
        .inner_join(sessions::table)
        .filter(bookings::resident_id.eq(id))
        .select((bookings::id, sessions::starts_at))
        .load(conn)?;
    let tz = crate::calendar::timezone(conn, org)?;
    for (booking, starts_at) in &theirs {
        let on = starts_at.and_utc().with_timezone(&tz).date_naive();
        let band = row
            .birth_year
            .map(|y| crate::reports::summary::age_band(y, on).to_owned())
            .or_else(|| row.age_band.clone());
        diesel::update(bookings::table.find(booking))
            .set(bookings::age_band.eq(band))
            .execute(conn)?;
    }
    let scrub = |t: Option<String>| t.map(|_| ERASED.to_owned());
    let texts: Vec<BookingTexts> = bookings::table
        .filter(bookings::resident_id.eq(id))
        .select((
            bookings::id,
            bookings::notes,
            bookings::cancel_reason,
            bookings::window_override_reason,
            bookings::fee_exemption_reason,
            bookings::eligibility_override_reason,
        ))
        .load(conn)?;
    for (booking, notes, cancel, window, fee, eligibility) in texts {
        diesel::update(bookings::table.find(booking))
            .set((
                bookings::notes.eq(scrub(notes)),
                bookings::cancel_reason.eq(scrub(cancel)),
                bookings::window_override_reason.eq(scrub(window)),
                bookings::fee_exemption_reason.eq(scrub(fee)),
                bookings::eligibility_override_reason.eq(scrub(eligibility)),
            ))
            .execute(conn)?;
    }
    let band_now = row
        .birth_year
        .map(|y| crate::reports::summary::age_band(y, crate::calendar::today(tz)).to_owned())
        .or(row.age_band.clone());
    let names = [
        row.display_name(),
        format!("{}{}", row.family_name, row.given_name),
        format!("{} {}", row.family_name_kana, row.given_name_kana),
        row.family_name.clone(),
    ];
    diesel::update(residents::table.find(id))
        .set((
            residents::family_name.eq(ERASED),
            residents::given_name.eq(""),
            residents::family_name_kana.eq("しょうきょ"),
            residents::given_name_kana.eq(""),
            residents::search_text.eq(""),
            residents::phone.eq(None::<String>),
            residents::email.eq(None::<String>),
            residents::birth_year.eq(None::<i32>),
            residents::age_band.eq(band_now),
            residents::accessibility_needs.eq(""),
            residents::consent_contact.eq(false),
            residents::consent_data.eq(false),
            residents::device.eq(None::<String>),
            residents::notes.eq(None::<String>),
            residents::updated_at.eq(now),
        ))
        .execute(conn)?;
    // Consultations: the requester's details and every written word.
    let asked: Vec<crate::db::TicketId> = tickets::table
        .filter(tickets::organisation_id.eq(org))
        .filter(tickets::resident_id.eq(id))
        .select(tickets::id)
        .load(conn)?;
    if !asked.is_empty() {
        diesel::update(tickets::table.filter(tickets::id.eq_any(&asked)))
            .set((
                tickets::contact_name.eq(None::<String>),
                tickets::contact_phone.eq(None::<String>),
                tickets::contact_email.eq(None::<String>),
                tickets::subject.eq(ERASED),
                tickets::description.eq(None::<String>),
                tickets::device.eq(None::<String>),
                tickets::os.eq(None::<String>),
            ))
            .execute(conn)?;
        diesel::update(
            ticket_events::table
                .filter(ticket_events::ticket_id.eq_any(&asked))
                .filter(ticket_events::body.is_not_null()),
        )
        .set(ticket_events::body.eq(ERASED))
        .execute(conn)?;
        diesel::update(ticket_messages::table.filter(ticket_messages::ticket_id.eq_any(&asked)))
            .set((
                ticket_messages::to_email.eq(ERASED),
                ticket_messages::body.eq(ERASED),
            ))
            .execute(conn)?;
    }
    diesel::update(
        outbox_messages::table
            .filter(outbox_messages::organisation_id.eq(org))
            .filter(outbox_messages::resident_id.eq(id)),
    )
    .set((
        outbox_messages::recipient.eq(ERASED),
        outbox_messages::subject.eq(ERASED),
        outbox_messages::body.eq(ERASED),
    ))
    .execute(conn)?;
    let calls: Vec<String> = call_list_items::table
        .filter(call_list_items::organisation_id.eq(org))
        .filter(call_list_items::resident_id.eq(id))
        .select(call_list_items::id)
        .load(conn)?;
    diesel::update(call_list_items::table.filter(call_list_items::id.eq_any(&calls)))
        .set((
            call_list_items::script.eq(ERASED),
            call_list_items::last_note.eq(None::<String>),
        ))
        .execute(conn)?;
    diesel::update(
        call_outcomes::table
            .filter(call_outcomes::call_id.eq_any(&calls))
            .filter(call_outcomes::note.is_not_null()),
    )
    .set(call_outcomes::note.eq(ERASED))
    .execute(conn)?;
    diesel::update(
        payments::table
            .filter(payments::resident_id.eq(id))
            .filter(payments::reason.is_not_null()),
    )
    .set(payments::reason.eq(ERASED))
    .execute(conn)?;
    // Logs and conflict notes that name the person.
    for name in names.iter().filter(|n| n.trim().chars().count() >= 2) {
        let pattern = format!("%{}%", name.replace(['%', '_'], ""));
        let lines: Vec<(String, String)> = audit_log::table
            .filter(audit_log::organisation_id.eq(org))
            .filter(audit_log::summary.like(&pattern))
            .select((audit_log::id, audit_log::summary))
            .load(conn)?;
        for (line, summary) in lines {
            diesel::update(audit_log::table.filter(audit_log::id.eq(line)))
                .set(audit_log::summary.eq(summary.replace(name.as_str(), ERASED)))
                .execute(conn)?;
        }
        let notes: Vec<(String, String)> = enrolment_conflicts::table
            .filter(enrolment_conflicts::organisation_id.eq(org))
            .filter(enrolment_conflicts::detail.like(&pattern))
            .select((enrolment_conflicts::id, enrolment_conflicts::detail))
            .load(conn)?;
        for (line, detail) in notes {
            diesel::update(enrolment_conflicts::table.filter(enrolment_conflicts::id.eq(line)))
                .set(enrolment_conflicts::detail.eq(detail.replace(name.as_str(), ERASED)))
                .execute(conn)?;
        }
    }
    let reason = match override_reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(o) if blocked.is_some() => format!("{reason} (override: {o})"),
        _ => reason.to_owned(),
    };
    diesel::insert_into(resident_erasures::table)
        .values((
            resident_erasures::resident_id.eq(id),
            resident_erasures::organisation_id.eq(org),
            resident_erasures::reason.eq(&reason),
            resident_erasures::erased_by.eq(who.actor),
            resident_erasures::erased_at.eq(now),
        ))
        .execute(conn)?;
    crate::audit::record(
        conn,
        crate::audit::Actor {
            organisation: org,
            account: who.actor,
        },
        "resident.erase",
        "resident",
        id.to_string(),
        format!("erased: {reason}"),
    )?;
    Ok(Erased {
        resident_id: id,
        erased_at: now.and_utc(),
        bookings_kept: theirs.len() as i64,
    })
}

fn blocked_code(open_loans: i64, owes: i64) -> Option<&'static str> {
    if open_loans > 0 {
        Some("open_loan")
    } else if owes > 0 {
        Some("money_owed")
    } else {
        None
    }
}

/// (due for sessions held, paid, refunded) of a resident.
fn owed(conn: &mut DbConnection, id: ResidentId, now: NaiveDateTime) -> AppResult<(i64, i64, i64)> {
    let dues: Vec<i32> = bookings::table
        .inner_join(sessions::table)
        .filter(bookings::resident_id.eq(id))
        .filter(bookings::status.eq("confirmed"))
        .filter(sessions::status.ne("cancelled"))
        .filter(sessions::starts_at.le(now))
        .select(bookings::fee_due_yen)
        .load(conn)?;
    let money: Vec<(String, i32)> = payments::table
        .filter(payments::resident_id.eq(id))
        .select((payments::kind, payments::amount_yen))
        .load(conn)?;
    let sum = |kind: &str| -> i64 {
        money
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, a)| i64::from(*a))
            .sum()
    };
    Ok((
        dues.into_iter().map(i64::from).sum(),
        sum("payment"),
        sum("refund"),
    ))
}

/// Residents of an organisation with no activity (registration, booking,
/// session, consultation) since `before`, not erased yet.
pub fn dormant(
    conn: &mut DbConnection,
    org: OrganisationId,
    before: NaiveDateTime,
) -> AppResult<Vec<ResidentId>> {
    let erased: Vec<ResidentId> = resident_erasures::table
        .filter(resident_erasures::organisation_id.eq(org))
        .select(resident_erasures::resident_id)
        .load(conn)?;
    let old: Vec<ResidentId> = residents::table
        .filter(residents::organisation_id.eq(org))
        .filter(residents::created_at.lt(before))
        .filter(residents::updated_at.lt(before))
        .select(residents::id)
        .load(conn)?;
    let mut out = Vec::new();
    for id in old.into_iter().filter(|r| !erased.contains(r)) {
        let booked: i64 = bookings::table
            .inner_join(sessions::table)
            .filter(bookings::resident_id.eq(id))
            .filter(
                bookings::created_at
                    .ge(before)
                    .or(sessions::starts_at.ge(before)),
            )
            .count()
            .get_result(conn)?;
        let asked: i64 = tickets::table
            .filter(tickets::resident_id.eq(id))
            .filter(tickets::received_at.ge(before))
            .count()
            .get_result(conn)?;
        if booked == 0 && asked == 0 {
            out.push(id);
        }
    }
    Ok(out)
}

/// The retention job's pass over one organisation: erases dormant
/// residents; those with an open loan or money owed are left (and counted).
pub fn erase_dormant(
    conn: &mut DbConnection,
    org: OrganisationId,
    months: i32,
) -> AppResult<(usize, usize)> {
    let today = Utc::now().date_naive();
    let before = today
        .checked_sub_months(chrono::Months::new(months.max(1) as u32))
        .unwrap_or(today)
        .and_time(chrono::NaiveTime::MIN);
    let who = Eraser {
        organisation: org,
        actor: None,
        admin: false,
    };
    let (mut erased, mut left) = (0, 0);
    for id in dormant(conn, org, before)? {
        let reason = format!("保存期間（{months}か月）の経過");
        match conn.transaction(|conn| erase(conn, &who, id, &reason, None)) {
            Ok(_) => erased += 1,
            Err(AppError::Client(_)) => left += 1,
            Err(e) => return Err(e),
        }
    }
    Ok((erased, left))
}

/// The lease of the retention job.
pub const RETENTION_LEASE: &str = "erase_dormant_residents";

/// Erases, per organisation with a retention setting, the residents without
/// activity for that long (daily is plenty; `every` from the config).
pub fn retention_job(every_secs: u64) -> crate::jobs::Job {
    crate::jobs::Job {
        name: RETENTION_LEASE,
        every: std::time::Duration::from_secs(every_secs),
        run: Box::new(|conn| {
            use crate::db::schema::organisations;
            let orgs: Vec<(OrganisationId, Option<i32>)> = organisations::table
                .filter(organisations::retention_months.is_not_null())
                .select((organisations::id, organisations::retention_months))
                .load(conn)?;
            let mut erased = 0;
            for (org, months) in orgs {
                let Some(months) = months else { continue };
                let (done, left) = erase_dormant(conn, org, months)?;
                if left > 0 {
                    tracing::info!(left, "dormant residents kept: open loan or money owed");
                }
                erased += done;
            }
            Ok(erased)
        }),
    }
}
