// Staff sign-in: the session cookie is set by the server; the CSRF token is kept for this tab.
import { t, translate } from '/assets/i18n.js';

translate();
if (new URLSearchParams(location.search).has('expired')) document.getElementById('expired').hidden = false;
document.getElementById('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await fetch('/api/v1/login', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: document.getElementById('name').value, password: document.getElementById('password').value }),
  });
  if (!r.ok) {
    document.getElementById('login-error').textContent = t('login.wrong', '账号或密码错误。');
    return;
  }
  const me = await r.json();
  sessionStorage.setItem('tessera.csrf', me.csrf_token);
  sessionStorage.setItem('tessera.me', JSON.stringify({ name: me.name, role: me.role }));
  location.href = new URLSearchParams(location.search).get('next') || '/';
});
