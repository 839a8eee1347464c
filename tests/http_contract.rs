//! Every promise the README makes about the HTTP API, on both real backends, with expected
//! values taken from the district's files, from published coordinate vectors, or from the
//! `geo` crate's geodesic measures, never from the code under test.

use geo::{Distance, GeodesicArea, Haversine, Intersects};
use geo_types::{Point, Rect, coord};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tessera::http::AppState;
use tessera::store::{RefItem, RefKind, Store};

mod common;
use axum::http::StatusCode;
use common::api::{Db, call, databases, demo_layer, seed_dir, start};

fn file_json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(seed_dir().join(name)).unwrap()).unwrap()
}

/// An axis-aligned square grid as a GeoJSON Feature.
fn square(code: &str, cx: f64, cy: f64, half: f64, households: u32) -> Value {
    rect_feature(
        code,
        [cx - half, cy - half, cx + half, cy + half],
        households,
    )
}

fn rect_feature(code: &str, [x0, y0, x1, y1]: [f64; 4], households: u32) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "name": code, "households": households},
           "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}})
}

fn collection(features: Vec<Value>) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

fn keys(fc: &Value) -> BTreeSet<String> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn grids_in_a_bbox_are_those_the_data_says() {
    for db in databases("grids_in_a_bbox_are_those_the_data_says").await {
        let state = start(&db).await;
        let layer = demo_layer();
        for [x0, y0, x1, y1] in [
            [118.04, 36.80, 118.06, 36.82],
            [117.95, 36.72, 117.96, 36.725],
            [118.1001, 36.8501, 118.1002, 36.8502],
            [119.0, 37.0, 119.1, 37.1],
        ] {
            let rect = Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 });
            let expected: BTreeSet<String> = layer
                .grids
                .iter()
                .filter(|g| g.geometry.intersects(&rect))
                .map(|g| g.key.clone())
                .collect();
            let (s, fc) = call(
                &state,
                "GET",
                &format!("/api/v1/grids?bbox={x0},{y0},{x1},{y1}"),
                None,
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{fc}");
            assert_eq!(keys(&fc), expected, "bbox {x0},{y0},{x1},{y1}");
        }
        for bad in ["bbox=1,2,3", "bbox=3,0,1,1", "bbox=a,b,c,d", "box=1,2,3,4"] {
            let (s, e) = call(&state, "GET", &format!("/api/v1/grids?{bad}"), None).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {e}");
            assert_eq!(e["error"]["code"], "invalid_parameter", "{bad}");
            let m = e["error"]["message"].as_str().unwrap();
            assert!(m.contains("bbox") || m.contains("box"), "{bad}: {m}");
        }
    }
}

#[tokio::test]
async fn district_lists_are_the_files() {
    for db in databases("district_lists_are_the_files").await {
        let state = start(&db).await;
        let codes = |fc: &Value| -> Vec<String> {
            fc["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
                .collect()
        };
        for (route, file) in [
            ("streets", "streets.geojson"),
            ("communities", "communities.geojson"),
        ] {
            let (s, got) = call(&state, "GET", &format!("/api/v1/{route}"), None).await;
            assert_eq!(s, StatusCode::OK);
            let want = file_json(file);
            assert_eq!(codes(&got), codes(&want), "{route}");
            assert_eq!(
                got["features"][0]["geometry"],
                want["features"][0]["geometry"]
            );
            assert_eq!(
                got["features"][0]["properties"]["name"],
                want["features"][0]["properties"]["name"]
            );
        }
        assert_eq!(
            call(&state, "GET", "/api/v1/communities", None).await.1["features"]
                .as_array()
                .unwrap()
                .len(),
            304
        );
        let (_, got) = call(&state, "GET", "/api/v1/workers", None).await;
        let want = file_json("workers.json");
        assert_eq!(
            got["workers"], want["workers"],
            "workers are served as filed"
        );
        let (_, got) = call(&state, "GET", "/api/v1/categories", None).await;
        let want = file_json("categories.json");
        assert_eq!(got["categories"], want["categories"]);
        assert_eq!(got["categories"].as_array().unwrap().len(), 40);
        let (_, got) = call(&state, "GET", "/api/v1/departments", None).await;
        let want = file_json("departments.json");
        let all: Vec<&Value> = want["departments"]
            .as_array()
            .unwrap()
            .iter()
            .chain(want["mediation_committees"].as_array().unwrap())
            .collect();
        assert_eq!(got["departments"].as_array().unwrap().len(), all.len());
        assert_eq!(&got["departments"][0], all[0]);
        let (s, e) = call(&state, "GET", "/api/v1/on_call", None).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
    }
}

#[tokio::test]
async fn versions_show_their_grids_and_diff_with_areas() {
    for db in databases("versions_show_their_grids_and_diff_with_areas").await {
        let state = start(&db).await;
        let layer = demo_layer();
        let gone = &layer.grids[321];
        let mut fc = layer.to_geojson();
        fc["features"].as_array_mut().unwrap().remove(321);
        let (s, created) = call(
            &state,
            "POST",
            "/api/v1/layers?name=minus-one&by=planner-li",
            Some(fc.to_string()),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let id = created["layer"]["id"].as_i64().unwrap();
        // The hole left is the grid's own area (geodesic, from geo).
        let want_m2 = gone.geometry.geodesic_area_unsigned();
        let (s, shown) = call(&state, "GET", &format!("/api/v1/layers/{id}"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(shown["layer"]["name"], "minus-one");
        assert_eq!(shown["layer"]["created_by"], "planner-li");
        assert_eq!(shown["layer"]["state"], "draft");
        assert_eq!(shown["layer"]["seamless"], false);
        assert_eq!(shown["report"], created["report"]);
        let gaps = shown["report"]["gaps"].as_array().unwrap();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!((gaps[0]["area_m2"].as_f64().unwrap() / want_m2 - 1.0).abs() < 1e-3);
        let (_, grids) = call(&state, "GET", &format!("/api/v1/layers/{id}/grids"), None).await;
        let mut want: BTreeSet<String> = layer.grids.iter().map(|g| g.key.clone()).collect();
        want.remove(&gone.key);
        assert_eq!(keys(&grids), want);
        assert_eq!(grids["layer"], id);
        // Diff both ways: removed, then added, each with the grid's area.
        let (_, d) = call(&state, "GET", &format!("/api/v1/layers/1/diff/{id}"), None).await;
        assert_eq!(d["removed"].as_array().unwrap().len(), 1, "{d}");
        assert_eq!(d["removed"][0]["grid"], gone.key.as_str());
        let got_m2 = d["removed"][0]["area_m2"].as_f64().unwrap();
        assert!(
            (got_m2 / want_m2 - 1.0).abs() < 1e-3,
            "{got_m2} vs {want_m2}"
        );
        assert!(
            d["added"].as_array().unwrap().is_empty()
                && d["reshaped"].as_array().unwrap().is_empty()
        );
        let (_, back) = call(&state, "GET", &format!("/api/v1/layers/{id}/diff/1"), None).await;
        assert_eq!(back["added"][0]["grid"], gone.key.as_str());
        // Unknown and malformed ids.
        for (uri, status) in [
            ("/api/v1/layers/999", StatusCode::NOT_FOUND),
            ("/api/v1/layers/999/grids", StatusCode::NOT_FOUND),
            ("/api/v1/layers/1/diff/999", StatusCode::NOT_FOUND),
            ("/api/v1/layers/abc", StatusCode::BAD_REQUEST),
            ("/api/v1/layers/abc/impact", StatusCode::BAD_REQUEST),
        ] {
            let (s, e) = call(&state, "GET", uri, None).await;
            assert_eq!(s, status, "{uri}: {e}");
            assert!(e["error"]["code"].is_string(), "{uri}: {e}");
        }
        // An empty collection is refused as the command line refuses it.
        let (s, e) = call(
            &state,
            "POST",
            "/api/v1/layers",
            Some(r#"{"type":"FeatureCollection","features":[]}"#.into()),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("the layer has no grids")
        );
        // Codes too long for 64 bits keep every digit.
        let mut fc = layer.to_geojson();
        for (n, f) in fc["features"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            f["properties"]["code"] = json!(n);
        }
        let text = fc
            .to_string()
            .replace(r#""code":0,"#, r#""code":37030300100100100101,"#)
            .replace(r#""code":1,"#, r#""code":37030300100100100102,"#);
        let (s, v) = call(&state, "POST", "/api/v1/layers", Some(text)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = v["layer"]["id"].as_i64().unwrap();
        let (_, grids) = call(&state, "GET", &format!("/api/v1/layers/{id}/grids"), None).await;
        let got = keys(&grids);
        assert!(
            got.contains("37030300100100100101") && got.contains("37030300100100100102"),
            "{got:?}"
        );
        // Repeated keys are refused, naming them.
        let mut fc = layer.to_geojson();
        let twin = fc["features"][5].clone();
        fc["features"].as_array_mut().unwrap().push(twin);
        let (s, e) = call(&state, "POST", "/api/v1/layers", Some(fc.to_string())).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["error"]["code"], "duplicate_keys");
        assert_eq!(e["error"]["details"]["keys"], json!([layer.grids[5].key]));
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&layer.grids[5].key)
        );
    }
}

// Published coordinate vectors (WGS84 → GCJ-02 / BD-09), with their sources.
/// googollee/eviltransform go/transform_test.go (03ba58d): Shanghai.
const SH_WGS: (f64, f64) = (121.5272106, 31.1774276);
const SH_GCJ: (f64, f64) = (121.531541859215, 31.17530398364597);
/// wandergis/coordtransform README (606c6f3): Beijing, WGS84 → GCJ-02; and the WGS84 → BD-09
/// of the same point from wyxloading/coordtransform-rs tests/tests.rs (9438edce).
const BJ_WGS: (f64, f64) = (116.404, 39.915);
const BJ_GCJ: (f64, f64) = (116.41024449916938, 39.91640428150164);
const BJ_BD: (f64, f64) = (116.41662724378733, 39.922699552216216);
/// dromara/hutool CoordinateUtilTest.java wgs84toBd09Test2 (1bca825f).
const HT_WGS: (f64, f64) = (122.99395597, 44.99804071);
const HT_BD: (f64, f64) = (123.00636516028885, 45.00636909189589);

/// Half the side of the test squares, degrees (≈ 50 m): far smaller than the GCJ-02 offset.
const HALF: f64 = 0.0005;

#[tokio::test]
async fn a_forced_layer_locates_published_crs_vectors_snaps_and_shows_its_impact() {
    for db in
        databases("a_forced_layer_locates_published_crs_vectors_snaps_and_shows_its_impact").await
    {
        forced_layer(db).await;
    }
}

async fn forced_layer(db: Db) {
    let state = start(&db).await;
    // Two side-by-side cells (A 400 households, B 100) and three squares at the vectors.
    let cells = |border: f64| {
        vec![
            rect_feature("A", [118.0, 36.8, border, 36.801], 400),
            rect_feature("B", [border, 36.8, 118.008, 36.801], 100),
            square("SH", SH_WGS.0, SH_WGS.1, HALF, 0),
            square("BJ", BJ_WGS.0, BJ_WGS.1, HALF, 0),
            square("HT", HT_WGS.0, HT_WGS.1, HALF, 0),
        ]
    };
    let (s, v) = call(
        &state,
        "POST",
        "/api/v1/layers?name=squares",
        Some(collection(cells(118.004))),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let squares = v["layer"]["id"].as_i64().unwrap();
    // Not seamless against the district: refused, then forced with a reason.
    let (s, _) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{squares}/publish"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, e) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{squares}/publish"),
        Some(r#"{"force": true}"#.into()),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason_required"))
    );
    let (s, e) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{squares}/publish"),
        Some(r#"{"force": "yes"}"#.into()),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field")),
        "{e}"
    );
    let (s, p) = call(
        &state,
        "POST",
        &format!("/api/v1/layers/{squares}/publish"),
        Some(r#"{"force": true, "reason": "test squares", "by": "qa"}"#.into()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["published"]["forced"], true);

    let locate = |q: String| {
        let state = state.clone();
        async move { call(&state, "GET", &format!("/api/v1/locate?{q}"), None).await }
    };
    for ((lon, lat), crs, want) in [
        (SH_GCJ, "gcj02", "SH"),
        (BJ_GCJ, "gcj02", "BJ"),
        (BJ_BD, "bd09", "BJ"),
        (HT_BD, "bd09", "HT"),
        (SH_WGS, "wgs84", "SH"),
    ] {
        let (s, v) = locate(format!("lon={lon}&lat={lat}&crs={crs}")).await;
        assert_eq!(s, StatusCode::OK, "{crs} {lon},{lat}: {v}");
        assert_eq!(v["grid"]["key"], want, "{crs} {lon},{lat}");
        assert_eq!(v["input"], json!({"lon": lon, "lat": lat, "crs": crs}));
        assert!(v["snapped_m"].is_null());
    }
    // The same GCJ-02 and BD-09 numbers read as WGS84 are hundreds of metres off: no grid.
    for (lon, lat) in [SH_GCJ, BJ_BD, HT_BD] {
        let (s, v) = locate(format!("lon={lon}&lat={lat}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
        assert_eq!(
            v["error"]["details"]["fallback_owner"]["kind"],
            "district_queue"
        );
    }
    // 30 m east of SH's east edge: snapped within 50 m, with the distance; not within 20 m.
    let edge = Point::new(SH_WGS.0 + HALF, SH_WGS.1);
    let mut p = Point::new(edge.x() + 0.0003, SH_WGS.1);
    let want_m = Haversine.distance(edge, p);
    assert!((25.0..35.0).contains(&want_m), "{want_m}");
    let (s, v) = locate(format!("lon={}&lat={}&snap_m=50", p.x(), p.y())).await;
    assert_eq!(
        (s, v["grid"]["key"].as_str()),
        (StatusCode::OK, Some("SH")),
        "{v}"
    );
    let got_m = v["snapped_m"].as_f64().unwrap();
    assert!((got_m / want_m - 1.0).abs() < 5e-3, "{got_m} vs {want_m}");
    let (s, _) = locate(format!("lon={}&lat={}&snap_m=20", p.x(), p.y())).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    p = Point::new(p.x(), p.y());
    let (s, e) = locate(format!("lon={}&lat={}&snap_m=6000", p.x(), p.y())).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("out_of_range"))
    );

    // A draft moves the A|B border a quarter of A's width west: a quarter of A's area, and so
    // (households spread evenly) a quarter of its 400 households, moves to B; the squares go.
    let (s, v) = call(
        &state,
        "POST",
        "/api/v1/layers?name=moved",
        Some(collection(cells(118.003)[..2].to_vec())),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let draft = v["layer"]["id"].as_i64().unwrap();
    let (s, imp) = call(
        &state,
        "GET",
        &format!("/api/v1/layers/{draft}/impact"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{imp}");
    assert_eq!(
        (imp["draft"].as_i64(), imp["published"].as_i64()),
        (Some(draft), Some(squares))
    );
    let a = Rect::new(
        coord! { x: 118.0, y: 36.8 },
        coord! { x: 118.004, y: 36.801 },
    );
    let handed = Rect::new(
        coord! { x: 118.003, y: 36.8 },
        coord! { x: 118.004, y: 36.801 },
    );
    let share = handed.geodesic_area_unsigned() / a.geodesic_area_unsigned();
    let grids = imp["grids"].as_array().unwrap();
    let ga = grids.iter().find(|g| g["grid"] == "A").unwrap();
    assert_eq!(ga["change"], "reshaped");
    assert!(
        (ga["area_share_moving"].as_f64().unwrap() - share).abs() < 1e-4,
        "{ga}"
    );
    assert_eq!(ga["households_moving"], (400.0 * share).round());
    let gb = grids.iter().find(|g| g["grid"] == "B").unwrap();
    assert_eq!(gb["households_moving"], 0.0);
    for gone in ["SH", "BJ", "HT"] {
        let g = grids.iter().find(|g| g["grid"] == gone).unwrap();
        assert_eq!(
            (g["change"].as_str(), g["area_share_moving"].as_f64()),
            (Some("removed"), Some(1.0))
        );
    }
    assert_eq!(imp["households_moving"], (400.0 * share).round());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishes_leave_the_last_recorded_one_served() {
    for db in databases("concurrent_publishes_leave_the_last_recorded_one_served").await {
        let state = start(&db).await;
        let layer = demo_layer();
        let mut ids = vec![1];
        for suffix in ["-a", "-b"] {
            let mut fc = layer.to_geojson();
            for f in fc["features"].as_array_mut().unwrap() {
                let code = format!("{}{suffix}", f["properties"]["code"].as_str().unwrap());
                f["properties"]["code"] = json!(code);
            }
            let (s, v) = call(&state, "POST", "/api/v1/layers", Some(fc.to_string())).await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            ids.push(v["layer"]["id"].as_i64().unwrap());
        }
        for round in 0..3 {
            let calls = (0..6).map(|k| {
                let state = state.clone();
                let id = ids[(k + round) % ids.len()];
                tokio::spawn(async move {
                    call(
                        &state,
                        "POST",
                        &format!("/api/v1/layers/{id}/publish"),
                        None,
                    )
                    .await
                    .0
                })
            });
            for c in calls.collect::<Vec<_>>() {
                assert_eq!(c.await.unwrap(), StatusCode::OK);
            }
            let last = state.0.store.publishes().await.unwrap()[0].layer_id;
            assert_eq!(state.0.live.load().layer_id, last, "round {round}");
            let (_, layers) = call(&state, "GET", "/api/v1/layers", None).await;
            let published: Vec<i64> = layers["layers"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["state"] == "published")
                .map(|l| l["id"].as_i64().unwrap())
                .collect();
            assert_eq!(published, [last]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_changes_are_served_and_a_bad_calendar_stops_start_up() {
    for db in databases("reference_changes_are_served_and_a_bad_calendar_stops_start_up").await {
        let a = start(&db).await;
        // A second process on the same PostgreSQL database hears about changes.
        let b = match &db {
            Db::Postgres(_) => {
                let b = start(&db).await;
                tessera::http::spawn_change_listener(b.clone());
                Some(b)
            }
            Db::Sqlite(_) => None,
        };
        let mut cats = a.0.refs.load().list(RefKind::Categories).to_vec();
        cats[0].properties["name_en"] = json!("Environment, sanitation and greenery");
        a.put_reference(RefKind::Categories, &cats).await.unwrap();
        let (_, got) = call(&a, "GET", "/api/v1/categories", None).await;
        assert_eq!(
            got["categories"][0]["name_en"],
            "Environment, sanitation and greenery"
        );
        if let Some(b) = b {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            loop {
                let (_, got) = call(&b, "GET", "/api/v1/categories", None).await;
                if got["categories"][0]["name_en"] == "Environment, sanitation and greenery" {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "not reloaded: {}",
                    got["categories"][0]
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        // A stored calendar that cannot be read is an error at start, naming it.
        let store: &Store = &a.0.store;
        store
            .put_reference(
                RefKind::Calendar,
                &[RefItem {
                    key: "cn-2026".into(),
                    properties: json!({"csv": "date,kind,name\n2026-13-01,holiday,x\n"}),
                    geometry: None,
                }],
            )
            .await
            .unwrap();
        let e = AppState::load(store.clone())
            .await
            .err()
            .map(|e| e.to_string());
        let e = e.expect("start-up must fail");
        assert!(
            e.contains("working calendar") && e.contains("2026-13-01"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn healthz_reports_a_database_that_goes_away_and_comes_back() {
    let Some(admin) =
        common::postgres_admin_url("healthz_reports_a_database_that_goes_away_and_comes_back")
    else {
        return;
    };
    use sqlx::Connection;
    let url = common::fresh_pg_database(&admin).await;
    let name = url.rsplit('/').next().unwrap().to_string();
    let state = start(&Db::Postgres(url)).await;
    let (s, h) = call(&state, "GET", "/healthz", None).await;
    assert_eq!((s, h["status"].as_str()), (StatusCode::OK, Some("ok")));
    let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
    let block = |allow: bool| {
        sqlx::AssertSqlSafe(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}"))
    };
    sqlx::query(block(false)).execute(&mut c).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .execute(&mut c)
        .await
        .unwrap();
    // The last check's answer stands for a second.
    let ttl = tessera::http::grids::HEALTH_CHECK_TTL + std::time::Duration::from_millis(100);
    tokio::time::sleep(ttl).await;
    let (s, e) = call(&state, "GET", "/healthz", None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{e}");
    assert_eq!(e["error"]["code"], "unhealthy");
    assert_eq!(e["error"]["details"]["database"]["reachable"], false);
    assert_eq!(e["error"]["details"]["status"], "unhealthy");
    // Locating needs no database: it goes on.
    let (s, _) = call(&state, "GET", "/api/v1/locate?lon=118.05&lat=36.81", None).await;
    assert_eq!(s, StatusCode::OK);
    sqlx::query(block(true)).execute(&mut c).await.unwrap();
    tokio::time::sleep(ttl).await;
    let (s, h) = call(&state, "GET", "/healthz", None).await;
    assert_eq!(
        (s, h["database"]["reachable"].as_bool()),
        (StatusCode::OK, Some(true))
    );
}
