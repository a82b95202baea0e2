//! Every failure the server can produce is a problem+json answer.

use serde_json::json;

use crate::helpers::{Db, assert_problem, db_tests, spawn_app, spawn_app_with};

async fn an_unknown_route_is_a_404_problem(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .client
        .get(app.url("/api/v1/nowhere"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "route_not_found").await;
}

async fn a_wrong_method_is_a_405_problem_naming_the_allowed_ones(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .client
        .delete(app.url("/api/v1/staff"))
        .send()
        .await
        .unwrap();
    let allow = res
        .headers()
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(allow, "GET, POST");
    assert_problem(res, 405, "method_not_allowed").await;
    let id = uuid::Uuid::new_v4();
    let res = app
        .client
        .put(app.url(&format!("/api/v1/staff/{id}")))
        .send()
        .await
        .unwrap();
    assert_problem(res, 405, "method_not_allowed").await;
}

async fn malformed_json_is_a_400_problem(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .client
        .post(app.url("/api/v1/staff"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json")
        .body(r#"{"email": "a@b.jp", "#)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "malformed_json").await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "malformed_json").await;
}

async fn a_wrong_field_type_is_a_422_naming_the_field(db: Db) {
    let app = spawn_app(db).await;
    let before = app.staff_count();
    let res = app
        .post(
            "/api/v1/staff",
            &app.admin_token,
            &json!({"email": 12, "name": "x", "role": "coordinator", "password": "long enough password"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "email");
    assert_eq!(app.staff_count(), before, "nothing written");
}

async fn a_missing_field_is_a_422_naming_the_field(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .post(
            "/api/v1/staff",
            &app.admin_token,
            &json!({"email": "a@kita.example", "role": "coordinator", "password": "long enough password"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "name");
}

async fn an_unknown_field_is_a_422(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .post(
            "/api/v1/staff",
            &app.admin_token,
            &json!({"email": "a@kita.example", "name": "A", "role": "coordinator", "password": "long enough password", "is_root": true}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "is_root");
}

async fn a_body_that_is_not_json_is_a_415(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("email=a&password=b")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
}

async fn an_oversized_body_is_a_413_and_writes_nothing(db: Db) {
    let app = spawn_app_with(db, |s| s.http.max_body_bytes = 4096).await;
    let before = app.staff_count();
    let huge = "あ".repeat(5000);
    let res = app
        .post(
            "/api/v1/staff",
            &app.admin_token,
            &json!({"email": "big@kita.example", "name": huge, "role": "coordinator", "password": "long enough password"}),
        )
        .await;
    assert_problem(res, 413, "payload_too_large").await;
    assert_eq!(app.staff_count(), before);
}

async fn a_huge_string_within_the_body_limit_is_a_422(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .post(
            "/api/v1/staff",
            &app.admin_token,
            &json!({"email": "big@kita.example", "name": "x".repeat(10_000), "role": "coordinator", "password": "long enough password"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "name");
}

async fn an_id_that_is_not_a_uuid_is_a_404(db: Db) {
    let app = spawn_app(db).await;
    let res = app.get("/api/v1/staff/not-a-uuid", &app.admin_token).await;
    assert_problem(res, 404, "not_found").await;
}

async fn a_bad_query_string_is_a_422(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .get("/api/v1/staff?active=perhaps", &app.admin_token)
        .await;
    assert_problem(res, 422, "invalid_query").await;
    let res = app.get("/api/v1/staff?limit=0", &app.admin_token).await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "limit");
    let res = app
        .get("/api/v1/audit?from=yesterday", &app.admin_token)
        .await;
    assert_problem(res, 422, "invalid_query").await;
}

/// A NUL (or any control character) in a query parameter, a path segment or
/// a JSON string is a 422 naming it, on every route, before anything is
/// read or written; with or without a token.
async fn control_characters_in_any_input_are_a_422_naming_the_parameter(db: Db) {
    let app = spawn_app(db).await;
    app.post_ok(
        "/api/v1/residents",
        &app.admin_token,
        &json!({"family_name": "伊藤", "given_name": "花", "family_name_kana": "いとう", "given_name_kana": "はな"}),
        201,
    )
    .await;
    let cases = [
        ("/api/v1/residents?q=x%00y", "q"),
        ("/api/v1/residents?q=%00abc", "q"),
        ("/api/v1/residents?district=%00", "district"),
        ("/api/v1/tickets?q=%00", "q"),
        ("/api/v1/tickets?category=a%00", "category"),
        ("/api/v1/tickets?channel=%00", "channel"),
        ("/api/v1/tickets?priority=%00", "priority"),
        ("/api/v1/staff?q=%00", "q"),
        ("/api/v1/venues?q=%00", "q"),
        ("/api/v1/courses?q=%00", "q"),
        ("/api/v1/courses?topic=%00", "topic"),
        ("/api/v1/devices?asset_tag=%00", "asset_tag"),
        ("/api/v1/devices?status=%1b", "status"),
        ("/api/v1/audit?entity=%00", "entity"),
        ("/api/v1/audit?action=%7f", "action"),
        ("/api/v1/residents/%00", "path"),
    ];
    let audit_before = app.audit_count();
    for (path, field) in cases {
        let body = assert_problem(
            app.get(path, &app.admin_token).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
    }
    // No token needed to be refused, and the login is not even attempted.
    assert_problem(
        app.login("admin@kita.example\u{0}", "x").await,
        422,
        "validation_failed",
    )
    .await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(r#"{"email":"admin\u0000@kita.example","password":"x"}"#)
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "email");
    let res = app
        .post(
            "/api/v1/residents",
            &app.admin_token,
            &json!({"family_name": "伊藤\u{0}", "given_name": "花", "family_name_kana": "いとう", "given_name_kana": "はな"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "family_name");
    // Line breaks in free text are still text.
    app.post_ok(
        "/api/v1/residents",
        &app.admin_token,
        &json!({"family_name": "佐藤", "given_name": "一", "family_name_kana": "さとう", "given_name_kana": "はじめ",
                "notes": "一行目\n二行目"}),
        201,
    )
    .await;
    assert_eq!(
        app.audit_count(),
        audit_before + 1,
        "only the last write happened"
    );
    // The login counter was not touched: the right password still works.
    app.login_ok("admin@kita.example", crate::helpers::ADMIN_PASSWORD)
        .await;
}

db_tests!(
    an_unknown_route_is_a_404_problem,
    a_wrong_method_is_a_405_problem_naming_the_allowed_ones,
    malformed_json_is_a_400_problem,
    a_wrong_field_type_is_a_422_naming_the_field,
    a_missing_field_is_a_422_naming_the_field,
    an_unknown_field_is_a_422,
    a_body_that_is_not_json_is_a_415,
    an_oversized_body_is_a_413_and_writes_nothing,
    a_huge_string_within_the_body_limit_is_a_422,
    an_id_that_is_not_a_uuid_is_a_404,
    a_bad_query_string_is_a_422,
    control_characters_in_any_input_are_a_422_naming_the_parameter,
);
