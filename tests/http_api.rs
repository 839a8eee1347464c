//! The service on both real backends — a SQLite file, and a PostgreSQL + PostGIS database (a
//! fresh database per test in the cluster named by `TESSERA_TEST_DATABASE_URL`, which
//! `scripts/test.sh` starts): first start seeds and serves, locate agrees with the engine,
//! drafts are validated, publishing is refused unless seamless (or forced with a reason), a
//! publish swaps the index atomically under load, and a restart keeps everything.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tessera::cases::duty::DutyMode;
use tessera::http::app;
use tessera::spatial::synth::Rng;
use tessera::spatial::{GridLayer, Locator};
use tower::ServiceExt;

mod common;
use common::api::{Db, call, databases, demo_layer, seed_dir, start};

fn bbox(layer: &GridLayer) -> (f64, f64, f64, f64) {
    use geo::BoundingRect;
    let mp = geo_types::MultiPolygon(
        layer
            .grids
            .iter()
            .flat_map(|g| g.geometry.0.clone())
            .collect(),
    );
    let r = mp.bounding_rect().unwrap();
    (r.min().x, r.min().y, r.max().x, r.max().y)
}

#[tokio::test]
async fn first_start_seeds_serves_and_restart_keeps_it() {
    for db in databases("first_start_seeds_serves_and_restart_keeps_it").await {
        first_start(db).await;
    }
}

async fn first_start(db: Db) {
    let state = start(&db).await;
    if let Db::Sqlite(dir) = &db {
        assert!(dir.path().join("tessera.db").exists());
    }
    let (s, h) = call(&state, "GET", "/healthz", None).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["index"]["grids"], 1466);
    let (_, grids) = call(&state, "GET", "/api/v1/grids", None).await;
    assert_eq!(grids["features"].as_array().unwrap().len(), 1466);
    let (_, streets) = call(&state, "GET", "/api/v1/streets", None).await;
    assert_eq!(streets["features"].as_array().unwrap().len(), 13);
    let (_, deps) = call(&state, "GET", "/api/v1/departments", None).await;
    assert_eq!(deps["departments"].as_array().unwrap().len(), 54);
    let (s, one) = call(&state, "GET", "/api/v1/grids/370303001001001", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one["properties"]["worker"]["role"], "grid_worker");
    // Who is on duty: the grid's worker on Friday 2026-11-27 10:00 (Shanghai), the
    // community's rota worker of ISO week 48 on Saturday. Expected values come from the
    // district's files, not from the service.
    let workers: Value =
        serde_json::from_str(&std::fs::read_to_string(seed_dir().join("workers.json")).unwrap())
            .unwrap();
    let own = workers["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["role"] == "grid_worker" && w["grids"][0] == "370303001001002")
        .unwrap()["id"]
        .as_str()
        .unwrap();
    let rota = workers["on_call_rota"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["community_code"] == "370303001001")
        .unwrap();
    // The file's own rule (`on_call_rule`): in ISO week k, rota[(k - 1) mod rota length].
    assert!(
        workers["on_call_rule"]
            .as_str()
            .unwrap()
            .contains("rota[(k - 1) mod rota length]")
    );
    let entries = rota["rota"].as_array().unwrap();
    let week_48 = entries[(48 - 1) % entries.len()]["worker_id"]
        .as_str()
        .unwrap();
    let refs = state.0.refs.load();
    let friday_10 = 1_795_744_800; // 2026-11-27T02:00:00Z
    let saturday_10 = friday_10 + 86_400;
    let (w, duty) = refs.on_duty("370303001001002", "370303001001", friday_10);
    assert_eq!(
        (w.unwrap()["id"].as_str(), duty),
        (Some(own), DutyMode::Office)
    );
    let (w, duty) = refs.on_duty("370303001001002", "370303001001", saturday_10);
    assert_eq!(
        (w.unwrap()["id"].as_str(), duty),
        (Some(week_48), DutyMode::OnCall)
    );
    assert_eq!(
        call(&state, "GET", "/api/v1/on_call", None).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, e) = call(&state, "GET", "/api/v1/grids/nope", None).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    drop(state);
    // Restart on the same database: nothing is seeded twice, the same layer is live.
    let again = start(&db).await;
    let (_, layers) = call(&again, "GET", "/api/v1/layers", None).await;
    assert_eq!(layers["layers"].as_array().unwrap().len(), 1);
    assert_eq!(again.0.live.load().layer.grids.len(), 1466);
}

#[tokio::test]
async fn locate_agrees_with_the_cli_on_random_points() {
    for db in databases("locate_agrees_with_the_cli_on_random_points").await {
        locate_agrees(db).await;
    }
}

async fn locate_agrees(db: Db) {
    let state = start(&db).await;
    let layer = demo_layer();
    let (x0, y0, x1, y1) = bbox(&layer);
    let mut rng = Rng::new(9);
    let points: Vec<(f64, f64)> = (0..60)
        .map(|_| {
            (
                rng.range(x0 - 0.01, x1 + 0.01),
                rng.range(y0 - 0.01, y1 + 0.01),
            )
        })
        .collect();
    // What the command line says for the same points.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("points.csv");
    let text: String = points.iter().map(|(x, y)| format!("{x},{y}\n")).collect();
    std::fs::write(&csv, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("locate")
        .arg(seed_dir().join("grids.geojson"))
        .arg("--points")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success());
    let cli: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_string())
        .collect();
    assert_eq!(cli.len(), points.len());
    let by_key: std::collections::HashMap<&str, &tessera::spatial::Grid> =
        layer.grids.iter().map(|g| (g.key.as_str(), g)).collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for ((x, y), expected) in points.iter().zip(&cli) {
        let (s, v) = call(
            &state,
            "GET",
            &format!("/api/v1/locate?lon={x}&lat={y}"),
            None,
        )
        .await;
        if expected.is_empty() {
            assert_eq!(s, StatusCode::NOT_FOUND, "{x},{y}: {v}");
            assert_eq!(v["error"]["code"], "outside_coverage");
            assert_eq!(
                v["error"]["details"]["fallback_owner"]["kind"],
                "district_queue"
            );
        } else {
            assert_eq!(s, StatusCode::OK);
            assert_eq!(v["grid"]["key"], expected.as_str(), "{x},{y}");
            // The worker on duty now: the grid's own in office hours, else the rota's.
            let g = by_key[expected.as_str()];
            let refs = state.0.refs.load();
            let (w, _) = refs.on_duty(&g.key, g.properties["community"].as_str().unwrap(), now);
            assert_eq!(v["worker"]["id"], w.unwrap()["id"]);
        }
    }
    for bad in [
        "lon=1",
        "lon=x&lat=1",
        "lon=200&lat=1",
        "lon=1&lat=1&crs=utm",
        "lon=1&lat=1&snap_m=-1",
    ] {
        let (s, v) = call(&state, "GET", &format!("/api/v1/locate?{bad}"), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        if bad == "lon=x&lat=1" || bad == "lon=1" {
            let name = if bad == "lon=1" { "lat" } else { "lon" };
            assert_eq!(v["error"]["details"]["parameter"], name, "{bad}: {v}");
        }
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

fn with_keys_suffixed(layer: &GridLayer, suffix: &str) -> Value {
    let mut l = layer.clone();
    for g in &mut l.grids {
        g.key = format!("{}{suffix}", g.key);
        g.properties
            .insert("code".into(), Value::String(g.key.clone()));
    }
    l.to_geojson()
}

#[tokio::test]
async fn drafts_are_validated_and_bad_ones_not_published() {
    for db in databases("drafts_are_validated_and_bad_ones_not_published").await {
        drafts_validated(db).await;
    }
}

async fn drafts_validated(db: Db) {
    let state = start(&db).await;
    // A draft where one grid is duplicated under a new key: an overlap.
    let mut fc = demo_layer().to_geojson();
    let mut dup = fc["features"][10].clone();
    dup["properties"]["code"] = json!("DUP");
    fc["features"].as_array_mut().unwrap().push(dup);
    let (s, v) = call(
        &state,
        "POST",
        "/api/v1/layers?name=bad",
        Some(fc.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["report"]["valid"], false);
    assert_eq!(v["report"]["summary"]["overlaps"], 1);
    let id = v["layer"]["id"].as_i64().unwrap();
    let (s, e) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{id}/publish"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "not_seamless");
    assert_eq!(e["error"]["details"]["summary"]["overlaps"], 1);
    let (s, _) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{id}/publish"),
        Some(r#"{"force":true}"#.into()),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(state.0.live.load().layer_id, 1, "nothing was published");
    // Forced with a reason: published and recorded.
    let body = r#"{"force":true,"reason":"emergency redraw after the flood","by":"planner-7"}"#;
    let (s, p) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{id}/publish"),
        Some(body.into()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["published"]["forced"], true);
    let (_, layers) = call(&state, "GET", "/api/v1/layers", None).await;
    assert_eq!(
        layers["publishes"][0]["reason"],
        "emergency redraw after the flood"
    );
    assert_eq!(layers["publishes"][0]["published_by"], "planner-7");
    // Malformed uploads are named.
    let (s, e) = call(&state, "POST", "/api/v1/layers", Some("{".into())).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );
    let bad = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[0,0.5]]]}}]}"#;
    let (s, e) = call(&state, "POST", "/api/v1/layers", Some(bad.into())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not closed"),
        "{e}"
    );
    assert_eq!(e["error"]["details"]["key"], "A");
    let far = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"B"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0,91],[1,1],[0,0]]]}}]}"#;
    let (s, e) = call(&state, "POST", "/api/v1/layers", Some(far.into())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("latitude 91 is outside"),
        "{e}"
    );
    assert_eq!(e["error"]["details"]["feature"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_swaps_the_index_atomically_under_load() {
    for db in databases("publish_swaps_the_index_atomically_under_load").await {
        publish_under_load(db).await;
    }
}

async fn publish_under_load(db: Db) {
    let state = start(&db).await;
    let layer = demo_layer();
    let (s, v) = call(
        &state,
        "POST",
        "/api/v1/layers?name=v2",
        Some(with_keys_suffixed(&layer, "-v2").to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["report"]["valid"], true, "{}", v["report"]["summary"]);
    let id = v["layer"]["id"].as_i64().unwrap();
    // Diff: every key removed and added under its new name, nothing reshaped.
    let (_, d) = call(&state, "GET", &format!("/api/v1/layers/1/diff/{id}"), None).await;
    assert_eq!(d["added"].as_array().unwrap().len(), 1466);
    assert_eq!(d["reshaped"].as_array().unwrap().len(), 0);

    let locator = Locator::new(&layer.geometries());
    let (x0, y0, x1, y1) = bbox(&layer);
    let mut rng = Rng::new(4);
    let mut probes = Vec::new();
    while probes.len() < 200 {
        let (x, y) = (rng.range(x0, x1), rng.range(y0, y1));
        if let Some(i) = locator.locate(geo_types::Coord { x, y }) {
            probes.push((x, y, layer.grids[i].key.clone()));
        }
    }
    let probes = std::sync::Arc::new(probes);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..4 {
        let (state, probes, stop) = (state.clone(), probes.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut seen = [0usize; 2];
            let mut k = c;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || seen[1] == 0 {
                let (x, y, key) = &probes[k % probes.len()];
                k += 1;
                let (s, v) = call(
                    &state,
                    "GET",
                    &format!("/api/v1/locate?lon={x}&lat={y}"),
                    None,
                )
                .await;
                assert_eq!(s, StatusCode::OK, "{v}");
                let (layer_id, got) = (
                    v["layer"].as_i64().unwrap(),
                    v["grid"]["key"].as_str().unwrap().to_string(),
                );
                // Never a mixed answer: the key always belongs to the layer that answered.
                if layer_id == 1 {
                    assert_eq!(&got, key);
                    seen[0] += 1;
                } else {
                    assert_eq!(got, format!("{key}-v2"));
                    seen[1] += 1;
                }
                if k > 100_000 {
                    break;
                }
                // Routing a request never waits on anything: yield so the publish gets a turn.
                tokio::task::yield_now().await;
            }
            seen
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (s, p) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{id}/publish"),
        Some(r#"{"by":"planner-1"}"#.into()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        let seen = c.await.unwrap();
        assert!(seen[0] > 0 && seen[1] > 0, "{seen:?}");
    }
    // Rollback is publishing the older version.
    let (s, _) = call(&state, "POST", "/api/v1/layers/1/publish", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(state.0.live.load().layer_id, 1);
    drop(state);
    let again = start(&db).await;
    assert_eq!(
        again.0.live.load().layer_id,
        1,
        "restart serves the last published version"
    );
    let (_, layers) = call(&again, "GET", "/api/v1/layers", None).await;
    assert_eq!(layers["publishes"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn impact_and_limits() {
    for db in databases("impact_and_limits").await {
        impact_and_limits_on(db).await;
    }
}

async fn impact_and_limits_on(db: Db) {
    let state = start(&db).await;
    let layer = demo_layer();
    // Move the boundary between two neighbouring grids: give grid A's area entirely to grid B
    // by dropping A and enlarging B (a draft that is still seamless).
    // Grid A: the grid of an open case reported just now.
    let pin = geo::InteriorPoint::interior_point(&layer.grids[0].geometry).unwrap();
    let (s, case) = call(
        &state,
        "POST",
        "/api/v1/cases",
        Some(
            json!({"channel": "citizen", "category": "C01", "description": "垃圾满溢",
                   "lon": pin.x(), "lat": pin.y()})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let a_key = case["grid"]["key"].as_str().unwrap().to_string();
    let a = layer.grids.iter().position(|g| g.key == a_key).unwrap();
    let b = layer
        .grids
        .iter()
        .position(|g| {
            g.key != a_key
                && g.properties["community"] == layer.grids[a].properties["community"]
                && geo::Intersects::intersects(&g.geometry, &layer.grids[a].geometry)
        })
        .expect("a neighbour in the same community");
    let mut draft = layer.clone();
    let merged = tessera::spatial::dissolve::dissolve(
        draft.grids[a]
            .geometry
            .0
            .iter()
            .chain(draft.grids[b].geometry.0.iter()),
    );
    draft.grids[b].geometry = merged;
    let b_key = draft.grids[b].key.clone();
    draft.grids.remove(a);
    let (s, v) = call(
        &state,
        "POST",
        "/api/v1/layers?name=merge",
        Some(draft.to_geojson().to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["report"]["valid"], true, "{}", v["report"]["summary"]);
    let id = v["layer"]["id"].as_i64().unwrap();
    let (s, imp) = call(&state, "GET", &format!("/api/v1/layers/{id}/impact"), None).await;
    assert_eq!(s, StatusCode::OK, "{imp}");
    let moved: Vec<&Value> = imp["open_cases"].as_array().unwrap().iter().collect();
    assert!(
        moved
            .iter()
            .any(|c| c["from"] == a_key.as_str() && c["to"] == b_key.as_str()),
        "{imp}"
    );
    let hh_a = layer.grids[a].properties["households"].as_f64().unwrap();
    assert_eq!(imp["households_moving"].as_f64().unwrap(), hh_a.round());
    let grids: Vec<&str> = imp["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["grid"].as_str().unwrap())
        .collect();
    assert!(
        grids.contains(&a_key.as_str()) && grids.contains(&b_key.as_str()),
        "{grids:?}"
    );
    assert!(
        imp["workers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["worker"] == format!("W{a_key}").as_str())
    );
    // Oversized uploads get 413 in the one error shape.
    let small = tessera::http::app_with_limit(state.clone(), 1024);
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/layers")
        .header(
            "authorization",
            format!(
                "Bearer {}",
                common::api::test_key(tessera::auth::Role::Planner)
            ),
        )
        .body(Body::from(vec![b' '; 4096]))
        .unwrap();
    let resp = small.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], "body_too_large");
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let db = Db::Sqlite(tempfile::tempdir().unwrap());
    let state = start(&db).await;
    for _ in 0..3 {
        call(&state, "GET", "/api/v1/locate?lon=118.05&lat=36.81", None).await;
    }
    call(&state, "GET", "/api/v1/locate?lon=x&lat=1", None).await;
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains(
            r#"tessera_http_requests_total{method="GET",route="/api/v1/locate",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"tessera_http_requests_total{method="GET",route="/api/v1/locate",status="400"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("tessera_published_grids 1466"), "{text}");
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let db = Db::Sqlite(tempfile::tempdir().unwrap());
    let state = start(&db).await;
    let (s, doc) = call(&state, "GET", "/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for p in [
        "/api/v1/locate",
        "/healthz",
        "/metrics",
        "/api/v1/grids",
        "/api/v1/grids/{key}",
        "/api/v1/streets",
        "/api/v1/communities",
        "/api/v1/workers",
        "/api/v1/departments",
        "/api/v1/categories",
        "/api/v1/layers",
        "/api/v1/layers/{id}",
        "/api/v1/layers/{id}/grids",
        "/api/v1/layers/{a}/diff/{b}",
        "/api/v1/layers/{id}/impact",
        "/api/v1/layers/{id}/publish",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    assert!(doc["paths"]["/api/v1/layers"]["post"].is_object());
    // The route table (what each route needs) and the description name the same routes.
    let mut described = 0;
    for (method, path, _) in tessera::http::auth::ROUTES {
        // The description is of the API: not itself, and not the pages and their assets.
        let page = !(path.starts_with("/api/")
            || path.starts_with("/open311/")
            || path.starts_with("/tiles/")
            || ["/livez", "/healthz", "/metrics"].contains(path));
        if *path == "/api/openapi.json" || page {
            continue;
        }
        described += 1;
        assert!(
            doc["paths"][*path][method.to_lowercase()].is_object(),
            "{method} {path} is in the route table but not described"
        );
    }
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|i| i.as_object().unwrap().len())
        .sum();
    assert_eq!(
        operations, described,
        "described routes missing from the route table"
    );
    // Every JSON answer, success or error, is a named component schema, not a bare object.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, resp) in op["responses"].as_object().unwrap() {
                if status == "204" {
                    assert!(resp["content"].is_null(), "{method} {path} 204 has content");
                    continue;
                }
                let Some(schema) = resp["content"]["application/json"]["schema"].as_object() else {
                    // Not JSON by nature: Prometheus text, an event stream, a stored file.
                    assert!(
                        [
                            "/metrics",
                            "/livez",
                            "/api/v1/events",
                            "/api/v1/cases/{id}/media/{name}",
                            // Mapbox Vector Tiles (protobuf).
                            "/tiles/grids/{z}/{x}/{file}",
                            // GeoReport v2: the specification's own JSON and XML shapes.
                            "/open311/v2/{file}",
                            "/open311/v2/services/{file}",
                            "/open311/v2/requests/{file}",
                            "/open311/v2/tokens/{file}",
                        ]
                        .contains(&path.as_str()),
                        "{method} {path} {status} has no JSON schema"
                    );
                    continue;
                };
                assert!(
                    schema.contains_key("$ref"),
                    "{method} {path} {status}: {schema:?}"
                );
            }
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "LocateResponse",
        "GridCollection",
        "LayerDetail",
        "CoverageReport",
        "LayerDiffResponse",
        "ImpactResponse",
        "Health",
        "ErrorBody",
        "WorkerList",
        "DutyMode",
        "LayerState",
        "Crs",
    ] {
        assert!(schemas.contains_key(name), "{name} missing");
    }
    // Enums are enums: the layer state and the duty mode list their values.
    assert_eq!(
        schemas["LayerState"]["enum"],
        serde_json::json!(["draft", "published"])
    );
    assert_eq!(
        schemas["DutyMode"]["enum"],
        serde_json::json!(["office", "on_call"])
    );
    // Query parameters are described with their types.
    let params = doc["paths"]["/api/v1/locate"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let lon = params.iter().find(|p| p["name"] == "lon").unwrap();
    assert_eq!(
        (lon["in"].as_str(), lon["required"].as_bool()),
        (Some("query"), Some(true))
    );
}

#[tokio::test]
async fn planners_repair_and_edit_drafts_and_maps_get_the_outline() {
    for db in databases("planners_repair_and_edit_drafts_and_maps_get_the_outline").await {
        planners_repair_and_edit(db).await;
    }
}

/// The codes of two grids of `layer` that share at least two vertices (an edge).
fn adjacent_pair(layer: &GridLayer) -> (String, String) {
    use std::collections::HashSet;
    let verts = |g: &tessera::spatial::Grid| -> HashSet<(u64, u64)> {
        g.geometry
            .0
            .iter()
            .flat_map(|p| p.exterior().0.iter())
            .map(|c| (c.x.to_bits(), c.y.to_bits()))
            .collect()
    };
    let a = &layer.grids[0];
    let va = verts(a);
    let b = layer.grids[1..]
        .iter()
        .find(|g| verts(g).intersection(&va).count() >= 2)
        .unwrap();
    (a.key.clone(), b.key.clone())
}

async fn planners_repair_and_edit(db: Db) {
    use tessera::spatial::measure::area_m2;
    let state = start(&db).await;
    let layer = demo_layer();
    // The outline is the union of the published grids: one area, the district's.
    let (s, outline) = call(&state, "GET", "/api/v1/outline", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(outline["properties"]["layer"], 1);
    let shape = tessera::spatial::layer::read_geometry(&outline["geometry"]).unwrap();
    let grids: f64 = layer.grids.iter().map(|g| area_m2(&g.geometry)).sum();
    assert!(
        (area_m2(&shape) / grids - 1.0).abs() < 1e-9,
        "{} vs {grids}",
        area_m2(&shape)
    );

    // A draft with one grid's vertex pushed into its neighbours: overlaps, listed.
    let mut doc = layer.to_geojson();
    let ring = &mut doc["features"][0]["geometry"]["coordinates"][0][0];
    let (x, y) = (ring[1][0].as_f64().unwrap(), ring[1][1].as_f64().unwrap());
    let (cx, cy) = (ring[0][0].as_f64().unwrap(), ring[0][1].as_f64().unwrap());
    ring[1] = json!([x + (x - cx) * 0.4, y + (y - cy) * 0.4]);
    let (s, draft) = call(
        &state,
        "POST",
        "/api/v1/layers?name=pushed",
        Some(doc.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{draft}");
    assert!(!draft["report"]["overlaps"].as_array().unwrap().is_empty());
    let id = draft["layer"]["id"].as_i64().unwrap();
    // A bad strategy is named; a repair makes a new seamless draft and says what changed.
    let (s, e) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{id}/repair"),
        Some(r#"{"merge": "biggest"}"#.into()),
    )
    .await;
    assert_eq!(
        (s, e["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("merge")),
        "{e}"
    );
    let (s, fixed) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{id}/repair"),
        Some(String::new()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{fixed}");
    assert_eq!(fixed["repaired_from"], id);
    assert_eq!(fixed["layer"]["seamless"], true, "{}", fixed["report"]);
    assert_eq!(fixed["layer"]["name"], "pushed (repaired)");
    assert!(!fixed["changes"].as_array().unwrap().is_empty());
    let (_, pushed) = call(&state, "GET", &format!("/api/v1/layers/{id}"), None).await;
    assert_eq!(
        pushed["layer"]["seamless"], false,
        "the repaired version is kept"
    );

    // Edits on the published version: merge two neighbours, split a grid, each a new draft.
    let (a, b) = adjacent_pair(&layer);
    let merge = json!({"edits": [{"op": "merge", "grids": [a, b]}], "name": "merged"});
    let (s, merged) = call(
        &state,
        "POST",
        "/api/v1/layers/1/edits",
        Some(merge.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{merged}");
    assert_eq!(merged["layer"]["grid_count"], 1465);
    assert_eq!(merged["layer"]["seamless"], true, "{}", merged["report"]);
    let g = &layer.grids[7];
    let r = {
        use geo::BoundingRect;
        g.geometry.bounding_rect().unwrap()
    };
    let mid = (r.min().y + r.max().y) / 2.0;
    let split = json!({"edits": [{"op": "split", "grid": g.key, "line": {"type": "LineString",
        "coordinates": [[r.min().x - 1e-4, mid], [r.max().x + 1e-4, mid]]}}]});
    let (s, cut) = call(
        &state,
        "POST",
        "/api/v1/layers/1/edits",
        Some(split.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{cut}");
    assert_eq!(cut["layer"]["grid_count"], 1467);
    assert_eq!(cut["layer"]["seamless"], true, "{}", cut["report"]);
    let (_, parts) = call(
        &state,
        "GET",
        &format!("/api/v1/layers/{}/grids", cut["layer"]["id"]),
        None,
    )
    .await;
    let codes: Vec<&str> = parts["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["properties"]["code"].as_str())
        .filter(|c| c.starts_with(&g.key))
        .collect();
    assert_eq!(codes, [format!("{}-1", g.key), format!("{}-2", g.key)]);

    // The same edits checked where they act, nothing saved: the merge is clean, a shrunken
    // boundary leaves one gap it borders, a removal in a draft leaves its hole.
    let (_, before) = call(&state, "GET", "/api/v1/layers", None).await;
    let (s, c) = call(
        &state,
        "POST",
        "/api/v1/layers/1/check",
        Some(merge.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["report"]["valid"], true, "{c}");
    assert_eq!(c["changed"], json!([a]));
    assert_eq!(c["removed"], json!([b]));
    assert!(
        c["checked"].as_array().unwrap().len() < 40,
        "{}",
        c["checked"]
    );
    assert!(c["elapsed_ms"].as_f64().unwrap() >= 0.0);
    let shrunk = {
        use geo::{Centroid, Scale};
        let ctr = g.geometry.centroid().unwrap();
        geojson::Geometry::from(&g.geometry.scale_around_point(0.7, 0.7, ctr))
    };
    let body = json!({"edits": [{"op": "replace", "grid": g.key, "geometry": shrunk}]});
    let (s, c) = call(
        &state,
        "POST",
        "/api/v1/layers/1/check",
        Some(body.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["report"]["valid"], false);
    assert_eq!(
        c["report"]["summary"]["gaps"], 1,
        "{}",
        c["report"]["summary"]
    );
    assert!(
        c["report"]["gaps"][0]["neighbours"]
            .as_array()
            .unwrap()
            .contains(&json!(g.key))
    );
    let draft = cut["layer"]["id"].as_i64().unwrap();
    let body = json!({"edits": [{"op": "remove", "grid": format!("{}-1", g.key)}]});
    let (s, c) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{draft}/check"),
        Some(body.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["layer"], draft);
    assert_eq!(
        c["report"]["summary"]["gaps"], 1,
        "{}",
        c["report"]["summary"]
    );
    let (_, after) = call(&state, "GET", "/api/v1/layers", None).await;
    assert_eq!(before["layers"], after["layers"], "a check saves nothing");
    let (s, e) = call(
        &state,
        "POST",
        "/api/v1/layers/9999/check",
        Some(merge.to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");

    // Edits that cannot be applied are named, by the check as by the save.
    for (body, code, edit) in [
        (
            json!({"edits": [{"op": "remove", "grid": "nope"}]}),
            "invalid_edit",
            Some(1),
        ),
        (json!({"edits": []}), "invalid_field", None),
        (
            json!({"edits": [{"op": "merge", "grids": [a, a]}, {"op": "remove", "grid": "x"}]}),
            "invalid_edit",
            Some(1),
        ),
        (
            json!({"edits": [{"op": "split", "grid": g.key, "line": {"type": "Point", "coordinates": [0, 0]}}]}),
            "invalid_field",
            Some(1),
        ),
    ] {
        for route in ["/api/v1/layers/1/edits", "/api/v1/layers/1/check"] {
            let (s, e) = call(&state, "POST", route, Some(body.to_string())).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{route} {body}: {e}");
            assert_eq!(e["error"]["code"], code, "{e}");
            if let Some(n) = edit {
                assert_eq!(e["error"]["details"]["edit"], n, "{e}");
            }
        }
    }
}

/// One anonymous request from `addr` (as the server's connection info gives it): status,
/// `Retry-After`, JSON body.
async fn from_address(
    state: &tessera::http::AppState,
    addr: &str,
    method: &str,
    uri: &str,
    body: Value,
) -> (StatusCode, Option<String>, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let sock: std::net::SocketAddr = format!("{addr}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(sock));
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let wait = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        wait,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_never_answers_500() {
    let db = Db::Sqlite(tempfile::tempdir().unwrap());
    let state = start(&db).await;
    // A body declared over the limit is refused before it is read: this one never arrives.
    let never = Body::from_stream(tokio_stream::pending::<Result<Vec<u8>, std::io::Error>>());
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/layers")
        .header("content-length", "10000000000")
        .body(never)
        .unwrap();
    let resp = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tessera::http::app_with_limit(state.clone(), 1 << 20).oneshot(req),
    )
    .await
    .expect("refused without reading the body")
    .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let e: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(e["error"]["code"], "body_too_large");
    assert_eq!(e["error"]["details"]["declared_bytes"], 10_000_000_000u64);

    // A grid with too many vertices is named.
    let n = 100_001;
    let ring: Vec<[f64; 2]> = (0..n)
        .map(|k| {
            let a = k as f64 / n as f64 * std::f64::consts::TAU;
            [118.0 + 0.01 * a.cos(), 36.8 + 0.01 * a.sin()]
        })
        .chain(std::iter::once([118.01, 36.8]))
        .collect();
    let big = json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "properties": {"code": "BIG"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]});
    let (s, e) = call(&state, "POST", "/api/v1/layers", Some(big.to_string())).await;
    assert_eq!(
        (
            s,
            e["error"]["code"].as_str(),
            e["error"]["details"]["key"].as_str()
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("too_many_vertices"),
            Some("BIG")
        ),
        "{e}"
    );

    // Texts: too long, or empty where one is needed, named.
    let (s, c) = call(
        &state,
        "POST",
        "/api/v1/cases",
        Some(json!({"channel": "citizen", "category": "C01", "description": "d", "lon": 118.0668, "lat": 36.8128}).to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let id = c["id"].as_i64().unwrap();
    for (action, field) in [
        (
            json!({"action": "supervise", "note": "x".repeat(4_001)}),
            "note",
        ),
        (json!({"action": "invalidate", "reason": "  "}), "reason"),
        (
            json!({"action": "triage", "urgency": "red", "category": "C".repeat(33)}),
            "category",
        ),
    ] {
        let mut body = action.clone();
        body["version"] = json!(1);
        let (s, e) = call(
            &state,
            "POST",
            &format!("/api/v1/cases/{id}/actions"),
            Some(body.to_string()),
        )
        .await;
        assert_eq!(
            (s, e["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{action}: {e}"
        );
    }
    // Malformed bodies and parameters, each a 4xx naming what was wrong.
    for (method, uri, body) in [
        ("POST", "/api/v1/cases", "{"),
        ("POST", "/api/v1/cases", "[]"),
        ("POST", "/api/v1/cases", r#"{"channel": "fax"}"#),
        ("GET", "/api/v1/cases?per_page=100000", ""),
        ("GET", "/api/v1/cases?page=-1", ""),
        ("GET", "/api/v1/locate?lon=abc&lat=1", ""),
        ("GET", "/api/v1/grids?bbox=1,2,3", ""),
        ("POST", "/api/v1/layers", "not json"),
        (
            "POST",
            "/api/v1/layers",
            r#"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}}]}"#,
        ),
        (
            "POST",
            "/api/v1/layers/1/edits",
            r#"{"edits": [{"op": "explode"}]}"#,
        ),
        ("POST", "/api/v1/layers/1/repair", r#"{"snap_m": -1}"#),
        ("POST", "/open311/v2/requests.json", "%%%"),
    ] {
        let (s, e) = call(
            &state,
            method,
            uri,
            (!body.is_empty()).then(|| body.to_string()),
        )
        .await;
        assert!(s.is_client_error(), "{method} {uri} {body}: {s} {e}");
        let message = e["error"]["message"]
            .as_str()
            .or(e[0]["description"].as_str())
            .unwrap_or_default();
        assert!(!message.is_empty(), "{method} {uri} {body}: {e}");
    }
}

#[tokio::test]
async fn public_intake_is_rate_limited_per_address_and_per_token() {
    use tessera::http::limits::{Limiter, RateLimits};
    let db = Db::Sqlite(tempfile::tempdir().unwrap());
    let state = start(&db).await;
    assert!(
        state
            .0
            .limiter
            .set(Limiter::new(RateLimits {
                intake_per_minute: 4,
                key_per_minute: 2,
                login_per_minute: 2,
            }))
            .is_ok()
    );
    let report = json!({"channel": "citizen", "category": "C01", "description": "d", "lon": 118.0668, "lat": 36.8128});
    // A burst of half a minute's worth (2), then 429 with Retry-After.
    let mut token = String::new();
    for _ in 0..2 {
        let (s, _, c) =
            from_address(&state, "10.1.1.1", "POST", "/api/v1/cases", report.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        token = c["tracking_token"].as_str().unwrap().to_string();
    }
    let (s, wait, e) =
        from_address(&state, "10.1.1.1", "POST", "/api/v1/cases", report.clone()).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
        "{e}"
    );
    let wait: u64 = wait.expect("Retry-After").parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    // Another address is not held back.
    let (s, _, _) = from_address(&state, "10.1.1.2", "POST", "/api/v1/cases", report.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    // A tracking token has its own bucket (1 at once): the second rating from other addresses
    // is limited by the token.
    let rating = json!({"satisfaction": "satisfied"});
    let uri = format!("/api/v1/track/{token}/rating");
    let (s, _, _) = from_address(&state, "10.1.1.3", "POST", &uri, rating.clone()).await;
    assert_eq!(s, StatusCode::CONFLICT, "not resolved yet, but not limited");
    let (s, _, e) = from_address(&state, "10.1.1.4", "POST", &uri, rating.clone()).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{e}");
    // Sign-in attempts from one address.
    let login = json!({"name": "nobody", "password": "wrong password!"});
    let (s, _, _) = from_address(&state, "10.1.1.5", "POST", "/api/v1/login", login.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, wait, _) =
        from_address(&state, "10.1.1.5", "POST", "/api/v1/login", login.clone()).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(wait.is_some());
    // Open311 clients are refused in their own shape and format, with Retry-After.
    for _ in 0..2 {
        let (s, _, _) = from_address(
            &state,
            "10.1.1.6",
            "POST",
            "/open311/v2/requests.xml",
            Value::Null,
        )
        .await;
        assert_ne!(s, StatusCode::TOO_MANY_REQUESTS);
    }
    let mut req = Request::builder()
        .method("POST")
        .uri("/open311/v2/requests.xml")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("service_code=C01"))
        .unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(
        "10.1.1.6:40000".parse::<std::net::SocketAddr>().unwrap(),
    ));
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("<errors><error><code>429</code><description>"),
        "{text}"
    );
    // Reads are never limited.
    for _ in 0..20 {
        let (s, _, _) =
            from_address(&state, "10.1.1.1", "GET", "/api/v1/categories", Value::Null).await;
        assert_eq!(s, StatusCode::OK);
    }
}

#[tokio::test]
async fn an_unavailable_database_is_503_with_retry_after_and_health_says_so() {
    let db = Db::Sqlite(tempfile::tempdir().unwrap());
    let state = start(&db).await;
    let (s, _) = call(&state, "GET", "/healthz", None).await;
    assert_eq!(s, StatusCode::OK);
    state.0.store.close().await;
    // The health check asks the database at most once a second: within that second the last
    // answer stands, after it the closed database shows.
    let (s, _) = call(&state, "GET", "/healthz", None).await;
    assert_eq!(s, StatusCode::OK, "answered from the last second's check");
    tokio::time::sleep(
        tessera::http::grids::HEALTH_CHECK_TTL + std::time::Duration::from_millis(100),
    )
    .await;
    for (method, uri, body) in [
        ("GET", "/healthz", None),
        ("GET", "/api/v1/cases", None),
        (
            "POST",
            "/api/v1/cases",
            Some(json!({"channel": "citizen", "category": "C01", "description": "d", "lon": 118.0668, "lat": 36.8128}).to_string()),
        ),
    ] {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json");
        if uri != "/healthz" && method == "GET" {
            req = req.header(
                "authorization",
                format!("Bearer {}", common::api::test_key(tessera::auth::Role::Dispatcher)),
            );
        }
        let resp = app(state.clone())
            .oneshot(req.body(body.map(Body::from).unwrap_or_else(Body::empty)).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{method} {uri}");
        assert!(resp.headers().contains_key("retry-after"), "{method} {uri}");
    }
}
