//! Sampling audits on both backends: the drawn sample and the appended review results.

use super::postgres::in_district;
use super::{Store, StoreError};
use serde::Serialize;
use sqlx::Row;

/// An audit as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Audit {
    /// Audit id.
    pub id: i64,
    /// When it was drawn (Unix seconds).
    pub created_at: i64,
    /// Who drew it.
    pub created_by: String,
    /// Cases closed at or after (Unix seconds).
    pub period_from: i64,
    /// … and before.
    pub period_to: i64,
    /// Share drawn (0–1).
    pub rate: f64,
    /// The seed (drawing again with it gives the same sample).
    pub seed: i64,
    /// The sampled case ids.
    pub sample: Vec<i64>,
}

/// One review visit's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditResult {
    /// The case.
    pub case_id: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who visited.
    pub by: String,
    /// The outcome.
    pub outcome: String,
    /// Notes.
    pub note: Option<String>,
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("stored audit: {e}"))
}

impl Store {
    /// Records a drawn audit and returns it with its id.
    pub async fn insert_audit(&self, a: &Audit) -> Result<Audit, StoreError> {
        let sample = serde_json::to_string(&a.sample).map_err(corrupt)?;
        let id: i64 = match self {
            Store::Sqlite(s) => sqlx::query_scalar(
                "INSERT INTO audit (created_at, created_by, period_from, period_to, rate, seed, sample)
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(a.created_at)
            .bind(&a.created_by)
            .bind(a.period_from)
            .bind(a.period_to)
            .bind(a.rate)
            .bind(a.seed)
            .bind(&sample)
            .fetch_one(s.pool())
            .await?,
            Store::Postgres(p) => sqlx::query_scalar(
                "INSERT INTO audit (created_at, created_by, period_from, period_to, rate, seed, sample)
                 VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING id",
            )
            .bind(a.created_at)
            .bind(&a.created_by)
            .bind(a.period_from)
            .bind(a.period_to)
            .bind(a.rate)
            .bind(a.seed)
            .bind(&sample)
            .fetch_one(p.pool())
            .await?,
        };
        Ok(Audit { id, ..a.clone() })
    }

    /// One audit with its results, oldest first.
    pub async fn audit(&self, id: i64) -> Result<Option<(Audit, Vec<AuditResult>)>, StoreError> {
        macro_rules! load {
            ($pool:expr, $one:expr, $results:expr) => {{
                let Some(r) = sqlx::query($one).bind(id).fetch_optional($pool).await? else {
                    return Ok(None);
                };
                let audit = Audit {
                    id: r.try_get("id")?,
                    created_at: r.try_get("created_at")?,
                    created_by: r.try_get("created_by")?,
                    period_from: r.try_get("period_from")?,
                    period_to: r.try_get("period_to")?,
                    rate: r.try_get("rate")?,
                    seed: r.try_get("seed")?,
                    sample: serde_json::from_str(&r.try_get::<String, _>("sample")?)
                        .map_err(corrupt)?,
                };
                let results = sqlx::query($results)
                    .bind(id)
                    .fetch_all($pool)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(AuditResult {
                            case_id: r.try_get("case_id")?,
                            at: r.try_get("at")?,
                            by: r.try_get("by")?,
                            outcome: r.try_get("outcome")?,
                            note: r.try_get("note")?,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                Ok(Some((audit, results)))
            }};
        }
        match self {
            Store::Sqlite(s) => load!(
                s.pool(),
                "SELECT id, created_at, created_by, period_from, period_to, rate, seed, sample FROM audit WHERE id = ?",
                "SELECT case_id, at, by, outcome, note FROM audit_result WHERE audit_id = ? ORDER BY at, case_id"
            ),
            Store::Postgres(p) => load!(
                p.pool(),
                concat!(
                    "SELECT id, created_at, created_by, period_from, period_to, rate, seed, sample::text AS sample FROM audit WHERE id = $1 AND ",
                    in_district!()
                ),
                concat!(
                    "SELECT case_id, at, by, outcome, note FROM audit_result WHERE audit_id = $1 AND ",
                    in_district!(),
                    " ORDER BY at, case_id"
                )
            ),
        }
    }

    /// Appends a review result.
    pub async fn add_audit_result(&self, audit_id: i64, r: &AuditResult) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                sqlx::query("INSERT INTO audit_result (audit_id, case_id, at, by, outcome, note) VALUES (?, ?, ?, ?, ?, ?)")
                    .bind(audit_id)
                    .bind(r.case_id)
                    .bind(r.at)
                    .bind(&r.by)
                    .bind(&r.outcome)
                    .bind(&r.note)
                    .execute(s.pool())
                    .await?;
            }
            Store::Postgres(p) => {
                sqlx::query("INSERT INTO audit_result (audit_id, case_id, at, by, outcome, note) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(audit_id)
                    .bind(r.case_id)
                    .bind(r.at)
                    .bind(&r.by)
                    .bind(&r.outcome)
                    .bind(&r.note)
                    .execute(p.pool())
                    .await?;
            }
        }
        Ok(())
    }
}
