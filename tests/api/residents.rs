//! Residents: normalised phones, kana search, duplicates.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Db, assert_problem, db_tests, seed_organisation, spawn_app};

fn yamada(phone: &str) -> Value {
    json!({"family_name": "山田", "given_name": "太郎", "family_name_kana": "やまだ", "given_name_kana": "たろう",
           "phone": phone, "birth_year": 1948, "district": "北町", "accessibility_needs": ["large_print", "hearing"],
           "contact_preference": "phone", "consent_contact": true, "device": "none"})
}

async fn a_resident_is_found_by_kana_in_any_script_or_by_part_of_the_phone(db: Db) {
    let app = spawn_app(db).await;
    let created = app
        .post_ok(
            "/api/v1/residents",
            &app.admin_token,
            &yamada("+81 90 1234 5678"),
            201,
        )
        .await;
    assert_eq!(created["phone"], "09012345678");
    assert_eq!(
        created["family_name_kana"], "ヤマダ",
        "kana are stored in katakana"
    );
    assert_eq!(
        created["accessibility_needs"],
        json!(["hearing", "large_print"])
    );
    app.post_ok(
        "/api/v1/residents",
        &app.admin_token,
        &json!({"family_name": "佐藤", "given_name": "花子", "family_name_kana": "サトウ", "given_name_kana": "ハナコ", "phone": "011-222-3333"}),
        201,
    )
    .await;
    for q in [
        "ﾔﾏﾀﾞ",
        "やまだ",
        "ヤマダ",
        "山田",
        "ﾀﾛｳ",
        "1234",
        "090-1234",
        "５６７８",
    ] {
        let found = app
            .get_ok(
                &format!("/api/v1/residents?q={}", urlencode(q)),
                &app.admin_token,
            )
            .await;
        let names: Vec<&str> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["family_name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["山田"], "q={q}");
    }
    let found = app
        .get_ok(
            &format!("/api/v1/residents?q={}", urlencode("さとう")),
            &app.admin_token,
        )
        .await;
    assert_eq!(found["items"][0]["given_name"], "花子");
    let detail = app
        .get_ok(
            &format!("/api/v1/residents/{}", created["id"].as_str().unwrap()),
            &app.admin_token,
        )
        .await;
    assert_eq!(detail["attended_count"], 0);
    assert_eq!(detail["no_show_count"], 0);
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn the_same_phone_or_kana_and_birth_year_is_a_possible_duplicate(db: Db) {
    let app = spawn_app(db).await;
    let first = app
        .post_ok(
            "/api/v1/residents",
            &app.admin_token,
            &yamada("090-1234-5678"),
            201,
        )
        .await;
    let before = app.audit_count();
    let res = app
        .post(
            "/api/v1/residents",
            &app.admin_token,
            &yamada("０９０１２３４５６７８"),
        )
        .await;
    let problem = assert_problem(res, 409, "possible_duplicate").await;
    assert_eq!(problem["candidates"][0]["id"], first["id"]);
    let mut same_kana = yamada("");
    same_kana["phone"] = json!(null);
    same_kana["family_name_kana"] = json!("ﾔﾏﾀﾞ");
    let res = app
        .post("/api/v1/residents", &app.admin_token, &same_kana)
        .await;
    assert_problem(res, 409, "possible_duplicate").await;
    assert_eq!(app.audit_count(), before, "nothing written");
    same_kana["confirm_new_person"] = json!(true);
    app.post_ok("/api/v1/residents", &app.admin_token, &same_kana, 201)
        .await;
}

async fn bad_resident_fields_are_named(db: Db) {
    let app = spawn_app(db).await;
    for (patch, field) in [
        (json!({"phone": "call me"}), "phone"),
        (json!({"phone": "+1 202 555 0100"}), "phone"),
        (json!({"family_name_kana": "山田"}), "family_name_kana"),
        (json!({"birth_year": 1800}), "birth_year"),
        (json!({"device": "pager"}), "device"),
        (
            json!({"accessibility_needs": ["telepathy"]}),
            "accessibility_needs",
        ),
        (json!({"contact_preference": "email"}), "email"),
    ] {
        let mut body = yamada("090-1111-2222");
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app.post("/api/v1/residents", &app.admin_token, &body).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{patch}");
    }
}

async fn residents_are_updated_and_stay_in_their_organisation(db: Db) {
    let app = spawn_app(db).await;
    let created = app
        .post_ok(
            "/api/v1/residents",
            &app.admin_token,
            &yamada("090-1234-5678"),
            201,
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/residents/{id}"),
            &app.admin_token,
            &json!({"family_name_kana": "ヤマモト", "phone": "03-1234-5678"}),
        )
        .await;
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["phone"], "0312345678");
    let found = app
        .get_ok(
            &format!("/api/v1/residents?q={}", urlencode("やまもと")),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        found["items"].as_array().unwrap().len(),
        1,
        "search follows the new kana"
    );
    let (_, minami) = seed_organisation(&app.pool, "Minami", "admin@minami.example");
    let token = app.login_ok(&minami, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        app.get(&format!("/api/v1/residents/{id}"), &token).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.patch(
            &format!("/api/v1/residents/{id}"),
            &token,
            &json!({"notes": "x"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/residents/{id}/bookings"), &token)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.get_ok("/api/v1/residents?q=1234", &token).await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

db_tests!(
    a_resident_is_found_by_kana_in_any_script_or_by_part_of_the_phone,
    the_same_phone_or_kana_and_birth_year_is_a_possible_duplicate,
    bad_resident_fields_are_named,
    residents_are_updated_and_stay_in_their_organisation,
);
