// The console (docs/console.md): a sign-in page, then the operator's pages (admin key) or the key holder's own page
// (their gateway key). Pages are addressed by the URL's fragment (#/keys/key_…), which never holds a key.
import { session, signIn, signOut } from './api.js';
import { destroyCharts } from './charts.js';
import { h, replace } from './dom.js';
import { callsPage } from './pages/calls.js';
import { customerPage } from './pages/customer.js';
import { keyPage } from './pages/key.js';
import { keysPage } from './pages/keys.js';
import { overviewPage } from './pages/overview.js';
import { signInPage } from './pages/signin.js';
import { upstreamsPage } from './pages/upstreams.js';

const root = document.getElementById('app');

const operatorPages = [
  { path: 'overview', title: 'Overview', page: overviewPage },
  { path: 'keys', title: 'Keys', page: keysPage },
  { path: 'calls', title: 'Calls', page: callsPage },
  { path: 'upstreams', title: 'Upstreams', page: upstreamsPage },
];

let generation = 0;

function route() {
  const [first = '', ...rest] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { first, rest };
}

export function navigate(path) {
  if (location.hash === `#/${path}`) {
    render();
  } else {
    location.hash = `#/${path}`;
  }
}

/** Signs out with a message on the sign-in page (a key the gateway refused, or the button). */
function leave(message) {
  signOut();
  render(message);
}

function render(message) {
  destroyCharts();
  generation += 1;
  const current = session();
  if (!current) {
    document.title = 'Sign in · Qhaigc console';
    replace(root, signInPage({
      message,
      onSignedIn: (role, key) => {
        signIn(role, key);
        navigate(role === 'operator' ? 'overview' : 'key');
      },
    }));
    return;
  }

  const { first, rest } = route();
  const view = h('div', { class: 'view' });
  const mine = generation;
  const context = {
    view,
    navigate,
    isCurrent: () => mine === generation,
    refused: () => leave('The gateway no longer accepts this key (401). Sign in again.'),
  };
  let links;
  let title;
  if (current.role === 'operator') {
    const page = first === 'keys' && rest[0] ? { path: 'keys', title: 'Key', page: keyPage }
      : operatorPages.find((p) => p.path === first) ?? operatorPages[0];
    title = page.title;
    links = operatorPages.map((p) => h('a', { href: `#/${p.path}`, class: p.path === page.path ? 'active' : '' }, p.title));
    page.page(context, rest[0]);
  } else {
    title = 'My key';
    links = [h('a', { href: '#/key', class: 'active' }, 'My key')];
    customerPage(context);
  }
  document.title = `${title} · Qhaigc console`;
  replace(root, h('div', { class: 'shell' },
    h('aside', { class: 'sidebar' }, h('div', { class: 'sidebar-inner' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark' }, 'Q'), h('span', null, 'Qhaigc'), h('span', { class: 'brand-sub' }, 'console')),
      h('nav', { 'aria-label': 'Pages' }, links),
      h('div', { class: 'sidebar-foot' },
        h('div', { class: 'role' }, current.role === 'operator' ? 'Operator' : 'Key holder'),
        h('button', { type: 'button', class: 'button ghost', onclick: () => leave() }, 'Sign out')))),
    h('main', { class: 'main' }, view)));
}

window.addEventListener('hashchange', () => render());
render();
