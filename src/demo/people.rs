//! The demo district's people: everyone who works a grid, and who is on call when.
//!
//! [`workers`] builds `workers.json` from the grids; every name and phone number is made up:
//! ```text
//! { "synthetic": true, "phones_fake": true, "note": "…",
//!   "timezone": "Asia/Shanghai",
//!   "counts": { "building_head": …, "cadre": …, "department_liaison": …, "grid_worker": …,
//!               "volunteer": … },
//!   "workers": [{ "id": "W370303001001004", "role": "grid_worker", "role_zh": "专职网格员",
//!                 "name": "王秀英", "gender": "female", "phone": "199-0000-1234",
//!                 "scope": "grid", "street_code": "370303001",
//!                 "community_code": "370303001001", "grids": ["370303001001004"],
//!                 "schedule": { "days": "working_days", "timezone": "Asia/Shanghai",
//!                               "hours": [["08:30","12:00"],["13:30","17:30"]] } }, …],
//!   "on_call_rule": "…",
//!   "on_call_rota": [{ "community_code": "370303001001", "community_name": "…",
//!                      "street_code": "370303001", "evenings": ["17:30","08:30"],
//!                      "weekends_and_holidays": true,
//!                      "rota": [{ "week": 1, "worker_id": "W370303001001001" }, …] }, …] }
//! ```
//! Roles and ids (workers are sorted by id):
//! - `grid_worker` 专职网格员, `W` + grid code: exactly one per grid, with an office-hours
//!   `schedule` (`days: "working_days"` means Monday–Friday as amended by `calendar.json`).
//! - `building_head` 楼长/单元长, `B` + grid code + 2 digits: 2–4 per residential grid, with a
//!   `building`.
//! - `cadre` 网格挂包员, `C` + community code: one per community, attached to all its grids,
//!   with the `unit` (street office or town government) they come from.
//! - `volunteer` 志愿者, `V` + community code + 2 digits: 3–6 per community, with a `team`.
//! - `department_liaison` 部门联动员, `L` + street code + department code: one per street for
//!   each department grid matters are most often escalated to, with its `department` code
//!   (see `departments.json`).
//!
//! `scope` is `grid`, `community` or `street`; `grids` lists the grid codes the person serves
//! (empty for street- and community-wide roles other than the cadre). Outside office hours one
//! grid worker per community is on call, week by week, as `on_call_rule` explains.

use crate::cases::calendar::{TIMEZONE, WORKING_HOURS};
use crate::demo::catalog;
use crate::spatial::synth::Rng;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What the roster, catalog and history generators need to know about one grid.
#[derive(Debug, Clone)]
pub struct GridInfo {
    /// Community code (12 digits) + 3-digit sequence, e.g. `370303001001004`.
    pub code: String,
    /// E.g. `新华社区第4网格`.
    pub name: String,
    /// `residential` | `village` | `street-shops` | `commercial-building` | `market` | `mall` |
    /// `construction-site`.
    pub kind: String,
    /// The community's 12-digit code.
    pub community_code: String,
    /// The community's name.
    pub community_name: String,
    /// The 9-digit street/town code, e.g. `370303001`.
    pub street_code: String,
    /// The street/town name, e.g. `车站街道`.
    pub street_name: String,
    /// Households living in the grid.
    pub households: u32,
    /// Residents living in the grid.
    pub population: u32,
    /// In a 镇 village rather than an urban community.
    pub village: bool,
}

/// The role of a person in the grid system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 专职网格员, one per grid.
    GridWorker,
    /// 楼长 or 单元长 in a residential grid.
    BuildingHead,
    /// 网格挂包员: a street or town cadre attached to a community's grids.
    Cadre,
    /// 志愿者.
    Volunteer,
    /// 部门联动员: a department's contact for one street.
    DepartmentLiaison,
}

impl Role {
    fn key(self) -> &'static str {
        match self {
            Role::GridWorker => "grid_worker",
            Role::BuildingHead => "building_head",
            Role::Cadre => "cadre",
            Role::Volunteer => "volunteer",
            Role::DepartmentLiaison => "department_liaison",
        }
    }
}

/// Office hours of one grid worker.
#[derive(Debug, Clone, Serialize)]
struct Schedule {
    days: &'static str,
    timezone: &'static str,
    hours: [[&'static str; 2]; 2],
}

#[derive(Debug, Clone, Serialize)]
struct Person {
    id: String,
    role: Role,
    role_zh: &'static str,
    name: String,
    gender: &'static str,
    phone: String,
    scope: &'static str,
    street_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    community_code: Option<String>,
    grids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    department: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    building: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<Schedule>,
}

#[derive(Debug, Clone, Serialize)]
struct RotaWeek {
    week: usize,
    worker_id: String,
}

#[derive(Debug, Clone, Serialize)]
struct Rota {
    community_code: String,
    community_name: String,
    street_code: String,
    evenings: [&'static str; 2],
    weekends_and_holidays: bool,
    rota: Vec<RotaWeek>,
}

#[derive(Debug, Clone, Serialize)]
struct WorkersDoc {
    synthetic: bool,
    phones_fake: bool,
    note: &'static str,
    timezone: &'static str,
    counts: BTreeMap<&'static str, usize>,
    workers: Vec<Person>,
    on_call_rule: &'static str,
    on_call_rota: Vec<Rota>,
}

const SURNAMES: &[&str] = &[
    "王", "张", "李", "刘", "孙", "赵", "陈", "杨", "徐", "高", "于", "马", "崔", "宋", "韩", "董",
    "郭", "周", "吴", "朱", "胡", "曹", "任", "田", "毕", "翟", "石", "魏", "姜", "邢",
];
const FEMALE_CHARS: &[&str] = &[
    "秀", "英", "丽", "敏", "静", "燕", "红", "霞", "玲", "芳", "娟", "婷", "雪", "慧", "洁", "晶",
    "琳", "颖", "梅", "莉", "倩", "艳", "萍", "欣",
];
const MALE_CHARS: &[&str] = &[
    "伟", "强", "军", "磊", "勇", "杰", "涛", "斌", "明", "超", "刚", "平", "辉", "鹏", "峰", "建",
    "国", "志", "波", "亮", "宁", "东", "海", "林",
];
const MIDDLE_CHARS: &[&str] = &[
    "文", "晓", "海", "立", "春", "玉", "金", "新", "永", "德", "庆", "红", "凤", "桂", "子",
];
const VOLUNTEER_TEAMS: &[&str] = &[
    "平安巡逻志愿队",
    "助老志愿服务队",
    "环境卫生志愿队",
    "文明劝导志愿队",
    "党员先锋志愿队",
];

/// Departments each street has a liaison for; towns add the rural ones.
const LIAISON_DEPARTMENTS: &[&str] = &["D01", "D02", "D04", "D06", "D13", "D19"];
const TOWN_LIAISON_DEPARTMENTS: &[&str] = &["D10", "D15"];

/// Market grid workers start and finish earlier, when the stalls do.
const MARKET_HOURS: [[&str; 2]; 2] = [["07:30", "11:30"], ["13:30", "17:30"]];

fn pick<'a>(rng: &mut Rng, list: &[&'a str]) -> &'a str {
    list[(rng.next_u64() % list.len() as u64) as usize]
}

/// A made-up name; surnames near the front of the list are more common.
fn name(rng: &mut Rng, female: bool) -> String {
    let skew = rng.unit().powf(1.3);
    let surname = SURNAMES[((skew * SURNAMES.len() as f64) as usize).min(SURNAMES.len() - 1)];
    let given = if female { FEMALE_CHARS } else { MALE_CHARS };
    if rng.unit() < 0.7 {
        format!("{surname}{}{}", pick(rng, MIDDLE_CHARS), pick(rng, given))
    } else {
        format!("{surname}{}", pick(rng, given))
    }
}

/// Fake numbers `199-0000-xxxx`, all distinct: the last four digits run through a permutation
/// of 0000–9999, then the middle block counts up.
fn phone(serial: usize) -> String {
    let block = serial / 10_000;
    let last = (serial % 10_000 * 7_919 + 4_321) % 10_000;
    format!("199-{block:04}-{last:04}")
}

struct Builder {
    rng: Rng,
    people: Vec<Person>,
}

impl Builder {
    fn person(
        &mut self,
        id: String,
        role: Role,
        role_zh: &'static str,
        female_share: f64,
    ) -> Person {
        let female = self.rng.unit() < female_share;
        Person {
            id,
            role,
            role_zh,
            name: name(&mut self.rng, female),
            gender: if female { "female" } else { "male" },
            phone: phone(self.people.len()),
            scope: "grid",
            street_code: String::new(),
            community_code: None,
            grids: Vec::new(),
            department: None,
            unit: None,
            building: None,
            team: None,
            schedule: None,
        }
    }
}

/// `workers.json` for `grids` (any order; the output is sorted by id).
///
/// ```
/// # use tessera::demo::people::{workers, GridInfo};
/// let grid = GridInfo {
///     code: "370303001001004".into(), name: "新华社区第4网格".into(), kind: "residential".into(),
///     community_code: "370303001001".into(), community_name: "新华社区".into(),
///     street_code: "370303001".into(), street_name: "车站街道".into(),
///     households: 320, population: 870, village: false,
/// };
/// let doc = workers(&[grid], 7);
/// assert_eq!(doc["counts"]["grid_worker"], 1);
/// assert_eq!(doc["workers"].as_array().map(|w| w.iter().any(|p| p["id"] == "W370303001001004")), Some(true));
/// ```
pub fn workers(grids: &[GridInfo], seed: u64) -> Value {
    let mut b = Builder {
        rng: Rng::new(seed),
        people: Vec::new(),
    };
    let mut communities: BTreeMap<&str, Vec<&GridInfo>> = BTreeMap::new();
    for g in grids {
        communities
            .entry(g.community_code.as_str())
            .or_default()
            .push(g);
    }
    let mut streets: BTreeMap<&str, (&str, bool)> = BTreeMap::new();
    let mut rotas = Vec::new();
    for (community, members) in &mut communities {
        members.sort_by(|a, c| a.code.cmp(&c.code));
        let first = members[0];
        let town = first.street_name.ends_with('镇');
        let street = streets
            .entry(first.street_code.as_str())
            .or_insert((first.street_name.as_str(), false));
        street.1 |= town || first.village;
        let mut rota = Vec::new();
        for g in members.iter() {
            let mut p = b.person(format!("W{}", g.code), Role::GridWorker, "专职网格员", 0.65);
            p.street_code = g.street_code.clone();
            p.community_code = Some(g.community_code.clone());
            p.grids = vec![g.code.clone()];
            p.schedule = Some(Schedule {
                days: "working_days",
                timezone: TIMEZONE,
                hours: if g.kind == "market" {
                    MARKET_HOURS
                } else {
                    WORKING_HOURS
                },
            });
            rota.push(RotaWeek {
                week: rota.len() + 1,
                worker_id: p.id.clone(),
            });
            b.people.push(p);
            if g.kind == "residential" {
                let heads = 2 + (b.rng.next_u64() % 3) as u32;
                let mut buildings: Vec<u32> = Vec::new();
                while buildings.len() < heads as usize {
                    let n = 1 + (b.rng.next_u64() % 24) as u32;
                    if !buildings.contains(&n) {
                        buildings.push(n);
                    }
                }
                buildings.sort_unstable();
                for (i, n) in buildings.into_iter().enumerate() {
                    let unit_head = b.rng.unit() < 0.3;
                    let id = format!("B{}{:02}", g.code, i + 1);
                    let role_zh = if unit_head { "单元长" } else { "楼长" };
                    let mut p = b.person(id, Role::BuildingHead, role_zh, 0.55);
                    p.street_code = g.street_code.clone();
                    p.community_code = Some(g.community_code.clone());
                    p.grids = vec![g.code.clone()];
                    p.building = Some(if unit_head {
                        format!("{n}号楼{}单元", 1 + b.rng.next_u64() % 4)
                    } else {
                        format!("{n}号楼")
                    });
                    b.people.push(p);
                }
            }
        }
        let mut cadre = b.person(format!("C{community}"), Role::Cadre, "网格挂包员", 0.4);
        cadre.scope = "community";
        cadre.street_code = first.street_code.clone();
        cadre.community_code = Some((*community).to_owned());
        cadre.grids = members.iter().map(|g| g.code.clone()).collect();
        cadre.unit = Some(if town {
            format!("{}人民政府", first.street_name)
        } else {
            format!("{}办事处", first.street_name)
        });
        b.people.push(cadre);
        let volunteers = 3 + b.rng.next_u64() % 4;
        for i in 1..=volunteers {
            let mut v = b.person(
                format!("V{community}{i:02}"),
                Role::Volunteer,
                "志愿者",
                0.6,
            );
            v.scope = "community";
            v.street_code = first.street_code.clone();
            v.community_code = Some((*community).to_owned());
            v.team = Some(pick(&mut b.rng, VOLUNTEER_TEAMS));
            b.people.push(v);
        }
        rotas.push(Rota {
            community_code: (*community).to_owned(),
            community_name: first.community_name.clone(),
            street_code: first.street_code.clone(),
            evenings: ["17:30", "08:30"],
            weekends_and_holidays: true,
            rota,
        });
    }
    for (street, (_, rural)) in &streets {
        let extra: &[&str] = if *rural {
            TOWN_LIAISON_DEPARTMENTS
        } else {
            &[]
        };
        for &code in LIAISON_DEPARTMENTS.iter().chain(extra) {
            let department = catalog::unit_by_code(code);
            let mut p = b.person(
                format!("L{street}{code}"),
                Role::DepartmentLiaison,
                "部门联动员",
                0.45,
            );
            p.scope = "street";
            p.street_code = (*street).to_owned();
            p.department = department.map(|d| d.code);
            p.unit = department.map(|d| d.name_zh.to_owned());
            b.people.push(p);
        }
    }
    let mut people = b.people;
    people.sort_by(|a, c| a.id.cmp(&c.id));
    let mut counts = BTreeMap::new();
    for p in &people {
        *counts.entry(p.role.key()).or_insert(0) += 1;
    }
    let doc = WorkersDoc {
        synthetic: true,
        phones_fake: true,
        note: "Synthetic demo roster: every name is made up and every phone number \
               (199-0000-xxxx) is fake; do not call them.",
        timezone: TIMEZONE,
        counts,
        workers: people,
        on_call_rule: "Outside office hours (weekday evenings 17:30–08:30, weekends and \
                       holidays) one grid worker per community is on call. In ISO week k of \
                       any year the worker on call is rota[(k - 1) mod rota length].",
        on_call_rota: rotas,
    };
    match serde_json::to_value(&doc) {
        Ok(value) => value,
        // Strings, numbers, sequences and string-keyed maps cannot fail to serialize.
        Err(e) => unreachable!("a roster always serializes: {e}"),
    }
}

/// Test grids: for each (community code, name, street code, street name, village, grid count),
/// that many grids, kinds cycling through `kinds` (villages are `village`), households and
/// population `base + step × i`.
#[cfg(test)]
pub(crate) fn test_grids(
    communities: &[(&str, &str, &str, &str, bool, usize)],
    kinds: &[&str],
    households: (u32, u32),
    population: (u32, u32),
) -> Vec<GridInfo> {
    let mut out = Vec::new();
    for &(cc, cn, sc, sn, village, n) in communities {
        for i in 1..=n {
            out.push(GridInfo {
                code: format!("{cc}{i:03}"),
                name: format!("{cn}第{i}网格"),
                kind: if village {
                    "village"
                } else {
                    kinds[(i - 1) % kinds.len()]
                }
                .into(),
                community_code: cc.into(),
                community_name: cn.into(),
                street_code: sc.into(),
                street_name: sn.into(),
                households: households.0 + households.1 * i as u32,
                population: population.0 + population.1 * i as u32,
                village,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Three communities in two streets, one of them a town with villages.
    fn sample_grids() -> Vec<GridInfo> {
        let communities = [
            (
                "370303001001",
                "新华社区",
                "370303001",
                "车站街道",
                false,
                6,
            ),
            (
                "370303001002",
                "胜利桥社区",
                "370303001",
                "车站街道",
                false,
                4,
            ),
            ("370303107201", "房镇村", "370303107", "房镇镇", true, 2),
        ];
        let kinds = [
            "residential",
            "street-shops",
            "market",
            "residential",
            "mall",
        ];
        test_grids(&communities, &kinds, (300, 10), (800, 25))
    }

    fn list(doc: &Value, key: &str) -> Vec<Value> {
        doc[key].as_array().cloned().unwrap_or_default()
    }

    #[test]
    fn one_grid_worker_per_grid() {
        let grids = sample_grids();
        let doc = workers(&grids, 1);
        let people = list(&doc, "workers");
        let full_time: Vec<&Value> = people
            .iter()
            .filter(|p| p["role"] == "grid_worker")
            .collect();
        assert_eq!(full_time.len(), grids.len());
        for g in &grids {
            let id = format!("W{}", g.code);
            let w = full_time.iter().find(|p| p["id"] == id.as_str());
            let w = w.unwrap_or_else(|| panic!("no worker for {}", g.code));
            assert_eq!(w["grids"], serde_json::json!([g.code]));
            assert_eq!(w["schedule"]["days"], "working_days");
        }
        assert_eq!(doc["counts"]["grid_worker"], grids.len());
        assert_eq!(doc["synthetic"], true);
        assert_eq!(doc["phones_fake"], true);
    }

    #[test]
    fn other_roles() {
        let doc = workers(&sample_grids(), 2);
        let people = list(&doc, "workers");
        let of = |role: &str| people.iter().filter(|p| p["role"] == role).count();
        assert_eq!(of("cadre"), 3);
        // Two streets, six departments each, plus two rural departments in the town.
        assert_eq!(of("department_liaison"), 6 + 8);
        assert!((9..=18).contains(&of("volunteer")));
        // Residential grids: 1, 4, 6 in 新华社区 and 1, 4 in 胜利桥社区; 2–4 heads each.
        assert!(
            (10..=20).contains(&of("building_head")),
            "{}",
            of("building_head")
        );
        let cadre = people.iter().find(|p| p["id"] == "C370303001001").cloned();
        assert_eq!(cadre.as_ref().map(|c| list(c, "grids").len()), Some(6));
        assert_eq!(
            cadre.map(|c| c["unit"].clone()),
            Some("车站街道办事处".into())
        );
        for p in people.iter().filter(|p| p["role"] == "department_liaison") {
            let code = p["department"].as_str().unwrap_or("");
            assert!(catalog::unit_by_code(code).is_some(), "{p}");
        }
        let ids: BTreeSet<_> = people.iter().map(|p| p["id"].to_string()).collect();
        assert_eq!(ids.len(), people.len());
        let phones: BTreeSet<_> = people.iter().map(|p| p["phone"].to_string()).collect();
        assert_eq!(phones.len(), people.len());
        assert!(people.iter().all(|p| {
            p["phone"]
                .as_str()
                .is_some_and(|s| s.starts_with("199-0000-") && s.len() == 13)
        }));
    }

    #[test]
    fn on_call_rota_per_community() {
        let grids = sample_grids();
        let doc = workers(&grids, 3);
        let rota = list(&doc, "on_call_rota");
        assert_eq!(rota.len(), 3);
        let first = &rota[0];
        assert_eq!(first["community_code"], "370303001001");
        let weeks = list(first, "rota");
        assert_eq!(weeks.len(), 6);
        assert_eq!(weeks[0]["worker_id"], "W370303001001001");
        assert_eq!(weeks[5]["week"], 6);
    }

    #[test]
    fn deterministic() {
        let grids = sample_grids();
        let a = workers(&grids, 42).to_string();
        let mut shuffled = grids.clone();
        shuffled.reverse();
        assert_eq!(a, workers(&shuffled, 42).to_string());
        assert_ne!(a, workers(&grids, 43).to_string());
    }

    #[test]
    fn phones_are_distinct_beyond_ten_thousand() {
        let all: BTreeSet<String> = (0..25_000).map(phone).collect();
        assert_eq!(all.len(), 25_000);
        assert_eq!(phone(10_000), "199-0001-4321");
    }

    #[test]
    fn empty_input() {
        let doc = workers(&[], 1);
        assert_eq!(list(&doc, "workers").len(), 0);
        assert_eq!(list(&doc, "on_call_rota").len(), 0);
    }
}
