//! Drives the demo district's sample history (`cases-sample.json`: a year of reports and how
//! the people handling them behave) through the case engine, so the read side and the
//! statistics have a year of real cases from the first start.
//!
//! Nothing about a case's outcome comes from the file: every report is submitted through the
//! same intake as `POST /api/v1/cases` (located and routed to its grid's worker on duty or its
//! category's department, gathered into a mass incident by the incident rule), and every step
//! goes through the same action code as `POST /api/v1/cases/{id}/actions`, with the engine's
//! deadlines on the working calendar. The file gives only the reports and each step's pace: a
//! share of the time the engine allows from the previous step to that stage's deadline (above
//! 1 is late). The engine's clock ([`crate::http::Clock`]) is set to each step's time, in time
//! order over all cases, and the escalation ticker runs every hour of the year in between, so
//! overdue stages are escalated as they would have been. A mass incident the engine forms is
//! handled at the district level as its sample entry says (the plan announced as the reply and
//! resolution, then the follow-up visit); its reports follow it. Steps that would fall after
//! the sample's window are not taken: those cases are still open.

use crate::cases::calendar::{Date, shanghai_unix};
use crate::cases::lifecycle::{Action, CaseState};
use crate::cases::sla::Urgency;
use crate::demo::history::Pace;
use crate::http::cases::{NewCaseRequest, apply, deadlines_of, submit};
use crate::http::{ApiError, AppState};
use crate::spatial::crs::Crs;
use serde::Deserialize;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

/// Seconds between two runs of the escalation ticker while the history is driven.
const TICK_S: i64 = 3_600;

#[derive(Debug, Clone, Deserialize)]
struct Sample {
    window: Window,
    reports: Vec<Report>,
    #[serde(default)]
    incidents: Vec<Incident>,
}

#[derive(Debug, Clone, Deserialize)]
struct Window {
    to: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Report {
    id: String,
    incident_id: Option<String>,
    channel: String,
    category: String,
    urgency: Urgency,
    reported_at: String,
    location: [f64; 2],
    description: String,
    #[serde(default)]
    external_ticket: Option<String>,
    pace: Pace,
}

#[derive(Debug, Clone, Deserialize)]
struct Incident {
    id: String,
    plan_announced_at: String,
    summary: String,
}

/// Unix seconds of a sample time `2025-11-03T18:37:29+08:00`.
fn at(t: &str) -> Option<i64> {
    let n = |a: usize, b: usize| t.get(a..b)?.parse::<i64>().ok();
    if !t.ends_with("+08:00") || t.len() != 25 {
        return None;
    }
    Date::new(n(0, 4)? as i32, n(5, 7)? as u32, n(8, 10)? as u32)?;
    Some(
        shanghai_unix(
            n(0, 4)? as i32,
            n(5, 7)? as u32,
            n(8, 10)? as u32,
            n(11, 13)?,
            n(14, 16)?,
        ) + n(17, 19)?,
    )
}

/// What a scheduled step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// Submit report `r`.
    Submit,
    Triage,
    Dispatch,
    OnSite,
    Reply,
    Resolve,
    /// The follow-up visit: the rating taken, then the visit recorded (and the case closed
    /// when the citizen is satisfied).
    Visit,
    /// The parent of a mass incident: triaged, dispatched and on site at once.
    IncidentStart,
    IncidentPlan,
    IncidentVisit,
}

/// A step of report `report` (an index) on case `case` (0 before it exists) at `t`.
type Scheduled = Reverse<(i64, u64, Step, usize, i64)>;

/// What driving the history did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Driven {
    /// Reports submitted.
    pub reports: usize,
    /// Mass incidents the engine formed.
    pub incidents: usize,
    /// Actions applied (escalations included).
    pub actions: usize,
}

struct Driver<'a> {
    state: &'a AppState,
    sample: &'a Sample,
    queue: BinaryHeap<Scheduled>,
    seq: u64,
    /// Incident parents handled, by case id.
    parents: HashSet<i64>,
    /// Whether report `i` is in its redo round.
    redo: Vec<bool>,
    end: i64,
    driven: Driven,
}

impl Driver<'_> {
    fn schedule(&mut self, t: i64, step: Step, report: usize, case: i64) {
        if t <= self.end {
            self.seq += 1;
            self.queue.push(Reverse((t, self.seq, step, report, case)));
        }
    }

    /// When a step at `share` of the time to `due` after `from` comes (at least a minute on).
    fn when(from: i64, due: Option<i64>, share: f64) -> i64 {
        let room = match due {
            Some(d) if d > from => d - from,
            _ => 3_600,
        };
        from + ((room as f64 * share) as i64).max(60)
    }

    async fn act(
        &mut self,
        case: i64,
        actor: &str,
        action: Action,
    ) -> Result<Option<crate::store::cases::StoredCase>, ApiError> {
        let Some(c) = self.state.0.store.case(case).await? else {
            return Ok(None);
        };
        let version = c.facts.version;
        match apply(self.state, c, version, actor, action).await {
            Ok(c) => {
                self.driven.actions += 1;
                Ok(Some(c))
            }
            // Merged into an incident, or escalated meanwhile: it follows its own course.
            Err(e) if e.code == "illegal_transition" => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn run(&mut self, t: i64, step: Step, r: usize, case: i64) -> Result<(), ApiError> {
        let sample = self.sample;
        let report = &sample.reports[r];
        let pace = &report.pace;
        let redo = self.redo[r];
        match step {
            Step::Submit => {
                let req = NewCaseRequest {
                    channel: serde_json::from_value(serde_json::json!(report.channel)).map_err(
                        |e| {
                            ApiError::internal(&format!(
                                "sample {}: channel {:?}: {e}",
                                report.id, report.channel
                            ))
                        },
                    )?,
                    category: report.category.clone(),
                    description: report.description.clone(),
                    lon: Some(report.location[0]),
                    lat: Some(report.location[1]),
                    crs: Crs::Wgs84,
                    address: None,
                    external_ticket: report.external_ticket.clone(),
                    operator: (report.channel == "hotline").then(|| "12345 话务员".to_string()),
                    reporter: (report.channel == "patrol").then(|| "网格员".to_string()),
                    contact: None,
                    media_url: None,
                };
                let (c, created) =
                    submit(self.state, Some(format!("sample:{}", report.id)), req, None).await?;
                if !created {
                    return Ok(());
                }
                self.driven.reports += 1;
                match c.facts.merged_into {
                    Some(parent) => self.incident_formed(t, parent, r).await?,
                    None => {
                        let d = deadlines_of(self.state, &c.facts);
                        let next = Self::when(t, d.triage_by, pace.triage);
                        self.schedule(next, Step::Triage, r, c.id);
                    }
                }
            }
            Step::Triage => {
                let action = Action::Triage {
                    urgency: report.urgency,
                    category: None,
                };
                if self.act(case, "dispatcher", action).await?.is_some() {
                    self.schedule(t + pace.dispatch_min * 60, Step::Dispatch, r, case);
                }
            }
            Step::Dispatch => {
                let action = Action::Dispatch { assignee: None };
                if let Some(c) = self.act(case, "dispatcher", action).await? {
                    let d = deadlines_of(self.state, &c.facts);
                    self.schedule(
                        Self::when(t, d.on_site_by, pace.on_site),
                        Step::OnSite,
                        r,
                        case,
                    );
                }
            }
            Step::OnSite => {
                let share = match (&pace.redo, redo) {
                    (Some(x), true) => x.resolve,
                    _ => pace.reply,
                };
                if let Some(c) = self
                    .act(case, "handler", Action::Accept { position: None })
                    .await?
                {
                    let d = deadlines_of(self.state, &c.facts);
                    if redo {
                        self.schedule(Self::when(t, d.resolve_by, share), Step::Resolve, r, case);
                    } else {
                        self.schedule(Self::when(t, d.reply_by, share), Step::Reply, r, case);
                    }
                }
            }
            Step::Reply => {
                let action = Action::Reply {
                    text: "已联系市民，说明处理安排。".into(),
                };
                if let (Some(c), Some(share)) =
                    (self.act(case, "handler", action).await?, pace.resolve)
                {
                    let d = deadlines_of(self.state, &c.facts);
                    self.schedule(Self::when(t, d.resolve_by, share), Step::Resolve, r, case);
                }
            }
            Step::Resolve => {
                let action = Action::Resolve {
                    note: if redo {
                        "重办完成。".into()
                    } else {
                        "已办结。".into()
                    },
                };
                if let Some(c) = self.act(case, "handler", action).await? {
                    let share = match (&pace.redo, redo) {
                        (Some(x), true) => x.follow_up,
                        _ => pace.follow_up,
                    };
                    let d = deadlines_of(self.state, &c.facts);
                    self.schedule(Self::when(t, d.follow_up_by, share), Step::Visit, r, case);
                }
            }
            Step::Visit => {
                let rating = match (&pace.redo, redo) {
                    (Some(x), true) => x.rating,
                    _ => pace.rating,
                };
                let action = Action::Rate {
                    satisfaction: rating,
                    comment: None,
                };
                let Some(c) = self.act(case, "citizen", action).await? else {
                    return Ok(());
                };
                if c.facts.state == CaseState::Dispatched {
                    // Unsatisfied: redone by the same owner.
                    self.redo[r] = true;
                    let share = pace.redo.as_ref().map_or(0.5, |x| x.on_site);
                    let d = deadlines_of(self.state, &c.facts);
                    self.schedule(Self::when(t, d.on_site_by, share), Step::OnSite, r, case);
                    return Ok(());
                }
                let visit = Action::FollowUp {
                    note: "回访：市民对办理结果表示认可。".into(),
                };
                if self.act(case, "visitor", visit).await?.is_some() {
                    self.act(case, "visitor", Action::Close).await?;
                }
            }
            Step::IncidentStart => {
                let triage = Action::Triage {
                    urgency: Urgency::Red,
                    category: None,
                };
                if self.act(case, "dispatcher", triage).await?.is_some() {
                    let dispatch = Action::Dispatch { assignee: None };
                    if self.act(case, "dispatcher", dispatch).await?.is_some() {
                        self.act(case, "handler", Action::Accept { position: None })
                            .await?;
                    }
                }
            }
            Step::IncidentPlan => {
                let Some(summary) = self.incident_of(r).map(|i| i.summary.clone()) else {
                    return Ok(());
                };
                let reply = Action::Reply {
                    text: summary.clone(),
                };
                self.act(case, "handler", reply).await?;
                let resolve = Action::Resolve { note: summary };
                if let Some(c) = self.act(case, "handler", resolve).await? {
                    let d = deadlines_of(self.state, &c.facts);
                    self.schedule(
                        Self::when(t, d.follow_up_by, 0.6),
                        Step::IncidentVisit,
                        r,
                        case,
                    );
                }
            }
            Step::IncidentVisit => {
                let visit = Action::FollowUp {
                    note: "回访：业主代表确认交付计划已按期推进。".into(),
                };
                if self.act(case, "visitor", visit).await?.is_some() {
                    self.act(case, "visitor", Action::Close).await?;
                }
            }
        }
        Ok(())
    }

    fn incident_of(&self, r: usize) -> Option<&Incident> {
        let id = self.sample.reports[r].incident_id.as_deref()?;
        self.sample.incidents.iter().find(|i| i.id == id)
    }

    /// Report `r` went into incident `parent` at `t`: a new parent is handled from now on.
    async fn incident_formed(&mut self, t: i64, parent: i64, r: usize) -> Result<(), ApiError> {
        if !self.parents.insert(parent) {
            return Ok(());
        }
        self.driven.incidents += 1;
        self.schedule(t + 15 * 60, Step::IncidentStart, r, parent);
        let plan = self
            .incident_of(r)
            .and_then(|i| at(&i.plan_announced_at))
            .filter(|&p| p > t + 3_600)
            .unwrap_or(t + 3 * 86_400);
        self.schedule(plan, Step::IncidentPlan, r, parent);
        Ok(())
    }
}

/// Drives every report of `sample` (the parsed `cases-sample.json`) through the case engine of
/// `state`, as described in the module docs, then gives the engine back the system clock.
/// Reports already submitted (their idempotency key `sample:ID` is known) are skipped.
///
/// Errors: a sample that does not parse (naming the field), or the engine's own errors.
pub async fn drive_history(
    state: &AppState,
    sample: &serde_json::Value,
) -> Result<Driven, ApiError> {
    let sample: Sample = serde_json::from_value(sample.clone())
        .map_err(|e| ApiError::internal(&format!("cases-sample.json: {e}")))?;
    let end = Date::parse(&sample.window.to)
        .map(|d| shanghai_unix(d.year, d.month, d.day, 0, 0) + 86_400 - 1)
        .ok_or_else(|| {
            ApiError::internal(&format!(
                "cases-sample.json: window.to {:?} is not a date",
                sample.window.to
            ))
        })?;
    let mut driver = Driver {
        state,
        sample: &sample,
        queue: BinaryHeap::new(),
        seq: 0,
        parents: HashSet::new(),
        redo: vec![false; sample.reports.len()],
        end,
        driven: Driven::default(),
    };
    for (i, r) in sample.reports.iter().enumerate() {
        let t = at(&r.reported_at).ok_or_else(|| {
            ApiError::internal(&format!(
                "cases-sample.json: report {}: reported_at {:?} is not a local time",
                r.id, r.reported_at
            ))
        })?;
        driver.schedule(t, Step::Submit, i, 0);
    }
    let result = async {
        let mut tick = driver
            .queue
            .peek()
            .map(|Reverse((t, ..))| t - t.rem_euclid(TICK_S) + TICK_S)
            .unwrap_or(end);
        while let Some(Reverse((t, _, step, r, case))) = driver.queue.pop() {
            while tick <= t {
                state.0.clock.set(tick);
                driver.driven.actions += crate::http::escalate_overdue(state, tick).await?;
                tick += TICK_S;
            }
            state.0.clock.set(t);
            driver.run(t, step, r, case).await?;
        }
        Ok::<(), ApiError>(())
    }
    .await;
    state.0.clock.release();
    result?;
    Ok(driver.driven)
}
