// The citizen's report page (民情诉递): a pin on the district's grid map (clicked, dragged, from
// the device's location, or handed over in the address by a Chinese map SDK as
// `?lon=&lat=&crs=gcj02|bd09`, converted by the service and sent as given), a preview of where
// the report will go, a category and a description; submitted as POST /api/v1/cases.
import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { t, translate, lang } from '/assets/i18n.js';
import { gridTiles } from '/assets/map.js';

translate();
const $ = (id) => document.getElementById(id);
let pin = null;

async function json(url, options) {
  const r = await fetch(url, options);
  const body = await r.json().catch(() => null);
  return { ok: r.ok, status: r.status, body };
}

const map = new maplibregl.Map({
  container: 'map',
  style: { version: 8, sources: {}, layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#f4f1ea' } }] },
  center: [118.05, 36.81],
  zoom: 11,
  attributionControl: false,
});
window.tesseraMap = map;
const marker = new maplibregl.Marker({ draggable: true });
window.tesseraMarker = marker;

map.on('load', async () => {
  gridTiles(map, { opacity: 0.4, lineMinZoom: 0 });
  document.body.dataset.mapReady = 'true';
});

/**
 * Puts the pin at `lngLat` (WGS 84) — or, with `crs` gcj02/bd09, at that position as a Chinese
 * map SDK gives it: the service converts it, the marker goes to the converted point, and the
 * report carries the position as given with its `crs`.
 */
async function place(lngLat, crs = 'wgs84') {
  pin = { lon: lngLat.lng, lat: lngLat.lat, crs };
  $('pin-error').textContent = '';
  const r = await json(`/api/v1/locate?lon=${pin.lon}&lat=${pin.lat}&crs=${crs}`);
  const shown = r.ok && crs !== 'wgs84' ? { lng: r.body.wgs84[0], lat: r.body.wgs84[1] } : lngLat;
  marker.setLngLat(shown).addTo(map);
  if (crs !== 'wgs84') map.jumpTo({ center: shown, zoom: Math.max(map.getZoom(), 15) });
  if (r.ok) {
    const w = r.body.worker;
    $('where').textContent = `${t('report.goes_to', '将交由')}: ${r.body.grid.name}` +
      (w ? ` · ${w.name} ${w.phone || ''}` : '');
  } else {
    $('where').textContent = t('report.outside', '不在任何网格内：将由诉求服务中心指派。');
  }
}
map.on('click', (e) => place(e.lngLat));
marker.on('dragend', () => place(marker.getLngLat()));
// The device's location (the Geolocation API answers WGS 84).
$('locate-me').addEventListener('click', () => {
  if (!navigator.geolocation) {
    $('pin-error').textContent = t('report.no_location', '无法获取位置，请在地图上选择。');
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (p) => place({ lng: p.coords.longitude, lat: p.coords.latitude }),
    () => { $('pin-error').textContent = t('report.no_location', '无法获取位置，请在地图上选择。'); },
    { enableHighAccuracy: true, timeout: 10000 },
  );
});
// A position handed over by a Chinese map SDK or mini-program: `?lon=&lat=&crs=gcj02`.
{
  const q = new URLSearchParams(location.search);
  const crs = q.get('crs') ?? 'wgs84';
  if (q.has('lon') && q.has('lat') && ['wgs84', 'gcj02', 'bd09'].includes(crs)) {
    map.once('load', () => place({ lng: Number(q.get('lon')), lat: Number(q.get('lat')) }, crs));
  }
}

const categories = await json('/api/v1/categories');
for (const c of categories.body?.categories ?? categories.body ?? []) {
  const o = document.createElement('option');
  const p = c.properties ?? c;
  o.value = c.code ?? c.key ?? p.code;
  o.textContent = lang() === 'en' ? (p.name_en ?? o.value) : (p.name_zh ?? o.value);
  $('category').append(o);
}

$('report').addEventListener('submit', async (e) => {
  e.preventDefault();
  for (const id of ['pin-error', 'category-error', 'description-error']) $(id).textContent = '';
  if (!pin) { $('pin-error').textContent = t('report.need_pin', '请先在地图上选择位置。'); return; }
  if (!$('description').value.trim()) {
    $('description-error').textContent = t('report.need_description', '请描述问题。');
    return;
  }
  const body = {
    channel: 'citizen', category: $('category').value, description: $('description').value,
    lon: pin.lon, lat: pin.lat, crs: pin.crs,
  };
  const name = $('name').value.trim(), phone = $('phone').value.trim();
  if (name || phone) body.contact = { name: name || null, phone: phone || null };
  $('submit').disabled = true;
  const key = sessionStorage.getItem('tessera.report.key') || crypto.randomUUID();
  sessionStorage.setItem('tessera.report.key', key);
  const r = await json('/api/v1/cases', {
    method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  $('submit').disabled = false;
  if (!r.ok) {
    const field = r.body?.error?.details?.field;
    const target = { category: 'category-error', description: 'description-error' }[field] || 'pin-error';
    $(target).textContent = r.body?.error?.message ?? `HTTP ${r.status}`;
    return;
  }
  sessionStorage.removeItem('tessera.report.key');
  $('report').hidden = true;
  $('done').hidden = false;
  $('ticket').textContent = r.body.ticket;
  $('track').href = `/track/${r.body.tracking_token}`;
  pending = [...$('photos').files];
  target = `/api/v1/cases/${r.body.id}/media?token=${encodeURIComponent(r.body.tracking_token)}`;
  await upload();
});

// Photos and voice notes go up after the report, with its tracking token; a failed upload can
// be tried again without reporting again.
let pending = [];
let target = null;
let attached = 0;
async function upload() {
  $('upload-error').textContent = '';
  $('retry').hidden = true;
  while (pending.length) {
    const form = new FormData();
    form.append('file', pending[0]);
    const r = await fetch(target, { method: 'POST', body: form }).catch(() => null);
    if (!r || !r.ok) {
      const body = r ? await r.json().catch(() => null) : null;
      $('upload-error').textContent = body?.error?.message ?? `${pending[0].name}: ${r ? 'HTTP ' + r.status : 'offline'}`;
      $('retry').hidden = false;
      return;
    }
    pending.shift();
    attached += 1;
    $('uploaded').textContent = `${attached} ${t('report.uploaded', '个附件已上传')}`;
  }
}
$('retry').addEventListener('click', upload);
