//! Setting up the organisation (admins and coordinators; the server
//! refuses everyone else): venues with their opening hours, courses with
//! topics and who may join, closures, and the loaner devices with their
//! states. Each form calls the same service function as the API.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::NaiveTime;
use serde::Deserialize;
use uuid::Uuid;

use super::{ConsoleError, ConsoleResult, Fields, Page, Staff, html, hx_redirect, message};
use crate::calendar::OpeningHours;
use crate::courses::types::{CourseInput, CourseKind, Eligibility, Level};
use crate::db::{ClosureId, CourseId, DbConnection, DeviceId, OrganisationId, VenueId};
use crate::devices::types::DeviceStatus;
use crate::error::AppError;
use crate::state::AppState;
use crate::venues::types::{VenueFilter, VenueInput, VenueRow};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(index))
        .route("/admin/venues", web::get().to(venues))
        .route("/admin/venues", web::post().to(create_venue))
        .route("/admin/venues/{id}", web::get().to(venue_page))
        .route("/admin/venues/{id}", web::post().to(update_venue))
        .route("/admin/venues/{id}/hours", web::post().to(venue_hours))
        .route("/admin/venues/{id}/archive", web::post().to(archive_venue))
        .route("/admin/venues/{id}/restore", web::post().to(restore_venue))
        .route("/admin/courses", web::get().to(courses))
        .route("/admin/courses", web::post().to(create_course))
        .route("/admin/courses/{id}", web::get().to(course_page))
        .route("/admin/courses/{id}", web::post().to(update_course))
        .route("/admin/closures", web::get().to(closures))
        .route("/admin/closures", web::post().to(create_closure))
        .route(
            "/admin/closures/{id}/delete",
            web::post().to(delete_closure),
        )
        .route("/admin/devices", web::get().to(devices))
        .route("/admin/devices", web::post().to(create_device))
        .route("/admin/devices/{id}/status", web::post().to(device_status))
        .route("/residents/{id}/data", web::get().to(resident_data));
}

/// The office only: a refusal from the server, not just a hidden menu.
pub fn office(staff: &Staff) -> Result<(), ConsoleError> {
    staff
        .caller
        .require(crate::auth::WRITERS)
        .map_err(ConsoleError::from)
}

/// Admins only (staff accounts, the audit log): refused by the server.
pub fn admins(staff: &Staff) -> Result<(), ConsoleError> {
    staff
        .caller
        .require(&[crate::auth::Role::Admin])
        .map_err(ConsoleError::from)
}

/// Every venue of the organisation, archived ones included, by name.
pub fn all_venues(conn: &mut DbConnection, org: OrganisationId) -> Result<Vec<VenueRow>, AppError> {
    let filter = VenueFilter {
        active: None,
        q: None,
        limit: None,
        cursor: None,
    };
    let mut rows = crate::venues::queries::list(conn, org, &filter, 500)?;
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

#[derive(Template)]
#[template(path = "console/admin_index.html")]
struct Index {
    page: Page,
    admin: bool,
    /// Programmes whose roll-up the person sees: (id, name).
    programmes: Vec<(String, String)>,
}

/// The administration menu.
async fn index(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    office(&staff)?;
    let account = staff.caller.account_id;
    let programmes = state
        .db(move |conn| {
            use crate::db::schema::{programme_viewers, programmes};
            use diesel::prelude::*;
            Ok(programmes::table
                .inner_join(
                    programme_viewers::table.on(programme_viewers::programme_id.eq(programmes::id)),
                )
                .filter(programme_viewers::account_id.eq(account))
                .select((programmes::id, programmes::name))
                .load::<(crate::db::ProgrammeId, String)>(conn)?
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect())
        })
        .await?;
    html(
        StatusCode::OK,
        Index {
            admin: staff.caller.role == crate::auth::Role::Admin,
            page: Page::of(&staff),
            programmes,
        },
    )
}

// ---------------------------------------------------------------- venues

const WEEKDAY_WORDS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// "月 9:00〜17:00、火 9:00〜17:00" (open days only).
fn week_words(week: &crate::calendar::hours::Week) -> String {
    let days: Vec<String> = week
        .iter()
        .enumerate()
        .filter_map(|(d, h)| {
            h.map(|(o, c)| {
                format!(
                    "{} {}〜{}",
                    WEEKDAY_WORDS[d],
                    o.format("%-H:%M"),
                    c.format("%-H:%M")
                )
            })
        })
        .collect();
    if days.is_empty() {
        "開館日なし".into()
    } else {
        days.join("、")
    }
}

pub struct VenueLine {
    pub id: String,
    pub name: String,
    pub address: String,
    pub capacity: i32,
    pub active: bool,
    pub hours: String,
}

#[derive(Template)]
#[template(path = "console/admin_venues.html")]
struct Venues {
    page: Page,
    rows: Vec<VenueLine>,
}

async fn venues(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    office(&staff)?;
    let org = staff.caller.organisation_id;
    let rows = state
        .db(move |conn| {
            let rows = all_venues(conn, org)?;
            let ids: Vec<VenueId> = rows.iter().map(|v| v.id).collect();
            let own = crate::calendar::hours::venue_weeks(conn, &ids)?;
            let fallback = crate::calendar::hours::organisation_week(conn, org)?;
            Ok(rows
                .into_iter()
                .map(|v| VenueLine {
                    hours: match own.get(&v.id) {
                        Some(week) => week_words(week),
                        None => format!("団体と同じ（{}）", week_words(&fallback)),
                    },
                    id: v.id.to_string(),
                    name: v.name,
                    address: v.address.unwrap_or_default(),
                    capacity: v.default_capacity,
                    active: v.active,
                })
                .collect())
        })
        .await?;
    html(
        StatusCode::OK,
        Venues {
            page: Page::of(&staff),
            rows,
        },
    )
}

fn venue_input(f: &Fields) -> Result<VenueInput, AppError> {
    Ok(VenueInput {
        name: Some(f.text("name")),
        address: Some(f.text("address")),
        room: Some(f.text("room")),
        default_capacity: Some(
            f.number("default_capacity")?
                .ok_or_else(|| AppError::invalid_field("default_capacity", "is required"))?,
        ),
        phone: Some(f.text("phone")),
        accessibility_notes: Some(f.text("accessibility_notes")),
        online_url: Some(f.text("online_url")),
        active: None,
    })
}

async fn create_venue(state: web::Data<AppState>, staff: Staff, body: web::Bytes) -> ConsoleResult {
    office(&staff)?;
    let changes = venue_input(&Fields::parse(&body))?.parse(true)?;
    let caller = staff.caller.clone();
    let row = state
        .write(move |conn| crate::venues::service::create(conn, &caller, changes))
        .await?;
    Ok(hx_redirect(&format!("/admin/venues/{}", row.id)))
}

pub struct DayLine {
    pub index: usize,
    pub word: &'static str,
    pub open: bool,
    pub opens: String,
    pub closes: String,
}

#[derive(Template)]
#[template(path = "console/admin_venue.html")]
struct VenuePage {
    page: Page,
    v: VenueRow,
    own: bool,
    days: Vec<DayLine>,
}

async fn venue_page(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    office(&staff)?;
    let id = VenueId(id.into_inner());
    let caller = staff.caller.clone();
    let (v, own, week) = state
        .db(move |conn| {
            let v = crate::venues::queries::find(conn, caller.organisation_id, id)?
                .ok_or_else(|| AppError::not_found("venue"))?;
            let mut own = crate::calendar::hours::venue_weeks(conn, &[id])?;
            Ok(match own.remove(&id) {
                Some(week) => (v, true, week),
                None => (
                    v,
                    false,
                    crate::calendar::hours::organisation_week(conn, caller.organisation_id)?,
                ),
            })
        })
        .await?;
    let days = week
        .iter()
        .enumerate()
        .map(|(index, h)| DayLine {
            index,
            word: WEEKDAY_WORDS[index],
            open: h.is_some(),
            opens: h
                .map(|(o, _)| o.format("%H:%M").to_string())
                .unwrap_or_else(|| "09:00".into()),
            closes: h
                .map(|(_, c)| c.format("%H:%M").to_string())
                .unwrap_or_else(|| "17:00".into()),
        })
        .collect();
    html(
        StatusCode::OK,
        VenuePage {
            page: Page::of(&staff),
            v,
            own,
            days,
        },
    )
}

async fn update_venue(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> ConsoleResult {
    office(&staff)?;
    let changes = venue_input(&Fields::parse(&body))?.parse(false)?;
    let id = VenueId(id.into_inner());
    let caller = staff.caller.clone();
    let row = state
        .write(move |conn| {
            crate::venues::service::change(conn, &caller, id, changes, "venue.update")
        })
        .await?;
    message("success", &format!("{}を保存しました。", row.name))
}

/// A week of hours from the form: `open_0` … `open_6` ticked days with
/// `opens_N` and `closes_N`; `follow` returns to the organisation's hours.
async fn venue_hours(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> ConsoleResult {
    office(&staff)?;
    let f = Fields::parse(&body);
    let mut list = Vec::new();
    if !f.checked("follow") {
        for (d, weekday) in crate::calendar::hours::WEEKDAYS.iter().enumerate() {
            if !f.checked(&format!("open_{d}")) {
                continue;
            }
            let (Some(opens), Some(closes)) = (
                f.time(&format!("opens_{d}"))?,
                f.time(&format!("closes_{d}"))?,
            ) else {
                return message(
                    "error",
                    &format!(
                        "{}曜日の開館と閉館の時刻を入れてください。",
                        WEEKDAY_WORDS[d]
                    ),
                );
            };
            if closes <= opens {
                return message(
                    "error",
                    &format!(
                        "{}曜日の閉館は、開館より後にしてください。",
                        WEEKDAY_WORDS[d]
                    ),
                );
            }
            list.push(OpeningHours {
                weekday: (*weekday).to_owned(),
                opens,
                closes,
            });
        }
        if list.is_empty() {
            return message(
                "error",
                "開館する曜日を1つ以上選ぶか、「団体の開館時間と同じ」を選んでください。",
            );
        }
    }
    let hours = crate::calendar::hours::parse_week(&list)?;
    let venue = VenueId(id.into_inner());
    let caller = staff.caller.clone();
    let week = state
        .write(move |conn| {
            crate::venues::service::set_hours(conn, &caller, venue, &hours)?;
            let mut own = crate::calendar::hours::venue_weeks(conn, &[venue])?;
            Ok(match own.remove(&venue) {
                Some(w) => week_words(&w),
                None => format!(
                    "団体と同じ（{}）",
                    week_words(&crate::calendar::hours::organisation_week(
                        conn,
                        caller.organisation_id
                    )?)
                ),
            })
        })
        .await?;
    message("success", &format!("開館時間を保存しました：{week}"))
}

async fn archive_venue(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    set_venue_active(state, staff, id.into_inner(), false).await
}

async fn restore_venue(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    set_venue_active(state, staff, id.into_inner(), true).await
}

async fn set_venue_active(
    state: web::Data<AppState>,
    staff: Staff,
    id: Uuid,
    active: bool,
) -> ConsoleResult {
    office(&staff)?;
    let id = VenueId(id);
    let caller = staff.caller.clone();
    let changes = crate::venues::types::VenueChanges {
        active: Some(active),
        ..Default::default()
    };
    let action = if active {
        "venue.update"
    } else {
        "venue.archive"
    };
    state
        .write(move |conn| crate::venues::service::change(conn, &caller, id, changes, action))
        .await?;
    Ok(hx_redirect(&format!("/admin/venues/{id}")))
}

// ---------------------------------------------------------------- courses

fn kind_word(kind: &str) -> &'static str {
    match kind {
        "class" => "教室",
        "cafe" => "デジタルカフェ",
        "consultation" => "個別相談",
        _ => "その他",
    }
}

/// Who may join, in words: 「65歳以上・北区、南区」 or 「どなたでも」.
pub fn eligibility_words(e: &Eligibility) -> String {
    let age = match (e.min_age, e.max_age) {
        (Some(min), Some(max)) => Some(format!("{min}〜{max}歳")),
        (Some(min), None) => Some(format!("{min}歳以上")),
        (None, Some(max)) => Some(format!("{max}歳以下")),
        (None, None) => None,
    };
    let districts =
        (!e.districts.is_empty()).then(|| format!("{}にお住まい", e.districts.join("、")));
    match (age, districts) {
        (Some(a), Some(d)) => format!("{a}・{d}"),
        (Some(a), None) => a,
        (None, Some(d)) => d,
        (None, None) => "どなたでも".into(),
    }
}

pub struct CourseLine {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub fee: i32,
    pub minutes: i32,
    pub topics: String,
    pub who: String,
    pub active: bool,
}

pub struct TopicChoice {
    pub code: String,
    pub label: String,
    pub checked: bool,
}

/// The values a course form shows (blank for a new course).
#[derive(Default)]
pub struct CourseFormValues {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub level: String,
    pub description: String,
    pub audience: String,
    pub fee: String,
    pub minutes: String,
    pub min_age: String,
    pub max_age: String,
    pub districts: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "console/admin_courses.html")]
struct Courses {
    page: Page,
    rows: Vec<CourseLine>,
    topics: Vec<TopicChoice>,
    c: CourseFormValues,
}

fn topic_labels(
    conn: &mut DbConnection,
    org: OrganisationId,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(crate::courses::queries::visible_topics(conn, org)?
        .into_iter()
        .map(|t| (t.code, t.label))
        .collect())
}

async fn courses(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    office(&staff)?;
    let org = staff.caller.organisation_id;
    let (rows, topics) = state
        .db(move |conn| {
            let filter = crate::courses::types::CourseFilter {
                active: None,
                kind: None,
                topic: None,
                q: None,
                limit: None,
                cursor: None,
            };
            let rows = crate::courses::queries::list(conn, org, &filter, 500)?;
            let ids: Vec<CourseId> = rows.iter().map(|r| r.id).collect();
            let mut tagged = crate::courses::queries::topics_of(conn, &ids)?;
            let labels = topic_labels(conn, org)?;
            let label = |code: &String| {
                labels
                    .iter()
                    .find(|(c, _)| c == code)
                    .map(|(_, l)| l.clone())
                    .unwrap_or_else(|| code.clone())
            };
            let lines = rows
                .into_iter()
                .map(|r| {
                    let codes = tagged.remove(&r.id.to_string()).unwrap_or_default();
                    CourseLine {
                        id: r.id.to_string(),
                        who: eligibility_words(&r.eligibility()),
                        title: r.title,
                        kind: kind_word(&r.kind),
                        fee: r.default_fee_yen,
                        minutes: r.default_length_minutes,
                        topics: codes.iter().map(label).collect::<Vec<_>>().join("、"),
                        active: r.active,
                    }
                })
                .collect();
            Ok((lines, labels))
        })
        .await?;
    html(
        StatusCode::OK,
        Courses {
            page: Page::of(&staff),
            rows,
            topics: topics
                .into_iter()
                .map(|(code, label)| TopicChoice {
                    code,
                    label,
                    checked: false,
                })
                .collect(),
            c: CourseFormValues {
                kind: "class".into(),
                fee: "0".into(),
                minutes: "120".into(),
                active: true,
                ..Default::default()
            },
        },
    )
}

fn course_input(f: &Fields, creating: bool) -> Result<CourseInput, AppError> {
    let kind = match f.get("kind") {
        Some("class") => CourseKind::Class,
        Some("cafe") => CourseKind::Cafe,
        Some("consultation") => CourseKind::Consultation,
        _ => return Err(AppError::invalid_field("kind", "種類を選んでください")),
    };
    let level = match f.get("level") {
        Some("basic") => Some(Level::Basic),
        Some("applied") => Some(Level::Applied),
        _ => None,
    };
    let age = |name: &str| -> Result<Option<i32>, AppError> {
        f.number(name)?
            .map(|a| {
                i32::try_from(a).map_err(|_| {
                    AppError::invalid_field(
                        &format!("eligibility.{name}"),
                        "must be between 0 and 130",
                    )
                })
            })
            .transpose()
    };
    let districts = f
        .text("districts")
        .split(['\n', '、', ','])
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(CourseInput {
        title: Some(f.text("title")),
        description: Some(f.text("description")),
        audience: Some(f.text("audience")),
        level,
        kind: Some(kind),
        default_fee_yen: Some(f.number("default_fee_yen")?.unwrap_or(0)),
        default_length_minutes: f.number("default_length_minutes")?,
        topics: Some(f.all("topics")),
        active: (!creating).then(|| f.checked("active")),
        eligibility: Some(Eligibility {
            min_age: age("min_age")?,
            max_age: age("max_age")?,
            districts,
        }),
    })
}

async fn create_course(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Bytes,
) -> ConsoleResult {
    office(&staff)?;
    let (changes, topics) = course_input(&Fields::parse(&body), true)?.parse(true)?;
    let caller = staff.caller.clone();
    let course = state
        .write(move |conn| crate::courses::service::create(conn, &caller, changes, topics))
        .await?;
    Ok(hx_redirect(&format!("/admin/courses/{}", course.id)))
}

#[derive(Template)]
#[template(path = "console/admin_course.html")]
struct CoursePage {
    page: Page,
    topics: Vec<TopicChoice>,
    c: CourseFormValues,
    who: String,
}

async fn course_page(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    office(&staff)?;
    let id = CourseId(id.into_inner());
    let caller = staff.caller.clone();
    let (course, labels) = state
        .db(move |conn| {
            let row = crate::courses::queries::find(conn, caller.organisation_id, id)?
                .ok_or_else(|| AppError::not_found("course"))?;
            Ok((
                crate::courses::service::with_topics(conn, row)?,
                topic_labels(conn, caller.organisation_id)?,
            ))
        })
        .await?;
    let e = &course.eligibility;
    html(
        StatusCode::OK,
        CoursePage {
            page: Page::of(&staff),
            who: eligibility_words(e),
            topics: labels
                .into_iter()
                .map(|(code, label)| TopicChoice {
                    checked: course.topics.contains(&code),
                    code,
                    label,
                })
                .collect(),
            c: CourseFormValues {
                id: course.id.to_string(),
                title: course.title.clone(),
                kind: course.kind.clone(),
                level: course.level.clone().unwrap_or_default(),
                description: course.description.clone().unwrap_or_default(),
                audience: course.audience.clone().unwrap_or_default(),
                fee: course.default_fee_yen.to_string(),
                minutes: course.default_length_minutes.to_string(),
                min_age: e.min_age.map(|a| a.to_string()).unwrap_or_default(),
                max_age: e.max_age.map(|a| a.to_string()).unwrap_or_default(),
                districts: e.districts.join("\n"),
                active: course.active,
            },
        },
    )
}

async fn update_course(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> ConsoleResult {
    office(&staff)?;
    let (changes, topics) = course_input(&Fields::parse(&body), false)?.parse(false)?;
    let id = CourseId(id.into_inner());
    let caller = staff.caller.clone();
    let course = state
        .write(move |conn| {
            crate::courses::service::change(conn, &caller, id, changes, topics, "course.update")
        })
        .await?;
    message(
        "success",
        &format!(
            "{}を保存しました。対象：{}",
            course.title,
            eligibility_words(&course.eligibility)
        ),
    )
}

// ---------------------------------------------------------------- closures

pub struct ClosureLine {
    pub id: String,
    pub when: String,
    pub place: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "console/admin_closures.html")]
struct Closures {
    page: Page,
    rows: Vec<ClosureLine>,
    venues: Vec<(String, String)>,
}

/// 「12月29日（火）〜1月3日（日）」, with the times when not whole days.
fn closure_words(starts: chrono::NaiveDateTime, ends: chrono::NaiveDateTime) -> String {
    let day = super::desk::when_day;
    let whole = starts.time() == NaiveTime::MIN && ends.time() == NaiveTime::MIN;
    if whole {
        let last = ends.date() - chrono::Duration::days(1);
        if last == starts.date() {
            format!("{}（終日）", day(last))
        } else {
            format!("{}〜{}", day(starts.date()), day(last))
        }
    } else {
        format!(
            "{} {}〜{} {}",
            day(starts.date()),
            starts.format("%H:%M"),
            day(ends.date()),
            ends.format("%H:%M")
        )
    }
}

async fn closures(state: web::Data<AppState>, staff: Staff) -> ConsoleResult {
    office(&staff)?;
    let org = staff.caller.organisation_id;
    let (rows, venues) = state
        .db(move |conn| {
            let tz = crate::calendar::timezone(conn, org)?;
            let today = crate::calendar::today(tz);
            let venues = all_venues(conn, org)?;
            let name = |v: Option<VenueId>| match v {
                None => "全館".to_owned(),
                Some(id) => venues
                    .iter()
                    .find(|x| x.id == id)
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
            };
            let filter = crate::schedule::types::ClosureFilter {
                from: Some(today),
                to: None,
            };
            let rows = crate::schedule::queries::list_closures(conn, org, &filter)?
                .into_iter()
                .map(|c| ClosureLine {
                    id: c.id.to_string(),
                    when: closure_words(c.starts_local, c.ends_local),
                    place: name(c.venue_id),
                    reason: c.reason,
                })
                .collect();
            Ok((
                rows,
                venues
                    .iter()
                    .filter(|v| v.active)
                    .map(|v| (v.id.to_string(), v.name.clone()))
                    .collect(),
            ))
        })
        .await?;
    html(
        StatusCode::OK,
        Closures {
            page: Page::of(&staff),
            rows,
            venues,
        },
    )
}

#[derive(Template)]
#[template(path = "console/closure_added.html")]
struct ClosureAdded {
    when: String,
    overlapping: Vec<String>,
}

async fn create_closure(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Bytes,
) -> ConsoleResult {
    office(&staff)?;
    let f = Fields::parse(&body);
    let start_date = f
        .date("start_date")?
        .ok_or_else(|| AppError::invalid_field("start_date", "is required"))?;
    let end_date = f.date("end_date")?.unwrap_or(start_date);
    let req = crate::schedule::types::NewClosure {
        start_date,
        end_date,
        start_time: f.time("start_time")?,
        end_time: f.time("end_time")?,
        reason: f.text("reason"),
        venue_id: f.id("venue_id")?,
    };
    let caller = staff.caller.clone();
    let app = state.clone();
    let shown = state
        .write(move |conn| {
            let ctx = crate::schedule::series_routes::context(conn, &app, &caller)?;
            let created = crate::schedule::closure_routes::add(conn, &ctx, req)?;
            let overlapping = created
                .overlapping_sessions
                .iter()
                .map(|s| {
                    let at = s.starts_at.with_timezone(&ctx.tz);
                    format!(
                        "{} {} {}（{}）",
                        super::desk::when_day(at.date_naive()),
                        at.format("%H:%M"),
                        s.course.title,
                        s.venue.name
                    )
                })
                .collect();
            Ok(ClosureAdded {
                when: closure_words(created.closure.starts_local, created.closure.ends_local),
                overlapping,
            })
        })
        .await?;
    html(StatusCode::OK, shown)
}

async fn delete_closure(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    office(&staff)?;
    let id = ClosureId(id.into_inner());
    let caller = staff.caller.clone();
    state
        .write(move |conn| crate::schedule::closure_routes::remove(conn, &caller, id))
        .await?;
    Ok(hx_redirect("/admin/closures"))
}

// ---------------------------------------------------------------- devices

pub fn device_status_word(s: DeviceStatus) -> &'static str {
    match s {
        DeviceStatus::Available => "利用できる",
        DeviceStatus::Loaned => "貸出中",
        DeviceStatus::Maintenance => "点検中",
        DeviceStatus::Retired => "廃棄",
    }
}

pub struct DeviceLine {
    pub id: String,
    pub tag: String,
    pub model: String,
    pub os: String,
    pub venue: String,
    pub status: &'static str,
    pub code: &'static str,
    pub notes: String,
}

#[derive(Template)]
#[template(path = "console/admin_devices.html")]
struct Devices {
    page: Page,
    rows: Vec<DeviceLine>,
    venues: Vec<(String, String, bool)>,
    status: String,
    counts: Vec<(&'static str, usize)>,
}

#[derive(Deserialize)]
struct DeviceQuery {
    venue_id: Option<String>,
    status: Option<String>,
}

async fn devices(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<DeviceQuery>,
) -> ConsoleResult {
    office(&staff)?;
    let q = q.into_inner();
    let venue: Option<Uuid> = q.venue_id.as_deref().and_then(|v| v.parse().ok());
    let status = q
        .status
        .filter(|s| DeviceStatus::parse(s).is_some())
        .unwrap_or_default();
    let org = staff.caller.organisation_id;
    let wanted = status.clone();
    let (rows, venues, counts) = state
        .db(move |conn| {
            let venues = all_venues(conn, org)?;
            let filter = crate::devices::types::DeviceFilter {
                venue_id: venue,
                status: None,
                asset_tag: None,
                limit: None,
                cursor: None,
            };
            let all = crate::devices::queries::list(conn, org, &filter, 2000)?;
            let counts = [
                DeviceStatus::Available,
                DeviceStatus::Loaned,
                DeviceStatus::Maintenance,
                DeviceStatus::Retired,
            ]
            .iter()
            .map(|s| {
                (
                    device_status_word(*s),
                    all.iter().filter(|d| d.status == *s).count(),
                )
            })
            .collect();
            let mut rows: Vec<DeviceLine> = all
                .into_iter()
                .filter(|d| wanted.is_empty() || d.status.as_str() == wanted)
                .map(|d| DeviceLine {
                    id: d.id.to_string(),
                    venue: venues
                        .iter()
                        .find(|v| v.id == d.home_venue_id)
                        .map(|v| v.name.clone())
                        .unwrap_or_default(),
                    tag: d.asset_tag,
                    model: d.model,
                    os: [Some(d.os), d.os_version]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                    status: device_status_word(d.status),
                    code: d.status.as_str(),
                    notes: d.condition_notes.unwrap_or_default(),
                })
                .collect();
            rows.sort_by(|a, b| a.tag.cmp(&b.tag));
            Ok((
                rows,
                venues
                    .into_iter()
                    .filter(|v| v.active)
                    .map(|v| (v.id.to_string(), v.name, Some(v.id.0) == venue))
                    .collect(),
                counts,
            ))
        })
        .await?;
    html(
        StatusCode::OK,
        Devices {
            page: Page::of(&staff),
            rows,
            venues,
            status,
            counts,
        },
    )
}

async fn create_device(
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Bytes,
) -> ConsoleResult {
    office(&staff)?;
    let f = Fields::parse(&body);
    let req = crate::devices::types::NewDevice {
        asset_tag: f.text("asset_tag"),
        kind: f.get("kind").unwrap_or("smartphone").to_owned(),
        os: f.text("os"),
        os_version: f.get("os_version").map(str::to_owned),
        model: f.text("model"),
        home_venue_id: f
            .id("home_venue_id")?
            .ok_or_else(|| AppError::invalid_field("home_venue_id", "is required"))?,
        condition_notes: f.get("condition_notes").map(str::to_owned),
    };
    let fields = crate::devices::service::NewDeviceFields::parse(req)?;
    let caller = staff.caller.clone();
    state
        .write(move |conn| crate::devices::service::create_device(conn, &caller, fields))
        .await?;
    Ok(hx_redirect("/admin/devices"))
}

async fn device_status(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> ConsoleResult {
    office(&staff)?;
    let f = Fields::parse(&body);
    let to = match f.get("status").and_then(DeviceStatus::parse) {
        Some(s @ (DeviceStatus::Available | DeviceStatus::Maintenance | DeviceStatus::Retired)) => {
            s
        }
        _ => return message("error", "状態を選んでください。"),
    };
    let note = f.get("note").map(str::to_owned);
    let id = DeviceId(id.into_inner());
    let caller = staff.caller.clone();
    let done = state
        .write(move |conn| {
            crate::devices::service::change_status(conn, &caller, id, to, note.as_deref())
        })
        .await;
    match done {
        Ok(row) => message(
            "success",
            &format!(
                "{}を「{}」にしました。",
                row.asset_tag,
                device_status_word(row.status)
            ),
        ),
        Err(AppError::Client(c)) if c.code == "invalid_transition" => message(
            "error",
            "貸出中の端末は、返却されるまで状態を変えられません（廃棄した端末は戻せません）。",
        ),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- a person's data

#[derive(Template)]
#[template(path = "console/resident_data.html")]
struct ResidentData {
    page: Page,
    id: String,
    name: String,
    exported: String,
    /// (label, value) of the profile.
    profile: Vec<(&'static str, String)>,
    erased: String,
    /// Sections of pretty-printed records.
    sections: Vec<(&'static str, Vec<String>)>,
}

/// Everything held about a resident on one printable page (the same
/// export as `GET /api/v1/residents/{id}/export`, audited the same way).
async fn resident_data(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> ConsoleResult {
    office(&staff)?;
    let id = crate::db::ResidentId(id.into_inner());
    let caller = staff.caller.clone();
    let all = state
        .write(move |conn| crate::privacy::service::export(conn, &caller, id))
        .await?;
    let r = &all.resident;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let profile = vec![
        ("氏名", format!("{} {}", r.family_name, r.given_name)),
        (
            "ふりがな",
            format!("{} {}", r.family_name_kana, r.given_name_kana),
        ),
        ("電話", opt(&r.phone)),
        ("メール", opt(&r.email)),
        (
            "生まれ年",
            r.birth_year
                .map(|y| y.to_string())
                .unwrap_or_else(|| "—".into()),
        ),
        (
            "年代",
            r.age_band
                .as_deref()
                .map(crate::reports::age_band_word)
                .unwrap_or("—")
                .to_owned(),
        ),
        ("地区", opt(&r.district)),
        ("配慮", r.accessibility_needs.join("、")),
        ("連絡方法", r.contact_preference.clone()),
        (
            "連絡の同意",
            if r.consent_contact {
                "あり"
            } else {
                "なし"
            }
            .into(),
        ),
        ("スマホ", opt(&r.device)),
        ("メモ", opt(&r.notes)),
        ("登録日", r.created_at.format("%Y-%m-%d").to_string()),
    ];
    let lines = |list: &[serde_json::Value]| -> Vec<String> {
        list.iter()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
            .collect()
    };
    html(
        StatusCode::OK,
        ResidentData {
            page: Page::of(&staff),
            id: r.id.to_string(),
            name: format!("{} {}", r.family_name, r.given_name),
            exported: all.exported_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            erased: all
                .erased
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default(),
            profile,
            sections: vec![
                ("予約と出席", lines(&all.bookings)),
                ("貸出", lines(&all.loans)),
                ("入金・返金", lines(&all.payments)),
                ("相談とそのやりとり", lines(&all.tickets)),
                ("送ったメール", lines(&all.messages)),
                ("電話連絡", lines(&all.calls)),
            ],
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closures_are_said_as_days_or_with_times() {
        let d = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
        assert_eq!(
            closure_words(d("2026-12-29T00:00"), d("2027-01-04T00:00")),
            "12月29日（火）〜1月3日（日）"
        );
        assert_eq!(
            closure_words(d("2027-02-02T00:00"), d("2027-02-03T00:00")),
            "2月2日（火）（終日）"
        );
        assert_eq!(
            closure_words(d("2027-02-02T13:00"), d("2027-02-02T17:00")),
            "2月2日（火） 13:00〜2月2日（火） 17:00"
        );
    }

    #[test]
    fn who_may_join_is_said_plainly() {
        let e = |min, max, d: &[&str]| Eligibility {
            min_age: min,
            max_age: max,
            districts: d.iter().map(|s| (*s).to_owned()).collect(),
        };
        assert_eq!(eligibility_words(&e(None, None, &[])), "どなたでも");
        assert_eq!(eligibility_words(&e(Some(65), None, &[])), "65歳以上");
        assert_eq!(
            eligibility_words(&e(Some(60), Some(74), &["北区", "南区"])),
            "60〜74歳・北区、南区にお住まい"
        );
    }
}
