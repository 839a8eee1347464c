//! Cases over HTTP on both real backends: intake located and routed with its reason, idempotent
//! retries (also concurrent), the whole road to closure with the redo loop, illegal actions and
//! version conflicts, the citizen's tracking page and rating, and listing filters.

use axum::http::StatusCode;
use serde_json::{Value, json};
use tessera::http::AppState;

mod common;
use common::api::{Db, call, databases, demo_layer, start};

/// A point well inside grid `i` of the demo district.
fn inside(i: usize) -> (f64, f64, String) {
    use geo::InteriorPoint;
    let l = demo_layer();
    let p = l.grids[i].geometry.interior_point().unwrap();
    (p.x(), p.y(), l.grids[i].key.clone())
}

async fn post(state: &AppState, uri: &str, body: Value) -> (StatusCode, Value) {
    call(state, "POST", uri, Some(body.to_string())).await
}

async fn act(state: &AppState, id: i64, version: i64, action: Value) -> (StatusCode, Value) {
    let mut body = action;
    body["version"] = json!(version);
    post(state, &format!("/api/v1/cases/{id}/actions"), body).await
}

/// `GET /api/v1/cases?{q}` (must answer 200): the ids of the page, sorted, and the answer.
async fn listed(state: &AppState, q: &str) -> (Vec<i64>, Value) {
    let (s, v) = call(state, "GET", &format!("/api/v1/cases?{q}"), None).await;
    assert_eq!(s, StatusCode::OK, "{q}: {v}");
    (common::api::sorted_ids(&v["cases"]), v)
}

/// Takes a new case (version 1) through triage, dispatch, on site, resolve and follow-up to
/// closed.
async fn run_to_closure(state: &AppState, id: i64) {
    for (v, a) in [
        json!({"action": "triage", "urgency": "green"}),
        json!({"action": "dispatch"}),
        json!({"action": "accept"}),
        json!({"action": "resolve", "note": "done"}),
        json!({"action": "follow_up", "note": "ok"}),
        json!({"action": "close"}),
    ]
    .into_iter()
    .enumerate()
    {
        let (s, e) = act(state, id, v as i64 + 1, a).await;
        assert_eq!(s, StatusCode::OK, "{e}");
    }
}

/// Every case's stored current state is exactly the fold of its events (the submission's facts,
/// then each action at its time): the row is derived, the events are the record.
async fn assert_every_case_replays(state: &AppState) {
    let all = state
        .0
        .store
        .cases(&tessera::store::cases::CaseFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!all.is_empty());
    for c in all {
        let replayed = state.0.store.replay_case(c.id).await.unwrap();
        assert_eq!(replayed.as_ref(), Some(&c.facts), "case {}", c.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_routes_and_runs_to_closure() {
    for db in databases("intake_routes_and_runs_to_closure").await {
        intake_and_road(db).await;
    }
}

async fn intake_and_road(db: Db) {
    let state = start(&db).await;
    let (lon, lat, grid) = inside(100);
    // The same pin through locate: the case must go where locate says.
    let (_, loc) = call(
        &state,
        "GET",
        &format!("/api/v1/locate?lon={lon}&lat={lat}"),
        None,
    )
    .await;
    let (s, c) = post(
        &state,
        "/api/v1/cases",
        json!({"channel": "citizen", "category": "C01", "description": "垃圾堆积 rubbish piled up",
               "lon": lon, "lat": lat, "contact": {"name": "王五", "phone": "13912341234"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let today = tessera::cases::calendar::shanghai_local(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
    .0;
    let prefix = format!("ZD{:04}{:02}{:02}-", today.year, today.month, today.day);
    assert!(c["ticket"].as_str().unwrap().starts_with(&prefix), "{c}");
    assert_eq!(c["state"], "submitted");
    assert_eq!(c["version"], 1);
    assert_eq!(c["grid"]["key"], grid.as_str());
    assert_eq!(c["assignee"]["kind"], "worker");
    assert_eq!(c["assignee"]["id"], loc["worker"]["id"]);
    assert!(
        c["routing"]["reason"]
            .as_str()
            .unwrap()
            .contains("grid-level category C01")
    );
    assert!(
        c["deadlines"]["triage_by"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
    assert!(c["deadlines"]["on_site_by"].is_null());
    let token = c["tracking_token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 64);
    let id = c["id"].as_i64().unwrap();

    // A department-level category goes to its department, the grid worker informed.
    let (s, d) = post(
        &state,
        "/api/v1/cases",
        json!({"channel": "hotline", "category": "C15", "description": "违建 illegal building",
               "lon": lon, "lat": lat, "external_ticket": "12345-0001", "operator": "op7"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(
        (
            d["assignee"]["kind"].as_str(),
            d["assignee"]["code"].as_str()
        ),
        (Some("department"), Some("D19"))
    );
    assert_eq!(d["routing"]["informed"]["id"], loc["worker"]["id"]);
    // An address without a pin waits in the district queue.
    let (_, q) = post(
        &state,
        "/api/v1/cases",
        json!({"channel": "hotline", "category": "C01", "description": "x", "address": "人民路1号", "external_ticket": "12345-0002"}),
    )
    .await;
    assert_eq!(q["assignee"]["kind"], "district_queue");
    assert!(q["grid"].is_null());

    // Illegal: accepting a case nobody has dispatched.
    let (s, e) = act(&state, id, 1, json!({"action": "accept"})).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal_transition")),
        "{e}"
    );
    // The road: triage, dispatch, accept, reply, resolve.
    let mut v = 1;
    // A check-in position must be a WGS 84 [lon, lat].
    let (s, e) = act(
        &state,
        id,
        1,
        json!({"action": "accept", "position": [118.0, 136.8]}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("position")),
        "{e}"
    );
    for a in [
        json!({"action": "triage", "urgency": "yellow"}),
        json!({"action": "dispatch"}),
        json!({"action": "accept", "position": [118.05, 36.81]}),
        json!({"action": "reply", "text": "今天下午清运"}),
        json!({"action": "resolve", "note": "已清运"}),
    ] {
        let (s, c) = act(&state, id, v, a.clone()).await;
        assert_eq!(s, StatusCode::OK, "{a}: {c}");
        v += 1;
        assert_eq!(c["version"], v);
        if a["action"] == "dispatch" {
            assert!(c["deadlines"]["on_site_by"].is_string(), "{c}");
            assert!(c["deadlines"]["resolve_by"].is_string());
        }
    }
    // The check-in's position is in the timeline.
    let (_, c) = call(&state, "GET", &format!("/api/v1/cases/{id}"), None).await;
    let accept = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"]["action"] == "accept")
        .unwrap();
    assert_eq!(accept["action"]["position"], json!([118.05, 36.81]));
    // A stale version loses.
    let (s, e) = act(
        &state,
        id,
        v - 1,
        json!({"action": "supervise", "note": "x"}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("version_conflict"))
    );
    assert_eq!(e["error"]["details"]["version"], v);
    // The citizen is unsatisfied: redone by the same owner.
    let (s, t) = post(
        &state,
        &format!("/api/v1/track/{token}/rating"),
        json!({"satisfaction": "unsatisfied", "comment": "还有"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(
        (t["state"].as_str(), t["redo_count"].as_u64()),
        (Some("dispatched"), Some(1))
    );
    let (_, c) = call(&state, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(c["assignee"]["id"], loc["worker"]["id"]);
    let mut v = c["version"].as_i64().unwrap();
    for a in [
        json!({"action": "accept"}),
        json!({"action": "resolve", "note": "彻底清理"}),
    ] {
        let (s, c) = act(&state, id, v, a).await;
        assert_eq!(s, StatusCode::OK, "{c}");
        v += 1;
    }
    let (_, t) = post(
        &state,
        &format!("/api/v1/track/{token}/rating"),
        json!({"satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(t["state"], "rated");
    v += 1;
    for a in [
        json!({"action": "follow_up", "note": "回访满意"}),
        json!({"action": "close"}),
    ] {
        let (s, c) = act(&state, id, v, a).await;
        assert_eq!(s, StatusCode::OK, "{c}");
        v += 1;
    }
    let (_, c) = call(&state, "GET", &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(c["state"], "closed");
    let timeline = c["timeline"].as_array().unwrap();
    assert_eq!(timeline.len() as i64, v);
    assert_eq!(timeline[0]["action"]["action"], "submit");
    assert_eq!(c["report"]["contact"]["phone"], "13912341234");
    // The tracking page shows progress, not the contact.
    let (_, t) = call(&state, "GET", &format!("/api/v1/track/{token}"), None).await;
    assert_eq!(t["state"], "closed");
    assert!(!t.to_string().contains("13912341234"));
    assert!(
        t["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"] == "今天下午清运")
    );
    // Listing filters.
    let (_, l) = call(&state, "GET", "/api/v1/cases?state=closed", None).await;
    assert_eq!(l["cases"].as_array().unwrap().len(), 1);
    let (_, l) = call(
        &state,
        "GET",
        &format!("/api/v1/cases?grid={grid}&per_page=1"),
        None,
    )
    .await;
    assert_eq!(l["cases"].as_array().unwrap().len(), 1);
    let (s, _) = call(&state, "GET", "/api/v1/cases?state=sleeping", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_every_case_replays(&state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_with_one_key_make_one_case() {
    for db in databases("retries_with_one_key_make_one_case").await {
        let state = start(&db).await;
        let (lon, lat, _) = inside(7);
        let body = json!({"channel": "citizen", "category": "C01", "description": "d", "lon": lon, "lat": lat}).to_string();
        let send = |key: &'static str| {
            let state = state.clone();
            let body = body.clone();
            async move {
                use tower::ServiceExt;
                let req = axum::http::Request::builder()
                    .method("POST")
                    .uri("/api/v1/cases")
                    .header("content-type", "application/json")
                    .header("idempotency-key", key)
                    .body(axum::body::Body::from(body))
                    .unwrap();
                let resp = tessera::http::app(state).oneshot(req).await.unwrap();
                let status = resp.status();
                let bytes = http_body_util::BodyExt::collect(resp.into_body())
                    .await
                    .unwrap()
                    .to_bytes();
                (status, serde_json::from_slice::<Value>(&bytes).unwrap())
            }
        };
        let (s1, a) = send("k-1").await;
        let (s2, b) = send("k-1").await;
        assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
        assert_eq!(a["id"], b["id"]);
        // Eight concurrent retries of a new key: one case.
        let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(send("k-2"))).collect();
        let mut ids = std::collections::BTreeSet::new();
        let mut created = 0;
        for t in tasks {
            let (s, v) = t.await.unwrap();
            assert!(s == StatusCode::CREATED || s == StatusCode::OK, "{s}: {v}");
            created += usize::from(s == StatusCode::CREATED);
            ids.insert(v["id"].as_i64().unwrap());
        }
        assert_eq!((ids.len(), created), (1, 1));
        let (_, l) = call(&state, "GET", "/api/v1/cases", None).await;
        assert_eq!(l["cases"].as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn bad_reports_are_refused_naming_the_field() {
    for db in databases("bad_reports_are_refused_naming_the_field").await {
        let state = start(&db).await;
        let (lon, lat, _) = inside(3);
        for (body, field) in [
            (
                json!({"channel": "citizen", "category": "C99", "description": "d", "lon": lon, "lat": lat}),
                "category",
            ),
            (
                json!({"channel": "citizen", "category": "C01", "description": "x".repeat(4001), "lon": lon, "lat": lat}),
                "description",
            ),
            (
                json!({"channel": "citizen", "category": "C01", "description": "  ", "lon": lon, "lat": lat}),
                "description",
            ),
            (
                json!({"channel": "citizen", "category": "C01", "description": "d"}),
                "lon",
            ),
            (
                json!({"channel": "citizen", "category": "C01", "description": "d", "lon": lon}),
                "lat",
            ),
            (
                json!({"channel": "hotline", "category": "C01", "description": "d", "address": "a"}),
                "external_ticket",
            ),
            (
                json!({"channel": "walk_in", "category": "C01", "description": "d"}),
                "address",
            ),
        ] {
            let (s, e) = post(&state, "/api/v1/cases", body).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {e}");
            assert_eq!(e["error"]["details"]["field"], field, "{e}");
        }
        let (s, e) = post(
            &state,
            "/api/v1/cases",
            json!({"channel": "fax", "category": "C01", "description": "d"}),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains("channel"),
            "{e}"
        );
        let (s, _) = call(&state, "GET", "/api/v1/cases/999", None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = call(&state, "GET", "/api/v1/track/nope", None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_reroutes_waiting_cases_and_flags_dispatched_ones() {
    for db in databases("a_publish_reroutes_waiting_cases_and_flags_dispatched_ones").await {
        let state = start(&db).await;
        let (lon, lat, grid) = inside(200);
        let new_case = json!({"channel": "citizen", "category": "C01", "description": "d", "lon": lon, "lat": lat});
        let (_, waiting) = post(&state, "/api/v1/cases", new_case.clone()).await;
        let (_, taken) = post(&state, "/api/v1/cases", new_case).await;
        let taken_id = taken["id"].as_i64().unwrap();
        for (v, a) in [
            (1, json!({"action": "triage", "urgency": "green"})),
            (2, json!({"action": "dispatch"})),
        ] {
            let (s, c) = act(&state, taken_id, v, a).await;
            assert_eq!(s, StatusCode::OK, "{c}");
        }
        // The same geometry, the grid renamed: the pins are now in grid "<grid>-R".
        let mut fc = demo_layer().to_geojson();
        for f in fc["features"].as_array_mut().unwrap() {
            if f["properties"]["code"] == grid.as_str() {
                f["properties"]["code"] = json!(format!("{grid}-R"));
            }
        }
        let (s, v) = post(&state, "/api/v1/layers", fc).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = v["layer"]["id"].as_i64().unwrap();
        let (s, p) = call(
            &state,
            "POST",
            &format!("/api/v1/layers/{id}/publish"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        let (_, w) = call(
            &state,
            "GET",
            &format!("/api/v1/cases/{}", waiting["id"]),
            None,
        )
        .await;
        assert_eq!(w["grid"]["key"], format!("{grid}-R"), "{w}");
        let last = w["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"]["action"], "reroute");
        assert_eq!(last["actor"], "system");
        let (_, t) = call(&state, "GET", &format!("/api/v1/cases/{taken_id}"), None).await;
        assert_eq!(
            t["grid"]["key"],
            grid.as_str(),
            "a dispatched case keeps its grid and owner"
        );
        assert_eq!(t["assignee"], taken["assignee"]);
        let last = t["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"]["action"], "flag");
        assert!(
            last["action"]["reason"]
                .as_str()
                .unwrap()
                .contains(&format!("{grid}-R"))
        );
        assert_every_case_replays(&state).await;
    }
}

#[tokio::test]
async fn overdue_stages_escalate_once_each_up_the_levels() {
    for db in databases("overdue_stages_escalate_once_each_up_the_levels").await {
        let state = start(&db).await;
        let (lon, lat, _) = inside(50);
        let (_, c) = post(
            &state,
            "/api/v1/cases",
            json!({"channel": "citizen", "category": "C01", "description": "d", "lon": lon, "lat": lat}),
        )
        .await;
        let id = c["id"].as_i64().unwrap();
        assert_eq!(c["level"], "grid");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        // Nothing is overdue yet.
        assert_eq!(
            tessera::http::escalate_overdue(&state, now).await.unwrap(),
            0
        );
        // A month later triage is overdue: one level up, once.
        let later = now + 30 * 86_400;
        assert_eq!(
            tessera::http::escalate_overdue(&state, later)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            tessera::http::escalate_overdue(&state, later)
                .await
                .unwrap(),
            0
        );
        let (_, c) = call(&state, "GET", &format!("/api/v1/cases/{id}"), None).await;
        assert_eq!(c["level"], "community");
        let v = c["version"].as_i64().unwrap();
        let (s, _) = act(
            &state,
            id,
            v,
            json!({"action": "triage", "urgency": "yellow"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = act(&state, id, v + 1, json!({"action": "dispatch"})).await;
        assert_eq!(s, StatusCode::OK);
        // Two months on, every stage after dispatch is late: each escalates once, up to the
        // district.
        let much_later = now + 60 * 86_400;
        assert_eq!(
            tessera::http::escalate_overdue(&state, much_later)
                .await
                .unwrap(),
            4
        );
        assert_eq!(
            tessera::http::escalate_overdue(&state, much_later)
                .await
                .unwrap(),
            0
        );
        let (_, c) = call(&state, "GET", &format!("/api/v1/cases/{id}"), None).await;
        assert_eq!(c["level"], "district");
        let stages: Vec<&str> = c["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"]["action"] == "escalate")
            .map(|e| e["action"]["stage"].as_str().unwrap())
            .collect();
        assert_eq!(
            stages,
            ["triage", "on_site", "reply", "resolve", "follow_up"]
        );
        assert_every_case_replays(&state).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_tells_of_every_change_from_every_process() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    for db in databases("the_event_stream_tells_of_every_change_from_every_process").await {
        // The writer and the watcher are two service instances (two processes' worth of state)
        // on one database; with PostgreSQL the news crosses through LISTEN/NOTIFY.
        let writer = start(&db).await;
        let watcher = match &db {
            Db::Postgres(_) => {
                let w = start(&db).await;
                tessera::http::spawn_change_listener(w.clone());
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                w
            }
            Db::Sqlite(_) => writer.clone(),
        };
        let req = axum::http::Request::builder()
            .uri("/api/v1/events")
            .header(
                "authorization",
                format!(
                    "Bearer {}",
                    common::api::test_key(tessera::auth::Role::Dispatcher)
                ),
            )
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = tessera::http::app(watcher.clone())
            .oneshot(req)
            .await
            .unwrap();
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let mut body = resp.into_body();
        let (lon, lat, _) = inside(9);
        let (_, c) = post(
            &writer,
            "/api/v1/cases",
            json!({"channel": "citizen", "category": "C01", "description": "d", "lon": lon, "lat": lat}),
        )
        .await;
        let (s, _) = act(
            &writer,
            c["id"].as_i64().unwrap(),
            1,
            json!({"action": "triage", "urgency": "red"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let mut seen = String::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while seen.matches("event: case").count() < 2 {
            let frame = tokio::time::timeout_at(deadline, body.frame())
                .await
                .expect("events within 10 s")
                .unwrap()
                .unwrap();
            if let Ok(data) = frame.into_data() {
                seen.push_str(&String::from_utf8_lossy(&data));
            }
        }
        assert!(seen.contains(r#""action":"submit""#), "{seen}");
        assert!(
            seen.contains(r#""action":"triage""#) && seen.contains(r#""state":"triaged""#),
            "{seen}"
        );
    }
}

#[tokio::test]
async fn stats_equal_a_recount_of_the_cases() {
    for db in databases("stats_equal_a_recount_of_the_cases").await {
        let state = start(&db).await;
        for (i, cat) in ["C01", "C01", "C15", "C05", "C15"].iter().enumerate() {
            let (lon, lat, _) = inside(300 + 97 * i);
            let (s, c) = post(
                &state,
                "/api/v1/cases",
                json!({"channel": "citizen", "category": cat, "description": "d", "lon": lon, "lat": lat}),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{c}");
            if i % 2 == 0 {
                let (s, _) = act(
                    &state,
                    c["id"].as_i64().unwrap(),
                    1,
                    json!({"action": "triage", "urgency": "green"}),
                )
                .await;
                assert_eq!(s, StatusCode::OK);
            }
        }
        let (_, st) = call(&state, "GET", "/api/v1/stats", None).await;
        let (_, list) = call(&state, "GET", "/api/v1/cases?per_page=500", None).await;
        let cases = list["cases"].as_array().unwrap();
        assert_eq!(st["total"], cases.len());
        let count = |key: &str, value: &str| cases.iter().filter(|c| c[key] == value).count();
        for (k, v) in st["by_state"].as_object().unwrap() {
            assert_eq!(v, &json!(count("state", k)), "state {k}");
        }
        for (k, v) in st["by_category"].as_object().unwrap() {
            assert_eq!(v, &json!(count("category", k)), "category {k}");
        }
        let department_cases: usize = st["departments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["cases"].as_u64().unwrap() as usize)
            .sum();
        assert_eq!(
            department_cases,
            cases
                .iter()
                .filter(|c| c["assignee"]["kind"] == "department")
                .count()
        );
        assert_eq!(st["sla"].as_array().unwrap().len(), 5);
        // Month by category adds up to the months and the categories; grids to the cases.
        let mut by_month = std::collections::BTreeMap::<String, u64>::new();
        let mut by_category = std::collections::BTreeMap::<String, u64>::new();
        for (m, cats) in st["by_month_category"].as_object().unwrap() {
            for (c, n) in cats.as_object().unwrap() {
                *by_month.entry(m.clone()).or_default() += n.as_u64().unwrap();
                *by_category.entry(c.clone()).or_default() += n.as_u64().unwrap();
            }
        }
        assert_eq!(json!(by_month), st["by_month"]);
        assert_eq!(json!(by_category), st["by_category"]);
        // The trend has a line per month, with that month's cases.
        let trend: std::collections::BTreeMap<String, u64> = st["trend"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["month"].as_str().unwrap().to_string(),
                    m["cases"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(json!(trend), st["by_month"]);
        // A period: only the cases submitted in it.
        let (_, later) = call(&state, "GET", "/api/v1/stats?from=4102444800", None).await;
        assert_eq!(later["total"], 0, "{later}");
        let (_, all_time) = call(&state, "GET", "/api/v1/stats?from=0&to=4102444800", None).await;
        assert_eq!(all_time["total"], st["total"]);
        for (g, n) in st["by_grid"].as_object().unwrap() {
            let counted = cases.iter().filter(|c| c["grid"]["key"] == *g).count();
            assert_eq!(n, &json!(counted), "grid {g}");
        }
        // Appeals per 10,000 residents: each street's cases over its grids' population.
        let layer = demo_layer();
        let streets = st["streets"].as_array().unwrap();
        assert_eq!(streets.len(), 13);
        for s in streets {
            let code = s["code"].as_str().unwrap();
            let population: u64 = layer
                .grids
                .iter()
                .filter(|g| g.properties["street"] == code)
                .map(|g| g.properties["population"].as_u64().unwrap())
                .sum();
            let in_street = cases
                .iter()
                .filter(|c| {
                    let g = c["grid"]["key"].as_str().unwrap_or_default();
                    layer
                        .grids
                        .iter()
                        .any(|x| x.key == g && x.properties["street"] == code)
                })
                .count();
            assert_eq!(s["population"], population, "{s}");
            assert_eq!(s["cases"], in_street, "{s}");
            let want = in_street as f64 * 10_000.0 / population as f64;
            assert!((s["per_10k"].as_f64().unwrap() - want).abs() < 1e-9, "{s}");
        }
        // One street: only its cases.
        let street = demo_layer().grids[300].properties["street"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, one) = call(
            &state,
            "GET",
            &format!("/api/v1/stats?street={street}"),
            None,
        )
        .await;
        assert!(
            one["total"].as_u64().unwrap() >= 1 && one["total"].as_u64().unwrap() <= 5,
            "{one}"
        );
        // A street's supervisor gets that street's figures, and no other street's.
        let key = "tsk_street_supervisor";
        common::api::scoped_key(
            &state,
            "street-supervisor",
            key,
            tessera::auth::Role::Supervisor,
            tessera::auth::Scope::Street(street.clone()),
        )
        .await;
        let (s, own) = common::api::call_as(&state, Some(key), "GET", "/api/v1/stats", None).await;
        assert_eq!(s, StatusCode::OK, "{own}");
        assert_eq!(own["total"], one["total"], "{own}");
        let other = layer_street_other(&street);
        let (s, e) = common::api::call_as(
            &state,
            Some(key),
            "GET",
            &format!("/api/v1/stats?street={other}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    }
}

#[tokio::test]
async fn audits_draw_a_seeded_sample_of_closed_cases_and_record_visits() {
    for db in databases("audits_draw_a_seeded_sample_of_closed_cases_and_record_visits").await {
        let state = start(&db).await;
        let mut closed = Vec::new();
        for i in 0..10 {
            let (lon, lat, _) = inside(20 * i + 1);
            let (_, c) = post(
                &state,
                "/api/v1/cases",
                json!({"channel": "citizen", "category": "C01", "description": "d", "lon": lon, "lat": lat}),
            )
            .await;
            let id = c["id"].as_i64().unwrap();
            run_to_closure(&state, id).await;
            closed.push(id);
        }
        // One more, still open: never sampled.
        let (lon, lat, _) = inside(999);
        let (_, open) = post(
            &state,
            "/api/v1/cases",
            json!({"channel": "citizen", "category": "C01", "description": "d", "lon": lon, "lat": lat}),
        )
        .await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let period = json!({"from": now - 3600, "to": now + 3600, "rate": 0.3, "seed": 42});
        let (s, a) = post(&state, "/api/v1/audits", period.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        // The drawer is the account, not a name in the body.
        assert_eq!(a["created_by"], "test-supervisor");
        let sample: Vec<i64> = a["sample"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert_eq!(sample.len(), 3);
        assert!(sample.iter().all(|id| closed.contains(id)));
        assert!(!sample.contains(&open["id"].as_i64().unwrap()));
        // The same seed draws the same sample; it is the library's draw over the closed ids.
        let (_, again) = post(&state, "/api/v1/audits", period).await;
        assert_eq!(again["sample"], a["sample"]);
        assert_eq!(sample, tessera::cases::audit::sample(&closed, 0.3, 42));
        let aid = a["id"].as_i64().unwrap();
        let (s, r) = post(
            &state,
            &format!("/api/v1/audits/{aid}/results"),
            json!({"case_id": sample[0], "outcome": "confirmed", "note": "回访满意", "by": "李"}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r["results"][0]["outcome"], "confirmed");
        let (s, e) = post(
            &state,
            &format!("/api/v1/audits/{aid}/results"),
            json!({"case_id": open["id"], "outcome": "disputed"}),
        )
        .await;
        assert_eq!(
            (s, e["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("case_id"))
        );
        let (_, shown) = call(&state, "GET", &format!("/api/v1/audits/{aid}"), None).await;
        assert_eq!(shown["results"].as_array().unwrap().len(), 1);
        // A street's supervisor draws from their street's cases only, and may not read or add
        // to an audit of the district's.
        let street = demo_layer().grids[1].properties["street"]
            .as_str()
            .unwrap()
            .to_string();
        let key = "tsk_audit_street_supervisor";
        common::api::scoped_key(
            &state,
            "street-auditor",
            key,
            tessera::auth::Role::Supervisor,
            tessera::auth::Scope::Street(street.clone()),
        )
        .await;
        let in_street: Vec<i64> = {
            let layer = demo_layer();
            let mut v = Vec::new();
            for (i, id) in closed.iter().enumerate() {
                if layer.grids[20 * i + 1].properties["street"] == street.as_str() {
                    v.push(*id);
                }
            }
            v
        };
        let everything = json!({"from": now - 3600, "to": now + 3600, "rate": 1.0, "seed": 1});
        let (s, mine) = common::api::call_as(
            &state,
            Some(key),
            "POST",
            "/api/v1/audits",
            Some(everything.to_string()),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{mine}");
        assert_eq!(
            common::api::sorted_ids(&mine["sample"]),
            in_street,
            "{mine}"
        );
        assert_eq!(mine["created_by"], "street-auditor");
        let (s, _) = post(&state, "/api/v1/audits", everything).await;
        assert_eq!(s, StatusCode::CREATED);
        let district_all = {
            let (_, a) = post(
                &state,
                "/api/v1/audits",
                json!({"from": now - 3600, "to": now + 3600, "rate": 1.0, "seed": 2}),
            )
            .await;
            a["id"].as_i64().unwrap()
        };
        if in_street.len() < closed.len() {
            let uri = format!("/api/v1/audits/{district_all}");
            let (s, e) = common::api::call_as(&state, Some(key), "GET", &uri, None).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
            let (s, e) = common::api::call_as(
                &state,
                Some(key),
                "POST",
                &format!("{uri}/results"),
                Some(json!({"case_id": closed[0], "outcome": "confirmed"}).to_string()),
            )
            .await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
        }
        let (s, _) = post(
            &state,
            "/api/v1/audits",
            json!({"from": 0, "to": 1, "rate": 1.5}),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn ten_reports_close_together_become_one_incident_every_reporter_follows() {
    for db in
        databases("ten_reports_close_together_become_one_incident_every_reporter_follows").await
    {
        let state = start(&db).await;
        let (lon, lat, _) = inside(400);
        let mut tokens = Vec::new();
        let mut ids = Vec::new();
        for i in 0..11 {
            // Within ~30 m of each other.
            let p = json!({"channel": "citizen", "category": "C07", "description": format!("report {i}"),
                           "lon": lon + 0.00002 * i as f64, "lat": lat});
            let (s, c) = post(&state, "/api/v1/cases", p).await;
            assert_eq!(s, StatusCode::CREATED, "{c}");
            tokens.push(c["tracking_token"].as_str().unwrap().to_string());
            ids.push(c["id"].as_i64().unwrap());
            if i < 9 {
                assert_eq!(c["state"], "submitted", "report {i} is still alone");
            } else {
                assert_eq!(c["state"], "merged", "report {i}: {c}");
            }
        }
        // One parent, at the district level, with every report merged into it.
        let (_, all) = call(&state, "GET", "/api/v1/cases?per_page=500", None).await;
        let parents: Vec<&Value> = all["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["channel"] == "incident")
            .collect();
        assert_eq!(parents.len(), 1, "{all}");
        let parent = parents[0];
        assert_eq!(parent["level"], "district");
        assert!(
            parent["report"]["description"]
                .as_str()
                .unwrap()
                .contains("10 reports")
        );
        for id in &ids {
            let (_, c) = call(&state, "GET", &format!("/api/v1/cases/{id}"), None).await;
            assert_eq!(c["state"], "merged", "case {id}");
            assert_eq!(c["merged_into"], parent["id"], "case {id}");
        }
        // The incident's members are listed through it, and open lists leave them out.
        let pid = parent["id"].as_i64().unwrap();
        let (_, members) = call(
            &state,
            "GET",
            &format!("/api/v1/cases?merged_into={pid}&per_page=500"),
            None,
        )
        .await;
        let mut listed: Vec<i64> = members["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        listed.sort_unstable();
        let mut want = ids.clone();
        want.sort_unstable();
        assert_eq!(listed, want);
        assert_eq!(members["total"], ids.len());
        let (_, open) = call(&state, "GET", "/api/v1/cases?open=true&per_page=500", None).await;
        assert!(
            open["cases"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["state"] != "merged")
        );
        assert!(
            open["cases"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == pid)
        );
        // The parent is handled; every reporter sees it.
        for (v, a) in [
            (1, json!({"action": "triage", "urgency": "red"})),
            (2, json!({"action": "dispatch"})),
            (3, json!({"action": "accept"})),
            (4, json!({"action": "reply", "text": "开发商承诺月底交房"})),
        ] {
            let (s, e) = act(&state, pid, v, a).await;
            assert_eq!(s, StatusCode::OK, "{e}");
        }
        for t in [&tokens[0], &tokens[10]] {
            let (_, tr) = call(&state, "GET", &format!("/api/v1/track/{t}"), None).await;
            assert_eq!(tr["state"], "merged");
            assert_eq!(tr["incident"]["state"], "replied", "{tr}");
            assert!(
                tr["incident"]["timeline"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["text"] == "开发商承诺月底交房")
            );
        }
        // Another category nearby stays alone.
        let (_, other) = post(&state, "/api/v1/cases", json!({"channel": "citizen", "category": "C01", "description": "d", "lon": lon, "lat": lat})).await;
        assert_eq!(other["state"], "submitted");
        assert_every_case_replays(&state).await;
    }
}

/// A multipart body with one `file` part.
fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "tessera-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn raw(
    state: &AppState,
    method: &str,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, String, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type);
    if let Some(role) = common::api::role_for(method, uri, None) {
        req = req.header(
            "authorization",
            format!("Bearer {}", common::api::test_key(role)),
        );
    }
    let req = req.body(axum::body::Body::from(body)).unwrap();
    let resp = tessera::http::app(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        ct,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

#[tokio::test]
async fn photos_and_voice_notes_are_sniffed_stored_and_served() {
    for db in databases("photos_and_voice_notes_are_sniffed_stored_and_served").await {
        let state = start(&db).await;
        let media = tempfile::tempdir().unwrap();
        state.0.media_dir.set(media.path().to_path_buf()).unwrap();
        let (lon, lat, _) = inside(11);
        let (_, c) = post(&state, "/api/v1/cases", json!({"channel": "citizen", "category": "C01", "description": "d", "lon": lon, "lat": lat})).await;
        let id = c["id"].as_i64().unwrap();
        let token = c["tracking_token"].as_str().unwrap().to_string();
        let uri = format!("/api/v1/cases/{id}/media");
        // Without the tracking token an anonymous upload is refused before the body is read.
        let (ct, body) = multipart("photo.png", b"\x89PNG\r\n\x1a\n");
        let (s, _, _) = raw(&state, "POST", &uri, &ct, body).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let up = format!("{uri}?token={token}");
        // A PNG declared as a JPEG: stored as what it is.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0u8; 64]);
        let (ct, body) = multipart("photo.jpg", &png);
        let (s, _, b) = raw(&state, "POST", &up, &ct, body).await;
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["files"][0]["type"], "image/png");
        let name = v["files"][0]["name"].as_str().unwrap().to_string();
        assert!(name.ends_with(".png"));
        let (s, ct, got) = raw(
            &state,
            "GET",
            &format!("{uri}/{name}?token={token}"),
            "",
            Vec::new(),
        )
        .await;
        assert_eq!((s, ct.as_str()), (StatusCode::OK, "image/png"));
        assert_eq!(got, png);
        // Text dressed as a photo, and an oversized image, are refused.
        let (ct, body) = multipart("evil.jpg", b"<script>alert(1)</script>");
        let (s, _, _) = raw(&state, "POST", &up, &ct, body).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let mut big = b"\xFF\xD8\xFF\xE0".to_vec();
        big.resize(10 * 1024 * 1024 + 1, 0);
        let (ct, body) = multipart("big.jpg", &big);
        let (s, _, _) = raw(&state, "POST", &up, &ct, body).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        // A voice note (WAV) is kept as audio; audio has its own, lower limit (5 MB).
        let mut wav = b"RIFF\x24\x08\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\0\x08\0\0".to_vec();
        wav.resize(wav.len() + 2048, 0);
        let (ct, body) = multipart("voice.bin", &wav);
        let (s, _, b) = raw(&state, "POST", &up, &ct, body).await;
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["files"][0]["type"], "audio/x-wav", "{v}");
        assert!(v["files"][0]["name"].as_str().unwrap().ends_with(".wav"));
        let mut long_wav = wav.clone();
        long_wav.resize(5 * 1024 * 1024 + 1, 0);
        let (ct, body) = multipart("long.wav", &long_wav);
        let (s, _, _) = raw(&state, "POST", &up, &ct, body).await;
        assert_eq!(
            s,
            StatusCode::PAYLOAD_TOO_LARGE,
            "6 MB of audio is over its limit"
        );
        // The case records the two files; nothing else was stored.
        let (_, c) = call(&state, "GET", &format!("/api/v1/cases/{id}"), None).await;
        let attached: Vec<&Value> = c["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"]["action"] == "attach")
            .collect();
        assert_eq!(attached.len(), 2);
        // The reporter sees the photo on the tracking page.
        let (_, t) = call(&state, "GET", &format!("/api/v1/track/{token}"), None).await;
        let shown: Vec<&Value> = t["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "attach")
            .collect();
        assert_eq!(shown.len(), 2, "{t}");
        assert_eq!(shown[0]["file"], format!("{uri}/{name}?token={token}"));
        // Without the token, or as a role that may not read cases, the file is not served.
        let (s, _, _) = raw(&state, "GET", &format!("{uri}/{name}"), "", Vec::new()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _) = common::api::call_as(
            &state,
            Some(&common::api::test_key(tessera::auth::Role::Planner)),
            "GET",
            &format!("{uri}/{name}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(
            std::fs::read_dir(media.path().join(id.to_string()))
                .unwrap()
                .count(),
            2
        );
        let (s, _, _) = raw(
            &state,
            "GET",
            &format!("{uri}/..%2F..%2Fetc%2Fpasswd?token={token}"),
            "",
            Vec::new(),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (ct, body) = multipart("photo.png", &png);
        let (s, _, _) = raw(&state, "POST", "/api/v1/cases/9999/media", &ct, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_dispatchers_acting_at_once_exactly_one_wins() {
    for db in databases("of_two_dispatchers_acting_at_once_exactly_one_wins").await {
        let state = start(&db).await;
        let (lon, lat, _) = inside(33);
        for round in 0..5 {
            let (_, c) = post(
                &state,
                "/api/v1/cases",
                json!({"channel": "citizen", "category": "C01", "description": format!("r{round}"), "lon": lon + 0.001 * round as f64, "lat": lat}),
            )
            .await;
            let id = c["id"].as_i64().unwrap();
            let tasks: Vec<_> = ["red", "green", "yellow", "red"]
                .into_iter()
                .map(|u| {
                    let state = state.clone();
                    tokio::spawn(async move {
                        act(&state, id, 1, json!({"action": "triage", "urgency": u})).await
                    })
                })
                .collect();
            let mut codes = Vec::new();
            for t in tasks {
                let (s, v) = t.await.unwrap();
                codes.push((s, v["error"]["code"].as_str().map(str::to_string)));
            }
            let wins = codes.iter().filter(|(s, _)| *s == StatusCode::OK).count();
            assert_eq!(wins, 1, "{codes:?}");
            assert!(
                codes
                    .iter()
                    .all(|(s, c)| *s == StatusCode::OK || c.as_deref() == Some("version_conflict")),
                "{codes:?}"
            );
            let (_, c) = call(&state, "GET", &format!("/api/v1/cases/{id}"), None).await;
            assert_eq!(
                (
                    c["version"].as_i64(),
                    c["timeline"].as_array().unwrap().len()
                ),
                (Some(2), 2)
            );
        }
    }
}

#[tokio::test]
async fn the_demo_history_is_loaded_as_real_cases_on_first_start() {
    for db in databases("the_demo_history_is_loaded_as_real_cases_on_first_start").await {
        let state = common::api::start_with_history(&db).await;
        let sample: Value = serde_json::from_str(
            &std::fs::read_to_string(common::api::seed_dir().join("cases-sample.json")).unwrap(),
        )
        .unwrap();
        let reports = sample["reports"].as_array().unwrap();
        let (_, st) = call(&state, "GET", "/api/v1/stats", None).await;
        // Every report became a case through intake; the incident rule gathered the estate's
        // reports into parents handled at the district level.
        let (_, parents) = call(
            &state,
            "GET",
            "/api/v1/cases?per_page=500&category=C07",
            None,
        )
        .await;
        let parents: Vec<&Value> = parents["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["channel"] == "incident")
            .collect();
        assert!(!parents.is_empty());
        assert!(parents.iter().all(|p| p["level"] == "district"));
        assert_eq!(
            st["total"],
            reports.len() + parents.len(),
            "{}",
            st["by_state"]
        );
        let in_incident = reports
            .iter()
            .filter(|r| !r["incident_id"].is_null())
            .count() as u64;
        let merged = st["by_state"]["merged"].as_u64().unwrap();
        assert!(
            merged >= in_incident * 9 / 10 && merged <= in_incident,
            "{merged} of {in_incident} incident reports merged"
        );
        // The statistics equal a recount of the cases, state by state.
        let mut recount = 0;
        for (s, n) in st["by_state"].as_object().unwrap() {
            let (_, l) = call(
                &state,
                "GET",
                &format!("/api/v1/cases?state={s}&per_page=500"),
                None,
            )
            .await;
            assert_eq!(
                l["cases"].as_array().unwrap().len() as u64,
                n.as_u64().unwrap(),
                "{s}"
            );
            recount += n.as_u64().unwrap();
        }
        assert_eq!(st["total"], recount);
        assert!(st["by_state"]["closed"].as_u64().unwrap() > 200);
        // Redos happen where the citizen was unsatisfied, no more.
        let unsatisfied = reports
            .iter()
            .filter(|r| r["incident_id"].is_null() && r["pace"]["rating"] == "unsatisfied")
            .count() as u64;
        let redone = st["redone"].as_u64().unwrap();
        assert!(
            redone > 0 && redone <= unsatisfied,
            "{redone} {unsatisfied}"
        );
        // Per month: one case per report, in the month reported.
        let mut months = std::collections::BTreeMap::<String, u64>::new();
        for r in reports {
            *months
                .entry(r["reported_at"].as_str().unwrap()[..7].to_string())
                .or_default() += 1;
        }
        for p in &parents {
            *months
                .entry(p["submitted_at"].as_str().unwrap()[..7].to_string())
                .or_default() += 1;
        }
        assert_eq!(st["by_month"], json!(months));
        // The engine's deadlines judged each stage; late ones exist, most are met.
        for stage in st["sla"].as_array().unwrap() {
            let judged = stage["judged"].as_u64().unwrap();
            let met = stage["met"].as_u64().unwrap();
            assert!(
                judged > 200 && met < judged && met * 10 > judged * 7,
                "{stage}"
            );
        }
        // A redone case: its timeline holds the unsatisfied rating and both rounds.
        let (_, list) = call(
            &state,
            "GET",
            "/api/v1/cases?state=closed&per_page=500",
            None,
        )
        .await;
        let one = list["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["redo_count"] == 1)
            .unwrap();
        let (_, c) = call(&state, "GET", &format!("/api/v1/cases/{}", one["id"]), None).await;
        let names: Vec<&str> = c["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"]["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            names.iter().filter(|n| **n == "resolve").count(),
            2,
            "{names:?}"
        );
        assert!(
            names.contains(&"rate") && names.last() == Some(&"close"),
            "{names:?}"
        );
        assert!(c["ticket"].as_str().unwrap().starts_with("ZD202"));
        assert_every_case_replays(&state).await;
    }
}

#[tokio::test]
async fn lists_filter_by_community_street_department_and_owner_and_count_every_page() {
    for db in databases("lists_filter_by_community_street_department_and_owner").await {
        let state = start(&db).await;
        // Office hours on a working day (Wednesday 2026-11-25 10:00 +08:00): each grid's own
        // worker is on duty, whatever the time the test runs (after hours the community's
        // on-call worker would own the cases of both grids).
        state.0.clock.set(1_795_572_000);
        let layer = demo_layer();
        let prop = |i: usize, k: &str| layer.grids[i].properties[k].as_str().unwrap().to_string();
        // Two grids of one community, and one of another street.
        let a = 0;
        let b = (1..layer.grids.len())
            .find(|&i| prop(i, "community") == prop(a, "community"))
            .unwrap();
        let c = (1..layer.grids.len())
            .find(|&i| prop(i, "street") != prop(a, "street"))
            .unwrap();
        let mut ids = Vec::new();
        for (i, category) in [(a, "C01"), (b, "C01"), (b, "C07"), (c, "C01")] {
            let (lon, lat, _) = inside(i);
            let (s, v) = post(
                &state,
                "/api/v1/cases",
                json!({"channel": "citizen", "category": category, "description": "x",
                       "lon": lon, "lat": lat}),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            ids.push((v["id"].as_i64().unwrap(), v["assignee"].clone()));
        }
        let list = |q: String| {
            let state = state.clone();
            async move {
                let (got, v) = listed(&state, &q).await;
                (v["total"].as_i64().unwrap(), got)
            }
        };
        let id = |k: usize| ids[k].0;
        assert_eq!(
            list(format!("community={}", prop(a, "community"))).await,
            (3, vec![id(0), id(1), id(2)])
        );
        assert_eq!(
            list(format!("street={}", prop(c, "street"))).await.1,
            vec![id(3)]
        );
        // The housing case went to its department; the others to grid workers.
        assert_eq!(ids[2].1["kind"], "department", "{}", ids[2].1);
        let dept = ids[2].1["code"].as_str().unwrap().to_string();
        assert_eq!(list(format!("department={dept}")).await, (1, vec![id(2)]));
        let worker = ids[0].1["id"].as_str().unwrap().to_string();
        assert_eq!(list(format!("assignee={worker}")).await.1, vec![id(0)]);
        // The total counts every page.
        let (total, page) = list("per_page=1&page=2".into()).await;
        assert_eq!((total, page.len()), (4, 1));
        // Unknown codes are refused naming the parameter.
        for q in ["community=nowhere", "street=nowhere", "department=D999"] {
            let (s, v) = call(&state, "GET", &format!("/api/v1/cases?{q}"), None).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {v}");
            assert_eq!(
                v["error"]["details"]["parameter"],
                q.split('=').next().unwrap()
            );
        }
    }
}

/// A street code of the demo district other than `street`.
fn layer_street_other(street: &str) -> String {
    demo_layer()
        .grids
        .iter()
        .filter_map(|g| g.properties["street"].as_str())
        .find(|s| *s != street)
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_links_reports_into_an_incident_every_reporter_follows() {
    for db in databases("a_dispatcher_links_reports_into_an_incident_every_reporter_follows").await
    {
        let state = start(&db).await;
        let (mut ids, mut tokens) = (Vec::new(), Vec::new());
        // Two categories, far apart: the incident rule would never gather them.
        for (i, category) in [(10, "C01"), (600, "C02"), (1200, "C01")] {
            let (lon, lat, _) = inside(i);
            let (s, c) = post(
                &state,
                "/api/v1/cases",
                json!({"channel": "citizen", "category": category, "description": "停水三天",
                       "lon": lon, "lat": lat}),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{c}");
            assert_eq!(c["state"], "submitted");
            ids.push(c["id"].as_i64().unwrap());
            tokens.push(c["tracking_token"].as_str().unwrap().to_string());
        }
        // Refused, naming the field, and nothing is created.
        for (body, field) in [
            (json!({"cases": [ids[0]], "reason": "r"}), "cases"),
            (json!({"cases": [ids[0], ids[0]], "reason": "r"}), "cases"),
            (json!({"cases": [ids[0], 999_999], "reason": "r"}), "cases"),
            (json!({"cases": ids, "reason": "  "}), "reason"),
            (
                json!({"cases": ids, "reason": "r", "level": "grid"}),
                "level",
            ),
        ] {
            let (s, e) = post(&state, "/api/v1/incidents", body.clone()).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
            assert_eq!(e["error"]["details"]["field"], field, "{body}: {e}");
        }
        let (_, all) = call(&state, "GET", "/api/v1/cases?per_page=100", None).await;
        assert_eq!(all["total"], 3, "a refused request created something");

        let (s, v) = post(
            &state,
            "/api/v1/incidents",
            json!({"cases": ids, "level": "street", "reason": "同一供水管网停水"}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let pid = v["incident"]["id"].as_i64().unwrap();
        assert_eq!(v["incident"]["channel"], "incident");
        assert_eq!(v["incident"]["level"], "street");
        assert_eq!(v["incident"]["category"], "C01");
        assert_eq!(v["merged"], json!(ids));
        assert_eq!(v["skipped"], json!([]));
        assert!(
            v["incident"]["report"]["description"]
                .as_str()
                .unwrap()
                .contains("同一供水管网停水")
        );
        for id in &ids {
            let (_, c) = call(&state, "GET", &format!("/api/v1/cases/{id}"), None).await;
            assert_eq!(c["state"], "merged");
            assert_eq!(c["merged_into"], pid);
        }
        // Linked again, a merged report is refused; so is an incident itself.
        let (s, e) = post(
            &state,
            "/api/v1/incidents",
            json!({"cases": [ids[0], ids[1]], "reason": "again"}),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(e["error"]["code"], "illegal_transition");
        let (s, _) = post(
            &state,
            "/api/v1/incidents",
            json!({"cases": [pid, ids[1]], "reason": "again"}),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // The parent is handled; every reporter follows it.
        for (v, a) in [
            (1, json!({"action": "triage", "urgency": "yellow"})),
            (2, json!({"action": "dispatch"})),
        ] {
            let (s, e) = act(&state, pid, v, a).await;
            assert_eq!(s, StatusCode::OK, "{e}");
        }
        for t in &tokens {
            let (_, tr) = call(&state, "GET", &format!("/api/v1/track/{t}"), None).await;
            assert_eq!(tr["state"], "merged");
            assert_eq!(tr["incident"]["state"], "dispatched", "{tr}");
        }
        assert_every_case_replays(&state).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_in_other_datums_and_outside_the_grids_and_the_remaining_list_filters() {
    for db in databases("pins_in_other_datums_and_outside_the_grids").await {
        let state = start(&db).await;
        let t0 = 1_795_572_000; // Wednesday 2026-11-25 10:00 +08:00: office hours
        state.0.clock.set(t0);
        let layer = demo_layer();
        let submit = |body: Value| {
            let state = state.clone();
            async move {
                let (s, v) = post(&state, "/api/v1/cases", body).await;
                assert_eq!(s, StatusCode::CREATED, "{v}");
                v
            }
        };
        // A: a WGS84 pin inside a grid.
        let (lon, lat, grid_a) = inside(20);
        let a = submit(
            json!({"channel": "citizen", "category": "C01", "description": "a",
                              "lon": lon, "lat": lat}),
        )
        .await;
        assert_eq!(a["grid"]["key"], grid_a.as_str());
        // B: a GCJ-02 pin (as a Chinese map SDK gives it) lands in the same grid as its WGS84 point.
        state.0.clock.set(t0 + 60);
        let (lon_b, lat_b, grid_b) = inside(700);
        let (gx, gy) = tessera::spatial::crs::wgs84_to_gcj02(lon_b, lat_b);
        let b = submit(
            json!({"channel": "citizen", "category": "C01", "description": "b",
                              "lon": gx, "lat": gy, "crs": "gcj02"}),
        )
        .await;
        assert_eq!(b["grid"]["key"], grid_b.as_str(), "{b}");
        // C: 100 m east of the district's easternmost vertex: snapped to a grid with that vertex.
        let (east, owners) = {
            let mut best = (f64::MIN, 0.0);
            for g in &layer.grids {
                for p in g.geometry.0.iter().flat_map(|p| p.exterior().0.iter()) {
                    if p.x > best.0 {
                        best = (p.x, p.y);
                    }
                }
            }
            let owners: Vec<String> = layer
                .grids
                .iter()
                .filter(|g| {
                    g.geometry
                        .0
                        .iter()
                        .any(|p| p.exterior().0.iter().any(|c| (c.x, c.y) == best))
                })
                .map(|g| g.key.clone())
                .collect();
            (best, owners)
        };
        let metre_lon = 1.0 / (111_320.0 * east.1.to_radians().cos());
        let c = submit(
            json!({"channel": "citizen", "category": "C01", "description": "c",
                              "lon": east.0 + 100.0 * metre_lon, "lat": east.1}),
        )
        .await;
        let key = c["grid"]["key"].as_str().unwrap_or_default().to_string();
        assert!(owners.contains(&key), "{c} not in {owners:?}");
        let reason = c["routing"]["reason"].as_str().unwrap();
        assert!(
            reason.contains("pin outside coverage, 100 m from grid"),
            "{reason}"
        );
        assert_eq!(c["assignee"]["kind"], "worker", "{c}");
        // D: 5 km out: the district queue places it.
        let d = submit(
            json!({"channel": "citizen", "category": "C01", "description": "d",
                              "lon": east.0 + 5_000.0 * metre_lon, "lat": east.1}),
        )
        .await;
        assert_eq!(d["grid"], Value::Null, "{d}");
        assert_eq!(d["assignee"]["kind"], "district_queue", "{d}");
        assert!(
            d["routing"]["reason"]
                .as_str()
                .unwrap()
                .contains("farther than 200 m from every grid"),
            "{d}"
        );
        let id = |v: &Value| v["id"].as_i64().unwrap();
        let (ia, ib, ic, id_) = (id(&a), id(&b), id(&c), id(&d));
        // Urgency: A is triaged red.
        let (s, e) = act(&state, ia, 1, json!({"action": "triage", "urgency": "red"})).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        let list = |q: String| {
            let state = state.clone();
            async move { listed(&state, &q).await }
        };
        assert_eq!(list("urgency=red".into()).await.0, vec![ia]);
        // Bbox: around A's pin only; then around nothing.
        let bbox = format!(
            "bbox={},{},{},{}",
            lon - 1e-4,
            lat - 1e-4,
            lon + 1e-4,
            lat + 1e-4
        );
        assert_eq!(list(bbox).await.0, vec![ia]);
        assert!(list("bbox=100,20,100.1,20.1".into()).await.0.is_empty());
        // Time range: submitted at or after `from`, before `to`.
        assert_eq!(list(format!("from={}", t0 + 1)).await.0, vec![ib, ic, id_]);
        assert_eq!(list(format!("to={}", t0 + 1)).await.0, vec![ia]);
        // Overdue, three days later: the untriaged ones missed their 2-hour triage; overdue and
        // not overdue split the cases, and each overdue case says which stage.
        state.0.clock.set(t0 + 3 * 86_400);
        let (late, v) = list("overdue=true".into()).await;
        let (not_late, _) = list("overdue=false".into()).await;
        for k in [ib, ic, id_] {
            assert!(late.contains(&k), "{k} not overdue: {v}");
        }
        let mut both: Vec<i64> = late.iter().chain(&not_late).copied().collect();
        both.sort_unstable();
        assert_eq!(both, vec![ia, ib, ic, id_]);
        assert!(
            v["cases"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| !c["overdue"].as_array().unwrap().is_empty())
        );
        // Paging works over the judged cases.
        let (one, v) = list("overdue=true&per_page=1&page=2".into()).await;
        assert_eq!(one.len(), 1, "{v}");
        assert_eq!(v["total"], late.len(), "{v}");
    }
}

/// Two services on one database (two processes, as far as the database can tell) tick at the
/// same time, round after round: on PostGIS only one holds the ticker's turn at a time, and on
/// both backends each overdue stage is escalated exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tickers_on_one_database_escalate_each_stage_once() {
    for db in databases("two_tickers_on_one_database_escalate_each_stage_once").await {
        let one = start(&db).await;
        let two = start(&db).await;
        let (lon, lat, _) = inside(60);
        let (_, c) = post(
            &one,
            "/api/v1/cases",
            json!({"channel": "citizen", "category": "C01", "description": "d", "lon": lon, "lat": lat}),
        )
        .await;
        let id = c["id"].as_i64().unwrap();
        if matches!(db, Db::Postgres(_)) {
            let held = one
                .0
                .store
                .try_tick_lock()
                .await
                .unwrap()
                .expect("a free turn");
            assert!(
                two.0.store.try_tick_lock().await.unwrap().is_none(),
                "two tickers had the turn at once"
            );
            held.release().await;
            let again = two.0.store.try_tick_lock().await.unwrap();
            assert!(again.is_some(), "the turn was not given back");
            again.unwrap().release().await;
        }
        // A month later: triage is overdue. Both tick, many times, concurrently.
        let later = one.now() + 30 * 86_400;
        let tick = |state: AppState| async move {
            let mut done = 0;
            for _ in 0..20 {
                if let Some(lock) = state.0.store.try_tick_lock().await.unwrap() {
                    done += tessera::http::escalate_overdue(&state, later)
                        .await
                        .unwrap();
                    lock.release().await;
                }
                tokio::task::yield_now().await;
            }
            done
        };
        let (a, b) = tokio::join!(
            tokio::spawn(tick(one.clone())),
            tokio::spawn(tick(two.clone()))
        );
        assert_eq!(a.unwrap() + b.unwrap(), 1, "one escalation in all");
        let (_, c) = call(&one, "GET", &format!("/api/v1/cases/{id}"), None).await;
        let escalations = c["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"]["action"] == "escalate")
            .count();
        assert_eq!(escalations, 1, "{c}");
        assert_eq!(c["level"], "community");
    }
}

/// The issue's two worked examples, through intake and the stored calendar (not the pure
/// functions alone): across National Day, and onto a make-up working day.
#[tokio::test]
async fn triage_deadlines_follow_the_stored_calendar() {
    for db in databases("triage_deadlines_follow_the_stored_calendar").await {
        let state = start(&db).await;
        let (lon, lat, _) = inside(30);
        for (submitted, triage_by) in [
            // Wednesday 2026-09-30 16:00 +08:00 → after the National Day holiday.
            (1_790_755_200, "2026-10-08T09:00:00+08:00"),
            // Friday 2026-10-09 17:00 +08:00 → Saturday 10-10, a make-up working day.
            (1_791_536_400, "2026-10-10T10:00:00+08:00"),
        ] {
            state.0.clock.set(submitted);
            let (s, c) = post(
                &state,
                "/api/v1/cases",
                json!({"channel": "citizen", "category": "C01", "description": "d",
                       "lon": lon, "lat": lat}),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{c}");
            assert_eq!(c["deadlines"]["triage_by"], triage_by, "{c}");
        }
    }
}

/// Open311 `GET requests`: the 90-day default window, dates, ids, status, the 1,000 cap (newest
/// first), and a client's `api_key` accepted on a read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open311_requests_filter_by_window_dates_ids_and_status() {
    for db in databases("open311_requests_filter_by_window_dates_ids_and_status").await {
        let state = start(&db).await;
        let t0: i64 = 1_795_572_000; // 2026-11-25 10:00 +08:00
        let day = 86_400;
        let at = |t: i64, i: usize, category: &str| {
            let state = state.clone();
            let category = category.to_string();
            async move {
                state.0.clock.set(t);
                let (lon, lat, _) = inside(i);
                let (s, c) = post(
                    &state,
                    "/api/v1/cases",
                    json!({"channel": "citizen", "category": category, "description": "d",
                           "lon": lon, "lat": lat}),
                )
                .await;
                assert_eq!(s, StatusCode::CREATED, "{c}");
                c["id"].as_i64().unwrap()
            }
        };
        let old = at(t0 - 100 * day, 1, "C01").await;
        let recent = at(t0 - 10 * day, 2, "C01").await;
        let done = at(t0 - 5 * day, 3, "C01").await;
        run_to_closure(&state, done).await;
        state.0.clock.set(t0);
        let ids = |q: &str| {
            let state = state.clone();
            let uri = format!("/open311/v2/requests.json{q}");
            async move {
                let (s, v) = call(&state, "GET", &uri, None).await;
                assert_eq!(s, StatusCode::OK, "{uri}: {v}");
                let mut out: Vec<i64> = v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["service_request_id"].as_str().unwrap().parse().unwrap())
                    .collect();
                out.sort_unstable();
                out
            }
        };
        // Default: the last 90 days.
        assert_eq!(ids("").await, vec![recent, done]);
        // Dates select; the window may start anywhere.
        assert_eq!(
            ids("?start_date=2026-08-01T00:00:00%2B08:00&end_date=2026-08-30T00:00:00%2B08:00")
                .await,
            vec![old]
        );
        assert_eq!(
            ids("?start_date=2026-11-18T00:00:00Z").await,
            vec![done],
            "start_date alone: 90 days from it"
        );
        // Ids override the window; status is open or closed; a key on a read is fine.
        assert_eq!(
            ids(&format!("?service_request_id={old},{done}")).await,
            vec![old, done]
        );
        assert_eq!(ids("?status=closed").await, vec![done]);
        assert_eq!(ids("?status=open&api_key=anything").await, vec![recent]);
        // At most 1,000 requests, the newest: 1,000 more cases like `recent`, written straight
        // to the store (intake through the router would cost a minute in a debug build).
        let model = state.0.store.case(recent).await.unwrap().unwrap();
        let mut newest = Vec::new();
        for i in 0..1_000_i64 {
            let mut facts = model.facts.clone();
            facts.submitted_at = t0 - day + i;
            let (c, created) = state
                .0
                .store
                .insert_case(&tessera::store::cases::NewCase {
                    idempotency_key: None,
                    day: "20261124".into(),
                    tracking_token: format!("bulk-{i}"),
                    channel: "citizen".into(),
                    pin: model.pin,
                    grid: model.grid.clone(),
                    intake: model.intake.clone(),
                    facts,
                    actor: "citizen".into(),
                })
                .await
                .unwrap();
            assert!(created);
            newest.push(c.id);
        }
        state.0.clock.set(t0);
        let listed = ids("").await;
        assert_eq!(listed.len(), 1_000);
        newest.sort_unstable();
        assert_eq!(listed, newest, "the 1,000 newest");
    }
}

/// Seeds the demo district into `store` and submits one citizen case through the API, near
/// (118.05, 36.80); returns the case's id.
async fn seed_and_submit_one_case(store: tessera::store::Store) -> i64 {
    tessera::demo::seed::seed_if_empty(
        &store,
        &tessera::demo::seed::SeedSource::dir(&common::api::seed_dir()).unwrap(),
    )
    .await
    .unwrap();
    let state = AppState::load(store).await.unwrap();
    common::api::add_test_keys(&state).await;
    let (status, case) = post(
        &state,
        "/api/v1/cases",
        json!({"channel": "citizen", "category": "C01", "description": "bags by the gate",
               "lon": 118.05, "lat": 36.80}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    case["id"].as_i64().unwrap()
}

/// Two districts on one PostgreSQL database (a province before it is distributed): every read
/// keeps to the connection's district, so neither process sees the other's layers, published
/// layer, cases, timelines or contact reads, even by id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_districts_on_one_postgres_database_see_only_their_own_rows() {
    use tessera::store::cases::CaseFilter;
    let Some(admin) = common::postgres_admin_url("two_districts_on_one_postgres_database") else {
        return;
    };
    let url = common::fresh_pg_database(&admin).await;
    let open = |district: &'static str| {
        let url = url.clone();
        async move {
            tessera::store::Store::open_district(
                Some(&url),
                std::path::Path::new("unused"),
                district,
            )
            .await
            .unwrap()
        }
    };
    let zhangdian = open("370303").await;
    let id = seed_and_submit_one_case(zhangdian.clone()).await;
    let every = CaseFilter {
        limit: 100,
        ..CaseFilter::default()
    };
    zhangdian
        .record_contact_read(1, "tester", "supervisor", id)
        .await
        .unwrap();
    let audit = zhangdian
        .insert_audit(&tessera::store::audits::Audit {
            id: 0,
            created_at: 1,
            created_by: "tester".into(),
            period_from: 0,
            period_to: 2,
            rate: 1.0,
            seed: 7,
            sample: vec![id],
        })
        .await
        .unwrap()
        .id;
    // The zoom-14 tile holding the case's pin.
    let tile = {
        let n = f64::from(1u32 << 14);
        let lat = 36.80_f64.to_radians();
        let x = ((118.05 + 180.0) / 360.0 * n) as u32;
        let y = ((1.0 - lat.tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
        tessera::spatial::tile::TileId::new(14, x, y).unwrap()
    };

    let zichuan = open("370302").await;
    assert!(zichuan.layers().await.unwrap().is_empty());
    assert!(zichuan.publishes().await.unwrap().is_empty());
    let layer = zhangdian.layers().await.unwrap()[0].id;
    assert!(zichuan.layer(layer).await.unwrap().is_none());
    assert!(zichuan.layer_grids(layer).await.unwrap().grids.is_empty());
    assert!(zichuan.case(id).await.unwrap().is_none());
    assert!(zichuan.case_events(id).await.unwrap().is_empty());
    assert!(zichuan.cases(&every).await.unwrap().is_empty());
    assert_eq!(zichuan.count_cases(&every).await.unwrap(), 0);
    assert!(zichuan.contact_reads(id).await.unwrap().is_empty());
    assert!(
        zichuan
            .contact_reads_between(0, i64::MAX, 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(zichuan.audit(audit).await.unwrap().is_none());
    assert_eq!(
        zichuan.grid_tile(layer, tile).await.unwrap(),
        Some(Vec::new())
    );

    // The district that owns them still sees all of it.
    assert!(!zhangdian.layer_grids(layer).await.unwrap().grids.is_empty());
    assert_eq!(zhangdian.publishes().await.unwrap().len(), 1);
    assert_eq!(zhangdian.case(id).await.unwrap().unwrap().id, id);
    assert!(!zhangdian.case_events(id).await.unwrap().is_empty());
    assert_eq!(zhangdian.count_cases(&every).await.unwrap(), 1);
    assert_eq!(zhangdian.contact_reads(id).await.unwrap().len(), 1);
    assert!(zhangdian.audit(audit).await.unwrap().is_some());
    assert!(
        !zhangdian
            .grid_tile(layer, tile)
            .await
            .unwrap()
            .unwrap()
            .is_empty()
    );

    // Each district has its own escalation ticker turn; a second process of one district waits.
    let zhangdian_turn = zhangdian.try_tick_lock().await.unwrap();
    let zichuan_turn = zichuan.try_tick_lock().await.unwrap();
    assert!(zhangdian_turn.is_some() && zichuan_turn.is_some());
    let second = open("370303").await;
    assert!(second.try_tick_lock().await.unwrap().is_none());
    zhangdian_turn.unwrap().release().await;
    let again = second.try_tick_lock().await.unwrap();
    assert!(again.is_some(), "released turns can be taken");
    again.unwrap().release().await;
    zichuan_turn.unwrap().release().await;
}

/// The PostGIS schema is ready to be distributed by district (docs/scale-out.md): a database
/// opened for district 370302 stores that code on every row of the distributed tables, every
/// primary key of those tables leads with it, and a malformed district is refused up front.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rows_carry_their_district_leading_every_key() {
    use sqlx::Connection;
    let refused = tessera::store::Store::open_district(None, std::path::Path::new("."), "37030")
        .await
        .expect_err("a five-digit district is refused");
    assert!(refused.to_string().contains("six-digit"), "{refused}");
    let Some(admin) = common::postgres_admin_url("postgres_rows_carry_their_district") else {
        return;
    };
    let url = common::fresh_pg_database(&admin).await;
    let store =
        tessera::store::Store::open_district(Some(&url), std::path::Path::new("unused"), "370302")
            .await
            .unwrap();
    seed_and_submit_one_case(store).await;

    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    let distributed = [
        "layer",
        "grid",
        "publish_event",
        "case_record",
        "case_event",
        "ticket_counter",
        "contact_read",
        "audit",
        "audit_result",
    ];
    for table in distributed {
        let districts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT district FROM {table}"
        )))
        .fetch_all(&mut c)
        .await
        .unwrap();
        assert!(
            districts.iter().all(|d| d == "370302"),
            "{table}: {districts:?}"
        );
    }
    for table in [
        "layer",
        "grid",
        "publish_event",
        "case_record",
        "case_event",
    ] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert!(n > 0, "{table} has rows to check");
    }
    // The first column of each primary key (audit_result has none) and of every unique
    // constraint of the case table.
    let leading: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, a.attname::text
           FROM pg_index x
           JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
          WHERE (x.indisprimary OR x.indisunique)
            AND t.relname = ANY($1)",
    )
    .bind(distributed.map(str::to_string).to_vec())
    .fetch_all(&mut c)
    .await
    .unwrap();
    for table in distributed.iter().filter(|t| **t != "audit_result") {
        assert!(
            leading.iter().any(|(t, _, _)| t == table),
            "{table} has a primary key"
        );
    }
    for (table, index, column) in &leading {
        assert_eq!(column, "district", "{table}: {index} leads with {column}");
    }
}
