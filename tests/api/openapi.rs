//! The OpenAPI document matches what the server does.

use serde_json::Value;

use crate::helpers::{Db, db_tests, spawn_app};

/// Every API operation the server registers. Adding a route without listing
/// it here fails the test, and so does a documented route the server lacks.
const EXPECTED: &[(&str, &str)] = &[
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/me"),
    ("post", "/api/v1/me/password"),
    ("get", "/api/v1/staff"),
    ("post", "/api/v1/staff"),
    ("get", "/api/v1/staff/{id}"),
    ("patch", "/api/v1/staff/{id}"),
    ("post", "/api/v1/staff/{id}/deactivate"),
    ("post", "/api/v1/staff/{id}/reactivate"),
    ("post", "/api/v1/staff/{id}/password"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/organisation"),
    ("patch", "/api/v1/organisation"),
    ("get", "/api/v1/venues"),
    ("post", "/api/v1/venues"),
    ("get", "/api/v1/venues/{id}"),
    ("patch", "/api/v1/venues/{id}"),
    ("post", "/api/v1/venues/{id}/archive"),
    ("get", "/api/v1/courses"),
    ("post", "/api/v1/courses"),
    ("get", "/api/v1/courses/{id}"),
    ("patch", "/api/v1/courses/{id}"),
    ("post", "/api/v1/courses/{id}/archive"),
    ("get", "/api/v1/topics"),
    ("post", "/api/v1/topics"),
    ("get", "/api/v1/closures"),
    ("post", "/api/v1/closures"),
    ("delete", "/api/v1/closures/{id}"),
    ("get", "/api/v1/series"),
    ("post", "/api/v1/series"),
    ("get", "/api/v1/series/{id}"),
    ("patch", "/api/v1/series/{id}"),
    ("get", "/api/v1/sessions"),
    ("post", "/api/v1/sessions"),
    ("get", "/api/v1/sessions/{id}"),
    ("post", "/api/v1/sessions/{id}/cancel"),
    ("post", "/api/v1/sessions/{id}/move"),
    ("post", "/api/v1/sessions/{id}/resize"),
    ("post", "/api/v1/sessions/{id}/instructors"),
    ("get", "/api/v1/me/sessions"),
    ("post", "/api/v1/venues/{id}/calendar-feed"),
    ("post", "/api/v1/me/calendar-feed"),
    ("get", "/api/v1/venues/{id}/calendar.ics"),
    ("get", "/api/v1/instructors/{id}/calendar.ics"),
    ("get", "/api/v1/residents"),
    ("post", "/api/v1/residents"),
    ("get", "/api/v1/residents/{id}"),
    ("patch", "/api/v1/residents/{id}"),
    ("get", "/api/v1/residents/{id}/bookings"),
    ("post", "/api/v1/sessions/{id}/bookings"),
    ("get", "/api/v1/sessions/{id}/roster"),
    ("post", "/api/v1/sessions/{id}/walk-ins"),
    ("post", "/api/v1/sessions/{id}/attendance"),
    ("post", "/api/v1/sessions/{id}/close"),
    ("get", "/api/v1/bookings"),
    ("get", "/api/v1/bookings/{id}"),
    ("post", "/api/v1/bookings/{id}/cancel"),
    ("post", "/api/v1/residents/{id}/merge"),
    ("post", "/api/v1/series/{id}/enrolments"),
    ("post", "/api/v1/enrolments/{id}/cancel"),
    ("get", "/api/v1/devices"),
    ("post", "/api/v1/devices"),
    ("get", "/api/v1/devices/{id}"),
    ("post", "/api/v1/devices/{id}/status"),
    ("get", "/api/v1/loans"),
    ("post", "/api/v1/loans"),
    ("post", "/api/v1/loans/{id}/return"),
    ("post", "/api/v1/payments"),
    ("post", "/api/v1/payments/{id}/refund"),
    ("get", "/api/v1/residents/{id}/balance"),
    ("get", "/api/v1/sessions/{id}/fees"),
    ("get", "/api/v1/venues/{id}/cash-sheet"),
    ("get", "/api/v1/tickets"),
    ("post", "/api/v1/tickets"),
    ("get", "/api/v1/tickets/counts"),
    ("get", "/api/v1/tickets/stats"),
    ("get", "/api/v1/tickets/{id}"),
    ("post", "/api/v1/tickets/{id}/transitions"),
    ("post", "/api/v1/tickets/{id}/assign"),
    ("post", "/api/v1/tickets/{id}/notes"),
    ("post", "/api/v1/tickets/{id}/call"),
    ("get", "/api/v1/venues/{id}/queue"),
    ("get", "/api/v1/ticket-categories"),
    ("post", "/api/v1/ticket-categories"),
    ("get", "/api/v1/organisation/opening-hours"),
    ("put", "/api/v1/organisation/opening-hours"),
    ("post", "/api/v1/tickets/{id}/merge"),
    ("post", "/api/v1/tickets/{id}/links"),
    ("post", "/api/v1/tickets/{id}/auto-assign"),
    ("get", "/api/v1/staff/{id}/duty"),
    ("put", "/api/v1/staff/{id}/duty"),
];

async fn documented(app: &crate::helpers::TestApp) -> Vec<(String, String)> {
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "OpenAPI 3.1"
    );
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                ops.push((method.to_owned(), path.clone()));
            }
        }
    }
    ops.sort();
    ops
}

async fn the_document_lists_exactly_the_served_operations(db: Db) {
    let app = spawn_app(db).await;
    let mut expected: Vec<(String, String)> = EXPECTED
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    expected.sort();
    let documented = documented(&app).await;
    assert_eq!(documented, expected);

    // Each documented operation is routed: the answer is whatever the handler
    // says (401, 422, 200 …), never the router's 404/405.
    for (method, path) in &documented {
        let concrete = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = app
            .client
            .request(method.clone(), app.url(&concrete))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(
            body["code"] != "route_not_found"
                && body["code"] != "method_not_allowed"
                && status != 405,
            "{method} {path} is documented but not served: {status} {body}"
        );
    }
}

async fn the_document_describes_problems_and_bearer_auth(db: Db) {
    let app = spawn_app(db).await;
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let problem = &doc["components"]["schemas"]["Problem"]["properties"];
    for key in ["type", "title", "status", "detail", "code", "errors"] {
        assert!(problem.get(key).is_some(), "Problem has {key}");
    }
    let create = &doc["paths"]["/api/v1/staff"]["post"];
    assert!(create["responses"]["201"].is_object());
    assert!(create["responses"]["409"]["content"]["application/problem+json"].is_object());
}

async fn the_docs_page_works_without_internet(db: Db) {
    let app = spawn_app(db).await;
    let res = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "the Swagger UI page");
    assert!(!html.contains("https://"), "no assets from a CDN");
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let res = app
            .client
            .get(app.url(&format!("/api/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{asset} is served by the binary");
    }
    let init = app
        .client
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/openapi.json"));
    let res = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(res.status(), 200, "/api/docs redirects to the page");
}

db_tests!(
    the_document_lists_exactly_the_served_operations,
    the_document_describes_problems_and_bearer_auth,
    the_docs_page_works_without_internet,
);
