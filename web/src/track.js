// The citizen's tracking page: the case's public timeline, deadlines and replies through its
// token, and the rating once it is resolved (unsatisfied sends it back to be redone).
import { t, translate, lang } from '/assets/i18n.js';

// The names citizens read, by state and by action (English: the API's own words).
const ZH = {
  submitted: '已提交', triaged: '已分拨', dispatched: '已派单', accepted: '已到场处置',
  replied: '已答复', resolved: '已办结', rated: '已评价', followed_up: '已回访', closed: '已结案',
  returned: '退回重派', merged: '已并入群体诉求', invalid: '不予受理',
  submit: '提交诉求', triage: '分拨', dispatch: '派单', accept: '到场', reply: '答复',
  resolve: '办结', rate: '评价', follow_up: '回访', close: '结案', attach: '附件',
  reopen: '重办', escalate: '升级督办',
  on_site_by: '到场时限', reply_by: '答复时限', resolve_by: '办结时限', follow_up_by: '回访时限',
  satisfied: '满意', basically_satisfied: '基本满意', unsatisfied: '不满意',
};
const say = (w) => (lang() === 'en' ? w.replaceAll('_', ' ') : ZH[w] ?? w);
const $ = (id) => document.getElementById(id);

translate();
const token = location.pathname.split('/').pop();

function render(v) {
  $('ticket').textContent = v.ticket;
  $('state').textContent = say(v.state);
  $('state').dataset.state = v.state;
  $('redo').hidden = v.redo_count === 0;
  $('redo').textContent = `${t('track.redone', '已重办')} ${v.redo_count} ${t('track.times', '次')}`;
  $('deadlines').replaceChildren(...['on_site_by', 'reply_by', 'resolve_by', 'follow_up_by']
    .filter((k) => v.deadlines[k])
    .map((k) => {
      const li = document.createElement('li');
      li.textContent = `${say(k)} ${v.deadlines[k].replace('T', ' ').slice(0, 16)}`;
      return li;
    }));
  $('timeline').replaceChildren(...v.timeline.map((e) => {
    const li = document.createElement('li');
    const what = e.action === 'rate' && e.text ? say(e.text) : e.text;
    li.textContent = `${e.at.replace('T', ' ').slice(0, 16)} ${say(e.action)}${what ? ' — ' + what : ''}`;
    if (e.file) {
      const a = document.createElement('a');
      a.href = e.file;
      a.textContent = ' ↗';
      li.append(a);
    }
    return li;
  }));
  $('rate').hidden = !v.awaiting_rating;
}

const r = await fetch(`/api/v1/track/${encodeURIComponent(token)}`);
const v = await r.json().catch(() => null);
if (!r.ok) {
  $('track-error').textContent = v?.error?.message ?? `HTTP ${r.status}`;
} else {
  render(v);
}

$('rate').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('rate-error').textContent = '';
  const satisfaction = new FormData($('rate')).get('satisfaction');
  const comment = $('comment').value.trim();
  const res = await fetch(`/api/v1/track/${encodeURIComponent(token)}/rating`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(comment ? { satisfaction, comment } : { satisfaction }),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    $('rate-error').textContent = body?.error?.message ?? `HTTP ${res.status}`;
    return;
  }
  render(body);
});
