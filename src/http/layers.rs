//! Grid layer versions, the planners' workflow: upload a draft (validated on arrival), list,
//! inspect, diff, and publish (refused unless seamless, or forced with a written reason).

use super::grids::feature;
use super::{ApiError, AppState, Live};
use crate::spatial::coverage::{CoverageOptions, validate_coverage};
use crate::spatial::layer::{KeySource, LayerError, read_layer_value};
use crate::spatial::measure::area_m2;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/layers", post(create).get(list))
        .route("/api/v1/layers/{id}", get(show))
        .route("/api/v1/layers/{id}/grids", get(grids))
        .route("/api/v1/layers/{a}/diff/{b}", get(diff))
        .route("/api/v1/layers/{id}/impact", get(impact))
        .route("/api/v1/layers/{id}/publish", post(publish))
}

fn blocking_failed(e: tokio::task::JoinError) -> ApiError {
    ApiError::internal(&e)
}

/// Upload a grid layer (GeoJSON FeatureCollection) as a draft; answers its validation report.
#[utoipa::path(post, path = "/api/v1/layers", tag = "layers",
    params(("name" = Option<String>, Query, description = "Version name"), ("by" = Option<String>, Query, description = "Uploader")),
    request_body(content = Object, description = "GeoJSON FeatureCollection of Polygon/MultiPolygon grids"),
    responses((status = 201, description = "Draft created with its report", body = Object),
              (status = 400, body = Object), (status = 413, body = Object), (status = 422, body = Object)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body.map_err(|rej| {
        let code = if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else {
            "invalid_body"
        };
        ApiError::new(
            rej.status(),
            code,
            format!(
                "the grid layer upload could not be read: {}",
                rej.body_text()
            ),
        )
    })?;
    let name = q.get("name").cloned().unwrap_or_else(|| "draft".into());
    let by = q.get("by").cloned().unwrap_or_else(|| "planner".into());
    let live = state.0.live.load_full();
    let (layer, report) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let root: Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("the body is not JSON: {e}"))
        })?;
        let layer = read_layer_value(&root, &KeySource::Default).map_err(|e| {
            let details = match &e {
                LayerError::Feature { index, key, .. } => json!({"feature": index, "key": key}),
                _ => Value::Null,
            };
            ApiError::unprocessable("invalid_geojson", e.to_string()).with_details(details)
        })?;
        if layer.grids.is_empty() {
            return Err(ApiError::unprocessable(
                "invalid_geojson",
                "the collection has no features",
            ));
        }
        // A draft must cover the district as the published layer does.
        let boundary = (!live.layer.grids.is_empty()).then(|| live.outline.clone());
        let report = validate_coverage(
            &layer,
            &CoverageOptions {
                boundary,
                gap_width_m: 0.0,
            },
        );
        Ok((layer, report))
    })
    .await
    .map_err(blocking_failed)??;
    let report_json = serde_json::to_value(&report).map_err(|e| ApiError::internal(&e))?;
    let meta = state
        .0
        .store
        .insert_layer(&name, &by, &layer, report.valid, &report_json)
        .await?;
    tracing::info!(
        layer = meta.id,
        grids = meta.grid_count,
        seamless = meta.seamless,
        "draft layer created"
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({"layer": meta, "report": report_json})),
    ))
}

/// All layer versions and every publish.
#[utoipa::path(get, path = "/api/v1/layers", tag = "layers", responses((status = 200, body = Object)))]
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let layers = state.0.store.layers().await?;
    let publishes = state.0.store.publishes().await?;
    Ok(Json(json!({"layers": layers, "publishes": publishes})))
}

/// Errors with 404 unless layer version `id` exists.
async fn ensure_layer(state: &AppState, id: i64) -> Result<(), ApiError> {
    match state.0.store.layer(id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(format!("no layer {id}"))),
    }
}

fn parse_id(s: &str) -> Result<i64, ApiError> {
    s.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_parameter",
            format!("layer id {s:?} is not a number"),
        )
    })
}

/// One layer version with its validation report.
#[utoipa::path(get, path = "/api/v1/layers/{id}", tag = "layers",
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 404, body = Object)))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let (meta, report) = state
        .0
        .store
        .layer(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no layer {id}")))?;
    Ok(Json(json!({"layer": meta, "report": report})))
}

/// The grids of one layer version (GeoJSON).
#[utoipa::path(get, path = "/api/v1/layers/{id}/grids", tag = "layers",
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 404, body = Object)))]
pub(crate) async fn grids(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    ensure_layer(&state, id).await?;
    let layer = state.0.store.layer_grids(id).await?;
    let features: Vec<Value> = layer.grids.iter().map(feature).collect();
    Ok(Json(
        json!({"type": "FeatureCollection", "layer": id, "features": features}),
    ))
}

/// Grids added, removed and reshaped between two versions.
#[utoipa::path(get, path = "/api/v1/layers/{a}/diff/{b}", tag = "layers",
    params(("a" = i64, Path), ("b" = i64, Path)), responses((status = 200, body = Object), (status = 404, body = Object)))]
pub(crate) async fn diff(
    State(state): State<AppState>,
    Path((a, b)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (a, b) = (parse_id(&a)?, parse_id(&b)?);
    for id in [a, b] {
        ensure_layer(&state, id).await?;
    }
    let (la, lb) = (
        state.0.store.layer_grids(a).await?,
        state.0.store.layer_grids(b).await?,
    );
    let out = tokio::task::spawn_blocking(move || {
        let ka: HashMap<&str, usize> = la
            .grids
            .iter()
            .enumerate()
            .map(|(i, g)| (g.key.as_str(), i))
            .collect();
        let kb: HashMap<&str, usize> = lb
            .grids
            .iter()
            .enumerate()
            .map(|(i, g)| (g.key.as_str(), i))
            .collect();
        let area = |g: &crate::spatial::Grid| area_m2(&g.geometry);
        let added: Vec<Value> = lb
            .grids
            .iter()
            .filter(|g| !ka.contains_key(g.key.as_str()))
            .map(|g| json!({"grid": g.key, "area_m2": area(g)}))
            .collect();
        let removed: Vec<Value> = la
            .grids
            .iter()
            .filter(|g| !kb.contains_key(g.key.as_str()))
            .map(|g| json!({"grid": g.key, "area_m2": area(g)}))
            .collect();
        let reshaped: Vec<Value> = la
            .grids
            .iter()
            .filter_map(|g| {
                let h = &lb.grids[*kb.get(g.key.as_str())?];
                (h.geometry != g.geometry).then(
                    || json!({"grid": g.key, "area_before_m2": area(g), "area_after_m2": area(h)}),
                )
            })
            .collect();
        json!({"from": a, "to": b, "added": added, "removed": removed, "reshaped": reshaped})
    })
    .await
    .map_err(blocking_failed)?;
    Ok(Json(out))
}

/// What publishing draft `id` would change against the published layer: open cases whose
/// grid changes, households in area that moves to another grid (by area share), and grid
/// workers whose grid is removed or reshaped.
#[utoipa::path(get, path = "/api/v1/layers/{id}/impact", tag = "layers",
    params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 404, body = Object)))]
pub(crate) async fn impact(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    ensure_layer(&state, id).await?;
    let draft = state.0.store.layer_grids(id).await?;
    let cases = state
        .0
        .store
        .reference(crate::store::RefKind::OpenCases)
        .await?;
    let live = state.0.live.load_full();
    let refs = state.0.refs.load_full();
    let out = tokio::task::spawn_blocking(move || {
        use geo::BooleanOps;
        let locator = crate::spatial::Locator::new(&draft.geometries());
        let draft_by_key: HashMap<&str, usize> = draft
            .grids
            .iter()
            .enumerate()
            .map(|(i, g)| (g.key.as_str(), i))
            .collect();
        let key_at = |l: &crate::spatial::Locator, layer: &crate::spatial::GridLayer, c: &Value| {
            let p = geo_types::Coord {
                x: c["location"][0].as_f64()?,
                y: c["location"][1].as_f64()?,
            };
            l.locate(p).map(|i| layer.grids[i].key.clone())
        };
        let moving_cases: Vec<Value> = cases
            .iter()
            .filter_map(|c| {
                let from = key_at(&live.locator, &live.layer, &c.properties);
                let to = key_at(&locator, &draft, &c.properties);
                (from != to).then(|| json!({"case": c.key, "from": from, "to": to}))
            })
            .collect();
        let mut grids = Vec::new();
        let mut workers = Vec::new();
        let mut households_moving = 0.0;
        for g in &live.layer.grids {
            let hh = g
                .properties
                .get("households")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            let (change, share) = match draft_by_key.get(g.key.as_str()) {
                None => ("removed", 1.0),
                Some(&d) if draft.grids[d].geometry != g.geometry => {
                    let before = area_m2(&g.geometry);
                    let kept = area_m2(&g.geometry.intersection(&draft.grids[d].geometry));
                    (
                        "reshaped",
                        if before > 0.0 {
                            (1.0 - kept / before).clamp(0.0, 1.0)
                        } else {
                            0.0
                        },
                    )
                }
                Some(_) => continue,
            };
            households_moving += hh * share;
            grids.push(
                json!({"grid": g.key, "change": change, "area_share_moving": share,
                              "households_moving": (hh * share).round()}),
            );
            if let Some(w) = refs.grid_worker(&g.key) {
                workers.push(
                    json!({"worker": w["id"], "name": w["name"], "grid": g.key, "change": change}),
                );
            }
        }
        json!({
            "draft": id,
            "published": live.layer_id,
            "open_cases": moving_cases,
            "households_moving": households_moving.round(),
            "grids": grids,
            "workers": workers,
        })
    })
    .await
    .map_err(blocking_failed)?;
    Ok(Json(out))
}

/// Body of `POST /api/v1/layers/{id}/publish`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    /// Publish even though the report lists problems (needs `reason`).
    #[serde(default)]
    force: bool,
    /// Why (required with `force`).
    reason: Option<String>,
    /// Who publishes.
    by: Option<String>,
}

/// Publish a version (swaps the live index atomically); refused unless seamless or forced
/// with a written reason. Rollback is publishing an older version.
#[utoipa::path(post, path = "/api/v1/layers/{id}/publish", tag = "layers",
    params(("id" = i64, Path)),
    request_body(content = Object, description = "{\"force\": bool, \"reason\": string, \"by\": string}, all optional"),
    responses((status = 200, body = Object), (status = 409, description = "Not seamless; details carry the report", body = Object),
              (status = 422, body = Object), (status = 404, body = Object)))]
pub(crate) async fn publish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let req: PublishRequest = if body.is_empty() {
        PublishRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("invalid_json", format!("publish request: {e}")))?
    };
    let (meta, report) = state
        .0
        .store
        .layer(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no layer {id}")))?;
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if !meta.seamless {
        if !req.force {
            return Err(ApiError::conflict(
                "not_seamless",
                format!(
                    "layer {id} is not seamless; fix it, or publish with force and a written reason"
                ),
            )
            .with_details(report));
        }
        if reason.is_none() {
            return Err(ApiError::unprocessable(
                "reason_required",
                "force needs a written reason",
            ));
        }
    }
    // Build the new index completely before anything changes.
    let live = Live::load(&state.0.store, id).await?;
    let by = req.by.as_deref().unwrap_or("planner");
    let event = state
        .0
        .store
        .publish(id, by, !meta.seamless, reason)
        .await?;
    state.0.live.store(Arc::new(live));
    tracing::info!(layer = id, by, forced = event.forced, "layer published");
    Ok(Json(json!({"published": event})))
}
