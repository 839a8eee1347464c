#!/usr/bin/env python3
"""GEOS oracle for tessera: cross-checks `tessera validate`, `repair` and `locate` against
shapely 2.2 / GEOS 3.14 on generated coverages (scripts/coverage_gen.py) and the demo district.

    scripts/oracle.py [--tessera target/release/tessera] [--work DIR] [--keep] [--seed N]
                      [--cases N] [--only validate|repair|locate|geodata] [--strict]

One summary line per check (PASS/FAIL; under a FAIL the first disagreements, each with a repro),
then `N passed, M failed`; exit status 1 on any failure. A check listed in KNOWN_DIVERGENCES
(below, each with its reason) where tessera still disagrees with GEOS on some cases prints KNOWN
with every disagreement and does not fail the run, unless --strict. Every expectation is computed by GEOS
on the same data; nothing is hard-coded. Deterministic for a given --seed (default 1).

Data
----
* 320 small seeded coverages (`coverage_gen.random_case(seed, k)`; --cases, --seed): Voronoi
  cells or lattices (plain: east-west edges, four grids at a vertex; or jittered), 4-40 grids
  over a few hundred metres to a few kilometres; a third with a grid given a hole (empty; filled
  by an island grid; with a smaller island; with an island touching it at a point; pinched
  against the grid's own shell at a vertex, empty or filled), a fifth with a MultiPolygon grid
  (parts apart, or touching at a point); 0-4 faults at once: a vertex shared by two grids, by
  three or more, or on the frame moved by a sub-metre distance, just under or just over the
  snapping distance S (2-10 %), or 1.5-25 m, in one grid's copy, some or all; triangular gaps
  with a corner on a vertex (two pinched at one vertex; touching the frame at one point);
  overlaps, narrow gaps, T-junctions, deleted and duplicated grids; bow-ties and spikes (invalid
  grids); empty geometries. A quarter are validated with `--boundary` (the frame, a perturbed
  frame, or a frame with a lake). Each comes with its S and gap width W.
* the 12 larger Voronoi coverages of earlier versions (50-3,000 cells, one or two faults).
* locate: a 1,500-cell coverage with 100,000 points, and 40 small valid coverages (lattices,
  holes, islands, MultiPolygons, gaps) with every vertex, edge midpoint and quarter point.
* the shipped demo district (geodata/zhangdian).

Metres: GEOS works on the data projected with `coverage_gen.LocalProjection` (equirectangular,
WGS84 radii at the centre of the layer's bounding box), the projection tessera's `LocalMetric`
takes for the same layer, so S, W, widths and areas mean the same on both sides.

Checks
------
validate  `tessera validate FILE --format json --gap-width-m W [--boundary B]` on every coverage,
  one line per aspect:
  report            keys present, `grids` == feature count, summary counts == list lengths,
                    exit status 0 iff `valid`, no duplicate_keys (codes are unique);
  valid             == no empty or invalid grid, no invalid edge (below), no gap, overlap or
                    part outside the boundary;
  empty_geometry    codes == the empty grids;
  invalid_geometry  codes == grids with `shapely.is_valid` false;
  invalid_edges     codes == grids with non-empty `coverage_invalid_edges(gap_width=0)`, with
                    one exception: where a polygon's rings pass a vertex twice (a hole pinched
                    against its shell), GEOS judges a neighbour's segment ending there by one
                    pair of that polygon's segments and may flag it (it also rejects its own
                    cleaner's output so); such a grid is set aside only if JTS's definition
                    (CoveragePolygonValidator: interiors disjoint, boundaries meeting only in
                    shared vertices and segments), checked with GEOS's exact predicates, holds
                    for it, and the count is printed. On the generated cases that check agrees
                    with GEOS's flag on every grid without such a vertex. Coverages with invalid
                    grids get a line of their own, comparing the grids whose envelopes meet no
                    invalid grid (next to a bow-tie or spike GEOS's validator has no contract);
  overlaps          pairs == pairs whose interiors intersect in 2-D, area_m2 within 1 %;
  gaps              one per GEOS gap: without a boundary each part of `difference(box, union)`
                    but the one reaching the box (every hole of `union_all` minus its islands,
                    and regions enclosed by parts touching at points), with one each part of
                    `difference(boundary, union)`; holes pinched at a vertex or touching the rim
                    at one point included; matched by geometry; area_m2 within 1 %;
  gap_width         width_m within 1 % or 0.05 m of 2 x the radius of
                    `maximum_inscribed_circle` (in metres), and `sliver` == width < W (either
                    way when the width is within that tolerance of W);
  neighbours        exactly the grids whose boundary shares a stretch of positive length with
                    the gap's boundary: a segment of one lies on the other (its 1/3 and 2/3
                    points within 1e-11 deg, ~1 um); a point contact is no neighbour (grids
                    within 1e-8 deg, ~1 mm, tessera's overlay rounding, may go either way);
  outside_boundary  (with --boundary) codes and area_m2 within 1 % of
                    `difference(grid, boundary)`.
  Floors: tessera does not report gaps narrower than 1 mm or any item under 1e-4 m2
  (ARCHITECTURE.md); GEOS items under half a floor must be absent, over twice a floor present,
  in between either. Union and overlay mean nothing for grids GEOS finds invalid, so for those
  coverages only report/valid/empty/invalid_geometry/invalid_edges are compared (others counted
  as skipped).
repair    `tessera repair FILE -o OUT --snap-m S --gap-width-m W --merge M`, one line per
  strategy M, on every coverage whose grids GEOS finds valid (CoverageCleaner requires valid
  input), against `shapely.coverage_clean(projected, snapping_distance=S, gap_width=W,
  merge_strategy=M)`, grid by grid (by code) in metres: area(tessera's grid sym-diff GEOS's) <=
  max(2e-4 m2, min(1e-6 x GEOS's area, 0.01 m2)) (agreeing grids differ by ~1e-12 of their area;
  the 2e-4 m2 floor covers tessera's documented merging of gaps under 1e-4 m2); a grid GEOS
  empties must be absent (and logged as removed) or empty; no unknown or repeated code; exit
  status 1 iff GEOS leaves a gap open. Grids that differ pass only if every disputed region is a
  choice GEOS's own rule allows in some processing order, or a tie (`explain_repair`; counted in
  the summary, listed in WORK/explained.txt). W is moved off any input gap width within
  3 % + 2 S of it. Then for longest-border: GEOS flags the same grids of OUT with
  `coverage_invalid_edges` as of its own result (pinch vertices set aside as above), and `tessera validate OUT` agrees with GEOS on
  OUT in every aspect above ("repair output").
locate    every point's grid must be exactly GEOS's owner: the grid whose interior holds the
  point, else (on an edge or vertex) among the grids touching it the one that contains the point
  moved east, (x + e, y), or, when that lies on an east-west edge, north-east, (x + e, y + n);
  if neither lies in a grid (the coverage's own edge), the lowest-index grid touching it; empty
  when no grid touches it. e = 2**-64 deg, n = 2**-94 deg, tested in a frame translated to the
  point (exact: Sterbenz), because vertices lie on a 2**-32 deg lattice, so no edge that misses
  the point comes within ~1e-19 deg > e of it; n / e = 2**-30 is below the slope of any edge
  through the point that is not east-west (>= 2**-28 within a 0.06 deg coverage), so the north
  step never crosses one; and the magnitudes stay within the 106-bit double-double arithmetic of
  GEOS's orientation test. `(x + e, y + e)` would be wrong: it crosses edges leaving the point
  between 0 and 45 degrees. The summary counts points decided inside, east, north-east and by
  the lowest index.
geodata   the demo district: every level (streets, communities, grids) a valid coverage for GEOS,
  union = boundary, children tile parents; and `tessera validate LEVEL --format json`, with and
  without `--boundary`, compared with GEOS in full as above (valid, every list empty, `grids`).

On a disagreement the work directory is kept (WORK/failures.txt lists every disagreement), and
for the first 5 per check a reduced coverage (the disputed grids grown by touching neighbours,
then grids dropped one by one while the disagreement stays) is written next to the case with a
.txt holding the command and both answers.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
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
    from shapely.geometry import shape
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
WIDTH_RTOL, WIDTH_ATOL = 0.01, 0.05  # 1 % or 5 cm
MIN_AREA_M2 = 1e-4  # tessera's reporting floors (ARCHITECTURE.md, coverage.rs)
MIN_GAP_WIDTH_M = 1e-3
NB_TOL_DEG = 1e-11  # ~1 um: a gap edge lying on a grid's boundary (GEOS's own rounding ~1e-15)
NB_MAYBE_DEG = 1e-8  # ~1 mm: tessera's documented overlay rounding; closer is either way
REPAIR_RTOL, REPAIR_CAP_M2, REPAIR_FLOOR_M2 = 1e-6, 0.01, 2e-4
MERGES = ("longest-border", "max-area", "min-area", "min-index")
REDUCE_PER_CHECK = 5  # reduced repros written per check line (the rest name the full case)
EAST, NORTH = 2.0**-64, 2.0**-94  # locate nudges, degrees (see the module doc)

# (name, cells, seed, faults): the larger coverages
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
LARGE_GAP_WIDTH_M, LARGE_SNAP_M = 10.0, 0.05
LOCATE_CELLS, LOCATE_SEED, LOCATE_POINTS = 1500, 201, 100_000
LOCATE_SMALL = 40

VALIDATE_ASPECTS = ("report", "valid", "empty_geometry", "invalid_geometry", "invalid_edges", "overlaps",
                    "gaps", "gap_width", "neighbours", "outside_boundary")


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
        if not isinstance(rep, dict):
            raise CheckFailed(f"validate output is not a JSON object: {out[:200]!r}")
        return rc, rep, dt


def _tail(s: str, n: int = 300) -> str:
    s = s.strip()
    return ("stderr: ..." + s[-n:]) if len(s) > n else (f"stderr: {s}" if s else "")


def _sorted_list(xs, n=6) -> str:
    xs = sorted(str(x) for x in xs)
    return "[" + ", ".join(xs[:n]) + (f", ... +{len(xs) - n}" if len(xs) > n else "") + "]"


def _obj(xs) -> np.ndarray:
    xs = list(xs)
    a = np.empty(len(xs), dtype=object)
    a[:] = xs
    return a


def _status(area_m2: float, width_m: float | None = None) -> str:
    """required / optional / forbidden, by tessera's reporting floors (see the module doc)."""
    w = float("inf") if width_m is None else width_m
    if area_m2 >= 2 * MIN_AREA_M2 and w >= 2 * MIN_GAP_WIDTH_M:
        return "required"
    if area_m2 < 0.5 * MIN_AREA_M2 or w < 0.5 * MIN_GAP_WIDTH_M:
        return "forbidden"
    return "optional"


def mic_width_m(poly_m) -> float:
    """2 x the radius of GEOS's maximum inscribed circle of a polygon in metres (to ~1e-4)."""
    a = float(shapely.area(poly_m))
    if a <= 0:
        return 0.0
    coarse = 2.0 * float(shapely.maximum_inscribed_circle(poly_m, tolerance=max(math.sqrt(a) * 1e-2, 1e-7)).length)
    tol = max(coarse * 1e-4, 1e-7)
    return 2.0 * float(shapely.maximum_inscribed_circle(poly_m, tolerance=tol).length)


def _segment_samples(geom_ll):
    """Points at 1/3 and 2/3 of every ring segment (lon/lat), and each segment's length."""
    rings = []
    for p in shapely.get_parts(geom_ll):
        rings.append(shapely.get_coordinates(p.exterior))
        rings += [shapely.get_coordinates(r) for r in p.interiors]
    if not rings:
        return np.empty((0, 2)), np.empty((0, 2)), np.empty((0, 2)), np.empty((0, 2))
    a = np.vstack([r[:-1] for r in rings])
    b = np.vstack([r[1:] for r in rings])
    return a + (b - a) / 3.0, a + 2.0 * (b - a) / 3.0, a, b


def shared_stretch(geom_ll, grid_ll, proj):
    """(definitely shares a stretch of boundary, possibly does): some segment of one boundary has
    its 1/3 and 2/3 points within NB_TOL_DEG (NB_MAYBE_DEG) of the other's boundary."""
    definite = possible = False
    for x, y in ((geom_ll, grid_ll), (grid_ll, geom_ll)):
        p1, p2, a, b = _segment_samples(x)
        if not len(a):
            continue
        lm = np.hypot((b[:, 0] - a[:, 0]) * proj.k_lon, (b[:, 1] - a[:, 1]) * proj.k_lat)
        bd = shapely.boundary(y)
        d1 = shapely.distance(bd, shapely.points(p1))
        d2 = shapely.distance(bd, shapely.points(p2))
        d = np.maximum(d1, d2)
        definite |= bool(np.any((d <= NB_TOL_DEG) & (lm >= 1e-4)))
        possible |= bool(np.any(d <= NB_MAYBE_DEG))
    return definite, possible or definite


# --------------------------------------------------------------------------------------------
# GEOS side

def _ring_coords(geom):
    """Every ring of a (Multi)Polygon as an (n, 2) array, closing position included."""
    return [np.asarray(r.coords)[:, :2] for p in shapely.get_parts(geom) for r in (p.exterior, *p.interiors)]


def pinch_vertices(geom) -> set:
    """Positions a polygon's rings pass more than once (a hole pinched against its shell or
    another hole, a ring touching itself): the vertices where JTS's validator judges a
    neighbour's segment by one pair of the polygon's segments only."""
    seen, twice = set(), set()
    for p in shapely.get_parts(geom):
        for r in (p.exterior, *p.interiors):
            for c in np.asarray(r.coords)[:-1, :2]:
                t = (float(c[0]), float(c[1]))
                (twice if t in seen else seen).add(t)
    return twice


def coverage_valid_by_definition(gk, others) -> bool:
    """JTS's definition of a coverage-valid polygon (CoveragePolygonValidator's class comment),
    checked pair by pair with GEOS's exact predicates: its interior meets no other polygon's
    interior, and where its boundary meets another's, vertices and segments match exactly (a
    vertex of one on the other's boundary is a vertex of both; a segment whose interior meets the
    other's boundary is a segment of both)."""
    rk = _ring_coords(gk)
    vk = {(float(x), float(y)) for r in rk for x, y in r}
    segs_k = [(tuple(map(float, a)), tuple(map(float, b))) for r in rk for a, b in zip(r[:-1], r[1:])]
    for gj in others:
        if not shapely.relate_pattern(gk, gj, "F********"):
            return False
        rj = _ring_coords(gj)
        bj = shapely.boundary(gj)
        vj = {(float(x), float(y)) for r in rj for x, y in r}
        sj = {frozenset(((float(a[0]), float(a[1])), (float(b[0]), float(b[1])))) for r in rj for a, b in zip(r[:-1], r[1:])}
        lone = [v for v in vk - vj]
        if lone and shapely.intersects(bj, shapely.points(lone)).any():
            return False
        loose = [s for s in segs_k if frozenset(s) not in sj]
        if loose and shapely.relate_pattern(shapely.linestrings([list(s) for s in loose]), bj, "T********").any():
            return False
    return True

# --------------------------------------------------------------------------------------------
class GeosView:
    """What shapely/GEOS says about a coverage (codes aligned with geoms), with an optional
    boundary polygon (lon/lat)."""

    def __init__(self, codes, geoms, proj: cg.LocalProjection | None = None, boundary=None,
                 gap_width_m: float = 0.0):
        self.codes = list(codes)
        self.geoms = _obj(g if g is not None else shapely.Polygon() for g in geoms)
        empty = shapely.is_empty(self.geoms)
        self.ne = np.nonzero(~empty)[0]
        g = self.geoms[self.ne]
        self.proj = proj or cg.LocalProjection.around(g)
        self.boundary = boundary
        self.W = gap_width_m
        self.pos = {c: i for i, c in enumerate(self.codes)}
        self.empty_codes = {self.codes[i] for i in np.nonzero(empty)[0]}
        valid = shapely.is_valid(g)
        self.invalid_codes = {self.codes[self.ne[k]] for k in np.nonzero(~valid)[0]}
        self.is_valid_geom = not self.invalid_codes
        self.topology = self.is_valid_geom  # union/overlay only mean something for valid grids
        edges = shapely.coverage_invalid_edges(g, gap_width=0.0)
        flagged = np.nonzero(~shapely.is_empty(edges))[0]
        self.geos_invalid_edge_codes = {self.codes[self.ne[k]] for k in flagged}
        self.tree = STRtree(g)
        # GEOS flags, next to a polygon whose rings pass a vertex twice, a neighbour's segment
        # ending at that vertex though JTS's own definition holds there (and rejects its own
        # cleaner's output for it). Such a flag is set aside only when the definition, checked
        # here with exact predicates, finds the grid coverage-valid: `explained_edge_codes`.
        pinches = set().union(*(pinch_vertices(x) for x in g)) if len(g) else set()
        self.explained_edge_codes = set()
        for k in flagged:
            if self.codes[self.ne[k]] in self.invalid_codes:
                continue
            ends = {(float(x), float(y)) for part in shapely.get_parts(edges[k]) for x, y in np.asarray(part.coords)[:, :2]}
            if not ends & pinches:
                continue
            near = [g[j] for j in self.tree.query(g[k], predicate="intersects") if j != k]
            if coverage_valid_by_definition(g[k], near):
                self.explained_edge_codes.add(self.codes[self.ne[k]])
        self.invalid_edge_codes = self.geos_invalid_edge_codes - self.explained_edge_codes
        self.coverage_valid = not self.invalid_edge_codes
        # Next to an invalid grid (bow-tie, spike) GEOS's validator has no contract: invalid
        # edges are compared only on the valid grids whose envelopes meet no invalid grid's.
        bad = [k for k in range(len(g)) if self.codes[self.ne[k]] in self.invalid_codes]
        near_bad = set()
        for k in bad:
            near_bad |= {self.codes[self.ne[j]] for j in self.tree.query(shapely.envelope(g[k]))}
        self.uncontracted_codes = near_bad
        self.overlaps, self.gaps, self.outside = {}, [], {}
        self.union_area = float("nan")
        if not self.topology:
            return
        # overlapping pairs: interiors intersect in 2-D
        left, right = self.tree.query(g, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        two_d = shapely.relate_pattern(g[left], g[right], "2********")
        for a, b in zip(left[two_d], right[two_d]):
            area = float(self.proj.area_m2(shapely.intersection(g[a], g[b])))
            self.overlaps[frozenset((self.codes[self.ne[a]], self.codes[self.ne[b]]))] = (area, _status(area))
        union = shapely.union_all(g)
        self.union = union
        self.union_area = float(self.proj.area_m2(union))
        if boundary is None:
            # Every bounded region the union leaves uncovered: its holes, and regions enclosed
            # by parts touching at points (not holes of any part). The complement within a
            # larger box, minus the component that reaches the box.
            x0, y0, x1, y1 = union.bounds
            m = max(x1 - x0, y1 - y0)
            box = shapely.box(x0 - m, y0 - m, x1 + m, y1 + m)
            polys = [p for p in shapely.get_parts(shapely.difference(box, union))
                     if not p.intersects(box.exterior)]
        else:
            polys = list(shapely.get_parts(shapely.difference(boundary, union)))
            for i, gg in zip(self.ne, g):
                area = float(self.proj.area_m2(shapely.difference(gg, boundary)))
                if area > 0:
                    self.outside[self.codes[i]] = (area, _status(area))
        for h in polys:
            if h.geom_type != "Polygon" or h.is_empty:
                continue
            area = float(self.proj.area_m2(h))
            width = mic_width_m(self.proj.project(h))
            self.gaps.append({"poly": h, "area": area, "width": width, "status": _status(area, width)})

    @property
    def has_gaps(self) -> bool:
        return any(x["status"] == "required" for x in self.gaps)

    def gap_neighbours(self, k: int):
        """(grids definitely sharing a stretch with gap k, grids that may)"""
        gap = self.gaps[k]
        if "nb" not in gap:
            definite, possible = set(), set()
            for i in self.tree.query(gap["poly"], predicate="dwithin", distance=NB_MAYBE_DEG):
                d, p = shared_stretch(gap["poly"], self.geoms[self.ne[i]], self.proj)
                c = self.codes[self.ne[i]]
                if d:
                    definite.add(c)
                if p:
                    possible.add(c)
            gap["nb"] = (definite, possible)
        return gap["nb"]

    def expected_valid(self):
        """(must be valid, may be valid)"""
        hard = bool(self.empty_codes or self.invalid_codes or not self.coverage_valid or self.invalid_edge_codes)
        req = any(s == "required" for _, s in self.overlaps.values()) or self.has_gaps or \
            any(s == "required" for _, s in self.outside.values())
        opt = any(s == "optional" for _, s in self.overlaps.values()) or \
            any(x["status"] == "optional" for x in self.gaps) or \
            any(s == "optional" for _, s in self.outside.values())
        must_not = hard or req
        return (not must_not and not opt), (not must_not)


def _codes_of(xs, key="grid"):
    return [x.get(key) for x in xs if isinstance(x, dict)]


def compare_validate(rep: dict, rc: int, gv: GeosView, n_features: int):
    """tessera validate report vs GEOS. Returns (problems, stats): problems are
    (aspect, message, codes involved); stats count what was compared."""
    probs = []
    stats = {a: 0 for a in VALIDATE_ASPECTS}
    worst = {"overlap": 0.0, "gap": 0.0, "width": 0.0, "outside": 0.0}

    def bad(aspect, msg, codes=()):
        probs.append((aspect, msg, set(codes)))

    lists = ("empty_geometry", "invalid_geometry", "overlaps", "gaps", "invalid_edges",
             "outside_boundary", "duplicate_keys")
    missing = [k for k in ("valid", "grids", "summary") + lists if k not in rep]
    wrong = [k for k in lists if k in rep and not isinstance(rep[k], list)]
    if missing or wrong:
        # nothing can be compared: every aspect fails
        for a in VALIDATE_ASPECTS:
            if a != "outside_boundary" or gv.boundary is not None:
                stats[a] = 1
                bad(a, f"unusable report: lacks {missing}" + (f", not lists: {wrong}" if wrong else ""))
        return probs, stats, worst

    # report: self-consistency and what needs no geometry
    stats["report"] = 1
    if rep["grids"] != n_features:
        bad("report", f"grids={rep['grids']}, file has {n_features} features")
    if rc != (0 if rep["valid"] is True else 1):
        bad("report", f"exit status {rc} with valid={rep['valid']}")
    summ = rep["summary"] if isinstance(rep["summary"], dict) else {}
    counts = {k: len(rep[k]) for k in lists}
    counts["invalid_geometry"] = len(set(_codes_of(rep["invalid_geometry"])))
    counts["slivers"] = sum(1 for g in rep["gaps"] if isinstance(g, dict) and g.get("sliver") is True)
    for k, v in counts.items():
        if summ.get(k) != v:
            bad("report", f"summary.{k}={summ.get(k)} but the report lists {v}")
    if rep["duplicate_keys"]:
        bad("report", f"duplicate_keys {rep['duplicate_keys'][:5]} but every code is unique")

    # valid
    stats["valid"] = 1
    must, may = gv.expected_valid()
    if (rep["valid"] is True and not may) or (rep["valid"] is not True and must):
        bad("valid", f"valid={rep['valid']} but GEOS: coverage valid={gv.coverage_valid}, "
                     f"{len(gv.invalid_codes)} invalid, {len(gv.empty_codes)} empty grids, "
                     f"{sum(1 for x in gv.gaps if x['status'] == 'required')} gaps, "
                     f"{sum(1 for _, s in gv.overlaps.values() if s == 'required')} overlaps, "
                     f"{sum(1 for _, s in gv.outside.values() if s == 'required')} parts outside")

    # sets of codes
    for aspect, t_set, g_set in (
            ("empty_geometry", set(_codes_of(rep["empty_geometry"])), gv.empty_codes),
            ("invalid_geometry", set(_codes_of(rep["invalid_geometry"])), gv.invalid_codes),
            ("invalid_edges", set(_codes_of(rep["invalid_edges"])) - gv.uncontracted_codes,
             gv.invalid_edge_codes - gv.uncontracted_codes)):
        stats[aspect] = 1
        if t_set != g_set:
            bad(aspect, f"{aspect} differ: tessera-only {_sorted_list(t_set - g_set)}, "
                        f"GEOS-only {_sorted_list(g_set - t_set)}", t_set ^ g_set)

    if not gv.topology:
        return probs, stats, worst

    # overlaps: same pairs, areas within 1 %
    stats["overlaps"] = 1
    t_ovl = {}
    for o in rep["overlaps"]:
        pair = frozenset(o.get("grids", []))
        t_ovl[pair] = t_ovl.get(pair, 0.0) + float(o.get("area_m2", float("nan")))
    for pair in sorted(set(t_ovl) | set(gv.overlaps), key=sorted):
        sa, st = gv.overlaps.get(pair, (0.0, "forbidden"))
        if pair not in t_ovl:
            if st == "required":
                bad("overlaps", f"overlap {_sorted_list(pair)} ({sa:.4f} m2) not reported", pair)
            continue
        ta = t_ovl[pair]
        if st == "forbidden":
            bad("overlaps", f"overlap {_sorted_list(pair)} of {ta:.4f} m2 reported; GEOS: {sa:.6f} m2", pair)
        elif not abs(ta - sa) <= max(AREA_RTOL * sa, AREA_ATOL):
            bad("overlaps", f"overlap {_sorted_list(pair)}: tessera {ta:.3f} m2, GEOS {sa:.3f} m2", pair)
        elif sa > AREA_ATOL:
            worst["overlap"] = max(worst["overlap"], abs(ta - sa) / sa)

    # gaps: matched by geometry
    stats["gaps"] = 1
    t_gaps = [g for g in rep["gaps"] if isinstance(g, dict)]
    pairs, t_un, g_un = _match_gaps(t_gaps, gv)
    for gi in t_un:
        g = t_gaps[gi]
        bad("gaps", f"tessera gap {gi} ({float(g.get('area_m2', -1)):.4f} m2, "
                    f"neighbours {_sorted_list(g.get('neighbours', []))}) matches no GEOS gap",
            g.get("neighbours", []))
    for k in g_un:
        x = gv.gaps[k]
        if x["status"] == "required":
            nb = gv.gap_neighbours(k)[0]
            rp = x["poly"].representative_point()
            bad("gaps", f"GEOS gap of {x['area']:.4f} m2, {x['width']:.3f} m wide at "
                        f"{rp.x!r},{rp.y!r} (neighbours {_sorted_list(nb)}) not reported", nb)
    for gi, k in pairs:
        g, x = t_gaps[gi], gv.gaps[k]
        ta, sa = float(g.get("area_m2", float("nan"))), x["area"]
        nb_def, nb_pos = gv.gap_neighbours(k)
        if x["status"] == "forbidden":
            bad("gaps", f"gap of {ta:.6f} m2 reported; GEOS: {sa:.6f} m2, {x['width'] * 1000:.3f} mm wide "
                        f"(under tessera's floor)", nb_pos)
            continue
        if not abs(ta - sa) <= max(AREA_RTOL * sa, AREA_ATOL):
            bad("gaps", f"gap {gi}: tessera {ta:.4f} m2, GEOS {sa:.4f} m2 ({100 * (ta - sa) / max(sa, 1e-30):+.2f} %)",
                nb_pos)
        elif sa > AREA_ATOL:
            worst["gap"] = max(worst["gap"], abs(ta - sa) / sa)
        # width and sliver
        stats["gap_width"] += 1
        tw, sw = g.get("width_m"), x["width"]
        wtol = max(WIDTH_RTOL * sw, WIDTH_ATOL)
        if not isinstance(tw, (int, float)) or not abs(tw - sw) <= wtol:
            bad("gap_width", f"gap {gi} ({sa:.3f} m2): width_m {tw} but GEOS 2 x MIC radius {sw:.4f} m", nb_pos)
        else:
            worst["width"] = max(worst["width"], abs(tw - sw))
        W = gv.W
        if abs(sw - W) > wtol and g.get("sliver") is not (sw < W):
            bad("gap_width", f"gap {gi}: sliver={g.get('sliver')} with --gap-width-m {W}, GEOS width {sw:.4f} m",
                nb_pos)
        # neighbours
        stats["neighbours"] += 1
        nb = set(g.get("neighbours", []))
        if not (nb_def <= nb <= nb_pos):
            bad("neighbours", f"gap {gi} ({sa:.3f} m2) neighbours {_sorted_list(nb)}; GEOS: sharing a stretch "
                              f"{_sorted_list(nb_def)}" + (f", within 1 mm {_sorted_list(nb_pos - nb_def)}"
                                                           if nb_pos - nb_def else "")
                              + f"; missing {_sorted_list(nb_def - nb)}, extra {_sorted_list(nb - nb_pos)}",
                nb ^ nb_def)

    # outside the boundary
    if gv.boundary is not None:
        stats["outside_boundary"] = 1
        t_out = {}
        for o in rep["outside_boundary"]:
            t_out[o.get("grid")] = t_out.get(o.get("grid"), 0.0) + float(o.get("area_m2", float("nan")))
        for c in sorted(set(t_out) | set(gv.outside), key=str):
            sa, st = gv.outside.get(c, (0.0, "forbidden"))
            if c not in t_out:
                if st == "required":
                    bad("outside_boundary", f"grid {c}: {sa:.4f} m2 outside the boundary not reported", [c])
                continue
            ta = t_out[c]
            if st == "forbidden":
                bad("outside_boundary", f"grid {c}: {ta:.6f} m2 outside reported; GEOS: {sa:.6f} m2", [c])
            elif not abs(ta - sa) <= max(AREA_RTOL * sa, AREA_ATOL):
                bad("outside_boundary", f"grid {c}: tessera {ta:.4f} m2 outside, GEOS {sa:.4f} m2", [c])
            elif sa > AREA_ATOL:
                worst["outside"] = max(worst["outside"], abs(ta - sa) / sa)
    elif rep["outside_boundary"]:
        bad("outside_boundary", f"{len(rep['outside_boundary'])} outside_boundary entries without --boundary")
    return probs, stats, worst


def _match_gaps(t_gaps, gv: GeosView):
    """Pairs (tessera gap index, GEOS gap index) by overlapping area (then by distance for
    slivers too thin to overlap measurably); returns (pairs, unmatched tessera, unmatched GEOS)."""
    scores = []
    geos = [x["poly"] for x in gv.gaps]
    gtree = STRtree(_obj(geos)) if geos else None
    for gi, g in enumerate(t_gaps):
        try:
            tg = shape(g["geometry"])
        except Exception:
            continue
        if gtree is None or tg.is_empty:
            continue
        rp = tg.representative_point() if tg.is_valid else tg.centroid
        for k in gtree.query(tg, predicate="dwithin", distance=NB_MAYBE_DEG):
            try:
                a = float(shapely.area(shapely.intersection(tg, geos[k])))
            except shapely.errors.GEOSException:
                a = 0.0
            d = float(shapely.distance(rp, geos[k]))
            if a > 0 or d <= NB_MAYBE_DEG:
                scores.append((a, -d, gi, int(k)))
    scores.sort(reverse=True)
    pairs, tu, gu = [], set(), set()
    for _, _, gi, k in scores:
        if gi in tu or k in gu:
            continue
        tu.add(gi)
        gu.add(k)
        pairs.append((gi, k))
    return pairs, [i for i in range(len(t_gaps)) if i not in tu], [k for k in range(len(gv.gaps)) if k not in gu]


# --------------------------------------------------------------------------------------------
# repair vs CoverageCleaner
# --------------------------------------------------------------------------------------------
def geos_clean(cov_geoms, proj, S, W, merge):
    return shapely.coverage_clean(proj.project(_obj(cov_geoms)), gap_width=W, snapping_distance=S,
                                  merge_strategy=merge.replace("-", "_"))


def well_posed_gap_width(gv: GeosView, W: float, S: float) -> float:
    """W, or the next larger of GAP_WIDTH_CHOICES, so that no input gap is within 3 % + 2 S of
    it (the cleaner's faces move by up to S when snapped; widths are measured in slightly
    different projections)."""
    widths = [x["width"] for x in gv.gaps]
    cands = [W] + [w for w in cg.GAP_WIDTH_CHOICES if w > W] + [W * 4 + 50.0]
    for w in cands:
        if w == 0 or all(abs(x - w) > 0.03 * w + 2 * S for x in widths):
            return w
    return cands[-1]


def compare_repair(codes_in, geoms_in, proj, S, W, merge, rc, out_path, err):
    """tessera's repaired layer vs CoverageCleaner, grid by grid. Returns (problems, worst
    relative sym-diff, GEOS's result, explained choices): grids that differ are accepted only
    when every region in dispute is a choice GEOS itself could have made in another processing
    order, or a tie (see explain_repair)."""
    probs = []
    res = geos_clean(geoms_in, proj, S, W, merge)
    try:
        codes, geoms, _ = cg.read_geojson(out_path)
    except Exception as e:
        return [(f"cannot read {out_path}: {e}", set())], 0.0, res, []
    if len(set(codes)) != len(codes):
        probs.append(("repeated codes in the output", set()))
    extra = set(codes) - set(codes_in)
    if extra:
        probs.append((f"unknown codes in the output: {_sorted_list(extra)}", extra))
    t_by = dict(zip(codes, proj.project(geoms)))
    worst = 0.0
    differ = []
    for c, g in zip(codes_in, res):
        t = t_by.get(c)
        if g is None or g.is_empty:
            if t is not None and not t.is_empty:
                differ.append((f"grid {c}: GEOS empties it, tessera keeps {t.area:.3f} m2", {c}))
            elif t is None and not shapely.is_empty(geoms_in[codes_in.index(c)]):
                if not any(c in ln and "removed" in ln for ln in err.splitlines()):
                    probs.append((f"grid {c} left out but not logged as removed", {c}))
            continue
        if t is None or t.is_empty:
            differ.append((f"grid {c}: missing from tessera's output, GEOS keeps {g.area:.3f} m2", {c}))
            continue
        try:
            d = float(shapely.area(shapely.symmetric_difference(t, g)))
        except shapely.errors.GEOSException as e:
            probs.append((f"grid {c}: cannot compare ({e})", {c}))
            continue
        tol = max(REPAIR_FLOOR_M2, min(REPAIR_RTOL * g.area, REPAIR_CAP_M2))
        if d > tol:
            differ.append((f"grid {c}: sym-diff with GEOS {d:.4f} m2 ({d / g.area:.2e} of its {g.area:.1f} m2; "
                           f"tessera {t.area:.3f} m2, GEOS {g.area:.3f} m2)", {c}))
        else:
            worst = max(worst, d / g.area)
    explained, near_w = [], False
    if differ:
        unexplained, explained, near_w = explain_repair(codes_in, proj.project(_obj(geoms_in)), res, t_by, S, W, merge)
        if unexplained:
            probs += differ + unexplained
    # exit status: 1 iff a gap is left open: a bounded region GEOS's result leaves uncovered (a
    # hole of its union, or a region enclosed by parts that touch at points)
    ne = _obj(x for x in res if x is not None and not x.is_empty)
    holes = []
    if len(ne):
        u = shapely.union_all(ne)
        faces = shapely.polygonize(shapely.get_parts(shapely.union_all(shapely.boundary(u))))
        enclosed = shapely.difference(shapely.union_all(shapely.get_parts(faces)), u)
        holes = [float(p.area) for p in shapely.get_parts(enclosed) if p.geom_type == "Polygon"]
    need = any(h >= 2 * MIN_AREA_M2 for h in holes)
    allow = any(h >= 0.5 * MIN_AREA_M2 for h in holes)
    if ((rc == 0 and need) or (rc == 1 and not allow)) and not near_w or rc not in (0, 1):
        probs.append((f"exit status {rc}; GEOS leaves {len(holes)} gaps open "
                      f"({_sorted_list(f'{h:.4f}' for h in holes)} m2)", set()))
    return probs, worst, res, explained


def _outside_samples(poly, delta=1e-5):
    """Points just outside every edge of a polygon (at 1/4, 1/2, 3/4 of each segment, delta
    metres out) and the length each stands for."""
    poly = shapely.orient_polygons(poly, exterior_cw=False)  # exterior CCW, holes CW: outside on the right
    pts, wts = [], []
    for ring in [poly.exterior] + list(poly.interiors):
        c = shapely.get_coordinates(ring)
        a, b = c[:-1], c[1:]
        d = b - a
        L = np.hypot(d[:, 0], d[:, 1])
        ok = L > 0
        a, d, L = a[ok], d[ok], L[ok]
        right = np.column_stack([d[:, 1], -d[:, 0]]) / L[:, None]
        for t in (0.25, 0.5, 0.75):
            pts.append(a + t * d + delta * right)
            wts.append(L / 3.0)
    if not pts:
        return np.empty((0, 2)), np.empty(0)
    return np.vstack(pts), np.concatenate(wts)


def _labels(arr, pts, single=False):
    """Index of the geometry containing each point (-1: none; with single=True also -1 where
    two or more do)."""
    lab = np.full(len(pts), -1, dtype=np.int64)
    if not len(pts):
        return lab
    tree = STRtree(arr)
    qi, gi = tree.query(shapely.points(pts), predicate="within")
    cnt = np.bincount(qi, minlength=len(pts))
    lab[qi] = gi
    if single:
        lab[cnt != 1] = -1
    return lab


def _border(pts, wts, lab, cands):
    return {o: float(wts[lab == o].sum()) for o in cands}


def explain_repair(codes, inp, res, t_by, S, W, merge):
    """Regions (split along the input grids' edges) where tessera and GEOS give area to
    different grids, each judged by what GEOS's own rule allows (all in metres, from GEOS
    geometry):
    * an overlap: CoverageCleaner merges overlaps one at a time in the order its polygonizer
      returns them, each by a border (area) that counts what was merged before. A side's choice
      o is GEOS-consistent when some order makes it: o's border (area) in that side's final
      result reaches every other candidate's least, i.e. what it held alone in the input (ties
      1e-6 m; areas 0.1 %, ellipsoid vs plane). min-index: the lowest index, nothing else;
    * a gap: merged after every overlap by its longest border with the grids as they then are,
      so each side's choice must be the longest border (within 1e-6 m) in its own result; one side
      filling it and the other not is accepted only for W > 0 and a width within 3 % of W;
    * otherwise, or when the check above fails for tessera but GEOS gives the region to tessera's
      grid when the same grids are listed in another order (reversed, six shuffles; its snapping
      keeps the first node it meets), accepted; anything else is a disagreement.
    Returns (unexplained problems, explained notes, a gap at the gap width was seen)."""
    n = len(codes)
    empty = shapely.Polygon()
    G = _obj(x if x is not None and not x.is_empty else empty for x in res)
    T = _obj(t_by.get(c) if t_by.get(c) is not None else empty for c in codes)
    I = _obj(x if x is not None else empty for x in inp)
    floor = REPAIR_FLOOR_M2
    regions = []  # (GEOS owner, tessera owner, polygon)
    tT = STRtree(T)
    for i in range(n):
        if G[i].is_empty:
            continue
        for j in tT.query(G[i], predicate="intersects"):
            if j != i:
                for p in shapely.get_parts(shapely.intersection(G[i], T[j])):
                    if p.geom_type == "Polygon" and p.area > floor:
                        regions.append((i, int(j), p))
    uG, uT = shapely.union_all(G), shapely.union_all(T)
    for i in range(n):
        for p in shapely.get_parts(shapely.difference(G[i], uT)):
            if p.geom_type == "Polygon" and p.area > floor:
                regions.append((i, -1, p))
        for p in shapely.get_parts(shapely.difference(T[i], uG)):
            if p.geom_type == "Polygon" and p.area > floor:
                regions.append((-1, i, p))
    tI = STRtree(I)
    unexplained, explained, near_w = [], [], False
    alt = []

    def alt_owners(rp):
        """Owners GEOS gives the point when the same grids are listed in other orders (reversed,
        six seeded shuffles): its snapping keeps the first node it meets and it merges in the
        order its polygonizer finds faces, so those orders are equally GEOS's. Not for
        min-index, where the order is the rule."""
        if merge == "min-index":
            return set()
        if not alt:
            perms = [np.arange(n)[::-1]] + [np.random.default_rng([7, k]).permutation(n) for k in range(6)]
            for perm in perms:
                r = shapely.coverage_clean(I[perm], gap_width=W, snapping_distance=S,
                                           merge_strategy=merge.replace("-", "_"))
                back = np.empty(n, dtype=object)
                back[perm] = r
                alt.append(_obj(x if x is not None else empty for x in back))
        return {int(k) for a in alt for k in range(n) if not a[k].is_empty and a[k].covers(rp)}

    for gi, ti, P in regions:
        near = [int(k) for k in tI.query(P, predicate="intersects")]
        lines = [P.boundary] + [shapely.intersection(shapely.boundary(I[k]), P) for k in near]
        pieces = [q for q in shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(lines))))
                  if q.area > floor / 4 and P.contains(q.point_on_surface())]
        for R in pieces or [P]:
            rp = R.point_on_surface()
            owners = [k for k in near if I[k].covers(rp)]
            who = (f"{R.area:.4f} m2 at {rp.x:.2f},{rp.y:.2f} m (input grids {[codes[k] for k in owners]}): "
                   f"GEOS gives it to {codes[gi] if gi >= 0 else 'none'}, tessera to {codes[ti] if ti >= 0 else 'none'}")
            involved = {codes[k] for k in owners} | {codes[x] for x in (gi, ti) if x >= 0}
            pts, wts = _outside_samples(R)
            if not owners:  # a gap
                if gi < 0 or ti < 0:
                    w = mic_width_m(R)
                    if W > 0 and abs(w - W) <= 0.03 * W:
                        near_w = True
                        explained.append(f"gap {who}: {w:.3f} m wide, at the gap width {W}")
                    else:
                        unexplained.append((f"gap {who}; {w:.3f} m wide, --gap-width-m {W}", involved))
                    continue
                # gaps are merged after every overlap, each by its border with the grids as
                # they then are: judge each side's choice against its own final grids
                cands = sorted({int(x) for x in np.r_[_labels(G, pts), _labels(T, pts)] if x >= 0})
                bg = _border(pts, wts, _labels(G, pts), cands)
                bt = _border(pts, wts, _labels(T, pts), cands)
                kind = "gap"
                detail = "borders " + ", ".join(f"{codes[o]} {bg[o]:.3f} (GEOS) {bt[o]:.3f} (tessera) m" for o in cands)
                ok_g = gi in bg and bg[gi] + 1e-6 >= max(bg.values())
                ok_t = ti in bt and bt[ti] + 1e-6 >= max(bt.values())
                if ok_g and ok_t:
                    explained.append(f"{kind} {who}: each the longest border of its own result ({detail})")
                elif ok_g and ti in alt_owners(rp):
                    explained.append(f"{kind} {who}: GEOS gives it to {codes[ti]} too when the grids are "
                                     f"listed in another order ({detail})")
                else:
                    unexplained.append((f"{kind} {who}: {'GEOS' if not ok_g else 'tessera'}'s choice is not the "
                                        f"longest border of its own result ({detail})", involved))
                continue
            else:
                if gi not in owners or ti not in owners:
                    unexplained.append((f"{who}: not to one of the grids covering it", involved))
                    continue
                kind = "overlap"
                if merge == "min-index":
                    ok_g, ok_t = gi == min(owners), ti == min(owners)
                    detail = "lowest index"
                elif merge == "longest-border":
                    single = _labels(I, pts, single=True)
                    lo = _border(pts, wts, single, owners)
                    lg, lt = _border(pts, wts, _labels(G, pts), owners), _border(pts, wts, _labels(T, pts), owners)
                    # GEOS's choice against GEOS's result, tessera's against tessera's
                    ok = lambda o, hi: hi[o] + 1e-6 >= max([lo[c] for c in owners if c != o] + [0.0])
                    ok_g, ok_t = ok(gi, lg), ok(ti, lt)
                    detail = "borders " + ", ".join(f"{codes[o]} {lo[o]:.3f}..{lg[o]:.3f} (GEOS) "
                                                    f"{lt[o]:.3f} (tessera) m" for o in owners)
                else:
                    others = {o: shapely.union_all(I[[c for c in near if c != o]]) for o in owners}
                    lo = {o: float(shapely.area(shapely.difference(I[o], others[o]))) for o in owners}
                    hg = {o: float(G[o].area) for o in owners}
                    ht = {o: float(T[o].area) for o in owners}
                    if merge == "max-area":
                        ok = lambda o, hi: hi[o] * 1.001 >= max([lo[c] for c in owners if c != o] + [0.0])
                    else:
                        ok = lambda o, hi: lo[o] * 0.999 <= min([hi[c] for c in owners if c != o] + [float("inf")])
                    ok_g, ok_t = ok(gi, hg), ok(ti, ht)
                    detail = "areas " + ", ".join(f"{codes[o]} {lo[o]:.1f}..{hg[o]:.1f} (GEOS) {ht[o]:.1f} (tessera) m2"
                                                  for o in owners)
            if ok_g and ok_t:
                explained.append(f"{kind} {who}: both GEOS-consistent ({detail})")
            elif ok_g and ti in alt_owners(rp):
                explained.append(f"{kind} {who}: GEOS gives it to {codes[ti]} too when the grids are "
                                 f"listed in another order ({detail})")
            else:
                unexplained.append((f"{kind} {who}: {'GEOS' if not ok_g else 'tessera'}'s choice is not "
                                    f"one GEOS's {merge} rule allows in any order ({detail})", involved))
    return unexplained, explained, near_w


# --------------------------------------------------------------------------------------------
# locate: GEOS's owner under the boundary rule
# --------------------------------------------------------------------------------------------
def expected_owners(geoms, pts, how=None) -> np.ndarray:
    """Index of the grid owning each point under tessera's rule (see the module doc), -1 none.
    `how` (a dict) counts the points decided inside a grid, by the east step, by the north-east
    step, and by the lowest index."""
    how = {} if how is None else how
    geoms = _obj(geoms)
    n = len(pts)
    out = np.full(n, -1, dtype=np.int64)
    ne = np.nonzero(~shapely.is_empty(geoms))[0]
    tree = STRtree(geoms[ne])
    P = shapely.points(pts)
    pi, gi = tree.query(P, predicate="within")  # strictly inside
    cnt = np.bincount(pi, minlength=n)
    if np.any(cnt > 1):
        raise CheckFailed(f"oracle: {int(np.sum(cnt > 1))} points inside two grids (overlapping data)")
    out[pi] = ne[gi]
    how["inside"] = how.get("inside", 0) + len(pi)
    rest = np.nonzero(cnt == 0)[0]
    if not len(rest):
        return out
    pi, gi = tree.query(P[rest], predicate="intersects")  # on a grid's boundary
    if not len(pi):
        return out
    pk, gk = rest[pi], ne[gi]
    cand = geoms[gk]
    coords, idx = shapely.get_coordinates(cand, return_index=True)
    coords = coords - pts[pk][idx]  # exact (Sterbenz): the grids as seen from the point
    moved = shapely.set_coordinates(cand.copy(), coords)
    east = shapely.contains_xy(moved, EAST, 0.0)
    north_east = shapely.contains_xy(moved, EAST, NORTH)
    order = np.lexsort((gk, pk))
    pk, gk, east, north_east = pk[order], gk[order], east[order], north_east[order]
    starts = np.r_[0, np.nonzero(np.diff(pk))[0] + 1, len(pk)]
    for s, e in zip(starts[:-1], starts[1:]):
        p = pk[s]
        g, e1, e2 = gk[s:e], east[s:e], north_east[s:e]
        if e1.sum() > 1 or e2.sum() > 1:
            raise CheckFailed(f"oracle: nudged point {pts[p].tolist()} inside two grids")
        if e1.sum() == 1:
            if e2.sum() != 1 or g[e2][0] != g[e1][0]:
                raise CheckFailed(f"oracle: north step too large at {pts[p].tolist()}")
            out[p] = g[e1][0]
            how["east"] = how.get("east", 0) + 1
        elif e2.sum() == 1:
            out[p] = g[e2][0]
            how["north-east"] = how.get("north-east", 0) + 1
        else:
            out[p] = g.min()  # the coverage's own edge: the lowest-index grid touching it
            how["lowest index"] = how.get("lowest index", 0) + 1
    return out


def all_boundary_points(geoms) -> np.ndarray:
    """Every vertex, exact edge midpoint and quarter point of every ring (deduplicated)."""
    pts = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        for p in shapely.get_parts(g):
            for r in [p.exterior] + list(p.interiors):
                c = shapely.get_coordinates(r)
                a, b = c[:-1], c[1:]
                m = (a + b) / 2.0
                pts += [a, m, (a + m) / 2.0, (m + b) / 2.0]
    return np.unique(np.vstack(pts), axis=0)


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------
class Tally:
    """Cases compared and disagreements for one summary line."""

    def __init__(self):
        self.cases = 0
        self.items = 0
        self.skipped = 0
        self.fails = []  # (case, message, repro)
        self.worst = 0.0
        self.seconds = 0.0
        self.explained = 0  # repair: disputed regions where both choices are GEOS-consistent
        self.set_aside = 0  # grids GEOS flags at a pinch vertex though JTS's definition holds
        self.uncompared = 0  # grids next to an invalid grid, where GEOS's validator has no contract


# Checks where tessera is known to disagree with GEOS on some generated cases, each for a stated
# reason; they run and print every disagreement (as KNOWN) but do not fail the run. `--strict`
# makes them fail. Remove a check from here once tessera agrees.
KNOWN_DIVERGENCES: dict[str, str] = {}


class Oracle:
    def __init__(self, tessera: Tessera, work: Path, seed: int, n_cases: int):
        self.t = tessera
        self.work = work
        self.seed = seed
        self.n_cases = n_cases
        self.results = []  # (ok, line)
        self.strict = False
        self.tallies = {}
        self.reduce_budget = 60.0  # seconds spent shrinking repros, over the whole run

    def tally(self, name) -> Tally:
        return self.tallies.setdefault(name, Tally())

    def emit(self, ok: bool, name: str, msg: str, details=(), dt=None):
        known = not ok and not self.strict and name in KNOWN_DIVERGENCES
        word = "PASS" if ok else ("KNOWN" if known else "FAIL")
        line = f"{word} {name}: {msg}" + (f" [{dt:.2f} s]" if dt is not None else "")
        if known:
            line += f" (known divergence: {KNOWN_DIVERGENCES[name]})"
            ok = True
        print(line, flush=True)
        for d in list(details)[:8]:
            print(f"    {d}", flush=True)
        if len(details) > 8:
            print(f"    ... and {len(details) - 8} more (all in {self.work / 'failures.txt'})", flush=True)
        if not ok:
            with open(self.work / "failures.txt", "a") as f:
                f.write(line + "\n" + "".join(f"    {d}\n" for d in details))
        self.results.append((ok, line))

    def record(self, name: str, fn):
        t0 = time.perf_counter()
        try:
            ok, msg = fn()
        except CheckFailed as e:
            ok, msg = False, str(e)
        except Exception as e:  # a bug in a check must not pass silently
            import traceback
            traceback.print_exc()
            ok, msg = False, f"{type(e).__name__}: {e}"
        self.emit(ok, name, msg, dt=time.perf_counter() - t0)

    # -- cases ---------------------------------------------------------------------------------
    def small_cases(self):
        for k in range(self.n_cases):
            c = cg.random_case(self.seed, k)
            path = cg.write_geojson(c.cov, self.work / f"{c.name}.geojson")
            bpath = None
            if c.boundary is not None:
                bpath = cg.write_geojson([c.boundary], self.work / f"{c.name}.boundary.geojson", ["boundary"])
            yield c.name, c.cov.codes, c.cov.geoms, path, bpath, c.boundary, c.snap_m, c.gap_width_m

    def large_cases(self):
        for name, n, seed, faults in VALIDATE_CASES:
            cov = cg.make_case(n, seed, faults)
            path = cg.write_geojson(cov, self.work / f"{name}-{n}.geojson")
            yield f"{name}-{n}", cov.codes, cov.geoms, path, None, None, LARGE_SNAP_M, LARGE_GAP_WIDTH_M

    # -- validate ------------------------------------------------------------------------------
    def validate_one(self, name, codes, geoms, path, bpath, boundary, W, gv=None, label="validate"):
        """Run tessera validate on one coverage and tally every aspect; returns the GeosView."""
        t0 = time.perf_counter()
        gv = gv or GeosView(codes, geoms, boundary=boundary, gap_width_m=W)
        extra = ["--gap-width-m", W] + (["--boundary", bpath] if bpath else [])
        try:
            rc, rep, _ = self.t.validate_json(path, *extra)
            probs, stats, worst = compare_validate(rep, rc, gv, len(codes))
        except CheckFailed as e:
            probs, stats, worst = [(a, str(e), set()) for a in VALIDATE_ASPECTS], {a: 1 for a in VALIDATE_ASPECTS}, {}
        dt = time.perf_counter() - t0
        by_aspect = {}
        for aspect, msg, cs in probs:
            by_aspect.setdefault(aspect, []).append((msg, cs))
        for aspect in VALIDATE_ASPECTS:
            # invalid grids get a line of their own: GEOS's validator has no contract for them
            tl = self.tally(f"{label} {aspect}" + (" (invalid grids)" if aspect == "invalid_edges"
                                                   and not gv.is_valid_geom else ""))
            tl.seconds += dt / len(VALIDATE_ASPECTS)
            if stats.get(aspect):
                tl.cases += 1
                tl.items += stats[aspect]
                if aspect in ("valid", "invalid_edges"):
                    tl.set_aside += len(gv.explained_edge_codes)
                if aspect == "invalid_edges":
                    tl.uncompared += len(gv.uncontracted_codes)
            elif not gv.topology and aspect in ("overlaps", "gaps", "gap_width", "neighbours", "outside_boundary"):
                tl.skipped += 1
            if aspect in by_aspect:
                msgs = by_aspect[aspect]
                disputed = set().union(*(cs for _, cs in msgs))
                repro = (self.reduce_validate(name, codes, geoms, boundary, W, aspect, disputed)
                         if len(tl.fails) < REDUCE_PER_CHECK else None)
                cmd = f"tessera validate {path} --format json --gap-width-m {W}" + (f" --boundary {bpath}" if bpath else "")
                tl.fails.append((name, "; ".join(m for m, _ in msgs[:3]) + (f" (+{len(msgs) - 3})" if len(msgs) > 3 else ""),
                                 repro or cmd))
        for key, tl_name in (("gap", "gaps"), ("overlap", "overlaps"), ("width", "gap_width"), ("outside", "outside_boundary")):
            if key in worst:
                t = self.tally(f"{label} {tl_name}")
                t.worst = max(t.worst, worst[key])
        return gv

    def minimize(self, geoms, disputed_idx, fails):
        """Indices of a small sub-coverage on which `fails(indices)` still holds: the disputed
        grids grown by rings of touching grids until it fails, then grids dropped one at a time
        while it keeps failing (a bounded number of tries). None if nothing smaller fails."""
        arr = _obj(g if g is not None else shapely.Polygon() for g in geoms)
        tree = STRtree(arr)
        sel = set(disputed_idx)
        found = None
        for _ in range(3):
            if not sel:
                return None
            grow = set(sel)
            for i in sel:
                if not arr[i].is_empty:
                    grow |= {int(j) for j in tree.query(arr[i], predicate="intersects")}
            sel = grow
            if len(sel) >= len(arr):
                return None
            if fails(sorted(sel)):
                found = sorted(sel)
                break
        if found is None:
            return None
        budget = 3 * len(found) + 10
        changed = True
        while changed and len(found) > 1 and budget > 0 and self.reduce_budget > 0:
            changed = False
            for i in list(found):
                if budget <= 0 or self.reduce_budget <= 0:
                    break
                trial = [j for j in found if j != i]
                t0 = time.perf_counter()
                ok = fails(trial)
                budget -= 1
                self.reduce_budget -= time.perf_counter() - t0
                if ok:
                    found = trial
                    changed = True
        return found

    def reduce_validate(self, name, codes, geoms, boundary, W, aspect, disputed) -> str | None:
        """A small coverage (same boundary and --gap-width-m) on which tessera and GEOS still
        disagree on `aspect`: written as NAME.min-N.geojson with a .txt holding the command and
        both answers. Returns the .txt's path."""
        try:
            pos = {c: i for i, c in enumerate(codes)}
            arr = _obj(g if g is not None else shapely.Polygon() for g in geoms)
            base = self.work / f"{name}.{aspect}.min"
            bpath = cg.write_geojson([boundary], f"{base}.boundary.geojson", ["boundary"]) if boundary is not None else None
            last = {}

            def fails(sel):
                sc, sg = [codes[i] for i in sel], [arr[i] for i in sel]
                path = cg.write_geojson(sg, f"{base}.geojson", sc)
                extra = ["--gap-width-m", W] + (["--boundary", bpath] if bpath else [])
                gv2 = GeosView(sc, sg, boundary=boundary, gap_width_m=W)
                rc2, rep2, _ = self.t.validate_json(path, *extra)
                probs2, _, _ = compare_validate(rep2, rc2, gv2, len(sc))
                mine = [m for a, m, _ in probs2 if a == aspect]
                if mine:
                    last.update(sel=sel, msgs=mine, rep=rep2, cmd=f"tessera validate {path} --format json "
                                + " ".join(str(x) for x in extra))
                return bool(mine)

            found = self.minimize(geoms, [pos[c] for c in disputed if c in pos], fails)
            if found is None or not fails(found):
                return None
            final = self.work / f"{name}.{aspect}.min-{len(found)}.geojson"
            Path(f"{base}.geojson").rename(final)
            cmd = last["cmd"].replace(f"{base}.geojson", str(final))
            txt = final.with_suffix(".txt")
            txt.write_text(cmd + "\n" + "\n".join(last["msgs"]) + "\n")
            return str(txt)
        except Exception as e:
            return f"(no reduced copy: {type(e).__name__}: {e})"


    # -- repair --------------------------------------------------------------------------------
    def repair_one(self, name, codes, geoms, path, gv: GeosView, S, W):
        if not gv.is_valid_geom:
            for m in MERGES:
                self.tally(f"repair {m}").skipped += 1
            return
        W = well_posed_gap_width(gv, W, S)
        proj = gv.proj
        for merge in MERGES:
            tl = self.tally(f"repair {merge}")
            t0 = time.perf_counter()
            out = self.work / f"{name}.{merge}.repaired.geojson"
            if out.exists():
                out.unlink()
            cmd = ["repair", path, "-o", out, "--snap-m", S, "--gap-width-m", W, "--merge", merge]
            rc, _, err, _ = self.t.run(*cmd)
            tl.cases += 1
            tl.items += len(codes)
            if not out.exists():
                tl.fails.append((name, f"repair exited {rc} without output {_tail(err)}",
                                 "tessera " + " ".join(str(x) for x in cmd)))
                tl.seconds += time.perf_counter() - t0
                continue
            probs, worst, res, explained = compare_repair(list(codes), list(geoms), proj, S, W, merge, rc, out, err)
            tl.explained += len(explained)
            if explained:
                with open(self.work / "explained.txt", "a") as f:
                    f.write("".join(f"{name} {merge}: {e}\n" for e in explained))
            if probs:
                repro = (self.reduce_repair(name, codes, geoms, S, W, merge, set().union(*(c for _, c in probs)))
                         if len(tl.fails) < REDUCE_PER_CHECK else None)
                tl.fails.append((name, "; ".join(m for m, _ in probs[:3]) + (f" (+{len(probs) - 3})" if len(probs) > 3 else ""),
                                 repro or "tessera " + " ".join(str(x) for x in cmd)))
            else:
                tl.worst = max(tl.worst, worst)  # over agreeing coverages: the noise level
                if merge == "longest-border":
                    self.repaired_output(name, out, codes, res)
            tl.seconds += time.perf_counter() - t0

    def repaired_output(self, name, out, codes_in, res):
        """tessera's repaired layer is as valid a coverage for GEOS as GEOS's own cleaned
        result `res` (same grids flagged by coverage_invalid_edges: none, except where GEOS's
        validator rejects its own cleaner's output), and tessera validate agrees with GEOS on it."""
        tl = self.tally("repair output")
        t0 = time.perf_counter()
        codes, geoms, _ = cg.read_geojson(out)
        tl.cases += 1
        tl.items += len(codes)
        gv = GeosView(codes, geoms)
        keep = [i for i, g in enumerate(res) if g is not None and not g.is_empty]
        gv_res = GeosView([codes_in[i] for i in keep], [res[i] for i in keep])
        geos_flags = gv_res.invalid_edge_codes
        # grids set aside on either side: tessera's output, and GEOS's own cleaned result
        tl.set_aside += len(gv.explained_edge_codes) + len(gv_res.explained_edge_codes)
        probs = []
        if not gv.is_valid_geom:
            probs.append(f"invalid polygons for GEOS: {_sorted_list(gv.invalid_codes)}")
        if gv.invalid_edge_codes != geos_flags:
            probs.append(f"GEOS finds invalid edges in {_sorted_list(gv.invalid_edge_codes)} of tessera's output, "
                         f"in {_sorted_list(geos_flags)} of its own cleaned result")
        rc, rep, _ = self.t.validate_json(out)
        p2, _, _ = compare_validate(rep, rc, gv, len(codes))
        probs += [f"validate OUT: {a}: {m}" for a, m, _ in p2]
        if probs:
            tl.fails.append((name, "; ".join(probs[:3]), str(out)))
        tl.seconds += time.perf_counter() - t0

    def reduce_repair(self, name, codes, geoms, S, W, merge, disputed) -> str | None:
        """A small coverage on which tessera repair and CoverageCleaner still disagree, with a
        .txt holding both commands and the differences. Returns the .txt's path."""
        try:
            pos = {c: i for i, c in enumerate(codes)}
            arr = _obj(geoms)
            base = self.work / f"{name}.{merge}.min"
            last = {}

            def fails(sel):
                sc, sg = [codes[i] for i in sel], [arr[i] for i in sel]
                path = cg.write_geojson(sg, f"{base}.geojson", sc)
                out = Path(f"{base}.out.geojson")
                cmd = ["repair", path, "-o", out, "--snap-m", S, "--gap-width-m", W, "--merge", merge]
                rc, _, err, _ = self.t.run(*cmd)
                if not out.exists():
                    return False
                proj = cg.LocalProjection.around(_obj(g for g in sg if not g.is_empty))
                probs, _, _, _ = compare_repair(sc, sg, proj, S, W, merge, rc, out, err)
                out.unlink()
                if probs:
                    last.update(msgs=[m for m, _ in probs], err=err, rc=rc)
                return bool(probs)

            found = self.minimize(geoms, [pos[c] for c in disputed if c in pos], fails)
            if found is None or not fails(found):
                return None
            final = self.work / f"{name}.{merge}.min-{len(found)}.geojson"
            Path(f"{base}.geojson").rename(final)
            txt = final.with_suffix(".txt")
            txt.write_text(
                f"tessera repair {final} -o OUT --snap-m {S} --gap-width-m {W} --merge {merge}   (exit {last['rc']})\n"
                f"GEOS: p = coverage_gen.LocalProjection.around(grids); shapely.coverage_clean(p.project(grids), "
                f"gap_width={W}, snapping_distance={S}, merge_strategy='{merge.replace('-', '_')}')\n"
                "compared grid by grid in metres (p.project(OUT) vs GEOS):\n" + "\n".join(last["msgs"]) + "\n"
                "tessera's log:\n" + last["err"])
            return str(txt)
        except Exception as e:
            return f"(no reduced copy: {type(e).__name__}: {e})"


    # -- the case loop -------------------------------------------------------------------------
    def run_cases(self, groups):
        t0 = time.perf_counter()
        n_small = n_large = 0
        for which, gen in (("small", self.small_cases()), ("large", self.large_cases())):
            for name, codes, geoms, path, bpath, boundary, S, W in gen:
                if which == "small":
                    n_small += 1
                else:
                    n_large += 1
                gv = None
                if "validate" in groups:
                    gv = self.validate_one(name, codes, geoms, path, bpath, boundary, W)
                if "repair" in groups:
                    if gv is None or gv.boundary is not None:
                        gv = GeosView(codes, geoms, gap_width_m=W)
                    self.repair_one(name, codes, geoms, path, gv, S, W)
        self.case_counts = (n_small, n_large)
        return time.perf_counter() - t0

    def report_tallies(self, prefix, what):
        order = [f"validate {a}" for a in VALIDATE_ASPECTS]
        order.insert(order.index("validate invalid_edges") + 1, "validate invalid_edges (invalid grids)")
        order += [f"repair {m}" for m in MERGES] + ["repair output"]
        names = sorted(self.tallies, key=lambda x: order.index(x) if x in order else len(order))
        for name in names:
            tl = self.tallies[name]
            if not name.startswith(prefix):
                continue
            ok = not tl.fails and (tl.cases > 0 or name.endswith("(invalid grids)"))
            extra = []
            if tl.skipped:
                extra.append(f"{tl.skipped} skipped (invalid grids)")
            if tl.explained:
                extra.append(f"{tl.explained} disputed faces given differently but both as GEOS's rule allows "
                             f"in some merge order")
            if tl.set_aside:
                extra.append(f"{tl.set_aside} grids GEOS flags at a pinch vertex set aside: "
                             f"JTS's definition holds for them")
            if tl.uncompared:
                extra.append(f"{tl.uncompared} grids at or next to an invalid grid not compared")
            aspect = name.split(" ")[1]
            if aspect in ("overlaps", "gaps", "outside_boundary") and tl.worst:
                extra.append(f"max area diff {100 * tl.worst:.3f} %")
            if aspect == "gap_width" and tl.worst:
                extra.append(f"max width diff {tl.worst:.4f} m")
            if name.startswith("repair ") and aspect != "output":
                extra.append(f"max sym-diff {tl.worst:.1e} of a grid's area")
            unit = {"gap_width": "gaps", "neighbours": "gaps"}.get(aspect, what)
            items = f", {tl.items} {unit}" if aspect in ("gap_width", "neighbours") or name.startswith("repair") else ""
            msg = (f"{tl.cases - len({c for c, _, _ in tl.fails})}/{tl.cases} coverages agree{items}"
                   + (f" ({'; '.join(extra)})" if extra else ""))
            details = [f"{c}: {m} -- repro: {r}" for c, m, r in tl.fails]
            self.emit(ok, name, msg, details, dt=tl.seconds)

    # -- locate --------------------------------------------------------------------------------
    def locate_file(self, codes, geoms, path, pts, tag, how=None):
        pcsv = cg.write_points_csv(pts, self.work / f"{tag}-points.csv")
        rc, out, err, dt = self.t.run("locate", path, "--points", pcsv)
        if rc != 0:
            raise CheckFailed(f"{tag}: locate exited {rc}: {_tail(err)}")
        rows = list(csv.reader(io.StringIO(out)))
        if not rows or [c.strip() for c in rows[0]] != ["lon", "lat", "grid"]:
            raise CheckFailed(f"{tag}: bad header {rows[0] if rows else None!r}")
        rows = rows[1:]
        if len(rows) != len(pts):
            raise CheckFailed(f"{tag}: {len(rows)} output rows for {len(pts)} points")
        exp = expected_owners(geoms, pts, how)
        bad = []
        for k, row in enumerate(rows):
            if len(row) != 3:
                bad.append((k, f"row {row!r}"))
                continue
            lon, lat, code = row
            if float(lon) != pts[k, 0] or float(lat) != pts[k, 1]:
                bad.append((k, f"row {k} echoes {lon},{lat}, input {float(pts[k, 0])!r},{float(pts[k, 1])!r}"))
                continue
            want = codes[exp[k]] if exp[k] >= 0 else ""
            if code.strip() != want:
                bad.append((k, f"{float(pts[k, 0])!r},{float(pts[k, 1])!r}: tessera '{code.strip()}', GEOS '{want}'"))
        if bad:
            repro = self.work / f"{tag}-disagreements.csv"
            cg.write_points_csv(pts[[k for k, _ in bad]], repro)
            raise CheckFailed(f"{tag}: {len(bad)} of {len(pts)} points disagree (e.g. {bad[0][1]}); "
                              f"repro: tessera locate {path} --points {repro}")
        return exp, dt

    def check_locate(self):
        n, seed, npts = LOCATE_CELLS, LOCATE_SEED, LOCATE_POINTS
        cov = cg.voronoi_coverage(n, seed)
        path = cg.write_geojson(cov, self.work / f"locate-{n}.geojson")
        nb = npts // 20
        pts = np.vstack([cg.random_points(npts - nb, seed, cov.rect), cg.boundary_points(cov, nb, seed)])
        pts = pts[np.random.default_rng([seed, 5]).permutation(len(pts))]
        how = {}
        exp, dt = self.locate_file(cov.codes, cov.geoms, path, pts, f"locate-{n}", how)
        return True, (f"{len(pts)} points on {n} cells, every owner as GEOS's: {_how(how, exp)}; tessera {dt:.2f} s")

    def check_locate_ties(self):
        """Small valid coverages; every vertex, midpoint, quarter point, plus random points."""
        total = on_bd = 0
        how = {}
        for k in range(LOCATE_SMALL):
            rng = np.random.default_rng([self.seed, 0x10CA7E, k])
            bbox = cg.small_bbox(rng)
            kind = k % 4
            if kind == 0:
                cov = cg.lattice_coverage(int(rng.integers(2, 6)), int(rng.integers(2, 6)), bbox, k)
            elif kind == 1:
                cov = cg.lattice_coverage(int(rng.integers(2, 6)), int(rng.integers(2, 6)), bbox, k, jitter=0.25)
            else:
                cov = cg.voronoi_coverage(int(rng.integers(5, 30)), k, bbox)
            for _ in range(int(rng.integers(0, 3))):
                mode = cg.HOLE_MODES[int(rng.integers(len(cg.HOLE_MODES)))]
                cov, _ = cg._try(cg.add_hole, cov, rng, mode=mode)
            if rng.random() < 0.4:
                cov, _ = cg._try(cg.merge_parts, cov, rng, touching=kind == 0)
            if rng.random() < 0.4:
                cov, _ = cg._try(cg.delete_cell, cov, rng)
            if rng.random() < 0.4:
                cov, _ = cg._try(cg.carve_apex_gap, cov, rng, where=("frame", "interior")[k % 2], depth_m=3.0,
                                 pair=k % 3 == 0)
            arr = cov.array
            if not np.all(shapely.is_valid(arr)) or GeosView(cov.codes, arr).overlaps:
                raise CheckFailed(f"oracle: locate coverage {k} has invalid or overlapping grids")
            path = cg.write_geojson(cov, self.work / f"ties-{k:02d}.geojson")
            bp = all_boundary_points(cov.geoms)
            x0, y0, x1, y1 = cov.rect
            rp = np.column_stack([rng.uniform(x0 - 0.001, x1 + 0.001, 200), rng.uniform(y0 - 0.001, y1 + 0.001, 200)])
            pts = np.vstack([bp, rp])
            exp, _ = self.locate_file(cov.codes, cov.geoms, path, pts, f"ties-{k:02d}", how)
            total += len(pts)
            on_bd += len(bp)
        return True, (f"{LOCATE_SMALL} coverages (lattices, holes, islands, MultiPolygons, gaps), {total} points "
                      f"({on_bd} vertices, midpoints and quarter points of every ring), every owner as GEOS's: "
                      f"{_how(how, None)}")


def _how(how, exp) -> str:
    parts = [f"{how.get(k, 0)} {k}" for k in ("inside", "east", "north-east", "lowest index")]
    return ", ".join(parts) + (f", {int(np.sum(exp < 0))} in no grid" if exp is not None else "")


def check_geodata(o: Oracle, root: Path):
    """The shipped demo district: every level is a valid coverage for GEOS, the grids' union is
    the boundary, each child level tiles its parent, and tessera's whole report agrees with GEOS,
    with and without the boundary."""
    d = root / "geodata" / "zhangdian"
    layers = {}
    for name in ("streets", "communities", "grids"):
        codes, geoms, props = cg.read_geojson(d / f"{name}.geojson")
        layers[name] = (codes, np.asarray(geoms, dtype=object), props)
        if not shapely.coverage_is_valid(layers[name][1]):
            bad = np.nonzero(~shapely.is_empty(shapely.coverage_invalid_edges(layers[name][1])))[0]
            raise CheckFailed(f"{name}: GEOS finds invalid edges in {len(bad)} polygons")
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
    # tessera's whole report vs GEOS
    probs = []
    for name in ("streets", "communities", "grids"):
        codes, geoms, _ = layers[name]
        for b in (boundary, None):
            gv = GeosView(codes, geoms, boundary=b)
            extra = ["--boundary", d / "boundary.geojson"] if b is not None else []
            rc, rep, _ = o.t.validate_json(d / f"{name}.geojson", *extra)
            p, _, _ = compare_validate(rep, rc, gv, len(codes))
            if rep.get("valid") is not True or rc != 0:
                p.append(("valid", f"valid={rep.get('valid')}, exit {rc}; GEOS: a valid coverage", set()))
            for k in ("empty_geometry", "invalid_geometry", "overlaps", "gaps", "invalid_edges",
                      "outside_boundary", "duplicate_keys"):
                if rep.get(k) != []:
                    p.append(("report", f"{k} is {json.dumps(rep.get(k))[:120]}, GEOS finds none", set()))
            seen = set()
            for a, m, _ in p:
                if m not in seen:  # an unusable report fails every aspect with one message
                    seen.add(m)
                    probs.append(f"{name}{' --boundary' if b is not None else ''}: {a}: {m}")
    if probs:
        raise CheckFailed("; ".join(probs[:6]) + (f" (+{len(probs) - 6})" if len(probs) > 6 else ""))
    n = {k: len(v[0]) for k, v in layers.items()}
    return True, (f"geodata/zhangdian: {n['streets']} streets, {n['communities']} communities, {n['grids']} grids "
                  f"valid for GEOS, nested, union = boundary; tessera's reports (with and without --boundary) "
                  f"agree in full: valid, every list empty, grids counted")


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
    ap.add_argument("--seed", type=int, default=1, help="seed of the small coverages and locate ties")
    ap.add_argument("--cases", type=int, default=320, help="number of small coverages")
    ap.add_argument("--strict", action="store_true",
                    help="fail on the known divergences too (see KNOWN_DIVERGENCES)")
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
          f"tessera {binary}, work {work}, seed {args.seed}, {args.cases} small coverages", flush=True)

    o = Oracle(Tessera(binary), work, args.seed, args.cases)
    o.strict = args.strict
    groups = args.only or ["validate", "repair", "locate", "geodata"]
    if "validate" in groups or "repair" in groups:
        try:
            dt = o.run_cases(groups)
            n_small, n_large = o.case_counts
            print(f"oracle: {n_small} small + {n_large} larger coverages checked in {dt:.1f} s", flush=True)
            o.report_tallies("validate ", "coverages")
            o.report_tallies("repair ", "grids")
        except Exception as e:
            import traceback
            traceback.print_exc()
            o.emit(False, "cases", f"{type(e).__name__}: {e}")
    if "locate" in groups:
        o.record("locate", o.check_locate)
        o.record("locate ties", o.check_locate_ties)
    if "geodata" in groups:
        o.record("geodata", lambda: check_geodata(o, ROOT))

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
