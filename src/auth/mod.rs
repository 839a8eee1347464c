//! Who may do what: the roles of the service, what each may do ([`PERMISSIONS`], the one
//! permission table, rendered into the README by [`permission_table_markdown`]), which cases a
//! scoped account sees ([`Scope`]), how secrets are kept (argon2id for passwords, SHA-256 for
//! random API keys and session tokens) and how personal data is masked in lists.
//!
//! Pure values: the HTTP layer finds the caller ([`Principal`]) and asks here.

pub mod secret;

use serde::{Deserialize, Serialize};

/// A staff role, or an integration's. Citizens have no account: they are anonymous callers.
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
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Role {
    /// 12345 hotline operator (话务员): takes reports by phone, looks cases up for callers.
    HotlineOperator,
    /// Service-center dispatcher (调度员): triages, dispatches, reassigns, merges, visits.
    Dispatcher,
    /// Grid worker (网格员): handles the cases of their own grids.
    GridWorker,
    /// Department staff (部门联动员): handles their department's cases.
    DepartmentStaff,
    /// Planner: drafts, validates and publishes grid layers.
    Planner,
    /// Supervisor (督办) of a street or the district: oversight notes, audits, statistics.
    Supervisor,
    /// Administrator: accounts and API keys.
    Admin,
    /// An integration (12345 platform, Open311 client, script): submits cases and reads their
    /// public status.
    Integration,
}

impl Role {
    /// Every role, in the order of the permission table.
    pub const ALL: [Role; 8] = [
        Role::HotlineOperator,
        Role::Dispatcher,
        Role::GridWorker,
        Role::DepartmentStaff,
        Role::Planner,
        Role::Supervisor,
        Role::Admin,
        Role::Integration,
    ];

    /// The snake_case name (`grid_worker`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::HotlineOperator => "hotline_operator",
            Role::Dispatcher => "dispatcher",
            Role::GridWorker => "grid_worker",
            Role::DepartmentStaff => "department_staff",
            Role::Planner => "planner",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Integration => "integration",
        }
    }

    /// The role named `s` (snake_case), if any.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role holds `p`.
    pub fn may(self, p: Permission) -> bool {
        p.is_public()
            || PERMISSIONS
                .iter()
                .any(|(perm, roles)| *perm == p && roles.contains(&self))
    }
}

/// Which cases a scoped account sees and acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum Scope {
    /// The whole district.
    District,
    /// One street or town (街道/镇), by code.
    Street(String),
    /// One community or village, by code.
    Community(String),
    /// One grid, by code.
    Grid(String),
    /// The cases one department owns, by code.
    Department(String),
}

impl Scope {
    /// `(kind, code)` as stored: `district` has no code.
    pub fn parts(&self) -> (&'static str, Option<&str>) {
        match self {
            Scope::District => ("district", None),
            Scope::Street(c) => ("street", Some(c)),
            Scope::Community(c) => ("community", Some(c)),
            Scope::Grid(c) => ("grid", Some(c)),
            Scope::Department(c) => ("department", Some(c)),
        }
    }

    /// The scope stored as `(kind, code)`, if the pair is well formed.
    pub fn from_parts(kind: &str, code: Option<&str>) -> Option<Scope> {
        let code = code.map(str::to_string);
        Some(match (kind, code) {
            ("district", _) => Scope::District,
            ("street", Some(c)) => Scope::Street(c),
            ("community", Some(c)) => Scope::Community(c),
            ("grid", Some(c)) => Scope::Grid(c),
            ("department", Some(c)) => Scope::Department(c),
            _ => return None,
        })
    }

    /// The scopes a role may be given: a grid worker works in a grid, community or street
    /// (or all); department staff in one department; the others district-wide or, for
    /// supervisors, one street.
    pub fn fits(&self, role: Role) -> bool {
        match role {
            Role::GridWorker => !matches!(self, Scope::Department(_)),
            Role::DepartmentStaff => matches!(self, Scope::Department(_) | Scope::District),
            Role::Supervisor => matches!(self, Scope::Street(_) | Scope::District),
            _ => matches!(self, Scope::District),
        }
    }

    /// Whether a case in grid `grid` (of community `community` and street `street`), owned by
    /// `owner` ([`crate::cases::lifecycle::Assignee::key`]), is within this scope. A
    /// department sees the cases it owns; the area scopes see the cases located in them.
    pub fn covers(
        &self,
        grid: Option<&str>,
        community: Option<&str>,
        street: Option<&str>,
        owner: &str,
    ) -> bool {
        match self {
            Scope::District => true,
            Scope::Street(s) => street == Some(s.as_str()),
            Scope::Community(c) => community == Some(c.as_str()),
            Scope::Grid(g) => grid == Some(g.as_str()),
            Scope::Department(d) => owner == d,
        }
    }
}

/// A caller: anonymous (a citizen), or an account or API key with its role and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credentials.
    Anonymous,
    /// Signed in or holding a key.
    Staff {
        /// Account or key name (for logs and the case's actor).
        name: String,
        /// Its role.
        role: Role,
        /// Its scope.
        scope: Scope,
    },
}

impl Principal {
    /// The role, if not anonymous.
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::Anonymous => None,
            Principal::Staff { role, .. } => Some(*role),
        }
    }

    /// Whether the caller holds `p` (anonymous callers hold only the public permissions).
    pub fn may(&self, p: Permission) -> bool {
        match self {
            Principal::Anonymous => p.is_public(),
            Principal::Staff { role, .. } => role.may(p),
        }
    }

    /// The name to record as the actor.
    pub fn name(&self) -> &str {
        match self {
            Principal::Anonymous => "citizen",
            Principal::Staff { name, .. } => name,
        }
    }
}

/// What a route or a case action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Open to everyone: health, the API description, locate, the published grids and the
    /// district's catalogues, citizen intake, the tracking page and its rating.
    Public,
    /// Submit a case as an integration or staff (Open311 POST needs a key).
    SubmitCase,
    /// Read cases (lists, one case, its timeline and media, the event stream), within scope.
    ReadCases,
    /// Handle a case one owns: on site, reply, resolve, send back (退单), attach files.
    HandleCase,
    /// Run the service center's side of a case: triage, dispatch, reassign, merge, mark
    /// invalid, follow-up visit, close.
    DispatchCase,
    /// Add an oversight note (督办).
    SuperviseCase,
    /// Read the dashboard's figures.
    ReadStats,
    /// Draw and record sampling audits.
    Audit,
    /// Read the workers' contact details.
    ReadWorkers,
    /// Read grid layer versions, drafts, diffs and impacts.
    ReadLayers,
    /// Upload a draft layer.
    UploadLayer,
    /// Publish a layer version.
    PublishLayer,
    /// Manage accounts and API keys.
    ManageAccounts,
}

impl Permission {
    /// Every permission, in table order.
    pub const ALL: [Permission; 13] = [
        Permission::Public,
        Permission::SubmitCase,
        Permission::ReadCases,
        Permission::HandleCase,
        Permission::DispatchCase,
        Permission::SuperviseCase,
        Permission::ReadStats,
        Permission::Audit,
        Permission::ReadWorkers,
        Permission::ReadLayers,
        Permission::UploadLayer,
        Permission::PublishLayer,
        Permission::ManageAccounts,
    ];

    /// Whether anonymous callers hold it.
    pub fn is_public(self) -> bool {
        self == Permission::Public
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Public => "public",
            Permission::SubmitCase => "submit_case",
            Permission::ReadCases => "read_cases",
            Permission::HandleCase => "handle_case",
            Permission::DispatchCase => "dispatch_case",
            Permission::SuperviseCase => "supervise_case",
            Permission::ReadStats => "read_stats",
            Permission::Audit => "audit",
            Permission::ReadWorkers => "read_workers",
            Permission::ReadLayers => "read_layers",
            Permission::UploadLayer => "upload_layer",
            Permission::PublishLayer => "publish_layer",
            Permission::ManageAccounts => "manage_accounts",
        }
    }
}

use Role as R;

/// The permission table: each permission and the roles holding it (anonymous callers hold
/// only [`Permission::Public`]). Case permissions apply within the account's [`Scope`].
pub const PERMISSIONS: &[(Permission, &[Role])] = &[
    (
        Permission::SubmitCase,
        &[
            R::HotlineOperator,
            R::Dispatcher,
            R::GridWorker,
            R::Integration,
        ],
    ),
    (
        Permission::ReadCases,
        &[
            R::HotlineOperator,
            R::Dispatcher,
            R::GridWorker,
            R::DepartmentStaff,
            R::Supervisor,
        ],
    ),
    (Permission::HandleCase, &[R::GridWorker, R::DepartmentStaff]),
    (Permission::DispatchCase, &[R::Dispatcher]),
    (Permission::SuperviseCase, &[R::Supervisor]),
    (
        Permission::ReadStats,
        &[R::Dispatcher, R::Planner, R::Supervisor, R::Admin],
    ),
    (Permission::Audit, &[R::Supervisor]),
    (
        Permission::ReadWorkers,
        &[
            R::HotlineOperator,
            R::Dispatcher,
            R::GridWorker,
            R::DepartmentStaff,
            R::Planner,
            R::Supervisor,
            R::Admin,
        ],
    ),
    (
        Permission::ReadLayers,
        &[R::Dispatcher, R::Planner, R::Supervisor, R::Admin],
    ),
    (Permission::UploadLayer, &[R::Planner]),
    (Permission::PublishLayer, &[R::Planner]),
    (Permission::ManageAccounts, &[R::Admin]),
];

/// Who may see a case's full contact details (name, phone): the dispatchers, and the staff the
/// case is assigned to — a department's staff when the department owns it, the grid worker of
/// the case's grid (an account scoped to that one grid) when a worker owns it. Everyone else,
/// a grid worker with a wider scope included, sees them masked.
/// `owner` is the owner's key ([`crate::cases::lifecycle::Assignee::key`]).
pub fn sees_contacts(
    principal: &Principal,
    in_scope: bool,
    owner: &str,
    owner_is_worker: bool,
) -> bool {
    match principal {
        Principal::Staff {
            role: Role::Dispatcher,
            ..
        } => true,
        Principal::Staff {
            role: Role::DepartmentStaff,
            scope: Scope::Department(d),
            ..
        } => d == owner,
        Principal::Staff {
            role: Role::GridWorker,
            scope: Scope::Grid(_),
            ..
        } => in_scope && owner_is_worker,
        _ => false,
    }
}

/// A roster worker's record as `principal` may see it: whole for a role that may read the
/// workers' contact details ([`Permission::ReadWorkers`]); otherwise only the id, name, role and
/// the phone masked (139****1234), as a citizen sees the worker answering for their grid.
pub fn worker_view(principal: &Principal, worker: &serde_json::Value) -> serde_json::Value {
    if principal.may(Permission::ReadWorkers) {
        return worker.clone();
    }
    let mut out = serde_json::Map::new();
    for k in ["id", "name", "role"] {
        if let Some(v) = worker.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    if worker.get("phone").is_some() {
        out.insert("phone".into(), worker_phone(principal, worker));
    }
    serde_json::Value::Object(out)
}

/// A roster worker's phone as `principal` may see it: whole for a role that may read the
/// workers' contact details, masked otherwise (see [`worker_view`]).
pub fn worker_phone(principal: &Principal, worker: &serde_json::Value) -> serde_json::Value {
    match worker.get("phone").and_then(serde_json::Value::as_str) {
        Some(p) if !principal.may(Permission::ReadWorkers) => {
            serde_json::Value::String(mask_phone(p))
        }
        _ => worker.get("phone").cloned().unwrap_or_default(),
    }
}

/// A phone number with its middle hidden: `13912341234` → `139****1234` (the first three and
/// last four digits kept; shorter numbers keep their last two).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    if n >= 8 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head}****{tail}")
    } else if n > 2 {
        format!(
            "{}{}",
            "*".repeat(n - 2),
            chars[n - 2..].iter().collect::<String>()
        )
    } else {
        "*".repeat(n)
    }
}

/// A name with all but its first character hidden: `张三丰` → `张**`, `Li Wei` → `L*****`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
    }
}

/// The permission table as a Markdown table (roles across, permissions down), as the README
/// shows it.
pub fn permission_table_markdown() -> String {
    let mut out = String::from("| permission | anonymous |");
    for r in Role::ALL {
        out.push_str(&format!(" {} |", r.as_str()));
    }
    out.push_str("\n|---|---|");
    for _ in Role::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for p in Permission::ALL {
        out.push_str(&format!(
            "| `{}` | {} |",
            p.as_str(),
            if p.is_public() { "✓" } else { "" }
        ));
        for r in Role::ALL {
            out.push_str(if r.may(p) { " ✓ |" } else { " |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_planners_publish_and_only_admins_manage_accounts() {
        for r in Role::ALL {
            assert_eq!(r.may(Permission::PublishLayer), r == Role::Planner, "{r:?}");
            assert_eq!(r.may(Permission::ManageAccounts), r == Role::Admin, "{r:?}");
        }
        assert!(!Principal::Anonymous.may(Permission::ReadCases));
        assert!(Principal::Anonymous.may(Permission::Public));
        // The default integration role submits cases and reads nothing else.
        let allowed: Vec<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| Role::Integration.may(*p))
            .collect();
        assert_eq!(allowed, [Permission::Public, Permission::SubmitCase]);
    }

    #[test]
    fn scopes_fit_their_roles_and_cover_their_cases() {
        let street = Scope::Street("370303001".into());
        assert!(street.fits(Role::Supervisor) && street.fits(Role::GridWorker));
        assert!(!street.fits(Role::Dispatcher));
        assert!(!Scope::Department("D02".into()).fits(Role::GridWorker));
        assert!(street.covers(Some("g"), Some("c"), Some("370303001"), "W1"));
        assert!(!street.covers(Some("g"), Some("c"), Some("370303002"), "W1"));
        let dept = Scope::Department("D02".into());
        assert!(dept.covers(None, None, None, "D02") && !dept.covers(None, None, None, "D03"));
        assert_eq!(
            Scope::from_parts("grid", Some("370303001001001")),
            Some(Scope::Grid("370303001001001".into()))
        );
        assert_eq!(Scope::from_parts("grid", None), None);
        for s in [Scope::District, street, dept] {
            let (k, c) = s.parts();
            assert_eq!(Scope::from_parts(k, c), Some(s));
        }
    }

    #[test]
    fn masks_keep_only_what_identifies_nobody() {
        assert_eq!(mask_phone("13912341234"), "139****1234");
        assert_eq!(mask_phone("0533-1234567"), "053****4567");
        assert_eq!(mask_phone("12345"), "***45");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("张"), "张*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn the_table_renders_every_role_and_permission() {
        let t = permission_table_markdown();
        assert_eq!(t.lines().count(), 2 + Permission::ALL.len());
        for r in Role::ALL {
            assert!(t.contains(r.as_str()));
        }
        assert!(
            t.contains("| `publish_layer` |  | | | | | ✓ | | | |"),
            "{t}"
        );
    }
}
