// The client against a real `lts pair`: the four calls, a standby's redirect,
// pins, lease renewal, the offline report buffer, and a kill -9 of the
// primary while authorize calls run (0 lost, 0 duplicated).

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { LeaseKeeper, LicenseClient, Refused, Unavailable, newRequestId, openReportBuffer, parseClientKey } from "../lts-client.mjs";
import { Pair, audit, freeAdjacentPorts } from "./pair.mjs";

const CLIENT_UUID = "0b7e1c2d-3f4a-4b5c-8d6e-7f8091a2b3c4";
const GRANTS_BEFORE_KILL = 30;
const GRANTS_AFTER_PROMOTION = 30;

describe("against a real pair", () => {
  let pair;
  let key;
  before(async () => {
    pair = await Pair.start();
    key = parseClientKey(await pair.clientKey());
  });
  after(() => pair?.stop());

  const granted = async () => {
    const counts = new Map();
    for (const grant of await pair.grants("main")) counts.set(grant.requestId, (counts.get(grant.requestId) ?? 0) + 1);
    return counts;
  };
  const client = (options = {}) => new LicenseClient({ servers: key.servers, handshakeCode: key.handshakeCode, clientUUID: CLIENT_UUID, ...options });

  test("the key names both servers, pinned", () => {
    assert.deepEqual(key.servers.map((server) => server.url), [pair.urls.main, pair.urls.standby]);
    assert.ok(key.servers.every((server) => server.sha256 instanceof Uint8Array));
  });

  test("authorize, report, heartbeat, release", async () => {
    const subject = await LicenseClient.fromKey(await pair.clientKey(), { clientUUID: CLIENT_UUID });
    const scan = await subject.authorize("dbr", { scans: 2 });
    assert.deepEqual([scan.server, scan.leaseSeconds], [pair.urls.main, 0]);
    assert.equal(await subject.report(3, { grantId: scan.grantId, requestId: "js-report-1" }), pair.urls.main);
    const lease = await subject.authorize("dcv");
    assert.ok(lease.leaseSeconds > 0);
    assert.deepEqual(await subject.heartbeat(lease.grantId), { leaseSeconds: lease.leaseSeconds, server: pair.urls.main });
    await subject.release(lease.grantId);
    await subject.release(lease.grantId);
    await assert.rejects(subject.heartbeat(lease.grantId), (error) => error instanceof Refused && error.code === -20130 && error.status === 404);
    const counts = await granted();
    assert.deepEqual([counts.get(scan.requestId), counts.get(lease.requestId), counts.get("js-report-1")], [1, 1, 1]);
    await assert.rejects(subject.authorize("no-such-product"), (error) => error instanceof Refused && error.code === -20123 && error.status === 403);
  });

  test("the standby redirects to the primary", async () => {
    const standbyFirst = new LicenseClient({ servers: [key.servers[1], key.servers[0]], handshakeCode: key.handshakeCode, clientUUID: CLIENT_UUID });
    assert.equal((await standbyFirst.authorize("dbr")).server, pair.urls.main);
    assert.equal(standbyFirst.rememberedServer, pair.urls.main);
    const standbyOnly = new LicenseClient({ servers: [key.servers[1]], handshakeCode: key.handshakeCode, clientUUID: CLIENT_UUID, callDeadlineMs: 200 });
    const unavailable = await standbyOnly.authorize("dbr").catch((error) => error);
    assert.ok(unavailable instanceof Unavailable);
    assert.deepEqual(unavailable.lastErrors, { [pair.urls.standby]: "standby" });
  });

  test("a wrong pin is refused; the node's certificate as CA verifies it", async () => {
    const main = key.servers[0];
    const wrong = new LicenseClient({ servers: [{ url: main.url, sha256: main.sha256.map((byte) => byte ^ 1) }], handshakeCode: key.handshakeCode, clientUUID: CLIENT_UUID, callDeadlineMs: 200 });
    const unavailable = await wrong.authorize("dbr").catch((error) => error);
    assert.ok(unavailable instanceof Unavailable);
    assert.match(unavailable.lastErrors[main.url], /not the pinned one/);
    const byCa = client({ servers: [{ url: main.url, ca: fs.readFileSync(pair.certFile("main"), "utf8") }] });
    assert.equal((await byCa.authorize("dbr")).server, main.url);
  });

  test("the lease keeper renews and reports a lost lease", async () => {
    const subject = client();
    let lost;
    const lostOne = new Promise((resolve) => { lost = resolve; });
    const keeper = new LeaseKeeper(subject, { onLost: (grantId, refusal) => lost([grantId, refusal.code]) });
    try {
      const lease = await subject.authorize("dcv");
      // A life of 3 s makes the first renewal due after 1 s.
      keeper.keep(lease.grantId, 3);
      await pair.waitUntil(() => keeper.renewals.count >= 1, "the lease keeper's first renewal", 10_000);
      assert.deepEqual(keeper.renewals, { count: 1, lastServer: pair.urls.main });
      keeper.keep("no-such-grant", 3);
      assert.deepEqual(await lostOne, ["no-such-grant", -20130]);
      keeper.stop(lease.grantId);
      await subject.release(lease.grantId);
    } finally {
      keeper.close();
    }
  });

  test("reports no server took are buffered, then delivered once", async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "lts-js-reports-"));
    try {
      const file = path.join(directory, "reports.jsonl");
      const buffer = await openReportBuffer(file);
      const offline = client({ servers: [`https://127.0.0.1:${await freeAdjacentPorts()}/dls/`], callDeadlineMs: 300 });
      assert.equal(await offline.report(2, { buffer, requestId: "js-buffered-1" }), null);
      assert.equal(await offline.report(5, { buffer, requestId: "js-buffered-2" }), null);
      await assert.rejects(offline.report(1), Unavailable);
      assert.deepEqual(await offline.deliverBuffered(buffer), { delivered: 0, refused: 0 });
      const reloaded = await openReportBuffer(file);
      assert.equal(reloaded.count, 2);
      assert.deepEqual(await client().deliverBuffered(reloaded), { delivered: 2, refused: 0 });
      assert.deepEqual(await client().deliverBuffered(reloaded), { delivered: 0, refused: 0 });
      assert.equal((await openReportBuffer(file)).count, 0);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
    const counts = await granted();
    assert.deepEqual([counts.get("js-buffered-1"), counts.get("js-buffered-2")], [1, 1]);
  });
});

describe("failover", () => {
  test("kill -9 of the primary loses and duplicates no grant", async (t) => {
    const pair = await Pair.start();
    t.after(() => pair.stop());
    const subject = await LicenseClient.fromKey(await pair.clientKey(), { clientUUID: "5d2c9e4b-6a1f-4c3d-9e8b-7a6f5e4d3c2b" });
    const held = new Map();
    const servers = new Map();
    const failures = [];
    let running = true;
    let longestMs = 0;
    const loop = (async () => {
      while (running) {
        const requestId = newRequestId();
        const started = Date.now();
        try {
          const grant = await subject.authorize("dbr", { requestId });
          longestMs = Math.max(longestMs, Date.now() - started);
          held.set(requestId, grant.grantId);
          servers.set(requestId, grant.server);
        } catch (error) {
          failures.push(`${requestId}: ${error.message}`);
        }
      }
    })();
    const grantsBy = (url) => [...servers.values()].filter((server) => url === undefined || server === url).length;
    try {
      await pair.waitUntil(async () => grantsBy() >= GRANTS_BEFORE_KILL, `${GRANTS_BEFORE_KILL} grants`);
      const killed = await pair.primary();
      assert.equal(killed, "main");
      process.kill(pair.pid("main"), "SIGKILL");
      await pair.waitUntil(async () => (await pair.role("standby")) === "primary", "the standby's promotion");
      await pair.waitUntil(async () => grantsBy(pair.urls.standby) >= GRANTS_AFTER_PROMOTION, `${GRANTS_AFTER_PROMOTION} grants from the standby`);
    } finally {
      running = false;
      await loop;
    }
    const { lost, duplicated } = audit(held, await pair.grants("standby"));
    console.log(`failover (kill -9 of the main): ${held.size} grants acknowledged (${grantsBy(pair.urls.main)} by the main, `
      + `${grantsBy(pair.urls.standby)} by the standby), ${lost.length} lost, ${duplicated.length} duplicated, `
      + `${failures.length} calls failed, longest call ${longestMs} ms`);
    assert.deepEqual(failures, []);
    assert.deepEqual(lost, []);
    assert.deepEqual(duplicated, []);
    assert.ok(grantsBy(pair.urls.main) >= GRANTS_BEFORE_KILL);
  });
});
