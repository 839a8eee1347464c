// Chinese by default, English on request (remembered in localStorage).
const TEXT = {
  en: {
    'report.title': 'Report a problem',
    'report.hint': 'Click the map or drag the marker to where the problem is.',
    'report.category': 'Category',
    'report.description': 'What is wrong',
    'report.name': 'Name (optional)',
    'report.phone': 'Phone (optional)',
    'report.photos': 'Photos or a voice note (optional)',
    'report.retry': 'Upload again',
    'report.uploaded': 'files attached',
    'report.submit': 'Submit',
    'report.done': 'Received',
    'report.ticket': 'Ticket',
    'report.track': 'Follow its progress',
    'report.goes_to': 'Goes to',
    'report.need_pin': 'Choose the place on the map first.',
    'report.need_category': 'Choose a category.',
    'report.need_description': 'Describe the problem.',
    'report.outside': 'Outside every grid: the service center will place it.',
    'login.title': 'Staff sign-in',
    'login.name': 'Account',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.wrong': 'Wrong account or password.',
    'login.expired': 'Your session has expired; please sign in again.',
    'track.title': 'Progress',
  },
};

export function lang() {
  return localStorage.getItem('tessera.lang') === 'en' ? 'en' : 'zh';
}

/** The text of `key` in the current language (the page's own Chinese when none). */
export function t(key, zh) {
  return (lang() === 'en' && TEXT.en[key]) || zh;
}

/** Translates every [data-i18n] element and wires the language button. */
export function translate() {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  for (const el of document.querySelectorAll('[data-i18n]')) {
    if (!el.dataset.zh) el.dataset.zh = el.textContent;
    el.textContent = t(el.dataset.i18n, el.dataset.zh);
  }
  const button = document.getElementById('lang');
  if (button) {
    button.textContent = lang() === 'en' ? '中文' : 'English';
    button.onclick = () => {
      localStorage.setItem('tessera.lang', lang() === 'en' ? 'zh' : 'en');
      translate();
    };
  }
}
