// The browser test's page, served from another origin than the pair's: it
// authorizes through the pair (CORS) in a loop, each call with its own
// requestId, and keeps what it got in `window.ltsTest` for the test to read.
import { LicenseClient } from "../../lts-client.mjs";

const state = { grants: {}, failures: [], longestMs: 0, running: true, clientUUID: null };
window.ltsTest = state;

const client = await LicenseClient.fromKey(decodeURIComponent(location.hash.slice(1)));
state.clientUUID = client.settings.clientUUID;
document.getElementById("state").textContent = "running";
while (state.running) {
  const requestId = crypto.randomUUID();
  const started = performance.now();
  try {
    const grant = await client.authorize("dbr", { requestId });
    state.longestMs = Math.max(state.longestMs, Math.round(performance.now() - started));
    state.grants[requestId] = [grant.grantId, grant.server];
  } catch (error) {
    state.failures.push(`${requestId}: ${error.message}`);
  }
}
document.getElementById("state").textContent = "stopped";
