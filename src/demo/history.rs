//! A year of synthetic case history for the demo district: a few hundred appeals with their
//! handling milestones, satisfaction and redos, and one mass incident.
//!
//! [`cases_sample`] builds `cases-sample.json`:
//! ```text
//! { "synthetic": true, "note": "…",
//!   "window": { "from": "2025-04-01", "to": "2026-03-31", "timezone": "Asia/Shanghai" },
//!   "service_level": { "accept_min": 30, "reply_h": 24, "resolve_h": 72, "visit_h": 120 },
//!   "cases": [{ "id": "CASE-2025-000001", "incident_id": null | "INC-2025-0001",
//!               "channel": "citizen_app" | "hotline_12345" | "patrol",
//!               "category": "C17", "urgency": "red" | "yellow" | "green",
//!               "reported_at": "2025-11-03T09:14:27+08:00", "location": [lon, lat],
//!               "grid_code": "370303001001004", "worker_id": "W370303001001004",
//!               "level": "grid" | "department" | "district", "department": null | "D41",
//!               "description": "…", "state": "closed" | "open",
//!               "accepted_at", "replied_at", "resolved_at", "visited_at": "…" | null,
//!               "overdue": ["resolved", …],
//!               "satisfaction": null | "satisfied" | "basically_satisfied" | "unsatisfied",
//!               "redo": null | { "reopened_at", "resolved_at", "visited_at", "satisfaction" } }, …],
//!   "incidents": [{ "id": "INC-2025-0001", "title": "…", "category": "C07", "level": "district",
//!                   "department": "D02", "estate": "…", "promised_delivery": "2025-09-23",
//!                   "grid_code", "community_code", "street_code", "first_reported_at",
//!                   "last_reported_at", "plan_announced_at", "case_count": 230,
//!                   "channels": { "citizen_app": 92, … }, "state", "summary" }] }
//! ```
//! Cases are sorted by `reported_at`; ids count up per year. Times are local (+08:00). The
//! window is the 12 months ending with `end_date`; the generator's "now" is the end of that
//! day, so milestones that would fall later are `null` and the case is `open`. A milestone is
//! `overdue` when it came, or is still missing, after its 30135 deadline counted from the
//! report: accept 30 min, reply 1 day, resolve 3 days, visit 5 days (calendar time). Replies
//! and resolutions happen between 08:00 and 20:00 on any day (red cases at any hour); follow-up
//! visits in office hours, Monday to Friday (public holidays are not modelled here).
//!
//! About 260 ordinary cases are spread over the months by category and season (heating in
//! winter, drains in the rainy summer, wage arrears before the Spring Festival, school places
//! in summer), and over grids by population and kind. The incident adds 230 reports about one
//! housing estate not delivered on time, all in one urban residential grid, over three weeks.

use crate::cases::calendar::{Date, TIMEZONE};
use crate::cases::sla::{
    ACCEPT_WITHIN_S, REPLY_WITHIN_S, RESOLVE_WITHIN_S, Urgency, VISIT_WITHIN_S,
};
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
    #[serde(rename = "citizen_app")]
    App,
    #[serde(rename = "hotline_12345")]
    Hotline,
    #[serde(rename = "patrol")]
    Patrol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Satisfaction {
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Level {
    Grid,
    Department,
    District,
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

/// The same time when in office hours on a weekday, else a random time in the next office
/// half-day (for phone visits).
fn office(t: i64, rng: &mut Rng) -> i64 {
    const AM: (i64, i64) = (8 * HOUR + 30 * MINUTE, 11 * HOUR + 50 * MINUTE);
    const PM: (i64, i64) = (13 * HOUR + 30 * MINUTE, 17 * HOUR + 20 * MINUTE);
    let day = date_of(t);
    let s = t.rem_euclid(DAY);
    let weekday = !day.is_weekend();
    if weekday && ((AM.0..=AM.1).contains(&s) || (PM.0..=PM.1).contains(&s)) {
        return t;
    }
    let base = day.days_since_epoch() * DAY;
    if weekday && s < AM.0 {
        return base + span(rng, AM.0, AM.1);
    }
    if weekday && s < PM.0 {
        return base + span(rng, PM.0, PM.1);
    }
    let mut next = day.add_days(1);
    while next.is_weekend() {
        next = next.add_days(1);
    }
    let (lo, hi) = if rng.unit() < 0.6 { AM } else { PM };
    next.days_since_epoch() * DAY + span(rng, lo, hi)
}

/// Moves a time to when the work can be done (`office`, `daytime` or `asap`).
type Shift = fn(i64, &mut Rng) -> i64;

/// Any hour: emergencies.
fn asap(t: i64, _: &mut Rng) -> i64 {
    t
}

/// The same time between 08:00 and 20:00, else a random time in the next such span (any day:
/// staff are on call at weekends).
fn daytime(t: i64, rng: &mut Rng) -> i64 {
    let day = date_of(t);
    match t.rem_euclid(DAY) / HOUR {
        8..20 => t,
        h => at(day.add_days(i64::from(h >= 20)), 8, 0) + span(rng, 0, 12 * HOUR),
    }
}

/// A time at or after `from`, at a share of the way to `deadline` drawn from `share`, moved by
/// `shift`; redrawn a few times to meet the deadline, and late only when that fails.
fn within(rng: &mut Rng, from: i64, deadline: i64, share: (f64, f64), shift: Shift) -> i64 {
    let room = (deadline - from).max(MINUTE) as f64;
    for _ in 0..8 {
        let t = shift(from + (room * rng.range(share.0, share.1)) as i64, rng);
        if t <= deadline {
            return t;
        }
    }
    shift(from, rng)
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

/// Handling times of one case before they are cut at "now".
#[derive(Debug, Clone)]
struct Handling {
    accepted: i64,
    replied: i64,
    resolved: Option<i64>,
    visited: Option<i64>,
    satisfaction: Satisfaction,
    redo: Option<[i64; 3]>,
    redo_satisfaction: Satisfaction,
}

#[derive(Debug, Clone)]
struct Draft {
    reported: i64,
    incident: bool,
    channel: Channel,
    category: &'static Category,
    urgency: Urgency,
    location: [f64; 2],
    grid: usize,
    description: String,
    level: Level,
    department: Option<&'static str>,
    handling: Handling,
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

/// The visit, the rating and the redo after a resolution at `resolved`.
fn close(
    rng: &mut Rng,
    t0: i64,
    resolved: i64,
    unsatisfied: f64,
) -> (i64, Satisfaction, Option<[i64; 3]>, Satisfaction) {
    let visited = if rng.unit() < 0.04 {
        office(
            resolved.max(t0 + VISIT_WITHIN_S) + span(rng, 2 * HOUR, 72 * HOUR),
            rng,
        )
    } else {
        let from = resolved + 30 * MINUTE;
        within(rng, from, t0 + VISIT_WITHIN_S, (0.05, 0.9), office)
    };
    let satisfaction = rate(rng, unsatisfied, 0.15);
    let mut redo = None;
    if satisfaction == Satisfaction::Unsatisfied {
        // Reopened during the visit call, redone within three days, visited again.
        let reopened = visited + span(rng, 10 * MINUTE, 2 * HOUR);
        let again = within(
            rng,
            reopened + HOUR,
            reopened + 3 * DAY,
            (0.1, 0.9),
            daytime,
        );
        let revisit = within(rng, again + HOUR, again + 2 * DAY, (0.05, 0.9), office);
        redo = Some([reopened, again, revisit]);
    }
    let after = if rng.unit() < 0.6 {
        Satisfaction::Satisfied
    } else {
        Satisfaction::BasicallySatisfied
    };
    (visited, satisfaction, redo, after)
}

/// Milestones of an ordinary case reported at `t0`.
fn handle(
    rng: &mut Rng,
    t0: i64,
    channel: Channel,
    urgency: Urgency,
    department: bool,
    code: &str,
    recent: bool,
) -> Handling {
    let hour = t0.rem_euclid(DAY) / HOUR;
    let accepted = if channel == Channel::Patrol {
        t0 + span(rng, MINUTE, 5 * MINUTE)
    } else if !(7..22).contains(&hour) && urgency != Urgency::Red && rng.unit() < 0.2 {
        // Taken up by the morning shift.
        let day = date_of(t0).add_days(i64::from(hour >= 22));
        at(day, 7, 30) + span(rng, 0, 75 * MINUTE)
    } else if rng.unit() < 0.04 {
        t0 + span(rng, 31 * MINUTE, 150 * MINUTE)
    } else {
        t0 + span(rng, 2 * MINUTE, 28 * MINUTE)
    };
    // Emergencies are worked at any hour, the rest in the daytime.
    let shift: Shift = if urgency == Urgency::Red {
        asap
    } else {
        daytime
    };
    let replied = if rng.unit() < 0.04 {
        shift(t0 + REPLY_WITHIN_S + span(rng, HOUR, 36 * HOUR), rng).max(accepted + 5 * MINUTE)
    } else {
        let share = if department {
            (0.05, 0.8)
        } else {
            (0.02, 0.35)
        };
        within(
            rng,
            accepted + 5 * MINUTE,
            t0 + REPLY_WITHIN_S,
            share,
            shift,
        )
    };
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
    let resolved = if rng.unit() < late {
        shift(t0 + RESOLVE_WITHIN_S + span(rng, 2 * HOUR, 200 * HOUR), rng)
    } else {
        let share = if department {
            (0.15, 0.95)
        } else {
            (0.05, 0.5)
        };
        within(
            rng,
            replied + 10 * MINUTE,
            t0 + RESOLVE_WITHIN_S,
            share,
            shift,
        )
    }
    .max(replied + 10 * MINUTE);
    let late_penalty = if resolved > t0 + RESOLVE_WITHIN_S {
        0.1
    } else {
        0.0
    };
    let unsatisfied = if department { 0.08 } else { 0.04 } + late_penalty;
    let (visited, satisfaction, redo, redo_satisfaction) = close(rng, t0, resolved, unsatisfied);
    Handling {
        accepted,
        replied,
        resolved: (!stuck).then_some(resolved),
        visited: (!stuck).then_some(visited),
        satisfaction,
        redo,
        redo_satisfaction,
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
    let (level, department) = match category.handler {
        Handler::Grid => (Level::Grid, None),
        Handler::Department(d) => (Level::Department, Some(d)),
    };
    let text = fill(pick(rng, templates(category.code)), rng, g);
    let description = match channel {
        Channel::Patrol => format!("网格员巡查发现：{text}"),
        Channel::Hotline => format!("市民来电反映：{text}"),
        Channel::App => text,
    };
    let location = round(points(grid, rng));
    let recent = reported > now - 60 * DAY;
    let handling = handle(
        rng,
        reported,
        channel,
        urgency,
        department.is_some(),
        category.code,
        recent,
    );
    Draft {
        reported,
        incident: false,
        channel,
        category,
        urgency,
        location,
        grid,
        description,
        level,
        department,
        handling,
    }
}

fn round(p: [f64; 2]) -> [f64; 2] {
    p.map(|v| (v * 1e6).round() / 1e6)
}

/// What the incident is about, for its record.
struct IncidentPlan {
    grid: usize,
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
        let location = round(points(grid, rng));
        let accepted = reported + span(rng, 2 * MINUTE, 25 * MINUTE);
        let replied = within(
            rng,
            accepted + 5 * MINUTE,
            reported + REPLY_WITHIN_S,
            (0.05, 0.8),
            daytime,
        );
        let resolved = if reported < plan_at {
            (plan_at + span(rng, 0, 8 * HOUR)).max(replied + 10 * MINUTE)
        } else {
            let deadline = reported + RESOLVE_WITHIN_S;
            within(rng, replied + 10 * MINUTE, deadline, (0.1, 0.7), daytime)
        };
        let (visited, satisfaction, redo, redo_satisfaction) = close(rng, reported, resolved, 0.2);
        drafts.push(Draft {
            reported,
            incident: true,
            channel,
            category,
            urgency: category.urgency,
            location,
            grid,
            description,
            level: Level::District,
            department: Some(HOUSING_DEPARTMENT),
            handling: Handling {
                accepted,
                replied,
                resolved: Some(resolved),
                visited: Some(visited),
                satisfaction,
                redo,
                redo_satisfaction,
            },
        });
    }
    // Once the cluster was recognised (the 20th report) it went up to red.
    drafts.sort_by_key(|d| d.reported);
    for d in drafts.iter_mut().skip(20) {
        d.urgency = Urgency::Red;
    }
    (
        IncidentPlan {
            grid,
            estate,
            promised,
            plan_at,
        },
        drafts,
    )
}

#[derive(Debug, Serialize)]
struct RedoOut {
    reopened_at: String,
    resolved_at: Option<String>,
    visited_at: Option<String>,
    satisfaction: Option<Satisfaction>,
}

#[derive(Debug, Serialize)]
struct CaseOut {
    id: String,
    incident_id: Option<String>,
    channel: Channel,
    category: &'static str,
    urgency: Urgency,
    reported_at: String,
    location: [f64; 2],
    grid_code: String,
    worker_id: String,
    level: Level,
    department: Option<&'static str>,
    description: String,
    state: &'static str,
    accepted_at: Option<String>,
    replied_at: Option<String>,
    resolved_at: Option<String>,
    visited_at: Option<String>,
    overdue: Vec<&'static str>,
    satisfaction: Option<Satisfaction>,
    redo: Option<RedoOut>,
}

#[derive(Debug, Serialize)]
struct IncidentOut {
    id: String,
    title: String,
    category: &'static str,
    level: Level,
    department: &'static str,
    estate: &'static str,
    promised_delivery: String,
    grid_code: String,
    community_code: String,
    street_code: String,
    first_reported_at: String,
    last_reported_at: String,
    plan_announced_at: String,
    case_count: usize,
    channels: BTreeMap<&'static str, usize>,
    state: &'static str,
    summary: String,
}

#[derive(Debug, Serialize)]
struct WindowOut {
    from: String,
    to: String,
    timezone: &'static str,
}

#[derive(Debug, Serialize)]
struct ServiceLevel {
    accept_min: i64,
    reply_h: i64,
    resolve_h: i64,
    visit_h: i64,
}

#[derive(Debug, Serialize)]
struct HistoryDoc {
    synthetic: bool,
    note: &'static str,
    window: WindowOut,
    service_level: ServiceLevel,
    cases: Vec<CaseOut>,
    incidents: Vec<IncidentOut>,
}

/// Keeps the leading times that are not after `now`; the rest have not happened yet.
fn until<const N: usize>(now: i64, times: [Option<i64>; N]) -> [Option<i64>; N] {
    let mut open = false;
    times.map(|t| {
        open |= t.is_none_or(|t| t > now);
        if open { None } else { t }
    })
}

fn channel_key(c: Channel) -> &'static str {
    match c {
        Channel::App => "citizen_app",
        Channel::Hotline => "hotline_12345",
        Channel::Patrol => "patrol",
    }
}

fn output(
    d: &Draft,
    id: String,
    incident_id: Option<String>,
    grids: &[GridInfo],
    now: i64,
) -> CaseOut {
    let h = &d.handling;
    let t0 = d.reported;
    let [accepted, replied, resolved, visited] = until(
        now,
        [Some(h.accepted), Some(h.replied), h.resolved, h.visited],
    );
    let deadlines = [
        ("accepted", accepted, ACCEPT_WITHIN_S),
        ("replied", replied, REPLY_WITHIN_S),
        ("resolved", resolved, RESOLVE_WITHIN_S),
        ("visited", visited, VISIT_WITHIN_S),
    ];
    let overdue = deadlines
        .iter()
        .filter(|(_, t, limit)| t.unwrap_or(now) > t0 + limit)
        .map(|(name, _, _)| *name)
        .collect();
    let redo = match (visited, h.redo) {
        (Some(_), Some([a, b, c])) => {
            let [reopened, again, revisit] = until(now, [Some(a), Some(b), Some(c)]);
            reopened.map(|r| RedoOut {
                reopened_at: stamp(r),
                resolved_at: again.map(stamp),
                visited_at: revisit.map(stamp),
                satisfaction: revisit.map(|_| h.redo_satisfaction),
            })
        }
        _ => None,
    };
    let pending_redo = visited.is_some()
        && h.redo.is_some()
        && redo.as_ref().is_none_or(|r| r.visited_at.is_none());
    let g = &grids[d.grid];
    CaseOut {
        id,
        incident_id,
        channel: d.channel,
        category: d.category.code,
        urgency: d.urgency,
        reported_at: stamp(t0),
        location: d.location,
        grid_code: g.code.clone(),
        worker_id: format!("W{}", g.code),
        level: d.level,
        department: d.department,
        description: d.description.clone(),
        state: if visited.is_some() && !pending_redo {
            "closed"
        } else {
            "open"
        },
        accepted_at: accepted.map(stamp),
        replied_at: replied.map(stamp),
        resolved_at: resolved.map(stamp),
        visited_at: visited.map(stamp),
        overdue,
        satisfaction: visited.map(|_| h.satisfaction),
        redo,
    }
}

/// `cases-sample.json`: about 490 cases over the 12 months ending with `end_date`
/// (year, month, day; an impossible month or day is clamped into range), 230 of them one mass
/// incident. `points(i, rng)` must return a WGS84 `[lon, lat]` inside `grids[i]`. With no grids
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
/// assert_eq!(doc["incidents"][0]["case_count"], 230);
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
    let cases: Vec<CaseOut> = drafts
        .iter()
        .map(|d| {
            let y = date_of(d.reported).year;
            let seq = per_year.entry(y).or_insert(0);
            *seq += 1;
            let id = format!("CASE-{y}-{seq:06}");
            let inc = if d.incident {
                incident_id.clone()
            } else {
                None
            };
            output(d, id, inc, grids, now)
        })
        .collect();
    let incidents = plan
        .into_iter()
        .zip(incident_id)
        .map(|((p, _), id)| {
            let mine: Vec<(&Draft, &CaseOut)> =
                drafts.iter().zip(&cases).filter(|(d, _)| d.incident).collect();
            let mut channels = BTreeMap::new();
            for (d, _) in &mine {
                *channels.entry(channel_key(d.channel)).or_insert(0) += 1;
            }
            let g = &grids[p.grid];
            let first = mine.first().map(|(d, _)| d.reported).unwrap_or(p.plan_at);
            let last = mine.last().map(|(d, _)| d.reported).unwrap_or(p.plan_at);
            IncidentOut {
                id,
                title: format!("{}项目逾期交付群体性诉求", p.estate),
                category: HOUSING,
                level: Level::District,
                department: HOUSING_DEPARTMENT,
                estate: p.estate,
                promised_delivery: p.promised.to_string(),
                grid_code: g.code.clone(),
                community_code: g.community_code.clone(),
                street_code: g.street_code.clone(),
                first_reported_at: stamp(first),
                last_reported_at: stamp(last),
                plan_announced_at: stamp(p.plan_at),
                case_count: mine.len(),
                channels,
                state: if mine.iter().all(|(_, c)| c.state == "closed") { "closed" } else { "open" },
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
               are made up; the volumes and timings only imitate a real service center.",
        window: WindowOut {
            from: start.to_string(),
            to: end.to_string(),
            timezone: TIMEZONE,
        },
        service_level: ServiceLevel {
            accept_min: ACCEPT_WITHIN_S / MINUTE,
            reply_h: REPLY_WITHIN_S / HOUR,
            resolve_h: RESOLVE_WITHIN_S / HOUR,
            visit_h: VISIT_WITHIN_S / HOUR,
        },
        cases,
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
        doc["cases"].as_array().cloned().unwrap_or_default()
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
    fn milestones_are_ordered_and_states_consistent() {
        for c in (0..8).flat_map(|seed| cases(&sample(seed))) {
            let mut seq: Vec<String> = [
                "reported_at",
                "accepted_at",
                "replied_at",
                "resolved_at",
                "visited_at",
            ]
            .iter()
            .map_while(|k| time(&c[*k]))
            .collect();
            if !c["redo"].is_null() {
                assert_eq!(c["satisfaction"], "unsatisfied", "{c}");
                let r = &c["redo"];
                seq.extend(
                    ["reopened_at", "resolved_at", "visited_at"]
                        .iter()
                        .map_while(|k| time(&r[*k])),
                );
            }
            assert!(seq.windows(2).all(|w| w[0] <= w[1]), "{c}");
            assert!(
                seq.iter()
                    .all(|t| t.as_str() <= "2026-03-31T23:59:59+08:00")
            );
            let closed = c["state"] == "closed";
            assert_eq!(
                closed,
                !c["visited_at"].is_null()
                    && (c["redo"].is_null() || !c["redo"]["visited_at"].is_null()),
                "{c}"
            );
            assert_eq!(
                c["satisfaction"].is_null(),
                c["visited_at"].is_null(),
                "{c}"
            );
            let dept = c["department"].as_str();
            match c["level"].as_str() {
                Some("grid") => assert!(dept.is_none()),
                _ => assert!(dept.is_some_and(|d| crate::demo::catalog::unit_by_code(d).is_some())),
            }
        }
    }

    #[test]
    fn mostly_on_time_mostly_closed() {
        let all = cases(&sample(11));
        let n = all.len() as f64;
        let closed = all.iter().filter(|c| c["state"] == "closed").count() as f64;
        let late = all
            .iter()
            .filter(|c| c["overdue"].as_array().is_some_and(|o| !o.is_empty()))
            .count() as f64;
        let unhappy = all
            .iter()
            .filter(|c| c["satisfaction"] == "unsatisfied")
            .count();
        assert!(closed / n > 0.85 && closed < n, "closed {closed} of {n}");
        assert!(late / n < 0.35 && late > 0.0, "late {late} of {n}");
        assert!(unhappy > 0);
        let channels: BTreeSet<_> = all.iter().map(|c| c["channel"].to_string()).collect();
        assert_eq!(channels.len(), 3);
    }

    #[test]
    fn one_mass_incident_in_one_urban_grid() {
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
        assert_eq!(inc["case_count"], mine.len());
        let grid_codes: BTreeSet<_> = mine.iter().map(|c| c["grid_code"].to_string()).collect();
        assert_eq!(grid_codes.len(), 1);
        let code = inc["grid_code"].as_str().unwrap_or_default();
        let g = grids().into_iter().find(|g| g.code == code);
        assert!(g.is_some_and(|g| !g.village && g.kind == "residential"));
        assert!(
            mine.iter()
                .all(|c| c["category"] == HOUSING && c["level"] == "district")
        );
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
        assert_eq!(
            all.iter().filter(|c| !c["incident_id"].is_null()).count(),
            mine.len()
        );
    }

    #[test]
    fn every_grid_exists_and_every_category_has_text() {
        let codes: BTreeSet<String> = grids().into_iter().map(|g| g.code).collect();
        for c in cases(&sample(3)) {
            assert!(
                c["grid_code"].as_str().is_some_and(|g| codes.contains(g)),
                "{c}"
            );
            assert_eq!(
                c["worker_id"],
                format!("W{}", c["grid_code"].as_str().unwrap_or(""))
            );
        }
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
        // Friday 18:00 → Monday morning.
        let monday = office(
            at(
                Date {
                    year: 2026,
                    month: 1,
                    day: 2,
                },
                18,
                0,
            ),
            &mut rng,
        );
        let monday = stamp(monday);
        assert!(
            monday.starts_with("2026-01-05T") && monday[11..] > *"08:30" && monday[11..] < *"17:21",
            "{monday}"
        );
        assert_eq!(office(t + HOUR, &mut rng), t + HOUR);
        assert_eq!(
            until(10, [Some(1), Some(11), Some(5)]),
            [Some(1), None, None]
        );
    }
}
