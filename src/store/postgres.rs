//! The PostgreSQL + PostGIS backend, chosen by a `postgres://` URL. Geometry columns are PostGIS
//! types with GiST indexes; start-up fails fast when PostGIS is missing or too old. Publishing
//! notifies every process on the database (`LISTEN tessera_publish`), so each swaps its index.

use super::{LayerMeta, LayerState, PublishEvent, RefItem, StoreError, grid_from_row, now_rfc3339};
use crate::spatial::layer::GridLayer;
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

/// The channel publish events are announced on (payload: the layer id).
pub const PUBLISH_CHANNEL: &str = "tessera_publish";

/// The channel reference-data changes are announced on (payload: the kind).
pub const REFERENCE_CHANNEL: &str = "tessera_reference";

/// The channel case changes are announced on (payload: the change as JSON).
pub const CASE_CHANNEL: &str = "tessera_case";

/// The condition that keeps a statement to the connection's own district: every connection
/// sets `tessera.district` (see [`PgStore::open`]), and every distributed table has the column
/// (migration 0007). With it a database shared by several districts shows each process only its
/// own rows, and on Citus the statement goes to the one shard group holding the district
/// (docs/scale-out.md).
macro_rules! in_district {
    () => {
        "district = current_setting('tessera.district')"
    };
    ($alias:literal) => {
        concat!($alias, ".district = current_setting('tessera.district')")
    };
}
pub(super) use in_district;

/// Advisory lock key serializing database set-up between processes ("tessera" in ASCII).
const SETUP_LOCK: i64 = 0x0074_6573_7365_7261;

/// Longest wait for a pooled connection before a request fails.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Oldest PostGIS major version supported.
pub const POSTGIS_MIN_MAJOR: u32 = 3;

/// Refuses a PostGIS library version (`postgis_lib_version()`, e.g. `3.3.2`) older than
/// [`POSTGIS_MIN_MAJOR`], naming both versions.
pub fn check_postgis_version(version: &str) -> Result<(), StoreError> {
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.trim().parse::<u32>().ok());
    match major {
        Some(m) if m >= POSTGIS_MIN_MAJOR => Ok(()),
        _ => Err(StoreError::Unsupported(format!(
            "PostGIS {version} found, {POSTGIS_MIN_MAJOR}.0 or newer required"
        ))),
    }
}

/// A pool of connections to one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    url: String,
}

impl PgStore {
    /// Connects, checks PostGIS and migrates.
    pub async fn open(url: &str, district: &str) -> Result<PgStore, StoreError> {
        use std::str::FromStr;
        // Every connection names its district: the distributed tables' `district` column
        // takes it by default (migration 0007, docs/scale-out.md).
        let opts = sqlx::postgres::PgConnectOptions::from_str(url)?
            .options([("tessera.district", district)]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            // A request waits at most this long for a connection; an unreachable server is
            // then an error (503 on /healthz), not a hang.
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(opts)
            .await?;
        // Processes starting together on one database take turns setting it up.
        let mut conn = pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(SETUP_LOCK)
            .execute(&mut *conn)
            .await?;
        let setup = Self::set_up(&pool, &mut conn).await;
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(SETUP_LOCK)
            .execute(&mut *conn)
            .await?;
        setup?;
        Ok(PgStore {
            pool,
            url: url.to_string(),
        })
    }

    /// PostGIS first, so a server without it gets a clear message rather than a failed
    /// migration; then the migrations.
    async fn set_up(pool: &PgPool, conn: &mut sqlx::PgConnection) -> Result<(), StoreError> {
        if let Err(e) = sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis")
            .execute(&mut *conn)
            .await
        {
            let available: Option<String> = sqlx::query_scalar(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'",
            )
            .fetch_optional(&mut *conn)
            .await?;
            return Err(match available {
                None => StoreError::Unsupported(format!(
                    "PostGIS {POSTGIS_MIN_MAJOR}.0 or newer is required, but the server has no \
                     PostGIS (install Debian's postgresql-15-postgis-3)"
                )),
                Some(v) => StoreError::Unsupported(format!(
                    "PostGIS {v} is available but could not be enabled ({e}); a superuser must run \
                     CREATE EXTENSION postgis"
                )),
            });
        }
        let version: String = sqlx::query_scalar("SELECT postgis_lib_version()")
            .fetch_one(&mut *conn)
            .await?;
        check_postgis_version(&version)?;
        sqlx::migrate!("migrations/postgres").run(pool).await?;
        Ok(())
    }

    /// A listener on the publish and reference channels (its own connection).
    pub async fn listen_changes(&self) -> Result<PgListener, StoreError> {
        let mut l = PgListener::connect(&self.url).await?;
        l.listen_all([PUBLISH_CHANNEL, REFERENCE_CHANNEL, CASE_CHANNEL])
            .await?;
        Ok(l)
    }

    /// The connection pool (for the other store modules).
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The vector tile of layer `layer_id`'s grids at `tile`, made by PostGIS: `ST_AsMVT` of
    /// `ST_AsMVTGeom(geometry in EPSG:3857, ST_TileEnvelope(z, x, y), 4096, 64, true)` with the
    /// tags `code`, `name`, `street`, `community` (text properties only) — the same features as
    /// [`crate::spatial::tile`] makes in process. Empty when no grid reaches the tile.
    pub(super) async fn grid_tile(
        &self,
        layer_id: i64,
        tile: crate::spatial::tile::TileId,
    ) -> Result<Vec<u8>, StoreError> {
        const SQL: &str = concat!(
            "SELECT COALESCE((SELECT ST_AsMVT(q, 'grids', 4096, 'geom') FROM ( \
            SELECT ST_AsMVTGeom(ST_Transform(g.geometry, 3857), ST_TileEnvelope($2, $3, $4), 4096, 64, true) AS geom, \
                   g.key AS code, \
                   CASE WHEN jsonb_typeof(g.properties->'name') = 'string' THEN g.properties->>'name' END AS name, \
                   CASE WHEN jsonb_typeof(g.properties->'street') = 'string' THEN g.properties->>'street' END AS street, \
                   CASE WHEN jsonb_typeof(g.properties->'community') = 'string' THEN g.properties->>'community' END AS community \
            FROM grid g \
            WHERE g.layer_id = $1 AND ",
            in_district!("g"),
            " \
              AND g.geometry && ST_Transform(ST_TileEnvelope($2, $3, $4, margin => 64.0 / 4096), 4326) \
            ORDER BY g.position) q WHERE q.geom IS NOT NULL), ''::bytea)"
        );
        Ok(sqlx::query_scalar(SQL)
            .bind(layer_id)
            .bind(i32::from(tile.z))
            .bind(tile.x as i32)
            .bind(tile.y as i32)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn published_id(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(concat!(
            "SELECT layer_id FROM publish_event WHERE ",
            in_district!(),
            " ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?)
    }

    fn meta(row: &sqlx::postgres::PgRow, published: Option<i64>) -> Result<LayerMeta, StoreError> {
        let id: i64 = row.try_get("id")?;
        Ok(LayerMeta {
            id,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
            created_by: row.try_get("created_by")?,
            grid_count: row.try_get("grid_count")?,
            seamless: row.try_get("seamless")?,
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
             VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id",
        )
        .bind(name)
        .bind(&created_at)
        .bind(created_by)
        .bind(layer.grids.len() as i64)
        .bind(seamless)
        .bind(report.to_string())
        .fetch_one(&mut *tx)
        .await?;
        for (position, g) in layer.grids.iter().enumerate() {
            let geometry = serde_json::to_string(&geojson::Geometry::from(&g.geometry))
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO grid (layer_id, position, key, properties, geometry)
                 VALUES ($1, $2, $3, $4::jsonb, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326)))",
            )
            .bind(id)
            .bind(position as i64)
            .bind(&g.key)
            .bind(Value::Object(g.properties.clone()).to_string())
            .bind(geometry)
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
        let rows = sqlx::query(concat!(
            "SELECT id, name, created_at, created_by, grid_count, seamless FROM layer WHERE ",
            in_district!(),
            " ORDER BY id DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Self::meta(r, published)).collect()
    }

    pub(super) async fn layer(&self, id: i64) -> Result<Option<(LayerMeta, Value)>, StoreError> {
        let published = self.published_id().await?;
        let Some(row) = sqlx::query(concat!(
            "SELECT id, name, created_at, created_by, grid_count, seamless, report::text AS report
             FROM layer WHERE id = $1 AND ",
            in_district!()
        ))
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
        let rows = sqlx::query(concat!(
            "SELECT key, properties::text AS properties, ST_AsGeoJSON(geometry, 17) AS geometry
             FROM grid WHERE layer_id = $1 AND ",
            in_district!(),
            " ORDER BY position"
        ))
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
        let mut tx = self.pool.begin().await?;
        let event: i64 = sqlx::query_scalar(
            "INSERT INTO publish_event (layer_id, published_at, published_by, forced, reason)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(id)
        .bind(&published_at)
        .bind(by)
        .bind(forced)
        .bind(reason)
        .fetch_one(&mut *tx)
        .await?;
        // Delivered to every listener when (and only if) the transaction commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(PUBLISH_CHANNEL)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
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
        let rows = sqlx::query(concat!(
            "SELECT id, layer_id, published_at, published_by, forced, reason FROM publish_event
             WHERE ",
            in_district!(),
            " ORDER BY id DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PublishEvent {
                    id: r.try_get("id")?,
                    layer_id: r.try_get("layer_id")?,
                    published_at: r.try_get("published_at")?,
                    published_by: r.try_get("published_by")?,
                    forced: r.try_get("forced")?,
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
        sqlx::query("DELETE FROM reference_item WHERE kind = $1")
            .bind(kind)
            .execute(&mut *tx)
            .await?;
        for (position, item) in items.iter().enumerate() {
            sqlx::query(
                "INSERT INTO reference_item (kind, key, position, properties, geometry)
                 VALUES ($1, $2, $3, $4::jsonb, ST_SetSRID(ST_GeomFromGeoJSON($5), 4326))",
            )
            .bind(kind)
            .bind(&item.key)
            .bind(position as i64)
            .bind(item.properties.to_string())
            .bind(item.geometry.as_ref().map(Value::to_string))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(REFERENCE_CHANNEL)
            .bind(kind)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn reference(&self, kind: &str) -> Result<Vec<RefItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT key, properties::text AS properties, ST_AsGeoJSON(geometry, 17) AS geometry
             FROM reference_item WHERE kind = $1 ORDER BY position",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgis_versions_older_than_3_are_refused_by_name() {
        for ok in ["3.0.0", "3.3.2", "3.5.0dev", "10.1"] {
            assert!(check_postgis_version(ok).is_ok(), "{ok}");
        }
        for old in ["2.5.5", "1.5", "", "unknown"] {
            let e = check_postgis_version(old).err().map(|e| e.to_string());
            assert_eq!(
                e,
                Some(format!("PostGIS {old} found, 3.0 or newer required")),
                "{old}"
            );
        }
    }
}
