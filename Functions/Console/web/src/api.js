// Talks to the gateway's own API, on the page's origin only. The key a person signs in with is kept in this tab's
// sessionStorage (gone when the tab closes), sent only in a request header, never in a URL or a cookie
// (docs/console.md#security).

const storageName = 'qhaigc.console.session';

/** The signed-in session: {role: 'operator'|'customer', key}, or null. */
export function session() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageName) ?? 'null');
    return saved && (saved.role === 'operator' || saved.role === 'customer') && typeof saved.key === 'string' ? saved : null;
  } catch {
    return null;
  }
}

export function signIn(role, key) {
  sessionStorage.setItem(storageName, JSON.stringify({ role, key }));
}

export function signOut() {
  sessionStorage.removeItem(storageName);
}

/** An answer that was not a success, with the gateway's error type and message (Claude's error shape). */
export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

function headers(auth, extra) {
  const result = { accept: 'application/json', ...extra };
  if (auth) {
    // The admin API takes the admin key as a Bearer token; the key's own endpoints take it as x-api-key, as
    // /v1/messages does (docs/admin-api.md, docs/console.md).
    if (auth.role === 'operator') {
      result.authorization = `Bearer ${auth.key}`;
    } else {
      result['x-api-key'] = auth.key;
    }
  }
  return result;
}

/** A path with its query: parameters that are null, undefined or '' are left out. */
export function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== '') {
      params.set(name, String(value));
    }
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(path, { method = 'GET', body, query, auth = session(), accept } = {}) {
  const init = { method, headers: headers(auth, accept ? { accept } : {}), credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(withQuery(path, query), init);
  } catch {
    throw new ApiError(0, 'network_error', 'The gateway could not be reached.');
  }
  if (!response.ok) {
    let type = 'error';
    let message = `${response.status} ${response.statusText}`.trim();
    try {
      const error = (await response.json())?.error;
      if (error?.message) {
        type = error.type ?? type;
        message = error.message;
      }
    } catch {
      // Not JSON: the status says enough.
    }
    throw new ApiError(response.status, type, message);
  }
  return response;
}

/** A JSON call; null for 204. */
export async function api(path, options) {
  const response = await send(path, options);
  return response.status === 204 ? null : response.json();
}

/** Fetches a file with the session's key and saves it (a download link cannot carry the key header). */
export async function download(path, query, filename) {
  const response = await send(path, { query, accept: '*/*' });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** What to tell a person about a failed call. */
export function describe(error) {
  if (error instanceof ApiError) {
    if (error.status === 401) {
      return 'The gateway refused the key (401): it is wrong, disabled, expired or rotated out. Sign in again.';
    }
    return `${error.message} (${error.status || 'no answer'})`;
  }
  return String(error?.message ?? error);
}
