//! Cases (工单): intake (`POST /api/v1/cases`, idempotent on `Idempotency-Key`), one case with
//! its timeline and deadlines, actions on the 30135 clock (`POST /api/v1/cases/{id}/actions`,
//! versioned), listing with filters, and the citizen's tracking page and rating through the
//! tracking token. Handlers load, call the pure rules of `cases::` and persist their events.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{ApiError, AppState};
use crate::auth::{Principal, Scope};
use crate::cases::calendar::{rfc3339_shanghai, shanghai_local};
use crate::cases::lifecycle::{Action, Assignee, CaseFacts, CaseState, Level, Satisfaction};
use crate::cases::routing::{Handler, Located, route};
use crate::cases::sla::{Deadlines, Urgency};
use crate::cases::worktime::WorkTime;
use crate::spatial::crs::{Crs, to_wgs84};
use crate::store::RefKind;
use crate::store::cases::{CaseEvent, CaseFilter, CaseWrite, NewCase, StoredCase};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use geo_types::Coord;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Longest description accepted, characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// A pin outside every grid but this close to one (metres) goes to that grid.
pub const INTAKE_SNAP_M: f64 = 200.0;
/// Cases read at a time when a listing judges `overdue` (which depends on now, so is not a
/// column): every matching case is judged, this many at a time.
pub const OVERDUE_CHUNK: i64 = 10_000;
/// Longest `Idempotency-Key` accepted, characters.
pub const MAX_IDEMPOTENCY_KEY: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events", get(events))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/cases", post(create).get(list))
        .route("/api/v1/cases/{id}", get(show))
        .route("/api/v1/cases/{id}/actions", post(act))
        .route("/api/v1/cases/{id}/contact-reads", get(contact_reads))
        .route("/api/v1/contact-reads", get(contact_read_log))
        .route("/api/v1/track/{token}", get(track))
        .route("/api/v1/track/{token}/rating", post(rate))
}

/// How a report came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A citizen's pin (mini-program, web page).
    Citizen,
    /// A 12345 hotline work order.
    Hotline,
    /// A hazard a grid worker found on patrol.
    Patrol,
    /// In person at a service desk.
    WalkIn,
    /// An Open311 GeoReport v2 client (`POST /open311/v2/requests.{json,xml}`).
    Open311,
}

/// A citizen's contact.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
}

/// Body of `POST /api/v1/cases`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseRequest {
    /// How it came in.
    pub channel: Channel,
    /// Category code (see `/api/v1/categories`).
    pub category: String,
    /// What is wrong (1–4,000 characters).
    pub description: String,
    /// Pin longitude in `crs` (required for citizen and patrol reports).
    #[serde(default)]
    pub lon: Option<f64>,
    /// Pin latitude in `crs`.
    #[serde(default)]
    pub lat: Option<f64>,
    /// The pin's coordinate system (default wgs84); the original is kept.
    #[serde(default)]
    pub crs: Crs,
    /// Address text (hotline and walk-in reports without a pin).
    #[serde(default)]
    pub address: Option<String>,
    /// The 12345 work order number (hotline).
    #[serde(default)]
    pub external_ticket: Option<String>,
    /// The hotline operator.
    #[serde(default)]
    pub operator: Option<String>,
    /// The grid worker who found it (patrol).
    #[serde(default)]
    pub reporter: Option<String>,
    /// The citizen's contact.
    #[serde(default)]
    pub contact: Option<Contact>,
    /// A photo elsewhere (Open311 `media_url`).
    #[serde(default)]
    pub media_url: Option<String>,
}

/// Deadlines as RFC 3339 local times (+08:00).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DeadlinesView {
    /// Triage by.
    pub triage_by: Option<String>,
    /// On site by.
    pub on_site_by: Option<String>,
    /// Reply by.
    pub reply_by: Option<String>,
    /// Resolved by.
    pub resolve_by: Option<String>,
    /// Follow-up visit by.
    pub follow_up_by: Option<String>,
}

/// One event of the timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// 1 for the submission.
    pub seq: i64,
    /// When (RFC 3339, +08:00).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What (`action` names it).
    #[schema(value_type = Object)]
    pub action: Value,
}

/// A case as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// Case id.
    pub id: i64,
    /// Ticket code, `ZD20261129-000123`.
    pub ticket: String,
    /// Current state.
    pub state: CaseState,
    /// The version an action must name.
    pub version: i64,
    /// How it came in.
    pub channel: String,
    /// Category code.
    pub category: String,
    /// Urgency.
    pub urgency: Urgency,
    /// The owning grid (code and name), if any.
    #[schema(value_type = Option<Object>)]
    pub grid: Option<Value>,
    /// Who owns it.
    pub assignee: Assignee,
    /// The level it is handled at.
    pub level: Level,
    /// Why it went where it did, and who was informed.
    #[schema(value_type = Object)]
    pub routing: Value,
    /// The deadlines of the current stages.
    pub deadlines: DeadlinesView,
    /// Stages past their deadline and not done.
    pub overdue: Vec<&'static str>,
    /// Times the citizen sent it back (重办).
    pub redo_count: u32,
    /// The case it was merged into (并单, or gathered into a mass incident), if any.
    pub merged_into: Option<i64>,
    /// The last rating.
    pub satisfaction: Option<Satisfaction>,
    /// Submitted at (RFC 3339, +08:00).
    pub submitted_at: String,
    /// What was reported (description, pin with its original CRS, address, contact, …).
    #[schema(value_type = Object)]
    pub report: Value,
    /// The citizen's tracking token (given on intake only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_token: Option<String>,
    /// Every event, oldest first (on `GET /cases/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<EventView>>,
}

pub(crate) fn deadlines_of(state: &AppState, f: &CaseFacts) -> Deadlines {
    let refs = state.0.refs.load();
    let work = WorkTime::new(refs.roster.calendar.as_ref());
    // Every stage keeps its deadline once done, so compliance can be judged afterwards.
    state
        .0
        .sla
        .deadlines(Some(f.urgency), f.submitted_at, f.round_started_at, &work)
}

/// The stages past their deadline at `now` and not reached.
pub fn overdue(f: &CaseFacts, d: &Deadlines, now: i64) -> Vec<&'static str> {
    if f.state.is_terminal() {
        return Vec::new();
    }
    let late = |due: Option<i64>, done: bool| !done && due.is_some_and(|t| now > t);
    let mut out = Vec::new();
    if late(d.triage_by, f.triaged_at.is_some()) {
        out.push("triage");
    }
    if late(d.on_site_by, f.accepted_at.is_some()) {
        out.push("on_site");
    }
    if late(d.reply_by, f.replied_at.is_some()) {
        out.push("reply");
    }
    if late(d.resolve_by, f.resolved_at.is_some()) {
        out.push("resolve");
    }
    if late(d.follow_up_by, f.followed_up_at.is_some()) {
        out.push("follow_up");
    }
    out
}

/// Whether a case in `grid` owned by `owner` is within the caller's scope (anonymous callers
/// see no case this way; they use the tracking token).
pub(crate) fn covers(state: &AppState, p: &Principal, grid: Option<&str>, owner: &str) -> bool {
    let Principal::Staff { scope, .. } = p else {
        return false;
    };
    if *scope == Scope::District {
        return true;
    }
    let live = state.0.live.load();
    let unit = |u: &str| grid.and_then(|g| live.unit_of(g, u));
    scope.covers(grid, unit("community"), unit("street"), owner)
}

/// 403 unless case `c` is within the caller's scope (logged).
pub(crate) fn require_in_scope(
    state: &AppState,
    p: &Principal,
    c: &StoredCase,
) -> Result<(), ApiError> {
    if covers(state, p, c.facts.grid.as_deref(), c.facts.assignee.key()) {
        return Ok(());
    }
    Err(super::auth::forbidden(
        p,
        &format!("case {} is outside your scope", c.id),
    ))
}

/// The report with the citizen's contact masked (name 张*, phone 139****1234).
fn masked_report(report: &Value) -> Value {
    let mut r = report.clone();
    if let Some(c) = r.get_mut("contact").and_then(Value::as_object_mut) {
        for (k, mask) in [
            ("name", crate::auth::mask_name as fn(&str) -> String),
            ("phone", crate::auth::mask_phone),
        ] {
            if let Some(v) = c.get(k).and_then(Value::as_str).map(mask) {
                c.insert(k.to_string(), Value::String(v));
            }
        }
    }
    r
}

pub(crate) fn view(state: &AppState, c: &StoredCase, now: i64) -> CaseView {
    let f = &c.facts;
    let d = deadlines_of(state, f);
    let s = |t: Option<i64>| t.map(rfc3339_shanghai);
    let live = state.0.live.load();
    let grid = f.grid.as_ref().map(|k| {
        let name = live
            .by_key
            .get(k)
            .and_then(|&i| live.layer.grids[i].properties.get("name").cloned())
            .unwrap_or(Value::Null);
        json!({"key": k, "name": name})
    });
    CaseView {
        id: c.id,
        ticket: c.ticket.clone(),
        state: f.state,
        version: f.version,
        channel: c.channel.clone(),
        category: f.category.clone(),
        urgency: f.urgency,
        grid,
        assignee: f.assignee.clone(),
        level: f.level,
        routing: c.intake["route"].clone(),
        deadlines: DeadlinesView {
            triage_by: s(d.triage_by),
            on_site_by: s(d.on_site_by),
            reply_by: s(d.reply_by),
            resolve_by: s(d.resolve_by),
            follow_up_by: s(d.follow_up_by),
        },
        overdue: overdue(f, &d, now),
        redo_count: f.redo_count,
        merged_into: f.merged_into,
        satisfaction: f.satisfaction,
        submitted_at: rfc3339_shanghai(f.submitted_at),
        report: masked_report(&c.intake["report"]),
        tracking_token: None,
        timeline: None,
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::unprocessable("invalid_field", message).with_details(json!({ "field": field }))
}

/// A new tracking token (256 random bits, hex).
fn token() -> Result<String, ApiError> {
    crate::auth::secret::new_token("").map_err(|e| ApiError::internal(&e))
}

/// Locates a WGS84 pin in the published layer and routes a case of `category` (a categories
/// reference item) there at `now`.
fn routed(
    refs: &super::Refs,
    live: &super::Live,
    category: &crate::store::RefItem,
    wgs84: Option<(f64, f64)>,
    now: i64,
) -> crate::cases::routing::Route {
    let (located, community) = match wgs84 {
        None => (Located::NoPin, None),
        Some((x, y)) => match live.locator.locate_or_snap(Coord { x, y }, INTAKE_SNAP_M) {
            Some(hit) => {
                let g = &live.layer.grids[hit.index];
                let community = g
                    .properties
                    .get("community")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let located = match hit.snapped_m {
                    None => Located::InGrid {
                        grid: g.key.clone(),
                    },
                    Some(d) => Located::Snapped {
                        grid: g.key.clone(),
                        distance_m: d,
                    },
                };
                (located, community)
            }
            None => (
                Located::Outside {
                    snap_m: INTAKE_SNAP_M,
                },
                None,
            ),
        },
    };
    let handler = match category.properties["handler"]["department"].as_str() {
        Some(code) => {
            let name = refs
                .list(RefKind::Departments)
                .iter()
                .find(|d| d.key == code)
                .and_then(|d| d.properties["name_zh"].as_str())
                .unwrap_or(code)
                .to_string();
            Handler::Department {
                code: code.to_string(),
                name,
            }
        }
        None => Handler::Grid,
    };
    let grid_key = match &located {
        Located::InGrid { grid } | Located::Snapped { grid, .. } => Some(grid.clone()),
        _ => None,
    };
    let on_duty = grid_key.as_ref().and_then(|g| {
        let (w, mode) = refs.on_duty(g, community.as_deref().unwrap_or_default(), now);
        w.map(|w| {
            (
                Assignee::Worker {
                    id: w["id"].as_str().unwrap_or_default().to_string(),
                    name: w["name"].as_str().unwrap_or_default().to_string(),
                },
                mode,
            )
        })
    });
    route(&located, &category.key, &handler, on_duty)
}

/// Every case in one of `states`.
async fn cases_in(state: &AppState, states: &[CaseState]) -> Result<Vec<StoredCase>, ApiError> {
    Ok(state
        .0
        .store
        .cases(&CaseFilter {
            states: states.to_vec(),
            limit: i64::MAX,
            ..Default::default()
        })
        .await?)
}

/// After a publish: open cases not yet dispatched whose pin is now in another grid are routed
/// again (event `reroute`); dispatched ones keep their owner and are flagged for the
/// dispatcher (event `flag`). Returns how many were rerouted and flagged.
pub async fn reroute_after_publish(
    state: &AppState,
    layer_id: i64,
) -> Result<(usize, usize), ApiError> {
    let live = state.0.live.load_full();
    let refs = state.0.refs.load_full();
    let now = state.now();
    let (mut rerouted, mut flagged) = (0, 0);
    {
        let open = cases_in(
            state,
            &[
                CaseState::Submitted,
                CaseState::Triaged,
                CaseState::Returned,
                CaseState::Dispatched,
                CaseState::Accepted,
                CaseState::Replied,
            ],
        )
        .await?;
        for c in open {
            let Some(pin) = c.pin else { continue };
            let Some(category) = refs
                .list(RefKind::Categories)
                .iter()
                .find(|k| k.key == c.facts.category)
            else {
                continue;
            };
            let r = routed(&refs, &live, category, Some(pin), now);
            if r.grid == c.facts.grid {
                continue;
            }
            let version = c.facts.version;
            let action = if c.facts.state.in_hand() {
                Action::Flag {
                    reason: format!(
                        "layer {layer_id} puts the pin in {}; the owner is kept",
                        r.grid.as_deref().unwrap_or("no grid")
                    ),
                }
            } else {
                Action::Reroute {
                    grid: r.grid.clone(),
                    assignee: r.assignee.clone(),
                    reason: format!("layer {layer_id} published: {}", r.reason),
                }
            };
            let is_flag = matches!(action, Action::Flag { .. });
            match apply(state, c, version, "system", action).await {
                Ok(_) if is_flag => flagged += 1,
                Ok(_) => rerouted += 1,
                // Someone acted on it meanwhile: their decision stands.
                Err(e) if e.code == "version_conflict" || e.code == "illegal_transition" => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok((rerouted, flagged))
}

/// A change of a case, as `/api/v1/events` sends it (`event: case`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseChange {
    /// Case id.
    pub id: i64,
    /// Its version after the change.
    pub version: i64,
    /// Its state after the change.
    pub state: CaseState,
    /// What happened (`submit` or an action name).
    pub action: String,
    /// The grid it belongs to.
    pub grid: Option<String>,
    /// Its owner's key (worker id, department code or `district`).
    #[serde(default)]
    pub owner: String,
}

/// Tells subscribers of every process: on SQLite directly, on PostgreSQL through the database
/// (the listener of each process, this one included, passes it on).
async fn announce(state: &AppState, c: &StoredCase, action: &str) {
    let change = CaseChange {
        id: c.id,
        version: c.facts.version,
        state: c.facts.state,
        action: action.to_string(),
        grid: c.facts.grid.clone(),
        owner: c.facts.assignee.key().to_string(),
    };
    match &state.0.store {
        crate::store::Store::Sqlite(_) => {
            let _ = state.0.case_events.send(change);
        }
        crate::store::Store::Postgres(_) => {
            let payload = serde_json::to_string(&change).unwrap_or_default();
            if let Err(e) = state.0.store.announce_case_change(&payload).await {
                tracing::warn!(error = %e, case = c.id, "case change not announced");
            }
        }
    }
}

/// Server-sent events of case changes (`event: case`, data: a [`CaseChange`]), from every
/// process on the database, so a console updates live without polling. A keep-alive comment
/// is sent every 15 s.
#[utoipa::path(get, path = "/api/v1/events", tag = "cases",
    responses((status = 200, description = "text/event-stream of `case` events, each a CaseChange", content_type = "text/event-stream")))]
pub(crate) async fn events(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
) -> axum::response::sse::Sse<
    impl tokio_stream::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
> {
    use tokio_stream::StreamExt;
    let rx = state.0.case_events.subscribe();
    let principal = caller.0.0.clone();
    let stream = tokio_stream::wrappers::BroadcastStream::new(rx).filter_map(move |m| {
        // A subscriber that fell behind skips what it missed (the listing has the truth).
        let change = m.ok()?;
        // Only the changes of cases within the caller's scope.
        if !covers(&state, &principal, change.grid.as_deref(), &change.owner) {
            return None;
        }
        let data = serde_json::to_string(&change).ok()?;
        Some(Ok(axum::response::sse::Event::default()
            .event("case")
            .data(data)))
    });
    axum::response::sse::Sse::new(stream).keep_alive(
        axum::response::sse::KeepAlive::new().interval(std::time::Duration::from_secs(15)),
    )
}

/// Query of `GET /api/v1/stats`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// Submitted at or after (Unix seconds).
    pub from: Option<i64>,
    /// Submitted before (Unix seconds).
    pub to: Option<i64>,
    /// Only cases in grids of this street or town (code).
    pub street: Option<String>,
}

/// The dashboard's figures: totals, by state, month and category, the departments' ranking and
/// SLA compliance per stage, for a period and optionally one street (a street's supervisor:
/// always their street; another street is 403).
#[utoipa::path(get, path = "/api/v1/stats", tag = "cases", params(StatsQuery),
    responses((status = 200, body = crate::cases::stats::Stats), (status = 400, body = super::error::ErrorBody)))]
pub(crate) async fn stats(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiQuery(mut q): ApiQuery<StatsQuery>,
) -> Result<Json<crate::cases::stats::Stats>, ApiError> {
    // A street's supervisor sees the figures of their street.
    if let Principal::Staff {
        scope: Scope::Street(own),
        ..
    } = &caller.0.0
    {
        match &q.street {
            Some(other) if other != own => {
                return Err(super::auth::forbidden(
                    &caller.0.0,
                    &format!("this account sees the figures of street {own} only"),
                ));
            }
            _ => q.street = Some(own.clone()),
        }
    }
    let all = state
        .0
        .store
        .cases(&CaseFilter {
            from: q.from,
            to: q.to,
            limit: i64::MAX,
            ..Default::default()
        })
        .await?;
    let live = state.0.live.load_full();
    let in_street = |c: &StoredCase| match &q.street {
        None => true,
        Some(street) => {
            c.facts
                .grid
                .as_deref()
                .and_then(|g| live.unit_of(g, "street"))
                == Some(street.as_str())
        }
    };
    let chosen: Vec<&StoredCase> = all.iter().filter(|c| in_street(c)).collect();
    let deadlines: Vec<Deadlines> = chosen
        .iter()
        .map(|c| deadlines_of(&state, &c.facts))
        .collect();
    let rows: Vec<crate::cases::stats::StatCase<'_>> = chosen
        .iter()
        .zip(&deadlines)
        .map(|(c, d)| crate::cases::stats::StatCase {
            facts: &c.facts,
            deadlines: d,
        })
        .collect();
    let mut figures = crate::cases::stats::stats(&rows, state.now());
    let refs = state.0.refs.load();
    let names: BTreeMap<String, String> = refs
        .list(crate::store::RefKind::Streets)
        .iter()
        .filter(|s| q.street.as_deref().is_none_or(|c| c == s.key))
        .map(|s| {
            let name = s.properties["name"].as_str().unwrap_or(&s.key).to_string();
            (s.key.clone(), name)
        })
        .collect();
    let grids = live.layer.grids.iter().filter_map(|g| {
        let street = g.properties.get("street")?.as_str()?;
        if q.street.as_deref().is_some_and(|c| c != street) {
            return None;
        }
        let population = g.properties.get("population").and_then(Value::as_u64);
        Some((g.key.as_str(), street, population.unwrap_or(0)))
    });
    figures.streets = crate::cases::stats::per_street(&figures.by_grid, grids, &names);
    Ok(Json(figures))
}

/// Puts a new report into a mass incident when the incident rule says so: it joins an incident
/// nearby, or, with enough reports of its category around it, forms one — a parent case at the
/// district level into which the reports are merged; each reporter then follows the parent.
async fn gather_incident(state: &AppState, new: StoredCase) -> Result<StoredCase, ApiError> {
    use crate::cases::incidents::{Clustering, Report, cluster};
    let Some((x, y)) = new.pin else {
        return Ok(new);
    };
    let rule = state.0.sla.incidents;
    let lm = crate::spatial::measure::LocalMetric::new(x, y);
    let (dx, dy) = lm.degrees(rule.radius_m);
    let window_s = (rule.window_h * 3600.0) as i64;
    let recent = state
        .0
        .store
        .cases(&CaseFilter {
            category: Some(new.facts.category.clone()),
            bbox: Some([x - dx, y - dy, x + dx, y + dy]),
            from: Some(new.facts.submitted_at - window_s),
            limit: 10_000,
            ..Default::default()
        })
        .await?;
    let as_report = |c: &StoredCase| {
        c.pin.map(|(px, py)| Report {
            id: c.id,
            pin: Coord { x: px, y: py },
            at: c.facts.submitted_at,
            category: c.facts.category.clone(),
            incident: if c.channel == "incident" {
                Some(c.id)
            } else {
                c.facts.merged_into
            },
        })
    };
    let Some(me) = as_report(&new) else {
        return Ok(new);
    };
    let others: Vec<Report> = recent.iter().filter_map(as_report).collect();
    let members = match cluster(&me, &others, &rule) {
        Clustering::Alone => return Ok(new),
        Clustering::Join { parent } => vec![(new.id, parent)],
        Clustering::Form { members } => {
            let reports = members.len();
            let description = format!(
                "mass incident (群体性诉求): {reports} reports of category {} within {} m and {} h",
                new.facts.category, rule.radius_m, rule.window_h
            );
            let reason = format!(
                "{reports} reports of one category close together form a mass incident, handled at the district level"
            );
            let parent =
                open_incident(state, &new, description, reason, Level::District, "system").await?;
            members.into_iter().map(|m| (m, parent)).collect()
        }
    };
    let mut me_after = new.clone();
    for (id, parent) in members {
        let Some(c) = state.0.store.case(id).await? else {
            continue;
        };
        let version = c.facts.version;
        match apply(state, c, version, "system", Action::Merge { into: parent }).await {
            Ok(after) if after.id == new.id => me_after = after,
            Ok(_) => {}
            // Already resolved, merged or closed: it stays as it is.
            Err(e) if e.code == "illegal_transition" || e.code == "version_conflict" => {}
            Err(e) => return Err(e),
        }
    }
    Ok(me_after)
}

/// Creates the parent case of a new mass incident, like `seed` (category, pin, grid, owner) but
/// one urgency higher and handled at `level`, submitted by `actor`; returns its id.
pub(crate) async fn open_incident(
    state: &AppState,
    seed: &StoredCase,
    description: String,
    reason: String,
    level: Level,
    actor: &str,
) -> Result<i64, ApiError> {
    let now = state.now();
    let mut facts = CaseFacts::submitted(
        now,
        &seed.facts.category,
        seed.facts.urgency.raised(),
        seed.facts.assignee.clone(),
    );
    facts.level = level;
    facts.grid.clone_from(&seed.facts.grid);
    let (date, _) = shanghai_local(now);
    let intake = json!({
        "channel": "incident",
        "report": {"description": description, "first_report": seed.id},
        "route": {"reason": reason, "level": level, "assignee": seed.facts.assignee},
    });
    let (parent, _) = state
        .0
        .store
        .insert_case(&NewCase {
            idempotency_key: None,
            day: format!("{:04}{:02}{:02}", date.year, date.month, date.day),
            tracking_token: token()?,
            channel: "incident".into(),
            pin: seed.pin,
            grid: seed.facts.grid.clone(),
            intake,
            facts,
            actor: actor.into(),
        })
        .await?;
    tracing::info!(incident = parent.id, category = %seed.facts.category, ?level, "mass incident formed");
    announce(state, &parent, "submit").await;
    Ok(parent.id)
}

/// Records an attached file on a case (decided on `version`), retrying once on a race.
pub(crate) async fn attach(
    state: &AppState,
    c: StoredCase,
    version: i64,
    file: Value,
) -> Result<StoredCase, ApiError> {
    let id = c.id;
    match apply(
        state,
        c,
        version,
        "uploader",
        Action::Attach { file: file.clone() },
    )
    .await
    {
        Err(e) if e.code == "version_conflict" => {
            let c = state
                .0
                .store
                .case(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
            let v = c.facts.version;
            apply(state, c, v, "uploader", Action::Attach { file }).await
        }
        other => other,
    }
}

/// How often the escalation ticker looks at the clock.
pub const TICK_SECONDS: u64 = 60;

/// Escalates every open case with an overdue stage not yet escalated in its current round: one
/// level up (grid → community → street → district), recorded as an `escalate` event by
/// `system`. Safe to run in several processes at once: a case escalated by another process
/// meanwhile is at a newer version and is left alone. Returns the number of escalations.
pub async fn escalate_overdue(state: &AppState, now: i64) -> Result<usize, ApiError> {
    let mut done = 0;
    {
        let open = cases_in(state, &CaseState::OPEN).await?;
        for mut c in open {
            let d = deadlines_of(state, &c.facts);
            for stage in overdue(&c.facts, &d, now) {
                if c.facts.escalated_for(stage) {
                    continue;
                }
                let action = Action::Escalate {
                    level: c.facts.level.above(),
                    stage: Some(stage.to_string()),
                };
                let version = c.facts.version;
                match apply(state, c.clone(), version, "system", action).await {
                    Ok(next) => {
                        done += 1;
                        c = next;
                    }
                    Err(e) if e.code == "version_conflict" || e.code == "illegal_transition" => {
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(done)
}

/// Runs [`escalate_overdue`] every [`TICK_SECONDS`] until the process ends. With PostgreSQL,
/// an advisory lock lets one process tick at a time.
pub fn spawn_escalation_ticker(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(TICK_SECONDS));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let turn = state.0.store.try_tick_lock().await;
            match turn {
                Ok(Some(lock)) => {
                    match escalate_overdue(&state, state.now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(escalations = n, "overdue cases escalated"),
                        Err(e) => tracing::warn!(error = e.message, "escalation tick failed"),
                    }
                    lock.release().await;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "escalation tick: database unavailable"),
            }
        }
    });
}

/// Report a case: located, routed with its reason, on the clock.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases",
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key answers the same case (200) instead of creating another")),
    request_body = NewCaseRequest,
    responses((status = 201, description = "Created", body = CaseView), (status = 200, description = "Already created with this Idempotency-Key", body = CaseView),
              (status = 400, body = super::error::ErrorBody), (status = 415, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    headers: HeaderMap,
    ApiJson(mut req): ApiJson<NewCaseRequest>,
) -> Result<(StatusCode, Json<CaseView>), ApiError> {
    let principal = &caller.0.0;
    may_submit(principal, req.channel)?;
    // A grid worker's patrol report is theirs, whatever the body claims.
    if req.channel == Channel::Patrol {
        req.reporter = Some(principal.name().to_string());
    }
    // The submitter is the account or key, or the citizen; never a name in the body.
    let actor = match principal {
        Principal::Staff { .. } => principal.name(),
        Principal::Anonymous => "citizen",
    };
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_header",
                        format!(
                            "Idempotency-Key must be 1–{MAX_IDEMPOTENCY_KEY} visible characters"
                        ),
                    )
                })?;
            Some(k.to_string())
        }
    };
    let (stored, created) = submit(&state, key, req, Some(actor)).await?;
    let mut v = view(&state, &stored, state.now());
    v.tracking_token = Some(stored.tracking_token.clone());
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(v),
    ))
}

/// Who may report through which channel: a citizen's pin is open to anyone; a hotline work
/// order, a walk-in or an Open311 request needs an account or key that may submit cases
/// (hotline operators, dispatchers, grid workers, integrations); a patrol report, a grid worker
/// (who may submit and handle cases). 401 for anonymous callers, 403 otherwise; logged.
fn may_submit(principal: &Principal, channel: Channel) -> Result<(), ApiError> {
    use crate::auth::Permission as P;
    let allowed = match channel {
        Channel::Citizen => true,
        Channel::Hotline | Channel::WalkIn | Channel::Open311 => principal.may(P::SubmitCase),
        Channel::Patrol => principal.may(P::SubmitCase) && principal.may(P::HandleCase),
    };
    if allowed {
        return Ok(());
    }
    let name = serde_json::to_value(channel)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    match principal {
        Principal::Anonymous => {
            tracing::warn!(channel = %name, "denied: not signed in");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                format!(
                    "a {name} report needs signing in or an API key; citizens report with channel citizen"
                ),
            ))
        }
        p => Err(super::auth::forbidden(
            p,
            &format!(
                "the {} role may not submit a {name} report",
                p.role().map_or("anonymous", |r| r.as_str())
            ),
        )),
    }
}

/// Checks a report's fields (all but the category, which needs the district's catalogue):
/// the description's length, a pin both given and a WGS 84-sized lon/lat, what each channel
/// needs (citizen and patrol a pin; hotline its work order number; the others a pin or an
/// address) and the lengths of the other texts. Answers the pin; errors are 422 naming the
/// field.
pub fn check_report(req: &NewCaseRequest) -> Result<Option<(f64, f64)>, ApiError> {
    let chars = req.description.trim().chars().count();
    if chars == 0 || chars > MAX_DESCRIPTION_CHARS {
        return Err(invalid(
            "description",
            format!(
                "description has {chars} characters; 1 to {MAX_DESCRIPTION_CHARS} are accepted"
            ),
        ));
    }
    let pin = match (req.lon, req.lat) {
        (Some(lon), Some(lat)) => {
            if !(lon.is_finite()
                && lat.is_finite()
                && (-180.0..=180.0).contains(&lon)
                && (-90.0..=90.0).contains(&lat))
            {
                return Err(invalid(
                    "lon",
                    format!("{lon},{lat} is not a lon,lat position"),
                ));
            }
            Some((lon, lat))
        }
        (None, None) => None,
        _ => {
            return Err(invalid(
                if req.lon.is_none() { "lon" } else { "lat" },
                "give both lon and lat, or neither",
            ));
        }
    };
    let address = req
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    match req.channel {
        Channel::Citizen | Channel::Patrol if pin.is_none() => {
            return Err(invalid(
                "lon",
                "a citizen or patrol report needs a pin (lon, lat)",
            ));
        }
        Channel::Hotline
            if req
                .external_ticket
                .as_deref()
                .is_none_or(|t| t.trim().is_empty()) =>
        {
            return Err(invalid(
                "external_ticket",
                "a hotline report needs its 12345 work order number",
            ));
        }
        Channel::Hotline | Channel::WalkIn | Channel::Open311
            if pin.is_none() && address.is_none() =>
        {
            return Err(invalid("address", "give an address, a pin, or both"));
        }
        _ => {}
    }
    for (field, v, max) in [
        ("address", address, 500),
        ("external_ticket", req.external_ticket.as_deref(), 100),
        ("operator", req.operator.as_deref(), 100),
        ("reporter", req.reporter.as_deref(), 100),
        (
            "contact.name",
            req.contact.as_ref().and_then(|c| c.name.as_deref()),
            100,
        ),
        (
            "contact.phone",
            req.contact.as_ref().and_then(|c| c.phone.as_deref()),
            32,
        ),
        ("media_url", req.media_url.as_deref(), 2_000),
    ] {
        if v.is_some_and(|v| v.chars().count() > max) {
            return Err(invalid(
                field,
                format!("{field} is longer than {max} characters"),
            ));
        }
    }

    Ok(pin)
}

/// Reads a `POST /api/v1/cases` body (JSON) and checks it as intake does (see
/// [`check_report`]): 400 for what is not JSON, 422 naming the field otherwise.
pub fn read_report(body: &[u8]) -> Result<NewCaseRequest, ApiError> {
    let req: NewCaseRequest = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            invalid("body", format!("report: {e}"))
        } else {
            ApiError::bad_request("invalid_json", format!("report: {e}"))
        }
    })?;
    check_report(&req)?;
    Ok(req)
}

/// Takes in a report at the engine's time ([`AppState::now`]): checks it, locates and routes
/// it, stores it (once per idempotency `key`) and gathers it into a mass incident when the
/// incident rule says so. Returns the case and whether it was created (false: `key` was seen
/// before and its case is answered). Errors name the field that was refused.
pub(crate) async fn submit(
    state: &AppState,
    key: Option<String>,
    req: NewCaseRequest,
    actor: Option<&str>,
) -> Result<(StoredCase, bool), ApiError> {
    let refs = state.0.refs.load_full();
    let category = refs
        .list(RefKind::Categories)
        .iter()
        .find(|c| c.key == req.category)
        .ok_or_else(|| {
            invalid(
                "category",
                format!(
                    "unknown category {:?}; see /api/v1/categories",
                    req.category
                ),
            )
        })?;
    let pin = check_report(&req)?;
    let address = req
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let now = state.now();
    // Where it is, and who owns it.
    let live = state.0.live.load_full();
    let wgs84 = pin.map(|(lon, lat)| to_wgs84(req.crs, lon, lat));
    let r = routed(&refs, &live, category, wgs84, now);
    let urgency: Urgency =
        serde_json::from_value(category.properties["urgency"].clone()).unwrap_or(Urgency::Yellow);
    let mut facts = CaseFacts::submitted(now, &req.category, urgency, r.assignee.clone());
    facts.level = r.level;
    facts.grid.clone_from(&r.grid);
    let report = json!({
        "description": req.description.trim(),
        "pin": pin.map(|(lon, lat)| json!({"lon": lon, "lat": lat, "crs": req.crs, "wgs84": wgs84.map(|p| [p.0, p.1])})),
        "address": address,
        "external_ticket": req.external_ticket,
        "operator": req.operator,
        "reporter": req.reporter,
        "contact": req.contact,
        "media_url": req.media_url,
    });
    let intake = json!({
        "channel": req.channel,
        "report": report,
        "route": {"reason": r.reason, "level": r.level, "informed": r.informed, "assignee": r.assignee},
    });
    let (date, _) = shanghai_local(now);
    // The submitter: the signed-in account or key when there is one, else who the report names
    // (an imported history), else the citizen.
    let submitter = actor
        .map(str::to_string)
        .or_else(|| req.operator.clone())
        .or_else(|| req.reporter.clone())
        .unwrap_or_else(|| "citizen".into());
    let new = NewCase {
        // A key names a retry of one submitter's report only: another caller reusing it (say a
        // guessable 12345 work-order number) makes a new case and never sees the first one's
        // tracking token.
        idempotency_key: key.map(|k| format!("{submitter}\u{1f}{k}")),
        day: format!("{:04}{:02}{:02}", date.year, date.month, date.day),
        tracking_token: token()?,
        channel: serde_json::to_value(req.channel)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        pin: wgs84,
        grid: r.grid.clone(),
        intake,
        facts,
        actor: submitter,
    };
    let (stored, created) = state.0.store.insert_case(&new).await?;
    if created {
        tracing::info!(case = stored.id, ticket = %stored.ticket, grid = ?stored.grid, "case submitted");
        announce(state, &stored, "submit").await;
    }
    let stored = if created {
        gather_incident(state, stored).await?
    } else {
        stored
    };
    Ok((stored, created))
}

/// An event as the timeline shows it. The submission event records the whole report; its
/// citizen's contact is masked here, for every caller: the full contact is shown, to those who
/// may see it, only as the case's `report` (where each such read is recorded).
fn event_view(e: CaseEvent) -> EventView {
    let mut action = e.action;
    if let Some(report) = action
        .get_mut("intake")
        .and_then(|i| i.get_mut("report"))
        .filter(|r| r.get("contact").is_some_and(Value::is_object))
    {
        *report = masked_report(report);
    }
    EventView {
        seq: e.seq,
        at: rfc3339_shanghai(e.at),
        actor: e.actor,
        action,
    }
}

/// One case with its deadlines and timeline.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, body = CaseView), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CaseView>, ApiError> {
    let c = state
        .0
        .store
        .case(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
    let principal = &caller.0.0;
    require_in_scope(&state, principal, &c)?;
    let mut v = view(&state, &c, state.now());
    // The full contact only to the dispatchers and the case's handler; each read recorded.
    let owner = c.facts.assignee.key();
    let is_worker = matches!(
        c.facts.assignee,
        crate::cases::lifecycle::Assignee::Worker { .. }
    );
    if c.intake["report"]["contact"].is_object()
        && crate::auth::sees_contacts(principal, true, owner, is_worker)
    {
        v.report = c.intake["report"].clone();
        state
            .0
            .store
            .record_contact_read(
                state.now(),
                principal.name(),
                principal.role().map_or("", |r| r.as_str()),
                c.id,
            )
            .await?;
    }
    v.timeline = Some(
        state
            .0
            .store
            .case_events(id)
            .await?
            .into_iter()
            .map(event_view)
            .collect(),
    );
    Ok(Json(v))
}

/// Applies `action`, decided on `version`, by `actor`; the one place case changes are written.
pub(crate) async fn apply(
    state: &AppState,
    c: StoredCase,
    version: i64,
    actor: &str,
    action: Action,
) -> Result<StoredCase, ApiError> {
    if version != c.facts.version {
        return Err(version_conflict(c.id, version, c.facts.version));
    }
    if let Action::Accept {
        position: Some([lon, lat]),
    } = &action
        && !(lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0)
    {
        return Err(invalid(
            "position",
            format!("position [{lon}, {lat}] is not a WGS 84 [lon, lat] in degrees"),
        ));
    }
    if let Action::Merge { into } = &action {
        if *into == c.id {
            return Err(invalid("into", "a case cannot be merged into itself"));
        }
        if state.0.store.case(*into).await?.is_none() {
            return Err(invalid("into", format!("no case {into} to merge into")));
        }
    }
    let now = state.now();
    let mut facts = c.facts.clone();
    facts.apply(&action, now).map_err(|e| {
        ApiError::conflict("illegal_transition", e.to_string())
            .with_details(json!({"state": e.state, "action": e.action}))
    })?;
    let recorded = serde_json::to_value(&action).map_err(|e| ApiError::internal(&e))?;
    let event = CaseEvent {
        seq: version + 1,
        at: now,
        actor: actor.to_string(),
        action: recorded,
    };
    match state
        .0
        .store
        .append_case_event(c.id, version, &event, &facts)
        .await?
    {
        CaseWrite::Done => {}
        CaseWrite::Conflict { current } => return Err(version_conflict(c.id, version, current)),
        CaseWrite::NotFound => return Err(ApiError::not_found(format!("no case {}", c.id))),
    }
    tracing::info!(case = c.id, action = action.name(), actor, "case action");
    let c = StoredCase { facts, ..c };
    announce(state, &c, action.name()).await;
    Ok(c)
}

fn version_conflict(id: i64, given: i64, current: i64) -> ApiError {
    ApiError::conflict(
        "version_conflict",
        format!("case {id} is at version {current}, not {given}: someone acted first; reload and decide again"),
    )
    .with_details(json!({"version": current}))
}

/// Body of `POST /api/v1/cases/{id}/actions`: the action's fields, plus the version it was
/// decided on and the actor.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionRequest {
    /// The version of the case the action was decided on.
    pub version: i64,
    /// The action: `{"action": "triage", "urgency": "red"}` and so on.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub action: Value,
}

/// Act on a case: triage, dispatch, accept, reply, resolve, rate, follow_up, close, return,
/// reassign, merge, invalidate, supervise, escalate.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases",
    params(("id" = i64, Path, description = "Case id")),
    request_body = ActionRequest,
    responses((status = 200, body = CaseView), (status = 404, body = super::error::ErrorBody),
              (status = 409, description = "illegal_transition or version_conflict", body = super::error::ErrorBody),
              (status = 422, body = super::error::ErrorBody)))]
pub(crate) async fn act(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ActionRequest>,
) -> Result<Json<CaseView>, ApiError> {
    let action: Action = serde_json::from_value(req.action)
        .map_err(|e| invalid("action", format!("action: {e}")))?;
    check_texts(&action)?;
    let principal = &caller.0.0;
    let need = super::auth::action_permission(action.name());
    if !principal.may(need) {
        return Err(super::auth::forbidden(
            principal,
            &format!(
                "the {} role may not {} a case",
                principal.role().map_or("anonymous", |r| r.as_str()),
                action.name()
            ),
        ));
    }
    let c = state
        .0
        .store
        .case(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
    require_in_scope(&state, principal, &c)?;
    let c = apply(&state, c, req.version, principal.name(), action).await?;
    Ok(Json(view(&state, &c, state.now())))
}

/// The longest text an action may carry (a reply, note, reason or comment), in characters.
pub const MAX_ACTION_TEXT_CHARS: usize = 4_000;

/// Refuses an action whose text is empty where one is needed, or too long (422 naming it).
fn check_texts(action: &Action) -> Result<(), ApiError> {
    let (field, text, required) = match action {
        Action::Reply { text } => ("text", Some(text.as_str()), true),
        Action::Resolve { note } | Action::FollowUp { note } | Action::Supervise { note } => {
            ("note", Some(note.as_str()), true)
        }
        Action::Return { reason }
        | Action::Reassign { reason, .. }
        | Action::Invalidate { reason }
        | Action::Flag { reason } => ("reason", Some(reason.as_str()), true),
        Action::Rate { comment, .. } => ("comment", comment.as_deref(), false),
        Action::Triage {
            category: Some(c), ..
        } => ("category", Some(c.as_str()), true),
        _ => ("", None, false),
    };
    let Some(text) = text else { return Ok(()) };
    let n = text.trim().chars().count();
    if required && n == 0 {
        return Err(invalid(field, format!("{field} must not be empty")));
    }
    let max = if field == "category" {
        32
    } else {
        MAX_ACTION_TEXT_CHARS
    };
    if n > max {
        return Err(invalid(
            field,
            format!("{field} is {n} characters long; at most {max} are allowed"),
        ));
    }
    Ok(())
}

/// Who read a case's full contact details, and when.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactReads {
    /// The case.
    pub case: i64,
    /// Every read, oldest first.
    pub reads: Vec<crate::store::accounts::ContactRead>,
}

/// The log of reads of a case's full contact details (who, when), for oversight.
#[utoipa::path(get, path = "/api/v1/cases/{id}/contact-reads", tag = "cases",
    params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, body = ContactReads), (status = 401, body = super::error::ErrorBody),
              (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn contact_reads(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ContactReads>, ApiError> {
    let c = state
        .0
        .store
        .case(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
    require_in_scope(&state, &caller.0.0, &c)?;
    Ok(Json(ContactReads {
        case: id,
        reads: state.0.store.contact_reads(id).await?,
    }))
}

/// Most reads one `GET /api/v1/contact-reads` answers.
pub const MAX_CONTACT_READS: i64 = 10_000;

/// Query of `GET /api/v1/contact-reads`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContactReadQuery {
    /// At or after (Unix seconds; default: 30 days before `to`).
    pub from: Option<i64>,
    /// Before (Unix seconds; default: now).
    pub to: Option<i64>,
}

/// Reads of contact details in a period, across cases.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactReadLog {
    /// Period start (Unix seconds).
    pub from: i64,
    /// Period end (Unix seconds).
    pub to: i64,
    /// The reads, oldest first (at most 10,000; narrow the period for more).
    pub reads: Vec<crate::store::accounts::ContactRead>,
    /// Whether the period held more reads than were answered.
    pub truncated: bool,
}

/// The log of reads of citizens' full contact details in a period (default: the last 30
/// days), for oversight: who read which case's contact, and when. A street's supervisor sees
/// the reads of their street's cases.
#[utoipa::path(get, path = "/api/v1/contact-reads", tag = "cases", params(ContactReadQuery),
    responses((status = 200, body = ContactReadLog), (status = 400, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)))]
pub(crate) async fn contact_read_log(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiQuery(q): ApiQuery<ContactReadQuery>,
) -> Result<Json<ContactReadLog>, ApiError> {
    let to = q.to.unwrap_or_else(|| state.now() + 1);
    let from = q.from.unwrap_or(to.saturating_sub(30 * 86_400));
    if to <= from {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "the period must end after it starts",
        )
        .with_details(json!({"parameter": "to"})));
    }
    let principal = &caller.0.0;
    let district = matches!(
        principal,
        Principal::Staff {
            scope: Scope::District,
            ..
        }
    );
    // The reads of the caller's scope, a chunk of the log at a time, until one more than the
    // most answered.
    let (mut reads, mut offset) = (Vec::new(), 0_i64);
    let mut in_scope: BTreeMap<i64, bool> = BTreeMap::new();
    'scan: loop {
        let chunk = state
            .0
            .store
            .contact_reads_between(from, to, offset, MAX_CONTACT_READS)
            .await?;
        let n = chunk.len() as i64;
        for r in chunk {
            let ok = match in_scope.get(&r.case_id) {
                Some(&ok) => ok,
                None => {
                    let ok = district
                        || state.0.store.case(r.case_id).await?.is_some_and(|c| {
                            covers(
                                &state,
                                principal,
                                c.facts.grid.as_deref(),
                                c.facts.assignee.key(),
                            )
                        });
                    in_scope.insert(r.case_id, ok);
                    ok
                }
            };
            if ok {
                reads.push(r);
                if reads.len() as i64 > MAX_CONTACT_READS {
                    break 'scan;
                }
            }
        }
        if n < MAX_CONTACT_READS {
            break;
        }
        offset += n;
    }
    let truncated = reads.len() as i64 > MAX_CONTACT_READS;
    reads.truncate(MAX_CONTACT_READS as usize);
    Ok(Json(ContactReadLog {
        from,
        to,
        reads,
        truncated,
    }))
}

/// Query of `GET /api/v1/cases`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// State.
    pub state: Option<CaseState>,
    /// Only open cases (true: not closed, merged or invalid) or only finished ones (false);
    /// ignored when `state` is given.
    pub open: Option<bool>,
    /// Urgency.
    pub urgency: Option<Urgency>,
    /// Category code.
    pub category: Option<String>,
    /// Grid code.
    pub grid: Option<String>,
    /// Community code: cases in its grids.
    pub community: Option<String>,
    /// Street (街道/镇) code: cases in its grids.
    pub street: Option<String>,
    /// Department code: cases it owns.
    pub department: Option<String>,
    /// Owner key: a worker id, a department code, or `district` (the service center's queue).
    pub assignee: Option<String>,
    /// Only cases with an overdue stage (true) or none (false).
    pub overdue: Option<bool>,
    /// `minLon,minLat,maxLon,maxLat`.
    #[param(value_type = Option<String>)]
    pub bbox: Option<super::grids::Bbox>,
    /// Submitted at or after (Unix seconds).
    pub from: Option<i64>,
    /// Submitted before (Unix seconds).
    pub to: Option<i64>,
    /// Only the cases merged into this case id (a mass incident's members, or cases merged by
    /// a dispatcher).
    pub merged_into: Option<i64>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Cases per page (1–500, default 50).
    pub per_page: Option<i64>,
}

/// A page of cases.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseList {
    /// The page.
    pub page: i64,
    /// Cases per page.
    pub per_page: i64,
    /// How many cases match, over all pages.
    pub total: i64,
    /// The cases, newest first.
    pub cases: Vec<CaseView>,
}

/// Cases, newest first, filtered and paged.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery),
    responses((status = 200, body = CaseList), (status = 400, body = super::error::ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> Result<Json<CaseList>, ApiError> {
    let per_page = q.per_page.unwrap_or(50);
    let page = q.page.unwrap_or(1);
    if !(1..=500).contains(&per_page) || !(1..=1_000_000).contains(&page) {
        return Err(ApiError::bad_request(
            "out_of_range",
            "page 1–1,000,000 and per_page 1–500",
        ));
    }
    // A community's or a street's cases are those in its grids of the published layer.
    let live = state.0.live.load_full();
    let mut grids: Option<Vec<String>> = None;
    for (param, value) in [("community", &q.community), ("street", &q.street)] {
        let Some(code) = value else { continue };
        let keys = live.grids_in(param, code);
        if keys.is_empty() {
            return Err(ApiError::unprocessable(
                "unknown_code",
                format!("no grid of the published layer is in {param} {code:?}"),
            )
            .with_details(json!({ "parameter": param })));
        }
        grids = Some(match grids {
            None => keys,
            Some(prev) => prev.into_iter().filter(|k| keys.contains(k)).collect(),
        });
    }
    if let Some(code) = &q.department {
        let refs = state.0.refs.load();
        if !refs
            .list(RefKind::Departments)
            .iter()
            .any(|d| &d.key == code)
        {
            return Err(ApiError::unprocessable(
                "unknown_code",
                format!("unknown department {code:?}; see /api/v1/departments"),
            )
            .with_details(json!({ "parameter": "department" })));
        }
        if q.assignee.as_ref().is_some_and(|a| a != code) {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "department and assignee name different owners",
            )
            .with_details(json!({ "parameter": "assignee" })));
        }
    }
    // The caller's scope narrows every list.
    let mut assignee = q.department.or(q.assignee);
    let mut grid = q.grid;
    let mut empty = false;
    if let Principal::Staff { scope, .. } = &caller.0.0 {
        let area = match scope {
            Scope::District => None,
            Scope::Street(c) => Some(live.grids_in("street", c)),
            Scope::Community(c) => Some(live.grids_in("community", c)),
            Scope::Grid(g) => {
                empty |= grid.as_ref().is_some_and(|x| x != g);
                grid = Some(g.clone());
                None
            }
            Scope::Department(d) => {
                empty |= assignee.as_ref().is_some_and(|x| x != d);
                assignee = Some(d.clone());
                None
            }
        };
        if let Some(area) = area {
            grids = Some(match grids {
                None => area,
                Some(prev) => prev.into_iter().filter(|k| area.contains(k)).collect(),
            });
        }
    }
    if empty {
        grids = Some(Vec::new());
    }
    let filter = CaseFilter {
        states: match (q.state, q.open) {
            (Some(s), _) => vec![s],
            (None, Some(true)) => CaseState::OPEN.to_vec(),
            (None, Some(false)) => {
                vec![CaseState::Closed, CaseState::Merged, CaseState::Invalid]
            }
            (None, None) => Vec::new(),
        },
        urgency: q.urgency,
        category: q.category,
        grid,
        grids,
        assignee,
        bbox: q
            .bbox
            .map(|b| [b.0.min().x, b.0.min().y, b.0.max().x, b.0.max().y]),
        from: q.from,
        to: q.to,
        merged_into: q.merged_into,
        before_id: None,
        limit: per_page,
        offset: (page - 1) * per_page,
    };
    let now = state.now();
    let (total, cases): (i64, Vec<CaseView>) = match q.overdue {
        None => (
            state.0.store.count_cases(&filter).await?,
            state
                .0
                .store
                .cases(&filter)
                .await?
                .iter()
                .map(|c| view(&state, c, now))
                .collect(),
        ),
        // Overdue depends on now: judge every matching case, a chunk at a time (newest first,
        // paging by id, so cases written meanwhile neither repeat nor push others out),
        // counting them and keeping the requested page. Only open cases can be overdue.
        Some(want) => {
            let skip = (page - 1).saturating_mul(per_page);
            let (mut total, mut kept) = (0_i64, Vec::new());
            let mut chunk_filter = CaseFilter {
                limit: OVERDUE_CHUNK,
                offset: 0,
                ..filter
            };
            if want && chunk_filter.states.is_empty() {
                chunk_filter.states = CaseState::OPEN.to_vec();
            }
            loop {
                let chunk = state.0.store.cases(&chunk_filter).await?;
                for c in &chunk {
                    let late = !overdue(&c.facts, &deadlines_of(&state, &c.facts), now).is_empty();
                    if want == late {
                        if total >= skip && (kept.len() as i64) < per_page {
                            kept.push(view(&state, c, now));
                        }
                        total += 1;
                    }
                }
                match chunk.last() {
                    Some(last) if chunk.len() as i64 == OVERDUE_CHUNK => {
                        chunk_filter.before_id = Some(last.id);
                    }
                    _ => break,
                }
            }
            (total, kept)
        }
    };
    Ok(Json(CaseList {
        page,
        per_page,
        total,
        cases,
    }))
}

/// What a citizen sees through the tracking token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrackView {
    /// Ticket code.
    pub ticket: String,
    /// State.
    pub state: CaseState,
    /// Category code.
    pub category: String,
    /// Submitted at.
    pub submitted_at: String,
    /// Deadlines.
    pub deadlines: DeadlinesView,
    /// Replies and outcomes, oldest first (no internal notes, no contacts).
    #[schema(value_type = Vec<Object>)]
    pub timeline: Vec<Value>,
    /// The last rating.
    pub satisfaction: Option<Satisfaction>,
    /// Times it was redone.
    pub redo_count: u32,
    /// Whether the case is waiting for the citizen's rating.
    pub awaiting_rating: bool,
    /// The mass incident this report was gathered into: its progress is this report's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub incident: Option<Box<TrackView>>,
}

async fn by_token(state: &AppState, token: &str) -> Result<StoredCase, ApiError> {
    state
        .0
        .store
        .case_by_token(token)
        .await?
        .ok_or_else(|| ApiError::not_found("no case has this tracking token"))
}

/// A case's public progress, through its tracking token.
#[utoipa::path(get, path = "/api/v1/track/{token}", tag = "cases",
    params(("token" = String, Path, description = "The tracking token given on intake")),
    responses((status = 200, body = TrackView), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn track(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<TrackView>, ApiError> {
    let c = by_token(&state, &token).await?;
    Ok(Json(track_view(&state, c, 0).await?))
}

/// The public view of a case, with the incident it was merged into (followed at most 3 deep).
async fn track_view(state: &AppState, c: StoredCase, depth: u8) -> Result<TrackView, ApiError> {
    let v = view(state, &c, state.now());
    let public = [
        "submit",
        "attach",
        "triage",
        "dispatch",
        "accept",
        "reply",
        "resolve",
        "rate",
        "follow_up",
        "close",
        "reassign",
        "merge",
        "invalidate",
    ];
    let timeline: Vec<Value> = state
        .0
        .store
        .case_events(c.id)
        .await?
        .into_iter()
        .filter(|e| {
            e.action["action"]
                .as_str()
                .is_some_and(|a| public.contains(&a))
        })
        .map(|e| {
            let a = &e.action;
            let name = a["action"].as_str().unwrap_or_default();
            let said = match name {
                "reply" => a["text"].clone(),
                "resolve" | "follow_up" => a["note"].clone(),
                "invalidate" => a["reason"].clone(),
                _ => Value::Null,
            };
            let file = if name == "attach" {
                a["file"]["name"]
                    .as_str()
                    .map(|n| {
                        Value::String(format!(
                            "/api/v1/cases/{}/media/{n}?token={}",
                            c.id, c.tracking_token
                        ))
                    })
                    .unwrap_or(Value::Null)
            } else {
                Value::Null
            };
            json!({"at": rfc3339_shanghai(e.at), "action": name, "text": said, "file": file})
        })
        .collect();
    let incident = match c.facts.merged_into {
        Some(p) if depth < 3 => match state.0.store.case(p).await? {
            Some(parent) if parent.channel == "incident" => Some(Box::new(
                Box::pin(track_view(state, parent, depth + 1)).await?,
            )),
            _ => None,
        },
        _ => None,
    };
    Ok(TrackView {
        ticket: c.ticket,
        state: v.state,
        category: v.category,
        submitted_at: v.submitted_at,
        deadlines: v.deadlines,
        timeline,
        satisfaction: v.satisfaction,
        redo_count: v.redo_count,
        awaiting_rating: v.state == CaseState::Resolved,
        incident,
    })
}

/// Body of a citizen's rating.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// satisfied, basically_satisfied or unsatisfied (reopens the case).
    pub satisfaction: Satisfaction,
    /// The citizen's words (≤ 1,000 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

/// The citizen rates a resolved case; unsatisfied sends it back to be redone.
#[utoipa::path(post, path = "/api/v1/track/{token}/rating", tag = "cases",
    params(("token" = String, Path, description = "The tracking token")),
    request_body = RatingRequest,
    responses((status = 200, body = TrackView), (status = 404, body = super::error::ErrorBody),
              (status = 409, description = "Not waiting for a rating", body = super::error::ErrorBody)))]
pub(crate) async fn rate(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(req): ApiJson<RatingRequest>,
) -> Result<Json<TrackView>, ApiError> {
    if req
        .comment
        .as_deref()
        .is_some_and(|c| c.chars().count() > 1_000)
    {
        return Err(invalid(
            "comment",
            "comment is longer than 1,000 characters",
        ));
    }
    let c = by_token(&state, &token).await?;
    let version = c.facts.version;
    apply(
        &state,
        c,
        version,
        "citizen",
        Action::Rate {
            satisfaction: req.satisfaction,
            comment: req.comment,
        },
    )
    .await?;
    track(State(state), ApiPath(token)).await
}
