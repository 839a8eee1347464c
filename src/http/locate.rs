//! `GET /api/v1/locate`: the grid, community, street and worker on duty for a pin.

use super::extract::ApiQuery;
use super::{ApiError, AppState};
use crate::cases::duty::DutyMode;
use crate::spatial::crs::{Crs, to_wgs84};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use geo_types::Coord;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Largest snapping distance accepted, metres.
pub const MAX_SNAP_M: f64 = 5_000.0;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/locate", get(locate))
}

/// Query of `GET /api/v1/locate`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LocateParams {
    /// Longitude, degrees (−180–180) in `crs`.
    pub lon: f64,
    /// Latitude, degrees (−90–90) in `crs`.
    pub lat: f64,
    /// The pin's coordinate system: `wgs84` (default; GPS, Tianditu), `gcj02` (AMap, Tencent,
    /// WeChat) or `bd09` (Baidu).
    #[serde(default)]
    pub crs: Crs,
    /// Snap a pin outside every grid to the nearest grid within this many metres (0–5000).
    #[serde(default)]
    pub snap_m: f64,
}

/// A grid as `locate` names it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GridRef {
    /// Grid code.
    pub key: String,
    /// Grid name.
    #[schema(value_type = Option<String>)]
    pub name: Value,
    /// Grid kind (residential, village, market, …).
    #[schema(value_type = Option<String>)]
    pub kind: Value,
}

/// A community or street.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitRef {
    /// Its code.
    #[schema(value_type = String)]
    pub code: Value,
    /// Its name.
    #[schema(value_type = String)]
    pub name: Value,
}

/// The worker answering for the grid now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkerOnDuty {
    /// Worker id.
    #[schema(value_type = String)]
    pub id: Value,
    /// Name.
    #[schema(value_type = String)]
    pub name: Value,
    /// Phone.
    #[schema(value_type = String)]
    pub phone: Value,
    /// Role (`grid_worker`, …).
    #[schema(value_type = String)]
    pub role: Value,
    /// The grid's own worker (office hours) or the community's on-call worker.
    pub duty: DutyMode,
}

/// The pin as given.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocateInput {
    /// Longitude as given.
    pub lon: f64,
    /// Latitude as given.
    pub lat: f64,
    /// Its coordinate system.
    pub crs: Crs,
}

/// Answer of `GET /api/v1/locate`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocateResponse {
    /// The owning grid.
    pub grid: GridRef,
    /// Its community.
    pub community: Option<UnitRef>,
    /// Its street or town.
    pub street: Option<UnitRef>,
    /// Who answers for it now.
    pub worker: Option<WorkerOnDuty>,
    /// Metres to the grid when the pin was snapped to it, else null.
    pub snapped_m: Option<f64>,
    /// The pin as given.
    pub input: LocateInput,
    /// The pin in WGS84, `[lon, lat]`.
    pub wgs84: [f64; 2],
    /// The published layer version that answered.
    pub layer: i64,
}

/// Locate a pin: its grid, community, street and the worker on duty.
#[utoipa::path(get, path = "/api/v1/locate", tag = "locate",
    params(LocateParams),
    responses(
        (status = 200, description = "The owning grid", body = LocateResponse),
        (status = 400, description = "Bad parameters", body = super::error::ErrorBody),
        (status = 404, description = "Outside coverage; `details.fallback_owner` is the district queue", body = super::error::ErrorBody),
    ))]
pub(crate) async fn locate(
    State(state): State<AppState>,
    caller: axum::Extension<super::auth::Caller>,
    ApiQuery(q): ApiQuery<LocateParams>,
) -> Result<Json<LocateResponse>, ApiError> {
    let LocateParams {
        lon,
        lat,
        crs,
        snap_m,
    } = q;
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(ApiError::bad_request(
            "out_of_range",
            format!(
                "lon={lon}, lat={lat} is not a WGS84/GCJ-02/BD-09 position (lon −180..180, lat −90..90)"
            ),
        ));
    }
    if !(0.0..=MAX_SNAP_M).contains(&snap_m) {
        return Err(ApiError::bad_request(
            "out_of_range",
            format!("snap_m={snap_m} must be between 0 and {MAX_SNAP_M} metres"),
        ));
    }
    let (x, y) = to_wgs84(crs, lon, lat);
    let live = state.0.live.load();
    let input = LocateInput { lon, lat, crs };
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
            .map(|u| UnitRef {
                code: u["code"].clone(),
                name: u["name"].clone(),
            })
    };
    let community = prop("community");
    let (worker, duty) = refs.on_duty(&g.key, community.as_str().unwrap_or_default(), state.now());
    Ok(Json(LocateResponse {
        grid: GridRef {
            key: g.key.clone(),
            name: prop("name"),
            kind: prop("kind"),
        },
        community: unit(&community),
        street: unit(&prop("street")),
        worker: worker.map(|w| WorkerOnDuty {
            id: w["id"].clone(),
            name: w["name"].clone(),
            // Callers who may not read the workers' contact details (citizens, integrations)
            // see the worker's name and a masked phone.
            phone: crate::auth::worker_phone(&caller.0.0, w),
            role: w["role"].clone(),
            duty,
        }),
        snapped_m: hit.snapped_m,
        input,
        wgs84: [x, y],
        layer: live.layer_id,
    }))
}
