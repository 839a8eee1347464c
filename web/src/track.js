// The citizen's tracking page: the case's public timeline through its token.
import { translate } from '/assets/i18n.js';

translate();
const token = location.pathname.split('/').pop();
const r = await fetch(`/api/v1/track/${encodeURIComponent(token)}`);
const v = await r.json().catch(() => null);
if (!r.ok) {
  document.getElementById('track-error').textContent = v?.error?.message ?? `HTTP ${r.status}`;
} else {
  document.getElementById('ticket').textContent = v.ticket;
  document.getElementById('state').textContent = v.state;
  for (const e of v.timeline) {
    const li = document.createElement('li');
    li.textContent = `${e.at} ${e.action}${e.text ? ' — ' + e.text : ''}`;
    if (e.file) {
      const a = document.createElement('a');
      a.href = e.file;
      a.textContent = ' ↗';
      li.append(a);
    }
    document.getElementById('timeline').append(li);
  }
}
