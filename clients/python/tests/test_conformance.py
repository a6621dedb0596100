"""The client conformance scenarios (clients/conformance/scenarios/*.json),
each against a fresh real pair: see clients/conformance/README.md."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
from pathlib import Path
from typing import Any

from lts_client import LeaseKeeper, LicenseClient, Refused, ReportBuffer, Server, Settings
from lts_client.client_key import ClientKey

from .pair import REPO_ROOT, Pair, lts_binary

SCENARIOS = REPO_ROOT / "clients" / "conformance" / "scenarios"
CODE = "conformance-1"


def conformance_pair() -> tuple[Pair, ClientKey]:
    """A pair whose primary holds the conformance license; the key of its code."""
    pair = Pair()
    try:
        vendor = pair.directory / "p" / "vendor" / "issuer.key"
        license_file = pair.directory / "conformance.json"
        subprocess.run([lts_binary(), "license", "issue", "--key", str(vendor), "--org", "conformance", "--bound-to", "*",
                        "--item", "product=conformance-scan,chargeWay=scan,quantity=1000000,expires=2099-12-31",
                        "--item", "product=conformance-lease,chargeWay=concurrentInstance,quantity=5,leaseSeconds=10,expires=2099-12-31",
                        "--out", str(license_file)], check=True, capture_output=True)
        token = login(pair, "main")
        status, answer = pair.request("main", "POST", "api/admin/licenses", json.loads(license_file.read_text()), token)
        if status != 201 or answer.get("handshakeCode") != CODE:
            raise AssertionError(f"importing the conformance license answered {status} {answer}")
        key = ClientKey.parse(pair.admin("main", "GET", f"api/admin/handshakes/{CODE}/client-key")["clientKey"])
        return pair, key
    except BaseException:
        pair.stop()
        raise


def login(pair: Pair, node: str) -> str:
    password = (pair.directory / "p" / "admin-password").read_text().strip()
    status, answer = pair.request(node, "POST", "api/admin/login", {"password": password})
    if status != 200:
        raise AssertionError(f"admin login on the {node} answered {status} {answer}")
    return answer["token"]


def unreachable_server() -> Server:
    """A URL nothing listens on (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return Server(f"https://127.0.0.1:{port}/dls/", sha256=bytes(32))


class ScenarioRun:
    """One scenario's steps with one client, against one pair."""

    def __init__(self, test: unittest.TestCase, scenario: dict[str, Any], pair: Pair, key: ClientKey, work: Path) -> None:
        self.test, self.scenario, self.pair = test, scenario, pair
        servers = list(key.servers)
        if scenario["serversOrder"] == "standby-first":
            servers.reverse()
        uuid = f"conformance-python-{scenario['scenario']}"
        self.client = LicenseClient(Settings(servers, key.handshake_code, uuid))
        self.offline = LicenseClient(Settings([unreachable_server()], key.handshake_code, uuid, call_deadline_ms=700))
        self.buffer = ReportBuffer(work / "reports.jsonl")
        self.keeper = LeaseKeeper(self.client)
        self.request_ids: dict[str, str] = {}
        self.grants: dict[str, tuple[str, str]] = {}  # name: (grant ID, request ID)
        self.lease_seconds: dict[str, int] = {}

    def request_id(self, name: str) -> str:
        return self.request_ids.setdefault(name, f"{self.scenario['scenario']}-{name}-{time.monotonic_ns()}")

    def run(self) -> None:
        try:
            for index, step in enumerate(self.scenario["steps"]):
                with self.test.subTest(step=index, what=step):
                    self.step(step)
            self.check_grants()
        finally:
            self.keeper.close()

    def step(self, step: dict[str, Any]) -> None:
        t = self.test
        if "authorize" in step:
            grant = self.client.authorize(step["authorize"], request_id=self.request_id(step["request"]))
            if "same" in step:
                t.assertEqual(grant.grant_id, self.grants[step["same"]][0], "a repeated requestId gets its first grant")
            if "save" in step:
                self.grants[step["save"]] = (grant.grant_id, grant.request_id)
                self.lease_seconds[step["save"]] = grant.lease_seconds
        elif "report" in step:
            t.assertIsNotNone(self.client.report(step["report"], request_id=self.request_id(step["request"])))
        elif "heartbeat" in step:
            grant_id = self.grants[step["heartbeat"]][0]
            if "refused" in step:
                with t.assertRaises(Refused) as refusal:
                    self.client.heartbeat(grant_id)
                t.assertEqual(refusal.exception.code, step["refused"])
            else:
                self.client.heartbeat(grant_id)
        elif "release" in step:
            self.client.release(self.grants[step["release"]][0])
        elif "kill" in step:
            primary = self.pair.primary()
            t.assertIsNotNone(primary, "no primary to kill")
            os.kill(self.pair.pid(primary), signal.SIGKILL)
        elif "keepLease" in step:
            grant_id = self.grants[step["keepLease"]][0]
            self.keeper.keep(grant_id, self.lease_seconds[step["keepLease"]])
            time.sleep(step["seconds"])
            self.keeper.stop(grant_id)
            t.assertGreater(self.keeper.renewals[0], 0, "the lease keeper renewed nothing")
        elif "wait" in step:
            time.sleep(step["wait"])
        elif "offlineReport" in step:
            t.assertIsNone(self.offline.report(step["offlineReport"], buffer=self.buffer), "an unreachable server took a report")
        elif "deliver" in step:
            delivered, refused = self.client.deliver_buffered(self.buffer)
            t.assertEqual((delivered, refused), (step["deliver"], 0))
        elif "used" in step:
            self.pair.wait_until(lambda: self.pair.primary() is not None, "a primary")
            items = {item["product"]: item for item in self.pair.admin(self.pair.primary(), "GET", "api/admin/items")}
            for product, used in step["used"].items():
                t.assertEqual(items[product]["used"], used, product)
        else:
            t.fail(f"unknown step {step}")

    def check_grants(self) -> None:
        self.pair.wait_until(lambda: self.pair.primary() is not None, "a primary")
        listed = [grant for grant in self.pair.grants(self.pair.primary()) if grant.get("handshakeCode") == CODE]
        for name, (grant_id, request_id) in self.grants.items():
            matching = [grant for grant in listed if grant.get("requestId") == request_id]
            self.test.assertEqual([grant.get("grantId") for grant in matching], [grant_id], f"grant {name} once, unchanged")


class ConformanceTests(unittest.TestCase):
    def test_every_scenario(self) -> None:
        files = sorted(SCENARIOS.glob("*.json"))
        self.assertGreaterEqual(len(files), 5, f"no scenarios in {SCENARIOS}")
        for path in files:
            scenario = json.loads(path.read_text())
            with self.subTest(scenario=scenario["scenario"]):
                pair, key = conformance_pair()
                try:
                    with tempfile.TemporaryDirectory() as work:
                        ScenarioRun(self, scenario, pair, key, Path(work)).run()
                finally:
                    pair.stop()


if __name__ == "__main__":
    unittest.main()
