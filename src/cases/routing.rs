//! Who owns a new case, and why. Every decision carries its reason, stored with the case.
//!
//! - A pin in a published grid goes to that grid. The category decides the level: grid-level
//!   matters stay with the grid's worker on duty (小事一网解决); department-level ones go to the
//!   category's department, with the grid's worker informed (大事多级联动).
//! - A pin outside every grid but within the snapping distance of one goes to that grid.
//! - A pin farther out, or an address with no pin, goes to the district queue, where a
//!   dispatcher places it (属地兜底: someone always owns it).

use crate::cases::duty::DutyMode;
use crate::cases::lifecycle::{Assignee, Level};
use serde::Serialize;

/// Where a report's pin fell.
#[derive(Debug, Clone, PartialEq)]
pub enum Located {
    /// Inside grid `grid`.
    InGrid {
        /// Grid code.
        grid: String,
    },
    /// Outside every grid, `distance_m` from grid `grid` (within the snapping distance).
    Snapped {
        /// Grid code.
        grid: String,
        /// Distance to it, metres.
        distance_m: f64,
    },
    /// Outside every grid and farther than the snapping distance from all of them.
    Outside {
        /// The snapping distance used, metres.
        snap_m: f64,
    },
    /// The report has an address but no pin.
    NoPin,
}

/// Who handles a category by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handler {
    /// The grid worker.
    Grid,
    /// A department, by code and name.
    Department {
        /// Code.
        code: String,
        /// Name.
        name: String,
    },
}

/// The routing decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    /// The grid the case belongs to, if any.
    pub grid: Option<String>,
    /// Who owns it.
    pub assignee: Assignee,
    /// Who is informed (the grid worker of a department-level case).
    pub informed: Option<Assignee>,
    /// The level it is handled at.
    pub level: Level,
    /// Why, in words.
    pub reason: String,
}

/// Routes a report of category `category` (handled by `handler`) located as `located`;
/// `on_duty` is the worker answering for the grid now and whether that is their office time.
pub fn route(
    located: &Located,
    category: &str,
    handler: &Handler,
    on_duty: Option<(Assignee, DutyMode)>,
) -> Route {
    let (grid, place) = match located {
        Located::InGrid { grid } => (grid.clone(), format!("pin in grid {grid}")),
        Located::Snapped { grid, distance_m } => (
            grid.clone(),
            format!(
                "pin outside coverage, {distance_m:.0} m from grid {grid} (within the snapping distance)"
            ),
        ),
        Located::Outside { snap_m } => {
            return Route {
                grid: None,
                assignee: Assignee::DistrictQueue,
                informed: None,
                level: Level::District,
                reason: format!(
                    "pin outside coverage and farther than {snap_m:.0} m from every grid: the district queue places it"
                ),
            };
        }
        Located::NoPin => {
            return Route {
                grid: None,
                assignee: Assignee::DistrictQueue,
                informed: None,
                level: Level::District,
                reason: "address without a pin: the district queue places it".into(),
            };
        }
    };
    let worker = on_duty.map(|(w, mode)| {
        let who = match mode {
            DutyMode::Office => "the grid's worker (office hours)",
            DutyMode::OnCall => "the community's on-call worker",
        };
        (w, who)
    });
    match handler {
        Handler::Grid => match worker {
            Some((w, who)) => Route {
                grid: Some(grid),
                assignee: w,
                informed: None,
                level: Level::Grid,
                reason: format!("{place}; grid-level category {category} (小事一网解决) → {who}"),
            },
            None => Route {
                grid: Some(grid.clone()),
                assignee: Assignee::DistrictQueue,
                informed: None,
                level: Level::District,
                reason: format!(
                    "{place}; grid-level category {category}, but grid {grid} has no worker on duty: the district queue places it"
                ),
            },
        },
        Handler::Department { code, name } => Route {
            grid: Some(grid),
            assignee: Assignee::Department {
                code: code.clone(),
                name: name.clone(),
            },
            informed: worker.as_ref().map(|(w, _)| w.clone()),
            level: Level::District,
            reason: format!(
                "{place}; department-level category {category} (大事多级联动) → {code} {name}{}",
                match &worker {
                    Some((_, who)) => format!(", {who} informed"),
                    None => String::new(),
                }
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w() -> Option<(Assignee, DutyMode)> {
        Some((
            Assignee::Worker {
                id: "W1".into(),
                name: "甲".into(),
            },
            DutyMode::Office,
        ))
    }

    #[test]
    fn grid_matters_stay_department_matters_go_and_the_rest_queue() {
        let in_grid = Located::InGrid { grid: "G1".into() };
        let r = route(&in_grid, "C01", &Handler::Grid, w());
        assert_eq!(r.assignee, w().unwrap().0);
        assert_eq!((r.level, r.grid.as_deref()), (Level::Grid, Some("G1")));
        assert!(r.reason.contains("grid-level category C01") && r.reason.contains("office hours"));
        let dept = Handler::Department {
            code: "D19".into(),
            name: "住建局".into(),
        };
        let r = route(&in_grid, "C15", &dept, w());
        assert!(matches!(&r.assignee, Assignee::Department { code, .. } if code == "D19"));
        assert_eq!(r.informed, Some(w().unwrap().0));
        let r = route(
            &Located::Snapped {
                grid: "G2".into(),
                distance_m: 37.4,
            },
            "C01",
            &Handler::Grid,
            w(),
        );
        assert!(r.reason.contains("37 m from grid G2"), "{}", r.reason);
        for l in [Located::Outside { snap_m: 100.0 }, Located::NoPin] {
            let r = route(&l, "C01", &Handler::Grid, w());
            assert_eq!((r.assignee, r.grid), (Assignee::DistrictQueue, None));
        }
        let r = route(&in_grid, "C01", &Handler::Grid, None);
        assert_eq!(r.assignee, Assignee::DistrictQueue);
        assert!(r.reason.contains("no worker on duty"));
    }
}
