// A client of an lts node or main + standby pair, for browsers and Node 18+,
// with no dependencies and the semantics of the Swift `LicenseClient`
// (Sources/LicenseClient): every call tries the server that answered last,
// then the other, follows a standby's redirect (421, -20100) to the primary it
// names, and, when no server answers, waits (`RetrySchedule`) and goes round
// again until its deadline. A call keeps one request ID over all its attempts
// and numbers them (`attempt`), so a retry after a failover never counts twice
// and, when both nodes answered one request during a split, the pair keeps the
// answer this client took: the last.
//
// In Node, certificates are verified as each server says (a pinned SHA-256,
// a CA, or the system's CAs; lts-client-node.mjs). In a browser the browser's
// own trust decides: a page cannot see a certificate, so pins are not enforced
// there (a self-signed node must be trusted by the browser).

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";
/** Web Crypto: a global in browsers and Node 19+, node:crypto's in Node 18. */
const webCrypto = globalThis.crypto ?? (await import("node:crypto")).webcrypto;

/** Node's transport, file buffer and identity file, loaded only in Node so browsers never fetch them. */
let nodeModule = null;
function node() {
  nodeModule ??= import("./lts-client-node.mjs");
  return nodeModule;
}

// MARK: errors

/** A failed call: `code` (DLS) and `status` (HTTP) are set for a server's refusal, null when no server answered. */
export class LicenseError extends Error {
  constructor(message, code = null, status = null) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** A server's final refusal (quota, expiry, bad handshake code, …): the other server would say the same. */
export class Refused extends LicenseError {
  constructor(code, message, status) {
    super(message, code, status);
  }
}

/** No server gave a final answer before the call's deadline; `lastErrors` maps each server URL to what it last said. */
export class Unavailable extends LicenseError {
  constructor(lastErrors) {
    const listed = Object.keys(lastErrors).sort().map((url) => `${url}: ${lastErrors[url]}`).join("; ");
    super(`no license server answered: ${listed}`);
    this.lastErrors = { ...lastErrors };
  }
}

/** Why a text is no client key. */
export class MalformedKey extends Error {
  constructor(message) {
    super(message);
    this.name = "MalformedKey";
  }
}

/** The report buffer holds its most reports; the report was not kept. */
export class BufferFull extends Error {
  constructor(message) {
    super(message);
    this.name = "BufferFull";
  }
}

// MARK: client keys

export const KEY_PREFIX = "lts1.";
/** Longest key text accepted. */
export const KEY_TEXT_BYTES_MAX = 4096;
/** Most servers a client knows (a main + standby pair). */
export const SERVERS_MAX = 2;

/** 32 bytes from 64 hex digits (colons between them allowed), else null. */
export function parseFingerprint(text) {
  const digits = text.replaceAll(":", "");
  if (!/^[0-9A-Fa-f]{64}$/.test(digits)) return null;
  return Uint8Array.from(digits.match(/../g), (pair) => parseInt(pair, 16));
}

function hex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function base64UrlDecode(text) {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

function base64UrlEncode(bytes) {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/**
 * Parses a client key, `lts1.` then base64url (no padding) of
 * `{"code":…,"servers":[{"url":…,"sha256":"hex"?}…]}`, as ClientKey.swift does.
 * Refuses anything else (another prefix, bad base64 or JSON, unknown keys, an
 * empty code, no server or more than two, a fingerprint that is not 32 bytes,
 * a server named twice, a fingerprint on an http:// URL) with `MalformedKey`.
 */
export function parseClientKey(text) {
  const trimmed = String(text).trim();
  if (new TextEncoder().encode(trimmed).length > KEY_TEXT_BYTES_MAX) {
    throw new MalformedKey(`a client key is at most ${KEY_TEXT_BYTES_MAX} bytes`);
  }
  if (!trimmed.startsWith(KEY_PREFIX)) throw new MalformedKey(`a client key starts with ${KEY_PREFIX}`);
  const encoded = trimmed.slice(KEY_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) {
    throw new MalformedKey("a client key holds only letters, digits, - and _ after its prefix");
  }
  let decoded;
  try {
    decoded = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(base64UrlDecode(encoded)));
  } catch {
    throw new MalformedKey("the client key does not decode");
  }
  if (decoded === null || typeof decoded !== "object" || Array.isArray(decoded)) {
    throw new MalformedKey("the client key does not decode");
  }
  const keys = Object.keys(decoded).sort();
  const { code, servers: entries } = decoded;
  if (keys.join() !== "code,servers" || typeof code !== "string" || code === "" || !Array.isArray(entries)
      || entries.length < 1 || entries.length > SERVERS_MAX
      || !entries.every((entry) => entry !== null && typeof entry === "object" && !Array.isArray(entry))) {
    throw new MalformedKey("a client key names a handshake code and one or two servers");
  }
  const servers = entries.map((entry) => {
    const { url } = entry;
    if (!Object.keys(entry).every((key) => key === "url" || key === "sha256") || typeof url !== "string"
        || !(url.startsWith("https://") || url.startsWith("http://"))) {
      throw new MalformedKey("each server of a client key has an http(s) url");
    }
    if (!("sha256" in entry)) return { url };
    const sha256 = typeof entry.sha256 === "string" ? parseFingerprint(entry.sha256) : null;
    if (sha256 === null) throw new MalformedKey("a server's sha256 is 64 hex digits");
    if (url.startsWith("http://")) throw new MalformedKey("a server with a sha256 has an https url");
    return { url, sha256 };
  });
  if (new Set(servers.map((server) => server.url)).size !== servers.length) {
    throw new MalformedKey("a client key names a server twice");
  }
  return { handshakeCode: code, servers };
}

/** The text of a client key (keys sorted, as ClientKey.swift writes it). */
export function clientKeyText(key) {
  const servers = key.servers.map((server) => (server.sha256 ? { sha256: hex(server.sha256), url: server.url } : { url: server.url }));
  const json = JSON.stringify({ code: key.handshakeCode, servers }).replaceAll("\\/", "/");
  return KEY_PREFIX + base64UrlEncode(new TextEncoder().encode(json));
}

// MARK: retry schedule

/**
 * How long a client waits after a round in which no server answered:
 * exponential from `baseMs`, capped at `maxMs`, with "equal jitter" (a random
 * point in the upper half). Every delay lies in [d / 2, d] with
 * d = min(maxMs, baseMs · 2^(failedRounds - 1)).
 */
export class RetrySchedule {
  constructor({ baseMs = 100, maxMs = 2_000 } = {}) {
    if (!(Number.isInteger(baseMs) && baseMs >= 1 && Number.isInteger(maxMs) && maxMs >= baseMs)) {
      throw new RangeError("a retry schedule needs integers 0 < baseMs <= maxMs");
    }
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  /** The wait after `failedRounds` (≥ 1) rounds without an answer; `random()` returns [0, 1). */
  delayMs(failedRounds, random = Math.random) {
    const exponent = Math.min(Math.max(failedRounds - 1, 0), 20);
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** exponent);
    const floor = Math.floor(ceiling / 2);
    return floor + Math.floor(random() * (ceiling - floor + 1));
  }
}

// MARK: server answers

/**
 * What one server's HTTP answer means for a client that may fail over:
 * `{kind: "answered"}`, `{kind: "refused", code, message}`, `{kind: "redirect",
 * primary}` (the standby, 421) or `{kind: "unavailable", reason}`. Only
 * "answered" and "refused" end a call.
 */
export function classify(status, body) {
  const fields = body !== null && typeof body === "object" && !Array.isArray(body) ? body : {};
  const code = Number.isInteger(fields.code) ? fields.code : null;
  const message = typeof fields.message === "string" ? fields.message : `HTTP ${status}`;
  if (status === 200) return { kind: "answered" };
  if (status === 421) return { kind: "redirect", primary: typeof fields.primary === "string" ? fields.primary : null };
  if ((status >= 500 && status <= 599) || status === 408 || status === 429) {
    return { kind: "unavailable", reason: `${message} (HTTP ${status})` };
  }
  if (code === null) return { kind: "unavailable", reason: `HTTP ${status} without a DLS code` };
  return { kind: "refused", code, message };
}

/** A URL compared with trailing slashes and a `/dls` or `/lts` suffix left off. */
export function normalizedUrl(url) {
  let text = url.toLowerCase();
  while (text.endsWith("/")) text = text.slice(0, -1);
  for (const suffix of ["/dls", "/lts"]) if (text.endsWith(suffix)) text = text.slice(0, -suffix.length);
  return text;
}

/** `base` (`https://host:port/dls/`) joined with `path` (`api/v1/…`). */
export function joinUrl(base, path) {
  return (base.endsWith("/") ? base : `${base}/`) + (path.startsWith("/") ? path.slice(1) : path);
}

// MARK: transport

/** Longest answer body read; a client call's answer is far smaller. */
export const RESPONSE_BYTES_MAX = 1 << 20;

/**
 * POSTs `body` as JSON with the browser's fetch: the browser's trust and its
 * connection handling apply, so a dead server costs up to `requestTimeoutMs`
 * (a page cannot set a connect timeout). Resolves `{status, body}`; rejects
 * when the server cannot be reached or does not answer in time.
 */
async function fetchJson(server, url, body, connectTimeoutMs, requestTimeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${requestTimeoutMs} ms`)), requestTimeoutMs);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      signal: controller.signal,
    });
    const text = await response.text();
    if (text.length > RESPONSE_BYTES_MAX) throw new Error(`an answer larger than ${RESPONSE_BYTES_MAX} bytes`);
    return { status: response.status, body: parseJson(text) };
  } finally {
    clearTimeout(timer);
  }
}

export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function postJson(server, url, body, connectTimeoutMs, requestTimeoutMs) {
  if (isNode) return (await node()).postJson(server, url, body, connectTimeoutMs, requestTimeoutMs);
  return fetchJson(server, url, body, connectTimeoutMs, requestTimeoutMs);
}

// MARK: the client

/** Most request IDs whose sendings are counted on (a call that found no server may be retried); past it the counts start again. */
export const ATTEMPT_COUNTS_MAX = 10_000;
/** The DLS code of "no active lease has this grant ID". */
export const UNKNOWN_GRANT_CODE = -20130;

export function newRequestId() {
  return webCrypto.randomUUID();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function integer(value) {
  return Number.isInteger(value) ? value : 0;
}

/**
 * A client of a license server or of a main + standby pair (see the top of
 * this file). Settings: `servers` (in order, main first: `{url, sha256?, ca?}`,
 * `sha256` a 32-byte Uint8Array or 64 hex digits, `ca` PEM text; Node only),
 * `handshakeCode`, `clientUUID`, optional `sessionPassword`, `domain`, `appId`,
 * `process`, `connectTimeoutMs` (300), `requestTimeoutMs` (2000),
 * `callDeadlineMs` (15000), `retry` (a RetrySchedule), `random` (for jitter).
 *
 * Invariant: a call ends with a server's final answer (success, or `Refused`)
 * or `Unavailable` after the deadline.
 */
export class LicenseClient {
  constructor(settings) {
    const servers = (settings.servers ?? []).map((server) => normalizedServer(server));
    const urls = servers.map((server) => server.url);
    if (urls.length < 1 || urls.length > SERVERS_MAX || new Set(urls).size !== urls.length) {
      throw new TypeError("a client needs one or two distinct server URLs");
    }
    if (!settings.handshakeCode || !settings.clientUUID) {
      throw new TypeError("a client needs a handshake code and a client UUID");
    }
    this.settings = {
      connectTimeoutMs: 300,
      requestTimeoutMs: 2_000,
      callDeadlineMs: 15_000,
      retry: new RetrySchedule(),
      random: Math.random,
      ...settings,
      servers,
    };
    this.#preferred = null;
    this.#attemptsSent = new Map();
  }

  #preferred;
  #attemptsSent;

  /**
   * A client of the servers, code and pins `key` names (text or parsed);
   * the client UUID is `options.clientUUID`, else the one this installation
   * keeps (`loadClientUUID`). Other options as for the constructor.
   */
  static async fromKey(key, options = {}) {
    const parsed = typeof key === "string" ? parseClientKey(key) : key;
    const clientUUID = options.clientUUID ?? (await loadClientUUID(options.identityDirectory));
    const { identityDirectory, ...rest } = options;
    return new LicenseClient({ ...rest, servers: parsed.servers, handshakeCode: parsed.handshakeCode, clientUUID });
  }

  /** The server that answered last (the primary as far as this client knows), or null. */
  get rememberedServer() {
    return this.#preferred;
  }

  /** Asks for an authorization of `product` (consuming `scans` on a scan item). */
  async authorize(product, { scans, requestId = newRequestId() } = {}) {
    const fields = { product, requestId, ...this.#validation() };
    if (scans !== undefined) fields.scans = scans;
    const answer = await this.call("api/v1/authorize", fields);
    const { grantId, itemId } = answer.body;
    if (typeof grantId !== "string" || typeof itemId !== "string") {
      throw new Unavailable({ [answer.server]: "an authorization without grantId or itemId" });
    }
    return {
      grantId,
      itemId,
      grace: answer.body.grace === true,
      leaseSeconds: integer(answer.body.leaseSeconds),
      term: integer(answer.body.term),
      token: typeof answer.body.token === "string" ? answer.body.token : "",
      requestId,
      server: answer.server,
    };
  }

  /**
   * Reports `scans` used. Resolves the server that counted it, or null when
   * no server answered and it waits in `buffer`; without a buffer that
   * rejects with Unavailable.
   */
  async report(scans, { grantId, buffer, requestId = newRequestId() } = {}) {
    const report = { requestId, scans, at: Math.floor(Date.now() / 1000) };
    if (grantId !== undefined) report.grantId = grantId;
    try {
      return (await this.#deliver(report)).server;
    } catch (error) {
      if (!(error instanceof Unavailable) || buffer === undefined) throw error;
      await buffer.append(report);
      return null;
    }
  }

  /**
   * Delivers the buffered reports, oldest first, each with its own request ID
   * (so none counts twice), until a server stops answering. Resolves
   * `{delivered, refused}` counts (both leave the buffer).
   */
  async deliverBuffered(buffer) {
    const delivered = [];
    const refused = [];
    try {
      for (const report of await buffer.deliverable(Math.floor(Date.now() / 1000))) {
        try {
          await this.#deliver(report);
          delivered.push(report.requestId);
        } catch (error) {
          if (error instanceof Refused) refused.push(report.requestId);
          else if (error instanceof Unavailable) break;
          else throw error;
        }
      }
    } finally {
      await buffer.remove([...delivered, ...refused]);
    }
    return { delivered: delivered.length, refused: refused.length };
  }

  /** Renews the lease of `grantId`: `{leaseSeconds, server}`. */
  async heartbeat(grantId) {
    const answer = await this.call("api/v1/heartbeat", { grantId });
    return { leaseSeconds: integer(answer.body.leaseSeconds), server: answer.server };
  }

  /** Releases the lease of `grantId`. A lease already gone counts as released: a retry after a failover may find the first attempt applied. */
  async release(grantId) {
    try {
      await this.call("api/v1/release", { grantId });
    } catch (error) {
      if (!(error instanceof Refused && error.code === UNKNOWN_GRANT_CODE)) throw error;
    }
  }

  #deliver(report) {
    const fields = { scans: report.scans, requestId: report.requestId, ...this.#validation() };
    if (report.grantId !== undefined) fields.grantId = report.grantId;
    return this.call("api/v1/report", fields);
  }

  #validation() {
    const { sessionPassword, domain, appId, process } = this.settings;
    return Object.fromEntries(Object.entries({ sessionPassword, domain, appId, process }).filter(([, value]) => value != null));
  }

  // MARK: failover

  /**
   * Sends `fields` (plus the handshake code and client UUID) to `path` under
   * the servers' base URLs, failing over as the class says. Resolves
   * `{server, body}`; rejects with Refused or Unavailable.
   */
  async call(path, fields) {
    const settings = this.settings;
    const body = { handshakeCode: settings.handshakeCode, clientUUID: settings.clientUUID, ...fields };
    const requestId = typeof fields.requestId === "string" ? fields.requestId : null;
    let attempt = requestId === null ? 0 : this.#takeAttemptsSent(requestId);
    const deadline = Date.now() + settings.callDeadlineMs;
    const lastErrors = {};
    let failedRounds = 0;
    try {
      for (;;) {
        const queue = this.#orderedServers();
        const tried = new Set();
        while (queue.length > 0) {
          const server = queue.shift();
          if (tried.has(server.url)) continue;
          tried.add(server.url);
          if (requestId !== null) body.attempt = ++attempt;
          let response;
          try {
            response = await postJson(server, joinUrl(server.url, path), body, settings.connectTimeoutMs, settings.requestTimeoutMs);
          } catch (error) {
            lastErrors[server.url] = describe(error);
            continue;
          }
          const answer = classify(response.status, response.body);
          switch (answer.kind) {
            case "answered":
              this.#preferred = server.url;
              attempt = 0;
              return { server: server.url, body: response.body };
            case "refused":
              this.#preferred = server.url;
              attempt = 0;
              throw new Refused(answer.code, answer.message, response.status);
            case "redirect": {
              lastErrors[server.url] = "standby";
              // The named primary next, if it is one of ours and not tried yet.
              const named = answer.primary === null ? null : this.#matchingServer(answer.primary);
              if (named !== null && !tried.has(named.url)) queue.unshift(named);
              break;
            }
            default:
              lastErrors[server.url] = answer.reason;
          }
        }
        failedRounds += 1;
        const pauseMs = settings.retry.delayMs(failedRounds, settings.random);
        if (Date.now() + pauseMs >= deadline) throw new Unavailable(lastErrors);
        await sleep(pauseMs);
      }
    } finally {
      if (requestId !== null) this.#keepAttemptsSent(requestId, attempt);
    }
  }

  /** The sendings counted for `requestId` by an earlier call, forgotten here. */
  #takeAttemptsSent(requestId) {
    const sent = this.#attemptsSent.get(requestId) ?? 0;
    this.#attemptsSent.delete(requestId);
    return sent;
  }

  /** Keeps the count of a call that found no server (`sent > 0`), for a retry. */
  #keepAttemptsSent(requestId, sent) {
    if (sent <= 0) return;
    if (this.#attemptsSent.size >= ATTEMPT_COUNTS_MAX) this.#attemptsSent.clear();
    this.#attemptsSent.set(requestId, sent);
  }

  /** The remembered primary first, then the others as configured. */
  #orderedServers() {
    const servers = this.settings.servers;
    const preferred = servers.find((server) => server.url === this.#preferred);
    return preferred ? [preferred, ...servers.filter((server) => server !== preferred)] : [...servers];
  }

  /** The configured server a redirect's `primary` URL names. */
  #matchingServer(primary) {
    const wanted = normalizedUrl(primary);
    return this.settings.servers.find((server) => normalizedUrl(server.url) === wanted) ?? null;
  }
}

function normalizedServer(server) {
  const { url, sha256, ca } = typeof server === "string" ? { url: server } : server;
  if (typeof url !== "string" || !(url.startsWith("https://") || url.startsWith("http://"))) {
    throw new TypeError(`${url}: a server URL starts with https:// or http://`);
  }
  const pin = typeof sha256 === "string" ? parseFingerprint(sha256) : sha256;
  if (pin != null && !(pin instanceof Uint8Array && pin.length === 32)) {
    throw new TypeError(`${url}: a SHA-256 fingerprint is 32 bytes (64 hex digits)`);
  }
  if (pin != null && ca != null) throw new TypeError(`${url}: pin a fingerprint or name a CA, not both`);
  if (url.startsWith("http://") && (pin != null || ca != null)) {
    throw new TypeError(`${url}: plain HTTP has no certificate to pin or verify; use https://`);
  }
  return { url, sha256: pin ?? null, ca: ca ?? null };
}

function describe(error) {
  const cause = error?.cause?.message;
  const text = error?.message || String(error);
  return cause ? `${text}: ${cause}` : text;
}

// MARK: lease keeper

/** Wait before a renewal no server answered is tried again. */
export const LEASE_RETRY_MS = 1_000;

/**
 * Keeps leases of concurrent items alive: each is renewed (a heartbeat through
 * the client, so it follows a failover like any call) when a third of its life
 * has passed, at least a second apart; a renewal no server answers is tried
 * again a second later, while the lease may still live.
 *
 * Invariant: a kept lease is renewed until `stop(grantId)`, `close()`, or a
 * server says it is gone (then `onLost(grantId, refusal)` is called once).
 * Its timers do not keep a Node process alive.
 */
export class LeaseKeeper {
  constructor(client, { onLost } = {}) {
    this.client = client;
    this.onLost = onLost ?? null;
    this.#kept = new Map();
    this.#renewals = { count: 0, lastServer: null };
  }

  /** grant ID -> {leaseSeconds, timer}. */
  #kept;
  #renewals;

  /** Renews `grantId` from now on; its lease lives `leaseSeconds`. */
  keep(grantId, leaseSeconds) {
    this.stop(grantId);
    this.#schedule(grantId, leaseSeconds, dueMs(leaseSeconds));
  }

  stop(grantId) {
    const kept = this.#kept.get(grantId);
    if (kept !== undefined) clearTimeout(kept.timer);
    this.#kept.delete(grantId);
  }

  /** Renewals that succeeded, and the server of the last one. */
  get renewals() {
    return { ...this.#renewals };
  }

  close() {
    for (const grantId of [...this.#kept.keys()]) this.stop(grantId);
  }

  #schedule(grantId, leaseSeconds, inMs) {
    const kept = { leaseSeconds, timer: null };
    kept.timer = setTimeout(() => this.#renew(grantId, kept), inMs);
    kept.timer.unref?.();
    this.#kept.set(grantId, kept);
  }

  async #renew(grantId, kept) {
    let renewal = null;
    let failure = null;
    try {
      renewal = await this.client.heartbeat(grantId);
    } catch (error) {
      failure = error;
    }
    // Stopped, or kept anew, while the renewal was under way.
    if (this.#kept.get(grantId) !== kept) return;
    if (renewal !== null) {
      this.#renewals = { count: this.#renewals.count + 1, lastServer: renewal.server };
      const leaseSeconds = renewal.leaseSeconds > 0 ? renewal.leaseSeconds : kept.leaseSeconds;
      this.#schedule(grantId, leaseSeconds, dueMs(leaseSeconds));
    } else if (failure instanceof Refused) {
      this.#kept.delete(grantId);
      this.onLost?.(grantId, failure);
    } else {
      this.#schedule(grantId, kept.leaseSeconds, LEASE_RETRY_MS);
    }
  }
}

function dueMs(leaseSeconds) {
  return Math.max(1, leaseSeconds / 3) * 1000;
}

// MARK: report buffer

export const BUFFER_ENTRIES_MAX = 100_000;
/** A server remembers request IDs for 8 days, so a report this old still counts once. */
export const BUFFER_AGE_SECONDS_MAX = 7 * 86_400;

/** A buffered report from its stored JSON, or null when it is none. */
export function decodeReport(fields) {
  if (fields === null || typeof fields !== "object" || Array.isArray(fields)) return null;
  if (!Object.keys(fields).every((key) => ["requestId", "scans", "at", "grantId"].includes(key))) return null;
  const { requestId, scans, at, grantId } = fields;
  if (typeof requestId !== "string" || requestId === "" || !Number.isInteger(scans) || scans < 1
      || !Number.isInteger(at) || !(grantId === undefined || typeof grantId === "string")) return null;
  return grantId === undefined ? { requestId, scans, at } : { requestId, scans, at, grantId };
}

/** One line of a buffer: the report's JSON, keys sorted (as ReportBuffer.swift writes it). */
export function encodeReport(report) {
  const fields = { at: report.at };
  if (report.grantId !== undefined) fields.grantId = report.grantId;
  return JSON.stringify({ ...fields, requestId: report.requestId, scans: report.scans });
}

/**
 * Usage reports no server took yet, oldest first, bounded in count
 * (`maxEntries`) and age (`maxAgeSeconds`), kept in a store that survives a
 * restart: `load()` returns the lines kept, `save(lines)` replaces them,
 * `add(line, lines)` adds one (durably, before it returns).
 *
 * Invariant: the store holds exactly `pending`, each request ID once; a report
 * older than `maxAgeSeconds` is dropped (and counted in `expiredTotal`), never
 * delivered.
 */
export class ReportBuffer {
  constructor(store, name, lines, { maxEntries = BUFFER_ENTRIES_MAX, maxAgeSeconds = BUFFER_AGE_SECONDS_MAX } = {}) {
    this.store = store;
    this.name = name;
    this.maxEntries = maxEntries;
    this.maxAgeSeconds = maxAgeSeconds;
    this.expiredTotal = 0;
    this.pending = lines.map((line, index) => {
      const report = decodeReport(parseJson(line));
      if (report === null) {
        throw new Error(`${name} line ${index + 1} is no buffered report; move it away to start with an empty buffer`);
      }
      return report;
    });
  }

  get count() {
    return this.pending.length;
  }

  /** Adds `report` durably; rejects with BufferFull at `maxEntries`. */
  async append(report) {
    if (this.pending.length >= this.maxEntries) {
      throw new BufferFull(`the report buffer ${this.name} holds ${this.maxEntries} reports, its limit; the report was not kept`);
    }
    if (this.pending.some((kept) => kept.requestId === report.requestId)) {
      throw new Error(`the report buffer ${this.name} holds request ID ${report.requestId} already`);
    }
    const line = encodeReport(report);
    await this.store.add(line, [...this.pending.map(encodeReport), line]);
    this.pending = [...this.pending, decodeReport(JSON.parse(line))];
  }

  /** The reports to deliver now, oldest first; drops those older than `maxAgeSeconds` at `now` (Unix seconds). */
  async deliverable(now) {
    const fresh = this.pending.filter((report) => now - report.at <= this.maxAgeSeconds);
    if (fresh.length !== this.pending.length) {
      this.expiredTotal += this.pending.length - fresh.length;
      await this.#rewrite(fresh);
    }
    return fresh;
  }

  /** Removes the reports with these request IDs (delivered or refused). */
  async remove(requestIds) {
    const gone = new Set(requestIds);
    if (gone.size === 0) return;
    await this.#rewrite(this.pending.filter((report) => !gone.has(report.requestId)));
  }

  async #rewrite(reports) {
    await this.store.save(reports.map(encodeReport));
    this.pending = reports;
  }
}

/** A buffer store in a Web Storage object (localStorage by default): one JSON array of lines under `key`. */
export function webStorageStore(key, storage = globalThis.localStorage) {
  return {
    load: () => {
      const text = storage.getItem(key);
      const lines = text === null ? [] : parseJson(text);
      if (!Array.isArray(lines) || !lines.every((line) => typeof line === "string")) {
        throw new Error(`${key} in web storage is no report buffer; remove it to start with an empty buffer`);
      }
      return lines;
    },
    save: (lines) => storage.setItem(key, JSON.stringify(lines)),
    add: (_line, lines) => storage.setItem(key, JSON.stringify(lines)),
  };
}

/**
 * Opens the report buffer `where`: in Node a file (one JSON object a line,
 * fsynced, replaced atomically; the format ReportBuffer.swift and the Python
 * client use), in a browser a localStorage entry of that name.
 */
export async function openReportBuffer(where, options = {}) {
  const store = isNode ? (await node()).fileStore(where) : webStorageStore(where);
  return new ReportBuffer(store, where, await store.load(), options);
}

// MARK: client identity

/** The localStorage entry that keeps a browser's client UUID. */
export const IDENTITY_STORAGE_KEY = "lts-client-uuid";
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The client UUID this installation keeps, made on first use: in Node in
 * `directory/client-uuid` (default `$XDG_STATE_HOME/lts-client`, else
 * `~/.local/state/lts-client`, the Swift and Python clients' file), in a
 * browser in localStorage.
 */
export async function loadClientUUID(directory) {
  if (isNode) return (await node()).loadClientUUID(directory);
  const kept = localStorage.getItem(IDENTITY_STORAGE_KEY);
  if (kept !== null) {
    if (!UUID_PATTERN.test(kept)) throw new Error(`${IDENTITY_STORAGE_KEY} in localStorage holds no UUID; remove it to make a new client identity`);
    return kept;
  }
  const made = webCrypto.randomUUID();
  localStorage.setItem(IDENTITY_STORAGE_KEY, made);
  return made;
}
