//! Urgency and the "30135" service level of the citizen-appeal service (民情诉递).
//!
//! Every case is triaged (分流) red, yellow or green, and then runs on the 30135 clock, counted
//! from the report: on site or accepted within **30** minutes, a clear reply within **1** day,
//! resolved within **3** days, a follow-up visit (回访) within **5** days. Source: Zhangdian
//! District's "30135" working method for citizen appeals (民情诉递“30135”工作法), the service
//! level its citizen-appeal service center (市民诉求服务中心) commits to.

use serde::{Deserialize, Serialize};

/// How urgent a case is, set at triage (分流). Ordered from most to least urgent.
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
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// Danger to life or property: act at once.
    Red,
    /// Needs attention within the service level.
    Yellow,
    /// Routine.
    Green,
}

impl Urgency {
    /// One step more urgent (red stays red): used when a case is escalated.
    pub fn raised(self) -> Urgency {
        match self {
            Urgency::Green => Urgency::Yellow,
            Urgency::Yellow | Urgency::Red => Urgency::Red,
        }
    }

    /// `red`, `yellow` or `green`.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Red => "red",
            Urgency::Yellow => "yellow",
            Urgency::Green => "green",
        }
    }
}

/// A milestone of the 30135 clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Milestone {
    /// On site, or accepted by the owner.
    Accepted,
    /// A clear reply to the citizen.
    Replied,
    /// The matter resolved.
    Resolved,
    /// The follow-up visit (回访) done.
    Visited,
}

impl Milestone {
    /// Every milestone in the order a case meets them.
    pub const ALL: [Milestone; 4] = [
        Milestone::Accepted,
        Milestone::Replied,
        Milestone::Resolved,
        Milestone::Visited,
    ];

    /// Seconds from the report within which the milestone is due (the 30135 service level).
    pub fn due_within_s(self) -> i64 {
        match self {
            Milestone::Accepted => ACCEPT_WITHIN_S,
            Milestone::Replied => REPLY_WITHIN_S,
            Milestone::Resolved => RESOLVE_WITHIN_S,
            Milestone::Visited => VISIT_WITHIN_S,
        }
    }
}

const MINUTE: i64 = 60;
const DAY: i64 = 86_400;

/// 30135: on site or accepted within 30 minutes of the report (seconds).
pub const ACCEPT_WITHIN_S: i64 = 30 * MINUTE;
/// 30135: a clear reply within 1 day (seconds).
pub const REPLY_WITHIN_S: i64 = DAY;
/// 30135: resolved within 3 days (seconds).
pub const RESOLVE_WITHIN_S: i64 = 3 * DAY;
/// 30135: follow-up visit within 5 days (seconds).
pub const VISIT_WITHIN_S: i64 = 5 * DAY;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_reads_30_1_3_5() {
        let as_minutes: Vec<i64> = Milestone::ALL
            .iter()
            .map(|m| m.due_within_s() / 60)
            .collect();
        assert_eq!(as_minutes, [30, 24 * 60, 3 * 24 * 60, 5 * 24 * 60]);
    }

    #[test]
    fn urgency_orders_and_raises() {
        assert!(Urgency::Red < Urgency::Yellow && Urgency::Yellow < Urgency::Green);
        assert_eq!(Urgency::Green.raised(), Urgency::Yellow);
        assert_eq!(Urgency::Yellow.raised(), Urgency::Red);
        assert_eq!(Urgency::Red.raised(), Urgency::Red);
        assert_eq!(
            serde_json::to_string(&Urgency::Yellow).ok().as_deref(),
            Some("\"yellow\"")
        );
    }
}
