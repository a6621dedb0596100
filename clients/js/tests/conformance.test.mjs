// The client conformance scenarios (clients/conformance/scenarios/*.json),
// each against a fresh real pair: see clients/conformance/README.md.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { LeaseKeeper, LicenseClient, Refused, openReportBuffer, parseClientKey } from "../lts-client.mjs";
import { Pair, ltsBinary } from "./pair.mjs";

const SCENARIOS = new URL("../../conformance/scenarios/", import.meta.url);
const CODE = "conformance-1";

/** A pair whose primary holds the conformance license, and that code's client key. */
async function conformancePair() {
  const pair = await Pair.start();
  try {
    const license = path.join(pair.directory, "conformance.json");
    execFileSync(ltsBinary(), ["license", "issue", "--key", pair.file("vendor", "issuer.key"), "--org", "conformance", "--bound-to", "*",
      "--item", "product=conformance-scan,chargeWay=scan,quantity=1000000,expires=2099-12-31",
      "--item", "product=conformance-lease,chargeWay=concurrentInstance,quantity=5,leaseSeconds=10,expires=2099-12-31",
      "--out", license], { stdio: "ignore" });
    const password = fs.readFileSync(pair.file("admin-password"), "utf8").trim();
    const login = await pair.request("main", "POST", "api/admin/login", { password });
    assert.equal(login.status, 200, "admin login on the main");
    const imported = await pair.request("main", "POST", "api/admin/licenses", JSON.parse(fs.readFileSync(license, "utf8")), login.body.token);
    assert.equal(imported.body?.handshakeCode, CODE, `importing the conformance license answered ${imported.status}`);
    const key = parseClientKey((await pair.admin("main", "GET", `api/admin/handshakes/${CODE}/client-key`)).clientKey);
    return { pair, key };
  } catch (error) {
    await pair.stop();
    throw error;
  }
}

/** A URL nothing listens on (the port was free a moment ago). */
async function unreachableURL() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `https://127.0.0.1:${port}/dls/`;
}

async function primaryOf(pair) {
  let primary = null;
  await pair.waitUntil(async () => (primary = await pair.primary()) !== null, "a primary");
  return primary;
}

/** One scenario's steps with one client, against one pair. */
async function runScenario(scenario, pair, key, work) {
  const servers = scenario.serversOrder === "standby-first" ? [...key.servers].reverse() : key.servers;
  const clientUUID = "c0a1e2b3-d4c5-4e6f-8a7b-9c0d1e2f3a4b";
  const client = new LicenseClient({ servers, handshakeCode: key.handshakeCode, clientUUID });
  const offline = new LicenseClient({ servers: [{ url: await unreachableURL(), sha256: new Uint8Array(32) }],
    handshakeCode: key.handshakeCode, clientUUID, callDeadlineMs: 700 });
  const buffer = await openReportBuffer(path.join(work, "reports.jsonl"));
  const keeper = new LeaseKeeper(client);
  const requestIds = new Map();
  const grants = new Map();
  const requestId = (label) => {
    if (!requestIds.has(label)) requestIds.set(label, `${scenario.scenario}-${label}-${process.hrtime.bigint()}`);
    return requestIds.get(label);
  };
  try {
    for (const [index, step] of scenario.steps.entries()) {
      const place = `${scenario.scenario} step ${index} ${JSON.stringify(step)}`;
      if ("authorize" in step) {
        const granted = await client.authorize(step.authorize, { requestId: requestId(step.request) });
        if ("same" in step) assert.equal(granted.grantId, grants.get(step.same).grantId, `${place}: a repeated requestId gets its first grant`);
        if ("save" in step) grants.set(step.save, granted);
      } else if ("report" in step) {
        assert.notEqual(await client.report(step.report, { requestId: requestId(step.request) }), null, `${place}: not counted`);
      } else if ("heartbeat" in step) {
        const grantId = grants.get(step.heartbeat).grantId;
        if ("refused" in step) {
          await assert.rejects(client.heartbeat(grantId), (error) => error instanceof Refused && error.code === step.refused, place);
        } else {
          await client.heartbeat(grantId);
        }
      } else if ("release" in step) {
        await client.release(grants.get(step.release).grantId);
      } else if (step.kill === "primary") {
        process.kill(pair.pid(await primaryOf(pair)), "SIGKILL");
      } else if ("keepLease" in step) {
        const lease = grants.get(step.keepLease);
        keeper.keep(lease.grantId, lease.leaseSeconds);
        await delay(step.seconds * 1000);
        keeper.stop(lease.grantId);
        assert.ok(keeper.renewals.count > 0, `${place}: the lease keeper renewed nothing`);
      } else if ("wait" in step) {
        await delay(step.wait * 1000);
      } else if ("offlineReport" in step) {
        assert.equal(await offline.report(step.offlineReport, { buffer }), null, `${place}: an unreachable server took a report`);
      } else if ("deliver" in step) {
        assert.deepEqual(await client.deliverBuffered(buffer), { delivered: step.deliver, refused: 0 }, place);
      } else if ("used" in step) {
        const items = await pair.admin(await primaryOf(pair), "GET", "api/admin/items");
        for (const [product, used] of Object.entries(step.used)) {
          assert.equal(items.find((item) => item.product === product)?.used, used, `${place}: ${product}`);
        }
      } else {
        assert.fail(`${place}: unknown step`);
      }
    }
    const listed = (await pair.grants(await primaryOf(pair))).filter((grant) => grant.handshakeCode === CODE);
    for (const [label, grant] of grants) {
      const matching = listed.filter((listedGrant) => listedGrant.requestId === grant.requestId).map((listedGrant) => listedGrant.grantId);
      assert.deepEqual(matching, [grant.grantId], `${scenario.scenario}: grant ${label} once, unchanged`);
    }
  } finally {
    keeper.close();
  }
}

const files = fs.readdirSync(SCENARIOS).filter((name) => name.endsWith(".json")).sort();

test("the scenarios are there", () => {
  assert.ok(files.length >= 5, `no scenarios in ${SCENARIOS.pathname}`);
});

for (const file of files) {
  const scenario = JSON.parse(fs.readFileSync(new URL(file, SCENARIOS), "utf8"));
  test(`conformance: ${scenario.scenario}`, { timeout: 120_000 }, async () => {
    const { pair, key } = await conformancePair();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "lts-js-conformance-"));
    try {
      await runScenario(scenario, pair, key, work);
    } finally {
      await pair.stop();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
}
