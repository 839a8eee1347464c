// The citizen's tracking page: the case's public timeline through its token.
import { translate, lang } from '/assets/i18n.js';

// The names citizens read, by state and by action (English: the API's own words).
const ZH = {
  submitted: '已提交', triaged: '已分拨', dispatched: '已派单', accepted: '已到场处置',
  replied: '已答复', resolved: '已办结', rated: '已评价', followed_up: '已回访', closed: '已结案',
  returned: '退回重派', merged: '已并入群体诉求', invalid: '不予受理',
  submit: '提交诉求', triage: '分拨', dispatch: '派单', accept: '到场', reply: '答复',
  resolve: '办结', rate: '评价', follow_up: '回访', close: '结案', attach: '附件',
  reopen: '重办', escalate: '升级督办',
};
const say = (w) => (lang() === 'en' ? w.replaceAll('_', ' ') : ZH[w] ?? w);

translate();
const token = location.pathname.split('/').pop();
const r = await fetch(`/api/v1/track/${encodeURIComponent(token)}`);
const v = await r.json().catch(() => null);
if (!r.ok) {
  document.getElementById('track-error').textContent = v?.error?.message ?? `HTTP ${r.status}`;
} else {
  document.getElementById('ticket').textContent = v.ticket;
  document.getElementById('state').textContent = say(v.state);
  for (const e of v.timeline) {
    const li = document.createElement('li');
    li.textContent = `${e.at.replace('T', ' ').slice(0, 16)} ${say(e.action)}${e.text ? ' — ' + e.text : ''}`;
    if (e.file) {
      const a = document.createElement('a');
      a.href = e.file;
      a.textContent = ' ↗';
      li.append(a);
    }
    document.getElementById('timeline').append(li);
  }
}
