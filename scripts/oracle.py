#!/usr/bin/env python3
"""GEOS oracle for tessera: cross-checks `tessera validate`, `repair` and `locate` against
shapely 2.2 / GEOS 3.14 on generated coverages (scripts/coverage_gen.py).

    scripts/oracle.py [--tessera target/release/tessera] [--work DIR] [--keep]

Checks (one summary line each, then `N passed, M failed`; exit status 1 on any failure):

validate  For a dozen seeded Voronoi coverages (50-3,000 cells, clean and with every fault kind,
          some with two faults): `tessera validate FILE --format json` must report
          - the same set of grid codes in `invalid_edges` as the cells with a non-empty
            `shapely.coverage_invalid_edges(geoms, gap_width=0)`;
          - `valid` == (`shapely.coverage_is_valid(geoms)` and the union has no holes), and exit
            status 0 when valid, 1 otherwise; `grids` == feature count; no invalid_geometry /
            duplicate_keys / outside_boundary entries (inputs have none);
          - overlaps: the same pairs of cells as those whose interiors intersect in 2-D, with
            `area_m2` within 1 % of shapely's intersection area;
          - gaps: one per hole of `shapely.union_all(geoms)`, `area_m2` within 1 %, and the
            `neighbours` between the cells sharing an edge with the hole and those touching it.
          Areas are computed in a local equirectangular metre projection (WGS84 radii at the
          data's centre).
repair    `tessera repair FILE -o OUT --gap-width-m W --snap-m S` on each faulty coverage: OUT has
          every input code, is a valid coverage for GEOS (`coverage_is_valid`, all
          `coverage_invalid_edges(gap_width=0)` empty), keeps only holes wider than W, covers the
          input's area plus the narrow gaps it filled, and `tessera validate OUT` reports no
          overlaps / invalid edges and one gap per remaining hole.
locate    100,000 seeded points (95 % uniform over the bbox grown by 10 %, 5 % exactly on cell
          vertices and edge midpoints) against a 1,500-cell coverage: `tessera locate FILE
          --points pts.csv` must give, for every point in order, one of the cells
          `STRtree(geoms).query(points, predicate="intersects")` finds, and empty iff none.

On a disagreement the work directory is kept and, for validate, a reduced coverage (the
disputed cells and their neighbours) that still shows the disagreement is written next to it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
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

sys.path.insert(0, str(HERE))
import coverage_gen as cg  # noqa: E402

AREA_RTOL = 0.01  # 1 %
AREA_ATOL = 0.01  # m2: differences below this are treated as zero area

# (name, cells, seed, faults)
VALIDATE_CASES = [
    ("clean", 1500, 101, ()),
    ("overlap", 50, 102, ("overlap",)),
    ("gap", 200, 103, ("gap",)),
    ("mismatch", 500, 104, ("mismatch",)),
    ("delete", 1000, 105, ("delete",)),
    ("duplicate", 1500, 106, ("duplicate",)),
    ("overlap+gap", 3000, 107, ("overlap", "gap")),
    ("mismatch+delete", 2000, 108, ("mismatch", "delete")),
    ("duplicate+overlap", 800, 109, ("duplicate", "overlap")),
    ("gap+mismatch", 100, 110, ("gap", "mismatch")),
    ("delete+duplicate", 3000, 111, ("delete", "duplicate")),
    ("overlap+mismatch", 2500, 112, ("overlap", "mismatch")),
]
LOCATE_CELLS, LOCATE_SEED, LOCATE_POINTS = 1500, 201, 100_000


class CheckFailed(Exception):
    pass


# --------------------------------------------------------------------------------------------
# running tessera
# --------------------------------------------------------------------------------------------
class Tessera:
    def __init__(self, path: Path, timeout: float = 120.0):
        self.path = path
        self.timeout = timeout

    def run(self, *args, stdin=None):
        cmd = [str(self.path)] + [str(a) for a in args]
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin,
                               timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"timed out after {self.timeout:.0f} s: {' '.join(cmd)}")
        except OSError as e:
            raise CheckFailed(f"cannot run {cmd[0]}: {e}")
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), \
            time.perf_counter() - t0

    def validate_json(self, path: Path, *extra):
        rc, out, err, dt = self.run("validate", path, "--format", "json", *extra)
        if rc not in (0, 1):
            raise CheckFailed(f"validate exited {rc}: {_tail(err)}")
        try:
            rep = json.loads(out)
        except json.JSONDecodeError as e:
            raise CheckFailed(f"validate output is not JSON ({e}): {out[:200]!r} {_tail(err)}")
        return rc, rep, dt


def _tail(s: str, n: int = 300) -> str:
    s = s.strip()
    return ("stderr: ..." + s[-n:]) if len(s) > n else (f"stderr: {s}" if s else "")


def _sorted_list(xs, n=6) -> str:
    xs = sorted(xs)
    return "[" + ", ".join(xs[:n]) + (f", ... +{len(xs) - n}" if len(xs) > n else "") + "]"


# --------------------------------------------------------------------------------------------
# GEOS side
# --------------------------------------------------------------------------------------------
class GeosView:
    """What shapely/GEOS says about a coverage (codes aligned with geoms)."""

    def __init__(self, codes, geoms, proj: cg.LocalProjection | None = None):
        self.codes = list(codes)
        self.geoms = np.asarray(geoms, dtype=object)
        self.proj = proj or cg.LocalProjection.around(self.geoms[~shapely.is_empty(self.geoms)])
        self.pos = {c: i for i, c in enumerate(self.codes)}
        nonempty = ~shapely.is_empty(self.geoms)
        self.ne = np.nonzero(nonempty)[0]
        g = self.geoms[self.ne]
        self.is_valid_geom = bool(np.all(shapely.is_valid(g)))
        self.coverage_valid = bool(shapely.coverage_is_valid(g, gap_width=0.0))
        edges = shapely.coverage_invalid_edges(g, gap_width=0.0)
        self.invalid_edge_codes = {self.codes[self.ne[k]] for k in np.nonzero(~shapely.is_empty(edges))[0]}
        self.tree = STRtree(g)
        # overlapping pairs: interiors intersect in 2-D
        left, right = self.tree.query(g, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        two_d = shapely.relate_pattern(g[left], g[right], "2********")
        self.overlaps = {}
        for a, b in zip(left[two_d], right[two_d]):
            inter = shapely.intersection(g[a], g[b])
            self.overlaps[frozenset((self.codes[self.ne[a]], self.codes[self.ne[b]]))] = \
                float(self.proj.area_m2(inter))
        # holes of the union
        union = shapely.union_all(g)
        polys = shapely.get_parts(union)
        self.holes = [shapely.Polygon(r) for p in polys for r in p.interiors]
        self.hole_area = [float(self.proj.area_m2(h)) for h in self.holes]
        self.union_area = float(self.proj.area_m2(union))

    @property
    def has_gaps(self) -> bool:
        return bool(self.holes)

    def hole_width_m(self, k: int) -> float:
        """Diameter of the maximum inscribed circle of hole k, in metres."""
        h = self.proj.project(self.holes[k])
        tol = max(1e-3, (h.area ** 0.5) * 1e-4)
        return 2.0 * shapely.maximum_inscribed_circle(h, tolerance=tol).length

    def hole_neighbours(self, k: int):
        """(cells sharing an edge with hole k, cells touching it at all)"""
        h = self.holes[k]
        idx = self.tree.query(h, predicate="intersects")
        g = self.geoms[self.ne[idx]]
        inter_len = shapely.length(shapely.intersection(shapely.boundary(g), h.exterior))
        touching = {self.codes[self.ne[i]] for i in idx}
        edge = {self.codes[self.ne[i]] for i, L in zip(idx, inter_len) if L > 0}
        return edge, touching


def compare_validate(rep: dict, rc: int, gv: GeosView, n_features: int):
    """Returns (problems, summary) comparing a tessera validate report with GEOS."""
    probs = []
    for key in ("valid", "grids", "invalid_edges", "overlaps", "gaps"):
        if key not in rep:
            probs.append(f"report has no '{key}'")
    if probs:
        return probs, ""

    t_inv = {e.get("grid") for e in rep["invalid_edges"]}
    if t_inv != gv.invalid_edge_codes:
        probs.append(f"invalid_edges differ: tessera-only {_sorted_list(t_inv - gv.invalid_edge_codes)}, "
                     f"GEOS-only {_sorted_list(gv.invalid_edge_codes - t_inv)}")
    exp_valid = gv.coverage_valid and not gv.has_gaps and gv.is_valid_geom
    if bool(rep["valid"]) != exp_valid:
        probs.append(f"valid={rep['valid']} but GEOS coverage_is_valid={gv.coverage_valid}, "
                     f"union holes={len(gv.holes)}")
    if rc != (0 if rep["valid"] else 1):
        probs.append(f"exit status {rc} with valid={rep['valid']}")
    if rep["grids"] != n_features:
        probs.append(f"grids={rep['grids']}, file has {n_features} features")
    for key in ("invalid_geometry", "duplicate_keys", "outside_boundary"):
        if gv.is_valid_geom and rep.get(key):
            probs.append(f"{key} not empty: {json.dumps(rep[key])[:200]}")

    # overlaps: same pairs, areas within 1 %
    t_ovl = {}
    for o in rep["overlaps"]:
        pair = frozenset(o.get("grids", []))
        t_ovl[pair] = t_ovl.get(pair, 0.0) + float(o.get("area_m2", float("nan")))
    worst_ovl = 0.0
    for pair in set(t_ovl) | set(gv.overlaps):
        ta, sa = t_ovl.get(pair, 0.0), gv.overlaps.get(pair, 0.0)
        if not abs(ta - sa) <= max(AREA_RTOL * sa, AREA_ATOL):
            probs.append(f"overlap {_sorted_list(pair)}: tessera {ta:.3f} m2, GEOS {sa:.3f} m2")
        elif sa > AREA_ATOL:
            worst_ovl = max(worst_ovl, abs(ta - sa) / sa)

    # gaps: one per union hole, matched by geometry when given, else by area order
    t_gaps = rep["gaps"]
    worst_gap = 0.0
    if len(t_gaps) != len(gv.holes):
        probs.append(f"{len(t_gaps)} gaps reported, union has {len(gv.holes)} holes "
                     f"(areas m2: tessera {sorted(round(float(g.get('area_m2', -1)), 3) for g in t_gaps)}, "
                     f"GEOS {sorted(round(a, 3) for a in gv.hole_area)})")
    else:
        match = _match_gaps(t_gaps, gv)
        for gi, k in match:
            ta, sa = float(t_gaps[gi].get("area_m2", float("nan"))), gv.hole_area[k]
            if not abs(ta - sa) <= max(AREA_RTOL * sa, AREA_ATOL):
                w = t_gaps[gi].get("width_m")
                probs.append(f"gap {gi}{f' (width {w:.2f} m)' if isinstance(w, (int, float)) else ''}: "
                             f"tessera {ta:.3f} m2, GEOS hole {sa:.3f} m2 ({100 * (ta - sa) / sa:+.2f} %)")
            else:
                worst_gap = max(worst_gap, abs(ta - sa) / sa if sa > 0 else 0.0)
            if "neighbours" in t_gaps[gi]:
                nb = set(t_gaps[gi]["neighbours"])
                edge, touching = gv.hole_neighbours(k)
                if not (edge <= nb <= touching):
                    probs.append(f"gap {gi} neighbours {_sorted_list(nb)}; GEOS: edge-sharing "
                                 f"{_sorted_list(edge)}, touching {_sorted_list(touching)}")
    summary = (f"{len(t_inv)} cells with invalid edges, {len(t_ovl)} overlaps "
               f"(max area diff {100 * worst_ovl:.3f} %), {len(t_gaps)} gaps "
               f"(max area diff {100 * worst_gap:.3f} %), valid={rep['valid']}")
    return probs, summary


def _match_gaps(t_gaps, gv: GeosView):
    """Pairs (tessera gap index, hole index)."""
    from shapely.geometry import shape

    pairs, used = [], set()
    geoms_ok = all(g.get("geometry") for g in t_gaps)
    if geoms_ok:
        try:
            for gi, g in enumerate(t_gaps):
                tg = shape(g["geometry"])
                best, best_a = None, 0.0
                for k, h in enumerate(gv.holes):
                    if k in used:
                        continue
                    a = tg.intersection(h).area if tg.intersects(h) else 0.0
                    if a > best_a:
                        best, best_a = k, a
                if best is None:
                    raise ValueError
                used.add(best)
                pairs.append((gi, best))
            return pairs
        except Exception:
            pairs, used = [], set()
    order_t = sorted(range(len(t_gaps)), key=lambda i: float(t_gaps[i].get("area_m2", 0)))
    order_s = sorted(range(len(gv.holes)), key=lambda k: gv.hole_area[k])
    return list(zip(order_t, order_s))


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------
class Oracle:
    def __init__(self, tessera: Tessera, work: Path, gap_width_m: float, snap_m: float):
        self.t = tessera
        self.work = work
        self.gap_width_m = gap_width_m
        self.snap_m = snap_m
        self.results = []  # (ok, line)
        self.cases = {}  # name -> (path, coverage)

    def record(self, name: str, fn):
        t0 = time.perf_counter()
        try:
            ok, msg = fn()
        except CheckFailed as e:
            ok, msg = False, str(e)
        except Exception as e:  # a bug in a check must not pass silently
            ok, msg = False, f"{type(e).__name__}: {e}"
        dt = time.perf_counter() - t0
        line = f"{'PASS' if ok else 'FAIL'} {name}: {msg} [{dt:.2f} s]"
        print(line, flush=True)
        self.results.append((ok, line))

    def case(self, name, n, seed, faults):
        if name not in self.cases:
            cov = cg.make_case(n, seed, faults)
            path = cg.write_geojson(cov, self.work / f"{name}-{n}.geojson")
            self.cases[name] = (path, cov)
        return self.cases[name]

    # a. validate ---------------------------------------------------------------------------
    def check_validate(self, name, n, seed, faults):
        path, cov = self.case(name, n, seed, faults)
        gv = GeosView(cov.codes, cov.array, cov.projection())
        exp = cov.expected()
        gen_probs = []
        if sorted(gv.invalid_edge_codes) != exp["invalid_edges"]:
            gen_probs.append(f"generator expected invalid edges {exp['invalid_edges']}, GEOS says "
                             f"{sorted(gv.invalid_edge_codes)}")
        rc, rep, dt = self.t.validate_json(path)
        probs, summary = compare_validate(rep, rc, gv, len(cov))
        if probs:
            repro = self.reduce_validate(name, cov, gv, rep)
            if repro:
                probs.append(f"reduced repro: {repro}")
            raise CheckFailed(f"{path}: " + "; ".join(gen_probs + probs))
        if gen_probs:
            raise CheckFailed("; ".join(gen_probs))
        return True, f"{n} cells {'+'.join(faults) or 'no fault'}: {summary}; tessera {dt:.2f} s"

    def reduce_validate(self, name, cov, gv: GeosView, rep) -> str | None:
        """Write the disputed cells and their neighbours to a small file; return its path if
        tessera and GEOS still disagree on it."""
        try:
            t_inv = {e.get("grid") for e in rep.get("invalid_edges", [])}
            levels = [set(gv.invalid_edge_codes) ^ t_inv]
            ovl = set()
            for o in rep.get("overlaps", []):
                ovl |= set(o.get("grids", []))
            for pair in gv.overlaps:
                ovl |= set(pair)
            levels.append(levels[-1] | ovl)
            gaps = set()
            for k in range(len(gv.holes)):
                gaps |= gv.hole_neighbours(k)[1]
            for g in rep.get("gaps", []):
                gaps |= set(g.get("neighbours", []))
            levels.append(levels[-1] | gaps)
            tried = set()
            for disputed in levels:
                disputed = frozenset(disputed & set(cov.codes))
                if not disputed or len(disputed) == len(cov) or disputed in tried:
                    continue
                tried.add(disputed)
                path = self._reduced_repro(name, cov, gv, disputed)
                if path:
                    return path
            return None
        except Exception:
            return None

    def _reduced_repro(self, name, cov, gv: GeosView, disputed) -> str | None:
        keep = set(disputed)
        for c in disputed:
            i = gv.pos[c]
            keep |= {gv.codes[gv.ne[j]] for j in gv.tree.query(gv.geoms[i], predicate="intersects")}
        idx = [i for i, c in enumerate(cov.codes) if c in keep]
        codes = [cov.codes[i] for i in idx]
        geoms = [cov.geoms[i] for i in idx]
        path = self.work / f"{name}-reduced-{len(idx)}.geojson"
        cg.write_geojson(geoms, path, codes)
        gv2 = GeosView(codes, geoms)
        rc2, rep2, _ = self.t.validate_json(path)
        probs2, _ = compare_validate(rep2, rc2, gv2, len(codes))
        # the reduced file has an outer boundary of its own: only invalid-edge and overlap
        # disagreements are meaningful there
        if any(p.startswith("invalid_edges differ") or p.startswith("overlap") for p in probs2):
            return str(path)
        path.unlink()
        return None

    # b. repair -----------------------------------------------------------------------------
    def check_repair(self, name, n, seed, faults):
        path, cov = self.case(name, n, seed, faults)
        W, S = self.gap_width_m, self.snap_m
        out = self.work / f"{name}-{n}.repaired.geojson"
        if out.exists():
            out.unlink()
        rc, _, err, dt = self.t.run("repair", path, "-o", out, "--gap-width-m", W, "--snap-m", S)
        if rc not in (0, 1) or not out.exists():
            raise CheckFailed(f"repair exited {rc}, output {'missing' if not out.exists() else 'written'} {_tail(err)}")
        gin = GeosView(cov.codes, cov.array, cov.projection())
        codes, geoms, props = cg.read_geojson(out)
        probs = []
        missing = set(cov.codes) - set(codes)
        extra = set(codes) - set(cov.codes)
        # A grid lying entirely under other grids (a duplicate) cannot keep any area: repair
        # leaves it out and must say so in its log. Any other missing code is an error.
        for c in sorted(missing):
            i = cov.codes.index(c)
            others = [gin.ne[j] for j in gin.tree.query(cov.array[i]) if gin.codes[gin.ne[j]] != c]
            rest = shapely.difference(cov.array[i], shapely.union_all(gin.geoms[others])) if others else cov.array[i]
            covered = shapely.area(rest) <= 1e-9 * max(shapely.area(cov.array[i]), 1e-30)
            logged = any(c in ln and "removed" in ln for ln in err.splitlines())
            if not (covered and logged):
                probs.append(f"code {c} missing from output"
                             + ("" if covered else " although part of it is covered by no other grid")
                             + ("" if logged else " and not reported as removed in the repair log"))
        if extra:
            probs.append(f"unknown codes in output: {_sorted_list(extra)}")
        if len(set(codes)) != len(codes):
            probs.append("duplicate codes in output")
        gout = GeosView(codes, geoms, gin.proj)
        if not gout.is_valid_geom:
            probs.append("output has invalid polygons")
        if not gout.coverage_valid or gout.invalid_edge_codes:
            probs.append(f"output is not a valid coverage for GEOS: invalid edges in "
                         f"{_sorted_list(gout.invalid_edge_codes)}")
        narrow_in = [k for k in range(len(gin.holes)) if gin.hole_width_m(k) <= W]
        filled = sum(gin.hole_area[k] for k in narrow_in)
        wide_out = []
        for k in range(len(gout.holes)):
            w = gout.hole_width_m(k)
            if w <= 0.9 * W:
                probs.append(f"a {w:.2f} m wide gap ({gout.hole_area[k]:.1f} m2) remains (gap width {W} m)")
            wide_out.append(w)
        exp_area = gin.union_area + filled
        if abs(gout.union_area - exp_area) > 1e-4 * exp_area + 1.0:
            probs.append(f"covered area {gout.union_area:.1f} m2, expected {exp_area:.1f} m2 "
                         f"(input {gin.union_area:.1f} + filled gaps {filled:.1f})")
        # tessera's own view of its output
        rc2, rep2, _ = self.t.validate_json(out)
        for key in ("invalid_edges", "overlaps", "invalid_geometry", "duplicate_keys"):
            if rep2.get(key):
                probs.append(f"tessera validate OUT: {len(rep2[key])} {key}")
        if len(rep2.get("gaps", [])) != len(gout.holes):
            probs.append(f"tessera validate OUT: {len(rep2.get('gaps', []))} gaps, GEOS finds {len(gout.holes)} holes")
        if rc2 != (0 if rep2.get("valid") else 1):
            probs.append(f"tessera validate OUT: exit {rc2} with valid={rep2.get('valid')}")
        if probs:
            raise CheckFailed(f"{path} -> {out}: " + "; ".join(probs))
        return True, (f"{n} cells {'+'.join(faults)}: output valid, {len(codes)} codes kept, "
                      f"{len(narrow_in)} narrow gaps filled, {len(gout.holes)} wide gaps kept; tessera {dt:.2f} s")

    # c. locate -----------------------------------------------------------------------------
    def check_locate(self):
        n, seed, npts = LOCATE_CELLS, LOCATE_SEED, LOCATE_POINTS
        cov = cg.voronoi_coverage(n, seed)
        path = cg.write_geojson(cov, self.work / f"locate-{n}.geojson")
        nb = npts // 20
        pts = np.vstack([cg.random_points(npts - nb, seed, cov.rect), cg.boundary_points(cov, nb, seed)])
        pts = pts[np.random.default_rng([seed, 5]).permutation(len(pts))]
        pcsv = cg.write_points_csv(pts, self.work / "locate-points.csv")
        rc, out, err, dt = self.t.run("locate", path, "--points", pcsv)
        if rc != 0:
            raise CheckFailed(f"locate exited {rc}: {_tail(err)}")
        rows = list(csv.reader(io.StringIO(out)))
        if not rows or [c.strip() for c in rows[0]] != ["lon", "lat", "grid"]:
            raise CheckFailed(f"bad header {rows[0] if rows else None!r}")
        rows = rows[1:]
        if len(rows) != len(pts):
            raise CheckFailed(f"{len(rows)} output rows for {len(pts)} points")
        tree = STRtree(cov.array)
        pi, gi = tree.query(shapely.points(pts), predicate="intersects")
        hits = [set() for _ in range(len(pts))]
        for p, g in zip(pi, gi):
            hits[p].add(cov.codes[g])
        bad = []
        for k, row in enumerate(rows):
            if len(row) != 3:
                bad.append((k, f"row {row!r}"))
                continue
            lon, lat, code = row
            if float(lon) != pts[k, 0] or float(lat) != pts[k, 1]:
                bad.append((k, f"row {k} echoes {lon},{lat}, input {float(pts[k, 0])!r},{float(pts[k, 1])!r}"))
                continue
            code = code.strip()
            h = hits[k]
            if (code == "" and h) or (code != "" and code not in h):
                bad.append((k, f"{float(pts[k, 0])!r},{float(pts[k, 1])!r}: tessera '{code}', GEOS {sorted(h)}"))
        n0 = sum(1 for h in hits if not h)
        n2 = sum(1 for h in hits if len(h) > 1)
        if bad:
            repro = self.work / "locate-disagreements.csv"
            cg.write_points_csv(pts[[k for k, _ in bad]], repro)
            raise CheckFailed(f"{len(bad)} of {len(pts)} points disagree (e.g. {bad[0][1]}); "
                              f"grids {path}, points {repro}")
        return True, (f"{len(pts)} points on {n} cells agree ({n0} outside, {n2} on shared "
                      f"boundaries); tessera {dt:.2f} s")


def check_geodata(t: "Tessera", root: Path):
    """The shipped demo district: every level is a valid coverage for GEOS, the grids' union is
    the boundary, each child level tiles its parent, and tessera agrees (exit 0)."""
    d = root / "geodata" / "zhangdian"
    layers = {}
    for name in ("streets", "communities", "grids"):
        codes, geoms, props = cg.read_geojson(d / f"{name}.geojson")
        layers[name] = (codes, np.asarray(geoms, dtype=object), props)
        if not shapely.coverage_is_valid(layers[name][1]):
            bad = np.nonzero(~shapely.is_empty(shapely.coverage_invalid_edges(layers[name][1])))[0]
            raise CheckFailed(f"{name}: GEOS finds invalid edges in {len(bad)} polygons")
        rc, _, err, _ = t.run("validate", d / f"{name}.geojson", "--boundary", d / "boundary.geojson")
        if rc != 0:
            raise CheckFailed(f"tessera validate {name} --boundary exited {rc}: {_tail(err)}")
    _, bgeoms, _ = cg.read_geojson(d / "boundary.geojson")
    boundary = shapely.union_all(np.asarray(bgeoms, dtype=object))
    for name in ("streets", "communities", "grids"):
        u = shapely.coverage_union_all(layers[name][1])
        diff = shapely.area(shapely.symmetric_difference(u, boundary)) / shapely.area(boundary)
        if diff > 1e-9:
            raise CheckFailed(f"{name}: union differs from the boundary by {diff:.2e} of its area")
    # Children tile their parent: the union of each parent's children equals it.
    for child, parent, field in (("grids", "communities", "community"), ("communities", "streets", "street")):
        ccodes, cgeoms, cprops = layers[child]
        pcodes, pgeoms, _ = layers[parent]
        groups = {}
        for g, pr in zip(cgeoms, cprops):
            groups.setdefault(pr[field], []).append(g)
        for code, pg in zip(pcodes, pgeoms):
            u = shapely.coverage_union_all(np.asarray(groups.get(code, []), dtype=object))
            diff = shapely.area(shapely.symmetric_difference(u, pg)) / shapely.area(pg)
            if diff > 1e-9:
                raise CheckFailed(f"{child} of {parent[:-1]} {code} differ from it by {diff:.2e} of its area")
    n = {k: len(v[0]) for k, v in layers.items()}
    return True, f"geodata/zhangdian: {n['streets']} streets, {n['communities']} communities, {n['grids']} grids valid for GEOS, nested, union = boundary"


def find_binary(p: str) -> Path:
    path = Path(p)
    if not path.is_absolute() and not path.exists() and (ROOT / path).exists():
        path = ROOT / path
    return path.resolve()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Cross-check tessera against GEOS (shapely).")
    ap.add_argument("--tessera", default="target/release/tessera", help="tessera binary")
    ap.add_argument("--work", help="work directory (default: a new temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    ap.add_argument("--gap-width-m", type=float, default=10.0, help="repair gap width (m)")
    ap.add_argument("--snap-m", type=float, default=0.05, help="repair snapping distance (m)")
    ap.add_argument("--only", choices=("validate", "repair", "locate", "geodata"), action="append",
                    help="run only these check groups")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    binary = find_binary(args.tessera)
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        print(f"FAIL setup: tessera binary {binary} not found (build it with cargo build --release)")
        print("0 passed, 1 failed")
        return 1
    if args.work:
        work = Path(args.work)
        work.mkdir(parents=True, exist_ok=True)
        own_tmp = False
    else:
        work = Path(tempfile.mkdtemp(prefix="tessera-oracle-"))
        own_tmp = True
    print(f"oracle: shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
          f"tessera {binary}, work {work}", flush=True)

    o = Oracle(Tessera(binary), work, args.gap_width_m, args.snap_m)
    groups = args.only or ["validate", "repair", "locate", "geodata"]
    if "validate" in groups:
        for name, n, seed, faults in VALIDATE_CASES:
            o.record(f"validate {name}", lambda a=(name, n, seed, faults): o.check_validate(*a))
    if "repair" in groups:
        for name, n, seed, faults in VALIDATE_CASES:
            if faults:
                o.record(f"repair {name}", lambda a=(name, n, seed, faults): o.check_repair(*a))
    if "locate" in groups:
        o.record("locate", o.check_locate)
    if "geodata" in groups:
        o.record("geodata", lambda: check_geodata(o.t, ROOT))

    passed = sum(1 for ok, _ in o.results if ok)
    failed = len(o.results) - passed
    print(f"oracle: {time.perf_counter() - t_start:.1f} s total", flush=True)
    if failed:
        print(f"oracle: files kept in {work}")
    elif own_tmp and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
