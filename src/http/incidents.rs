//! Mass incidents linked by hand (群体性诉求): `POST /api/v1/incidents` gathers chosen reports
//! under one new parent case handled at the street or district level. The incident rule
//! (`[incidents]` of the SLA policy) forms incidents by itself as reports come in; this is the
//! dispatcher's way to link reports the rule did not (other categories, further apart, later).
//! Each report is merged into the parent, and its reporter follows the parent's progress on the
//! tracking page, as for a formed incident.

use super::auth::Caller;
use super::cases::{CaseView, apply, open_incident, require_in_scope, view};
use super::extract::ApiJson;
use super::{ApiError, AppState};
use crate::cases::lifecycle::{Action, Level};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/incidents", post(create))
}

/// Most reports one request may link.
pub const MAX_LINKED: usize = 1_000;

/// Body of `POST /api/v1/incidents`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentRequest {
    /// The reports to gather: 2 to 1,000 distinct case ids. The first gives the incident its
    /// category, pin, grid and owner.
    pub cases: Vec<i64>,
    /// Level the incident is handled at: `street` or `district` (default `district`).
    #[serde(default)]
    pub level: Option<Level>,
    /// Why these reports belong together (1–4,000 characters); the parent's description.
    pub reason: String,
}

/// Answer of `POST /api/v1/incidents`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentView {
    /// The parent case, after the reports were merged into it.
    pub incident: CaseView,
    /// The reports merged into it.
    pub merged: Vec<i64>,
    /// Reports that moved on between the check and the merge (closed or merged meanwhile by
    /// someone else), left as they are.
    pub skipped: Vec<i64>,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::unprocessable("invalid_field", message).with_details(json!({ "field": field }))
}

/// Link reports into a new mass incident. Every report must exist, lie in the caller's scope
/// and still allow a merge (not closed, merged or invalid, and not itself an incident);
/// otherwise nothing is created: 422 naming the report, 403 outside the scope, or 409
/// `illegal_transition`.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "cases",
    request_body = IncidentRequest,
    responses((status = 201, body = IncidentView),
              (status = 403, description = "a report is outside the caller's scope", body = super::error::ErrorBody),
              (status = 409, description = "a report may not be merged now", body = super::error::ErrorBody),
              (status = 422, body = super::error::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiJson(req): ApiJson<IncidentRequest>,
) -> Result<(StatusCode, Json<IncidentView>), ApiError> {
    let principal = &caller.0.0;
    let mut ids = req.cases.clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != req.cases.len() {
        return Err(invalid("cases", "a report is listed twice"));
    }
    if !(2..=MAX_LINKED).contains(&ids.len()) {
        return Err(invalid(
            "cases",
            format!(
                "an incident links 2 to {MAX_LINKED} reports, not {}",
                ids.len()
            ),
        ));
    }
    let reason = req.reason.trim();
    let chars = reason.chars().count();
    if chars == 0 || chars > super::cases::MAX_ACTION_TEXT_CHARS {
        return Err(invalid(
            "reason",
            format!(
                "reason must be 1 to {} characters",
                super::cases::MAX_ACTION_TEXT_CHARS
            ),
        ));
    }
    let level = req.level.unwrap_or(Level::District);
    if !matches!(level, Level::Street | Level::District) {
        return Err(invalid(
            "level",
            "an incident is handled at the street or district level",
        ));
    }
    let mut reports = Vec::with_capacity(ids.len());
    for &id in &req.cases {
        let c = state
            .0
            .store
            .case(id)
            .await?
            .ok_or_else(|| invalid("cases", format!("no case {id}")))?;
        require_in_scope(&state, principal, &c)?;
        if c.channel == "incident" {
            return Err(invalid("cases", format!("case {id} is itself an incident")));
        }
        if let Err(e) = c.facts.next_state(&Action::Merge { into: 0 }) {
            return Err(
                ApiError::conflict("illegal_transition", format!("case {id}: {e}"))
                    .with_details(json!({"case": id, "state": e.state, "action": e.action})),
            );
        }
        reports.push(c);
    }
    let seed = &reports[0];
    let description = format!(
        "mass incident (群体性诉求) linked by hand: {} reports: {reason}",
        reports.len()
    );
    let why = format!(
        "{} reports linked into one incident by {}, handled at the {} level",
        reports.len(),
        principal.name(),
        if level == Level::Street {
            "street"
        } else {
            "district"
        }
    );
    let parent = open_incident(&state, seed, description, why, level, principal.name()).await?;
    let (mut merged, mut skipped) = (Vec::new(), Vec::new());
    for c in reports {
        let (id, version) = (c.id, c.facts.version);
        match apply(
            &state,
            c,
            version,
            principal.name(),
            Action::Merge { into: parent },
        )
        .await
        {
            Ok(_) => merged.push(id),
            Err(e) if e.code == "illegal_transition" || e.code == "version_conflict" => {
                skipped.push(id);
            }
            Err(e) => return Err(e),
        }
    }
    if merged.is_empty() {
        // Every report moved on between the check and the merge: no incident is left behind.
        if let Some(p) = state.0.store.case(parent).await? {
            let version = p.facts.version;
            let reason = "every report moved on before it could be linked".to_string();
            apply(&state, p, version, "system", Action::Invalidate { reason }).await?;
        }
        return Err(ApiError::conflict(
            "illegal_transition",
            "every report was closed or merged meanwhile; nothing was linked",
        ));
    }
    tracing::info!(
        incident = parent,
        merged = merged.len(),
        skipped = skipped.len(),
        name = principal.name(),
        "reports linked into an incident"
    );
    let p = state
        .0
        .store
        .case(parent)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no case {parent}")))?;
    Ok((
        StatusCode::CREATED,
        Json(IncidentView {
            incident: view(&state, &p, state.now()),
            merged,
            skipped,
        }),
    ))
}
