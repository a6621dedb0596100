// Types of lts-client.mjs (see that file and README.md).

/** A failed call: `code` (DLS) and `status` (HTTP) are set for a server's refusal, null when no server answered. */
export class LicenseError extends Error {
  readonly code: number | null;
  readonly status: number | null;
}

/** A server's final refusal (quota, expiry, bad handshake code, …): the other server would say the same. */
export class Refused extends LicenseError {
  readonly code: number;
  readonly status: number;
  constructor(code: number, message: string, status: number);
}

/** No server gave a final answer before the call's deadline. */
export class Unavailable extends LicenseError {
  readonly code: null;
  readonly status: null;
  /** Each server URL and the last thing it said or why it could not be reached. */
  readonly lastErrors: Readonly<Record<string, string>>;
  constructor(lastErrors: Record<string, string>);
}

export class MalformedKey extends Error {}
export class BufferFull extends Error {}

/** A server's base URL (`https://host:port/dls/`) and how to trust it (Node only: a browser applies its own trust). */
export interface Server {
  url: string;
  /** The SHA-256 of its certificate (self-signed nodes): 32 bytes, or 64 hex digits (colons allowed). */
  sha256?: Uint8Array | string | null;
  /** PEM text of the CA (or the self-signed certificate itself) that verifies it. */
  ca?: string | null;
}

export interface ClientKey {
  handshakeCode: string;
  servers: { url: string; sha256?: Uint8Array }[];
}

export const KEY_PREFIX: "lts1.";
export const KEY_TEXT_BYTES_MAX: number;
export const SERVERS_MAX: number;
export function parseFingerprint(text: string): Uint8Array | null;
/** @throws MalformedKey */
export function parseClientKey(text: string): ClientKey;
export function clientKeyText(key: ClientKey): string;

export class RetrySchedule {
  readonly baseMs: number;
  readonly maxMs: number;
  constructor(options?: { baseMs?: number; maxMs?: number });
  /** The wait after `failedRounds` (≥ 1) rounds without an answer, in [d / 2, d], d = min(maxMs, baseMs · 2^(failedRounds - 1)). */
  delayMs(failedRounds: number, random?: () => number): number;
}

export type ServerAnswer =
  | { kind: "answered" }
  | { kind: "refused"; code: number; message: string }
  | { kind: "redirect"; primary: string | null }
  | { kind: "unavailable"; reason: string };
export function classify(status: number, body: unknown): ServerAnswer;
export function normalizedUrl(url: string): string;
export function joinUrl(base: string, path: string): string;
export function parseJson(text: string): unknown;
export const RESPONSE_BYTES_MAX: number;

export interface Settings {
  /** In order, main first; one or two. */
  servers: (Server | string)[];
  handshakeCode: string;
  clientUUID: string;
  sessionPassword?: string;
  domain?: string;
  appId?: string;
  process?: string;
  /** A dead server costs at most this per attempt (Node; a browser's fetch has only `requestTimeoutMs`). Default 300. */
  connectTimeoutMs?: number;
  /** Default 2000. */
  requestTimeoutMs?: number;
  /** How long one call keeps trying before it gives up. Default 15000. */
  callDeadlineMs?: number;
  retry?: RetrySchedule;
  /** Jitter's randomness, [0, 1). */
  random?: () => number;
}

export interface Authorization {
  grantId: string;
  itemId: string;
  grace: boolean;
  /** Seconds the lease lives without a heartbeat (concurrent items), else 0. */
  leaseSeconds: number;
  term: number;
  token: string;
  /** The request ID the grant answered (reused on every retry). */
  requestId: string;
  /** The server that granted it. */
  server: string;
}

export interface Answer {
  server: string;
  body: Record<string, unknown>;
}

export const ATTEMPT_COUNTS_MAX: number;
export const UNKNOWN_GRANT_CODE: -20130;
export function newRequestId(): string;

export class LicenseClient {
  readonly settings: Readonly<Required<Omit<Settings, "servers" | "sessionPassword" | "domain" | "appId" | "process">>> &
    Pick<Settings, "sessionPassword" | "domain" | "appId" | "process"> & {
      servers: { url: string; sha256: Uint8Array | null; ca: string | null }[];
    };
  constructor(settings: Settings);
  static fromKey(
    key: string | ClientKey,
    options?: Omit<Settings, "servers" | "handshakeCode" | "clientUUID"> & { clientUUID?: string; identityDirectory?: string },
  ): Promise<LicenseClient>;
  /** The server that answered last (the primary as far as this client knows). */
  readonly rememberedServer: string | null;
  authorize(product: string, options?: { scans?: number; requestId?: string }): Promise<Authorization>;
  /** The server that counted it, or null when no server answered and it waits in `buffer`. */
  report(scans: number, options?: { grantId?: string; buffer?: ReportBuffer; requestId?: string }): Promise<string | null>;
  deliverBuffered(buffer: ReportBuffer): Promise<{ delivered: number; refused: number }>;
  heartbeat(grantId: string): Promise<{ leaseSeconds: number; server: string }>;
  release(grantId: string): Promise<void>;
  call(path: string, fields: Record<string, unknown>): Promise<Answer>;
}

export const LEASE_RETRY_MS: number;

export class LeaseKeeper {
  readonly client: LicenseClient;
  onLost: ((grantId: string, refusal: Refused) => void) | null;
  constructor(client: LicenseClient, options?: { onLost?: (grantId: string, refusal: Refused) => void });
  keep(grantId: string, leaseSeconds: number): void;
  stop(grantId: string): void;
  /** Renewals that succeeded, and the server of the last one. */
  readonly renewals: { count: number; lastServer: string | null };
  close(): void;
}

export interface BufferedReport {
  requestId: string;
  scans: number;
  grantId?: string;
  /** When it was made (Unix seconds). */
  at: number;
}

/** Where a report buffer keeps its lines. */
export interface ReportStore {
  load(): string[] | Promise<string[]>;
  save(lines: string[]): void | Promise<void>;
  add(line: string, lines: string[]): void | Promise<void>;
}

export const BUFFER_ENTRIES_MAX: number;
export const BUFFER_AGE_SECONDS_MAX: number;
export function decodeReport(fields: unknown): BufferedReport | null;
export function encodeReport(report: BufferedReport): string;

export class ReportBuffer {
  readonly store: ReportStore;
  readonly name: string;
  readonly maxEntries: number;
  readonly maxAgeSeconds: number;
  /** Reports dropped because they grew too old. */
  readonly expiredTotal: number;
  readonly pending: readonly BufferedReport[];
  readonly count: number;
  constructor(store: ReportStore, name: string, lines: string[], options?: { maxEntries?: number; maxAgeSeconds?: number });
  append(report: BufferedReport): Promise<void>;
  deliverable(now: number): Promise<BufferedReport[]>;
  remove(requestIds: Iterable<string>): Promise<void>;
}

export function webStorageStore(key: string, storage?: Storage): ReportStore;
/** A file in Node, a localStorage entry in a browser. */
export function openReportBuffer(where: string, options?: { maxEntries?: number; maxAgeSeconds?: number }): Promise<ReportBuffer>;

export const IDENTITY_STORAGE_KEY: string;
export const UUID_PATTERN: RegExp;
export function loadClientUUID(directory?: string): Promise<string>;
