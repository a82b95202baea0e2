//! Ticket statistics for the monthly report: counts by dimension and median
//! response and resolution times.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::types::TicketRow;

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub total: usize,
    pub by_channel: BTreeMap<String, usize>,
    pub by_category: BTreeMap<String, usize>,
    pub by_status: BTreeMap<String, usize>,
    pub by_priority: BTreeMap<String, usize>,
    /// Median business minutes from intake to the first response.
    pub median_first_response_minutes: Option<f64>,
    /// Median business minutes from intake to resolution.
    pub median_resolution_minutes: Option<f64>,
}

pub fn median(mut values: Vec<i64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) as f64 / 2.0
    } else {
        values[mid] as f64
    })
}

/// `minutes` measures an interval (business minutes in the service).
pub fn compute(
    rows: &[TicketRow],
    minutes: impl Fn(&TicketRow, chrono::NaiveDateTime, chrono::NaiveDateTime) -> i64,
) -> Stats {
    let mut stats = Stats {
        total: rows.len(),
        by_channel: BTreeMap::new(),
        by_category: BTreeMap::new(),
        by_status: BTreeMap::new(),
        by_priority: BTreeMap::new(),
        median_first_response_minutes: None,
        median_resolution_minutes: None,
    };
    for r in rows {
        *stats
            .by_channel
            .entry(r.channel.as_str().to_owned())
            .or_default() += 1;
        *stats.by_category.entry(r.category.clone()).or_default() += 1;
        *stats
            .by_status
            .entry(r.status.as_str().to_owned())
            .or_default() += 1;
        *stats
            .by_priority
            .entry(r.priority.as_str().to_owned())
            .or_default() += 1;
    }
    stats.median_first_response_minutes = median(
        rows.iter()
            .filter_map(|r| r.first_response_at.map(|t| minutes(r, r.received_at, t)))
            .collect(),
    );
    stats.median_resolution_minutes = median(
        rows.iter()
            .filter_map(|r| r.resolved_at.map(|t| minutes(r, r.received_at, t)))
            .collect(),
    );
    stats
}

/// The same figures as CSV (`dimension,value,count`, then the medians),
/// through the report writer: quoted, formulas neutralised, UTF-8 with a
/// byte-order mark for Excel.
pub fn csv(stats: &Stats) -> crate::error::AppResult<Vec<u8>> {
    use crate::export::{Cell, Encoding, csv_text};
    let mut rows = vec![vec![
        Cell::from("total"),
        Cell::from("all"),
        Cell::Int(stats.total as i64),
    ]];
    for (name, map) in [
        ("channel", &stats.by_channel),
        ("category", &stats.by_category),
        ("status", &stats.by_status),
        ("priority", &stats.by_priority),
    ] {
        for (value, count) in map {
            rows.push(vec![
                Cell::from(name),
                Cell::from(value.as_str()),
                Cell::Int(*count as i64),
            ]);
        }
    }
    rows.push(vec![
        Cell::from("median_minutes"),
        Cell::from("first_response"),
        Cell::from(stats.median_first_response_minutes),
    ]);
    rows.push(vec![
        Cell::from("median_minutes"),
        Cell::from("resolution"),
        Cell::from(stats.median_resolution_minutes),
    ]);
    Ok(Encoding::Utf8Bom.encode(&csv_text(&["dimension", "value", "count"], rows)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_even_and_empty_lists() {
        assert_eq!(median(vec![5, 1, 3]), Some(3.0));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }
}
