// The range of days a page shows: the last 7, 30 or 90 UTC days, or two dates, both included (as the daily usage
// endpoints read `from` and `to`, docs/console.md). The usage records' `to` is a time, not included: the day after.
import { h } from './dom.js';
import { addDays, day } from './format.js';

const presets = [7, 30, 90];
let current = { preset: 30 };

export function currentRange() {
  if (current.preset) {
    const today = new Date();
    return { from: day(addDays(today, 1 - current.preset)), to: day(today) };
  }
  return { from: current.from, to: current.to };
}

/** Query values for the daily usage endpoints: both days included. */
export function rangeQuery(range = currentRange()) {
  return { from: range.from, to: range.to };
}

/** Query values for the usage records (/manage/usage): from the first day's start to the end of the last. */
export function recordsQuery(range = currentRange()) {
  return { from: range.from, to: day(addDays(new Date(`${range.to}T00:00:00Z`), 1)) };
}

/** The range picker; calls `changed` after a change. */
export function rangePicker(changed) {
  const range = currentRange();
  const from = h('input', { type: 'date', value: range.from, 'aria-label': 'From' });
  const to = h('input', { type: 'date', value: range.to, 'aria-label': 'To' });
  const pick = () => {
    if (from.value && to.value && from.value <= to.value) {
      current = { from: from.value, to: to.value };
      changed();
    }
  };
  from.addEventListener('change', pick);
  to.addEventListener('change', pick);
  return h('div', { class: 'range' },
    h('div', { class: 'segmented', role: 'group', 'aria-label': 'Range' }, presets.map((n) => h('button', {
      type: 'button',
      class: current.preset === n ? 'active' : '',
      onclick: () => {
        current = { preset: n };
        changed();
      },
    }, `${n} days`))),
    from, h('span', { class: 'range-sep' }, '→'), to);
}
