// A key holder: their own key only, through the key-authenticated endpoints (/v1/gateway/key, its daily usage and its
// statement; docs/console.md). Nothing here can name another key.
import { api } from '../api.js';
import { card, h, replace } from '../dom.js';
import { guarded, keyStatus, limitsSection, statementSection } from '../components.js';
import { time } from '../format.js';
import { keyUsage } from '../usage.js';

export function customerPage(context) {
  const top = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const usage = h('div');

  const loadUsage = keyUsage(context, usage, '/v1/gateway/key/usage/daily', {});

  const loadKey = () => guarded(top, async () => {
    const key = await api('/v1/gateway/key');
    if (!context.isCurrent()) {
      return;
    }
    replace(top,
      h('header', { class: 'page-head' },
        h('div', null, h('p', { class: 'crumbs' }, 'My key'), h('h1', { class: 'key-title' }, h('span', { class: 'key-name' }, key.name), keyStatus(key)))),
      h('div', { class: 'two-col' },
        card('Details', h('dl', { class: 'details' },
          h('dt', null, 'Id'), h('dd', null, h('code', null, key.id)),
          h('dt', null, 'Secret'), h('dd', null, h('code', null, key.hint)),
          h('dt', null, 'Expires'), h('dd', null, key.expiresAt ? time(key.expiresAt) : 'never'),
          h('dt', null, 'Models'), h('dd', null, (key.models ?? []).length > 0 ? key.models.join(', ') : 'every model'))),
        limitsSection(key.limits, key.current)));
  }, context.refused);

  replace(context.view, top, usage, statementSection('/v1/gateway/key/statement', 'my-key'));
  loadKey();
  loadUsage();
}
