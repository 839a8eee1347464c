//! The service in-process on a fresh database of each backend, and one-call HTTP helper.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]

use super::{fresh_pg_database, postgres_admin_url};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tessera::demo::seed::SeedSource;
use tessera::http::{AppState, app};
use tessera::spatial::GridLayer;
use tessera::spatial::layer::{KeySource, read_layer};
use tessera::store::Store;
use tower::ServiceExt;

/// The demo district in the repository.
pub fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("geodata/zhangdian")
}

/// The demo district's grids.
pub fn demo_layer() -> GridLayer {
    let text = std::fs::read_to_string(seed_dir().join("grids.geojson")).unwrap();
    read_layer(&text, &KeySource::Default).unwrap()
}

/// A fresh, empty database of one backend.
pub enum Db {
    /// A SQLite file in a temporary folder.
    Sqlite(tempfile::TempDir),
    /// A PostgreSQL database URL.
    Postgres(String),
}

/// Both backends; PostgreSQL only when a test cluster is configured (required when
/// `TESSERA_REQUIRE_POSTGRES` is set, as `scripts/test.sh` does).
pub async fn databases(test: &str) -> Vec<Db> {
    let mut out = vec![Db::Sqlite(tempfile::tempdir().unwrap())];
    if let Some(admin) = postgres_admin_url(test) {
        out.push(Db::Postgres(fresh_pg_database(&admin).await));
    }
    out
}

/// Opens `db`, seeds the demo district and loads the service state.
pub async fn start(db: &Db) -> AppState {
    let store = match db {
        Db::Sqlite(dir) => Store::open(None, dir.path()).await.unwrap(),
        Db::Postgres(url) => Store::open(Some(url), Path::new("unused")).await.unwrap(),
    };
    tessera::demo::seed::seed_if_empty(&store, &SeedSource::dir(&seed_dir()).unwrap())
        .await
        .unwrap();
    AppState::load(store).await.unwrap()
}

/// Like [`start`], with the demo district's year of sample cases loaded.
pub async fn start_with_history(db: &Db) -> AppState {
    let store = match db {
        Db::Sqlite(dir) => Store::open(None, dir.path()).await.unwrap(),
        Db::Postgres(url) => Store::open(Some(url), Path::new("unused")).await.unwrap(),
    };
    let source = SeedSource::dir(&seed_dir()).unwrap();
    assert!(
        tessera::demo::seed::seed_if_empty(&store, &source)
            .await
            .unwrap()
    );
    let state = AppState::load(store).await.unwrap();
    tessera::demo::seed::drive_sample_history(&state, &source)
        .await
        .unwrap();
    state
}

/// One request through the router; the status and the JSON body (null if not JSON).
pub async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Option<String>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, v)
}
