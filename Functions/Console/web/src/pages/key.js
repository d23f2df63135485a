// Operator: one key. Its details and secrets, limits against counters, usage chart, statement; edit, disable, rotate
// with a grace period, delete: everything the admin API does to a key (docs/admin-api.md).
import { api, describe } from '../api.js';
import { guarded, keyStatus, limitsSection, statementSection } from '../components.js';
import { card, h, notice, replace, table } from '../dom.js';
import { time } from '../format.js';
import { keyForm } from '../keyform.js';
import { secretBox } from '../secret.js';
import { keyUsage } from '../usage.js';

const graces = [['PT0S', 'none: revoke at once'], ['PT1H', '1 hour'], ['PT24H', '24 hours'], ['P7D', '7 days'], ['P30D', '30 days']];

export function keyPage(context, id) {
  const path = `/manage/keys/${encodeURIComponent(id)}`;
  const message = h('div');
  const top = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const usage = h('div');
  const statement = statementSection(`${path}/statement`, id);
  const manage = h('div');

  const say = (kind, ...text) => replace(message, notice(kind, ...text));
  const act = (work) => async () => {
    try {
      await work();
    } catch (error) {
      say('error', describe(error));
    }
  };

  const loadUsage = keyUsage(context, usage, '/manage/usage/daily', { keyId: id });

  const loadKey = () => guarded(top, async () => {
    const key = await api(path);
    if (!context.isCurrent()) {
      return;
    }
    replace(top,
      h('header', { class: 'page-head' },
        h('div', null, h('p', { class: 'crumbs' }, h('a', { href: '#/keys' }, 'Keys'), ' / ', h('code', null, key.id)),
          h('h1', { class: 'key-title' }, h('span', { class: 'key-name' }, key.name), keyStatus(key))),
        h('div', { class: 'page-actions' },
          h('button', {
            type: 'button',
            class: 'button',
            onclick: act(async () => {
              await api(path, { method: 'PATCH', body: { disabled: !key.disabled } });
              say('success', key.disabled ? 'Key enabled.' : 'Key disabled: its secrets are refused from now on.');
              await loadKey();
            }),
          }, key.disabled ? 'Enable' : 'Disable'))),
      h('div', { class: 'two-col' },
        card('Details', h('dl', { class: 'details' },
          h('dt', null, 'Id'), h('dd', null, h('code', null, key.id)),
          h('dt', null, 'Created'), h('dd', null, time(key.createdAt)),
          h('dt', null, 'Expires'), h('dd', null, key.expiresAt ? time(key.expiresAt) : 'never'),
          h('dt', null, 'Models'), h('dd', null, (key.models ?? []).length > 0 ? key.models.join(', ') : 'every model'),
          h('dt', null, 'Secrets'), h('dd', null, table([
            { title: 'Hint', value: (s) => h('code', null, s.hint) },
            { title: 'Works until', value: (s) => (s.expiresAt ? time(s.expiresAt) : 'no end') },
          ], key.secrets ?? [])))),
        limitsSection(key.limits, key.current)));
    replace(manage, managePanel(key));
  }, context.refused);

  const managePanel = (key) => {
    const grace = h('select', { 'aria-label': 'Grace period' }, graces.map(([value, label]) => h('option', { value }, label)));
    grace.value = 'PT1H';
    const confirm = h('div', { class: 'confirm', hidden: true },
      h('p', null, 'Delete this key? Every secret of it stops working. Its usage records and statements stay.'),
      h('button', {
        type: 'button',
        class: 'button danger',
        onclick: act(async () => {
          await api(path, { method: 'DELETE' });
          context.navigate('keys');
        }),
      }, 'Delete for good'),
      h('button', { type: 'button', class: 'button ghost', onclick: () => { confirm.hidden = true; } }, 'Cancel'));
    return h('div', { class: 'two-col' },
      card('Edit', keyForm(key, 'Save changes', async (body) => {
        await api(path, { method: 'PATCH', body });
        say('success', 'Saved.');
        await loadKey();
      })),
      h('div', null,
        card('Rotate', h('div', null,
          h('p', { class: 'muted' }, 'A new secret for the same key id. The old secrets keep working for the grace period.'),
          h('div', { class: 'inline' }, grace, h('button', {
            type: 'button',
            class: 'button primary',
            onclick: act(async () => {
              const answer = await api(`${path}/rotate`, { method: 'POST', body: { gracePeriod: grace.value } });
              // Shown above the page, which is drawn again with the new secret's hint.
              replace(message, secretBox(answer.key, 'Key rotated: its new secret.'));
              await loadKey();
            }),
          }, 'Rotate')))),
        card('Delete', h('div', null,
          h('p', { class: 'muted' }, 'Removes the key for good; its id is never reused.'),
          h('button', { type: 'button', class: 'button danger', onclick: () => { confirm.hidden = false; } }, 'Delete key…'),
          confirm))));
  };

  replace(context.view, message, top, usage, statement, manage);
  loadKey();
  loadUsage();
}
