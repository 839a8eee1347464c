//! Loads the demo district's sample history (`cases-sample.json`: a year of appeals) into the
//! case tables as real cases: each sample case is submitted and then driven through the case
//! engine (`CaseFacts::apply`) with its recorded times — triage and dispatch at the report,
//! then on site, reply, resolution, the citizen's rating (an unsatisfied one reopens it for a
//! redo), the follow-up visit and closing — so the read side and the statistics have a year of
//! data from the first start. A mass incident of the sample becomes a parent case handled at the
//! district level (on site at the first report, its plan as the reply and resolution, closed
//! after the last follow-up visit); its reports are submitted and merged into it, and follow it.

use crate::cases::calendar::{Date, shanghai_local, shanghai_unix};
use crate::cases::lifecycle::{Action, Assignee, CaseFacts, Level, Satisfaction};
use crate::cases::sla::Urgency;
use crate::store::Store;
use crate::store::cases::{CaseEvent, NewCase};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Unix seconds of a sample time `2025-11-03T18:37:29+08:00`.
fn at(v: &Value) -> Option<i64> {
    let t = v.as_str()?;
    let n = |a: usize, b: usize| t.get(a..b)?.parse::<i64>().ok();
    if !t.ends_with("+08:00") {
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

fn satisfaction(v: &Value) -> Option<Satisfaction> {
    serde_json::from_value(v.clone()).ok()
}

/// The actions of a sample case after its submission, with their times.
fn actions(c: &Value, reported: i64, urgency: Urgency) -> Vec<(Action, i64)> {
    let mut out = vec![
        (
            Action::Triage {
                urgency,
                category: None,
            },
            reported,
        ),
        (Action::Dispatch { assignee: None }, reported),
    ];
    let round = |out: &mut Vec<(Action, i64)>,
                 accepted: Option<i64>,
                 replied: Option<i64>,
                 resolved: Option<i64>| {
        let Some(a) = accepted else { return false };
        out.push((Action::Accept, a));
        if let Some(r) = replied {
            out.push((
                Action::Reply {
                    text: "已回复市民 (imported)".into(),
                },
                r,
            ));
        }
        match resolved {
            Some(r) => {
                out.push((
                    Action::Resolve {
                        note: "已办结 (imported)".into(),
                    },
                    r,
                ));
                true
            }
            None => false,
        }
    };
    if !round(
        &mut out,
        at(&c["accepted_at"]),
        at(&c["replied_at"]),
        at(&c["resolved_at"]),
    ) {
        return out;
    }
    let (mut visited, mut rating) = (at(&c["visited_at"]), satisfaction(&c["satisfaction"]));
    if let Some(redo) = c.get("redo").filter(|r| r.is_object()) {
        let Some(reopened) = at(&redo["reopened_at"]) else {
            return out;
        };
        out.push((
            Action::Rate {
                satisfaction: Satisfaction::Unsatisfied,
                comment: None,
            },
            reopened,
        ));
        if !round(&mut out, Some(reopened), None, at(&redo["resolved_at"])) {
            return out;
        }
        visited = at(&redo["visited_at"]);
        rating = satisfaction(&redo["satisfaction"]);
    }
    let Some(v) = visited else { return out };
    if let Some(s) = rating.filter(|s| *s != Satisfaction::Unsatisfied) {
        out.push((
            Action::Rate {
                satisfaction: s,
                comment: None,
            },
            v,
        ));
    }
    out.push((
        Action::FollowUp {
            note: "回访 (imported)".into(),
        },
        v,
    ));
    out.push((Action::Close, v));
    out
}

fn random_token() -> Result<String, crate::store::StoreError> {
    let mut token = [0u8; 16];
    getrandom::fill(&mut token).map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
    Ok(token.iter().map(|b| format!("{b:02x}")).collect())
}

/// Applies the steps through the engine, as events, stopping at the first it refuses.
fn drive(facts: &mut CaseFacts, steps: Vec<(Action, i64)>) -> Vec<CaseEvent> {
    let mut events = Vec::new();
    for (action, t) in steps {
        if facts.apply(&action, t).is_err() {
            break;
        }
        events.push(CaseEvent {
            seq: facts.version,
            at: t,
            actor: "import".into(),
            action: serde_json::to_value(&action).unwrap_or_default(),
        });
    }
    events
}

/// Imports every sample case not imported before (the sample id is the idempotency key).
/// Returns how many were imported.
pub async fn import_sample_cases(
    store: &Store,
    sample: &Value,
    workers: &Value,
    departments: &Value,
) -> Result<usize, crate::store::StoreError> {
    let worker_name: HashMap<&str, &str> = workers["workers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| Some((w["id"].as_str()?, w["name"].as_str()?)))
        .collect();
    let dept_name: HashMap<&str, &str> = departments["departments"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            departments["mediation_committees"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .filter_map(|d| Some((d["code"].as_str()?, d["name_zh"].as_str()?)))
        .collect();
    let mut imported = 0;
    // Incidents first: their parents, by sample incident id.
    let mut parents: HashMap<String, i64> = HashMap::new();
    for inc in sample["incidents"].as_array().into_iter().flatten() {
        let (Some(iid), Some(first), Some(category)) = (
            inc["id"].as_str(),
            at(&inc["first_reported_at"]),
            inc["category"].as_str(),
        ) else {
            continue;
        };
        let code = inc["department"].as_str().unwrap_or_default();
        let assignee = Assignee::Department {
            code: code.into(),
            name: dept_name.get(code).copied().unwrap_or_default().into(),
        };
        let mut facts = CaseFacts::submitted(first, category, Urgency::Red, assignee.clone());
        facts.level = Level::District;
        facts.grid = inc["grid_code"].as_str().map(str::to_string);
        let last_visit = sample["cases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["incident_id"] == iid)
            .filter_map(|c| at(&c["visited_at"]))
            .max();
        let mut steps = vec![
            (
                Action::Triage {
                    urgency: Urgency::Red,
                    category: None,
                },
                first,
            ),
            (Action::Dispatch { assignee: None }, first),
            (Action::Accept, first),
        ];
        if let Some(plan) = at(&inc["plan_announced_at"]) {
            let summary = inc["summary"].as_str().unwrap_or_default().to_string();
            steps.push((
                Action::Reply {
                    text: summary.clone(),
                },
                plan,
            ));
            steps.push((Action::Resolve { note: summary }, plan));
            if let (Some(v), true) = (last_visit, inc["state"] == "closed") {
                steps.push((
                    Action::FollowUp {
                        note: "回访 (imported)".into(),
                    },
                    v,
                ));
                steps.push((Action::Close, v));
            }
        }
        let (date, _) = shanghai_local(first);
        let new = NewCase {
            idempotency_key: Some(format!("sample:{iid}")),
            day: format!("{:04}{:02}{:02}", date.year, date.month, date.day),
            tracking_token: random_token()?,
            channel: "incident".into(),
            pin: None,
            grid: facts.grid.clone(),
            intake: json!({
                "channel": "incident",
                "report": {"description": format!("{} — {}", inc["title"].as_str().unwrap_or_default(), inc["summary"].as_str().unwrap_or_default()),
                           "sample_id": iid, "reports": inc["case_count"]},
                "route": {"reason": "imported mass incident of the demo district's sample history", "level": Level::District, "assignee": assignee},
            }),
            facts: facts.clone(),
            actor: "import".into(),
        };
        let events = drive(&mut facts, steps);
        // A parent imported before (same key) is found and answered, as on a retry.
        let (parent, _) = store.insert_case_with(&new, &events, &facts).await?;
        parents.insert(iid.to_string(), parent.id);
    }
    for c in sample["cases"].as_array().into_iter().flatten() {
        let (Some(id), Some(reported), Some(category)) = (
            c["id"].as_str(),
            at(&c["reported_at"]),
            c["category"].as_str(),
        ) else {
            continue;
        };
        let urgency: Urgency =
            serde_json::from_value(c["urgency"].clone()).unwrap_or(Urgency::Yellow);
        let level = match c["level"].as_str() {
            Some("grid") => Level::Grid,
            _ => Level::District,
        };
        let assignee = match (
            c["level"].as_str(),
            c["department"].as_str(),
            c["worker_id"].as_str(),
        ) {
            (Some("grid"), _, Some(w)) => Assignee::Worker {
                id: w.into(),
                name: worker_name.get(w).copied().unwrap_or_default().into(),
            },
            (_, Some(d), _) => Assignee::Department {
                code: d.into(),
                name: dept_name.get(d).copied().unwrap_or_default().into(),
            },
            _ => Assignee::DistrictQueue,
        };
        let mut facts = CaseFacts::submitted(reported, category, urgency, assignee.clone());
        facts.level = level;
        facts.grid = c["grid_code"].as_str().map(str::to_string);
        let pin = c["location"][0].as_f64().zip(c["location"][1].as_f64());
        let channel = match c["channel"].as_str() {
            Some("hotline_12345") => "hotline",
            Some("patrol") => "patrol",
            _ => "citizen",
        };
        let (date, _) = shanghai_local(reported);
        let mut token = [0u8; 16];
        getrandom::fill(&mut token)
            .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?;
        let new = NewCase {
            idempotency_key: Some(format!("sample:{id}")),
            day: format!("{:04}{:02}{:02}", date.year, date.month, date.day),
            tracking_token: random_token()?,
            channel: channel.into(),
            pin,
            grid: facts.grid.clone(),
            intake: json!({
                "channel": channel,
                "report": {"description": c["description"], "pin": pin.map(|(x, y)| json!({"lon": x, "lat": y, "crs": "wgs84", "wgs84": [x, y]})),
                           "sample_id": id, "incident": c["incident_id"]},
                "route": {"reason": "imported from the demo district's sample history", "level": level, "assignee": assignee},
            }),
            facts: facts.clone(),
            actor: "import".into(),
        };
        // A report of an incident is merged into it at once and follows it.
        let steps = match c["incident_id"].as_str().and_then(|i| parents.get(i)) {
            Some(&parent) => vec![(Action::Merge { into: parent }, reported)],
            None => actions(c, reported, urgency),
        };
        let events = drive(&mut facts, steps);
        if store.insert_case_with(&new, &events, &facts).await?.1 {
            imported += 1;
        }
    }
    Ok(imported)
}
