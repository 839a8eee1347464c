//! Who is calling, and whether they may: sign-in sessions (cookie + CSRF token), bearer API
//! keys, the route table ([`ROUTES`]: what each route needs from the permission table in
//! [`crate::auth`]), and the accounts and keys API.
//!
//! - `Authorization: Bearer KEY` names an API key; an unknown or revoked key is 401 (never
//!   taken as anonymous).
//! - The `tessera_session` cookie (HttpOnly, SameSite=Strict, Secure behind TLS) names a
//!   session; a state-changing request with it must repeat the session's CSRF token in
//!   `X-CSRF-Token` (403 `csrf` otherwise). Sessions last [`SESSION_SECONDS`].
//! - A route that needs a permission answers 401 to anonymous callers and 403 to a role without
//!   it; every denial is logged (route, method, role, name — never a credential).

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::{AppState, RefKind};
use crate::auth::secret::{hash_password, new_token, token_hash, verify_password};
use crate::auth::{Permission, Principal, Role, Scope};
use crate::store::accounts::{Account, AccountError, ApiKey};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How long a session lasts after sign-in (8 hours: one working day).
pub const SESSION_SECONDS: i64 = 8 * 3600;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tessera_session";

/// The header that repeats the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Any signed-in account or key (the handler checks further).
    Staff,
    /// This permission.
    Need(Permission),
}

use Access::{Need, Public, Staff};
use Permission as P;

/// Every route and what it needs. Case routes are further limited to the caller's scope by
/// their handlers, and case actions by the action (see [`action_permission`]).
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/livez", Public),
    ("GET", "/healthz", Public),
    ("GET", "/metrics", Public),
    ("GET", "/api/openapi.json", Public),
    ("GET", "/api/v1/locate", Public),
    ("GET", "/api/v1/grids", Public),
    ("GET", "/api/v1/grids/{key}", Public),
    ("GET", "/api/v1/outline", Public),
    ("GET", "/tiles/grids/{z}/{x}/{file}", Public),
    ("GET", "/api/v1/map-config", Public),
    ("GET", "/api/v1/streets", Public),
    ("GET", "/api/v1/communities", Public),
    ("GET", "/api/v1/departments", Public),
    ("GET", "/api/v1/categories", Public),
    ("GET", "/api/v1/workers", Need(P::ReadWorkers)),
    ("POST", "/api/v1/cases", Public),
    ("GET", "/api/v1/cases", Need(P::ReadCases)),
    ("GET", "/api/v1/cases/{id}", Need(P::ReadCases)),
    ("POST", "/api/v1/cases/{id}/actions", Staff),
    ("GET", "/api/v1/cases/{id}/contact-reads", Need(P::Audit)),
    ("GET", "/api/v1/contact-reads", Need(P::Audit)),
    ("POST", "/api/v1/cases/{id}/media", Public),
    ("GET", "/api/v1/cases/{id}/media/{name}", Public),
    ("POST", "/api/v1/incidents", Need(P::DispatchCase)),
    ("GET", "/api/v1/events", Need(P::ReadCases)),
    ("GET", "/api/v1/track/{token}", Public),
    ("POST", "/api/v1/track/{token}/rating", Public),
    ("GET", "/api/v1/stats", Need(P::ReadStats)),
    ("POST", "/api/v1/audits", Need(P::Audit)),
    ("GET", "/api/v1/audits/{id}", Need(P::Audit)),
    ("POST", "/api/v1/audits/{id}/results", Need(P::Audit)),
    ("GET", "/api/v1/layers", Need(P::ReadLayers)),
    ("POST", "/api/v1/layers", Need(P::UploadLayer)),
    ("GET", "/api/v1/layers/{id}", Need(P::ReadLayers)),
    ("GET", "/api/v1/layers/{id}/grids", Need(P::ReadLayers)),
    ("GET", "/api/v1/layers/{a}/diff/{b}", Need(P::ReadLayers)),
    ("GET", "/api/v1/layers/{id}/impact", Need(P::ReadLayers)),
    ("POST", "/api/v1/layers/{id}/repair", Need(P::UploadLayer)),
    ("POST", "/api/v1/layers/{id}/edits", Need(P::UploadLayer)),
    ("POST", "/api/v1/layers/{id}/check", Need(P::ReadLayers)),
    ("POST", "/api/v1/layers/{id}/publish", Need(P::PublishLayer)),
    ("GET", "/", Public),
    ("GET", "/login", Public),
    ("GET", "/track/{token}", Public),
    ("GET", "/dispatch", Public),
    ("GET", "/worker", Public),
    ("GET", "/planner", Public),
    ("GET", "/dashboard", Public),
    ("GET", "/assets/{file}", Public),
    ("GET", "/vendor/maplibre-gl/{file}", Public),
    ("GET", "/vendor/echarts/{file}", Public),
    ("GET", "/vendor/terra-draw/{file}", Public),
    ("GET", "/open311/v2/{file}", Public),
    ("POST", "/open311/v2/{file}", Public),
    ("GET", "/open311/v2/services/{file}", Public),
    ("GET", "/open311/v2/requests/{file}", Public),
    ("GET", "/open311/v2/tokens/{file}", Public),
    ("POST", "/api/v1/login", Public),
    ("POST", "/api/v1/logout", Staff),
    ("GET", "/api/v1/me", Staff),
    ("GET", "/api/v1/accounts", Need(P::ManageAccounts)),
    ("POST", "/api/v1/accounts", Need(P::ManageAccounts)),
    (
        "POST",
        "/api/v1/accounts/{id}/disable",
        Need(P::ManageAccounts),
    ),
    ("GET", "/api/v1/api-keys", Need(P::ManageAccounts)),
    ("POST", "/api/v1/api-keys", Need(P::ManageAccounts)),
    (
        "POST",
        "/api/v1/api-keys/{id}/revoke",
        Need(P::ManageAccounts),
    ),
];

/// The route table as Markdown (route, what it needs), as the README shows it.
pub fn route_table_markdown() -> String {
    let mut out = String::from("| route | needs |\n|---|---|\n");
    for (m, p, a) in ROUTES {
        let need = match a {
            Public => "anyone".to_string(),
            Staff => "any account or key (case actions: by the action, see below)".to_string(),
            Need(p) => format!("`{}`", p.as_str()),
        };
        out.push_str(&format!("| `{m} {p}` | {need} |\n"));
    }
    out
}

/// What the route `method path` (a route pattern, as in [`ROUTES`]) needs; a route missing
/// from the table needs [`Permission::ManageAccounts`] (closed by default).
pub fn route_access(method: &str, path: &str) -> Access {
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, a)| *a)
        .unwrap_or(Need(P::ManageAccounts))
}

/// The permission a case action needs (by its `action` name): the owner's handling, the
/// service center's dispatching, or a supervisor's note. Unknown names need dispatching.
pub fn action_permission(action: &str) -> Permission {
    match action {
        "accept" | "reply" | "resolve" | "return" | "attach" => P::HandleCase,
        "supervise" => P::SuperviseCase,
        _ => P::DispatchCase,
    }
}

/// The caller of the current request (an extension set by [`authenticate`]).
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn unauthorized(message: &str) -> Response {
    let mut r = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"tessera\""),
    );
    r
}

fn staff(name: String, role: Role, scope: Scope) -> Principal {
    Principal::Staff { name, role, scope }
}

/// Finds the caller, checks CSRF for cookie sessions, and refuses a route the caller may not
/// use (401 anonymous, 403 otherwise), logging each denial.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let now = state.now();
    let principal = if let Some(key) = bearer {
        match state.0.store.api_key(&token_hash(key)).await {
            Ok(Some(k)) => staff(k.name, k.role, k.scope),
            Ok(None) => {
                tracing::warn!(%route, %method, "denied: unknown or revoked API key");
                return unauthorized("unknown or revoked API key");
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else if let Some(token) = cookie(headers, SESSION_COOKIE) {
        match state.0.store.session(&token_hash(token), now).await {
            Ok(Some(s)) => {
                let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
                let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if unsafe_method && sent != Some(s.csrf_token.as_str()) {
                    tracing::warn!(%route, %method, name = %s.account.name, "denied: CSRF token missing or wrong");
                    return ApiError::new(
                        StatusCode::FORBIDDEN,
                        "csrf",
                        format!("a signed-in {method} needs the session's token in X-CSRF-Token"),
                    )
                    .into_response();
                }
                staff(s.account.name, s.account.role, s.account.scope)
            }
            // An expired or unknown session is no session.
            Ok(None) => Principal::Anonymous,
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else {
        Principal::Anonymous
    };
    let allowed = match route_access(method.as_str(), &route) {
        Public => true,
        Staff => principal.role().is_some(),
        Need(p) => principal.may(p),
    };
    if !allowed {
        return deny(&principal, &method, &route);
    }
    req.extensions_mut().insert(Caller(principal));
    next.run(req).await
}

/// 401 for anonymous callers, 403 for staff; logged.
pub fn deny(principal: &Principal, method: &Method, route: &str) -> Response {
    match principal {
        Principal::Anonymous => {
            tracing::warn!(%route, %method, "denied: not signed in");
            unauthorized("sign in (POST /api/v1/login) or send Authorization: Bearer KEY")
        }
        Principal::Staff { role, .. } => forbidden(
            principal,
            &format!("the {} role may not {method} {route}", role.as_str()),
        )
        .into_response(),
    }
}

/// 403 in the one error shape, logged with who was refused and why: every refusal of a
/// signed-in caller goes through here.
pub fn forbidden(principal: &Principal, message: &str) -> ApiError {
    tracing::warn!(
        role = principal.role().map_or("anonymous", |r| r.as_str()),
        name = principal.name(),
        "denied: {message}"
    );
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

/// Body of `POST /api/v1/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Account name.
    pub name: String,
    /// Password.
    pub password: String,
}

/// The signed-in account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// Account or key name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Scope.
    pub scope: Scope,
    /// The token to repeat in `X-CSRF-Token` on state-changing requests (sign-in only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// Session expiry (RFC 3339, sign-in only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// When the session cookie carries `Secure` (`serve --secure-cookies`). tessera speaks plain
/// HTTP; TLS ends at a reverse proxy in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SecureCookies {
    /// When the proxy says the request came over HTTPS: `X-Forwarded-Proto: https` or
    /// `Forwarded: proto=https` (RFC 7239). The default.
    #[default]
    Auto,
    /// Always (a TLS proxy that sends neither header).
    Always,
    /// Never (plain HTTP only, e.g. on a laptop).
    Never,
}

impl SecureCookies {
    /// Whether a cookie set in answer to a request with `headers` is `Secure`.
    pub fn secure(self, headers: &HeaderMap) -> bool {
        match self {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => {
                let forwarded_proto = headers
                    .get_all("x-forwarded-proto")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(|v| v.trim().eq_ignore_ascii_case("https"));
                // Forwarded: for=192.0.2.60;proto=https;by=203.0.113.43, for=…
                let forwarded = headers
                    .get_all(header::FORWARDED)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split([',', ';']))
                    .filter_map(|pair| pair.split_once('='))
                    .any(|(k, v)| {
                        k.trim().eq_ignore_ascii_case("proto")
                            && v.trim().trim_matches('"').eq_ignore_ascii_case("https")
                    });
                forwarded_proto || forwarded
            }
        }
    }
}

fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state
        .0
        .secure_cookies
        .get()
        .copied()
        .unwrap_or_default()
        .secure(headers)
}

/// Sign in: a session cookie and the CSRF token.
#[utoipa::path(post, path = "/api/v1/login", tag = "accounts", request_body = Login,
    responses((status = 200, body = Me), (status = 401, body = super::error::ErrorBody)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let found = state.0.store.account_for_login(&req.name).await?;
    let password = req.password;
    let ok = match found {
        Some((account, phc)) => {
            // Argon2 takes tens of milliseconds: off the async threads.
            let good = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
                .await
                .unwrap_or(false);
            good.then_some(account)
        }
        None => None,
    };
    let Some(account) = ok else {
        tracing::warn!(name = %req.name, "sign-in refused");
        return Ok(unauthorized("wrong name or password"));
    };
    let now = state.now();
    let token = new_token("").map_err(|e| ApiError::internal(&e))?;
    let csrf = new_token("").map_err(|e| ApiError::internal(&e))?;
    let expires = now + SESSION_SECONDS;
    state
        .0
        .store
        .insert_session(&token_hash(&token), account.id, &csrf, now, expires)
        .await?;
    tracing::info!(name = %account.name, role = account.role.as_str(), "signed in");
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{}",
        if secure(&state, &headers) {
            "; Secure"
        } else {
            ""
        }
    );
    let body = Me {
        name: account.name,
        role: account.role,
        scope: account.scope,
        csrf_token: Some(csrf),
        expires_at: Some(crate::cases::calendar::rfc3339_shanghai(expires)),
    };
    let mut r = Json(body).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal(&e))?,
    );
    Ok(r)
}

/// Sign out: the session ends and its cookie is cleared.
#[utoipa::path(post, path = "/api/v1/logout", tag = "accounts",
    responses((status = 204, description = "Signed out"), (status = 401, body = super::error::ErrorBody)))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.0.store.delete_session(&token_hash(token)).await?;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tessera_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(r)
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = Me), (status = 401, body = super::error::ErrorBody)))]
pub(crate) async fn me(caller: axum::Extension<Caller>) -> Result<Json<Me>, ApiError> {
    match &caller.0.0 {
        Principal::Staff { name, role, scope } => Ok(Json(Me {
            name: name.clone(),
            role: *role,
            scope: scope.clone(),
            csrf_token: None,
            expires_at: None,
        })),
        Principal::Anonymous => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "not signed in",
        )),
    }
}

/// Body of `POST /api/v1/accounts`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Login name (1–64 characters).
    pub name: String,
    /// Role.
    pub role: Role,
    /// Scope (default: the district).
    #[serde(default)]
    pub scope: Option<Scope>,
    /// Password (at least 12 characters).
    pub password: String,
}

/// Accounts and keys as an administrator sees them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountList {
    /// Every account, by name.
    pub accounts: Vec<Account>,
}

/// Checks a name, a role's scope, and that the scope's code exists in the district.
pub(crate) fn check_account(
    state: &AppState,
    name: &str,
    role: Role,
    scope: &Scope,
) -> Result<(), ApiError> {
    let bad = |field: &str, msg: String| {
        ApiError::unprocessable("invalid_field", msg).with_details(json!({ "field": field }))
    };
    let n = name.trim().chars().count();
    if n == 0 || n > 64 || name.trim() != name {
        return Err(bad(
            "name",
            "a name has 1–64 characters and no surrounding spaces".into(),
        ));
    }
    if !scope.fits(role) {
        return Err(bad(
            "scope",
            format!("a {} cannot have scope {:?}", role.as_str(), scope.parts()),
        ));
    }
    let refs = state.0.refs.load();
    let live = state.0.live.load();
    let known = match scope {
        Scope::District => true,
        Scope::Street(c) => refs.list(RefKind::Streets).iter().any(|s| &s.key == c),
        Scope::Community(c) => refs.list(RefKind::Communities).iter().any(|s| &s.key == c),
        Scope::Grid(c) => live.by_key.contains_key(c),
        Scope::Department(c) => refs.list(RefKind::Departments).iter().any(|s| &s.key == c),
    };
    if !known {
        return Err(bad(
            "scope",
            format!("no {:?} in the district", scope.parts()),
        ));
    }
    Ok(())
}

/// Every account.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    responses((status = 200, body = AccountList), (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)))]
pub(crate) async fn accounts(State(state): State<AppState>) -> Result<Json<AccountList>, ApiError> {
    Ok(Json(AccountList {
        accounts: state.0.store.accounts().await?,
    }))
}

/// Add an account.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = NewAccount,
    responses((status = 201, body = Account), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub(crate) async fn add_account(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewAccount>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let scope = req.scope.unwrap_or(Scope::District);
    check_account(&state, &req.name, req.role, &scope)?;
    if req.password.chars().count() < 12 {
        return Err(ApiError::unprocessable(
            "invalid_field",
            "a password has at least 12 characters",
        )
        .with_details(json!({ "field": "password" })));
    }
    let password = req.password;
    let phc = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    let a = state
        .0
        .store
        .insert_account(&req.name, req.role, &scope, &phc, state.now())
        .await
        .map_err(account_error)?;
    tracing::info!(name = %a.name, role = a.role.as_str(), "account added");
    Ok((StatusCode::CREATED, Json(a)))
}

pub(crate) fn account_error(e: AccountError) -> ApiError {
    match e {
        AccountError::Taken(n) => ApiError::new(
            StatusCode::CONFLICT,
            "taken",
            format!("an account named {n:?} exists"),
        ),
        AccountError::Store(e) => e.into(),
    }
}

/// Body of `POST /api/v1/api-keys`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What the key is for (1–64 characters).
    pub name: String,
    /// Role (default `integration`).
    #[serde(default)]
    pub role: Option<Role>,
    /// Scope (default: the district).
    #[serde(default)]
    pub scope: Option<Scope>,
}

/// A new key: shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    /// The key's record.
    pub record: ApiKey,
    /// The key itself; only its hash is kept, so this is the only time it is shown.
    pub key: String,
}

/// Every API key (never the keys themselves).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyList {
    /// Keys, newest first.
    pub keys: Vec<ApiKey>,
}

/// The prefix of every API key.
pub const KEY_PREFIX: &str = "tsk_";

/// Every API key.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "accounts",
    responses((status = 200, body = KeyList), (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)))]
pub(crate) async fn api_keys(State(state): State<AppState>) -> Result<Json<KeyList>, ApiError> {
    Ok(Json(KeyList {
        keys: state.0.store.api_keys().await?,
    }))
}

/// Create an API key (shown once).
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "accounts", request_body = NewApiKey,
    responses((status = 201, body = CreatedKey), (status = 422, body = super::error::ErrorBody)))]
pub(crate) async fn add_api_key(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let role = req.role.unwrap_or(Role::Integration);
    let scope = req.scope.unwrap_or(Scope::District);
    check_account(&state, &req.name, role, &scope)?;
    let key = new_token(KEY_PREFIX).map_err(|e| ApiError::internal(&e))?;
    let record = state
        .0
        .store
        .insert_api_key(&req.name, role, &scope, &token_hash(&key), state.now())
        .await?;
    tracing::info!(name = %record.name, role = role.as_str(), "API key created");
    Ok((StatusCode::CREATED, Json(CreatedKey { record, key })))
}

/// Revoke an API key.
#[utoipa::path(post, path = "/api/v1/api-keys/{id}/revoke", tag = "accounts",
    params(("id" = i64, Path, description = "Key id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn revoke_api_key(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    if state.0.store.revoke_api_key(id, state.now()).await? {
        tracing::info!(key = id, "API key revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no live API key {id}")))
    }
}

/// Disable an account: it can no longer sign in, and its open sessions end at once. The account
/// stays on record (who did what remains readable); it is not deleted.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/disable", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses((status = 204, description = "Disabled"), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn disable_account(
    State(state): State<AppState>,
    caller: axum::Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    if state.0.store.disable_account(id, state.now()).await? {
        tracing::info!(account = id, by = caller.0.0.name(), "account disabled");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no enabled account {id}")))
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/accounts", get(accounts).post(add_account))
        .route("/api/v1/accounts/{id}/disable", post(disable_account))
        .route("/api/v1/api-keys", get(api_keys).post(add_api_key))
        .route("/api/v1/api-keys/{id}/revoke", post(revoke_api_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookies_follow_the_flag_and_the_proxys_word() {
        let with = |pairs: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            h
        };
        let plain = with(&[]);
        let xfp = with(&[("x-forwarded-proto", "HTTPS")]);
        let fwd = with(&[("forwarded", "for=\"[2001:db8::1]\";proto=\"https\"")]);
        let fwd_http = with(&[("forwarded", "proto=http, proto=http")]);
        let auto = SecureCookies::Auto;
        assert!(!auto.secure(&plain));
        assert!(auto.secure(&xfp));
        assert!(auto.secure(&fwd));
        assert!(!auto.secure(&fwd_http));
        assert!(SecureCookies::Always.secure(&plain));
        assert!(!SecureCookies::Never.secure(&xfp));
    }
}
