//! Helpers shared by the integration tests.

/// Creates a new, empty database in the PostgreSQL cluster named by the admin URL and returns
/// its URL (same server, new database name).
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
