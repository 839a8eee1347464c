//! Group commit of case intake on the SQLite backend.
//!
//! A dedicated thread holds one connection to the database file and writes new cases in
//! batches: every case queued while the previous batch was committing goes into the next
//! transaction, each in its own savepoint (a case that fails, say on a taken idempotency key,
//! is rolled back alone), and the batch is made durable by one commit (one WAL `fsync` with
//! `synchronous=FULL`, as on the pool's connections). A case's caller gets its answer only
//! after that commit.
//!
//! Why a thread of its own: through the async pool every statement is a hand-off between the
//! async workers and the connection's thread (five per case: begin, three inserts, commit),
//! and SQLite admits one writer at a time anyway. Here a case costs one hand-off each way, and
//! the SQLite calls run straight through. Readers keep using the pool (WAL: they never wait for
//! this writer); other writers of the file wait for its lock as for any other connection.

use super::StoreError;
use rusqlite::{Connection, params};
use std::path::Path;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Most cases committed in one transaction (the rest wait for the next one).
const MAX_BATCH: usize = 256;

/// One case to insert: the columns of `case_record` and its events, encoded.
pub(super) struct CaseRows {
    pub day: String,
    pub tracking_token: String,
    pub idempotency_key: Option<String>,
    pub channel: String,
    pub state: String,
    pub version: i64,
    pub category: String,
    pub urgency: String,
    pub grid: Option<String>,
    pub pin: Option<(f64, f64)>,
    pub submitted_at: i64,
    pub intake: String,
    pub facts: String,
    pub assignee: String,
    /// `(seq, at, actor, action JSON)`, the submission first.
    pub events: Vec<(i64, i64, String, String)>,
}

/// What became of one case.
pub(super) enum Written {
    /// Stored: its id and its number of the day.
    Inserted { id: i64, n: i64 },
    /// Its idempotency key was taken (by a concurrent retry); nothing was stored.
    DuplicateKey,
}

struct Job {
    rows: CaseRows,
    reply: oneshot::Sender<Result<Written, StoreError>>,
}

/// The sending side of the writer thread, shared by the store's clones. The thread ends when
/// [`IntakeWriter::stop`] is called (or the last clone is dropped), after writing what was
/// queued.
#[derive(Debug, Clone)]
pub(super) struct IntakeWriter {
    inner: std::sync::Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    jobs: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("day", &self.rows.day).finish()
    }
}

fn engine(e: rusqlite::Error) -> StoreError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.extended_code),
        _ => None,
    };
    StoreError::Engine {
        code,
        message: e.to_string(),
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

impl IntakeWriter {
    /// Opens a connection to the (migrated) database file at `path` and starts the thread.
    ///
    /// # Errors
    /// [`StoreError::Engine`] when the file cannot be opened or configured.
    pub(super) fn start(path: &Path, busy: std::time::Duration) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(engine)?;
        conn.busy_timeout(busy).map_err(engine)?;
        // As the pool's connections: WAL (already the file's mode), full sync, foreign keys.
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(engine)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("sqlite-intake".into())
            .spawn(move || run(conn, queue))
            .map_err(|e| StoreError::Engine {
                code: None,
                message: format!("cannot start the intake writer: {e}"),
            })?;
        Ok(IntakeWriter {
            inner: std::sync::Arc::new(Inner {
                jobs: std::sync::Mutex::new(Some(jobs)),
                thread: std::sync::Mutex::new(Some(thread)),
            }),
        })
    }

    /// Queues one case and waits until its batch is committed.
    ///
    /// # Errors
    /// The case's own error, the batch's (nothing of it was stored), or
    /// [`StoreError::Closed`] after [`IntakeWriter::stop`].
    pub(super) async fn insert(&self, rows: CaseRows) -> Result<Written, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Closed;
        {
            let jobs = self.inner.jobs.lock().unwrap_or_else(|p| p.into_inner());
            let jobs = jobs.as_ref().ok_or_else(stopped)?;
            jobs.send(Job { rows, reply }).map_err(|_| stopped())?;
        }
        answer.await.map_err(|_| stopped())?
    }

    /// Stops taking cases, lets the thread write what was queued and close its connection, and
    /// waits for it (so that the pool's connections, closed next, are the file's last).
    pub(super) async fn stop(&self) {
        drop(
            self.inner
                .jobs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        let thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(t) = thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

fn run(mut conn: Connection, queue: mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let outcome = write_batch(&mut conn, &batch);
        match outcome {
            Ok(results) => {
                for (job, r) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, cases = batch.len(), "intake batch not committed");
                let message = e.to_string();
                let code = match &e {
                    StoreError::Engine { code, .. } => *code,
                    _ => None,
                };
                for job in batch {
                    let _ = job.reply.send(Err(StoreError::Engine {
                        code,
                        message: message.clone(),
                    }));
                }
            }
        }
    }
}

/// Writes a batch in one transaction; each case's outcome, or the error that undid them all.
fn write_batch(
    conn: &mut Connection,
    batch: &[Job],
) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
    let mut tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(engine)?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let mut sp = tx.savepoint_with_name("one_case").map_err(engine)?;
        match insert_one(&sp, &job.rows) {
            Ok(w) => {
                sp.commit().map_err(engine)?;
                results.push(Ok(w));
            }
            Err(e) => {
                sp.rollback().map_err(engine)?;
                results.push(if is_unique_violation(&e) {
                    Ok(Written::DuplicateKey)
                } else {
                    Err(engine(e))
                });
            }
        }
    }
    tx.commit().map_err(engine)?;
    Ok(results)
}

/// The day's next ticket number.
const NEXT_TICKET: &str = "INSERT INTO ticket_counter (day, n) VALUES (?1, 1)
     ON CONFLICT (day) DO UPDATE SET n = n + 1 RETURNING n";
/// The case row; answers its id.
const INSERT_CASE: &str = "INSERT INTO case_record (ticket, tracking_token, idempotency_key,
       channel, state, version, category, urgency, grid, lon, lat, submitted_at, intake, facts,
       assignee)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING id";
/// One event of the case.
const INSERT_EVENT: &str =
    "INSERT INTO case_event (case_id, seq, at, actor, action) VALUES (?1, ?2, ?3, ?4, ?5)";

/// [`IntakeWriter::insert`] for an in-memory database, which lives in the pool's connections
/// only: the same statements in one transaction of the pool.
pub(super) async fn insert_through_pool(
    pool: &sqlx::SqlitePool,
    c: &CaseRows,
) -> Result<Written, StoreError> {
    let mut tx = pool.begin().await?;
    let n: i64 = sqlx::query_scalar(NEXT_TICKET)
        .bind(&c.day)
        .fetch_one(&mut *tx)
        .await?;
    let id: Result<i64, sqlx::Error> = sqlx::query_scalar(INSERT_CASE)
        .bind(super::cases::ticket(&c.day, n))
        .bind(&c.tracking_token)
        .bind(&c.idempotency_key)
        .bind(&c.channel)
        .bind(&c.state)
        .bind(c.version)
        .bind(&c.category)
        .bind(&c.urgency)
        .bind(&c.grid)
        .bind(c.pin.map(|p| p.0))
        .bind(c.pin.map(|p| p.1))
        .bind(c.submitted_at)
        .bind(&c.intake)
        .bind(&c.facts)
        .bind(&c.assignee)
        .fetch_one(&mut *tx)
        .await;
    let id = match id {
        Ok(id) => id,
        // The transaction is rolled back as it is dropped.
        Err(e)
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation()) =>
        {
            return Ok(Written::DuplicateKey);
        }
        Err(e) => return Err(e.into()),
    };
    for (seq, at, actor, action) in &c.events {
        sqlx::query(INSERT_EVENT)
            .bind(id)
            .bind(seq)
            .bind(at)
            .bind(actor)
            .bind(action)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Written::Inserted { id, n })
}

fn insert_one(conn: &Connection, c: &CaseRows) -> Result<Written, rusqlite::Error> {
    let n: i64 = conn
        .prepare_cached(NEXT_TICKET)?
        .query_row(params![c.day], |r| r.get(0))?;
    let id: i64 = conn.prepare_cached(INSERT_CASE)?.query_row(
        params![
            super::cases::ticket(&c.day, n),
            c.tracking_token,
            c.idempotency_key,
            c.channel,
            c.state,
            c.version,
            c.category,
            c.urgency,
            c.grid,
            c.pin.map(|p| p.0),
            c.pin.map(|p| p.1),
            c.submitted_at,
            c.intake,
            c.facts,
            c.assignee,
        ],
        |r| r.get(0),
    )?;
    let mut event = conn.prepare_cached(INSERT_EVENT)?;
    for (seq, at, actor, action) in &c.events {
        event.execute(params![id, seq, at, actor, action])?;
    }
    Ok(Written::Inserted { id, n })
}

#[cfg(test)]
mod tests {
    use crate::cases::lifecycle::{Assignee, CaseFacts};
    use crate::cases::sla::Urgency;
    use crate::store::Store;
    use crate::store::cases::NewCase;

    fn case(i: usize, key: Option<&str>) -> NewCase {
        NewCase {
            idempotency_key: key.map(str::to_string),
            day: "20261130".into(),
            tracking_token: format!("token-{i}"),
            channel: "citizen".into(),
            pin: Some((118.05, 36.8)),
            grid: None,
            intake: serde_json::json!({"report": {"description": format!("report {i}")}}),
            facts: CaseFacts::submitted(
                1_790_000_000,
                "litter",
                Urgency::Green,
                Assignee::DistrictQueue,
            ),
            actor: "citizen".into(),
        }
    }

    /// Sixty cases at once on a real file: they are written in shared transactions, every
    /// ticket number of the day is given once, and the ten retries of one key make one case
    /// (the retries that lose inside a batch are rolled back alone, the rest of the batch
    /// stays).
    async fn concurrent_intake(store: Store) {
        let store = std::sync::Arc::new(store);
        let tasks: Vec<_> = (0..60)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let key = (i % 6 == 0).then_some("retry-of-one-report");
                    store.insert_case(&case(i, key)).await.unwrap()
                })
            })
            .collect();
        let mut created = Vec::new();
        let mut retried = Vec::new();
        for t in tasks {
            let (c, new) = t.await.unwrap();
            if new {
                created.push(c)
            } else {
                retried.push(c)
            }
        }
        assert_eq!(
            created.len(),
            51,
            "50 without a key and one of the ten retries"
        );
        assert_eq!(retried.len(), 9);
        let keyed = created
            .iter()
            .find(|c| {
                c.intake["report"]["description"].as_str().is_some_and(|d| {
                    d.trim_start_matches("report ").parse::<usize>().unwrap() % 6 == 0
                })
            })
            .expect("the keyed case");
        assert!(
            retried
                .iter()
                .all(|c| c.id == keyed.id && c.ticket == keyed.ticket)
        );
        // Numbers 1–51 of the day, each once: a retry rolled back gave its number back.
        let mut tickets: Vec<String> = created.iter().map(|c| c.ticket.clone()).collect();
        tickets.sort();
        let expected: Vec<String> = (1..=51)
            .map(|n| crate::store::cases::ticket("20261130", n))
            .collect();
        assert_eq!(tickets, expected);
        // What the callers were told is what the pool's connections read back.
        for c in &created {
            let stored = store.case(c.id).await.unwrap().expect("committed");
            assert_eq!(&stored, c);
            assert_eq!(store.case_events(c.id).await.unwrap().len(), 1);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_database_commits_concurrent_cases_through_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(None, dir.path()).await.unwrap();
        let Store::Sqlite(s) = &store else {
            panic!("sqlite")
        };
        assert!(s.intake_writer().is_some());
        concurrent_intake(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_in_memory_database_writes_cases_through_the_pool() {
        let store = Store::open(Some("sqlite::memory:"), std::path::Path::new("."))
            .await
            .unwrap();
        let Store::Sqlite(s) = &store else {
            panic!("sqlite")
        };
        assert!(s.intake_writer().is_none());
        concurrent_intake(store).await;
    }
}
