// The planner's page: the published layer and its drafts; upload a GeoJSON exported from QGIS;
// every overlap, gap and invalid edge of a version drawn and listed (click to zoom); repair;
// the impact of publishing (cases, households, workers that change grid); publish with a
// reason; the diff against the live version. Edits with terra-draw — a grid's boundary with
// vertex snapping to the neighbours, a new grid, a split along a drawn line, a merge — are
// saved as a new draft (POST /api/v1/layers/{id}/edits), which is validated like an upload.
import { t, translate } from '/assets/i18n.js';
import { api, signedIn, report, el } from '/assets/staff.js';
import { districtMap, fit } from '/assets/map.js';

translate();
const $ = (id) => document.getElementById(id);

const PROBLEM = { overlap: '#d7263d', gap: '#f08a24', invalid_edges: '#7b2cbf', outside_boundary: '#1f77b4', invalid_geometry: '#000' };

async function start() {
  const map = await districtMap('map', { grids: false });
  map.addSource('version', { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, promoteId: 'code' });
  map.addLayer({ id: 'version-fill', type: 'fill', source: 'version', paint: { 'fill-color': ['case', ['boolean', ['feature-state', 'changed'], false], '#ffd166', '#cfe3d4'], 'fill-opacity': 0.45 } });
  map.addLayer({ id: 'version-line', type: 'line', source: 'version', paint: { 'line-color': '#2f4f3a', 'line-width': 0.8 } });
  map.addSource('problems', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'problem-fill', type: 'fill', source: 'problems', filter: ['!=', ['geometry-type'], 'LineString'], paint: { 'fill-color': ['get', 'color'], 'fill-opacity': 0.6 } });
  map.addLayer({ id: 'problem-line', type: 'line', source: 'problems', paint: { 'line-color': ['get', 'color'], 'line-width': 3 } });
  map.addSource('picked', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'picked-line', type: 'line', source: 'picked', paint: { 'line-color': '#0057b8', 'line-width': 3 } });

  const draw = new terraDraw.TerraDraw({
    adapter: new terraDrawMaplibreGlAdapter.TerraDrawMapLibreGLAdapter({ map, coordinatePrecision: 9 }),
    modes: [
      new terraDraw.TerraDrawSelectMode({
        flags: {
          polygon: { feature: { draggable: false, coordinates: { midpoints: true, draggable: true, deletable: true, snappable: { toCustom: snap } } } },
        },
      }),
      new terraDraw.TerraDrawPolygonMode({ snapping: { toCustom: snap } }),
      new terraDraw.TerraDrawLineStringMode({ snapping: { toCustom: snap } }),
    ],
  });
  draw.start();
  window.tesseraDraw = draw;

  let layers = [];
  let live = null;
  let version = null; // { layer, report }
  let grids = new Map(); // code → feature of the version shown
  let exact = new Map(); // rounded "x,y" → the exact vertex, to undo the editor's rounding
  let picked = null;
  let edits = [];
  let mergeFrom = null;
  let editing = null; // { kind: 'replace' | 'add' | 'split', grid?, id }

  const key = ([x, y]) => `${Math.round(x * 1e9)},${Math.round(y * 1e9)}`;
  function vertices(geometry, f) {
    const walk = (c) => (typeof c[0] === 'number' ? f(c) : c.forEach(walk));
    walk(geometry.coordinates);
  }

  /** The nearest vertex of a grid under the pointer within 12 px, exactly as stored. */
  function snap(event) {
    const box = [[event.containerX - 12, event.containerY - 12], [event.containerX + 12, event.containerY + 12]];
    let best = null, bestD = 12;
    for (const f of map.queryRenderedFeatures(box, { layers: ['version-fill'] })) {
      const g = grids.get(f.properties.code);
      if (!g) continue;
      vertices(g.geometry, (c) => {
        const p = map.project(c);
        const d = Math.hypot(p.x - event.containerX, p.y - event.containerY);
        if (d < bestD) { bestD = d; best = c; }
      });
    }
    return best ?? undefined;
  }
  /** A geometry from the editor with every vertex it rounded put back exactly. */
  function restore(geometry) {
    const fix = (c) => (typeof c[0] === 'number' ? exact.get(key(c)) ?? c : c.map(fix));
    return { type: geometry.type, coordinates: fix(geometry.coordinates) };
  }

  async function loadLayers() {
    const list = await api('/api/v1/layers');
    layers = list.layers;
    live = list.publishes[0]?.layer_id ?? null;
    $('layers').replaceChildren(...layers.map((l) => el('li', { class: version?.layer.id === l.id ? 'open' : '' },
      el('button', { type: 'button', dataset: { id: l.id }, onclick: () => show(l.id) },
        `#${l.id} ${l.name}`, ' ',
        el('span', { class: `badge ${l.seamless ? 'green' : 'red'}` }, l.seamless ? t('planner.seamless', '无缝') : t('planner.problems', '有问题')),
        l.id === live ? el('span', { class: 'badge live on' }, t('planner.live', '现行')) : null,
        el('small', {}, ` ${l.grid_count} · ${l.created_by} · ${l.created_at.slice(0, 16).replace('T', ' ')}`)))));
  }

  async function show(id) {
    $('message').textContent = '';
    $('impact').replaceChildren();
    $('diff').replaceChildren();
    clearEdits();
    const [detail, collection] = await Promise.all([api(`/api/v1/layers/${id}`), api(`/api/v1/layers/${id}/grids`)]);
    version = detail;
    grids = new Map(collection.features.map((f) => [f.properties.code ?? f.id, f]));
    exact = new Map();
    for (const f of collection.features) vertices(f.geometry, (c) => exact.set(key(c), c));
    map.getSource('version').setData({ type: 'FeatureCollection', features: collection.features.map((f) => ({ ...f, id: undefined, properties: { ...f.properties, code: f.properties.code ?? f.id } })) });
    $('v-name').textContent = `#${detail.layer.id} ${detail.layer.name}`;
    $('v-state').textContent = detail.layer.seamless ? t('planner.seamless', '无缝') : t('planner.problems', '有问题');
    $('v-state').className = `badge ${detail.layer.seamless ? 'green' : 'red'}`;
    drawProblems(detail.report);
    await loadLayers();
    document.body.dataset.version = String(id);
  }

  function problemItems(r) {
    const items = [];
    const add = (kind, text, geometry) => items.push({ kind, text, geometry });
    for (const o of r.overlaps) add('overlap', `${t('planner.overlap', '重叠')} ${o.grids.join(' / ')} · ${o.area_m2.toFixed(1)} m²`, o.geometry);
    for (const g of r.gaps) add('gap', `${t('planner.gap', '缝隙')} ${g.area_m2.toFixed(1)} m² · ${t('planner.width', '宽')} ${g.width_m.toFixed(2)} m · ${g.neighbours.join(', ')}`, g.geometry);
    for (const e of r.invalid_edges) add('invalid_edges', `${t('planner.invalid_edges', '边界不吻合')} ${e.grid}`, e.geometry);
    for (const o of r.outside_boundary) add('outside_boundary', `${t('planner.outside', '超出辖区')} ${o.grid} · ${o.area_m2.toFixed(1)} m²`, o.geometry);
    for (const g of r.invalid_geometry) add('invalid_geometry', `${t('planner.invalid_geometry', '几何无效')} ${g.grid}${g.reason ? ` · ${g.reason}` : ''}`, g.location ? { type: 'Point', coordinates: g.location } : null);
    for (const g of r.empty_geometry) add('invalid_geometry', `${t('planner.empty', '空几何')} ${g.grid}`, null);
    return items;
  }
  function drawItems(items) {
    map.getSource('problems').setData({
      type: 'FeatureCollection',
      features: items.filter((i) => i.geometry).map((i) => ({ type: 'Feature', geometry: i.geometry, properties: { kind: i.kind, color: PROBLEM[i.kind] } })),
    });
  }
  function drawProblems(r) {
    const items = problemItems(r);
    drawItems(items);
    $('summary').textContent = items.length
      ? `${items.length} ${t('planner.n_problems', '处问题')}`
      : t('planner.clean', '无重叠、无缝隙、边界全部吻合。');
    $('problems').replaceChildren(...items.map((i) => el('li', { class: `problem ${i.kind}` },
      el('button', { type: 'button', onclick: () => i.geometry && fit(map, i.geometry, 18) }, i.text))));
  }

  // Picking a grid (and merging with the next one picked).
  map.on('click', 'version-fill', (e) => {
    if (editing) return;
    const code = e.features[0].properties.code;
    if (mergeFrom && mergeFrom !== code) {
      pushEdit({ op: 'merge', grids: [mergeFrom, code] }, `${t('planner.merge', '合并')} ${mergeFrom} + ${code}`);
      mergeFrom = null;
      return;
    }
    picked = code;
    $('e-grid').textContent = `${code} · ${grids.get(code)?.properties.name ?? ''}`;
    map.getSource('picked').setData(grids.get(code) ?? { type: 'FeatureCollection', features: [] });
  });

  // Each edit, and a boundary while it is dragged, is checked where it acts
  // (POST /api/v1/layers/{id}/check): the grid and its neighbours, in milliseconds, nothing saved.
  let checkTimer = null;
  let checkSeq = 0;
  function checkSoon(extra = []) {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(() => localCheck(extra), 120);
  }
  async function localCheck(extra = []) {
    const list = [...edits, ...extra];
    const out = $('e-check');
    if (!list.length || !version) { out.textContent = ''; delete out.dataset.valid; return; }
    const seq = ++checkSeq;
    try {
      const c = await api(`/api/v1/layers/${version.layer.id}/check`, { method: 'POST', json: { edits: list } });
      if (seq !== checkSeq) return;
      const items = problemItems(c.report);
      drawItems(items);
      const where = `${c.checked.length} ${t('planner.check_grids', '个网格')}, ${c.elapsed_ms.toFixed(1)} ms`;
      out.textContent = items.length
        ? `${t('planner.check', '局部检查')} (${where}): ${items.map((i) => i.text).join('; ')}`
        : `${t('planner.check', '局部检查')} (${where}): ${t('planner.check_clean', '无重叠、无缝隙、边界吻合')}`;
      out.dataset.valid = String(c.report.valid);
    } catch (e) {
      if (seq !== checkSeq) return;
      out.textContent = e.message;
      out.dataset.valid = 'false';
    }
  }
  function pushEdit(edit, text) {
    edits.push(edit);
    $('edits').append(el('li', {}, text));
    $('message').textContent = '';
    localCheck();
  }
  draw.on('change', (ids, type) => {
    if (editing?.kind !== 'replace' || type === 'delete') return;
    const f = draw.getSnapshotFeature(editing.id);
    if (f) checkSoon([{ op: 'replace', grid: editing.grid, geometry: restore(f.geometry) }]);
  });
  function clearEdits() {
    edits = [];
    editing = null;
    mergeFrom = null;
    $('edits').replaceChildren();
    $('e-check').textContent = '';
    if (version) drawProblems(version.report);
    draw.clear();
    draw.setMode('static');
  }

  // terra-draw finishes a drawing: a new grid or a split line.
  draw.on('finish', (id, context) => {
    if (!editing) return;
    const f = draw.getSnapshotFeature(id);
    if (editing.kind === 'add' && context.action === 'draw') {
      const code = prompt(t('planner.new_code', '新网格编码'), '');
      if (code) pushEdit({ op: 'add', grid: code, geometry: restore(f.geometry), properties: { name: code } }, `${t('planner.draw', '新增')} ${code}`);
      draw.clear();
      editing = null;
      draw.setMode('static');
    } else if (editing.kind === 'split' && context.action === 'draw') {
      pushEdit({ op: 'split', grid: editing.grid, line: f.geometry }, `${t('planner.split', '拆分')} ${editing.grid}`);
      draw.clear();
      editing = null;
      draw.setMode('static');
    }
  });

  $('e-edit').onclick = () => {
    if (editing?.kind === 'replace') {
      // Second press: take the edited boundary.
      const f = draw.getSnapshotFeature(editing.id);
      pushEdit({ op: 'replace', grid: editing.grid, geometry: restore(f.geometry) }, `${t('planner.edit_boundary', '修改边界')} ${editing.grid}`);
      draw.clear();
      editing = null;
      draw.setMode('static');
      $('e-edit').textContent = t('planner.edit_boundary', '修改边界');
      return;
    }
    if (!picked) { $('message').textContent = t('planner.pick', '在地图上点击一个网格。'); return; }
    const g = grids.get(picked);
    const polygon = g.geometry.type === 'MultiPolygon' ? { type: 'Polygon', coordinates: g.geometry.coordinates[0] } : g.geometry;
    draw.setMode('select');
    const [result] = draw.addFeatures([{ type: 'Feature', geometry: polygon, properties: { mode: 'polygon' } }]);
    editing = { kind: 'replace', grid: picked, id: result.id };
    draw.selectFeature(result.id);
    $('e-edit').textContent = t('planner.edit_done', '完成修改');
  };
  $('e-split').onclick = () => {
    if (!picked) { $('message').textContent = t('planner.pick', '在地图上点击一个网格。'); return; }
    editing = { kind: 'split', grid: picked };
    draw.setMode('linestring');
  };
  $('e-draw').onclick = () => {
    editing = { kind: 'add' };
    draw.setMode('polygon');
  };
  $('e-merge').onclick = () => {
    if (!picked) { $('message').textContent = t('planner.pick', '在地图上点击一个网格。'); return; }
    mergeFrom = picked;
    $('message').textContent = t('planner.merge_next', '再点击要并入的相邻网格。');
  };
  $('e-remove').onclick = () => {
    if (picked) pushEdit({ op: 'remove', grid: picked }, `${t('planner.remove', '删除')} ${picked}`);
  };
  $('e-clear').onclick = clearEdits;
  $('e-save').onclick = async () => {
    if (!edits.length) return;
    try {
      const d = await api(`/api/v1/layers/${version.layer.id}/edits`, { method: 'POST', json: { edits } });
      await show(d.layer.id);
    } catch (e) {
      report(e);
    }
  };

  // Upload, repair, impact, diff, publish.
  $('upload').addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = $('u-file').files[0];
    if (!file) { $('message').textContent = t('planner.need_file', '请选择 GeoJSON 文件。'); return; }
    const name = $('u-name').value.trim() || file.name;
    try {
      const d = await api(`/api/v1/layers?name=${encodeURIComponent(name)}`, {
        method: 'POST', headers: { 'content-type': 'application/geo+json' }, body: await file.text(),
      });
      await show(d.layer.id);
    } catch (err) {
      report(err);
    }
  });
  $('b-repair').onclick = async () => {
    try {
      const d = await api(`/api/v1/layers/${version.layer.id}/repair`, { method: 'POST', json: {} });
      await show(d.layer.id);
      $('impact').replaceChildren(el('p', {}, `${t('planner.repaired', '已修复')}: ${d.changes.length} ${t('planner.grids_changed', '个网格有变化')}`),
        el('ul', {}, ...d.changes.slice(0, 20).map((c) => el('li', {}, `${c.grid}: ${(c.area_after_m2 - c.area_before_m2).toFixed(1)} m²`))));
    } catch (e) {
      report(e);
    }
  };
  $('b-impact').onclick = async () => {
    try {
      const d = await api(`/api/v1/layers/${version.layer.id}/impact`);
      $('impact').replaceChildren(
        el('p', { id: 'impact-summary' }, `${t('planner.impact_cases', '换网格的在办工单')} ${d.open_cases.length} · ${t('planner.impact_households', '涉及户数')} ${Math.round(d.households_moving)} · ${t('planner.impact_workers', '涉及网格员')} ${d.workers.length}`),
        el('ul', {}, ...d.grids.slice(0, 20).map((g) => el('li', {}, JSON.stringify(g)))));
    } catch (e) {
      report(e);
    }
  };
  $('b-diff').onclick = async () => {
    if (!live) return;
    try {
      const d = await api(`/api/v1/layers/${live}/diff/${version.layer.id}`);
      for (const f of grids.keys()) map.setFeatureState({ source: 'version', id: f }, { changed: false });
      for (const g of [...d.added, ...d.reshaped]) map.setFeatureState({ source: 'version', id: g.grid }, { changed: true });
      $('diff').replaceChildren(
        el('p', { id: 'diff-summary' }, `#${live} → #${version.layer.id}: ${t('planner.added', '新增')} ${d.added.length} · ${t('planner.removed', '删除')} ${d.removed.length} · ${t('planner.reshaped', '调整')} ${d.reshaped.length}`),
        el('ul', {}, ...[...d.added.map((g) => `+ ${g.grid}`), ...d.removed.map((g) => `− ${g.grid}`), ...d.reshaped.map((g) => `~ ${g.grid} ${(g.area_after_m2 - g.area_before_m2).toFixed(1)} m²`)].slice(0, 30).map((x) => el('li', {}, x))));
    } catch (e) {
      report(e);
    }
  };
  $('b-publish').onclick = async () => {
    const reason = $('p-reason').value.trim();
    const body = version.layer.seamless ? { reason: reason || undefined } : { force: true, reason };
    try {
      await api(`/api/v1/layers/${version.layer.id}/publish`, { method: 'POST', json: body });
      $('message').textContent = `${t('planner.published', '已发布')} #${version.layer.id}`;
      await loadLayers();
    } catch (e) {
      report(e);
    }
  };

  await loadLayers();
  const start = live ?? layers[0]?.id;
  if (start) await show(start);
  document.body.dataset.plannerReady = 'true';
}

const me = await signedIn(['planner', 'dispatcher', 'supervisor', 'admin']);
if (me) await start();
