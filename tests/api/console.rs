//! The staff console in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver: what a person sees and does.
//! One chromedriver serves the whole test binary; each test opens its own
//! browser session against its own app, one at a time. Each test saves a
//! screenshot of its screen to `docs/console/`.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use diesel::prelude::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Db, TestApp, db_tests, spawn_app};

/// The chromedriver of this test binary: started once, from a thread that
/// lives as long as the process, so the kernel stops it with us.
fn chromedriver() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::os::unix::process::CommandExt;
            let mut command = Command::new("chromedriver");
            command
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe; it only sets a flag.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let child = command
                .spawn()
                .expect("chromedriver not found: install Debian's chromium and chromium-driver (.ci/run does)");
            tx.send(()).unwrap();
            let _keep = child;
            loop {
                std::thread::park();
            }
        });
        rx.recv().unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        port
    })
}

/// Browser tests take turns: two cores, one Chromium at a time.
async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

pub struct Browser {
    pub client: Client,
    pub base: String,
}

impl Browser {
    pub async fn open(app: &TestApp, width: u32, height: u32) -> Browser {
        let port = chromedriver();
        // Both rustls back-ends are in the test build: choose one.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--lang=ja", format!("--window-size={width},{height}")]}),
        );
        let client = ClientBuilder::rustls()
            .expect("tls")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        client.set_window_size(width, height).await.ok();
        Browser {
            client,
            base: app.address.clone(),
        }
    }

    pub async fn go(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.ok();
        e.send_keys(text).await.unwrap();
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} not found: {e}"))
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Waits until the page's text contains `text`; the page text.
    pub async fn sees(&self, text: &str) -> String {
        for _ in 0..100 {
            if let Ok(body) = self.client.find(Locator::Css("body")).await
                && let Ok(t) = body.text().await
                && t.contains(text)
            {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let t = self
            .client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        panic!("{text:?} never appeared on the page:\n{t}");
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/console");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn login(&self, email: &str, password: &str) {
        self.go("/login").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("button[type=submit]").await;
    }

    /// Logs in and waits until the console is shown.
    pub async fn login_ok(&self, email: &str, password: &str) {
        self.login(email, password).await;
        self.sees("ログアウト").await;
    }

    pub async fn close(self) {
        self.client.close().await.ok();
    }
}

async fn resident(app: &TestApp, family: &str, kana: &str, phone: &str) -> String {
    app.post_ok(
        "/api/v1/residents",
        &app.admin_token,
        &json!({"family_name": family, "given_name": "花子", "family_name_kana": kana, "given_name_kana": "はなこ",
                "phone": phone, "birth_year": 1948, "confirm_new_person": true}),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_new_colleague_logs_in_and_chooses_a_password(db: Db) {
    let app = spawn_app(db).await;
    let account = app.create_staff("sato@kita.example", "coordinator").await;
    {
        use madoguchi::db::schema::staff_accounts;
        let mut conn = app.pool.get().unwrap();
        diesel::update(
            staff_accounts::table.filter(staff_accounts::id.eq(account["id"].as_str().unwrap())),
        )
        .set(staff_accounts::must_change_password.eq(true))
        .execute(&mut *conn)
        .unwrap();
    }
    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 768).await;
    b.go("/").await;
    assert_eq!(b.path().await, "/login", "signed out: the login page");
    b.login("sato@kita.example", "wrong password!!").await;
    b.sees("メールアドレスかパスワードがちがいます").await;
    b.login("sato@kita.example", crate::helpers::STAFF_PASSWORD)
        .await;
    b.sees("新しいパスワードを決めてください").await;
    b.screenshot("password").await;
    // Anything else waits until the password is chosen.
    b.go("/").await;
    assert_eq!(b.path().await, "/password");
    b.fill("#current", crate::helpers::STAFF_PASSWORD).await;
    b.fill("#new", "short").await;
    b.click("form[hx-post='/password'] button").await;
    b.sees("新しいパスワードを決めなおしてください").await;
    b.fill("#new", "a much longer password 2026").await;
    b.click("form[hx-post='/password'] button").await;
    b.sees("名前・カナ・電話番号・予約番号").await;
    assert_eq!(b.path().await, "/");
    let res = app
        .login("sato@kita.example", "a much longer password 2026")
        .await;
    assert_eq!(res.status(), 200, "the new password works for the API too");
    // Logging out ends the session at once.
    b.click("header form button").await;
    b.sees("ログイン").await;
    b.go("/").await;
    assert_eq!(b.path().await, "/login");
    b.close().await;
}

async fn the_phone_desk_finds_registers_books_and_cancels(db: Db) {
    let app = spawn_app(db).await;
    let yamada = resident(&app, "山田", "やまだ", "090-1234-5678").await;
    let session = app.session_ok(1, json!({})).await;
    let other = resident(&app, "鈴木", "すずき", "090-2222-3333").await;
    app.book_ok(&session, &other).await;
    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 768).await;
    b.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    b.sees("電話受付").await;

    // Half-width katakana finds the resident stored in hiragana.
    b.fill("#q", "ﾔﾏﾀﾞ").await;
    b.sees("山田 花子").await;
    b.screenshot("desk-search").await;
    b.click(&format!("a[href='/residents/{yamada}']")).await;
    b.sees("これからの予約").await;

    // The session is full: the booking joins the waitlist, with its place.
    b.click("form[hx-post$='/book'] button[type=submit]").await;
    let text = b.sees("キャンセル待ち（1番目）").await;
    assert!(text.contains("予約番号"));
    b.screenshot("resident-booked").await;

    // 鈴木's booking is cancelled from her page: 山田 is promoted, and the
    // coordinator is told whom to call.
    b.go(&format!("/residents/{other}")).await;
    b.fill("input[name=reason]", "体調不良").await;
    b.click("form[hx-post$='/cancel'] button").await;
    b.sees("山田 花子").await;
    b.sees("繰り上がりました").await;
    let booking = &app
        .get_ok(
            &format!("/api/v1/residents/{yamada}/bookings"),
            &app.admin_token,
        )
        .await[0];
    assert_eq!(booking["status"], "confirmed");

    // A new resident with the same phone: the duplicate is shown first.
    b.go("/residents/new").await;
    b.fill("#family", "山田").await;
    b.fill("#given", "花").await;
    b.fill("#family_kana", "やまだ").await;
    b.fill("#given_kana", "はな").await;
    b.fill("#phone", "09012345678").await;
    b.click("#new-form button[type=submit]").await;
    b.sees("同じ方かもしれません").await;
    b.screenshot("new-resident-duplicate").await;
    b.click("#new-result button").await;
    b.sees("これからの予約").await;
    assert!(b.path().await.starts_with("/residents/"));
    let found = app
        .get_ok("/api/v1/residents?q=0901234", &app.admin_token)
        .await;
    assert_eq!(
        found["items"].as_array().unwrap().len(),
        2,
        "registered as someone new"
    );
    b.close().await;
}

async fn the_tablet_marks_attendance_and_closes_only_after_the_start(db: Db) {
    let app = spawn_app(db).await;
    let session = app.session_ok(10, json!({})).await;
    let venue = app.venue_of(&session).await;
    app.loaner_device(&venue, "KITA-001").await;
    let r = resident(&app, "高橋", "たかはし", "090-4444-5555").await;
    app.post_ok(
        &format!("/api/v1/sessions/{session}/bookings"),
        &app.admin_token,
        &json!({"resident_id": r, "channel": "phone", "needs_loaner": true}),
        201,
    )
    .await;
    resident(&app, "渡辺", "わたなべ", "090-8888-9999").await;
    let _turn = turn().await;
    let b = Browser::open(&app, 800, 1280).await;
    b.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    b.go(&format!("/sessions/{session}/roster")).await;
    b.sees("高橋 花子").await;
    // Before the start: closing is not offered.
    b.sees("開始前は終了できません").await;
    assert!(
        b.find("button[disabled]")
            .await
            .text()
            .await
            .unwrap()
            .contains("教室を終了する")
    );

    // Ten minutes before: attendance is open.
    app.set_session_start(&session, chrono::Duration::minutes(10));
    b.go(&format!("/sessions/{session}/roster")).await;
    b.click("button[hx-vals*='\"present\"']").await;
    b.sees("（出席）").await;
    let roster = app
        .get_ok(
            &format!("/api/v1/sessions/{session}/roster"),
            &app.admin_token,
        )
        .await;
    assert_eq!(roster["confirmed"][0]["attendance"], "present");
    b.sees("開始前は終了できません").await;

    // The phone by its asset tag, the fee with its receipt number.
    b.fill("input[name=asset_tag]", "KITA-001").await;
    b.click("form[hx-post$='/lend'] button").await;
    b.sees("KITA-001 貸出中").await;
    b.click("button[hx-post$='/fee']").await;
    let text = b.sees("領収書番号").await;
    assert!(text.contains("300円を受け取りました"), "{text}");
    b.sees("本日の入金 300円").await;
    b.screenshot("tablet-roster").await;
    b.click("button[hx-post$='/return']").await;
    b.sees("返却を受けました").await;

    // A walk-in found by search.
    b.fill("#walkin-q", "わたなべ").await;
    b.click("#walkin-results button").await;
    b.sees("渡辺 花子 さんを当日参加で追加しました").await;

    // After the start: closing says what it will record, then does it.
    app.set_session_start(&session, chrono::Duration::minutes(-5));
    b.go(&format!("/sessions/{session}/roster")).await;
    b.click("#close-area button").await;
    b.sees("0人が無断欠席になります").await;
    b.click("button[hx-post$='/close']").await;
    b.sees("教室を終了しました").await;
    let s = app
        .get_ok(&format!("/api/v1/sessions/{session}"), &app.admin_token)
        .await;
    assert_eq!(s["status"], "completed");
    b.close().await;
}

async fn a_forged_form_without_the_csrf_token_is_refused(db: Db) {
    let app = spawn_app(db).await;
    let session = app.session_ok(10, json!({})).await;
    let r = resident(&app, "伊藤", "いとう", "090-6666-7777").await;
    // Log in as a browser would, keeping the cookie.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .post(app.url("/login"))
        .form(&[
            ("email", app.admin_email.as_str()),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("madoguchi_session="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let page = client
        .get(app.url("/"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    let csrf = html
        .split("\"X-CSRF-Token\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf token in the page")
        .to_owned();

    // The forged form: the cookie rides along, the token does not.
    let book = |token: Option<String>| {
        let mut req = client
            .post(app.url(&format!("/residents/{r}/book")))
            .header("cookie", &pair)
            .form(&[("session_id", session.as_str()), ("channel", "phone")]);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    assert_eq!(book(None).await.unwrap().status(), 403);
    assert_eq!(book(Some("forged".into())).await.unwrap().status(), 403);
    let none: Value = app
        .get_ok(&format!("/api/v1/residents/{r}/bookings"), &app.admin_token)
        .await;
    assert_eq!(none.as_array().unwrap().len(), 0, "nothing was booked");
    let ok = book(Some(csrf)).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("予約番号"));
    // A login posted from another site is refused.
    let res = client
        .post(app.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[
            ("email", app.admin_email.as_str()),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // The console is not part of the API document.
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert!(
        paths
            .iter()
            .all(|p| p.starts_with("/api/") || p.starts_with("/health/")),
        "{paths:?}"
    );
}

/// The buttons of the ticket page's state section, as a person reads them.
async fn move_buttons(b: &Browser) -> Vec<String> {
    let mut out = Vec::new();
    for e in b
        .client
        .find_all(Locator::Css("button[hx-post$='/move']"))
        .await
        .unwrap()
    {
        out.push(e.text().await.unwrap());
    }
    out.sort();
    out
}

/// Waits until the ticket page shows `word` as the state.
async fn state_is(b: &Browser, word: &str) {
    for _ in 0..100 {
        if let Ok(e) = b.client.find(Locator::Css("#ticket-status")).await
            && e.text().await.is_ok_and(|t| t == word)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the ticket never became {word}");
}

async fn the_counter_numbers_visitors_calls_them_and_works_a_ticket(db: Db) {
    let app = spawn_app(db).await;
    let north = app
        .post_ok(
            "/api/v1/venues",
            &app.admin_token,
            &json!({"name": "大垣市情報工房", "default_capacity": 20}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let south = app
        .post_ok(
            "/api/v1/venues",
            &app.admin_token,
            &json!({"name": "ソフトピア", "default_capacity": 20}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 900).await;
    b.login_ok(&app.admin_email, ADMIN_PASSWORD).await;

    // Visitors: 1 then 2 at one venue, 1 at the other.
    let mut numbers = Vec::new();
    for (venue, subject) in [
        (&north, "写真の印刷"),
        (&north, "LINEの登録"),
        (&south, "マイナポータル"),
    ] {
        b.go("/counter").await;
        b.find("#channel")
            .await
            .select_by_value("face_to_face")
            .await
            .unwrap();
        b.find("#venue").await.select_by_value(venue).await.unwrap();
        b.fill("#subject", subject).await;
        b.click("form[hx-post='/counter/tickets'] button[type=submit]")
            .await;
        let text = b.sees("受付票を印刷する").await;
        numbers.push(
            b.find("#intake-result .reference")
                .await
                .text()
                .await
                .unwrap(),
        );
        assert!(text.contains("受付票を印刷する"));
    }
    assert_eq!(numbers, ["1", "2", "1"]);
    b.screenshot("counter").await;

    // The board: no login, no names; it shows the called number within
    // two seconds of "call next" at the counter.
    let link = {
        b.click(&format!(
            "button[hx-vals*='{north}'][hx-post='/counter/board-link']"
        ))
        .await;
        let text = b.sees("/board/").await;
        text.split_whitespace()
            .find(|w| w.contains("/board/"))
            .map(|w| {
                w.trim_start_matches("このリンクをテレビのブラウザで開いてください：")
                    .to_owned()
            })
            .unwrap()
    };
    let path = link[link.find("/board/").unwrap()..].to_owned();
    let counter = b.client.window().await.unwrap();
    let board = b.client.new_window(true).await.unwrap();
    b.client
        .switch_to_window(board.handle.clone())
        .await
        .unwrap();
    b.go(&path).await;
    let before = b.sees("次にお呼びする番号").await;
    assert!(!before.contains("写真"), "no personal data on the board");
    b.client.switch_to_window(counter).await.unwrap();
    b.click(&format!(
        "button[hx-vals*='{north}'][hx-post='/counter/call-next']"
    ))
    .await;
    b.sees("受付番号 1 の方をお呼びしました").await;
    b.client
        .switch_to_window(board.handle.clone())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let called = b
            .client
            .find_all(Locator::Css(".board-number"))
            .await
            .unwrap();
        let mut texts = Vec::new();
        for c in called {
            texts.push(c.text().await.unwrap());
        }
        if texts == ["1"] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "board still shows {texts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.screenshot("board").await;
    // A wrong link shows nothing.
    b.go(&format!("/board/{north}?token=wrong")).await;
    assert!(!b.client.source().await.unwrap().contains("board-number"));
    b.client.close_window().await.unwrap();
    b.client
        .switch_to_window(b.client.windows().await.unwrap().remove(0))
        .await
        .unwrap();

    // A phone ticket through triage, assignment, reply and resolution,
    // offered only the moves its state allows.
    b.go("/counter").await;
    b.find("#channel")
        .await
        .select_by_value("phone")
        .await
        .unwrap();
    b.fill("#subject", "スマホの文字を大きくしたい").await;
    b.click("form[hx-post='/counter/tickets'] button[type=submit]")
        .await;
    b.sees("相談の画面を開く").await;
    b.click("#intake-result a[href^='/tickets/']").await;
    b.sees("スマホの文字を大きくしたい").await;
    assert_eq!(move_buttons(&b).await, ["取消", "振り分け済み"]);
    b.click("button[hx-vals*='\"triaged\"']").await;
    state_is(&b, "振り分け済み").await;
    b.click("button[hx-post$='/take']").await;
    state_is(&b, "担当決定").await;
    assert_eq!(move_buttons(&b).await, ["対応中"]);
    b.click("button[hx-vals*='\"in_progress\"']").await;
    state_is(&b, "対応中").await;
    b.click("button[hx-post$='/auto-assign']").await;
    b.sees("いま当番で、この分類を担当できる方がいません").await;
    b.fill("#body", "設定の「画面表示と明るさ」から変えられます。")
        .await;
    b.click("form[hx-post$='/notes'] button").await;
    b.sees("返信：設定の").await;
    b.click("button[hx-vals*='\"resolved\"']").await;
    state_is(&b, "解決").await;
    assert_eq!(move_buttons(&b).await, ["完了", "対応中"]);
    b.screenshot("ticket").await;
    assert!(
        b.client
            .find(Locator::Css("button[hx-post$='/auto-assign']"))
            .await
            .is_err(),
        "a resolved ticket is not assigned any more"
    );

    // The queues filter by channel.
    b.go("/counter").await;
    b.find("#view").await.select_by_value("all").await.unwrap();
    b.sees("この表示で 4件").await;
    b.find("#qchannel")
        .await
        .select_by_value("fax")
        .await
        .unwrap();
    b.sees("この表示で 0件").await;
    b.find("#qchannel")
        .await
        .select_by_value("phone")
        .await
        .unwrap();
    b.sees("この表示で 1件").await;
    b.close().await;
}

async fn administration_is_for_the_office_and_previews_a_series(db: Db) {
    let app = spawn_app(db).await;
    app.venue_and_course().await;
    // A volunteer is refused by the server, whatever the menu shows.
    let vol = app.create_staff("vol@kita.example", "volunteer").await;
    let vol_id = vol["id"].as_str().unwrap().to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .post(app.url("/login"))
        .form(&[
            ("email", "vol@kita.example"),
            ("password", crate::helpers::STAFF_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let pair = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("madoguchi_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = client
        .get(app.url("/admin/series/new"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    for path in [
        "/admin",
        "/admin/audit",
        "/admin/cash-sheet",
        "/admin/venues",
        "/admin/courses",
        "/admin/closures",
        "/admin/devices",
        "/admin/series",
        "/admin/staff",
    ] {
        let refused = client
            .get(app.url(path))
            .header("cookie", &pair)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{path}");
    }
    let desk = client
        .get(app.url("/counter"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(desk.status(), 200, "the counter is theirs");
    assert!(
        !desk.text().await.unwrap().contains("/admin/"),
        "no administration menu"
    );

    // The office previews a series: the holiday it skips is named.
    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 900).await;
    b.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    b.go("/admin/series/new").await;
    b.find("#weekday")
        .await
        .select_by_value("MO")
        .await
        .unwrap();
    b.client
        .execute(
            "document.getElementById('starts_on').value = '2027-01-04';",
            vec![],
        )
        .await
        .unwrap();
    // Four Mondays from 1/4; the rule's count includes the skipped holiday.
    b.fill("#count", "4").await;
    b.click("#series-form button[type=submit]").await;
    let text = b.sees("1/11 成人の日").await;
    for day in ["1月4日（月）", "1月18日（月）", "1月25日（月）"] {
        assert!(text.contains(day), "{day} in {text}");
    }
    assert!(!text.contains("1月11日（月）"));
    b.screenshot("series-preview").await;
    let none = app.get_ok("/api/v1/series", &app.admin_token).await;
    assert_eq!(
        none["items"].as_array().unwrap().len(),
        0,
        "a preview saves nothing"
    );
    b.click("#series-form button[hx-post='/admin/series']")
        .await;
    b.sees("保存しました").await;
    let saved = app.get_ok("/api/v1/series", &app.admin_token).await;
    assert_eq!(saved["items"].as_array().unwrap().len(), 1);
    // The audit log shows who did it; the day's cash sheet prints.
    b.go("/admin/audit").await;
    b.sees("series.create").await;
    b.sees("Admin").await;
    b.screenshot("audit").await;
    b.go("/admin/cash-sheet").await;
    b.sees("差し引き 0円").await;
    b.screenshot("cash-sheet").await;
    // A role change takes effect on the person's very next request.
    b.go("/admin/staff").await;
    b.find(&format!("#role-{vol_id}"))
        .await
        .select_by_value("coordinator")
        .await
        .unwrap();
    b.sees("コーディネーターにしました").await;
    let now = client
        .get(app.url("/admin/series/new"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(now.status(), 200, "promoted at once");
    // Deactivation ends their console session at once too.
    let res = app
        .post(
            &format!("/api/v1/staff/{vol_id}/deactivate"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let gone = client
        .get(app.url("/counter"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 303);
    assert_eq!(gone.headers()["location"], "/login");
    b.close().await;
}

/// `12月1日（火）`, as the console writes a day.
fn japanese_day(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let w = ["月", "火", "水", "木", "金", "土", "日"][d.weekday().num_days_from_monday() as usize];
    format!("{}月{}日（{w}）", d.month(), d.day())
}

/// Accepts the confirmation a destructive button asks for (`hx-confirm`).
async fn confirm(b: &Browser) {
    for _ in 0..50 {
        if b.client.accept_alert().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no confirmation was asked");
}

async fn select(b: &Browser, css: &str, value: &str) {
    b.find(css).await.select_by_value(value).await.unwrap();
}

async fn is_checked(b: &Browser, css: &str) -> bool {
    b.find(css).await.prop("checked").await.unwrap().as_deref() == Some("true")
}

async fn set_checked(b: &Browser, css: &str, on: bool) {
    if is_checked(b, css).await != on {
        b.click(css).await;
    }
}

async fn set_date(b: &Browser, id: &str, value: &str) {
    b.client
        .execute(
            &format!("document.getElementById('{id}').value = '{value}';"),
            vec![],
        )
        .await
        .unwrap();
}

async fn the_office_sets_up_venues_courses_closures_devices_and_staff(db: Db) {
    let app = spawn_app(db).await;
    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 900).await;
    b.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    b.go("/admin").await;
    b.screenshot("admin").await;

    // A venue open on Mondays only, 10:00–15:00.
    b.click("a[href='/admin/venues']").await;
    b.fill("#name", "大垣市情報工房").await;
    b.fill("#address", "大垣市小野4-35-10").await;
    b.fill("#default_capacity", "16").await;
    b.click("#venue-form button[type=submit]").await;
    b.sees("開館時間を保存する").await;
    let venue = b
        .path()
        .await
        .trim_start_matches("/admin/venues/")
        .to_owned();
    let stored = app
        .get_ok(&format!("/api/v1/venues/{venue}"), &app.admin_token)
        .await;
    assert_eq!(stored["default_capacity"], 16);
    set_checked(&b, "#follow", false).await;
    for d in 0..7 {
        set_checked(&b, &format!("#open_{d}"), d == 0).await;
    }
    set_date(&b, "opens_0", "10:00").await;
    set_date(&b, "closes_0", "15:00").await;
    b.click("#hours-form button[type=submit]").await;
    b.sees("開館時間を保存しました：月 10:00〜15:00").await;
    b.screenshot("admin-venue").await;
    let hours = app
        .get_ok(
            &format!("/api/v1/venues/{venue}/opening-hours"),
            &app.admin_token,
        )
        .await;
    assert_eq!(hours["own"], true);
    assert_eq!(
        hours["hours"],
        json!([{"weekday": "monday", "opens": "10:00:00", "closes": "15:00:00"}])
    );
    // Closing before opening is refused in words and changes nothing.
    set_date(&b, "closes_0", "09:00").await;
    b.click("#hours-form button[type=submit]").await;
    b.sees("月曜日の閉館は、開館より後にしてください").await;
    let unchanged = app
        .get_ok(
            &format!("/api/v1/venues/{venue}/opening-hours"),
            &app.admin_token,
        )
        .await;
    assert_eq!(unchanged, hours);

    // A course for residents of 65 and over in two districts, with topics.
    b.go("/admin/courses").await;
    b.fill("#title", "はじめてのLINE").await;
    b.fill("#default_fee_yen", "300").await;
    b.fill("#default_length_minutes", "90").await;
    b.click("input[name=topics][value=line_and_social]").await;
    b.fill("#min_age", "abc").await;
    b.click("#course-form button[type=submit]").await;
    b.sees("対象年齢（何歳から）：数字で書いてください").await;
    let none = app.get_ok("/api/v1/courses", &app.admin_token).await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0, "nothing saved");
    b.fill("#min_age", "65").await;
    b.fill("#districts", "北区\n南区").await;
    b.click("#course-form button[type=submit]").await;
    b.sees("65歳以上・北区、南区にお住まい").await;
    b.screenshot("admin-course").await;
    let course = b
        .path()
        .await
        .trim_start_matches("/admin/courses/")
        .to_owned();
    let stored = app
        .get_ok(&format!("/api/v1/courses/{course}"), &app.admin_token)
        .await;
    assert_eq!(stored["topics"], json!(["line_and_social"]));
    assert_eq!(stored["eligibility"]["min_age"], 65);
    assert_eq!(stored["eligibility"]["districts"], json!(["北区", "南区"]));
    assert_eq!(stored["default_fee_yen"], 300);
    // Raising the age keeps the topics.
    b.fill("#min_age", "70").await;
    b.click("#course-form button[type=submit]").await;
    b.sees("対象：70歳以上").await;
    let stored = app
        .get_ok(&format!("/api/v1/courses/{course}"), &app.admin_token)
        .await;
    assert_eq!(stored["topics"], json!(["line_and_social"]));
    b.go("/admin/courses").await;
    b.sees("LINE・SNS").await;
    b.screenshot("admin-courses").await;

    // A closure over a day that already has a session: the session is
    // named and left alone; removing the closure asks first.
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(10);
    let session = app
        .post_ok(
            "/api/v1/sessions",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "date": day, "start_time": "10:00"}),
            201,
        )
        .await;
    b.go("/admin/closures").await;
    b.fill("#reason", "館内点検").await;
    set_date(&b, "start_date", &day.to_string()).await;
    b.click("#closure-form button[type=submit]").await;
    b.sees("休館日を追加しました").await;
    b.sees("はじめてのLINE（大垣市情報工房）").await;
    let still = app
        .get_ok(
            &format!("/api/v1/sessions/{}", session["id"].as_str().unwrap()),
            &app.admin_token,
        )
        .await;
    assert_eq!(still["status"], "scheduled", "not cancelled by the closure");
    b.go("/admin/closures").await;
    b.sees("館内点検").await;
    b.screenshot("admin-closures").await;
    b.click("button[hx-post$='/delete']").await;
    confirm(&b).await;
    b.sees("これからの休館日はありません").await;
    let closures = app.get_ok("/api/v1/closures", &app.admin_token).await;
    assert_eq!(closures.as_array().unwrap().len(), 0);

    // Loaner devices with their states.
    b.go("/admin/devices").await;
    for tag in ["P-01", "P-02"] {
        b.fill("#asset_tag", tag).await;
        b.fill("#model", "AQUOS wish").await;
        b.fill("#os", "android").await;
        b.click("#device-form button[type=submit]").await;
        b.sees(tag).await;
    }
    b.fill("#asset_tag", "P-01").await;
    b.fill("#model", "AQUOS wish").await;
    b.fill("#os", "android").await;
    b.click("#device-form button[type=submit]").await;
    b.sees("この管理番号は、もう使われています").await;
    b.sees("利用できる 2台").await;
    let row = "#device-P-02";
    b.find(&format!("{row} select"))
        .await
        .select_by_value("maintenance")
        .await
        .unwrap();
    b.fill(&format!("{row} input[name=note]"), "画面にひび")
        .await;
    b.click(&format!("{row} button")).await;
    b.sees("P-02を「点検中」にしました").await;
    let devices = app
        .get_ok("/api/v1/devices?status=maintenance", &app.admin_token)
        .await;
    assert_eq!(devices["items"].as_array().unwrap().len(), 1);
    assert_eq!(devices["items"][0]["asset_tag"], "P-02");
    b.go("/admin/devices").await;
    b.sees("点検中 1台").await;
    b.screenshot("admin-devices").await;

    // A new colleague with a one-time password and a home venue; then
    // deactivated, after a confirmation.
    b.go("/admin/staff").await;
    b.fill("#new-name", "田中 一郎").await;
    b.fill("#new-email", "tanaka@kita.example").await;
    select(&b, "#new-role", "volunteer").await;
    select(&b, "#new-venue", &venue).await;
    b.click("#staff-form button[type=submit]").await;
    b.sees("田中 一郎 さんを追加しました").await;
    let password: String = b
        .find("#temporary-password")
        .await
        .text()
        .await
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(password.len(), 20);
    let list = app.get_ok("/api/v1/staff?q=tanaka", &app.admin_token).await;
    let tanaka = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == "tanaka@kita.example")
        .unwrap()
        .clone();
    assert_eq!(tanaka["venue_id"], json!(venue));
    assert_eq!(tanaka["must_change_password"], true);
    let login = app.login("tanaka@kita.example", &password).await;
    assert_eq!(login.status(), 200, "the one-time password works");
    b.go("/admin/staff").await;
    b.sees("田中 一郎").await;
    b.screenshot("admin-staff").await;
    let id = tanaka["id"].as_str().unwrap();
    b.click(&format!("#deactivate-{id}")).await;
    confirm(&b).await;
    b.find(&format!("#reactivate-{id}")).await;
    let after = app
        .get_ok(&format!("/api/v1/staff/{id}"), &app.admin_token)
        .await;
    assert_eq!(after["active"], false);
    let refused = app.login("tanaka@kita.example", &password).await;
    assert_eq!(refused.status(), 401);
    b.close().await;
}

async fn a_series_edit_reports_what_moved_and_what_stayed_for_the_booked(db: Db) {
    use chrono::{Datelike, Weekday};
    let app = spawn_app(db).await;
    let (venue, course) = app.venue_and_course().await;
    let mut first = chrono::Utc::now().date_naive() + chrono::Duration::days(3);
    while first.weekday() != Weekday::Tue {
        first += chrono::Duration::days(1);
    }
    let saved = app
        .post_ok(
            "/api/v1/series",
            &app.admin_token,
            &json!({"course_id": course, "venue_id": venue, "rrule": "FREQ=WEEKLY;BYDAY=TU",
                    "starts_on": first, "count": 3, "start_time": "14:00", "end_time": "16:00",
                    "skip_public_holidays": false, "skip_closures": false}),
            201,
        )
        .await;
    let series = saved["series"]["id"].as_str().unwrap().to_owned();
    let sessions: Vec<String> = saved["sessions"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sessions.len(), 3);
    let resident = resident(&app, "山田", "やまだ", "0584-00-0001").await;
    app.book_ok(&sessions[0], &resident).await;

    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 900).await;
    b.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    b.go("/admin/series").await;
    b.sees("毎週火曜日").await;
    b.click(&format!("a[href='/admin/series/{series}/edit']"))
        .await;
    b.sees("くり返しの日程を変える").await;
    assert_eq!(
        b.find("#start_time")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("14:00")
    );
    set_date(&b, "start_time", "15:00").await;
    set_date(&b, "end_time", "17:00").await;
    b.click("#series-form button[type=submit]").await;
    b.sees(&japanese_day(first)).await;
    b.click(&format!(
        "#series-form button[hx-post='/admin/series/{series}']"
    ))
    .await;
    let text = b.sees("時間を移した回").await;
    assert!(text.contains("予約があるため、そのままにした回"), "{text}");
    let moved = b.find("ul.moved").await.text().await.unwrap();
    assert_eq!(moved.lines().count(), 2, "{moved}");
    assert!(
        moved.contains("14:00〜16:00 →") && moved.contains("15:00〜17:00"),
        "{moved}"
    );
    let kept = b.find("ul.kept").await.text().await.unwrap();
    assert!(kept.contains(&japanese_day(first)), "{kept}");
    assert!(kept.contains("14:00〜16:00（予約 1人"), "{kept}");
    b.screenshot("series-edit-report").await;
    // The booked session did not move; the others did.
    let booked = app
        .get_ok(
            &format!("/api/v1/sessions/{}", sessions[0]),
            &app.admin_token,
        )
        .await;
    assert_eq!(booked["local"]["start_time"], "14:00:00");
    let other = app
        .get_ok(
            &format!("/api/v1/sessions/{}", sessions[1]),
            &app.admin_token,
        )
        .await;
    assert_eq!(other["local"]["start_time"], "15:00:00");
    b.close().await;
}

async fn the_office_gives_tickets_to_colleagues_and_merges_duplicates(db: Db) {
    let app = spawn_app(db).await;
    let venue = app
        .post_ok(
            "/api/v1/venues",
            &app.admin_token,
            &json!({"name": "ソフトピア", "default_capacity": 20}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let colleague = app.create_staff("sato@kita.example", "volunteer").await;
    let colleague_id = colleague["id"].as_str().unwrap().to_owned();
    let ticket = |subject: &'static str, venue: Option<&str>| {
        let mut body =
            json!({"channel": "phone", "category": "photos_printing", "subject": subject});
        if let Some(v) = venue {
            body["venue_id"] = json!(v);
        }
        body
    };
    let first = app
        .post_ok(
            "/api/v1/tickets",
            &app.admin_token,
            &ticket("写真を印刷したい", Some(&venue)),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = app
        .post_ok(
            "/api/v1/tickets",
            &app.admin_token,
            &ticket("写真の印刷（2回目の電話）", None),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 900).await;
    b.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    // "My venue" asks for a venue first; with one, it shows that venue's.
    b.go("/counter").await;
    select(&b, "#view", "venue").await;
    b.sees("担当会場が決まっていません").await;
    let me = app.get_ok("/api/v1/me", &app.admin_token).await;
    app.patch(
        &format!("/api/v1/staff/{}", me["id"].as_str().unwrap()),
        &app.admin_token,
        &json!({"venue_id": venue}),
    )
    .await;
    b.go("/counter").await;
    b.sees("担当会場 1件").await;
    select(&b, "#view", "venue").await;
    b.sees("この表示で 1件").await;
    b.sees("写真を印刷したい").await;

    // Given to a colleague: the ticket says who has it.
    b.go(&format!("/tickets/{first}")).await;
    select(&b, "#assignee", &colleague_id).await;
    b.click("form[hx-post$='/assign'] button").await;
    state_is(&b, "担当決定").await;
    let given = app
        .get_ok(&format!("/api/v1/tickets/{first}"), &app.admin_token)
        .await;
    assert_eq!(given["assignee_id"], json!(colleague_id));

    // The second call is merged into the first, after a confirmation.
    b.go(&format!("/tickets/{again}")).await;
    select(&b, "#into", &first).await;
    b.click("form[hx-post$='/merge'] button").await;
    confirm(&b).await;
    b.sees("写真を印刷したい").await;
    assert_eq!(b.path().await, format!("/tickets/{first}"));
    let merged = app
        .get_ok(&format!("/api/v1/tickets/{again}"), &app.admin_token)
        .await;
    assert_eq!(merged["merged_into"], json!(first));

    // A volunteer is offered neither, and the server refuses a merge.
    let (_, token) = app.staff_with_token("vol@kita.example", "volunteer").await;
    let res = app
        .post(
            &format!("/api/v1/tickets/{first}/merge"),
            &token,
            &json!({"into_id": again}),
        )
        .await;
    assert_eq!(res.status(), 403);
    b.close().await;
}

/// A soak, not a test of the suite (`#[ignore]`): the board left open for
/// `BOARD_SOAK_MINUTES` (default 10) while numbers are called every 10 s;
/// prints the page's JS heap after a garbage collection, its element count
/// and the server process's resident memory each minute, and fails if the
/// heap or the page grew. Run with
/// `BOARD_SOAK_MINUTES=30 cargo test --test api board_soak -- --ignored --nocapture`;
/// results in docs/benchmarks.md.
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn board_soak() {
    let app = spawn_app(Db::Sqlite).await;
    let minutes: u64 = std::env::var("BOARD_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10);
    let venue = app
        .post_ok(
            "/api/v1/venues",
            &app.admin_token,
            &json!({"name": "ソフトピア", "default_capacity": 20}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = madoguchi::auth::tokens::generate();
    {
        let mut conn = app.pool.get().unwrap();
        madoguchi::tickets::queries::set_board_link(
            &mut conn,
            app.org_id,
            madoguchi::db::VenueId(venue.parse().unwrap()),
            &madoguchi::auth::tokens::digest(&secret),
        )
        .unwrap();
    }
    let port = chromedriver();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--enable-precise-memory-info", "--js-flags=--expose-gc", "--window-size=1920,1080"]}),
    );
    let client = ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    client
        .goto(&format!("{}/board/{venue}?token={secret}", app.address))
        .await
        .unwrap();
    let rss = || {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("VmRSS"))
            .map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
    };
    let mut samples = Vec::new();
    let started = std::time::Instant::now();
    let mut tick = 0u64;
    let mut token = app.admin_token.clone();
    while started.elapsed() < Duration::from_secs(minutes * 60) {
        if tick > 0 && tick.is_multiple_of(60) {
            // Access tokens last 15 minutes: log in again every ten.
            token = app.login_ok(&app.admin_email, ADMIN_PASSWORD).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
        }
        let t = app
            .post_ok(
                "/api/v1/tickets",
                &token,
                &json!({"channel": "face_to_face", "category": "smartphone", "subject": "相談", "venue_id": venue}),
                201,
            )
            .await;
        if tick > 0 {
            app.post(
                &format!("/api/v1/tickets/{}/call", t["id"].as_str().unwrap()),
                &app.admin_token,
                &json!({}),
            )
            .await;
        }
        tick += 1;
        if tick.is_multiple_of(6) {
            let v = client
                .execute(
                    "window.gc && window.gc(); return [performance.memory.usedJSHeapSize, document.getElementsByTagName('*').length];",
                    vec![],
                )
                .await
                .unwrap();
            let heap = v[0].as_u64().unwrap();
            let nodes = v[1].as_u64().unwrap();
            println!(
                "minute {:>3}: heap {:>8} bytes, {:>4} elements, server RSS {:>7} kB",
                tick / 6,
                heap,
                nodes,
                rss()
            );
            samples.push((heap, nodes));
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    client.close().await.ok();
    let (first_heap, _) = samples[0];
    let (last_heap, last_nodes) = *samples.last().unwrap();
    let max_nodes = samples.iter().map(|s| s.1).max().unwrap();
    assert!(
        last_heap < first_heap * 3 / 2,
        "the board's heap grew: {samples:?}"
    );
    assert!(max_nodes <= last_nodes + 50, "the page grew: {samples:?}");
}

async fn everything_held_about_a_resident_prints_on_one_page(db: Db) {
    let app = spawn_app(db).await;
    let session = app.session_ok(10, json!({})).await;
    let who = resident(&app, "山田", "やまだ", "0584-00-0001").await;
    app.book_ok(&session, &who).await;
    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 900).await;
    b.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    b.go(&format!("/residents/{who}")).await;
    b.click(&format!("a[href='/residents/{who}/data']")).await;
    let text = b.sees("保有している個人情報：山田 花子").await;
    assert!(text.contains("予約と出席（1件）"), "{text}");
    assert!(text.contains("0584000001"), "{text}");
    b.screenshot("resident-data").await;
    let audit = app
        .get_ok("/api/v1/audit?action=resident.export", &app.admin_token)
        .await;
    assert_eq!(
        audit["items"].as_array().unwrap().len(),
        1,
        "the page is an audited export"
    );
    b.close().await;
}

/// A console session cookie (`madoguchi_session=…`) for plain HTTP checks.
async fn console_cookie(app: &TestApp, email: &str, password: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .post(app.url("/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("madoguchi_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn the_report_page_draws_charts_and_hands_over_excel_files(db: Db) {
    let app = spawn_app(db).await;
    let session = app.session_ok(10, json!({})).await;
    let a = resident(&app, "山田", "やまだ", "0584-00-0001").await;
    let b_ = resident(&app, "佐藤", "さとう", "0584-00-0002").await;
    let ba = app.book_ok(&session, &a).await;
    app.book_ok(&session, &b_).await;
    app.set_session_start(&session, chrono::Duration::minutes(-60));
    app.post_ok(
        &format!("/api/v1/sessions/{session}/attendance"),
        &app.admin_token,
        &json!({"marks": [{"booking_id": ba["id"], "attendance": "present"}]}),
        200,
    )
    .await;
    app.post_ok(
        &format!("/api/v1/sessions/{session}/close"),
        &app.admin_token,
        &json!({}),
        200,
    )
    .await;
    app.post_ok(
        "/api/v1/tickets",
        &app.admin_token,
        &json!({"channel": "phone", "category": "photos_printing", "subject": "写真"}),
        201,
    )
    .await;
    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 900).await;
    b.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    b.go("/admin").await;
    b.click("a[href='/admin/reports']").await;
    let text = b.sees("実施状況の報告").await;
    assert!(text.contains("1人（はじめて 1人）"), "{text}");
    assert!(text.contains("50.0%"), "one of two came: {text}");
    let charts = b.client.find_all(Locator::Css("svg.chart")).await.unwrap();
    assert_eq!(charts.len(), 3);
    let category = b
        .find("svg.chart[aria-label='分類ごとの相談']")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        category.contains("写真・印刷") && category.contains("1件"),
        "{category}"
    );
    b.client
        .execute(
            "document.querySelector('.charts').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    b.screenshot("report").await;
    b.close().await;
    // The same tables as files, from the console session.
    let cookie = console_cookie(&app, &app.admin_email, ADMIN_PASSWORD).await;
    let xlsx = app
        .client
        .get(app.url("/admin/reports/file?format=xlsx"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");
    let csv = app
        .client
        .get(app.url("/admin/reports/file?format=csv"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let bytes = csv.bytes().await.unwrap();
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.contains("概要,参加者（実人数）,値,1"), "{text}");
}

async fn a_programme_office_reads_its_members_in_ranges(db: Db) {
    let app = spawn_app(db).await;
    let session = app.session_ok(10, json!({})).await;
    let mut marks = Vec::new();
    for (family, phone) in [("山田", "0584-00-0001"), ("佐藤", "0584-00-0002")] {
        let r = resident(&app, family, "てすと", phone).await;
        let b = app.book_ok(&session, &r).await;
        marks.push(json!({"booking_id": b["id"], "attendance": "present"}));
    }
    app.set_session_start(&session, chrono::Duration::minutes(-60));
    app.post_ok(
        &format!("/api/v1/sessions/{session}/attendance"),
        &app.admin_token,
        &json!({"marks": marks}),
        200,
    )
    .await;
    let (_, office_email) =
        crate::helpers::seed_organisation(&app.pool, "県デジタル推進課", "admin@pref.example");
    let office = app.login_ok(&office_email, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let programme = app
        .post_ok(
            "/api/v1/programmes",
            &office,
            &json!({"name": "県デジタル活用支援"}),
            201,
        )
        .await;
    let pid = programme["id"].as_str().unwrap().to_owned();
    app.post_ok(
        &format!("/api/v1/programmes/{pid}/membership"),
        &app.admin_token,
        &json!({}),
        200,
    )
    .await;
    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 900).await;
    b.login_ok(&office_email, ADMIN_PASSWORD).await;
    b.go("/admin").await;
    b.click(&format!("a[href='/programmes/{pid}']")).await;
    let text = b.sees("県デジタル活用支援").await;
    let table = b.find("#members").await.text().await.unwrap();
    assert!(table.contains("1〜4人"), "two people are a range: {table}");
    assert!(
        !text.contains("山田") && !text.contains("スマホ教室"),
        "{text}"
    );
    assert_eq!(
        b.client
            .find_all(Locator::Css("svg.chart"))
            .await
            .unwrap()
            .len(),
        2
    );
    b.screenshot("programme").await;
    b.close().await;
    // A member's admin is not a viewer: refused by the server.
    let cookie = console_cookie(&app, &app.admin_email, ADMIN_PASSWORD).await;
    let refused = app
        .client
        .get(app.url(&format!("/programmes/{pid}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

async fn booking_someone_who_often_misses_warns_with_the_dates_and_books(db: Db) {
    let app = spawn_app(db).await;
    let often = resident(&app, "山田", "やまだ", "0584-00-0001").await;
    let once = resident(&app, "佐藤", "さとう", "0584-00-0002").await;
    // 山田 misses two sessions, 佐藤 one.
    for who in [vec![&often, &once], vec![&often]] {
        let s = app.session_ok(10, json!({})).await;
        for r in who {
            app.book_ok(&s, r).await;
        }
        app.set_session_start(&s, chrono::Duration::minutes(-90));
        app.post_ok(
            &format!("/api/v1/sessions/{s}/close"),
            &app.admin_token,
            &json!({}),
            200,
        )
        .await;
    }
    let next = app.session_ok(10, json!({})).await;
    let booked = app.book_ok(&next, &often).await;
    assert_eq!(booked["status"], "confirmed", "a warning, never a refusal");
    assert_eq!(booked["warnings"][0]["code"], "recent_no_shows");
    assert_eq!(booked["warnings"][0]["dates"].as_array().unwrap().len(), 2);
    let fine = app.book_ok(&next, &once).await;
    assert!(
        fine.get("warnings").is_none(),
        "one no-show is below the threshold: {fine}"
    );
    // The phone desk sees it before booking.
    let cookie = console_cookie(&app, &app.admin_email, ADMIN_PASSWORD).await;
    let page = app
        .client
        .get(app.url(&format!("/residents/{often}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("最近6か月に2回、無断欠席があります"),
        "{page}"
    );
    let calm = app
        .client
        .get(app.url(&format!("/residents/{once}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!calm.contains("no-show-warning"));
}

async fn the_office_draws_a_lottery_shows_why_and_answers_a_held_seat(db: Db) {
    let app = spawn_app(db).await;
    let draw_at = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let s = app
        .session_ok(
            2,
            json!({"allocation": "lottery", "draw_at": draw_at, "offer_hours": 24}),
        )
        .await;
    let mut people = Vec::new();
    for (i, (family, kana)) in [
        ("山田", "やまだ"),
        ("佐藤", "さとう"),
        ("鈴木", "すずき"),
        ("田中", "たなか"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = resident(&app, family, kana, &format!("0584-00-000{i}")).await;
        assert_eq!(app.book_ok(&s, &r).await["status"], "applied");
        people.push(r);
    }
    let _turn = turn().await;
    let b = Browser::open(&app, 1366, 900).await;
    b.login_ok(&app.admin_email, ADMIN_PASSWORD).await;
    // The list says it is a lottery, and the page what happens next.
    b.go("/sessions").await;
    b.sees("抽選（申込 4人").await;
    b.click(&format!("a[href='/sessions/{s}/draw']")).await;
    let text = b.sees("抽選前です。申込み 4人、定員 2人").await;
    assert!(
        text.contains("締切までは電話や窓口で申込みを受け付けます"),
        "{text}"
    );
    assert!(
        !text.contains("いま抽選する"),
        "not while applications are open"
    );
    // Applications close; the coordinator draws at the public drawing.
    app.post_ok(
        &format!("/api/v1/sessions/{s}/allocation"),
        &app.admin_token,
        &json!({"applications_close_at": (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339()}),
        200,
    )
    .await;
    b.go(&format!("/sessions/{s}/draw")).await;
    b.click("button.big").await;
    confirm(&b).await;
    let text = b.sees("手動で抽選しました").await;
    assert!(text.contains("同じ順番になることを確かめました"), "{text}");
    assert_eq!(text.matches("当選").count(), 2, "{text}");
    assert!(text.contains("キャンセル待ち"), "{text}");
    b.screenshot("lottery-draw").await;
    let record = app
        .get_ok(&format!("/api/v1/sessions/{s}/draw"), &app.admin_token)
        .await;
    let rows = b.find("#draw-entries tbody").await.text().await.unwrap();
    let first = record["entries"][0]["resident"]["name"].as_str().unwrap();
    assert!(rows.starts_with(&format!("1 {first}")), "{rows}");
    // A winner cancels: the seat is held for the first waiting, whose page
    // offers the answer; the coordinator records a yes.
    let winner = record["entries"][0]["booking_id"].as_str().unwrap();
    let waiting = record["entries"][2]["resident"]["id"].as_str().unwrap();
    app.post_ok(
        &format!("/api/v1/bookings/{winner}/cancel"),
        &app.admin_token,
        &json!({"reason": "入院"}),
        200,
    )
    .await;
    b.go(&format!("/residents/{waiting}")).await;
    let text = b.sees("までお取り置きしています").await;
    assert!(text.contains("席を取り置き中"), "{text}");
    b.client
        .execute(
            "document.querySelector(\"button[hx-post$='accept-offer']\").scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .unwrap();
    b.screenshot("held-seat").await;
    b.click("button.big[hx-post$='accept-offer']").await;
    b.sees("予約が確定しました").await;
    let offered = record["entries"][2]["booking_id"].as_str().unwrap();
    let now = app
        .get_ok(&format!("/api/v1/bookings/{offered}"), &app.admin_token)
        .await;
    assert_eq!(now["status"], "confirmed");
    b.close().await;
}

db_tests!(
    the_office_draws_a_lottery_shows_why_and_answers_a_held_seat,
    booking_someone_who_often_misses_warns_with_the_dates_and_books,
    a_programme_office_reads_its_members_in_ranges,
    the_report_page_draws_charts_and_hands_over_excel_files,
    everything_held_about_a_resident_prints_on_one_page,
    the_office_sets_up_venues_courses_closures_devices_and_staff,
    a_series_edit_reports_what_moved_and_what_stayed_for_the_booked,
    the_office_gives_tickets_to_colleagues_and_merges_duplicates,
    a_new_colleague_logs_in_and_chooses_a_password,
    the_phone_desk_finds_registers_books_and_cancels,
    the_tablet_marks_attendance_and_closes_only_after_the_start,
    a_forged_form_without_the_csrf_token_is_refused,
    the_counter_numbers_visitors_calls_them_and_works_a_ticket,
    administration_is_for_the_office_and_previews_a_series,
);
