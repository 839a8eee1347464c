//! The district's reference data as the service holds it in memory: the served lists, workers
//! and units by code, and the [`DutyRoster`] the duty rule is asked through. Built from the
//! store at start and rebuilt whenever reference data changes.

use crate::cases::calendar::WorkingCalendar;
use crate::cases::duty::{DutyMode, DutyRoster};
use crate::store::{RefItem, RefKind, StoreError};
use serde_json::Value;
use std::collections::HashMap;

/// Reference data of the district, cached in memory.
#[derive(Debug, Default)]
pub struct Refs {
    /// Items by kind, in their stored order.
    pub items: HashMap<RefKind, Vec<RefItem>>,
    /// Community and street properties by code.
    pub unit_by_code: HashMap<String, Value>,
    /// Every worker's properties by id.
    pub worker_by_id: HashMap<String, Value>,
    /// Who answers for each grid (grid workers, rotas, calendar).
    pub roster: DutyRoster,
}

impl Refs {
    /// Indexes the reference items. A stored working calendar that cannot be parsed is an error
    /// (the service must not silently treat every day as a working day).
    pub fn build(items: HashMap<RefKind, Vec<RefItem>>) -> Result<Refs, StoreError> {
        let list = |kind: RefKind| items.get(&kind).map(Vec::as_slice).unwrap_or_default();
        let mut grid_worker = HashMap::new();
        for w in list(RefKind::Workers) {
            if w.properties["role"] == "grid_worker" {
                for g in w.properties["grids"].as_array().into_iter().flatten() {
                    if let Some(code) = g.as_str() {
                        grid_worker.insert(code.to_string(), w.key.clone());
                    }
                }
            }
        }
        let unit_by_code = [RefKind::Streets, RefKind::Communities]
            .into_iter()
            .flat_map(list)
            .map(|item| (item.key.clone(), item.properties.clone()))
            .collect();
        let worker_by_id = list(RefKind::Workers)
            .iter()
            .map(|w| (w.key.clone(), w.properties.clone()))
            .collect();
        let on_call = list(RefKind::OnCallRota)
            .iter()
            .map(|r| {
                let ids = r.properties["rota"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["worker_id"].as_str().map(str::to_string))
                    .collect();
                (r.key.clone(), ids)
            })
            .collect();
        let calendar = match list(RefKind::Calendar).first() {
            None => None,
            Some(item) => {
                let csv = item.properties["csv"].as_str().ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "the stored working calendar {:?} has no `csv` text",
                        item.key
                    ))
                })?;
                Some(WorkingCalendar::parse(csv).map_err(|e| {
                    StoreError::Corrupt(format!(
                        "the stored working calendar {:?} cannot be read: {e}",
                        item.key
                    ))
                })?)
            }
        };
        Ok(Refs {
            items,
            unit_by_code,
            worker_by_id,
            roster: DutyRoster {
                grid_worker,
                on_call,
                calendar,
            },
        })
    }

    /// The full-time grid worker of grid `grid` (properties).
    pub fn grid_worker(&self, grid: &str) -> Option<&Value> {
        self.roster
            .grid_worker
            .get(grid)
            .and_then(|id| self.worker_by_id.get(id))
    }

    /// The worker answering for grid `grid` of community `community` at Unix time `now_s`
    /// ([`DutyRoster::on_duty`]), with their properties.
    pub fn on_duty(&self, grid: &str, community: &str, now_s: i64) -> (Option<&Value>, DutyMode) {
        let duty = self.roster.on_duty(grid, community, now_s);
        (
            duty.worker.and_then(|id| self.worker_by_id.get(id)),
            duty.mode,
        )
    }

    /// The items of one kind.
    pub fn list(&self, kind: RefKind) -> &[RefItem] {
        self.items.get(&kind).map(Vec::as_slice).unwrap_or_default()
    }
}
