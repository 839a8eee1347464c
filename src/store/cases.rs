//! Cases on both backends: append-only events and a current-state row derived from them (the
//! fold [`Store::replay_case`] recomputes), written in one
//! transaction each time. Intake is idempotent on its key (a retry, even a concurrent one,
//! finds the first case); an action names the version it was decided on, and loses with
//! [`CaseWrite::Conflict`] when another action got there first.

use super::postgres::in_district;
use super::sqlite_writer::{CaseRows, Written};
use super::{Store, StoreError};
use crate::cases::lifecycle::{Action, CaseFacts};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

/// A case to create.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// `Idempotency-Key` of the request, if any.
    pub idempotency_key: Option<String>,
    /// Ticket day, `YYYYMMDD` (Asia/Shanghai).
    pub day: String,
    /// Random token for the citizen's tracking page.
    pub tracking_token: String,
    /// Channel name.
    pub channel: String,
    /// WGS84 pin, if any.
    pub pin: Option<(f64, f64)>,
    /// The owning grid, if any.
    pub grid: Option<String>,
    /// What was reported and how it was routed (JSON object).
    pub intake: Value,
    /// The facts after submission.
    pub facts: CaseFacts,
    /// Who submitted (actor of event 1).
    pub actor: String,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseEvent {
    /// 1 for the submission, then one per action.
    pub seq: i64,
    /// When, Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What (the action JSON; `{"action": "submit", …}` for the first).
    pub action: Value,
}

/// A stored case.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    /// Case id.
    pub id: i64,
    /// Ticket code.
    pub ticket: String,
    /// Tracking token.
    pub tracking_token: String,
    /// Channel.
    pub channel: String,
    /// The owning grid.
    pub grid: Option<String>,
    /// WGS84 pin.
    pub pin: Option<(f64, f64)>,
    /// What was reported.
    pub intake: Value,
    /// The fold of the events.
    pub facts: CaseFacts,
}

/// The outcome of appending an event.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseWrite {
    /// Written.
    Done,
    /// The case is at another version than the one the action was decided on.
    Conflict {
        /// Its version now.
        current: i64,
    },
    /// No such case.
    NotFound,
}

/// Filters of a case listing (all optional; combined with AND).
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Any of these states (empty: every state).
    pub states: Vec<crate::cases::lifecycle::CaseState>,
    /// Urgency.
    pub urgency: Option<crate::cases::sla::Urgency>,
    /// Category code.
    pub category: Option<String>,
    /// Grid code.
    pub grid: Option<String>,
    /// Any of these grid codes (a community's or a street's grids); `Some(empty)` matches
    /// nothing.
    pub grids: Option<Vec<String>>,
    /// The owner's key ([`crate::cases::lifecycle::Assignee::key`]: worker id, department
    /// code or `district`).
    pub assignee: Option<String>,
    /// `[minLon, minLat, maxLon, maxLat]`.
    pub bbox: Option<[f64; 4]>,
    /// Submitted at or after (Unix seconds).
    pub from: Option<i64>,
    /// Submitted before.
    pub to: Option<i64>,
    /// Only the cases merged into this one (an incident's members).
    pub merged_into: Option<i64>,
    /// Only cases with a smaller id (paging by key through a listing, newest first).
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

pub(super) fn ticket(day: &str, n: i64) -> String {
    format!("ZD{day}-{n:06}")
}

fn json(v: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored case: {e}")))
}

fn facts_columns(f: &CaseFacts) -> Result<(String, String, String), StoreError> {
    Ok((
        f.state.as_str().to_string(),
        f.urgency.as_str().to_string(),
        json(f)?,
    ))
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

const SELECT_SQLITE: &str =
    "SELECT id, ticket, tracking_token, channel, grid, lon, lat, intake, facts FROM case_record";
const SELECT_PG: &str = "SELECT id, ticket, tracking_token, channel, grid, ST_X(location) AS lon, ST_Y(location) AS lat, intake::text AS intake, facts::text AS facts FROM case_record";

fn row_case<R: Row>(r: &R) -> Result<StoredCase, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database>,
    for<'a> Option<f64>: sqlx::Decode<'a, R::Database>,
    for<'a> f64: sqlx::Type<R::Database>,
{
    let lon: Option<f64> = r.try_get("lon")?;
    let lat: Option<f64> = r.try_get("lat")?;
    Ok(StoredCase {
        id: r.try_get("id")?,
        ticket: r.try_get("ticket")?,
        tracking_token: r.try_get("tracking_token")?,
        channel: r.try_get("channel")?,
        grid: r.try_get("grid")?,
        pin: lon.zip(lat),
        intake: parse(&r.try_get::<String, _>("intake")?)?,
        facts: parse(&r.try_get::<String, _>("facts")?)?,
    })
}

impl Store {
    /// Creates a case with its submission event, or, when `idempotency_key` was seen before,
    /// finds that case. Returns the case and whether it was created now.
    pub async fn insert_case(&self, new: &NewCase) -> Result<(StoredCase, bool), StoreError> {
        self.insert_case_with(new, &[], &new.facts).await
    }

    /// [`Store::insert_case`] with the events that followed the submission and the facts they
    /// lead to, all in the one transaction (a whole imported history, never half of it).
    pub async fn insert_case_with(
        &self,
        new: &NewCase,
        later: &[CaseEvent],
        facts: &CaseFacts,
    ) -> Result<(StoredCase, bool), StoreError> {
        if let Some(k) = &new.idempotency_key
            && let Some(c) = self.case_by_key(k).await?
        {
            return Ok((c, false));
        }
        let taken = match self.try_insert_case(new, later, facts).await {
            Ok(Some(c)) => return Ok((c, true)),
            Ok(None) => StoreError::Corrupt(
                "a unique column of the new case (ticket or tracking token) is taken".into(),
            ),
            Err(StoreError::Database(e)) if is_unique_violation(&e) => StoreError::Database(e),
            Err(e) => return Err(e),
        };
        // A concurrent retry with the same key won the race: answer its case.
        let key = new.idempotency_key.as_deref().ok_or(taken)?;
        let c = self
            .case_by_key(key)
            .await?
            .ok_or_else(|| StoreError::Corrupt("idempotency key conflict without a case".into()))?;
        Ok((c, false))
    }

    /// Writes the case and its events; `None` when a unique column (the idempotency key) was
    /// taken and nothing was written.
    async fn try_insert_case(
        &self,
        new: &NewCase,
        later: &[CaseEvent],
        now: &CaseFacts,
    ) -> Result<Option<StoredCase>, StoreError> {
        let (state, urgency, facts) = facts_columns(now)?;
        let intake = json(&new.intake)?;
        // The submission event carries the facts it starts from, so that the current state can
        // always be rebuilt from the events alone (`Store::replay_case`).
        let submit = json(
            &serde_json::json!({"action": "submit", "intake": new.intake, "facts": new.facts}),
        )?;
        let at = new.facts.submitted_at;
        let (id, n) = match self {
            Store::Sqlite(s) => {
                let mut events = vec![(1, at, new.actor.clone(), submit)];
                for e in later {
                    events.push((e.seq, e.at, e.actor.clone(), json(&e.action)?));
                }
                let rows = CaseRows {
                    day: new.day.clone(),
                    tracking_token: new.tracking_token.clone(),
                    idempotency_key: new.idempotency_key.clone(),
                    channel: new.channel.clone(),
                    state,
                    version: now.version,
                    category: now.category.clone(),
                    urgency,
                    grid: new.grid.clone(),
                    pin: new.pin,
                    submitted_at: at,
                    intake,
                    facts,
                    assignee: now.assignee.key().to_string(),
                    events,
                };
                // A file database: the group-commit writer; in memory, the pool.
                let written = match s.intake_writer() {
                    Some(writer) => writer.insert(rows).await?,
                    None => super::sqlite_writer::insert_through_pool(s.pool(), &rows).await?,
                };
                match written {
                    Written::Inserted { id, n } => (id, n),
                    Written::DuplicateKey => return Ok(None),
                }
            }
            Store::Postgres(p) => {
                let mut tx = p.pool().begin().await?;
                let n: i64 = sqlx::query_scalar(
                    "INSERT INTO ticket_counter (day, n) VALUES ($1, 1)
                     ON CONFLICT (district, day) DO UPDATE SET n = ticket_counter.n + 1 RETURNING n",
                )
                .bind(&new.day)
                .fetch_one(&mut *tx)
                .await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO case_record (ticket, tracking_token, idempotency_key, channel,
                       state, version, category, urgency, grid, location, submitted_at, intake, facts,
                       assignee)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                       CASE WHEN $10::float8 IS NULL THEN NULL
                            ELSE ST_SetSRID(ST_MakePoint($10::float8, $11::float8), 4326) END,
                       $12, $13::jsonb, $14::jsonb, $15) RETURNING id",
                )
                .bind(ticket(&new.day, n))
                .bind(&new.tracking_token)
                .bind(&new.idempotency_key)
                .bind(&new.channel)
                .bind(&state)
                .bind(now.version)
                .bind(&now.category)
                .bind(&urgency)
                .bind(&new.grid)
                .bind(new.pin.map(|p| p.0))
                .bind(new.pin.map(|p| p.1))
                .bind(at)
                .bind(&intake)
                .bind(&facts)
                .bind(now.assignee.key())
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO case_event (case_id, seq, at, actor, action) VALUES ($1, 1, $2, $3, $4::jsonb)")
                    .bind(id)
                    .bind(at)
                    .bind(&new.actor)
                    .bind(&submit)
                    .execute(&mut *tx)
                    .await?;
                for e in later {
                    sqlx::query("INSERT INTO case_event (case_id, seq, at, actor, action) VALUES ($1, $2, $3, $4, $5::jsonb)")
                        .bind(id)
                        .bind(e.seq)
                        .bind(e.at)
                        .bind(&e.actor)
                        .bind(json(&e.action)?)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                (id, n)
            }
        };
        // What was written, without reading it back.
        Ok(Some(StoredCase {
            id,
            ticket: ticket(&new.day, n),
            tracking_token: new.tracking_token.clone(),
            channel: new.channel.clone(),
            grid: new.grid.clone(),
            pin: new.pin,
            intake: new.intake.clone(),
            facts: now.clone(),
        }))
    }

    async fn case_where(
        &self,
        column: &str,
        value: CaseKey<'_>,
    ) -> Result<Option<StoredCase>, StoreError> {
        match self {
            Store::Sqlite(s) => {
                let sql = format!("{SELECT_SQLITE} WHERE {column} = ?");
                let q = sqlx::query(sqlx::AssertSqlSafe(sql));
                let q = match value {
                    CaseKey::Id(i) => q.bind(i),
                    CaseKey::Text(t) => q.bind(t),
                };
                q.fetch_optional(s.pool())
                    .await?
                    .as_ref()
                    .map(row_case)
                    .transpose()
            }
            Store::Postgres(p) => {
                let sql = format!("{SELECT_PG} WHERE {column} = $1 AND {}", in_district!());
                let q = sqlx::query(sqlx::AssertSqlSafe(sql));
                let q = match value {
                    CaseKey::Id(i) => q.bind(i),
                    CaseKey::Text(t) => q.bind(t),
                };
                q.fetch_optional(p.pool())
                    .await?
                    .as_ref()
                    .map(row_case)
                    .transpose()
            }
        }
    }

    /// One case by id.
    pub async fn case(&self, id: i64) -> Result<Option<StoredCase>, StoreError> {
        self.case_where("id", CaseKey::Id(id)).await
    }

    /// One case by its tracking token.
    pub async fn case_by_token(&self, token: &str) -> Result<Option<StoredCase>, StoreError> {
        self.case_where("tracking_token", CaseKey::Text(token))
            .await
    }

    async fn case_by_key(&self, key: &str) -> Result<Option<StoredCase>, StoreError> {
        self.case_where("idempotency_key", CaseKey::Text(key)).await
    }

    /// A case's events in order.
    pub async fn case_events(&self, id: i64) -> Result<Vec<CaseEvent>, StoreError> {
        let rows = match self {
            Store::Sqlite(s) => {
                sqlx::query("SELECT seq, at, actor, action FROM case_event WHERE case_id = ? ORDER BY seq")
                    .bind(id)
                    .fetch_all(s.pool())
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("seq")?, r.try_get("at")?, r.try_get("actor")?, r.try_get::<String, _>("action")?)))
                    .collect::<Result<Vec<(i64, i64, String, String)>, StoreError>>()?
            }
            Store::Postgres(p) => {
                sqlx::query(concat!("SELECT seq, at, actor, action::text AS action FROM case_event WHERE case_id = $1 AND ", in_district!(), " ORDER BY seq"))
                    .bind(id)
                    .fetch_all(p.pool())
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("seq")?, r.try_get("at")?, r.try_get("actor")?, r.try_get::<String, _>("action")?)))
                    .collect::<Result<Vec<(i64, i64, String, String)>, StoreError>>()?
            }
        };
        rows.into_iter()
            .map(|(seq, at, actor, action)| {
                Ok(CaseEvent {
                    seq,
                    at,
                    actor,
                    action: parse(&action)?,
                })
            })
            .collect()
    }

    /// Rebuilds case `id`'s facts from its events alone ([`CaseFacts::replay`]): the facts the
    /// submission event recorded, then every later action. `None` when there is no such case;
    /// [`StoreError::Corrupt`] when an event cannot be read or replayed. Equal to the stored
    /// facts for every case written by this version.
    pub async fn replay_case(&self, id: i64) -> Result<Option<CaseFacts>, StoreError> {
        let events = self.case_events(id).await?;
        let Some((submit, later)) = events.split_first() else {
            return Ok(None);
        };
        let first: CaseFacts = submit
            .action
            .get("facts")
            .cloned()
            .ok_or_else(|| {
                StoreError::Corrupt(format!("case {id}: the submission event records no facts"))
            })
            .and_then(|f| {
                serde_json::from_value(f)
                    .map_err(|e| StoreError::Corrupt(format!("case {id}: submission facts: {e}")))
            })?;
        let actions = later
            .iter()
            .map(|e| {
                serde_json::from_value::<Action>(e.action.clone())
                    .map(|a| (a, e.at))
                    .map_err(|err| StoreError::Corrupt(format!("case {id} event {}: {err}", e.seq)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        CaseFacts::replay(first, actions)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("case {id}: {e}")))
    }

    /// Appends one event decided on version `expected` and writes the new facts, in one
    /// transaction; nothing is written when the case has moved on.
    pub async fn append_case_event(
        &self,
        id: i64,
        expected: i64,
        event: &CaseEvent,
        facts: &CaseFacts,
    ) -> Result<CaseWrite, StoreError> {
        let (state, urgency, facts_json) = facts_columns(facts)?;
        let action = json(&event.action)?;
        let updated = match self {
            Store::Sqlite(s) => {
                let mut tx = s.pool().begin().await?;
                let n = sqlx::query(
                    "UPDATE case_record SET state = ?, version = ?, urgency = ?, category = ?, facts = ?, grid = ?,
                       assignee = ?
                     WHERE id = ? AND version = ?",
                )
                .bind(&state)
                .bind(facts.version)
                .bind(&urgency)
                .bind(&facts.category)
                .bind(&facts_json)
                .bind(&facts.grid)
                .bind(facts.assignee.key())
                .bind(id)
                .bind(expected)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    sqlx::query("INSERT INTO case_event (case_id, seq, at, actor, action) VALUES (?, ?, ?, ?, ?)")
                        .bind(id)
                        .bind(event.seq)
                        .bind(event.at)
                        .bind(&event.actor)
                        .bind(&action)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
                n == 1
            }
            Store::Postgres(p) => {
                let mut tx = p.pool().begin().await?;
                let n = sqlx::query(concat!(
                    "UPDATE case_record SET state = $1, version = $2, urgency = $3, category = $4, facts = $5::jsonb, grid = $8,
                       assignee = $9
                     WHERE id = $6 AND version = $7 AND ",
                    in_district!()
                ))
                .bind(&state)
                .bind(facts.version)
                .bind(&urgency)
                .bind(&facts.category)
                .bind(&facts_json)
                .bind(id)
                .bind(expected)
                .bind(&facts.grid)
                .bind(facts.assignee.key())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    sqlx::query("INSERT INTO case_event (case_id, seq, at, actor, action) VALUES ($1, $2, $3, $4, $5::jsonb)")
                        .bind(id)
                        .bind(event.seq)
                        .bind(event.at)
                        .bind(&event.actor)
                        .bind(&action)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
                n == 1
            }
        };
        if updated {
            return Ok(CaseWrite::Done);
        }
        Ok(match self.case(id).await? {
            Some(c) => CaseWrite::Conflict {
                current: c.facts.version,
            },
            None => CaseWrite::NotFound,
        })
    }

    /// Cases matching `filter`, newest first, one page.
    pub async fn cases(&self, f: &CaseFilter) -> Result<Vec<StoredCase>, StoreError> {
        let pg = matches!(self, Store::Postgres(_));
        let (where_, mut binds) = case_conditions(f, pg);
        let n = binds.len();
        let (lim, off) = if pg {
            (format!("${}", n + 1), format!("${}", n + 2))
        } else {
            ("?".to_string(), "?".to_string())
        };
        binds.push(Bind::Int(f.limit));
        binds.push(Bind::Int(f.offset));
        let select = if pg { SELECT_PG } else { SELECT_SQLITE };
        let sql = format!("{select}{where_} ORDER BY id DESC LIMIT {lim} OFFSET {off}");
        macro_rules! run {
            ($pool:expr) => {{
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    q = match b {
                        Bind::Text(v) => q.bind(v),
                        Bind::Int(v) => q.bind(v),
                        Bind::Float(v) => q.bind(v),
                    };
                }
                q.fetch_all($pool).await?.iter().map(row_case).collect()
            }};
        }
        match self {
            Store::Sqlite(s) => run!(s.pool()),
            Store::Postgres(p) => run!(p.pool()),
        }
    }

    /// How many cases match `f` (its limit and offset aside).
    pub async fn count_cases(&self, f: &CaseFilter) -> Result<i64, StoreError> {
        let pg = matches!(self, Store::Postgres(_));
        let (where_, binds) = case_conditions(f, pg);
        let sql = format!("SELECT COUNT(*) FROM case_record{where_}");
        macro_rules! run {
            ($pool:expr) => {{
                let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    q = match b {
                        Bind::Text(v) => q.bind(v),
                        Bind::Int(v) => q.bind(v),
                        Bind::Float(v) => q.bind(v),
                    };
                }
                q.fetch_one($pool).await?
            }};
        }
        Ok(match self {
            Store::Sqlite(s) => run!(s.pool()),
            Store::Postgres(p) => run!(p.pool()),
        })
    }
}

/// A value bound to a placeholder of a listing query.
enum Bind {
    Text(String),
    Int(i64),
    Float(f64),
}

/// The `WHERE` clause of a listing (empty when nothing is filtered) and its values, in
/// placeholder order. Conditions are fixed strings; every value is bound.
fn case_conditions(f: &CaseFilter, pg: bool) -> (String, Vec<Bind>) {
    let mut conds: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mark = |binds: &mut Vec<Bind>, b: Bind| {
        binds.push(b);
        if pg {
            format!("${}", binds.len())
        } else {
            "?".to_string()
        }
    };
    let one_of = |binds: &mut Vec<Bind>, col: &str, values: &[String]| {
        if values.is_empty() {
            return "FALSE".to_string();
        }
        let marks: Vec<String> = values
            .iter()
            .map(|v| mark(binds, Bind::Text(v.clone())))
            .collect();
        format!("{col} IN ({})", marks.join(", "))
    };
    if pg {
        conds.push(in_district!().to_string());
    }
    if !f.states.is_empty() {
        let states: Vec<String> = f.states.iter().map(|s| s.as_str().to_string()).collect();
        conds.push(one_of(&mut binds, "state", &states));
    }
    let urgency = f.urgency.map(|u| u.as_str().to_string());
    for (col, v) in [
        ("urgency", &urgency),
        ("category", &f.category),
        ("grid", &f.grid),
        ("assignee", &f.assignee),
    ] {
        if let Some(v) = v {
            let m = mark(&mut binds, Bind::Text(v.clone()));
            conds.push(format!("{col} = {m}"));
        }
    }
    if let Some(grids) = &f.grids {
        conds.push(one_of(&mut binds, "grid", grids));
    }
    if let Some(t) = f.from {
        let m = mark(&mut binds, Bind::Int(t));
        conds.push(format!("submitted_at >= {m}"));
    }
    if let Some(t) = f.to {
        let m = mark(&mut binds, Bind::Int(t));
        conds.push(format!("submitted_at < {m}"));
    }
    if let Some(id) = f.before_id {
        let m = mark(&mut binds, Bind::Int(id));
        conds.push(format!("id < {m}"));
    }
    if let Some(id) = f.merged_into {
        let m = mark(&mut binds, Bind::Int(id));
        conds.push(if pg {
            format!("(facts ->> 'merged_into')::bigint = {m}")
        } else {
            format!("json_extract(facts, '$.merged_into') = {m}")
        });
    }
    if let Some([x0, y0, x1, y1]) = f.bbox {
        let (a, b, c, d) = (
            mark(&mut binds, Bind::Float(x0)),
            mark(&mut binds, Bind::Float(y0)),
            mark(&mut binds, Bind::Float(x1)),
            mark(&mut binds, Bind::Float(y1)),
        );
        conds.push(if pg {
            format!("location && ST_MakeEnvelope({a}, {b}, {c}, {d}, 4326)")
        } else {
            format!("lon >= {a} AND lat >= {b} AND lon <= {c} AND lat <= {d}")
        });
    }
    let where_ = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (where_, binds)
}

/// The right to run one escalation tick (PostgreSQL: a session advisory lock; SQLite: one
/// process per file, nothing to take).
pub struct TickLock {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
}

impl TickLock {
    /// Gives the turn back.
    pub async fn release(self) {
        if let Some(mut c) = self.conn {
            let _ = sqlx::query(TICK_UNLOCK_SQL)
                .bind(TICK_LOCK)
                .execute(&mut *c)
                .await;
        }
    }
}

impl Store {
    /// Announces a case change to every process on the database (PostgreSQL; a no-op on SQLite,
    /// where the one process tells its own subscribers).
    pub async fn announce_case_change(&self, payload: &str) -> Result<(), StoreError> {
        if let Store::Postgres(p) = self {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(super::postgres::CASE_CHANNEL)
                .bind(payload)
                .execute(p.pool())
                .await?;
        }
        Ok(())
    }
}

/// Advisory lock class of the escalation ticker ("tick" in ASCII). The lock is taken with the
/// two-key form, the second key being the connection's district, so each district sharing a
/// database has its own ticker turn (docs/scale-out.md).
const TICK_LOCK: i32 = 0x7469_636b;
const TICK_LOCK_SQL: &str =
    "SELECT pg_try_advisory_lock($1, current_setting('tessera.district')::integer)";
const TICK_UNLOCK_SQL: &str =
    "SELECT pg_advisory_unlock($1, current_setting('tessera.district')::integer)";

impl Store {
    /// Takes the escalation ticker's turn, or `None` when another process has it.
    pub async fn try_tick_lock(&self) -> Result<Option<TickLock>, StoreError> {
        match self {
            Store::Sqlite(_) => Ok(Some(TickLock { conn: None })),
            Store::Postgres(p) => {
                let mut conn = p.pool().acquire().await?;
                let got: bool = sqlx::query_scalar(TICK_LOCK_SQL)
                    .bind(TICK_LOCK)
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(got.then_some(TickLock { conn: Some(conn) }))
            }
        }
    }
}

enum CaseKey<'a> {
    Id(i64),
    Text(&'a str),
}
