//! Every staff write appends who, what, which and when to the audit log.

use serde_json::{Value, json};

use crate::helpers::{Db, db_tests, spawn_app};

async fn account_management_is_audited_with_its_actor(db: Db) {
    let app = spawn_app(db).await;
    let me: Value = app
        .get("/api/v1/me", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let admin_id = me["id"].as_str().unwrap().to_owned();
    let account = app.create_staff("sato@kita.example", "coordinator").await;
    let id = account["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/staff/{id}"),
        &app.admin_token,
        &json!({"role": "instructor"}),
    )
    .await;
    app.post(
        &format!("/api/v1/staff/{id}/deactivate"),
        &app.admin_token,
        &json!({}),
    )
    .await;
    app.post(
        &format!("/api/v1/staff/{id}/reactivate"),
        &app.admin_token,
        &json!({}),
    )
    .await;
    app.post(
        &format!("/api/v1/staff/{id}/password"),
        &app.admin_token,
        &json!({"new_password": "temporary password 2"}),
    )
    .await;

    let log: Value = app
        .get(
            &format!("/api/v1/audit?entity=staff_account&entity_id={id}"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "staff.password_reset",
            "staff.reactivate",
            "staff.deactivate",
            "staff.update",
            "staff.create"
        ],
        "newest first"
    );
    for entry in log["items"].as_array().unwrap() {
        assert_eq!(entry["actor_id"], admin_id.as_str());
        assert!(entry["created_at"].as_str().unwrap().ends_with('Z'));
        assert!(
            !entry["summary"]
                .as_str()
                .unwrap()
                .contains("temporary password"),
            "no passwords in the log"
        );
    }
    assert!(
        log["items"][3]["summary"]
            .as_str()
            .unwrap()
            .contains("instructor")
    );

    let by_action: Value = app
        .get("/api/v1/audit?action=staff.deactivate", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_action["items"].as_array().unwrap().len(), 1);
    let by_actor: Value = app
        .get(
            &format!("/api/v1/audit?actor_id={admin_id}&limit=2"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_actor["items"].as_array().unwrap().len(), 2);
    let cursor = by_actor["next_cursor"].as_str().expect("a next page");
    let next: Value = app
        .get(
            &format!("/api/v1/audit?actor_id={admin_id}&limit=2&cursor={cursor}"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"][0]["action"], "staff.deactivate");
    let future = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let none: Value = app
        .get(&format!("/api/v1/audit?from={future}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
}

async fn a_refused_write_leaves_no_audit_entry(db: Db) {
    let app = spawn_app(db).await;
    let before = app.audit_count();
    let me: Value = app
        .get("/api/v1/me", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let my_id = me["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/staff/{my_id}"),
        &app.admin_token,
        &json!({"role": "volunteer"}),
    )
    .await;
    assert_eq!(app.audit_count(), before);
}

/// Writes of every feature record the member of staff who made them (each
/// goes through `audit::record` with its own kind of actor).
async fn writes_across_features_are_audited_with_their_actor(db: Db) {
    let app = spawn_app(db).await;
    let (coordinator, token) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    let coordinator = coordinator["id"].as_str().unwrap().to_owned();
    let venue = app
        .post_ok(
            "/api/v1/venues",
            &token,
            &json!({"name": "北公民館", "default_capacity": 5}),
            201,
        )
        .await;
    let course = app
        .post_ok("/api/v1/courses", &token, &json!({"title": "スマホ教室", "kind": "class", "default_fee_yen": 100, "default_length_minutes": 120}), 201)
        .await;
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(6);
    app.post_ok("/api/v1/series", &token,
        &json!({"course_id": course["id"], "venue_id": venue["id"], "rrule": "FREQ=WEEKLY", "starts_on": day, "start_time": "14:00", "count": 2}), 201)
        .await;
    let session = app
        .post_ok("/api/v1/sessions", &token,
            &json!({"course_id": course["id"], "venue_id": venue["id"], "date": day, "start_time": "10:00"}), 201)
        .await;
    let resident = app
        .post_ok("/api/v1/residents", &token,
            &json!({"family_name": "伊藤", "given_name": "花", "family_name_kana": "いとう", "given_name_kana": "はな"}), 201)
        .await;
    let booking = app
        .post_ok(
            &format!(
                "/api/v1/sessions/{}/bookings",
                session["id"].as_str().unwrap()
            ),
            &token,
            &json!({"resident_id": resident["id"], "channel": "phone"}),
            201,
        )
        .await;
    app.post_ok(
        "/api/v1/payments",
        &token,
        &json!({"booking_id": booking["id"], "amount": 100, "method": "cash"}),
        201,
    )
    .await;
    app.post_ok("/api/v1/tickets", &token,
        &json!({"channel": "phone", "category": "smartphone", "subject": "LINE", "contact_phone": "090-1111-2222"}), 201)
        .await;
    app.post_ok("/api/v1/devices", &token,
        &json!({"asset_tag": "KITA-001", "kind": "smartphone", "os": "android", "model": "AQUOS", "home_venue_id": venue["id"]}), 201)
        .await;
    let log = app
        .get_ok("/api/v1/audit?limit=200", &app.admin_token)
        .await;
    let entries = log["items"].as_array().unwrap();
    for action in [
        "venue.create",
        "course.create",
        "series.create",
        "session.create",
        "resident.create",
        "booking.create",
        "payment.create",
        "ticket.create",
        "device.create",
    ] {
        let entry = entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action} is audited: {log}"));
        assert_eq!(entry["actor_id"], coordinator.as_str(), "{action}: {entry}");
    }
}

db_tests!(
    writes_across_features_are_audited_with_their_actor,
    account_management_is_audited_with_its_actor,
    a_refused_write_leaves_no_audit_entry
);
