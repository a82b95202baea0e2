//! The organisation's report in the console (admins and coordinators): the
//! key figures, charts drawn on the server (participants per month,
//! attendance rate, consultations by category), printable on A4, and the
//! same tables as CSV or xlsx.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::setup::office;
use super::{ConsoleResult, Page, Staff, html};
use crate::reports::queries::Scope;
use crate::reports::summary::Summary;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/reports", web::get().to(report))
        .route("/admin/reports/file", web::get().to(file))
        .route("/programmes/{id}", web::get().to(programme));
}

#[derive(Deserialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
    encoding: Option<String>,
}

impl Period {
    /// The asked period, or the twelve months up to today.
    fn dates(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let to = self
            .to
            .as_deref()
            .and_then(|d| d.parse().ok())
            .unwrap_or(today);
        let default_from = NaiveDate::from_ymd_opt(to.year(), to.month(), 1)
            .and_then(|d| d.checked_sub_months(chrono::Months::new(11)))
            .unwrap_or(to);
        let from = self
            .from
            .as_deref()
            .and_then(|d| d.parse().ok())
            .unwrap_or(default_from);
        (from, to)
    }
}

#[derive(Template)]
#[template(path = "console/report.html")]
struct Report {
    page: Page,
    from: String,
    to: String,
    s: Summary,
    figures: Vec<(&'static str, String)>,
    participants_chart: String,
    attendance_chart: String,
    categories_chart: String,
}

fn percent(v: Option<f64>) -> String {
    v.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

async fn load(
    state: &AppState,
    staff: &Staff,
    q: &Period,
) -> Result<(Summary, std::collections::HashMap<String, String>), super::ConsoleError> {
    let org = staff.caller.organisation_id;
    let (from_raw, to_raw) = (q.from.clone(), q.to.clone());
    let dates = Period {
        from: from_raw,
        to: to_raw,
        format: None,
        encoding: None,
    };
    Ok(state
        .db(move |conn| {
            let tz = crate::calendar::timezone(conn, org)?;
            let (from, to) = dates.dates(crate::calendar::today(tz));
            crate::reports::routes::check_period(from, to)?;
            let summary = crate::reports::routes::compute(conn, org, from, to, &Scope::default())?;
            let categories = crate::tickets::queries::category_codes(conn, org)?
                .into_iter()
                .map(|(code, label, _)| (code, label))
                .collect();
            Ok((summary, categories))
        })
        .await?)
}

async fn report(state: web::Data<AppState>, staff: Staff, q: web::Query<Period>) -> ConsoleResult {
    office(&staff)?;
    let q = q.into_inner();
    let (s, categories) = load(&state, &staff, &q).await?;
    let month = |m: &str| {
        m.split_once('-')
            .map(|(y, mo)| format!("{}/{}", &y[2..], mo.trim_start_matches('0')))
            .unwrap_or_else(|| m.to_owned())
    };
    let participants: Vec<(String, Option<f64>)> = s
        .by_month
        .iter()
        .map(|m| (month(&m.month), Some(m.participants as f64)))
        .collect();
    let attendance: Vec<(String, Option<f64>)> = s
        .by_month
        .iter()
        .map(|m| (month(&m.month), m.attendance_rate.map(|r| r * 100.0)))
        .collect();
    let mut by_category: Vec<(String, f64)> = s
        .consultations
        .by_category
        .iter()
        .map(|(code, n)| {
            (
                categories
                    .get(code)
                    .cloned()
                    .unwrap_or_else(|| code.clone()),
                *n as f64,
            )
        })
        .collect();
    by_category.sort_by(|a, b| b.1.total_cmp(&a.1));
    let c = &s.consultations;
    let figures = vec![
        (
            "開催した回数",
            format!("{}回（中止 {}回）", s.sessions_held, s.sessions_cancelled),
        ),
        (
            "参加者（実人数）",
            format!(
                "{}人（はじめて {}人）",
                s.participants, s.first_time_participants
            ),
        ),
        ("出席（延べ）", format!("{}人", s.attendances)),
        ("出席率", percent(s.attendance_rate)),
        ("無断欠席", format!("{}人", s.no_shows)),
        (
            "予約",
            format!(
                "{}件（定員 {}席のうち {}席）",
                s.bookings, s.seats_offered, s.seats_taken
            ),
        ),
        (
            "貸出スマホ",
            format!("{}台（返却遅れ {}台）", s.loaners_lent, s.loaners_overdue),
        ),
        (
            "入金・返金",
            format!(
                "入金 {}円 / 返金 {}円 / 差し引き {}円",
                s.fees_collected_yen, s.fees_refunded_yen, s.fees_net_yen
            ),
        ),
        (
            "相談",
            format!(
                "{}件（その場で解決 {}）",
                c.total,
                percent(c.resolved_on_the_spot_share)
            ),
        ),
        (
            "相談の対応時間（中央値）",
            format!(
                "最初の対応 {} / 解決 {}",
                c.median_first_response_minutes
                    .map(|m| format!("{m:.0}分"))
                    .unwrap_or_else(|| "—".into()),
                c.median_resolution_minutes
                    .map(|m| format!("{m:.0}分"))
                    .unwrap_or_else(|| "—".into()),
            ),
        ),
    ];
    html(
        StatusCode::OK,
        Report {
            page: Page::of(&staff),
            from: s.from.to_string(),
            to: s.to.to_string(),
            participants_chart: crate::reports::charts::columns(
                "月ごとの参加者（実人数）",
                &participants,
                None,
                "人",
            ),
            attendance_chart: crate::reports::charts::columns(
                "月ごとの出席率",
                &attendance,
                Some(100.0),
                "%",
            ),
            categories_chart: crate::reports::charts::rows("分類ごとの相談", &by_category, "件"),
            figures,
            s,
        },
    )
}

/// The same tables as the API's file, for the office's Excel.
async fn file(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<Period>,
) -> ConsoleResult {
    office(&staff)?;
    let q = q.into_inner();
    let wanted = crate::reports::routes::format(
        &req,
        q.format.as_deref().or(Some("csv")),
        q.encoding.as_deref(),
    )?;
    let (s, categories) = load(&state, &staff, &q).await?;
    if wanted == crate::reports::routes::Format::Json {
        return Ok(super::secure(actix_web::HttpResponse::Ok().json(&s)));
    }
    let res = crate::reports::routes::file(
        &format!("report-{}-{}", s.from, s.to),
        wanted,
        &crate::reports::tables(&s, &categories),
    )?;
    Ok(super::secure(res))
}

fn count_words(c: &crate::reports::rollup::Count) -> String {
    match c {
        crate::reports::rollup::Count::Exact { value } => format!("{value}人"),
        crate::reports::rollup::Count::Range { at_least, at_most } => {
            format!("{at_least}〜{at_most}人")
        }
    }
}

pub struct MemberLine {
    pub name: String,
    pub sessions: i64,
    pub participants: String,
    pub first_time: String,
    pub attendances: i64,
    pub consultations: i64,
}

#[derive(Template)]
#[template(path = "console/programme.html")]
struct ProgrammePage {
    page: Page,
    name: String,
    id: String,
    from: String,
    to: String,
    k: i64,
    members: Vec<MemberLine>,
    total: MemberLine,
    sessions_chart: String,
    categories_chart: String,
}

fn member_line(name: String, f: &crate::reports::rollup::Figures) -> MemberLine {
    MemberLine {
        name,
        sessions: f.sessions_held,
        participants: count_words(&f.participants),
        first_time: count_words(&f.first_time_participants),
        attendances: f.attendances,
        consultations: f.consultations,
    }
}

/// A programme's roll-up for its viewers: members and total, small people
/// counts as ranges, charts of sessions per member and consultations by
/// category.
async fn programme(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<uuid::Uuid>,
    q: web::Query<Period>,
) -> ConsoleResult {
    let id = crate::db::ProgrammeId(id.into_inner());
    let q = q.into_inner();
    let caller = staff.caller.clone();
    let (name, r, categories) = state
        .db(move |conn| {
            use diesel::prelude::*;
            let tz = crate::calendar::timezone(conn, caller.organisation_id)?;
            let (from, to) = q.dates(crate::calendar::today(tz));
            crate::reports::routes::check_period(from, to)?;
            let r = crate::reports::programmes::summary_for(conn, &caller, id, from, to)?;
            let name: String = crate::db::schema::programmes::table
                .filter(crate::db::schema::programmes::id.eq(id))
                .select(crate::db::schema::programmes::name)
                .first(conn)?;
            let categories: std::collections::HashMap<String, String> =
                crate::tickets::queries::category_codes(conn, caller.organisation_id)?
                    .into_iter()
                    .map(|(code, label, _)| (code, label))
                    .collect();
            Ok((name, r, categories))
        })
        .await?;
    let sessions: Vec<(String, Option<f64>)> = r
        .members
        .iter()
        .map(|m| (m.organisation.clone(), Some(m.figures.sessions_held as f64)))
        .collect();
    let mut by_category: Vec<(String, f64)> = r
        .total
        .consultations_by_category
        .iter()
        .map(|(code, n)| {
            (
                categories
                    .get(code)
                    .cloned()
                    .unwrap_or_else(|| code.clone()),
                *n as f64,
            )
        })
        .collect();
    by_category.sort_by(|a, b| b.1.total_cmp(&a.1));
    html(
        StatusCode::OK,
        ProgrammePage {
            page: Page::of(&staff),
            name,
            id: id.to_string(),
            from: r.from.to_string(),
            to: r.to.to_string(),
            k: r.min_cell_size,
            members: r
                .members
                .iter()
                .map(|m| member_line(m.organisation.clone(), &m.figures))
                .collect(),
            total: member_line("合計".into(), &r.total),
            sessions_chart: crate::reports::charts::columns(
                "会員ごとの開催回数",
                &sessions,
                None,
                "回",
            ),
            categories_chart: crate::reports::charts::rows(
                "分類ごとの相談（合計）",
                &by_category,
                "件",
            ),
        },
    )
}
