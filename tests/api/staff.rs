//! Staff account management by admins, and one's own account.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Db, STAFF_PASSWORD, assert_problem, db_tests, spawn_app};

async fn an_admin_creates_a_staff_account(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .post(
            "/api/v1/staff",
            &app.admin_token,
            &json!({"email": " Tanaka@Kita.Example ", "name": " 田中 一郎 ", "role": "instructor", "password": "tanaka's long password", "affiliation": "地域おこし協力隊"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["email"], "tanaka@kita.example");
    assert_eq!(created["name"], "田中 一郎");
    assert_eq!(created["role"], "instructor");
    assert_eq!(created["active"], true);
    assert_eq!(created["affiliation"], "地域おこし協力隊");
    assert!(created.get("password_hash").is_none() && created.get("password").is_none());
    let id = created["id"].as_str().unwrap();
    let fetched: Value = app
        .get(&format!("/api/v1/staff/{id}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, created);
    // The new account can log in with its password.
    app.login_ok("tanaka@kita.example", "tanaka's long password")
        .await;
}

async fn a_used_email_is_a_409_and_nothing_is_written(db: Db) {
    let app = spawn_app(db).await;
    app.create_staff("sato@kita.example", "coordinator").await;
    let (staff, audit) = (app.staff_count(), app.audit_count());
    let res = app
        .post(
            "/api/v1/staff",
            &app.admin_token,
            &json!({"email": "SATO@kita.example", "name": "Other Sato", "role": "volunteer", "password": STAFF_PASSWORD}),
        )
        .await;
    assert_problem(res, 409, "email_taken").await;
    assert_eq!((app.staff_count(), app.audit_count()), (staff, audit));
}

async fn invalid_fields_are_each_named_and_nothing_is_written(db: Db) {
    let app = spawn_app(db).await;
    let (staff, audit) = (app.staff_count(), app.audit_count());
    let res = app
        .post(
            "/api/v1/staff",
            &app.admin_token,
            &json!({"email": "not-an-email", "name": "   ", "role": "volunteer", "password": "short"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "name", "password"]);
    let res = app
        .post(
            "/api/v1/staff",
            &app.admin_token,
            &json!({"email": "x@kita.example", "name": "X", "role": "superuser", "password": STAFF_PASSWORD}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "role");
    assert_eq!((app.staff_count(), app.audit_count()), (staff, audit));
}

async fn roles_decide_who_may_read_and_write_accounts(db: Db) {
    let app = spawn_app(db).await;
    let (_, coordinator) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    let (_, instructor) = app
        .staff_with_token("inst@kita.example", "instructor")
        .await;
    let (_, volunteer) = app.staff_with_token("vol@kita.example", "volunteer").await;
    assert_eq!(app.get("/api/v1/staff", &coordinator).await.status(), 200);
    let new = json!({"email": "n@kita.example", "name": "N", "role": "admin", "password": STAFF_PASSWORD});
    assert_problem(
        app.post("/api/v1/staff", &coordinator, &new).await,
        403,
        "forbidden",
    )
    .await;
    for token in [&instructor, &volunteer] {
        assert_problem(app.get("/api/v1/staff", token).await, 403, "forbidden").await;
        assert_problem(
            app.post("/api/v1/staff", token, &new).await,
            403,
            "forbidden",
        )
        .await;
        assert_problem(app.get("/api/v1/audit", token).await, 403, "forbidden").await;
        // Everyone reads themselves.
        assert_eq!(app.get("/api/v1/me", token).await.status(), 200);
    }
}

async fn an_admin_updates_name_and_role_and_the_role_applies_at_once(db: Db) {
    let app = spawn_app(db).await;
    let (account, token) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    let id = account["id"].as_str().unwrap();
    let new = json!({"email": "n@kita.example", "name": "N", "role": "volunteer", "password": STAFF_PASSWORD});
    assert_eq!(app.post("/api/v1/staff", &token, &new).await.status(), 403);
    let res = app
        .patch(
            &format!("/api/v1/staff/{id}"),
            &app.admin_token,
            &json!({"name": "佐藤 花子", "role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["name"], "佐藤 花子");
    assert_eq!(updated["role"], "admin");
    // The same access token now carries the new role's rights.
    assert_eq!(app.post("/api/v1/staff", &token, &new).await.status(), 201);
    let res = app
        .patch(
            &format!("/api/v1/staff/{id}"),
            &app.admin_token,
            &json!({"role": "boss"}),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
}

async fn a_deactivated_account_cannot_log_in_and_its_tokens_stop_working(db: Db) {
    let app = spawn_app(db).await;
    let (account, token) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let id = account["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/v1/staff/{id}/deactivate"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["active"], false);
    assert_problem(app.get("/api/v1/me", &token).await, 401, "invalid_token").await;
    assert_problem(
        app.login("vol@kita.example", STAFF_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    let list: Value = app
        .get("/api/v1/staff?active=false", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let res = app
        .post(
            &format!("/api/v1/staff/{id}/reactivate"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    app.login_ok("vol@kita.example", STAFF_PASSWORD).await;
}

async fn an_admin_cannot_deactivate_themselves_or_demote_the_last_admin(db: Db) {
    let app = spawn_app(db).await;
    let me: Value = app
        .get("/api/v1/me", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let my_id = me["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/v1/staff/{my_id}/deactivate"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_problem(res, 409, "cannot_deactivate_self").await;
    let res = app
        .patch(
            &format!("/api/v1/staff/{my_id}"),
            &app.admin_token,
            &json!({"role": "coordinator"}),
        )
        .await;
    assert_problem(res, 409, "last_admin").await;
    // With a second admin, stepping down is fine.
    app.create_staff("second@kita.example", "admin").await;
    let res = app
        .patch(
            &format!("/api/v1/staff/{my_id}"),
            &app.admin_token,
            &json!({"role": "coordinator"}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

async fn a_password_reset_forces_a_change_and_revokes_sessions(db: Db) {
    let app = spawn_app(db).await;
    let (account, token) = app
        .staff_with_token("inst@kita.example", "instructor")
        .await;
    let id = account["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/v1/staff/{id}/password"),
            &app.admin_token,
            &json!({"new_password": "short"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "new_password");
    let res = app
        .post(
            &format!("/api/v1/staff/{id}/password"),
            &app.admin_token,
            &json!({"new_password": "temporary password 1"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["must_change_password"],
        true
    );
    assert_problem(app.get("/api/v1/me", &token).await, 401, "invalid_token").await;
    assert_eq!(
        app.login("inst@kita.example", STAFF_PASSWORD)
            .await
            .status(),
        401
    );
    // The temporary password logs in, but only to choose a new one.
    let tokens = app
        .login_ok("inst@kita.example", "temporary password 1")
        .await;
    let access = tokens["access_token"].as_str().unwrap();
    let me: Value = app.get("/api/v1/me", access).await.json().await.unwrap();
    assert_eq!(me["must_change_password"], true);
    assert_problem(
        app.get("/api/v1/staff", access).await,
        403,
        "password_change_required",
    )
    .await;
    let res = app
        .post(
            "/api/v1/me/password",
            access,
            &json!({"current_password": "temporary password 1", "new_password": "my own new password"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let me: Value = app.get("/api/v1/me", access).await.json().await.unwrap();
    assert_eq!(me["must_change_password"], false);
}

async fn changing_ones_own_password_needs_the_current_one(db: Db) {
    let app = spawn_app(db).await;
    let (_, token) = app
        .staff_with_token("coord@kita.example", "coordinator")
        .await;
    let other_session = app.login_ok("coord@kita.example", STAFF_PASSWORD).await;
    let res = app
        .post(
            "/api/v1/me/password",
            &token,
            &json!({"current_password": "wrong one!!", "new_password": "brand new password"}),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "current_password");
    let res = app
        .post(
            "/api/v1/me/password",
            &token,
            &json!({"current_password": STAFF_PASSWORD, "new_password": "brand new password"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    // This session stays; the other one is revoked; the old password is gone.
    assert_eq!(app.get("/api/v1/me", &token).await.status(), 200);
    let other = other_session["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", other).await.status(), 401);
    assert_eq!(
        app.login("coord@kita.example", STAFF_PASSWORD)
            .await
            .status(),
        401
    );
    app.login_ok("coord@kita.example", "brand new password")
        .await;
}

async fn the_staff_list_is_paginated_and_filterable(db: Db) {
    let app = spawn_app(db).await;
    for i in 0..5 {
        app.create_staff(&format!("vol{i}@kita.example"), "volunteer")
            .await;
    }
    app.create_staff("inst@kita.example", "instructor").await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/staff?limit=2".to_owned();
    loop {
        let page: Value = app.get(&path, &app.admin_token).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|a| a["email"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/staff?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "every account exactly once: {seen:?}");
    assert_eq!(seen[0], app.admin_email, "in creation order");
    let page: Value = app
        .get("/api/v1/staff?role=volunteer", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    let page: Value = app
        .get("/api/v1/staff?q=INST", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let page: Value = app
        .get("/api/v1/staff?q=%25", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        0,
        "LIKE wildcards match literally"
    );
}

async fn an_unknown_account_id_is_a_404(db: Db) {
    let app = spawn_app(db).await;
    let id = uuid::Uuid::now_v7();
    assert_problem(
        app.get(&format!("/api/v1/staff/{id}"), &app.admin_token)
            .await,
        404,
        "not_found",
    )
    .await;
    let res = app
        .patch(
            &format!("/api/v1/staff/{id}"),
            &app.admin_token,
            &json!({"name": "X"}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
}

async fn me_carries_the_contract_fields(db: Db) {
    let app = spawn_app(db).await;
    let tokens = app.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    let me: Value = app
        .get("/api/v1/me", tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    for key in ["id", "email", "role", "organisation_id"] {
        assert!(me[key].is_string(), "{key} in {me}");
    }
}

db_tests!(
    an_admin_creates_a_staff_account,
    a_used_email_is_a_409_and_nothing_is_written,
    invalid_fields_are_each_named_and_nothing_is_written,
    roles_decide_who_may_read_and_write_accounts,
    an_admin_updates_name_and_role_and_the_role_applies_at_once,
    a_deactivated_account_cannot_log_in_and_its_tokens_stop_working,
    an_admin_cannot_deactivate_themselves_or_demote_the_last_admin,
    a_password_reset_forces_a_change_and_revokes_sessions,
    changing_ones_own_password_needs_the_current_one,
    the_staff_list_is_paginated_and_filterable,
    an_unknown_account_id_is_a_404,
    me_carries_the_contract_fields,
);
