// The district's own map, with nothing from outside the server: the outline, streets (街道/镇),
// communities (社区/村) and grids (网格) from the API, each level drawn differently, and labels
// drawn by the browser from its own fonts (the style names no glyph server, so MapLibre draws
// every label locally and requests no font). A basemap style configured on the server
// (`tessera serve --basemap-style URL`, read from /api/v1/map-config) is drawn underneath.
import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';

export { maplibregl };
export { bounds, inside } from '/assets/geometry.js';
import { bounds } from '/assets/geometry.js';

const FONT = ['Noto Sans CJK SC', 'Noto Sans', 'sans-serif'];
const URGENCY = ['match', ['get', 'urgency'], 'red', '#d7263d', 'yellow', '#f4b400', 'green', '#2e9e44', '#777'];

/** A map of the district in `container`; resolves when its own layers are drawn. */
export async function districtMap(container, { grids = true, center = [118.05, 36.81], zoom = 10.5 } = {}) {
  const config = await fetch('/api/v1/map-config').then((r) => r.json()).catch(() => ({}));
  const map = new maplibregl.Map({
    container,
    style: config.basemap_style ?? {
      version: 8,
      sources: {},
      layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#f4f1ea' } }],
    },
    center,
    zoom,
    attributionControl: false,
    localIdeographFontFamily: "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  window.tesseraMap = map;
  await new Promise((ok) => map.once('load', ok));
  const get = (url) => fetch(url).then((r) => (r.ok ? r.json() : null)).catch(() => null);
  const [outline, streets, communities] = await Promise.all([
    get('/api/v1/outline'), get('/api/v1/streets'), get('/api/v1/communities'),
  ]);
  if (grids) gridTiles(map);
  if (communities) {
    map.addSource('communities', { type: 'geojson', data: communities });
    map.addLayer({ id: 'community-line', type: 'line', source: 'communities', minzoom: 10, paint: { 'line-color': '#6b5b95', 'line-width': 1, 'line-dasharray': [3, 2] } });
  }
  if (streets) {
    map.addSource('streets', { type: 'geojson', data: streets });
    map.addLayer({ id: 'street-line', type: 'line', source: 'streets', paint: { 'line-color': '#3d3d3d', 'line-width': 1.8 } });
  }
  if (outline?.geometry) {
    map.addSource('outline', { type: 'geojson', data: outline });
    map.addLayer({ id: 'outline-line', type: 'line', source: 'outline', paint: { 'line-color': '#8c1d18', 'line-width': 3 } });
    fit(map, outline.geometry);
  }
  if (streets) {
    map.addLayer({
      id: 'street-label', type: 'symbol', source: 'streets', maxzoom: 12.5,
      layout: { 'text-field': ['get', 'name'], 'text-font': FONT, 'text-size': 14 },
      paint: { 'text-color': '#222', 'text-halo-color': '#fff', 'text-halo-width': 1.5 },
    });
  }
  if (communities) {
    map.addLayer({
      id: 'community-label', type: 'symbol', source: 'communities', minzoom: 12.5, maxzoom: 14.5,
      layout: { 'text-field': ['get', 'name'], 'text-font': FONT, 'text-size': 12 },
      paint: { 'text-color': '#4b3d75', 'text-halo-color': '#fff', 'text-halo-width': 1.2 },
    });
  }
  if (grids) {
    map.addLayer({
      id: 'grid-label', type: 'symbol', source: 'grids', 'source-layer': 'grids', minzoom: 14.5,
      layout: { 'text-field': ['format', ['get', 'name'], {}, '\n', {}, ['get', 'code'], { 'font-scale': 0.8 }], 'text-font': FONT, 'text-size': 11 },
      paint: { 'text-color': '#2f4f3a', 'text-halo-color': '#fff', 'text-halo-width': 1 },
    });
  }
  return map;
}

/**
 * The published grids on `map` as vector tiles (`/tiles/grids/{z}/{x}/{y}.mvt`, source and
 * source-layer `grids`, features keyed by `code`): a map of a province draws only what is in
 * view, never the whole layer.
 */
export function gridTiles(map, { opacity = 0.35, lineMinZoom = 11 } = {}) {
  map.addSource('grids', {
    type: 'vector', tiles: [`${location.origin}/tiles/grids/{z}/{x}/{y}.mvt`], maxzoom: 16, promoteId: 'code',
  });
  map.addLayer({ id: 'grid-fill', type: 'fill', source: 'grids', 'source-layer': 'grids', paint: { 'fill-color': '#cfe3d4', 'fill-opacity': opacity } });
  map.addLayer({ id: 'grid-line', type: 'line', source: 'grids', 'source-layer': 'grids', minzoom: lineMinZoom, paint: { 'line-color': '#5a7d66', 'line-width': 0.5 } });
}

/** Fits the map to a geometry. */
export function fit(map, geometry, maxZoom = 16) {
  map.fitBounds(bounds(geometry), { padding: 30, duration: 0, maxZoom });
}

/**
 * Case points on `map`: a GeoJSON source `cases` (features with `id`, `ticket`, `urgency`,
 * `overdue`), coloured by urgency, clustered when zoomed out, with a heat layer under them.
 * Answers a function that replaces the points.
 */
export function caseLayer(map, onClick) {
  map.addSource('cases', { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, cluster: true, clusterRadius: 40, clusterMaxZoom: 14 });
  map.addSource('cases-heat', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({
    id: 'case-heat', type: 'heatmap', source: 'cases-heat', maxzoom: 15,
    paint: { 'heatmap-radius': 18, 'heatmap-opacity': ['interpolate', ['linear'], ['zoom'], 10, 0.7, 15, 0] },
  });
  map.addLayer({
    id: 'case-cluster', type: 'circle', source: 'cases', filter: ['has', 'point_count'],
    paint: { 'circle-color': '#8c1d18', 'circle-opacity': 0.8, 'circle-radius': ['step', ['get', 'point_count'], 12, 10, 16, 50, 22] },
  });
  map.addLayer({
    id: 'case-cluster-count', type: 'symbol', source: 'cases', filter: ['has', 'point_count'],
    layout: { 'text-field': ['get', 'point_count_abbreviated'], 'text-font': FONT, 'text-size': 12 },
    paint: { 'text-color': '#fff' },
  });
  map.addLayer({
    id: 'case-point', type: 'circle', source: 'cases', filter: ['!', ['has', 'point_count']],
    paint: {
      'circle-color': URGENCY, 'circle-radius': 7,
      'circle-stroke-color': ['case', ['get', 'overdue'], '#000', '#fff'], 'circle-stroke-width': ['case', ['get', 'overdue'], 3, 1.5],
    },
  });
  map.on('click', 'case-cluster', async (e) => {
    const f = e.features[0];
    const zoom = await map.getSource('cases').getClusterExpansionZoom(f.properties.cluster_id);
    map.easeTo({ center: f.geometry.coordinates, zoom });
  });
  if (onClick) map.on('click', 'case-point', (e) => onClick(e.features[0].properties.id));
  return (cases) => {
    const data = {
      type: 'FeatureCollection',
      features: cases.filter((c) => c.report?.pin?.wgs84).map((c) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: c.report.pin.wgs84 },
        properties: { id: c.id, ticket: c.ticket, urgency: c.urgency, overdue: (c.overdue ?? []).length > 0 },
      })),
    };
    map.getSource('cases').setData(data);
    map.getSource('cases-heat').setData(data);
  };
}
