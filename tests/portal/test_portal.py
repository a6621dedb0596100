"""The management portal in headless Chromium against a real `lts pair`.

One story, as an operator lives it: first visit (set the password), log in,
import a license file, see its items, create, edit and delete a handshake
code (two codes sharing an item each show their own use of it), refuse a bad
license file without changing anything, show a code's client key, see the
clients' grants as statistics (trend line, pies, buckets, CSV), set up usage
alert emails against a local SMTP server and send a test email, refuse a bad
recipient without saving anything, see the standby's read-only banner and its
link to the primary, run a drill and open its report from the Drills list,
move the primary with the Switchover button, log out, and be refused with a
wrong password. Screenshots
of Home, License Items, Handshake Codes, Statistics, Usage Alerts and Cluster
(1280 and 390 px wide; the drill report at 1280 only) are saved to
$LTS_SCREENSHOTS; on a failure the test also saves a screenshot and the
browser's console log there.

Accessibility, on the way: every page (and the handshake form, the client
key, the standby's banner) is audited at 1280, 390 and 320 px wide with
axe-core (vendor/axe.min.js, the WCAG 2.0 and 2.1 A and AA rules; any
violation fails) and must not scroll sideways (the document is no wider
than the window, no table wider than its box). After each page change the focus is on the page's
heading, after each action on what the action changed or its message; the
skip link leads to the page, the focus ring has 3:1 contrast against its
background, and no two controls share a name.
"""

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from aiosmtpd.controller import Controller
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

LTS = os.environ.get("LTS_BINARY", ".build/debug/lts")
SHOTS = os.environ.get("LTS_SCREENSHOTS", ".build/portal-screenshots")
PASSWORD = "portal test password 42"
ALERTS_TO = "ops@example.com"
CSV_HEADER = "bucketStart,bucketEnd,item,code,grants,units"
WAIT_SECONDS = 20
AXE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor", "axe.min.js")
# Desktop, a common phone, the narrowest phone WCAG's reflow criterion names.
AUDIT_WIDTHS = (1280, 390, 320)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def relative_luminance(rgb):
    def channel(value):
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    red, green, blue = (channel(value) for value in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first, second):
    """WCAG's contrast ratio of two sRGB colours."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def rgb(css):
    """'rgb(1, 2, 3)' or 'rgba(1, 2, 3, 1)' → (1, 2, 3)."""
    return tuple(int(float(part)) for part in re.findall(r"[\d.]+", css)[:3])


def insecure_context():
    """TLS without verification: the pair's certificates are self-signed."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def free_adjacent_ports():
    """A port P such that P, P + 1 and P + 2 are free now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 2 > 65535:
            continue
        try:
            # The standby takes port + 1, the witness port + 2.
            for offset in (1, 2):
                with socket.socket() as other:
                    other.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            continue
    raise RuntimeError("no three adjacent free ports")


class Pair:
    """`lts pair --no-setup --witness` in a temporary directory."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="lts-portal-")
        self.port = free_adjacent_ports()
        self.log = open(os.path.join(self.directory, "pair.log"), "w")
        self.process = subprocess.Popen(
            [LTS, "pair", "--no-setup", "--witness", "--dir", os.path.join(self.directory, "p"), "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT)
        # As an operator would: open the portal once the main leads an attached pair.
        deadline = time.time() + 60
        while time.time() < deadline and self.process.poll() is None:
            main, standby = self.health(0), self.health(1)
            if main.get("role") == "primary" and standby.get("peer", {}).get("state") == "attached":
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("lts pair did not form:\n" + open(self.log.name).read())

    def health(self, index):
        """Node `index`'s health, or {} while it does not answer."""
        try:
            with urllib.request.urlopen("https://127.0.0.1:%d/dls/api/health" % (self.port + index), context=insecure_context(), timeout=2) as answer:
                return json.load(answer)
        except (OSError, ValueError):
            return {}

    def authorize(self, code, product, scans):
        """A client's grant from the main, as a client calls it: the answer (with its grantId)."""
        body = json.dumps({"handshakeCode": code, "clientUUID": "portal-test-client", "product": product, "scans": scans}).encode()
        request = urllib.request.Request("https://127.0.0.1:%d/dls/api/v1/authorize" % self.port, data=body,
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, context=insecure_context(), timeout=10) as answer:
            return json.load(answer)

    def drill(self):
        """`lts drill switchover --back` as an operator runs it (the password from LTS_PASSWORD): the report it printed."""
        servers = "https://127.0.0.1:%d/dls/,https://127.0.0.1:%d/dls/" % (self.port, self.port + 1)
        done = subprocess.run([LTS, "drill", "switchover", "--back", "--servers", servers, "--pair-dir", os.path.join(self.directory, "p"),
                               "--clients", "2", "--json"], env=dict(os.environ, LTS_PASSWORD=PASSWORD), capture_output=True, text=True,
                              timeout=180)
        if done.returncode != 0:
            raise RuntimeError("lts drill exited %d:\n%s%s" % (done.returncode, done.stderr, done.stdout))
        return json.loads(done.stdout)

    def url(self, index, fragment="#/index.html"):
        return "https://127.0.0.1:%d/dls/page/%s" % (self.port + index, fragment)

    def file(self, name):
        return os.path.join(self.directory, "p", name)

    def issue_bad_license(self):
        """The demo license with one item's quantity changed: its signature no longer holds."""
        with open(self.file("demo-license.json")) as source:
            license = json.load(source)
        license["items"][0]["quantity"] += 1
        bad = os.path.join(self.directory, "tampered-license.json")
        with open(bad, "w") as out:
            json.dump(license, out)
        return bad

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


class Mailbox:
    """An SMTP server on 127.0.0.1 (aiosmtpd; no TLS, no login) that keeps every message it accepts."""

    def __init__(self):
        self.messages = []
        self.port = free_adjacent_ports()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def stop(self):
        self.controller.stop()


class PortalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(SHOTS, exist_ok=True)
        cls.pair = Pair()
        cls.mailbox = Mailbox()
        options = webdriver.ChromeOptions()
        for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--ignore-certificate-errors", "--window-size=1280,900"]:
            options.add_argument(argument)
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        cls.browser = webdriver.Chrome(options=options, service=service)
        cls.browser.set_script_timeout(WAIT_SECONDS)
        cls.console = []
        # The routes (#/…) audited so far.
        cls.audited = set()
        with open(AXE) as source:
            cls.axe_source = source.read()

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.mailbox.stop()
        cls.pair.stop()

    # Helpers

    def wait_for(self, selector, visible=True):
        condition = ready.visibility_of_element_located if visible else ready.presence_of_element_located
        return WebDriverWait(self.browser, WAIT_SECONDS).until(condition((By.CSS_SELECTOR, selector)))

    def wait_until(self, what, predicate):
        try:
            # A table re-rendered under a check leaves its old rows stale: check again.
            return WebDriverWait(self.browser, WAIT_SECONDS, ignored_exceptions=[StaleElementReferenceException]).until(
                lambda _: predicate())
        except TimeoutException:
            self.fail("timed out waiting for " + what)

    def hook(self, name):
        return '[data-test="%s"]' % name

    def click(self, name):
        self.wait_for(self.hook(name)).click()

    def type(self, name, text):
        field = self.wait_for(self.hook(name))
        field.clear()
        field.send_keys(text)

    def text_of(self, name):
        return self.wait_for(self.hook(name)).text

    def go(self, url):
        self.collect_console()
        self.browser.get(url)

    def collect_console(self):
        try:
            self.console.extend(self.browser.get_log("browser"))
        except Exception:  # a browser without the log endpoint: nothing to collect
            pass

    def screenshot(self, name, width=1280, whole=False):
        """The window at `width` px, 900 px high, or (`whole`) as high as the page, up to 4000 px."""
        self.browser.set_window_size(width, 900)
        time.sleep(0.3)  # the layout settles after a resize; no outcome depends on it
        if whole:
            self.browser.set_window_size(width, min(self.browser.execute_script("return document.documentElement.scrollHeight") + 140, 4000))
            time.sleep(0.3)
        self.browser.save_screenshot(os.path.join(SHOTS, "%s-%d.png" % (name, width)))
        self.browser.set_window_size(1280, 900)

    # Accessibility

    def settle(self):
        """Two animation frames: the layout and the page's resize handlers have run."""
        self.browser.execute_async_script(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));")

    def set_width(self, width):
        """The viewport `width` px wide (900 high), as a phone or desktop browser shows the page."""
        self.browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                     {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        self.settle()

    def audit(self, what):
        """axe-core's WCAG A/AA rules and no sideways scroll, at every width of AUDIT_WIDTHS."""
        problems = []
        try:
            for width in AUDIT_WIDTHS:
                self.set_width(width)
                overflow = self.browser.execute_script(
                    "const root = document.documentElement; return [root.scrollWidth, root.clientWidth];")
                self.assertTrue(width - 20 <= overflow[1] <= width, "the page is laid out %d px wide, not %d" % (overflow[1], width))
                if overflow[0] > overflow[1]:
                    wide = self.browser.execute_script("""
                        const limit = document.documentElement.clientWidth;
                        return Array.from(document.querySelectorAll('body *'))
                          .filter((e) => e.getBoundingClientRect().right > limit + 1 && e.getClientRects().length)
                          .slice(-5).map((e) => e.tagName + '.' + e.className + ' ' + (e.dataset.test || '') + ' → ' + Math.round(e.getBoundingClientRect().right));""")
                    problems.append("%d px: the page is %d px wide and scrolls sideways (%s)" % (width, overflow[0], "; ".join(wide)))
                # A table may scroll in its own box between phone and desktop widths, not at these.
                clipped = self.browser.execute_script("""
                    return Array.from(document.querySelectorAll('.table-wrap'))
                      .filter((e) => e.getClientRects().length && e.scrollWidth > e.clientWidth + 1)
                      .map((e) => (e.firstElementChild.dataset.test || e.closest('[data-test]')?.dataset.test || 'a table')
                                  + ' ' + e.scrollWidth + ' in ' + e.clientWidth);""")
                if clipped:
                    problems.append("%d px: tables wider than their box: %s" % (width, "; ".join(clipped)))
                if not self.browser.execute_script("return typeof axe === 'object'"):
                    self.browser.execute_script(self.axe_source)
                result = self.browser.execute_async_script("""
                    const done = arguments[arguments.length - 1];
                    axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
                      .then((result) => done(result.violations.map((v) => ({
                        id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + n.failureSummary)}))))
                      .catch((error) => done([{id: 'axe-error', help: String(error), nodes: []}]));
                """, AXE_TAGS)
                for violation in result:
                    problems.append("%d px: %s (%s): %s" % (width, violation["id"], violation["help"], " | ".join(violation["nodes"])))
        finally:
            self.browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            self.settle()
        self.audited.add(self.browser.execute_script("return location.hash"))
        self.assertEqual(problems, [], "accessibility of " + what)
        self.expect_unique_names("body")

    def audit_every_page(self):
        """Audits each page of the menu not audited yet in the story (a new page included)."""
        links = [(link.get_attribute("data-test"), link.get_attribute("href").split("#", 1)[1])
                 for link in self.browser.find_elements(By.CSS_SELECTOR, "#nav a")]
        self.assertGreater(len(links), 0)
        for name, route in links:
            if "#" + route in self.audited:
                continue
            self.navigate(name)
            self.wait_until(name + " to load", lambda: "Loading…" not in self.browser.find_element(By.ID, "page").text)
            self.audit(route)

    def focused(self):
        """The focused element's data-test, id, or tag and text."""
        return self.browser.execute_script("""
            const e = document.activeElement;
            if (!e || e === document.body) return 'body';
            return e.dataset.test || e.id || (e.tagName.toLowerCase() + ':' + e.textContent.trim().slice(0, 60));""")

    def expect_focus(self, what, hook):
        """The focus is on `hook` (a data-test value, or a CSS selector) after `what`."""
        selector = hook if re.search(r"[\[#. :]", hook) else self.hook(hook)
        try:
            WebDriverWait(self.browser, WAIT_SECONDS).until(lambda _: self.browser.execute_script(
                "const e = document.activeElement; return e !== null && e.matches(arguments[0]);", selector))
        except TimeoutException:
            self.fail("after %s the focus is on %s, not on %s" % (what, self.focused(), selector))

    def navigate(self, name):
        """A click on a menu link: the new page's heading gets the focus."""
        self.click(name)
        self.expect_focus("opening " + name, "page-title")

    def focus_ring(self):
        """The focused element's ring: (style, width in px, contrast of its colour against the background behind it)."""
        style, width, colour, background = self.browser.execute_script("""
            const e = document.activeElement;
            const look = getComputedStyle(e);
            let behind = e.parentElement;
            while (behind && getComputedStyle(behind).backgroundColor.match(/rgba\(.*, 0\)|transparent/)) behind = behind.parentElement;
            return [look.outlineStyle, parseFloat(look.outlineWidth), look.outlineColor,
                    behind ? getComputedStyle(behind).backgroundColor : 'rgb(255, 255, 255)'];""")
        return style, width, contrast(rgb(colour), rgb(background))

    def expect_visible_focus_ring(self, what):
        style, width, ratio = self.focus_ring()
        self.assertNotEqual(style, "none", "a focus ring on " + what)
        self.assertGreaterEqual(width, 2, "a focus ring of 2 px or more on " + what)
        self.assertGreaterEqual(ratio, 3, "the focus ring of %s has 3:1 contrast (WCAG 1.4.11)" % what)

    def expect_unique_names(self, where):
        """No two buttons in `where` (a CSS selector) share an accessible name, nor two links that lead apart."""
        controls = self.browser.execute_script("""
            return Array.from(document.querySelectorAll(arguments[0] + ' button, ' + arguments[0] + ' a[href]'))
              .filter((e) => e.getClientRects().length > 0 || e.closest('details'))
              .map((e) => [(e.getAttribute('aria-label') || e.textContent).trim().replace(/\\s+/g, ' '),
                           e.tagName === 'A' ? e.href : null]);""", where)
        targets = {}
        for name, href in controls:
            targets.setdefault(name, []).append(href)
        repeated = sorted(name for name, hrefs in targets.items()
                          if (None in hrefs and len(hrefs) > 1) or len(set(hrefs)) > 1)
        self.assertEqual(repeated, [], "controls in %s share a name" % where)

    def item_rows(self):
        return self.browser.find_elements(By.CSS_SELECTOR, self.hook("items-table") + " tbody tr[data-item-id]")

    def handshake_row(self, code):
        rows = self.browser.find_elements(By.CSS_SELECTOR, '%s tbody tr[data-code="%s"]' % (self.hook("handshakes-table"), code))
        return rows[0] if rows else None

    def expect_item_usage(self, code, item_id, by_code, used):
        """The line under `code`'s item `item_id` says what the code uses of it, beside the item's use."""
        line = self.handshake_row(code).find_element(By.CSS_SELECTOR, 'li[data-item-id="%s"] %s' % (item_id, self.hook("handshake-item-usage")))
        self.assertEqual((int(line.get_attribute("data-used-by-code")), int(line.get_attribute("data-used"))), (by_code, used), code)
        self.assertRegex(line.text, r"^this code: %d of the item's %d used \(quantity [\d,]+\)$" % (by_code, used), code)

    def rows(self, table, selector=""):
        return self.browser.find_elements(By.CSS_SELECTOR, "%s tbody tr%s" % (self.hook(table), selector))

    def total(self, table, attribute, selector=""):
        """The sum of `attribute` over the rows of a table."""
        return sum(int(row.get_attribute(attribute)) for row in self.rows(table, selector))

    def choose(self, name, value):
        Select(self.wait_for(self.hook(name))).select_by_value(value)

    def login(self, index):
        self.go(self.pair.url(index, "#/login"))
        self.type("login-password", PASSWORD)
        self.click("login-submit")
        self.wait_for(self.hook("server-uuid"))

    # The story

    def test_an_operator_runs_the_pair_from_the_portal(self):
        try:
            self.story()
        except BaseException:
            self.collect_console()
            self.browser.save_screenshot(os.path.join(SHOTS, "failure.png"))
            with open(os.path.join(SHOTS, "failure-console.json"), "w") as out:
                json.dump(self.console, out, indent=1)
            raise

    def story(self):
        pair = self.pair
        # First visit: the password, twice.
        self.go(pair.url(0))
        self.expect_focus("the first visit", "setup-password")
        self.audit("the first visit")
        self.type("setup-password", PASSWORD)
        self.type("setup-password-again", PASSWORD)
        self.click("setup-submit")
        self.expect_focus("setting the password", "login-password")
        self.audit("the login page")
        self.type("login-password", PASSWORD)
        self.click("login-submit")
        self.expect_focus("logging in", "page-title")
        uuid_form = r"^[0-9a-f-]{36}$"
        self.wait_until("the cluster UUID", lambda: re.match(uuid_form, self.text_of("server-uuid")))
        cluster_uuid = self.text_of("server-uuid")
        main_uuid = self.text_of("node-uuid")
        self.assertRegex(main_uuid, uuid_form)
        self.assertNotEqual(cluster_uuid, main_uuid, "the server UUID is the cluster's, not the node's")
        self.wait_until("the main to show it is primary", lambda: self.text_of("role") == "primary")
        self.screenshot("home")
        self.screenshot("home", 390)
        self.audit("Home")
        # Backwards from the heading with the keyboard: the menu, the header,
        # then the skip link (the first stop), which leads to the page.
        self.browser.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
        self.expect_focus("a Shift+Tab from the heading", "nav-password")
        self.expect_visible_focus_ring("a menu link")
        for _ in self.browser.find_elements(By.CSS_SELECTOR, "#nav a"):
            self.browser.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
        self.expect_focus("Shift+Tab past the menu", "logout")
        self.expect_visible_focus_ring("the header's Log out button")
        self.browser.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
        self.expect_focus("Shift+Tab past the header", "skip-link")
        self.assertGreaterEqual(self.wait_for(self.hook("skip-link")).rect["y"], 0, "the focused skip link is in sight")
        self.expect_visible_focus_ring("the skip link")
        self.browser.switch_to.active_element.send_keys(Keys.ENTER)
        self.expect_focus("the skip link", "page-title")
        self.browser.switch_to.active_element.send_keys(Keys.TAB)
        self.expect_focus("a Tab into the page", "copy-uuid")
        self.expect_visible_focus_ring("a button in a card")

        # License Items: import the demo license file.
        self.navigate("nav-items")
        self.wait_for(self.hook("license-file"), visible=False).send_keys(pair.file("demo-license.json"))
        self.click("import")
        self.wait_until("the imported items in the table", lambda: len(self.item_rows()) > 0)
        self.expect_focus("the import", "notice")
        items = len(self.item_rows())
        item_id = self.item_rows()[0].get_attribute("data-item-id")
        product = self.item_rows()[0].get_attribute("data-product")
        # Items are named by product, edition and the start of their ID, as in alert emails.
        names = [row.find_element(By.CSS_SELECTOR, "td").get_attribute("textContent") for row in self.item_rows()]
        self.assertTrue(all(re.search(r"\(item [0-9a-zA-Z._-]{1,8}\)$", name) for name in names), names)
        self.assertEqual(len(set(names)), len(names), "no two items share a name")
        self.assertIn("(item %s)" % item_id[:8], names[0])
        self.screenshot("items")
        self.screenshot("items", 390)
        self.audit("License Items")

        # A bad license file: its error in words with its code, nothing changed.
        self.wait_for(self.hook("license-file"), visible=False).send_keys(pair.issue_bad_license())
        self.click("import")
        self.wait_until("the import error", lambda: "-203" in self.text_of("error"))
        self.expect_focus("a refused import", "error")
        self.assertEqual(len(self.item_rows()), items, "a refused file changes nothing")

        # Handshake codes: create, edit, delete.
        self.navigate("nav-handshakes")
        self.click("add-handshake")
        self.expect_focus("opening the form", "handshake-code")
        self.audit("the handshake form")
        # Moving the first item down and back up keeps the focus on a move button of that item.
        first_row = self.browser.find_elements(By.CSS_SELECTOR, "#handshake-items li")[0]
        first_row.find_elements(By.CSS_SELECTOR, ".order-buttons button")[1].click()
        self.expect_focus("moving an item down", "#handshake-items li:nth-child(2) .order-buttons button")
        first_row.find_elements(By.CSS_SELECTOR, ".order-buttons button")[0].click()
        self.expect_focus("moving it back to the top", "#handshake-items li:nth-child(1) .order-buttons button:not([disabled])")
        self.type("handshake-code", "demo-portal")
        self.wait_for('%s[value="%s"]' % (self.hook("handshake-item"), item_id)).click()
        self.click("save-handshake")
        self.wait_until("the new code in the list", lambda: self.handshake_row("demo-portal") is not None)
        self.expect_focus("adding a code", 'tr[data-code="demo-portal"]')
        # A client uses the new code once; the statistics keep its grant after the code is deleted.
        self.assertEqual(pair.authorize("demo-portal", product, 2).get("itemId"), item_id)
        self.handshake_row("demo-portal").find_element(By.CSS_SELECTOR, self.hook("edit-handshake")).click()
        self.type("validation-domains", "example.com")
        self.click("save-handshake")
        self.wait_until("the edited code", lambda: "example.com" in (self.handshake_row("demo-portal").text if self.handshake_row("demo-portal") else ""))
        self.expect_focus("saving a code", 'tr[data-code="demo-portal"]')
        # Two codes share the item: each shows its own use of it beside the item's
        # (the grant's 2 scans on a scan item, else its device or lease).
        share = 2 if product == "dbr" else 1
        self.expect_item_usage("demo-portal", item_id, share, share)
        self.expect_item_usage("demo-1", item_id, 0, share)
        self.handshake_row("demo-portal").find_element(By.CSS_SELECTOR, self.hook("delete-handshake")).click()
        self.click("confirm")
        self.wait_until("the code to be gone", lambda: self.handshake_row("demo-portal") is None)
        self.expect_focus("deleting a code", "notice")
        # The deleted code's use stays in the item's, and is not demo-1's.
        self.expect_item_usage("demo-1", item_id, 0, share)
        self.screenshot("handshakes")
        self.screenshot("handshakes", 390, whole=True)
        self.audit("Handshake Codes")
        # The client key of the license's code, to hand to a client.
        self.handshake_row("demo-1").find_element(By.CSS_SELECTOR, self.hook("show-client-key")).click()
        self.wait_until("the client key", lambda: self.text_of("client-key").startswith("lts1."))
        self.assertEqual(self.browser.switch_to.active_element.text, "Client key of demo-1", "the focus is on the key's heading")
        self.audit("the client key")

        # Statistics: three more grants of 3, 4 and 5 scans through demo-1, shown as a
        # trend line, pies by code whose legends add up, and buckets; the same as CSV.
        for scans in (3, 4, 5):
            self.assertIn("grantId", pair.authorize("demo-1", "dbr", scans))
        self.navigate("nav-statistics")
        self.wait_until("the buckets of the four grants", lambda: self.total("stats-table", "data-grants") == 4)
        trend = self.wait_for(self.hook("stats-trend"))
        self.assertEqual(trend.get_attribute("role"), "img")
        self.assertIn("in 4 grants", trend.get_attribute("aria-label"))
        points = trend.find_elements(By.CSS_SELECTOR, "circle.chart-point")
        self.assertEqual(len(points), int(trend.get_attribute("data-buckets")), "a point per bucket")
        self.assertGreater(len(points), 1)
        self.assertIn("units", points[-1].find_element(By.TAG_NAME, "title").get_attribute("textContent"))
        totals = {}
        for pie in ("pie-period-legend", "pie-today-legend"):
            self.assertEqual({row.get_attribute("data-code") for row in self.rows(pie, "[data-code]")}, {"demo-1", "demo-portal"})
            totals[pie] = int(self.rows(pie, "[data-total-units]")[0].get_attribute("data-total-units"))
            self.assertEqual(self.total(pie, "data-units", "[data-code]"), totals[pie], "the legend adds up")
            self.assertEqual(int(self.rows(pie, '[data-code="demo-1"]')[0].get_attribute("data-units")), 12, "a scan grant's units are its scans")
        self.assertEqual(self.total("stats-table", "data-units"), totals["pie-period-legend"])
        self.screenshot("statistics", whole=True)
        self.screenshot("statistics", 390, whole=True)
        self.audit("Statistics")
        # The code filter narrows everything to demo-1's three grants.
        self.choose("stats-code", "demo-1")
        self.wait_until("demo-1's buckets", lambda: self.total("stats-table", "data-grants") == 3)
        self.assertEqual(self.total("stats-table", "data-units"), 12)
        csv = self.browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(document.querySelector('[data-test="stats-csv"]').href)
              .then(async (answer) => done({status: answer.status, type: answer.headers.get('Content-Type'), text: await answer.text()}))
              .catch((error) => done({status: 0, type: '', text: String(error)}));
        """)
        self.assertEqual(csv["status"], 200, csv["text"])
        self.assertTrue(csv["type"].startswith("text/csv"), csv["type"])
        lines = csv["text"].strip().splitlines()
        self.assertEqual(lines[0], CSV_HEADER)
        self.assertEqual(sum(int(line.split(",")[4]) for line in lines[1:]), 3, "the CSV counts demo-1's grants")

        # Usage alerts: settings that point at a local SMTP server, a test email to it.
        self.navigate("nav-alerts")
        self.wait_until("the alert settings", lambda: self.text_of("alerts-source") != "…")
        self.type("alerts-recipients", ALERTS_TO)
        self.type("alerts-check-minutes", "10")
        self.type("alerts-standby-lag", "5")
        self.choose("smtp-security", "none")
        self.type("smtp-host", "127.0.0.1")
        self.type("smtp-port", str(self.mailbox.port))
        self.type("smtp-username", "")
        self.type("smtp-from", "lts@example.com")
        self.click("save-alerts")
        self.wait_until("the settings to be saved", lambda: "saved" in self.text_of("alerts-form-status"))
        self.expect_focus("saving the alert settings", "alerts-form-status")
        self.click("send-test-email")
        self.wait_until("the test email to be sent", lambda: "Test email sent to " + ALERTS_TO in self.text_of("alerts-form-status"))
        self.expect_focus("sending a test email", "alerts-form-status")
        self.assertEqual(len(self.mailbox.messages), 1, "one message reached the SMTP server")
        self.assertEqual(self.mailbox.messages[0].rcpt_tos, [ALERTS_TO])
        self.wait_until("the test email in the list", lambda: any(
            ALERTS_TO in row.text for row in self.rows("emails-table", '[data-status="sent"]')))
        # The thresholds of the imported items, each crossed or not: the crossed
        # ones in sight, the others folded; items named as in the items table.
        conditions = self.rows("conditions-table")
        self.assertGreater(len(conditions), 0)
        self.assertTrue(all(row.get_attribute("data-crossed") in ("yes", "no") for row in conditions))
        self.assertRegex(self.text_of("conditions-summary"), r"^\d+ of %d thresholds crossed\.$" % len(conditions))
        folded = self.browser.find_elements(By.CSS_SELECTOR, self.hook("conditions-folded"))
        self.assertEqual(len(folded), 1)
        self.assertIsNone(folded[0].get_attribute("open"), "the thresholds not crossed are folded")
        self.assertEqual({row.get_attribute("data-crossed") for row in folded[0].find_elements(By.CSS_SELECTOR, "tbody tr")}, {"no"})
        self.assertEqual(len(self.browser.find_elements(By.CSS_SELECTOR, '%s tr[data-crossed="no"]' % self.hook("conditions-folded"))),
                         len(self.rows("conditions-table", '[data-crossed="no"]')))
        texts = [row.get_attribute("textContent") for row in conditions]
        self.assertTrue(any(names[0] in text for text in texts), "a condition names the item %s" % names[0])
        self.assertFalse(any(item_id in text for text in texts), "no condition names an item by its whole ID")
        self.screenshot("alerts", whole=True)
        self.screenshot("alerts", 390, whole=True)
        self.audit("Usage Alerts")
        # A refresh that redraws the thresholds leaves the focus where the admin was.
        summary = self.browser.find_element(By.CSS_SELECTOR, self.hook("conditions-folded") + " > summary")
        self.browser.execute_script("arguments[0].focus()", summary)
        self.assertIn("grantId", pair.authorize("demo-1", "dbr", 1))
        WebDriverWait(self.browser, WAIT_SECONDS).until(ready.staleness_of(summary), "the refresh to redraw the thresholds")
        self.expect_focus("a refresh of the thresholds", self.hook("conditions-folded") + " > summary")
        # A bad recipient: the server's refusal with its code beside the form, nothing saved.
        self.type("alerts-recipients", "not-an-address")
        self.click("save-alerts")
        self.wait_until("the refusal", lambda: re.search(r"not-an-address.*\(-\d+\)", self.text_of("alerts-form-status")))
        self.expect_focus("a refused save", "alerts-form-status")
        self.assertIn("message-error", self.wait_for(self.hook("alerts-form-status")).get_attribute("class"))
        self.go(pair.url(0, "#/index.html"))
        self.go(pair.url(0, "#/alerts"))
        self.wait_until("the saved recipient", lambda: self.wait_for(self.hook("alerts-recipients")).get_attribute("value") == ALERTS_TO)
        self.assertEqual(self.wait_for(self.hook("smtp-port")).get_attribute("value"), str(self.mailbox.port))
        # The pages the story does not audit on its way (Change Password, and any page added to the menu).
        self.audit_every_page()

        # Audit: what the admin did, newest first; the action filter narrows it.
        self.click("nav-audit")
        self.wait_until("the audit entries", lambda: len(self.rows("audit-table")) > 0)
        actions = [row.get_attribute("data-action") for row in self.rows("audit-table")]
        for action in ("password-set", "login", "license-import", "handshake-create", "handshake-update", "handshake-delete", "alert-settings"):
            self.assertIn(action, actions)
        self.assertEqual(actions[0], "alert-settings", "the refused alert settings are the newest entry")
        self.assertTrue(self.rows("audit-table")[0].get_attribute("data-result").startswith("refused -"))
        self.choose("audit-action", "license-import")
        self.wait_until("the two imports", lambda: {row.get_attribute("data-action") for row in self.rows("audit-table")} == {"license-import"})
        self.assertEqual(sorted(row.get_attribute("data-result")[:7] for row in self.rows("audit-table")), ["ok", "refused"])
        self.assertIn("format=csv", self.wait_for(self.hook("audit-csv")).get_attribute("href"))
        self.screenshot("audit")

        # The standby: read-only banner with a link to the primary.
        self.login(1)
        self.wait_until("the standby banner", lambda: self.wait_for(self.hook("standby-banner")).is_displayed())
        self.wait_until("the standby to show the one cluster UUID", lambda: self.text_of("server-uuid") == cluster_uuid)
        self.wait_until("the standby's own UUID", lambda: re.match(uuid_form, self.text_of("node-uuid")))
        self.assertNotEqual(self.text_of("node-uuid"), main_uuid)
        link = self.wait_for(self.hook("primary-link")).get_attribute("href")
        self.assertIn("127.0.0.1:%d" % pair.port, link)
        self.audit("the standby's Home")

        # A drill, run as an operator runs it (there and back): its report in
        # the Drills list, a printable page that calls a switchover no fault, its JSON.
        report = pair.drill()
        self.go(pair.url(0, "#/cluster"))
        self.wait_until("the drill in the list", lambda: any(
            report["id"] in (link.get_attribute("href") or "")
            for link in self.browser.find_elements(By.CSS_SELECTOR, self.hook("drill-report-link"))))
        self.click("drill-report-link")
        self.wait_until("the drill's report page", lambda: report["id"] in self.text_of("drill-summary"))
        page = self.text_of("drill-report")
        self.assertIn("planned switchover", page)
        self.assertNotIn("fault", page.lower())
        self.assertTrue(self.wait_for(self.hook("drill-json")).get_attribute("href").endswith("/api/admin/cluster/drills/" + report["id"]))
        self.screenshot("drill", whole=True)
        self.audit("Drill report")

        # Cluster: a report POSTed as `lts drill` does (with the session's CSRF
        # token) is the last drill; then the switchover moves the primary.
        self.go(pair.url(0, "#/cluster"))
        kept = self.browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const report = {kind: 'failover', passed: true, faultAt: '2026-12-07T10:00:00Z', detectionMs: 1510, promotionMs: 230,
              outageMs: 1840, rejoinMs: 5200, newPrimary: arguments[0], clients: 4,
              acknowledged: {before: 1200, during: 35, after: 1300}, lost: 0, duplicated: 0};
            fetch('../api/admin/cluster/drills', {method: 'POST', credentials: 'same-origin', body: JSON.stringify(report),
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('lts.csrf') || ''}})
              .then((answer) => done(answer.status), (error) => done(String(error)));
        """, "https://127.0.0.1:%d/dls/" % (pair.port + 1))
        self.assertEqual(kept, 201)
        self.wait_until("the drill report", lambda: "failover" in self.text_of("last-drill"))
        self.wait_until("the cluster page", lambda: self.text_of("cluster-role") == "primary")
        # The witness: reached by this node, the lease held by this primary.
        self.wait_until("the witness card", lambda: self.text_of("cluster-witness-state") == "reachable")
        self.assertTrue(self.wait_for(self.hook("witness-card")).is_displayed())
        self.assertIn("held,", self.wait_for(self.hook("witness-card")).text)
        self.screenshot("cluster")
        self.screenshot("cluster", 390)
        self.audit("Cluster")
        self.click("switchover")
        self.click("confirm")
        self.expect_focus("the switchover", "notice")
        self.go(pair.url(0))
        self.wait_until("the main to become standby", lambda: self.text_of("role") == "standby")
        self.wait_for(self.hook("standby-banner"))

        # Logout, then a wrong password is refused in words.
        self.click("logout")
        self.expect_focus("logging out", "login-password")
        self.type("login-password", "not the password at all")
        self.click("login-submit")
        self.wait_until("the login error", lambda: self.text_of("error") != "")

        self.collect_console()
        # Refusals the story provokes show as failed loads; anything else is an error.
        expected = re.compile(r"status of (400|401|403|409|421|422|429)|favicon")
        errors = [entry for entry in self.console
                  if entry.get("level") == "SEVERE" and not expected.search(entry.get("message", ""))]
        self.assertEqual(errors, [], "console errors")


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
