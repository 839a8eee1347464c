//! Vector tiles of the published grids: `GET /tiles/grids/{z}/{x}/{y}.mvt`.
//!
//! On PostGIS the database makes the tile (`ST_AsMVT`, see the store); on SQLite it is encoded
//! in process from the live index ([`crate::spatial::tile`]). Both give the same features:
//! layer `grids`, one polygon per grid reaching the tile, tags `code`, `name`, `street`,
//! `community`. Tiles carry the layer version as their `ETag`, so a map revalidates them
//! cheaply and sees a new publish at once.

use super::extract::ApiPath;
use super::{ApiError, AppState, Live};
use crate::spatial::tile::{LayerBuilder, TileId, encode};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use geozero::mvt::TileValue;

/// The media type of Mapbox Vector Tiles.
pub const MVT_MEDIA_TYPE: &str = "application/vnd.mapbox-vector-tile";

/// Grids at or above this many candidates are encoded off the async workers.
const BLOCKING_FROM: usize = 2_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/tiles/grids/{z}/{x}/{file}", get(grid_tile))
}

/// The published grids as a Mapbox Vector Tile (MVT 2.1, extent 4096, buffer 64, EPSG:3857
/// XYZ scheme): layer `grids`, tags `code`, `name`, `street`, `community`. An empty body when
/// no grid reaches the tile. `ETag` is the published layer version (`If-None-Match` → 304).
#[utoipa::path(get, path = "/tiles/grids/{z}/{x}/{file}", tag = "grids",
    params(("z" = u32, Path, description = "zoom, 0–24"),
           ("x" = u32, Path, description = "column, 0 to 2^z − 1"),
           ("file" = String, Path, description = "`{y}.mvt`: y is the row from the north, 0 to 2^z − 1")),
    responses((status = 200, description = "application/vnd.mapbox-vector-tile", content_type = "application/vnd.mapbox-vector-tile"),
              (status = 304, description = "unchanged since the ETag given"),
              (status = 400, body = super::error::ErrorBody)))]
pub(crate) async fn grid_tile(
    State(state): State<AppState>,
    ApiPath((z, x, file)): ApiPath<(u32, u32, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let y = file
        .strip_suffix(".mvt")
        .and_then(|y| y.parse::<u32>().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_tile",
                format!("{file:?} is not a tile row: expected {{y}}.mvt, e.g. 1596.mvt"),
            )
        })?;
    let tile =
        TileId::new(z, x, y).map_err(|e| ApiError::bad_request("invalid_tile", e.to_string()))?;
    let live = state.0.live.load_full();
    let etag = format!("\"{}\"", live.layer_id);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let bytes = match state.0.store.grid_tile(live.layer_id, tile).await? {
        Some(bytes) => bytes,
        None => {
            let candidates = live.locator.intersecting_envelope(tile.query_rect());
            if candidates.len() < BLOCKING_FROM {
                grid_tile_bytes(&live, tile, &candidates)
            } else {
                tokio::task::spawn_blocking(move || grid_tile_bytes(&live, tile, &candidates))
                    .await
                    .map_err(|e| ApiError::internal(&e))?
            }
        }
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(MVT_MEDIA_TYPE),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::ETAG,
                HeaderValue::from_str(&etag).map_err(|e| ApiError::internal(&e))?,
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The tile of `live`'s grids `candidates` (indices whose bounding boxes reach the tile),
/// encoded in process.
pub fn grid_tile_bytes(live: &Live, tile: TileId, candidates: &[usize]) -> Vec<u8> {
    let mut order = candidates.to_vec();
    order.sort_unstable();
    let mut layer = LayerBuilder::new(tile, "grids");
    let mut tags = Vec::with_capacity(4);
    for i in order {
        let grid = &live.layer.grids[i];
        tags.clear();
        tags.push(("code", TileValue::Str(grid.key.clone())));
        for key in ["name", "street", "community"] {
            if let Some(v) = grid.properties.get(key).and_then(serde_json::Value::as_str) {
                tags.push((key, TileValue::Str(v.to_owned())));
            }
        }
        layer.polygon(&grid.geometry, &tags);
    }
    encode([layer])
}
