//! Figures for the dashboard, computed from the cases themselves: totals, by state, month and
//! category, the departments' ranking (cases, satisfaction rate, mean handling time), SLA
//! compliance per stage and the month-by-month trend. Pure: the caller passes the cases with their deadlines.

use crate::cases::calendar::shanghai_local;
use crate::cases::lifecycle::{Assignee, CaseFacts, Satisfaction};
use crate::cases::sla::Deadlines;
use serde::Serialize;
use std::collections::BTreeMap;

/// One case as the statistics see it.
#[derive(Debug, Clone, Copy)]
pub struct StatCase<'a> {
    /// Its facts.
    pub facts: &'a CaseFacts,
    /// Its current deadlines.
    pub deadlines: &'a Deadlines,
}

/// A department's line in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DepartmentRank {
    /// Department code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Cases it owns.
    pub cases: usize,
    /// Rated satisfied or basically satisfied, over rated cases (null when none rated).
    pub satisfaction_rate: Option<f64>,
    /// Mean hours from submission to resolution of its resolved cases (null when none).
    pub mean_handling_hours: Option<f64>,
}

/// Compliance with one stage's deadline.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StageCompliance {
    /// `triage`, `on_site`, `reply`, `resolve` or `follow_up`.
    pub stage: &'static str,
    /// Cases whose stage was reached or is past due.
    pub judged: usize,
    /// Of those, reached by the deadline.
    pub met: usize,
    /// `met / judged` (null when nothing was judged).
    pub rate: Option<f64>,
}

/// One month of the trend: volume and the two rates a 12345 dashboard follows month by month.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthTrend {
    /// `YYYY-MM` of submission (Asia/Shanghai).
    pub month: String,
    /// Cases submitted that month.
    pub cases: usize,
    /// Of those whose resolve deadline was reached or is past due, the share resolved by it
    /// (按期办结率; null when none was judged).
    pub resolved_on_time_rate: Option<f64>,
    /// Of those rated, the share satisfied or basically satisfied (null when none rated).
    pub satisfaction_rate: Option<f64>,
}

/// A street's (街道/镇) appeals against its residents.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StreetFigure {
    /// Street code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Appeals in its grids.
    pub cases: usize,
    /// Residents: the sum of its grids' `population`.
    pub population: u64,
    /// Appeals per 10,000 residents (null when no population is known).
    pub per_10k: Option<f64>,
}

/// Appeals per 10,000 residents by street. `by_grid` counts appeals per grid; `grids` gives
/// each published grid as (grid code, street code, population); `names` each street's name.
/// Every street with a grid or a name is listed, in code order.
pub fn per_street<'a>(
    by_grid: &BTreeMap<String, usize>,
    grids: impl IntoIterator<Item = (&'a str, &'a str, u64)>,
    names: &BTreeMap<String, String>,
) -> Vec<StreetFigure> {
    let mut streets: BTreeMap<&str, (usize, u64)> =
        names.keys().map(|k| (k.as_str(), (0, 0))).collect();
    for (grid, street, population) in grids {
        let e = streets.entry(street).or_default();
        e.0 += by_grid.get(grid).copied().unwrap_or(0);
        e.1 += population;
    }
    streets
        .into_iter()
        .map(|(code, (cases, population))| StreetFigure {
            code: code.to_string(),
            name: names.get(code).cloned().unwrap_or_else(|| code.to_string()),
            cases,
            population,
            per_10k: (population > 0).then(|| cases as f64 * 10_000.0 / population as f64),
        })
        .collect()
}

/// The dashboard's figures.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Stats {
    /// Number of cases.
    pub total: usize,
    /// Cases per state.
    pub by_state: BTreeMap<String, usize>,
    /// Cases per month of submission (`YYYY-MM`, Asia/Shanghai).
    pub by_month: BTreeMap<String, usize>,
    /// Cases per category code.
    pub by_category: BTreeMap<String, usize>,
    /// Cases per month and category code (`YYYY-MM` → code → cases).
    pub by_month_category: BTreeMap<String, BTreeMap<String, usize>>,
    /// Cases per grid code (cases with no grid are left out): the heat map's weights.
    pub by_grid: BTreeMap<String, usize>,
    /// Appeals per 10,000 residents by street (filled by the service, which knows the grids'
    /// streets and population; empty from [`stats`] alone).
    pub streets: Vec<StreetFigure>,
    /// Departments by number of cases (most first).
    pub departments: Vec<DepartmentRank>,
    /// SLA compliance per stage.
    pub sla: Vec<StageCompliance>,
    /// Rated satisfied or basically satisfied, over all rated cases.
    pub satisfaction_rate: Option<f64>,
    /// Cases redone at least once.
    pub redone: usize,
    /// Month by month, oldest first: volume, resolved-on-time rate and satisfaction rate.
    pub trend: Vec<MonthTrend>,
}

fn rate(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Computes the figures of `cases` at `now` (Unix seconds).
pub fn stats(cases: &[StatCase<'_>], now: i64) -> Stats {
    let mut by_state = BTreeMap::new();
    let mut by_month = BTreeMap::new();
    let mut by_category = BTreeMap::new();
    let mut by_month_category: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut by_grid = BTreeMap::new();
    // code → (name, cases, rated, happy, resolved, hours)
    let mut depts: BTreeMap<String, (String, usize, usize, usize, usize, f64)> = BTreeMap::new();
    let (mut rated, mut happy, mut redone) = (0, 0, 0);
    // month → (cases, resolve judged, resolve met, rated, happy)
    let mut months: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    let mut stages = [
        ("triage", 0usize, 0usize),
        ("on_site", 0, 0),
        ("reply", 0, 0),
        ("resolve", 0, 0),
        ("follow_up", 0, 0),
    ];
    for c in cases {
        let f = c.facts;
        *by_state.entry(f.state.as_str().to_string()).or_default() += 1;
        let (d, _) = shanghai_local(f.submitted_at);
        let month = format!("{:04}-{:02}", d.year, d.month);
        *by_month_category
            .entry(month.clone())
            .or_default()
            .entry(f.category.clone())
            .or_default() += 1;
        *by_month.entry(month.clone()).or_default() += 1;
        let m = months.entry(month).or_default();
        m[0] += 1;
        *by_category.entry(f.category.clone()).or_default() += 1;
        if let Some(g) = &f.grid {
            *by_grid.entry(g.clone()).or_default() += 1;
        }
        let good = f.satisfaction.map(|s| s != Satisfaction::Unsatisfied);
        if let Some(g) = good {
            rated += 1;
            happy += usize::from(g);
            m[3] += 1;
            m[4] += usize::from(g);
        }
        redone += usize::from(f.redo_count > 0);
        if let Assignee::Department { code, name } = &f.assignee {
            let e = depts
                .entry(code.clone())
                .or_insert_with(|| (name.clone(), 0, 0, 0, 0, 0.0));
            e.1 += 1;
            if let Some(g) = good {
                e.2 += 1;
                e.3 += usize::from(g);
            }
            if let Some(r) = f.resolved_at {
                e.4 += 1;
                e.5 += (r - f.submitted_at) as f64 / 3600.0;
            }
        }
        let reached = [
            f.triaged_at,
            f.accepted_at,
            f.replied_at,
            f.resolved_at,
            f.followed_up_at,
        ];
        let due = [
            c.deadlines.triage_by,
            c.deadlines.on_site_by,
            c.deadlines.reply_by,
            c.deadlines.resolve_by,
            c.deadlines.follow_up_by,
        ];
        for (k, (at, by)) in reached.iter().zip(due).enumerate() {
            let Some(by) = by else { continue };
            match at {
                Some(t) => {
                    stages[k].1 += 1;
                    stages[k].2 += usize::from(*t <= by);
                }
                None if now > by && !f.state.is_terminal() => stages[k].1 += 1,
                None => continue,
            }
            if stages[k].0 == "resolve" {
                m[1] += 1;
                m[2] += usize::from(at.is_some_and(|t| t <= by));
            }
        }
    }
    let mut departments: Vec<DepartmentRank> = depts
        .into_iter()
        .map(|(code, (name, n, r, h, res, hours))| DepartmentRank {
            code,
            name,
            cases: n,
            satisfaction_rate: rate(h, r),
            mean_handling_hours: (res > 0).then(|| hours / res as f64),
        })
        .collect();
    departments.sort_by(|a, b| b.cases.cmp(&a.cases).then(a.code.cmp(&b.code)));
    Stats {
        total: cases.len(),
        by_state,
        by_month,
        by_category,
        by_month_category,
        by_grid,
        streets: Vec::new(),
        departments,
        sla: stages
            .iter()
            .map(|&(stage, judged, met)| StageCompliance {
                stage,
                judged,
                met,
                rate: rate(met, judged),
            })
            .collect(),
        satisfaction_rate: rate(happy, rated),
        redone,
        trend: months
            .into_iter()
            .map(|(month, [n, judged, met, r, h])| MonthTrend {
                month,
                cases: n,
                resolved_on_time_rate: rate(met, judged),
                satisfaction_rate: rate(h, r),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::lifecycle::Action;
    use crate::cases::sla::Urgency;

    #[test]
    fn counts_rates_and_compliance() {
        let d19 = Assignee::Department {
            code: "D19".into(),
            name: "住建局".into(),
        };
        let mut a = CaseFacts::submitted(1_000_000, "C15", Urgency::Yellow, d19.clone());
        for (act, t) in [
            (
                Action::Triage {
                    urgency: Urgency::Yellow,
                    category: None,
                },
                1_000_100,
            ),
            (Action::Dispatch { assignee: None }, 1_000_200),
            (Action::Accept { position: None }, 1_000_300),
            (Action::Resolve { note: "ok".into() }, 1_000_000 + 7200),
            (
                Action::Rate {
                    satisfaction: Satisfaction::Satisfied,
                    comment: None,
                },
                1_010_000,
            ),
        ] {
            a.apply(&act, t).unwrap();
        }
        let b = CaseFacts::submitted(1_000_000, "C01", Urgency::Green, Assignee::DistrictQueue);
        let due = Deadlines {
            triage_by: Some(1_000_050),
            on_site_by: Some(1_002_000),
            ..Default::default()
        };
        let cases = [
            StatCase {
                facts: &a,
                deadlines: &due,
            },
            StatCase {
                facts: &b,
                deadlines: &due,
            },
        ];
        let s = stats(&cases, 1_100_000);
        assert_eq!(s.total, 2);
        assert_eq!(s.by_state["rated"], 1);
        assert_eq!(s.by_category["C01"], 1);
        assert_eq!(s.departments.len(), 1);
        assert_eq!(s.departments[0].satisfaction_rate, Some(1.0));
        assert_eq!(s.departments[0].mean_handling_hours, Some(2.0));
        // Triage: a was late (100 s > 50 s), b is overdue and open: 0 of 2 met.
        assert_eq!((s.sla[0].judged, s.sla[0].met), (2, 0));
        // On site: a met it, b never dispatched but the deadline passed: judged, missed.
        assert_eq!((s.sla[1].judged, s.sla[1].met), (2, 1));
        assert_eq!(s.satisfaction_rate, Some(1.0));
    }

    #[test]
    fn the_trend_follows_volume_on_time_resolution_and_satisfaction_by_month() {
        // 2026-01-10 and 2026-02-10, 10:00 Beijing time.
        let (jan, feb) = (1_768_010_400, 1_770_688_800);
        let resolve_in = |f: &mut CaseFacts, at: i64| {
            for act in [
                Action::Triage {
                    urgency: Urgency::Green,
                    category: None,
                },
                Action::Dispatch { assignee: None },
                Action::Accept { position: None },
                Action::Resolve { note: "ok".into() },
            ] {
                f.apply(&act, at).unwrap();
            }
        };
        let mut on_time = CaseFacts::submitted(jan, "C01", Urgency::Green, Assignee::DistrictQueue);
        resolve_in(&mut on_time, jan + 3_600);
        let mut late = CaseFacts::submitted(jan, "C01", Urgency::Green, Assignee::DistrictQueue);
        resolve_in(&mut late, jan + 90_000);
        let open = CaseFacts::submitted(jan, "C01", Urgency::Green, Assignee::DistrictQueue);
        let mut unhappy = CaseFacts::submitted(feb, "C02", Urgency::Green, Assignee::DistrictQueue);
        resolve_in(&mut unhappy, feb + 60);
        unhappy
            .apply(
                &Action::Rate {
                    satisfaction: Satisfaction::Unsatisfied,
                    comment: None,
                },
                feb + 120,
            )
            .unwrap();
        let due = |t: i64| Deadlines {
            resolve_by: Some(t + 86_400),
            ..Default::default()
        };
        let (d_jan, d_feb) = (due(jan), due(feb));
        let cases = [
            (&on_time, &d_jan),
            (&late, &d_jan),
            (&open, &d_jan),
            (&unhappy, &d_feb),
        ]
        .map(|(facts, deadlines)| StatCase { facts, deadlines });
        let s = stats(&cases, feb + 1_000);
        let months: Vec<&str> = s.trend.iter().map(|m| m.month.as_str()).collect();
        assert_eq!(months, ["2026-01", "2026-02"]);
        assert_eq!(s.trend[0].cases, 3);
        // One on time, one late, one open past its deadline: 1 of 3.
        assert_eq!(s.trend[0].resolved_on_time_rate, Some(1.0 / 3.0));
        assert_eq!(s.trend[0].satisfaction_rate, None);
        // February's case was redone (a new round): its resolve deadline is not past yet.
        assert_eq!(s.trend[1].cases, 1);
        assert_eq!(s.trend[1].resolved_on_time_rate, None);
        assert_eq!(s.trend[1].satisfaction_rate, Some(0.0));
    }

    #[test]
    fn months_by_category_grids_and_streets() {
        let mut a = CaseFacts::submitted(1_000_000, "C01", Urgency::Green, Assignee::DistrictQueue);
        a.grid = Some("G1".into());
        let mut b = a.clone();
        b.category = "C02".into();
        b.grid = Some("G2".into());
        let due = Deadlines::default();
        let rows = [&a, &a, &b].map(|f| StatCase {
            facts: f,
            deadlines: &due,
        });
        let s = stats(&rows, 1_000_000);
        // 1,000,000 s after the epoch is 1970-01-12 in Asia/Shanghai.
        assert_eq!(s.by_month_category["1970-01"]["C01"], 2);
        assert_eq!(s.by_month_category["1970-01"]["C02"], 1);
        assert_eq!(s.by_grid["G1"], 2);
        let names = BTreeMap::from([
            ("S1".to_string(), "一街".to_string()),
            ("S9".to_string(), "九街".to_string()),
        ]);
        let grids = [("G1", "S1", 15_000), ("G2", "S1", 5_000), ("G3", "S2", 0)];
        let streets = per_street(&s.by_grid, grids, &names);
        assert_eq!(streets.len(), 3);
        assert_eq!((streets[0].cases, streets[0].population), (3, 20_000));
        assert_eq!(streets[0].per_10k, Some(1.5));
        assert_eq!((streets[1].code.as_str(), streets[1].per_10k), ("S2", None));
        assert_eq!((streets[2].name.as_str(), streets[2].cases), ("九街", 0));
    }
}
