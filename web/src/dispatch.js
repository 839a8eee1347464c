// The service center's desk (调度台): the queue and the map of open cases with filters, SLA
// countdowns and overdue cases marked; a case opened to triage, dispatch, reassign, merge,
// invalidate or supervise (督办); mass incidents as one item with their members. The queue
// follows /api/v1/events (server-sent events) without reloading.
import { translate, lang } from '/assets/i18n.js';
import { api, signedIn, report, say, el, countdown, secondsUntil, nextDeadline } from '/assets/staff.js';
import { districtMap, caseLayer } from '/assets/map.js';

translate();
const $ = (id) => document.getElementById(id);

async function start() {
  const [streets, departments, categories] = await Promise.all([
    api('/api/v1/streets'), api('/api/v1/departments'), api('/api/v1/categories'),
  ]);
  const categoryName = Object.fromEntries(categories.categories.map((c) => [c.code, lang() === 'en' ? c.name_en : c.name_zh]));
  for (const s of streets.features) $('f-street').append(el('option', { value: s.properties.code }, s.properties.name));
  for (const d of departments.departments) {
    const name = lang() === 'en' ? d.name_en : d.name_zh;
    $('f-department').append(el('option', { value: d.code }, name));
    $('a-assignee').append(el('option', { value: JSON.stringify({ kind: 'department', code: d.code, name: d.name_zh }) }, name));
  }

  const map = await districtMap('map');
  const showCases = caseLayer(map, (id) => open(id));
  let cases = [];
  let current = null;

  async function load() {
    const q = new URLSearchParams({ per_page: '500' });
    const st = $('f-state').value;
    if (st) q.set('state', st); else q.set('open', 'true');
    for (const [k, id] of [['urgency', 'f-urgency'], ['street', 'f-street'], ['department', 'f-department']]) {
      if ($(id).value) q.set(k, $(id).value);
    }
    if ($('f-overdue').checked) q.set('overdue', 'true');
    try {
      const page = await api(`/api/v1/cases?${q}`);
      cases = page.cases;
      $('total').textContent = page.total;
      render();
      showCases(cases);
      document.body.dataset.queueReady = 'true';
    } catch (e) {
      report(e);
    }
  }

  function render() {
    $('queue').replaceChildren(...cases.map((c) => {
      const next = nextDeadline(c);
      const left = next ? secondsUntil(next.at) : null;
      const late = c.overdue.length > 0;
      return el('li', { class: `case ${c.urgency}${late ? ' overdue' : ''}${current === c.id ? ' open' : ''}`, dataset: { id: c.id, ticket: c.ticket } },
        el('button', { type: 'button', onclick: () => open(c.id) },
          el('strong', {}, c.ticket), ' ',
          el('span', { class: 'badge' }, say(c.state)), ' ',
          el('span', {}, categoryName[c.category] ?? c.category),
          c.channel === 'incident' ? el('span', { class: 'badge incident' }, lang() === 'en' ? 'incident' : '群体诉求') : null,
          el('br'),
          el('small', {}, c.grid?.name ?? (lang() === 'en' ? 'no grid' : '未落格'), ' · ',
            c.assignee.name ?? say('district')),
          next ? el('small', { class: `clock${left < 0 ? ' late' : ''}` }, ` · ${say(next.stage)} ${countdown(left)}`) : null));
    }));
  }

  async function open(id) {
    current = id;
    $('message').textContent = '';
    let c;
    try {
      c = await api(`/api/v1/cases/${id}`);
    } catch (e) {
      report(e);
      return;
    }
    $('detail').hidden = false;
    $('detail').dataset.id = c.id;
    $('detail').dataset.version = c.version;
    $('d-ticket').textContent = c.ticket;
    $('d-state').textContent = say(c.state);
    $('d-state').className = `badge ${c.urgency}`;
    $('d-what').textContent = `${categoryName[c.category] ?? c.category} · ${c.report.description ?? ''}`;
    $('d-where').textContent = `${c.grid?.name ?? ''} → ${c.assignee.name ?? say('district')}${c.routing?.reason ? ` (${c.routing.reason})` : ''}`;
    const next = nextDeadline(c);
    $('d-deadline').textContent = next ? `${say(next.stage)} ${next.at.replace('T', ' ').slice(0, 16)} (${countdown(secondsUntil(next.at))})` : '';
    $('d-deadline').className = c.overdue.length ? 'late' : '';
    $('a-urgency').value = c.urgency;
    $('d-timeline').replaceChildren(...c.timeline.map((e) => el('li', {},
      `${e.at.replace('T', ' ').slice(5, 16)} ${e.actor} ${say(e.action.action)}`,
      e.action.text || e.action.note || e.action.reason ? ` — ${e.action.text ?? e.action.note ?? e.action.reason}` : '')));
    // A mass incident shows its members.
    const members = await api(`/api/v1/cases?merged_into=${c.id}&per_page=200`).catch(() => null);
    $('d-members').replaceChildren(...(members?.cases ?? []).map((m) => el('li', {},
      `${m.ticket} · ${m.grid?.name ?? ''} · ${m.report.description ?? ''}`)));
    render();
    if (c.report?.pin?.wgs84) map.easeTo({ center: c.report.pin.wgs84, zoom: Math.max(map.getZoom(), 14) });
  }

  async function act(body) {
    const id = Number($('detail').dataset.id);
    $('message').textContent = '';
    try {
      await api(`/api/v1/cases/${id}/actions`, { method: 'POST', json: { version: Number($('detail').dataset.version), ...body } });
      await open(id);
      await load();
    } catch (e) {
      report(e);
    }
  }
  const reason = () => $('a-reason').value.trim();
  $('a-triage').onclick = () => act({ action: 'triage', urgency: $('a-urgency').value });
  $('a-dispatch').onclick = () => act({ action: 'dispatch' });
  $('a-reassign').onclick = () => act({ action: 'reassign', assignee: JSON.parse($('a-assignee').value), reason: reason() });
  $('a-supervise').onclick = () => act({ action: 'supervise', note: reason() });
  $('a-invalidate').onclick = () => act({ action: 'invalidate', reason: reason() });
  $('a-merge').onclick = () => act({ action: 'merge', into: Number($('a-into').value) });

  $('filters').addEventListener('change', load);
  await load();

  // Live: every change of a case in scope refreshes the queue (a burst is loaded once).
  let pending = null;
  const events = new EventSource('/api/v1/events');
  events.onopen = () => {
    $('live').textContent = lang() === 'en' ? 'live' : '实时';
    $('live').classList.add('on');
  };
  events.onerror = () => $('live').classList.remove('on');
  events.addEventListener('case', (e) => {
    const change = JSON.parse(e.data);
    clearTimeout(pending);
    pending = setTimeout(async () => {
      await load();
      if (current === change.id) await open(current);
      document.body.dataset.lastEvent = String(change.id);
    }, 250);
  });
  // The countdowns move on.
  setInterval(render, 30000);
}

const me = await signedIn(['dispatcher', 'hotline_operator', 'supervisor']);
if (me) await start();
