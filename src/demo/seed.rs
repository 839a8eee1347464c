//! Seeding a new database with a district: the grids as layer version 1 (published by
//! `system`), and streets, communities, workers, departments, categories, the on-call rota, the
//! working calendar and the open sample cases as reference data.
//!
//! The Zhangdian demo district (`geodata/zhangdian/`) is compiled into the binary (deflated),
//! so `tessera serve` seeds from any working directory; `--seed-dir` loads another district
//! laid out the same way.

use crate::cases::calendar::WorkingCalendar;
use crate::spatial::coverage::{CoverageOptions, validate_coverage};
use crate::spatial::layer::{KeySource, read_boundary, read_layer};
use crate::store::{RefItem, RefKind, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The files a district folder must hold.
pub const DISTRICT_FILES: [&str; 9] = [
    "grids.geojson",
    "boundary.geojson",
    "streets.geojson",
    "communities.geojson",
    "workers.json",
    "departments.json",
    "categories.json",
    "cases-sample.json",
    "calendar/cn-2026.csv",
];

/// The Zhangdian demo district, embedded at build time.
#[derive(rust_embed::Embed)]
#[folder = "geodata/zhangdian/"]
struct Zhangdian;

/// Where a district is seeded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedSource {
    /// The Zhangdian demo district built into the binary.
    Embedded,
    /// A folder laid out like `geodata/zhangdian/` (see [`DISTRICT_FILES`]).
    Dir(PathBuf),
}

impl SeedSource {
    /// A folder source after checking that it exists and holds every file of a district, so a
    /// wrong `--seed-dir` is refused at start-up whether or not the database needs seeding.
    pub fn dir(dir: &Path) -> Result<SeedSource, SeedError> {
        let meta = std::fs::metadata(dir).map_err(|e| {
            SeedError::File(
                dir.display().to_string(),
                format!("cannot read the seed folder: {e}"),
            )
        })?;
        if !meta.is_dir() {
            return Err(SeedError::File(
                dir.display().to_string(),
                "the seed folder is not a directory".into(),
            ));
        }
        for name in DISTRICT_FILES {
            let p = dir.join(name);
            std::fs::File::open(&p)
                .map_err(|e| SeedError::File(p.display().to_string(), e.to_string()))?;
        }
        Ok(SeedSource::Dir(dir.to_path_buf()))
    }

    /// Says where the district comes from, for logs.
    pub fn describe(&self) -> String {
        match self {
            SeedSource::Embedded => "the built-in Zhangdian demo district".into(),
            SeedSource::Dir(d) => d.display().to_string(),
        }
    }

    fn read(&self, name: &str) -> Result<String, SeedError> {
        match self {
            SeedSource::Embedded => {
                let file = Zhangdian::get(name).ok_or_else(|| {
                    SeedError::File(name.into(), "not built into this binary".into())
                })?;
                String::from_utf8(file.data.into_owned())
                    .map_err(|e| SeedError::File(name.into(), e.to_string()))
            }
            SeedSource::Dir(dir) => {
                let p = dir.join(name);
                std::fs::read_to_string(&p)
                    .map_err(|e| SeedError::File(p.display().to_string(), e.to_string()))
            }
        }
    }

    fn json(&self, name: &str) -> Result<Value, SeedError> {
        serde_json::from_str(&self.read(name)?)
            .map_err(|e| SeedError::File(name.into(), e.to_string()))
    }
}

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

/// Seeds `store` from `source` when it has never been seeded and has no layer: the grids as
/// layer version 1 and the reference data. Returns whether it seeded. When several processes
/// start on one empty database, exactly one seeds; the others start empty and pick the layer up
/// when its publish is announced. The sample case history is driven separately, through the
/// running engine ([`drive_sample_history`]).
pub async fn seed_if_empty(store: &Store, source: &SeedSource) -> Result<bool, SeedError> {
    if !store.layers().await?.is_empty() || !store.claim_seed().await? {
        return Ok(false);
    }
    let layer = read_layer(&source.read("grids.geojson")?, &KeySource::Default)
        .map_err(|e| SeedError::File("grids.geojson".into(), e.to_string()))?;
    let boundary = read_boundary(&source.read("boundary.geojson")?)
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
            Some(&format!("initial seed from {}", source.describe())),
        )
        .await?;
    for (kind, file) in [
        (RefKind::Streets, "streets.geojson"),
        (RefKind::Communities, "communities.geojson"),
    ] {
        let fc = source.json(file)?;
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
    // Each document is read once: the workers also give the rota, the departments the import.
    let workers = source.json("workers.json")?;
    let departments = source.json("departments.json")?;
    let categories = source.json("categories.json")?;
    for (kind, doc, list, key) in [
        (RefKind::Workers, &workers, "workers", "id"),
        (RefKind::Departments, &departments, "departments", "code"),
        (RefKind::Categories, &categories, "categories", "code"),
    ] {
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
        if kind == RefKind::Departments {
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
    // The duty rota and the working calendar, for "who is on duty now".
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
    store.put_reference(RefKind::OnCallRota, &rota).await?;
    let csv = source.read("calendar/cn-2026.csv")?;
    WorkingCalendar::parse(&csv)
        .map_err(|e| SeedError::File("calendar/cn-2026.csv".into(), e.to_string()))?;
    store
        .put_reference(
            RefKind::Calendar,
            &[RefItem {
                key: "cn-2026".into(),
                properties: serde_json::json!({ "csv": csv }),
                geometry: None,
            }],
        )
        .await?;
    Ok(true)
}

/// Drives the district's sample case history (`cases-sample.json`) through the case engine of
/// `state` (see [`crate::demo::import`]); done once, by the process that seeded.
pub async fn drive_sample_history(
    state: &crate::http::AppState,
    source: &SeedSource,
) -> Result<crate::demo::import::Driven, SeedError> {
    let sample = source.json("cases-sample.json")?;
    crate::demo::import::drive_history(state, &sample)
        .await
        .map_err(|e| SeedError::File("cases-sample.json".into(), e.message.clone()))
}

/// A demo account made at first start.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Login name (`demo-dispatcher`, …).
    pub name: String,
    /// Role.
    pub role: crate::auth::Role,
    /// Scope.
    pub scope: crate::auth::Scope,
    /// Its random password, to show once.
    pub password: String,
}

/// One demo account per role, with random passwords (the grid worker in the first grid of
/// the published layer, the department staff in the first department, the rest district-wide).
/// Returns them with their passwords, which are not kept anywhere else.
pub async fn create_demo_accounts(store: &Store) -> Result<Vec<DemoAccount>, SeedError> {
    use crate::auth::secret::{hash_password, new_password};
    use crate::auth::{Role, Scope};
    let first_grid = match store.publishes().await?.into_iter().next() {
        Some(p) => store
            .layer_grids(p.layer_id)
            .await?
            .grids
            .first()
            .map(|g| g.key.clone()),
        None => None,
    };
    let first_department = store
        .reference(RefKind::Departments)
        .await?
        .first()
        .map(|d| d.key.clone());
    let now = crate::http::now_s();
    let mut out = Vec::new();
    for role in Role::ALL {
        let scope = match (role, &first_grid, &first_department) {
            (Role::GridWorker, Some(g), _) => Scope::Grid(g.clone()),
            (Role::DepartmentStaff, _, Some(d)) => Scope::Department(d.clone()),
            _ => Scope::District,
        };
        let name = format!("demo-{}", role.as_str().replace('_', "-"));
        let password =
            new_password().map_err(|e| SeedError::File("accounts".into(), e.to_string()))?;
        let phc = hash_password(&password)
            .map_err(|e| SeedError::File("accounts".into(), e.to_string()))?;
        match store.insert_account(&name, role, &scope, &phc, now).await {
            Ok(_) => out.push(DemoAccount {
                name,
                role,
                scope,
                password,
            }),
            // Made before (another process seeded meanwhile): keep theirs.
            Err(crate::store::accounts::AccountError::Taken(_)) => {}
            Err(crate::store::accounts::AccountError::Store(e)) => return Err(e.into()),
        }
    }
    Ok(out)
}
