//! Seeding a new database with the demo district: the grids as layer version 1 (published by
//! `system`), and streets, communities, workers, departments and categories as reference data.

use crate::spatial::coverage::{CoverageOptions, validate_coverage};
use crate::spatial::layer::{KeySource, read_boundary, read_layer};
use crate::store::{RefItem, Store};
use serde_json::Value;
use std::path::Path;

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A file of the demo district could not be read or parsed.
    #[error("{0}: {1}")]
    File(String, String),
    /// The database refused.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn read(dir: &Path, name: &str) -> Result<String, SeedError> {
    let p = dir.join(name);
    std::fs::read_to_string(&p).map_err(|e| SeedError::File(p.display().to_string(), e.to_string()))
}

fn json(dir: &Path, name: &str) -> Result<Value, SeedError> {
    serde_json::from_str(&read(dir, name)?).map_err(|e| SeedError::File(name.into(), e.to_string()))
}

/// Seeds `store` from `dir` (e.g. `geodata/zhangdian`) when it has never been seeded and has no
/// layer. Returns whether it seeded. When several processes start on one empty database, exactly
/// one seeds; the others start empty and pick the layer up when its publish is announced.
pub async fn seed_if_empty(store: &Store, dir: &Path) -> Result<bool, SeedError> {
    if !store.layers().await?.is_empty() || !store.claim_seed().await? {
        return Ok(false);
    }
    let layer = read_layer(&read(dir, "grids.geojson")?, &KeySource::Default)
        .map_err(|e| SeedError::File("grids.geojson".into(), e.to_string()))?;
    let boundary = read_boundary(&read(dir, "boundary.geojson")?)
        .map_err(|e| SeedError::File("boundary.geojson".into(), e.to_string()))?;
    let (layer, report) = tokio::task::spawn_blocking(move || {
        let report = validate_coverage(
            &layer,
            &CoverageOptions {
                boundary: Some(boundary),
                gap_width_m: 0.0,
            },
        );
        (layer, report)
    })
    .await
    .map_err(|e| SeedError::File("grids.geojson".into(), e.to_string()))?;
    let report_json = serde_json::to_value(&report)
        .map_err(|e| SeedError::File("report".into(), e.to_string()))?;
    let meta = store
        .insert_layer(
            "Zhangdian demo district",
            "system",
            &layer,
            report.valid,
            &report_json,
        )
        .await?;
    store
        .publish(
            meta.id,
            "system",
            !report.valid,
            Some("initial seed from geodata/zhangdian"),
        )
        .await?;
    for (kind, file) in [
        ("streets", "streets.geojson"),
        ("communities", "communities.geojson"),
    ] {
        let fc = json(dir, file)?;
        let items: Vec<RefItem> = fc["features"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| RefItem {
                key: f["properties"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                properties: f["properties"].clone(),
                geometry: Some(f["geometry"].clone()),
            })
            .collect();
        store.put_reference(kind, &items).await?;
    }
    for (kind, file, list, key) in [
        ("workers", "workers.json", "workers", "id"),
        ("departments", "departments.json", "departments", "code"),
        ("categories", "categories.json", "categories", "code"),
    ] {
        let doc = json(dir, file)?;
        let mut items: Vec<RefItem> = doc[list]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| RefItem {
                key: v[key].as_str().unwrap_or_default().to_string(),
                properties: v.clone(),
                geometry: None,
            })
            .collect();
        if kind == "departments" {
            // Mediation committees are served with the departments.
            items.extend(
                doc["mediation_committees"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| RefItem {
                        key: v["code"].as_str().unwrap_or_default().to_string(),
                        properties: v.clone(),
                        geometry: None,
                    }),
            );
        }
        store.put_reference(kind, &items).await?;
    }
    // The sample's open cases, so a draft's impact can be shown from the first start.
    let cases = json(dir, "cases-sample.json")?;
    let open: Vec<RefItem> = cases["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["state"] == "open")
        .map(|c| RefItem {
            key: c["id"].as_str().unwrap_or_default().to_string(),
            properties: c.clone(),
            geometry: None,
        })
        .collect();
    store.put_reference(OPEN_CASES, &open).await?;
    // The duty rota and the working calendar, for "who is on duty now".
    let workers = json(dir, "workers.json")?;
    let rota: Vec<RefItem> = workers["on_call_rota"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| RefItem {
            key: r["community_code"].as_str().unwrap_or_default().to_string(),
            properties: r.clone(),
            geometry: None,
        })
        .collect();
    store.put_reference(ON_CALL, &rota).await?;
    let csv = read(dir, "calendar/cn-2026.csv")?;
    crate::demo::calendar::WorkingCalendar::parse(&csv)
        .map_err(|e| SeedError::File("calendar/cn-2026.csv".into(), e.to_string()))?;
    store
        .put_reference(
            CALENDAR,
            &[RefItem {
                key: "cn-2026".into(),
                properties: serde_json::json!({ "csv": csv }),
                geometry: None,
            }],
        )
        .await?;
    Ok(true)
}

/// Reference kind holding each community's on-call rota.
pub const ON_CALL: &str = "on_call";
/// Reference kind holding the working calendar (`{"csv": …}`).
pub const CALENDAR: &str = "calendar";

/// Reference kind holding the open cases used for a draft's impact.
pub const OPEN_CASES: &str = "open_cases";
