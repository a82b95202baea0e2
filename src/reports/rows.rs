//! The period's attendance, one anonymous line per booking, as CSV that
//! streams: pages of 1,000 rows are read and written one after another, so
//! a year of a large centre never sits in memory at once.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::export::{Cell, Encoding, csv_text};
use super::queries::Period;
use crate::db::schema::{bookings, courses, residents, sessions, venues};
use crate::db::{BookingId, CourseId, DbConnection, OrganisationId, VenueId};
use crate::error::AppResult;

pub const PAGE: i64 = 1000;

pub const HEADERS: [&str; 9] = [
    "日付", "開始", "講座", "会場", "経路", "状態", "出席", "年代", "地区",
];

/// Names the lines refer to, read once.
pub struct Names {
    courses: HashMap<CourseId, String>,
    venues: HashMap<VenueId, String>,
}

pub fn names(conn: &mut DbConnection, org: OrganisationId) -> AppResult<Names> {
    Ok(Names {
        courses: courses::table
            .filter(courses::organisation_id.eq(org))
            .select((courses::id, courses::title))
            .load::<(CourseId, String)>(conn)?
            .into_iter()
            .collect(),
        venues: venues::table
            .filter(venues::organisation_id.eq(org))
            .select((venues::id, venues::name))
            .load::<(VenueId, String)>(conn)?
            .into_iter()
            .collect(),
    })
}

type Line = (
    BookingId,
    NaiveDateTime,
    CourseId,
    VenueId,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<String>,
);

/// One page of lines after `after` (booking id order) as CSV text without
/// the header; `None` when there are no more.
pub fn page(
    conn: &mut DbConnection,
    org: OrganisationId,
    period: &Period,
    names: &Names,
    after: Option<BookingId>,
    size: i64,
) -> AppResult<Option<(String, BookingId)>> {
    let mut q = bookings::table
        .inner_join(sessions::table)
        .inner_join(residents::table)
        .filter(sessions::organisation_id.eq(org))
        .filter(sessions::starts_at.ge(period.start))
        .filter(sessions::starts_at.lt(period.end))
        .order(bookings::id.asc())
        .limit(size)
        .select((
            bookings::id,
            sessions::starts_at,
            sessions::course_id,
            sessions::venue_id,
            bookings::channel,
            bookings::status,
            bookings::attendance,
            bookings::age_band,
            residents::birth_year,
            residents::age_band,
            residents::district,
        ))
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(bookings::id.gt(after));
    }
    let lines: Vec<Line> = q.load(conn)?;
    let Some(last) = lines.last().map(|l| l.0) else {
        return Ok(None);
    };
    let rows = lines.into_iter().map(|l| {
        let at = l.1.and_utc().with_timezone(&period.tz);
        let band = match (l.8, l.7, l.9) {
            (Some(year), _, _) => super::summary::age_band(year, at.date_naive()).to_owned(),
            (None, Some(kept), _) => kept,
            (None, None, Some(recorded)) => recorded,
            _ => "unknown".to_owned(),
        };
        vec![
            Cell::from(at.date_naive().to_string()),
            Cell::from(at.format("%H:%M").to_string()),
            Cell::from(names.courses.get(&l.2).cloned().unwrap_or_default()),
            Cell::from(names.venues.get(&l.3).cloned().unwrap_or_default()),
            Cell::from(super::booking_channel_word(&l.4).to_owned()),
            Cell::from(status_word(&l.5)),
            Cell::from(attendance_word(l.6.as_deref())),
            Cell::from(super::age_band_word(&band).to_owned()),
            Cell::from(l.10.unwrap_or_default()),
        ]
    });
    let text = csv_text(&[], rows)?;
    Ok(Some((text, last)))
}

fn status_word(s: &str) -> &'static str {
    match s {
        "confirmed" => "予約済み",
        "waitlisted" => "キャンセル待ち",
        "offered" => "席を取り置き中",
        "applied" => "抽選申込み",
        "cancelled" => "取消",
        _ => "",
    }
}

fn attendance_word(a: Option<&str>) -> &'static str {
    match a {
        Some("present") => "出席",
        Some("late") => "遅刻",
        Some("absent") => "欠席",
        Some("no_show") => "無断欠席",
        _ => "",
    }
}

/// The header line, with the byte-order mark for UTF-8.
pub fn header(enc: Encoding) -> AppResult<Vec<u8>> {
    Ok(enc.encode(&csv_text(&HEADERS, Vec::<Vec<Cell>>::new())?))
}
