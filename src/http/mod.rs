//! The HTTP service: one router per resource merged at the root, one shared [`AppState`].
//!
//! The published grid layer lives in memory as a [`Live`] index behind an atomic pointer
//! (`ArcSwap`): a request takes a snapshot once and finishes on it, and a publish builds the new
//! index completely before swapping it in, so no request ever sees a half-built index and
//! readers never block.

pub mod error;
mod grids;
mod layers;
mod locate;
pub mod metrics;
pub mod openapi;

use crate::spatial::{GridLayer, Locator};
use crate::store::{RefItem, Store, StoreError};
use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub use error::ApiError;

/// Largest accepted request body (a grid layer upload), bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The published layer, indexed for location.
#[derive(Debug)]
pub struct Live {
    /// Layer version id (0 when nothing is published).
    pub layer_id: i64,
    /// The grids.
    pub layer: GridLayer,
    /// Point location over the grids.
    pub locator: Locator,
    /// Grid index by key.
    pub by_key: HashMap<String, usize>,
    /// The layer's outline (union), the boundary drafts are validated against.
    pub outline: geo_types::MultiPolygon<f64>,
}

impl Live {
    /// Builds the index of a layer (CPU work: call from a blocking thread for big layers).
    pub fn build(layer_id: i64, layer: GridLayer) -> Live {
        let geoms = layer.geometries();
        let locator = Locator::new(&geoms);
        let outline = crate::spatial::coverage::union(&geoms);
        let by_key = layer
            .grids
            .iter()
            .enumerate()
            .map(|(i, g)| (g.key.clone(), i))
            .collect();
        Live {
            layer_id,
            layer,
            locator,
            by_key,
            outline,
        }
    }

    /// Loads layer version `id` from the store and builds its index on a blocking thread.
    pub async fn load(store: &Store, id: i64) -> Result<Live, StoreError> {
        let layer = store.layer_grids(id).await?;
        tokio::task::spawn_blocking(move || Live::build(id, layer))
            .await
            .map_err(|e| StoreError::Corrupt(format!("index build failed: {e}")))
    }
}

/// Reference data of the district, cached in memory.
#[derive(Debug, Default)]
pub struct Refs {
    /// Items by kind (`streets`, `communities`, `workers`, `departments`, `categories`).
    pub items: HashMap<String, Vec<RefItem>>,
    /// The full-time grid worker of each grid, by grid code.
    pub worker_of_grid: HashMap<String, Value>,
    /// Community and street properties by code.
    pub unit_by_code: HashMap<String, Value>,
    /// Every worker by id.
    pub worker_by_id: HashMap<String, Value>,
    /// Each community's on-call worker ids, in week order.
    pub on_call: HashMap<String, Vec<String>>,
    /// The working calendar (none: every weekday is a working day).
    pub calendar: Option<crate::demo::calendar::WorkingCalendar>,
}

impl Refs {
    fn build(items: HashMap<String, Vec<RefItem>>) -> Refs {
        let mut worker_of_grid = HashMap::new();
        for w in items.get("workers").into_iter().flatten() {
            if w.properties["role"] == "grid_worker" {
                for g in w.properties["grids"].as_array().into_iter().flatten() {
                    if let Some(code) = g.as_str() {
                        worker_of_grid.insert(code.to_string(), w.properties.clone());
                    }
                }
            }
        }
        let mut unit_by_code = HashMap::new();
        for kind in ["streets", "communities"] {
            for item in items.get(kind).into_iter().flatten() {
                unit_by_code.insert(item.key.clone(), item.properties.clone());
            }
        }
        let worker_by_id = items
            .get("workers")
            .into_iter()
            .flatten()
            .map(|w| (w.key.clone(), w.properties.clone()))
            .collect();
        let on_call = items
            .get(crate::demo::seed::ON_CALL)
            .into_iter()
            .flatten()
            .map(|r| {
                let ids = r.properties["rota"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["worker_id"].as_str().map(str::to_string))
                    .collect();
                (r.key.clone(), ids)
            })
            .collect();
        let calendar = items
            .get(crate::demo::seed::CALENDAR)
            .and_then(|v| v.first())
            .and_then(|c| c.properties["csv"].as_str())
            .and_then(|csv| crate::demo::calendar::WorkingCalendar::parse(csv).ok());
        Refs {
            items,
            worker_of_grid,
            unit_by_code,
            worker_by_id,
            on_call,
            calendar,
        }
    }

    /// The worker answering for grid `grid` of community `community` at Unix time `now_s`, and
    /// whether that is the grid's office-hours worker or the on-call one.
    pub fn on_duty(
        &self,
        grid: &str,
        community: &str,
        now_s: i64,
    ) -> (Option<&Value>, &'static str) {
        use crate::cases::duty::{Duty, duty_at, on_call};
        let duty = match &self.calendar {
            Some(c) => duty_at(now_s, c),
            None => Duty::Office,
        };
        match duty {
            Duty::Office => (self.worker_of_grid.get(grid), "office"),
            Duty::OnCall { week } => {
                let w = self
                    .on_call
                    .get(community)
                    .and_then(|rota| on_call(rota, week))
                    .and_then(|id| self.worker_by_id.get(id))
                    .or_else(|| self.worker_of_grid.get(grid));
                (w, "on_call")
            }
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

/// What [`AppState`] holds.
pub struct App {
    /// The database.
    pub store: Store,
    /// The published layer's index, swapped atomically on publish.
    pub live: ArcSwap<Live>,
    /// Reference data.
    pub refs: ArcSwap<Refs>,
    /// Request counters for `/metrics`.
    pub metrics: metrics::Metrics,
}

/// The kinds of reference data the service serves.
pub const REF_KINDS: [&str; 5] = [
    "streets",
    "communities",
    "workers",
    "departments",
    "categories",
];

/// Reference kinds loaded for internal use only (not served as resources).
const INTERNAL_KINDS: [&str; 2] = [crate::demo::seed::ON_CALL, crate::demo::seed::CALENDAR];

impl AppState {
    /// Loads the published layer and the reference data from the store.
    pub async fn load(store: Store) -> Result<AppState, StoreError> {
        let live = load_live(&store).await?;
        let mut items = HashMap::new();
        for kind in REF_KINDS.into_iter().chain(INTERNAL_KINDS) {
            items.insert(kind.to_string(), store.reference(kind).await?);
        }
        Ok(AppState(Arc::new(App {
            store,
            live: ArcSwap::from_pointee(live),
            refs: ArcSwap::from_pointee(Refs::build(items)),
            metrics: metrics::Metrics::default(),
        })))
    }
}

async fn load_live(store: &Store) -> Result<Live, StoreError> {
    match store.publishes().await?.into_iter().next() {
        Some(event) => Live::load(store, event.layer_id).await,
        None => Ok(Live::build(0, GridLayer::default())),
    }
}

/// Reloads the published layer when another process publishes (PostgreSQL only: LISTEN on the
/// publish channel). Runs until the process ends; reconnects after errors.
pub fn spawn_publish_listener(state: AppState) {
    let crate::store::Store::Postgres(pg) = &state.0.store else {
        return;
    };
    let pg = pg.clone();
    tokio::spawn(async move {
        loop {
            let mut listener = match pg.listen_publishes().await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "publish listener: cannot listen; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            // Catch up on anything published while not listening.
            if let Err(e) = refresh(&state).await {
                tracing::warn!(error = %e, "publish listener: refresh failed");
            }
            loop {
                match listener.recv().await {
                    Ok(n) => {
                        tracing::info!(layer = n.payload(), "publish announced");
                        if let Err(e) = refresh(&state).await {
                            tracing::warn!(error = %e, "publish listener: refresh failed");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "publish listener: connection lost; reconnecting");
                        break;
                    }
                }
            }
        }
    });
}

/// Swaps in the published layer if it is not the one being served.
pub async fn refresh(state: &AppState) -> Result<(), StoreError> {
    let Some(event) = state.0.store.publishes().await?.into_iter().next() else {
        return Ok(());
    };
    if state.0.live.load().layer_id == event.layer_id {
        return Ok(());
    }
    let live = Live::load(&state.0.store, event.layer_id).await?;
    state.0.live.store(Arc::new(live));
    tracing::info!(layer = event.layer_id, "serving the newly published layer");
    Ok(())
}

/// The application router (no listener) with the default body limit: used by tests.
pub fn app(state: AppState) -> Router {
    app_with_limit(state, MAX_BODY_BYTES)
}

/// The application router with a request body limit in bytes (larger bodies get 413).
pub fn app_with_limit(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .merge(locate::router())
        .merge(grids::router())
        .merge(layers::router())
        .route("/metrics", axum::routing::get(metrics::metrics))
        .route("/api/openapi.json", axum::routing::get(openapi::openapi))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}
