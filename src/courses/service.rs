//! Course changes shared by the API and the console: each writes its audit
//! entry in the caller's transaction and answers the course with its topics.

use super::queries;
use super::types::{Course, CourseChanges, CourseRow};
use crate::auth::Caller;
use crate::db::{CourseId, DbConnection};
use crate::error::{AppError, AppResult};

pub fn with_topics(conn: &mut DbConnection, row: CourseRow) -> AppResult<Course> {
    let mut topics = queries::topics_of(conn, &[row.id])?;
    let codes = topics.remove(&row.id.to_string()).unwrap_or_default();
    Ok(Course::new(row, codes))
}

/// Creates a course from checked fields, tagged with `topics` (422 for an
/// unknown topic).
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    changes: CourseChanges,
    topics: Option<Vec<String>>,
) -> AppResult<Course> {
    let row = queries::insert(conn, caller.organisation_id, changes)?;
    queries::set_topics(
        conn,
        caller.organisation_id,
        row.id,
        &topics.unwrap_or_default(),
    )?;
    crate::audit::record(
        conn,
        caller,
        "course.create",
        "course",
        row.id.to_string(),
        format!("created course {}", row.title),
    )?;
    with_topics(conn, row)
}

/// Applies checked changes; `Some(topics)` replaces the course's topics.
pub fn change(
    conn: &mut DbConnection,
    caller: &Caller,
    id: CourseId,
    changes: CourseChanges,
    topics: Option<Vec<String>>,
    action: &'static str,
) -> AppResult<Course> {
    let row = queries::update(conn, caller.organisation_id, id, changes)?
        .ok_or_else(|| AppError::not_found("course"))?;
    if let Some(codes) = &topics {
        queries::set_topics(conn, caller.organisation_id, id, codes)?;
    }
    crate::audit::record(
        conn,
        caller,
        action,
        "course",
        id.to_string(),
        format!("{action} {}", row.title),
    )?;
    with_topics(conn, row)
}
