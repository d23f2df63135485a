// A new secret, shown once (after a create or a rotation) with a copy button; it is never stored by the console.
import { h, notice } from './dom.js';

export function secretBox(secret, what) {
  const status = h('span', { class: 'copy-status', role: 'status' });
  const value = h('code', { class: 'secret', dataset: { secret: '' } }, secret);
  const copy = h('button', {
    type: 'button',
    class: 'button primary',
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(secret);
        status.textContent = 'Copied.';
      } catch {
        // No clipboard permission (an insecure origin, a locked-down browser): select it for a manual copy.
        const selection = window.getSelection();
        selection.removeAllRanges();
        const range = document.createRange();
        range.selectNodeContents(value);
        selection.addRange(range);
        status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
      }
    },
  }, 'Copy');
  return notice('success',
    h('strong', null, what),
    h('p', null, 'Copy the secret now: it is shown this once, and the gateway keeps only its hash.'),
    h('div', { class: 'secret-row' }, value, copy, status));
}
