//! A programme's roll-up: each member organisation's figures and the total,
//! with numbers and fixed vocabularies only (no course or venue titles, no
//! districts, no free text), and every count of people below the
//! programme's cell size given as a range so no one can be singled out.
//! Pure: the member summaries come from `summary::compute`.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use utoipa::ToSchema;

use super::summary::Summary;

/// A count of people: exact, or a range when it is small (1 … k-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Count {
    Exact { value: i64 },
    Range { at_least: i64, at_most: i64 },
}

impl Count {
    fn of(n: i64, k: i64) -> Count {
        if n > 0 && n < k {
            Count::Range {
                at_least: 1,
                at_most: k - 1,
            }
        } else {
            Count::Exact { value: n }
        }
    }
}

/// The members' figures of one field and their total: a total is a range
/// when it is small itself, or when exactly one member's figure in it is a
/// range (the others' exact figures would give it away).
fn cells(values: &[i64], k: i64) -> (Vec<Count>, Count) {
    let members: Vec<Count> = values.iter().map(|n| Count::of(*n, k)).collect();
    let total: i64 = values.iter().sum();
    let hidden = members
        .iter()
        .filter(|c| matches!(c, Count::Range { .. }))
        .count();
    let total = if hidden == 1 {
        let known: i64 = members
            .iter()
            .map(|c| match c {
                Count::Exact { value } => *value,
                Count::Range { .. } => 0,
            })
            .sum();
        Count::Range {
            at_least: known + 1,
            at_most: known + k - 1,
        }
    } else {
        Count::of(total, k)
    };
    (members, total)
}

/// What a programme sees of one organisation (or of all together).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Figures {
    pub sessions_held: i64,
    pub sessions_cancelled: i64,
    pub seats_offered: i64,
    pub seats_taken: i64,
    pub bookings: i64,
    pub bookings_by_channel: BTreeMap<String, i64>,
    pub participants: Count,
    pub first_time_participants: Count,
    pub attendances: i64,
    pub no_shows: i64,
    /// By age band (`under_60`, `60s`, `70s`, `80s`, `90_plus`, `unknown`).
    pub participants_by_age_band: BTreeMap<String, Count>,
    /// Participants per topic of the shared curriculum (by code).
    pub participants_by_topic: BTreeMap<String, Count>,
    pub loaners_lent: i64,
    pub fees_collected_yen: i64,
    pub consultations: i64,
    /// By channel and by shared category code.
    pub consultations_by_channel: BTreeMap<String, i64>,
    pub consultations_by_category: BTreeMap<String, i64>,
    pub consultations_resolved_on_the_spot: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Member {
    pub organisation_id: crate::db::OrganisationId,
    pub organisation: String,
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Rollup {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    /// People counts below this are ranges.
    pub min_cell_size: i64,
    pub members: Vec<Member>,
    pub total: Figures,
}

fn sum_maps<'a>(
    maps: impl Iterator<Item = &'a BTreeMap<String, i64>>,
    keep: &dyn Fn(&str) -> bool,
) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for m in maps {
        for (k, v) in m {
            if keep(k) {
                *out.entry(k.clone()).or_default() += v;
            }
        }
    }
    out
}

/// Builds the roll-up. `shared_topics` and `shared_categories`: the codes
/// every organisation shares (an organisation's own are free text).
pub fn build(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    k: i64,
    members: &[(crate::db::OrganisationId, String, Summary)],
    shared_topics: &HashSet<String>,
    shared_categories: &HashSet<String>,
) -> Rollup {
    let k = k.max(1);
    let field = |get: &dyn Fn(&Summary) -> i64| -> (Vec<Count>, Count) {
        cells(&members.iter().map(|m| get(&m.2)).collect::<Vec<_>>(), k)
    };
    let (participants, participants_total) = field(&|s| s.participants);
    let (first, first_total) = field(&|s| s.first_time_participants);
    let bands: Vec<String> = ["under_60", "60s", "70s", "80s", "90_plus", "unknown"]
        .iter()
        .map(|b| (*b).to_owned())
        .collect();
    let mut by_band: BTreeMap<String, (Vec<Count>, Count)> = BTreeMap::new();
    for band in &bands {
        let values: Vec<i64> = members
            .iter()
            .map(|m| m.2.participants_by_age_band.get(band).copied().unwrap_or(0))
            .collect();
        if values.iter().any(|v| *v > 0) {
            by_band.insert(band.clone(), cells(&values, k));
        }
    }
    let mut topics: Vec<String> = shared_topics.iter().cloned().collect();
    topics.sort();
    let mut by_topic: BTreeMap<String, (Vec<Count>, Count)> = BTreeMap::new();
    for topic in &topics {
        let values: Vec<i64> = members
            .iter()
            .map(|m| {
                m.2.by_topic
                    .iter()
                    .find(|l| &l.key == topic)
                    .map_or(0, |l| l.participants)
            })
            .collect();
        if values.iter().any(|v| *v > 0) {
            by_topic.insert(topic.clone(), cells(&values, k));
        }
    }
    let shared_category = |c: &str| shared_categories.contains(c);
    let figures = |i: Option<usize>| -> Figures {
        let pick = |(each, total): &(Vec<Count>, Count)| match i {
            Some(i) => each[i],
            None => *total,
        };
        let chosen: Vec<&Summary> = match i {
            Some(i) => vec![&members[i].2],
            None => members.iter().map(|m| &m.2).collect(),
        };
        let sum = |get: &dyn Fn(&Summary) -> i64| chosen.iter().map(|s| get(s)).sum::<i64>();
        Figures {
            sessions_held: sum(&|s| s.sessions_held),
            sessions_cancelled: sum(&|s| s.sessions_cancelled),
            seats_offered: sum(&|s| s.seats_offered),
            seats_taken: sum(&|s| s.seats_taken),
            bookings: sum(&|s| s.bookings),
            bookings_by_channel: sum_maps(chosen.iter().map(|s| &s.bookings_by_channel), &|_| true),
            participants: pick(&(participants.clone(), participants_total)),
            first_time_participants: pick(&(first.clone(), first_total)),
            attendances: sum(&|s| s.attendances),
            no_shows: sum(&|s| s.no_shows),
            participants_by_age_band: by_band.iter().map(|(b, c)| (b.clone(), pick(c))).collect(),
            participants_by_topic: by_topic.iter().map(|(t, c)| (t.clone(), pick(c))).collect(),
            loaners_lent: sum(&|s| s.loaners_lent),
            fees_collected_yen: sum(&|s| s.fees_collected_yen),
            consultations: sum(&|s| s.consultations.total),
            consultations_by_channel: sum_maps(
                chosen.iter().map(|s| &s.consultations.by_channel),
                &|_| true,
            ),
            consultations_by_category: sum_maps(
                chosen.iter().map(|s| &s.consultations.by_category),
                &shared_category,
            ),
            consultations_resolved_on_the_spot: sum(&|s| s.consultations.resolved_on_the_spot),
        }
    };
    Rollup {
        from,
        to,
        min_cell_size: k,
        members: members
            .iter()
            .enumerate()
            .map(|(i, (id, name, _))| Member {
                organisation_id: *id,
                organisation: name.clone(),
                figures: figures(Some(i)),
            })
            .collect(),
        total: figures(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_ranges_and_a_lone_hidden_one_hides_the_total() {
        assert_eq!(Count::of(0, 5), Count::Exact { value: 0 });
        assert_eq!(
            Count::of(4, 5),
            Count::Range {
                at_least: 1,
                at_most: 4
            }
        );
        assert_eq!(Count::of(5, 5), Count::Exact { value: 5 });
        // One member hidden: the total would give it away.
        let (each, total) = cells(&[3, 10], 5);
        assert_eq!(each[1], Count::Exact { value: 10 });
        assert_eq!(
            total,
            Count::Range {
                at_least: 11,
                at_most: 14
            }
        );
        // Two hidden: the total tells only their sum.
        let (_, total) = cells(&[3, 2, 10], 5);
        assert_eq!(total, Count::Exact { value: 15 });
        // A small total is a range too.
        let (_, total) = cells(&[1, 2], 5);
        assert_eq!(
            total,
            Count::Range {
                at_least: 1,
                at_most: 4
            }
        );
    }
}
