//! The life of a case (工单) as a state machine over append-only events.
//!
//! A case is submitted, triaged (urgency confirmed, 分流), dispatched (派单) to its owner,
//! accepted on site (到场), replied to, resolved, rated by the citizen, visited again (回访) and
//! closed. Along the way it may be returned to the dispatcher (退单), reassigned, reopened when
//! the citizen is unsatisfied (重办, counted), merged into another case (并单), declared
//! invalid, supervised (督办 notes) or escalated when overdue. Every change is an [`Action`]
//! recorded as an event; the current [`CaseFacts`] are the fold of the events, so replaying
//! them always gives the same state. [`CaseFacts::apply`] refuses an action that the current
//! state does not allow.

use crate::cases::sla::Urgency;
use serde::{Deserialize, Serialize};

/// Where a case is in its life.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Received, waiting for triage.
    Submitted,
    /// Urgency and category confirmed, waiting for dispatch.
    Triaged,
    /// Sent to its owner, who has not yet accepted.
    Dispatched,
    /// The owner is on site / has taken it on (到场).
    Accepted,
    /// The citizen has had a clear reply.
    Replied,
    /// The matter is resolved; waiting for the citizen's rating.
    Resolved,
    /// Rated satisfied or basically satisfied.
    Rated,
    /// The follow-up visit (回访) is done.
    FollowedUp,
    /// Closed.
    Closed,
    /// Sent back to the dispatcher by its owner (退单).
    Returned,
    /// Merged into another case (并单).
    Merged,
    /// Not a case (duplicate, prank, outside the service): closed with a reason.
    Invalid,
}

impl CaseState {
    /// The state's name as written in JSON and stored: `submitted`, `followed_up`, …
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Submitted => "submitted",
            CaseState::Triaged => "triaged",
            CaseState::Dispatched => "dispatched",
            CaseState::Accepted => "accepted",
            CaseState::Replied => "replied",
            CaseState::Resolved => "resolved",
            CaseState::Rated => "rated",
            CaseState::FollowedUp => "followed_up",
            CaseState::Closed => "closed",
            CaseState::Returned => "returned",
            CaseState::Merged => "merged",
            CaseState::Invalid => "invalid",
        }
    }

    /// Every state that is not terminal.
    pub const OPEN: [CaseState; 9] = [
        CaseState::Submitted,
        CaseState::Triaged,
        CaseState::Dispatched,
        CaseState::Accepted,
        CaseState::Replied,
        CaseState::Resolved,
        CaseState::Rated,
        CaseState::FollowedUp,
        CaseState::Returned,
    ];

    /// Resolved and waiting for rating, follow-up or closing.
    pub fn handled(self) -> bool {
        matches!(
            self,
            CaseState::Resolved | CaseState::Rated | CaseState::FollowedUp
        )
    }

    /// No further action is possible.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            CaseState::Closed | CaseState::Merged | CaseState::Invalid
        )
    }

    /// Dispatched and not yet resolved: the owner is working on it.
    pub fn in_hand(self) -> bool {
        matches!(
            self,
            CaseState::Dispatched | CaseState::Accepted | CaseState::Replied
        )
    }
}

/// The citizen's rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// 满意.
    Satisfied,
    /// 基本满意.
    BasicallySatisfied,
    /// 不满意: the case is reopened (redo).
    Unsatisfied,
}

/// Who owns a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Assignee {
    /// A grid worker (or the on-call worker), by id.
    Worker {
        /// Worker id.
        id: String,
        /// Name.
        name: String,
    },
    /// A department, utility or committee, by code.
    Department {
        /// Department code.
        code: String,
        /// Name.
        name: String,
    },
    /// The service center's queue: a dispatcher places it.
    DistrictQueue,
}

impl Assignee {
    /// The owner as one key: the worker's id, the department's code, or `district` for the
    /// service center's queue.
    pub fn key(&self) -> &str {
        match self {
            Assignee::Worker { id, .. } => id,
            Assignee::Department { code, .. } => code,
            Assignee::DistrictQueue => "district",
        }
    }
}

/// The administrative level a case is handled or escalated at.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The grid (网格).
    Grid,
    /// The community (社区/村).
    Community,
    /// The street or town (街道/镇).
    Street,
    /// The district (区).
    District,
}

/// Something done to a case. Serialized with its name in `action`:
/// `{"action": "triage", "urgency": "red"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Confirm urgency (and optionally correct the category).
    Triage {
        /// Red, yellow or green.
        urgency: Urgency,
        /// A corrected category code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<String>,
    },
    /// Send to the owner (absent: the routed owner).
    Dispatch {
        /// The owner.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignee: Option<Assignee>,
    },
    /// On site / taken on (到场): the handler checks in, with where they stood when the device
    /// could tell.
    Accept {
        /// `[lon, lat]` (WGS 84, degrees) of the check-in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        position: Option<[f64; 2]>,
    },
    /// A clear reply to the citizen.
    Reply {
        /// What the citizen was told.
        text: String,
    },
    /// The matter is resolved.
    Resolve {
        /// How.
        note: String,
    },
    /// The citizen's rating; unsatisfied reopens the case to the same owner.
    Rate {
        /// The rating.
        satisfaction: Satisfaction,
        /// The citizen's words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// The follow-up visit (回访).
    FollowUp {
        /// What was found.
        note: String,
    },
    /// Close after the follow-up visit.
    Close,
    /// Send back to the dispatcher (退单).
    Return {
        /// Why.
        reason: String,
    },
    /// Give to another owner.
    Reassign {
        /// The new owner.
        assignee: Assignee,
        /// Why.
        reason: String,
    },
    /// Merge into another case (并单).
    Merge {
        /// The case id it joins.
        into: i64,
    },
    /// Not a case.
    Invalidate {
        /// Why.
        reason: String,
    },
    /// A supervisor's note (督办); no change of state.
    Supervise {
        /// The note.
        note: String,
    },
    /// Raised to a higher level because a stage is overdue.
    Escalate {
        /// The new level.
        level: Level,
        /// The overdue stage that caused it (`triage`, `on_site`, `reply`, `resolve`,
        /// `follow_up`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<String>,
    },
    /// A new grid layer moved the case's pin to another grid before dispatch: routed again.
    Reroute {
        /// The new grid (none: outside coverage).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grid: Option<String>,
        /// The new owner.
        assignee: Assignee,
        /// Why.
        reason: String,
    },
    /// A photo or voice note attached (stored by the service; the event names the file).
    Attach {
        /// The stored file: name, sniffed type, size.
        #[schema(value_type = Object)]
        file: serde_json::Value,
    },
    /// Something the dispatcher must look at (a dispatched case whose pin is now in another
    /// grid); no change of state or owner.
    Flag {
        /// What.
        reason: String,
    },
}

impl Action {
    /// The action's name as written in `action`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Triage { .. } => "triage",
            Action::Dispatch { .. } => "dispatch",
            Action::Accept { .. } => "accept",
            Action::Reply { .. } => "reply",
            Action::Resolve { .. } => "resolve",
            Action::Rate { .. } => "rate",
            Action::FollowUp { .. } => "follow_up",
            Action::Close => "close",
            Action::Return { .. } => "return",
            Action::Reassign { .. } => "reassign",
            Action::Merge { .. } => "merge",
            Action::Invalidate { .. } => "invalidate",
            Action::Supervise { .. } => "supervise",
            Action::Escalate { .. } => "escalate",
            Action::Reroute { .. } => "reroute",
            Action::Flag { .. } => "flag",
            Action::Attach { .. } => "attach",
        }
    }
}

/// An action the current state does not allow (answered 409 `illegal_transition`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a case that is {state} cannot take the action {action:?}")]
pub struct IllegalTransition {
    /// The current state.
    pub state: String,
    /// The refused action.
    pub action: &'static str,
}

/// What is known of a case now: the fold of its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFacts {
    /// Current state.
    pub state: CaseState,
    /// Number of events applied (the version an action must name).
    pub version: i64,
    /// Urgency (from the category until triage confirms it).
    pub urgency: Urgency,
    /// Category code.
    pub category: String,
    /// The owner.
    pub assignee: Assignee,
    /// Submitted at (Unix seconds).
    pub submitted_at: i64,
    /// Start of the current handling round: last dispatch, reassignment or reopening.
    pub round_started_at: Option<i64>,
    /// When each milestone of the current round was reached.
    pub triaged_at: Option<i64>,
    /// On site.
    pub accepted_at: Option<i64>,
    /// Replied.
    pub replied_at: Option<i64>,
    /// Resolved.
    pub resolved_at: Option<i64>,
    /// Followed up.
    pub followed_up_at: Option<i64>,
    /// Closed (or merged / invalid).
    pub closed_at: Option<i64>,
    /// How many times the citizen sent it back (重办).
    pub redo_count: u32,
    /// The last rating.
    pub satisfaction: Option<Satisfaction>,
    /// The case this one was merged into.
    pub merged_into: Option<i64>,
    /// Level it is handled at (raised by escalation).
    pub level: Level,
    /// The grid it belongs to, if any.
    #[serde(default)]
    pub grid: Option<String>,
    /// The last thing flagged for the dispatcher, if any.
    #[serde(default)]
    pub flag: Option<String>,
    /// Stages already escalated, as `round:stage` (a redo round starts afresh).
    #[serde(default)]
    pub escalated: Vec<String>,
}

impl Level {
    /// The level above (the district stays the district).
    pub fn above(self) -> Level {
        match self {
            Level::Grid => Level::Community,
            Level::Community => Level::Street,
            Level::Street | Level::District => Level::District,
        }
    }
}

impl CaseFacts {
    /// Whether the overdue `stage` of the current round was already escalated.
    pub fn escalated_for(&self, stage: &str) -> bool {
        let key = format!("{}:{stage}", self.redo_count);
        self.escalated.contains(&key)
    }

    /// A new case as submitted (version 1: the submission is the first event).
    pub fn submitted(at: i64, category: &str, urgency: Urgency, assignee: Assignee) -> CaseFacts {
        CaseFacts {
            state: CaseState::Submitted,
            version: 1,
            urgency,
            category: category.to_string(),
            assignee,
            submitted_at: at,
            round_started_at: None,
            triaged_at: None,
            accepted_at: None,
            replied_at: None,
            resolved_at: None,
            followed_up_at: None,
            closed_at: None,
            redo_count: 0,
            satisfaction: None,
            merged_into: None,
            level: Level::Grid,
            grid: None,
            flag: None,
            escalated: Vec::new(),
        }
    }

    /// The state `action` leads to from the current state, or why it may not.
    pub fn next_state(&self, action: &Action) -> Result<CaseState, IllegalTransition> {
        use CaseState as S;
        let s = self.state;
        let next = match (s, action) {
            (S::Submitted | S::Returned, Action::Triage { .. }) => Some(S::Triaged),
            (S::Triaged | S::Returned, Action::Dispatch { .. }) => Some(S::Dispatched),
            (S::Dispatched, Action::Accept { .. }) => Some(S::Accepted),
            (S::Accepted, Action::Reply { .. }) => Some(S::Replied),
            (S::Accepted | S::Replied, Action::Resolve { .. }) => Some(S::Resolved),
            (S::Resolved, Action::Rate { satisfaction, .. }) => Some(match satisfaction {
                Satisfaction::Unsatisfied => S::Dispatched,
                _ => S::Rated,
            }),
            (S::Resolved | S::Rated, Action::FollowUp { .. }) => Some(S::FollowedUp),
            (S::FollowedUp, Action::Close) => Some(S::Closed),
            (S::Dispatched | S::Accepted | S::Replied, Action::Return { .. }) => Some(S::Returned),
            (
                S::Triaged | S::Dispatched | S::Accepted | S::Replied | S::Returned,
                Action::Reassign { .. },
            ) => Some(S::Dispatched),
            // Merging or invalidating is for cases not yet resolved.
            (s, Action::Merge { .. }) if !s.is_terminal() && !s.handled() => Some(S::Merged),
            (s, Action::Invalidate { .. }) if !s.is_terminal() && !s.handled() => Some(S::Invalid),
            (
                s,
                Action::Supervise { .. }
                | Action::Escalate { .. }
                | Action::Flag { .. }
                | Action::Attach { .. },
            ) if !s.is_terminal() => Some(s),
            (S::Submitted | S::Triaged | S::Returned, Action::Reroute { .. }) => Some(s),
            _ => None,
        };
        next.ok_or_else(|| IllegalTransition {
            state: s.as_str().to_string(),
            action: action.name(),
        })
    }

    /// Applies `action` done at `at` (Unix seconds), or refuses it leaving the case unchanged.
    /// `routed` is the owner a plain dispatch sends the case to.
    pub fn apply(&mut self, action: &Action, at: i64) -> Result<(), IllegalTransition> {
        let next = self.next_state(action)?;
        match action {
            Action::Triage { urgency, category } => {
                self.urgency = *urgency;
                if let Some(c) = category {
                    self.category.clone_from(c);
                }
                self.triaged_at = Some(at);
            }
            Action::Dispatch { assignee } => {
                if let Some(a) = assignee {
                    self.assignee = a.clone();
                }
                self.new_round(at);
            }
            Action::Reassign { assignee, .. } => {
                self.assignee = assignee.clone();
                self.new_round(at);
            }
            Action::Accept { .. } => self.accepted_at = Some(at),
            Action::Reply { .. } => self.replied_at = Some(at),
            Action::Resolve { .. } => self.resolved_at = Some(at),
            Action::Rate { satisfaction, .. } => {
                self.satisfaction = Some(*satisfaction);
                if *satisfaction == Satisfaction::Unsatisfied {
                    self.redo_count += 1;
                    self.new_round(at);
                }
            }
            Action::FollowUp { .. } => self.followed_up_at = Some(at),
            Action::Close | Action::Invalidate { .. } => self.closed_at = Some(at),
            Action::Merge { into } => {
                self.merged_into = Some(*into);
                self.closed_at = Some(at);
            }
            Action::Return { .. } => self.assignee = Assignee::DistrictQueue,
            Action::Escalate { level, stage } => {
                self.level = self.level.max(*level);
                if let Some(st) = stage {
                    self.escalated.push(format!("{}:{st}", self.redo_count));
                }
            }
            Action::Supervise { .. } => {}
            Action::Reroute { grid, assignee, .. } => {
                self.grid.clone_from(grid);
                self.assignee = assignee.clone();
            }
            Action::Flag { reason } => self.flag = Some(reason.clone()),
            Action::Attach { .. } => {}
        }
        self.state = next;
        self.version += 1;
        Ok(())
    }

    /// Rebuilds a case's facts from its events: `first`, the facts recorded with the submission
    /// (event 1), then each later action applied at its time, in order. The stored current state
    /// of a case is exactly this fold; an action its state did not allow is an error.
    pub fn replay(
        first: CaseFacts,
        later: impl IntoIterator<Item = (Action, i64)>,
    ) -> Result<CaseFacts, IllegalTransition> {
        let mut facts = first;
        for (action, at) in later {
            facts.apply(&action, at)?;
        }
        Ok(facts)
    }

    fn new_round(&mut self, at: i64) {
        self.round_started_at = Some(at);
        self.accepted_at = None;
        self.replied_at = None;
        self.resolved_at = None;
        self.followed_up_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn new_case() -> CaseFacts {
        CaseFacts::submitted(
            1_000,
            "C01",
            Urgency::Green,
            Assignee::Worker {
                id: "W1".into(),
                name: "甲".into(),
            },
        )
    }

    fn actions() -> Vec<Action> {
        let other = Assignee::Department {
            code: "D01".into(),
            name: "城管".into(),
        };
        vec![
            Action::Triage {
                urgency: Urgency::Red,
                category: None,
            },
            Action::Dispatch { assignee: None },
            Action::Accept { position: None },
            Action::Reply {
                text: "on it".into(),
            },
            Action::Resolve {
                note: "fixed".into(),
            },
            Action::Rate {
                satisfaction: Satisfaction::Satisfied,
                comment: None,
            },
            Action::Rate {
                satisfaction: Satisfaction::Unsatisfied,
                comment: Some("still broken".into()),
            },
            Action::FollowUp { note: "ok".into() },
            Action::Close,
            Action::Return {
                reason: "not ours".into(),
            },
            Action::Reassign {
                assignee: other,
                reason: "department matter".into(),
            },
            Action::Merge { into: 7 },
            Action::Invalidate {
                reason: "duplicate".into(),
            },
            Action::Supervise {
                note: "hurry".into(),
            },
            Action::Escalate {
                level: Level::Street,
                stage: Some("reply".into()),
            },
            Action::Reroute {
                grid: Some("G2".into()),
                assignee: Assignee::DistrictQueue,
                reason: "new layer".into(),
            },
            Action::Flag {
                reason: "pin now in grid G2".into(),
            },
        ]
    }

    #[test]
    fn the_whole_road_and_the_redo_loop() {
        let mut c = new_case();
        let a = actions();
        for (i, t) in [(0, 10), (1, 20), (2, 30), (3, 40), (4, 50)] {
            c.apply(&a[i], t).unwrap();
        }
        assert_eq!(c.state, CaseState::Resolved);
        // Unsatisfied: back to the same owner, a new round, counted.
        c.apply(&a[6], 60).unwrap();
        assert_eq!(
            (c.state, c.redo_count, c.round_started_at),
            (CaseState::Dispatched, 1, Some(60))
        );
        assert_eq!(c.resolved_at, None);
        for (i, t) in [(2, 70), (4, 80), (5, 90), (7, 100), (8, 110)] {
            c.apply(&a[i], t).unwrap();
        }
        assert_eq!(c.state, CaseState::Closed);
        assert_eq!(c.version, 1 + 11);
        // Nothing more may happen to a closed case.
        for action in &a {
            assert!(c.apply(action, 120).is_err(), "{action:?}");
        }
    }

    #[test]
    fn illegal_actions_name_the_state_and_the_action() {
        let mut c = new_case();
        let e = c.apply(&Action::Accept { position: None }, 5).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a case that is submitted cannot take the action \"accept\""
        );
        assert_eq!(c, new_case(), "a refused action changes nothing");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_sequences_stay_legal_and_replay_alike(picks in proptest::collection::vec(0usize..17, 0..40)) {
            let all = actions();
            let mut c = new_case();
            let mut log: Vec<(Action, i64)> = Vec::new();
            for (k, &p) in picks.iter().enumerate() {
                let before = c.clone();
                let at = 1_000 + 60 * k as i64;
                match c.apply(&all[p], at) {
                    Ok(()) => {
                        log.push((all[p].clone(), at));
                        prop_assert_eq!(c.version, before.version + 1);
                    }
                    Err(_) => prop_assert_eq!(&c, &before),
                }
                // Invariants of every reachable state.
                prop_assert!(c.resolved_at.is_none() || c.round_started_at.is_some());
                if c.state.is_terminal() { prop_assert!(c.closed_at.is_some()); }
                if c.state == CaseState::Returned { prop_assert_eq!(&c.assignee, &Assignee::DistrictQueue); }
                prop_assert!(c.state != CaseState::Rated || c.satisfaction.is_some_and(|s| s != Satisfaction::Unsatisfied));
            }
            // Replaying the recorded events gives the same facts.
            let mut again = new_case();
            for (a, at) in &log {
                again.apply(a, *at).unwrap();
            }
            prop_assert_eq!(again, c);
        }
    }
}
