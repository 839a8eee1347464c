// The supervisors' dashboard: every figure comes from GET /api/v1/stats for the period and street
// chosen (and the same period a year earlier, for the year-over-year change), drawn with ECharts;
// the heat map weights each grid's appeals at the grid's centre on the district's own map.
import * as echarts from '/vendor/echarts/echarts.esm.min.mjs';
import { t, translate, lang } from '/assets/i18n.js';
import { api, signedIn, report, say, el } from '/assets/staff.js';
import { districtMap, inside } from '/assets/map.js';

translate();
const $ = (id) => document.getElementById(id);

const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const DAY = 86400;

/** Unix seconds of a `YYYY-MM-DD` date at 00:00 in Asia/Shanghai. */
const unix = (date) => Date.parse(`${date}T00:00:00+08:00`) / 1000;
const ymd = (s) => new Date((s + 8 * 3600) * 1000).toISOString().slice(0, 10);

async function start() {
  const [streets, categories, departments] = await Promise.all([
    api('/api/v1/streets'), api('/api/v1/categories'), api('/api/v1/departments'),
  ]);
  const en = lang() === 'en';
  const categoryName = Object.fromEntries(categories.categories.map((c) => [c.code, en ? c.name_en : c.name_zh]));
  const departmentName = Object.fromEntries(departments.departments.map((d) => [d.code, en ? d.name_en : d.name_zh]));
  for (const s of streets.features) $('f-street').append(el('option', { value: s.properties.code }, s.properties.name));
  // The default period: the last 365 days.
  const now = Math.floor(Date.now() / 1000);
  $('f-to').value = ymd(now + DAY);
  $('f-from').value = ymd(now - 364 * DAY);

  const charts = Object.fromEntries(['c-monthly', 'c-trend', 'c-pie', 'c-sla', 'c-streets'].map((id) => [id, echarts.init($(id))]));
  window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
  const map = await districtMap('map', { grids: false, zoom: 10 });
  const layer = await api('/api/v1/grids');
  const centre = Object.fromEntries(layer.features.map((f) => [f.properties.code ?? f.id, inside(f.geometry)]));
  map.addSource('heat', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({
    id: 'heat', type: 'heatmap', source: 'heat',
    paint: { 'heatmap-weight': ['get', 'w'], 'heatmap-radius': 20, 'heatmap-opacity': 0.8 },
  });

  async function load() {
    $('message').textContent = '';
    const from = unix($('f-from').value), to = unix($('f-to').value);
    const q = (a, b) => {
      const p = new URLSearchParams({ from: a, to: b });
      if ($('f-street').value) p.set('street', $('f-street').value);
      return `/api/v1/stats?${p}`;
    };
    let s, before;
    try {
      [s, before] = await Promise.all([api(q(from, to)), api(q(from - 365 * DAY, to - 365 * DAY))]);
    } catch (e) {
      report(e);
      return;
    }
    window.tesseraStats = { query: q(from, to), stats: s };
    $('k-total').textContent = s.total;
    $('k-satisfaction').textContent = pct(s.satisfaction_rate);
    $('k-redone').textContent = s.redone;
    $('k-resolve').textContent = pct(s.sla.find((x) => x.stage === 'resolve')?.rate);
    const change = (a, b) => (b ? `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)}%` : '–');
    $('k-total-yoy').textContent = `${t('dashboard.yoy', '同比')} ${change(s.total, before.total)}`;
    $('k-satisfaction-yoy').textContent = `${t('dashboard.yoy', '同比')} ${s.satisfaction_rate !== null && before.satisfaction_rate !== null
      ? `${((s.satisfaction_rate - before.satisfaction_rate) * 100).toFixed(1)} pp` : '–'}`;

    // Monthly volume by category: the six largest categories, the rest together.
    const months = Object.keys(s.by_month).sort();
    const top = Object.entries(s.by_category).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([c]) => c);
    const series = top.map((c) => ({
      name: categoryName[c] ?? c, type: 'bar', stack: 'all',
      data: months.map((m) => s.by_month_category[m]?.[c] ?? 0),
    }));
    series.push({
      name: t('dashboard.other', '其他'), type: 'bar', stack: 'all',
      data: months.map((m) => Object.entries(s.by_month_category[m] ?? {}).filter(([c]) => !top.includes(c)).reduce((n, [, v]) => n + v, 0)),
    });
    charts['c-monthly'].setOption({
      title: { text: t('dashboard.monthly', '月度诉求量（按类别）'), textStyle: { fontSize: 14 } },
      tooltip: { trigger: 'axis' }, legend: { bottom: 0, type: 'scroll' }, grid: { top: 40, bottom: 60 },
      xAxis: { type: 'category', data: months }, yAxis: { type: 'value' }, series,
    }, true);
    // The 12-month trend.
    const last12 = months.slice(-12);
    charts['c-trend'].setOption({
      title: { text: t('dashboard.trend', '近 12 个月趋势'), textStyle: { fontSize: 14 } },
      tooltip: { trigger: 'axis' }, xAxis: { type: 'category', data: last12 }, yAxis: { type: 'value' },
      series: [{ type: 'line', smooth: true, areaStyle: {}, data: last12.map((m) => s.by_month[m]) }],
    }, true);
    charts['c-pie'].setOption({
      title: { text: t('dashboard.pie', '诉求类别占比'), textStyle: { fontSize: 14 } },
      tooltip: { trigger: 'item' },
      series: [{ type: 'pie', radius: ['30%', '65%'], data: Object.entries(s.by_category).map(([c, v]) => ({ name: categoryName[c] ?? c, value: v })) }],
    }, true);
    charts['c-sla'].setOption({
      title: { text: t('dashboard.sla', '各环节按时率（30135）'), textStyle: { fontSize: 14 } },
      tooltip: {}, xAxis: { type: 'category', data: s.sla.map((x) => say(`${x.stage}_by`)) },
      yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
      series: [{ type: 'bar', data: s.sla.map((x) => (x.rate === null ? 0 : +(x.rate * 100).toFixed(1))) }],
    }, true);
    const streets = [...s.streets].sort((a, b) => (b.per_10k ?? 0) - (a.per_10k ?? 0));
    charts['c-streets'].setOption({
      title: { text: t('dashboard.per10k', '每万人诉求量（按街道）'), textStyle: { fontSize: 14 } },
      tooltip: {}, grid: { left: 110 },
      xAxis: { type: 'value' }, yAxis: { type: 'category', inverse: true, axisLabel: { interval: 0 }, data: streets.map((x) => x.name) },
      series: [{ type: 'bar', data: streets.map((x) => (x.per_10k === null ? 0 : +x.per_10k.toFixed(2))) }],
    }, true);
    $('departments').tBodies[0].replaceChildren(...s.departments.map((d, i) => el('tr', { dataset: { code: d.code } },
      el('td', {}, String(i + 1)), el('td', {}, departmentName[d.code] ?? d.name), el('td', {}, String(d.cases)),
      el('td', {}, pct(d.satisfaction_rate)), el('td', {}, d.mean_handling_hours === null ? '–' : d.mean_handling_hours.toFixed(1)))));
    map.getSource('heat').setData({
      type: 'FeatureCollection',
      features: Object.entries(s.by_grid).filter(([g]) => centre[g]).map(([g, w]) => ({
        type: 'Feature', geometry: { type: 'Point', coordinates: centre[g] }, properties: { w },
      })),
    });
    document.body.dataset.statsReady = String(s.total);
  }
  $('filters').addEventListener('change', load);
  await load();
}

const me = await signedIn(['supervisor', 'dispatcher', 'planner', 'admin']);
if (me) await start();
