//! Field checks shared by every feature, and a collector that turns all the
//! failures of one request into a single 422 naming each field.

use crate::error::{AppError, FieldError};

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

fn clean(raw: &str, max_chars: usize) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must not contain control characters".into());
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

#[cfg(test)]
mod tests {
    use super::*;

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
