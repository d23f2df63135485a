// Sign-in: the admin key (operator) or a gateway key (its holder). The key is checked against the gateway before it is
// kept; a refused key gets a plain message.
import { api, describe, ApiError } from '../api.js';
import { field, h, notice } from '../dom.js';

export function signInPage({ message, onSignedIn }) {
  const key = h('input', { type: 'password', name: 'key', autocomplete: 'off', spellcheck: false, required: true, placeholder: 'Admin key or sk-qh-…' });
  const operator = h('input', { type: 'radio', name: 'role', value: 'operator', checked: true });
  const customer = h('input', { type: 'radio', name: 'role', value: 'customer' });
  const status = h('div', { class: 'signin-status' }, message ? notice('error', message) : null);
  const submit = h('button', { type: 'submit', class: 'button primary wide' }, 'Sign in');

  // A gateway key starts with sk-qh-; picking the role for it saves a click (it can still be changed).
  key.addEventListener('input', () => {
    if (key.value.startsWith('sk-qh-')) {
      customer.checked = true;
    }
  });

  const form = h('form', {
    class: 'signin-form',
    onsubmit: async (event) => {
      event.preventDefault();
      const role = customer.checked ? 'customer' : 'operator';
      const value = key.value.trim();
      if (!value) {
        return;
      }
      submit.disabled = true;
      status.replaceChildren();
      try {
        await api(role === 'operator' ? '/manage/keys' : '/v1/gateway/key', { auth: { role, key: value } });
        onSignedIn(role, value);
      } catch (error) {
        const text = error instanceof ApiError && (error.status === 401 || error.status === 404)
          ? role === 'operator'
            ? 'That is not the admin key: the gateway refused it. Check the key (Gateway:AdminKey) and try again.'
            : 'The gateway refused this key: it is wrong, disabled, expired or rotated out.'
          : describe(error);
        status.replaceChildren(notice('error', text));
        submit.disabled = false;
      }
    },
  },
  h('fieldset', { class: 'roles' },
    h('legend', null, 'Sign in as'),
    h('label', { class: 'choice' }, operator, h('span', null, h('strong', null, 'Operator'), h('small', null, 'with the admin key'))),
    h('label', { class: 'choice' }, customer, h('span', null, h('strong', null, 'Key holder'), h('small', null, 'with your own gateway key')))),
  field('Key', key, 'Kept in this tab only (session storage) and sent only to this gateway.'),
  status,
  submit);

  return h('div', { class: 'signin' },
    h('div', { class: 'signin-card' },
      h('div', { class: 'brand brand-large' }, h('span', { class: 'brand-mark' }, 'Q'), h('span', null, 'Qhaigc'), h('span', { class: 'brand-sub' }, 'console')),
      h('p', { class: 'muted' }, 'Keys, usage and spend of this Claude API gateway.'),
      form));
}
