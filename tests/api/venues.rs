//! Venues, courses and topics.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Db, assert_problem, db_tests, seed_organisation, spawn_app};

async fn a_coordinator_manages_venues(db: Db) {
    let app = spawn_app(db).await;
    let (_, coordinator) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    let venue = app
        .post_ok(
            "/api/v1/venues",
            &coordinator,
            &json!({"name": " 北公民館 ", "address": "北町1-2-3", "room": "第1会議室", "default_capacity": 20,
                    "phone": "011-123-4567", "accessibility_notes": "段差なし・駐車場あり"}),
            201,
        )
        .await;
    assert_eq!(venue["name"], "北公民館");
    assert_eq!(venue["active"], true);
    let id = venue["id"].as_str().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/venues/{id}"),
            &coordinator,
            &json!({"default_capacity": 24, "phone": ""}),
        )
        .await;
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["default_capacity"], 24);
    assert_eq!(updated["phone"], Value::Null, "an empty string clears it");
    assert_eq!(updated["address"], "北町1-2-3", "untouched fields stay");
    let archived = app
        .post_ok(
            &format!("/api/v1/venues/{id}/archive"),
            &coordinator,
            &json!({}),
            200,
        )
        .await;
    assert_eq!(archived["active"], false);
    let active: Value = app.get_ok("/api/v1/venues?active=true", &coordinator).await;
    assert_eq!(active["items"].as_array().unwrap().len(), 0);
    let found = app.get_ok("/api/v1/venues?q=北町", &coordinator).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let res = app
        .post(
            "/api/v1/venues",
            &coordinator,
            &json!({"name": "北公民館", "default_capacity": 5}),
        )
        .await;
    assert_problem(res, 409, "venue_name_taken").await;
}

async fn bad_venues_are_refused_per_field(db: Db) {
    let app = spawn_app(db).await;
    let before = app.audit_count();
    for (body, field) in [
        (
            json!({"name": "X", "default_capacity": 0}),
            "default_capacity",
        ),
        (
            json!({"name": "X", "default_capacity": -5}),
            "default_capacity",
        ),
        (json!({"name": "", "default_capacity": 5}), "name"),
        (json!({"default_capacity": 5}), "name"),
        (
            json!({"name": "X", "default_capacity": 5, "online_url": "zoom"}),
            "online_url",
        ),
        (
            json!({"name": "X", "default_capacity": "ten"}),
            "default_capacity",
        ),
        (
            json!({"name": "あ".repeat(500), "default_capacity": 5}),
            "name",
        ),
    ] {
        let res = app.post("/api/v1/venues", &app.admin_token, &body).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(app.audit_count(), before, "nothing written");
}

async fn instructors_and_volunteers_read_but_do_not_write_the_catalogue(db: Db) {
    let app = spawn_app(db).await;
    let (venue, course) = app.venue_and_course().await;
    for role in ["instructor", "volunteer"] {
        let (_, token) = app
            .staff_with_token(&format!("{role}@kita.example"), role)
            .await;
        app.get_ok(&format!("/api/v1/venues/{venue}"), &token).await;
        app.get_ok(&format!("/api/v1/courses/{course}"), &token)
            .await;
        let res = app
            .post(
                "/api/v1/venues",
                &token,
                &json!({"name": "Y", "default_capacity": 5}),
            )
            .await;
        assert_problem(res, 403, "forbidden").await;
        let res = app
            .patch(
                &format!("/api/v1/courses/{course}"),
                &token,
                &json!({"title": "Z"}),
            )
            .await;
        assert_problem(res, 403, "forbidden").await;
    }
}

async fn courses_carry_topics_from_an_extendable_list(db: Db) {
    let app = spawn_app(db).await;
    let topics = app.get_ok("/api/v1/topics", &app.admin_token).await;
    let codes: Vec<&str> = topics
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    for code in [
        "power_and_buttons",
        "line_and_social",
        "my_number_card",
        "mynaportal",
        "e_tax",
        "online_medical_booking",
    ] {
        assert!(codes.contains(&code), "{code} is a shared topic");
    }
    let res = app
        .post("/api/v1/courses", &app.admin_token, &json!({"title": "写真印刷", "kind": "class", "default_fee_yen": 0, "default_length_minutes": 90, "topics": ["photo_printing"]}))
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "topics");
    let topic = app
        .post_ok(
            "/api/v1/topics",
            &app.admin_token,
            &json!({"code": "photo_printing", "label": "写真の印刷"}),
            201,
        )
        .await;
    assert_eq!(topic["custom"], true);
    let res = app
        .post(
            "/api/v1/topics",
            &app.admin_token,
            &json!({"code": "photo_printing", "label": "again"}),
        )
        .await;
    assert_problem(res, 409, "topic_exists").await;
    let course = app
        .post_ok(
            "/api/v1/courses",
            &app.admin_token,
            &json!({"title": "写真印刷", "kind": "cafe", "default_fee_yen": 0, "default_length_minutes": 90, "topics": ["photo_printing", "camera"]}),
            201,
        )
        .await;
    assert_eq!(course["topics"], json!(["camera", "photo_printing"]));
    let tagged = app
        .get_ok("/api/v1/courses?topic=photo_printing", &app.admin_token)
        .await;
    assert_eq!(tagged["items"].as_array().unwrap().len(), 1);
    let cafes = app
        .get_ok("/api/v1/courses?kind=class", &app.admin_token)
        .await;
    assert_eq!(cafes["items"].as_array().unwrap().len(), 0);

    // Another organisation does not see Kita's own topic.
    let (_, minami) = seed_organisation(&app.pool, "Minami", "admin@minami.example");
    let minami_token = app.login_ok(&minami, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = app.get_ok("/api/v1/topics", &minami_token).await;
    assert!(
        theirs
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["code"] != "photo_printing")
    );
}

async fn bad_courses_are_refused(db: Db) {
    let app = spawn_app(db).await;
    for (body, field) in [
        (
            json!({"title": "A", "kind": "lecture", "default_fee_yen": 0, "default_length_minutes": 60}),
            "kind",
        ),
        (
            json!({"title": "A", "kind": "class", "default_fee_yen": -100, "default_length_minutes": 60}),
            "default_fee_yen",
        ),
        (
            json!({"title": "A", "kind": "class", "default_fee_yen": 100, "default_length_minutes": 0}),
            "default_length_minutes",
        ),
        (
            json!({"kind": "class", "default_fee_yen": 100, "default_length_minutes": 60}),
            "title",
        ),
    ] {
        let res = app.post("/api/v1/courses", &app.admin_token, &body).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
}

async fn another_organisations_venues_and_courses_answer_404(db: Db) {
    let app = spawn_app(db).await;
    let (venue, course) = app.venue_and_course().await;
    let (_, minami) = seed_organisation(&app.pool, "Minami", "admin@minami.example");
    let token = app.login_ok(&minami, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        app.get(&format!("/api/v1/venues/{venue}"), &token).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/courses/{course}"), &token).await,
        404,
        "not_found",
    )
    .await;
    let res = app
        .patch(
            &format!("/api/v1/venues/{venue}"),
            &token,
            &json!({"name": "Taken over"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .post(
            &format!("/api/v1/courses/{course}/archive"),
            &token,
            &json!({}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let list = app.get_ok("/api/v1/venues", &token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let kept = app
        .get_ok(&format!("/api/v1/venues/{venue}"), &app.admin_token)
        .await;
    assert_eq!(kept["name"], "北公民館");
}

async fn organisation_timezone_is_validated(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .patch(
            "/api/v1/organisation",
            &app.admin_token,
            &json!({"timezone": "Mars/Olympus"}),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "timezone");
    let res = app
        .patch(
            "/api/v1/organisation",
            &app.admin_token,
            &json!({"timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let org = app.get_ok("/api/v1/organisation", &app.admin_token).await;
    assert_eq!(org["timezone"], "Europe/Berlin");
}

db_tests!(
    a_coordinator_manages_venues,
    bad_venues_are_refused_per_field,
    instructors_and_volunteers_read_but_do_not_write_the_catalogue,
    courses_carry_topics_from_an_extendable_list,
    bad_courses_are_refused,
    another_organisations_venues_and_courses_answer_404,
    organisation_timezone_is_validated,
);
