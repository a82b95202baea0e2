//! Field checks shared by every feature, and a collector that turns all the
//! failures of one request into a single 422 naming each field.

use crate::error::{AppError, FieldError};

/// A normalised (trimmed, lower-case) email address of plausible shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, String> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("must not be empty".into());
        }
        if email.len() > 254 {
            return Err("must be at most 254 characters".into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("is not an email address".into());
        };
        let plausible = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !plausible {
            return Err("is not an email address".into());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Collects field errors; `finish` answers 422 when there are any.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value, or its default after recording the error (the request will
    /// be refused by `finish`, so the default is never used).
    pub fn check<T: Default>(&mut self, field: &str, result: Result<T, String>) -> T {
        result.unwrap_or_else(|message| {
            self.errors.push(FieldError::new(field, message));
            T::default()
        })
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::validation(self.errors))
        }
    }
}

/// How far ahead any date may lie (sessions, series, loans, closures): a
/// date beyond it is a typo (9999-12-31), not a plan.
pub const MAX_YEARS_AHEAD: i64 = 5;

/// A date no more than `MAX_YEARS_AHEAD` years from today.
pub fn within_horizon(date: chrono::NaiveDate) -> Result<chrono::NaiveDate, String> {
    let limit = chrono::Utc::now().date_naive() + chrono::Duration::days(366 * MAX_YEARS_AHEAD);
    if date > limit {
        return Err(format!(
            "must be within {MAX_YEARS_AHEAD} years from today (by {limit})"
        ));
    }
    Ok(date)
}

/// Characters that show nothing: spaces, zero-width characters, bidi marks
/// and the Hangul/halfwidth fillers. A text made only of them is empty.
fn invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c,
            '\u{00AD}' | '\u{115F}' | '\u{1160}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}'
            | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}')
}

/// Bidirectional overrides and isolates reorder how text is shown (a name
/// that reads differently from what is stored): never accepted.
fn bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn clean(raw: &str, max_chars: usize) -> Result<String, String> {
    let text = raw.trim_matches(invisible);
    if text.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must not contain control characters".into());
    }
    if raw.chars().any(bidi_control) {
        return Err("must not contain bidirectional control characters".into());
    }
    Ok(text.to_owned())
}

/// Trimmed text of 1..=max characters.
pub fn required_text(raw: &str, max_chars: usize) -> Result<String, String> {
    let text = clean(raw, max_chars)?;
    if text.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(text)
    }
}

/// Optional free text: trimmed, empty means none.
pub fn optional_text(raw: Option<&str>, max_chars: usize) -> Result<Option<String>, String> {
    match raw {
        None => Ok(None),
        Some(raw) => clean(raw, max_chars).map(|t| (!t.is_empty()).then_some(t)),
    }
}

/// A count of people or things, 1..=max.
pub fn positive(value: i64, max: i64) -> Result<i32, String> {
    if value < 1 || value > max {
        return Err(format!("must be between 1 and {max}"));
    }
    i32::try_from(value).map_err(|_| format!("must be between 1 and {max}"))
}

/// An amount of yen, 0..=max.
pub fn yen(value: i64, max: i64) -> Result<i32, String> {
    if value < 0 || value > max {
        return Err(format!("must be between 0 and {max} yen"));
    }
    i32::try_from(value).map_err(|_| format!("must be between 0 and {max} yen"))
}

/// serde helper: absent → `None`, `null` → `Some(None)`, value → `Some(Some(v))`.
pub mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_invisible_characters_only_is_empty() {
        assert!(required_text("\u{200b}\u{3000} ", 10).is_err());
        assert!(required_text("\u{202e}\u{200b}", 10).is_err());
        assert!(
            required_text("北\u{202e}公民館", 10).is_err(),
            "bidi override inside"
        );
        assert_eq!(
            required_text("\u{200b}北公民館\u{feff}", 10).unwrap(),
            "北公民館"
        );
        assert_eq!(optional_text(Some("\u{200b}"), 10).unwrap(), None);
    }

    #[test]
    fn dates_beyond_the_horizon_are_refused() {
        let far = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        assert!(within_horizon(far).is_err());
        let soon = chrono::Utc::now().date_naive() + chrono::Duration::days(365);
        assert_eq!(within_horizon(soon), Ok(soon));
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(required_text("  北公民館 ", 10).unwrap(), "北公民館");
        assert!(required_text("   ", 10).is_err());
        assert!(required_text(&"あ".repeat(11), 10).is_err());
        assert_eq!(optional_text(Some("  "), 10).unwrap(), None);
        assert_eq!(optional_text(None, 10).unwrap(), None);
        assert!(optional_text(Some("a\u{7}b"), 10).is_err());
    }

    #[test]
    fn numbers_are_bounded() {
        assert!(positive(0, 10).is_err());
        assert!(positive(-3, 10).is_err());
        assert_eq!(positive(10, 10).unwrap(), 10);
        assert!(yen(-1, 100).is_err());
        assert_eq!(yen(0, 100).unwrap(), 0);
    }

    #[test]
    fn the_checker_names_every_failed_field() {
        let mut v = Checker::new();
        let a: String = v.check("a", required_text("", 5));
        let b: i32 = v.check("b", positive(0, 5));
        assert_eq!((a.as_str(), b), ("", 0));
        match v.finish() {
            Err(AppError::Client(c)) => assert_eq!(c.errors.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
