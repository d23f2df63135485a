// The key schema of POST and PATCH /manage/keys (docs/admin-api.md#the-key-schema) as a form: name, models, expiry,
// disabled, and the limits and spend cap (docs/limits-and-prices.md#limits-of-a-key).
import { field, h } from './dom.js';

const integerLimits = [
  ['requestsPerMinute', 'Requests / minute'],
  ['tokensPerMinute', 'Tokens / minute'],
  ['inputTokensPerMinute', 'Input tokens / minute'],
  ['outputTokensPerMinute', 'Output tokens / minute'],
  ['concurrentStreams', 'Concurrent streams'],
  ['countTokensPerMinute', 'count_tokens / minute'],
  ['maxFiles', 'Files held at once'],
  ['maxFileBytes', 'File bytes held at once'],
];

/** datetime-local text (UTC) of an ISO time. */
function localValue(iso) {
  return iso ? new Date(iso).toISOString().slice(0, 16) : '';
}

/**
 * A form for a key. `initial` is a key as the admin API shows it (or null to create); `submit(body)` sends the body and
 * may throw; the form shows the error.
 */
export function keyForm(initial, submitLabel, submit) {
  const limits = initial?.limits ?? {};
  const name = h('input', { type: 'text', name: 'name', required: true, maxLength: 200, value: initial?.name ?? '' });
  const models = h('input', { type: 'text', name: 'models', placeholder: 'every model', value: (initial?.models ?? []).join(', ') });
  const expires = h('input', { type: 'datetime-local', name: 'expiresAt', value: localValue(initial?.expiresAt) });
  const disabled = h('input', { type: 'checkbox', name: 'disabled', checked: Boolean(initial?.disabled) });
  const numbers = integerLimits.map(([key, label]) => [key, label,
    h('input', { type: 'number', name: key, min: 0, step: 1, inputMode: 'numeric', value: limits[key] ?? '' })]);
  const spendCap = h('input', { type: 'number', name: 'spendCap', min: 0, step: 'any', value: limits.spendCap ?? '' });
  const spendPeriod = h('select', { name: 'spendPeriod' },
    h('option', { value: 'month' }, 'per UTC month'), h('option', { value: 'lifetime' }, 'lifetime (prepaid)'));
  spendPeriod.value = limits.spendPeriod ?? 'month';
  const error = h('div', { class: 'form-error' });
  const button = h('button', { type: 'submit', class: 'button primary' }, submitLabel);

  const body = () => {
    const patterns = models.value.split(/[\s,]+/).map((m) => m.trim()).filter(Boolean);
    const chosen = {};
    for (const [key, , input] of numbers) {
      if (input.value !== '') {
        chosen[key] = Number(input.value);
      }
    }
    if (spendCap.value !== '') {
      chosen.spendCap = Number(spendCap.value);
      chosen.spendPeriod = spendPeriod.value;
    }
    const request = {
      name: name.value.trim(),
      disabled: disabled.checked,
      models: patterns.length > 0 ? patterns : null,
      expiresAt: expires.value ? new Date(`${expires.value}:00Z`).toISOString() : null,
      limits: Object.keys(chosen).length > 0 ? chosen : null,
    };
    if (!initial) {
      // Create leaves out what is not set, PATCH sends null to clear it.
      for (const key of ['models', 'expiresAt', 'limits']) {
        if (request[key] === null) {
          delete request[key];
        }
      }
    }
    return request;
  };

  return h('form', {
    class: 'key-form',
    onsubmit: async (event) => {
      event.preventDefault();
      error.replaceChildren();
      button.disabled = true;
      try {
        await submit(body());
      } catch (failure) {
        error.textContent = failure?.message ?? String(failure);
      } finally {
        button.disabled = false;
      }
    },
  },
  h('div', { class: 'form-grid' },
    field('Name', name),
    field('Models', models, 'Glob patterns, comma separated (claude-*); empty for every model.'),
    field('Expires (UTC)', expires, 'Empty: never.'),
    h('label', { class: 'field checkbox' }, disabled, h('span', null, 'Disabled'))),
  h('h3', null, 'Limits'),
  h('div', { class: 'form-grid' },
    numbers.map(([, label, input]) => field(label, input)),
    field('Spend cap', spendCap, 'In the price currency; empty for none.'),
    field('Spend period', spendPeriod)),
  error,
  h('div', { class: 'form-actions' }, button));
}
