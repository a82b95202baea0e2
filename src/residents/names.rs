//! Normalising what staff type on the phone: Japanese phone numbers in any
//! of their written forms, and names in kana for search.

use unicode_normalization::UnicodeNormalization;

/// A Japanese phone number as digits only, domestic form: `090-1234-5678`,
/// `09012345678`, `+81 90 1234 5678` and full-width `０９０…` are all
/// `09012345678`; landlines (`011-123-4567`, `03-1234-5678`) too.
pub fn normalise_phone(raw: &str) -> Result<String, String> {
    let text: String = raw.nfkc().collect();
    let mut digits = String::new();
    let mut plus = false;
    for (i, c) in text.trim().chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '(' | ')' | '.' | '‐' | '−' | 'ー' | '―' => {}
            _ => {
                return Err(
                    "may contain only digits, spaces, hyphens, brackets and a leading +".into(),
                );
            }
        }
    }
    let domestic = if plus {
        match digits.strip_prefix("81") {
            Some(rest) => format!("0{}", rest.trim_start_matches('0')),
            None => return Err("only Japanese numbers (+81) are accepted".into()),
        }
    } else {
        digits
    };
    if !domestic.starts_with('0') || !(10..=11).contains(&domestic.len()) {
        return Err("is not a Japanese phone number (10 or 11 digits starting with 0)".into());
    }
    Ok(domestic)
}

/// Folds text for search: NFKC (half-width katakana become full-width with
/// their voicing marks, full-width letters and digits become ASCII),
/// katakana become hiragana, lower case, no spaces. `ﾔﾏﾀﾞ`, `ヤマダ` and
/// `やまだ` all fold to `やまだ`.
pub fn fold(text: &str) -> String {
    text.nfkc()
        .filter(|c| !c.is_whitespace() && *c != '・')
        .map(|c| match c {
            // Katakana ァ..ヶ → hiragana ぁ..ゖ
            '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Kana as typed for a name: hiragana or katakana (and the long-vowel mark,
/// spaces). Returns the text in katakana, the usual form on forms.
pub fn kana(raw: &str) -> Result<String, String> {
    let text: String = raw.nfkc().collect::<String>().trim().to_owned();
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    let ok = text.chars().all(|c| {
        matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | 'ー' | '・' | ' ' | '\u{3000}' | '゛' | '゜')
    });
    if !ok {
        return Err("must be written in kana (ひらがな or カタカナ)".into());
    }
    Ok(text
        .chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            other => other,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_writing_a_mobile_number_is_the_same_number() {
        for written in [
            "090-1234-5678",
            "09012345678",
            "+81 90 1234 5678",
            "+81-90-1234-5678",
            "０９０－１２３４－５６７８",
            "(090) 1234 5678",
            "+81 090 1234 5678",
        ] {
            assert_eq!(
                normalise_phone(written).unwrap(),
                "09012345678",
                "{written}"
            );
        }
    }

    #[test]
    fn landlines_are_numbers_too() {
        assert_eq!(normalise_phone("011-123-4567").unwrap(), "0111234567");
        assert_eq!(normalise_phone("03-1234-5678").unwrap(), "0312345678");
    }

    #[test]
    fn non_numbers_are_refused() {
        for bad in [
            "",
            "12345",
            "090-1234-567x",
            "+1 202 555 0100",
            "0901234567890",
            "call me",
        ] {
            assert!(normalise_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn half_width_katakana_hiragana_and_katakana_fold_together() {
        assert_eq!(fold("ﾔﾏﾀﾞ"), "やまだ");
        assert_eq!(fold("ヤマダ"), "やまだ");
        assert_eq!(fold("やまだ"), "やまだ");
        assert_eq!(fold("ﾊﾟｿｺﾝ"), fold("パソコン"));
        assert_eq!(fold("ＹＡＭＡＤＡ Taro"), "yamadataro");
        assert_eq!(fold("山田 太郎"), "山田太郎");
    }

    #[test]
    fn kana_names_are_stored_in_katakana() {
        assert_eq!(kana("やまだ").unwrap(), "ヤマダ");
        assert_eq!(kana("ﾔﾏﾀﾞ").unwrap(), "ヤマダ");
        assert!(kana("山田").is_err());
        assert!(kana("  ").is_err());
    }
}
