// The node's HTTP API as the portal uses it.
//
// Every call is same-origin and sends the session cookie (credentials:
// 'same-origin'); every write after login also sends the CSRF token as the
// X-CSRF-Token header. The token lives in sessionStorage, never in a URL.
// An error answer of the API, {"code","message"}, becomes an ApiError.

const csrfKey = 'lts.csrf';

/// The path before "/page/": "/dls" or "/lts". The portal is served at
/// PREFIX/page/, so the API is at PREFIX/api/.
export const prefix = (() => {
  const path = location.pathname;
  const at = path.indexOf('/page/');
  if (at >= 0) return path.slice(0, at);
  if (path.endsWith('/page')) return path.slice(0, -'/page'.length);
  return '/dls';
})();

/// This node's base URL, as the other node and clients name it.
export const nodeURL = location.origin + prefix + '/';

export class ApiError extends Error {
  /// status: the HTTP status (0 when the server did not answer);
  /// code: the API's error code (a negative number) or null.
  constructor(status, code, message, extra) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    /// The primary's URL when a standby refused a write (421, -20100).
    this.primary = extra && typeof extra.primary === 'string' ? extra.primary : null;
  }

  /// "message (code)", the way the portal shows every API error.
  get text() {
    return this.code === null || this.code === undefined ? this.message : `${this.message} (${this.code})`;
  }
}

export const csrf = {
  get() {
    try { return sessionStorage.getItem(csrfKey) || ''; } catch (e) { return ''; }
  },
  set(value) {
    try {
      if (value) sessionStorage.setItem(csrfKey, value);
      else sessionStorage.removeItem(csrfKey);
    } catch (e) { /* Storage disabled: writes then go without the header and the server refuses them in words. */ }
  },
};

/// Calls `method PREFIX/api/path`. `body` is an object (sent as JSON), an
/// ArrayBuffer (sent as is, e.g. a license file) or undefined.
/// Resolves to the parsed JSON answer (null for an empty one); rejects with
/// an ApiError.
export async function call(method, path, body) {
  try {
    return await sendRetryingBriefly(method, path, body);
  } catch (error) {
    // The session is live but this tab lost its CSRF token (storage
    // cleared, another tab logged in again): learn it and try once more.
    if (error.code !== codes.csrfMissing) throw error;
    const session = await send('GET', 'admin/session');
    if (!session || typeof session.csrf !== 'string') throw error;
    csrf.set(session.csrf);
    return send(method, path, body);
  }
}

/// Longest time a call waits for a node that asked to "retry in a moment".
const retryForMs = 5000;

/// A node taking over as primary (-20005) or in a planned switchover
/// (-20101) refuses writes for about a second and says "retry in a
/// moment": the portal does that for the admin, then shows the error.
async function sendRetryingBriefly(method, path, body) {
  const deadline = Date.now() + retryForMs;
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 1000)) {
    try {
      return await send(method, path, body);
    } catch (error) {
      const transient = error.status === 503 && (error.code === codes.unavailable || error.code === codes.switchingOver);
      if (!transient || Date.now() + delayMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

async function send(method, path, body) {
  const headers = { 'Accept': 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = body instanceof ArrayBuffer ? body : JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const token = csrf.get();
    if (token) headers['X-CSRF-Token'] = token;
  }
  let response;
  try {
    response = await fetch(prefix + '/api/' + path, init);
  } catch (e) {
    throw new ApiError(0, null, 'The server did not answer: check that the node is running and reachable.');
  }
  const text = await response.text().catch(() => '');
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (response.ok) return data;
  if (data && typeof data === 'object' && typeof data.message === 'string') {
    throw new ApiError(response.status, typeof data.code === 'number' ? data.code : null, data.message, data);
  }
  throw new ApiError(response.status, null, `The server answered HTTP ${response.status}${response.statusText ? ' ' + response.statusText : ''}.`);
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body === undefined ? {} : body);
export const put = (path, body) => call('PUT', path, body);
export const del = (path) => call('DELETE', path);

/// Error codes the portal acts on (README, "Error codes").
export const codes = {
  notFound: -20002,
  unavailable: -20005,
  standby: -20100,
  switchingOver: -20101,
  noStandby: -20102,
  notLoggedIn: -20200,
  wrongPassword: -20201,
  passwordSet: -20203,
  noPasswordYet: -20205,
  csrfMissing: -20206,
};
