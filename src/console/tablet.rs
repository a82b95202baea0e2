//! The instructor's tablet: today's sessions, the roster with one tap per
//! person, walk-ins, taking the fee, and closing the session.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

use super::{ConsoleResult, Page, Staff, html, message};
use crate::bookings::types::{Attendance, AttendanceMark, BookingStatus};
use crate::db::{BookingId, SessionId};
use crate::error::AppError;
use crate::schedule::types::SessionFilter;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/today", web::get().to(today))
        .route("/sessions/{id}/roster", web::get().to(roster_page))
        .route("/sessions/{id}/attendance", web::post().to(mark))
        .route("/sessions/{id}/fee", web::post().to(take_fee))
        .route("/sessions/{id}/walk-in", web::post().to(walk_in))
        .route(
            "/sessions/{id}/walk-in/search",
            web::post().to(walk_in_search),
        )
        .route("/sessions/{id}/lend", web::post().to(lend))
        .route("/sessions/{id}/return", web::post().to(take_back))
        .route(
            "/sessions/{id}/close/confirm",
            web::post().to(close_confirm),
        )
        .route("/sessions/{id}/close", web::post().to(close));
}

pub struct TodayLine {
    pub id: SessionId,
    pub when: String,
    pub course: String,
    pub venue: String,
    pub taken: i32,
    pub capacity: i32,
}

#[derive(Template)]
#[template(path = "console/today.html")]
struct Today {
    page: Page,
    today: String,
    rows: Vec<TodayLine>,
}

async fn today(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    let caller = staff.caller.clone();
    let (day, rows) = state
        .db(move |conn| {
            let org = caller.organisation_id;
            let tz = crate::calendar::timezone(conn, org)?;
            let day = crate::calendar::today(tz);
            let mut from = crate::calendar::Instant::Day(day);
            from.resolve_start(tz);
            let mut to = crate::calendar::Instant::Day(day);
            to.resolve_end(tz);
            let filter = SessionFilter {
                from: Some(from),
                to: Some(to),
                ..Default::default()
            };
            // An instructor sees the sessions they teach; the office all.
            let teacher =
                (!crate::auth::access::sees_everything(&caller)).then_some(caller.account_id);
            let list =
                crate::schedule::queries::list_sessions(conn, org, &filter, teacher, None, 100)?;
            let rows = list
                .iter()
                .map(|s| TodayLine {
                    id: s.0.id,
                    when: super::desk::when(s, &tz),
                    course: s.2.clone(),
                    venue: s.5.clone(),
                    taken: s.0.seats_taken,
                    capacity: s.0.capacity,
                })
                .collect();
            Ok((super::desk::when_day(day), rows))
        })
        .await?;
    html(
        StatusCode::OK,
        Today {
            page: Page::of(&staff),
            today: day,
            rows,
        },
    )
}

pub struct MarkButton {
    pub value: &'static str,
    pub label: &'static str,
    pub pressed: bool,
}

pub struct Person {
    pub id: BookingId,
    pub name: String,
    pub mark: String,
    pub loaner: bool,
    pub walk_in: bool,
    pub due: i64,
    pub buttons: Vec<MarkButton>,
    /// Asked for a loaner phone (or one is reserved): the lend form shows.
    pub wants_loaner: bool,
    /// The asset tag of the phone out on loan for this booking, if any.
    pub lent_tag: String,
    pub loan_id: String,
}

pub struct SessionHead {
    pub id: SessionId,
    pub when: String,
    pub starts: String,
    pub course: String,
    pub venue: String,
    pub taken: i32,
    pub capacity: i32,
}

#[derive(Template)]
#[template(path = "console/roster_body.html")]
struct RosterBody {
    s: SessionHead,
    people: Vec<Person>,
    waiting: Vec<String>,
    present: usize,
    loaners: usize,
    collected: i64,
    started: bool,
    flash: String,
    error: String,
}

#[derive(Template)]
#[template(path = "console/roster.html")]
struct Roster {
    page: Page,
    title: String,
    /// The rendered `RosterBody`, the part every roster action swaps.
    body: String,
}

/// An attendance mark in the words of docs/console.md.
pub fn mark_word(mark: Option<&str>) -> &'static str {
    match mark {
        Some("present") => "出席",
        Some("late") => "遅刻",
        Some("absent") => "欠席",
        Some("no_show") => "無断欠席",
        _ => "",
    }
}

/// Everything the roster shows, read in one go.
fn roster_of(
    conn: &mut crate::db::DbConnection,
    staff: &Staff,
    id: SessionId,
) -> Result<RosterBody, AppError> {
    let caller = &staff.caller;
    let org = caller.organisation_id;
    crate::bookings::service::may_run(conn, caller, id)?;
    let row = crate::schedule::queries::session_with_names(conn, org, id)?
        .ok_or_else(|| AppError::not_found("session"))?;
    let tz = crate::calendar::timezone(conn, org)?;
    let all = crate::bookings::queries::of_session(conn, id)?;
    let ids: Vec<BookingId> = all.iter().map(|(b, _)| b.id).collect();
    let loaners = crate::bookings::loaners::statuses(conn, &ids)?;
    let mut people = Vec::new();
    let mut waiting = Vec::new();
    for (b, r) in &all {
        match b.status {
            BookingStatus::Confirmed => {
                let (paid, refunded) = crate::fees::queries::booking_totals(conn, b.id)?;
                let current = b.attendance.as_deref();
                let loan = crate::devices::queries::open_loan_of_booking(conn, b.id)?;
                let claim = loaners.get(&b.id.to_string()).map(String::as_str);
                people.push(Person {
                    id: b.id,
                    name: r.display_name(),
                    mark: mark_word(current).to_owned(),
                    loaner: matches!(claim, Some("reserved" | "out")),
                    wants_loaner: b.needs_loaner
                        || matches!(claim, Some("reserved" | "waitlisted")),
                    lent_tag: loan
                        .as_ref()
                        .map(|(_, tag)| tag.clone())
                        .unwrap_or_default(),
                    loan_id: loan
                        .as_ref()
                        .map(|(l, _)| l.id.to_string())
                        .unwrap_or_default(),
                    walk_in: b.channel == crate::bookings::types::Channel::WalkIn,
                    due: (i64::from(b.fee_due_yen) - paid + refunded).max(0),
                    buttons: [("present", "出席"), ("late", "遅刻"), ("absent", "欠席")]
                        .into_iter()
                        .map(|(value, label)| MarkButton {
                            value,
                            label,
                            pressed: current == Some(value),
                        })
                        .collect(),
                });
            }
            BookingStatus::Waitlisted => waiting.push(r.display_name()),
            BookingStatus::Offered => {
                waiting.push(format!("{}（席を取り置き中）", r.display_name()))
            }
            BookingStatus::Cancelled | BookingStatus::Applied => {}
        }
    }
    let (_, collected, refunded) = crate::fees::queries::session_totals(conn, id)?;
    let present = people
        .iter()
        .filter(|p| p.mark == "出席" || p.mark == "遅刻")
        .count();
    let loaner_count = people.iter().filter(|p| p.loaner).count();
    let starts = row
        .0
        .starts_at
        .and_utc()
        .with_timezone(&tz)
        .format("%H:%M")
        .to_string();
    Ok(RosterBody {
        s: SessionHead {
            id,
            when: super::desk::when(&row, &tz),
            starts,
            course: row.2.clone(),
            venue: row.5.clone(),
            taken: row.0.seats_taken,
            capacity: row.0.capacity,
        },
        people,
        waiting,
        present,
        loaners: loaner_count,
        collected: collected - refunded,
        started: Utc::now().naive_utc() >= row.0.starts_at,
        flash: String::new(),
        error: String::new(),
    })
}

async fn roster_page(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    let id = SessionId(id.into_inner());
    let who = staff.clone();
    let b = state.db(move |conn| roster_of(conn, &who, id)).await?;
    let title = format!("{} {}（{}）", b.s.when, b.s.course, b.s.venue);
    let body = b
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))?;
    html(
        StatusCode::OK,
        Roster {
            page: Page::of(&staff),
            title,
            body,
        },
    )
}

/// Runs a change, then answers the roster as it now stands with a line
/// saying what happened (or what went wrong, keeping the roster).
async fn change_then_roster<F>(
    state: &AppState,
    staff: &Staff,
    id: SessionId,
    change: F,
) -> ConsoleResult
where
    F: FnOnce(&mut crate::db::DbConnection, &Staff) -> Result<String, AppError> + Send + 'static,
{
    let who = staff.clone();
    let done = state.write(move |conn| change(conn, &who)).await;
    let (flash, error) = match done {
        Ok(flash) => (flash, String::new()),
        Err(e @ AppError::Client(_)) => (String::new(), super::in_japanese(&e)),
        Err(e) => return Err(e.into()),
    };
    let who = staff.clone();
    let mut body = state.db(move |conn| roster_of(conn, &who, id)).await?;
    body.flash = flash;
    body.error = error;
    html(StatusCode::OK, body)
}

#[derive(Deserialize)]
struct MarkForm {
    booking_id: Uuid,
    attendance: Attendance,
}

async fn mark(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<MarkForm>,
) -> ConsoleResult {
    let id = SessionId(id.into_inner());
    let form = form.into_inner();
    let opens = state.settings.attendance.opens_minutes_before;
    change_then_roster(&state, &staff, id, move |conn, staff| {
        crate::bookings::service::mark(
            conn,
            &staff.caller,
            id,
            &[AttendanceMark {
                booking_id: form.booking_id,
                attendance: form.attendance,
            }],
            opens,
        )?;
        Ok(String::new())
    })
    .await
}

#[derive(Deserialize)]
struct FeeForm {
    booking_id: Uuid,
}

async fn take_fee(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<FeeForm>,
) -> ConsoleResult {
    let id = SessionId(id.into_inner());
    let booking = BookingId(form.into_inner().booking_id);
    change_then_roster(&state, &staff, id, move |conn, staff| {
        let (paid, refunded) = crate::fees::queries::booking_totals(conn, booking)?;
        let row = crate::bookings::queries::find(conn, staff.caller.organisation_id, booking)?
            .ok_or_else(|| AppError::not_found("booking"))?;
        let due = i64::from(row.fee_due_yen) - paid + refunded;
        let amount = crate::fees::service::amount(due)?;
        let tz = crate::calendar::timezone(conn, staff.caller.organisation_id)?;
        let payment = crate::fees::service::take_payment(
            conn,
            &staff.caller,
            tz,
            &crate::fees::service::PaymentRequest {
                booking,
                amount,
                allow_overpayment: false,
            },
        )?;
        Ok(format!(
            "{}円を受け取りました。領収書番号 {}",
            payment.amount_yen, payment.receipt_number
        ))
    })
    .await
}

#[derive(Deserialize)]
struct WalkInForm {
    resident_id: Option<Uuid>,
    family_name: Option<String>,
    given_name: Option<String>,
    family_name_kana: Option<String>,
    given_name_kana: Option<String>,
}

async fn walk_in(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<WalkInForm>,
) -> ConsoleResult {
    let id = SessionId(id.into_inner());
    let f = form.into_inner();
    let who = match f.resident_id {
        Some(r) => crate::bookings::service::WalkInWho::Registered(crate::db::ResidentId(r)),
        None => {
            let input = crate::residents::types::ResidentInput {
                family_name: f.family_name,
                given_name: f.given_name,
                family_name_kana: f.family_name_kana,
                given_name_kana: f.given_name_kana,
                ..Default::default()
            };
            match input.parse(true) {
                Ok(c) => crate::bookings::service::WalkInWho::New(Box::new(c)),
                Err(e) => return message("error", &super::in_japanese(&e)),
            }
        }
    };
    let turnaround = state.settings.loaners.turnaround_minutes;
    change_then_roster(&state, &staff, id, move |conn, staff| {
        let row = crate::bookings::service::walk_in_anyone(
            conn,
            &staff.caller,
            id,
            who,
            crate::bookings::service::WalkInLoaner {
                needs_loaner: false,
                if_none_free: None,
                turnaround_minutes: turnaround,
            },
            true,
        )?;
        let (_, r) = crate::bookings::queries::with_resident(conn, row.id)?;
        Ok(format!(
            "{} さんを当日参加で追加しました（出席）。",
            r.display_name()
        ))
    })
    .await
}

#[derive(Template)]
#[template(path = "console/close_confirm.html")]
struct CloseConfirm {
    id: SessionId,
    no_shows: usize,
}

async fn close_confirm(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    let id = SessionId(id.into_inner());
    let who = staff.clone();
    let body = state.db(move |conn| roster_of(conn, &who, id)).await?;
    if !body.started {
        return message("error", "開始前は終了できません。");
    }
    let no_shows = body.people.iter().filter(|p| p.mark.is_empty()).count();
    html(StatusCode::OK, CloseConfirm { id, no_shows })
}

async fn close(state: web::Data<AppState>, staff: Staff, id: web::Path<Uuid>) -> ConsoleResult {
    let id = SessionId(id.into_inner());
    change_then_roster(&state, &staff, id, move |conn, staff| {
        let no_shows = crate::bookings::service::close(conn, &staff.caller, id)?;
        Ok(format!(
            "教室を終了しました。無断欠席 {no_shows}人を記録しました。"
        ))
    })
    .await
}

#[derive(Template)]
#[template(path = "console/walkin_results.html")]
struct WalkInResults {
    session: SessionId,
    rows: Vec<super::desk::Found>,
}

#[derive(Deserialize)]
struct SearchForm {
    q: String,
}

/// Finds a registered resident to add as a walk-in (for those who may run
/// the session; the term is posted, not put in a URL).
async fn walk_in_search(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<SearchForm>,
) -> ConsoleResult {
    let session = SessionId(id.into_inner());
    let q = form.into_inner().q.trim().to_owned();
    let caller = staff.caller.clone();
    let rows = state
        .db(move |conn| {
            crate::bookings::service::may_run(conn, &caller, session)?;
            if q.is_empty() {
                return Ok(Vec::new());
            }
            let filter = crate::residents::types::ResidentFilter {
                q: Some(q),
                district: None,
                limit: None,
                cursor: None,
            };
            Ok(crate::residents::queries::list(
                conn,
                caller.organisation_id,
                &filter,
                10,
            )?)
        })
        .await?;
    html(
        StatusCode::OK,
        WalkInResults {
            session,
            rows: rows.iter().map(super::desk::found).collect(),
        },
    )
}

#[derive(Deserialize)]
struct LendForm {
    booking_id: Uuid,
    asset_tag: String,
}

/// Lends a phone by its asset tag against the booking's reservation.
async fn lend(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<LendForm>,
) -> ConsoleResult {
    let id = SessionId(id.into_inner());
    let form = form.into_inner();
    let turnaround = state.settings.loaners.turnaround_minutes;
    change_then_roster(&state, &staff, id, move |conn, staff| {
        let tag = form.asset_tag.trim().to_owned();
        let device =
            crate::devices::queries::find_by_tag(conn, staff.caller.organisation_id, &tag)?
                .ok_or_else(|| {
                    AppError::invalid_field(
                        "asset_tag",
                        format!("管理番号 {tag} の端末はありません"),
                    )
                })?;
        let request = crate::devices::types::NewLoan {
            device_id: device.id.0,
            booking_id: Some(form.booking_id),
            resident_id: None,
            due_on: None,
        };
        crate::devices::service::lend(conn, &staff.caller, &request, turnaround)?;
        Ok(format!("{tag} を貸し出しました。"))
    })
    .await
}

#[derive(Deserialize)]
struct ReturnForm {
    loan_id: Uuid,
}

/// Takes a phone back in good order.
async fn take_back(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<ReturnForm>,
) -> ConsoleResult {
    let id = SessionId(id.into_inner());
    let loan = crate::db::LoanId(form.into_inner().loan_id);
    change_then_roster(&state, &staff, id, move |conn, staff| {
        crate::devices::service::return_loan(
            conn,
            &staff.caller,
            loan,
            "good",
            crate::devices::types::DeviceStatus::Available,
        )?;
        Ok("返却を受けました。".to_owned())
    })
    .await
}
