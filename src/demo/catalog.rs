//! The demo district's catalog: who handles what.
//!
//! Two documents, both marked `"synthetic": true` (the names are plausible, not an official list):
//!
//! `departments.json` ([`departments`]):
//! ```text
//! { "synthetic": true, "note": "…",
//!   "departments":          [{ "code": "D01", "kind": "department" | "utility",
//!                              "name_zh": "…", "name_en": "…", "handles": ["C13", …] }, …42],
//!   "mediation_committees": [{ "code": "M01", "kind": "mediation-committee",
//!                              "name_zh": "…", "name_en": "…", "handles": ["C25"] }, …12] }
//! ```
//!
//! `categories.json` ([`categories`]):
//! ```text
//! { "synthetic": true, "note": "…",
//!   "categories": [{ "code": "C01", "name_zh": "…", "name_en": "…",
//!                    "urgency": "red" | "yellow" | "green",
//!                    "handler": { "grid": true } | { "department": "D07" } }, …40],
//!   "grid_tasks": { "illustrative": true, "note": "…",
//!                   "categories": [{ "code": "T01", "name_zh", "name_en",
//!                                    "subcategories": [{ "code": "T01-01", "name_zh", "name_en",
//!                                                        "items": [{ "code": "T01-01-01",
//!                                                                    "name_zh", "name_en" }] }] }] } }
//! ```
//! The grid task list has 9 categories, 22 subcategories and 84 items.
//!
//! A category's `handler` says who owns a case by default: the grid worker for small matters
//! (小事一网解决) or a department for matters that need one (大事多级联动). A department's or
//! committee's `handles` lists every category it takes, including those where it assists.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

pub use crate::cases::sla::Urgency;

/// Who owns a case of a category by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// The grid's full-time worker (小事一网解决).
    Grid,
    /// A district department, by code (大事多级联动).
    Department(&'static str),
}

impl Serialize for Handler {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Handler::Grid => map.serialize_entry("grid", &true)?,
            Handler::Department(code) => map.serialize_entry("department", code)?,
        }
        map.end()
    }
}

/// What kind of unit a department or committee is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    /// A district government department or branch.
    Department,
    /// A public utility that takes work orders (power, water, gas, heating, drainage).
    Utility,
    /// A professional people's mediation committee (专业调解委员会).
    MediationCommittee,
}

/// A department, utility or mediation committee behind the service center.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Unit {
    /// `D01`…`D42` or `M01`…`M12`.
    pub code: &'static str,
    /// Department, utility or mediation committee.
    pub kind: UnitKind,
    /// Chinese name.
    pub name_zh: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Appeal category codes it takes, as owner or assisting.
    pub handles: &'static [&'static str],
}

/// An appeal category a citizen or a hotline operator picks.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Category {
    /// `C01`…`C40`.
    pub code: &'static str,
    /// Chinese name.
    pub name_zh: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Default urgency.
    pub urgency: Urgency,
    /// Default owner.
    pub handler: Handler,
}

const fn unit(
    code: &'static str,
    kind: UnitKind,
    name_zh: &'static str,
    name_en: &'static str,
    handles: &'static [&'static str],
) -> Unit {
    Unit {
        code,
        kind,
        name_zh,
        name_en,
        handles,
    }
}

use UnitKind::{Department as Dep, MediationCommittee as Med, Utility as Uti};

/// The 42 district departments and utilities.
#[rustfmt::skip]
pub const DEPARTMENTS: &[Unit] = &[
    unit("D01", Dep, "区城市管理局", "Urban Management Bureau", &["C13", "C14", "C01", "C04"]),
    unit("D02", Dep, "区住房和城乡建设局", "Housing and Urban-Rural Development Bureau", &["C07", "C10", "C35", "C17"]),
    unit("D03", Dep, "市生态环境局张店分局", "Ecology and Environment Bureau, Zhangdian Branch", &["C11", "C32"]),
    unit("D04", Dep, "区市场监督管理局", "Market Supervision Administration", &["C16", "C26", "C36"]),
    unit("D05", Dep, "区人力资源和社会保障局", "Human Resources and Social Security Bureau", &["C08", "C24", "C39"]),
    unit("D06", Dep, "市公安局张店分局", "Public Security Bureau, Zhangdian Branch", &["C21", "C02", "C12", "C34"]),
    unit("D07", Dep, "区应急管理局", "Emergency Management Bureau", &["C40", "C05"]),
    unit("D08", Dep, "区交通运输局", "Transport Bureau", &["C13"]),
    unit("D09", Dep, "区水利局", "Water Resources Bureau", &[]),
    unit("D10", Dep, "区农业农村局", "Agriculture and Rural Affairs Bureau", &["C09"]),
    unit("D11", Dep, "区教育和体育局", "Education and Sports Bureau", &["C23", "C37"]),
    unit("D12", Dep, "区卫生健康局", "Health Bureau", &["C25"]),
    unit("D13", Dep, "区民政局", "Civil Affairs Bureau", &["C30", "C31"]),
    unit("D14", Dep, "区司法局", "Justice Bureau", &["C03", "C02", "C34"]),
    unit("D15", Dep, "市自然资源和规划局张店分局", "Natural Resources and Planning Bureau, Zhangdian Branch", &["C09", "C15"]),
    unit("D16", Dep, "区退役军人事务局", "Veterans Affairs Bureau", &["C33"]),
    unit("D17", Dep, "区信访局", "Letters and Visits Bureau", &["C07", "C09"]),
    unit("D18", Dep, "区医疗保障局", "Healthcare Security Bureau", &["C24"]),
    unit("D19", Dep, "区综合行政执法局", "Comprehensive Administrative Law Enforcement Bureau", &["C15", "C27", "C01", "C11"]),
    unit("D20", Dep, "区发展和改革局", "Development and Reform Bureau", &[]),
    unit("D21", Dep, "区工业和信息化局", "Industry and Information Technology Bureau", &[]),
    unit("D22", Dep, "区商务局", "Commerce Bureau", &["C26"]),
    unit("D23", Dep, "区财政局", "Finance Bureau", &[]),
    unit("D24", Dep, "区文化和旅游局", "Culture and Tourism Bureau", &["C26"]),
    unit("D25", Dep, "区行政审批服务局", "Administrative Approval Services Bureau", &[]),
    unit("D26", Dep, "区统计局", "Statistics Bureau", &[]),
    unit("D27", Dep, "区审计局", "Audit Bureau", &[]),
    unit("D28", Dep, "区科学技术局", "Science and Technology Bureau", &[]),
    unit("D29", Dep, "区大数据中心", "Big Data Center", &[]),
    unit("D30", Dep, "区妇女联合会", "Women's Federation", &["C34"]),
    unit("D31", Dep, "区残疾人联合会", "Disabled Persons' Federation", &["C30"]),
    unit("D32", Dep, "区总工会", "Federation of Trade Unions", &["C08", "C39"]),
    unit("D33", Dep, "区消防救援大队", "Fire and Rescue Brigade", &["C06"]),
    unit("D34", Dep, "市公安局交通警察支队张店大队", "Traffic Police Brigade", &["C22", "C38"]),
    unit("D35", Dep, "区环境卫生服务中心", "Environmental Sanitation Service Center", &["C01"]),
    unit("D36", Dep, "区园林绿化服务中心", "Landscaping and Greening Service Center", &["C28"]),
    unit("D37", Dep, "区房屋征收服务中心", "Housing Expropriation Service Center", &["C09"]),
    unit("D38", Uti, "供电公司张店服务中心", "Power supply company, Zhangdian service center", &["C19"]),
    unit("D39", Uti, "供水公司张店服务中心", "Water supply company, Zhangdian service center", &["C18"]),
    unit("D40", Uti, "燃气公司张店服务中心", "Gas company, Zhangdian service center", &["C20", "C05"]),
    unit("D41", Uti, "热力公司张店服务中心", "Heating company, Zhangdian service center", &["C17"]),
    unit("D42", Uti, "区排水管理服务中心", "Drainage Service Center", &["C29"]),
];

/// The 12 professional mediation committees (专业调解委员会).
#[rustfmt::skip]
pub const COMMITTEES: &[Unit] = &[
    unit("M01", Med, "医疗纠纷人民调解委员会", "Medical Dispute Mediation Committee", &["C25"]),
    unit("M02", Med, "道路交通事故纠纷人民调解委员会", "Road Traffic Accident Mediation Committee", &["C38"]),
    unit("M03", Med, "劳动争议人民调解委员会", "Labour Dispute Mediation Committee", &["C39", "C08"]),
    unit("M04", Med, "物业纠纷人民调解委员会", "Property Management Dispute Mediation Committee", &["C10"]),
    unit("M05", Med, "婚姻家庭纠纷人民调解委员会", "Marriage and Family Dispute Mediation Committee", &["C34"]),
    unit("M06", Med, "消费纠纷人民调解委员会", "Consumer Dispute Mediation Committee", &["C26"]),
    unit("M07", Med, "征地拆迁纠纷人民调解委员会", "Land Acquisition and Demolition Mediation Committee", &["C09"]),
    unit("M08", Med, "建设工程纠纷人民调解委员会", "Construction Project Dispute Mediation Committee", &["C35", "C07"]),
    unit("M09", Med, "环境污染纠纷人民调解委员会", "Environmental Pollution Dispute Mediation Committee", &["C32", "C11"]),
    unit("M10", Med, "校园纠纷人民调解委员会", "Campus Dispute Mediation Committee", &["C37"]),
    unit("M11", Med, "旅游纠纷人民调解委员会", "Tourism Dispute Mediation Committee", &["C26"]),
    unit("M12", Med, "知识产权纠纷人民调解委员会", "Intellectual Property Dispute Mediation Committee", &["C36"]),
];

const fn cat(
    code: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    urgency: Urgency,
    handler: Handler,
) -> Category {
    Category {
        code,
        name_zh,
        name_en,
        urgency,
        handler,
    }
}

use Handler::{Department as D, Grid};
use Urgency::{Green, Red, Yellow};

/// The 40 appeal categories.
#[rustfmt::skip]
pub const CATEGORIES: &[Category] = &[
    cat("C01", "环境卫生", "Environment and sanitation", Green, Grid),
    cat("C02", "邻里纠纷", "Neighbour disputes", Green, Grid),
    cat("C03", "法律咨询与调解", "Legal consultation and mediation", Green, D("D14")),
    cat("C04", "公共设施损坏", "Damaged public facilities", Green, Grid),
    cat("C05", "居家安全隐患（燃气灶未装一氧化碳报警器等）", "Household safety hazards (e.g. stoves without CO alarms)", Yellow, Grid),
    cat("C06", "消防安全隐患", "Fire safety hazards (blocked exits, e-bikes charging indoors)", Yellow, D("D33")),
    cat("C07", "房屋逾期交付", "Housing not delivered on time", Yellow, D("D02")),
    cat("C08", "拖欠工资", "Wage arrears", Yellow, D("D05")),
    cat("C09", "征地拆迁", "Land acquisition and demolition", Yellow, D("D37")),
    cat("C10", "物业管理", "Property management", Green, D("D02")),
    cat("C11", "施工噪音", "Construction noise", Yellow, D("D03")),
    cat("C12", "生活噪音", "Neighbourhood noise", Green, Grid),
    cat("C13", "道路破损", "Road damage and potholes", Yellow, D("D01")),
    cat("C14", "路灯故障", "Street lights out", Green, D("D01")),
    cat("C15", "违法建设", "Illegal construction", Yellow, D("D19")),
    cat("C16", "食品安全", "Food safety", Yellow, D("D04")),
    cat("C17", "供暖问题", "Heating", Yellow, D("D41")),
    cat("C18", "停水与水质", "Water outage and water quality", Yellow, D("D39")),
    cat("C19", "停电", "Power outage", Yellow, D("D38")),
    cat("C20", "燃气故障与泄漏", "Gas outage or leak", Red, D("D40")),
    cat("C21", "流浪动物与犬只管理", "Stray animals and dogs", Green, D("D06")),
    cat("C22", "交通秩序与违停", "Traffic order and illegal parking", Green, D("D34")),
    cat("C23", "入学入托", "School and kindergarten enrolment", Green, D("D11")),
    cat("C24", "社保医保", "Social and medical insurance", Green, D("D05")),
    cat("C25", "医疗纠纷", "Medical disputes", Yellow, D("D12")),
    cat("C26", "消费维权", "Consumer complaints", Green, D("D04")),
    cat("C27", "占道经营", "Street vending and road occupation", Green, D("D19")),
    cat("C28", "绿化养护", "Trees and green space", Green, D("D36")),
    cat("C29", "下水道堵塞", "Blocked sewers and drains", Yellow, D("D42")),
    cat("C30", "社会救助", "Subsistence allowance and social assistance", Green, D("D13")),
    cat("C31", "为老服务", "Help for elderly residents", Green, Grid),
    cat("C32", "环境污染", "Pollution (smoke, odour, dust, waste water)", Yellow, D("D03")),
    cat("C33", "退役军人服务", "Veterans' services", Green, D("D16")),
    cat("C34", "家庭矛盾", "Family conflicts", Yellow, Grid),
    cat("C35", "建设工程质量", "Construction quality and defects", Yellow, D("D02")),
    cat("C36", "知识产权", "Intellectual property infringement", Green, D("D04")),
    cat("C37", "校园安全与纠纷", "School safety and disputes", Yellow, D("D11")),
    cat("C38", "交通事故纠纷", "Traffic accident disputes", Yellow, D("D34")),
    cat("C39", "劳动争议", "Labour disputes", Yellow, D("D05")),
    cat("C40", "安全生产隐患", "Workplace safety hazards", Red, D("D07")),
];

/// The category with this code.
pub fn category(code: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.code == code)
}

/// The department or committee with this code.
pub fn unit_by_code(code: &str) -> Option<&'static Unit> {
    DEPARTMENTS
        .iter()
        .chain(COMMITTEES)
        .find(|u| u.code == code)
}

/// One heading of the grid task list: (Chinese, English, subheadings).
type TaskCategory = (&'static str, &'static str, &'static [TaskSub]);
/// One subheading: (Chinese, English, items as (Chinese, English)).
type TaskSub = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The grid worker's task list (网格事项清单): 9 categories, 22 subcategories, 84 items.
#[rustfmt::skip]
const GRID_TASKS: &[TaskCategory] = &[
    ("信息采集", "Information collection", &[
        ("人口信息", "Residents", &[
            ("实有人口登记", "Register actual residents"),
            ("流动人口登记", "Register migrant residents"),
            ("出租房屋登记", "Register rented homes"),
            ("人户分离核查", "Check residents living away from their registered address"),
        ]),
        ("房屋与单位", "Buildings and organisations", &[
            ("房屋信息采集", "Record buildings and homes"),
            ("沿街商铺登记", "Register street shops"),
            ("企业单位登记", "Register companies and institutions"),
            ("社会组织登记", "Register social organisations"),
        ]),
        ("信息更新", "Keeping records current", &[
            ("出生死亡变更", "Record births and deaths"),
            ("迁入迁出变更", "Record moves in and out"),
            ("数据核查比对", "Cross-check records"),
        ]),
    ]),
    ("治安巡查", "Security patrol", &[
        ("日常巡查", "Routine patrol", &[
            ("重点部位巡查", "Patrol key locations"),
            ("夜间巡查", "Night patrol"),
            ("校园周边巡查", "Patrol around schools"),
            ("出租屋巡查", "Visit rented homes"),
        ]),
        ("治安防范", "Crime prevention", &[
            ("可疑情况报告", "Report suspicious activity"),
            ("群防群治组织", "Organise neighbourhood watch"),
            ("反诈宣传", "Anti-fraud awareness"),
            ("技防设施检查", "Check cameras and access control"),
        ]),
    ]),
    ("隐患排查", "Hazard inspection", &[
        ("消防安全", "Fire safety", &[
            ("楼道堆物清理", "Clear items stored in stairwells"),
            ("电动车入户充电劝阻", "Stop e-bikes charging indoors"),
            ("消防通道占用", "Keep fire lanes clear"),
            ("灭火器检查", "Check fire extinguishers"),
        ]),
        ("燃气安全", "Gas safety", &[
            ("一氧化碳报警器安装", "Check CO alarms next to gas stoves"),
            ("燃气软管老化检查", "Check ageing gas hoses"),
            ("餐饮场所燃气检查", "Check gas use in restaurants"),
        ]),
        ("其他安全隐患", "Other hazards", &[
            ("危旧房屋排查", "Inspect dilapidated buildings"),
            ("高空坠物隐患", "Objects that could fall from height"),
            ("井盖缺失破损", "Missing or broken manhole covers"),
            ("防汛隐患点位", "Flood-prone spots"),
            ("建筑工地安全", "Construction site safety"),
        ]),
    ]),
    ("特殊人群走访", "Special-population visits", &[
        ("困难群体", "People in hardship", &[
            ("低保户走访", "Visit subsistence-allowance households"),
            ("残疾人走访", "Visit people with disabilities"),
            ("独居老人走访", "Visit elderly people living alone"),
            ("留守儿童关爱", "Care for left-behind children"),
        ]),
        ("重点人员", "People under supervision", &[
            ("社区矫正对象", "People on community correction"),
            ("刑满释放人员", "Released prisoners"),
            ("严重精神障碍患者", "People with severe mental illness"),
            ("社区戒毒康复人员", "People in community drug rehabilitation"),
        ]),
        ("优抚对象", "Entitled groups", &[
            ("退役军人走访", "Visit veterans"),
            ("军烈属走访", "Visit military and martyrs' families"),
            ("优抚政策落实", "Follow up on entitlements"),
        ]),
    ]),
    ("矛盾调解", "Dispute mediation", &[
        ("矛盾排查", "Finding disputes early", &[
            ("邻里纠纷排查", "Neighbour disputes"),
            ("家庭矛盾排查", "Family conflicts"),
            ("物业矛盾排查", "Property management disputes"),
            ("劳资纠纷排查", "Wage and labour disputes"),
        ]),
        ("调解化解", "Mediation", &[
            ("现场调解", "Mediate on the spot"),
            ("联合调解", "Mediate with departments"),
            ("诉调对接", "Refer to court-linked mediation"),
            ("调解回访", "Follow up after mediation"),
        ]),
    ]),
    ("政策宣传", "Policy publicity", &[
        ("政策宣讲", "Explaining policies", &[
            ("社保医保政策", "Social and medical insurance"),
            ("法律法规宣传", "Laws and regulations"),
            ("惠民政策告知", "Benefits residents may claim"),
            ("文明创建宣传", "Civic campaigns"),
        ]),
        ("民意收集", "Listening to residents", &[
            ("入户走访听民意", "Door-to-door visits"),
            ("意见建议收集", "Collect suggestions"),
            ("满意度调查", "Satisfaction surveys"),
        ]),
    ]),
    ("环境整治", "Environment", &[
        ("环境卫生", "Sanitation", &[
            ("垃圾分类督导", "Guide waste sorting"),
            ("卫生死角清理", "Clean neglected corners"),
            ("违规小广告清理", "Remove illegal flyers"),
            ("私搭乱建报告", "Report unauthorised structures"),
        ]),
        ("市容秩序", "Street order", &[
            ("占道经营劝导", "Street vending"),
            ("车辆乱停乱放", "Badly parked vehicles"),
            ("绿地毁损报告", "Damaged green space"),
        ]),
    ]),
    ("应急处置", "Emergency response", &[
        ("突发事件报告", "Reporting emergencies", &[
            ("火情报告", "Report fires"),
            ("燃气泄漏报告", "Report gas leaks"),
            ("群体性事件报告", "Report mass incidents"),
        ]),
        ("防汛防灾", "Floods and disasters", &[
            ("汛期巡查", "Patrol in the flood season"),
            ("协助转移群众", "Help evacuate residents"),
            ("应急物资登记", "Register emergency supplies"),
        ]),
        ("公共卫生", "Public health", &[
            ("传染病防控配合", "Support infectious disease control"),
            ("疫苗接种提醒", "Vaccination reminders"),
            ("健康知识宣传", "Health education"),
        ]),
    ]),
    ("便民服务", "Services for residents", &[
        ("为老服务", "Services for the elderly", &[
            ("助餐助浴对接", "Arrange meals and bathing help"),
            ("养老服务补贴代办", "Apply for elderly care subsidies"),
            ("紧急呼叫响应", "Respond to emergency calls"),
            ("高龄津贴代办", "Apply for old-age allowances"),
        ]),
        ("代办服务", "Errands on behalf of residents", &[
            ("证照代办", "Certificates and licences"),
            ("社保缴费提醒", "Social insurance payment reminders"),
            ("就业信息推送", "Job information"),
            ("困难救助申请代办", "Hardship assistance applications"),
            ("民生诉求代办", "Other appeals"),
            ("残疾人证代办", "Disability certificates"),
            ("居住证代办", "Residence permits"),
        ]),
    ]),
];

const SYNTHETIC_NOTE: &str = "Synthetic demo data for the Zhangdian demo district: the names are plausible but \
     this is not an official list of departments, committees or categories.";

#[derive(serde::Serialize)]
struct DepartmentsDoc {
    synthetic: bool,
    note: &'static str,
    departments: &'static [Unit],
    mediation_committees: &'static [Unit],
}

#[derive(serde::Serialize)]
struct CategoriesDoc {
    synthetic: bool,
    note: &'static str,
    categories: &'static [Category],
    grid_tasks: GridTasksDoc,
}

#[derive(serde::Serialize)]
struct GridTasksDoc {
    illustrative: bool,
    note: &'static str,
    categories: Vec<TaskNode>,
}

#[derive(serde::Serialize)]
struct TaskNode {
    code: String,
    name_zh: &'static str,
    name_en: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subcategories: Option<Vec<TaskNode>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<Vec<TaskNode>>,
}

/// `departments.json`: the 42 departments and the 12 mediation committees.
///
/// ```
/// # use tessera::demo::catalog::departments;
/// let doc = departments();
/// assert_eq!(doc["departments"].as_array().map(Vec::len), Some(42));
/// ```
pub fn departments() -> Value {
    to_json(&DepartmentsDoc {
        synthetic: true,
        note: SYNTHETIC_NOTE,
        departments: DEPARTMENTS,
        mediation_committees: COMMITTEES,
    })
}

/// `categories.json`: the appeal categories and the grid task list.
///
/// ```
/// # use tessera::demo::catalog::categories;
/// let doc = categories();
/// assert_eq!(doc["grid_tasks"]["categories"].as_array().map(Vec::len), Some(9));
/// ```
pub fn categories() -> Value {
    let tasks = GRID_TASKS
        .iter()
        .enumerate()
        .map(|(i, (zh, en, subs))| {
            let code = format!("T{:02}", i + 1);
            let subcategories = subs
                .iter()
                .enumerate()
                .map(|(j, (zh, en, items))| {
                    let code = format!("{code}-{:02}", j + 1);
                    let items = items
                        .iter()
                        .enumerate()
                        .map(|(k, (zh, en))| TaskNode {
                            code: format!("{code}-{:02}", k + 1),
                            name_zh: zh,
                            name_en: en,
                            subcategories: None,
                            items: None,
                        })
                        .collect();
                    TaskNode {
                        code,
                        name_zh: zh,
                        name_en: en,
                        subcategories: None,
                        items: Some(items),
                    }
                })
                .collect();
            TaskNode {
                code,
                name_zh: zh,
                name_en: en,
                subcategories: Some(subcategories),
                items: None,
            }
        })
        .collect();
    to_json(&CategoriesDoc {
        synthetic: true,
        note: SYNTHETIC_NOTE,
        categories: CATEGORIES,
        grid_tasks: GridTasksDoc {
            illustrative: true,
            note: "An illustrative grid task list (网格事项清单) with the published shape of 9 \
                   categories, 22 subcategories and 84 items; the items themselves are examples, \
                   not the official list.",
            categories: tasks,
        },
    })
}

/// Serializes a document made only of strings, numbers, booleans, sequences and structs.
fn to_json<T: serde::Serialize>(doc: &T) -> Value {
    match serde_json::to_value(doc) {
        Ok(value) => value,
        // Only maps with non-string keys or failing `Serialize` impls can fail; there are none.
        Err(e) => unreachable!("catalog documents always serialize: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn unique(codes: impl Iterator<Item = &'static str>) -> bool {
        let all: Vec<_> = codes.collect();
        all.iter().collect::<BTreeSet<_>>().len() == all.len()
    }

    #[test]
    fn exact_counts() {
        assert_eq!(DEPARTMENTS.len(), 42);
        assert_eq!(COMMITTEES.len(), 12);
        assert!((30..=40).contains(&CATEGORIES.len()));
        let doc = departments();
        assert_eq!(doc["departments"].as_array().map(Vec::len), Some(42));
        assert_eq!(
            doc["mediation_committees"].as_array().map(Vec::len),
            Some(12)
        );
        assert_eq!(doc["synthetic"], true);
    }

    #[test]
    fn grid_tasks_are_9_22_84() {
        let doc = categories();
        let tasks = &doc["grid_tasks"];
        assert_eq!(tasks["illustrative"], true);
        let cats = tasks["categories"].as_array().cloned().unwrap_or_default();
        let subs: Vec<Value> = cats
            .iter()
            .flat_map(|c| c["subcategories"].as_array().cloned().unwrap_or_default())
            .collect();
        let items: Vec<Value> = subs
            .iter()
            .flat_map(|s| s["items"].as_array().cloned().unwrap_or_default())
            .collect();
        assert_eq!((cats.len(), subs.len(), items.len()), (9, 22, 84));
        let codes: BTreeSet<_> = cats
            .iter()
            .chain(&subs)
            .chain(&items)
            .map(|n| n["code"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(codes.len(), 9 + 22 + 84);
        assert_eq!(items[83]["code"], "T09-02-07");
    }

    #[test]
    fn codes_are_unique_and_well_formed() {
        assert!(unique(DEPARTMENTS.iter().map(|d| d.code)));
        assert!(unique(COMMITTEES.iter().map(|d| d.code)));
        assert!(unique(CATEGORIES.iter().map(|d| d.code)));
        for (i, d) in DEPARTMENTS.iter().enumerate() {
            assert_eq!(d.code, format!("D{:02}", i + 1));
            assert_ne!(d.kind, UnitKind::MediationCommittee);
        }
        for (i, m) in COMMITTEES.iter().enumerate() {
            assert_eq!(m.code, format!("M{:02}", i + 1));
            assert_eq!(m.kind, UnitKind::MediationCommittee);
        }
        for (i, c) in CATEGORIES.iter().enumerate() {
            assert_eq!(c.code, format!("C{:02}", i + 1));
        }
        assert!(unique(
            DEPARTMENTS.iter().chain(COMMITTEES).map(|d| d.name_zh)
        ));
        assert!(unique(CATEGORIES.iter().map(|d| d.name_zh)));
    }

    #[test]
    fn every_category_department_exists_and_lists_it() {
        for c in CATEGORIES {
            if let Handler::Department(code) = c.handler {
                let d = DEPARTMENTS.iter().find(|d| d.code == code);
                let d = d.unwrap_or_else(|| panic!("{}: no department {code}", c.code));
                assert!(
                    d.handles.contains(&c.code),
                    "{code} does not list {}",
                    c.code
                );
            }
        }
    }

    #[test]
    fn every_handled_category_exists() {
        for u in DEPARTMENTS.iter().chain(COMMITTEES) {
            assert!(unique(u.handles.iter().copied()), "{} repeats", u.code);
            for code in u.handles {
                assert!(
                    category(code).is_some(),
                    "{} handles unknown {code}",
                    u.code
                );
            }
        }
        for m in COMMITTEES {
            assert!(!m.handles.is_empty(), "{} handles nothing", m.code);
        }
    }

    #[test]
    fn handler_json_shape() {
        let doc = categories();
        let cats = doc["categories"].as_array().cloned().unwrap_or_default();
        let grid = cats.iter().find(|c| c["code"] == "C01").cloned();
        let dept = cats.iter().find(|c| c["code"] == "C07").cloned();
        assert_eq!(
            grid.map(|c| c["handler"].clone()),
            Some(serde_json::json!({"grid": true}))
        );
        assert_eq!(
            dept.map(|c| (c["handler"].clone(), c["urgency"].clone())),
            Some((serde_json::json!({"department": "D02"}), "yellow".into()))
        );
    }

    #[test]
    fn lookups() {
        assert_eq!(category("C17").map(|c| c.name_en), Some("Heating"));
        assert_eq!(
            unit_by_code("M12").map(|u| u.kind),
            Some(UnitKind::MediationCommittee)
        );
        assert!(unit_by_code("D43").is_none());
    }
}
