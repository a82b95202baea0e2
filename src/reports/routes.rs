//! `/api/v1/reports`: the organisation's figures for a period, as JSON or
//! as a file (CSV or xlsx) for Excel. Admins and coordinators.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::Deserialize;

use super::export::{self, Encoding};
use super::queries::{self, Period, Scope};
use super::summary::{self, Summary};
use crate::auth::{Caller, WRITERS};
use crate::db::{CourseId, VenueId};
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(report_summary).service(attendance_rows);
}

/// The longest period one report covers.
pub const MAX_DAYS: i64 = 3 * 366;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// First day (local date, inclusive).
    pub from: NaiveDate,
    /// Last day (local date, inclusive).
    pub to: NaiveDate,
    pub venue_id: Option<uuid::Uuid>,
    pub course_id: Option<uuid::Uuid>,
    /// A topic code: courses tagged with it.
    pub topic: Option<String>,
    /// `json` (default), `csv` or `xlsx`; `Accept: text/csv` also gives CSV.
    pub format: Option<String>,
    /// For CSV: `utf-8` (default, with a byte-order mark) or `shift_jis`.
    pub encoding: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv(Encoding),
    Xlsx,
}

/// The format asked for by `format=` or, failing that, by `Accept`.
pub fn format(
    req: &HttpRequest,
    format: Option<&str>,
    encoding: Option<&str>,
) -> AppResult<Format> {
    let accept_csv = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    match format {
        Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv(Encoding::parse(encoding)?)),
        Some("xlsx") => Ok(Format::Xlsx),
        Some(_) => Err(AppError::invalid_field(
            "format",
            "must be json, csv or xlsx",
        )),
        None if accept_csv => Ok(Format::Csv(Encoding::parse(encoding)?)),
        None => Ok(Format::Json),
    }
}

/// Checks a period: `to` not before `from`, at most `MAX_DAYS`.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> AppResult<()> {
    if to < from {
        return Err(AppError::invalid_field("to", "must not be before from"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::invalid_field(
            "to",
            "a report covers at most three years",
        ));
    }
    Ok(())
}

/// A file to download.
pub fn file(name: &str, f: Format, tables: &[export::Table]) -> AppResult<HttpResponse> {
    let disposition = |ext: &str| format!("attachment; filename=\"{name}.{ext}\"");
    Ok(match f {
        Format::Csv(enc) => HttpResponse::Ok()
            .content_type(format!("text/csv; charset={}", enc.charset()))
            .insert_header((header::CONTENT_DISPOSITION, disposition("csv")))
            .body(enc.encode(&export::tables_csv(tables)?)),
        Format::Xlsx => HttpResponse::Ok()
            .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .insert_header((header::CONTENT_DISPOSITION, disposition("xlsx")))
            .body(export::xlsx(tables)?),
        Format::Json => unreachable!("JSON is answered by the caller"),
    })
}

/// Computes an organisation's summary (shared with the console).
pub fn compute(
    conn: &mut crate::db::DbConnection,
    org: crate::db::OrganisationId,
    from: NaiveDate,
    to: NaiveDate,
    scope: &Scope,
) -> AppResult<Summary> {
    let tz = crate::calendar::timezone(conn, org)?;
    let period = Period::new(from, to, tz);
    let facts = queries::load(conn, org, &period, scope)?;
    Ok(summary::compute(from, to, &facts))
}

/// The organisation's figures for a period: sessions, seats, bookings by
/// channel, participants (unique, first-time, by age band and district),
/// attendance, per course, topic and venue, loaners, fees and
/// consultations. `format=csv|xlsx` (or `Accept: text/csv`) for Excel.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(SummaryQuery),
    responses(
        (status = 200, description = "The figures (JSON, text/csv or xlsx)", body = Summary),
        (status = 403, description = "Not an admin or coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid period or format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/summary")]
async fn report_summary(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SummaryQuery>,
) -> AppResult<HttpResponse> {
    caller.require(WRITERS)?;
    let q = query.into_inner();
    check_period(q.from, q.to)?;
    let wanted = format(&req, q.format.as_deref(), q.encoding.as_deref())?;
    let scope = Scope {
        venue: q.venue_id.map(VenueId),
        course: q.course_id.map(CourseId),
        topic: q.topic.and_then(|t| (!t.trim().is_empty()).then_some(t)),
    };
    let org = caller.organisation_id;
    let (from, to) = (q.from, q.to);
    let (summary, categories) = state
        .db(move |conn| {
            let summary = compute(conn, org, from, to, &scope)?;
            let categories = crate::tickets::queries::category_codes(conn, org)?
                .into_iter()
                .map(|(code, label, _)| (code, label))
                .collect();
            Ok((summary, categories))
        })
        .await?;
    if wanted == Format::Json {
        return Ok(HttpResponse::Ok().json(summary));
    }
    file(
        &format!("report-{from}-{to}"),
        wanted,
        &super::tables(&summary, &categories),
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RowsQuery {
    /// First day (local date, inclusive).
    pub from: NaiveDate,
    /// Last day (local date, inclusive).
    pub to: NaiveDate,
    /// `utf-8` (default, with a byte-order mark) or `shift_jis`.
    pub encoding: Option<String>,
}

/// Every booking of the period's sessions as one anonymous CSV line (date,
/// time, course, venue, channel, status, attendance, age band, district —
/// no names), streamed in pages of 1,000 so any size of export runs in
/// constant memory.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(RowsQuery),
    responses(
        (status = 200, description = "text/csv, streamed", content_type = "text/csv"),
        (status = 403, description = "Not an admin or coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid period or encoding", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/attendance.csv")]
async fn attendance_rows(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<RowsQuery>,
) -> AppResult<HttpResponse> {
    use super::rows;
    caller.require(WRITERS)?;
    let q = query.into_inner();
    check_period(q.from, q.to)?;
    let enc = Encoding::parse(q.encoding.as_deref())?;
    let org = caller.organisation_id;
    let (from, to) = (q.from, q.to);
    let (period, names) = state
        .db(move |conn| {
            let tz = crate::calendar::timezone(conn, org)?;
            Ok((Period::new(from, to, tz), rows::names(conn, org)?))
        })
        .await?;
    let head = rows::header(enc)?;
    let shared = std::sync::Arc::new((period, names));
    let pool = state.pool.clone();
    // (cursor, finished): one page per poll, read off the async threads.
    let pages = futures_util::stream::unfold(
        (None::<crate::db::BookingId>, false),
        move |(after, finished)| {
            let pool = pool.clone();
            let shared = shared.clone();
            async move {
                if finished {
                    return None;
                }
                let read = web::block(
                    move || -> AppResult<Option<(String, crate::db::BookingId)>> {
                        let mut conn = pool.get().map_err(|e| AppError::Internal(e.into()))?;
                        rows::page(&mut conn, org, &shared.0, &shared.1, after, rows::PAGE)
                    },
                )
                .await;
                match read {
                    Ok(Ok(Some((text, last)))) => Some((
                        Ok::<_, actix_web::Error>(web::Bytes::from(enc.encode_more(&text))),
                        (Some(last), false),
                    )),
                    Ok(Ok(None)) => None,
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "attendance export failed");
                        Some((
                            Err(actix_web::error::ErrorInternalServerError("export failed")),
                            (after, true),
                        ))
                    }
                    Err(e) => Some((
                        Err(actix_web::error::ErrorInternalServerError(e)),
                        (after, true),
                    )),
                }
            }
        },
    );
    let body =
        futures_util::stream::once(
            async move { Ok::<_, actix_web::Error>(web::Bytes::from(head)) },
        )
        .chain(pages);
    Ok(HttpResponse::Ok()
        .content_type(format!("text/csv; charset={}", enc.charset()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"attendance-{from}-{to}.csv\""),
        ))
        .streaming(body))
}
