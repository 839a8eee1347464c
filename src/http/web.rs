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

/// A basemap style the maps draw under the district's layers (a MapLibre style JSON URL, e.g.
/// a city's own tile server). Its origin is added to the pages' `connect-src` and `img-src`,
/// and to nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basemap {
    /// The style URL, absolute (`https://tiles.example.gov.cn/style.json`) or on this server
    /// (`/tiles/style.json`).
    pub style_url: String,
    /// `scheme://host[:port]` of an absolute URL; `None` for this server.
    pub origin: Option<String>,
}

impl Basemap {
    /// Parses a style URL. Errors name what is wrong: only `http(s)://host/…` or a path on
    /// this server (`/…`) are accepted, with no quote, space or semicolon (it goes into a
    /// Content-Security-Policy).
    pub fn parse(url: &str) -> Result<Basemap, String> {
        if url.is_empty()
            || url
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '\'' | '"' | ';' | ','))
        {
            return Err(format!(
                "basemap style URL {url:?} is empty or has a space, quote, comma or semicolon"
            ));
        }
        if url.starts_with('/') && !url.starts_with("//") {
            return Ok(Basemap {
                style_url: url.to_string(),
                origin: None,
            });
        }
        let rest = url
            .strip_prefix("https://")
            .map(|r| ("https", r))
            .or_else(|| url.strip_prefix("http://").map(|r| ("http", r)));
        match rest {
            Some((scheme, r)) => {
                let host = r.split(['/', '?', '#']).next().unwrap_or_default();
                if host.is_empty() || host.contains('@') {
                    return Err(format!("basemap style URL {url:?} has no host"));
                }
                Ok(Basemap {
                    style_url: url.to_string(),
                    origin: Some(format!("{scheme}://{host}")),
                })
            }
            None => Err(format!(
                "basemap style URL {url:?} must start with http://, https:// or / (a path on this server)"
            )),
        }
    }
}

/// The page policy, with the basemap's origin allowed to be fetched and shown.
pub fn csp(basemap: Option<&Basemap>) -> String {
    match basemap.and_then(|b| b.origin.as_deref()) {
        None => CSP.to_string(),
        Some(o) => CSP
            .replace("connect-src 'self'", &format!("connect-src 'self' {o}"))
            .replace(
                "img-src 'self' data: blob:",
                &format!("img-src 'self' data: blob: {o}"),
            ),
    }
}

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
    serve_with(file, name, None)
}

fn serve_with(
    file: Option<rust_embed::EmbeddedFile>,
    name: &str,
    basemap: Option<&Basemap>,
) -> Response {
    let Some(f) = file else {
        return super::error::ApiError::not_found(format!("no file {name}")).into_response();
    };
    let mut r = (StatusCode::OK, f.data.into_owned()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    secure(h, basemap);
    r
}

/// The security headers every page answer carries.
pub fn secure(h: &mut axum::http::HeaderMap, basemap: Option<&Basemap>) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp(basemap)).unwrap_or(HeaderValue::from_static(CSP)),
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

/// A page, under the policy that lets it load the configured basemap.
fn page(state: &AppState, name: &'static str) -> Response {
    serve_with(Pages::get(name), name, state.0.basemap.get())
}

/// Answer of `GET /api/v1/map-config`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MapConfig {
    /// The basemap style URL the maps draw under the district's layers; null: none.
    pub basemap_style: Option<String>,
}

/// What the maps need to know: the basemap style, if one is configured
/// (`tessera serve --basemap-style`).
#[utoipa::path(get, path = "/api/v1/map-config", tag = "grids",
    responses((status = 200, body = MapConfig)))]
pub(crate) async fn map_config(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<MapConfig> {
    axum::Json(MapConfig {
        basemap_style: state.0.basemap.get().map(|b| b.style_url.clone()),
    })
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    page(&s, "report.html")
                },
            ),
        )
        .route(
            "/login",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    page(&s, "login.html")
                },
            ),
        )
        .route(
            "/track/{token}",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    page(&s, "track.html")
                },
            ),
        )
        .route(
            "/dispatch",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    page(&s, "dispatch.html")
                },
            ),
        )
        .route(
            "/worker",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    page(&s, "worker.html")
                },
            ),
        )
        .route(
            "/planner",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    page(&s, "planner.html")
                },
            ),
        )
        .route(
            "/dashboard",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    page(&s, "dashboard.html")
                },
            ),
        )
        .route("/api/v1/map-config", get(map_config))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_basemap_opens_its_origin_and_nothing_else() {
        let b = Basemap::parse("https://tiles.zibo.gov.cn:8443/styles/basic.json?key=1").unwrap();
        assert_eq!(b.origin.as_deref(), Some("https://tiles.zibo.gov.cn:8443"));
        let p = csp(Some(&b));
        assert!(
            p.contains("connect-src 'self' https://tiles.zibo.gov.cn:8443;"),
            "{p}"
        );
        assert!(p.contains("img-src 'self' data: blob: https://tiles.zibo.gov.cn:8443;"));
        assert!(p.contains("script-src 'self';") && p.contains("default-src 'self';"));
        let local = Basemap::parse("/tiles/style.json").unwrap();
        assert_eq!((local.origin, csp(None)), (None, CSP.to_string()));
        for bad in [
            "",
            "javascript:alert(1)",
            "//evil.example/style.json",
            "https:///style.json",
            "https://a.example/s.json; script-src *",
            "https://user@a.example/s.json",
        ] {
            assert!(Basemap::parse(bad).is_err(), "{bad}");
        }
    }
}
