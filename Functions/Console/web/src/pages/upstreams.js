// Operator: every upstream, its pool and its health as the answering instance sees it (/manage/upstreams;
// docs/admin-api.md#upstreams).
import { api } from '../api.js';
import { guarded } from '../components.js';
import { card, h, replace, table } from '../dom.js';
import { count, time } from '../format.js';

function health(item) {
  return h('span', { class: `badge ${item.state === 'available' ? 'badge-on' : 'badge-warn'}` },
    item.state ?? 'unknown', item.reason ? ` · ${item.reason}` : '', item.restingUntil ? ` until ${time(item.restingUntil)}` : '');
}

export function upstreamsPage(context) {
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const load = () => guarded(body, async () => {
    const report = await api('/manage/upstreams');
    if (!context.isCurrent()) {
      return;
    }
    const upstreams = [...(report?.upstreams ?? [])].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0) || String(a.name).localeCompare(String(b.name)));
    replace(body,
      h('p', { class: 'muted' }, `Affinity: ${report?.affinity ?? '—'}. Health is kept per instance: this is what the instance that answered has seen over the last five minutes.`),
      upstreams.length === 0 ? h('p', { class: 'empty' }, 'No upstream configured.') : null,
      upstreams.map((u) => card(u.name, h('div', null,
        h('dl', { class: 'details inline-details' },
          h('dt', null, 'Models'), h('dd', null, (u.models ?? []).join(', ') || 'every model'),
          h('dt', null, 'Priority'), h('dd', null, String(u.priority ?? 0)),
          h('dt', null, 'Weight'), h('dd', null, String(u.weight ?? 1)),
          h('dt', null, 'Calls'), h('dd', null, count(u.calls)),
          h('dt', null, 'Failures'), h('dd', null, count(u.failures))),
        table([
          { title: 'Model', value: (m) => m.model },
          { title: 'Health', value: (m) => health(m) },
          { title: 'Calls', value: (m) => count(m.calls), class: 'num' },
          { title: 'Failures', value: (m) => count(m.failures), class: 'num' },
          { title: 'Requests left', value: (m) => (m.rateLimit?.requestsRemaining ?? '—').toString(), class: 'num' },
          { title: 'Tokens left', value: (m) => (m.rateLimit?.tokensRemaining ?? '—').toString(), class: 'num' },
        ], u.modelStates ?? [], { empty: 'No model called yet on this instance.' })), health(u))));
  }, context.refused);
  replace(context.view,
    h('header', { class: 'page-head' }, h('h1', null, 'Upstreams'),
      h('div', { class: 'page-actions' }, h('button', { type: 'button', class: 'button', onclick: load }, 'Refresh'))),
    body);
  load();
}
