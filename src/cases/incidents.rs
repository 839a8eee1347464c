//! Mass incidents (群体性诉求): many reports about one thing — e.g. 200 complaints that one
//! housing estate was not delivered — become one incident handled at a higher level. Reports of
//! one category within R metres and T hours form an incident once there are N of them.

use crate::spatial::measure::LocalMetric;
use geo_types::Coord;
use serde::Deserialize;

/// When reports form an incident.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentRule {
    /// At least this many reports…
    pub min_reports: usize,
    /// …of one category within this distance of the newest (metres)…
    pub radius_m: f64,
    /// …and this many hours.
    pub window_h: f64,
}

impl Default for IncidentRule {
    /// 10 reports within 300 m in 48 hours.
    fn default() -> IncidentRule {
        IncidentRule {
            min_reports: 10,
            radius_m: 300.0,
            window_h: 48.0,
        }
    }
}

/// A recent report as clustering sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Case id.
    pub id: i64,
    /// WGS84 pin.
    pub pin: Coord<f64>,
    /// Submitted at (Unix seconds).
    pub at: i64,
    /// Category code.
    pub category: String,
    /// The incident it already belongs to (its parent case), if any.
    pub incident: Option<i64>,
}

/// What to do with a new report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clustering {
    /// Not (yet) part of an incident.
    Alone,
    /// Join the existing incident `parent`.
    Join {
        /// The incident's parent case.
        parent: i64,
    },
    /// Form a new incident of these reports (the new one included), oldest first.
    Form {
        /// The reports.
        members: Vec<i64>,
    },
}

/// Decides whether `new` joins or forms an incident with `recent` reports (any order; reports
/// of other categories, or outside the window or radius, are ignored).
pub fn cluster(new: &Report, recent: &[Report], rule: &IncidentRule) -> Clustering {
    let lm = LocalMetric::new(new.pin.x, new.pin.y);
    let window_s = (rule.window_h * 3600.0) as i64;
    let mut near: Vec<&Report> = recent
        .iter()
        .filter(|r| r.id != new.id && r.category == new.category)
        .filter(|r| (new.at - r.at).abs() <= window_s)
        .filter(|r| lm.distance_m(new.pin, r.pin) <= rule.radius_m)
        .collect();
    if let Some(parent) = near.iter().filter_map(|r| r.incident).min() {
        return Clustering::Join { parent };
    }
    if near.len() + 1 < rule.min_reports {
        return Clustering::Alone;
    }
    near.sort_by_key(|r| (r.at, r.id));
    let mut members: Vec<i64> = near.iter().map(|r| r.id).collect();
    members.push(new.id);
    Clustering::Form { members }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: i64, dx_m: f64, dt_h: f64, category: &str) -> Report {
        let lm = LocalMetric::new(118.05, 36.8);
        Report {
            id,
            pin: lm.to_lonlat(Coord { x: dx_m, y: 0.0 }),
            at: 1_000_000 + (dt_h * 3600.0) as i64,
            category: category.into(),
            incident: None,
        }
    }

    #[test]
    fn ten_within_300_m_and_48_h_form_one() {
        let rule = IncidentRule::default();
        let recent: Vec<Report> = (1..=8)
            .map(|i| report(i, 20.0 * i as f64, -(i as f64), "C07"))
            .collect();
        let mut others = recent.clone();
        others.push(report(100, 50.0, -1.0, "C01")); // another category
        others.push(report(101, 900.0, -1.0, "C07")); // too far
        others.push(report(102, 10.0, -60.0, "C07")); // too old
        // Nine in all: not yet.
        assert_eq!(
            cluster(&report(9, 0.0, 0.0, "C07"), &others, &rule),
            Clustering::Alone
        );
        others.push(report(9, 0.0, 0.0, "C07"));
        // The tenth forms it, oldest first.
        let formed = cluster(&report(10, 5.0, 0.1, "C07"), &others, &rule);
        assert_eq!(
            formed,
            Clustering::Form {
                members: vec![8, 7, 6, 5, 4, 3, 2, 1, 9, 10]
            }
        );
        // Once formed, a later report nearby joins it.
        let mut with_parent = others.clone();
        with_parent[0].incident = Some(500);
        assert_eq!(
            cluster(&report(11, 30.0, 1.0, "C07"), &with_parent, &rule),
            Clustering::Join { parent: 500 }
        );
    }
}
