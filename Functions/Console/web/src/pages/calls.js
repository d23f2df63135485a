// Operator: the usage records, newest first, filtered by key, model, state and status, a page at a time
// (/manage/usage with order=desc and its cursor; docs/admin-api.md).
import { api } from '../api.js';
import { guarded } from '../components.js';
import { card, h, replace, table } from '../dom.js';
import { count, duration, money, time } from '../format.js';
import { currentRange, rangePicker, recordsQuery } from '../range.js';

const pageSize = 50;
const states = ['complete', 'truncated', 'cancelled', 'failed'];

export function callsPage(context) {
  const key = h('select', { 'aria-label': 'Key' }, h('option', { value: '' }, 'Every key'));
  const model = h('input', { type: 'text', placeholder: 'Model', 'aria-label': 'Model' });
  const state = h('select', { 'aria-label': 'State' }, h('option', { value: '' }, 'Every state'), states.map((s) => h('option', { value: s }, s)));
  const status = h('input', { type: 'number', placeholder: 'Status', min: 100, max: 599, 'aria-label': 'Status' });
  const results = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const pager = h('div', { class: 'pager' });
  const names = new Map();
  // Cursors of the pages seen, to go back; the first page has none.
  let cursors = [null];
  let index = 0;
  // Only the last request's answer is shown: an earlier one (other filters) may come back after it.
  let latest = 0;

  const filters = () => ({ ...recordsQuery(currentRange()), keyId: key.value, model: model.value.trim(), state: state.value, status: status.value, order: 'desc', limit: pageSize });

  const load = () => guarded(results, async () => {
    const mine = ++latest;
    const answer = await api('/manage/usage', { query: { ...filters(), cursor: cursors[index] } });
    if (!context.isCurrent() || mine !== latest) {
      return;
    }
    const records = answer?.records ?? [];
    replace(results, table([
      { title: 'Started', value: (r) => time(r.startedAt), class: 'nowrap' },
      { title: 'Key', value: (r) => h('a', { href: `#/keys/${encodeURIComponent(r.keyId)}` }, names.get(r.keyId) ?? r.keyId), class: 'nowrap' },
      { title: 'Model', value: (r) => r.model ?? '—', class: 'nowrap' },
      { title: 'Endpoint', value: (r) => r.endpoint },
      { title: 'State', value: (r) => h('span', { class: `badge state-${r.state}` }, r.state) },
      { title: 'Status', value: (r) => String(r.status), class: 'num' },
      { title: 'Input', value: (r) => count(r.inputTokens), class: 'num' },
      { title: 'Output', value: (r) => count(r.outputTokens), class: 'num' },
      { title: 'Cache read', value: (r) => count(r.cacheReadInputTokens), class: 'num' },
      { title: 'Cost', value: (r) => (r.cost === undefined || r.cost === null ? '—' : money(r.cost, r.currency)), class: 'num' },
      { title: 'Duration', value: (r) => duration(r.durationMs), class: 'num' },
      { title: 'Request id', value: (r) => h('code', { class: 'small' }, r.requestId) },
    ], records, { empty: 'No calls match.', rowAttrs: (r) => ({ dataset: { requestId: r.requestId } }) }));
    cursors = cursors.slice(0, index + 1);
    if (answer?.nextCursor) {
      cursors.push(answer.nextCursor);
    }
    replace(pager,
      h('button', { type: 'button', class: 'button', disabled: index === 0, onclick: () => { index -= 1; load(); } }, '← Newer'),
      h('span', { class: 'muted' }, `Page ${index + 1}`),
      h('button', { type: 'button', class: 'button', disabled: index + 1 >= cursors.length, onclick: () => { index += 1; load(); } }, 'Older →'));
  }, context.refused);

  const restart = () => {
    cursors = [null];
    index = 0;
    load();
  };

  const picker = h('div');
  const drawPicker = () => replace(picker, rangePicker(() => {
    drawPicker();
    restart();
  }));
  drawPicker();

  replace(context.view,
    h('header', { class: 'page-head' }, h('h1', null, 'Calls'), picker),
    card(null, h('div', null,
      h('form', {
        class: 'filters',
        onsubmit: (event) => {
          event.preventDefault();
          restart();
        },
      }, key, model, state, status, h('button', { type: 'submit', class: 'button primary' }, 'Apply')),
      results, pager)));

  api('/manage/keys').then((answer) => {
    for (const k of (answer?.data ?? []).sort((a, b) => String(a.name).localeCompare(String(b.name)))) {
      names.set(k.id, k.name);
      key.appendChild(h('option', { value: k.id }, `${k.name} (${k.id})`));
    }
  }).catch(() => {
    // The list only names keys; the records still show their ids.
  }).finally(load);
}
