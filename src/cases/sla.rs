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

/// How long a stage may take: wall-clock minutes or hours, or office time in working hours or
/// working days ([`WORKING_DAY_S`](crate::cases::worktime::WORKING_DAY_S) each). Written as
/// text in the policy file: `"30 minutes"`, `"4 hours"`, `"2 working hours"`, `"1 working day"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Span {
    /// Calendar time, seconds.
    Wall(i64),
    /// Office time, seconds.
    Working(i64),
}

impl std::str::FromStr for Span {
    type Err = String;
    fn from_str(text: &str) -> Result<Span, String> {
        let t = text.trim().to_ascii_lowercase();
        let (n, unit) = t.split_once(' ').ok_or_else(|| {
            format!("{text:?}: expected a number and a unit, e.g. \"2 working hours\"")
        })?;
        let n: f64 = n
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite() && *n > 0.0)
            .ok_or_else(|| format!("{text:?}: {n:?} is not a positive number"))?;
        let secs = |per: f64| (n * per).round() as i64;
        match unit.trim() {
            "minute" | "minutes" => Ok(Span::Wall(secs(60.0))),
            "hour" | "hours" => Ok(Span::Wall(secs(3600.0))),
            "working hour" | "working hours" => Ok(Span::Working(secs(3600.0))),
            "working day" | "working days" => Ok(Span::Working(secs(
                crate::cases::worktime::WORKING_DAY_S as f64,
            ))),
            other => Err(format!(
                "{text:?}: unknown unit {other:?} (minutes, hours, working hours, working days)"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Span {
    /// When a stage started at `start` (Unix seconds) is due.
    pub fn due(self, start: i64, work: &crate::cases::worktime::WorkTime<'_>) -> i64 {
        match self {
            Span::Wall(s) => start + s,
            Span::Working(s) => work.add(start, s),
        }
    }
}

/// Stage spans that replace the ordinary ones for red cases (absent: the ordinary one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Triage.
    pub triage: Option<Span>,
    /// On site / accepted.
    pub on_site: Option<Span>,
    /// Reply.
    pub reply: Option<Span>,
    /// Resolution.
    pub resolve: Option<Span>,
    /// Follow-up visit.
    pub follow_up: Option<Span>,
}

/// The service level: how long each stage may take. Triage counts from submission; the other
/// stages count from dispatch (and start again from a reassignment or a reopening).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    /// Triage (分流) after submission.
    pub triage: Span,
    /// On site or accepted after dispatch.
    pub on_site: Span,
    /// A clear reply after dispatch.
    pub reply: Span,
    /// Resolved after dispatch.
    pub resolve: Span,
    /// Follow-up visit (回访) after dispatch.
    pub follow_up: Span,
    /// Shorter spans for red cases.
    #[serde(default)]
    pub red: Overrides,
    /// When reports form a mass incident (`[incidents]`: `min_reports`, `radius_m`,
    /// `window_h`; default 10 within 300 m in 48 h).
    #[serde(default)]
    pub incidents: crate::cases::incidents::IncidentRule,
}

/// The default policy file: "30135" in working time plus triage within 2 working hours, red
/// cases replied within 2 working hours and resolved within 1 working day.
pub const DEFAULT_POLICY_TOML: &str = r#"# tessera SLA policy. Spans: "N minutes", "N hours" (calendar time), "N working hours",
# "N working days" (office time on the district's calendar; a working day is 7.5 hours).
triage = "2 working hours"   # after submission
on_site = "30 minutes"       # after dispatch: 30
reply = "1 working day"      # 1
resolve = "3 working days"   # 3
follow_up = "5 working days" # 5

[red]
reply = "2 working hours"
resolve = "1 working day"

[incidents]                  # reports of one category that form a mass incident
min_reports = 10
radius_m = 300
window_h = 48
"#;

impl Default for SlaPolicy {
    fn default() -> SlaPolicy {
        match SlaPolicy::from_toml(DEFAULT_POLICY_TOML) {
            Ok(p) => p,
            Err(e) => unreachable!("the built-in SLA policy parses: {e}"),
        }
    }
}

/// The deadlines of a case, Unix seconds (absent until the stage's clock has started).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    /// Triage by.
    pub triage_by: Option<i64>,
    /// On site by.
    pub on_site_by: Option<i64>,
    /// Reply by.
    pub reply_by: Option<i64>,
    /// Resolved by.
    pub resolve_by: Option<i64>,
    /// Follow-up visit by.
    pub follow_up_by: Option<i64>,
}

impl SlaPolicy {
    /// Reads a policy file (TOML; see [`DEFAULT_POLICY_TOML`]). Errors name the key.
    pub fn from_toml(text: &str) -> Result<SlaPolicy, String> {
        toml::from_str(text).map_err(|e| format!("SLA policy: {e}"))
    }

    /// The deadlines of a case of `urgency` submitted at `submitted` whose current handling
    /// round began at `dispatched` (the last dispatch, reassignment or reopening).
    pub fn deadlines(
        &self,
        urgency: Option<Urgency>,
        submitted: i64,
        dispatched: Option<i64>,
        work: &crate::cases::worktime::WorkTime<'_>,
    ) -> Deadlines {
        let red = urgency == Some(Urgency::Red);
        let pick =
            |normal: Span, over: Option<Span>| if red { over.unwrap_or(normal) } else { normal };
        let after = |span: Span| dispatched.map(|t| span.due(t, work));
        Deadlines {
            triage_by: Some(pick(self.triage, self.red.triage).due(submitted, work)),
            on_site_by: after(pick(self.on_site, self.red.on_site)),
            reply_by: after(pick(self.reply, self.red.reply)),
            resolve_by: after(pick(self.resolve, self.red.resolve)),
            follow_up_by: after(pick(self.follow_up, self.red.follow_up)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_policy_file_reads_and_refuses_nonsense() {
        let p = SlaPolicy::default();
        assert_eq!(p.triage, Span::Working(2 * 3600));
        assert_eq!(p.on_site, Span::Wall(30 * 60));
        assert_eq!(
            p.resolve,
            Span::Working(3 * crate::cases::worktime::WORKING_DAY_S)
        );
        assert_eq!(
            p.red.resolve,
            Some(Span::Working(crate::cases::worktime::WORKING_DAY_S))
        );
        let e = SlaPolicy::from_toml("triage = \"2 fortnights\"").unwrap_err();
        assert!(e.contains("fortnights"), "{e}");
        let e = SlaPolicy::from_toml(&DEFAULT_POLICY_TOML.replace("reply", "replyy")).unwrap_err();
        assert!(e.contains("replyy"), "{e}");
    }

    #[test]
    fn deadlines_follow_the_stages_and_red_is_shorter() {
        use crate::cases::calendar::{rfc3339_shanghai, shanghai_unix};
        use crate::cases::worktime::WorkTime;
        let work = WorkTime::new(None);
        let p = SlaPolicy::default();
        let submitted = shanghai_unix(2026, 11, 25, 10, 0); // a Wednesday
        let d = p.deadlines(Some(Urgency::Green), submitted, None, &work);
        assert_eq!(
            d.triage_by.map(rfc3339_shanghai).as_deref(),
            Some("2026-11-25T12:00:00+08:00")
        );
        assert_eq!(d.on_site_by, None);
        let dispatched = shanghai_unix(2026, 11, 25, 11, 0);
        let d = p.deadlines(Some(Urgency::Green), submitted, Some(dispatched), &work);
        let f = |t: Option<i64>| t.map(rfc3339_shanghai).unwrap_or_default();
        assert_eq!(f(d.on_site_by), "2026-11-25T11:30:00+08:00");
        assert_eq!(f(d.reply_by), "2026-11-26T11:00:00+08:00");
        assert_eq!(f(d.resolve_by), "2026-11-30T11:00:00+08:00");
        assert_eq!(f(d.follow_up_by), "2026-12-02T11:00:00+08:00");
        let red = p.deadlines(Some(Urgency::Red), submitted, Some(dispatched), &work);
        assert_eq!(f(red.reply_by), "2026-11-25T14:30:00+08:00");
        assert_eq!(f(red.resolve_by), "2026-11-26T11:00:00+08:00");
    }
}
