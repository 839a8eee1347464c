// What every staff page shares: calls to the API with the session's CSRF token, the signed-in
// account, and a page-level error when the session has expired (401) or the role may not
// (403), instead of a half-empty page.
import { t } from '/assets/i18n.js';

/** A failed call: `status` and the API's error body. */
export class ApiFailure extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/**
 * Calls the API as the signed-in account. `options.json` is sent as a JSON body; state-changing
 * calls carry the X-CSRF-Token kept at sign-in. Answers the parsed body; throws ApiFailure on
 * an error status, after showing the page-level error for 401.
 */
export async function api(url, options = {}) {
  const { json, ...rest } = options;
  const headers = { ...(rest.headers ?? {}) };
  const method = (rest.method ?? 'GET').toUpperCase();
  if (method !== 'GET') headers['x-csrf-token'] = sessionStorage.getItem('tessera.csrf') ?? '';
  let body = rest.body;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const r = await fetch(url, { ...rest, method, headers, body, credentials: 'same-origin' });
  const parsed = r.status === 204 ? null : await r.json().catch(() => null);
  if (r.status === 401) expired();
  if (!r.ok) throw new ApiFailure(r.status, parsed);
  return parsed;
}

/** Replaces the page's content with a page-level error and a way to sign in again. */
export function expired() {
  pageError(t('staff.expired', '登录已过期或尚未登录，请重新登录。'), true);
}

function pageError(text, signIn) {
  if (document.getElementById('page-error')) return;
  const box = document.createElement('div');
  box.id = 'page-error';
  box.setAttribute('role', 'alert');
  const p = document.createElement('p');
  p.textContent = text;
  box.append(p);
  if (signIn) {
    const a = document.createElement('a');
    a.href = `/login?expired=1&next=${encodeURIComponent(location.pathname + location.search)}`;
    a.textContent = t('staff.sign_in', '重新登录');
    box.append(a);
  }
  document.querySelector('main')?.replaceChildren(box);
}

/**
 * The signed-in account (`name`, `role`, `scope`), or null after showing the page-level error
 * (expired session, or a role not among `roles`).
 */
export async function signedIn(roles) {
  let me;
  try {
    me = await api('/api/v1/me');
  } catch {
    return null;
  }
  if (roles && !roles.includes(me.role)) {
    pageError(`${t('staff.not_allowed', '当前账号无权使用此页面')}: ${me.name} (${me.role})`, true);
    return null;
  }
  const who = document.getElementById('who');
  if (who) who.textContent = `${me.name} · ${me.role}`;
  const out = document.getElementById('logout');
  if (out) {
    out.hidden = false;
    out.onclick = async () => {
      await api('/api/v1/logout', { method: 'POST' }).catch(() => {});
      sessionStorage.removeItem('tessera.csrf');
      location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    };
  }
  return me;
}

/** Shows a call's failure in the element with id `where` (or the page's message line). */
export function report(e, where = 'message') {
  const el = document.getElementById(where);
  if (el) el.textContent = e instanceof ApiFailure ? e.message : String(e);
}

/** Seconds until the RFC 3339 time `at` (negative when past). */
export function secondsUntil(at) {
  return Math.round((Date.parse(at) - Date.now()) / 1000);
}

/** `2 h 05 min` / `-35 min`: a countdown for a deadline. */
export function countdown(seconds) {
  const sign = seconds < 0 ? '-' : '';
  const m = Math.floor(Math.abs(seconds) / 60);
  if (m >= 24 * 60) return `${sign}${Math.floor(m / 1440)} ${t('time.d', '天')} ${Math.floor((m % 1440) / 60)} ${t('time.h', '小时')}`;
  if (m >= 60) return `${sign}${Math.floor(m / 60)} ${t('time.h', '小时')} ${String(m % 60).padStart(2, '0')} ${t('time.min', '分')}`;
  return `${sign}${m} ${t('time.min', '分')}`;
}

/** The next deadline of a case still open (name and RFC 3339 time), or null. */
export function nextDeadline(c) {
  const order = {
    submitted: ['triage_by'], triaged: ['on_site_by'], dispatched: ['on_site_by'],
    accepted: ['reply_by', 'resolve_by'], replied: ['resolve_by'], returned: ['triage_by'],
    resolved: ['follow_up_by'], rated: ['follow_up_by'],
  }[c.state] ?? [];
  for (const k of order) if (c.deadlines?.[k]) return { stage: k, at: c.deadlines[k] };
  return null;
}

/** The names staff read, by state and action (English: the API's own words). */
const ZH = {
  submitted: '待分拨', triaged: '已分拨', dispatched: '已派单', accepted: '已到场', replied: '已答复',
  resolved: '已办结', rated: '已评价', followed_up: '已回访', closed: '已结案', returned: '已退单',
  merged: '已并单', invalid: '无效', red: '红', yellow: '黄', green: '绿',
  triage: '分拨', dispatch: '派单', accept: '到场签到', reply: '答复', resolve: '办结',
  rate: '评价', follow_up: '回访', close: '结案', return: '退单', reassign: '改派',
  merge: '并单', invalidate: '作废', supervise: '督办', escalate: '升级', flag: '标记', submit: '受理',
  triage_by: '分拨时限', on_site_by: '到场时限', reply_by: '答复时限', resolve_by: '办结时限',
  follow_up_by: '回访时限', attach: '附件',
};
export const say = (w) => (localStorage.getItem('tessera.lang') === 'en' ? String(w).replaceAll('_', ' ') : ZH[w] ?? w);

/** Creates an element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return e;
}
