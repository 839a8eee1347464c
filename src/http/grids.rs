//! The published layer's grids and the district's reference data: `GET /api/v1/grids`,
//! `/grids/{key}`, `/streets`, `/communities`, `/workers`, `/departments`, `/categories`,
//! and `GET /healthz`.

use super::{ApiError, AppState};
use crate::spatial::layer::Grid;
use crate::store::RefKind;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use geo::{BoundingRect, Intersects};
use geo_types::{Coord, Rect};
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/grids", get(grids))
        .route("/api/v1/grids/{key}", get(grid))
        .route("/api/v1/{kind}", get(reference))
}

/// Health: database reachable, index loaded, version.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, body = Object), (status = 503, body = Object)))]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let db = state.0.store.ping().await;
    let live = state.0.live.load();
    let body = json!({
        "status": if db.is_ok() && live.layer_id > 0 { "ok" } else { "degraded" },
        "database": {"backend": state.0.store.backend(), "reachable": db.is_ok()},
        "index": {"layer": live.layer_id, "grids": live.layer.grids.len()},
        "version": env!("CARGO_PKG_VERSION"),
    });
    if let Err(e) = db {
        tracing::error!(error = %e, "health check: database unreachable");
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "unhealthy",
            "the database is unreachable",
        )
        .with_details(body));
    }
    Ok(Json(body))
}

/// A grid as a GeoJSON Feature.
pub fn feature(g: &Grid) -> Value {
    let mut props = g.properties.clone();
    props
        .entry("code")
        .or_insert_with(|| Value::String(g.key.clone()));
    json!({"type": "Feature", "id": g.key, "properties": props, "geometry": geojson::Geometry::from(&g.geometry)})
}

fn parse_bbox(s: &str) -> Result<Rect<f64>, ApiError> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_parameter",
                format!("bbox={s:?}: expected four numbers minLon,minLat,maxLon,maxLat"),
            )
        })?;
    if v.len() != 4 || v.iter().any(|x| !x.is_finite()) || v[0] > v[2] || v[1] > v[3] {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("bbox={s:?}: expected minLon,minLat,maxLon,maxLat with min ≤ max"),
        ));
    }
    Ok(Rect::new(
        Coord { x: v[0], y: v[1] },
        Coord { x: v[2], y: v[3] },
    ))
}

/// The published layer's grids as GeoJSON, optionally within a bounding box.
#[utoipa::path(get, path = "/api/v1/grids", tag = "grids",
    params(("bbox" = Option<String>, Query, description = "minLon,minLat,maxLon,maxLat")),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = Object), (status = 400, body = Object)))]
pub(crate) async fn grids(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let bbox = q.get("bbox").map(|s| parse_bbox(s)).transpose()?;
    let live = state.0.live.load();
    let features: Vec<Value> = live
        .layer
        .grids
        .iter()
        .filter(|g| match &bbox {
            None => true,
            Some(b) => {
                g.geometry.bounding_rect().is_some_and(|r| r.intersects(b))
                    && g.geometry.intersects(b)
            }
        })
        .map(feature)
        .collect();
    Ok(Json(
        json!({"type": "FeatureCollection", "layer": live.layer_id, "features": features}),
    ))
}

/// One grid of the published layer, with its full-time worker.
#[utoipa::path(get, path = "/api/v1/grids/{key}", tag = "grids",
    params(("key" = String, Path, description = "Grid code")),
    responses((status = 200, description = "GeoJSON Feature", body = Object), (status = 404, body = Object)))]
pub(crate) async fn grid(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let live = state.0.live.load();
    let i = live
        .by_key
        .get(&key)
        .ok_or_else(|| ApiError::not_found(format!("no grid {key:?} in the published layer")))?;
    let g = &live.layer.grids[*i];
    let mut f = feature(g);
    if let Some(w) = state.0.refs.load().grid_worker(&key) {
        f["properties"]["worker"] = w.clone();
    }
    Ok(Json(f))
}

/// Reference data: streets, communities (GeoJSON), workers, departments, categories.
#[utoipa::path(get, path = "/api/v1/{kind}", tag = "district",
    params(("kind" = String, Path, description = "streets | communities | workers | departments | categories")),
    responses((status = 200, body = Object), (status = 404, body = Object)))]
pub(crate) async fn reference(
    State(state): State<AppState>,
    Path(kind): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let refs = state.0.refs.load();
    let Some(items) = RefKind::served(&kind).map(|k| refs.list(k)) else {
        return Err(ApiError::not_found(format!(
            "no resource /api/v1/{kind}; try grids, streets, communities, workers, departments, categories, layers, locate"
        )));
    };
    if matches!(kind.as_str(), "streets" | "communities") {
        let features: Vec<Value> = items
            .iter()
            .map(|i| json!({"type": "Feature", "id": i.key, "properties": i.properties, "geometry": i.geometry}))
            .collect();
        return Ok(Json(
            json!({"type": "FeatureCollection", "features": features}),
        ));
    }
    let list: Vec<&Value> = items.iter().map(|i| &i.properties).collect();
    Ok(Json(json!({ kind.as_str(): list })))
}
