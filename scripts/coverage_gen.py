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
are kept at least two neighbour steps apart, so the expected sets do not interact.

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
    """normalized segment -> (i) index of the segment start in the ring"""
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
        for b, v, w, _ in nbrs[:2]:
            if not topo.interior(b) or not topo.free([a, b]):
                continue
            res = accept(a, b, v, w)
            if res is not None:
                return a, b, v, w, res
    raise RuntimeError("no suitable cell pair for fault injection")


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
# GeoJSON and CSV I/O
# --------------------------------------------------------------------------------------------
def _ring_list(ring) -> list:
    return shapely.get_coordinates(ring).tolist()


def _geometry_json(g) -> dict:
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
