"""lts-client.mjs in headless Chromium against a real `lts pair`: a page
served from another origin (http://127.0.0.2, a Python http.server) imports
the module and authorizes through the pair in a loop (cross-origin: CORS);
the primary is killed with kill -9 while the page keeps calling; afterwards
every grant the page got is in the new primary's grant list exactly once per
requestId (0 lost, 0 duplicated). The nodes' self-signed certificates are
accepted by their public keys only (--ignore-certificate-errors-spki-list).
"""

import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest
from collections import Counter
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from selenium import webdriver

JS_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(JS_ROOT.parent / "python"))
from tests.pair import Pair  # noqa: E402  (the Python client's test pair)

GRANTS_BEFORE_KILL = 20
GRANTS_AFTER_PROMOTION = 20
WAIT_SECONDS = 40


def spki_sha256(certificate_file: str) -> str:
    """The base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's SPKI list takes it."""
    script = ("const {X509Certificate, createHash} = require('node:crypto');"
              "const key = new X509Certificate(require('node:fs').readFileSync(process.argv[1])).publicKey;"
              "console.log(createHash('sha256').update(key.export({type: 'spki', format: 'der'})).digest('base64'));")
    return subprocess.run(["node", "-e", script, certificate_file], check=True, capture_output=True, text=True).stdout.strip()


class QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript"}

    def log_message(self, *arguments):
        pass


class BrowserTest(unittest.TestCase):
    def setUp(self):
        self.pair = Pair()
        self.addCleanup(self.pair.stop)
        self.pages = ThreadingHTTPServer(("127.0.0.2", 0), functools.partial(QuietHandler, directory=str(JS_ROOT)))
        threading.Thread(target=self.pages.serve_forever, daemon=True).start()
        self.addCleanup(self.pages.server_close)
        self.addCleanup(self.pages.shutdown)
        options = webdriver.ChromeOptions()
        pins = ",".join(spki_sha256(self.pair.cert_file(node)) for node in Pair.NODES)
        for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         f"--ignore-certificate-errors-spki-list={pins}"]:
            options.add_argument(argument)
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        self.browser = webdriver.Chrome(options=options, service=service)
        self.addCleanup(self.browser.quit)

    def state(self):
        return self.browser.execute_script("return window.ltsTest ?? null")

    def wait_for(self, what, condition):
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            state = self.state()
            if state is not None and condition(state):
                return state
            if time.monotonic() > deadline:
                console = "\n".join(entry["message"] for entry in self.browser.get_log("browser"))
                raise AssertionError(f"timed out waiting for {what}; page state {state}; console:\n{console}")
            time.sleep(0.1)

    def test_the_page_keeps_authorizing_across_a_kill_9_of_the_primary(self):
        pair = self.pair
        page = f"http://127.0.0.2:{self.pages.server_address[1]}/tests/browser/page.html#{quote(pair.client_key())}"
        self.browser.get(page)

        def by(state, url=None):
            return sum(1 for _, server in state["grants"].values() if url in (None, server))

        self.wait_for(f"{GRANTS_BEFORE_KILL} grants", lambda state: by(state) >= GRANTS_BEFORE_KILL)
        self.assertEqual(pair.primary(), "main")
        os.kill(pair.pid("main"), signal.SIGKILL)
        pair.wait_until(lambda: pair.role("standby") == "primary", "the standby's promotion")
        self.wait_for(f"{GRANTS_AFTER_PROMOTION} grants from the standby",
                      lambda state: by(state, pair.urls["standby"]) >= GRANTS_AFTER_PROMOTION)
        self.browser.execute_script("window.ltsTest.running = false")
        state = self.wait_for("the page's loop to stop", lambda state: self.browser.find_element("id", "state").text == "stopped")

        listed = pair.grants("standby")
        counts = Counter(grant["requestId"] for grant in listed)
        grant_ids = {grant["requestId"]: grant["grantId"] for grant in listed}
        held = state["grants"]
        lost = [request_id for request_id, (grant_id, _) in held.items() if grant_ids.get(request_id) != grant_id]
        duplicated = [request_id for request_id in held if counts[request_id] > 1]
        clients = {grant["clientUUID"] for grant in listed if grant["requestId"] in held}
        print(f"\nbrowser failover (kill -9 of the main): {len(held)} grants acknowledged "
              f"({by(state, pair.urls['main'])} by the main, {by(state, pair.urls['standby'])} by the standby), "
              f"{len(lost)} lost, {len(duplicated)} duplicated, {len(state['failures'])} calls failed, "
              f"longest call {state['longestMs']} ms")
        self.assertEqual(state["failures"], [])
        self.assertEqual(lost, [])
        self.assertEqual(duplicated, [])
        self.assertGreaterEqual(by(state, pair.urls["main"]), GRANTS_BEFORE_KILL)
        self.assertEqual(clients, {state["clientUUID"]}, "the grants name the page's kept client UUID")


if __name__ == "__main__":
    unittest.main()
