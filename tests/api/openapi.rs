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
    ("post", "/api/v1/sessions/{id}/allocation"),
    ("get", "/api/v1/sessions/{id}/draw"),
    ("post", "/api/v1/sessions/{id}/draw"),
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
    ("post", "/api/v1/bookings/{id}/accept-offer"),
    ("post", "/api/v1/bookings/{id}/decline-offer"),
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
    ("post", "/api/v1/courses/{id}/enrolments"),
    ("post", "/api/v1/course-enrolments/{id}/cancel"),
    ("get", "/api/v1/enrolment-conflicts"),
    ("post", "/api/v1/enrolment-conflicts/{id}/retry"),
    ("post", "/api/v1/enrolment-conflicts/{id}/dismiss"),
    ("get", "/api/v1/venues/{id}/opening-hours"),
    ("put", "/api/v1/venues/{id}/opening-hours"),
    ("get", "/api/v1/outbox"),
    ("get", "/api/v1/outbox/stats"),
    ("get", "/api/v1/reports/summary"),
    ("post", "/api/v1/programmes"),
    ("get", "/api/v1/programmes"),
    ("post", "/api/v1/programmes/{id}/viewers"),
    ("post", "/api/v1/programmes/{id}/membership"),
    ("post", "/api/v1/programmes/{id}/membership/withdraw"),
    ("get", "/api/v1/programmes/{id}/summary"),
    ("get", "/api/v1/reports/attendance.csv"),
    ("get", "/api/v1/residents/{id}/export"),
    ("post", "/api/v1/residents/{id}/erase"),
    ("post", "/api/v1/outbox/{id}/retry"),
    ("get", "/api/v1/call-list"),
    ("post", "/api/v1/call-list/{id}/outcome"),
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

/// The OpenAPI document as served.
async fn document(app: &crate::helpers::TestApp) -> Value {
    app.client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn refs_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref"
                    && let Some(r) = v.as_str()
                {
                    out.push(r.to_owned());
                }
                refs_in(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs_in(v, out)),
        _ => {}
    }
}

/// What is wrong with an answer, measured against `doc` (see `Conformance`).
/// The first document seen serves every test: it is generated from the
/// code, so every app serves the same one. Compiled schemas are cached.
pub fn answer_errors(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    content_type: &str,
    body: &Value,
) -> Vec<String> {
    static SHARED: std::sync::OnceLock<Conformance> = std::sync::OnceLock::new();
    SHARED
        .get_or_init(|| Conformance::from_doc(doc.clone()))
        .errors(method, path, status, content_type, body)
}

/// Checks answers against the schemas the document declares for them.
pub struct Conformance {
    doc: Value,
    /// Compiled schemas by "method template status media".
    validators:
        std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
    pub checked: Vec<String>,
}

impl Conformance {
    pub async fn load(app: &crate::helpers::TestApp) -> Conformance {
        Conformance::from_doc(document(app).await)
    }

    fn from_doc(doc: Value) -> Conformance {
        Conformance {
            doc,
            validators: Default::default(),
            checked: Vec::new(),
        }
    }

    /// The documented path template that `path` (no query) matches.
    fn template(&self, method: &str, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        self.doc["paths"]
            .as_object()?
            .iter()
            .find_map(|(template, item)| {
                let parts: Vec<&str> = template.split('/').collect();
                let fits = parts.len() == segments.len()
                    && parts
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')));
                (fits && item.get(method).is_some()).then(|| template.clone())
            })
    }

    /// Asserts the answer's status is documented for the operation, and its
    /// body validates against the declared schema of that status.
    pub fn check(
        &mut self,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
        body: &Value,
    ) {
        let errors = self.errors(method, path, status, content_type, body);
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match its schema:\n{}\n{body}",
            errors.join("\n")
        );
        self.checked.push(format!("{method} {path} {status}"));
    }

    /// What is wrong with an answer, measured against the document.
    pub fn errors(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: &str,
        body: &Value,
    ) -> Vec<String> {
        let path = path.split('?').next().unwrap();
        let template = self
            .template(method, path)
            .unwrap_or_else(|| panic!("{method} {path} is not documented"));
        let response = &self.doc["paths"][&template][method]["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {template}: status {status} is not documented (answer: {body})"
        );
        let media = content_type.split(';').next().unwrap_or("").trim();
        let Some(schema) = response["content"].get(media).map(|c| &c["schema"]) else {
            assert!(
                response.get("content").is_none() || body.is_null(),
                "{method} {template} {status}: content type {media} is not documented"
            );
            return Vec::new();
        };
        let key = format!("{method} {template} {status} {media}");
        let cached = self.validators.lock().unwrap().get(&key).cloned();
        let validator = cached.unwrap_or_else(|| {
            let mut root = schema.as_object().cloned().unwrap_or_default();
            root.insert("components".into(), self.doc["components"].clone());
            let compiled = jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&Value::Object(root))
                .unwrap_or_else(|e| {
                    panic!("{method} {template} {status}: schema does not compile: {e}")
                });
            let compiled = std::sync::Arc::new(compiled);
            self.validators
                .lock()
                .unwrap()
                .insert(key, compiled.clone());
            compiled
        });
        validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }
}

async fn every_reference_in_the_document_resolves(db: Db) {
    let app = spawn_app(db).await;
    let doc = document(&app).await;
    let mut refs = Vec::new();
    refs_in(&doc, &mut refs);
    refs.sort();
    refs.dedup();
    assert!(!refs.is_empty());
    let missing: Vec<&String> = refs
        .iter()
        .filter(|r| {
            let pointer = r.trim_start_matches('#');
            !r.starts_with('#') || doc.pointer(pointer).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "unresolved references: {missing:?}");
    // Every operation documents the failures every client can meet.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = &op["responses"];
            if op.get("requestBody").is_some() {
                for status in ["400", "415", "422"] {
                    assert!(
                        responses.get(status).is_some(),
                        "{method} {path} lacks {status}"
                    );
                }
            }
            if op.get("security").is_some() {
                assert!(responses.get("401").is_some(), "{method} {path} lacks 401");
            }
            if op["parameters"].as_array().is_some_and(|p| !p.is_empty()) {
                assert!(responses.get("422").is_some(), "{method} {path} lacks 422");
            }
        }
    }
    let course = &doc["components"]["schemas"]["CourseInput"]["required"];
    for field in ["kind", "default_fee_yen", "default_length_minutes"] {
        assert!(
            course
                .as_array()
                .is_some_and(|r| r.iter().any(|f| f == field)),
            "CourseInput requires {field}: {course}"
        );
    }
}

/// A day at the centre through the API, every answer (successes and the
/// usual failures) checked against the schema the document declares.
async fn real_answers_match_their_declared_schemas(db: Db) {
    use chrono::{Duration, Utc};
    use serde_json::json;
    let app = spawn_app(db).await;
    let mut c = Conformance::load(&app).await;
    let token = app.admin_token.clone();
    async fn send(
        app: &crate::helpers::TestApp,
        c: &mut Conformance,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Value {
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut req = app.client.request(m, app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_owned());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = res.text().await.unwrap();
        let body: Value = if ct.contains("json") {
            serde_json::from_str(&text).unwrap()
        } else {
            Value::Null
        };
        c.check(method, path, status, &ct, &body);
        body
    }
    let t = Some(token.as_str());
    let j = |v: Value| v.to_string();
    let date = Utc::now().date_naive() + Duration::days(5);

    send(&app, &mut c, "get", "/health/ready", None, None).await;
    send(&app, &mut c, "get", "/api/v1/me", t, None).await;
    send(&app, &mut c, "get", "/api/v1/me", None, None).await;
    send(&app, &mut c, "get", "/api/v1/organisation", t, None).await;
    let venue = send(
        &app,
        &mut c,
        "post",
        "/api/v1/venues",
        t,
        Some(&j(
            json!({"name": "北公民館", "address": "北町1-2-3", "default_capacity": 2}),
        )),
    )
    .await;
    let venue = venue["id"].as_str().unwrap().to_owned();
    send(
        &app,
        &mut c,
        "post",
        "/api/v1/venues",
        t,
        Some("{\"name\": "),
    )
    .await;
    send(
        &app,
        &mut c,
        "post",
        "/api/v1/venues",
        t,
        Some(&j(json!({"name": ""}))),
    )
    .await;
    send(&app, &mut c, "get", "/api/v1/venues", t, None).await;
    send(
        &app,
        &mut c,
        "get",
        &format!("/api/v1/venues/{}", uuid::Uuid::now_v7()),
        t,
        None,
    )
    .await;
    let course = send(&app, &mut c, "post", "/api/v1/courses", t,
        Some(&j(json!({"title": "はじめてのスマホ教室", "kind": "class", "level": "basic", "default_fee_yen": 100,
                       "default_length_minutes": 120, "topics": ["calls"]})))).await;
    let course = course["id"].as_str().unwrap().to_owned();
    send(&app, &mut c, "get", "/api/v1/courses", t, None).await;
    send(&app, &mut c, "get", "/api/v1/topics", t, None).await;
    send(&app, &mut c, "post", "/api/v1/closures", t,
        Some(&j(json!({"start_date": date + Duration::days(60), "end_date": date + Duration::days(61), "reason": "年末年始"})))).await;
    send(&app, &mut c, "get", "/api/v1/closures", t, None).await;
    let series = send(&app, &mut c, "post", "/api/v1/series", t,
        Some(&j(json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=WEEKLY", "starts_on": date, "start_time": "14:00", "count": 3})))).await;
    let series_id = series["series"]["id"].as_str().unwrap().to_owned();
    send(
        &app,
        &mut c,
        "get",
        &format!("/api/v1/series/{series_id}"),
        t,
        None,
    )
    .await;
    let sessions = send(&app, &mut c, "get", "/api/v1/sessions", t, None).await;
    let session = sessions["items"][0]["id"].as_str().unwrap().to_owned();
    send(
        &app,
        &mut c,
        "get",
        &format!("/api/v1/sessions/{session}"),
        t,
        None,
    )
    .await;
    let mut residents = Vec::new();
    for (n, kana) in [("花", "はな"), ("一", "はじめ"), ("三郎", "さぶろう")] {
        let r = send(&app, &mut c, "post", "/api/v1/residents", t,
            Some(&j(json!({"family_name": "伊藤", "given_name": n, "family_name_kana": "いとう", "given_name_kana": kana,
                           "phone": "090-1234-567".to_owned() + &residents.len().to_string(), "confirm_new_person": true})))).await;
        residents.push(r["id"].as_str().unwrap().to_owned());
    }
    send(&app, &mut c, "get", "/api/v1/residents?q=いとう", t, None).await;
    send(
        &app,
        &mut c,
        "get",
        &format!("/api/v1/residents/{}", residents[0]),
        t,
        None,
    )
    .await;
    let mut bookings = Vec::new();
    for r in &residents {
        let b = send(
            &app,
            &mut c,
            "post",
            &format!("/api/v1/sessions/{session}/bookings"),
            t,
            Some(&j(json!({"resident_id": r, "channel": "phone"}))),
        )
        .await;
        bookings.push(b);
    }
    send(
        &app,
        &mut c,
        "post",
        &format!("/api/v1/sessions/{session}/bookings"),
        t,
        Some(&j(json!({"resident_id": residents[0], "channel": "phone"}))),
    )
    .await;
    send(
        &app,
        &mut c,
        "get",
        &format!("/api/v1/sessions/{session}/roster"),
        t,
        None,
    )
    .await;
    let payment = send(
        &app,
        &mut c,
        "post",
        "/api/v1/payments",
        t,
        Some(&j(
            json!({"booking_id": bookings[0]["id"], "amount": 100, "method": "cash"}),
        )),
    )
    .await;
    send(
        &app,
        &mut c,
        "post",
        "/api/v1/payments",
        t,
        Some(&j(
            json!({"booking_id": bookings[0]["id"], "amount": 100, "method": "cash"}),
        )),
    )
    .await;
    send(
        &app,
        &mut c,
        "post",
        &format!(
            "/api/v1/payments/{}/refund",
            payment["id"].as_str().unwrap()
        ),
        t,
        Some(&j(json!({"amount": 50, "reason": "欠席"}))),
    )
    .await;
    send(
        &app,
        &mut c,
        "get",
        &format!("/api/v1/sessions/{session}/fees"),
        t,
        None,
    )
    .await;
    send(
        &app,
        &mut c,
        "get",
        &format!("/api/v1/residents/{}/balance", residents[0]),
        t,
        None,
    )
    .await;
    send(
        &app,
        &mut c,
        "get",
        &format!(
            "/api/v1/venues/{venue}/cash-sheet?date={}",
            Utc::now().date_naive()
        ),
        t,
        None,
    )
    .await;
    send(
        &app,
        &mut c,
        "post",
        &format!(
            "/api/v1/bookings/{}/cancel",
            bookings[0]["id"].as_str().unwrap()
        ),
        t,
        Some(&j(json!({"reason": "体調不良"}))),
    )
    .await;
    send(&app, &mut c, "post", "/api/v1/devices", t,
        Some(&j(json!({"asset_tag": "KITA-001", "kind": "smartphone", "os": "android", "model": "AQUOS", "home_venue_id": venue})))).await;
    send(&app, &mut c, "get", "/api/v1/devices", t, None).await;
    let ticket = send(&app, &mut c, "post", "/api/v1/tickets", t,
        Some(&j(json!({"channel": "phone", "category": "photos_printing", "subject": "写真の印刷", "description": "コンビニで印刷したい", "contact_phone": "090-1111-2222"})))).await;
    send(
        &app,
        &mut c,
        "get",
        &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
        t,
        None,
    )
    .await;
    send(&app, &mut c, "get", "/api/v1/tickets", t, None).await;
    send(&app, &mut c, "get", "/api/v1/audit", t, None).await;
    send(&app, &mut c, "get", "/api/v1/staff", t, None).await;
    send(&app, &mut c, "post", "/api/v1/staff", t, Some("not json")).await;
    let res = app
        .client
        .post(app.url("/api/v1/staff"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    c.check("post", "/api/v1/staff", 415, &ct, &body);
    assert!(c.checked.len() >= 40, "{} answers checked", c.checked.len());
    // The check itself can fail: a wrong shape is caught.
    let me = send(&app, &mut c, "get", "/api/v1/me", t, None).await;
    let mut wrong = me.clone();
    wrong["role"] = json!(42);
    assert!(
        !c.errors("get", "/api/v1/me", 200, "application/json", &wrong)
            .is_empty()
    );
    assert!(
        !c.errors(
            "get",
            "/api/v1/me",
            401,
            "application/problem+json",
            &json!({"status": "x"})
        )
        .is_empty()
    );
}

db_tests!(
    the_document_lists_exactly_the_served_operations,
    the_document_describes_problems_and_bearer_auth,
    the_docs_page_works_without_internet,
    every_reference_in_the_document_resolves,
    real_answers_match_their_declared_schemas,
);
