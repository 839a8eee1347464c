//! `tessera user add` and `tessera api-key create`: accounts and integration keys, written
//! straight into the database `serve` uses (same `--database-url` / `--data-dir`).

use crate::auth::secret::{hash_password, new_password, new_token, token_hash};
use crate::auth::{Role, Scope};
use crate::store::accounts::AccountError;
use crate::store::{RefKind, Store};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the database is: shared by `serve`, `user` and `api-key`.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// Database URL: `sqlite:PATH` (default: DATA_DIR/tessera.db); `postgres://…` selects
    /// PostgreSQL + PostGIS.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Folder for the embedded database (and case media under `media/`).
    #[arg(long, env = "TESSERA_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// The district this database serves (GB/T 2260, six digits). On PostgreSQL every case,
    /// event, layer and grid row carries it, leading their keys: the distribution column of a
    /// province on Citus (docs/scale-out.md).
    #[arg(long, env = "TESSERA_DISTRICT", default_value = crate::store::DEFAULT_DISTRICT)]
    pub district: String,
}

/// The area or department an account works in (at most one; default: the whole district).
#[derive(Debug, clap::Args)]
#[group(multiple = false)]
pub struct ScopeArgs {
    /// A grid (grid workers).
    #[arg(long, value_name = "CODE")]
    grid: Option<String>,
    /// A community or village (grid workers).
    #[arg(long, value_name = "CODE")]
    community: Option<String>,
    /// A street or town (grid workers, supervisors).
    #[arg(long, value_name = "CODE")]
    street: Option<String>,
    /// A department (department staff).
    #[arg(long, value_name = "CODE")]
    department: Option<String>,
}

impl ScopeArgs {
    fn scope(&self) -> Scope {
        match (&self.grid, &self.community, &self.street, &self.department) {
            (Some(g), ..) => Scope::Grid(g.clone()),
            (_, Some(c), ..) => Scope::Community(c.clone()),
            (_, _, Some(s), _) => Scope::Street(s.clone()),
            (_, _, _, Some(d)) => Scope::Department(d.clone()),
            _ => Scope::District,
        }
    }
}

/// `tessera user …`.
#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, clap::Subcommand)]
enum UserCommand {
    /// Add a staff account. Prints a new random password on stdout (or reads one from stdin
    /// with --password-stdin); only its argon2id hash is stored.
    Add {
        /// Login name.
        name: String,
        /// Role.
        #[arg(long, value_enum)]
        role: Role,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Read the password (at least 12 characters) from stdin instead.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `tessera api-key …`.
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    command: KeyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KeyCommand {
    /// Create an API key for an integration and print it (only it) on stdout; only its hash is
    /// stored, so it cannot be shown again. Use it as `Authorization: Bearer KEY`.
    Create {
        /// What the key is for.
        name: String,
        /// Role (default: integration — may submit cases and read their public status).
        #[arg(long, value_enum, default_value = "integration")]
        role: Role,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub(super) async fn open(db: &DbArgs) -> anyhow::Result<Store> {
    Ok(Store::open_district(db.database_url.as_deref(), &db.data_dir, &db.district).await?)
}

/// Refuses a scope the role cannot have, or whose code the seeded district does not know.
async fn check_scope(store: &Store, role: Role, scope: &Scope) -> anyhow::Result<()> {
    if !scope.fits(role) {
        anyhow::bail!(
            "a {} cannot have a {} scope",
            role.as_str(),
            scope.parts().0
        );
    }
    let (kind, Some(code)) = scope.parts() else {
        return Ok(());
    };
    let known = match scope {
        Scope::Grid(_) => match store.publishes().await?.into_iter().next() {
            Some(p) => store
                .layer_grids(p.layer_id)
                .await?
                .grids
                .iter()
                .any(|g| g.key == code),
            None => false,
        },
        Scope::Street(_) => has(store, RefKind::Streets, code).await?,
        Scope::Community(_) => has(store, RefKind::Communities, code).await?,
        Scope::Department(_) => has(store, RefKind::Departments, code).await?,
        Scope::District => true,
    };
    if !known {
        anyhow::bail!("no {kind} {code:?} in the district (start `tessera serve` once to seed it)");
    }
    Ok(())
}

async fn has(store: &Store, kind: RefKind, code: &str) -> anyhow::Result<bool> {
    Ok(store.reference(kind).await?.iter().any(|i| i.key == code))
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn run_user(a: UserArgs) -> anyhow::Result<ExitCode> {
    let UserCommand::Add {
        name,
        role,
        scope,
        password_stdin,
        db,
    } = a.command;
    let scope = scope.scope();
    let (password, generated) = if password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        let p = s.trim_end_matches(['\r', '\n']).to_string();
        if p.chars().count() < 12 {
            anyhow::bail!("a password has at least 12 characters");
        }
        (p, false)
    } else {
        (new_password()?, true)
    };
    runtime()?.block_on(async {
        let store = open(&db).await?;
        check_scope(&store, role, &scope).await?;
        let phc = hash_password(&password)?;
        match store
            .insert_account(&name, role, &scope, &phc, crate::http::now_s())
            .await
        {
            Ok(_) => {}
            Err(AccountError::Taken(n)) => anyhow::bail!("an account named {n:?} exists"),
            Err(AccountError::Store(e)) => return Err(e.into()),
        }
        eprintln!(
            "added {name} ({}, scope {})",
            role.as_str(),
            describe(&scope)
        );
        if generated {
            println!("{password}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn run_key(a: KeyArgs) -> anyhow::Result<ExitCode> {
    let KeyCommand::Create {
        name,
        role,
        scope,
        db,
    } = a.command;
    let scope = scope.scope();
    runtime()?.block_on(async {
        let store = open(&db).await?;
        check_scope(&store, role, &scope).await?;
        let key = new_token(crate::http::auth::KEY_PREFIX)?;
        store
            .insert_api_key(&name, role, &scope, &token_hash(&key), crate::http::now_s())
            .await?;
        eprintln!(
            "API key {name} ({}, scope {}) created; it is shown only now",
            role.as_str(),
            describe(&scope)
        );
        println!("{key}");
        Ok(ExitCode::SUCCESS)
    })
}

fn describe(scope: &Scope) -> String {
    match scope.parts() {
        (k, Some(c)) => format!("{k} {c}"),
        (k, None) => k.to_string(),
    }
}
