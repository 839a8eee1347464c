//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>) for existing clients and city
//! integrations, in JSON and XML, under `/open311/v2/`:
//!
//! | path | answer |
//! |---|---|
//! | `discovery.{json,xml}` | this endpoint, its formats and specification |
//! | `services.{json,xml}` | the case categories as services (`service_code` = category code) |
//! | `services/{code}.{json,xml}` | a service's attributes: `crs` (the pin's coordinate system: wgs84, gcj02, bd09) and `external_ticket` (a 12345 work order number) |
//! | `requests.{json,xml}` GET | requests (cases) by `service_request_id`, `service_code`, `start_date`, `end_date` and `status`; by default the last 90 days, at most 1,000 |
//! | `requests.{json,xml}` POST | a new request, form-encoded: `api_key` (required: 403 without it), `service_code`, `lat`/`long` or `address_string`, `attribute[crs]`, `attribute[external_ticket]`, `description`, `media_url`, `first_name`, `last_name`, `phone`, `email`, `device_id`, `account_id` |
//! | `requests/{id}.{json,xml}` | one request |
//! | `tokens/{token}.{json,xml}` | the request a token (the citizen's tracking token) belongs to |
//!
//! A POST is a case like any other: the same intake, routing, clock and `Idempotency-Key`.
//! `status` is `closed` once the case is resolved (or closed, or not a case), else `open`;
//! `agency_responsible` is the owner (grid worker or department); `expected_datetime` the
//! resolve deadline; `service_notice` the routing reason. Contacts are never shown. Errors
//! are `[{"code", "description"}]` with 400, 403 or 404.

use super::cases::{Channel, Contact, NewCaseRequest, deadlines_of, submit};
use super::error::ApiError;
use super::{AppState, RefKind};
use crate::auth::secret::token_hash;
use crate::cases::calendar::rfc3339_shanghai;
use crate::cases::lifecycle::{Assignee, CaseState};
use crate::spatial::crs::Crs;
use crate::store::cases::{CaseFilter, StoredCase};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The specification this endpoint implements.
pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

/// The default and largest window of a request search, days (the specification's 90).
pub const MAX_WINDOW_DAYS: i64 = 90;

/// The most requests one search answers (the specification's suggested 1,000).
pub const MAX_REQUESTS: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Json,
    Xml,
}

/// Splits `name.json` / `name.xml`.
fn split(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    let f = match ext {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => return None,
    };
    Some((name, f))
}

/// What lists are called in XML: the element of each item.
fn item_name(list: &str) -> &'static str {
    match list {
        "endpoints" => "endpoint",
        "formats" => "format",
        "attributes" => "attribute",
        "values" => "value",
        "services" => "service",
        "errors" => "error",
        _ => "request",
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn xml_value(out: &mut String, name: &str, v: &Value) {
    match v {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in m {
                xml_value(out, k, v);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(items) => {
            out.push_str(&format!("<{name}>"));
            for i in items {
                xml_value(out, item_name(name), i);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// The answer in `format`; in XML a list is `<root><item>…</item></root>`, an object
/// `<root>…</root>`.
fn answer(format: Format, status: StatusCode, root: &str, v: Value) -> Response {
    match format {
        Format::Json => (status, axum::Json(v)).into_response(),
        Format::Xml => {
            let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
            match &v {
                Value::Array(items) => {
                    out.push_str(&format!("<{root}>"));
                    let item = match root {
                        "services" => "service",
                        "errors" => "error",
                        _ => "request",
                    };
                    for i in items {
                        xml_value(&mut out, item, i);
                    }
                    out.push_str(&format!("</{root}>"));
                }
                _ => xml_value(&mut out, root, &v),
            }
            (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                out,
            )
                .into_response()
        }
    }
}

/// An error in the specification's shape.
fn error(format: Format, status: StatusCode, description: impl Into<String>) -> Response {
    let d = description.into();
    tracing::info!(status = status.as_u16(), description = %d, "open311 error");
    answer(
        format,
        status,
        "errors",
        json!([{"code": status.as_u16(), "description": d}]),
    )
}

/// Reads a form-encoded GeoReport v2 body into its fields (a repeated field keeps the last
/// value). Errors say what is wrong with the body.
pub fn read_form(body: &[u8]) -> Result<HashMap<String, String>, String> {
    let form: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|e| format!("form body: {e}"))?;
    Ok(form.into_iter().collect())
}

/// The case a GeoReport v2 POST asks for: `service_code` (required), `lat`/`long` (numbers,
/// in `attribute[crs]`: wgs84, gcj02 or bd09), `address_string`, `description`, the citizen's
/// `first_name`/`last_name`/`phone`, `media_url` and `attribute[external_ticket]` (a 12345
/// work order: then the channel is `hotline`). Errors name the field.
pub fn case_request(fields: &HashMap<String, String>) -> Result<NewCaseRequest, String> {
    let get = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let code = get("service_code").ok_or("service_code is required")?;
    let num = |k: &str| -> Result<Option<f64>, String> {
        match get(k) {
            None => Ok(None),
            Some(v) => match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(format!("{k} {v:?} is not a number")),
            },
        }
    };
    let (lat, lon) = (num("lat")?, num("long")?);
    let crs = match get("attribute[crs]").as_deref() {
        None => Crs::Wgs84,
        Some(s) => s
            .parse::<Crs>()
            .map_err(|_| format!("attribute[crs] {s:?}: wgs84, gcj02 or bd09"))?,
    };
    let ticket = get("attribute[external_ticket]");
    let name = match (get("last_name"), get("first_name")) {
        (Some(l), Some(fi)) => Some(format!("{l}{fi}")),
        (a, b) => a.or(b),
    };
    let phone = get("phone");
    Ok(NewCaseRequest {
        channel: if ticket.is_some() {
            Channel::Hotline
        } else {
            Channel::Open311
        },
        category: code,
        description: get("description").unwrap_or_default(),
        lon,
        lat,
        crs,
        address: get("address_string"),
        external_ticket: ticket,
        operator: None,
        reporter: None,
        contact: (name.is_some() || phone.is_some()).then_some(Contact { name, phone }),
        media_url: get("media_url"),
    })
}

/// An error of a layer in front of the Open311 handlers (the rate limiter) in the GeoReport
/// shape, `[{"code", "description"}]` in the request's format (JSON when the path names none),
/// with its `Retry-After`.
pub(crate) fn refusal(path: &str, e: &ApiError) -> Response {
    let file = path.rsplit('/').next().unwrap_or_default();
    let f = split(file).map_or(Format::Json, |(_, f)| f);
    with_retry_after(error(f, e.status, e.message.clone()), e)
}

/// Copies the `Retry-After` of a 429 or 503 onto an Open311 error answer.
fn with_retry_after(mut r: Response, e: &ApiError) -> Response {
    if let Some(s) = e.details["retry_after_s"]
        .as_u64()
        .or((e.status == StatusCode::SERVICE_UNAVAILABLE)
            .then_some(super::error::DATABASE_RETRY_AFTER_S))
    {
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(s),
        );
    }
    r
}

fn not_found(file: &str) -> Response {
    error(
        Format::Json,
        StatusCode::NOT_FOUND,
        format!("no {file}: use .json or .xml"),
    )
}

/// `discovery`, `services` and `requests` (GET).
#[utoipa::path(get, path = "/open311/v2/{file}", tag = "open311",
    params(("file" = String, Path, description = "discovery.json, services.json, requests.json (or .xml)")),
    responses((status = 200, description = "GeoReport v2 JSON or XML, as the extension says", content_type = "text/xml"),
              (status = 400, description = "[{code, description}]"), (status = 404, description = "[{code, description}]")))]
pub(crate) async fn get_doc(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some((name, f)) = split(&file) else {
        return not_found(&file);
    };
    match name {
        "discovery" => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let scheme = if headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                == Some("https")
            {
                "https"
            } else {
                "http"
            };
            answer(
                f,
                StatusCode::OK,
                "discovery",
                json!({
                    "changeset": "2026-11-30T00:00:00+08:00",
                    "contact": "市民诉求服务中心 (citizen-appeal service center), 12345",
                    "key_service": "API keys: ask the service center's administrator (tessera api-key create)",
                    "endpoints": [{
                        "specification": SPECIFICATION,
                        "url": format!("{scheme}://{host}/open311/v2"),
                        "changeset": "2026-11-30T00:00:00+08:00",
                        "type": "production",
                        "formats": ["text/xml", "application/json"],
                    }],
                }),
            )
        }
        "services" => {
            let refs = state.0.refs.load();
            let list: Vec<Value> = refs
                .list(RefKind::Categories)
                .iter()
                .map(|c| {
                    let p = &c.properties;
                    json!({
                        "service_code": c.key,
                        "service_name": p["name_zh"],
                        "description": p["name_en"],
                        "metadata": true,
                        "type": "realtime",
                        "keywords": p["name_en"].as_str().unwrap_or_default().to_lowercase().replace(' ', ","),
                        "group": if p["handler"]["department"].is_string() { "department" } else { "grid" },
                    })
                })
                .collect();
            answer(f, StatusCode::OK, "services", Value::Array(list))
        }
        "requests" => match search(&state, &q).await {
            Ok(list) => answer(f, StatusCode::OK, "service_requests", Value::Array(list)),
            Err((status, msg)) => error(f, status, msg),
        },
        _ => not_found(&file),
    }
}

/// `services/{code}`: the attributes every service takes.
#[utoipa::path(get, path = "/open311/v2/services/{file}", tag = "open311",
    params(("file" = String, Path, description = "{service_code}.json or .xml")),
    responses((status = 200, description = "GeoReport v2 JSON or XML, as the extension says", content_type = "text/xml"),
              (status = 400, description = "[{code, description}]"), (status = 404, description = "[{code, description}]")))]
pub(crate) async fn service(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((code, f)) = split(&file) else {
        return not_found(&file);
    };
    let refs = state.0.refs.load();
    if !refs.list(RefKind::Categories).iter().any(|c| c.key == code) {
        return error(f, StatusCode::NOT_FOUND, format!("no service {code:?}"));
    }
    answer(
        f,
        StatusCode::OK,
        "service_definition",
        json!({
            "service_code": code,
            "attributes": [
                {
                    "variable": true, "code": "crs", "datatype": "singlevaluelist",
                    "required": false, "order": 1,
                    "datatype_description": "The coordinate system of lat/long (default wgs84); gcj02 for AMap, Tencent and WeChat, bd09 for Baidu.",
                    "description": "Coordinate system of the pin",
                    "values": [
                        {"key": "wgs84", "name": "WGS84 (GPS)"},
                        {"key": "gcj02", "name": "GCJ-02"},
                        {"key": "bd09", "name": "BD-09"},
                    ],
                },
                {
                    "variable": true, "code": "external_ticket", "datatype": "string",
                    "required": false, "order": 2,
                    "datatype_description": "The 12345 hotline work order number, when the request comes from the hotline platform.",
                    "description": "12345 work order number",
                },
            ],
        }),
    )
}

/// Parses a W3C date-time (`2010-01-01T00:00:00Z`, `…+08:00`) into Unix seconds.
fn w3c(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let n = |a: usize, z: usize| s.get(a..z)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        n(0, 4)?,
        n(5, 7)?,
        n(8, 10)?,
        n(11, 13)?,
        n(14, 16)?,
        n(17, 19)?,
    );
    crate::cases::calendar::Date::new(y as i32, mo as u32, d as u32)?;
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o.get(1..3)?.parse::<i64>().ok()? * 3600
                + o.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    let days = crate::cases::calendar::Date::new(y as i32, mo as u32, d as u32)?.days_since_epoch();
    Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
}

fn is_closed(state: CaseState) -> bool {
    matches!(
        state,
        CaseState::Resolved
            | CaseState::Rated
            | CaseState::FollowedUp
            | CaseState::Closed
            | CaseState::Invalid
    )
}

/// A case as an Open311 request (public fields only: no contact).
async fn as_request(state: &AppState, c: &StoredCase) -> Result<Value, ApiError> {
    let refs = state.0.refs.load();
    let category = refs
        .list(RefKind::Categories)
        .iter()
        .find(|k| k.key == c.facts.category)
        .map(|k| k.properties["name_zh"].clone())
        .unwrap_or(Value::Null);
    // A report merged into a mass incident follows it.
    let mut shown = c.clone();
    if c.facts.state == CaseState::Merged
        && let Some(p) = c.facts.merged_into
        && let Some(parent) = state.0.store.case(p).await?
    {
        shown = parent;
    }
    let f = &shown.facts;
    let d = deadlines_of(state, f);
    let agency = match &f.assignee {
        Assignee::Worker { name, .. } | Assignee::Department { name, .. } => name.clone(),
        Assignee::DistrictQueue => "市民诉求服务中心".to_string(),
    };
    let events = state.0.store.case_events(shown.id).await?;
    let notes = events
        .iter()
        .rev()
        .find_map(|e| match e.action["action"].as_str() {
            Some("reply") => e.action["text"].as_str().map(str::to_string),
            Some("resolve") => e.action["note"].as_str().map(str::to_string),
            _ => None,
        });
    let updated = events.last().map_or(f.submitted_at, |e| e.at);
    let report = &c.intake["report"];
    Ok(json!({
        "service_request_id": c.id.to_string(),
        "status": if is_closed(f.state) { "closed" } else { "open" },
        "status_notes": notes,
        "service_name": category,
        "service_code": c.facts.category,
        "description": report["description"],
        "agency_responsible": agency,
        "service_notice": c.intake["route"]["reason"],
        "requested_datetime": rfc3339_shanghai(c.facts.submitted_at),
        "updated_datetime": rfc3339_shanghai(updated),
        "expected_datetime": d.resolve_by.map(rfc3339_shanghai),
        "address": report["address"],
        "address_id": Value::Null,
        "zipcode": Value::Null,
        "lat": c.pin.map(|p| p.1),
        "long": c.pin.map(|p| p.0),
        "media_url": report["media_url"],
    }))
}

/// `GET requests`: the filters of the specification.
async fn search(
    state: &AppState,
    q: &HashMap<String, String>,
) -> Result<Vec<Value>, (StatusCode, String)> {
    let internal = |e: ApiError| (StatusCode::INTERNAL_SERVER_ERROR, e.message);
    for k in q.keys() {
        if !matches!(
            k.as_str(),
            "service_request_id"
                | "service_code"
                | "start_date"
                | "end_date"
                | "status"
                | "jurisdiction_id"
                // Clients often send their key on every call; reading needs none.
                | "api_key"
        ) {
            return Err((StatusCode::BAD_REQUEST, format!("unknown parameter {k:?}")));
        }
    }
    let list = |k: &str| -> Vec<String> {
        q.get(k)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    // Ids override every other filter.
    let ids = list("service_request_id");
    if !ids.is_empty() {
        for id in ids {
            let Ok(n) = id.parse::<i64>() else {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("service_request_id {id:?} is not a request id"),
                ));
            };
            if let Some(c) = state
                .0
                .store
                .case(n)
                .await
                .map_err(|e| internal(e.into()))?
            {
                out.push(as_request(state, &c).await.map_err(internal)?);
            }
        }
        return Ok(out);
    }
    let date = |k: &str| -> Result<Option<i64>, (StatusCode, String)> {
        q.get(k)
            .map(|v| {
                w3c(v).ok_or_else(|| {
                    (
                        StatusCode::BAD_REQUEST,
                        format!("{k} {v:?} is not a W3C date-time (2010-01-01T00:00:00Z)"),
                    )
                })
            })
            .transpose()
    };
    let window = MAX_WINDOW_DAYS * 86_400;
    let (start, end) = match (date("start_date")?, date("end_date")?) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, a + window),
        (None, Some(b)) => (b - window, b),
        (None, None) => {
            let end = state.now() + 1;
            (end - window, end)
        }
    };
    if end < start || end - start > window {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("start_date to end_date may span at most {MAX_WINDOW_DAYS} days"),
        ));
    }
    let codes = list("service_code");
    let statuses = list("status");
    for s in &statuses {
        if s != "open" && s != "closed" {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("status {s:?}: open or closed"),
            ));
        }
    }
    let cases = state
        .0
        .store
        .cases(&CaseFilter {
            from: Some(start),
            to: Some(end),
            limit: i64::MAX,
            ..Default::default()
        })
        .await
        .map_err(|e| internal(e.into()))?;
    for c in cases {
        if !codes.is_empty() && !codes.contains(&c.facts.category) {
            continue;
        }
        let r = as_request(state, &c).await.map_err(internal)?;
        if !statuses.is_empty() && !statuses.iter().any(|s| r["status"] == s.as_str()) {
            continue;
        }
        out.push(r);
        if out.len() as i64 >= MAX_REQUESTS {
            break;
        }
    }
    Ok(out)
}

/// `requests/{id}`.
#[utoipa::path(get, path = "/open311/v2/requests/{file}", tag = "open311",
    params(("file" = String, Path, description = "{service_request_id}.json or .xml")),
    responses((status = 200, description = "GeoReport v2 JSON or XML, as the extension says", content_type = "text/xml"),
              (status = 400, description = "[{code, description}]"), (status = 404, description = "[{code, description}]")))]
pub(crate) async fn request(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((id, f)) = split(&file) else {
        return not_found(&file);
    };
    let Ok(n) = id.parse::<i64>() else {
        return error(f, StatusCode::NOT_FOUND, format!("no request {id:?}"));
    };
    match state.0.store.case(n).await {
        Ok(Some(c)) => match as_request(&state, &c).await {
            Ok(r) => answer(f, StatusCode::OK, "service_requests", json!([r])),
            Err(e) => error(f, StatusCode::INTERNAL_SERVER_ERROR, e.message),
        },
        Ok(None) => error(f, StatusCode::NOT_FOUND, format!("no request {id}")),
        Err(e) => error(
            f,
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::from(e).message,
        ),
    }
}

/// `tokens/{token}`.
#[utoipa::path(get, path = "/open311/v2/tokens/{file}", tag = "open311",
    params(("file" = String, Path, description = "{token}.json or .xml")),
    responses((status = 200, description = "GeoReport v2 JSON or XML, as the extension says", content_type = "text/xml"),
              (status = 400, description = "[{code, description}]"), (status = 404, description = "[{code, description}]")))]
pub(crate) async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((token, f)) = split(&file) else {
        return not_found(&file);
    };
    match state.0.store.case_by_token(token).await {
        Ok(Some(c)) => answer(
            f,
            StatusCode::OK,
            "service_requests",
            json!([{"service_request_id": c.id.to_string(), "token": token}]),
        ),
        Ok(None) => error(f, StatusCode::NOT_FOUND, "no request has this token"),
        Err(e) => error(
            f,
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::from(e).message,
        ),
    }
}

/// `POST requests`: a new case from a form-encoded body.
#[utoipa::path(post, path = "/open311/v2/{file}", tag = "open311",
    params(("file" = String, Path, description = "requests.json or requests.xml")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "api_key, service_code, lat, long, address_string, attribute[crs], attribute[external_ticket], description, media_url, first_name, last_name, phone, email"),
    responses((status = 200, description = "GeoReport v2 JSON or XML, as the extension says", content_type = "text/xml"),
              (status = 400, description = "[{code, description}]"), (status = 404, description = "[{code, description}]")))]
pub(crate) async fn post_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    body: Bytes,
) -> Response {
    let Some(("requests", f)) = split(&file) else {
        return not_found(&file);
    };
    let fields = match read_form(&body) {
        Ok(v) => v,
        Err(m) => return error(f, StatusCode::BAD_REQUEST, m),
    };
    // The key first: no key, no request.
    let key = fields
        .get("api_key")
        .map(String::as_str)
        .unwrap_or_default();
    let allowed = if key.is_empty() {
        None
    } else {
        match state.0.store.api_key(&token_hash(key)).await {
            Ok(Some(k)) => k
                .role
                .may(crate::auth::Permission::SubmitCase)
                .then_some(k.name),
            Ok(None) => None,
            Err(e) => {
                let e = ApiError::from(e);
                return with_retry_after(error(f, e.status, e.message.clone()), &e);
            }
        }
    };
    let Some(key_name) = allowed else {
        tracing::warn!("denied: Open311 POST without a valid api_key");
        return error(f, StatusCode::FORBIDDEN, "api_key is missing or not valid");
    };
    // Each key has its own bucket too (the address's was taken by the middleware).
    if let Some(Err(e)) = state
        .0
        .limiter
        .get()
        .map(|l| l.key(&format!("key:{key_name}")))
    {
        return with_retry_after(error(f, e.status, e.message.clone()), &e);
    }
    let req = match case_request(&fields) {
        Ok(r) => r,
        Err(m) => return error(f, StatusCode::BAD_REQUEST, m),
    };
    let idem = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match submit(&state, idem, req, Some(&key_name)).await {
        Ok((c, created)) => answer(
            f,
            if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            "service_requests",
            json!([{
                "service_request_id": c.id.to_string(),
                "service_notice": c.intake["route"]["reason"],
                "account_id": Value::Null,
                "token": c.tracking_token,
            }]),
        ),
        Err(e) => {
            let field = e
                .details
                .get("field")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let status = if e.status.is_client_error() {
                StatusCode::BAD_REQUEST
            } else {
                e.status
            };
            let msg = if field.is_empty() {
                e.message
            } else {
                format!("{field}: {}", e.message)
            };
            error(f, status, msg)
        }
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(get_doc).post(post_request))
        .route("/open311/v2/services/{file}", get(service))
        .route("/open311/v2/requests/{file}", get(request))
        .route("/open311/v2/tokens/{file}", get(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w3c_times_and_xml_lists() {
        assert_eq!(w3c("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(w3c("1970-01-01T08:00:00+08:00"), Some(0));
        assert_eq!(w3c("2010-01-01T00:00:00.5Z"), Some(1_262_304_000));
        assert_eq!(w3c("2010-13-01T00:00:00Z"), None);
        assert_eq!(w3c("yesterday"), None);
        let mut out = String::new();
        xml_value(&mut out, "endpoints", &json!([{"formats": ["a<b", "c"]}]));
        assert_eq!(
            out,
            "<endpoints><endpoint><formats><format>a&lt;b</format><format>c</format></formats></endpoint></endpoints>"
        );
    }
}
