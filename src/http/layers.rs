//! Grid layer versions, the planners' workflow: upload a draft (validated on arrival), list,
//! inspect, diff, see the impact, and publish (refused unless seamless, or forced with a written
//! reason). Handlers load, call the pure functions (`spatial::diff`, `cases::impact`,
//! `spatial::coverage`) and answer.

use super::extract::{ApiPath, ApiQuery};
use super::grids::GridCollection;
use super::{ApiError, AppState, Live};
use crate::cases::impact::{LayerImpact, OpenCase, WorkerRef, layer_impact};
use crate::spatial::coverage::{CoverageOptions, CoverageReport, validate_coverage};
use crate::spatial::diff::{GridArea, Reshaped, diff_layers};
use crate::spatial::layer::{KeySource, LayerError, read_layer};
use crate::store::{LayerMeta, PublishEvent};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/layers", post(create).get(list))
        .route("/api/v1/layers/{id}", get(show))
        .route("/api/v1/layers/{id}/grids", get(grids))
        .route("/api/v1/layers/{a}/diff/{b}", get(diff))
        .route("/api/v1/layers/{id}/impact", get(impact))
        .route("/api/v1/layers/{id}/repair", post(repair))
        .route("/api/v1/layers/{id}/edits", post(edits))
        .route("/api/v1/layers/{id}/check", post(check))
        .route("/api/v1/layers/{id}/publish", post(publish))
}

fn blocking_failed(e: tokio::task::JoinError) -> ApiError {
    ApiError::internal(&e)
}

/// Query of `POST /api/v1/layers`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CreateLayerParams {
    /// Version name (default `draft`).
    pub name: Option<String>,
    /// Who uploads it (default: the caller's account or key name).
    pub by: Option<String>,
}

/// A layer version with its validation report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LayerDetail {
    /// The version.
    pub layer: LayerMeta,
    /// Its validation report (`tessera validate --format json`), against the outline of the
    /// layer that was published when it was uploaded.
    #[schema(value_type = CoverageReport)]
    pub report: Value,
}

/// Answer of `GET /api/v1/layers`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LayerList {
    /// Every version, newest first.
    pub layers: Vec<LayerMeta>,
    /// Every publish, newest first; the first one's layer is live.
    pub publishes: Vec<PublishEvent>,
}

/// Answer of `GET /api/v1/layers/{a}/diff/{b}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LayerDiffResponse {
    /// Version `a`.
    pub from: i64,
    /// Version `b`.
    pub to: i64,
    /// Grids only in `b`.
    pub added: Vec<GridArea>,
    /// Grids only in `a`.
    pub removed: Vec<GridArea>,
    /// Grids in both with another geometry.
    pub reshaped: Vec<Reshaped>,
}

/// Answer of `GET /api/v1/layers/{id}/impact`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImpactResponse {
    /// The draft.
    pub draft: i64,
    /// The published version it is compared with.
    pub published: i64,
    /// What would change.
    #[serde(flatten)]
    pub impact: LayerImpact,
}

/// Body of `POST /api/v1/layers/{id}/publish` (all optional; an empty body is allowed).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// Publish even though the report lists problems (needs `reason`).
    #[serde(default)]
    pub force: bool,
    /// Why (required with `force`).
    pub reason: Option<String>,
    /// Who publishes (default: the caller's account or key name).
    pub by: Option<String>,
}

/// Answer of a publish.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublishResponse {
    /// The publish recorded.
    pub published: PublishEvent,
}

/// The most grids one upload may carry (a district has a few thousand; a city's layer fits).
pub const MAX_UPLOAD_GRIDS: usize = 200_000;
/// The most vertices one grid may have (a real grid has tens to hundreds).
pub const MAX_GRID_VERTICES: usize = 100_000;

/// Refuses a layer over the upload limits (422 naming the feature).
fn check_size(layer: &crate::spatial::GridLayer) -> Result<(), ApiError> {
    if layer.grids.len() > MAX_UPLOAD_GRIDS {
        return Err(ApiError::unprocessable(
            "too_many_features",
            format!(
                "the layer has {} features; at most {MAX_UPLOAD_GRIDS} may be uploaded at once",
                layer.grids.len()
            ),
        )
        .with_details(json!({"features": layer.grids.len(), "limit": MAX_UPLOAD_GRIDS})));
    }
    for g in &layer.grids {
        let n: usize = g
            .geometry
            .0
            .iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
        if n > MAX_GRID_VERTICES {
            return Err(ApiError::unprocessable(
                "too_many_vertices",
                format!(
                    "feature {} (grid {:?}) has {n} vertices; a grid may have at most {MAX_GRID_VERTICES}",
                    g.index, g.key
                ),
            )
            .with_details(json!({"feature": g.index, "key": g.key, "vertices": n, "limit": MAX_GRID_VERTICES})));
        }
    }
    Ok(())
}

/// Keys used by more than one grid, each once, sorted.
fn repeated_keys(layer: &crate::spatial::GridLayer) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &layer.grids {
        *seen.entry(g.key.as_str()).or_default() += 1;
    }
    seen.into_iter()
        .filter(|&(_, n)| n > 1)
        .map(|(k, _)| k.to_string())
        .collect()
}

/// Upload a grid layer (GeoJSON FeatureCollection) as a draft; answers its validation report.
#[utoipa::path(post, path = "/api/v1/layers", tag = "layers",
    params(CreateLayerParams),
    request_body(content = Object, description = "GeoJSON FeatureCollection of Polygon/MultiPolygon grids, keyed by `properties.code` (else the Feature id)"),
    responses((status = 201, description = "Draft created with its report", body = LayerDetail),
              (status = 400, body = super::error::ErrorBody), (status = 413, body = super::error::ErrorBody),
              (status = 422, description = "Unusable GeoJSON (naming the feature) or repeated grid keys (naming them)", body = super::error::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: axum::Extension<super::auth::Caller>,
    ApiQuery(q): ApiQuery<CreateLayerParams>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<LayerDetail>), ApiError> {
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
    let name = q.name.unwrap_or_else(|| "draft".into());
    let by = q.by.unwrap_or_else(|| caller.0.0.name().to_string());
    let layer = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let text = std::str::from_utf8(&body).map_err(|e| {
            ApiError::bad_request("invalid_body", format!("the body is not UTF-8 text: {e}"))
        })?;
        let layer = read_layer(text, &KeySource::Default).map_err(|e| {
            let details = match &e {
                LayerError::Feature { index, key, .. } => json!({"feature": index, "key": key}),
                _ => Value::Null,
            };
            match e {
                LayerError::NotJson(e) => {
                    ApiError::bad_request("invalid_json", format!("the body is not JSON: {e}"))
                }
                e => {
                    ApiError::unprocessable("invalid_geojson", e.to_string()).with_details(details)
                }
            }
        })?;
        Ok(layer)
    })
    .await
    .map_err(blocking_failed)??;
    let detail = store_draft(&state, &name, &by, layer).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// Validates `layer` against the outline of the published layer (a draft must cover the
/// district as the published layer does) and stores it as a draft with its report.
/// Errors: 422 `duplicate_keys` naming the repeated grid codes; store errors.
async fn store_draft(
    state: &AppState,
    name: &str,
    by: &str,
    layer: crate::spatial::GridLayer,
) -> Result<LayerDetail, ApiError> {
    check_size(&layer)?;
    let repeated = repeated_keys(&layer);
    if !repeated.is_empty() {
        let shown: Vec<&str> = repeated.iter().take(10).map(String::as_str).collect();
        return Err(ApiError::unprocessable(
            "duplicate_keys",
            format!(
                "{} grid key(s) are used by more than one feature: {}{}; every grid needs its own code",
                repeated.len(),
                shown.join(", "),
                if repeated.len() > shown.len() { ", …" } else { "" }
            ),
        )
        .with_details(json!({ "keys": repeated })));
    }
    let live = state.0.live.load_full();
    let (layer, report) = tokio::task::spawn_blocking(move || {
        let boundary = (!live.layer.grids.is_empty()).then(|| live.outline.clone());
        let report = validate_coverage(
            &layer,
            &CoverageOptions {
                boundary,
                gap_width_m: 0.0,
            },
        );
        (layer, report)
    })
    .await
    .map_err(blocking_failed)?;
    let report_json = serde_json::to_value(&report).map_err(|e| ApiError::internal(&e))?;
    let meta = state
        .0
        .store
        .insert_layer(name, by, &layer, report.valid, &report_json)
        .await?;
    tracing::info!(
        layer = meta.id,
        grids = meta.grid_count,
        seamless = meta.seamless,
        "draft layer created"
    );
    Ok(LayerDetail {
        layer: meta,
        report: report_json,
    })
}

/// Body of `POST /api/v1/layers/{id}/repair` (all optional; an empty body is allowed).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairRequest {
    /// Snap vertices and edges closer than this many metres (default 0).
    #[serde(default)]
    pub snap_m: f64,
    /// Merge gaps narrower than this many metres into a neighbour (default 0: none).
    #[serde(default)]
    pub gap_width_m: f64,
    /// Which grid an overlap goes to: `longest-border` (default), `max-area`, `min-area` or
    /// `min-index` (as `tessera repair --merge`).
    pub merge: Option<String>,
    /// Name of the repaired draft (default: the version's name with ` (repaired)`).
    pub name: Option<String>,
}

/// Answer of a repair: the new draft with its report, and what the repair changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RepairResponse {
    /// The repaired draft (a new version) with its validation report.
    #[serde(flatten)]
    pub draft: LayerDetail,
    /// The version it was repaired from.
    pub repaired_from: i64,
    /// Grids whose area changed: `grid`, `area_before_m2`, `area_after_m2`, `removed`.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<crate::spatial::repair::Change>,
    /// Gaps wider than `gap_width_m`, left for a planner: `area_m2`, `width_m`, `at`.
    #[schema(value_type = Vec<Object>)]
    pub open_gaps: Vec<crate::spatial::repair::OpenGap>,
}

/// Repair a version as `tessera repair` does (snap, node, give each overlap to one grid, fill
/// narrow gaps), clipped to the published layer's outline; the result is stored as a new
/// draft, validated, and answered with what changed. The version repaired is left as it was.
#[utoipa::path(post, path = "/api/v1/layers/{id}/repair", tag = "layers",
    params(("id" = i64, Path, description = "Layer version to repair")),
    request_body(content = RepairRequest, description = "All optional; an empty body is allowed"),
    responses((status = 201, body = RepairResponse), (status = 400, body = super::error::ErrorBody),
              (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(crate) async fn repair(
    State(state): State<AppState>,
    caller: axum::Extension<super::auth::Caller>,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> Result<(StatusCode, Json<RepairResponse>), ApiError> {
    use crate::spatial::repair::{MergeStrategy, RepairOptions, repair};
    let req: RepairRequest = optional_body(&body, "repair request")?;
    let merge: MergeStrategy = match req.merge.as_deref() {
        None => MergeStrategy::default(),
        Some(m) => m.parse().map_err(|e: String| {
            ApiError::unprocessable("invalid_field", e).with_details(json!({"field": "merge"}))
        })?,
    };
    let from = layer_detail(&state, id).await?.layer;
    let layer = state.0.store.layer_grids(id).await?;
    let live = state.0.live.load_full();
    let opts = RepairOptions {
        boundary: (!live.layer.grids.is_empty()).then(|| live.outline.clone()),
        snap_m: req.snap_m,
        gap_width_m: req.gap_width_m,
        merge,
    };
    let out = tokio::task::spawn_blocking(move || repair(&layer, &opts))
        .await
        .map_err(blocking_failed)?
        .map_err(|e| {
            let field = match &e {
                crate::spatial::repair::RepairError::BadTolerance(n, _)
                    if n.starts_with("snap") =>
                {
                    "snap_m"
                }
                crate::spatial::repair::RepairError::BadTolerance(..) => "gap_width_m",
                crate::spatial::repair::RepairError::Layer(_) => "layer",
            };
            ApiError::unprocessable("invalid_field", e.to_string())
                .with_details(json!({"field": field}))
        })?;
    let name = req
        .name
        .unwrap_or_else(|| format!("{} (repaired)", from.name));
    let draft = store_draft(&state, &name, caller.0.0.name(), out.layer).await?;
    Ok((
        StatusCode::CREATED,
        Json(RepairResponse {
            draft,
            repaired_from: id,
            changes: out.changes,
            open_gaps: out.open_gaps,
        }),
    ))
}

/// One planner's edit in `POST /api/v1/layers/{id}/edits` (`op` names it). Geometries are
/// GeoJSON (WGS 84): Polygon or MultiPolygon for grids, LineString for a split.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum EditRequest {
    /// A new boundary for a grid.
    Replace {
        /// Grid code.
        grid: String,
        /// Polygon or MultiPolygon.
        #[schema(value_type = Object)]
        geometry: Value,
    },
    /// A new grid.
    Add {
        /// Its code.
        grid: String,
        /// Polygon or MultiPolygon.
        #[schema(value_type = Object)]
        geometry: Value,
        /// Its properties (name, community, street, population, households, …).
        #[serde(default)]
        #[schema(value_type = Object)]
        properties: serde_json::Map<String, Value>,
    },
    /// Remove a grid.
    Remove {
        /// Grid code.
        grid: String,
    },
    /// Merge grids that share an edge into the first one.
    Merge {
        /// Grid codes, at least two.
        grids: Vec<String>,
    },
    /// Cut a grid in two along a line crossing its outer boundary twice.
    Split {
        /// Grid code.
        grid: String,
        /// LineString.
        #[schema(value_type = Object)]
        line: Value,
        /// Codes of the two parts (default `{grid}-1` left of the line, `{grid}-2`).
        codes: Option<[String; 2]>,
    },
}

/// Body of `POST /api/v1/layers/{id}/edits`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditsRequest {
    /// The edits, applied in order.
    pub edits: Vec<EditRequest>,
    /// Name of the new draft (default: the version's name with ` (edited)`).
    pub name: Option<String>,
}

fn edit_geometry(
    n: usize,
    field: &str,
    v: &Value,
) -> Result<geo_types::MultiPolygon<f64>, ApiError> {
    crate::spatial::layer::read_geometry(v).map_err(|e| {
        ApiError::unprocessable("invalid_field", format!("edit {n}: {field}: {e}"))
            .with_details(json!({"edit": n, "field": field}))
    })
}

fn edit_line(n: usize, v: &Value) -> Result<geo_types::LineString<f64>, ApiError> {
    let bad = |why: &str| {
        ApiError::unprocessable("invalid_field", format!("edit {n}: line: {why}"))
            .with_details(json!({"edit": n, "field": "line"}))
    };
    if v.get("type").and_then(Value::as_str) != Some("LineString") {
        return Err(bad("must be a GeoJSON LineString"));
    }
    let coords = v
        .get("coordinates")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("coordinates must be an array of positions"))?;
    let pts = coords
        .iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([x, y, ..]) => match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Ok((x, y)),
                _ => Err(bad("a position is not two numbers")),
            },
            _ => Err(bad("a position is not [lon, lat]")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if pts.len() < 2 {
        return Err(bad("needs at least two positions"));
    }
    Ok(geo_types::LineString::from(pts))
}

/// Apply a planner's edits to a version — replace a grid's boundary, add, remove, merge or
/// split grids (`spatial::edit`) — and store the result as a new draft, validated. The version
/// edited is left as it was.
#[utoipa::path(post, path = "/api/v1/layers/{id}/edits", tag = "layers",
    params(("id" = i64, Path, description = "Layer version to edit")),
    request_body = EditsRequest,
    responses((status = 201, body = LayerDetail), (status = 400, body = super::error::ErrorBody),
              (status = 404, body = super::error::ErrorBody), (status = 422, description = "An edit that cannot be applied, naming it", body = super::error::ErrorBody)))]
pub(crate) async fn edits(
    State(state): State<AppState>,
    caller: axum::Extension<super::auth::Caller>,
    ApiPath(id): ApiPath<i64>,
    super::extract::ApiJson(req): super::extract::ApiJson<EditsRequest>,
) -> Result<(StatusCode, Json<LayerDetail>), ApiError> {
    use crate::spatial::edit::apply;
    let list = edit_list(req.edits)?;
    let from = layer_detail(&state, id).await?.layer;
    let layer = state.0.store.layer_grids(id).await?;
    let edited = tokio::task::spawn_blocking(move || apply(&layer, &list))
        .await
        .map_err(blocking_failed)?
        .map_err(|e| {
            let n = e.edit();
            ApiError::unprocessable("invalid_edit", e.to_string()).with_details(json!({"edit": n}))
        })?;
    let name = req
        .name
        .unwrap_or_else(|| format!("{} (edited)", from.name));
    let detail = store_draft(&state, &name, caller.0.0.name(), edited).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// The edits of a request as spatial edits: 422 naming the first malformed one, or when there
/// is none.
fn edit_list(edits: Vec<EditRequest>) -> Result<Vec<crate::spatial::edit::Edit>, ApiError> {
    use crate::spatial::edit::Edit;
    let mut list = Vec::with_capacity(edits.len());
    for (k, e) in edits.into_iter().enumerate() {
        let n = k + 1;
        list.push(match e {
            EditRequest::Replace { grid, geometry } => Edit::Replace {
                geometry: edit_geometry(n, "geometry", &geometry)?,
                grid,
            },
            EditRequest::Add {
                grid,
                geometry,
                properties,
            } => Edit::Add {
                geometry: edit_geometry(n, "geometry", &geometry)?,
                grid,
                properties,
            },
            EditRequest::Remove { grid } => Edit::Remove { grid },
            EditRequest::Merge { grids } => Edit::Merge { grids },
            EditRequest::Split { grid, line, codes } => Edit::Split {
                line: edit_line(n, &line)?,
                codes: codes.unwrap_or_else(|| [format!("{grid}-1"), format!("{grid}-2")]),
                grid,
            },
        });
    }
    if list.is_empty() {
        return Err(ApiError::unprocessable("invalid_field", "no edits given")
            .with_details(json!({"field": "edits"})));
    }
    Ok(list)
}

/// Answer of `POST /api/v1/layers/{id}/check`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckAnswer {
    /// The layer version the edits were checked against.
    pub layer: i64,
    /// What the check found.
    #[serde(flatten)]
    pub check: crate::spatial::edit::LocalCheck,
    /// Time the check took on the server, milliseconds (the layer's index already built).
    pub elapsed_ms: f64,
}

/// Checks edits to layer version `id` where they act, without saving anything: the edited
/// grids and their neighbours are validated after the edits (overlaps, gaps they border,
/// unmatched edges, invalid geometry), in milliseconds whatever the layer's size — for a
/// planner's feedback while drawing. Saving the edits (`…/edits`) validates the whole layer.
#[utoipa::path(post, path = "/api/v1/layers/{id}/check", tag = "layers",
    params(("id" = i64, Path, description = "Layer version the edits apply to")),
    request_body = EditsRequest,
    responses((status = 200, body = CheckAnswer), (status = 400, body = super::error::ErrorBody),
              (status = 404, body = super::error::ErrorBody), (status = 422, description = "An edit that cannot be applied, naming it", body = super::error::ErrorBody)))]
pub(crate) async fn check(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    super::extract::ApiJson(req): super::extract::ApiJson<EditsRequest>,
) -> Result<Json<CheckAnswer>, ApiError> {
    let list = edit_list(req.edits)?;
    let indexed = indexed_layer(&state, id).await?;
    let (check, elapsed) = tokio::task::spawn_blocking(move || {
        let t0 = std::time::Instant::now();
        let c = crate::spatial::edit::check_local(
            &indexed.layer,
            &indexed.locator,
            &indexed.by_key,
            &list,
        );
        (c, t0.elapsed())
    })
    .await
    .map_err(blocking_failed)?;
    let check = check.map_err(|e| {
        let n = e.edit();
        ApiError::unprocessable("invalid_edit", e.to_string()).with_details(json!({"edit": n}))
    })?;
    Ok(Json(CheckAnswer {
        layer: id,
        check,
        elapsed_ms: elapsed.as_secs_f64() * 1e3,
    }))
}

/// Layer version `id` with its index: the published one as served, else the last draft
/// checked (kept in memory), else loaded and indexed now. 404 when there is no such version.
async fn indexed_layer(state: &AppState, id: i64) -> Result<std::sync::Arc<super::Live>, ApiError> {
    let live = state.0.live.load_full();
    if live.layer_id == id && id != 0 {
        return Ok(live);
    }
    if let Some(d) = state.0.draft.lock().expect("draft cache").as_ref()
        && d.layer_id == id
    {
        return Ok(d.clone());
    }
    layer_detail(state, id).await?;
    let built = std::sync::Arc::new(super::Live::load(&state.0.store, id).await?);
    *state.0.draft.lock().expect("draft cache") = Some(built.clone());
    Ok(built)
}

/// A JSON body that may be empty (then `T::default()`): 400 when it is not JSON, 422 naming
/// the field when a field is wrong.
fn optional_body<T: Default + serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::unprocessable("invalid_field", format!("{what}: {e}"))
        } else {
            ApiError::bad_request("invalid_json", format!("{what}: {e}"))
        }
    })
}

/// All layer versions and every publish.
#[utoipa::path(get, path = "/api/v1/layers", tag = "layers", responses((status = 200, body = LayerList)))]
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<LayerList>, ApiError> {
    Ok(Json(LayerList {
        layers: state.0.store.layers().await?,
        publishes: state.0.store.publishes().await?,
    }))
}

/// Layer version `id` with its report, or 404.
async fn layer_detail(state: &AppState, id: i64) -> Result<LayerDetail, ApiError> {
    let (layer, report) = state
        .0
        .store
        .layer(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no layer {id}")))?;
    Ok(LayerDetail { layer, report })
}

/// One layer version with its validation report.
#[utoipa::path(get, path = "/api/v1/layers/{id}", tag = "layers",
    params(("id" = i64, Path, description = "Layer version")),
    responses((status = 200, body = LayerDetail), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LayerDetail>, ApiError> {
    Ok(Json(layer_detail(&state, id).await?))
}

/// The grids of one layer version (GeoJSON).
#[utoipa::path(get, path = "/api/v1/layers/{id}/grids", tag = "layers",
    params(("id" = i64, Path, description = "Layer version")),
    responses((status = 200, body = GridCollection), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn grids(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<GridCollection>, ApiError> {
    layer_detail(&state, id).await?;
    let layer = state.0.store.layer_grids(id).await?;
    Ok(Json(GridCollection::new(id, &layer.grids)))
}

/// Grids added, removed and reshaped between two versions, with areas.
#[utoipa::path(get, path = "/api/v1/layers/{a}/diff/{b}", tag = "layers",
    params(("a" = i64, Path, description = "From version"), ("b" = i64, Path, description = "To version")),
    responses((status = 200, body = LayerDiffResponse), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn diff(
    State(state): State<AppState>,
    ApiPath((a, b)): ApiPath<(i64, i64)>,
) -> Result<Json<LayerDiffResponse>, ApiError> {
    for id in [a, b] {
        layer_detail(&state, id).await?;
    }
    let (la, lb) = (
        state.0.store.layer_grids(a).await?,
        state.0.store.layer_grids(b).await?,
    );
    let d = tokio::task::spawn_blocking(move || diff_layers(&la, &lb))
        .await
        .map_err(blocking_failed)?;
    Ok(Json(LayerDiffResponse {
        from: a,
        to: b,
        added: d.added,
        removed: d.removed,
        reshaped: d.reshaped,
    }))
}

/// What publishing draft `id` would change against the published layer: open cases whose
/// grid changes, households in area that moves to another grid (by area share), and grid
/// workers whose grid is removed or reshaped.
#[utoipa::path(get, path = "/api/v1/layers/{id}/impact", tag = "layers",
    params(("id" = i64, Path, description = "Draft version")),
    responses((status = 200, body = ImpactResponse), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn impact(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ImpactResponse>, ApiError> {
    layer_detail(&state, id).await?;
    let draft = state.0.store.layer_grids(id).await?;
    let live = state.0.live.load_full();
    let refs = state.0.refs.load_full();
    let cases: Vec<OpenCase> = state
        .0
        .store
        .cases(&crate::store::cases::CaseFilter {
            states: crate::cases::lifecycle::CaseState::OPEN.to_vec(),
            limit: i64::MAX,
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter_map(|c| {
            let (x, y) = c.pin?;
            Some(OpenCase {
                id: c.ticket,
                location: geo_types::Coord { x, y },
            })
        })
        .collect();
    let published = live.layer_id;
    let impact = tokio::task::spawn_blocking(move || {
        layer_impact(&live.layer, &live.locator, &draft, &cases, |grid| {
            let w = refs.grid_worker(grid)?;
            Some(WorkerRef {
                id: w["id"].as_str()?.to_string(),
                name: w["name"].as_str().unwrap_or_default().to_string(),
            })
        })
    })
    .await
    .map_err(blocking_failed)?;
    Ok(Json(ImpactResponse {
        draft: id,
        published,
        impact,
    }))
}

/// Publish a version (swaps the live index atomically); refused unless seamless or forced
/// with a written reason. Rollback is publishing an older version. Publishes are serialized
/// within the process, so the layer served is always that of the last recorded publish.
#[utoipa::path(post, path = "/api/v1/layers/{id}/publish", tag = "layers",
    params(("id" = i64, Path, description = "Layer version")),
    request_body(content = PublishRequest, description = "All optional; an empty body is allowed"),
    responses((status = 200, body = PublishResponse), (status = 409, description = "Not seamless; details carry the report", body = super::error::ErrorBody),
              (status = 400, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn publish(
    State(state): State<AppState>,
    caller: axum::Extension<super::auth::Caller>,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> Result<Json<PublishResponse>, ApiError> {
    let req: PublishRequest = optional_body(&body, "publish request")?;
    let LayerDetail {
        layer: meta,
        report,
    } = layer_detail(&state, id).await?;
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
    let by = req.by.as_deref().unwrap_or(caller.0.0.name());
    // One publish at a time: build the new index completely, record, then swap, so the swap
    // order is the record order.
    let _turn = state.0.publish_lock.lock().await;
    let live = Live::load(&state.0.store, id).await?;
    let event = state
        .0
        .store
        .publish(id, by, !meta.seamless, reason)
        .await?;
    state.0.live.store(Arc::new(live));
    drop(_turn);
    tracing::info!(layer = id, by, forced = event.forced, "layer published");
    // Open cases follow the new grids: not yet dispatched ones are routed again, dispatched
    // ones are flagged for the dispatcher.
    let (rerouted, flagged) = super::cases::reroute_after_publish(&state, id).await?;
    if rerouted + flagged > 0 {
        tracing::info!(
            layer = id,
            rerouted,
            flagged,
            "open cases followed the new layer"
        );
    }
    Ok(Json(PublishResponse { published: event }))
}
