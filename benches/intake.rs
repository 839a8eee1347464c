//! Case intake throughput through the whole service (one router, routing, durable commits) for
//! reports spread over every grid and category (no mass incident forms), on an
//! embedded SQLite file and, when `TESSERA_TEST_DATABASE_URL` names a PostgreSQL server, on a
//! fresh PostGIS database.
//!
//!     cargo bench --bench intake [-- N CONCURRENCY]
//!
//! Prints `intake <backend>: N cases in S s = R cases/s (C concurrent)`.

use axum::body::Body;
use axum::http::Request;
use std::path::Path;
use tessera::demo::seed::{SeedSource, seed_if_empty};
use tessera::http::{AppState, app};
use tessera::store::Store;
use tower::ServiceExt;

async fn run(store: Store, backend: &str, n: usize, concurrency: usize) {
    seed_if_empty(&store, &SeedSource::Embedded).await.unwrap();
    let state = AppState::load(store).await.unwrap();
    let layer = &state.0.live.load().layer;
    let pins: Vec<(f64, f64)> = layer
        .grids
        .iter()
        .map(|g| {
            use geo::InteriorPoint;
            let p = g.geometry.interior_point().unwrap();
            (p.x(), p.y())
        })
        .collect();
    let categories: Vec<String> = state
        .0
        .refs
        .load()
        .list(tessera::store::RefKind::Categories)
        .iter()
        .map(|c| c.key.clone())
        .collect();
    // One router for the run, as `serve` has.
    let router = app(state.clone());
    let started = std::time::Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (router, next, pins) = (router.clone(), next.clone(), pins.clone());
            let categories = categories.clone();
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    // Every grid in turn, every category in turn (a mix of grid- and
                    // department-level matters, as the district's reports are).
                    let (lon, lat) = pins[i % pins.len()];
                    let category = &categories[i % categories.len()];
                    let body = format!(
                        r#"{{"channel":"citizen","category":"{category}","description":"bench {i}","lon":{lon},"lat":{lat}}}"#
                    );
                    let req = Request::builder()
                        .method("POST")
                        .uri("/api/v1/cases")
                        .header("content-type", "application/json")
                        .header("idempotency-key", format!("bench-{i}"))
                        .body(Body::from(body))
                        .unwrap();
                    let resp = router.clone().oneshot(req).await.unwrap();
                    assert_eq!(resp.status(), 201);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "intake {backend}: {n} cases in {secs:.2} s = {:.0} cases/s ({concurrency} concurrent)",
        n as f64 / secs
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; numbers are ours.
    let nums: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let n = nums.first().copied().unwrap_or(5_000);
    let concurrency = nums.get(1).copied().unwrap_or(32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(None, dir.path()).await.unwrap();
        run(store, "sqlite", n, concurrency).await;
        if let Ok(admin) = std::env::var("TESSERA_TEST_DATABASE_URL") {
            use sqlx::Connection;
            let name = format!("tessera_bench_{}", std::process::id());
            let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await
                .unwrap();
            let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
            let store = Store::open(Some(&url), Path::new("unused")).await.unwrap();
            run(store, "postgis", n, concurrency).await;
        }
    });
}
