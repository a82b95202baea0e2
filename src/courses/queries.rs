//! Course and topic queries, scoped to an organisation.

use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::types::{CourseChanges, CourseFilter, CourseRow, TopicRow};
use crate::db::schema::{course_topics, courses, topics};
use crate::db::{CourseId, DbConnection, OrganisationId, escape_like, lower};
use crate::error::{AppError, AppResult};

pub fn insert(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    c: CourseChanges,
) -> QueryResult<CourseRow> {
    let now = Utc::now().naive_utc();
    let row = CourseRow {
        id: CourseId::generate(),
        organisation_id: organisation,
        title: c.title.unwrap_or_default(),
        description: c.description.flatten(),
        audience: c.audience.flatten(),
        level: c.level.flatten(),
        kind: c.kind.unwrap_or_else(|| "class".into()),
        default_fee_yen: c.default_fee_yen.unwrap_or(0),
        default_length_minutes: c.default_length_minutes.unwrap_or(120),
        active: true,
        created_at: now,
        updated_at: now,
        min_age: c.min_age.flatten(),
        max_age: c.max_age.flatten(),
        districts: c.districts.flatten(),
    };
    diesel::insert_into(courses::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

pub fn find(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: CourseId,
) -> QueryResult<Option<CourseRow>> {
    courses::table
        .filter(courses::organisation_id.eq(organisation))
        .filter(courses::id.eq(id))
        .select(CourseRow::as_select())
        .first(conn)
        .optional()
}

pub fn update(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    id: CourseId,
    mut changes: CourseChanges,
) -> QueryResult<Option<CourseRow>> {
    changes.updated_at = Some(Utc::now().naive_utc());
    diesel::update(
        courses::table
            .filter(courses::organisation_id.eq(organisation))
            .filter(courses::id.eq(id)),
    )
    .set(&changes)
    .returning(courses::all_columns)
    .get_result(conn)
    .optional()
}

pub fn list(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    filter: &CourseFilter,
    limit: i64,
) -> QueryResult<Vec<CourseRow>> {
    let mut query = courses::table
        .filter(courses::organisation_id.eq(organisation))
        .select(CourseRow::as_select())
        .order(courses::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(active) = filter.active {
        query = query.filter(courses::active.eq(active));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(courses::kind.eq(kind.as_str()));
    }
    if let Some(topic) = &filter.topic {
        let tagged = course_topics::table
            .filter(course_topics::topic_code.eq(topic.clone()))
            .select(course_topics::course_id);
        query = query.filter(courses::id.eq_any(tagged));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", escape_like(&q.to_lowercase()));
        query = query.filter(lower(courses::title).like(pattern).escape('\\'));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(courses::id.gt(CourseId(cursor)));
    }
    query.load(conn)
}

/// Topic codes of many courses in one query.
pub fn topics_of(
    conn: &mut DbConnection,
    ids: &[CourseId],
) -> QueryResult<HashMap<String, Vec<String>>> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let pairs: Vec<(String, String)> = course_topics::table
        .filter(course_topics::course_id.eq_any(keys))
        .select((course_topics::course_id, course_topics::topic_code))
        .order((course_topics::course_id, course_topics::topic_code))
        .load(conn)?;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (course, code) in pairs {
        map.entry(course).or_default().push(code);
    }
    Ok(map)
}

/// Replaces a course's topics; every code must be a shared topic or one of
/// the organisation's own (422 naming the unknown ones otherwise).
pub fn set_topics(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    course: CourseId,
    codes: &[String],
) -> AppResult<()> {
    let known: Vec<String> = visible_topics(conn, organisation)?
        .into_iter()
        .map(|t| t.code)
        .collect();
    let unknown: Vec<&str> = codes
        .iter()
        .filter(|c| !known.contains(c))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::invalid_field(
            "topics",
            format!("unknown topics: {}", unknown.join(", ")),
        ));
    }
    diesel::delete(course_topics::table.filter(course_topics::course_id.eq(course)))
        .execute(conn)?;
    for code in codes {
        diesel::insert_into(course_topics::table)
            .values((
                course_topics::course_id.eq(course),
                course_topics::topic_code.eq(code),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The shared topics and the organisation's own.
pub fn visible_topics(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> QueryResult<Vec<TopicRow>> {
    topics::table
        .filter(
            topics::organisation_id
                .is_null()
                .or(topics::organisation_id.eq(organisation)),
        )
        .select(TopicRow::as_select())
        .order(topics::id.asc())
        .load(conn)
}

pub fn insert_topic(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    code: &str,
    label: &str,
) -> AppResult<TopicRow> {
    if visible_topics(conn, organisation)?
        .iter()
        .any(|t| t.code == code)
    {
        return Err(AppError::conflict(
            "topic_exists",
            format!("the topic {code} already exists"),
        ));
    }
    diesel::insert_into(topics::table)
        .values((
            topics::id.eq(uuid::Uuid::now_v7().to_string()),
            topics::organisation_id.eq(organisation),
            topics::code.eq(code),
            topics::label.eq(label),
            topics::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)
        .map_err(|e| match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::conflict("topic_exists", format!("the topic {code} already exists"))
            }
            other => other.into(),
        })?;
    Ok(TopicRow {
        code: code.to_owned(),
        label: label.to_owned(),
        organisation_id: Some(organisation),
    })
}
