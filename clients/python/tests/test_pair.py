"""The client against a real `lts pair`: the four calls, a standby's
redirect, pinning and CA files, lease renewal and the offline report buffer."""

import tempfile
import threading
import unittest
from collections import Counter
from pathlib import Path

from lts_client import (ClientKey, LeaseKeeper, LicenseClient, Refused, ReportBuffer, Server, Settings,
                        Unavailable)

from .fakes import closed_port_url
from .pair import Pair

CLIENT_UUID = "0b7e1c2d-3f4a-4b5c-8d6e-7f8091a2b3c4"


def setUpModule() -> None:
    global pair, key
    pair = Pair()
    key = ClientKey.parse(pair.client_key())


def tearDownModule() -> None:
    pair.stop()


class PairTests(unittest.TestCase):
    def setUp(self) -> None:
        self.client = LicenseClient.from_key(key, client_uuid=CLIENT_UUID)

    def request_ids_granted(self) -> Counter[str]:
        return Counter(grant["requestId"] for grant in pair.grants("main"))

    def test_the_key_names_both_servers_pinned(self) -> None:
        self.assertEqual([server.url for server in key.servers], [pair.urls["main"], pair.urls["standby"]])
        self.assertTrue(all(server.sha256 is not None for server in key.servers))

    def test_authorize_report_heartbeat_release(self) -> None:
        scan = self.client.authorize("dbr", scans=2)
        self.assertEqual(scan.server, pair.urls["main"])
        self.assertEqual(scan.lease_seconds, 0)
        self.assertEqual(self.client.report(3, grant_id=scan.grant_id, request_id="python-report-1"), pair.urls["main"])
        lease = self.client.authorize("dcv")
        self.assertGreater(lease.lease_seconds, 0)
        seconds, server = self.client.heartbeat(lease.grant_id)
        self.assertEqual((seconds, server), (lease.lease_seconds, pair.urls["main"]))
        self.client.release(lease.grant_id)
        self.client.release(lease.grant_id)  # already gone: still released
        with self.assertRaises(Refused) as raised:
            self.client.heartbeat(lease.grant_id)
        self.assertEqual((raised.exception.code, raised.exception.status), (-20130, 404))
        granted = self.request_ids_granted()
        self.assertEqual([granted[scan.request_id], granted[lease.request_id], granted["python-report-1"]], [1, 1, 1])

    def test_a_repeated_request_id_returns_the_first_grant(self) -> None:
        first = self.client.authorize("dbr", request_id="python-repeat-1")
        again = self.client.authorize("dbr", request_id="python-repeat-1")
        self.assertEqual(again.grant_id, first.grant_id)
        self.assertEqual(self.request_ids_granted()["python-repeat-1"], 1)

    def test_refusals_carry_the_dls_code(self) -> None:
        with self.assertRaises(Refused) as raised:
            self.client.authorize("no-such-product")
        self.assertEqual((raised.exception.code, raised.exception.status), (-20123, 403))
        stranger = LicenseClient(Settings(list(key.servers), "no-such-code", CLIENT_UUID))
        with self.assertRaises(Refused) as raised:
            stranger.authorize("dbr")
        self.assertEqual(raised.exception.code, -20110)

    def test_the_standby_redirects_to_the_primary(self) -> None:
        standby_first = LicenseClient(Settings([key.servers[1], key.servers[0]], key.handshake_code, CLIENT_UUID))
        granted = standby_first.authorize("dbr")
        self.assertEqual(granted.server, pair.urls["main"])
        self.assertEqual(standby_first.remembered_server, pair.urls["main"])
        standby_only = LicenseClient(Settings([key.servers[1]], key.handshake_code, CLIENT_UUID, call_deadline_ms=200))
        with self.assertRaises(Unavailable) as raised:
            standby_only.authorize("dbr")
        self.assertEqual(raised.exception.last_errors, {pair.urls["standby"]: "standby"})

    def test_ca_files_verify_the_nodes(self) -> None:
        servers = [Server(pair.urls[node], ca_file=pair.cert_file(node)) for node in Pair.NODES]
        client = LicenseClient(Settings(servers, key.handshake_code, CLIENT_UUID))
        self.assertEqual(client.authorize("dbr").server, pair.urls["main"])

    def test_a_wrong_pin_is_refused(self) -> None:
        main = key.servers[0]
        wrong = LicenseClient(Settings([Server(main.url, sha256=bytes(a ^ 1 for a in main.sha256))], key.handshake_code,
                                       CLIENT_UUID, call_deadline_ms=200))
        with self.assertRaises(Unavailable) as raised:
            wrong.authorize("dbr")
        self.assertIn("not the pinned one", raised.exception.last_errors[main.url])

    def test_the_lease_keeper_renews_and_reports_a_lost_lease(self) -> None:
        lost: list[tuple[str, int]] = []
        lost_event = threading.Event()

        def on_lost(grant_id: str, refusal: Refused) -> None:
            lost.append((grant_id, refusal.code))
            lost_event.set()

        keeper = LeaseKeeper(self.client, on_lost=on_lost)
        try:
            lease = self.client.authorize("dcv")
            # A life of 3 s makes the first renewal due after 1 s; the server
            # then says the real life (its leaseSeconds).
            keeper.keep(lease.grant_id, lease_seconds=3)
            pair.wait_until(lambda: keeper.renewals[0] >= 1, "the lease keeper's first renewal", seconds=10)
            self.assertEqual(keeper.renewals, (1, pair.urls["main"]))
            keeper.keep("no-such-grant", lease_seconds=3)
            self.assertTrue(lost_event.wait(10), "on_lost was called")
            self.assertEqual(lost, [("no-such-grant", -20130)])
            keeper.stop(lease.grant_id)
            self.client.release(lease.grant_id)
        finally:
            keeper.close()

    def test_reports_no_server_took_are_buffered_then_delivered_once(self) -> None:
        with tempfile.TemporaryDirectory(prefix="lts-python-reports-") as directory:
            buffer = ReportBuffer(Path(directory) / "reports.jsonl")
            offline = LicenseClient(Settings([Server(closed_port_url(), sha256=bytes(32))], key.handshake_code, CLIENT_UUID,
                                             call_deadline_ms=300))
            self.assertIsNone(offline.report(2, buffer=buffer, request_id="python-buffered-1"))
            self.assertIsNone(offline.report(5, buffer=buffer, request_id="python-buffered-2"))
            with self.assertRaises(Unavailable):
                offline.report(1)
            self.assertEqual(offline.deliver_buffered(buffer), (0, 0))
            self.assertEqual(len(ReportBuffer(buffer.path)), 2)
            self.assertEqual(self.client.deliver_buffered(buffer), (2, 0))
            self.assertEqual(self.client.deliver_buffered(buffer), (0, 0))
            self.assertEqual(len(ReportBuffer(buffer.path)), 0)
        granted = self.request_ids_granted()
        self.assertEqual([granted["python-buffered-1"], granted["python-buffered-2"]], [1, 1])


if __name__ == "__main__":
    unittest.main()
