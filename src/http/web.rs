//! The pages, served by the binary itself: their own code from `web/pages` and `web/src`, and
//! the third-party libraries installed from `web/package-lock.json` (MapLibre GL JS, ECharts),
//! all embedded at build time, so the service runs from any directory and no page loads
//! anything from another origin. Every answer carries a strict Content-Security-Policy (no
//! inline script, nothing from outside), `X-Content-Type-Options: nosniff`, `Referrer-Policy:
//! no-referrer` and `frame-ancestors 'none'`.

use super::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "web/pages/"]
struct Pages;

#[derive(Embed)]
#[folder = "web/src/"]
struct Own;

#[derive(Embed)]
#[folder = "web/node_modules/maplibre-gl/dist/"]
#[include = "maplibre-gl.mjs"]
#[include = "maplibre-gl-shared.mjs"]
#[include = "maplibre-gl-worker.mjs"]
#[include = "maplibre-gl.css"]
struct MapLibre;

/// terra-draw and its MapLibre adapter, as UMD scripts (globals `terraDraw` and
/// `terraDrawMaplibreGlAdapter`): the adapter's module build imports `terra-draw` by a bare
/// name, which a page could only resolve with an inline import map.
#[derive(Embed)]
#[folder = "web/node_modules/"]
#[include = "terra-draw/dist/terra-draw.umd.js"]
#[include = "terra-draw-maplibre-gl-adapter/dist/terra-draw-maplibre-gl-adapter.umd.js"]
struct TerraDraw;

#[derive(Embed)]
#[folder = "web/node_modules/echarts/dist/"]
#[include = "echarts.esm.min.mjs"]
struct ECharts;

/// The Content-Security-Policy of every page and asset: this origin only, no inline script,
/// workers from this origin (MapLibre's), images also as data: and blob: URLs (map sprites).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; worker-src 'self' blob:; connect-src 'self'; font-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// An embedded file with the security headers, or 404.
fn serve(file: Option<rust_embed::EmbeddedFile>, name: &str) -> Response {
    let Some(f) = file else {
        return super::error::ApiError::not_found(format!("no file {name}")).into_response();
    };
    let mut r = (StatusCode::OK, f.data.into_owned()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    secure(h);
    r
}

/// The security headers every page answer carries.
pub fn secure(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

async fn page(name: &'static str) -> Response {
    serve(Pages::get(name), name)
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| page("report.html")))
        .route("/login", get(|| page("login.html")))
        .route("/track/{token}", get(|| page("track.html")))
        .route("/dispatch", get(|| page("dispatch.html")))
        .route("/worker", get(|| page("worker.html")))
        .route("/planner", get(|| page("planner.html")))
        .route("/dashboard", get(|| page("dashboard.html")))
        .route(
            "/assets/{file}",
            get(|Path(f): Path<String>| async move { serve(Own::get(&f), &f) }),
        )
        .route(
            "/vendor/maplibre-gl/{file}",
            get(|Path(f): Path<String>| async move { serve(MapLibre::get(&f), &f) }),
        )
        .route(
            "/vendor/terra-draw/{file}",
            get(|Path(f): Path<String>| async move {
                let path = match f.as_str() {
                    "terra-draw.umd.js" => "terra-draw/dist/terra-draw.umd.js",
                    "terra-draw-maplibre-gl-adapter.umd.js" => {
                        "terra-draw-maplibre-gl-adapter/dist/terra-draw-maplibre-gl-adapter.umd.js"
                    }
                    _ => "",
                };
                serve(TerraDraw::get(path), &f)
            }),
        )
        .route(
            "/vendor/echarts/{file}",
            get(|Path(f): Path<String>| async move { serve(ECharts::get(&f), &f) }),
        )
}
