//! The district's reference data: `GET /api/v1/streets`, `/communities` (GeoJSON), `/workers`,
//! `/departments` and `/categories`.

use super::{ApiError, AppState};
use crate::cases::sla::Urgency;
use crate::store::{RefItem, RefKind};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/streets", get(streets))
        .route("/api/v1/communities", get(communities))
        .route("/api/v1/workers", get(workers))
        .route("/api/v1/departments", get(departments))
        .route("/api/v1/categories", get(categories))
}

/// Properties of a street/town or community/village.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitProperties {
    /// Statistical code (NBS): 9 digits for a street, 12 for a community.
    pub code: String,
    /// `street` or `community`.
    pub kind: String,
    /// Official name.
    pub name: String,
    /// Short name (communities).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    /// The street a community belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// True when the outline is synthetic (demo data).
    #[serde(default)]
    pub synthetic_geometry: bool,
}

/// A street or community as a GeoJSON Feature.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its code.
    pub id: String,
    /// Its properties.
    pub properties: UnitProperties,
    /// Its outline (Polygon or MultiPolygon, WGS84).
    #[schema(value_type = Object)]
    pub geometry: Option<Value>,
}

/// Streets or communities as a GeoJSON FeatureCollection.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The units, in code order.
    pub features: Vec<UnitFeature>,
}

/// A grid worker or another grid role.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Worker {
    /// Worker id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// `grid_worker`, `cadre`, `department_liaison`, `building_head` or `volunteer`.
    pub role: String,
    /// The role in Chinese (网格员, …).
    #[serde(default)]
    pub role_zh: String,
    /// `male` or `female`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// `grid`, `community` or `street`: the level the role serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Grid codes served.
    #[serde(default)]
    pub grids: Vec<String>,
    /// Community code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_code: Option<String>,
    /// Street code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_code: Option<String>,
    /// Building (building heads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building: Option<String>,
    /// Volunteer team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Employer (cadres).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Department code (department liaisons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Office schedule (grid workers): days, hours, time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub schedule: Option<Value>,
}

/// Answer of `GET /api/v1/workers`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkerList {
    /// Every worker.
    pub workers: Vec<Worker>,
}

/// A department, utility or mediation committee.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Department {
    /// `D01`… or `M01`….
    pub code: String,
    /// `department`, `utility` or `mediation-committee`.
    pub kind: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Category codes it takes.
    #[serde(default)]
    pub handles: Vec<String>,
}

/// Answer of `GET /api/v1/departments`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DepartmentList {
    /// Departments, utilities and mediation committees.
    pub departments: Vec<Department>,
}

/// Who owns a case of a category by default.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Handler {
    /// True: the grid worker (小事一网解决).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<bool>,
    /// A department code (大事多级联动).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

/// An appeal category.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    /// `C01`….
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Default urgency at triage.
    pub urgency: Urgency,
    /// Default owner.
    pub handler: Handler,
}

/// Answer of `GET /api/v1/categories`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryList {
    /// The categories.
    pub categories: Vec<Category>,
}

/// Decodes stored items; a stored item of the wrong shape is an internal error naming it.
fn decode<T: DeserializeOwned>(kind: RefKind, items: &[RefItem]) -> Result<Vec<T>, ApiError> {
    items
        .iter()
        .map(|i| {
            T::deserialize(&i.properties).map_err(|e| {
                ApiError::internal(&format!("stored {kind} item {:?} is malformed: {e}", i.key))
            })
        })
        .collect()
}

fn units(state: &AppState, kind: RefKind) -> Result<Json<UnitCollection>, ApiError> {
    let refs = state.0.refs.load();
    let items = refs.list(kind);
    let features = decode::<UnitProperties>(kind, items)?
        .into_iter()
        .zip(items)
        .map(|(properties, item)| UnitFeature {
            kind: "Feature",
            id: item.key.clone(),
            properties,
            geometry: item.geometry.clone(),
        })
        .collect();
    Ok(Json(UnitCollection {
        kind: "FeatureCollection",
        features,
    }))
}

/// Streets and towns (街道/镇) with their outlines.
#[utoipa::path(get, path = "/api/v1/streets", tag = "district",
    responses((status = 200, description = "GeoJSON FeatureCollection", body = UnitCollection)))]
pub(crate) async fn streets(
    State(state): State<AppState>,
) -> Result<Json<UnitCollection>, ApiError> {
    units(&state, RefKind::Streets)
}

/// Communities and villages (社区/村) with their outlines.
#[utoipa::path(get, path = "/api/v1/communities", tag = "district",
    responses((status = 200, description = "GeoJSON FeatureCollection", body = UnitCollection)))]
pub(crate) async fn communities(
    State(state): State<AppState>,
) -> Result<Json<UnitCollection>, ApiError> {
    units(&state, RefKind::Communities)
}

/// Grid workers and the other grid roles.
#[utoipa::path(get, path = "/api/v1/workers", tag = "district",
    responses((status = 200, body = WorkerList)))]
pub(crate) async fn workers(State(state): State<AppState>) -> Result<Json<WorkerList>, ApiError> {
    let refs = state.0.refs.load();
    Ok(Json(WorkerList {
        workers: decode(RefKind::Workers, refs.list(RefKind::Workers))?,
    }))
}

/// Departments, utilities and mediation committees.
#[utoipa::path(get, path = "/api/v1/departments", tag = "district",
    responses((status = 200, body = DepartmentList)))]
pub(crate) async fn departments(
    State(state): State<AppState>,
) -> Result<Json<DepartmentList>, ApiError> {
    let refs = state.0.refs.load();
    Ok(Json(DepartmentList {
        departments: decode(RefKind::Departments, refs.list(RefKind::Departments))?,
    }))
}

/// Appeal categories with their default urgency and owner.
#[utoipa::path(get, path = "/api/v1/categories", tag = "district",
    responses((status = 200, body = CategoryList)))]
pub(crate) async fn categories(
    State(state): State<AppState>,
) -> Result<Json<CategoryList>, ApiError> {
    let refs = state.0.refs.load();
    Ok(Json(CategoryList {
        categories: decode(RefKind::Categories, refs.list(RefKind::Categories))?,
    }))
}
