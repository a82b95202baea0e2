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
        .route("/admin/series", web::post().to(save));
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
        Err(e @ AppError::Client(_)) => message("error", &super::in_japanese(&e)),
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
        Err(e @ AppError::Client(_)) => message("error", &super::in_japanese(&e)),
        Err(e) => Err(e.into()),
    }
}
