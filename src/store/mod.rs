//! Persistence behind one seam. The embedded default is one SQLite file (WAL); the server
//! backend (PostgreSQL + PostGIS, chosen by a `postgres://` URL) plugs in behind the same
//! methods. Handlers call these methods and never see SQL.
//!
//! Grid layer versions are immutable once written; the published layer is the layer of the
//! latest publish event, so publishing (and rollback, which is publishing an older version) is
//! one insert.

pub mod accounts;
pub mod audits;
pub mod backup;
pub mod cases;
pub mod postgres;
mod sqlite;
mod sqlite_writer;

use crate::spatial::layer::{Grid, GridLayer};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Why a storage operation failed. Messages never carry SQL; callers log and answer 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored document could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// SQLite reported an error on the intake writer's own connection
    /// (`store::sqlite_writer`); `code` is SQLite's extended result code when there is one.
    #[error("database error: {message}")]
    Engine {
        /// SQLite's extended result code.
        code: Option<i32>,
        /// SQLite's message.
        message: String,
    },
    /// The store was closed (`Store::close`): nothing more is written.
    #[error("the database has been closed")]
    Closed,
    /// The URL names a backend this build does not provide.
    #[error("{0}")]
    Unsupported(String),
}

/// Whether a layer version is the one being served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LayerState {
    /// Not published (or no longer: an older or newer version is).
    Draft,
    /// The version of the last publish: the one the service locates against.
    Published,
}

/// The metadata of one grid layer version.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LayerMeta {
    /// Version number.
    pub id: i64,
    /// Name given by the planner.
    pub name: String,
    /// When it was uploaded (RFC 3339, UTC).
    pub created_at: String,
    /// Who uploaded it.
    pub created_by: String,
    /// Number of grids.
    pub grid_count: i64,
    /// Whether its validation report says seamless.
    pub seamless: bool,
    /// Published (the live version) or draft.
    pub state: LayerState,
}

/// One publish (or rollback).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PublishEvent {
    /// Event number.
    pub id: i64,
    /// Layer version published.
    pub layer_id: i64,
    /// When (RFC 3339, UTC).
    pub published_at: String,
    /// Who.
    pub published_by: String,
    /// Published despite problems in its report.
    pub forced: bool,
    /// The written reason (required when forced).
    pub reason: Option<String>,
}

/// The kinds of reference data a district has. Stored under [`RefKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefKind {
    /// Streets and towns (街道/镇), with their outlines.
    Streets,
    /// Communities and villages (社区/村), with their outlines.
    Communities,
    /// Grid workers and the other grid roles.
    Workers,
    /// Departments, utilities and mediation committees.
    Departments,
    /// Appeal categories.
    Categories,
    /// Each community's on-call rota (`{"community_code", "rota": [{"worker_id"}, …]}`).
    OnCallRota,
    /// The working calendar (one item, `{"csv": "date,kind,name\n…"}`).
    Calendar,
}

impl RefKind {
    /// Every kind.
    pub const ALL: [RefKind; 7] = [
        RefKind::Streets,
        RefKind::Communities,
        RefKind::Workers,
        RefKind::Departments,
        RefKind::Categories,
        RefKind::OnCallRota,
        RefKind::Calendar,
    ];

    /// The kinds served as `/api/v1/{kind}`.
    pub const SERVED: [RefKind; 5] = [
        RefKind::Streets,
        RefKind::Communities,
        RefKind::Workers,
        RefKind::Departments,
        RefKind::Categories,
    ];

    /// The name the kind is stored (and, when served, routed) under.
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::Streets => "streets",
            RefKind::Communities => "communities",
            RefKind::Workers => "workers",
            RefKind::Departments => "departments",
            RefKind::Categories => "categories",
            RefKind::OnCallRota => "on_call",
            RefKind::Calendar => "calendar",
        }
    }

    /// The served kind named `name`, if any.
    pub fn served(name: &str) -> Option<RefKind> {
        RefKind::SERVED.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for RefKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reference item (street, community, worker, department, category).
#[derive(Debug, Clone, PartialEq)]
pub struct RefItem {
    /// Its code or id.
    pub key: String,
    /// Its properties (JSON object).
    pub properties: Value,
    /// Its geometry (GeoJSON), for streets and communities.
    pub geometry: Option<Value>,
}

/// The database behind the service.
#[derive(Debug, Clone)]
pub enum Store {
    /// Embedded SQLite file.
    Sqlite(SqliteStore),
    /// PostgreSQL + PostGIS server.
    Postgres(PgStore),
}

/// The district a database serves unless told otherwise: Zhangdian, the demo district
/// (GB/T 2260 code `370303`).
pub const DEFAULT_DISTRICT: &str = "370303";

/// Checks a district code: six digits (GB/T 2260), e.g. `370303`.
///
/// # Errors
/// [`StoreError::Unsupported`] naming the code.
pub fn check_district(code: &str) -> Result<(), StoreError> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(StoreError::Unsupported(format!(
            "district {code:?}: expected a six-digit GB/T 2260 code such as 370303"
        )))
    }
}

impl Store {
    /// Opens (creating if needed) the database named by `url`, or `data_dir/tessera.db` when
    /// `url` is `None`, and applies the migrations; the district is [`DEFAULT_DISTRICT`].
    pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        Self::open_district(url, data_dir, DEFAULT_DISTRICT).await
    }

    /// [`Store::open`] for a database serving `district` (six digits, GB/T 2260). On
    /// PostgreSQL every row of the distributed tables carries it, leading their keys (the
    /// distribution column of a province on Citus, docs/scale-out.md); the embedded SQLite
    /// database serves one district and stores no such column.
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] for a malformed district or URL; database errors.
    pub async fn open_district(
        url: Option<&str>,
        data_dir: &Path,
        district: &str,
    ) -> Result<Store, StoreError> {
        check_district(district)?;
        match url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Store::Postgres(PgStore::open(u, district).await?))
            }
            Some(u) if u.starts_with("sqlite:") => {
                Ok(Store::Sqlite(SqliteStore::open_url(u).await?))
            }
            Some(u) => Err(StoreError::Unsupported(format!(
                "database URL {u:?}: expected sqlite:PATH or postgres://…"
            ))),
            None => {
                std::fs::create_dir_all(data_dir).map_err(|e| {
                    StoreError::Unsupported(format!("cannot create {}: {e}", data_dir.display()))
                })?;
                let path = data_dir.join("tessera.db");
                Ok(Store::Sqlite(SqliteStore::open_path(&path).await?))
            }
        }
    }

    /// A short name of the backend, for health checks and logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection, waiting for those in use. On SQLite the last close folds the
    /// write-ahead log back into the database file.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(s) => s.close().await,
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.ping().await,
            Store::Postgres(s) => s.ping().await,
        }
    }

    /// The vector tile of layer `layer_id`'s grids made by the database (PostGIS `ST_AsMVT`),
    /// or `None` on SQLite, where the caller encodes it in process ([`crate::spatial::tile`]).
    pub async fn grid_tile(
        &self,
        layer_id: i64,
        tile: crate::spatial::tile::TileId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Store::Sqlite(_) => Ok(None),
            Store::Postgres(s) => s.grid_tile(layer_id, tile).await.map(Some),
        }
    }

    /// Writes a new layer version with its validation report.
    pub async fn insert_layer(
        &self,
        name: &str,
        created_by: &str,
        layer: &GridLayer,
        seamless: bool,
        report: &Value,
    ) -> Result<LayerMeta, StoreError> {
        match self {
            Store::Sqlite(s) => {
                s.insert_layer(name, created_by, layer, seamless, report)
                    .await
            }
            Store::Postgres(s) => {
                s.insert_layer(name, created_by, layer, seamless, report)
                    .await
            }
        }
    }

    /// All layer versions, newest first.
    pub async fn layers(&self) -> Result<Vec<LayerMeta>, StoreError> {
        match self {
            Store::Sqlite(s) => s.layers().await,
            Store::Postgres(s) => s.layers().await,
        }
    }

    /// One layer version with its report.
    pub async fn layer(&self, id: i64) -> Result<Option<(LayerMeta, Value)>, StoreError> {
        match self {
            Store::Sqlite(s) => s.layer(id).await,
            Store::Postgres(s) => s.layer(id).await,
        }
    }

    /// The grids of a layer version, in upload order.
    pub async fn layer_grids(&self, id: i64) -> Result<GridLayer, StoreError> {
        match self {
            Store::Sqlite(s) => s.layer_grids(id).await,
            Store::Postgres(s) => s.layer_grids(id).await,
        }
    }

    /// Records a publish of layer `id`.
    pub async fn publish(
        &self,
        id: i64,
        by: &str,
        forced: bool,
        reason: Option<&str>,
    ) -> Result<PublishEvent, StoreError> {
        match self {
            Store::Sqlite(s) => s.publish(id, by, forced, reason).await,
            Store::Postgres(s) => s.publish(id, by, forced, reason).await,
        }
    }

    /// Every publish, newest first.
    pub async fn publishes(&self) -> Result<Vec<PublishEvent>, StoreError> {
        match self {
            Store::Sqlite(s) => s.publishes().await,
            Store::Postgres(s) => s.publishes().await,
        }
    }

    /// Claims the one-time seeding of an empty database: true for exactly one caller, however
    /// many processes start at once (a marker row with a unique key decides).
    pub async fn claim_seed(&self) -> Result<bool, StoreError> {
        match self {
            Store::Sqlite(s) => s.claim_seed().await,
            Store::Postgres(s) => s.claim_seed().await,
        }
    }

    /// Replaces the reference items of one kind in one transaction. On PostgreSQL the change is
    /// announced on [`postgres::REFERENCE_CHANNEL`] so every process reloads its copy.
    pub async fn put_reference(&self, kind: RefKind, items: &[RefItem]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.put_reference(kind.as_str(), items).await,
            Store::Postgres(s) => s.put_reference(kind.as_str(), items).await,
        }
    }

    /// The reference items of one kind, in their stored order.
    pub async fn reference(&self, kind: RefKind) -> Result<Vec<RefItem>, StoreError> {
        match self {
            Store::Sqlite(s) => s.reference(kind.as_str()).await,
            Store::Postgres(s) => s.reference(kind.as_str()).await,
        }
    }
}

/// Builds a grid from a stored row.
pub(crate) fn grid_from_row(
    index: usize,
    key: String,
    properties: &str,
    geometry: &str,
) -> Result<Grid, StoreError> {
    let properties: serde_json::Map<String, Value> =
        serde_json::from_str(properties).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let geometry: Value =
        serde_json::from_str(geometry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let geometry = crate::spatial::layer::read_geometry(&geometry)
        .map_err(|e| StoreError::Corrupt(format!("grid {key}: {e}")))?;
    Ok(Grid {
        key,
        index,
        geometry,
        properties,
    })
}

/// The current time as RFC 3339 in UTC, to the millisecond.
pub fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let date = crate::cases::calendar::Date::from_days(days);
    let (year, month, day) = (date.year, date.month, date.day);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_has_the_right_shape() {
        let t = super::now_rfc3339();
        assert_eq!(t.len(), 24, "{t}");
        assert!(
            t.starts_with("20") && t.ends_with('Z') && &t[10..11] == "T",
            "{t}"
        );
    }
}
