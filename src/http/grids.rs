//! The published layer's grids (`GET /api/v1/grids`, `/grids/{key}`) and `GET /healthz`.

use super::extract::{ApiPath, ApiQuery};
use super::{ApiError, AppState};
use crate::spatial::layer::Grid;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use geo::Intersects;
use geo_types::{Coord, Rect};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/livez", get(livez))
        .route("/healthz", get(healthz))
        .route("/api/v1/grids", get(grids))
        .route("/api/v1/grids/{key}", get(grid))
        .route("/api/v1/outline", get(outline))
}

/// Answer of `GET /api/v1/outline`: a GeoJSON Feature.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutlineFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `{"layer": N}`: the published layer version.
    #[schema(value_type = Object)]
    pub properties: Value,
    /// MultiPolygon, WGS 84 (empty when nothing is published).
    #[schema(value_type = Object)]
    pub geometry: geojson::Geometry,
}

/// The published layer's outline, the union of its grids (the district's boundary on maps): a
/// GeoJSON Feature with a MultiPolygon (WGS 84) and `properties.layer`, the layer version.
#[utoipa::path(get, path = "/api/v1/outline", tag = "grids",
    responses((status = 200, description = "GeoJSON Feature (MultiPolygon)", body = OutlineFeature)))]
pub(crate) async fn outline(State(state): State<AppState>) -> Json<OutlineFeature> {
    let live = state.0.live.load();
    Json(OutlineFeature {
        kind: "Feature",
        properties: serde_json::json!({ "layer": live.layer_id }),
        geometry: geojson::Geometry::from(&live.outline),
    })
}

/// Liveness: the process answers (`ok`, text/plain), touching nothing — for a supervisor's
/// liveness probe, and the baseline the HTTP benchmarks compare other routes with. Readiness,
/// with the database and the index, is `/healthz`.
#[utoipa::path(get, path = "/livez", tag = "grids",
    responses((status = 200, description = "`ok`", content_type = "text/plain", body = String)))]
pub(crate) async fn livez() -> &'static str {
    "ok"
}

/// Overall health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Database reachable and a layer published.
    Ok,
    /// Serving, but no layer is published.
    Degraded,
    /// The database is unreachable (answered with 503).
    Unhealthy,
}

/// The database part of [`Health`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatabaseHealth {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Whether it answered just now.
    pub reachable: bool,
}

/// The index part of [`Health`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndexHealth {
    /// Layer version served (0: none published).
    pub layer: i64,
    /// Grids in it.
    pub grids: usize,
}

/// Answer of `GET /healthz` (also the `details` of its 503).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Overall status.
    pub status: HealthStatus,
    /// The database.
    pub database: DatabaseHealth,
    /// The live index.
    pub index: IndexHealth,
    /// tessera's version.
    pub version: &'static str,
}

/// Health: database reachable, index loaded, version. 503 when the database is unreachable.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, body = Health), (status = 503, description = "Database unreachable; `details` is the Health", body = super::error::ErrorBody)))]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let db = database_reachable(&state).await;
    let live = state.0.live.load();
    let status = match (&db, live.layer_id > 0) {
        (Err(_), _) => HealthStatus::Unhealthy,
        (Ok(()), true) => HealthStatus::Ok,
        (Ok(()), false) => HealthStatus::Degraded,
    };
    let body = Health {
        status,
        database: DatabaseHealth {
            backend: state.0.store.backend(),
            reachable: db.is_ok(),
        },
        index: IndexHealth {
            layer: live.layer_id,
            grids: live.layer.grids.len(),
        },
        version: env!("CARGO_PKG_VERSION"),
    };
    if let Err(e) = db {
        tracing::error!(error = %e, "health check: database unreachable");
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "unhealthy",
            "the database is unreachable",
        )
        .with_details(serde_json::to_value(&body).unwrap_or_default()));
    }
    Ok(Json(body))
}

/// How long a database check answers `/healthz` before the next one asks the database again:
/// a load balancer probing many times a second costs one query a second.
pub const HEALTH_CHECK_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether the database answers, asked at most once per [`HEALTH_CHECK_TTL`].
async fn database_reachable(state: &AppState) -> Result<(), String> {
    if let Some((at, r)) = state.0.health.lock().ok().and_then(|g| g.clone())
        && at.elapsed() < HEALTH_CHECK_TTL
    {
        return r;
    }
    let r = state.0.store.ping().await.map_err(|e| e.to_string());
    if let Ok(mut g) = state.0.health.lock() {
        *g = Some((std::time::Instant::now(), r.clone()));
    }
    r
}

/// A grid as a GeoJSON Feature.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GridFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    #[schema(example = "Feature")]
    pub kind: &'static str,
    /// The grid code.
    pub id: String,
    /// The grid's properties: `code`, `name`, `kind`, `community`, `street`, `households`,
    /// `population`, … as uploaded (and `worker` on `/grids/{key}`).
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    /// Polygon or MultiPolygon, WGS84 lon/lat.
    #[schema(value_type = Object)]
    pub geometry: geojson::Geometry,
}

impl GridFeature {
    /// The feature of a grid (its key also as `properties.code`).
    pub fn of(g: &Grid) -> GridFeature {
        let mut properties = g.properties.clone();
        properties
            .entry("code")
            .or_insert_with(|| Value::String(g.key.clone()));
        GridFeature {
            kind: "Feature",
            id: g.key.clone(),
            properties,
            geometry: geojson::Geometry::from(&g.geometry),
        }
    }
}

/// Grids as a GeoJSON FeatureCollection.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GridCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    #[schema(example = "FeatureCollection")]
    pub kind: &'static str,
    /// The layer version.
    pub layer: i64,
    /// The grids.
    pub features: Vec<GridFeature>,
}

impl GridCollection {
    /// A collection of grids of layer `layer`.
    pub fn new<'a>(layer: i64, grids: impl IntoIterator<Item = &'a Grid>) -> GridCollection {
        GridCollection {
            kind: "FeatureCollection",
            layer,
            features: grids.into_iter().map(GridFeature::of).collect(),
        }
    }
}

/// A bounding box `minLon,minLat,maxLon,maxLat` (WGS84 degrees).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox(pub Rect<f64>);

impl<'de> Deserialize<'de> for Bbox {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Bbox, D::Error> {
        let s = String::deserialize(d)?;
        parse_bbox(&s).map_err(serde::de::Error::custom)
    }
}

fn parse_bbox(s: &str) -> Result<Bbox, String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("bbox={s:?}: expected four numbers minLon,minLat,maxLon,maxLat"))?;
    if v.len() != 4 || v.iter().any(|x| !x.is_finite()) || v[0] > v[2] || v[1] > v[3] {
        return Err(format!(
            "bbox={s:?}: expected minLon,minLat,maxLon,maxLat with min ≤ max"
        ));
    }
    Ok(Bbox(Rect::new(
        Coord { x: v[0], y: v[1] },
        Coord { x: v[2], y: v[3] },
    )))
}

/// Query of `GET /api/v1/grids`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GridsParams {
    /// Only grids intersecting `minLon,minLat,maxLon,maxLat` (WGS84 degrees).
    #[param(value_type = Option<String>, example = "118.04,36.80,118.06,36.82")]
    pub bbox: Option<Bbox>,
}

/// The published layer's grids as GeoJSON, optionally only those intersecting a bounding box
/// (found through the layer's R-tree, then tested exactly).
#[utoipa::path(get, path = "/api/v1/grids", tag = "grids",
    params(GridsParams),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = GridCollection), (status = 400, body = super::error::ErrorBody)))]
pub(crate) async fn grids(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<GridsParams>,
) -> Json<GridCollection> {
    let live = state.0.live.load();
    let grids = &live.layer.grids;
    Json(match q.bbox {
        None => GridCollection::new(live.layer_id, grids),
        Some(Bbox(b)) => GridCollection::new(
            live.layer_id,
            live.locator
                .intersecting_envelope(b)
                .into_iter()
                .map(|i| &grids[i])
                .filter(|g| g.geometry.intersects(&b)),
        ),
    })
}

/// One grid of the published layer, with its full-time worker in `properties.worker` (for a
/// caller who may not read the workers' contact details: id, name, role and a masked phone).
#[utoipa::path(get, path = "/api/v1/grids/{key}", tag = "grids",
    params(("key" = String, Path, description = "Grid code")),
    responses((status = 200, description = "GeoJSON Feature", body = GridFeature), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn grid(
    State(state): State<AppState>,
    caller: axum::Extension<super::auth::Caller>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<GridFeature>, ApiError> {
    let live = state.0.live.load();
    let i = live
        .by_key
        .get(&key)
        .ok_or_else(|| ApiError::not_found(format!("no grid {key:?} in the published layer")))?;
    let mut f = GridFeature::of(&live.layer.grids[*i]);
    if let Some(w) = state.0.refs.load().grid_worker(&key) {
        f.properties
            .insert("worker".into(), crate::auth::worker_view(&caller.0.0, w));
    }
    Ok(Json(f))
}
