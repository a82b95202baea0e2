//! Staff of one organisation never see or change another's data: a foreign
//! id answers 404 and nothing changes.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Db, assert_problem, db_tests, seed_organisation, spawn_app};

async fn another_organisations_account_ids_answer_404_on_every_staff_endpoint(db: Db) {
    let app = spawn_app(db).await;
    let (_, minami_admin) = seed_organisation(&app.pool, "Minami", "admin@minami.example");
    let minami_token = app.login_ok(&minami_admin, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post(
            "/api/v1/staff",
            &minami_token,
            &json!({"email": "vol@minami.example", "name": "Minami Vol", "role": "volunteer", "password": "minami volunteer pw"}),
        )
        .await;
    let foreign: Value = res.json().await.unwrap();
    let id = foreign["id"].as_str().unwrap();
    let foreign_admin: Value = app
        .get("/api/v1/me", &minami_token)
        .await
        .json()
        .await
        .unwrap();
    let admin_id = foreign_admin["id"].as_str().unwrap();
    let audit_before = app.audit_count();

    // Kita's admin tries every staff endpoint on Minami's ids.
    for target in [id, admin_id] {
        let kita = &app.admin_token;
        assert_problem(
            app.get(&format!("/api/v1/staff/{target}"), kita).await,
            404,
            "not_found",
        )
        .await;
        let res = app
            .patch(
                &format!("/api/v1/staff/{target}"),
                kita,
                &json!({"role": "admin", "name": "Hijacked"}),
            )
            .await;
        assert_problem(res, 404, "not_found").await;
        let res = app
            .post(
                &format!("/api/v1/staff/{target}/deactivate"),
                kita,
                &json!({}),
            )
            .await;
        assert_problem(res, 404, "not_found").await;
        let res = app
            .post(
                &format!("/api/v1/staff/{target}/reactivate"),
                kita,
                &json!({}),
            )
            .await;
        assert_problem(res, 404, "not_found").await;
        let res = app
            .post(
                &format!("/api/v1/staff/{target}/password"),
                kita,
                &json!({"new_password": "hijacked password 1"}),
            )
            .await;
        assert_problem(res, 404, "not_found").await;
    }
    assert_eq!(app.audit_count(), audit_before, "nothing was written");

    // Minami's account is untouched and still logs in with its own password.
    let unchanged: Value = app
        .get(&format!("/api/v1/staff/{id}"), &minami_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged, foreign);
    app.login_ok("vol@minami.example", "minami volunteer pw")
        .await;

    // Lists show only one's own organisation.
    let kita_list: Value = app
        .get("/api/v1/staff?limit=200", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let emails: Vec<&str> = kita_list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [app.admin_email.as_str()]);
    let kita_audit: Value = app
        .get("/api/v1/audit?limit=200", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        kita_audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["entity_id"] != id),
        "Minami's audit entries are not in Kita's log"
    );
    let by_foreign_id: Value = app
        .get(&format!("/api/v1/audit?entity_id={id}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_foreign_id["items"].as_array().unwrap().len(), 0);
}

db_tests!(another_organisations_account_ids_answer_404_on_every_staff_endpoint);
