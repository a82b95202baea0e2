//! Cursor pagination. Ids are time-ordered UUIDv7, so "after this id" is a
//! stable cursor in creation order that survives inserts between pages.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// One page of a list, and where the next one starts.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Checks a requested page size.
pub fn limit(requested: Option<i64>) -> Result<i64, AppError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(AppError::invalid_field(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// Builds a page from up to `limit + 1` fetched rows: the extra row only
/// tells that another page exists.
pub fn page<T: ToSchema>(
    mut items: Vec<T>,
    limit: i64,
    cursor_of: impl Fn(&T) -> String,
) -> Page<T> {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(&cursor_of)
    } else {
        None
    };
    Page { items, next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::AccountId;

    #[test]
    fn a_full_page_names_the_next_one() {
        let ids: Vec<AccountId> = (0..4).map(|_| AccountId::generate()).collect();
        let p = page(ids.clone(), 3, |id| id.to_string());
        assert_eq!(p.items.len(), 3);
        assert_eq!(p.next_cursor, Some(ids[2].to_string()));
        let last = page(ids[..2].to_vec(), 3, |id| id.to_string());
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(MAX_LIMIT + 1)).is_err());
    }
}
