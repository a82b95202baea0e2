//! Login, tokens, refresh rotation, logout and throttling.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use madoguchi::config::DEVELOPMENT_JWT_SECRET;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Db, assert_problem, db_tests, spawn_app, spawn_app_with};

async fn login_answers_a_bearer_token_pair(db: Db) {
    let app = spawn_app(db).await;
    let tokens = app.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 40);
    let token = tokens["access_token"].as_str().unwrap();
    let me: Value = app.get("/api/v1/me", token).await.json().await.unwrap();
    assert_eq!(me["email"], app.admin_email);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["organisation_id"], app.org_id.to_string());
    assert_eq!(me["organisation"]["name"], "Kita");
    assert_eq!(me["organisation"]["timezone"], "Asia/Tokyo");
}

async fn login_is_case_insensitive_in_the_email(db: Db) {
    let app = spawn_app(db).await;
    app.login_ok("  ADMIN@Kita.Example ", ADMIN_PASSWORD).await;
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(db: Db) {
    let app = spawn_app(db).await;
    let wrong = assert_problem(
        app.login(&app.admin_email, "not the password").await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = assert_problem(
        app.login("nobody@kita.example", "not the password").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong, unknown);
}

fn forge(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn tampered_expired_unsigned_and_foreign_tokens_get_401(db: Db) {
    let app = spawn_app(db).await;
    let good = app.admin_token.clone();
    assert_eq!(app.get("/api/v1/me", &good).await.status(), 200);
    let claims = claims_of(&good);

    // The same claims re-signed with our key verify: the forgeries below fail
    // for the one reason each names.
    assert_eq!(
        app.get("/api/v1/me", &forge(&claims, DEVELOPMENT_JWT_SECRET))
            .await
            .status(),
        200
    );

    let mut escalated = claims.clone();
    escalated["role"] = json!("admin");
    escalated["sub"] = json!(uuid::Uuid::new_v4());
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(escalated.to_string()),
        parts[2]
    );

    let mut expired = claims.clone();
    expired["iat"] = json!(chrono::Utc::now().timestamp() - 3600);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 600);
    let expired = forge(&expired, DEVELOPMENT_JWT_SECRET);

    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    let wrong_key = forge(&claims, "another-secret-that-is-long-enough-0123");
    let mut wrong_audience = claims.clone();
    wrong_audience["aud"] = json!("someone-else");
    let wrong_audience = forge(&wrong_audience, DEVELOPMENT_JWT_SECRET);
    let mut wrong_issuer = claims.clone();
    wrong_issuer["iss"] = json!("someone-else");
    let wrong_issuer = forge(&wrong_issuer, DEVELOPMENT_JWT_SECRET);

    for (what, token) in [
        ("tampered", tampered),
        ("expired", expired),
        ("alg none", unsigned),
        ("wrong key", wrong_key),
        ("wrong audience", wrong_audience),
        ("wrong issuer", wrong_issuer),
        ("garbage", "not.a.token".to_owned()),
    ] {
        let res = app.get("/api/v1/me", &token).await;
        assert_eq!(res.status(), 401, "{what} token");
        assert_problem(res, 401, "invalid_token").await;
    }
    let res = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.headers().get("www-authenticate").unwrap(), "Bearer");
    assert_problem(res, 401, "unauthenticated").await;
}

async fn refresh_rotates_and_spends_the_old_token(db: Db) {
    let app = spawn_app(db).await;
    let first = app.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    let res = app
        .post_anonymous(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let token = second["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", token).await.status(), 200);
    let res = app
        .post_anonymous(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": second["refresh_token"]}),
        )
        .await;
    assert_eq!(res.status(), 200, "the new refresh token works once");
}

async fn a_spent_refresh_token_revokes_the_whole_chain(db: Db) {
    let app = spawn_app(db).await;
    let first = app.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    let second: Value = app
        .post_anonymous(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    // The first token is presented again (stolen and replayed).
    let res = app
        .post_anonymous(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_problem(res, 401, "refresh_token_reused").await;
    // Every token of the chain is now dead: the newest refresh token and the
    // access tokens of the session.
    let res = app
        .post_anonymous(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": second["refresh_token"]}),
        )
        .await;
    assert_eq!(res.status(), 401);
    let res = app
        .get("/api/v1/me", second["access_token"].as_str().unwrap())
        .await;
    assert_problem(res, 401, "invalid_token").await;
    // Other sessions of the same account are untouched.
    assert_eq!(app.get("/api/v1/me", &app.admin_token).await.status(), 200);
}

async fn an_unknown_refresh_token_is_a_401(db: Db) {
    let app = spawn_app(db).await;
    let res = app
        .post_anonymous("/api/v1/auth/refresh", &json!({"refresh_token": "made-up"}))
        .await;
    assert_problem(res, 401, "invalid_refresh_token").await;
}

async fn parallel_refreshes_with_one_token_succeed_once(db: Db) {
    let app = spawn_app(db).await;
    let tokens = app.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    let body = json!({"refresh_token": tokens["refresh_token"]});
    let answers = futures::future::join_all(
        (0..10).map(|_| app.post_anonymous("/api/v1/auth/refresh", &body)),
    )
    .await;
    let ok = answers.iter().filter(|r| r.status() == 200).count();
    assert_eq!(ok, 1, "{ok} refreshes succeeded with one token");
    assert!(
        answers
            .iter()
            .all(|r| r.status() == 200 || r.status() == 401)
    );
}

async fn logout_revokes_the_session(db: Db) {
    let app = spawn_app(db).await;
    let tokens = app.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.get("/api/v1/me", access).await, 401, "invalid_token").await;
    let res = app
        .post_anonymous(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(res.status(), 401);
}

async fn failed_logins_are_throttled_per_account(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.auth.max_failures_per_account = 3;
        s.auth.max_failures_per_address = 100;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            app.login(&app.admin_email, "wrong password!")
                .await
                .status(),
            401
        );
    }
    // Locked, even with the right password, and it says for how long.
    let res = app.login(&app.admin_email, ADMIN_PASSWORD).await;
    let retry_after: u64 = res
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=900).contains(&retry_after),
        "retry after {retry_after}"
    );
    assert_problem(res, 429, "too_many_attempts").await;
    // Unknown emails are throttled the same way, so a 429 reveals nothing.
    for _ in 0..3 {
        app.login("nobody@kita.example", "wrong password!").await;
    }
    assert_eq!(
        app.login("nobody@kita.example", "wrong password!")
            .await
            .status(),
        429
    );
}

async fn failed_logins_are_throttled_per_client_address(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.auth.max_failures_per_account = 100;
        s.auth.max_failures_per_address = 4;
    })
    .await;
    for i in 0..4 {
        let res = app
            .login(&format!("guess{i}@kita.example"), "wrong password!")
            .await;
        assert_eq!(res.status(), 401);
    }
    let res = app.login(&app.admin_email, ADMIN_PASSWORD).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "too_many_attempts").await;
}

async fn a_successful_login_resets_the_account_counter(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.auth.max_failures_per_account = 3;
        s.auth.max_failures_per_address = 100;
    })
    .await;
    for _ in 0..2 {
        app.login(&app.admin_email, "wrong password!").await;
    }
    app.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    for _ in 0..2 {
        app.login(&app.admin_email, "wrong password!").await;
    }
    app.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
}

async fn login_from(
    app: &crate::helpers::TestApp,
    ip: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// A stranger who knows a coordinator's email cannot keep her out: failures
/// from other clients lock those clients, and slow unknown clients down, but
/// her own desk (a client she logged in from before) still gets in.
async fn a_stranger_cannot_lock_a_colleague_out_of_her_desk(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.http.trusted_proxies = vec!["127.0.0.1".into()];
        s.auth.max_failures_per_account = 3;
        s.auth.max_failures_per_address = 100;
        s.auth.max_failures_per_account_any_client = 10;
    })
    .await;
    let desk = "198.51.100.10";
    assert_eq!(
        login_from(&app, desk, &app.admin_email, ADMIN_PASSWORD)
            .await
            .status(),
        200
    );

    // One stranger: three tries, then that client waits.
    for _ in 0..3 {
        let res = login_from(&app, "203.0.113.1", &app.admin_email, "guess").await;
        assert_eq!(res.status(), 401);
    }
    let res = login_from(&app, "203.0.113.1", &app.admin_email, ADMIN_PASSWORD).await;
    assert_problem(res, 429, "too_many_attempts").await;
    // Many strangers: the account-wide ceiling and its growing delays stop
    // the guessing from unknown clients, the right password included.
    let mut refused = 0;
    for i in 2..30 {
        let res = login_from(&app, &format!("203.0.113.{i}"), &app.admin_email, "guess").await;
        if res.status() == 429 {
            refused += 1;
        }
    }
    assert!(
        refused >= 20,
        "unknown clients are slowed down: {refused} of 28 refused"
    );
    let res = login_from(&app, "192.0.2.99", &app.admin_email, ADMIN_PASSWORD).await;
    assert_problem(res, 429, "too_many_attempts").await;
    // Her desk is not blocked by any of it.
    assert_eq!(
        login_from(&app, desk, &app.admin_email, ADMIN_PASSWORD)
            .await
            .status(),
        200
    );
}

/// Without a trusted proxy, X-Forwarded-For is the client's own words: it
/// does not give a guesser a fresh address per request.
async fn a_forwarded_for_header_from_an_untrusted_peer_is_ignored(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.auth.max_failures_per_account = 100;
        s.auth.max_failures_per_address = 4;
    })
    .await;
    for i in 0..4 {
        let res = login_from(
            &app,
            &format!("203.0.113.{i}"),
            &format!("guess{i}@kita.example"),
            "guess",
        )
        .await;
        assert_eq!(res.status(), 401);
    }
    let res = login_from(&app, "203.0.113.200", &app.admin_email, ADMIN_PASSWORD).await;
    assert_problem(res, 429, "too_many_attempts").await;
}

db_tests!(
    a_stranger_cannot_lock_a_colleague_out_of_her_desk,
    a_forwarded_for_header_from_an_untrusted_peer_is_ignored,
    login_answers_a_bearer_token_pair,
    login_is_case_insensitive_in_the_email,
    a_wrong_password_and_an_unknown_email_get_the_same_answer,
    tampered_expired_unsigned_and_foreign_tokens_get_401,
    refresh_rotates_and_spends_the_old_token,
    a_spent_refresh_token_revokes_the_whole_chain,
    an_unknown_refresh_token_is_a_401,
    parallel_refreshes_with_one_token_succeed_once,
    logout_revokes_the_session,
    failed_logins_are_throttled_per_account,
    failed_logins_are_throttled_per_client_address,
    a_successful_login_resets_the_account_counter,
);
