//! `tessera serve`: the service on the embedded SQLite database (default) with the demo
//! district seeded on first start.

use crate::demo::seed::SeedSource;
use crate::http::{AppState, app_with_limit};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `tessera serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "TESSERA_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    #[command(flatten)]
    db: super::accounts::DbArgs,
    /// A basemap for the maps, under the district's own layers: a MapLibre style JSON URL
    /// (`https://…` — its origin is then allowed by the pages' Content-Security-Policy — or a
    /// path on this server). Default: none; the maps show only the district's own data and no
    /// page requests anything from another origin.
    #[arg(long, env = "TESSERA_BASEMAP_STYLE", value_name = "URL")]
    basemap_style: Option<String>,
    /// When the session cookie is marked `Secure`: `auto` when the reverse proxy in front says
    /// the request came over HTTPS (`X-Forwarded-Proto: https` or `Forwarded: proto=https`),
    /// `always`, or `never`.
    #[arg(
        long,
        env = "TESSERA_SECURE_COOKIES",
        value_enum,
        default_value = "auto"
    )]
    secure_cookies: crate::http::auth::SecureCookies,
    /// Reports one client address may make a minute — citizen intake, Open311 POST, media and
    /// ratings through a tracking token (429 with Retry-After beyond it; a burst of half as
    /// many); 0: no limit.
    #[arg(long, env = "TESSERA_INTAKE_PER_MINUTE", default_value_t = 30)]
    intake_per_minute: u32,
    /// The same, per API key, signed-in account or tracking token; 0: no limit.
    #[arg(long, env = "TESSERA_KEY_PER_MINUTE", default_value_t = 600)]
    key_per_minute: u32,
    /// Sign-in attempts one client address may make a minute; 0: no limit.
    #[arg(long, env = "TESSERA_LOGIN_PER_MINUTE", default_value_t = 10)]
    login_per_minute: u32,
    /// Largest accepted request body (a grid layer upload), MiB.
    #[arg(long, env = "TESSERA_MAX_BODY_MB", default_value_t = 64)]
    max_body_mb: usize,
    /// District loaded into an empty database: a folder laid out like `geodata/zhangdian/`
    /// (default: the Zhangdian demo district built into the binary).
    #[arg(long, env = "TESSERA_SEED_DIR")]
    seed_dir: Option<PathBuf>,
    /// Service-level policy (TOML: stage spans in minutes, hours, working hours or working
    /// days); default: "30135" plus triage within 2 working hours.
    #[arg(long, env = "TESSERA_SLA", value_name = "FILE")]
    sla: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(a))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(a: Args) -> anyhow::Result<()> {
    let basemap = a
        .basemap_style
        .as_deref()
        .map(crate::http::web::Basemap::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    let sla = match &a.sla {
        None => crate::cases::sla::SlaPolicy::default(),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            crate::cases::sla::SlaPolicy::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
        }
    };
    let source = match &a.seed_dir {
        None => SeedSource::Embedded,
        Some(dir) => SeedSource::dir(dir)?,
    };
    let store = super::accounts::open(&a.db).await?;
    tracing::info!(backend = store.backend(), "database ready");
    let seeded = crate::demo::seed::seed_if_empty(&store, &source).await?;
    if seeded {
        tracing::info!(from = %source.describe(), "seeded the district");
    }
    let state = AppState::load_with(store, sla).await?;
    let demo_accounts = if seeded {
        crate::demo::seed::create_demo_accounts(&state.0.store).await?
    } else {
        Vec::new()
    };
    if seeded {
        tracing::info!("driving the sample case history through the case engine");
        let d = crate::demo::seed::drive_sample_history(&state, &source).await?;
        tracing::info!(
            reports = d.reports,
            incidents = d.incidents,
            actions = d.actions,
            "sample case history loaded"
        );
    }
    let media = a.db.data_dir.join("media");
    std::fs::create_dir_all(&media)
        .map_err(|e| anyhow::anyhow!("cannot create the media folder {}: {e}", media.display()))?;
    let _ = state.0.media_dir.set(media);
    let _ = state.0.secure_cookies.set(a.secure_cookies);
    if let Some(b) = basemap {
        let _ = state.0.basemap.set(b);
    }
    let _ = state.0.limiter.set(crate::http::limits::Limiter::new(
        crate::http::limits::RateLimits {
            intake_per_minute: a.intake_per_minute,
            key_per_minute: a.key_per_minute,
            login_per_minute: a.login_per_minute,
        },
    ));
    {
        // Full buckets are forgotten every minute, so memory stays bounded.
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                if let Some(l) = state.0.limiter.get() {
                    l.forget_idle();
                }
            }
        });
    }
    crate::http::spawn_change_listener(state.clone());
    crate::http::spawn_escalation_ticker(state.clone());
    let live = state.0.live.load_full();
    let listener = tokio::net::TcpListener::bind(&a.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", a.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, layer = live.layer_id, grids = live.layer.grids.len(), "listening");
    println!(
        "tessera is serving layer {} ({} grids) on http://{addr}",
        live.layer_id,
        live.layer.grids.len()
    );
    for (what, path) in [
        ("citizen report", "/"),
        ("service center", "/dispatch"),
        ("grid worker", "/worker"),
        ("planner", "/planner"),
        ("dashboard", "/dashboard"),
        ("staff sign-in", "/login"),
        ("health", "/healthz"),
        ("locate a pin", "/api/v1/locate?lon=118.05&lat=36.81"),
        ("published grids", "/api/v1/grids"),
        ("grid layer versions", "/api/v1/layers"),
        ("cases", "/api/v1/cases"),
        ("dashboard figures", "/api/v1/stats"),
        ("API description", "/api/openapi.json"),
    ] {
        println!("  {what:<20} http://{addr}{path}");
    }
    if !demo_accounts.is_empty() {
        println!(
            "demo accounts, one per role (shown only now; for trying the service, not for real \
             use — sign in with POST /api/v1/login):"
        );
        for d in &demo_accounts {
            let scope = match d.scope.parts() {
                (k, Some(c)) => format!("{k} {c}"),
                (k, None) => k.to_string(),
            };
            println!(
                "  {:<26} {:<18} {:<28} password {}",
                d.name,
                d.role.as_str(),
                scope,
                d.password
            );
        }
    }
    drop(live);
    axum::serve(
        listener,
        app_with_limit(state.clone(), a.max_body_mb << 20)
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await?;
    state.0.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM; in-flight requests then finish before the server stops.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
