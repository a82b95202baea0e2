//! Administration (admins and coordinators; the server refuses everyone
//! else): recurring series with a preview of their dates and of the days
//! they skip, named (`1/11 成人の日`), before anything is saved.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;
use uuid::Uuid;

use super::setup::{admins, office};
use super::{ConsoleResult, Fields, Page, Staff, html, message};
use crate::error::AppError;
use crate::schedule::types::SeriesInput;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/series", web::get().to(series_list))
        .route("/admin/series/new", web::get().to(series_page))
        .route("/admin/series/preview", web::post().to(preview))
        .route("/admin/series", web::post().to(save))
        .route("/admin/series/{id}/edit", web::get().to(edit_page))
        .route("/admin/series/{id}/preview", web::post().to(preview_edit))
        .route("/admin/series/{id}", web::post().to(save_edit))
        .route("/admin/cash-sheet", web::get().to(cash_sheet))
        .route("/admin/audit", web::get().to(audit))
        .route("/admin/staff", web::get().to(staff_page))
        .route("/admin/staff", web::post().to(create_staff))
        .route("/admin/staff/{id}/role", web::post().to(change_role))
        .route("/admin/staff/{id}/venue", web::post().to(change_venue))
        .route("/admin/staff/{id}/deactivate", web::post().to(deactivate))
        .route("/admin/staff/{id}/reactivate", web::post().to(reactivate));
}

const WEEKDAYS: [(&str, &str); 7] = [
    ("MO", "月曜日"),
    ("TU", "火曜日"),
    ("WE", "水曜日"),
    ("TH", "木曜日"),
    ("FR", "金曜日"),
    ("SA", "土曜日"),
    ("SU", "日曜日"),
];

/// A weekly rule the form can show: (BYDAY, interval); `None` for a rule
/// made through the API that the form cannot express (kept as it is).
fn weekly_rule(rrule: &str) -> Option<(String, u8)> {
    let mut freq = None;
    let mut interval = 1u8;
    let mut day = None;
    for part in rrule.split(';') {
        match part.split_once('=') {
            Some(("FREQ", f)) => freq = Some(f),
            Some(("INTERVAL", i)) => interval = i.parse().ok()?,
            Some(("BYDAY", d)) if WEEKDAYS.iter().any(|(w, _)| *w == d) => day = Some(d),
            _ => return None,
        }
    }
    let day = day?;
    (freq == Some("WEEKLY") && (1..=4).contains(&interval)).then(|| (day.to_owned(), interval))
}

/// A rule in words: 「毎週火曜日」, 「隔週月曜日」, else the rule itself.
fn rule_words(rrule: &str) -> String {
    match weekly_rule(rrule) {
        Some((day, interval)) => {
            let name = WEEKDAYS
                .iter()
                .find(|(w, _)| *w == day)
                .map(|(_, n)| *n)
                .unwrap_or("");
            match interval {
                1 => format!("毎週{name}"),
                2 => format!("隔週{name}"),
                n => format!("{n}週ごとの{name}"),
            }
        }
        None => rrule.to_owned(),
    }
}

/// (id, name) pairs for a select.
type Choices = Vec<(String, String)>;

/// The active courses and venues a series can use.
fn names(
    conn: &mut crate::db::DbConnection,
    org: crate::db::OrganisationId,
) -> Result<(Choices, Choices), AppError> {
    let cf = crate::courses::types::CourseFilter {
        active: Some(true),
        kind: None,
        topic: None,
        q: None,
        limit: None,
        cursor: None,
    };
    Ok((
        crate::courses::queries::list(conn, org, &cf, 500)?
            .into_iter()
            .map(|c| (c.id.to_string(), c.title))
            .collect(),
        super::setup::all_venues(conn, org)?
            .into_iter()
            .filter(|v| v.active)
            .map(|v| (v.id.to_string(), v.name))
            .collect(),
    ))
}

pub struct SeriesLine {
    pub id: String,
    pub course: String,
    pub venue: String,
    pub rule: String,
    pub times: String,
    pub from: String,
    pub count: String,
}

#[derive(Template)]
#[template(path = "console/admin_series_list.html")]
struct SeriesList {
    page: Page,
    rows: Vec<SeriesLine>,
}

async fn series_list(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    office(&staff)?;
    let org = staff.caller.organisation_id;
    let rows = state
        .db(move |conn| {
            let filter = crate::schedule::types::SeriesFilter {
                venue_id: None,
                course_id: None,
                limit: None,
                cursor: None,
            };
            let series = crate::schedule::queries::list_series(conn, org, &filter, 500)?;
            let venues = super::setup::all_venues(conn, org)?;
            let mut out = Vec::new();
            for r in series.into_iter().filter(|r| r.active) {
                let course = crate::courses::queries::find(conn, org, r.course_id)?
                    .map(|c| c.title)
                    .unwrap_or_default();
                out.push(SeriesLine {
                    id: r.id.to_string(),
                    course,
                    venue: venues
                        .iter()
                        .find(|v| v.id == r.venue_id)
                        .map(|v| v.name.clone())
                        .unwrap_or_default(),
                    rule: rule_words(&r.rrule),
                    times: format!(
                        "{}〜{}",
                        r.start_time.format("%H:%M"),
                        r.end_time.format("%H:%M")
                    ),
                    from: super::desk::when_day(r.starts_on),
                    count: match (r.occurrence_count, r.until_on) {
                        (Some(n), _) => format!("{n}回"),
                        (None, Some(u)) => format!("{}まで", super::desk::when_day(u)),
                        (None, None) => "終わりなし".into(),
                    },
                });
            }
            out.sort_by(|a, b| (&a.venue, &a.course).cmp(&(&b.venue, &b.course)));
            Ok(out)
        })
        .await?;
    html(
        StatusCode::OK,
        SeriesList {
            page: Page::of(&staff),
            rows,
        },
    )
}

/// What the series form shows (a new series, or the one being edited).
pub struct SeriesValues {
    /// The series being edited; empty for a new one.
    pub id: String,
    pub course_id: String,
    pub venue_id: String,
    /// BYDAY of a weekly rule; empty when the stored rule is kept as it is.
    pub weekday: String,
    pub interval: u8,
    /// The stored rule in words when the form cannot express it.
    pub kept_rule: String,
    pub starts_on: String,
    pub count: String,
    pub start_time: String,
    pub end_time: String,
    pub capacity: String,
    pub skip_public_holidays: bool,
}

#[derive(Template)]
#[template(path = "console/admin_series.html")]
struct SeriesPage {
    page: Page,
    courses: Vec<(String, String)>,
    venues: Vec<(String, String)>,
    weekdays: Vec<(&'static str, &'static str)>,
    s: SeriesValues,
}

async fn series_page(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    office(&staff)?;
    let org = staff.caller.organisation_id;
    let (courses, venues) = state.db(move |conn| names(conn, org)).await?;
    html(
        StatusCode::OK,
        SeriesPage {
            page: Page::of(&staff),
            courses,
            venues,
            weekdays: WEEKDAYS.to_vec(),
            s: SeriesValues {
                id: String::new(),
                course_id: String::new(),
                venue_id: String::new(),
                weekday: "MO".into(),
                interval: 1,
                kept_rule: String::new(),
                starts_on: String::new(),
                count: "8".into(),
                start_time: "14:00".into(),
                end_time: "16:00".into(),
                capacity: "20".into(),
                skip_public_holidays: true,
            },
        },
    )
}

async fn edit_page(state: web::Data<AppState>, staff: Staff, id: web::Path<Uuid>) -> ConsoleResult {
    office(&staff)?;
    let org = staff.caller.organisation_id;
    let id = crate::db::SeriesId(id.into_inner());
    let (row, (courses, venues)) = state
        .db(move |conn| {
            let row = crate::schedule::queries::find_series(conn, org, id)?
                .ok_or_else(|| AppError::not_found("series"))?;
            Ok((row, names(conn, org)?))
        })
        .await?;
    let rule = weekly_rule(&row.rrule);
    html(
        StatusCode::OK,
        SeriesPage {
            page: Page::of(&staff),
            courses,
            venues,
            weekdays: WEEKDAYS.to_vec(),
            s: SeriesValues {
                id: row.id.to_string(),
                course_id: row.course_id.to_string(),
                venue_id: row.venue_id.to_string(),
                weekday: rule.as_ref().map(|r| r.0.clone()).unwrap_or_default(),
                interval: rule.as_ref().map(|r| r.1).unwrap_or(1),
                kept_rule: if rule.is_some() {
                    String::new()
                } else {
                    rule_words(&row.rrule)
                },
                starts_on: row.starts_on.to_string(),
                count: row
                    .occurrence_count
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                start_time: row.start_time.format("%H:%M").to_string(),
                end_time: row.end_time.format("%H:%M").to_string(),
                capacity: row.capacity.to_string(),
                skip_public_holidays: row.skip_public_holidays,
            },
        },
    )
}

#[derive(Deserialize)]
struct SeriesForm {
    course_id: Uuid,
    venue_id: Uuid,
    /// Empty on an edit whose stored rule the form cannot express: kept.
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
    fn input(self, editing: bool) -> Result<SeriesInput, AppError> {
        let rrule = if self.weekday.is_empty() && editing {
            None
        } else if WEEKDAYS.iter().any(|(w, _)| *w == self.weekday) {
            Some(format!(
                "FREQ=WEEKLY;INTERVAL={};BYDAY={}",
                self.interval.clamp(1, 4),
                self.weekday
            ))
        } else {
            return Err(AppError::invalid_field("weekday", "曜日を選んでください"));
        };
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
            rrule,
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
    show_preview(state, staff, None, form.into_inner()).await
}

async fn preview_edit(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<SeriesForm>,
) -> ConsoleResult {
    let id = crate::db::SeriesId(id.into_inner());
    show_preview(state, staff, Some(id), form.into_inner()).await
}

async fn show_preview(
    state: web::Data<AppState>,
    staff: Staff,
    existing: Option<crate::db::SeriesId>,
    form: SeriesForm,
) -> ConsoleResult {
    office(&staff)?;
    let input = form.input(existing.is_some())?;
    let caller = staff.caller.clone();
    let app = state.clone();
    let shown = state
        .db(move |conn| {
            let ctx = crate::schedule::series_routes::context(conn, &app, &caller)?;
            let (dates, skipped) =
                crate::schedule::service::preview_series(conn, &ctx, existing, input)?;
            Ok(Preview {
                dates: dates
                    .iter()
                    .map(|o| super::desk::when_day(o.date))
                    .collect(),
                skipped: skipped
                    .into_iter()
                    .map(|(d, why)| format!("{} {why}", short(d)))
                    .collect(),
            })
        })
        .await?;
    html(StatusCode::OK, shown)
}

/// What saving a series did, in words.
#[derive(Template)]
#[template(path = "console/series_saved.html")]
struct Saved {
    created: bool,
    added: Vec<String>,
    moved: Vec<String>,
    changed: Vec<String>,
    removed: Vec<String>,
    kept: Vec<String>,
}

async fn save(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<SeriesForm>,
) -> ConsoleResult {
    store(state, staff, None, form.into_inner()).await
}

async fn save_edit(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<SeriesForm>,
) -> ConsoleResult {
    let id = crate::db::SeriesId(id.into_inner());
    store(state, staff, Some(id), form.into_inner()).await
}

/// Saves a series and reports, in words, which sessions were added, moved,
/// changed or removed, and which were kept because people are booked.
async fn store(
    state: web::Data<AppState>,
    staff: Staff,
    existing: Option<crate::db::SeriesId>,
    form: SeriesForm,
) -> ConsoleResult {
    office(&staff)?;
    let input = form.input(existing.is_some())?;
    let caller = staff.caller.clone();
    let app = state.clone();
    let saved = state
        .write(move |conn| {
            let ctx = crate::schedule::series_routes::context(conn, &app, &caller)?;
            let now = chrono::Utc::now().naive_utc();
            let before: std::collections::HashMap<_, _> = match existing {
                Some(id) => crate::schedule::queries::future_sessions_of_series(conn, id, now)?
                    .into_iter()
                    .map(|s| (s.id, s))
                    .collect(),
                None => Default::default(),
            };
            let (_, report) = crate::schedule::service::save_series(conn, &ctx, existing, input)?;
            let when = |at: chrono::NaiveDateTime, end: chrono::NaiveDateTime| {
                let (a, e) = (
                    at.and_utc().with_timezone(&ctx.tz),
                    end.and_utc().with_timezone(&ctx.tz),
                );
                format!(
                    "{} {}〜{}",
                    super::desk::when_day(a.date_naive()),
                    a.format("%H:%M"),
                    e.format("%H:%M")
                )
            };
            let mut out = Saved {
                created: existing.is_none(),
                added: Vec::new(),
                moved: Vec::new(),
                changed: Vec::new(),
                removed: Vec::new(),
                kept: Vec::new(),
            };
            for id in &report.added {
                if let Some(s) =
                    crate::schedule::queries::find_session(conn, ctx.organisation, *id)?
                {
                    out.added.push(when(s.starts_at, s.ends_at));
                }
            }
            for id in &report.updated {
                let (Some(old), Some(new)) = (
                    before.get(id),
                    crate::schedule::queries::find_session(conn, ctx.organisation, *id)?,
                ) else {
                    continue;
                };
                if old.starts_at != new.starts_at || old.ends_at != new.ends_at {
                    out.moved.push(format!(
                        "{} → {}",
                        when(old.starts_at, old.ends_at),
                        when(new.starts_at, new.ends_at)
                    ));
                } else {
                    out.changed.push(when(new.starts_at, new.ends_at));
                }
            }
            for id in &report.removed {
                if let Some(old) = before.get(id) {
                    out.removed.push(when(old.starts_at, old.ends_at));
                }
            }
            for k in &report.kept {
                if let Some(old) = before.get(&k.session_id) {
                    out.kept.push(format!(
                        "{}（予約 {}人・キャンセル待ち {}人）",
                        when(old.starts_at, old.ends_at),
                        old.seats_taken,
                        old.waitlist_count
                    ));
                }
            }
            Ok(out)
        })
        .await?;
    html(StatusCode::OK, saved)
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
    admins(&staff)?;
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
    pub venue: String,
    pub active: bool,
    pub me: bool,
}

#[derive(Template)]
#[template(path = "console/staff.html")]
struct StaffPage {
    page: Page,
    rows: Vec<StaffLine>,
    roles: Vec<(&'static str, &'static str)>,
    venues: Vec<(String, String)>,
}

const ROLES: [(&str, &str); 4] = [
    ("admin", "管理者"),
    ("coordinator", "コーディネーター"),
    ("instructor", "講師"),
    ("volunteer", "ボランティア"),
];

/// Staff accounts: roles, home venues, new accounts, deactivation (admins).
async fn staff_page(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    admins(&staff)?;
    let caller = staff.caller.clone();
    let (rows, venues) = state
        .db(move |conn| {
            let filter = crate::staff::types::StaffFilter {
                role: None,
                active: None,
                q: None,
                limit: None,
                cursor: None,
            };
            let org = caller.organisation_id;
            Ok((
                crate::staff::queries::list(conn, org, &filter, 500)?,
                super::setup::all_venues(conn, org)?
                    .into_iter()
                    .filter(|v| v.active)
                    .map(|v| (v.id.to_string(), v.name))
                    .collect::<Vec<_>>(),
            ))
        })
        .await?;
    let me = staff.caller.account_id;
    html(
        StatusCode::OK,
        StaffPage {
            page: Page::of(&staff),
            rows: rows
                .into_iter()
                .map(|r| StaffLine {
                    me: r.id == me,
                    id: r.id.to_string(),
                    name: r.name,
                    email: r.email,
                    role: r.role,
                    venue: r.venue_id.map(|v| v.to_string()).unwrap_or_default(),
                    active: r.active,
                })
                .collect(),
            roles: ROLES.to_vec(),
            venues,
        },
    )
}

#[derive(Template)]
#[template(path = "console/staff_created.html")]
struct StaffCreated {
    name: String,
    email: String,
    password: String,
}

/// A new account with a one-time password shown once: the person must
/// choose their own at the first login.
async fn create_staff(state: web::Data<AppState>, staff: Staff, body: web::Bytes) -> ConsoleResult {
    admins(&staff)?;
    let f = Fields::parse(&body);
    let Some(role) = f
        .get("role")
        .and_then(|r| r.parse::<crate::auth::Role>().ok())
    else {
        return message("error", "役割を選んでください。");
    };
    let venue = f.id("venue_id")?.map(crate::db::VenueId);
    let password = crate::auth::password::generate();
    let new = crate::staff::service::NewStaff::parse(
        &f.text("email"),
        &f.text("name"),
        role,
        None,
        &secrecy::SecretString::from(password.clone()),
    )?;
    let (new, hash) = crate::state::blocking(move || {
        let hash = crate::auth::password::hash(&new.password);
        (new, hash)
    })
    .await?;
    let hash = hash.map_err(AppError::Internal)?;
    let caller = staff.caller.clone();
    let row = state
        .write(move |conn| {
            let org = caller.organisation_id;
            if let Some(v) = venue {
                crate::venues::queries::find(conn, org, v)?
                    .ok_or_else(|| AppError::invalid_field("venue_id", "no such venue"))?;
            }
            let row = crate::staff::service::create(
                conn,
                org,
                Some(caller.account_id),
                &new,
                &hash,
                true,
            )?;
            if venue.is_some() {
                crate::staff::queries::update(
                    conn,
                    org,
                    row.id,
                    crate::staff::queries::AccountChanges {
                        venue_id: Some(venue),
                        ..Default::default()
                    },
                )?;
            }
            Ok(row)
        })
        .await?;
    html(
        StatusCode::OK,
        StaffCreated {
            name: row.name,
            email: row.email,
            password: password
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(" "),
        },
    )
}

#[derive(Deserialize)]
struct VenueChoice {
    venue_id: String,
}

/// The venue whose calls and queue a person sees (empty: none).
async fn change_venue(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    form: web::Form<VenueChoice>,
) -> ConsoleResult {
    admins(&staff)?;
    let raw = form.into_inner().venue_id;
    let venue = match raw.trim() {
        "" => None,
        v => Some(crate::db::VenueId(v.parse().map_err(|_| {
            AppError::invalid_field("venue_id", "一覧から選んでください")
        })?)),
    };
    let target = crate::db::AccountId(id.into_inner());
    let caller = staff.caller.clone();
    let (row, name) = state
        .write(move |conn| {
            let org = caller.organisation_id;
            let name = match venue {
                Some(v) => Some(
                    crate::venues::queries::find(conn, org, v)?
                        .ok_or_else(|| AppError::invalid_field("venue_id", "no such venue"))?
                        .name,
                ),
                None => None,
            };
            let changes = crate::staff::queries::AccountChanges {
                venue_id: Some(venue),
                ..Default::default()
            };
            let row = crate::staff::service::change(
                conn,
                (org, caller.account_id),
                target,
                changes,
                "staff.update",
                "updated venue".into(),
            )?;
            Ok((row, name))
        })
        .await?;
    message(
        "success",
        &match name {
            Some(n) => format!("{} さんの担当会場を{n}にしました。", row.name),
            None => format!("{} さんの担当会場をなしにしました。", row.name),
        },
    )
}

async fn deactivate(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    set_active(state, staff, id.into_inner(), false).await
}

async fn reactivate(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    set_active(state, staff, id.into_inner(), true).await
}

/// Deactivation ends every session of the person at once.
async fn set_active(
    state: web::Data<AppState>,
    staff: Staff,
    id: Uuid,
    active: bool,
) -> ConsoleResult {
    admins(&staff)?;
    let target = crate::db::AccountId(id);
    let who = (staff.caller.organisation_id, staff.caller.account_id);
    state
        .write(move |conn| crate::staff::service::set_active(conn, who, target, active))
        .await?;
    Ok(super::hx_redirect("/admin/staff"))
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
    admins(&staff)?;
    let role = form.into_inner().role;
    let Some(&(value, label)) = ROLES.iter().find(|(v, _)| *v == role) else {
        return message("error", "役割を選んでください。");
    };
    let target = crate::db::AccountId(id.into_inner());
    let caller = staff.caller.clone();
    let row = state
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
        .await?;
    message(
        "success",
        &format!("{} さんを{label}にしました。", row.name),
    )
}
