//! The embedded SQLite backend: one file in WAL mode, migrated from `migrations/sqlite` at start.
//! Geometry is stored as GeoJSON text with a bounding box for index-assisted bbox queries.

use super::{LayerMeta, LayerState, PublishEvent, RefItem, StoreError, grid_from_row, now_rfc3339};
use crate::spatial::layer::GridLayer;
use geo::BoundingRect;
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::path::Path;
use std::str::FromStr;

/// A pool of connections to one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Group commit of new cases (a file database; `None` in memory).
    writer: Option<super::sqlite_writer::IntakeWriter>,
}

impl SqliteStore {
    /// Opens `sqlite:PATH` (created if missing) and migrates it.
    pub async fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
        let opts = SqliteConnectOptions::from_str(url)?;
        Self::open(opts).await
    }

    /// Opens the file at `path` (created if missing) and migrates it.
    pub async fn open_path(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open(SqliteConnectOptions::new().filename(path)).await
    }

    async fn open(opts: SqliteConnectOptions) -> Result<SqliteStore, StoreError> {
        let busy = std::time::Duration::from_secs(10);
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(busy);
        let file = opts.get_filename().to_path_buf();
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        // An in-memory database lives in the pool's connections only; a file gets the writer.
        let writer = if file.is_file() {
            Some(super::sqlite_writer::IntakeWriter::start(&file, busy)?)
        } else {
            None
        };
        Ok(SqliteStore { pool, writer })
    }

    /// The group-commit writer of new cases, for a file database.
    pub(super) fn intake_writer(&self) -> Option<&super::sqlite_writer::IntakeWriter> {
        self.writer.as_ref()
    }

    /// The connection pool (for the other store modules).
    pub(super) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(super) async fn close(&self) {
        // The writer's connection first, so that the pool's last close folds the write-ahead
        // log back into the file.
        if let Some(w) = &self.writer {
            w.stop().await;
        }
        self.pool.close().await;
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn published_id(&self) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT layer_id FROM publish_event ORDER BY id DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    fn meta(
        row: &sqlx::sqlite::SqliteRow,
        published: Option<i64>,
    ) -> Result<LayerMeta, StoreError> {
        let id: i64 = row.try_get("id")?;
        Ok(LayerMeta {
            id,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
            created_by: row.try_get("created_by")?,
            grid_count: row.try_get("grid_count")?,
            seamless: row.try_get::<i64, _>("seamless")? == 1,
            state: if published == Some(id) {
                LayerState::Published
            } else {
                LayerState::Draft
            },
        })
    }

    pub(super) async fn insert_layer(
        &self,
        name: &str,
        created_by: &str,
        layer: &GridLayer,
        seamless: bool,
        report: &Value,
    ) -> Result<LayerMeta, StoreError> {
        let mut tx = self.pool.begin().await?;
        let created_at = now_rfc3339();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO layer (name, created_at, created_by, grid_count, seamless, report)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(name)
        .bind(&created_at)
        .bind(created_by)
        .bind(layer.grids.len() as i64)
        .bind(i64::from(seamless))
        .bind(report.to_string())
        .fetch_one(&mut *tx)
        .await?;
        for (position, g) in layer.grids.iter().enumerate() {
            let Some(bbox) = g.geometry.bounding_rect() else {
                continue;
            };
            let geometry = serde_json::to_string(&geojson::Geometry::from(&g.geometry))
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO grid (layer_id, position, key, properties, geometry,
                                   min_lon, min_lat, max_lon, max_lat)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(position as i64)
            .bind(&g.key)
            .bind(Value::Object(g.properties.clone()).to_string())
            .bind(geometry)
            .bind(bbox.min().x)
            .bind(bbox.min().y)
            .bind(bbox.max().x)
            .bind(bbox.max().y)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(LayerMeta {
            id,
            name: name.to_string(),
            created_at,
            created_by: created_by.to_string(),
            grid_count: layer.grids.len() as i64,
            seamless,
            state: LayerState::Draft,
        })
    }

    pub(super) async fn layers(&self) -> Result<Vec<LayerMeta>, StoreError> {
        let published = self.published_id().await?;
        let rows = sqlx::query(
            "SELECT id, name, created_at, created_by, grid_count, seamless FROM layer
             ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Self::meta(r, published)).collect()
    }

    pub(super) async fn layer(&self, id: i64) -> Result<Option<(LayerMeta, Value)>, StoreError> {
        let published = self.published_id().await?;
        let Some(row) = sqlx::query(
            "SELECT id, name, created_at, created_by, grid_count, seamless, report FROM layer
             WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let report: String = row.try_get("report")?;
        let report =
            serde_json::from_str(&report).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some((Self::meta(&row, published)?, report)))
    }

    pub(super) async fn layer_grids(&self, id: i64) -> Result<GridLayer, StoreError> {
        let rows = sqlx::query(
            "SELECT key, properties, geometry FROM grid WHERE layer_id = ? ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let grids = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                grid_from_row(
                    i,
                    r.try_get("key")?,
                    r.try_get::<&str, _>("properties")?,
                    r.try_get::<&str, _>("geometry")?,
                )
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(GridLayer { grids })
    }

    pub(super) async fn publish(
        &self,
        id: i64,
        by: &str,
        forced: bool,
        reason: Option<&str>,
    ) -> Result<PublishEvent, StoreError> {
        let published_at = now_rfc3339();
        let event: i64 = sqlx::query_scalar(
            "INSERT INTO publish_event (layer_id, published_at, published_by, forced, reason)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(id)
        .bind(&published_at)
        .bind(by)
        .bind(i64::from(forced))
        .bind(reason)
        .fetch_one(&self.pool)
        .await?;
        Ok(PublishEvent {
            id: event,
            layer_id: id,
            published_at,
            published_by: by.to_string(),
            forced,
            reason: reason.map(str::to_string),
        })
    }

    pub(super) async fn publishes(&self) -> Result<Vec<PublishEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, layer_id, published_at, published_by, forced, reason FROM publish_event
             ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PublishEvent {
                    id: r.try_get("id")?,
                    layer_id: r.try_get("layer_id")?,
                    published_at: r.try_get("published_at")?,
                    published_by: r.try_get("published_by")?,
                    forced: r.try_get::<i64, _>("forced")? == 1,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    pub(super) async fn claim_seed(&self) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO reference_item (kind, key, position, properties) VALUES ('meta', 'seeded', 0, '{}')
             ON CONFLICT DO NOTHING",
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn put_reference(
        &self,
        kind: &str,
        items: &[RefItem],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM reference_item WHERE kind = ?")
            .bind(kind)
            .execute(&mut *tx)
            .await?;
        for (position, item) in items.iter().enumerate() {
            sqlx::query(
                "INSERT INTO reference_item (kind, key, position, properties, geometry)
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(kind)
            .bind(&item.key)
            .bind(position as i64)
            .bind(item.properties.to_string())
            .bind(item.geometry.as_ref().map(Value::to_string))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn reference(&self, kind: &str) -> Result<Vec<RefItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT key, properties, geometry FROM reference_item WHERE kind = ? ORDER BY position",
        )
        .bind(kind)
        .fetch_all(&self.pool)
        .await?;
        let parse = |s: &str| {
            serde_json::from_str::<Value>(s).map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        rows.iter()
            .map(|r| {
                Ok(RefItem {
                    key: r.try_get("key")?,
                    properties: parse(r.try_get::<&str, _>("properties")?)?,
                    geometry: r
                        .try_get::<Option<&str>, _>("geometry")?
                        .map(parse)
                        .transpose()?,
                })
            })
            .collect()
    }
}
