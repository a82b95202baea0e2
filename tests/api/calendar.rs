//! iCalendar feeds, authorised by a rotatable per-feed token.

use chrono::{Duration, Utc};
use icalendar::{Calendar, Component, EventLike};
use serde_json::json;

use crate::helpers::{Db, assert_problem, db_tests, spawn_app};

async fn a_venue_feed_is_valid_icalendar_behind_its_own_token(db: Db) {
    let app = spawn_app(db).await;
    let (venue, course) = app.venue_and_course().await;
    let (tanaka, _) = app
        .staff_with_token("tanaka@kita.example", "instructor")
        .await;
    let day = Utc::now().date_naive() + Duration::days(7);
    let kept = app
        .post_ok("/api/v1/sessions", &app.admin_token, &json!({"course_id": course, "venue_id": venue, "date": day, "start_time": "14:00", "instructor_ids": [tanaka["id"]]}), 201)
        .await;
    let cancelled = app
        .post_ok(
            "/api/v1/sessions",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "date": day, "start_time": "10:00"}),
            201,
        )
        .await;
    let cancelled_id = cancelled["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/sessions/{cancelled_id}/cancel"),
        &app.admin_token,
        &json!({"reason": "雪"}),
        200,
    )
    .await;

    let link = app
        .post_ok(
            &format!("/api/v1/venues/{venue}/calendar-feed"),
            &app.admin_token,
            &json!({}),
            201,
        )
        .await;
    let url = link["url"].as_str().unwrap().to_owned();
    // No JWT: the token in the link is the authorisation.
    let res = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = res.text().await.unwrap();
    let parsed: Calendar = text.parse().expect("valid iCalendar");
    let events: Vec<_> = parsed.events().collect();
    assert_eq!(events.len(), 2);
    let event = events
        .iter()
        .find(|e| e.get_uid() == Some(&format!("{}@madoguchi", kept["id"].as_str().unwrap())))
        .expect("the session's event");
    assert_eq!(event.get_summary(), Some("はじめてのスマホ教室"));
    assert_eq!(event.get_location(), Some("北公民館 第1会議室"));
    assert!(event.get_start().is_some());
    let dtstart = format!("DTSTART:{}T050000Z", day.format("%Y%m%d"));
    assert!(
        text.contains(&dtstart),
        "14:00 JST is 05:00 UTC ({dtstart}): {text}"
    );
    assert!(
        text.contains("STATUS:CANCELLED"),
        "cancelled sessions stay, marked: {text}"
    );
    assert!(text.contains("【中止】"));

    // Rotating revokes the old link.
    let again = app
        .post_ok(
            &format!("/api/v1/venues/{venue}/calendar-feed"),
            &app.admin_token,
            &json!({}),
            201,
        )
        .await;
    let res = app.client.get(app.url(&url)).send().await.unwrap();
    assert_problem(res, 401, "invalid_feed_token").await;
    let res = app
        .client
        .get(app.url(again["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let other_venue_path = format!(
        "/api/v1/venues/{}/calendar.ics?token={}",
        uuid::Uuid::now_v7(),
        again["token"].as_str().unwrap()
    );
    let res = app
        .client
        .get(app.url(&other_venue_path))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_feed_token").await;
    let res = app
        .client
        .get(app.url(&format!("/api/v1/venues/{venue}/calendar.ics")))
        .send()
        .await
        .unwrap();
    assert_problem(res, 422, "invalid_query").await;
}

async fn an_instructor_subscribes_to_their_own_teaching_calendar(db: Db) {
    let app = spawn_app(db).await;
    let (venue, course) = app.venue_and_course().await;
    let (tanaka, token) = app
        .staff_with_token("tanaka@kita.example", "instructor")
        .await;
    let day = Utc::now().date_naive() + Duration::days(3);
    app.post_ok("/api/v1/sessions", &app.admin_token, &json!({"course_id": course, "venue_id": venue, "date": day, "start_time": "14:00", "instructor_ids": [tanaka["id"]]}), 201)
        .await;
    app.post_ok(
        "/api/v1/sessions",
        &app.admin_token,
        &json!({"course_id": course, "venue_id": venue, "date": day, "start_time": "10:00"}),
        201,
    )
    .await;
    let link = app
        .post_ok("/api/v1/me/calendar-feed", &token, &json!({}), 201)
        .await;
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&format!(
        "/api/v1/instructors/{}/calendar.ics?token=",
        tanaka["id"].as_str().unwrap()
    )));
    let text = app
        .client
        .get(app.url(url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parsed: Calendar = text.parse().expect("valid iCalendar");
    assert_eq!(parsed.events().count(), 1, "only the sessions they teach");
}

db_tests!(
    a_venue_feed_is_valid_icalendar_behind_its_own_token,
    an_instructor_subscribes_to_their_own_teaching_calendar,
);
