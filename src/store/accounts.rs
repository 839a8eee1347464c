//! Accounts, sessions, API keys and the log of contact reads, on both backends. Secrets arrive
//! already hashed ([`crate::auth::secret`]); nothing here sees a password or a token.

use super::postgres::in_district;
use super::{Store, StoreError};
use crate::auth::{Role, Scope};
use serde::Serialize;
use sqlx::Row;

/// A staff account (without its password hash).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Account {
    /// Account id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Scope.
    pub scope: Scope,
    /// Created at (Unix seconds).
    pub created_at: i64,
    /// Disabled at (Unix seconds); null while the account may sign in.
    pub disabled_at: Option<i64>,
}

/// An API key's record (never the key).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    /// Key id.
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Scope.
    pub scope: Scope,
    /// Created at (Unix seconds).
    pub created_at: i64,
    /// Revoked at, if revoked.
    pub revoked_at: Option<i64>,
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Whose.
    pub account: Account,
    /// The token state-changing requests must repeat in `X-CSRF-Token`.
    pub csrf_token: String,
    /// Expires at (Unix seconds).
    pub expires_at: i64,
}

/// One read of a case's full contact details.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ContactRead {
    /// When (Unix seconds).
    pub at: i64,
    /// Who (account or key name).
    pub actor: String,
    /// Their role.
    pub role: String,
    /// Which case.
    pub case_id: i64,
}

/// Why an account or key could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The name is taken.
    #[error("an account named {0:?} exists")]
    Taken(String),
    /// The database refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn role_scope(
    role: &str,
    kind: &str,
    code: Option<String>,
    what: &str,
) -> Result<(Role, Scope), StoreError> {
    let r = Role::parse(role)
        .ok_or_else(|| StoreError::Corrupt(format!("{what}: unknown role {role:?}")))?;
    let s = Scope::from_parts(kind, code.as_deref())
        .ok_or_else(|| StoreError::Corrupt(format!("{what}: bad scope {kind:?}")))?;
    Ok((r, s))
}

fn row_contact_read(row: &impl RowGet) -> Result<ContactRead, StoreError> {
    Ok(ContactRead {
        at: row.int("at")?,
        actor: row.text("actor")?,
        role: row.text("role")?,
        case_id: row.int("case_id")?,
    })
}

fn row_account(row: &impl RowGet) -> Result<Account, StoreError> {
    let (role, scope) = role_scope(
        &row.text("role")?,
        &row.text("scope_kind")?,
        row.opt_text("scope_code")?,
        "account",
    )?;
    Ok(Account {
        id: row.int("id")?,
        name: row.text("name")?,
        role,
        scope,
        created_at: row.int("created_at")?,
        disabled_at: row.opt_int("disabled_at")?,
    })
}

fn row_key(row: &impl RowGet) -> Result<ApiKey, StoreError> {
    let (role, scope) = role_scope(
        &row.text("role")?,
        &row.text("scope_kind")?,
        row.opt_text("scope_code")?,
        "api key",
    )?;
    Ok(ApiKey {
        id: row.int("id")?,
        name: row.text("name")?,
        role,
        scope,
        created_at: row.int("created_at")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}

/// Column access common to both backends' rows.
trait RowGet {
    fn text(&self, c: &str) -> Result<String, StoreError>;
    fn opt_text(&self, c: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, c: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, c: &str) -> Result<Option<i64>, StoreError>;
}

macro_rules! row_get {
    ($row:ty) => {
        impl RowGet for $row {
            fn text(&self, c: &str) -> Result<String, StoreError> {
                Ok(self.try_get(c)?)
            }
            fn opt_text(&self, c: &str) -> Result<Option<String>, StoreError> {
                Ok(self.try_get(c)?)
            }
            fn int(&self, c: &str) -> Result<i64, StoreError> {
                Ok(self.try_get(c)?)
            }
            fn opt_int(&self, c: &str) -> Result<Option<i64>, StoreError> {
                Ok(self.try_get(c)?)
            }
        }
    };
}
row_get!(sqlx::sqlite::SqliteRow);
row_get!(sqlx::postgres::PgRow);

/// Runs one statement (placeholders `$1`, `$2`, … in order, which both SQLite and PostgreSQL
/// read) on whichever backend `$store` is, binding `$binds`, and applies `$then` to the
/// query's future (e.g. `fetch_optional`).
macro_rules! on_both {
    // (SQLite text, PostgreSQL text): on PostgreSQL, reads of a distributed table also keep to
    // the connection's district. This arm comes first: the other one rewrites to it.
    ($store:expr, ($sqlite:expr, $pg:expr), [$($b:expr),*], |$q:ident, $pool:ident| $then:expr) => {
        match $store {
            Store::Sqlite(s) => {
                let $pool = s.pool();
                let $q = sqlx::query($sqlite)$(.bind($b))*;
                $then
            }
            Store::Postgres(p) => {
                let $pool = p.pool();
                let $q = sqlx::query($pg)$(.bind($b))*;
                $then
            }
        }
    };
    // One statement text for both backends.
    ($store:expr, $sql:expr, [$($b:expr),*], |$q:ident, $pool:ident| $then:expr) => {
        on_both!($store, ($sql, $sql), [$($b),*], |$q, $pool| $then)
    };
}

const ACCOUNT_COLS: &str = "id, name, role, scope_kind, scope_code, created_at, disabled_at";

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// Adds an account; [`AccountError::Taken`] when the name is in use.
    pub async fn insert_account(
        &self,
        name: &str,
        role: Role,
        scope: &Scope,
        password_hash: &str,
        now: i64,
    ) -> Result<Account, AccountError> {
        let (kind, code) = scope.parts();
        let sql =
            "INSERT INTO account (name, role, scope_kind, scope_code, password_hash, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        let id: Result<i64, sqlx::Error> = on_both!(
            self,
            sql,
            [name, role.as_str(), kind, code, password_hash, now],
            |q, pool| q.fetch_one(pool).await.and_then(|r| r.try_get("id"))
        );
        match id {
            Ok(id) => Ok(Account {
                id,
                name: name.to_string(),
                role,
                scope: scope.clone(),
                created_at: now,
                disabled_at: None,
            }),
            Err(e) if is_unique_violation(&e) => Err(AccountError::Taken(name.to_string())),
            Err(e) => Err(AccountError::Store(e.into())),
        }
    }

    /// The account named `name` with its password hash, unless it is disabled.
    pub async fn account_for_login(
        &self,
        name: &str,
    ) -> Result<Option<(Account, String)>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLS}, password_hash FROM account WHERE name = $1 AND disabled_at IS NULL"
        );
        on_both!(self, sqlx::AssertSqlSafe(sql), [name], |q, pool| {
            match q.fetch_optional(pool).await? {
                None => Ok(None),
                Some(r) => Ok(Some((row_account(&r)?, r.text("password_hash")?))),
            }
        })
    }

    /// Every account, by name.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM account ORDER BY name");
        on_both!(self, sqlx::AssertSqlSafe(sql), [], |q, pool| {
            q.fetch_all(pool).await?.iter().map(row_account).collect()
        })
    }

    /// Opens a session for `account` until `expires_at`.
    pub async fn insert_session(
        &self,
        token_hash: &str,
        account: i64,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO session (token_hash, account_id, csrf_token, created_at, expires_at)
                   VALUES ($1, $2, $3, $4, $5)";
        on_both!(
            self,
            sql,
            [token_hash, account, csrf_token, now, expires_at],
            |q, pool| {
                q.execute(pool).await?;
            }
        );
        // Expired sessions go when new ones come.
        on_both!(
            self,
            "DELETE FROM session WHERE expires_at <= $1",
            [now],
            |q, pool| {
                q.execute(pool).await?;
            }
        );
        Ok(())
    }

    /// The session with this token hash, if it has not expired at `now`.
    pub async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let sql = "SELECT a.id, a.name, a.role, a.scope_kind, a.scope_code, a.created_at,
                          a.disabled_at, s.csrf_token, s.expires_at
                   FROM session s JOIN account a ON a.id = s.account_id
                   WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL";
        on_both!(self, sql, [token_hash, now], |q, pool| {
            match q.fetch_optional(pool).await? {
                None => Ok(None),
                Some(r) => Ok(Some(Session {
                    account: row_account(&r)?,
                    csrf_token: r.text("csrf_token")?,
                    expires_at: r.int("expires_at")?,
                })),
            }
        })
    }

    /// Disables account `id` at `now` and ends its sessions, in one transaction; false when
    /// there is no such enabled account. The account stays on record.
    pub async fn disable_account(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        // `$n` placeholders serve both backends (SQLite reads them as numbered parameters).
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let n = sqlx::query(
                    "UPDATE account SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                sqlx::query("DELETE FROM session WHERE account_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                n
            }};
        }
        let n = match self {
            Store::Sqlite(s) => run!(s.pool()),
            Store::Postgres(p) => run!(p.pool()),
        };
        Ok(n == 1)
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        on_both!(
            self,
            "DELETE FROM session WHERE token_hash = $1",
            [token_hash],
            |q, pool| {
                q.execute(pool).await?;
            }
        );
        Ok(())
    }

    /// Records a new API key (its hash) and returns its record.
    pub async fn insert_api_key(
        &self,
        name: &str,
        role: Role,
        scope: &Scope,
        key_hash: &str,
        now: i64,
    ) -> Result<ApiKey, StoreError> {
        let (kind, code) = scope.parts();
        let sql = "INSERT INTO api_key (name, key_hash, role, scope_kind, scope_code, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        let id: i64 = on_both!(
            self,
            sql,
            [name, key_hash, role.as_str(), kind, code, now],
            |q, pool| q.fetch_one(pool).await?.try_get("id")?
        );
        Ok(ApiKey {
            id,
            name: name.to_string(),
            role,
            scope: scope.clone(),
            created_at: now,
            revoked_at: None,
        })
    }

    /// The live (not revoked) key with this hash.
    pub async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let sql = "SELECT id, name, role, scope_kind, scope_code, created_at, revoked_at
                   FROM api_key WHERE key_hash = $1 AND revoked_at IS NULL";
        on_both!(self, sql, [key_hash], |q, pool| {
            match q.fetch_optional(pool).await? {
                None => Ok(None),
                Some(r) => Ok(Some(row_key(&r)?)),
            }
        })
    }

    /// Every key, newest first.
    pub async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let sql = "SELECT id, name, role, scope_kind, scope_code, created_at, revoked_at
                   FROM api_key ORDER BY id DESC";
        on_both!(self, sql, [], |q, pool| {
            q.fetch_all(pool).await?.iter().map(row_key).collect()
        })
    }

    /// Revokes key `id`; false when there is no such live key.
    pub async fn revoke_api_key(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let sql = "UPDATE api_key SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        let n = on_both!(self, sql, [now, id], |q, pool| q
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// Records that `actor` (with `role`) read case `case_id`'s full contact details.
    pub async fn record_contact_read(
        &self,
        at: i64,
        actor: &str,
        role: &str,
        case_id: i64,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO contact_read (at, actor, role, case_id) VALUES ($1, $2, $3, $4)";
        on_both!(self, sql, [at, actor, role, case_id], |q, pool| {
            q.execute(pool).await?;
        });
        Ok(())
    }

    /// The recorded reads of contact details at or after `from` and before `to` (Unix
    /// seconds), oldest first (the log is append-only, so paging by `offset` is stable), at
    /// most `limit` after skipping `offset`.
    pub async fn contact_reads_between(
        &self,
        from: i64,
        to: i64,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ContactRead>, StoreError> {
        let (sqlite, pg) = (
            "SELECT at, actor, role, case_id FROM contact_read
             WHERE at >= $1 AND at < $2 ORDER BY id LIMIT $3 OFFSET $4",
            concat!(
                "SELECT at, actor, role, case_id FROM contact_read
                 WHERE at >= $1 AND at < $2 AND ",
                in_district!(),
                " ORDER BY id LIMIT $3 OFFSET $4"
            ),
        );
        on_both!(self, (sqlite, pg), [from, to, limit, offset], |q, pool| {
            q.fetch_all(pool)
                .await?
                .iter()
                .map(row_contact_read)
                .collect()
        })
    }

    /// Every recorded read of case `case_id`'s contact details, oldest first.
    pub async fn contact_reads(&self, case_id: i64) -> Result<Vec<ContactRead>, StoreError> {
        let (sqlite, pg) = (
            "SELECT at, actor, role, case_id FROM contact_read WHERE case_id = $1 ORDER BY id",
            concat!(
                "SELECT at, actor, role, case_id FROM contact_read WHERE case_id = $1 AND ",
                in_district!(),
                " ORDER BY id"
            ),
        );
        on_both!(self, (sqlite, pg), [case_id], |q, pool| {
            q.fetch_all(pool)
                .await?
                .iter()
                .map(row_contact_read)
                .collect()
        })
    }
}
