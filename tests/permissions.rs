//! Who may do what, on both real backends: every role (and an anonymous caller) against every
//! route of the route table; sign-in with a session cookie and its CSRF token; API keys made,
//! used and revoked; scoped accounts seeing only their cases; contacts masked except for the
//! dispatchers and the case's handler, with every full read recorded; and the README's tables
//! equal to the code's.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tessera::auth::{Permission, Role};
use tessera::http::AppState;
use tessera::http::auth::{Access, ROUTES, action_permission};
use tower::ServiceExt;

mod common;
use common::api::{call, call_as, databases, demo_layer, start, test_key};

/// A concrete request for a route pattern: path parameters filled with things that exist.
fn concrete(path: &str, case: i64, token: &str, grid: &str) -> String {
    path.replace("{id}/media/{name}", &format!("{case}/media/1-1.png"))
        .replace("/cases/{id}", &format!("/cases/{case}"))
        .replace("{token}", token)
        .replace("{key}", grid)
        .replace("/layers/{id}", "/layers/1")
        .replace("{a}", "1")
        .replace("{b}", "1")
        .replace("/audits/{id}", "/audits/1")
        .replace("/api-keys/{id}", "/api-keys/999999")
        .replace("/accounts/{id}", "/accounts/999999")
}

#[tokio::test]
async fn every_role_against_every_route() {
    for db in databases("every_role_against_every_route").await {
        let state = start(&db).await;
        let (lon, lat, grid) = {
            use geo::InteriorPoint;
            let l = demo_layer();
            let p = l.grids[3].geometry.interior_point().unwrap();
            (p.x(), p.y(), l.grids[3].key.clone())
        };
        let (s, c) = call(
            &state,
            "POST",
            "/api/v1/cases",
            Some(
                json!({"channel": "citizen", "category": "C01", "description": "x",
                        "lon": lon, "lat": lat})
                .to_string(),
            ),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let id = c["id"].as_i64().unwrap();
        let token = c["tracking_token"].as_str().unwrap().to_string();
        let callers: Vec<Option<Role>> = std::iter::once(None)
            .chain(Role::ALL.into_iter().map(Some))
            .collect();
        let mut checked = 0;
        for (method, pattern, access) in ROUTES {
            // Bodies that get past authorisation and then stop short of changing anything
            // (wrong version, incomplete fields), so every caller meets the same state.
            let uri = concrete(pattern, id, &token, &grid);
            let bodies: Vec<(Option<&str>, String)> = match *access {
                Access::Staff if pattern.ends_with("/actions") => ["accept", "triage", "supervise"]
                    .into_iter()
                    .map(|a| {
                        let body = match a {
                            "triage" => json!({"action": a, "version": 999, "urgency": "red"}),
                            "supervise" => json!({"action": a, "version": 999, "note": "n"}),
                            _ => json!({"action": a, "version": 999}),
                        };
                        (Some(a), body.to_string())
                    })
                    .collect(),
                _ => vec![(None, "{}".to_string())],
            };
            for (action, body) in &bodies {
                for who in &callers {
                    let key = who.map(test_key);
                    let body = (*method == "POST").then(|| body.clone());
                    // The event stream never ends: only its status is read.
                    let (status, v) = if *pattern == "/api/v1/events" {
                        events_status(&state, key.as_deref()).await
                    } else {
                        call_as(&state, key.as_deref(), method, &uri, body).await
                    };
                    let need = match (access, action) {
                        (Access::Public, _) => None,
                        (Access::Staff, Some(a)) => Some(action_permission(a)),
                        (Access::Staff, None) => Some(Permission::Public),
                        (Access::Need(p), _) => Some(*p),
                    };
                    let allowed = match (who, need) {
                        (_, None) => true,
                        (None, Some(_)) => false,
                        (Some(r), Some(p)) => r.may(p),
                    };
                    let denied = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
                    let what = format!(
                        "{method} {uri} {} as {}: {status} {v}",
                        action.unwrap_or(""),
                        who.map_or("anonymous", |r| r.as_str())
                    );
                    if allowed {
                        // Media without a token is 401 by design for anonymous callers.
                        let media_anon = who.is_none() && pattern.contains("/media");
                        assert!(!denied || media_anon, "allowed but denied: {what}");
                    } else if who.is_none() {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
                        assert_eq!(v["error"]["code"], "unauthorized", "{what}");
                    } else {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 9 * ROUTES.len(), "{checked}");
    }
}

/// The status of `GET /api/v1/events` (the stream itself is not read).
async fn events_status(state: &AppState, key: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::builder().uri("/api/v1/events");
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let resp = tessera::http::app(state.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let v = if status.is_success() {
        Value::Null
    } else {
        let b = resp.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&b).unwrap_or(Value::Null)
    };
    (status, v)
}

/// One raw request; status, headers and JSON body.
async fn raw(
    state: &AppState,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let resp = tessera::http::app(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = resp.status();
    let h = resp.headers().clone();
    let b = resp.into_body().collect().await.unwrap().to_bytes();
    (status, h, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

#[tokio::test]
async fn sign_in_keys_scopes_and_masked_contacts() {
    for db in databases("sign_in_keys_scopes_and_masked_contacts").await {
        let state = start(&db).await;
        let admin = test_key(Role::Admin);
        let auth = format!("Bearer {admin}");
        // An administrator adds a dispatcher; a short password or a scope that does not fit
        // the role is refused naming the field.
        let (s, _, v) = raw(
            &state,
            "POST",
            "/api/v1/accounts",
            &[("authorization", &auth)],
            Some(json!({"name": "d1", "role": "dispatcher", "password": "short"})),
        )
        .await;
        assert_eq!(
            (s, v["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
        );
        let (s, _, v) = raw(
            &state,
            "POST",
            "/api/v1/accounts",
            &[("authorization", &auth)],
            Some(
                json!({"name": "d1", "role": "dispatcher", "password": "a long password 1",
                        "scope": {"kind": "department", "code": "D02"}}),
            ),
        )
        .await;
        assert_eq!(
            (s, v["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("scope"))
        );
        let (s, _, v) = raw(
            &state,
            "POST",
            "/api/v1/accounts",
            &[("authorization", &auth)],
            Some(json!({"name": "d1", "role": "dispatcher", "password": "a long password 1"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (s, _, _) = raw(
            &state,
            "POST",
            "/api/v1/accounts",
            &[("authorization", &auth)],
            Some(json!({"name": "d1", "role": "planner", "password": "a long password 2"})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT);
        // Sign-in: a wrong password is 401; the right one gives an HttpOnly, SameSite=Strict
        // cookie and a CSRF token.
        let (s, _, _) = raw(
            &state,
            "POST",
            "/api/v1/login",
            &[],
            Some(json!({"name": "d1", "password": "a long password 2"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, h, me) = raw(
            &state,
            "POST",
            "/api/v1/login",
            &[("x-forwarded-proto", "https")],
            Some(json!({"name": "d1", "password": "a long password 1"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{me}");
        let set = h["set-cookie"].to_str().unwrap().to_string();
        for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(set.contains(attr), "{set}");
        }
        // Over plain HTTP (no proxy saying otherwise) the cookie is not Secure, or a browser
        // would drop it; RFC 7239's Forwarded header counts as well as X-Forwarded-Proto.
        for (headers, secure) in [
            (&[][..], false),
            (
                &[("forwarded", "for=192.0.2.60;proto=https;by=203.0.113.43")][..],
                true,
            ),
            (&[("x-forwarded-proto", "http")][..], false),
        ] {
            let (s, h, me) = raw(
                &state,
                "POST",
                "/api/v1/login",
                headers,
                Some(json!({"name": "d1", "password": "a long password 1"})),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{me}");
            let set = h["set-cookie"].to_str().unwrap();
            assert_eq!(set.contains("; Secure"), secure, "{headers:?}: {set}");
        }
        let cookie = set.split(';').next().unwrap().to_string();
        let csrf = me["csrf_token"].as_str().unwrap().to_string();
        assert_eq!(me["role"], "dispatcher");
        let (s, _, who) = raw(&state, "GET", "/api/v1/me", &[("cookie", &cookie)], None).await;
        assert_eq!((s, who["name"].as_str()), (StatusCode::OK, Some("d1")));
        // A citizen's report with a contact.
        let (lon, lat, grid) = {
            use geo::InteriorPoint;
            let l = demo_layer();
            let p = l.grids[5].geometry.interior_point().unwrap();
            (p.x(), p.y(), l.grids[5].key.clone())
        };
        let (_, _, c) = raw(&state, "POST", "/api/v1/cases", &[],
            Some(json!({"channel": "citizen", "category": "C01", "description": "x", "lon": lon, "lat": lat,
                        "contact": {"name": "张三丰", "phone": "13912341234"}}))).await;
        let id = c["id"].as_i64().unwrap();
        assert_eq!(c["report"]["contact"]["phone"], "139****1234", "{c}");
        // The session acts only with its CSRF token.
        let triage = json!({"action": "triage", "version": 1, "urgency": "yellow"});
        let uri = format!("/api/v1/cases/{id}/actions");
        let (s, _, v) = raw(
            &state,
            "POST",
            &uri,
            &[("cookie", &cookie)],
            Some(triage.clone()),
        )
        .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("csrf"))
        );
        let (s, _, v) = raw(
            &state,
            "POST",
            &uri,
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            Some(triage),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // The actor is the account, not a claim in the body.
        let (_, _, full) = raw(
            &state,
            "GET",
            &format!("/api/v1/cases/{id}"),
            &[("cookie", &cookie)],
            None,
        )
        .await;
        assert_eq!(full["timeline"][1]["actor"], "d1");
        // A dispatcher sees the full contact, and the read is recorded; a list shows it masked.
        assert_eq!(full["report"]["contact"]["phone"], "13912341234");
        assert_eq!(full["report"]["contact"]["name"], "张三丰");
        let reads = state.0.store.contact_reads(id).await.unwrap();
        assert_eq!(reads.len(), 1);
        assert_eq!(
            (reads[0].actor.as_str(), reads[0].role.as_str()),
            ("d1", "dispatcher")
        );
        let (_, _, list) = raw(&state, "GET", "/api/v1/cases", &[("cookie", &cookie)], None).await;
        let row = list["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone();
        assert_eq!(row["report"]["contact"]["phone"], "139****1234");
        assert_eq!(row["report"]["contact"]["name"], "张**");
        // Supervisors see the log of full reads.
        let (s, log) = call_as(
            &state,
            Some(&test_key(Role::Supervisor)),
            "GET",
            &format!("/api/v1/cases/{id}/contact-reads"),
            None,
        )
        .await;
        assert_eq!(
            (s, log["reads"][0]["actor"].as_str()),
            (StatusCode::OK, Some("d1")),
            "{log}"
        );
        // A supervisor reads the case masked, and nothing more is recorded.
        let (_, v) = call_as(
            &state,
            Some(&test_key(Role::Supervisor)),
            "GET",
            &format!("/api/v1/cases/{id}"),
            None,
        )
        .await;
        assert_eq!(v["report"]["contact"]["phone"], "139****1234");
        // Nowhere else in the answer either: the submission event in the timeline records the
        // report, its contact masked (the dispatcher's answer too: the full contact is only in
        // `report`, where its read is recorded).
        for answer in [&v, &full] {
            let text = answer["timeline"].to_string();
            assert!(
                !text.contains("13912341234") && !text.contains("张三丰"),
                "{text}"
            );
            assert!(text.contains("139****1234"), "{text}");
        }
        assert_eq!(state.0.store.contact_reads(id).await.unwrap().len(), 1);
        // The case's handler, the worker of its grid (an account scoped to that grid), sees it
        // whole, and the read is recorded; a grid worker scoped wider is not its handler.
        let handler = "tsk_grid_handler";
        common::api::scoped_key(
            &state,
            "grid-handler",
            handler,
            Role::GridWorker,
            tessera::auth::Scope::Grid(grid.clone()),
        )
        .await;
        let case_uri = format!("/api/v1/cases/{id}");
        let (s, v) = call_as(&state, Some(handler), "GET", &case_uri, None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["report"]["contact"]["phone"], "13912341234", "{v}");
        let (s, v) = call_as(
            &state,
            Some(&test_key(Role::GridWorker)),
            "GET",
            &case_uri,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["report"]["contact"]["phone"], "139****1234", "{v}");
        assert_eq!(state.0.store.contact_reads(id).await.unwrap().len(), 2);
        // The district-wide log lists both reads, with who read which case.
        let (s, log) = call_as(
            &state,
            Some(&test_key(Role::Supervisor)),
            "GET",
            "/api/v1/contact-reads",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{log}");
        let who: Vec<(&str, i64)> = log["reads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["actor"].as_str().unwrap(), r["case_id"].as_i64().unwrap()))
            .collect();
        assert_eq!(who, [("d1", id), ("grid-handler", id)], "{log}");
        let (s, _) = call_as(
            &state,
            Some(&test_key(Role::Supervisor)),
            "GET",
            "/api/v1/contact-reads?from=10&to=5",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        // A session past its expiry opens nothing (sessions last 8 hours).
        let account = state
            .0
            .store
            .accounts()
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.name == "d1")
            .unwrap();
        state
            .0
            .store
            .insert_session(
                &tessera::auth::secret::token_hash("old-token"),
                account.id,
                "c",
                0,
                1,
            )
            .await
            .unwrap();
        let (s, _, _) = raw(
            &state,
            "GET",
            "/api/v1/me",
            &[("cookie", "tessera_session=old-token")],
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        // Signed out, the cookie opens nothing.
        let (s, _, _) = raw(
            &state,
            "POST",
            "/api/v1/logout",
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _, _) = raw(&state, "GET", "/api/v1/cases", &[("cookie", &cookie)], None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        // An admin disables the account: its open session ends at once, it cannot sign in
        // again, and it stays on record.
        let login = json!({"name": "d1", "password": "a long password 1"});
        let (s, h, _) = raw(&state, "POST", "/api/v1/login", &[], Some(login.clone())).await;
        assert_eq!(s, StatusCode::OK);
        let live = h["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let (s, _, _) = raw(&state, "GET", "/api/v1/me", &[("cookie", &live)], None).await;
        assert_eq!(s, StatusCode::OK);
        let disable = format!("/api/v1/accounts/{}/disable", account.id);
        let (s, _, _) = raw(&state, "POST", &disable, &[("authorization", &auth)], None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _, _) = raw(&state, "GET", "/api/v1/me", &[("cookie", &live)], None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "the open session ended");
        let (s, _, _) = raw(&state, "POST", "/api/v1/login", &[], Some(login)).await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "a disabled account cannot sign in"
        );
        let (s, _, _) = raw(&state, "POST", &disable, &[("authorization", &auth)], None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "already disabled");
        let (_, _, list) = raw(
            &state,
            "GET",
            "/api/v1/accounts",
            &[("authorization", &auth)],
            None,
        )
        .await;
        let d1 = list
            .as_array()
            .or_else(|| list["accounts"].as_array())
            .unwrap()
            .iter()
            .find(|a| a["name"] == "d1")
            .cloned()
            .unwrap();
        assert!(d1["disabled_at"].is_i64(), "{d1}");
        // A key: made by an admin, shown once, used, revoked.
        let (s, _, k) = raw(
            &state,
            "POST",
            "/api/v1/api-keys",
            &[("authorization", &auth)],
            Some(json!({"name": "12345 platform"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{k}");
        assert_eq!(k["record"]["role"], "integration");
        let key = k["key"].as_str().unwrap().to_string();
        let bearer = format!("Bearer {key}");
        let (s, _, _) = raw(
            &state,
            "GET",
            "/api/v1/cases",
            &[("authorization", &bearer)],
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (_, _, keys) = raw(
            &state,
            "GET",
            "/api/v1/api-keys",
            &[("authorization", &auth)],
            None,
        )
        .await;
        assert!(
            !keys.to_string().contains(&key),
            "a listed key shows its secret"
        );
        let kid = k["record"]["id"].as_i64().unwrap();
        let (s, _, _) = raw(
            &state,
            "POST",
            &format!("/api/v1/api-keys/{kid}/revoke"),
            &[("authorization", &auth)],
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _, v) = raw(&state, "POST", "/api/v1/cases", &[("authorization", &bearer)],
            Some(json!({"channel": "citizen", "category": "C01", "description": "x", "lon": lon, "lat": lat}))).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized"))
        );
    }
}

#[tokio::test]
async fn scoped_accounts_see_and_act_on_their_own_cases_only() {
    for db in databases("scoped_accounts_see_and_act_on_their_own_cases_only").await {
        let state = start(&db).await;
        let layer = demo_layer();
        let prop = |i: usize, k: &str| layer.grids[i].properties[k].as_str().unwrap().to_string();
        let a = 0;
        let far = (1..layer.grids.len())
            .find(|&i| prop(i, "street") != prop(a, "street"))
            .unwrap();
        let mut ids = Vec::new();
        for (i, category) in [(a, "C01"), (far, "C01"), (a, "C07")] {
            use geo::InteriorPoint;
            let p = layer.grids[i].geometry.interior_point().unwrap();
            let (_, c) = call(
                &state,
                "POST",
                "/api/v1/cases",
                Some(
                    json!({"channel": "citizen",
                "category": category, "description": "x", "lon": p.x(), "lat": p.y()})
                    .to_string(),
                ),
            )
            .await;
            ids.push((c["id"].as_i64().unwrap(), c["assignee"].clone()));
        }
        let admin = test_key(Role::Admin);
        let mut keys = Vec::new();
        for (name, role, scope) in [
            (
                "w",
                "grid_worker",
                json!({"kind": "grid", "code": layer.grids[a].key}),
            ),
            (
                "s",
                "supervisor",
                json!({"kind": "street", "code": prop(far, "street")}),
            ),
            (
                "dp",
                "department_staff",
                json!({"kind": "department", "code": ids[2].1["code"]}),
            ),
        ] {
            let (s, k) = call_as(
                &state,
                Some(&admin),
                "POST",
                "/api/v1/api-keys",
                Some(json!({"name": name, "role": role, "scope": scope}).to_string()),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{k}");
            keys.push(k["key"].as_str().unwrap().to_string());
        }
        let seen = |key: String| {
            let state = state.clone();
            async move {
                let (_, v) = call_as(
                    &state,
                    Some(&key),
                    "GET",
                    "/api/v1/cases?per_page=500",
                    None,
                )
                .await;
                common::api::sorted_ids(&v["cases"])
            }
        };
        // The grid worker sees the cases of their grid (both categories); the street
        // supervisor the far street's; the department its own.
        assert_eq!(seen(keys[0].clone()).await, vec![ids[0].0, ids[2].0]);
        assert_eq!(seen(keys[1].clone()).await, vec![ids[1].0]);
        assert_eq!(seen(keys[2].clone()).await, vec![ids[2].0]);
        // Outside the scope: 403, reading or acting.
        let (s, _) = call_as(
            &state,
            Some(&keys[0]),
            "GET",
            &format!("/api/v1/cases/{}", ids[1].0),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = call_as(
            &state,
            Some(&keys[0]),
            "POST",
            &format!("/api/v1/cases/{}/actions", ids[1].0),
            Some(json!({"action": "accept", "version": 1}).to_string()),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // A grid worker may not dispatch, even in their grid.
        let (s, _) = call_as(
            &state,
            Some(&keys[0]),
            "POST",
            &format!("/api/v1/cases/{}/actions", ids[0].0),
            Some(json!({"action": "triage", "version": 1, "urgency": "red"}).to_string()),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn locate_shows_citizens_a_masked_phone() {
    // The database's folder lives as long as the test (a temporary would delete it at once,
    // and the pool's next connection would find no file).
    let db = common::api::Db::Sqlite(tempfile::tempdir().unwrap());
    let state = start(&db).await;
    let uri = "/api/v1/locate?lon=118.05&lat=36.81";
    let (_, anon) = call_as(&state, None, "GET", uri, None).await;
    let (_, staff) = call_as(&state, Some(&test_key(Role::Dispatcher)), "GET", uri, None).await;
    let full = staff["worker"]["phone"].as_str().unwrap();
    assert_eq!(anon["worker"]["name"], staff["worker"]["name"]);
    assert_eq!(anon["worker"]["phone"], tessera::auth::mask_phone(full));
    assert_ne!(anon["worker"]["phone"].as_str().unwrap(), full);
    // An integration key may not read the workers' contacts either.
    let (_, key) = call_as(&state, Some(&test_key(Role::Integration)), "GET", uri, None).await;
    assert_eq!(key["worker"]["phone"], anon["worker"]["phone"], "{key}");
    // The grid's own page shows its worker the same way: whole to staff who may read the
    // workers, name and masked phone to anyone else.
    let grid = staff["grid"]["key"].as_str().unwrap();
    let page = format!("/api/v1/grids/{grid}");
    let (_, staff_grid) = call_as(
        &state,
        Some(&test_key(Role::Dispatcher)),
        "GET",
        &page,
        None,
    )
    .await;
    let worker = &staff_grid["properties"]["worker"];
    let phone = worker["phone"]
        .as_str()
        .unwrap_or_else(|| panic!("{staff_grid}"));
    assert!(!phone.contains('*'), "{worker}");
    for who in [None, Some(test_key(Role::Integration))] {
        let (s, g) = call_as(&state, who.as_deref(), "GET", &page, None).await;
        assert_eq!(s, StatusCode::OK, "{g}");
        let w = g["properties"]["worker"].as_object().unwrap();
        assert_eq!(w["phone"], tessera::auth::mask_phone(phone), "{g}");
        assert_eq!(w["name"], worker["name"]);
        let mut fields: Vec<&str> = w.keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["id", "name", "phone", "role"], "{g}");
    }
}

#[test]
fn the_readme_shows_the_tables_of_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (start, end) = (
        "<!-- permissions: generated from src/auth and src/http/auth.rs -->\n",
        "<!-- /permissions -->",
    );
    let want = format!(
        "{}\n{}",
        tessera::auth::permission_table_markdown(),
        tessera::http::auth::route_table_markdown()
    );
    let a = text.find(start).expect("the README's permissions block") + start.len();
    let b = text[a..].find(end).expect("its end") + a;
    if text[a..b] != want && std::env::var_os("TESSERA_BLESS_README").is_some() {
        std::fs::write(&path, format!("{}{want}{}", &text[..a], &text[b..])).unwrap();
        return;
    }
    assert!(
        text[a..b] == want,
        "the README's permission tables differ from the code; rerun with TESSERA_BLESS_README=1 to rewrite them:\n{want}"
    );
}

#[tokio::test]
async fn open311_posts_are_cases_like_any_other() {
    for db in databases("open311_posts_are_cases_like_any_other").await {
        let state = start(&db).await;
        let key = test_key(Role::Integration);
        let form = |k: &str| {
            format!(
                "api_key={k}&service_code=C01&lat=36.81&long=118.05&description=%E5%9E%83%E5%9C%BE&phone=13912341234"
            )
        };
        let post = |body: String, idem: Option<&'static str>| {
            let state = state.clone();
            async move {
                let mut req = Request::builder()
                    .method("POST")
                    .uri("/open311/v2/requests.json")
                    .header("content-type", "application/x-www-form-urlencoded");
                if let Some(k) = idem {
                    req = req.header("idempotency-key", k);
                }
                let resp = tessera::http::app(state)
                    .oneshot(req.body(Body::from(body)).unwrap())
                    .await
                    .unwrap();
                let s = resp.status();
                let b = resp.into_body().collect().await.unwrap().to_bytes();
                (
                    s,
                    serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
                )
            }
        };
        // No key, or a wrong one: 403 in the specification's error shape.
        let (s, v) = post(form(""), None).await;
        assert_eq!(
            (s, v[0]["code"].as_i64()),
            (StatusCode::FORBIDDEN, Some(403)),
            "{v}"
        );
        let (s, _) = post(form("tsk_nope"), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // With the key: a case, routed like any other; a retry with the same key is the same.
        let (s, v) = post(form(&key), Some("o311-1")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let id = v[0]["service_request_id"].as_str().unwrap().to_string();
        assert!(
            v[0]["service_notice"]
                .as_str()
                .unwrap()
                .contains("pin in grid"),
            "{v}"
        );
        let (s, again) = post(form(&key), Some("o311-1")).await;
        assert_eq!(
            (s, again[0]["service_request_id"].as_str()),
            (StatusCode::OK, Some(id.as_str()))
        );
        let (_, case) = call(&state, "GET", &format!("/api/v1/cases/{id}"), None).await;
        assert_eq!(case["channel"], "open311");
        assert!(case["assignee"]["kind"] == "worker", "{case}");
        // Read back in XML: the request, without its contact.
        let resp = tessera::http::app(state.clone())
            .oneshot(
                Request::builder()
                    .uri(format!("/open311/v2/requests/{id}.xml"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.headers()["content-type"], "text/xml; charset=utf-8");
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
            text.contains("<service_requests><request>")
                && text.contains(&format!("<service_request_id>{id}</service_request_id>")),
            "{text}"
        );
        assert!(
            text.contains("<status>open</status>") && !text.contains("13912341234"),
            "{text}"
        );
    }
}

/// `tessera user add` against the database a server uses, on both backends: each scope, the
/// printed password (or one read from stdin) that then signs in, and the refusals that create
/// nothing.
#[tokio::test]
async fn user_add_on_the_command_line_makes_accounts_that_sign_in() {
    use std::io::Write;
    use std::process::{Command, Output, Stdio};
    use tessera::auth::Scope;
    for db in databases("user_add_on_the_command_line_makes_accounts_that_sign_in").await {
        let state = start(&db).await;
        let elsewhere = tempfile::tempdir().unwrap();
        let (data_dir, url) = match &db {
            common::api::Db::Sqlite(d) => (d.path().to_path_buf(), None),
            common::api::Db::Postgres(u) => (elsewhere.path().to_path_buf(), Some(u.clone())),
        };
        let run = |args: &[&str], stdin: Option<&str>| -> Output {
            let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
            c.args(args)
                .arg("--data-dir")
                .arg(&data_dir)
                .env_remove("DATABASE_URL")
                .env_remove("TESSERA_DATA_DIR")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if let Some(u) = &url {
                c.arg("--database-url").arg(u);
            }
            let mut child = c.spawn().unwrap();
            let mut input = child.stdin.take().unwrap();
            if let Some(s) = stdin {
                input.write_all(s.as_bytes()).unwrap();
            }
            drop(input);
            child.wait_with_output().unwrap()
        };
        let grid = demo_layer().grids[7].key.clone();
        let department = state
            .0
            .store
            .reference(tessera::store::RefKind::Departments)
            .await
            .unwrap()[0]
            .key
            .clone();
        let street = demo_layer().grids[7].properties["street"]
            .as_str()
            .unwrap()
            .to_string();
        let sign_in = |name: &str, password: &str| {
            let state = state.clone();
            let body = json!({"name": name, "password": password}).to_string();
            async move { call_as(&state, None, "POST", "/api/v1/login", Some(body)).await }
        };
        for (name, role, flag, code, scope) in [
            (
                "w-grid",
                "grid_worker",
                "--grid",
                grid.as_str(),
                Scope::Grid(grid.clone()),
            ),
            (
                "d-staff",
                "department_staff",
                "--department",
                department.as_str(),
                Scope::Department(department.clone()),
            ),
            (
                "s-super",
                "supervisor",
                "--street",
                street.as_str(),
                Scope::Street(street.clone()),
            ),
        ] {
            let out = run(&["user", "add", name, "--role", role, flag, code], None);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{name}: {err}");
            let printed = String::from_utf8(out.stdout).unwrap();
            let password = printed.trim_end();
            assert!(
                !password.contains('\n') && password.chars().count() >= 12,
                "{printed:?}"
            );
            assert!(err.contains(&format!("added {name} ({role}")), "{err}");
            let (account, _) = state
                .0
                .store
                .account_for_login(name)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(account.scope, scope);
            assert_eq!(account.role.as_str(), role);
            let (s, me) = sign_in(name, password).await;
            assert_eq!(s, StatusCode::OK, "{me}");
            assert_eq!(me["role"], role);
        }
        // A password from stdin: nothing printed, and it signs in.
        let out = run(
            &[
                "user",
                "add",
                "p-planner",
                "--role",
                "planner",
                "--password-stdin",
            ],
            Some("correct horse battery\n"),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        assert_eq!(
            sign_in("p-planner", "correct horse battery").await.0,
            StatusCode::OK
        );
        // Refused, saying why, and nothing is created.
        for (args, stdin, why) in [
            (
                vec![
                    "user",
                    "add",
                    "x1",
                    "--role",
                    "grid_worker",
                    "--department",
                    &department,
                ],
                None,
                "cannot have a department scope",
            ),
            (
                vec![
                    "user",
                    "add",
                    "x2",
                    "--role",
                    "grid_worker",
                    "--grid",
                    "NOPE",
                ],
                None,
                "no grid \"NOPE\"",
            ),
            (
                vec!["user", "add", "w-grid", "--role", "dispatcher"],
                None,
                "an account named \"w-grid\" exists",
            ),
            (
                vec!["user", "add", "x3", "--role", "admin", "--password-stdin"],
                Some("short\n"),
                "at least 12 characters",
            ),
        ] {
            let out = run(&args, stdin);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?} succeeded");
            assert!(err.contains(why), "{args:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
        for name in ["x1", "x2", "x3"] {
            assert!(
                state
                    .0
                    .store
                    .account_for_login(name)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    }
}

/// Citizens report through their own channel only; the hotline, walk-in and Open311 channels
/// need an account or key that may submit cases, a patrol report a grid worker; the submitter
/// recorded is the account or key, and a patrol's reporter is the worker who sent it.
#[tokio::test]
async fn intake_channels_need_the_right_caller() {
    // The database's folder lives as long as the test (a temporary would delete it at once,
    // and the pool's next connection would find no file).
    let db = common::api::Db::Sqlite(tempfile::tempdir().unwrap());
    let state = start(&db).await;
    let (lon, lat) = {
        use geo::InteriorPoint;
        let p = demo_layer().grids[9].geometry.interior_point().unwrap();
        (p.x(), p.y())
    };
    let report = |channel: &str| {
        json!({"channel": channel, "category": "C01", "description": "x", "lon": lon, "lat": lat,
               "external_ticket": "12345-7", "address": "人民路1号", "reporter": "someone else",
               "operator": "op 7"})
        .to_string()
    };
    for (who, channel, want) in [
        (None, "citizen", StatusCode::CREATED),
        (None, "hotline", StatusCode::UNAUTHORIZED),
        (None, "patrol", StatusCode::UNAUTHORIZED),
        (None, "walk_in", StatusCode::UNAUTHORIZED),
        (None, "open311", StatusCode::UNAUTHORIZED),
        (Some(Role::Planner), "hotline", StatusCode::FORBIDDEN),
        (Some(Role::Dispatcher), "patrol", StatusCode::FORBIDDEN),
        (Some(Role::HotlineOperator), "hotline", StatusCode::CREATED),
        (Some(Role::Integration), "hotline", StatusCode::CREATED),
        (Some(Role::Dispatcher), "walk_in", StatusCode::CREATED),
        (Some(Role::GridWorker), "patrol", StatusCode::CREATED),
    ] {
        let key = who.map(test_key);
        let (s, v) = call_as(
            &state,
            key.as_deref(),
            "POST",
            "/api/v1/cases",
            Some(report(channel)),
        )
        .await;
        let what = format!("{channel} as {:?}", who.map(Role::as_str));
        assert_eq!(s, want, "{what}: {v}");
        if s != StatusCode::CREATED {
            continue;
        }
        // The submitter is the key, never a name in the body.
        let id = v["id"].as_i64().unwrap();
        let events = state.0.store.case_events(id).await.unwrap();
        let want_actor = who.map_or("citizen".to_string(), |r| format!("test-{}", r.as_str()));
        assert_eq!(events[0].actor, want_actor, "{what}");
        if channel == "patrol" {
            let c = state.0.store.case(id).await.unwrap().unwrap();
            assert_eq!(c.intake["report"]["reporter"], want_actor, "{}", c.intake);
        }
    }
    // An Idempotency-Key names one submitter's retry: the operator's retry finds their case,
    // while someone else sending the same (guessable) key gets a case of their own, never the
    // operator's tracking token.
    let operator = format!("Bearer {}", test_key(Role::HotlineOperator));
    let hotline: Value = serde_json::from_str(&report("hotline")).unwrap();
    let citizen: Value = serde_json::from_str(&report("citizen")).unwrap();
    let send = |auth: Option<String>, body: &Value| {
        let body = body.clone();
        let state = state.clone();
        async move {
            let mut headers = vec![("idempotency-key", "12345-0042")];
            if let Some(a) = &auth {
                headers.push(("authorization", a.as_str()));
            }
            raw(&state, "POST", "/api/v1/cases", &headers, Some(body)).await
        }
    };
    let (s, _, first) = send(Some(operator.clone()), &hotline).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let (s, _, again) = send(Some(operator.clone()), &hotline).await;
    assert_eq!((s, &again["id"]), (StatusCode::OK, &first["id"]), "{again}");
    let (s, _, other) = send(None, &citizen).await;
    assert_eq!(s, StatusCode::CREATED, "{other}");
    assert_ne!(other["id"], first["id"]);
    assert_ne!(other["tracking_token"], first["tracking_token"]);
}
