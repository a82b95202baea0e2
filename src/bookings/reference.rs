//! Booking reference codes: six characters a resident can read back over the
//! phone. The alphabet leaves out look-alikes (0/O, 1/I/L) and the vowels'
//! awkward neighbours stay readable in katakana (エー, ビー …).

use rand::Rng;

pub const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const LENGTH: usize = 6;

pub fn generate() -> String {
    let mut rng = rand::rng();
    (0..LENGTH)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Normalises what staff type: upper case, no spaces or hyphens, full-width
/// folded; `None` if it cannot be a reference.
pub fn parse(raw: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let code: String = raw
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_avoid_look_alikes() {
        for _ in 0..1000 {
            let code = generate();
            assert_eq!(code.len(), 6);
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        }
    }

    #[test]
    fn typed_references_are_normalised() {
        assert_eq!(parse(" abc-234 ").as_deref(), Some("ABC234"));
        assert_eq!(parse("ＡＢＣ２３４").as_deref(), Some("ABC234"));
        assert_eq!(parse("ABC10O"), None);
        assert_eq!(parse("ABC23"), None);
    }
}
