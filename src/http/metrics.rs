//! `GET /metrics`: Prometheus text exposition of request counts and latencies per route and
//! status, and what the service is serving.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

/// (method, route template, status).
type Key = (String, String, u16);
/// (requests, seconds spent).
type Tally = (u64, f64);

/// Request counters, keyed by (method, route template, status).
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<Key, Tally>>,
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, secs: f64) {
        if let Ok(mut m) = self.requests.lock() {
            let e = m
                .entry((method.to_string(), route.to_string(), status))
                .or_default();
            e.0 += 1;
            e.1 += secs;
        }
    }
}

/// Middleware counting every routed request.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    state.0.metrics.record(
        &method,
        &route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP tessera_http_requests_total HTTP requests by method, route and status."
    );
    let _ = writeln!(out, "# TYPE tessera_http_requests_total counter");
    let snapshot: Vec<(Key, Tally)> = state
        .0
        .metrics
        .requests
        .lock()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    for ((m, r, s), (n, _)) in &snapshot {
        let _ = writeln!(
            out,
            "tessera_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{s}\"}} {n}",
            label(m),
            label(r)
        );
    }
    let _ = writeln!(
        out,
        "# HELP tessera_http_request_duration_seconds_total Time spent answering, by method, route and status."
    );
    let _ = writeln!(
        out,
        "# TYPE tessera_http_request_duration_seconds_total counter"
    );
    for ((m, r, s), (_, secs)) in &snapshot {
        let _ = writeln!(
            out,
            "tessera_http_request_duration_seconds_total{{method=\"{}\",route=\"{}\",status=\"{s}\"}} {secs:.6}",
            label(m),
            label(r)
        );
    }
    let live = state.0.live.load();
    let _ = writeln!(
        out,
        "# HELP tessera_published_layer Version number of the layer being served."
    );
    let _ = writeln!(out, "# TYPE tessera_published_layer gauge");
    let _ = writeln!(out, "tessera_published_layer {}", live.layer_id);
    let _ = writeln!(
        out,
        "# HELP tessera_published_grids Grids in the layer being served."
    );
    let _ = writeln!(out, "# TYPE tessera_published_grids gauge");
    let _ = writeln!(out, "tessera_published_grids {}", live.layer.grids.len());
    let _ = writeln!(
        out,
        "# HELP tessera_build_info Version and storage backend."
    );
    let _ = writeln!(out, "# TYPE tessera_build_info gauge");
    let _ = writeln!(
        out,
        "tessera_build_info{{version=\"{}\",backend=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        state.0.store.backend()
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
