// A real `lts pair` (main + standby on 127.0.0.1) for the tests, and the
// admin calls they check it with.

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as https from "node:https";

const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
const START_MS_MAX = 30_000;
const POLL_MS = 100;

/** $LTS_BINARY, else the fresh build `.build/debug/lts` of this repository. */
export function ltsBinary() {
  const binary = process.env.LTS_BINARY || path.join(REPO_ROOT, ".build/debug/lts");
  fs.accessSync(binary, fs.constants.X_OK);
  return binary;
}

function freePort(host, port = 0) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(null));
    probe.listen(port, host, () => {
      const bound = probe.address().port;
      probe.close(() => resolve(bound));
    });
  });
}

/** A port P such that P and P + 1 are free now. */
export async function freeAdjacentPorts() {
  for (let tries = 0; tries < 50; tries += 1) {
    const port = await freePort("127.0.0.1");
    if (port < 65535 && (await freePort("127.0.0.1", port + 1)) !== null) return port;
  }
  throw new Error("no two adjacent free ports");
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `lts pair` in a temporary directory: the main on `port`, the standby on
 * `port + 1`, the demo license imported under the handshake code `demo-1`.
 * Admin calls go over TLS verified by each node's own certificate file.
 */
export class Pair {
  static NODES = ["main", "standby"];

  static async start() {
    const pair = new Pair(await freeAdjacentPorts());
    try {
      await pair.waitUntil(async () => (await pair.role("main")) === "primary" && (await pair.role("standby")) === "standby"
        && fs.existsSync(pair.file("admin-password")) && (await pair.clientKey()) !== null,
      "the pair to start with the demo license imported");
    } catch (error) {
      await pair.stop();
      throw error;
    }
    return pair;
  }

  constructor(port) {
    this.directory = fs.mkdtempSync(path.join(os.tmpdir(), "lts-js-pair-"));
    this.port = port;
    this.urls = { main: `https://127.0.0.1:${port}/dls/`, standby: `https://127.0.0.1:${port + 1}/dls/` };
    const log = fs.openSync(path.join(this.directory, "pair.log"), "w");
    this.process = spawn(ltsBinary(), ["pair", "--dir", path.join(this.directory, "p"), "--port", String(port)],
      { stdio: ["ignore", log, log], detached: true });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.process.once("exit", (code, signal) => resolve(code ?? signal)));
    this.exitCode = undefined;
    this.exited.then((code) => { this.exitCode = code; });
  }

  file(...parts) {
    return path.join(this.directory, "p", ...parts);
  }

  /** Stops the pair (SIGTERM, then SIGKILL to its process group after 10 s) and removes its directory. */
  async stop() {
    if (this.exitCode === undefined) {
      this.process.kill("SIGTERM");
      const timer = setTimeout(() => process.kill(-this.process.pid, "SIGKILL"), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.directory, { recursive: true, force: true });
  }

  logTail() {
    return fs.readFileSync(path.join(this.directory, "pair.log"), "utf8").split("\n").slice(-30).join("\n");
  }

  /** Polls `condition` (async) until it is true; fails naming `what` after `ms`. */
  async waitUntil(condition, what, ms = START_MS_MAX) {
    const deadline = Date.now() + ms;
    while (!(await condition())) {
      if (this.exitCode !== undefined) throw new Error(`lts pair exited (${this.exitCode}); its log ends:\n${this.logTail()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the pair's log ends:\n${this.logTail()}`);
      await delay(POLL_MS);
    }
  }

  certFile(node) {
    return this.file(node, "data", "tls", "node.crt");
  }

  pid(node) {
    return Number(fs.readFileSync(this.file(node, "data", "lts.pid"), "utf8").trim());
  }

  /** One HTTP call to `node`: `{status, body}`, status 0 when the node is unreachable. */
  request(node, method, urlPath, body, token) {
    return new Promise((resolve) => {
      let ca;
      try {
        ca = fs.readFileSync(this.certFile(node));
      } catch {
        resolve({ status: 0, body: null });
        return;
      }
      const headers = { "content-type": "application/json" };
      if (token) headers.authorization = `Bearer ${token}`;
      const request = https.request(this.urls[node] + urlPath, { method, headers, ca, timeout: 5_000, agent: false }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => { text += chunk; });
        response.on("end", () => {
          let parsed = null;
          try { parsed = JSON.parse(text); } catch { /* not JSON: null */ }
          resolve({ status: response.statusCode, body: parsed });
        });
        response.on("error", () => resolve({ status: 0, body: null }));
      });
      request.on("timeout", () => request.destroy(new Error("timeout")));
      request.on("error", () => resolve({ status: 0, body: null }));
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  async role(node) {
    const { status, body } = await this.request(node, "GET", "api/health");
    return status === 200 ? body.role : null;
  }

  async primary() {
    for (const node of Pair.NODES) if ((await this.role(node)) === "primary") return node;
    return null;
  }

  /** An admin call on `node`, logged in afresh with the pair's admin password (a restarted node forgot its sessions). */
  async admin(node, method, urlPath) {
    const password = fs.readFileSync(this.file("admin-password"), "utf8").trim();
    const login = await this.request(node, "POST", "api/admin/login", { password });
    if (login.status !== 200) throw new Error(`admin login on the ${node} answered ${login.status} ${JSON.stringify(login.body)}`);
    const answer = await this.request(node, method, urlPath, undefined, login.body.token);
    if (answer.status !== 200) throw new Error(`${method} ${urlPath} on the ${node} answered ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  /** The client key of `demo-1` (both servers, pinned), or null before the code exists. */
  async clientKey() {
    try {
      return (await this.admin("main", "GET", "api/admin/handshakes/demo-1/client-key")).clientKey;
    } catch {
      return null;
    }
  }

  grants(node) {
    return this.admin(node, "GET", "api/admin/grants?since=0&limit=10000");
  }

}

/**
 * Compares what a client holds (requestId -> grantId) with a node's grant
 * list: `lost` are grants the client holds that the list lacks (or lists
 * under another grant ID); `duplicated` are request IDs listed more than once.
 */
export function audit(held, listed) {
  const counts = new Map();
  const grantIds = new Map();
  for (const grant of listed) {
    counts.set(grant.requestId, (counts.get(grant.requestId) ?? 0) + 1);
    grantIds.set(grant.requestId, grant.grantId);
  }
  const lost = [...held].filter(([requestId, grantId]) => grantIds.get(requestId) !== grantId).map(([requestId]) => requestId);
  const duplicated = [...held.keys()].filter((requestId) => (counts.get(requestId) ?? 0) > 1);
  return { lost, duplicated };
}
