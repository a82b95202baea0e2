//! Administration (admins and coordinators; the server refuses everyone
//! else): recurring series with a preview of their dates and of the days
//! they skip, named (`1/11 成人の日`), before anything is saved.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;
use uuid::Uuid;

use super::{ConsoleError, ConsoleResult, Page, Staff, html, message};
use crate::error::AppError;
use crate::schedule::types::SeriesInput;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/series/new", web::get().to(series_page))
        .route("/admin/series/preview", web::post().to(preview))
        .route("/admin/series", web::post().to(save))
        .route("/admin/cash-sheet", web::get().to(cash_sheet))
        .route("/admin/audit", web::get().to(audit))
        .route("/admin/staff", web::get().to(staff_page))
        .route("/admin/staff/{id}/role", web::post().to(change_role));
}

/// The office only: a refusal from the server, not just a hidden menu.
fn office(staff: &Staff) -> Result<(), ConsoleError> {
    staff
        .caller
        .require(crate::auth::WRITERS)
        .map_err(ConsoleError::from)
}

#[derive(Template)]
#[template(path = "console/admin_series.html")]
struct SeriesPage {
    page: Page,
    courses: Vec<(String, String)>,
    venues: Vec<(String, String)>,
}

async fn series_page(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    office(&staff)?;
    let caller = staff.caller.clone();
    let (courses, venues) = state
        .db(move |conn| {
            let org = caller.organisation_id;
            let cf = crate::courses::types::CourseFilter {
                active: Some(true),
                kind: None,
                topic: None,
                q: None,
                limit: None,
                cursor: None,
            };
            let vf = crate::venues::types::VenueFilter {
                active: Some(true),
                q: None,
                limit: None,
                cursor: None,
            };
            Ok((
                crate::courses::queries::list(conn, org, &cf, 200)?
                    .into_iter()
                    .map(|c| (c.id.to_string(), c.title))
                    .collect(),
                crate::venues::queries::list(conn, org, &vf, 200)?
                    .into_iter()
                    .map(|v| (v.id.to_string(), v.name))
                    .collect(),
            ))
        })
        .await?;
    html(
        StatusCode::OK,
        SeriesPage {
            page: Page::of(&staff),
            courses,
            venues,
        },
    )
}

#[derive(Deserialize)]
struct SeriesForm {
    course_id: Uuid,
    venue_id: Uuid,
    weekday: String,
    interval: u8,
    starts_on: NaiveDate,
    count: Option<String>,
    start_time: NaiveTime,
    end_time: NaiveTime,
    capacity: Option<String>,
    skip_public_holidays: Option<String>,
}

impl SeriesForm {
    fn input(self) -> Result<SeriesInput, AppError> {
        if !["MO", "TU", "WE", "TH", "FR", "SA", "SU"].contains(&self.weekday.as_str()) {
            return Err(AppError::invalid_field("weekday", "曜日を選んでください"));
        }
        let number = |field: &str, v: Option<String>| -> Result<Option<i64>, AppError> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => s
                    .parse()
                    .map(Some)
                    .map_err(|_| AppError::invalid_field(field, "数字で書いてください")),
            }
        };
        Ok(SeriesInput {
            course_id: Some(self.course_id),
            venue_id: Some(self.venue_id),
            rrule: Some(format!(
                "FREQ=WEEKLY;INTERVAL={};BYDAY={}",
                self.interval.clamp(1, 4),
                self.weekday
            )),
            starts_on: Some(self.starts_on),
            count: Some(number("count", self.count)?),
            start_time: Some(self.start_time),
            end_time: Some(self.end_time),
            capacity: number("capacity", self.capacity)?,
            skip_public_holidays: Some(self.skip_public_holidays.is_some()),
            ..Default::default()
        })
    }
}

#[derive(Template)]
#[template(path = "console/series_preview.html")]
struct Preview {
    dates: Vec<String>,
    skipped: Vec<String>,
}

fn short(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}/{}", d.month(), d.day())
}

async fn preview(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<SeriesForm>,
) -> ConsoleResult {
    office(&staff)?;
    let input = match form.into_inner().input() {
        Ok(i) => i,
        Err(e) => return message("error", &super::in_japanese(&e)),
    };
    let caller = staff.caller.clone();
    let app = state.clone();
    let done = state
        .db(move |conn| {
            let ctx = crate::schedule::series_routes::context(conn, &app, &caller)?;
            let (dates, skipped) = crate::schedule::service::preview_series(conn, &ctx, input)?;
            Ok((
                dates
                    .iter()
                    .map(|o| super::desk::when_day(o.date))
                    .collect::<Vec<_>>(),
                skipped
                    .into_iter()
                    .map(|(d, why)| format!("{} {why}", short(d)))
                    .collect::<Vec<_>>(),
            ))
        })
        .await;
    match done {
        Ok((dates, skipped)) => html(StatusCode::OK, Preview { dates, skipped }),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console/series_saved.html")]
struct Saved {
    added: usize,
    kept: Vec<String>,
}

async fn save(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<SeriesForm>,
) -> ConsoleResult {
    office(&staff)?;
    let input = match form.into_inner().input() {
        Ok(i) => i,
        Err(e) => return message("error", &super::in_japanese(&e)),
    };
    let caller = staff.caller.clone();
    let app = state.clone();
    let done = state
        .write(move |conn| {
            let ctx = crate::schedule::series_routes::context(conn, &app, &caller)?;
            crate::schedule::service::save_series(conn, &ctx, None, input)
        })
        .await;
    match done {
        Ok((_, report)) => html(
            StatusCode::OK,
            Saved {
                added: report.added.len(),
                kept: report.kept.iter().map(|k| k.reason.clone()).collect(),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console/cash_sheet.html")]
struct CashSheet {
    page: Page,
    venues: Vec<(String, String, bool)>,
    venue: String,
    date: String,
    day: String,
    rows: Vec<(String, String, &'static str, i32)>,
    paid: i64,
    refunded: i64,
    net: i64,
}

#[derive(Deserialize)]
struct CashQuery {
    venue_id: Option<String>,
    date: Option<String>,
}

/// A venue's payments and refunds of a day, printable (the same rows as
/// `GET /venues/{id}/cash-sheet`).
async fn cash_sheet(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<CashQuery>,
) -> ConsoleResult {
    office(&staff)?;
    let q = q.into_inner();
    let chosen: Option<Uuid> = q.venue_id.as_deref().and_then(|v| v.parse().ok());
    let date: Option<NaiveDate> = q.date.as_deref().and_then(|d| d.parse().ok());
    let caller = staff.caller.clone();
    let sheet = state
        .db(move |conn| {
            let org = caller.organisation_id;
            let tz = crate::calendar::timezone(conn, org)?;
            let date = date.unwrap_or_else(|| crate::calendar::today(tz));
            let vf = crate::venues::types::VenueFilter {
                active: None,
                q: None,
                limit: None,
                cursor: None,
            };
            let all = crate::venues::queries::list(conn, org, &vf, 200)?;
            let venue = chosen
                .map(crate::db::VenueId)
                .or_else(|| all.first().map(|v| v.id))
                .ok_or_else(|| AppError::not_found("venue"))?;
            let rows = crate::fees::service::cash_sheet_rows(conn, &caller, venue, date)?;
            let (mut paid, mut refunded) = (0i64, 0i64);
            let lines = rows
                .into_iter()
                .map(|(p, course, _)| {
                    let refund = p.kind == "refund";
                    if refund {
                        refunded += i64::from(p.amount_yen);
                    } else {
                        paid += i64::from(p.amount_yen);
                    }
                    (
                        p.receipt_number,
                        course,
                        if refund { "返金" } else { "入金" },
                        p.amount_yen,
                    )
                })
                .collect();
            let name = all
                .iter()
                .find(|v| v.id == venue)
                .map(|v| v.name.clone())
                .unwrap_or_default();
            Ok(CashSheet {
                page: Page::of(&staff),
                venues: all
                    .iter()
                    .map(|v| (v.id.to_string(), v.name.clone(), v.id == venue))
                    .collect(),
                venue: name,
                date: date.to_string(),
                day: super::desk::when_day(date),
                rows: lines,
                paid,
                refunded,
                net: paid - refunded,
            })
        })
        .await?;
    html(StatusCode::OK, sheet)
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct Audit {
    page: Page,
    action: String,
    from: String,
    rows: Vec<(String, String, String, String)>,
}

#[derive(Deserialize)]
struct AuditQuery {
    action: Option<String>,
    from: Option<String>,
}

/// The audit log (admins, as in the API), newest first, with filters.
async fn audit(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<AuditQuery>,
) -> ConsoleResult {
    staff
        .caller
        .require(&[crate::auth::Role::Admin])
        .map_err(ConsoleError::from)?;
    let q = q.into_inner();
    let action = q.action.unwrap_or_default().trim().to_owned();
    let from_day: Option<NaiveDate> = q.from.as_deref().and_then(|d| d.parse().ok());
    let caller = staff.caller.clone();
    let filter_action = action.clone();
    let rows = state
        .db(move |conn| {
            let org = caller.organisation_id;
            let tz = crate::calendar::timezone(conn, org)?;
            let mut filter = crate::audit::types::AuditFilter {
                action: (!filter_action.is_empty()).then_some(filter_action),
                from: from_day.map(crate::calendar::Instant::Day),
                ..Default::default()
            };
            crate::calendar::instant::resolve(&mut filter.from, &mut filter.to, tz);
            let mut names = std::collections::HashMap::new();
            let mut out = Vec::new();
            let mut found = crate::audit::queries::list(conn, org, &filter, 200)?;
            found.reverse();
            for r in found {
                let who = match r.actor_id {
                    Some(a) => {
                        if let std::collections::hash_map::Entry::Vacant(e) = names.entry(a) {
                            let name = crate::staff::queries::find(conn, org, a)?
                                .map(|s| s.name)
                                .unwrap_or_default();
                            e.insert(name);
                        }
                        names[&a].clone()
                    }
                    None => "システム".to_owned(),
                };
                let at = r.created_at.and_utc().with_timezone(&tz);
                out.push((
                    format!(
                        "{} {}",
                        super::desk::when_day(at.date_naive()),
                        at.format("%H:%M")
                    ),
                    who,
                    r.action,
                    r.summary,
                ));
            }
            Ok(out)
        })
        .await?;
    html(
        StatusCode::OK,
        Audit {
            page: Page::of(&staff),
            action,
            from: from_day.map(|d| d.to_string()).unwrap_or_default(),
            rows,
        },
    )
}

pub struct StaffLine {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "console/staff.html")]
struct StaffPage {
    page: Page,
    rows: Vec<StaffLine>,
    roles: Vec<(&'static str, &'static str)>,
}

const ROLES: [(&str, &str); 4] = [
    ("admin", "管理者"),
    ("coordinator", "コーディネーター"),
    ("instructor", "講師"),
    ("volunteer", "ボランティア"),
];

/// Staff accounts and their roles (admins).
async fn staff_page(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    staff
        .caller
        .require(&[crate::auth::Role::Admin])
        .map_err(ConsoleError::from)?;
    let caller = staff.caller.clone();
    let rows = state
        .db(move |conn| {
            let filter = crate::staff::types::StaffFilter {
                role: None,
                active: None,
                q: None,
                limit: None,
                cursor: None,
            };
            Ok(crate::staff::queries::list(
                conn,
                caller.organisation_id,
                &filter,
                200,
            )?)
        })
        .await?;
    html(
        StatusCode::OK,
        StaffPage {
            page: Page::of(&staff),
            rows: rows
                .into_iter()
                .map(|r| StaffLine {
                    id: r.id.to_string(),
                    name: r.name,
                    email: r.email,
                    role: r.role,
                    active: r.active,
                })
                .collect(),
            roles: ROLES.to_vec(),
        },
    )
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

/// Changes a role; takes effect on the person's next request (the last
/// admin cannot be demoted).
async fn change_role(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<RoleForm>,
) -> ConsoleResult {
    staff
        .caller
        .require(&[crate::auth::Role::Admin])
        .map_err(ConsoleError::from)?;
    let role = form.into_inner().role;
    let Some(&(value, label)) = ROLES.iter().find(|(v, _)| *v == role) else {
        return message("error", "役割を選んでください。");
    };
    let target = crate::db::AccountId(id.into_inner());
    let caller = staff.caller.clone();
    let done = state
        .write(move |conn| {
            let changes = crate::staff::queries::AccountChanges {
                role: Some(value),
                ..Default::default()
            };
            crate::staff::service::change(
                conn,
                (caller.organisation_id, caller.account_id),
                target,
                changes,
                "staff.update",
                format!("role → {value}"),
            )
        })
        .await;
    match done {
        Ok(row) => message(
            "success",
            &format!("{} さんを{label}にしました。", row.name),
        ),
        Err(AppError::Client(c)) if c.code == "last_admin" => message(
            "error",
            "最後の管理者です。先に別の方を管理者にしてください。",
        ),
        Err(e) => Err(e.into()),
    }
}
