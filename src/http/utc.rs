//! Serialises a stored UTC `NaiveDateTime` as RFC 3339 with its `Z`, like
//! every instant the API answers: `#[serde(serialize_with = "crate::http::utc::serialize")]`.

use chrono::{NaiveDateTime, SecondsFormat};
use serde::Serializer;

pub fn serialize<S: Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stored_instant_is_answered_in_utc_with_its_zone() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_micro_opt(13, 12, 29, 840125)
            .unwrap();
        let json = serde_json::to_string(&Wrapper(at)).unwrap();
        assert_eq!(json, "\"2026-11-27T13:12:29.840125Z\"");
    }

    #[derive(serde::Serialize)]
    struct Wrapper(#[serde(serialize_with = "super::serialize")] chrono::NaiveDateTime);
}
