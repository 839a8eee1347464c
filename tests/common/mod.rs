//! Helpers shared by the integration tests.

pub mod api;

/// The admin URL of the PostgreSQL + PostGIS test cluster (`TESSERA_TEST_DATABASE_URL`), or
/// `None` after saying loudly, past the test harness's output capture, that the PostGIS half of
/// `test` is skipped. Panics when `TESSERA_REQUIRE_POSTGRES` is set (as `scripts/test.sh` does)
/// and no cluster is named.
#[allow(dead_code, reason = "not every test binary has a PostGIS half")]
pub fn postgres_admin_url(test: &str) -> Option<String> {
    match std::env::var("TESSERA_TEST_DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("TESSERA_REQUIRE_POSTGRES").is_some() => {
            panic!("TESSERA_REQUIRE_POSTGRES is set but TESSERA_TEST_DATABASE_URL is not")
        }
        Err(_) => {
            use std::io::Write;
            // Written to the stream itself: libtest captures only the print macros.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: the PostgreSQL + PostGIS half of `{test}` (set \
                 TESSERA_TEST_DATABASE_URL, or run scripts/test.sh, which starts a cluster) ***\n"
            );
            None
        }
    }
}

/// Creates a new, empty database in the PostgreSQL cluster named by the admin URL and returns
/// its URL (same server, new database name).
#[allow(dead_code, reason = "not every test binary has a PostGIS half")]
pub async fn fresh_pg_database(admin: &str) -> String {
    use sqlx::Connection;
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "tessera_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
    // The name is made of digits and a fixed prefix here, never of input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut c)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}
