//! Inputs that are well-formed but make no sense are refused with a 422
//! that says why, and change nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use jsonwebtoken::{EncodingKey, Header};
use madoguchi::config::DEVELOPMENT_JWT_SECRET;
use serde_json::{Value, json};

use crate::helpers::{Db, assert_problem, db_tests, spawn_app};

async fn field_of(res: reqwest::Response) -> String {
    let body = assert_problem(res, 422, "validation_failed").await;
    body["errors"][0]["field"].as_str().unwrap_or("").to_owned()
}

async fn rules_that_never_occur_and_far_dates_are_refused(db: Db) {
    let app = spawn_app(db).await;
    let (venue, course) = app.venue_and_course().await;
    let start = Utc::now().date_naive() + Duration::days(7);
    let audit = app.audit_count();
    for (rule, extra) in [
        ("FREQ=WEEKLY;INTERVAL=0", json!({})),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", json!({})),
        ("FREQ=WEEKLY;BYDAY=TU", json!({"until": "9999-12-31"})),
    ] {
        let mut body = json!({"course_id": course, "venue_id": venue, "rrule": rule, "starts_on": start, "start_time": "14:00"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let field = field_of(app.post("/api/v1/series", &app.admin_token, &body).await).await;
        let expected = if extra.get("until").is_some() {
            "until"
        } else {
            "rrule"
        };
        assert_eq!(field, expected, "{rule}");
    }
    let body = json!({"course_id": course, "venue_id": venue, "date": "9999-12-31", "start_time": "14:00"});
    assert_eq!(
        field_of(app.post("/api/v1/sessions", &app.admin_token, &body).await).await,
        "date"
    );
    let body = json!({"start_date": "9999-12-30", "end_date": "9999-12-31", "reason": "年末"});
    assert_eq!(
        field_of(app.post("/api/v1/closures", &app.admin_token, &body).await).await,
        "start_date"
    );

    let device = app
        .post_ok("/api/v1/devices", &app.admin_token,
            &json!({"asset_tag": "KITA-001", "kind": "smartphone", "os": "android", "model": "AQUOS", "home_venue_id": venue}), 201)
        .await;
    let resident = app
        .post_ok("/api/v1/residents", &app.admin_token,
            &json!({"family_name": "伊藤", "given_name": "花", "family_name_kana": "いとう", "given_name_kana": "はな"}), 201)
        .await;
    let body =
        json!({"device_id": device["id"], "resident_id": resident["id"], "due_on": "9999-12-31"});
    assert_eq!(
        field_of(app.post("/api/v1/loans", &app.admin_token, &body).await).await,
        "due_on"
    );
    let sessions = app.get_ok("/api/v1/sessions", &app.admin_token).await;
    assert_eq!(
        sessions["items"].as_array().map(Vec::len),
        Some(0),
        "{sessions}"
    );
    assert_eq!(
        app.audit_count(),
        audit + 2,
        "only the device and the resident were written"
    );
}

async fn invisible_names_duplicate_skills_and_future_tokens_are_refused(db: Db) {
    let app = spawn_app(db).await;
    for name in ["\u{202e}\u{200b}", "\u{200b}\u{3000}", "北\u{202e}公民館"] {
        let body = json!({"name": name, "default_capacity": 10});
        assert_eq!(
            field_of(app.post("/api/v1/venues", &app.admin_token, &body).await).await,
            "name"
        );
    }
    let (volunteer, _) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let res = app
        .client
        .put(app.url(&format!(
            "/api/v1/staff/{}/duty",
            volunteer["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.admin_token)
        .json(&json!({"skills": ["smartphone", "smartphone"], "roster": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(field_of(res).await, "skills[1]");

    let payload = app.admin_token.split('.').nth(1).unwrap();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let now = Utc::now().timestamp();
    claims["iat"] = json!(now + 3600);
    claims["exp"] = json!(now + 7200);
    let future = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(DEVELOPMENT_JWT_SECRET.as_bytes()),
    )
    .unwrap();
    assert_problem(app.get("/api/v1/me", &future).await, 401, "invalid_token").await;
}

/// A date where an instant is asked for means that local day; anything
/// else says exactly what is expected.
async fn dates_in_queries_mean_the_local_day(db: Db) {
    let app = spawn_app(db).await;
    let day = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive()
        + Duration::days(5);
    let s = app.session_ok(5, json!({"date": day})).await;
    let other = app
        .session_ok(5, json!({"date": day + Duration::days(1)}))
        .await;
    let page = app
        .get_ok(
            &format!("/api/v1/sessions?from={day}&to={day}"),
            &app.admin_token,
        )
        .await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![s.as_str()],
        "only that day's session, not {other}"
    );
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    let stats = app
        .get_ok(
            &format!("/api/v1/tickets/stats?from={today}&to={today}"),
            &app.admin_token,
        )
        .await;
    assert!(stats.is_object(), "{stats}");
    app.get_ok(&format!("/api/v1/audit?from={today}"), &app.admin_token)
        .await;
    for bad in ["2026-12", "tomorrow", "2026-12-01T25:00:00Z"] {
        let body = assert_problem(
            app.get(
                &format!("/api/v1/tickets/stats?from={bad}&to=2026-12-31"),
                &app.admin_token,
            )
            .await,
            422,
            "invalid_query",
        )
        .await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("RFC 3339") && detail.contains("2026-12-01"),
            "says what is expected: {detail}"
        );
    }
}

db_tests!(
    dates_in_queries_mean_the_local_day,
    rules_that_never_occur_and_far_dates_are_refused,
    invisible_names_duplicate_skills_and_future_tokens_are_refused,
);
