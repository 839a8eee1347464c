//! `GET /api/v1/locate`: the grid, community, street and worker on duty for a pin.

use super::{ApiError, AppState};
use crate::spatial::crs::{Crs, to_wgs84};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use geo_types::Coord;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Largest snapping distance accepted, metres.
pub const MAX_SNAP_M: f64 = 5_000.0;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/locate", get(locate))
}

fn number(q: &HashMap<String, String>, name: &str) -> Result<Option<f64>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_parameter",
                    format!("{name}={s:?} is not a finite number"),
                )
            }),
    }
}

/// Locate a pin: its grid, community, street and the worker on duty.
#[utoipa::path(get, path = "/api/v1/locate", tag = "locate",
    params(
        ("lon" = f64, Query, description = "Longitude, degrees"),
        ("lat" = f64, Query, description = "Latitude, degrees"),
        ("crs" = Option<String>, Query, description = "wgs84 (default), gcj02 or bd09"),
        ("snap_m" = Option<f64>, Query, description = "Snap to the nearest grid within this many metres (0–5000)"),
    ),
    responses(
        (status = 200, description = "The owning grid", body = Object),
        (status = 400, description = "Bad parameters", body = Object, description = "{\"error\": {\"code\", \"message\", \"details\"}}"),
        (status = 404, description = "Outside coverage; the district queue owns it", body = Object, description = "{\"error\": {\"code\", \"message\", \"details\"}}"),
    ))]
pub(crate) async fn locate(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let lon = number(&q, "lon")?
        .ok_or_else(|| ApiError::bad_request("missing_parameter", "lon is required"))?;
    let lat = number(&q, "lat")?
        .ok_or_else(|| ApiError::bad_request("missing_parameter", "lat is required"))?;
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(ApiError::bad_request(
            "out_of_range",
            format!(
                "lon={lon}, lat={lat} is not a WGS84/GCJ-02/BD-09 position (lon −180..180, lat −90..90)"
            ),
        ));
    }
    let crs: Crs = match q.get("crs") {
        None => Crs::default(),
        Some(s) => s.parse().map_err(|e: crate::spatial::crs::UnknownCrs| {
            ApiError::bad_request("invalid_parameter", e.to_string())
        })?,
    };
    let snap_m = number(&q, "snap_m")?.unwrap_or(0.0);
    if !(0.0..=MAX_SNAP_M).contains(&snap_m) {
        return Err(ApiError::bad_request(
            "out_of_range",
            format!("snap_m={snap_m} must be between 0 and {MAX_SNAP_M} metres"),
        ));
    }
    let (x, y) = to_wgs84(crs, lon, lat);
    let live = state.0.live.load();
    let input = json!({"lon": lon, "lat": lat, "crs": crs.to_string()});
    let Some(hit) = live.locator.locate_or_snap(Coord { x, y }, snap_m) else {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "outside_coverage",
            format!("{lon},{lat} ({crs}) is outside every grid of the published layer; it goes to the district queue"),
        )
        .with_details(json!({
            "input": input,
            "wgs84": [x, y],
            "layer": live.layer_id,
            "fallback_owner": {"kind": "district_queue", "name": "市民诉求服务中心 (citizen-appeal service center)"},
        })));
    };
    let g = &live.layer.grids[hit.index];
    let refs = state.0.refs.load();
    let prop = |k: &str| g.properties.get(k).cloned().unwrap_or(Value::Null);
    let unit = |code: &Value| {
        code.as_str()
            .and_then(|c| refs.unit_by_code.get(c))
            .map(|u| json!({"code": u["code"], "name": u["name"]}))
            .unwrap_or(Value::Null)
    };
    let now_s = super::now_s();
    let community = prop("community");
    let (worker, duty) = refs.on_duty(&g.key, community.as_str().unwrap_or_default(), now_s);
    let worker = worker
        .map(|w| json!({"id": w["id"], "name": w["name"], "phone": w["phone"], "role": w["role"], "duty": duty}))
        .unwrap_or(Value::Null);
    Ok(Json(json!({
        "grid": {"key": g.key, "name": prop("name"), "kind": prop("kind")},
        "community": unit(&community),
        "street": unit(&prop("street")),
        "worker": worker,
        "snapped_m": hit.snapped_m,
        "input": input,
        "wgs84": [x, y],
        "layer": live.layer_id,
    })))
}
