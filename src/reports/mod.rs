//! Reports for the municipality and the national programme: the figures of
//! a period (`summary`, computed from facts `queries` loads), the files
//! people open in Excel (`export`), and the HTTP routes.

pub mod charts;
pub use crate::export;
pub mod programme_routes;
pub mod programmes;
pub mod queries;
pub mod rollup;
pub mod routes;
pub mod rows;
pub mod summary;

use std::collections::{BTreeMap, HashMap};

use export::{Cell, Table};
use summary::{Line, Summary};

pub fn booking_channel_word(c: &str) -> &str {
    match c {
        "phone" => "電話",
        "counter" => "窓口",
        "email" => "メール",
        "web" => "ウェブ",
        "walk_in" => "当日参加",
        other => other,
    }
}

pub fn ticket_channel_word(c: &str) -> &str {
    match c {
        "face_to_face" => "来所",
        "phone" => "電話",
        "email" => "メール",
        "fax" => "FAX",
        "web" => "ウェブ",
        other => other,
    }
}

pub fn age_band_word(b: &str) -> &str {
    match b {
        "under_60" => "60歳未満",
        "60s" => "60代",
        "70s" => "70代",
        "80s" => "80代",
        "90_plus" => "90歳以上",
        "unknown" => "不明",
        other => other,
    }
}

fn outcome_word(o: &str) -> &str {
    match o {
        "resolved" => "解決",
        "cancelled" => "取消",
        "open" => "対応中",
        other => other,
    }
}

fn counts(map: &BTreeMap<String, i64>, word: impl Fn(&str) -> String) -> Vec<Vec<Cell>> {
    map.iter()
        .map(|(k, v)| vec![Cell::from(word(k)), Cell::Int(*v)])
        .collect()
}

fn lines(list: &[Line]) -> Vec<Vec<Cell>> {
    list.iter()
        .map(|l| {
            vec![
                Cell::from(l.name.clone()),
                Cell::Int(l.sessions_held),
                Cell::Int(l.seats_offered),
                Cell::Int(l.seats_taken),
                Cell::Int(l.attendances),
                Cell::Int(l.participants),
                Cell::Int(l.no_shows),
            ]
        })
        .collect()
}

const LINE_HEADERS: [&str; 7] = [
    "名前",
    "開催回数",
    "定員",
    "予約",
    "出席",
    "参加者（実人数）",
    "無断欠席",
];

/// The report as tables with Japanese headers (`categories`: ticket
/// category code → label).
pub fn tables(s: &Summary, categories: &HashMap<String, String>) -> Vec<Table> {
    let pct = |v: Option<f64>| Cell::from(v.map(|r| r * 100.0));
    let overview: Vec<(&str, Cell)> = vec![
        ("期間（から）", Cell::from(s.from.to_string())),
        ("期間（まで）", Cell::from(s.to.to_string())),
        ("開催した回数", Cell::Int(s.sessions_held)),
        ("中止した回数", Cell::Int(s.sessions_cancelled)),
        ("これからの回数", Cell::Int(s.sessions_upcoming)),
        ("定員の合計", Cell::Int(s.seats_offered)),
        ("予約された席", Cell::Int(s.seats_taken)),
        ("予約", Cell::Int(s.bookings)),
        ("予約の取消", Cell::Int(s.bookings_cancelled)),
        ("キャンセル待ち", Cell::Int(s.bookings_waitlisted)),
        ("参加者（実人数）", Cell::Int(s.participants)),
        ("はじめての参加者", Cell::Int(s.first_time_participants)),
        ("出席（延べ）", Cell::Int(s.attendances)),
        ("出席率（%）", pct(s.attendance_rate)),
        ("無断欠席", Cell::Int(s.no_shows)),
        ("連絡のあった欠席", Cell::Int(s.absences)),
        ("貸出スマホ（貸出数）", Cell::Int(s.loaners_lent)),
        ("貸出スマホ（返却遅れ）", Cell::Int(s.loaners_overdue)),
        ("入金（円）", Cell::Int(s.fees_collected_yen)),
        ("返金（円）", Cell::Int(s.fees_refunded_yen)),
        ("差し引き（円）", Cell::Int(s.fees_net_yen)),
        ("相談の件数", Cell::Int(s.consultations.total)),
        (
            "その場で解決",
            Cell::Int(s.consultations.resolved_on_the_spot),
        ),
        (
            "その場で解決の割合（%）",
            pct(s.consultations.resolved_on_the_spot_share),
        ),
        (
            "最初の対応までの中央値（営業時間・分）",
            Cell::from(s.consultations.median_first_response_minutes),
        ),
        (
            "解決までの中央値（営業時間・分）",
            Cell::from(s.consultations.median_resolution_minutes),
        ),
    ];
    let c = &s.consultations;
    let category = |k: &str| categories.get(k).cloned().unwrap_or_else(|| k.to_owned());
    vec![
        Table {
            title: "概要",
            headers: vec!["項目", "値"],
            rows: overview
                .into_iter()
                .map(|(k, v)| vec![Cell::from(k), v])
                .collect(),
        },
        Table {
            title: "月別",
            headers: vec![
                "月",
                "開催回数",
                "参加者（実人数）",
                "出席（延べ）",
                "出席率（%）",
            ],
            rows: s
                .by_month
                .iter()
                .map(|m| {
                    vec![
                        Cell::from(m.month.clone()),
                        Cell::Int(m.sessions_held),
                        Cell::Int(m.participants),
                        Cell::Int(m.attendances),
                        pct(m.attendance_rate),
                    ]
                })
                .collect(),
        },
        Table {
            title: "予約の経路",
            headers: vec!["経路", "予約"],
            rows: counts(&s.bookings_by_channel, |k| {
                booking_channel_word(k).to_owned()
            }),
        },
        Table {
            title: "年代別",
            headers: vec!["年代", "参加者"],
            rows: counts(&s.participants_by_age_band, |k| age_band_word(k).to_owned()),
        },
        Table {
            title: "地区別",
            headers: vec!["地区", "参加者"],
            rows: counts(&s.participants_by_district, |k| {
                if k == "unknown" {
                    "不明".into()
                } else {
                    k.to_owned()
                }
            }),
        },
        Table {
            title: "講座別",
            headers: LINE_HEADERS.to_vec(),
            rows: lines(&s.by_course),
        },
        Table {
            title: "分野別",
            headers: LINE_HEADERS.to_vec(),
            rows: lines(&s.by_topic),
        },
        Table {
            title: "会場別",
            headers: LINE_HEADERS.to_vec(),
            rows: lines(&s.by_venue),
        },
        Table {
            title: "相談（どこから）",
            headers: vec!["どこから", "件数"],
            rows: counts(&c.by_channel, |k| ticket_channel_word(k).to_owned()),
        },
        Table {
            title: "相談（分類）",
            headers: vec!["分類", "件数"],
            rows: counts(&c.by_category, category),
        },
        Table {
            title: "相談（会場）",
            headers: vec!["会場", "件数"],
            rows: counts(&c.by_venue, |k| k.to_owned()),
        },
        Table {
            title: "相談（結果）",
            headers: vec!["結果", "件数"],
            rows: counts(&c.by_outcome, |k| outcome_word(k).to_owned()),
        },
    ]
}
