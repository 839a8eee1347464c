//! The real `tessera serve` binary on port 0: it starts on a fresh SQLite file, seeds and
//! answers; SIGTERM lets a request in flight finish; and two processes on one PostGIS database
//! see each other's publish within 2 seconds (LISTEN/NOTIFY).

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tessera serve` on port 0 with a data folder, run from that folder (never the repository),
/// with no `TESSERA_*` or `DATABASE_URL` from the caller's environment.
fn serve_command(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .current_dir(data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("TESSERA_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Starts `tessera serve` on port 0 and waits for the line naming its address.
fn serve(data_dir: &Path, database_url: Option<&str>) -> Server {
    let mut cmd = serve_command(data_dir);
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    start(cmd)
}

/// API keys per server address, one per role, made with `tessera api-key create` on the
/// server's database.
static KEYS: std::sync::Mutex<Vec<(String, RoleKeys)>> = std::sync::Mutex::new(Vec::new());

/// One API key per role.
type RoleKeys = Vec<(tessera::auth::Role, String)>;

/// `tessera api-key create` for each role against the database `serve_cmd` uses (same
/// directory, environment, `--data-dir` and `--database-url`).
fn make_keys(serve_cmd: &Command) -> RoleKeys {
    let args: Vec<String> = serve_cmd
        .get_args()
        .map(|a| a.to_string_lossy().to_string())
        .collect();
    tessera::auth::Role::ALL
        .into_iter()
        .map(|role| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
            c.args(["api-key", "create", &format!("test-{}", role.as_str())])
                .args(["--role", role.as_str()]);
            for flag in ["--data-dir", "--database-url"] {
                if let Some(i) = args.iter().position(|a| a == flag) {
                    c.arg(flag).arg(&args[i + 1]);
                }
            }
            if let Some(d) = serve_cmd.get_current_dir() {
                c.current_dir(d);
            }
            for (k, v) in serve_cmd.get_envs() {
                match v {
                    Some(v) => c.env(k, v),
                    None => c.env_remove(k),
                };
            }
            let out = c.output().expect("tessera api-key create");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
            assert!(key.starts_with("tsk_") && !key.contains('\n'), "{key}");
            (role, key)
        })
        .collect()
}

/// The key `http` sends for `method path`: a role the permission table lets through.
fn key_for(addr: &str, method: &str, path: &str, body: &str) -> Option<String> {
    let role = common::api::role_for(method, path, Some(body))?;
    let keys = KEYS.lock().unwrap();
    keys.iter()
        .rev()
        .find(|(a, _)| a == addr)
        .and_then(|(_, ks)| ks.iter().find(|(r, _)| *r == role))
        .map(|(_, k)| k.clone())
}

/// Spawns a prepared `serve` command and waits for the line naming its address.
fn start(cmd: Command) -> Server {
    let keys = make_keys(&cmd);
    let server = start_plain(cmd);
    KEYS.lock().unwrap().push((server.addr.clone(), keys));
    server
}

/// [`start`] without making keys.
fn start_plain(mut cmd: Command) -> Server {
    let mut child = cmd.spawn().expect("start tessera serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").expect("stdout");
    let addr = first
        .split("http://")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .trim()
        .to_string();
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, addr }
}

/// One HTTP/1.1 request with `Connection: close`, as a role the permission table lets through;
/// returns status and JSON body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let auth = key_for(addr, method, path, body)
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    let (status, _, v) = exchange(addr, method, path, body, &auth).expect("response");
    (status, v)
}

/// One HTTP/1.1 request with extra header lines `extra` (each ending in CRLF): status, the
/// header block, and the JSON body (null when not JSON), or the I/O error (a server down).
fn exchange(
    addr: &str,
    method: &str,
    path: &str,
    body: &str,
    extra: &str,
) -> std::io::Result<(u16, String, Value)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // Written from another thread while this one reads, as a browser does: a server may answer
    // an oversized body from its headers (413) and close before the body is all sent, and the
    // writer's broken pipe must not hide that answer.
    let mut w = s.try_clone()?;
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(request.as_bytes());
    });
    let mut buf = Vec::new();
    let read = s.read_to_end(&mut buf);
    let _ = writer.join();
    match read {
        Ok(_) => {}
        // The close after an early answer can reach us as a reset once the answer is read.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !buf.is_empty() => {}
        Err(e) => return Err(e),
    }
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no headers"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((
        status,
        head.to_string(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    ))
}

fn suffixed_layer(suffix: &str) -> String {
    let text = std::fs::read_to_string(root().join("geodata/zhangdian/grids.geojson")).unwrap();
    let mut fc: Value = serde_json::from_str(&text).unwrap();
    for f in fc["features"].as_array_mut().unwrap() {
        let code = format!("{}{suffix}", f["properties"]["code"].as_str().unwrap());
        f["properties"]["code"] = Value::String(code);
    }
    fc.to_string()
}

#[test]
fn binary_starts_seeds_serves_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path(), None);
    assert!(dir.path().join("tessera.db").exists());
    let (s, h) = http(&server.addr, "GET", "/healthz", "");
    assert_eq!(s, 200, "{h}");
    assert_eq!(h["index"]["grids"], 1466);
    let (s, v) = http(
        &server.addr,
        "GET",
        "/api/v1/locate?lon=118.05&lat=36.81",
        "",
    );
    assert_eq!(s, 200, "{v}");
    // An upload is in flight when SIGTERM arrives (headers and half the body sent, the rest
    // after the signal): it still gets its answer.
    let body = suffixed_layer("-x");
    let mut conn = TcpStream::connect(&server.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        conn,
        "POST /api/v1/layers?name=late HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        key_for(&server.addr, "POST", "/api/v1/layers", "").unwrap(),
        body.len()
    )
    .unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    let rest = rest.to_string();
    conn.write_all(first.as_bytes()).unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_millis(200));
    let upload = std::thread::spawn(move || {
        conn.write_all(rest.as_bytes()).unwrap();
        let mut buf = Vec::new();
        conn.read_to_end(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        (
            status,
            serde_json::from_str::<Value>(body).unwrap_or(Value::Null),
        )
    });
    let (s, v) = upload.join().unwrap();
    assert_eq!(s, 201, "{v}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "exit {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running 20 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // A clean stop folds the write-ahead log back into the database file.
    let wal = dir.path().join("tessera.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "{} left behind",
        wal.display()
    );
    // Restart on the same file keeps both versions.
    let again = serve(dir.path(), None);
    let (_, layers) = http(&again.addr, "GET", "/api/v1/layers", "");
    assert_eq!(layers["layers"].as_array().unwrap().len(), 2, "{layers}");
}

#[test]
fn starts_from_any_directory_with_the_built_in_district() {
    // Only --bind and --data-dir, from an empty folder outside the repository.
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), None);
    let (s, v) = http(
        &server.addr,
        "GET",
        "/api/v1/locate?lon=118.05&lat=36.81",
        "",
    );
    assert_eq!(s, 200, "{v}");
    assert!(
        v["grid"]["key"].as_str().unwrap().starts_with("370303"),
        "{v}"
    );
    let (_, h) = http(&server.addr, "GET", "/healthz", "");
    assert_eq!(h["index"]["grids"], 1466, "{h}");
    let (_, layers) = http(&server.addr, "GET", "/api/v1/layers", "");
    assert_eq!(
        layers["publishes"][0]["reason"],
        "initial seed from the built-in Zhangdian demo district"
    );
}

#[test]
fn seed_dir_loads_a_district_and_a_bad_one_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    // A district folder of the same layout, elsewhere, named by the environment variable.
    let district = dir.path().join("district");
    for name in tessera::demo::seed::DISTRICT_FILES {
        let to = district.join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join("geodata/zhangdian").join(name), &to).unwrap();
    }
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut cmd = serve_command(&data);
    cmd.env("TESSERA_SEED_DIR", &district);
    let server = start(cmd);
    let (_, layers) = http(&server.addr, "GET", "/api/v1/layers", "");
    assert_eq!(
        layers["publishes"][0]["reason"].as_str(),
        Some(format!("initial seed from {}", district.display()).as_str())
    );
    drop(server);
    // A missing folder, or one without grids, is a start-up error naming what is wrong.
    std::fs::remove_file(district.join("workers.json")).unwrap();
    for (seed, names) in [
        (dir.path().join("nowhere"), "nowhere"),
        (district.clone(), "workers.json"),
    ] {
        let out = serve_command(&data)
            .arg("--seed-dir")
            .arg(&seed)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains(names), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn two_processes_on_one_postgis_see_each_others_publish() {
    let Some(admin) =
        common::postgres_admin_url("two_processes_on_one_postgis_see_each_others_publish")
    else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(common::fresh_pg_database(&admin));
    let dir = tempfile::tempdir().unwrap();
    let a = serve(dir.path(), Some(&url));
    let b = serve(dir.path(), Some(&url));
    let probe = "/api/v1/locate?lon=118.05&lat=36.81";
    let (_, before) = http(&b.addr, "GET", probe, "");
    assert_eq!(before["layer"], 1);
    let (s, v) = http(
        &a.addr,
        "POST",
        "/api/v1/layers?name=v2",
        &suffixed_layer("-v2"),
    );
    assert_eq!(s, 201, "{v}");
    let id = v["layer"]["id"].as_i64().unwrap();
    let (s, p) = http(&a.addr, "POST", &format!("/api/v1/layers/{id}/publish"), "");
    assert_eq!(s, 200, "{p}");
    let published = Instant::now();
    loop {
        let (_, v) = http(&b.addr, "GET", probe, "");
        if v["layer"] == id {
            assert!(v["grid"]["key"].as_str().unwrap().ends_with("-v2"), "{v}");
            break;
        }
        assert!(
            published.elapsed() < Duration::from_secs(2),
            "B still serves layer {} after 2 s",
            v["layer"]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn processes_starting_together_seed_once() {
    let Some(admin) = common::postgres_admin_url("processes_starting_together_seed_once") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(common::fresh_pg_database(&admin));
    let dir = tempfile::tempdir().unwrap();
    let (u1, u2, d1, d2) = (
        url.clone(),
        url.clone(),
        dir.path().to_path_buf(),
        dir.path().to_path_buf(),
    );
    let a = std::thread::spawn(move || serve(&d1, Some(&u1)));
    let b = std::thread::spawn(move || serve(&d2, Some(&u2)));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let (_, layers) = http(&a.addr, "GET", "/api/v1/layers", "");
    assert_eq!(layers["layers"].as_array().unwrap().len(), 1, "{layers}");
    // Both end up serving the seeded layer.
    let deadline = Instant::now() + Duration::from_secs(5);
    for s in [&a, &b] {
        loop {
            let (_, h) = http(&s.addr, "GET", "/healthz", "");
            if h["index"]["grids"] == 1466 {
                break;
            }
            assert!(Instant::now() < deadline, "{h}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn flags_and_environment_reach_the_service() {
    let dir = tempfile::tempdir().unwrap();
    // TESSERA_BIND and TESSERA_DATA_DIR from the environment, a sqlite: URL elsewhere, and a
    // 1 MiB body limit from --max-body-mb.
    let data = dir.path().join("data");
    let db = dir.path().join("elsewhere/custom.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.args(["serve", "--max-body-mb", "1"])
        .current_dir(dir.path())
        .env("TESSERA_BIND", "127.0.0.1:0")
        .env("TESSERA_SECURE_COOKIES", "always")
        .env("TESSERA_DATA_DIR", &data)
        .env("DATABASE_URL", format!("sqlite:{}", db.display()))
        .env("RUST_LOG", "warn")
        .env_remove("TESSERA_SEED_DIR")
        .env_remove("TESSERA_MAX_BODY_MB")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let server = start(cmd);
    assert!(db.exists(), "the sqlite: URL names the file");
    assert!(!data.join("tessera.db").exists());
    let (s, h) = http(&server.addr, "GET", "/healthz", "");
    assert_eq!(
        (s, h["database"]["backend"].as_str()),
        (200, Some("sqlite"))
    );
    // Just over 1 MiB: refused with 413 in the one error shape; just under goes through to
    // GeoJSON checks.
    let big = format!(
        r#"{{"type":"FeatureCollection","features":[],"pad":"{}"}}"#,
        "x".repeat(1 << 20)
    );
    let (s, e) = http(&server.addr, "POST", "/api/v1/layers", &big);
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (413, Some("body_too_large")),
        "{e}"
    );
    let small = format!(
        r#"{{"type":"FeatureCollection","features":[],"pad":"{}"}}"#,
        "x".repeat(1000)
    );
    let (s, e) = http(&server.addr, "POST", "/api/v1/layers", &small);
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_geojson")),
        "{e}"
    );
    // TESSERA_SECURE_COOKIES=always: the session cookie is Secure with no proxy header (a
    // TLS proxy that sends none).
    let mut add = Command::new(env!("CARGO_BIN_EXE_tessera"));
    add.args([
        "user",
        "add",
        "cookie.check",
        "--role",
        "dispatcher",
        "--password-stdin",
    ])
    .env("DATABASE_URL", format!("sqlite:{}", db.display()))
    .stdin(Stdio::piped())
    .stdout(Stdio::null());
    let mut child = add.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let body = r#"{"name":"cookie.check","password":"a long enough password"}"#;
    let (s, head, me) = exchange(&server.addr, "POST", "/api/v1/login", body, "").unwrap();
    assert_eq!(s, 200, "{me}");
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_default();
    assert!(cookie.contains("; Secure"), "{head}");
}

#[test]
fn start_up_refuses_a_database_where_postgis_cannot_be_enabled() {
    let Some(admin) =
        common::postgres_admin_url("start_up_refuses_a_database_where_postgis_cannot_be_enabled")
    else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    // A fresh database and a role that is not a superuser: it cannot create PostGIS.
    let url = rt.block_on(async {
        use sqlx::Connection;
        let url = common::fresh_pg_database(&admin).await;
        let name = url.rsplit('/').next().unwrap().to_string();
        let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
        for sql in [
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tessera_plain') \
             THEN CREATE ROLE tessera_plain LOGIN; END IF; END $$"
                .to_string(),
            format!("GRANT ALL ON DATABASE {name} TO tessera_plain"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .unwrap();
        }
        url.replacen("postgres://postgres@", "postgres://tessera_plain@", 1)
    });
    assert!(url.contains("tessera_plain@"), "{url}");
    let dir = tempfile::tempdir().unwrap();
    let out = serve_command(dir.path())
        .env("DATABASE_URL", &url)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("PostGIS") && err.contains("CREATE EXTENSION postgis"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// Unix seconds of an RFC 3339 `+08:00` time as the service writes it.
fn shanghai_seconds(t: &str) -> i64 {
    let n = |a: usize, b: usize| t[a..b].parse::<i64>().unwrap();
    assert!(t.ends_with("+08:00"), "{t}");
    tessera::cases::calendar::shanghai_unix(
        n(0, 4) as i32,
        n(5, 7) as u32,
        n(8, 10) as u32,
        n(11, 13),
        n(14, 16),
    ) + n(17, 19)
}

#[test]
fn the_sla_policy_file_sets_the_clock_and_a_bad_one_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("sla.toml");
    std::fs::write(
        &policy,
        "triage = \"3 hours\"\non_site = \"30 minutes\"\nreply = \"1 working day\"\nresolve = \"3 working days\"\nfollow_up = \"5 working days\"\n",
    )
    .unwrap();
    let mut cmd = serve_command(dir.path());
    cmd.arg("--sla").arg(&policy);
    let server = start(cmd);
    let body = r#"{"channel":"hotline","category":"C01","description":"d","address":"人民路1号","external_ticket":"12345-9"}"#;
    let (s, c) = http(&server.addr, "POST", "/api/v1/cases", body);
    assert_eq!(s, 201, "{c}");
    let submitted = shanghai_seconds(c["submitted_at"].as_str().unwrap());
    let triage_by = shanghai_seconds(c["deadlines"]["triage_by"].as_str().unwrap());
    assert_eq!(triage_by - submitted, 3 * 3600);
    drop(server);
    std::fs::write(&policy, "triage = \"3 fortnights\"\n").unwrap();
    let out = serve_command(dir.path())
        .arg("--sla")
        .arg(&policy)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("sla.toml") && err.contains("fortnights"),
        "{err}"
    );
}

/// One request that may fail (the server may be down): status and JSON body, or the error.
fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    body: &str,
    extra: &str,
) -> std::io::Result<(u16, Value)> {
    exchange(addr, method, path, body, extra).map(|(s, _, v)| (s, v))
}

/// Every case of the server, as the dispatcher lists them.
fn all_cases(addr: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let (s, v) = http(
            addr,
            "GET",
            &format!("/api/v1/cases?per_page=500&page={page}"),
            "",
        );
        assert_eq!(s, 200, "{v}");
        let cases = v["cases"].as_array().unwrap().clone();
        let done = cases.len() < 500;
        out.extend(cases);
        if done {
            break;
        }
    }
    out
}

/// Clients report cases (each with its own Idempotency-Key, retried until answered) while
/// `disturb` runs; answers the acknowledged (key, case id) pairs.
fn report_while(
    addr: &std::sync::Arc<std::sync::Mutex<String>>,
    clients: usize,
    each: usize,
    tag: &str,
    disturb: impl FnOnce(),
) -> Vec<(String, i64, Instant)> {
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..clients)
        .map(|t| {
            let (addr, acked, tag) = (addr.clone(), acked.clone(), tag.to_string());
            std::thread::spawn(move || {
                for i in 0..each {
                    let key = format!("{tag}-{t}-{i}");
                    let body = serde_json::json!({"channel": "citizen", "category": "C01",
                        "description": format!("{tag} {key}"), "lon": 118.0668, "lat": 36.8128})
                    .to_string();
                    let deadline = Instant::now() + Duration::from_secs(120);
                    loop {
                        let a = addr.lock().unwrap().clone();
                        let r = try_http(
                            &a,
                            "POST",
                            "/api/v1/cases",
                            &body,
                            &format!("Idempotency-Key: {key}\r\n"),
                        );
                        if let Ok((200 | 201, v)) = &r {
                            acked.lock().unwrap().push((
                                key.clone(),
                                v["id"].as_i64().unwrap(),
                                Instant::now(),
                            ));
                            // Paced, so the reports span the disturbance.
                            std::thread::sleep(Duration::from_millis(25));
                            break;
                        }
                        assert!(Instant::now() < deadline, "{key} never acknowledged: {r:?}");
                        std::thread::sleep(Duration::from_millis(30));
                    }
                }
            })
        })
        .collect();
    disturb();
    for t in threads {
        t.join().unwrap();
    }
    std::sync::Arc::try_unwrap(acked)
        .unwrap()
        .into_inner()
        .unwrap()
}

/// `serve` without rate limits (the clients here are many on one address).
fn unlimited(dir: &Path, url: Option<&str>) -> Command {
    let mut cmd = serve_command(dir);
    cmd.args(["--intake-per-minute", "0", "--key-per-minute", "0"]);
    if let Some(u) = url {
        cmd.env("DATABASE_URL", u);
    }
    cmd
}

fn crash_and_restart(url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let server = std::sync::Arc::new(std::sync::Mutex::new(start(unlimited(dir.path(), url))));
    let addr = std::sync::Arc::new(std::sync::Mutex::new(server.lock().unwrap().addr.clone()));
    let (s2, a2, d) = (server.clone(), addr.clone(), dir.path().to_path_buf());
    let kills = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let k2 = kills.clone();
    let acked = report_while(&addr, 6, 40, "crash", move || {
        for round in 0..4 {
            std::thread::sleep(Duration::from_millis(400 + 150 * round));
            let mut s = s2.lock().unwrap();
            k2.lock().unwrap().push(Instant::now());
            // SIGKILL: no shutdown, no flush.
            s.child.kill().unwrap();
            s.child.wait().unwrap();
            *s = start_plain(unlimited(&d, url));
            KEYS.lock()
                .unwrap()
                .push((s.addr.clone(), make_keys(&unlimited(&d, url))));
            *a2.lock().unwrap() = s.addr.clone();
        }
    });
    assert_eq!(acked.len(), 240);
    // The kills fell among the reports.
    let kills = kills.lock().unwrap().clone();
    let between = acked
        .iter()
        .filter(|(_, _, at)| *at > kills[0] && *at < kills[3])
        .count();
    assert!(
        between > 0,
        "no report was acknowledged between the first and last kill"
    );
    let a = addr.lock().unwrap().clone();
    let cases = all_cases(&a);
    // Every acknowledged report exists exactly once, under the id it was answered with.
    for (key, id, _) in &acked {
        let found: Vec<&Value> = cases
            .iter()
            .filter(|c| c["report"]["description"] == format!("crash {key}"))
            .collect();
        assert_eq!(found.len(), 1, "{key}: {} cases", found.len());
        assert_eq!(found[0]["id"], *id, "{key}");
    }
    // With all its events: its submission is event 1.
    for (key, id, _) in acked.iter().step_by(17) {
        let (s, c) = http(&a, "GET", &format!("/api/v1/cases/{id}"), "");
        assert_eq!(s, 200, "{c}");
        let t = c["timeline"].as_array().unwrap();
        assert_eq!(
            (t[0]["seq"].as_i64(), t[0]["action"]["action"].as_str()),
            (Some(1), Some("submit")),
            "{key}"
        );
        assert_eq!(c["version"].as_i64(), Some(t.len() as i64), "{key}");
    }
    drop(server);
}

#[test]
fn cases_acknowledged_survive_sigkill_exactly_once_on_sqlite() {
    crash_and_restart(None);
}

#[test]
fn cases_acknowledged_survive_sigkill_exactly_once_on_postgis() {
    let Some(admin) =
        common::postgres_admin_url("cases_acknowledged_survive_sigkill_exactly_once_on_postgis")
    else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(common::fresh_pg_database(&admin));
    crash_and_restart(Some(&url));
}

#[test]
fn a_backup_taken_under_intake_restores_every_acknowledged_case() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(unlimited(dir.path(), None));
    let addr = std::sync::Arc::new(std::sync::Mutex::new(server.addr.clone()));
    let backup = dir.path().join("backups/tessera-backup.db");
    let taken = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (d, b, t) = (dir.path().to_path_buf(), backup.clone(), taken.clone());
    let acked = report_while(&addr, 4, 60, "backup", move || {
        std::thread::sleep(Duration::from_millis(800));
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["backup", "--out"])
            .arg(&b)
            .arg("--data-dir")
            .arg(&d)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("cases"));
        *t.lock().unwrap() = Some(started);
    });
    let started = taken.lock().unwrap().expect("the backup ran");
    drop(server);
    // Restored into a fresh folder, served from there.
    let fresh = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--data-dir")
        .arg(fresh.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second restore over it is refused without --replace.
    let again = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--data-dir")
        .arg(fresh.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--replace"));
    let restored = start(serve_command(fresh.path()));
    let cases = all_cases(&restored.addr);
    let before: Vec<_> = acked.iter().filter(|(_, _, at)| *at < started).collect();
    assert!(
        !before.is_empty(),
        "some reports were acknowledged before the backup"
    );
    for (key, id, _) in &before {
        assert!(
            cases
                .iter()
                .any(|c| c["id"] == *id && c["report"]["description"] == format!("backup {key}")),
            "{key} (case {id}) was acknowledged before the backup but is not in it"
        );
    }
    // Nothing half-written: every case in the backup has its submission.
    let (s, h) = http(&restored.addr, "GET", "/healthz", "");
    assert_eq!((s, h["index"]["grids"].as_u64()), (200, Some(1466)), "{h}");
}

/// `scripts/pg-cluster.sh CMD DIR`.
fn pg_cluster(cmd: &str, dir: &Path) -> String {
    let out = Command::new("bash")
        .arg(root().join("scripts/pg-cluster.sh"))
        .arg(cmd)
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg-cluster.sh {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Status and `Retry-After` of one anonymous request.
fn status_and_wait(addr: &str, method: &str, path: &str, body: &str) -> (u16, Option<String>) {
    let (status, head, _) = exchange(addr, method, path, body, "").expect("response");
    let wait = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("retry-after:")
            .map(|v| v.trim().to_string())
    });
    (status, wait)
}

#[test]
fn when_postgis_goes_away_requests_get_503_and_the_service_recovers_by_itself() {
    // Its own cluster, so stopping it disturbs no other test.
    if common::postgres_admin_url("when_postgis_goes_away_requests_get_503").is_none() {
        return;
    }
    let pg = tempfile::tempdir().unwrap();
    let cluster = pg.path().join("c");
    let admin = pg_cluster("start", &cluster);
    struct Stop(PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = Command::new("bash")
                .arg(root().join("scripts/pg-cluster.sh"))
                .arg("stop")
                .arg(&self.0)
                .output();
        }
    }
    let _stop = Stop(cluster.clone());
    let dir = tempfile::tempdir().unwrap();
    let server = start(unlimited(dir.path(), Some(&admin)));
    let report = r#"{"channel": "citizen", "category": "C01", "description": "before", "lon": 118.0668, "lat": 36.8128}"#;
    let (s, before) = http(&server.addr, "POST", "/api/v1/cases", report);
    assert_eq!(s, 201, "{before}");
    pg_cluster("pause", &cluster);
    // The health check's last answer stands for a second.
    std::thread::sleep(Duration::from_millis(1_100));
    // Reads that need the database, writes and the health check: 503 with Retry-After.
    for (method, path, body) in [
        ("GET", "/healthz", ""),
        ("POST", "/api/v1/cases", report),
        (
            "GET",
            &format!(
                "/api/v1/track/{}",
                before["tracking_token"].as_str().unwrap()
            ) as &str,
            "",
        ),
    ] {
        let (s, wait) = status_and_wait(&server.addr, method, path, body);
        assert_eq!(s, 503, "{method} {path}");
        assert!(wait.is_some(), "{method} {path}: no Retry-After");
    }
    // Locating a pin needs only the index in memory: it still answers.
    let (s, _) = status_and_wait(
        &server.addr,
        "GET",
        "/api/v1/locate?lon=118.05&lat=36.81",
        "",
    );
    assert_eq!(s, 200);
    pg_cluster("resume", &cluster);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, _) = status_and_wait(&server.addr, "GET", "/healthz", "");
        if s == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not recovered 30 s after the database came back"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (s, after) = http(&server.addr, "POST", "/api/v1/cases", report);
    assert_eq!(s, 201, "{after}");
    let (s, c) = http(
        &server.addr,
        "GET",
        &format!("/api/v1/cases/{}", before["id"]),
        "",
    );
    assert_eq!(
        (s, c["ticket"].clone()),
        (200, before["ticket"].clone()),
        "{c}"
    );
}

#[test]
fn an_unwritable_or_full_data_dir_stops_start_up_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let out = serve_command(&file.join("data"))
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("cannot create") && err.contains("a-file"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // A 1 MiB file system fills while the district is seeded; a read-only one cannot be written.
    let small = dir.path().join("small");
    std::fs::create_dir_all(&small).unwrap();
    for (opts, expect) in [("size=1m", "full"), ("size=1m,ro", "read-only")] {
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(&small)
            .output();
        if !mounted.as_ref().is_ok_and(|o| o.status.success()) {
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: the full and read-only data folder cases (mount -t tmpfs needs root) ***\n"
            );
            return;
        }
        let out = serve_command(&small.join("data"))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let _ = Command::new("umount").arg(&small).status();
        let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(!out.status.success(), "{opts}: started");
        assert!(err.contains(expect), "{opts}: {err}");
        assert!(!err.contains("panicked"), "{opts}: {err}");
    }
}

/// Publishes are killed at varying moments; after each restart the service serves a whole
/// layer — the old or the new, never a mix — and it is the layer of the last recorded publish.
fn publish_across_kills(url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(unlimited(dir.path(), url));
    for round in 0..3u64 {
        let suffix = format!("-k{round}");
        let (s, v) = http(
            &server.addr,
            "POST",
            &format!("/api/v1/layers?name=k{round}"),
            &suffixed_layer(&suffix),
        );
        assert_eq!(s, 201, "{v}");
        let id = v["layer"]["id"].as_i64().unwrap();
        let addr = server.addr.clone();
        let key = key_for(&addr, "POST", &format!("/api/v1/layers/{id}/publish"), "").unwrap();
        let publishing = std::thread::spawn(move || {
            try_http(
                &addr,
                "POST",
                &format!("/api/v1/layers/{id}/publish"),
                "",
                &format!("Authorization: Bearer {key}\r\n"),
            )
        });
        std::thread::sleep(Duration::from_millis(5 + 40 * round));
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        let answered = publishing.join().unwrap();
        server = start(unlimited(dir.path(), url));
        let (_, layers) = http(&server.addr, "GET", "/api/v1/layers", "");
        let recorded = layers["publishes"][0]["layer_id"].as_i64().unwrap();
        if let Ok((200, _)) = answered {
            assert_eq!(recorded, id, "an acknowledged publish was lost");
        }
        let (_, h) = http(&server.addr, "GET", "/healthz", "");
        assert_eq!(h["index"]["layer"].as_i64(), Some(recorded), "{h}");
        assert_eq!(h["index"]["grids"], 1466, "{h}");
        let (_, grids) = http(&server.addr, "GET", "/api/v1/grids", "");
        let codes: Vec<&str> = grids["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["code"].as_str().unwrap())
            .collect();
        let new = codes.iter().filter(|c| c.ends_with(&suffix)).count();
        assert!(
            new == 0 || new == codes.len(),
            "half a layer served: {new} of {} grids new",
            codes.len()
        );
        assert_eq!(new == codes.len(), recorded == id);
    }
}

#[test]
fn a_publish_killed_midway_leaves_the_old_layer_or_the_new_never_half_on_sqlite() {
    publish_across_kills(None);
}

#[test]
fn a_publish_killed_midway_leaves_the_old_layer_or_the_new_never_half_on_postgis() {
    let Some(admin) = common::postgres_admin_url("a_publish_killed_midway_on_postgis") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(common::fresh_pg_database(&admin));
    publish_across_kills(Some(&url));
}

#[test]
fn logs_carry_no_phone_name_password_key_or_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = unlimited(dir.path(), None);
    cmd.env("RUST_LOG", "debug,sqlx=info")
        .stderr(Stdio::piped());
    let keys = make_keys(&cmd);
    let mut child = cmd.spawn().unwrap();
    // The log is drained from the start, so the server never waits on a full pipe.
    let err = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(err).read_to_string(&mut s);
        s
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.split("http://").nth(1).unwrap().trim().to_string();
    let out = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<String>>());
    let server = Server { child, addr };
    KEYS.lock()
        .unwrap()
        .push((server.addr.clone(), keys.clone()));
    let (phone, name) = ("13912345678", "王秘密");
    let (s, c) = http(
        &server.addr,
        "POST",
        "/api/v1/cases",
        &serde_json::json!({"channel": "citizen", "category": "C01", "description": "路灯不亮",
            "lon": 118.0668, "lat": 36.8128, "contact": {"name": name, "phone": phone}})
        .to_string(),
    );
    assert_eq!(s, 201, "{c}");
    let token = c["tracking_token"].as_str().unwrap().to_string();
    let (s, _) = http(&server.addr, "GET", &format!("/api/v1/track/{token}"), "");
    assert_eq!(s, 200);
    // A dispatcher reads the full contact; a wrong password and a wrong key are refused.
    let (s, _) = http(
        &server.addr,
        "GET",
        &format!("/api/v1/cases/{}", c["id"]),
        "",
    );
    assert_eq!(s, 200);
    let password = "wrong but secret password";
    let (s, _) = try_http(
        &server.addr,
        "POST",
        "/api/v1/login",
        &serde_json::json!({"name": "demo-dispatcher", "password": password}).to_string(),
        "",
    )
    .unwrap();
    assert_eq!(s, 401);
    let (s, _) = try_http(
        &server.addr,
        "GET",
        "/api/v1/cases",
        "",
        "Authorization: Bearer tsk_not_a_real_key_0123456789\r\n",
    )
    .unwrap();
    assert_eq!(s, 401);
    // Refusals of a signed-in caller are logged: by the route table, and by a handler.
    let planner = keys
        .iter()
        .find(|(r, _)| *r == tessera::auth::Role::Planner)
        .unwrap()
        .1
        .clone();
    let bearer = format!("Authorization: Bearer {planner}\r\n");
    for path in [
        "/api/v1/cases".to_string(),
        format!("/api/v1/cases/{}/media/1-1.png", c["id"]),
    ] {
        let (s, _) = try_http(&server.addr, "GET", &path, "", &bearer).unwrap();
        assert_eq!(s, 403, "{path}");
    }
    // Open311 with a phone and a name.
    let integration = keys
        .iter()
        .find(|(r, _)| *r == tessera::auth::Role::Integration)
        .unwrap()
        .1
        .clone();
    let form = format!(
        "api_key={integration}&service_code=C01&lat=36.8128&long=118.0668&description=x&first_name=%E7%A7%98&last_name=%E7%8E%8B&phone={phone}"
    );
    let mut s = TcpStream::connect(&server.addr).unwrap();
    write!(
        s,
        "POST /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    assert!(buf.starts_with("HTTP/1.1 201"), "{buf}");
    let pid = server.child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    drop(server);
    let log = log.join().unwrap();
    let demo_passwords: Vec<String> = out
        .join()
        .unwrap()
        .iter()
        .filter_map(|l| l.split("password ").nth(1).map(|p| p.trim().to_string()))
        .collect();
    assert!(!demo_passwords.is_empty(), "the demo accounts were printed");
    assert!(
        log.contains("case action") || log.contains("INFO"),
        "the log was captured"
    );
    for denial in [
        "denied: the planner role may not GET /api/v1/cases",
        "denied: the planner role may not read cases",
    ] {
        assert!(log.contains(denial), "no log line {denial:?}");
    }
    for secret in [
        phone,
        name,
        password,
        "tsk_not_a_real_key",
        &token,
        &integration,
    ]
    .into_iter()
    .map(str::to_string)
    .chain(keys.iter().map(|(_, k)| k.clone()))
    .chain(demo_passwords)
    {
        assert!(!log.contains(&secret), "the log carries {secret:?}");
    }
}
