//! Sampling audits (抽查回访): `POST /api/v1/audits` draws a seeded random sample of the cases
//! closed in a period for review visits; `POST /api/v1/audits/{id}/results` records each visit;
//! `GET /api/v1/audits/{id}` shows the sample with its results.

use super::auth::Caller;
use super::cases::covers;
use super::extract::{ApiJson, ApiPath};
use super::{ApiError, AppState};
use crate::auth::{Principal, Scope};
use crate::cases::calendar::rfc3339_shanghai;
use crate::cases::lifecycle::CaseState;
use crate::store::audits::{Audit, AuditResult};
use crate::store::cases::CaseFilter;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audits", post(create))
        .route("/api/v1/audits/{id}", get(show))
        .route("/api/v1/audits/{id}/results", post(record))
}

/// Body of `POST /api/v1/audits`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    /// Cases closed at or after (Unix seconds).
    pub from: i64,
    /// … and before (Unix seconds).
    pub to: i64,
    /// Share to draw, 0–1 (e.g. 0.1 for 10 %).
    pub rate: f64,
    /// Seed of the draw (default: the current time); the same seed draws the same sample.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// Outcome of a review visit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The handling was as recorded and the citizen agrees.
    Confirmed,
    /// The citizen or the reviewer disputes the recorded outcome.
    Disputed,
    /// The citizen could not be reached.
    Unreachable,
}

/// Body of `POST /api/v1/audits/{id}/results`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultRequest {
    /// The case visited (one of the sample).
    pub case_id: i64,
    /// What was found.
    pub outcome: Outcome,
    /// Notes (≤ 2,000 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// Who visited (default: the signed-in account).
    #[serde(default)]
    pub by: Option<String>,
}

/// An audit with its sample and results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    /// Audit id.
    pub id: i64,
    /// Period start (RFC 3339, +08:00).
    pub from: String,
    /// Period end.
    pub to: String,
    /// Share drawn.
    pub rate: f64,
    /// The seed.
    pub seed: i64,
    /// Who drew it: the signed-in account.
    pub created_by: String,
    /// The sampled cases: id and ticket.
    #[schema(value_type = Vec<Object>)]
    pub sample: Vec<serde_json::Value>,
    /// The visits recorded so far.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<serde_json::Value>,
}

async fn view(state: &AppState, a: &Audit, results: &[AuditResult]) -> Result<AuditView, ApiError> {
    let mut sample = Vec::with_capacity(a.sample.len());
    for id in &a.sample {
        let ticket = state.0.store.case(*id).await?.map(|c| c.ticket);
        sample.push(json!({"id": id, "ticket": ticket}));
    }
    Ok(AuditView {
        id: a.id,
        from: rfc3339_shanghai(a.period_from),
        to: rfc3339_shanghai(a.period_to),
        rate: a.rate,
        seed: a.seed,
        created_by: a.created_by.clone(),
        sample,
        results: results
            .iter()
            .map(|r| json!({"case_id": r.case_id, "at": rfc3339_shanghai(r.at), "by": r.by, "outcome": r.outcome, "note": r.note}))
            .collect(),
    })
}

/// 403 unless the caller's scope covers every case of the audit's sample (a street's
/// supervisor reads and records only audits of their street's cases); logged.
async fn require_sample_in_scope(
    state: &AppState,
    p: &Principal,
    a: &Audit,
) -> Result<(), ApiError> {
    if matches!(
        p,
        Principal::Staff {
            scope: Scope::District,
            ..
        }
    ) {
        return Ok(());
    }
    for id in &a.sample {
        if let Some(c) = state.0.store.case(*id).await?
            && !covers(state, p, c.facts.grid.as_deref(), c.facts.assignee.key())
        {
            return Err(super::auth::forbidden(
                p,
                &format!("audit {} samples cases outside your scope", a.id),
            ));
        }
    }
    Ok(())
}

/// Draw a sample of the cases closed in a period, within the caller's scope (a street's
/// supervisor: their street's cases), for review visits.
#[utoipa::path(post, path = "/api/v1/audits", tag = "cases", request_body = AuditRequest,
    responses((status = 201, body = AuditView), (status = 422, body = super::error::ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiJson(req): ApiJson<AuditRequest>,
) -> Result<(StatusCode, Json<AuditView>), ApiError> {
    let principal = &caller.0.0;
    if !(req.rate > 0.0 && req.rate <= 1.0) {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!("rate {} must be above 0 and at most 1", req.rate),
        )
        .with_details(json!({"field": "rate"})));
    }
    if req.to <= req.from {
        return Err(ApiError::unprocessable(
            "invalid_field",
            "the period must end after it starts",
        )
        .with_details(json!({"field": "to"})));
    }
    let now = state.now();
    let closed: Vec<i64> = state
        .0
        .store
        .cases(&CaseFilter {
            states: vec![CaseState::Closed],
            limit: i64::MAX,
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter(|c| {
            c.facts
                .closed_at
                .is_some_and(|t| (req.from..req.to).contains(&t))
                && covers(
                    &state,
                    principal,
                    c.facts.grid.as_deref(),
                    c.facts.assignee.key(),
                )
        })
        .map(|c| c.id)
        .collect();
    let seed = req.seed.unwrap_or(now as u64);
    let sample = crate::cases::audit::sample(&closed, req.rate, seed);
    let audit = state
        .0
        .store
        .insert_audit(&Audit {
            id: 0,
            created_at: now,
            created_by: principal.name().to_string(),
            period_from: req.from,
            period_to: req.to,
            rate: req.rate,
            seed: seed as i64,
            sample,
        })
        .await?;
    tracing::info!(
        audit = audit.id,
        population = closed.len(),
        sampled = audit.sample.len(),
        "audit drawn"
    );
    Ok((StatusCode::CREATED, Json(view(&state, &audit, &[]).await?)))
}

/// An audit's sample and the visits recorded.
#[utoipa::path(get, path = "/api/v1/audits/{id}", tag = "cases", params(("id" = i64, Path, description = "Audit id")),
    responses((status = 200, body = AuditView), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AuditView>, ApiError> {
    let (a, results) = state
        .0
        .store
        .audit(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no audit {id}")))?;
    require_sample_in_scope(&state, &caller.0.0, &a).await?;
    Ok(Json(view(&state, &a, &results).await?))
}

/// Record a review visit of one sampled case.
#[utoipa::path(post, path = "/api/v1/audits/{id}/results", tag = "cases", params(("id" = i64, Path, description = "Audit id")),
    request_body = ResultRequest,
    responses((status = 201, body = AuditView), (status = 404, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(crate) async fn record(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ResultRequest>,
) -> Result<(StatusCode, Json<AuditView>), ApiError> {
    let (a, _) = state
        .0
        .store
        .audit(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no audit {id}")))?;
    require_sample_in_scope(&state, &caller.0.0, &a).await?;
    if !a.sample.contains(&req.case_id) {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!("case {} is not in audit {id}'s sample", req.case_id),
        )
        .with_details(json!({"field": "case_id"})));
    }
    if req
        .note
        .as_deref()
        .is_some_and(|n| n.chars().count() > 2_000)
    {
        return Err(ApiError::unprocessable(
            "invalid_field",
            "note is longer than 2,000 characters",
        )
        .with_details(json!({"field": "note"})));
    }
    let outcome = serde_json::to_value(req.outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    state
        .0
        .store
        .add_audit_result(
            id,
            &AuditResult {
                case_id: req.case_id,
                at: state.now(),
                by: req.by.unwrap_or_else(|| caller.0.0.name().to_string()),
                outcome,
                note: req.note,
            },
        )
        .await?;
    let (a, results) = state
        .0
        .store
        .audit(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no audit {id}")))?;
    Ok((StatusCode::CREATED, Json(view(&state, &a, &results).await?)))
}
