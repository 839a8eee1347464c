// Small geometry helpers for the pages (and their browser test): no imports, no DOM.

/** The bounds of a GeoJSON geometry, `[[w, s], [e, n]]`. */
export function bounds(geometry) {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return [[w, s], [e, n]];
}

/** A point inside a polygon's outer ring (the centre of its bounds when that is inside). */
export function inside(geometry) {
  const ring = geometry.type === 'MultiPolygon' ? geometry.coordinates[0][0] : geometry.coordinates[0];
  const [[w, s], [e, n]] = bounds({ coordinates: ring });
  const test = ([x, y]) => {
    let hit = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
    }
    return hit;
  };
  for (let k = 1; k < 12; k += 1) {
    for (let a = 0; a <= k; a += 1) {
      const p = [w + ((e - w) * (a + 0.5)) / (k + 1), s + ((n - s) * (k - a + 0.5)) / (k + 1)];
      if (test(p)) return p;
    }
  }
  return ring[0];
}
