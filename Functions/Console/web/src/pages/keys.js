// Operator: every key, searchable; create a key (its secret shown once).
import { api } from '../api.js';
import { guarded, keyStatus } from '../components.js';
import { card, h, replace, table } from '../dom.js';
import { time } from '../format.js';
import { keyForm } from '../keyform.js';
import { secretBox } from '../secret.js';

export function keysPage(context) {
  const search = h('input', { type: 'search', placeholder: 'Search by name, id or hint', 'aria-label': 'Search keys' });
  const created = h('div');
  const list = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const createCard = h('div', { hidden: true });
  let keys = [];

  const show = () => {
    const term = search.value.trim().toLowerCase();
    const rows = keys.filter((k) => !term || [k.name, k.id, k.hint, ...(k.models ?? [])].some((v) => String(v ?? '').toLowerCase().includes(term)))
      .sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
    replace(list, table([
      { title: 'Name', value: (k) => h('a', { href: `#/keys/${encodeURIComponent(k.id)}`, class: 'key-name' }, k.name) },
      { title: 'Id', value: (k) => h('code', null, k.id) },
      { title: 'Hint', value: (k) => h('code', null, k.hint) },
      { title: 'Models', value: (k) => ((k.models ?? []).length > 0 ? k.models.join(', ') : 'every model') },
      { title: 'Expires', value: (k) => (k.expiresAt ? time(k.expiresAt) : 'never') },
      { title: 'Status', value: (k) => keyStatus(k) },
      { title: 'Created', value: (k) => time(k.createdAt) },
    ], rows, { empty: term ? 'No key matches.' : 'No keys yet: create one.', rowAttrs: (k) => ({ dataset: { keyId: k.id } }) }));
  };

  const load = () => guarded(list, async () => {
    const answer = await api('/manage/keys');
    if (context.isCurrent()) {
      keys = answer?.data ?? [];
      show();
    }
  }, context.refused);

  replace(createCard, card('New key', keyForm(null, 'Create key', async (body) => {
    const key = await api('/manage/keys', { method: 'POST', body });
    createCard.hidden = true;
    replace(created, secretBox(key.key, `Key “${key.name}” created (${key.id}).`),
      h('p', null, h('a', { href: `#/keys/${encodeURIComponent(key.id)}` }, 'Open its page')));
    await load();
  })));

  search.addEventListener('input', show);
  replace(context.view,
    h('header', { class: 'page-head' }, h('h1', null, 'Keys'),
      h('div', { class: 'page-actions' }, search,
        h('button', {
          type: 'button',
          class: 'button primary',
          onclick: () => {
            createCard.hidden = !createCard.hidden;
            created.replaceChildren();
          },
        }, 'Create key'))),
    createCard, created, card(null, list));
  load();
}
