//! The staff console: server-rendered pages (askama templates under
//! `templates/console/`) with htmx for partial updates, served at `/` by the
//! same binary; the JSON API stays under `/api`. Handlers call the same
//! service functions as the API's; no rule lives here.
//!
//! Sessions: logging in opens an auth session (the same rows the API's
//! tokens belong to) and sets an HttpOnly, SameSite=Strict cookie holding
//! its secret (Secure in production). Every request looks the session up,
//! so logout, deactivation and role changes apply at once. Every state
//! change must carry the session's CSRF token in `X-CSRF-Token` (htmx sends
//! it from `hx-headers` on `<body>`); the login form checks `Origin`. Pages
//! carry a strict Content-Security-Policy (no inline script or style),
//! `X-Frame-Options: DENY` and `Cache-Control: no-store`.

pub mod admin;
pub mod assets;
pub mod auth_pages;
pub mod counter;
pub mod desk;
pub mod lottery;
pub mod reports;
pub mod session;
pub mod setup;
pub mod tablet;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;

pub use session::Staff;

use crate::error::AppError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    admin::configure(cfg);
    assets::configure(cfg);
    auth_pages::configure(cfg);
    counter::configure(cfg);
    desk::configure(cfg);
    lottery::configure(cfg);
    reports::configure(cfg);
    setup::configure(cfg);
    tablet::configure(cfg);
}

/// What the base layout shows of the signed-in person.
pub struct Page {
    pub version: &'static str,
    pub csrf: String,
    pub name: String,
    pub role: &'static str,
    /// Admins and coordinators see the administration menu.
    pub office: bool,
}

impl Page {
    pub fn of(staff: &Staff) -> Page {
        Page {
            version: assets::css_version(),
            csrf: staff.csrf.clone(),
            name: staff.name.clone(),
            office: crate::auth::access::sees_everything(&staff.caller),
            role: match staff.caller.role {
                crate::auth::Role::Admin => "管理者",
                crate::auth::Role::Coordinator => "コーディネーター",
                crate::auth::Role::Instructor => "講師",
                crate::auth::Role::Volunteer => "ボランティア",
            },
        }
    }
}

/// The headers every console page carries.
pub fn secure(mut res: HttpResponse) -> HttpResponse {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Renders a template as a page or fragment.
pub fn html(status: StatusCode, t: impl Template) -> Result<HttpResponse, ConsoleError> {
    let body = t
        .render()
        .map_err(|e| ConsoleError::App(AppError::Internal(anyhow::anyhow!("template: {e}"))))?;
    Ok(secure(
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
    ))
}

#[derive(Template)]
#[template(path = "console/message.html")]
pub struct Message<'a> {
    pub class: &'a str,
    pub text: &'a str,
}

/// A short message fragment (`success`, `notice` or `error`).
pub fn message(class: &str, text: &str) -> Result<HttpResponse, ConsoleError> {
    html(StatusCode::OK, Message { class, text })
}

/// Sends a plain browser (a normal form post, a page) to `to`.
pub fn redirect(to: &str) -> HttpResponse {
    secure(
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, to))
            .finish(),
    )
}

/// Sends the page to `to` after an htmx request (a redirect would be
/// followed inside the request and swapped into the page).
pub fn hx_redirect(to: &str) -> HttpResponse {
    secure(
        HttpResponse::Ok()
            .insert_header(("HX-Redirect", to))
            .content_type("text/html; charset=utf-8")
            .body(format!("<a href=\"{to}\">つづける</a>")),
    )
}

/// Why a console request did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("not signed in")]
    SignIn,
    #[error("the password must be changed first")]
    ChangePassword,
    #[error("the CSRF token is missing or wrong")]
    Csrf,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<diesel::result::Error> for ConsoleError {
    fn from(e: diesel::result::Error) -> Self {
        ConsoleError::App(e.into())
    }
}

/// A client error in words staff understand (Japanese); the API's detail
/// when there is no better wording.
pub fn in_japanese(e: &AppError) -> String {
    let AppError::Client(c) = e else {
        return "うまくいきませんでした。少し待って、もう一度お試しください。".into();
    };
    let said = match c.code {
        "session_full" => "満席です。キャンセル待ちもできません。",
        "already_booked" => "この方は、この日程をもう予約しています。",
        "no_loaner_available" => "貸出スマホに空きがありません。",
        "not_eligible" | "eligibility_unknown" => {
            "この講座の対象ではないか、生まれ年などの記録が足りません。"
        }
        "session_not_started" => "開始前は終了できません。",
        "attendance_not_open" => "出席は、開始30分前から付けられます。",
        "invalid_transition" | "invalid_state" => "この操作は、いまはできません。",
        "booking_not_open" => "この日程は、まだ予約の受付前です。",
        "booking_closed" => "この日程の予約受付は終わりました。",
        "nothing_to_enrol" => "この講座には、これからの日程がありません。",
        "overpayment" => "お支払いいただく額を超えています。",
        "validation_failed" => "入力を確かめてください。",
        "invalid_credentials" => "メールアドレスかパスワードがちがいます。",
        "too_many_attempts" => "失敗が続いたため、しばらくログインできません。",
        "forbidden" | "not_your_session" => "この操作をする権限がありません。",
        "not_found" => "見つかりませんでした。",
        "email_taken" => "このメールアドレスのスタッフは、もういます。",
        "cannot_deactivate_self" => "自分のアカウントは無効にできません。",
        "last_admin" => "最後の管理者です。先に別の方を管理者にしてください。",
        "no_volunteer_on_duty" => "いま当番で、この分類を担当できる方がいません。",
        "asset_tag_taken" => "この管理番号は、もう使われています。",
        _ => "",
    };
    let fields: Vec<String> = c
        .errors
        .iter()
        .map(|f| format!("{}：{}", field_label(&f.field), field_message(&f.message)))
        .collect();
    match (said.is_empty(), fields.is_empty()) {
        (true, _) => c.detail.clone(),
        (false, true) => said.to_owned(),
        (false, false) => format!("{said}（{}）", fields.join("、")),
    }
}

/// The label a form shows for an API field name.
fn field_label(field: &str) -> &str {
    match field {
        "name" => "名前",
        "email" => "メール",
        "password" => "パスワード",
        "default_capacity" | "capacity" => "定員",
        "address" => "住所",
        "room" => "部屋",
        "phone" => "電話番号",
        "online_url" => "オンラインのリンク",
        "title" => "講座名",
        "default_fee_yen" | "fee_yen" => "参加費",
        "default_length_minutes" => "時間（分）",
        "eligibility.min_age" | "min_age" => "対象年齢（何歳から）",
        "eligibility.max_age" | "max_age" => "対象年齢（何歳まで）",
        "topics" => "分野",
        "reason" => "理由",
        "start_date" | "starts_on" => "はじまりの日",
        "end_date" => "おわりの日",
        "start_time" => "開始",
        "end_time" => "終了",
        "weekday" => "曜日",
        "count" => "回数",
        "asset_tag" => "管理番号",
        "model" => "機種",
        "os" => "OS",
        "kind" => "種類",
        "venue_id" | "home_venue_id" => "会場",
        "status" => "状態",
        other if other.ends_with(".closes") => "閉館時刻",
        other if other.ends_with(".weekday") => "曜日",
        other => other,
    }
}

/// A validator's message in Japanese where it is one of the common ones.
fn field_message(message: &str) -> String {
    if message == "is required" || message == "must not be empty" {
        return "入力してください".into();
    }
    if message == "must be after opens" {
        return "開館より後にしてください".into();
    }
    if let Some(range) = message.strip_prefix("must be between ")
        && let Some((low, high)) = range.split_once(" and ")
    {
        return format!(
            "{low}から{}までにしてください",
            high.trim_end_matches(" yen")
        );
    }
    message.to_owned()
}

impl actix_web::ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn | ConsoleError::ChangePassword => StatusCode::SEE_OTHER,
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::App(e) => actix_web::ResponseError::status_code(e),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ConsoleError::SignIn => redirect("/login"),
            ConsoleError::ChangePassword => redirect("/password"),
            ConsoleError::Csrf => secure(
                HttpResponse::Forbidden()
                    .content_type("text/html; charset=utf-8")
                    .body("<p>画面を開きなおしてから、もう一度お試しください（確認用の情報がありません）。</p>"),
            ),
            ConsoleError::App(AppError::Client(c)) if c.status == StatusCode::FORBIDDEN => secure(
                HttpResponse::Forbidden()
                    .content_type("text/html; charset=utf-8")
                    .body("<p class=\"error\" role=\"alert\">この画面を使う権限がありません。</p>"),
            ),
            ConsoleError::App(e @ AppError::Client(_)) => {
                // Shown where the form put its result (htmx swaps 200s):
                // every handler's client errors end here, in Japanese.
                let text = in_japanese(e);
                let body = Message {
                    class: "error",
                    text: &text,
                }
                .render()
                .unwrap_or_default();
                secure(
                    HttpResponse::Ok()
                        .content_type("text/html; charset=utf-8")
                        .body(body),
                )
            }
            ConsoleError::App(e) => {
                tracing::error!(error = %e, "console request failed");
                secure(
                    HttpResponse::InternalServerError()
                        .content_type("text/html; charset=utf-8")
                        .body("<p class=\"error\">うまくいきませんでした。少し待って、もう一度お試しください。</p>"),
                )
            }
        }
    }
}

pub type ConsoleResult = Result<HttpResponse, ConsoleError>;

/// A posted form as name/value pairs, repeated names kept (checkboxes such
/// as a course's topics or a week of opening hours).
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value given for `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The value as typed (blank when absent): for optional text fields an
    /// empty string clears.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// Every non-blank value given for `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A whole number (full-width digits accepted); 422 naming the field.
    pub fn number(&self, name: &str) -> Result<Option<i64>, AppError> {
        match self.get(name) {
            None => Ok(None),
            Some(raw) => {
                let ascii: String = raw
                    .chars()
                    .map(|c| match c {
                        '０'..='９' => {
                            char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c)
                        }
                        _ => c,
                    })
                    .collect();
                ascii
                    .parse()
                    .map(Some)
                    .map_err(|_| AppError::invalid_field(name, "数字で書いてください"))
            }
        }
    }

    /// A `YYYY-MM-DD` date; 422 naming the field.
    pub fn date(&self, name: &str) -> Result<Option<chrono::NaiveDate>, AppError> {
        self.get(name)
            .map(|d| {
                d.parse()
                    .map_err(|_| AppError::invalid_field(name, "日付を選んでください"))
            })
            .transpose()
    }

    /// An `HH:MM` time; 422 naming the field.
    pub fn time(&self, name: &str) -> Result<Option<chrono::NaiveTime>, AppError> {
        self.get(name)
            .map(|t| {
                chrono::NaiveTime::parse_from_str(t, "%H:%M")
                    .or_else(|_| chrono::NaiveTime::parse_from_str(t, "%H:%M:%S"))
                    .map_err(|_| AppError::invalid_field(name, "時刻を選んでください"))
            })
            .transpose()
    }

    /// A UUID (a choice from a list); 422 naming the field.
    pub fn id(&self, name: &str) -> Result<Option<uuid::Uuid>, AppError> {
        self.get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| AppError::invalid_field(name, "一覧から選んでください"))
            })
            .transpose()
    }
}
