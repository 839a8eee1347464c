#!/usr/bin/env python3
"""Every side-by-side comparison of tessera with its peers, on the same data in one run.

    scripts/compare.sh [options]            # builds, starts a throwaway PostGIS, runs this
    scripts/compare.py --tessera BIN [--pg URL] [--http] [--json OUT] [--plot OUT.png] [--smoke]

Sections (each prints a Markdown table; ratios are computed within this run only):

locate   points/s on one core at each coverage size, 1,000,000 points uniform over the
         coverage's bounding box grown by 5 % on each side (inside and around it):
         - tessera: `tessera locate --stats --threads 1` (in-process figures: locating, and the
           index build separately), and `--threads` = every core, reported apart;
         - shapely 2.2 (GEOS 3.14): `STRtree(geoms)` build and bulk
           `tree.query(points, predicate="intersects")`, one core, timed apart;
         - PostGIS: a GiST-indexed grids table joined with a points table on `ST_Intersects`
           (`SELECT count(*)…`), `max_parallel_workers_per_gather = 0` for one core, the
           default for all cores; index build timed apart.
         Every tessera answer is checked against shapely's, and PostGIS's against shapely's.
validate seconds for `shapely.coverage_is_valid` (GEOS, one core) and `tessera validate --stats`
         with one thread (`RAYON_NUM_THREADS=1`) and with every core; both must agree on
         validity.
memory   the index's heap bytes per 100,000 grids; cold start (reading the GeoJSON + building
         the index) at each size.
tiles    (with --pg, at the largest size) per-tile time of the in-process encoder
         (`cargo bench --bench tiles`) and of PostGIS `ST_AsMVT` on the same tiles, median
         and p99.
http     (with --http) wrk on loopback, keep-alive, 64 connections: `/livez` (does nothing)
         against `/api/v1/locate` (random pins), the client doing the same work for both
         (the same Lua script draws a pin and formats the query string), p99 latency; case intake (`POST
         /api/v1/cases`, durable commits) on SQLite and PostGIS; several processes on one
         PostGIS.

Data: the demo district's 1,466 real grids (geodata/zhangdian) and synthetic coverages from
`tessera demo coverage --grids N --seed 1`, cached under target/compare-data/.
Exit status 1 when an answer disagrees or a side fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

try:
    import numpy as np
    import shapely
    from shapely import STRtree
except ImportError:  # not inside the venv: bootstrap it and re-run there
    if os.environ.get("TESSERA_PYENV_REEXEC"):
        raise
    py = subprocess.run([str(HERE / "pyenv.sh")], stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    os.environ["TESSERA_PYENV_REEXEC"] = "1"
    os.execv(py, [py, str(Path(__file__).resolve())] + sys.argv[1:])

RE = {
    "read": re.compile(r"read (\d+) grids in ([0-9.]+) seconds"),
    "indexed": re.compile(r"indexed (\d+) grids in ([0-9.]+) seconds \((\d+) bytes\)"),
    "located": re.compile(r"located (\d+) points in ([0-9.]+) seconds on (\d+) thread"),
    "validated": re.compile(r"validated (\d+) grids in ([0-9.]+) seconds"),
}
DEMO = ROOT / "geodata" / "zhangdian" / "grids.geojson"
CODE_RE = re.compile(r'"code":\s*"([^"]*)"')


def log(*a):
    print("compare:", *a, file=sys.stderr, flush=True)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------
class Coverage:
    def __init__(self, n: int, path: Path):
        self.n, self.path = n, path
        text = path.read_text()
        self.geoms = shapely.get_parts(shapely.from_geojson(text))
        self.keys = CODE_RE.findall(text)
        if len(self.keys) != len(self.geoms):
            raise RuntimeError(f"{path}: {len(self.geoms)} geometries but {len(self.keys)} codes")
        self.vertices = int(shapely.get_num_coordinates(self.geoms).sum())
        self.bbox = tuple(shapely.total_bounds(self.geoms))


def coverage(binary: Path, data: Path, n: int) -> Coverage:
    if n == 1466:
        return Coverage(n, DEMO)
    path = data / f"coverage-{n}-s1.geojson"
    if not path.exists():
        log(f"generating a {n:,}-grid coverage")
        tmp = path.with_suffix(".tmp")
        subprocess.run([str(binary), "demo", "coverage", "--grids", str(n), "--seed", "1", "-o", str(tmp)],
                       check=True, stdout=subprocess.DEVNULL)
        tmp.replace(path)
    return Coverage(n, path)


def points_for(cov: Coverage, npts: int, data: Path):
    """Uniform points over the bounding box grown by 5 % each side: (csv path, (n, 2) array)."""
    x0, y0, x1, y1 = cov.bbox
    mx, my = (x1 - x0) * 0.05, (y1 - y0) * 0.05
    rng = np.random.default_rng(42)
    pts = np.column_stack([rng.uniform(x0 - mx, x1 + mx, npts), rng.uniform(y0 - my, y1 + my, npts)])
    path = data / f"points-{cov.n}-{npts}.csv"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            f.write("lon,lat\n")
            np.savetxt(f, pts, fmt="%.9f", delimiter=",")
        tmp.replace(path)
    # the CSV is what tessera reads: use the same rounded values on every side
    pts = np.round(pts, 9)
    return path, pts


# ------------------------------------------------------------------------------------------
# measuring
# ------------------------------------------------------------------------------------------
def run_tessera(binary: Path, args, env=None, stdout=subprocess.DEVNULL, timeout=1800):
    t0 = time.perf_counter()
    p = subprocess.run([str(binary)] + [str(a) for a in args], stdout=stdout, stderr=subprocess.PIPE,
                       env={**os.environ, **(env or {})}, timeout=timeout)
    wall = time.perf_counter() - t0
    err = p.stderr.decode("utf-8", "replace")
    return p.returncode, err, wall


def stat(err: str, name: str):
    m = RE[name].search(err)
    if m is None:
        raise RuntimeError(f"no `{name}` figure in tessera's stderr: {err.strip()[-300:]!r}")
    return m.groups()


def best(fn, repeat: int, budget: float = 60.0):
    """Best time of up to `repeat` runs (fewer when one run takes over budget / repeat)."""
    times, out = [], None
    for k in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        if sum(times) > budget:
            break
    return min(times), times, out


def spread(times):
    return f"{min(times):.3g}–{max(times):.3g} s" if len(times) > 1 else "1 run"


# ------------------------------------------------------------------------------------------
# locate
# ------------------------------------------------------------------------------------------
def locate_tessera(binary, cov, pts_csv, threads, repeat, out_csv=None):
    runs, index_s, read_s, heap, answers = [], None, None, None, None
    for k in range(repeat):
        stdout = open(out_csv, "wb") if (out_csv and k == 0) else subprocess.DEVNULL
        try:
            rc, err, wall = run_tessera(binary, ["locate", cov.path, "--points", pts_csv, "--stats",
                                                 "--threads", threads], stdout=stdout)
        finally:
            if stdout is not subprocess.DEVNULL:
                stdout.close()
        if rc != 0:
            raise RuntimeError(f"tessera locate exit {rc}: {err.strip()[-300:]}")
        n, s, _ = stat(err, "located")
        runs.append(float(s))
        _, i, b = stat(err, "indexed")
        index_s = min(index_s or 1e9, float(i))
        read_s = min(read_s or 1e9, float(stat(err, "read")[1]))
        heap = int(b)
        if sum(runs) > 60:
            break
    return {"locate_s": min(runs), "runs": runs, "index_s": index_s, "read_s": read_s, "heap_bytes": heap}


def tessera_answers(out_csv: Path, key_index: dict) -> np.ndarray:
    idx = []
    with open(out_csv) as f:
        next(f)
        for line in f:
            k = line.rstrip("\n").rsplit(",", 1)[1]
            idx.append(key_index[k] if k else -1)
    return np.array(idx, dtype=np.int64)


def locate_shapely(cov, pts_geoms, repeat):
    build, build_runs, tree = best(lambda: STRtree(cov.geoms), repeat)
    query, query_runs, res = best(lambda: tree.query(pts_geoms, predicate="intersects"), repeat)
    ans = np.full(len(pts_geoms), -1, dtype=np.int64)
    ans[res[0]] = res[1]
    multi = len(res[0]) - len(np.unique(res[0]))
    return {"build_s": build, "query_s": query, "runs": query_runs, "multi_hits": int(multi)}, ans


# ------------------------------------------------------------------------------------------
# PostGIS
# ------------------------------------------------------------------------------------------
class PostGIS:
    def __init__(self, url: str):
        import psycopg
        self.psycopg = psycopg
        base, _, _ = url.rpartition("/")
        name = f"compare_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name}")
            c.execute(f"CREATE DATABASE {name}")
        self.url = f"{base}/{name}"
        self.admin = url
        self.name = name
        self.conn = psycopg.connect(self.url, autocommit=True)
        self.conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        self.version = self.conn.execute("SELECT postgis_lib_version()").fetchone()[0]

    def close(self):
        self.conn.close()
        with self.psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

    def load_grids(self, cov: Coverage):
        c = self.conn
        c.execute("DROP TABLE IF EXISTS grids")
        c.execute("CREATE TABLE grids (idx integer, code text, geom geometry(MultiPolygon, 4326))")
        wkb = shapely.to_wkb(shapely.set_srid(cov.geoms, 4326), hex=True, include_srid=True)
        t0 = time.perf_counter()
        with c.cursor() as cur, cur.copy("COPY grids (idx, code, geom) FROM STDIN") as cp:
            for i, (k, g) in enumerate(zip(cov.keys, wkb)):
                cp.write_row((i, k, g))
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        c.execute("CREATE INDEX grids_gist ON grids USING gist (geom)")
        c.execute("ANALYZE grids")
        return load, time.perf_counter() - t0

    def load_points(self, pts: np.ndarray):
        c = self.conn
        c.execute("DROP TABLE IF EXISTS pts")
        c.execute("CREATE TABLE pts (id integer, geom geometry(Point, 4326))")
        with c.cursor() as cur, cur.copy("COPY pts (id, geom) FROM STDIN") as cp:
            for i, (x, y) in enumerate(pts.tolist()):
                cp.write_row((i, f"SRID=4326;POINT({x!r} {y!r})"))
        c.execute("ANALYZE pts")

    def locate(self, repeat: int, workers: int):
        c = self.conn
        c.execute(f"SET max_parallel_workers_per_gather = {workers}")
        q = "SELECT count(*), sum(g.idx) FROM pts p JOIN grids g ON ST_Intersects(g.geom, p.geom)"
        t, runs, _ = best(lambda: c.execute(q).fetchone(), repeat, budget=120)
        return t, runs

    def answers(self, n: int) -> np.ndarray:
        ans = np.full(n, -1, dtype=np.int64)
        rows = self.conn.execute(
            "SELECT p.id, g.idx FROM pts p JOIN grids g ON ST_Intersects(g.geom, p.geom)").fetchall()
        for i, g in rows:
            ans[i] = g
        return ans

    def tile_ms(self, tiles):
        sql = ("SELECT COALESCE((SELECT ST_AsMVT(q, 'grids', 4096, 'geom') FROM ("
               " SELECT ST_AsMVTGeom(ST_Transform(g.geom, 3857), ST_TileEnvelope(%s, %s, %s), 4096, 64, true) AS geom,"
               " g.code FROM grids g"
               " WHERE g.geom && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096), 4326)"
               " ORDER BY g.idx) q WHERE q.geom IS NOT NULL), ''::bytea)")
        out = []
        self.conn.execute("SET max_parallel_workers_per_gather = 0")
        for z, x, y in tiles:
            t0 = time.perf_counter()
            self.conn.execute(sql, (z, x, y, z, x, y)).fetchone()
            out.append((time.perf_counter() - t0) * 1e3)
        return out


# ------------------------------------------------------------------------------------------
# tiles
# ------------------------------------------------------------------------------------------
def tile_list(cov: Coverage, per_zoom: int):
    import math
    x0, y0, x1, y1 = cov.bbox
    rng = np.random.default_rng(7)
    out = []
    for z in range(10, 16):
        n = 2 ** z
        for _ in range(per_zoom):
            lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
            x = int((lon + 180) / 360 * n)
            r = math.radians(lat)
            y = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
            out.append((z, x, y))
    return out


def tiles_tessera(cov: Coverage, tiles):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(f"{z}/{x}/{y}" for z, x, y in tiles))
        listing = f.name
    env = {**os.environ, "TESSERA_BENCH_LAYER": str(cov.path), "TESSERA_BENCH_TILES": listing}
    cmd = ["cargo", "bench", "--quiet", "--bench", "tiles", "--", "--json"]
    p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.unlink(listing)
    if p.returncode != 0:
        raise RuntimeError(f"cargo bench --bench tiles: {p.stderr.strip()[-400:]}")
    return [json.loads(l)["ms"] for l in p.stdout.splitlines() if l.startswith("{")]


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round((len(v) - 1) * q)))]


# ------------------------------------------------------------------------------------------
# HTTP
# ------------------------------------------------------------------------------------------
def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, binary: Path, data_dir: str, database_url: str | None = None):
        self.port = free_port()
        args = [str(binary), "serve", "--bind", f"127.0.0.1:{self.port}", "--data-dir", data_dir,
                "--intake-per-minute", "0", "--key-per-minute", "0", "--login-per-minute", "0"]
        if database_url:
            args += ["--database-url", database_url]
        self.log = open(Path(data_dir) / "serve.log", "wb")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=self.log, env={**os.environ, "RUST_LOG": "warn"})
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.p.poll() is not None:
                    raise RuntimeError(f"tessera serve exited: {Path(data_dir, 'serve.log').read_text()[-400:]}")
                time.sleep(0.2)
        raise RuntimeError("tessera serve did not start listening")

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.log.close()


# Pins are the grids' interior points moved by up to ~50 m: every request finds a grid.
PINS_LUA = """
math.randomseed(%(seed)d)
local pins = {%(pins)s}
local function pin()
  local k = math.random(#pins / 2) * 2
  return pins[k - 1] + (math.random() - 0.5) * 0.001, pins[k] + (math.random() - 0.5) * 0.001
end
"""
LOCATE_LUA = PINS_LUA + """
request = function()
  local lon, lat = pin()
  return wrk.format("GET", string.format("/api/v1/locate?lon=%%.6f&lat=%%.6f", lon, lat))
end
"""
# The do-nothing route gets the same client work as locate (a random pin formatted into the
# query string, which /livez ignores), so the ratio compares the server's work alone.
LIVEZ_LUA = PINS_LUA + """
request = function()
  local lon, lat = pin()
  return wrk.format("GET", string.format("/livez?lon=%%.6f&lat=%%.6f", lon, lat))
end
"""
INTAKE_LUA = PINS_LUA + """
local categories = {%(categories)s}
request = function()
  local lon, lat = pin()
  local category = categories[math.random(#categories)]
  local body = string.format('{"channel":"citizen","category":"%%s","description":"benchmark report","lon":%%.6f,"lat":%%.6f}', category, lon, lat)
  return wrk.format("POST", "/api/v1/cases", {["Content-Type"] = "application/json"}, body)
end
"""


def wrk(url: str, seconds: int, conns: int, threads: int, script: str | None = None):
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    p = subprocess.run(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=seconds + 60)
    out = p.stdout
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk {url}: {out.strip()[-400:]}")
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    m = re.search(r"99%\s+([0-9.]+)(us|ms|s)\b", out)
    p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": p99, "non_2xx": int(errs.group(1)) if errs else 0}


def wrk_many(urls, seconds, conns, script):
    """One wrk per URL at the same time (one thread each); summed requests/s, worst p99."""
    import concurrent.futures as cf
    with cf.ThreadPoolExecutor(len(urls)) as ex:
        rs = list(ex.map(lambda u: wrk(u, seconds, conns // len(urls), 1, script), urls))
    return {"rps": sum(r["rps"] for r in rs), "p99_ms": max(r["p99_ms"] for r in rs),
            "non_2xx": sum(r["non_2xx"] for r in rs)}


def check_bench(binary: Path, work: Path, layer_path: Path, checks: int):
    """A planner's local check (`POST /api/v1/layers/{id}/check`) of one moved vertex, on a draft
    of `layer_path` uploaded to a fresh server: the server's own time and the round trip."""
    import requests
    d = tempfile.mkdtemp(dir=work)
    key = subprocess.run([str(binary), "api-key", "create", "compare", "--role", "planner", "--data-dir", d],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True).stdout.strip()
    auth = {"Authorization": f"Bearer {key}"}
    s = Server(binary, d)
    try:
        with open(layer_path, "rb") as f:
            r = requests.post(s.url("/api/v1/layers?name=compare"), data=f, timeout=900,
                              headers={**auth, "Content-Type": "application/geo+json"})
        r.raise_for_status()
        layer = r.json()["layer"]["id"]
        features = json.loads(layer_path.read_text())["features"]
        rng = np.random.default_rng(3)
        server, trip, first, flagged = [], [], None, 0
        for k in range(checks + 1):
            f = features[int(rng.integers(len(features)))]
            geom = json.loads(json.dumps(f["geometry"]))
            ring = geom["coordinates"][0][0] if geom["type"] == "MultiPolygon" else geom["coordinates"][0]
            ring[1] = [ring[1][0] + 2e-5, ring[1][1] + 2e-5]
            body = {"edits": [{"op": "replace", "grid": f["properties"]["code"], "geometry": geom}]}
            t0 = time.perf_counter()
            r = requests.post(s.url(f"/api/v1/layers/{layer}/check"), json=body, headers=auth, timeout=600)
            rt = (time.perf_counter() - t0) * 1e3
            r.raise_for_status()
            c = r.json()
            flagged = flagged + (0 if c["report"]["valid"] else 1) if k > 0 else 0
            if k == 0:
                first = rt  # loads and indexes the draft
            else:
                server.append(c["elapsed_ms"])
                trip.append(rt)
        return {"grids": len(features), "checks": checks, "first_ms": first, "flagged": flagged,
                "server_p50_ms": pct(server, 0.5), "server_p99_ms": pct(server, 0.99),
                "trip_p50_ms": pct(trip, 0.5), "trip_p99_ms": pct(trip, 0.99)}
    finally:
        s.stop()


def http_section(binary: Path, pg: "PostGIS | None", seconds: int, work: Path):
    demo = Coverage(1466, DEMO)
    inner = shapely.point_on_surface(demo.geoms)
    pins = ",".join(f"{x:.7f},{y:.7f}" for x, y in shapely.get_coordinates(inner).tolist())
    # Reports of every category over every grid, as the district's are: no ten of one category
    # within 300 m in 48 h, so no mass incident forms (a storm of one category would measure
    # incident merging, not intake).
    categories = ",".join(f'"C{k:02d}"' for k in range(1, 41))
    fill = {"pins": pins, "seed": 1, "categories": categories}
    locate_lua, intake_lua, livez_lua = work / "locate.lua", work / "intake.lua", work / "livez.lua"
    locate_lua.write_text(LOCATE_LUA % fill)
    livez_lua.write_text(LIVEZ_LUA % fill)
    intake_lua.write_text(INTAKE_LUA % fill)
    res = {}
    d = tempfile.mkdtemp(dir=work)
    s = Server(binary, d)
    try:
        wrk(s.url("/livez"), 1, 8, 1)  # warm up
        res["livez"] = wrk(s.url("/"), seconds, 64, 2, str(livez_lua))
        res["locate"] = wrk(s.url("/"), seconds, 64, 2, str(locate_lua))
        res["livez_again"] = wrk(s.url("/"), seconds, 64, 2, str(livez_lua))
        res["intake_sqlite"] = wrk(s.url("/"), seconds, 32, 2, str(intake_lua))
    finally:
        s.stop()
    if pg is not None:
        import psycopg
        dbname = f"serve_{os.getpid()}"
        base = pg.admin.rpartition("/")[0]
        with psycopg.connect(pg.admin, autocommit=True) as c:
            c.execute(f"CREATE DATABASE {dbname}")
        url = f"{base}/{dbname}"
        servers = []
        try:
            servers.append(Server(binary, tempfile.mkdtemp(dir=work), url))
            res["locate_pg_1"] = wrk(servers[0].url("/"), seconds, 64, 2, str(locate_lua))
            res["intake_pg_1"] = wrk(servers[0].url("/"), seconds, 32, 2, str(intake_lua))
            servers.append(Server(binary, tempfile.mkdtemp(dir=work), url))
            urls = [s.url("/") for s in servers]
            res["locate_pg_2"] = wrk_many(urls, seconds, 64, str(locate_lua))
            res["intake_pg_2"] = wrk_many(urls, seconds, 32, str(intake_lua))
        finally:
            for s in servers:
                s.stop()
            with psycopg.connect(pg.admin, autocommit=True) as c:
                c.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
    return res


# ------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------
def fmt_s(x):
    if x is None:
        return "n/a"
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"


def rate(n, s):
    return f"{n / s / 1e6:.2f} M/s" if s else "n/a"


def machine(binary: Path) -> dict:
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    tv = subprocess.run([str(binary), "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    return {"cpu": cpu, "cores": cores(), "mem_gib": round(int(mem) / 2 ** 20), "load": open("/proc/loadavg").read().split()[0],
            "python": platform.python_version(), "shapely": shapely.__version__, "geos": shapely.geos_version_string,
            "tessera": tv, "date": time.strftime("%Y-%m-%d")}


def plot(rows, out: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ns = [r["n"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = [("tessera, 1 core", "locate", "tessera_s", "o-"), ("shapely STRtree.query", "locate", "shapely_s", "s--"),
              ("PostGIS ST_Intersects join", "locate", "postgis_s", "^:")]
    for label, sec, key, style in series:
        ys = [r[sec].get(key) for r in rows]
        if any(ys):
            a.loglog([n for n, y in zip(ns, ys) if y], [y for y in ys if y], style, label=label)
    a.set_title(f"locate {rows[0]['points']:,} points")
    series = [("tessera, 1 core", "validate", "tessera_1_s", "o-"), ("tessera, all cores", "validate", "tessera_all_s", "o:"),
              ("GEOS coverage_is_valid", "validate", "geos_s", "s--")]
    for label, sec, key, style in series:
        ys = [r[sec].get(key) for r in rows]
        if any(ys):
            b.loglog([n for n, y in zip(ns, ys) if y], [y for y in ys if y], style, label=label)
    b.set_title("validate a coverage")
    for ax in (a, b):
        ax.set_xlabel("grids")
        ax.set_ylabel("seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tessera", default=str(ROOT / "target/release/tessera"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[1466, 10_000, 100_000, 1_000_000])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pg", help="admin URL of a PostgreSQL + PostGIS server (a database is created and dropped)")
    ap.add_argument("--http", action="store_true", help="also run the HTTP section (needs wrk)")
    ap.add_argument("--http-seconds", type=int, default=10)
    ap.add_argument("--tiles-per-zoom", type=int, default=100)
    ap.add_argument("--data", default=str(ROOT / "target" / "compare-data"))
    ap.add_argument("--json", dest="json_out")
    ap.add_argument("--plot", help="write the log–log plot (PNG) here")
    ap.add_argument("--smoke", action="store_true",
                    help="small inputs, one run each: exercises every path, judges only the answers")
    a = ap.parse_args(argv)
    if a.smoke:
        a.sizes, a.points, a.repeat, a.http_seconds, a.tiles_per_zoom = [1466, 5_000], 20_000, 1, 1, 3
    binary = Path(a.tessera).resolve()
    data = Path(a.data)
    data.mkdir(parents=True, exist_ok=True)
    info = machine(binary)
    pg = PostGIS(a.pg) if a.pg else None
    if pg:
        info["postgis"] = pg.version
    failures, rows, extra = [], [], {}
    work = Path(tempfile.mkdtemp(prefix="tessera-compare-"))
    try:
        for n in a.sizes:
            cov = coverage(binary, data, n)
            pts_csv, pts = points_for(cov, a.points, data)
            pts_geoms = shapely.points(pts)
            key_index = {k: i for i, k in enumerate(cov.keys)}
            row = {"n": n, "vertices": cov.vertices, "points": len(pts), "locate": {}, "validate": {}}
            log(f"{n:,} grids: locate")
            out_csv = work / "located.csv"
            t1 = locate_tessera(binary, cov, pts_csv, 1, a.repeat, out_csv)
            tall = locate_tessera(binary, cov, pts_csv, cores(), a.repeat)
            sh, sh_ans = locate_shapely(cov, pts_geoms, a.repeat)
            mine = tessera_answers(out_csv, key_index)
            differ = int((mine != sh_ans).sum())
            if differ > sh["multi_hits"]:
                failures.append(f"locate at {n:,} grids: {differ} answers differ from shapely's")
            L = row["locate"]
            L.update({"tessera_s": t1["locate_s"], "tessera_runs": t1["runs"], "tessera_index_s": t1["index_s"],
                      "tessera_all_s": tall["locate_s"], "shapely_s": sh["query_s"], "shapely_runs": sh["runs"],
                      "shapely_build_s": sh["build_s"], "differ_from_shapely": differ,
                      "heap_bytes": t1["heap_bytes"], "read_s": t1["read_s"]})
            if pg:
                log(f"{n:,} grids: PostGIS load and locate")
                load_s, gist_s = pg.load_grids(cov)
                pg.load_points(pts)
                one, one_runs = pg.locate(a.repeat, 0)
                allc, _ = pg.locate(1 if a.smoke else a.repeat, max(1, cores()))
                pg_ans = pg.answers(len(pts))
                pdiff = int((pg_ans != sh_ans).sum())
                if pdiff > sh["multi_hits"]:
                    failures.append(f"PostGIS locate at {n:,} grids: {pdiff} answers differ from shapely's")
                L.update({"postgis_s": one, "postgis_runs": one_runs, "postgis_all_s": allc,
                          "postgis_gist_s": gist_s, "postgis_load_s": load_s, "postgis_differ": pdiff})
            log(f"{n:,} grids: validate")
            geos_s, geos_runs, geos_ok = best(lambda: bool(shapely.coverage_is_valid(cov.geoms)), a.repeat, 120)

            def tv(threads):
                def go():
                    rc, err, _ = run_tessera(binary, ["validate", cov.path, "--stats"],
                                             env={"RAYON_NUM_THREADS": str(threads)})
                    if rc not in (0, 1):
                        raise RuntimeError(f"tessera validate exit {rc}: {err.strip()[-300:]}")
                    return float(stat(err, "validated")[1]), rc == 0
                runs = []
                ok = None
                for _ in range(a.repeat):
                    s, ok = go()
                    runs.append(s)
                    if sum(runs) > 120:
                        break
                return min(runs), runs, ok
            v1, v1_runs, v_ok = tv(1)
            vall, _, _ = tv(cores())
            if v_ok != geos_ok:
                failures.append(f"validate at {n:,} grids: tessera says valid={v_ok}, GEOS {geos_ok}")
            row["validate"] = {"geos_s": geos_s, "geos_runs": geos_runs, "tessera_1_s": v1, "tessera_1_runs": v1_runs,
                               "tessera_all_s": vall, "valid": geos_ok, "agree": v_ok == geos_ok}
            rows.append(row)
            if pg and n == max(a.sizes):
                log(f"{n:,} grids: tiles")
                tiles = tile_list(cov, a.tiles_per_zoom)
                mine_ms = tiles_tessera(cov, tiles)
                pg_ms = pg.tile_ms(tiles)
                extra["tiles"] = {"n": n, "tiles": len(tiles), "tessera_p50_ms": pct(mine_ms, 0.5),
                                  "tessera_p99_ms": pct(mine_ms, 0.99), "postgis_p50_ms": pct(pg_ms, 0.5),
                                  "postgis_p99_ms": pct(pg_ms, 0.99)}
        if a.http:
            if shutil.which("wrk") is None:
                failures.append("wrk is not installed: HTTP section skipped")
            else:
                log("HTTP (wrk)")
                extra["http"] = http_section(binary, pg, a.http_seconds, work)
            big = [n for n in a.sizes if n <= 100_000 and n != 1466]
            if big:
                n = max(big)
                log(f"local check of an edit at {n:,} grids")
                extra["check"] = check_bench(binary, work, data / f"coverage-{n}-s1.geojson", 10 if a.smoke else 100)
    finally:
        if pg:
            pg.close()
        shutil.rmtree(work, ignore_errors=True)

    # ---- tables --------------------------------------------------------------------------
    o = []
    o.append(f"Machine: {info['cpu']}, {info['cores']} cores, {info['mem_gib']} GiB; load average at start "
             f"{info['load']}; {info['tessera']}; shapely {info['shapely']} (GEOS {info['geos']})"
             + (f"; PostGIS {info['postgis']}" if pg or info.get('postgis') else "") + f"; {info['date']}.")
    o.append("")
    o.append(f"### Locate {rows[0]['points']:,} points (one core each; index build excluded, shown apart)")
    o.append("")
    o.append("| grids (vertices) | tessera | shapely | PostGIS | vs shapely | vs PostGIS | tessera all cores | index build: tessera / shapely / PostGIS | answers |")
    o.append("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        L, p = r["locate"], r["points"]
        vs_pg = f"{L['postgis_s'] / L['tessera_s']:.1f}×" if L.get("postgis_s") else "n/a"
        pg_rate = rate(p, L["postgis_s"]) if L.get("postgis_s") else "n/a"
        builds = f"{fmt_s(L['tessera_index_s'])} / {fmt_s(L['shapely_build_s'])} / {fmt_s(L.get('postgis_gist_s'))}"
        ans = f"{L['differ_from_shapely']} differ" + (f"; PostGIS {L['postgis_differ']}" if "postgis_differ" in L else "")
        o.append(f"| {r['n']:,} ({r['vertices']:,}) | {rate(p, L['tessera_s'])} | {rate(p, L['shapely_s'])} | {pg_rate} | "
                 f"{L['shapely_s'] / L['tessera_s']:.1f}× | {vs_pg} | {rate(p, L['tessera_all_s'])} | {builds} | {ans} |")
    o.append("")
    o.append("With the index build counted on both sides (tessera index + locate against shapely STRtree build + query):")
    o.append("")
    for r in rows:
        L = r["locate"]
        mine = L["tessera_index_s"] + L["tessera_s"]
        theirs = L["shapely_build_s"] + L["shapely_s"]
        o.append(f"- {r['n']:,} grids: {theirs / mine:.1f}× shapely"
                 + (f", {(L['postgis_gist_s'] + L['postgis_s']) / mine:.1f}× PostGIS" if L.get("postgis_s") else "")
                 + f" (tessera runs {spread(L['tessera_runs'])}, shapely {spread(L['shapely_runs'])})")
    o.append("")
    o.append("### Validate (GEOS `coverage_is_valid` on one core)")
    o.append("")
    o.append("| grids | GEOS | tessera, 1 core | ratio | tessera, all cores | ratio | valid (both) |")
    o.append("|---|---|---|---|---|---|---|")
    for r in rows:
        V = r["validate"]
        o.append(f"| {r['n']:,} | {fmt_s(V['geos_s'])} | {fmt_s(V['tessera_1_s'])} | {V['tessera_1_s'] / V['geos_s']:.2f}× | "
                 f"{fmt_s(V['tessera_all_s'])} | {V['tessera_all_s'] / V['geos_s']:.2f}× | "
                 f"{V['valid'] if V['agree'] else 'DISAGREE'} |")
    o.append("")
    o.append("### Memory and cold start")
    o.append("")
    o.append("| grids | index heap | per 100,000 grids | read GeoJSON | build index | cold start |")
    o.append("|---|---|---|---|---|---|")
    for r in rows:
        L = r["locate"]
        o.append(f"| {r['n']:,} | {L['heap_bytes'] / 2 ** 20:.1f} MiB | {L['heap_bytes'] / r['n'] * 1e5 / 2 ** 20:.1f} MiB | "
                 f"{fmt_s(L['read_s'])} | {fmt_s(L['tessera_index_s'])} | {fmt_s(L['read_s'] + L['tessera_index_s'])} |")
    if "tiles" in extra:
        t = extra["tiles"]
        o.append("")
        o.append(f"### Vector tiles at {t['n']:,} grids ({t['tiles']} tiles, zooms 10–15)")
        o.append("")
        o.append("| | median | p99 |")
        o.append("|---|---|---|")
        o.append(f"| tessera (in process) | {t['tessera_p50_ms']:.2f} ms | {t['tessera_p99_ms']:.2f} ms |")
        o.append(f"| PostGIS ST_AsMVT (client-timed, loopback) | {t['postgis_p50_ms']:.2f} ms | {t['postgis_p99_ms']:.2f} ms |")
    if "http" in extra:
        h = extra["http"]
        o.append("")
        o.append(f"### HTTP (wrk, keep-alive, loopback, {a.http_seconds} s per run)")
        o.append("")
        o.append("| route | requests/s | p99 | non-2xx |")
        o.append("|---|---|---|---|")
        names = {"livez": "`/livez` (does nothing)", "locate": "`/api/v1/locate` (SQLite)",
                 "livez_again": "`/livez` again", "intake_sqlite": "intake, SQLite (32 connections)",
                 "locate_pg_1": "locate, PostGIS, 1 process", "intake_pg_1": "intake, PostGIS, 1 process",
                 "locate_pg_2": "locate, PostGIS, 2 processes", "intake_pg_2": "intake, PostGIS, 2 processes"}
        for k, label in names.items():
            if k in h:
                o.append(f"| {label} | {h[k]['rps']:,.0f} | {h[k]['p99_ms']:.2f} ms | {h[k]['non_2xx']} |")
        base = max(h["livez"]["rps"], h["livez_again"]["rps"])
        o.append("")
        o.append(f"locate = {h['locate']['rps'] / base:.0%} of the do-nothing route's throughput "
                 f"(against the better of the two `/livez` runs around it).")
    if "check" in extra:
        c = extra["check"]
        o.append("")
        o.append(f"### A planner's local check at {c['grids']:,} grids ({c['checks']} edits, one vertex moved each)")
        o.append("")
        o.append(f"server time median {c['server_p50_ms']:.2f} ms, p99 {c['server_p99_ms']:.2f} ms; round trip median "
                 f"{c['trip_p50_ms']:.2f} ms, p99 {c['trip_p99_ms']:.2f} ms; the first check of the draft (loading and "
                 f"indexing it) {c['first_ms'] / 1e3:.1f} s. {c['flagged']} of the {c['checks']} edits were flagged (a vertex moved "
                 f"on the coverage's outer edge only notches it).")
    if failures:
        o.append("")
        o.extend(f"**FAILED:** {f}" for f in failures)
    print("\n".join(o))
    if a.json_out:
        Path(a.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json_out).write_text(json.dumps({"machine": info, "rows": rows, **extra, "failures": failures}, indent=1))
    if a.plot and rows:
        plot(rows, Path(a.plot))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
