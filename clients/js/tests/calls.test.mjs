// How a call moves between servers, against local fake servers (plain HTTP,
// which a client key may name): one requestId with numbered attempts, counted
// on across calls that retry it, redirects, refusals and the deadline.

import assert from "node:assert/strict";
import * as http from "node:http";
import { afterEach, describe, test } from "node:test";
import { LicenseClient, Refused, Unavailable } from "../lts-client.mjs";
import { freeAdjacentPorts } from "./pair.mjs";

const CLIENT_UUID = "4c1a3f6e-8a7b-4f2e-9c1d-2b3a4c5d6e7f";
const GRANT = { grantId: "g-1", itemId: "i-1", grace: false, leaseSeconds: 0, term: 2, token: "t" };

const fakes = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => new Promise((resolve) => fake.server.close(resolve))));
});

/** A server that answers each POST with `script(body)` (`[status, json]`) and keeps the bodies it got. */
async function fake(script) {
  const fake = { requests: [], server: http.createServer() };
  fake.server.on("request", (request, response) => {
    let text = "";
    request.on("data", (chunk) => { text += chunk; });
    request.on("end", () => {
      const body = JSON.parse(text);
      fake.requests.push({ path: request.url, body });
      const [status, answer] = script(body, fake);
      response.writeHead(status, { "content-type": "application/json", connection: "close" });
      response.end(JSON.stringify(answer));
    });
  });
  await new Promise((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${fake.server.address().port}/dls/`;
  fakes.push(fake);
  return fake;
}

const busy = () => [503, { code: -20005, message: "busy" }];
const granting = () => [200, GRANT];

function client(urls, options = {}) {
  return new LicenseClient({ servers: urls, handshakeCode: "acme-1", clientUUID: CLIENT_UUID, ...options });
}

describe("calls", () => {
  test("one requestId over all attempts, numbered 1, 2, … across servers", async () => {
    const first = await fake(busy);
    const second = await fake(granting);
    const granted = await client([first.url, second.url]).authorize("dbr", { scans: 2, requestId: "r-1" });
    assert.deepEqual([granted.grantId, granted.requestId, granted.server], ["g-1", "r-1", second.url]);
    assert.deepEqual(first.requests.map((request) => [request.path, request.body.requestId, request.body.attempt]), [["/dls/api/v1/authorize", "r-1", 1]]);
    assert.deepEqual(second.requests.map((request) => request.body), [{
      handshakeCode: "acme-1", clientUUID: CLIENT_UUID, product: "dbr", scans: 2, requestId: "r-1", attempt: 2,
    }]);
  });

  test("a call that found no server keeps its count for a retry of the same requestId; an answer resets it", async () => {
    const first = await fake(busy);
    const second = await fake((_, self) => (self.requests.length <= 2 ? busy() : granting()));
    const subject = client([first.url, second.url], { callDeadlineMs: 150 });
    const started = Date.now();
    const refused = await subject.authorize("dbr", { requestId: "r-2" }).catch((error) => error);
    assert.ok(refused instanceof Unavailable, String(refused));
    assert.ok(Date.now() - started < 1_000, "the deadline ends the call");
    assert.equal(refused.code, null);
    assert.deepEqual(refused.lastErrors, { [first.url]: "busy (HTTP 503)", [second.url]: "busy (HTTP 503)" });
    const sent = [...first.requests, ...second.requests].map((request) => request.body.attempt).sort((a, b) => a - b);
    assert.deepEqual(sent, Array.from({ length: sent.length }, (_, index) => index + 1));
    const granted = await subject.authorize("dbr", { requestId: "r-2" });
    assert.equal(granted.server, second.url);
    assert.equal(second.requests.at(-1).body.attempt, sent.length + 2, "the retry went on counting (busy first, then granted)");
    await subject.authorize("dbr", { requestId: "r-2" });
    assert.equal(second.requests.at(-1).body.attempt, 1, "after an answer the count starts again");
  });

  test("a standby's redirect goes to the primary it names, which is remembered", async () => {
    const primary = await fake(granting);
    const standby = await fake(() => [421, { code: -20100, message: "standby", primary: primary.url.replace("/dls/", "") }]);
    const subject = client([standby.url, primary.url]);
    assert.equal((await subject.authorize("dbr")).server, primary.url);
    assert.equal(subject.rememberedServer, primary.url);
    await subject.authorize("dbr");
    assert.deepEqual([standby.requests.length, primary.requests.length], [1, 2]);
  });

  test("a refusal ends the call with its code and status; no other server is asked", async () => {
    const refusing = await fake(() => [403, { code: -20120, message: "the quota of dbr is used up" }]);
    const other = await fake(granting);
    const refused = await client([refusing.url, other.url]).authorize("dbr").catch((error) => error);
    assert.ok(refused instanceof Refused, String(refused));
    assert.deepEqual([refused.code, refused.status, refused.message], [-20120, 403, "the quota of dbr is used up"]);
    assert.equal(other.requests.length, 0);
  });

  test("heartbeat and release send the grant ID without requestId or attempt; release of a gone lease succeeds", async () => {
    const server = await fake((body) => (body.grantId === "gone" ? [404, { code: -20130, message: "no lease" }] : [200, { leaseSeconds: 90 }]));
    const subject = client([server.url]);
    assert.deepEqual(await subject.heartbeat("g-1"), { leaseSeconds: 90, server: server.url });
    await subject.release("gone");
    await assert.rejects(subject.heartbeat("gone"), (error) => error instanceof Refused && error.code === -20130);
    assert.deepEqual(server.requests.map((request) => [request.path, request.body]), [
      ["/dls/api/v1/heartbeat", { handshakeCode: "acme-1", clientUUID: CLIENT_UUID, grantId: "g-1" }],
      ["/dls/api/v1/release", { handshakeCode: "acme-1", clientUUID: CLIENT_UUID, grantId: "gone" }],
      ["/dls/api/v1/heartbeat", { handshakeCode: "acme-1", clientUUID: CLIENT_UUID, grantId: "gone" }],
    ]);
  });

  test("a closed port costs little and is reported", async () => {
    const closed = `http://127.0.0.1:${await freeAdjacentPorts()}/dls/`;
    const answering = await fake(granting);
    const subject = client([closed, answering.url]);
    const started = Date.now();
    assert.equal((await subject.authorize("dbr")).server, answering.url);
    assert.ok(Date.now() - started < 300, "a refused connection moves on at once");
    const unavailable = await client([closed], { callDeadlineMs: 100 }).authorize("dbr").catch((error) => error);
    assert.ok(unavailable instanceof Unavailable);
    assert.match(unavailable.lastErrors[closed], /ECONNREFUSED/);
  });
});
