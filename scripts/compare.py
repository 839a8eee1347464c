#!/usr/bin/env python3
"""Benchmark tessera against shapely/GEOS on the same data, in one run; prints a Markdown table.

    scripts/compare.py [--tessera target/release/tessera] [--json results.json]

(i)  locate throughput (points/s) on 1,500- and 100,000-cell Voronoi coverages with 1,000,000
     uniform random points:
     - shapely: `STRtree(geoms)` build + `tree.query(points, predicate="intersects")`, in-process,
       one core, best of --repeat (point geometries are created beforehand, not timed);
     - tessera: `tessera locate FILE --points pts.csv --stats`, which reports
       `located N points in S seconds` on stderr, measured in-process excluding I/O (and
       single-threaded); best of --repeat. Wall time of the whole command is shown too.
(ii) validate time (s) on the same coverages (valid ones):
     - shapely: `shapely.coverage_is_valid(geoms)`, best of --repeat, file reading excluded;
     - tessera: `tessera validate FILE --stats` (`validated N grids in S seconds` on stderr),
       best of --repeat.

Ratios: locate = tessera points/s / shapely points/s (speed-up, >1 means tessera is faster);
validate = tessera seconds / GEOS seconds (<1 means tessera is faster).

Generated data is cached under target/compare-data/ (GeoJSON + points CSV for tessera, WKB for
the in-process side), so later runs skip generation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
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

sys.path.insert(0, str(HERE))
import coverage_gen as cg  # noqa: E402

DATA_VERSION = 1  # bump when coverage_gen output changes
LOCATED_RE = re.compile(r"located\s+(\d+)\s+points\s+in\s+([0-9.eE+-]+)\s+seconds")
VALIDATED_RE = re.compile(r"validated\s+(\d+)\s+grids\s+in\s+([0-9.eE+-]+)\s+seconds")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# cached data
# --------------------------------------------------------------------------------------------
def _save_wkb(geoms, path: Path):
    wkb = shapely.to_wkb(geoms)
    lens = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    blob = np.frombuffer(b"".join(wkb), dtype=np.uint8)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, lens=lens, blob=blob)
    tmp.replace(path)


def _load_wkb(path: Path):
    with np.load(path) as z:
        lens, blob = z["lens"], z["blob"].tobytes()
    offs = np.concatenate([[0], np.cumsum(lens)])
    wkb = [blob[offs[i]:offs[i + 1]] for i in range(len(lens))]
    return shapely.from_wkb(wkb)


def coverage_data(data: Path, n: int, seed: int):
    """(geojson path, geoms array); generated once, then read from the cache."""
    stem = data / f"voronoi-{n}-s{seed}-v{DATA_VERSION}"
    gj, wk = stem.with_suffix(".geojson"), stem.with_suffix(".wkb.npz")
    if gj.exists() and wk.exists():
        geoms = _load_wkb(wk)
        if len(geoms) == n:
            return gj, geoms
    log(f"compare: generating {n}-cell Voronoi coverage (seed {seed}) in {data}")
    cov = cg.voronoi_coverage(n, seed)
    tmp = gj.with_suffix(".tmp")
    cg.write_geojson(cov, tmp)
    tmp.replace(gj)
    _save_wkb(cov.array, wk)
    return gj, cov.array


def points_data(data: Path, npts: int, seed: int, bbox):
    """(csv path, (n, 2) float array) of uniform points over bbox."""
    stem = data / f"points-{npts}-s{seed}-v{DATA_VERSION}"
    csvp, npy = stem.with_suffix(".csv"), stem.with_suffix(".npy")
    if csvp.exists() and npy.exists():
        pts = np.load(npy)
        if pts.shape == (npts, 2):
            return csvp, pts
    log(f"compare: generating {npts} random points in {data}")
    pts = cg.random_points(npts, seed, bbox, margin=0.0)
    tmp = csvp.with_suffix(".tmp")
    cg.write_points_csv(pts, tmp)
    tmp.replace(csvp)
    np.save(npy, pts)
    return csvp, pts


# --------------------------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------------------------
def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def shapely_locate(geoms, pts_geoms, repeat: int) -> float:
    def run():
        tree = STRtree(geoms)
        tree.query(pts_geoms, predicate="intersects")
    return best_of(run, repeat)


def shapely_validate(geoms, repeat: int) -> float:
    ok = {}

    def run():
        ok["v"] = bool(shapely.coverage_is_valid(geoms))
    t = best_of(run, repeat)
    if not ok["v"]:
        log("compare: warning: GEOS says the benchmark coverage is not valid")
    return t


def tessera_stat(binary: Path, args, pattern: re.Pattern, repeat: int, timeout: float):
    """Best in-process seconds reported on stderr, best wall seconds, and the count N.
    Runs after the first are skipped once a run takes more than timeout / 10."""
    best_s, best_wall, count = float("inf"), float("inf"), None
    for k in range(repeat):
        if k > 0 and best_wall > timeout / 10:
            break
        t0 = time.perf_counter()
        try:
            p = subprocess.run([str(binary)] + [str(a) for a in args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"tessera {args[0]} timed out after {timeout:.0f} s")
        wall = time.perf_counter() - t0
        err = p.stderr.decode("utf-8", "replace")
        m = pattern.search(err)
        if m is None:
            raise RuntimeError(f"{' '.join(map(str, args[:1]))}: exit {p.returncode}, no stats line in "
                               f"stderr: {err.strip()[-300:]!r}")
        count = int(m.group(1))
        # the figure is printed with limited decimals: never divide by a printed 0
        best_s = min(best_s, max(float(m.group(2)), 1e-4))
        best_wall = min(best_wall, wall)
    return best_s, best_wall, count


def machine_info(binary: Path | None) -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    tv = None
    if binary is not None:
        try:
            tv = subprocess.run([str(binary), "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                timeout=30).stdout.decode().strip() or None
        except Exception:
            tv = None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    try:
        load = open("/proc/loadavg").read().split()[0]
    except OSError:
        load = None
    return {"cpu": cpu, "cores": cores, "load_at_start": load, "python": platform.python_version(),
            "shapely": shapely.__version__, "geos": shapely.geos_version_string,
            "numpy": np.__version__, "tessera": tv}


def fmt_rate(x):
    if x is None:
        return "n/a"
    return f"{x / 1e6:.2f} M/s" if x >= 1e5 else f"{x:,.0f} /s"


def fmt_s(x):
    if x is None:
        return "n/a"
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.3f} s"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="tessera vs shapely/GEOS benchmark (Markdown table).")
    ap.add_argument("--tessera", default="target/release/tessera", help="tessera binary")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1500, 100_000], help="coverage sizes (cells)")
    ap.add_argument("--points", type=int, default=1_000_000, help="points for locate")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data", default=str(ROOT / "target" / "compare-data"), help="data cache directory")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per tessera run")
    ap.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    binary = Path(args.tessera)
    if not binary.is_absolute() and not binary.exists() and (ROOT / binary).exists():
        binary = ROOT / binary
    binary = binary.resolve()
    have_tessera = binary.is_file() and os.access(binary, os.X_OK)
    if not have_tessera:
        log(f"compare: {binary} not found; showing the shapely side only")
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)

    info = machine_info(binary if have_tessera else None)
    rows = []
    pts_csv = pts = pts_geoms = None
    for n in args.sizes:
        gj, geoms = coverage_data(data, n, args.seed + n)
        if pts is None:
            bbox = tuple(shapely.total_bounds(geoms))
            pts_csv, pts = points_data(data, args.points, args.seed, bbox)
            pts_geoms = shapely.points(pts)
        log(f"compare: {n} cells: shapely locate / validate")
        s_loc = shapely_locate(geoms, pts_geoms, args.repeat)
        s_val = shapely_validate(geoms, args.repeat)
        t_loc = t_loc_wall = t_val = t_val_wall = None
        errs = []
        if have_tessera:
            log(f"compare: {n} cells: tessera locate / validate")
            try:
                t_loc, t_loc_wall, cnt = tessera_stat(binary, ["locate", gj, "--points", pts_csv, "--stats"],
                                                      LOCATED_RE, args.repeat, args.timeout)
                if cnt != len(pts):
                    log(f"compare: warning: tessera located {cnt} points, expected {len(pts)}")
            except Exception as e:  # report what we have
                errs.append(str(e))
                log(f"compare: tessera locate failed: {e}")
            try:
                t_val, t_val_wall, cnt = tessera_stat(binary, ["validate", gj, "--stats"], VALIDATED_RE,
                                                      args.repeat, args.timeout)
                if cnt != n:
                    log(f"compare: warning: tessera validated {cnt} grids, expected {n}")
            except Exception as e:
                errs.append(str(e))
                log(f"compare: tessera validate failed: {e}")
        err = "; ".join(errs) or None
        npts = len(pts)
        rows.append({
            "cells": n,
            "vertices": int(shapely.get_num_coordinates(geoms).sum()),
            "points": npts,
            "locate": {
                "shapely_s": s_loc, "shapely_pts_per_s": npts / s_loc,
                "tessera_s": t_loc, "tessera_wall_s": t_loc_wall,
                "tessera_pts_per_s": npts / t_loc if t_loc else None,
                "speedup": (s_loc / t_loc) if t_loc else None,
            },
            "validate": {
                "geos_s": s_val, "tessera_s": t_val, "tessera_wall_s": t_val_wall,
                "ratio": (t_val / s_val) if t_val is not None else None,
            },
            "error": err,
        })

    # ---- Markdown -----------------------------------------------------------------------------
    out = []
    out.append(f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, shapely "
               f"{info['shapely']} (GEOS {info['geos']}), numpy {info['numpy']}; "
               f"load average at start {info['load_at_start']}; "
               f"tessera: {info['tessera'] or ('n/a' if not have_tessera else str(binary))}")
    out.append("")
    out.append("| benchmark | cells (vertices) | shapely / GEOS | tessera | tessera wall | ratio |")
    out.append("|---|---|---|---|---|---|")
    for r in rows:
        L = r["locate"]
        sp = f"speed-up {L['speedup']:.2f}x" if L["speedup"] else "n/a"
        out.append(f"| locate {r['points']:,} points | {r['cells']:,} ({r['vertices']:,}) | "
                   f"{fmt_rate(L['shapely_pts_per_s'])} | {fmt_rate(L['tessera_pts_per_s'])} | "
                   f"{fmt_s(L['tessera_wall_s'])} | {sp} |")
    for r in rows:
        V = r["validate"]
        ratio = f"{V['ratio']:.2f}x GEOS time" if V["ratio"] is not None else "n/a"
        out.append(f"| validate | {r['cells']:,} ({r['vertices']:,}) | {fmt_s(V['geos_s'])} | "
                   f"{fmt_s(V['tessera_s'])} | {fmt_s(V['tessera_wall_s'])} | {ratio} |")
    out.append("")
    out.append(f"Best of {args.repeat}. Locate: shapely = `STRtree(geoms)` build + `query(points, "
               f"predicate=\"intersects\")`, one core, point geometries created beforehand; tessera = "
               f"in-process figure from `locate --stats` (single-threaded, excluding I/O); "
               f"ratio = tessera points/s / shapely points/s. Validate: GEOS = "
               f"`coverage_is_valid(geoms)` without file reading (one core); tessera = `validate --stats` "
               f"figure (tessera may use all {info['cores']} cores here); ratio = tessera time / GEOS time. \"tessera wall\" is the whole command "
               f"including reading the files (and writing the CSV for locate).")
    for r in rows:
        if r["error"]:
            out.append(f"\ntessera error at {r['cells']} cells: {r['error']}")
    print("\n".join(out))

    if args.json_out:
        res = {"machine": info, "repeat": args.repeat, "seed": args.seed, "rows": rows,
               "data": str(data), "tessera_binary": str(binary) if have_tessera else None}
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json_out, "w") as f:
            json.dump(res, f, indent=1)
    return 0 if all(r["error"] is None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
