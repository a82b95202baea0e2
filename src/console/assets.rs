//! The console's static files, inside the binary: the stylesheet (its name
//! carries a hash of its content) and htmx with its licence.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("../../static/console.css");
const HTMX: &str = include_str!("../../static/htmx-2.0.11.min.js");
const HTMX_LICENSE: &str = include_str!("../../static/htmx-LICENSE.txt");

pub fn css_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let digest = Sha256::digest(CSS.as_bytes());
        digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
    })
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{name}", web::get().to(file));
}

fn immutable(content_type: &'static str, body: &'static str) -> HttpResponse {
    let mut res = HttpResponse::Ok().content_type(content_type).body(body);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

async fn file(name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    if name == format!("console-{}.css", css_version()) {
        return immutable("text/css; charset=utf-8", CSS);
    }
    match name.as_str() {
        "htmx-2.0.11.min.js" => immutable("text/javascript; charset=utf-8", HTMX),
        "htmx-LICENSE.txt" => immutable("text/plain; charset=utf-8", HTMX_LICENSE),
        _ => HttpResponse::NotFound().body("not found"),
    }
}
