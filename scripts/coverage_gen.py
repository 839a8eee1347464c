#!/usr/bin/env python3
"""Deterministic polygon coverages (GeoJSON, WGS84 lon/lat near Zibo) with injected faults.

Used by scripts/oracle.py (GEOS cross-check of `tessera validate/repair/locate`) and
scripts/compare.py (benchmarks). Importable; also a small CLI:

    python scripts/coverage_gen.py -n 1500 --seed 7 --fault overlap --fault delete -o grids.geojson
    python scripts/coverage_gen.py -n 1500 --seed 7 -o grids.geojson --points 100000 --points-out pts.csv

Coverages
---------
``voronoi_coverage(n, seed)``: Voronoi cells of ``n`` uniform random points, extended to and
intersected with a rectangle (``BBOX``). All coordinates are then quantized to multiples of
2**-30 degrees (about 0.1 mm). Quantizing is deterministic per coordinate, so vertices shared by
two cells stay bit-identical (this also absorbs the last-bit differences the clip can produce on
the rectangle edge), and it leaves spare mantissa bits so that midpoints and quarter points of
an edge are exact doubles lying exactly on that edge. The result is checked with
``shapely.coverage_is_valid`` and regenerated with a derived seed if it ever fails.
Each feature carries ``properties.code = "g%06d" % index``.

Faults (each returns ``(new_coverage, affected_codes)`` and appends a record to
``coverage.faults`` that says what GEOS is expected to report):

* ``inject_overlap``  - a shared edge A|B gets a midpoint vertex in both cells; A's copy of it is
  pushed into B (towards B's centroid): A overlaps B by a triangle. GEOS flags {A, B}.
* ``inject_gap``      - same, but A's copy is pulled into A by about ``gap_depth_m`` metres: a
  narrow triangular gap opens. With gap_width=0 GEOS flags nothing (the gap is reported as a
  hole of the union).
* ``inject_mismatch`` - same, but A's copy slides along the edge to the quarter point (exactly
  collinear): the areas still tile, but the vertices do not match (T-junctions both ways).
  GEOS flags {A, B}.
* ``delete_cell``     - an interior cell is removed: a hole bounded by its neighbours.
  GEOS (gap_width=0) flags nothing.
* ``duplicate_cell``  - an interior cell is appended again with a new code: full overlap.

Faulted cells are interior (they do not touch the rectangle) and two faults in one coverage
are kept at least two neighbour steps apart, so the expected sets do not interact. These five
edit only plain polygons (no holes, one part).

Small coverages (the oracle's bulk; ``random_case(seed, k)`` draws case k of a seeded mix)
------------------------------------------------------------------------------------------
``small_bbox`` places a rectangle of 350 m - 2.7 km in Zibo; ``voronoi_coverage`` or
``lattice_coverage`` (plain: east-west edges and four grids at a vertex; or jittered; cells in a
seeded random order) fills it. Structure, keeping the coverage valid:

* ``add_hole``     - a grid gets a hole: empty, filled by a new island grid, with a smaller
  island (a ring-shaped gap), with an island touching the hole at one vertex, or pinched against
  the grid's own shell at a vertex (empty: a gap touching the neighbours, or the frame, at one
  point; or filled);
* ``merge_parts``  - a grid becomes a MultiPolygon by taking over a grid apart from it, or one
  touching it at a single point.

Faults (several per case; each records what it did in ``coverage.faults``; what GEOS makes of
the result is the oracle's business):

* ``move_vertex``  - a vertex shared by two grids (an inserted edge midpoint), by three or more,
  or on the frame, moved by a given distance in a random direction in one grid's copy, some, or
  all (the oracle uses sub-metre, just under / just over the snapping distance, and metres);
* ``carve_apex_gap`` - a triangular gap with one corner on an existing vertex (the other grids
  at that vertex touch it at a point; on the frame it touches the outside at a point), or two
  such gaps pinched together at one vertex;
* ``break_cell``   - a bow-tie or a spike (OGC-invalid grid); ``empty_cell`` - an empty geometry;
* the five faults above. ``boundary_for`` draws a district boundary: the frame, a perturbed
  frame (grids stick out, slivers open along the rim), or the frame with a lake.

Points: ``random_points`` (uniform over the bbox grown by a margin) and ``boundary_points``
(cell vertices and exact edge midpoints, where point-in-polygon ties happen).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely import Polygon, STRtree

# Default extent: a rectangle over Zibo (Zhangdian and surroundings), lon/lat WGS84.
BBOX = (117.93, 36.71, 118.20, 36.92)
QUANTUM = 2.0**-30  # degrees, ~0.1 mm; all generated vertices are multiples of this

FAULT_KINDS = ("overlap", "gap", "mismatch", "delete", "duplicate")

# WGS84 ellipsoid, for the local metre projection
_WGS84_A = 6378137.0
_WGS84_E2 = 6.69437999014e-3


def quantize(a):
    """Round coordinates (array or float) to multiples of QUANTUM (exact in binary)."""
    return np.round(np.asarray(a, dtype=float) / QUANTUM) * QUANTUM


def code_of(i: int) -> str:
    return "g%06d" % i


# --------------------------------------------------------------------------------------------
# Local metric projection
# --------------------------------------------------------------------------------------------
class LocalProjection:
    """Equirectangular projection in metres around (lon0, lat0).

    x = (lon - lon0) * k_lon,  y = (lat - lat0) * k_lat, where k_lon / k_lat are the WGS84
    metres per degree at lat0 (prime-vertical and meridional radii of curvature). Over a city
    (a few tens of km) areas are within ~0.2 % of ellipsoidal areas.
    """

    def __init__(self, lon0: float, lat0: float):
        self.lon0 = float(lon0)
        self.lat0 = float(lat0)
        phi = math.radians(lat0)
        w = math.sqrt(1.0 - _WGS84_E2 * math.sin(phi) ** 2)
        n_rad = _WGS84_A / w  # prime vertical radius of curvature
        m_rad = _WGS84_A * (1.0 - _WGS84_E2) / w**3  # meridional radius of curvature
        self.k_lon = math.radians(1.0) * n_rad * math.cos(phi)
        self.k_lat = math.radians(1.0) * m_rad

    @classmethod
    def around(cls, geoms) -> "LocalProjection":
        """Centred on the bounding box of the geometries: the centre tessera's `LocalMetric`
        takes for a layer (so distances in metres mean the same on both sides)."""
        b = shapely.total_bounds(np.asarray(geoms, dtype=object))
        return cls((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)

    def xy(self, lon, lat):
        return (np.asarray(lon) - self.lon0) * self.k_lon, (np.asarray(lat) - self.lat0) * self.k_lat

    def project(self, geoms):
        """Project shapely geometry / array of geometries to metres."""
        k = np.array([self.k_lon, self.k_lat])
        o = np.array([self.lon0, self.lat0])
        return shapely.transform(geoms, lambda c: (c - o) * k)

    def area_m2(self, geoms):
        return shapely.area(self.project(geoms))

    def dist_m(self, p, q) -> float:
        dx = (q[0] - p[0]) * self.k_lon
        dy = (q[1] - p[1]) * self.k_lat
        return math.hypot(dx, dy)


# --------------------------------------------------------------------------------------------
# Coverage container
# --------------------------------------------------------------------------------------------
@dataclass
class Coverage:
    geoms: list  # shapely Polygons
    codes: list  # str, aligned with geoms
    rect: tuple  # (xmin, ymin, xmax, ymax) of the generating rectangle
    seed: int
    next_index: int  # index for the next new code
    faults: list = field(default_factory=list)  # dict records, see module doc
    reserved: set = field(default_factory=set)  # codes near earlier faults

    def copy(self) -> "Coverage":
        return Coverage(list(self.geoms), list(self.codes), self.rect, self.seed, self.next_index,
                        [dict(f) for f in self.faults], set(self.reserved))

    def __len__(self):
        return len(self.geoms)

    @property
    def array(self) -> np.ndarray:
        a = np.empty(len(self.geoms), dtype=object)
        a[:] = self.geoms
        return a

    def projection(self) -> LocalProjection:
        return LocalProjection.around(self.array)

    def expected(self) -> dict:
        """Union of the fault records: what GEOS should report for this coverage."""
        inv, aff, ovl, gaps = set(), set(), [], []
        for f in self.faults:
            inv |= set(f["invalid_edges"])
            aff |= set(f["codes"])
            ovl += f.get("overlaps", [])
            gaps += f.get("gaps", [])
        return {"invalid_edges": sorted(inv), "affected": sorted(aff), "overlaps": ovl, "gaps": gaps,
                "valid": not inv, "has_gaps": bool(gaps)}


def _rect(bbox) -> tuple:
    x0, y0, x1, y1 = (float(v) for v in quantize(bbox))
    return (x0, y0, x1, y1)


def voronoi_coverage(n: int, seed: int, bbox=BBOX, max_tries: int = 20) -> Coverage:
    """Voronoi coverage of ``n`` seeded random points clipped to ``bbox`` (see module doc)."""
    if n < 2:
        raise ValueError("need at least 2 cells")
    rect = _rect(bbox)
    box = shapely.box(*rect)
    for attempt in range(max_tries):
        rng = np.random.default_rng([seed, attempt])
        pts = np.column_stack([rng.uniform(rect[0], rect[2], n), rng.uniform(rect[1], rect[3], n)])
        vor = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=box, ordered=True)
        cells = np.asarray(shapely.get_parts(vor))
        cells = shapely.intersection(cells, box)
        coords = shapely.get_coordinates(cells)
        cells = shapely.set_coordinates(cells.copy(), quantize(coords))
        cells = shapely.remove_repeated_points(cells, 0.0)
        cells = shapely.orient_polygons(cells, exterior_cw=False)  # RFC 7946: exterior CCW
        ok = (
            len(cells) == n
            and bool(np.all(shapely.get_type_id(cells) == 3))
            and bool(np.all(shapely.is_valid(cells)))
            and not bool(np.any(shapely.is_empty(cells)))
            and bool(shapely.coverage_is_valid(cells))
            and abs(shapely.area(shapely.coverage_union_all(cells)) - box.area) <= 1e-9 * box.area
        )
        if ok:
            return Coverage(list(cells), [code_of(i) for i in range(n)], rect, seed, n)
    raise RuntimeError(f"could not generate a valid coverage (n={n}, seed={seed})")


# --------------------------------------------------------------------------------------------
# Fault injection: building blocks
# --------------------------------------------------------------------------------------------
def _ring(poly: Polygon) -> np.ndarray:
    return shapely.get_coordinates(poly.exterior)


def _segments(poly: Polygon) -> dict:
    """normalized segment -> (i) index of the segment start in the ring (exterior of a plain
    polygon; nothing for other geometries)"""
    if not _plain(poly):
        return {}
    r = _ring(poly)
    out = {}
    for i in range(len(r) - 1):
        a, b = tuple(r[i]), tuple(r[i + 1])
        out[(a, b) if a <= b else (b, a)] = i
    return out


def _insert_on_edge(poly: Polygon, v, w, p) -> Polygon:
    """Insert vertex p between consecutive ring vertices v and w (either direction)."""
    r = _ring(poly)
    v, w = tuple(v), tuple(w)
    for i in range(len(r) - 1):
        a, b = tuple(r[i]), tuple(r[i + 1])
        if (a, b) == (v, w) or (a, b) == (w, v):
            r2 = np.vstack([r[: i + 1], [p], r[i + 1:]])
            return Polygon(r2)
    raise ValueError("edge not found in ring")


class _Topo:
    """Neighbour queries on a coverage."""

    def __init__(self, cov: Coverage):
        self.cov = cov
        self.arr = cov.array
        self.tree = STRtree(self.arr)
        self.pos = {c: i for i, c in enumerate(cov.codes)}
        xmin, ymin, xmax, ymax = cov.rect
        self.frame = shapely.box(xmin, ymin, xmax, ymax).exterior

    def touching(self, i: int) -> list:
        """Cells that intersect cell i (edge or vertex contact), excluding i."""
        hits = self.tree.query(self.arr[i], predicate="intersects")
        return [int(j) for j in hits if j != i]

    def edge_neighbours(self, i: int) -> list:
        """(j, v, w, length_deg) for every segment v-w that cell i shares with cell j."""
        segs = _segments(self.arr[i])
        out = []
        for j in self.touching(i):
            for s in _segments(self.arr[j]).keys() & segs.keys():
                v, w = s
                out.append((j, v, w, math.hypot(w[0] - v[0], w[1] - v[1])))
        return out

    def interior(self, i: int) -> bool:
        return not self.arr[i].intersects(self.frame)

    def free(self, idx) -> bool:
        """None of the cells idx, nor any cell touching them, is reserved by an earlier fault."""
        res = self.cov.reserved
        for i in idx:
            if self.cov.codes[i] in res:
                return False
            if any(self.cov.codes[j] in res for j in self.touching(i)):
                return False
        return True


def _rng(cov: Coverage, rng):
    if rng is None:
        rng = np.random.default_rng([cov.seed, 7919, len(cov.faults)])
    elif isinstance(rng, (int, np.integer)):
        rng = np.random.default_rng(int(rng))
    return rng


def _reserve(cov: Coverage, topo: _Topo, idx):
    for i in idx:
        cov.reserved.add(cov.codes[i])
        cov.reserved.update(cov.codes[j] for j in topo.touching(i))


def _pick_pair(cov: Coverage, topo: _Topo, rng, accept):
    """Pick interior cell A, its longest shared edge v-w with interior cell B, and call
    accept(a, b, v, w) -> result or None. Returns (a, b, v, w, result)."""
    order = rng.permutation(len(cov.geoms))
    for a in order:
        a = int(a)
        if not topo.interior(a):
            continue
        nbrs = sorted(topo.edge_neighbours(a), key=lambda t: -t[3])
        if not _plain(cov.geoms[a]):
            continue
        for b, v, w, _ in nbrs[:2]:
            if not topo.interior(b) or not topo.free([a, b]) or not _plain(cov.geoms[b]):
                continue
            res = accept(a, b, v, w)
            if res is not None:
                return a, b, v, w, res
    raise RuntimeError("no suitable cell pair for fault injection")


def _plain(g) -> bool:
    """A polygon without holes (the cells the midpoint faults know how to edit)."""
    return g is not None and g.geom_type == "Polygon" and not g.is_empty and len(g.interiors) == 0


def _split_shared_edge(cov: Coverage, a: int, b: int, v, w):
    """Give both A and B the exact midpoint m of their shared edge v-w (coverage stays valid)."""
    m = ((v[0] + w[0]) / 2.0, (v[1] + w[1]) / 2.0)  # exact: v, w are multiples of QUANTUM
    pa = _insert_on_edge(cov.geoms[a], v, w, m)
    pb = _insert_on_edge(cov.geoms[b], v, w, m)
    return m, pa, pb


def _replace_vertex(poly: Polygon, old, new) -> Polygon:
    r = _ring(poly)
    hit = np.all(r == np.asarray(old), axis=1)
    if not hit.any():
        raise ValueError("vertex not found")
    r = r.copy()
    r[hit] = new
    return Polygon(r)


def _move_midpoint(cov: Coverage, kind: str, rng=None, gap_depth_m: float = 2.0, push: float = 0.3):
    cov = cov.copy()
    rng = _rng(cov, rng)
    topo = _Topo(cov)
    proj = cov.projection()

    def accept(a, b, v, w):
        m, pa, pb = _split_shared_edge(cov, a, b, v, w)
        if kind == "overlap":
            c = cov.geoms[b].centroid
            target = (m[0] + push * (c.x - m[0]), m[1] + push * (c.y - m[1]))
        elif kind == "gap":
            c = cov.geoms[a].centroid
            d = proj.dist_m(m, (c.x, c.y))
            t = min(0.3, gap_depth_m / d) if d > 0 else 0.0
            target = (m[0] + t * (c.x - m[0]), m[1] + t * (c.y - m[1]))
        else:  # mismatch: slide along the edge to the quarter point (exact, collinear)
            target = ((m[0] + w[0]) / 2.0, (m[1] + w[1]) / 2.0)
        target = tuple(float(x) for x in quantize(target)) if kind != "mismatch" else target
        if target == m:
            return None
        na = _replace_vertex(pa, m, target)
        if not na.is_valid or na.is_empty:
            return None
        tp = shapely.Point(target)
        if kind == "overlap" and not cov.geoms[b].contains_properly(tp):
            return None
        if kind == "gap" and not cov.geoms[a].contains_properly(tp):
            return None
        tri = Polygon([v, target, w])
        return na, pb, tri

    a, b, v, w, (na, nb, tri) = _pick_pair(cov, topo, rng, accept)
    _reserve(cov, topo, [a, b])
    cov.geoms[a] = na
    cov.geoms[b] = nb
    ca, cb = cov.codes[a], cov.codes[b]
    rec = {"kind": kind, "codes": sorted([ca, cb]), "moved": ca, "neighbour": cb}
    area = float(proj.area_m2(tri))
    if kind == "overlap":
        rec.update(invalid_edges=sorted([ca, cb]), overlaps=[[ca, cb, area]], gaps=[])
    elif kind == "gap":
        rec.update(invalid_edges=[], overlaps=[], gaps=[area])
    else:
        rec.update(invalid_edges=sorted([ca, cb]), overlaps=[], gaps=[])
    cov.faults.append(rec)
    return cov, set(rec["codes"])


def inject_overlap(cov: Coverage, rng=None, push: float = 0.3):
    """Move A's copy of a shared vertex into neighbour B. Returns (coverage, {A, B})."""
    return _move_midpoint(cov, "overlap", rng, push=push)


def inject_gap(cov: Coverage, rng=None, gap_depth_m: float = 2.0):
    """Move A's copy of a shared vertex ~gap_depth_m into A: a narrow gap. Returns (cov, {A, B})."""
    return _move_midpoint(cov, "gap", rng, gap_depth_m=gap_depth_m)


def inject_mismatch(cov: Coverage, rng=None):
    """Slide A's copy of a shared vertex along the edge: T-junctions. Returns (cov, {A, B})."""
    return _move_midpoint(cov, "mismatch", rng)


def delete_cell(cov: Coverage, rng=None):
    """Remove an interior cell. Returns (coverage, {deleted code} | its edge neighbours)."""
    cov = cov.copy()
    rng = _rng(cov, rng)
    topo = _Topo(cov)
    proj = cov.projection()
    for a in rng.permutation(len(cov.geoms)):
        a = int(a)
        if not topo.interior(a) or not topo.free([a]):
            continue
        nbrs = sorted({cov.codes[j] for j, *_ in topo.edge_neighbours(a)})
        _reserve(cov, topo, [a])
        code = cov.codes[a]
        area = float(proj.area_m2(cov.geoms[a]))
        del cov.geoms[a]
        del cov.codes[a]
        rec = {"kind": "delete", "codes": sorted([code] + nbrs), "deleted": code,
               "invalid_edges": [], "overlaps": [], "gaps": [area]}
        cov.faults.append(rec)
        return cov, set(rec["codes"])
    raise RuntimeError("no interior cell to delete")


def duplicate_cell(cov: Coverage, rng=None):
    """Append a copy of an interior cell under a new code. Returns (coverage, {orig, copy})."""
    cov = cov.copy()
    rng = _rng(cov, rng)
    topo = _Topo(cov)
    proj = cov.projection()
    for a in rng.permutation(len(cov.geoms)):
        a = int(a)
        if not topo.interior(a) or not topo.free([a]):
            continue
        _reserve(cov, topo, [a])
        orig = cov.codes[a]
        dup = code_of(cov.next_index)
        cov.next_index += 1
        cov.geoms.append(cov.geoms[a])
        cov.codes.append(dup)
        cov.reserved.add(dup)
        area = float(proj.area_m2(cov.geoms[a]))
        rec = {"kind": "duplicate", "codes": sorted([orig, dup]), "duplicate_of": orig,
               "invalid_edges": sorted([orig, dup]), "overlaps": [[orig, dup, area]], "gaps": []}
        cov.faults.append(rec)
        return cov, set(rec["codes"])
    raise RuntimeError("no interior cell to duplicate")


FAULTS = {
    "overlap": inject_overlap,
    "gap": inject_gap,
    "mismatch": inject_mismatch,
    "delete": delete_cell,
    "duplicate": duplicate_cell,
}


def make_case(n: int, seed: int, faults=(), bbox=BBOX) -> Coverage:
    """Voronoi coverage with the given fault kinds applied in order (seeded)."""
    cov = voronoi_coverage(n, seed, bbox)
    for k, kind in enumerate(faults):
        cov, _ = FAULTS[kind](cov, np.random.default_rng([seed, 104729, k]))
    return cov


# --------------------------------------------------------------------------------------------
# Small coverages: structure (holes, islands, multipolygons) and vertex-level faults
# --------------------------------------------------------------------------------------------
# The oracle's bulk: hundreds of seeded coverages of a few dozen grids, each a few hundred
# metres to a few kilometres across, with grids that have holes (empty, filled by an island
# grid, with a smaller or a touching island, or pinched against the grid's own shell at a
# vertex), grids of several parts (MultiPolygons, apart or touching at one point), and several
# faults at once. Every fault edits vertices exactly (quantized to QUANTUM) and records what it
# did; what GEOS makes of the result is the oracle's business, not the generator's.

REGION = (117.95, 36.72, 118.15, 36.90)  # where small coverages are placed (Zibo)
MOVE_SHARES = ("2", "3+", "frame")  # which vertex move_vertex takes (see there)
MOVE_COPIES = ("one", "some", "all")
HOLE_MODES = ("empty", "filled", "shrunk", "island-touch", "pinched-empty", "pinched-filled")


def small_bbox(rng, span=(0.004, 0.03)) -> tuple:
    """A random rectangle inside REGION, span degrees wide (0.004-0.03: 350 m - 2.7 km)."""
    w = float(rng.uniform(*span))
    h = w * float(rng.uniform(0.6, 1.4))
    x0 = float(rng.uniform(REGION[0], REGION[2] - w))
    y0 = float(rng.uniform(REGION[1], REGION[3] - h))
    return _rect((x0, y0, x0 + w, y0 + h))


def lattice_coverage(nx: int, ny: int, bbox, seed: int, jitter: float = 0.0, shuffle=True) -> Coverage:
    """nx × ny quadrilaterals tiling bbox. jitter = 0: axis-parallel rectangles (east-west
    edges, vertices shared by four grids); jitter > 0 moves every vertex by up to that fraction
    of the spacing (frame vertices only along the frame), so no two edges are parallel by
    accident. Cells are listed in a seeded random order (input order matters to the tie rules)."""
    rect = _rect(bbox)
    x0, y0, x1, y1 = rect
    rng = np.random.default_rng([seed, 4177])
    xs = np.linspace(x0, x1, nx + 1)
    ys = np.linspace(y0, y1, ny + 1)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    if jitter > 0:
        dx, dy = (x1 - x0) / nx, (y1 - y0) / ny
        jx = rng.uniform(-jitter, jitter, X.shape) * dx
        jy = rng.uniform(-jitter, jitter, Y.shape) * dy
        jx[0, :] = jx[-1, :] = 0.0  # west and east frame: move only along it (in y)
        jy[:, 0] = jy[:, -1] = 0.0  # south and north frame: move only in x
        X, Y = X + jx, Y + jy
    X, Y = quantize(X), quantize(Y)
    X[0, :], X[-1, :], Y[:, 0], Y[:, -1] = x0, x1, y0, y1
    cells = []
    for i in range(nx):
        for j in range(ny):
            ring = [(X[i, j], Y[i, j]), (X[i + 1, j], Y[i + 1, j]), (X[i + 1, j + 1], Y[i + 1, j + 1]),
                    (X[i, j + 1], Y[i, j + 1]), (X[i, j], Y[i, j])]
            cells.append(Polygon(ring))
    if shuffle:
        cells = [cells[k] for k in rng.permutation(len(cells))]
    arr = np.empty(len(cells), dtype=object)
    arr[:] = cells
    if not (bool(np.all(shapely.is_valid(arr))) and bool(shapely.coverage_is_valid(arr))):
        raise RuntimeError(f"lattice {nx}x{ny} (seed {seed}) is not a valid coverage")
    return Coverage(cells, [code_of(i) for i in range(len(cells))], rect, seed, len(cells))


# -- rings as arrays --------------------------------------------------------------------------
def _parts(g) -> list:
    """[[exterior, hole, ...], ...] per polygon part, each ring a closed (n, 2) array (copies)."""
    if g is None or g.is_empty:
        return []
    polys = [g] if g.geom_type == "Polygon" else list(g.geoms)
    return [[shapely.get_coordinates(p.exterior).copy()] + [shapely.get_coordinates(r).copy() for r in p.interiors]
            for p in polys]


def _build(parts):
    polys = [Polygon(rs[0], rs[1:]) for rs in parts]
    if not polys:
        return Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _pt(c) -> tuple:
    return (float(c[0]), float(c[1]))


def _vertex_map(cov: Coverage) -> dict:
    """vertex -> [(cell, part, ring, i), ...] over every ring (closing point excluded)."""
    occ = {}
    for c, g in enumerate(cov.geoms):
        for p, rings in enumerate(_parts(g)):
            for r, ring in enumerate(rings):
                for i in range(len(ring) - 1):
                    occ.setdefault(_pt(ring[i]), []).append((c, p, r, i))
    return occ


def _edge_map(cov: Coverage) -> dict:
    """normalized segment (a, b) -> [(cell, part, ring, i), ...] (segment ring[i] - ring[i+1])."""
    occ = {}
    for c, g in enumerate(cov.geoms):
        for p, rings in enumerate(_parts(g)):
            for r, ring in enumerate(rings):
                for i in range(len(ring) - 1):
                    a, b = _pt(ring[i]), _pt(ring[i + 1])
                    occ.setdefault((a, b) if a <= b else (b, a), []).append((c, p, r, i))
    return occ


def _on_frame(cov: Coverage, v) -> bool:
    x0, y0, x1, y1 = cov.rect
    return v[0] in (x0, x1) or v[1] in (y0, y1)


def _frame_edge(cov: Coverage, a, b) -> bool:
    x0, y0, x1, y1 = cov.rect
    return any(a[k] == b[k] == lim for k, lim in ((0, x0), (0, x1), (1, y0), (1, y1)))


def _insert_vertex(cov: Coverage, a, b, q) -> list:
    """Insert q between consecutive vertices a, b in every ring that has segment a-b; returns
    the cells changed."""
    changed = []
    for c, g in enumerate(cov.geoms):
        parts = _parts(g)
        hit = False
        for rings in parts:
            for r, ring in enumerate(rings):
                for i in range(len(ring) - 1):
                    s, t = _pt(ring[i]), _pt(ring[i + 1])
                    if (s, t) in ((a, b), (b, a)):
                        rings[r] = np.vstack([ring[: i + 1], [q], ring[i + 1:]])
                        hit = True
                        break
        if hit:
            cov.geoms[c] = _build(parts)
            changed.append(c)
    return changed


def _set_vertex(g, old, new):
    """Every occurrence of vertex old in g's rings becomes new."""
    parts = _parts(g)
    for rings in parts:
        for ring in rings:
            ring[np.all(ring == np.asarray(old), axis=1)] = new
    return _build(parts)


def _offset(proj: LocalProjection, v, dx_m: float, dy_m: float) -> tuple:
    return _pt(quantize((v[0] + dx_m / proj.k_lon, v[1] + dy_m / proj.k_lat)))


def _valid(geoms) -> bool:
    geoms = list(geoms)
    a = np.empty(len(geoms), dtype=object)
    a[:] = geoms
    return bool(np.all(shapely.is_valid(a)))


def _new_code(cov: Coverage) -> str:
    c = code_of(cov.next_index)
    cov.next_index += 1
    return c


def _insert_cell(cov: Coverage, rng, geom, code=None) -> str:
    """Add a grid at a random position of the input order."""
    code = code or _new_code(cov)
    k = int(rng.integers(0, len(cov.geoms) + 1))
    cov.geoms.insert(k, geom)
    cov.codes.insert(k, code)
    return code


def move_vertex(cov: Coverage, rng, share: str = "3+", dist_m: float = 0.5, copies: str = "one",
                require_valid: bool = True, tries: int = 80):
    """Move one vertex by dist_m metres in a random direction, in some of the grids that have it.

    share: "2"     - the midpoint of an edge shared by two grids (inserted in both first);
           "3+"    - a vertex where three or more grids meet;
           "frame" - a vertex on the coverage's frame (where an inner edge meets it, a corner, or
                     the midpoint of a frame edge).
    copies: "one" (one grid's copy moves), "some" (a proper subset), "all" (every copy: the
    grids still match, the shape changes). Returns (coverage, codes of the moved copies)."""
    base = cov
    proj = base.projection()
    occ = _vertex_map(base)
    edges = _edge_map(base)
    for _ in range(tries):
        cov = base.copy()
        if share == "2":
            shared = [e for e, o in edges.items() if len({x[0] for x in o}) == 2
                      and not _frame_edge(cov, *e)]
            if not shared:
                break
            a, b = shared[int(rng.integers(len(shared)))]
            v = ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)  # exact
            cells = _insert_vertex(cov, a, b, v)
        elif share == "3+":
            vs = [v for v, o in occ.items() if len({x[0] for x in o}) >= 3]
            if not vs:
                break
            v = vs[int(rng.integers(len(vs)))]
            cells = sorted({x[0] for x in occ[v]})
        else:
            vs = [v for v in occ if _on_frame(cov, v)]
            fr = [e for e in edges if _frame_edge(cov, *e)]
            if fr and rng.random() < 0.3:
                a, b = fr[int(rng.integers(len(fr)))]
                v = ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)
                cells = _insert_vertex(cov, a, b, v)
            else:
                v = vs[int(rng.integers(len(vs)))]
                cells = sorted({x[0] for x in occ[v]})
        if copies == "all" or len(cells) == 1:
            moved = list(cells)
        elif copies == "one":
            moved = [cells[int(rng.integers(len(cells)))]]
        else:
            k = int(rng.integers(1, len(cells)))
            moved = sorted(int(c) for c in rng.choice(cells, size=k, replace=False))
        th = float(rng.uniform(0.0, 2.0 * math.pi))
        target = _offset(proj, v, dist_m * math.cos(th), dist_m * math.sin(th))
        if target == v:
            continue
        for c in moved:
            cov.geoms[c] = _set_vertex(cov.geoms[c], v, target)
        if require_valid and not _valid(cov.geoms[c] for c in moved):
            continue
        rec = {"kind": "move", "share": share, "copies": copies, "at": list(v), "to": list(target),
               "dist_m": proj.dist_m(v, target), "codes": sorted(cov.codes[c] for c in moved),
               "grids_at_vertex": len(cells)}
        cov.faults.append(rec)
        return cov, set(rec["codes"])
    raise RuntimeError(f"no vertex to move (share={share})")


def carve_apex_gap(cov: Coverage, rng, where: str = "interior", depth_m: float = 2.0, pair: bool = False,
                   tries: int = 80):
    """A triangular gap with one corner on an existing vertex v: grid A gives up the triangle
    (v, p, q) along the edge v-w it shares with B (q on that edge, in both A and B; p inside A,
    depth_m from the edge). The gap borders A and B; the other grids at v touch it at the point v
    only. where="frame": v is where an inner edge meets the frame, so the gap touches the
    coverage's outer edge at one point. pair=True carves a second such gap at the same v from
    another grid, the two gaps pinched together at v."""
    base = cov
    proj = base.projection()
    for _ in range(tries):
        cov = base.copy()
        occ = _vertex_map(cov)
        if where == "frame":
            vs = [v for v, o in occ.items() if _on_frame(cov, v) and len({x[0] for x in o}) == 2]
        else:
            vs = [v for v, o in occ.items() if not _on_frame(cov, v) and len({x[0] for x in o}) >= 3]
        if not vs:
            break
        v = vs[int(rng.integers(len(vs)))]
        done = []
        for _k in range(2 if pair else 1):
            r = _carve_at(cov, proj, rng, v, depth_m, done)
            if r is None:
                break
            done.append(r)
        if len(done) != (2 if pair else 1):
            continue
        rec = {"kind": "apex-gap", "where": where, "pair": pair, "at": list(v), "depth_m": depth_m,
               "codes": sorted({cov.codes[a] for a, _ in done} | {cov.codes[b] for _, b in done})}
        cov.faults.append(rec)
        return cov, set(rec["codes"])
    raise RuntimeError(f"no vertex for an apex gap ({where})")


def _carve_at(cov: Coverage, proj: LocalProjection, rng, v, depth_m, done):
    """One apex gap at v (see carve_apex_gap); returns (A, B) or None (cov unchanged)."""
    edges = _edge_map(cov)
    used_cells = {a for a, _ in done}
    cands = []
    for e, o in edges.items():
        if v not in e or _frame_edge(cov, *e):
            continue
        cells = sorted({x[0] for x in o})
        if len(cells) != 2:
            continue
        w = e[1] if e[0] == v else e[0]
        for a in cells:
            if a not in used_cells and _plain(cov.geoms[a]):
                cands.append((a, cells[0] if cells[1] == a else cells[1], w))
    if not cands:
        return None
    a, b, w = cands[int(rng.integers(len(cands)))]
    t = (0.5, 0.25, 0.75)[int(rng.integers(3))]
    q = (v[0] + t * (w[0] - v[0]), v[1] + t * (w[1] - v[1]))  # exact: multiples of 2**-32
    if q in (v, w):
        return None
    # the other neighbour u of v in A's ring (the side that is not w)
    ring = _parts(cov.geoms[a])[0][0]
    n = len(ring) - 1
    idx = [i for i in range(n) if _pt(ring[i]) == v]
    if len(idx) != 1:
        return None
    i = idx[0]
    nxt, prv = _pt(ring[(i + 1) % n]), _pt(ring[(i - 1) % n])
    u = prv if nxt == w else nxt
    V, Q, U = (np.array(proj.xy(*c)) for c in (v, q, u))
    e1 = (Q - V) / np.linalg.norm(Q - V)
    perp = (U - V) - np.dot(U - V, e1) * e1
    if np.linalg.norm(perp) < 1e-6:
        return None
    s = depth_m / np.linalg.norm(perp)
    if s > 0.4:
        return None
    P = V + float(rng.uniform(0.3, 0.7)) * (Q - V) + s * (U - V)
    p = _pt(quantize((P[0] / proj.k_lon + proj.lon0, P[1] / proj.k_lat + proj.lat0)))
    tri = Polygon([v, p, q])
    old_a, old_b = cov.geoms[a], cov.geoms[b]
    if not (tri.is_valid and tri.area > 0 and old_a.contains(tri.buffer(-1e-12))):
        return None
    _insert_vertex(cov, v, w, q)  # q in A and B
    parts = _parts(cov.geoms[a])
    r0 = parts[0][0]
    m = len(r0) - 1
    for j in range(m):
        s_, t_ = _pt(r0[j]), _pt(r0[j + 1])
        if (s_, t_) in ((v, q), (q, v)):
            parts[0][0] = np.vstack([r0[: j + 1], [p], r0[j + 1:]])
            break
    new_a = _build(parts)
    if not new_a.is_valid or abs(new_a.area - (old_a.area - tri.area)) > 1e-6 * old_a.area:
        cov.geoms[a], cov.geoms[b] = old_a, old_b
        return None
    cov.geoms[a] = new_a
    return a, b


def _star(proj: LocalProjection, c, r_m: float, rng, k=None, lo=0.55, hi=1.0) -> np.ndarray:
    """A star-shaped ring around c (metres radius r_m), counter-clockwise, quantized."""
    k = int(k or rng.integers(4, 8))
    ang = np.sort(rng.uniform(0, 2 * math.pi, k))
    while np.min(np.diff(np.r_[ang, ang[0] + 2 * math.pi])) < 0.3:
        ang = np.sort(rng.uniform(0, 2 * math.pi, k))
    rad = r_m * rng.uniform(lo, hi, k)
    pts = [_offset(proj, c, float(R * math.cos(a)), float(R * math.sin(a))) for a, R in zip(ang, rad)]
    return np.array(pts + [pts[0]])


def add_hole(cov: Coverage, rng, mode: str = "empty", tries: int = 40):
    """Give a grid A a hole. mode: "empty" (a gap inside A), "filled" (a new island grid fills
    it exactly), "shrunk" (a smaller island: a ring-shaped gap between A and the island),
    "island-touch" (an island touching the hole's ring at one vertex: the gap is a polygon whose
    hole touches its shell), "pinched-empty" (a triangular hole with one corner on A's shell, so
    it touches A's neighbours, or the frame, at one point), "pinched-filled" (that hole filled by
    an island grid). Returns (coverage, codes of A and the island)."""
    base = cov
    proj = base.projection()
    for _ in range(tries):
        cov = base.copy()
        cands = [i for i, g in enumerate(cov.geoms) if _plain(g)]
        a = cands[int(rng.integers(len(cands)))]
        A = cov.geoms[a]
        Am = proj.project(A)
        mic = shapely.maximum_inscribed_circle(Am, tolerance=max(0.5, 1e-3 * math.sqrt(Am.area)))
        cm = shapely.get_coordinates(mic)[0]
        R = float(mic.length)
        if R < 5.0:
            continue
        c = (cm[0] / proj.k_lon + proj.lon0, cm[1] / proj.k_lat + proj.lat0)
        island = None
        if mode.startswith("pinched"):
            ext = shapely.get_coordinates(A.exterior)
            j = int(rng.integers(len(ext) - 1))
            v = _pt(ext[j])
            V = np.array(proj.xy(*v))
            C = np.array(proj.xy(*c))
            d = C - V
            phi = float(rng.uniform(0.12, 0.35))
            f = float(rng.uniform(0.35, 0.6))
            rot = lambda x, t: np.array([x[0] * math.cos(t) - x[1] * math.sin(t), x[0] * math.sin(t) + x[1] * math.cos(t)])
            P1, P2 = V + f * rot(d, phi), V + f * rot(d, -phi)
            p1 = _pt(quantize((P1[0] / proj.k_lon + proj.lon0, P1[1] / proj.k_lat + proj.lat0)))
            p2 = _pt(quantize((P2[0] / proj.k_lon + proj.lon0, P2[1] / proj.k_lat + proj.lat0)))
            hole = np.array([v, p2, p1, v])  # clockwise for a hole; orientation is normalized below
            if not Polygon(hole).is_valid:
                continue
            if mode == "pinched-filled":
                island = shapely.orient_polygons(Polygon(hole))
        else:
            hole = _star(proj, c, 0.6 * R, rng)
            if mode == "filled":
                island = Polygon(hole)
            elif mode == "shrunk":
                inner = _star(proj, c, 0.6 * R, rng, lo=0.2, hi=0.4)
                island = Polygon(inner)
            elif mode == "island-touch":
                h0 = _pt(hole[0])
                H0 = np.array(proj.xy(*h0)) - np.array(proj.xy(*c))
                a0 = math.atan2(H0[1], H0[0])
                k = int(rng.integers(3, 6))
                ang = a0 + np.linspace(0, 2 * math.pi, k + 1)[1:-1] + rng.uniform(-0.2, 0.2, k - 1)
                pts = [h0] + [_offset(proj, c, 0.25 * R * math.cos(t), 0.25 * R * math.sin(t)) for t in ang]
                island = Polygon(pts + [h0])
        newA = shapely.orient_polygons(Polygon(A.exterior, [hole]), exterior_cw=False)
        if not newA.is_valid or not A.contains(Polygon(hole)):
            continue
        if island is not None:
            island = shapely.orient_polygons(island, exterior_cw=False)
            if not island.is_valid or not Polygon(hole).contains(island):
                continue
        cov.geoms[a] = newA
        codes = [cov.codes[a]]
        if island is not None:
            codes.append(_insert_cell(cov, rng, island))
        rec = {"kind": "hole", "mode": mode, "codes": sorted(codes)}
        cov.faults.append(rec)
        return cov, set(codes)
    raise RuntimeError(f"no grid to give a hole ({mode})")


def merge_parts(cov: Coverage, rng, touching: bool = False, tries: int = 60):
    """Make grid A a MultiPolygon by taking over grid B's polygon (B's code disappears): B apart
    from A, or (touching=True) touching A at one point only. Returns (coverage, {A})."""
    cov = cov.copy()
    arr = cov.array
    idx = [i for i, g in enumerate(cov.geoms) if _plain(g)]
    pairs = []
    if touching:
        tree = STRtree(arr)
        l, r = tree.query(arr, predicate="touches")
        for i, j in zip(l, r):
            if i < j and i in idx and j in idx and shapely.relate_pattern(arr[i], arr[j], "FF*F0****"):
                pairs.append((int(i), int(j)))
    if not pairs:
        for _ in range(tries):
            i, j = (int(x) for x in rng.choice(idx, 2, replace=False))
            if arr[i].disjoint(arr[j]):
                pairs.append((i, j))
                break
    if not pairs:
        raise RuntimeError("no pair of grids for a MultiPolygon")
    a, b = pairs[int(rng.integers(len(pairs)))]
    cov.geoms[a] = shapely.MultiPolygon([cov.geoms[a], cov.geoms[b]])
    code = cov.codes[a]
    del cov.geoms[b]
    del cov.codes[b]
    rec = {"kind": "multipolygon", "touching": bool(touching and pairs), "codes": [code]}
    cov.faults.append(rec)
    return cov, {code}


def break_cell(cov: Coverage, rng, how: str = "bowtie", tries: int = 60):
    """Make one grid OGC-invalid: "bowtie" swaps two consecutive vertices (self-intersection);
    "spike" adds an outward spike (the ring goes out and back along one line)."""
    base = cov
    proj = base.projection()
    for _ in range(tries):
        cov = base.copy()
        idx = [i for i, g in enumerate(cov.geoms) if _plain(g)]
        a = idx[int(rng.integers(len(idx)))]
        ring = _parts(cov.geoms[a])[0][0]
        n = len(ring) - 1
        i = int(rng.integers(n))
        if how == "bowtie":
            if n < 4:
                continue
            r = ring[:-1].copy()
            j = (i + 1) % n
            r[[i, j]] = r[[j, i]]
            new = Polygon(np.vstack([r, r[:1]]))
        else:
            v = _pt(ring[i])
            c = cov.geoms[a].centroid
            d = np.array(proj.xy(*v)) - np.array(proj.xy(c.x, c.y))
            d = d / np.linalg.norm(d) * float(rng.uniform(3.0, 20.0))
            s = _offset(proj, v, float(d[0]), float(d[1]))
            new = Polygon(np.vstack([ring[: i + 1], [s, v], ring[i + 1:]]))
        if new.is_valid:
            continue
        cov.geoms[a] = new
        rec = {"kind": "invalid", "how": how, "codes": [cov.codes[a]]}
        cov.faults.append(rec)
        return cov, {cov.codes[a]}
    raise RuntimeError(f"could not break a grid ({how})")


def empty_cell(cov: Coverage, rng):
    """One grid's geometry becomes empty (POLYGON EMPTY or MultiPolygon [])."""
    cov = cov.copy()
    a = int(rng.integers(len(cov.geoms)))
    cov.geoms[a] = Polygon() if rng.random() < 0.5 else shapely.MultiPolygon()
    rec = {"kind": "empty", "codes": [cov.codes[a]]}
    cov.faults.append(rec)
    return cov, {cov.codes[a]}


def boundary_for(cov: Coverage, rng, mode: str):
    """A district boundary for `--boundary` near the coverage's frame. mode: "frame" (the
    rectangle itself), "perturbed" (each corner moved in or out by 3-40 m and a side bent: grids
    stick out, slivers open between the rim and the boundary), "holed" (the rectangle with a
    lake: the grids over it lie partly outside the boundary)."""
    proj = cov.projection()
    x0, y0, x1, y1 = cov.rect
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    if mode == "frame":
        return Polygon(corners)
    if mode == "perturbed":
        pts = []
        for k, c in enumerate(corners):
            pts.append(_offset(proj, c, float(rng.uniform(-40, 40)), float(rng.uniform(-40, 40))))
            nx_ = corners[(k + 1) % 4]
            if rng.random() < 0.5:
                t = float(rng.uniform(0.3, 0.7))
                m = (c[0] + t * (nx_[0] - c[0]), c[1] + t * (nx_[1] - c[1]))
                pts.append(_offset(proj, m, float(rng.uniform(-30, 30)), float(rng.uniform(-30, 30))))
        b = Polygon(pts + [pts[0]])
        return b if b.is_valid else Polygon(corners)
    # holed
    c = ((x0 + x1) / 2 + float(rng.uniform(-0.25, 0.25)) * (x1 - x0),
         (y0 + y1) / 2 + float(rng.uniform(-0.25, 0.25)) * (y1 - y0))
    w_m = min((x1 - x0) * proj.k_lon, (y1 - y0) * proj.k_lat)
    lake = _star(proj, _pt(quantize(c)), 0.15 * w_m, rng)
    b = Polygon(corners, [lake[::-1]])
    return b if b.is_valid else Polygon(corners)


# -- the oracle's case mix ----------------------------------------------------------------------
SNAP_CHOICES = (0.0, 0.01, 0.05, 0.2, 0.5, 1.0, 2.0)
GAP_WIDTH_CHOICES = (0.0, 0.5, 2.0, 5.0, 10.0, 25.0)


@dataclass
class SmallCase:
    name: str
    cov: Coverage
    snap_m: float
    gap_width_m: float
    boundary: object = None  # shapely Polygon or None
    base: str = ""
    allow_invalid: bool = False
    tags: list = field(default_factory=list)


def _mean_cell_m(cov: Coverage) -> float:
    proj = cov.projection()
    x0, y0, x1, y1 = cov.rect
    return math.sqrt((x1 - x0) * proj.k_lon * (y1 - y0) * proj.k_lat / max(len(cov), 1))


def random_case(seed: int, k: int) -> SmallCase:
    """Case k of the oracle's seeded mix: a small Voronoi or lattice coverage, maybe with
    holes/islands/MultiPolygons, 0-4 faults, a snapping distance and gap width to repair it
    with (near-snap moves are just under or over that distance), sometimes a boundary."""
    rng = np.random.default_rng([seed, 0xC0FFEE, k])
    bbox = small_bbox(rng)
    r = rng.random()
    if r < 0.55:
        base = "voronoi"
        cov = voronoi_coverage(int(rng.integers(6, 41)), int(rng.integers(1 << 30)), bbox)
    elif r < 0.85:
        base = "lattice~"
        cov = lattice_coverage(int(rng.integers(2, 7)), int(rng.integers(2, 7)), bbox,
                               int(rng.integers(1 << 30)), jitter=0.25)
    else:
        base = "lattice"
        cov = lattice_coverage(int(rng.integers(2, 7)), int(rng.integers(2, 7)), bbox,
                               int(rng.integers(1 << 30)), jitter=0.0)
    S = float(rng.choice(SNAP_CHOICES, p=[0.1, 0.1, 0.2, 0.2, 0.2, 0.1, 0.1]))
    W = float(rng.choice(GAP_WIDTH_CHOICES))
    cell_m = _mean_cell_m(cov)
    tags = []
    # structure
    if rng.random() < 0.35:
        mode = HOLE_MODES[int(rng.integers(len(HOLE_MODES)))]
        cov, ok = _try(add_hole, cov, rng, mode=mode)
        tags += [f"hole:{mode}"] if ok else []
    if rng.random() < 0.2 and len(cov) > 4:
        touching = base == "lattice" or rng.random() < 0.3
        cov, ok = _try(merge_parts, cov, rng, touching=touching)
        tags += [f"multi{'-touching' if touching else ''}"] if ok else []
    # faults
    allow_invalid = False
    nf = int(rng.choice([0, 1, 2, 3, 4], p=[0.08, 0.32, 0.3, 0.2, 0.1]))
    for _ in range(nf):
        f = rng.random()
        if f < 0.5:
            share = MOVE_SHARES[int(rng.integers(3))]
            copies = MOVE_COPIES[int(rng.choice(3, p=[0.6, 0.25, 0.15]))]
            dk = ("sub", "under", "over", "large")[int(rng.integers(4))]
            if dk in ("under", "over") and S == 0:
                dk = "sub"
            if dk == "sub":
                d = float(rng.uniform(0.02, 0.95))
            elif dk == "under":
                d = S * float(rng.uniform(0.90, 0.98))
            elif dk == "over":
                d = S * float(rng.uniform(1.02, 1.10))
            else:
                d = float(rng.uniform(1.5, max(2.0, min(25.0, 0.08 * cell_m))))
            cov, ok = _try(move_vertex, cov, rng, share=share, dist_m=d, copies=copies)
            tags += [f"move{share}/{copies}/{dk}"] if ok else []
        elif f < 0.65:
            where = "frame" if rng.random() < 0.35 else "interior"
            pair = where == "interior" and rng.random() < 0.3
            depth = float(np.exp(rng.uniform(math.log(0.3), math.log(30.0))))
            cov, ok = _try(carve_apex_gap, cov, rng, where=where, depth_m=depth, pair=pair)
            tags += [f"apex-{where}{'-pair' if pair else ''}"] if ok else []
        elif f < 0.90:
            kind = FAULT_KINDS[int(rng.integers(len(FAULT_KINDS)))]
            cov, ok = _try(FAULTS[kind], cov, rng)
            tags += [kind] if ok else []
        elif f < 0.96:
            how = ("bowtie", "spike")[int(rng.integers(2))]
            cov, ok = _try(break_cell, cov, rng, how=how)
            allow_invalid |= ok
            tags += [how] if ok else []
        else:
            cov, ok = _try(empty_cell, cov, rng)
            tags += ["empty"] if ok else []
    boundary = None
    if rng.random() < 0.25:
        mode = ("frame", "perturbed", "holed")[int(rng.integers(3))]
        boundary = boundary_for(cov, rng, mode)
        tags.append(f"boundary:{mode}")
    name = f"c{k:03d}-{base}{len(cov)}" + ("-" + "+".join(t.replace("/", "_").replace(":", "=") for t in tags) if tags else "")
    return SmallCase(name, cov, S, W, boundary, base, allow_invalid, tags)


def _try(fn, cov, rng, **kw):
    """Apply a fault; a fault that finds no place leaves the coverage as it is."""
    try:
        return fn(cov, rng, **kw)[0], True
    except RuntimeError:
        return cov, False


# --------------------------------------------------------------------------------------------
# GeoJSON and CSV I/O
# --------------------------------------------------------------------------------------------
def _ring_list(ring) -> list:
    return shapely.get_coordinates(ring).tolist()


def _geometry_json(g) -> dict:
    if g.is_empty:  # POLYGON EMPTY / MultiPolygon []: a grid that covers nothing
        return {"type": g.geom_type if g.geom_type in ("Polygon", "MultiPolygon") else "Polygon",
                "coordinates": []}
    if g.geom_type == "Polygon":
        return {"type": "Polygon",
                "coordinates": [_ring_list(g.exterior)] + [_ring_list(r) for r in g.interiors]}
    if g.geom_type == "MultiPolygon":
        return {"type": "MultiPolygon",
                "coordinates": [[_ring_list(p.exterior)] + [_ring_list(r) for r in p.interiors]
                                for p in g.geoms]}
    return json.loads(shapely.to_geojson(g))


def to_geojson(cov_or_geoms, codes=None) -> dict:
    if isinstance(cov_or_geoms, Coverage):
        geoms, codes = cov_or_geoms.geoms, cov_or_geoms.codes
    else:
        geoms = cov_or_geoms
    feats = [{"type": "Feature", "properties": {"code": c}, "geometry": _geometry_json(g)}
             for g, c in zip(geoms, codes)]
    return {"type": "FeatureCollection", "features": feats}


def write_geojson(cov_or_geoms, path, codes=None) -> Path:
    """Compact JSON; floats are written with repr (shortest round-trip), i.e. full precision."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(to_geojson(cov_or_geoms, codes), f, separators=(",", ":"))
    return path


def read_geojson(path):
    """Returns (codes, geoms ndarray, properties list). Null geometries become empty polygons."""
    from shapely.geometry import shape

    with open(path) as f:
        fc = json.load(f)
    codes, geoms, props = [], [], []
    for feat in fc.get("features", []):
        p = feat.get("properties") or {}
        props.append(p)
        codes.append(p.get("code"))
        g = feat.get("geometry")
        geoms.append(shape(g) if g else Polygon())
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    return codes, arr, props


def random_points(n: int, seed: int, bbox, margin: float = 0.1) -> np.ndarray:
    """n uniform points over bbox grown by margin (fraction of width/height) on every side."""
    x0, y0, x1, y1 = bbox
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    rng = np.random.default_rng([seed, 31337])
    return np.column_stack([rng.uniform(x0 - dx, x1 + dx, n), rng.uniform(y0 - dy, y1 + dy, n)])


def boundary_points(cov: Coverage, n: int, seed: int) -> np.ndarray:
    """n points exactly on cell boundaries: vertices and exact edge midpoints (half each)."""
    rng = np.random.default_rng([seed, 271828])
    rings = shapely.get_exterior_ring(cov.array)
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    same = idx[1:] == idx[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    nv = n // 2
    verts = coords[rng.integers(0, len(coords), nv)]
    k = rng.integers(0, len(a), n - nv)
    mids = (a[k] + b[k]) / 2.0
    return np.vstack([verts, mids])


def write_points_csv(pts, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write("lon,lat\n")
        f.write("".join(f"{float(x)!r},{float(y)!r}\n" for x, y in pts))
    return path


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--cells", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fault", action="append", default=[], choices=FAULT_KINDS,
                    help="fault to inject (repeatable, applied in order)")
    ap.add_argument("--bbox", type=float, nargs=4, default=BBOX, metavar=("W", "S", "E", "N"))
    ap.add_argument("-o", "--out", required=True, help="output GeoJSON path")
    ap.add_argument("--points", type=int, default=0, help="also write this many random points")
    ap.add_argument("--points-out", help="points CSV path (lon,lat)")
    ap.add_argument("--check", action="store_true",
                    help="compare the expected fault sets with shapely.coverage_invalid_edges")
    args = ap.parse_args(argv)

    cov = make_case(args.cells, args.seed, args.fault, tuple(args.bbox))
    write_geojson(cov, args.out)
    if args.points:
        if not args.points_out:
            ap.error("--points needs --points-out")
        write_points_csv(random_points(args.points, args.seed, cov.rect), args.points_out)
    exp = cov.expected()
    out = {"file": str(args.out), "cells": len(cov), "faults": cov.faults, "expected": exp}
    if args.check:
        e = shapely.coverage_invalid_edges(cov.array, gap_width=0.0)
        flagged = sorted(c for c, g in zip(cov.codes, e) if not g.is_empty)
        out["geos_invalid_edges"] = flagged
        out["geos_agrees"] = flagged == exp["invalid_edges"]
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0 if out.get("geos_agrees", True) else 1


if __name__ == "__main__":
    sys.exit(main())
