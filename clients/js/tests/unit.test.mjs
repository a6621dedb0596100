// Unit tests: client keys (what ClientKey.swift makes parses to the same key,
// every kind of malformed key is refused), the retry schedule, answer
// classification, the report buffer, the client UUID file, and that the
// declarations name exactly what the module exports.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import * as client from "../lts-client.mjs";
import {
  BufferFull, KEY_TEXT_BYTES_MAX, MalformedKey, RetrySchedule, classify, clientKeyText, loadClientUUID, normalizedUrl,
  openReportBuffer, parseClientKey, ReportBuffer, webStorageStore,
} from "../lts-client.mjs";
import { ltsBinary } from "./pair.mjs";

const PIN_A = Uint8Array.from({ length: 32 }, (_, index) => index);
const PIN_B = Uint8Array.from({ length: 32 }, (_, index) => index + 32);
const hex = (bytes) => Buffer.from(bytes).toString("hex");

/** A key text for any JSON value, made as ClientKey.swift makes one. */
function keyOf(value) {
  return "lts1." + Buffer.from(JSON.stringify(value)).toString("base64url");
}

function temporaryDirectory(t) {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "lts-js-unit-"));
  t.after(() => fs.rmSync(directory, { recursive: true, force: true }));
  return directory;
}

describe("client keys", () => {
  test("a round trip keeps the code, the order and the pins", () => {
    const key = { handshakeCode: "acme-1", servers: [{ url: "https://a.example/dls/", sha256: PIN_A }, { url: "https://b.example:8443/lts/" }] };
    assert.deepEqual(parseClientKey(clientKeyText(key)), key);
    assert.deepEqual(parseClientKey(`  ${clientKeyText(key)}\n`), key);
  });

  test("the Swift tool and this module write the same key", () => {
    const servers = "https://127.0.0.1:48080/dls/,https://b.example/lts/";
    const pins = `${Array.from(PIN_A, (byte) => byte.toString(16).padStart(2, "0").toUpperCase()).join(":")},${hex(PIN_B)}`;
    const made = execFileSync(ltsBinary(), ["client", "key", "acme-1", "--servers", servers, "--fingerprint", pins], { encoding: "utf8" }).trim();
    const key = parseClientKey(made);
    assert.deepEqual(key, {
      handshakeCode: "acme-1",
      servers: [{ url: "https://127.0.0.1:48080/dls/", sha256: PIN_A }, { url: "https://b.example/lts/", sha256: PIN_B }],
    });
    assert.equal(clientKeyText(key), made);
  });

  test("fingerprints may have colons and capitals", () => {
    const pin = Array.from(PIN_A, (byte) => byte.toString(16).padStart(2, "0").toUpperCase()).join(":");
    assert.deepEqual(parseClientKey(keyOf({ code: "c", servers: [{ url: "https://a/", sha256: pin }] })).servers[0].sha256, PIN_A);
  });

  test("malformed keys are refused", () => {
    const good = { url: "https://a.example/dls/" };
    const malformed = {
      "another prefix": "lts2." + keyOf({ code: "c", servers: [good] }).slice(5),
      "a character outside base64url": keyOf({ code: "c", servers: [good] }) + "=",
      "base64 that does not decode": "lts1.A",
      "no JSON": "lts1." + Buffer.from("not json").toString("base64url"),
      "no UTF-8": "lts1." + Buffer.from([0x22, 0xff, 0x22]).toString("base64url"),
      "a JSON array": keyOf([1, 2]),
      "JSON null": keyOf(null),
      "an unknown key": keyOf({ code: "c", servers: [good], extra: 1 }),
      "no code": keyOf({ servers: [good] }),
      "an empty code": keyOf({ code: "", servers: [good] }),
      "a code that is no string": keyOf({ code: 7, servers: [good] }),
      "no server": keyOf({ code: "c", servers: [] }),
      "three servers": keyOf({ code: "c", servers: ["a", "b", "c"].map((name) => ({ url: `https://${name}/` })) }),
      "a server that is no object": keyOf({ code: "c", servers: ["https://a/"] }),
      "a server without url": keyOf({ code: "c", servers: [{ sha256: hex(PIN_A) }] }),
      "an ftp url": keyOf({ code: "c", servers: [{ url: "ftp://a/" }] }),
      "an unknown server key": keyOf({ code: "c", servers: [{ url: "https://a/", ca: "x" }] }),
      "a short fingerprint": keyOf({ code: "c", servers: [{ url: "https://a/", sha256: hex(PIN_A).slice(0, 62) }] }),
      "a fingerprint with a non-hex digit": keyOf({ code: "c", servers: [{ url: "https://a/", sha256: "g" + hex(PIN_A).slice(1) }] }),
      "a fingerprint that is no string": keyOf({ code: "c", servers: [{ url: "https://a/", sha256: 5 }] }),
      "a fingerprint on a plain HTTP url": keyOf({ code: "c", servers: [{ url: "http://a/", sha256: hex(PIN_A) }] }),
      "a server named twice": keyOf({ code: "c", servers: [good, good] }),
      "a key that is too long": keyOf({ code: "c".repeat(KEY_TEXT_BYTES_MAX), servers: [good] }),
    };
    for (const [why, text] of Object.entries(malformed)) {
      assert.throws(() => parseClientKey(text), MalformedKey, why);
    }
  });
});

describe("retry schedule", () => {
  test("delays double from 100 ms to 2 s, each in the upper half", () => {
    const schedule = new RetrySchedule();
    const ceilings = [100, 200, 400, 800, 1600, 2000, 2000, 2000];
    ceilings.forEach((ceiling, index) => {
      assert.equal(schedule.delayMs(index + 1, () => 0), ceiling / 2, `round ${index + 1} at its lowest`);
      assert.equal(schedule.delayMs(index + 1, () => 0.999999), ceiling, `round ${index + 1} at its highest`);
      for (let draw = 0; draw < 100; draw += 1) {
        const delay = schedule.delayMs(index + 1);
        assert.ok(delay >= ceiling / 2 && delay <= ceiling, `round ${index + 1}: ${delay}`);
      }
    });
    assert.equal(schedule.delayMs(10_000, () => 0.999999), 2000);
  });

  test("a schedule needs 0 < baseMs <= maxMs", () => {
    assert.throws(() => new RetrySchedule({ baseMs: 0 }), RangeError);
    assert.throws(() => new RetrySchedule({ baseMs: 300, maxMs: 200 }), RangeError);
  });
});

describe("answers", () => {
  test("each status means what ServerAnswer.swift says", () => {
    assert.deepEqual(classify(200, { grantId: "g" }), { kind: "answered" });
    assert.deepEqual(classify(421, { code: -20100, primary: "https://a/dls/" }), { kind: "redirect", primary: "https://a/dls/" });
    assert.deepEqual(classify(421, null), { kind: "redirect", primary: null });
    assert.deepEqual(classify(503, { code: -20005, message: "busy" }), { kind: "unavailable", reason: "busy (HTTP 503)" });
    assert.deepEqual(classify(429, { code: -20113, message: "wait" }), { kind: "unavailable", reason: "wait (HTTP 429)" });
    assert.deepEqual(classify(403, { code: -20120, message: "used up" }), { kind: "refused", code: -20120, message: "used up" });
    assert.deepEqual(classify(404, { code: -20130 }), { kind: "refused", code: -20130, message: "HTTP 404" });
    assert.deepEqual(classify(404, null), { kind: "unavailable", reason: "HTTP 404 without a DLS code" });
  });

  test("a redirect's primary matches a server with or without its /dls/ or /lts/", () => {
    for (const url of ["https://A:1/dls/", "https://a:1/lts", "https://a:1//", "https://a:1"]) {
      assert.equal(normalizedUrl(url), "https://a:1", url);
    }
  });
});

describe("report buffer", () => {
  const report = (requestId, at = 1_000, extra = {}) => ({ requestId, scans: 2, at, ...extra });

  test("reports survive a reload in order, in the Swift client's file format", async (t) => {
    const file = path.join(temporaryDirectory(t), "sub", "reports.jsonl");
    const buffer = await openReportBuffer(file);
    await buffer.append(report("r-1", 1_000, { grantId: "g" }));
    await buffer.append(report("r-2"));
    assert.equal(fs.readFileSync(file, "utf8"), '{"at":1000,"grantId":"g","requestId":"r-1","scans":2}\n{"at":1000,"requestId":"r-2","scans":2}\n');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const reloaded = await openReportBuffer(file);
    assert.deepEqual(reloaded.pending, [report("r-1", 1_000, { grantId: "g" }), report("r-2")]);
  });

  test("a full buffer refuses and keeps what it has; a request ID is kept once", async (t) => {
    const file = path.join(temporaryDirectory(t), "reports.jsonl");
    const buffer = await openReportBuffer(file, { maxEntries: 2 });
    await buffer.append(report("r-1"));
    await assert.rejects(buffer.append(report("r-1")), /holds request ID r-1 already/);
    await buffer.append(report("r-2"));
    await assert.rejects(buffer.append(report("r-3")), BufferFull);
    assert.deepEqual((await openReportBuffer(file)).pending.map((kept) => kept.requestId), ["r-1", "r-2"]);
  });

  test("old reports are dropped and counted, never delivered; removed ones leave the file", async (t) => {
    const file = path.join(temporaryDirectory(t), "reports.jsonl");
    const buffer = await openReportBuffer(file, { maxAgeSeconds: 100 });
    await buffer.append(report("old", 1_000));
    await buffer.append(report("fresh-1", 1_050));
    await buffer.append(report("fresh-2", 1_100));
    assert.deepEqual((await buffer.deliverable(1_101)).map((kept) => kept.requestId), ["fresh-1", "fresh-2"]);
    assert.equal(buffer.expiredTotal, 1);
    await buffer.remove(["fresh-1"]);
    assert.deepEqual((await openReportBuffer(file)).pending.map((kept) => kept.requestId), ["fresh-2"]);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["reports.jsonl"]);
  });

  test("a line that is no report is refused at load", async (t) => {
    const file = path.join(temporaryDirectory(t), "reports.jsonl");
    for (const line of ['{"at":1,"requestId":"r","scans":0}', '{"at":1,"requestId":"r","scans":1,"x":1}', "not json"]) {
      fs.writeFileSync(file, `{"at":1,"requestId":"ok","scans":1}\n${line}\n`);
      await assert.rejects(openReportBuffer(file), /line 2 is no buffered report/, line);
    }
  });

  test("a browser keeps the buffer in web storage", async () => {
    const entries = new Map();
    const storage = { getItem: (key) => entries.get(key) ?? null, setItem: (key, value) => entries.set(key, value) };
    const store = webStorageStore("lts-reports", storage);
    const buffer = new ReportBuffer(store, "lts-reports", store.load());
    await buffer.append(report("r-1"));
    await buffer.append(report("r-2"));
    await buffer.remove(["r-1"]);
    assert.deepEqual(new ReportBuffer(store, "lts-reports", store.load()).pending, [report("r-2")]);
    entries.set("lts-reports", "{}");
    assert.throws(() => store.load(), /is no report buffer/);
  });
});

describe("client identity", () => {
  test("the client UUID is made once and kept in its file", async (t) => {
    const directory = path.join(temporaryDirectory(t), "state");
    const made = await loadClientUUID(directory);
    assert.match(made, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(await loadClientUUID(directory), made);
    assert.equal(fs.statSync(path.join(directory, "client-uuid")).mode & 0o777, 0o600);
    fs.writeFileSync(path.join(directory, "client-uuid"), "nonsense\n");
    await assert.rejects(loadClientUUID(directory), /holds no UUID/);
  });
});

test("the declarations name exactly what the module exports", () => {
  const declarations = fs.readFileSync(new URL("../lts-client.d.ts", import.meta.url), "utf8");
  const declared = [...declarations.matchAll(/^export (?:class|function|const) (\w+)/gm)].map((match) => match[1]).sort();
  assert.deepEqual(declared, Object.keys(client).sort());
});
