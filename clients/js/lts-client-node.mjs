// The Node half of lts-client.mjs, loaded by it only in Node: one HTTP(S)
// request to one server with that server's certificate verified (a pinned
// SHA-256, a CA, or the system's CAs; there is no unverified mode), the report
// buffer's file and the client UUID's file.

import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { homedir } from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { RESPONSE_BYTES_MAX, UUID_PATTERN, parseJson } from "./lts-client.mjs";

/**
 * A connected socket, TLS and verified for https: connecting and the TLS
 * handshake take at most `connectTimeoutMs` together (as curl's connect
 * timeout does), and a pinned certificate is compared before any request
 * byte is sent (a self-signed node has no CA to check it by).
 */
function connect(server, host, port, connectTimeoutMs) {
  return new Promise((resolve, reject) => {
    const plain = server.url.startsWith("http://");
    const options = { host, port };
    if (!plain) {
      options.servername = net.isIP(host) ? undefined : host;
      options.minVersion = "TLSv1.2";
      if (server.sha256 !== null) options.rejectUnauthorized = false;
      else if (server.ca !== null) options.ca = server.ca;
    }
    const socket = plain ? net.connect(options) : tls.connect(options);
    const timer = setTimeout(() => fail(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    function fail(error) {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    }
    socket.once("error", fail);
    socket.once(plain ? "connect" : "secureConnect", () => {
      clearTimeout(timer);
      socket.removeListener("error", fail);
      if (server.sha256 !== null) {
        const certificate = socket.getPeerCertificate();
        const digest = createHash("sha256").update(certificate?.raw ?? Buffer.alloc(0)).digest();
        if (!timingSafeEqual(digest, Buffer.from(server.sha256))) {
          socket.destroy();
          reject(new Error(`the certificate's SHA-256 ${digest.toString("hex")} is not the pinned one`));
          return;
        }
      }
      resolve(socket);
    });
  });
}

/**
 * POSTs `body` as JSON to `url` (under `server.url`) on a new connection.
 * Resolves `{status, body}` (body null when it is no JSON); rejects when the
 * server cannot be reached, is not the trusted one, or does not answer
 * within `requestTimeoutMs`.
 */
export async function postJson(server, url, body, connectTimeoutMs, requestTimeoutMs) {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
  const plain = target.protocol === "http:";
  const port = Number(target.port) || (plain ? 80 : 443);
  const socket = await connect(server, host, port, connectTimeoutMs);
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    // node:http over the socket made above, TLS or not: with `createConnection`
    // and no agent it opens no connection of its own.
    const request = http.request({
      method: "POST",
      host,
      port,
      path: target.pathname + target.search,
      headers: { "content-type": "application/json", "content-length": data.length, connection: "close" },
      createConnection: () => socket,
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${requestTimeoutMs} ms`)), requestTimeoutMs);
    request.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
    request.once("response", (response) => {
      const chunks = [];
      let length = 0;
      response.on("data", (chunk) => {
        length += chunk.length;
        if (length > RESPONSE_BYTES_MAX) request.destroy(new Error(`an answer larger than ${RESPONSE_BYTES_MAX} bytes`));
        else chunks.push(chunk);
      });
      response.once("end", () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode, body: parseJson(Buffer.concat(chunks).toString("utf8")) });
      });
      response.once("error", (error) => request.destroy(error));
    });
    request.end(data);
  });
}

/** A report buffer's file: one JSON object a line; an append is fsynced, a rewrite atomic (a fsynced temporary file renamed over it). */
export function fileStore(file) {
  return {
    load: () => {
      if (!fs.existsSync(file)) return [];
      return fs.readFileSync(file, "utf8").split("\n").filter((line) => line !== "");
    },
    save: (lines) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}`);
      const descriptor = fs.openSync(temporary, "w", 0o600);
      try {
        fs.writeSync(descriptor, lines.map((line) => `${line}\n`).join(""));
        fs.fsyncSync(descriptor);
      } finally {
        fs.closeSync(descriptor);
      }
      try {
        fs.renameSync(temporary, file);
      } catch (error) {
        fs.rmSync(temporary, { force: true });
        throw error;
      }
    },
    add: (line) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const descriptor = fs.openSync(file, "a", 0o600);
      try {
        fs.writeSync(descriptor, `${line}\n`);
        fs.fsyncSync(descriptor);
      } finally {
        fs.closeSync(descriptor);
      }
    },
  };
}

/** `$XDG_STATE_HOME/lts-client`, else `~/.local/state/lts-client`. */
export function defaultIdentityDirectory() {
  const state = process.env.XDG_STATE_HOME;
  return state ? path.join(state, "lts-client") : path.join(homedir(), ".local", "state", "lts-client");
}

/** The UUID in `directory/client-uuid`, made (and written, mode 0600) on first use. */
export function loadClientUUID(directory = defaultIdentityDirectory()) {
  const file = path.join(directory, "client-uuid");
  if (fs.existsSync(file)) {
    const kept = fs.readFileSync(file, "utf8").trim();
    if (!UUID_PATTERN.test(kept)) throw new Error(`${file} holds no UUID; remove it to make a new client identity`);
    return kept;
  }
  fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
  const made = randomUUID();
  fs.writeFileSync(file, `${made}\n`, { mode: 0o600, flag: "wx" });
  return made;
}
