//! The pages as the server serves them (the browser tests drive them): every page and asset
//! comes from the binary itself with a strict Content-Security-Policy, no page has an inline
//! script, and everything a page loads is on this origin and exists.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

mod common;
use common::api::{Db, start};

async fn get(
    state: &tessera::http::AppState,
    uri: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = tessera::http::app(state.clone())
        .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let h = resp.headers().clone();
    let b = resp.into_body().collect().await.unwrap().to_bytes();
    (status, h, String::from_utf8_lossy(&b).to_string())
}

/// The values of `attr="…"` in `html`.
fn attrs<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|j| &rest[..j])
        })
        .collect()
}

#[tokio::test]
async fn pages_and_assets_come_from_this_origin_under_a_strict_policy() {
    let db = Db::Sqlite(tempfile::tempdir().unwrap());
    let state = start(&db).await;
    for page in [
        "/",
        "/login",
        "/track/abc",
        "/dispatch",
        "/worker",
        "/planner",
        "/dashboard",
    ] {
        let (s, h, html) = get(&state, page).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
        let csp = h["content-security-policy"].to_str().unwrap();
        for d in [
            "default-src 'self'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(d), "{page}: {csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("http"),
            "{csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        // Every script is a file; nothing is loaded from another origin.
        assert_eq!(
            html.matches("<script").count(),
            attrs(&html, "src").len(),
            "{page}"
        );
        for url in attrs(&html, "src").into_iter().chain(attrs(&html, "href")) {
            assert!(
                url.starts_with('/') || url == "#" || url == "data:,",
                "{page} loads {url}"
            );
            if url.starts_with('/') {
                let (s, h, _) = get(&state, url).await;
                assert_eq!(s, StatusCode::OK, "{page} needs {url}");
                assert!(h.contains_key("content-security-policy"), "{url}");
            }
        }
    }
    // The map library, as an ES module, with the worker it starts.
    for (f, ct) in [
        (
            "/vendor/maplibre-gl/maplibre-gl.mjs",
            "text/javascript; charset=utf-8",
        ),
        (
            "/vendor/maplibre-gl/maplibre-gl-worker.mjs",
            "text/javascript; charset=utf-8",
        ),
        (
            "/vendor/maplibre-gl/maplibre-gl.css",
            "text/css; charset=utf-8",
        ),
        (
            "/vendor/echarts/echarts.esm.min.mjs",
            "text/javascript; charset=utf-8",
        ),
        (
            "/vendor/terra-draw/terra-draw.umd.js",
            "text/javascript; charset=utf-8",
        ),
        (
            "/vendor/terra-draw/terra-draw-maplibre-gl-adapter.umd.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let (s, h, body) = get(&state, f).await;
        assert_eq!(
            (s, h["content-type"].to_str().unwrap()),
            (StatusCode::OK, ct),
            "{f}"
        );
        assert!(body.len() > 2_000, "{f}");
    }
    // The pages' own modules import only from this origin.
    for f in [
        "report.js",
        "login.js",
        "track.js",
        "i18n.js",
        "staff.js",
        "map.js",
        "geometry.js",
        "dispatch.js",
        "worker.js",
        "planner.js",
        "dashboard.js",
    ] {
        let (s, _, js) = get(&state, &format!("/assets/{f}")).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        for line in js.lines().filter(|l| l.starts_with("import ")) {
            assert!(line.contains("from '/"), "{f}: {line}");
        }
        assert!(
            !js.contains("http://") && !js.contains("https://"),
            "{f} names an outside address"
        );
    }
    let (s, _, _) = get(&state, "/assets/nothing.js").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = get(&state, "/vendor/maplibre-gl/maplibre-gl-dev.mjs").await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "only the listed library files are served"
    );
}

#[tokio::test]
async fn a_configured_basemap_is_offered_to_the_maps_and_allowed_by_the_policy() {
    let db = Db::Sqlite(tempfile::tempdir().unwrap());
    let state = start(&db).await;
    let (_, _, none) = get(&state, "/api/v1/map-config").await;
    assert_eq!(none, r#"{"basemap_style":null}"#);
    let b = tessera::http::web::Basemap::parse("https://tiles.example.gov.cn/style.json").unwrap();
    state.0.basemap.set(b).unwrap();
    let (_, _, config) = get(&state, "/api/v1/map-config").await;
    assert_eq!(
        config,
        r#"{"basemap_style":"https://tiles.example.gov.cn/style.json"}"#
    );
    let (_, h, _) = get(&state, "/dispatch").await;
    let policy = h["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("connect-src 'self' https://tiles.example.gov.cn;"),
        "{policy}"
    );
    assert!(policy.contains("script-src 'self';"), "{policy}");
}

#[tokio::test]
async fn api_answers_and_errors_carry_the_security_headers_too() {
    let db = Db::Sqlite(tempfile::tempdir().unwrap());
    let state = start(&db).await;
    for uri in ["/api/v1/categories", "/api/v1/nothing-here", "/healthz"] {
        let (_, h, _) = get(&state, uri).await;
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{uri}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'self'"),
            "{uri}"
        );
    }
}
