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
use tessera::auth::{Permission, Role, Scope};
use tessera::demo::seed::SeedSource;
use tessera::http::auth::{Access, ROUTES, action_permission, route_access};
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
    let state = AppState::load(store).await.unwrap();
    add_test_keys(&state).await;
    state
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
    add_test_keys(&state).await;
    state
}

/// The API key the tests hold for `role` (each role has one, scoped to the whole district).
pub fn test_key(role: Role) -> String {
    format!("tsk_test_{}", role.as_str())
}

/// Gives `state` one district-wide API key per role ([`test_key`]).
pub async fn add_test_keys(state: &AppState) {
    for role in Role::ALL {
        let hash = tessera::auth::secret::token_hash(&test_key(role));
        if state.0.store.api_key(&hash).await.unwrap().is_some() {
            continue;
        }
        state
            .0
            .store
            .insert_api_key(
                &format!("test-{}", role.as_str()),
                role,
                &Scope::District,
                &hash,
                0,
            )
            .await
            .unwrap();
    }
}

/// The route pattern of [`tessera::http::auth::ROUTES`] that `path` (no query) matches.
/// Adds API key `key` named `name` with `role` and `scope` (a scoped caller for a test).
pub async fn scoped_key(state: &AppState, name: &str, key: &str, role: Role, scope: Scope) {
    state
        .0
        .store
        .insert_api_key(
            name,
            role,
            &scope,
            &tessera::auth::secret::token_hash(key),
            0,
        )
        .await
        .unwrap();
}

pub fn route_of(method: &str, path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.split('/').collect();
    ROUTES.iter().find_map(|(m, p, _)| {
        let ps: Vec<&str> = p.split('/').collect();
        (*m == method
            && ps.len() == segs.len()
            && ps
                .iter()
                .zip(&segs)
                .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}'))))
        .then_some(*p)
    })
}

/// The role the tests call a route as: none for public routes, else the first role in
/// `Dispatcher, Planner, Supervisor, GridWorker, DepartmentStaff, Admin, HotlineOperator,
/// Integration` that the permission table lets through (for case actions, by the action).
pub fn role_for(method: &str, uri: &str, body: Option<&str>) -> Option<Role> {
    let path = uri.split('?').next().unwrap_or(uri);
    // Intake is open to citizens; the other channels need a role that may submit them.
    if method == "POST" && path == "/api/v1/cases" {
        let channel = body
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .and_then(|v| v["channel"].as_str().map(str::to_string));
        return match channel.as_deref() {
            Some("hotline" | "walk_in" | "open311") => Some(Role::HotlineOperator),
            Some("patrol") => Some(Role::GridWorker),
            _ => None,
        };
    }
    let need = match route_of(method, path).map(|p| route_access(method, p)) {
        None | Some(Access::Public) => return None,
        Some(Access::Need(p)) => p,
        Some(Access::Staff) => {
            let action = body
                .and_then(|b| serde_json::from_str::<Value>(b).ok())
                .and_then(|v| v["action"].as_str().map(str::to_string))
                .unwrap_or_default();
            if action.is_empty() {
                Permission::ReadCases
            } else {
                action_permission(&action)
            }
        }
    };
    [
        Role::Dispatcher,
        Role::Planner,
        Role::Supervisor,
        Role::GridWorker,
        Role::DepartmentStaff,
        Role::Admin,
        Role::HotlineOperator,
        Role::Integration,
    ]
    .into_iter()
    .find(|r| r.may(need))
}

/// One request through the router as a role that may make it (see [`role_for`]); the status
/// and the JSON body (null if not JSON).
pub async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Option<String>,
) -> (StatusCode, Value) {
    let role = role_for(method, uri, body.as_deref());
    call_as(state, role.map(test_key).as_deref(), method, uri, body).await
}

/// One request through the router with `key` as its bearer API key (none: anonymous).
pub async fn call_as(
    state: &AppState,
    key: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<String>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let req = req
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, v)
}

/// The `id`s of an array of objects (a page of cases, an audit's sample), sorted.
#[allow(dead_code, reason = "not every test binary lists cases")]
pub fn sorted_ids(items: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = items
        .as_array()
        .expect("an array")
        .iter()
        .map(|c| c["id"].as_i64().expect("an id"))
        .collect();
    ids.sort_unstable();
    ids
}
