// Sections the operator's key page and the customer's page share: limits with their counters, and a month's statement.
import { ApiError, api, describe, download } from './api.js';
import { card, h, notice, replace, stat, table } from './dom.js';
import { bytes, count, money, moneyTile, thisMonth, time } from './format.js';

/** Active, disabled or expired, as a badge. */
export function keyStatus(key) {
  if (key.disabled) {
    return h('span', { class: 'badge badge-off' }, 'Disabled');
  }
  if (key.expiresAt && new Date(key.expiresAt) <= new Date()) {
    return h('span', { class: 'badge badge-warn' }, 'Expired');
  }
  return h('span', { class: 'badge badge-on' }, 'Active');
}

/** A count, or with `inBytes` a size with the exact number of bytes in its title. */
function amount(value, inBytes) {
  return inBytes ? h('span', { title: `${count(value)} bytes` }, bytes(value)) : count(value);
}

function remaining(limit, used, inBytes) {
  return limit === undefined || limit === null ? '—' : amount(Math.max(0, Number(limit) - Number(used ?? 0)), inBytes);
}

/** A key's limits (docs/limits-and-prices.md#limits-of-a-key) against its counters as they stand. */
export function limitsSection(limits, current) {
  if (!limits) {
    return card('Limits', h('p', { class: 'empty' }, 'No limits: this key is not rate limited and has no spend cap.'));
  }
  const c = current ?? {};
  const rows = [
    ['Requests per minute', limits.requestsPerMinute, c.requests],
    ['Tokens per minute', limits.tokensPerMinute, Number(c.inputTokens ?? 0) + Number(c.outputTokens ?? 0)],
    ['Input tokens per minute', limits.inputTokensPerMinute, c.inputTokens],
    ['Output tokens per minute', limits.outputTokensPerMinute, c.outputTokens],
    ['Concurrent streams', limits.concurrentStreams, c.activeStreams],
    ['count_tokens per minute', limits.countTokensPerMinute, null],
    ['Files held at once', limits.maxFiles, c.filesHeld],
    ['File storage held at once', limits.maxFileBytes, c.fileBytesHeld, true],
  ].filter(([, limit]) => limit !== undefined && limit !== null)
    .map(([name, limit, used, inBytes]) => ({ name, limit, used, inBytes: inBytes === true }));
  const parts = [];
  if (limits.spendCap !== undefined && limits.spendCap !== null) {
    const cap = Number(limits.spendCap);
    const spent = Number(c.spent ?? 0);
    const reserved = Number(c.reserved ?? 0);
    const currency = c.currency ?? '';
    const left = Math.max(0, cap - spent - reserved);
    parts.push(h('div', { class: 'spend' },
      h('div', { class: 'stats' },
        stat('Spent', moneyTile(spent, currency), `${limits.spendPeriod === 'lifetime' ? 'lifetime' : `period ${c.spendPeriod ?? thisMonth()}`}`),
        stat('Spend cap', moneyTile(cap, currency)),
        stat('Remaining', moneyTile(left, currency), reserved > 0 ? `${money(reserved, currency)} reserved by running calls` : null)),
      h('progress', { class: 'spend-bar', max: cap > 0 ? cap : 1, value: Math.min(spent + reserved, cap), 'aria-label': 'Spend against cap' })));
  }
  if (rows.length > 0) {
    parts.push(table([
      { title: 'Limit', value: (r) => r.name },
      { title: 'Allowed', value: (r) => amount(r.limit, r.inBytes), class: 'num' },
      { title: 'Used', value: (r) => (r.used === null || r.used === undefined ? '—' : amount(r.used, r.inBytes)), class: 'num' },
      { title: 'Remaining', value: (r) => (r.used === null || r.used === undefined ? '—' : remaining(r.limit, r.used, r.inBytes)), class: 'num' },
    ], rows));
    const perMinute = [limits.requestsPerMinute, limits.tokensPerMinute, limits.inputTokensPerMinute, limits.outputTokensPerMinute]
      .some((limit) => limit !== undefined && limit !== null);
    if (c.windowReset && perMinute) {
      parts.push(h('p', { class: 'muted' }, `Per minute: this minute's counts; the window resets at ${time(c.windowReset)}.`));
    }
  }
  return card('Limits and current counters', h('div', null, parts));
}

/**
 * A month's statement as a table, with CSV and JSON downloads. `path` is the statement endpoint; `name` goes in the
 * downloaded file's name.
 */
export function statementSection(path, name) {
  const month = h('input', { type: 'month', value: thisMonth(), 'aria-label': 'Month' });
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const save = (format) => async () => {
    try {
      await download(path, { period: month.value, format }, `statement-${name}-${month.value}.${format}`);
    } catch (error) {
      replace(body, notice('error', describe(error)));
    }
  };
  const load = async () => {
    replace(body, h('p', { class: 'muted' }, 'Loading…'));
    try {
      const statement = await api(path, { query: { period: month.value, format: 'json' } });
      replace(body, statementTable(statement));
    } catch (error) {
      replace(body, notice('error', describe(error)));
    }
  };
  month.addEventListener('change', load);
  load();
  return card('Statement', body, [
    month,
    h('button', { type: 'button', class: 'button', onclick: save('csv') }, 'Download CSV'),
    h('button', { type: 'button', class: 'button', onclick: save('json') }, 'Download JSON'),
  ]);
}

function statementTable(statement) {
  const lines = statement?.lines ?? [];
  const totals = statement?.totals ?? {};
  const cost = Object.entries(totals.cost ?? {}).map(([currency, amount]) => money(amount, currency)).join(' + ') || money(0);
  return h('div', { class: 'statement' },
    table([
      { title: 'Day', value: (l) => l.day },
      { title: 'Model', value: (l) => l.model },
      { title: 'Calls', value: (l) => count(l.calls), class: 'num' },
      { title: 'Input', value: (l) => count(l.inputTokens), class: 'num' },
      { title: 'Output', value: (l) => count(l.outputTokens), class: 'num' },
      { title: 'Cache write 5m', value: (l) => count(l.cacheWrite5mTokens), class: 'num' },
      { title: 'Cache write 1h', value: (l) => count(l.cacheWrite1hTokens), class: 'num' },
      { title: 'Cache read', value: (l) => count(l.cacheReadTokens), class: 'num' },
      { title: 'Cost', value: (l) => money(l.cost, l.currency), class: 'num' },
    ], lines, { empty: 'No calls in this month.' }),
    lines.length > 0 ? h('p', { class: 'statement-total' },
      h('span', null, `${count(totals.calls)} calls`), h('span', null, `${count(totals.inputTokens)} input tokens`),
      h('span', null, `${count(totals.outputTokens)} output tokens`), h('strong', null, `Total ${cost}`)) : null);
}

/** Runs a page's loading, showing a plain error in place of the page when it fails; a refused key signs out. */
export async function guarded(target, work, onRefused) {
  try {
    await work();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && onRefused) {
      onRefused(error);
      return;
    }
    replace(target, notice('error', describe(error)));
  }
}
