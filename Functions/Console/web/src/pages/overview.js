// Operator: the whole gateway over a range of days, from the daily aggregates (/manage/usage/daily).
import { api } from '../api.js';
import { destroyCharts } from '../charts.js';
import { guarded } from '../components.js';
import { card, h, replace, table } from '../dom.js';
import { count, money } from '../format.js';
import { currentRange, rangePicker, rangeQuery } from '../range.js';
import { modelTable, summarise, usageCharts, usageTiles } from '../usage.js';

export function overviewPage(context) {
  const body = h('div', { class: 'page-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const load = () => guarded(body, async () => {
    const range = currentRange();
    const [report, keys] = await Promise.all([
      api('/manage/usage/daily', { query: rangeQuery(range) }),
      api('/manage/keys'),
    ]);
    if (!context.isCurrent()) {
      return;
    }
    destroyCharts();
    replace(header, title, rangePicker(load));
    const summary = summarise(report, range.from, range.to);
    const names = new Map((keys?.data ?? []).map((k) => [k.id, k.name]));
    const top = [...summary.byKey.entries()].map(([id, t]) => ({ id, name: names.get(id), ...t }))
      .sort((a, b) => b.cost - a.cost || b.calls - a.calls).slice(0, 10);
    replace(body,
      usageTiles(summary),
      usageCharts(summary),
      h('div', { class: 'two-col overview-split' },
        card('By model', modelTable(summary)),
        card('Top keys by cost', table([
          { title: 'Key', value: (r) => h('a', { href: `#/keys/${encodeURIComponent(r.id)}` }, r.name ?? r.id) },
          { title: 'Calls', value: (r) => count(r.calls), class: 'num' },
          { title: 'Errors', value: (r) => count(r.errors), class: 'num' },
          { title: 'Cost', value: (r) => money(r.cost, summary.currency), class: 'num' },
        ], top, { empty: 'No calls in this range.' }))));
  }, context.refused);
  const title = h('h1', null, 'Overview');
  const header = h('header', { class: 'page-head' }, title, rangePicker(load));
  replace(context.view, header, body);
  load();
}
