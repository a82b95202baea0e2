//! Course enrolment (all sessions or none) and merging duplicate residents.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_problem, db_tests, spawn_app_with};

async fn four_session_course(app: &TestApp, capacity: i64) -> (String, Vec<String>) {
    let (venue, course) = app.venue_and_course().await;
    let saved = app
        .post_ok(
            "/api/v1/series",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=WEEKLY", "count": 4, "capacity": capacity,
                    "starts_on": Utc::now().date_naive() + Duration::days(3), "start_time": "10:00", "skip_public_holidays": false}),
            201,
        )
        .await;
    let sessions: Vec<String> = saved["sessions"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sessions.len(), 4);
    (saved["series"]["id"].as_str().unwrap().to_owned(), sessions)
}

async fn resident(app: &TestApp, given: &str, phone: Option<&str>) -> String {
    app.post_ok(
        "/api/v1/residents",
        &app.admin_token,
        &json!({"family_name": "高橋", "given_name": given, "family_name_kana": "たかはし", "given_name_kana": "じろう", "phone": phone, "confirm_new_person": true}),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn seats(app: &TestApp, sessions: &[String]) -> Vec<i64> {
    let mut out = Vec::new();
    for s in sessions {
        out.push(
            app.get_ok(&format!("/api/v1/sessions/{s}"), &app.admin_token)
                .await["seats_taken"]
                .as_i64()
                .unwrap(),
        );
    }
    out
}

async fn an_enrolment_books_every_session_or_none(db: Db) {
    let app = spawn_app_with(db, |s| s.schedule.horizon_days = 60).await;
    let (series, sessions) = four_session_course(&app, 1).await;
    let jiro = resident(&app, "次郎", None).await;
    let enrolled = app
        .post_ok(
            &format!("/api/v1/series/{series}/enrolments"),
            &app.admin_token,
            &json!({"resident_id": jiro, "channel": "counter"}),
            201,
        )
        .await;
    assert_eq!(enrolled["bookings"].as_array().unwrap().len(), 4);
    assert_eq!(seats(&app, &sessions).await, [1, 1, 1, 1]);

    // Every session is now full: a second enrolment fails and takes nothing.
    let saburo = resident(&app, "三郎", None).await;
    let res = app
        .post(
            &format!("/api/v1/series/{series}/enrolments"),
            &app.admin_token,
            &json!({"resident_id": saburo, "channel": "counter"}),
        )
        .await;
    assert_problem(res, 409, "session_full").await;
    assert_eq!(seats(&app, &sessions).await, [1, 1, 1, 1], "all or nothing");

    let id = enrolled["id"].as_str().unwrap();
    let cancelled = app
        .post_ok(
            &format!("/api/v1/enrolments/{id}/cancel"),
            &app.admin_token,
            &json!({"reason": "入院"}),
            200,
        )
        .await;
    assert_eq!(cancelled["bookings"].as_array().unwrap().len(), 4);
    assert!(
        cancelled["bookings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["status"] == "cancelled")
    );
    assert_eq!(seats(&app, &sessions).await, [0, 0, 0, 0]);
    let res = app
        .post(
            &format!("/api/v1/enrolments/{id}/cancel"),
            &app.admin_token,
            &json!({"reason": "again"}),
        )
        .await;
    assert_problem(res, 409, "invalid_transition").await;
    app.post_ok(
        &format!("/api/v1/series/{series}/enrolments"),
        &app.admin_token,
        &json!({"resident_id": saburo, "channel": "phone"}),
        201,
    )
    .await;
}

async fn merging_moves_bookings_to_the_survivor(db: Db) {
    let app = spawn_app_with(db, |s| s.schedule.horizon_days = 60).await;
    let (_, sessions) = four_session_course(&app, 5).await;
    let survivor = resident(&app, "次郎", None).await;
    let duplicate = resident(&app, "次朗", Some("090-5555-6666")).await;
    for (who, session) in [
        (&survivor, &sessions[0]),
        (&duplicate, &sessions[0]),
        (&duplicate, &sessions[1]),
    ] {
        app.post_ok(
            &format!("/api/v1/sessions/{session}/bookings"),
            &app.admin_token,
            &json!({"resident_id": who, "channel": "phone"}),
            201,
        )
        .await;
    }
    let merged = app
        .post_ok(
            &format!("/api/v1/residents/{survivor}/merge"),
            &app.admin_token,
            &json!({"duplicate_id": duplicate}),
            200,
        )
        .await;
    assert_eq!(
        merged["phone"], "09055556666",
        "missing details are filled from the duplicate"
    );
    let history: Value = app
        .get_ok(
            &format!("/api/v1/residents/{survivor}/bookings"),
            &app.admin_token,
        )
        .await;
    let statuses: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 3);
    assert_eq!(
        statuses.iter().filter(|s| **s == "confirmed").count(),
        2,
        "one seat per session"
    );
    assert_eq!(
        app.get_ok(
            &format!("/api/v1/sessions/{}", sessions[0]),
            &app.admin_token
        )
        .await["seats_taken"],
        1
    );
    let gone = app
        .get_ok(&format!("/api/v1/residents/{duplicate}"), &app.admin_token)
        .await;
    assert_eq!(gone["merged_into"], survivor.as_str());
    let search = app
        .get_ok("/api/v1/residents?q=5555", &app.admin_token)
        .await;
    let ids: Vec<&str> = search["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [survivor.as_str()],
        "the merged record no longer shows in searches"
    );
    let res = app
        .post(
            &format!("/api/v1/residents/{survivor}/merge"),
            &app.admin_token,
            &json!({"duplicate_id": duplicate}),
        )
        .await;
    assert_problem(res, 409, "invalid_merge").await;
    let res = app
        .post(
            &format!("/api/v1/sessions/{}/bookings", sessions[2]),
            &app.admin_token,
            &json!({"resident_id": duplicate, "channel": "phone"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let log = app
        .get_ok("/api/v1/audit?action=resident.merge", &app.admin_token)
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
}

db_tests!(
    an_enrolment_books_every_session_or_none,
    merging_moves_bookings_to_the_survivor
);
