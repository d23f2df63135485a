// Sums the daily aggregate rows of /manage/usage/daily and /v1/gateway/key/usage/daily ({date, keyId, model, calls,
// errors, tokens by kind, cost}; docs/console.md) into what the charts and tables show.
import { guarded } from './components.js';
import { api } from './api.js';
import { card, h, replace, stat, table } from './dom.js';
import { dayChart, destroyCharts } from './charts.js';
import { currentRange, rangePicker, rangeQuery } from './range.js';
import { count, days, money, moneyTile, short } from './format.js';

export const tokenKinds = [
  ['inputTokens', 'Input'],
  ['outputTokens', 'Output'],
  ['cacheCreation5mInputTokens', 'Cache write 5m'],
  ['cacheCreation1hInputTokens', 'Cache write 1h'],
  ['cacheReadInputTokens', 'Cache read'],
];

const numberFields = ['calls', 'errors', 'cost', ...tokenKinds.map(([name]) => name)];

function empty() {
  return Object.fromEntries(numberFields.map((name) => [name, 0]));
}

function add(total, row) {
  for (const name of numberFields) {
    total[name] += Number(row[name] ?? 0);
  }
  return total;
}

/** Totals by day (every day from `from` to `to`, zero when none), by model, by key, and overall. */
export function summarise(report, from, to) {
  const axis = days(from, to);
  const byDay = new Map(axis.map((d) => [d, empty()]));
  const byModel = new Map();
  const byKey = new Map();
  const overall = empty();
  for (const row of report?.days ?? []) {
    const date = String(row.date ?? '').slice(0, 10);
    if (!byDay.has(date)) {
      continue;
    }
    add(byDay.get(date), row);
    add(overall, row);
    const model = row.model || '(none)';
    byModel.set(model, add(byModel.get(model) ?? empty(), row));
    if (row.keyId) {
      byKey.set(row.keyId, add(byKey.get(row.keyId) ?? empty(), row));
    }
  }
  return { axis, byDay, byModel, byKey, overall, currency: report?.currency ?? '' };
}

/** The three day charts: calls and errors, tokens by kind, cost. */
export function usageCharts(summary) {
  const series = (name) => summary.axis.map((d) => summary.byDay.get(d)[name]);
  const calls = series('calls');
  const errors = series('errors');
  return h('div', { class: 'chart-grid' },
    card('Calls and errors per day', dayChart('calls', summary.axis, [
      { label: 'Succeeded', data: calls.map((c, i) => Math.max(0, c - errors[i])), color: '#2563eb' },
      { label: 'Errors', data: errors, color: '#ef4444' },
    ], { stacked: true })),
    card('Tokens per day, by kind', dayChart('tokens', summary.axis,
      tokenKinds.map(([name, label]) => ({ label, data: series(name) })), { stacked: true })),
    card(`Cost per day${summary.currency ? ` (${summary.currency})` : ''}`, dayChart('cost', summary.axis, [
      { label: 'Cost', data: series('cost').map((c) => Math.round(c * 1e6) / 1e6), color: '#10b981' },
    ], { kind: 'line', format: (v) => money(v) })));
}

/** The overall figures as tiles. */
export function usageTiles(summary) {
  const o = summary.overall;
  const tokens = tokenKinds.reduce((sum, [name]) => sum + o[name], 0);
  return h('div', { class: 'stats' },
    stat('Calls', count(o.calls), `${count(o.errors)} errors`),
    stat('Tokens', short(tokens), `${short(o.inputTokens)} in · ${short(o.outputTokens)} out`),
    stat('Cache', short(o.cacheReadInputTokens), `read · ${short(o.cacheCreation5mInputTokens + o.cacheCreation1hInputTokens)} written`),
    stat('Cost', moneyTile(o.cost, summary.currency)));
}

/** A table of totals per model. */
export function modelTable(summary) {
  const rows = [...summary.byModel.entries()].map(([model, t]) => ({ model, ...t })).sort((a, b) => b.cost - a.cost || b.calls - a.calls);
  return table([
    { title: 'Model', value: (r) => r.model, class: 'nowrap' },
    { title: 'Calls', value: (r) => count(r.calls), class: 'num' },
    { title: 'Errors', value: (r) => count(r.errors), class: 'num' },
    { title: 'Input', value: (r) => count(r.inputTokens), class: 'num' },
    { title: 'Output', value: (r) => count(r.outputTokens), class: 'num' },
    { title: 'Cache read', value: (r) => count(r.cacheReadInputTokens), class: 'num' },
    { title: 'Cost', value: (r) => money(r.cost, summary.currency), class: 'num' },
  ], rows, { empty: 'No calls in this range.' });
}

/**
 * One key's usage over the chosen range (tiles, charts, by model) drawn into `target`, from a daily-usage endpoint
 * with extra query values. Returns the function that (re)loads it.
 */
export function keyUsage(context, target, path, query) {
  const load = () => guarded(target, async () => {
    const range = currentRange();
    const report = await api(path, { query: { ...rangeQuery(range), ...query } });
    if (!context.isCurrent()) {
      return;
    }
    destroyCharts();
    const summary = summarise(report, range.from, range.to);
    replace(target, card('Usage', h('div', null, usageTiles(summary), usageCharts(summary), card('By model', modelTable(summary))), rangePicker(load)));
  }, context.refused);
  return load;
}
