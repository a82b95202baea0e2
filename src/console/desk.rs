//! The phone desk: find a resident as they speak, their page, a new
//! resident with duplicates shown first, booking and cancelling, enrolling
//! in a whole course, and finding a session.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{ConsoleError, ConsoleResult, Page, Staff, html, hx_redirect, message, redirect};
use crate::auth::WRITERS;
use crate::bookings::types::{BookingStatus, Channel, NewBooking};
use crate::db::{BookingId, CourseId, DbConnection, ResidentId, SeriesId, SessionId, VenueId};
use crate::error::AppError;
use crate::messages::letters;
use crate::residents::types::{ResidentFilter, ResidentInput, ResidentRow};
use crate::schedule::queries::SessionListRow;
use crate::schedule::types::SessionFilter;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(desk))
        .route("/desk/search", web::post().to(search))
        .route("/residents/new", web::get().to(new_resident_page))
        .route("/residents/new", web::post().to(new_resident))
        .route("/residents/{id}", web::get().to(resident_page))
        .route("/residents/{id}/book", web::post().to(book))
        .route("/residents/{id}/enrol", web::post().to(enrol))
        .route("/bookings/{id}/cancel", web::post().to(cancel))
        .route("/bookings/{id}/accept-offer", web::post().to(accept_offer))
        .route(
            "/bookings/{id}/decline-offer",
            web::post().to(decline_offer),
        )
        .route("/sessions", web::get().to(sessions_page));
}

/// The desk is for the office (admins, coordinators).
fn office(staff: &Staff) -> Result<(), ConsoleError> {
    staff.caller.require(WRITERS).map_err(ConsoleError::from)
}

#[derive(Template)]
#[template(path = "console/desk.html")]
struct Desk {
    page: Page,
}

async fn desk(staff: Staff) -> ConsoleResult {
    if office(&staff).is_err() {
        return Ok(redirect("/today"));
    }
    html(
        StatusCode::OK,
        Desk {
            page: Page::of(&staff),
        },
    )
}

pub struct Found {
    pub id: ResidentId,
    pub name: String,
    pub kana: String,
    pub extra: String,
}

pub fn found(r: &ResidentRow) -> Found {
    let mut extra = Vec::new();
    if let Some(y) = r.birth_year {
        extra.push(format!("{y}年生"));
    }
    if let Some(p) = &r.phone {
        extra.push(p.clone());
    }
    Found {
        id: r.id,
        name: r.display_name(),
        kana: format!("{} {}", r.family_name_kana, r.given_name_kana),
        extra: extra.join(" "),
    }
}

#[derive(Template)]
#[template(path = "console/results.html")]
struct Results {
    rows: Vec<Found>,
}

#[derive(Deserialize)]
struct SearchForm {
    q: String,
}

/// Names, kana in any script, phone digits, or a booking reference; the
/// term travels in the body, never in a URL.
async fn search(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<SearchForm>,
) -> ConsoleResult {
    office(&staff)?;
    let q = form.into_inner().q.trim().to_owned();
    if q.chars().count() < 1 {
        return html(StatusCode::OK, Results { rows: Vec::new() });
    }
    let caller = staff.caller.clone();
    let rows = state
        .db(move |conn| {
            let mut rows: Vec<ResidentRow> = Vec::new();
            let compact: String = q
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect();
            if compact.len() == 6 && compact.chars().all(|c| c.is_ascii_alphanumeric()) {
                let code = compact.to_ascii_uppercase();
                let filter = crate::bookings::types::BookingFilter {
                    reference: Some(code.clone()),
                    resident_id: None,
                    session_id: None,
                    status: None,
                    limit: None,
                    cursor: None,
                };
                for (_, r) in crate::bookings::queries::list(
                    conn,
                    caller.organisation_id,
                    &filter,
                    Some(&code),
                    5,
                    None,
                )? {
                    rows.push(r);
                }
            }
            let filter = ResidentFilter {
                q: Some(q),
                district: None,
                limit: None,
                cursor: None,
            };
            for r in crate::residents::queries::list(conn, caller.organisation_id, &filter, 20)? {
                if !rows.iter().any(|x| x.id == r.id) {
                    rows.push(r);
                }
            }
            Ok(rows)
        })
        .await;
    match rows {
        Ok(rows) => html(
            StatusCode::OK,
            Results {
                rows: rows.iter().map(found).collect(),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

pub struct Shown {
    pub id: ResidentId,
    pub name: String,
    pub kana: String,
    pub birth: String,
    pub phone: String,
    pub email: String,
    pub contact: String,
    pub device: String,
    pub needs: String,
    pub district: String,
    pub attended: i64,
    pub no_shows: i64,
}

pub struct BookingLine {
    pub id: BookingId,
    pub when: String,
    pub course: String,
    pub venue: String,
    pub status: String,
    pub reference: String,
    /// A seat is held for them: answer by then (`12月3日（木）15:00`), else empty.
    pub offered_until: String,
}

pub struct Choice {
    pub id: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "console/resident.html")]
struct ResidentPage {
    page: Page,
    r: Shown,
    upcoming: Vec<BookingLine>,
    past: Vec<BookingLine>,
    sessions: Vec<Choice>,
    series: Vec<Choice>,
    /// 「最近6か月に2回、無断欠席があります（10月1日（水）、11月5日（水））」 or empty.
    no_show_warning: String,
}

fn status_word(b: &crate::bookings::types::BookingRow, position: Option<i64>) -> String {
    match b.status {
        BookingStatus::Confirmed => match super::tablet::mark_word(b.attendance.as_deref()) {
            "" => "予約済み".into(),
            word => word.into(),
        },
        BookingStatus::Waitlisted => match position {
            Some(p) => format!("キャンセル待ち（{p}番目）"),
            None => "キャンセル待ち".into(),
        },
        BookingStatus::Cancelled => "取消".into(),
        BookingStatus::Applied => "抽選に申込み済み（抽選前）".into(),
        BookingStatus::Offered => "席を取り置き中（返事待ち）".into(),
    }
}

/// How a session reads in a list: `2月2日（火）14:00〜16:00`.
pub fn when(row: &SessionListRow, tz: &chrono_tz::Tz) -> String {
    let full = letters::when(row.0.starts_at.and_utc(), row.0.ends_at.and_utc(), tz);
    full.split_once('年')
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or(full)
}

fn session_choice(row: &SessionListRow, tz: &chrono_tz::Tz) -> Choice {
    let s = &row.0;
    let left = (s.capacity - s.seats_taken).max(0);
    let seats = if left == 0 {
        format!("満席・キャンセル待ち{}人", s.waitlist_count)
    } else {
        format!("残り{left}席")
    };
    Choice {
        id: s.id.to_string(),
        label: format!("{} {}（{}） {seats}", when(row, tz), row.2, row.5),
    }
}

async fn resident_page(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    office(&staff)?;
    let id = ResidentId(id.into_inner());
    let caller = staff.caller.clone();
    let (warn_count, warn_months) = (
        state.settings.attendance.no_show_warning_count,
        state.settings.attendance.no_show_months,
    );
    let ((r, upcoming, past, sessions, series), no_show_warning) = state
        .db(move |conn| {
            let org = caller.organisation_id;
            let row = crate::residents::queries::find(conn, org, id)?
                .ok_or_else(|| AppError::not_found("resident"))?;
            let warning = crate::bookings::service::no_show_warning(conn, org, id, warn_count, warn_months)?
                .map(|w| {
                    format!(
                        "この方は最近{warn_months}か月に{}回、無断欠席があります（{}）。予約のときに、来られるかをご確認ください。",
                        w.dates.len(),
                        w.dates.iter().map(|d| super::desk::when_day(*d)).collect::<Vec<_>>().join("、")
                    )
                })
                .unwrap_or_default();
            let (attended, no_shows) = crate::residents::queries::attendance_counts(conn, id)?;
            let tz = crate::calendar::timezone(conn, org)?;
            let now = Utc::now().naive_utc();
            let mut upcoming = Vec::new();
            let mut past = Vec::new();
            for b in crate::bookings::queries::of_resident(conn, id)? {
                let Some(s) =
                    crate::schedule::queries::session_with_names(conn, org, b.session_id)?
                else {
                    continue;
                };
                let position = crate::bookings::queries::waitlist_position(conn, &b)?;
                let line = BookingLine {
                    id: b.id,
                    when: when(&s, &tz),
                    course: s.2.clone(),
                    venue: s.5.clone(),
                    status: status_word(&b, position),
                    reference: letters::spaced(&b.reference),
                    offered_until: b
                        .offer_expires_at
                        .filter(|_| b.status == BookingStatus::Offered)
                        .map(|t| letters::at(t.and_utc(), &tz))
                        .unwrap_or_default(),
                };
                if s.0.starts_at > now && b.status != BookingStatus::Cancelled {
                    upcoming.push((s.0.starts_at, line));
                } else {
                    past.push((s.0.starts_at, line));
                }
            }
            upcoming.sort_by_key(|(t, _)| *t);
            past.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
            let list = crate::schedule::queries::list_sessions(
                conn,
                org,
                &SessionFilter::default(),
                None,
                None,
                200,
            )?;
            let sessions = list.iter().map(|s| session_choice(s, &tz)).collect();
            let filter = crate::schedule::types::SeriesFilter {
                venue_id: None,
                course_id: None,
                limit: None,
                cursor: None,
            };
            let mut series = Vec::new();
            for s in crate::schedule::queries::list_series(conn, org, &filter, 200)? {
                if !s.active {
                    continue;
                }
                let course = crate::courses::queries::find(conn, org, s.course_id)?
                    .map(|c| c.title)
                    .unwrap_or_default();
                let venue = crate::venues::queries::find(conn, org, s.venue_id)?
                    .map(|v| v.name)
                    .unwrap_or_default();
                series.push(Choice {
                    id: s.id.to_string(),
                    label: format!(
                        "{course}（{venue}）{}から",
                        s.starts_on.format("%-m月%-d日")
                    ),
                });
            }
            let shown = Shown {
                id: row.id,
                name: row.display_name(),
                kana: format!("{} {}", row.family_name_kana, row.given_name_kana),
                birth: row
                    .birth_year
                    .map(|y| format!("{y}年"))
                    .unwrap_or_else(|| "未記入".into()),
                phone: row.phone.clone().unwrap_or_else(|| "なし".into()),
                email: row.email.clone().unwrap_or_else(|| "なし".into()),
                contact: match row.contact_preference.as_str() {
                    "email" => "メール",
                    "phone" => "電話",
                    _ => "連絡しない",
                }
                .to_owned(),
                device: row.device.clone().unwrap_or_else(|| "未記入".into()),
                needs: if row.accessibility_needs.is_empty() || row.accessibility_needs == "[]" {
                    "なし".into()
                } else {
                    row.accessibility_needs.clone()
                },
                district: row.district.clone().unwrap_or_else(|| "未記入".into()),
                attended,
                no_shows,
            };
            Ok((
                (
                    shown,
                    upcoming.into_iter().map(|(_, l)| l).collect(),
                    past.into_iter().map(|(_, l)| l).collect(),
                    sessions,
                    series,
                ),
                warning,
            ))
        })
        .await?;
    html(
        StatusCode::OK,
        ResidentPage {
            page: Page::of(&staff),
            r,
            upcoming,
            past,
            sessions,
            series,
            no_show_warning,
        },
    )
}

#[derive(Template)]
#[template(path = "console/booked.html")]
struct Booked {
    waitlisted: bool,
    /// An application to a lottery, before its draw.
    applied: bool,
    position: i64,
    loaner: String,
    reference: String,
    reading: String,
    fee: i32,
}

#[derive(Deserialize)]
struct BookForm {
    session_id: Uuid,
    needs_loaner: Option<String>,
    notes: Option<String>,
}

async fn book(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<BookForm>,
) -> ConsoleResult {
    office(&staff)?;
    let resident = id.into_inner();
    let form = form.into_inner();
    let turnaround = state.settings.loaners.turnaround_minutes;
    let no_shows = crate::bookings::service::NoShowRule {
        count: state.settings.attendance.no_show_warning_count,
        months: state.settings.attendance.no_show_months,
    };
    let caller = staff.caller.clone();
    let done = state
        .write(move |conn| {
            let request = NewBooking {
                resident_id: resident,
                channel: Channel::Phone,
                needs_loaner: form.needs_loaner.is_some(),
                notes: form.notes.filter(|n| !n.trim().is_empty()),
                override_window_reason: None,
                // On the phone: a seat without a phone rather than nothing;
                // the answer says so.
                if_no_loaner: Some(crate::bookings::types::NoLoaner::Waitlist),
                fee_exemption_reason: None,
                override_eligibility_reason: None,
            };
            let booked = crate::bookings::service::book(
                conn,
                &caller,
                SessionId(form.session_id),
                &request,
                turnaround,
                no_shows,
            )?;
            Ok((booked.row, booked.position, booked.loaner))
        })
        .await;
    match done {
        Ok((row, position, loaner)) => html(
            StatusCode::OK,
            Booked {
                waitlisted: row.status == BookingStatus::Waitlisted,
                applied: row.status == BookingStatus::Applied,
                position: position.unwrap_or(0),
                loaner,
                reference: letters::spaced(&row.reference),
                reading: letters::reading(&row.reference),
                fee: row.fee_due_yen,
            },
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct EnrolForm {
    series_id: Uuid,
}

async fn enrol(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<EnrolForm>,
) -> ConsoleResult {
    office(&staff)?;
    let terms = crate::bookings::enrolment::Terms {
        resident: id.into_inner(),
        channel: Channel::Phone,
        needs_loaner: false,
        if_no_loaner: None,
        override_eligibility_reason: None,
    };
    let series = SeriesId(form.into_inner().series_id);
    let turnaround = state.settings.loaners.turnaround_minutes;
    let caller = staff.caller.clone();
    let done = state
        .write(move |conn| {
            crate::bookings::enrolment::enrol(conn, &caller, series, &terms, turnaround)
        })
        .await;
    match done {
        Ok(e) => message(
            "success",
            &format!(
                "全{}回を予約しました。予約番号は回ごとにメール・お電話でお知らせします。",
                e.bookings.len()
            ),
        ),
        Err(AppError::Client(c)) if c.code == "session_full" => message(
            "error",
            "満席の回があるため、申し込めませんでした。全部の回に席があるときだけ申し込めます（1回も予約していません）。",
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct CancelForm {
    reason: String,
}

/// The resident said yes to the seat held for them.
async fn accept_offer(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    office(&staff)?;
    let id = BookingId(id.into_inner());
    let turnaround = state.settings.loaners.turnaround_minutes;
    let caller = staff.caller.clone();
    state
        .write(move |conn| {
            let actor = crate::audit::Actor::staff(caller.organisation_id, caller.account_id);
            crate::bookings::offers::accept(conn, actor, id, turnaround)
        })
        .await?;
    message(
        "success",
        "予約が確定しました。予約番号を読み上げてください。",
    )
}

/// The resident does not want the seat held for them: it goes to the next.
async fn decline_offer(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    office(&staff)?;
    let id = BookingId(id.into_inner());
    let turnaround = state.settings.loaners.turnaround_minutes;
    let caller = staff.caller.clone();
    let next = state
        .write(move |conn| {
            let actor = crate::audit::Actor::staff(caller.organisation_id, caller.account_id);
            let (_, freed) = crate::bookings::offers::decline(
                conn,
                actor,
                id,
                "the resident declined the offered seat",
                turnaround,
            )?;
            match freed.offered().or(freed.promoted()) {
                Some(next) => {
                    let (_, r) = crate::bookings::queries::with_resident(conn, next)?;
                    Ok(Some(r.display_name()))
                }
                None => Ok(None),
            }
        })
        .await?;
    match next {
        Some(who) => message(
            "success",
            &format!(
                "辞退を記録しました。席は次にお待ちの {who} さんに回しました（電話連絡リストに入っています）。"
            ),
        ),
        None => message(
            "success",
            "辞退を記録しました。お待ちの方がいないため、席は空きになりました。",
        ),
    }
}

async fn cancel(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<CancelForm>,
) -> ConsoleResult {
    office(&staff)?;
    let id = BookingId(id.into_inner());
    let reason = crate::validate::required_text(&form.into_inner().reason, 500)
        .map_err(|m| AppError::invalid_field("reason", m))?;
    let turnaround = state.settings.loaners.turnaround_minutes;
    let caller = staff.caller.clone();
    let done = state
        .write(move |conn| {
            let (_, freed) =
                crate::bookings::service::cancel(conn, &caller, id, &reason, turnaround, true)?;
            let Some(next) = freed.promoted().or(freed.offered()) else {
                return Ok(None);
            };
            let (b, r) = crate::bookings::queries::with_resident(conn, next)?;
            let who = format!(
                "{}（{}）",
                r.display_name(),
                r.phone.unwrap_or_else(|| "電話なし".into())
            );
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            Ok(Some(match b.offer_expires_at {
                Some(until) if freed.offered().is_some() => format!(
                    "取り消しました。キャンセル待ちの {who} さんに、{}まで席を取り置きました。電話でお知らせして、お返事を記録してください（電話連絡リストにも入っています）。",
                    letters::at(until.and_utc(), &tz)
                ),
                _ => format!(
                    "取り消しました。キャンセル待ちから {who} さんが繰り上がりました。電話でお知らせしてください（電話連絡リストにも入っています）。"
                ),
            }))
        })
        .await;
    match done {
        Ok(Some(said)) => message("success", &said),
        Ok(None) => message("success", "取り消しました。"),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console/new_resident.html")]
struct NewResident {
    page: Page,
}

async fn new_resident_page(staff: Staff) -> ConsoleResult {
    office(&staff)?;
    html(
        StatusCode::OK,
        NewResident {
            page: Page::of(&staff),
        },
    )
}

#[derive(Deserialize)]
struct NewResidentForm {
    family_name: String,
    given_name: String,
    family_name_kana: String,
    given_name_kana: String,
    phone: Option<String>,
    birth_year: Option<String>,
    contact_preference: Option<String>,
    consent_contact: Option<String>,
    confirm_new_person: Option<String>,
}

#[derive(Template)]
#[template(path = "console/duplicates.html")]
struct Duplicates {
    rows: Vec<Found>,
}

async fn new_resident(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<NewResidentForm>,
) -> ConsoleResult {
    office(&staff)?;
    let f = form.into_inner();
    let birth_year = match f
        .birth_year
        .as_deref()
        .map(str::trim)
        .filter(|y| !y.is_empty())
    {
        None => None,
        Some(y) => match y.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return message(
                    "error",
                    "生まれ年は、西暦の数字で書いてください（例：1948）。",
                );
            }
        },
    };
    let input = ResidentInput {
        family_name: Some(f.family_name),
        given_name: Some(f.given_name),
        family_name_kana: Some(f.family_name_kana),
        given_name_kana: Some(f.given_name_kana),
        phone: f.phone.filter(|p| !p.trim().is_empty()),
        birth_year,
        contact_preference: f.contact_preference,
        consent_contact: Some(f.consent_contact.is_some()),
        ..Default::default()
    };
    let confirm = f.confirm_new_person.is_some();
    let changes = match input.parse(true) {
        Ok(c) => c,
        Err(e) => return message("error", &super::in_japanese(&e)),
    };
    let caller = staff.caller.clone();
    let done = state
        .write(move |conn| {
            crate::residents::service::create(
                conn,
                caller.organisation_id,
                caller.account_id,
                changes,
                confirm,
            )
        })
        .await;
    match done {
        Ok(row) => Ok(hx_redirect(&format!("/residents/{}", row.id))),
        Err(AppError::Client(c)) if c.code == "possible_duplicate" => {
            let rows = c
                .extensions
                .get("candidates")
                .and_then(|v| v.as_array())
                .map(|list| {
                    list.iter()
                        .filter_map(|r| {
                            Some(Found {
                                id: ResidentId(r["id"].as_str()?.parse().ok()?),
                                name: format!(
                                    "{} {}",
                                    r["family_name"].as_str()?,
                                    r["given_name"].as_str()?
                                ),
                                kana: format!(
                                    "{} {}",
                                    r["family_name_kana"].as_str().unwrap_or(""),
                                    r["given_name_kana"].as_str().unwrap_or("")
                                ),
                                extra: r["birth_year"]
                                    .as_i64()
                                    .map(|y| format!("{y}年生"))
                                    .unwrap_or_default(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            html(StatusCode::OK, Duplicates { rows })
        }
        Err(e) => Err(e.into()),
    }
}

pub struct SessionLine {
    pub id: SessionId,
    pub when: String,
    pub day_note: String,
    pub course: String,
    pub venue: String,
    pub full: bool,
    pub left: i32,
    pub waitlist: i32,
    /// 「抽選（申込 5人・12月3日（木）10:00に抽選）」, 「抽選済み」 or empty.
    pub lottery: String,
}

#[derive(Template)]
#[template(path = "console/sessions.html")]
struct Sessions {
    page: Page,
    courses: Vec<(String, String, bool)>,
    venues: Vec<(String, String, bool)>,
    date: String,
    rows: Vec<SessionLine>,
}

#[derive(Deserialize)]
struct SessionQuery {
    course_id: Option<String>,
    venue_id: Option<String>,
    date: Option<String>,
}

/// 祝日 or 休館日 on the session's day, in words (not colour alone).
fn day_note(
    conn: &mut DbConnection,
    org: crate::db::OrganisationId,
    venue: VenueId,
    local_start: chrono::NaiveDateTime,
) -> Result<String, AppError> {
    let closed = crate::calendar::closures(conn, org, Some(venue))?
        .iter()
        .any(|(from, to)| *from <= local_start && local_start < *to);
    Ok(if closed {
        "休館日".into()
    } else if crate::calendar::holidays::Calendar::new().is_holiday(local_start.date()) {
        "祝日".into()
    } else {
        String::new()
    })
}

async fn sessions_page(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<SessionQuery>,
) -> ConsoleResult {
    let q = q.into_inner();
    let course: Option<Uuid> = q
        .course_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok());
    let venue: Option<Uuid> = q
        .venue_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok());
    let date: Option<NaiveDate> = q
        .date
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok());
    let caller = staff.caller.clone();
    let (courses, venues, rows) = state
        .db(move |conn| {
            let org = caller.organisation_id;
            let tz = crate::calendar::timezone(conn, org)?;
            let filter = SessionFilter {
                from: date.map(|d| {
                    let mut at = crate::calendar::Instant::Day(d);
                    at.resolve_start(tz);
                    at
                }),
                course_id: course,
                venue_id: venue,
                ..Default::default()
            };
            let list =
                crate::schedule::queries::list_sessions(conn, org, &filter, None, None, 100)?;
            let mut rows = Vec::new();
            for s in &list {
                let local = s.0.starts_at.and_utc().with_timezone(&tz).naive_local();
                rows.push(SessionLine {
                    id: s.0.id,
                    when: when(s, &tz),
                    day_note: day_note(conn, org, s.0.venue_id, local)?,
                    course: s.2.clone(),
                    venue: s.5.clone(),
                    full: s.0.seats_taken >= s.0.capacity,
                    left: (s.0.capacity - s.0.seats_taken).max(0),
                    waitlist: s.0.waitlist_count,
                    lottery: super::lottery::label(&s.0, &tz),
                });
            }
            let cf = crate::courses::types::CourseFilter {
                active: Some(true),
                kind: None,
                topic: None,
                q: None,
                limit: None,
                cursor: None,
            };
            let courses = crate::courses::queries::list(conn, org, &cf, 200)?
                .into_iter()
                .map(|c| {
                    (
                        c.id.to_string(),
                        c.title,
                        Some(c.id) == course.map(CourseId),
                    )
                })
                .collect();
            let vf = crate::venues::types::VenueFilter {
                active: Some(true),
                q: None,
                limit: None,
                cursor: None,
            };
            let venues = crate::venues::queries::list(conn, org, &vf, 200)?
                .into_iter()
                .map(|v| (v.id.to_string(), v.name, Some(v.id) == venue.map(VenueId)))
                .collect();
            Ok((courses, venues, rows))
        })
        .await?;
    html(
        StatusCode::OK,
        Sessions {
            page: Page::of(&staff),
            courses,
            venues,
            date: date.map(|d| d.to_string()).unwrap_or_default(),
            rows,
        },
    )
}

/// A local date as staff read it: `2月2日（火）`.
pub fn when_day(day: NaiveDate) -> String {
    letters::day(day)
}
