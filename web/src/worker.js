// A grid worker's phone page: the open cases of their grids, oldest deadline first; accept with
// a check-in on site (the device's position is recorded with the action), reply, resolve with
// photos; and a hazard found on patrol reported with a pin.
import { t, translate, lang } from '/assets/i18n.js';
import { api, signedIn, report, say, el, countdown, secondsUntil, nextDeadline } from '/assets/staff.js';
import { districtMap, maplibregl } from '/assets/map.js';

translate();
const $ = (id) => document.getElementById(id);

/** The device's position as `[lon, lat]`, or null when it cannot tell within 10 s. */
function position() {
  return new Promise((done) => {
    if (!navigator.geolocation) return done(null);
    navigator.geolocation.getCurrentPosition(
      (p) => done([p.coords.longitude, p.coords.latitude]),
      () => done(null),
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
    );
  });
}

async function start() {
  const categories = (await api('/api/v1/categories')).categories;
  const categoryName = Object.fromEntries(categories.map((c) => [c.code, lang() === 'en' ? c.name_en : c.name_zh]));
  for (const c of categories) $('p-category').append(el('option', { value: c.code }, categoryName[c.code]));
  let current = null;

  async function load() {
    try {
      const page = await api('/api/v1/cases?open=true&per_page=200');
      const due = (c) => {
        const n = nextDeadline(c);
        return n ? Date.parse(n.at) : Infinity;
      };
      const mine = page.cases.filter((c) => ['dispatched', 'accepted', 'replied'].includes(c.state) || c.redo_count > 0)
        .sort((a, b) => due(a) - due(b));
      $('queue').replaceChildren(...mine.map((c) => {
        const next = nextDeadline(c);
        const left = next ? secondsUntil(next.at) : null;
        return el('li', { class: `case ${c.urgency}${c.overdue.length ? ' overdue' : ''}`, dataset: { ticket: c.ticket } },
          el('button', { type: 'button', onclick: () => open(c.id) },
            el('strong', {}, c.ticket), ' ', el('span', { class: 'badge' }, say(c.state)), ' ',
            categoryName[c.category] ?? c.category, el('br'),
            el('small', {}, c.report.description ?? ''),
            next ? el('small', { class: `clock${left < 0 ? ' late' : ''}` }, ` · ${say(next.stage)} ${countdown(left)}`) : null));
      }));
      if (!mine.length) $('queue').replaceChildren(el('li', {}, t('worker.empty', '暂无待办工单。')));
      document.body.dataset.queueReady = 'true';
    } catch (e) {
      report(e);
    }
  }

  async function open(id) {
    $('c-error').textContent = '';
    try {
      current = await api(`/api/v1/cases/${id}`);
    } catch (e) {
      report(e, 'c-error');
      return;
    }
    const c = current;
    $('case').hidden = false;
    $('c-ticket').textContent = c.ticket;
    $('c-state').textContent = say(c.state);
    $('c-what').textContent = `${categoryName[c.category] ?? c.category} · ${c.report.description ?? ''} · ${c.grid?.name ?? ''}`;
    const next = nextDeadline(c);
    $('c-deadline').textContent = next ? `${say(next.stage)} ${next.at.replace('T', ' ').slice(0, 16)} (${countdown(secondsUntil(next.at))})` : '';
    $('c-accept').disabled = c.state !== 'dispatched';
    $('c-send-reply').disabled = c.state !== 'accepted';
    $('c-resolve').disabled = !['accepted', 'replied'].includes(c.state);
    $('case').scrollIntoView({ block: 'nearest' });
  }

  async function act(body) {
    $('c-error').textContent = '';
    try {
      current = await api(`/api/v1/cases/${current.id}/actions`, { method: 'POST', json: { version: current.version, ...body } });
      await open(current.id);
      await load();
      return true;
    } catch (e) {
      report(e, 'c-error');
      return false;
    }
  }

  $('c-accept').onclick = async () => {
    const at = await position();
    await act(at ? { action: 'accept', position: at } : { action: 'accept' });
  };
  $('c-send-reply').onclick = () => act({ action: 'reply', text: $('c-reply').value.trim() });
  $('c-resolve').onclick = async () => {
    // Photos first, so a failed upload leaves the case open to try again.
    for (const file of [...$('c-photos').files]) {
      const form = new FormData();
      form.append('file', file);
      try {
        await api(`/api/v1/cases/${current.id}/media`, { method: 'POST', body: form });
      } catch (e) {
        report(e, 'c-error');
        return;
      }
      current = await api(`/api/v1/cases/${current.id}`);
    }
    $('c-photos').value = '';
    await act({ action: 'resolve', note: $('c-note').value.trim() });
  };

  // Patrol: a hazard found on the rounds, reported with a pin.
  const map = await districtMap('map', { zoom: 12 });
  const marker = new maplibregl.Marker({ draggable: true });
  let pin = null;
  const place = (p) => {
    pin = [p.lng, p.lat];
    marker.setLngLat(p).addTo(map);
    $('p-where').textContent = `${pin[0].toFixed(5)}, ${pin[1].toFixed(5)}`;
  };
  map.on('click', (e) => place(e.lngLat));
  marker.on('dragend', () => place(marker.getLngLat()));
  document.body.dataset.mapReady = 'true';
  $('p-submit').onclick = async () => {
    $('p-error').textContent = '';
    if (!pin) {
      $('p-error').textContent = t('report.need_pin', '请先在地图上选择位置。');
      return;
    }
    try {
      const c = await api('/api/v1/cases', {
        method: 'POST',
        json: { channel: 'patrol', category: $('p-category').value, description: $('p-description').value, lon: pin[0], lat: pin[1], reporter: me.name },
      });
      $('p-done').textContent = `${t('report.ticket', '工单号')} ${c.ticket}`;
      $('p-description').value = '';
      await load();
    } catch (e) {
      report(e, 'p-error');
    }
  };

  await load();
  const events = new EventSource('/api/v1/events');
  events.addEventListener('case', () => load());
}

const me = await signedIn(['grid_worker', 'department_staff']);
if (me) await start();
