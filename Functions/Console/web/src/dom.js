// Builds the page from elements and text nodes only: every value from the API is set as text (textContent or a text
// node), never parsed as HTML, so a key named `<img src=x onerror=alert(1)>` shows as those characters
// (docs/console.md#security).

/**
 * Creates an element. `attrs`: `class`, `on<event>` handlers, `dataset` (an object), any property or attribute;
 * children: nodes, strings (text nodes), numbers, arrays of those, or null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name === 'class') {
      element.className = value;
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name in element && typeof value !== 'string') {
      element[name] = value;
    } else if (name === 'value' || name === 'checked') {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(parent, child);
    } else if (child instanceof Node) {
      parent.appendChild(child);
    } else {
      parent.appendChild(document.createTextNode(String(child)));
    }
  }
}

/** Replaces an element's children. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

/** A table: `columns` is a list of {title, value(row) → node|string, class?}. */
export function table(columns, rows, { empty = 'Nothing to show.', rowAttrs } = {}) {
  if (rows.length === 0) {
    return h('p', { class: 'empty' }, empty);
  }
  return h('div', { class: 'table-wrap' },
    h('table', null,
      h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.class }, c.title)))),
      h('tbody', null, rows.map((row) => h('tr', rowAttrs ? rowAttrs(row) : null,
        columns.map((c) => h('td', { class: c.class }, c.value(row))))))));
}

/** A labelled form field. */
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control,
    hint ? h('span', { class: 'field-hint' }, hint) : null);
}

/** A message box: kind is 'error', 'info' or 'success'. */
export function notice(kind, ...text) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...text);
}

/** A page section with a title and optional actions at its right. */
export function card(title, body, actions) {
  return h('section', { class: 'card' },
    title || actions ? h('header', { class: 'card-head' }, title ? h('h2', null, title) : null,
      actions ? h('div', { class: 'card-actions' }, actions) : null) : null,
    body);
}

/** A figure tile: a label and a value. */
export function stat(label, value, sub) {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value),
    sub ? h('div', { class: 'stat-sub' }, sub) : null);
}
