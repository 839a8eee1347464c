//! The HTTP service: one router per resource merged at the root, one shared [`AppState`].
//!
//! The published grid layer lives in memory as a [`Live`] index behind an atomic pointer
//! (`ArcSwap`): a request takes a snapshot once and finishes on it, and a publish builds the new
//! index completely before swapping it in, so no request ever sees a half-built index and
//! readers never block.

mod audits;
pub mod auth;
pub mod cases;
mod district;
pub mod error;
mod extract;
pub mod grids;
mod incidents;
mod layers;
pub mod limits;
mod locate;
mod media;
pub mod metrics;
pub mod open311;
pub mod openapi;
pub mod refs;
pub mod tiles;
pub mod web;

use crate::spatial::{GridLayer, Locator};
use crate::store::{RefItem, RefKind, Store, StoreError};
use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::collections::HashMap;
use std::sync::Arc;

pub use cases::{escalate_overdue, spawn_escalation_ticker};
pub use error::ApiError;
pub use refs::Refs;

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
    /// The codes of the grids whose property `unit` (`community` or `street`) is `code`.
    pub fn grids_in(&self, unit: &str, code: &str) -> Vec<String> {
        self.layer
            .grids
            .iter()
            .filter(|g| g.properties.get(unit).and_then(serde_json::Value::as_str) == Some(code))
            .map(|g| g.key.clone())
            .collect()
    }

    /// Grid `grid`'s `unit` (`community` or `street`) code, if the grid is published.
    pub fn unit_of(&self, grid: &str, unit: &str) -> Option<&str> {
        let i = *self.by_key.get(grid)?;
        self.layer.grids[i]
            .properties
            .get(unit)
            .and_then(serde_json::Value::as_str)
    }

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

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

/// What [`AppState`] holds.
pub struct App {
    /// The database.
    pub store: Store,
    /// The published layer's index, swapped atomically on publish.
    pub live: ArcSwap<Live>,
    /// Reference data, swapped when it changes.
    pub refs: ArcSwap<Refs>,
    /// Request counters for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Serializes publishing and reloading within this process, so the index served is always
    /// the layer of the last recorded publish.
    pub publish_lock: tokio::sync::Mutex<()>,
    /// The service level cases run on.
    pub sla: crate::cases::sla::SlaPolicy,
    /// Where case media are stored (`DATA_DIR/media`); unset: uploads answer 503.
    pub media_dir: std::sync::OnceLock<std::path::PathBuf>,
    /// The basemap the maps draw under the district's own layers (`serve --basemap-style`);
    /// unset: none, and no page requests anything from another origin.
    pub basemap: std::sync::OnceLock<web::Basemap>,
    /// When the session cookie is `Secure` (`serve --secure-cookies`; unset: `auto`).
    pub secure_cookies: std::sync::OnceLock<auth::SecureCookies>,
    /// The last database check of `/healthz`: when, and its outcome.
    pub health: std::sync::Mutex<Option<(std::time::Instant, Result<(), String>)>>,
    /// The last draft layer checked (`POST /api/v1/layers/{id}/check`) with its index, so a
    /// planner's repeated checks on one draft cost milliseconds.
    pub draft: std::sync::Mutex<Option<Arc<Live>>>,
    /// Rate limits on the public doors (`serve` sets them; unset: no limit).
    pub limiter: std::sync::OnceLock<limits::Limiter>,
    /// Case changes, for `/api/v1/events` subscribers (from every process with PostgreSQL).
    pub case_events: tokio::sync::broadcast::Sender<cases::CaseChange>,
    /// The time cases run on.
    pub clock: Clock,
}

/// The time the case engine works at: the system clock, or a replay clock that a driver sets
/// while it feeds past reports and actions through the engine (the demo district's year of
/// history, loaded before the server listens).
#[derive(Debug, Default)]
pub struct Clock(std::sync::atomic::AtomicI64);

impl Clock {
    /// Unix seconds: the replay time when one is set, else the system clock.
    pub fn now(&self) -> i64 {
        match self.0.load(std::sync::atomic::Ordering::Acquire) {
            0 => now_s(),
            t => t,
        }
    }

    /// Sets the replay time (Unix seconds, not 0).
    pub fn set(&self, unix_s: i64) {
        self.0.store(unix_s, std::sync::atomic::Ordering::Release);
    }

    /// Back to the system clock.
    pub fn release(&self) {
        self.0.store(0, std::sync::atomic::Ordering::Release);
    }
}

impl AppState {
    /// The time cases run on now (see [`Clock`]), Unix seconds.
    pub fn now(&self) -> i64 {
        self.0.clock.now()
    }

    /// Loads the published layer and the reference data from the store. Fails when stored
    /// reference data cannot be read (e.g. a corrupt working calendar).
    pub async fn load(store: Store) -> Result<AppState, StoreError> {
        AppState::load_with(store, crate::cases::sla::SlaPolicy::default()).await
    }

    /// [`AppState::load`] with a service-level policy (the `--sla` file).
    pub async fn load_with(
        store: Store,
        sla: crate::cases::sla::SlaPolicy,
    ) -> Result<AppState, StoreError> {
        let live = load_live(&store).await?;
        let refs = load_refs(&store).await?;
        Ok(AppState(Arc::new(App {
            store,
            live: ArcSwap::from_pointee(live),
            refs: ArcSwap::from_pointee(refs),
            metrics: metrics::Metrics::default(),
            publish_lock: tokio::sync::Mutex::new(()),
            sla,
            case_events: tokio::sync::broadcast::channel(1024).0,
            media_dir: std::sync::OnceLock::new(),
            basemap: std::sync::OnceLock::new(),
            secure_cookies: std::sync::OnceLock::new(),
            limiter: std::sync::OnceLock::new(),
            health: std::sync::Mutex::new(None),
            draft: std::sync::Mutex::new(None),
            clock: Clock::default(),
        })))
    }

    /// Replaces the reference items of one kind and swaps the in-memory copy (other processes
    /// on the same PostgreSQL database reload on the announcement).
    pub async fn put_reference(&self, kind: RefKind, items: &[RefItem]) -> Result<(), StoreError> {
        self.0.store.put_reference(kind, items).await?;
        self.reload_refs().await
    }

    /// Reloads the reference data from the store and swaps it in.
    pub async fn reload_refs(&self) -> Result<(), StoreError> {
        let refs = load_refs(&self.0.store).await?;
        self.0.refs.store(Arc::new(refs));
        Ok(())
    }
}

async fn load_refs(store: &Store) -> Result<Refs, StoreError> {
    let mut items = HashMap::new();
    for kind in RefKind::ALL {
        items.insert(kind, store.reference(kind).await?);
    }
    let refs = Refs::build(items)?;
    let year = crate::cases::calendar::shanghai_local(now_s()).0.year;
    match &refs.roster.calendar {
        Some(c) if c.year != year => tracing::warn!(
            calendar = c.year,
            year,
            "no working calendar for this year: office hours follow the plain Monday–Friday week"
        ),
        None => tracing::warn!(
            "no working calendar stored: office hours follow the plain Monday–Friday week"
        ),
        Some(_) => {}
    }
    Ok(refs)
}

/// The current Unix time in seconds (the system clock; [`Clock`] is what cases run on).
pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

async fn load_live(store: &Store) -> Result<Live, StoreError> {
    match store.publishes().await?.into_iter().next() {
        Some(event) => Live::load(store, event.layer_id).await,
        None => Ok(Live::build(0, GridLayer::default())),
    }
}

/// Keeps this process in step with others on the same PostgreSQL database: reloads the
/// published layer when a publish is announced and the reference data when it changes. Runs
/// until the process ends; reconnects after errors and catches up on what it missed.
pub fn spawn_change_listener(state: AppState) {
    let crate::store::Store::Postgres(pg) = &state.0.store else {
        return;
    };
    let pg = pg.clone();
    tokio::spawn(async move {
        loop {
            let mut listener = match pg.listen_changes().await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "change listener: cannot listen; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            // Catch up on anything changed while not listening.
            if let Err(e) = refresh(&state).await {
                tracing::warn!(error = %e, "change listener: refresh failed");
            }
            if let Err(e) = state.reload_refs().await {
                tracing::warn!(error = %e, "change listener: reference reload failed");
            }
            loop {
                let n = match listener.recv().await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "change listener: connection lost; reconnecting");
                        break;
                    }
                };
                if n.channel() == crate::store::postgres::CASE_CHANNEL {
                    match serde_json::from_str::<cases::CaseChange>(n.payload()) {
                        Ok(change) => {
                            let _ = state.0.case_events.send(change);
                        }
                        Err(e) => tracing::warn!(error = %e, "unreadable case announcement"),
                    }
                    continue;
                }
                let result = if n.channel() == crate::store::postgres::REFERENCE_CHANNEL {
                    tracing::info!(kind = n.payload(), "reference data changed");
                    state.reload_refs().await
                } else {
                    tracing::info!(layer = n.payload(), "publish announced");
                    refresh(&state).await
                };
                if let Err(e) = result {
                    tracing::warn!(error = %e, "change listener: reload failed");
                }
            }
        }
    });
}

/// Swaps in the layer of the last recorded publish if it is not the one being served.
pub async fn refresh(state: &AppState) -> Result<(), StoreError> {
    let _turn = state.0.publish_lock.lock().await;
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
        .merge(tiles::router())
        .merge(district::router())
        .merge(layers::router())
        .merge(cases::router())
        .merge(audits::router())
        .merge(incidents::router())
        .merge(media::router())
        .route("/metrics", axum::routing::get(metrics::metrics))
        .route("/api/openapi.json", axum::routing::get(openapi::openapi))
        .merge(auth::router())
        .merge(open311::router())
        .merge(web::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::throttle,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                refuse_declared_oversize(max_body_bytes, req, next)
            },
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Every answer, API and errors included, carries `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: no-referrer` and a Content-Security-Policy (the pages' own, with their
/// basemap origin, is kept; anything else gets the strict page policy).
async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(web::CSP));
    r
}

/// Refuses a request whose declared `Content-Length` is over the limit with 413 before any of
/// its body is read (a body without a declared length is cut off at the limit while read).
async fn refuse_declared_oversize(
    limit: usize,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > limit as u64) {
        return ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "the request body declares {n} bytes; the limit is {limit} bytes (serve --max-body-mb)"
            ),
        )
        .with_details(serde_json::json!({"declared_bytes": n, "limit_bytes": limit}))
        .into_response();
    }
    next.run(req).await
}

/// Any other path: 404 in the one error shape.
async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no resource {}; see /api/openapi.json for the routes",
        uri.path()
    ))
}
