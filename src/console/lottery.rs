//! A lottery as the office sees it: the draw's record in words (who was
//! drawn in which order and why), and drawing it by hand once applications
//! have closed. Runs `bookings::lottery` and `bookings::lottery_routes::load`,
//! the functions the API runs.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::Utc;
use uuid::Uuid;

use super::{ConsoleError, ConsoleResult, Page, Staff, hx_redirect};
use crate::auth::WRITERS;
use crate::db::SessionId;
use crate::error::AppError;
use crate::messages::letters;
use crate::schedule::types::{Allocation, SessionRow};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sessions/{id}/draw", web::get().to(page))
        .route("/sessions/{id}/draw", web::post().to(draw_now));
}

/// How a lottery session reads in a list: 「抽選（申込 5人・12月3日（木）10:00に抽選）」,
/// 「抽選済み」; empty for first come.
pub fn label(s: &SessionRow, tz: &chrono_tz::Tz) -> String {
    if s.allocation != Allocation::Lottery {
        return String::new();
    }
    if s.drawn_at.is_some() {
        return "抽選済み".into();
    }
    format!(
        "抽選（申込 {}人・{}に抽選）",
        s.applications_count,
        s.draw_at
            .map(|t| letters::at(t.and_utc(), tz))
            .unwrap_or_default()
    )
}

pub struct Line {
    pub position: i32,
    pub name: String,
    pub kana: String,
    pub reference: String,
    pub group: String,
    pub ticket: String,
    pub outcome: String,
    pub now: String,
}

#[derive(Template)]
#[template(path = "console/draw.html")]
struct DrawPage {
    page: Page,
    id: SessionId,
    title: String,
    when: String,
    /// Before the draw: what happens next, in words.
    pending: String,
    /// Applications have closed and the draw has not run: it can run now.
    can_draw: bool,
    drawn: bool,
    drawn_at: String,
    drawn_by: String,
    seed: String,
    rules: Vec<String>,
    seats_free: i32,
    reproduced: bool,
    lines: Vec<Line>,
}

fn outcome_word(o: &str) -> &'static str {
    match o {
        "won" => "当選",
        "waitlisted" => "キャンセル待ち",
        _ => "落選",
    }
}

fn status_word(s: crate::bookings::types::BookingStatus) -> &'static str {
    use crate::bookings::types::BookingStatus::*;
    match s {
        Applied => "申込み",
        Confirmed => "予約済み",
        Offered => "席を取り置き中",
        Waitlisted => "キャンセル待ち",
        Cancelled => "取消",
    }
}

async fn page(state: web::Data<AppState>, staff: Staff, id: web::Path<Uuid>) -> ConsoleResult {
    staff.caller.require(WRITERS).map_err(ConsoleError::from)?;
    let id = SessionId(id.into_inner());
    let caller = staff.caller.clone();
    let page = state
        .db(move |conn| {
            let org = caller.organisation_id;
            let row = crate::schedule::queries::session_with_names(conn, org, id)?
                .ok_or_else(|| AppError::not_found("session"))?;
            let tz = crate::calendar::timezone(conn, org)?;
            let s = &row.0;
            let mut p = DrawPage {
                page: Page::of(&staff),
                id,
                title: row.2.clone(),
                when: super::desk::when(&row, &tz),
                pending: String::new(),
                can_draw: false,
                drawn: s.drawn_at.is_some(),
                drawn_at: String::new(),
                drawn_by: String::new(),
                seed: String::new(),
                rules: Vec::new(),
                seats_free: 0,
                reproduced: false,
                lines: Vec::new(),
            };
            if s.allocation != Allocation::Lottery {
                p.pending = "この日程は先着順です（抽選はありません）。".into();
                return Ok(p);
            }
            if s.drawn_at.is_none() {
                let at = |t: Option<chrono::NaiveDateTime>| {
                    t.map(|t| letters::at(t.and_utc(), &tz)).unwrap_or_default()
                };
                let open = s
                    .applications_close_at
                    .is_none_or(|t| t > Utc::now().naive_utc());
                p.can_draw = !open;
                p.pending = format!(
                    "抽選前です。申込み {}人、定員 {}人。申込みの締切は{}、抽選は{}です。{}",
                    s.applications_count,
                    s.capacity,
                    at(s.applications_close_at),
                    at(s.draw_at),
                    if open {
                        "締切までは電話や窓口で申込みを受け付けます。"
                    } else {
                        "締切を過ぎました。抽選の時刻になると自動で抽選します。いま抽選することもできます。"
                    }
                );
                return Ok(p);
            }
            let record = crate::bookings::lottery_routes::load(conn, org, id)?;
            p.drawn_at = letters::at(record.drawn_at, &tz);
            p.drawn_by = match record.drawn_by {
                Some(account) => crate::staff::queries::find(conn, org, account)?
                    .map(|a| format!("{}さんが手動で", a.name))
                    .unwrap_or_default(),
                None => "抽選の時刻に自動で".into(),
            };
            p.seed = record.seed.clone();
            p.seats_free = record.seats_free;
            p.reproduced = record.reproduced;
            p.rules.push("申込みごとに「種（seed）:予約ID」のSHA-256を計算した番号（くじ番号）の小さい順です。申込みの早さや受付方法は関係ありません。".into());
            if record.first_timers_first {
                p.rules.push("この講座にはじめて参加する方を先にしています。".into());
            }
            if record.no_shows_last {
                p.rules.push(format!(
                    "最近{}か月に{}回以上無断欠席のある方は、ほかの方のあとにしています。",
                    record.no_show_months, record.no_show_count
                ));
            }
            for e in record.entries {
                let mut group = Vec::new();
                if record.first_timers_first {
                    group.push(if e.first_timer { "はじめて" } else { "参加したことあり" });
                }
                if record.no_shows_last && e.recent_no_shows {
                    group.push("最近の無断欠席あり");
                }
                p.lines.push(Line {
                    position: e.position,
                    name: e.resident.name,
                    kana: e.resident.kana,
                    reference: letters::spaced(&e.reference),
                    group: group.join("・"),
                    ticket: e.ticket[..12].to_owned(),
                    outcome: outcome_word(&e.outcome).into(),
                    now: status_word(e.status_now).into(),
                });
            }
            Ok(p)
        })
        .await?;
    super::html(StatusCode::OK, page)
}

async fn draw_now(state: web::Data<AppState>, staff: Staff, id: web::Path<Uuid>) -> ConsoleResult {
    staff.caller.require(WRITERS).map_err(ConsoleError::from)?;
    let id = SessionId(id.into_inner());
    let rule = crate::bookings::lottery::NoShowRule {
        count: state.settings.attendance.no_show_warning_count,
        months: state.settings.attendance.no_show_months,
    };
    let turnaround = state.settings.loaners.turnaround_minutes;
    let caller = staff.caller.clone();
    state
        .write(move |conn| {
            let s = crate::bookings::service::session_of(conn, caller.organisation_id, id)?;
            if s.applications_close_at
                .is_none_or(|t| t > Utc::now().naive_utc())
            {
                return Err(AppError::conflict(
                    "applications_open",
                    "applications are still open",
                ));
            }
            crate::bookings::lottery::draw(
                conn,
                caller.organisation_id,
                id,
                Some(caller.account_id),
                rule,
                turnaround,
            )
        })
        .await?;
    Ok(hx_redirect(&format!("/sessions/{id}/draw")))
}
