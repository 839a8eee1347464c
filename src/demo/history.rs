//! A year of synthetic reports for the demo district, and how the people handling them behave:
//! a few hundred appeals, one mass incident. The outcomes are not here: at first start
//! [`crate::demo::import`] drives the reports through the case engine, whose routing, working
//! calendar deadlines, escalation and incident rule decide what becomes of them.
//!
//! [`cases_sample`] builds `cases-sample.json`:
//! ```text
//! { "synthetic": true, "note": "…",
//!   "window": { "from": "2025-11-01", "to": "2026-10-31", "timezone": "Asia/Shanghai" },
//!   "reports": [{ "id": "CASE-2025-000001", "incident_id": null | "INC-2026-0001",
//!                 "channel": "citizen" | "hotline" | "patrol", "category": "C17",
//!                 "urgency": "red" | "yellow" | "green",       (the dispatcher's triage)
//!                 "reported_at": "2025-11-03T09:14:27+08:00", "location": [lon, lat],
//!                 "description": "…", "external_ticket": "12345-20251103-00012" (hotline),
//!                 "pace": { "triage": 0.31, "dispatch_min": 4, "on_site": 0.42,
//!                           "reply": 0.12, "resolve": 0.37 | null, "follow_up": 0.5,
//!                           "rating": "satisfied" | "basically_satisfied" | "unsatisfied",
//!                           "redo": null | { "on_site", "resolve", "follow_up", "rating" } } }, …],
//!   "incidents": [{ "id": "INC-2026-0001", "title": "…", "category": "C07",
//!                   "department": "D02", "estate": "…", "promised_delivery": "2026-05-23",
//!                   "grid_code", "community_code", "street_code", "location": [lon, lat],
//!                   "first_reported_at", "last_reported_at", "plan_announced_at",
//!                   "report_count": 230, "channels": { "citizen": 92, … }, "summary" }] }
//! ```
//! A pace is the share of the time the engine allows for a step, from the previous step to the
//! engine's deadline for that stage; above 1 the step is late. `resolve: null` means the case
//! is still being worked on when the window ends. Reports are sorted by `reported_at`; ids count
//! up per year; times are local (+08:00).
//!
//! About 260 ordinary reports are spread over the months by category and season (heating in
//! winter, drains in the rainy summer, wage arrears before the Spring Festival, school places
//! in summer), and over grids by population and kind. The incident adds 230 reports about one
//! housing estate not delivered on time, all from around the estate, over three weeks.

use crate::cases::calendar::{Date, TIMEZONE};
use crate::cases::lifecycle::Satisfaction;
use crate::cases::sla::Urgency;
use crate::demo::catalog::{CATEGORIES, Category, Handler};
use crate::demo::people::GridInfo;
use crate::spatial::synth::Rng;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// Reports in the mass incident.
pub const INCIDENT_CASES: usize = 230;

/// The housing delivery category and the department that owns it.
const HOUSING: &str = "C07";
const HOUSING_DEPARTMENT: &str = "D02";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Channel {
    #[serde(rename = "citizen")]
    App,
    #[serde(rename = "hotline")]
    Hotline,
    #[serde(rename = "patrol")]
    Patrol,
}

/// Local times are seconds since 1970-01-01T00:00 in +08:00.
fn stamp(t: i64) -> String {
    let date = Date::from_days(t.div_euclid(DAY));
    let s = t.rem_euclid(DAY);
    format!(
        "{date}T{:02}:{:02}:{:02}+08:00",
        s / HOUR,
        s / MINUTE % 60,
        s % MINUTE
    )
}

fn at(date: Date, hour: i64, minute: i64) -> i64 {
    date.days_since_epoch() * DAY + hour * HOUR + minute * MINUTE
}

fn date_of(t: i64) -> Date {
    Date::from_days(t.div_euclid(DAY))
}

/// Uniform whole seconds in [lo, hi).
fn span(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    rng.range(lo as f64, hi as f64) as i64
}

/// Index drawn in proportion to `weights` (uniform when they are all zero).
fn weighted(rng: &mut Rng, weights: impl Iterator<Item = f64> + Clone) -> usize {
    let total: f64 = weights.clone().sum();
    let n = weights.clone().count();
    if total <= 0.0 {
        return (rng.next_u64() % n.max(1) as u64) as usize;
    }
    let mut r = rng.unit() * total;
    for (i, w) in weights.enumerate() {
        if r < w {
            return i;
        }
        r -= w;
    }
    n.saturating_sub(1)
}

fn pick<'a>(rng: &mut Rng, list: &[&'a str]) -> &'a str {
    list[(rng.next_u64() % list.len() as u64) as usize]
}

/// Relative hourly volume of reports by channel (index = hour of day).
const APP_HOURS: [f64; 24] = [
    0.4, 0.2, 0.1, 0.1, 0.1, 0.3, 1.0, 3.0, 4.0, 5.0, 5.0, 5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 5.0,
    6.0, 6.0, 5.0, 3.0, 1.5,
];
const HOTLINE_HOURS: [f64; 24] = [
    0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 0.8, 2.0, 6.0, 6.0, 6.0, 5.0, 3.0, 4.0, 6.0, 6.0, 6.0, 5.0, 4.0,
    4.0, 3.5, 3.0, 1.5, 0.8,
];

fn time_of_day(rng: &mut Rng, channel: Channel) -> i64 {
    if channel == Channel::Patrol {
        // During the worker's own office hours.
        return if rng.unit() < 0.5 {
            span(rng, 8 * HOUR + 40 * MINUTE, 11 * HOUR + 50 * MINUTE)
        } else {
            span(rng, 13 * HOUR + 40 * MINUTE, 17 * HOUR + 20 * MINUTE)
        };
    }
    let table = if channel == Channel::App {
        &APP_HOURS
    } else {
        &HOTLINE_HOURS
    };
    let hour = weighted(rng, table.iter().copied()) as i64;
    hour * HOUR + span(rng, 0, HOUR)
}

/// How common a category is, relative to the others.
fn base_weight(code: &str) -> f64 {
    match code {
        "C01" => 8.0,
        "C10" => 7.0,
        "C02" | "C12" | "C17" => 5.0,
        "C04" | "C13" | "C22" => 4.0,
        "C03" | "C05" | "C08" | "C11" | "C14" | "C15" | "C18" | "C24" | "C26" | "C27" | "C29" => {
            3.0
        }
        "C06" | "C16" | "C19" | "C21" | "C23" | "C28" | "C30" | "C31" | "C32" | "C39" => 2.0,
        "C09" | "C20" | "C34" | "C35" => 1.5,
        "C07" | "C25" | "C37" | "C38" => 1.0,
        "C40" => 0.8,
        "C33" => 0.5,
        "C36" => 0.3,
        _ => 1.0,
    }
}

/// Seasonal factor of a category in a calendar month (1–12).
fn season(code: &str, month: u32) -> f64 {
    let is = |months: &[u32]| months.contains(&month);
    match code {
        // Heating season 15 November – 15 March, with test runs in late October.
        "C17" => match month {
            11 => 3.0,
            12 | 1 => 4.0,
            2 => 3.0,
            3 => 1.5,
            10 => 0.5,
            _ => 0.05,
        },
        "C05" | "C20" if is(&[11, 12, 1, 2]) => 2.0,
        "C08" => match month {
            12 => 2.5,
            1 => 3.0,
            2 => 1.5,
            _ => 0.6,
        },
        "C23" => match month {
            6 | 9 => 1.5,
            7 => 2.5,
            8 => 3.0,
            _ => 0.3,
        },
        "C29" if is(&[6, 7, 8]) => 2.5,
        "C29" => 0.7,
        "C19" if is(&[7, 8]) => 1.8,
        "C18" if is(&[7, 8]) => 1.6,
        "C12" if is(&[5, 6, 7, 8, 9]) => 1.6,
        "C12" => 0.8,
        "C11" if is(&[4, 5, 6, 7, 8, 9, 10]) => 1.4,
        "C11" if is(&[12, 1, 2]) => 0.5,
        "C01" if is(&[6, 7, 8, 9]) => 1.4,
        "C16" if is(&[6, 7, 8, 9]) => 1.6,
        "C21" if is(&[3, 4, 5]) => 1.4,
        "C14" if is(&[11, 12, 1, 2]) => 1.5,
        "C28" if is(&[4, 5, 6, 7, 8, 9]) => 1.5,
        "C32" if is(&[11, 12, 1, 2]) => 1.3,
        "C06" if is(&[12, 1, 2, 3]) => 1.4,
        _ => 1.0,
    }
}

fn is_commercial(kind: &str) -> bool {
    matches!(
        kind,
        "street-shops" | "market" | "mall" | "commercial-building"
    )
}

/// How likely a report of `code` comes from grid `g`, relative to other grids.
fn grid_weight(code: &str, g: &GridInfo) -> f64 {
    let people = f64::from(g.population) + 150.0;
    let kind = g.kind.as_str();
    let factor = match code {
        "C16" | "C26" | "C27" | "C36" if is_commercial(kind) => 4.0,
        "C11" | "C35" | "C40" if kind == "construction-site" => 6.0,
        "C08" | "C39" if kind == "construction-site" => 5.0,
        "C08" | "C39" if is_commercial(kind) => 2.0,
        "C09" if g.village => 5.0,
        "C09" => 0.3,
        "C17" if g.village => 0.2,
        "C10" if g.village => 0.1,
        "C10" | "C12" if kind == "residential" => 1.5,
        _ => 1.0,
    };
    people * factor
}

/// Categories a grid worker typically finds on patrol.
const PATROL_FINDS: &[&str] = &[
    "C01", "C04", "C05", "C06", "C13", "C14", "C15", "C27", "C28", "C29", "C31", "C40",
];

const URBAN_PLACES: &[&str] = &[
    "小区东门",
    "小区北门",
    "小区南门",
    "菜市场门口",
    "公交站旁",
    "幼儿园门口",
    "健身广场",
    "十字路口",
    "地下停车场入口",
    "沿街商铺前",
];
const VILLAGE_PLACES: &[&str] = &[
    "村委会门口",
    "村东头",
    "村西口",
    "文化广场",
    "村南小桥",
    "幸福院门口",
    "村内主路",
];

/// Description templates; `{c}` community, `{b}` building, `{u}` unit, `{p}` place.
#[rustfmt::skip]
fn templates(code: &str) -> &'static [&'static str] {
    match code {
        "C01" => &["{c}{b}号楼旁垃圾桶满溢，已有异味，请尽快清运。", "{p}附近建筑垃圾堆放多日无人清理。", "{p}卫生死角杂物成堆，蚊虫很多。"],
        "C02" => &["楼上住户装修漏水到我家，协商不成，请网格员帮忙调解。", "{b}号楼邻居在楼道堆放杂物，多次沟通无果。", "因停车位问题和邻居发生争执，希望帮忙协调。"],
        "C03" => &["咨询房屋租赁纠纷怎么处理，房东不退押金。", "老人遗产继承兄弟姐妹有分歧，想找人调解。", "咨询借款不还该怎么走法律程序。"],
        "C04" => &["{p}的健身器材损坏，螺丝松动，有安全隐患。", "{p}路边座椅坏了很久没人修。", "{b}号楼单元门门禁坏了，陌生人随意进出。"],
        "C05" => &["{b}号楼{u}单元一户老人家燃气灶旁没装一氧化碳报警器，需联系安装。", "入户发现居民家燃气软管老化开裂，需要更换。", "独居老人冬天用炉子取暖，没有报警器，担心煤气中毒。"],
        "C06" => &["{b}号楼楼道里有人给电动车飞线充电，很危险。", "{p}消防通道被车辆长期占用。", "{b}号楼楼道堆满纸箱杂物，堵住了安全出口。"],
        "C07" => &["所购商品房已过合同约定交房日期，开发商未交付。", "买的房子逾期交付，开发商说还要再等半年，要求给个说法。"],
        "C08" => &["在{p}附近工地干活，老板拖欠三个月工资不给。", "装修队老板拖欠我们几个工人的工资，请帮忙讨薪。", "饭店关门了，老板拖欠员工工资联系不上。"],
        "C09" => &["征地补偿款迟迟没有发放到位。", "对拆迁补偿标准有异议，想了解政策依据。", "拆迁后过渡安置费没有按时发放。"],
        "C10" => &["{b}号楼电梯经常坏，物业修了又坏。", "物业费涨价没有公示，业主不认可。", "物业撤场后垃圾没人收，路灯没人管。"],
        "C11" => &["{p}附近工地夜间施工，噪音太大影响休息。", "工地早上五点就开始打桩，严重扰民。"],
        "C12" => &["{p}广场舞音响声音太大，晚上九点多还在跳。", "楼上住户深夜有噪音，多次沟通无果。", "{b}号楼有住户养的狗整夜叫，影响休息。"],
        "C13" => &["{p}路面塌陷出现大坑，电动车经过很危险。", "{p}道路破损严重，下雨后全是积水。"],
        "C14" => &["{p}一排路灯不亮，晚上出行不便。", "{p}路灯坏了一个多星期了。"],
        "C15" => &["{b}号楼一楼住户私自扩建院子，占用公共绿地。", "{b}号楼楼顶有人违规搭建彩钢房。"],
        "C16" => &["{p}一家饭店后厨脏乱，卫生条件差。", "在附近超市买到过期食品。", "路边摊贩无证经营熟食，卫生堪忧。"],
        "C17" => &["家里暖气不热，室温只有十四五度，请尽快处理。", "{b}号楼{u}单元暖气管道漏水。", "已经交了取暖费，但一直没有供上暖。"],
        "C18" => &["{c}停水没有提前通知，什么时候恢复？", "自来水发黄有异味，不敢饮用。", "{b}号楼水压太低，高层用不上水。"],
        "C19" => &["{b}号楼突然停电，已经两个多小时了。", "电压不稳，家里电器经常跳闸。"],
        "C20" => &["{b}号楼{u}单元楼道里燃气味很重，请马上派人来看！", "家里燃气突然停了，没有接到任何通知。"],
        "C21" => &["{p}附近有多只流浪狗，晚上追咬行人。", "有人遛狗不拴绳，孩子被吓到了。"],
        "C22" => &["{p}车辆乱停，堵住小区出入口。", "学校门口上下学时段交通拥堵，需要疏导。"],
        "C23" => &["咨询孩子入学需要准备哪些材料，户口不在本区。", "幼儿园学位紧张，孩子报不上名。"],
        "C24" => &["咨询灵活就业人员怎么缴纳养老保险。", "医保异地就医备案怎么办理？", "查询退休手续办理进度。"],
        "C25" => &["手术后出现并发症，对医院的处理不满意。", "对诊所的收费和治疗效果有异议，协商不成。"],
        "C26" => &["在商场买的电器有质量问题，商家拒绝退换。", "健身房突然关门，预付卡里的钱退不了。", "理发店办卡后被强制消费。"],
        "C27" => &["{p}早市摊贩占道经营，行人车辆都过不去。", "{p}烧烤摊占用人行道，油烟扰民。"],
        "C28" => &["{b}号楼前的树太高，挡住了低层住户采光。", "大风刮断的树枝挂在电线上，很危险。", "{p}绿地被人毁坏种菜。"],
        "C29" => &["{b}号楼下水道堵塞，污水冒到院子里。", "下雨后{p}积水排不出去。"],
        "C30" => &["家里有重病患者，咨询能否申请低保。", "查询困难家庭临时救助申请进度。"],
        "C31" => &["{b}号楼独居老人行动不便，希望有人定期上门看看。", "咨询社区老年食堂助餐卡怎么办理。", "高龄老人需要帮忙代办高龄津贴。"],
        "C32" => &["{p}附近有工厂排放刺鼻气味，晚上更严重。", "餐馆油烟直排，对着居民楼窗户。", "工地扬尘大，没有覆盖和洒水。"],
        "C33" => &["咨询退役军人优待证的办理流程。", "咨询退役军人就业帮扶政策。"],
        "C34" => &["家里因赡养老人问题闹矛盾，请帮忙调解。", "{b}号楼一户夫妻经常吵架，邻居担心出事，请网格员关注。"],
        "C35" => &["新交付的房子墙体开裂、窗户渗水，开发商推诿不修。", "{b}号楼外墙保温层脱落，存在安全隐患。"],
        "C36" => &["发现有商店销售假冒知名品牌商品。", "自己的商标被附近店铺冒用。"],
        "C37" => &["孩子在学校被同学欺负，和学校沟通没有结果。", "学校门口有流动摊贩卖三无食品。"],
        "C38" => &["发生交通事故后对方不赔偿，想申请调解。", "电动车与汽车刮碰，对责任认定有争议。"],
        "C39" => &["公司不签劳动合同，也不缴社保。", "工伤认定后单位不支付工伤待遇。", "被单位无故辞退，没有经济补偿。"],
        "C40" => &["{p}附近小作坊违规存放液化气罐，安全隐患大。", "一家企业车间没有安全防护，工人作业危险。"],
        _ => &["群众反映问题，需核实处理。"],
    }
}

const ESTATES: &[&str] = &[
    "锦华府",
    "御景苑",
    "和顺家园",
    "东方名郡",
    "翰林华府",
    "悦澜湾",
];

/// Incident templates; `{e}` estate, `{d}` promised delivery date, `{b}` building, `{u}` unit.
const INCIDENT_TEMPLATES: &[&str] = &[
    "我买的{e}{b}号楼的房子，合同约定{d}交房，到现在还没交付，请政府帮忙协调。",
    "{e}项目逾期交付，工地停工好几个月了，要求开发商给出明确的交房时间。",
    "{e}{b}号楼{u}单元业主，合同写的{d}交付，楼还没完工，房贷每月照还，压力很大。",
    "反映{e}延期交房，开发商不按合同支付违约金，请有关部门督促。",
    "{e}逾期未交房，售楼处已经关门，联系不上开发商，业主们很着急。",
    "{e}交房一拖再拖，孩子上学落户都受影响，希望尽快交付。",
    "之前反映过{e}逾期交付，想了解处理进展，希望给个准信。",
];
const INCIDENT_PATROL_TEMPLATES: &[&str] = &[
    "网格员巡查发现{e}业主在售楼处聚集，反映逾期交付问题，情绪较激动，已现场劝导并上报。",
    "网格员走访{e}业主，多户反映项目逾期交付，诉求集中，已上报。",
];

fn fill(template: &str, rng: &mut Rng, g: &GridInfo) -> String {
    let places = if g.village {
        VILLAGE_PLACES
    } else {
        URBAN_PLACES
    };
    template
        .replace("{c}", &g.community_name)
        .replace("{b}", &(1 + rng.next_u64() % 24).to_string())
        .replace("{u}", &(1 + rng.next_u64() % 4).to_string())
        .replace("{p}", pick(rng, places))
}

/// How the people handling one report behave: each step comes at a share of the time the case
/// engine allows for it (from the previous step to the engine's deadline for that stage, on the
/// working calendar); a share above 1 is late. The deadlines themselves are the engine's.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Pace {
    /// The dispatcher's triage.
    pub triage: f64,
    /// Minutes from triage to dispatch.
    pub dispatch_min: i64,
    /// On site (到场).
    pub on_site: f64,
    /// The reply to the citizen.
    pub reply: f64,
    /// The resolution; absent: still being worked on when the window ends.
    pub resolve: Option<f64>,
    /// The follow-up visit (回访), where the citizen's rating is taken.
    pub follow_up: f64,
    /// The citizen's rating.
    pub rating: Satisfaction,
    /// After an unsatisfied rating: the redo (重办) and its rating.
    pub redo: Option<Redo>,
}

/// The redo round after an unsatisfied rating.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Redo {
    /// On site again.
    pub on_site: f64,
    /// Resolved again.
    pub resolve: f64,
    /// The second follow-up visit.
    pub follow_up: f64,
    /// The rating after the redo.
    pub rating: Satisfaction,
}

#[derive(Debug, Clone)]
struct Draft {
    reported: i64,
    incident: bool,
    channel: Channel,
    category: &'static Category,
    urgency: Urgency,
    location: [f64; 2],
    description: String,
    pace: Pace,
}

/// Satisfaction with `unsatisfied` and `basic` shares.
fn rate(rng: &mut Rng, unsatisfied: f64, basic: f64) -> Satisfaction {
    let r = rng.unit();
    if r < unsatisfied {
        Satisfaction::Unsatisfied
    } else if r < unsatisfied + basic {
        Satisfaction::BasicallySatisfied
    } else {
        Satisfaction::Satisfied
    }
}

/// A share of the allowed time in `[lo, hi)`, or late (`1.05..late_max`) with probability
/// `late`.
fn share(rng: &mut Rng, lo: f64, hi: f64, late: f64, late_max: f64) -> f64 {
    let s = if rng.unit() < late {
        rng.range(1.05, late_max)
    } else {
        rng.range(lo, hi)
    };
    (s * 1000.0).round() / 1000.0
}

/// The pace of an ordinary report.
fn pace(rng: &mut Rng, channel: Channel, department: bool, code: &str, recent: bool) -> Pace {
    let hard = matches!(code, "C07" | "C08" | "C09" | "C15" | "C39");
    // A few hard cases reported lately are still being worked on.
    let stuck = recent && rng.unit() < if hard { 0.3 } else { 0.05 };
    let late = if hard {
        0.2
    } else if department {
        0.08
    } else {
        0.04
    };
    let resolve = share(
        rng,
        if department { 0.15 } else { 0.05 },
        if department { 0.95 } else { 0.5 },
        late,
        3.0,
    );
    let unsatisfied = if department { 0.08 } else { 0.04 } + if resolve > 1.0 { 0.1 } else { 0.0 };
    let rating = rate(rng, unsatisfied, 0.15);
    let redo = (rating == Satisfaction::Unsatisfied).then(|| Redo {
        on_site: share(rng, 0.05, 0.6, 0.04, 2.0),
        resolve: share(rng, 0.1, 0.9, 0.05, 2.0),
        follow_up: share(rng, 0.05, 0.9, 0.04, 1.6),
        rating: if rng.unit() < 0.6 {
            Satisfaction::Satisfied
        } else {
            Satisfaction::BasicallySatisfied
        },
    });
    Pace {
        triage: share(rng, 0.02, 0.5, 0.03, 2.5),
        dispatch_min: span(rng, 1, 12),
        on_site: if channel == Channel::Patrol {
            // The worker who found it is there.
            share(rng, 0.01, 0.05, 0.0, 1.0)
        } else {
            share(rng, 0.05, 0.9, 0.04, 4.0)
        },
        reply: share(rng, 0.02, if department { 0.8 } else { 0.35 }, 0.04, 2.5),
        resolve: (!stuck).then_some(resolve),
        follow_up: share(rng, 0.05, 0.9, 0.04, 1.6),
        rating,
        redo,
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    first: Date,
    days: i64,
}

/// The months of the window, the first and last possibly partial.
fn slots(start: Date, end: Date) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut first = start;
    while first <= end {
        let last_of_month = Date {
            day: crate::cases::calendar::days_in_month(first.year, first.month),
            ..first
        };
        let last = last_of_month.min(end);
        out.push(Slot {
            first,
            days: last.days_since_epoch() - first.days_since_epoch() + 1,
        });
        first = last.add_days(1);
    }
    out
}

/// One ordinary case.
fn ordinary(
    rng: &mut Rng,
    grids: &[GridInfo],
    points: &dyn Fn(usize, &mut Rng) -> [f64; 2],
    slots: &[Slot],
    now: i64,
) -> Draft {
    let pairs: Vec<(usize, usize)> = (0..slots.len())
        .flat_map(|s| (0..CATEGORIES.len()).map(move |c| (s, c)))
        .collect();
    let k = weighted(
        rng,
        pairs.iter().map(|&(s, c)| {
            let code = CATEGORIES[c].code;
            base_weight(code) * season(code, slots[s].first.month) * slots[s].days as f64
        }),
    );
    let (s, c) = pairs[k];
    let category = &CATEGORIES[c];
    let day = slots[s].first.add_days(span(rng, 0, slots[s].days));
    let grid = weighted(rng, grids.iter().map(|g| grid_weight(category.code, g)));
    let g = &grids[grid];
    let patrol = PATROL_FINDS.contains(&category.code) && !day.is_weekend();
    let utility = matches!(category.code, "C17" | "C18" | "C19" | "C20");
    let channel = if patrol && rng.unit() < 0.45 {
        Channel::Patrol
    } else if rng.unit() < if utility { 0.7 } else { 0.5 } {
        Channel::Hotline
    } else {
        Channel::App
    };
    let reported = day.days_since_epoch() * DAY + time_of_day(rng, channel);
    let urgency = match (category.urgency, rng.unit() < 0.06) {
        (Urgency::Green, true) => Urgency::Yellow,
        (Urgency::Yellow, true) => Urgency::Red,
        (u, _) => u,
    };
    let department = matches!(category.handler, Handler::Department(_));
    let text = fill(pick(rng, templates(category.code)), rng, g);
    let description = match channel {
        Channel::Patrol => format!("网格员巡查发现：{text}"),
        Channel::Hotline => format!("市民来电反映：{text}"),
        Channel::App => text,
    };
    let location = round(points(grid, rng));
    let recent = reported > now - 60 * DAY;
    let pace = pace(rng, channel, department, category.code, recent);
    Draft {
        reported,
        incident: false,
        channel,
        category,
        urgency,
        location,
        description,
        pace,
    }
}

fn round(p: [f64; 2]) -> [f64; 2] {
    p.map(|v| (v * 1e6).round() / 1e6)
}

/// What the incident is about, for its record.
struct IncidentPlan {
    grid: usize,
    center: [f64; 2],
    estate: &'static str,
    promised: Date,
    plan_at: i64,
}

/// The grid of the incident: one of the largest urban residential grids.
fn incident_grid(rng: &mut Rng, grids: &[GridInfo]) -> usize {
    let mut candidates: Vec<usize> = (0..grids.len())
        .filter(|&i| !grids[i].village && grids[i].kind == "residential")
        .collect();
    if candidates.is_empty() {
        candidates = (0..grids.len()).filter(|&i| !grids[i].village).collect();
    }
    if candidates.is_empty() {
        candidates = (0..grids.len()).collect();
    }
    candidates.sort_by_key(|&i| (std::cmp::Reverse(grids[i].households), i));
    candidates.truncate(10);
    candidates[(rng.next_u64() % candidates.len() as u64) as usize]
}

/// The 230 reports of the mass incident, starting `start`.
fn incident(
    rng: &mut Rng,
    grids: &[GridInfo],
    points: &dyn Fn(usize, &mut Rng) -> [f64; 2],
    start: Date,
) -> (IncidentPlan, Vec<Draft>) {
    let grid = incident_grid(rng, grids);
    let center = points(grid, rng);
    let estate = pick(rng, ESTATES);
    let promised = start.add_days(-span(rng, 1, 6));
    // The district's joint meeting gives every owner the developer's committed plan.
    let plan_at = at(start.add_days(3), 10, 0);
    let category = CATEGORIES
        .iter()
        .find(|c| c.code == HOUSING)
        .unwrap_or(&CATEGORIES[0]);
    let date_zh = format!("{}年{}月{}日", promised.year, promised.month, promised.day);
    let mut drafts = Vec::with_capacity(INCIDENT_CASES);
    for _ in 0..INCIDENT_CASES {
        // Most owners report in the first days; then it tails off over three weeks.
        let day = start.add_days((24.0 * rng.unit().powi(2)) as i64);
        let r = rng.unit();
        let channel = if r < 0.08 && !day.is_weekend() {
            Channel::Patrol
        } else if r < 0.55 {
            Channel::Hotline
        } else {
            Channel::App
        };
        let reported = day.days_since_epoch() * DAY + time_of_day(rng, channel);
        let list = if channel == Channel::Patrol {
            INCIDENT_PATROL_TEMPLATES
        } else {
            INCIDENT_TEMPLATES
        };
        let text = pick(rng, list)
            .replace("{e}", estate)
            .replace("{d}", &date_zh)
            .replace("{b}", &(1 + rng.next_u64() % 18).to_string())
            .replace("{u}", &(1 + rng.next_u64() % 3).to_string());
        let description = if channel == Channel::Hotline {
            format!("市民来电反映：{text}")
        } else {
            text
        };
        // Owners report from the estate: within about 100 m of its centre.
        let location = round([
            center[0] + rng.range(-0.0011, 0.0011),
            center[1] + rng.range(-0.0009, 0.0009),
        ]);
        let pace = pace(rng, channel, true, HOUSING, false);
        drafts.push(Draft {
            reported,
            incident: true,
            channel,
            category,
            urgency: category.urgency,
            location,
            description,
            pace,
        });
    }
    drafts.sort_by_key(|d| d.reported);
    (
        IncidentPlan {
            grid,
            center: round(center),
            estate,
            promised,
            plan_at,
        },
        drafts,
    )
}

#[derive(Debug, Serialize)]
struct ReportOut {
    id: String,
    incident_id: Option<String>,
    channel: Channel,
    category: &'static str,
    urgency: Urgency,
    reported_at: String,
    location: [f64; 2],
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_ticket: Option<String>,
    pace: Pace,
}

#[derive(Debug, Serialize)]
struct IncidentOut {
    id: String,
    title: String,
    category: &'static str,
    department: &'static str,
    estate: &'static str,
    promised_delivery: String,
    grid_code: String,
    community_code: String,
    street_code: String,
    location: [f64; 2],
    first_reported_at: String,
    last_reported_at: String,
    plan_announced_at: String,
    report_count: usize,
    channels: BTreeMap<&'static str, usize>,
    summary: String,
}

#[derive(Debug, Serialize)]
struct WindowOut {
    from: String,
    to: String,
    timezone: &'static str,
}

#[derive(Debug, Serialize)]
struct HistoryDoc {
    synthetic: bool,
    note: &'static str,
    window: WindowOut,
    reports: Vec<ReportOut>,
    incidents: Vec<IncidentOut>,
}

fn channel_key(c: Channel) -> &'static str {
    match c {
        Channel::App => "citizen",
        Channel::Hotline => "hotline",
        Channel::Patrol => "patrol",
    }
}

/// `cases-sample.json`: about 490 reports over the 12 months ending with `end_date`
/// (year, month, day; an impossible month or day is clamped into range), 230 of them about one
/// housing estate, each with the pace of its handling. `points(i, rng)` must return a WGS84 `[lon, lat]` inside `grids[i]`. With no grids
/// there are no cases.
///
/// ```
/// # use tessera::demo::{history::cases_sample, people::GridInfo};
/// let grid = GridInfo {
///     code: "370303001001004".into(), name: "新华社区第4网格".into(), kind: "residential".into(),
///     community_code: "370303001001".into(), community_name: "新华社区".into(),
///     street_code: "370303001".into(), street_name: "车站街道".into(),
///     households: 320, population: 870, village: false,
/// };
/// let doc = cases_sample(&[grid], &|_, rng| [118.05 + rng.range(0.0, 0.001), 36.80], 1, (2026, 3, 31));
/// assert_eq!(doc["incidents"][0]["report_count"], 230);
/// assert!(doc["reports"][0]["pace"]["on_site"].as_f64().is_some());
/// assert_eq!(doc["window"]["from"], "2025-04-01");
/// ```
pub fn cases_sample(
    grids: &[GridInfo],
    points: &dyn Fn(usize, &mut Rng) -> [f64; 2],
    seed: u64,
    end_date: (i32, u32, u32),
) -> Value {
    let (year, month, day) = end_date;
    let month = month.clamp(1, 12);
    let end = Date {
        year,
        month,
        day: day.clamp(1, crate::cases::calendar::days_in_month(year, month)),
    };
    let start = Date {
        year: year - 1,
        month,
        day: end
            .day
            .min(crate::cases::calendar::days_in_month(year - 1, month)),
    }
    .add_days(1);
    let now = at(end.add_days(1), 0, 0) - 1;
    let mut rng = Rng::new(seed);
    let mut drafts = Vec::new();
    let mut plan = None;
    if !grids.is_empty() {
        let slots = slots(start, end);
        let n = 255 + rng.next_u64() % 11;
        for _ in 0..n {
            drafts.push(ordinary(&mut rng, grids, points, &slots, now));
        }
        let incident_start = end.add_days(-span(&mut rng, 90, 210));
        let (p, reports) = incident(&mut rng, grids, points, incident_start);
        drafts.extend(reports);
        plan = Some((p, incident_start));
    }
    drafts.sort_by_key(|d| d.reported);
    let incident_id = plan.as_ref().map(|(_, s)| format!("INC-{}-0001", s.year));
    let mut per_year: BTreeMap<i32, usize> = BTreeMap::new();
    let reports: Vec<ReportOut> = drafts
        .iter()
        .map(|d| {
            let date = date_of(d.reported);
            let seq = per_year.entry(date.year).or_insert(0);
            *seq += 1;
            ReportOut {
                id: format!("CASE-{}-{seq:06}", date.year),
                incident_id: if d.incident {
                    incident_id.clone()
                } else {
                    None
                },
                channel: d.channel,
                category: d.category.code,
                urgency: d.urgency,
                reported_at: stamp(d.reported),
                location: d.location,
                description: d.description.clone(),
                external_ticket: (d.channel == Channel::Hotline).then(|| {
                    format!(
                        "12345-{:04}{:02}{:02}-{seq:05}",
                        date.year, date.month, date.day
                    )
                }),
                pace: d.pace.clone(),
            }
        })
        .collect();
    let incidents = plan
        .into_iter()
        .zip(incident_id)
        .map(|((p, _), id)| {
            let mine: Vec<&Draft> = drafts.iter().filter(|d| d.incident).collect();
            let mut channels = BTreeMap::new();
            for d in &mine {
                *channels.entry(channel_key(d.channel)).or_insert(0) += 1;
            }
            let g = &grids[p.grid];
            let first = mine.first().map(|d| d.reported).unwrap_or(p.plan_at);
            let last = mine.last().map(|d| d.reported).unwrap_or(p.plan_at);
            IncidentOut {
                id,
                title: format!("{}项目逾期交付群体性诉求", p.estate),
                category: HOUSING,
                department: HOUSING_DEPARTMENT,
                estate: p.estate,
                promised_delivery: p.promised.to_string(),
                grid_code: g.code.clone(),
                community_code: g.community_code.clone(),
                street_code: g.street_code.clone(),
                location: p.center,
                first_reported_at: stamp(first),
                last_reported_at: stamp(last),
                plan_announced_at: stamp(p.plan_at),
                report_count: mine.len(),
                channels,
                summary: format!(
                    "{}（{}，{}）业主集中反映房屋逾期交付，合并为一个群体性诉求，由区级牵头、住建部门\
                     会同街道协调开发商，于{}公布交付计划。",
                    p.estate,
                    g.community_name,
                    g.street_name,
                    stamp(p.plan_at).get(0..10).unwrap_or_default()
                ),
            }
        })
        .collect();
    let doc = HistoryDoc {
        synthetic: true,
        note: "Synthetic demo case history: the appeals, people, places and the housing estate \
               are made up; the volumes and the pace of handling only imitate a real service \
               center. Routing, deadlines, overdue stages, escalations and mass incidents are \
               the case engine's, when the reports are driven through it at first start.",
        window: WindowOut {
            from: start.to_string(),
            to: end.to_string(),
            timezone: TIMEZONE,
        },
        reports,
        incidents,
    };
    match serde_json::to_value(&doc) {
        Ok(value) => value,
        // Strings, numbers, sequences and string-keyed maps cannot fail to serialize.
        Err(e) => unreachable!("a case history always serializes: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// 40 grids: two urban communities of 12 mixed grids and a town with 16 village grids.
    fn grids() -> Vec<GridInfo> {
        let communities = [
            (
                "370303001001",
                "新华社区",
                "370303001",
                "车站街道",
                false,
                12,
            ),
            (
                "370303002003",
                "公园东社区",
                "370303002",
                "公园街道",
                false,
                12,
            ),
            ("370303107201", "房镇村", "370303107", "房镇镇", true, 16),
        ];
        let kinds = [
            "residential",
            "residential",
            "street-shops",
            "market",
            "residential",
            "mall",
            "construction-site",
            "commercial-building",
        ];
        crate::demo::people::test_grids(&communities, &kinds, (250, 17), (700, 40))
    }

    fn point(i: usize, rng: &mut Rng) -> [f64; 2] {
        [
            118.0 + 0.01 * i as f64 + rng.range(0.0, 0.005),
            36.8 + rng.range(0.0, 0.004),
        ]
    }

    fn sample(seed: u64) -> Value {
        cases_sample(&grids(), &point, seed, (2026, 3, 31))
    }

    fn cases(doc: &Value) -> Vec<Value> {
        doc["reports"].as_array().cloned().unwrap_or_default()
    }

    fn time(v: &Value) -> Option<String> {
        v.as_str().map(str::to_owned)
    }

    #[test]
    fn count_and_window() {
        for seed in [1, 2, 2026] {
            let doc = sample(seed);
            let all = cases(&doc);
            assert!((300..=500).contains(&all.len()), "{}", all.len());
            assert_eq!(doc["window"]["from"], "2025-04-01");
            assert_eq!(doc["window"]["to"], "2026-03-31");
            for c in &all {
                let at = time(&c["reported_at"]).unwrap_or_default();
                assert!(at.as_str() >= "2025-04-01T00:00:00+08:00", "{at}");
                assert!(at.as_str() <= "2026-03-31T23:59:59+08:00", "{at}");
                assert!(at.ends_with("+08:00") && at.len() == 25, "{at}");
                assert!(Date::parse(&at[..10]).is_some(), "{at}");
            }
        }
    }

    #[test]
    fn paces_are_shares_of_the_engines_allowed_time_mostly_in_time() {
        let all = cases(&sample(11));
        let n = all.len() as f64;
        let (mut steps, mut late) = (0.0, 0.0);
        for c in &all {
            let p = &c["pace"];
            for k in ["triage", "on_site", "reply", "resolve", "follow_up"] {
                if let Some(x) = p[k].as_f64() {
                    assert!(x > 0.0 && x < 4.0, "{k} {x} in {c}");
                    steps += 1.0;
                    late += f64::from(x > 1.0);
                }
            }
            assert!((1..12).contains(&p["dispatch_min"].as_i64().unwrap_or(0)));
            // A redo exactly when the citizen is unsatisfied.
            assert_eq!(p["redo"].is_object(), p["rating"] == "unsatisfied", "{c}");
        }
        assert!(late / steps < 0.1 && late > 0.0, "late {late} of {steps}");
        let stuck = all
            .iter()
            .filter(|c| c["pace"]["resolve"].is_null())
            .count() as f64;
        assert!(stuck > 0.0 && stuck / n < 0.05, "stuck {stuck} of {n}");
        assert!(all.iter().any(|c| c["pace"]["rating"] == "unsatisfied"));
        let channels: BTreeSet<_> = all.iter().map(|c| c["channel"].to_string()).collect();
        assert_eq!(channels.len(), 3);
        // Hotline reports carry their 12345 work order number.
        for c in &all {
            assert_eq!(
                c["channel"] == "hotline",
                c["external_ticket"].is_string(),
                "{c}"
            );
        }
    }

    #[test]
    fn one_mass_incident_reported_around_one_estate() {
        let doc = sample(5);
        let all = cases(&doc);
        let incidents = doc["incidents"].as_array().cloned().unwrap_or_default();
        assert_eq!(incidents.len(), 1);
        let inc = &incidents[0];
        let mine: Vec<&Value> = all
            .iter()
            .filter(|c| c["incident_id"] == inc["id"])
            .collect();
        assert!(mine.len() >= 200);
        assert_eq!(inc["report_count"], mine.len());
        let code = inc["grid_code"].as_str().unwrap_or_default();
        let g = grids().into_iter().find(|g| g.code == code);
        assert!(g.is_some_and(|g| !g.village && g.kind == "residential"));
        // Within the incident rule's 300 m of the estate (about 0.0011° × 0.0009°).
        let (x0, y0) = (
            inc["location"][0].as_f64().unwrap(),
            inc["location"][1].as_f64().unwrap(),
        );
        for c in &mine {
            assert_eq!(c["category"], HOUSING);
            let (x, y) = (
                c["location"][0].as_f64().unwrap(),
                c["location"][1].as_f64().unwrap(),
            );
            assert!((x - x0).abs() <= 0.0012 && (y - y0).abs() <= 0.001, "{c}");
        }
        let channels: BTreeSet<_> = mine.iter().map(|c| c["channel"].to_string()).collect();
        assert!(channels.len() >= 2);
        let texts: BTreeSet<_> = mine.iter().map(|c| c["description"].to_string()).collect();
        assert!(texts.len() > 20);
        let first = time(&inc["first_reported_at"]).unwrap_or_default();
        let last = time(&inc["last_reported_at"]).unwrap_or_default();
        let days = |t: &str| {
            Date::parse(&t[..10])
                .map(Date::days_since_epoch)
                .unwrap_or(0)
        };
        assert!(
            (7..=30).contains(&(days(&last) - days(&first))),
            "{first} {last}"
        );
        assert!(time(&inc["plan_announced_at"]).unwrap_or_default() > first);
    }

    #[test]
    fn every_category_has_text() {
        for c in CATEGORIES {
            assert!(
                !templates(c.code)[0].starts_with("群众"),
                "{} has no templates",
                c.code
            );
        }
        assert_eq!(
            CATEGORIES
                .iter()
                .find(|c| c.code == HOUSING)
                .map(|c| c.handler),
            Some(Handler::Department(HOUSING_DEPARTMENT))
        );
    }

    #[test]
    fn heating_complaints_come_in_winter() {
        let mut winter = 0;
        let mut other = 0;
        for seed in 0..4 {
            for c in cases(&sample(seed))
                .iter()
                .filter(|c| c["category"] == "C17")
            {
                let month = time(&c["reported_at"]).and_then(|t| t[5..7].parse::<u32>().ok());
                if matches!(month, Some(11 | 12 | 1 | 2 | 3)) {
                    winter += 1
                } else {
                    other += 1
                }
            }
        }
        assert!(
            winter > 10 * other.max(1) / 2 && winter > 20,
            "winter {winter}, other {other}"
        );
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let a = serde_json::to_string(&sample(99)).unwrap_or_default();
        assert!(!a.is_empty());
        assert_eq!(a, serde_json::to_string(&sample(99)).unwrap_or_default());
        assert_ne!(a, serde_json::to_string(&sample(100)).unwrap_or_default());
    }

    #[test]
    fn ids_count_up_per_year() {
        let all = cases(&sample(4));
        let ids: Vec<String> = all.iter().filter_map(|c| time(&c["id"])).collect();
        assert_eq!(ids.first().map(String::as_str), Some("CASE-2025-000001"));
        assert!(ids.contains(&"CASE-2026-000001".to_owned()));
        assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len());
    }

    #[test]
    fn leap_day_and_bad_dates() {
        let doc = cases_sample(&grids(), &point, 1, (2028, 2, 29));
        assert_eq!(doc["window"]["from"], "2027-03-01");
        let doc = cases_sample(&grids(), &point, 1, (2026, 13, 40));
        assert_eq!(doc["window"]["to"], "2026-12-31");
        let empty = cases_sample(&[], &point, 1, (2026, 3, 31));
        assert_eq!(cases(&empty).len(), 0);
        assert_eq!(empty["incidents"].as_array().map(Vec::len), Some(0));
    }

    #[test]
    fn time_helpers() {
        let t = at(
            Date {
                year: 2026,
                month: 1,
                day: 2,
            },
            9,
            5,
        ) + 7;
        assert_eq!(stamp(t), "2026-01-02T09:05:07+08:00");
        let mut rng = Rng::new(1);
        for _ in 0..100 {
            let x = share(&mut rng, 0.1, 0.5, 0.0, 2.0);
            assert!((0.1..=0.5).contains(&x));
            assert!(share(&mut rng, 0.1, 0.5, 1.0, 2.0) > 1.0);
        }
    }
}
