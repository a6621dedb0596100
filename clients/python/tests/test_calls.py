"""How a call moves between servers, against local fake servers: pinning,
CA files, redirects, refusals, one requestId with numbered attempts, and
the deadline."""

import time
import unittest
from typing import Any

from lts_client import LicenseClient, Refused, RetrySchedule, Server, Settings, Unavailable

from .fakes import ByteCounter, Certificate, FakeServer, closed_port_url

CLIENT_UUID = "4c1a3f6e-8a7b-4f2e-9c1d-2b3a4c5d6e7f"
GRANT = {"grantId": "g-1", "itemId": "i-1", "grace": False, "leaseSeconds": 0, "term": 2, "token": "t"}


def setUpModule() -> None:
    global certificate
    certificate = Certificate()


def tearDownModule() -> None:
    certificate.close()


def answering(status: int, body: dict[str, Any]):
    return lambda request: (status, body)


class CallTests(unittest.TestCase):
    def setUp(self) -> None:
        self.fakes: list[FakeServer] = []

    def tearDown(self) -> None:
        for fake in self.fakes:
            fake.close()

    def fake(self, script) -> FakeServer:
        server = FakeServer(certificate, script)
        self.fakes.append(server)
        return server

    def client(self, *urls: str, deadline_ms: int = 15_000, **trust: Any) -> LicenseClient:
        servers = [Server(url, **(trust or {"sha256": certificate.sha256})) for url in urls]
        return LicenseClient(Settings(servers, "acme-1", CLIENT_UUID, call_deadline_ms=deadline_ms))

    # MARK: trust

    def test_a_pin_mismatch_is_refused_before_any_request_byte(self) -> None:
        counter = ByteCounter(certificate)
        try:
            client = LicenseClient(Settings([Server(counter.url, sha256=bytes(32))], "acme-1", CLIENT_UUID,
                                            call_deadline_ms=50))
            with self.assertRaises(Unavailable) as raised:
                client.authorize("dbr")
            self.assertTrue(counter.done.wait(5), "the connection was closed")
        finally:
            counter.close()
        self.assertEqual(counter.handshakes, 1)
        self.assertEqual(counter.bytes_received, 0)
        self.assertIn("not the pinned one", raised.exception.last_errors[counter.url])

    def test_the_right_pin_and_a_ca_file_are_trusted(self) -> None:
        fake = self.fake(answering(200, GRANT))
        self.assertEqual(self.client(fake.url).authorize("dbr").grant_id, "g-1")
        self.assertEqual(self.client(fake.url, ca_file=certificate.cert_file).authorize("dbr").grant_id, "g-1")

    def test_a_self_signed_server_is_refused_without_a_pin_or_ca_file(self) -> None:
        fake = self.fake(answering(200, GRANT))
        client = LicenseClient(Settings([Server(fake.url)], "acme-1", CLIENT_UUID, call_deadline_ms=50))
        with self.assertRaises(Unavailable) as raised:
            client.authorize("dbr")
        self.assertIn("CERTIFICATE_VERIFY_FAILED", raised.exception.last_errors[fake.url])
        self.assertEqual(fake.requests, [])

    def test_plain_http_cannot_be_pinned(self) -> None:
        for trust in ({"sha256": certificate.sha256}, {"ca_file": certificate.cert_file}):
            with self.subTest(trust=trust), self.assertRaises(ValueError):
                Server("http://127.0.0.1:1/dls/", **trust)

    # MARK: failover

    def test_one_request_id_numbered_attempts_and_the_answering_server_first(self) -> None:
        busy = self.fake(answering(503, {"code": -20005, "message": "busy"}))
        primary = self.fake(answering(200, GRANT))
        client = self.client(busy.url, primary.url)
        granted = client.authorize("dbr", scans=2)
        self.assertEqual(granted.server, primary.url)
        (_, first), = busy.requests
        (path, second), = primary.requests
        self.assertEqual(path, "/dls/api/v1/authorize")
        self.assertEqual((first["attempt"], second["attempt"]), (1, 2))
        self.assertEqual(first["requestId"], granted.request_id)
        self.assertEqual(second, {**first, "attempt": 2})
        self.assertEqual(second["scans"], 2)
        self.assertEqual((second["handshakeCode"], second["clientUUID"]), ("acme-1", CLIENT_UUID))
        client.authorize("dbr")
        self.assertEqual(len(busy.requests), 1, "the server that answered last is tried first")
        self.assertEqual(primary.requests[-1][1]["attempt"], 1, "a new request starts at attempt 1")

    def test_a_standby_sends_the_call_to_the_primary_it_names(self) -> None:
        primary = self.fake(answering(200, GRANT))
        named = primary.url.upper().replace("/DLS/", "/lts")  # the same server, written otherwise
        standby = self.fake(answering(421, {"code": -20100, "message": "standby", "primary": named}))
        client = self.client(standby.url, primary.url)
        self.assertEqual(client.authorize("dbr").server, primary.url)
        self.assertEqual(client.remembered_server, primary.url)
        self.assertEqual([len(standby.requests), len(primary.requests)], [1, 1])

    def test_a_refusal_ends_the_call_with_its_code_status_and_message(self) -> None:
        refusing = self.fake(answering(403, {"code": -20120, "message": "quota used up"}))
        other = self.fake(answering(200, GRANT))
        with self.assertRaises(Refused) as raised:
            self.client(refusing.url, other.url).authorize("dbr")
        self.assertEqual((raised.exception.code, raised.exception.status, raised.exception.message),
                         (-20120, 403, "quota used up"))
        self.assertEqual(other.requests, [], "a refusal is final")

    def test_an_answer_without_a_dls_code_sends_the_call_on(self) -> None:
        odd = self.fake(answering(404, {"error": "not here"}))
        primary = self.fake(answering(200, GRANT))
        self.assertEqual(self.client(odd.url, primary.url).authorize("dbr").server, primary.url)

    def test_a_release_of_a_lease_already_gone_counts_as_released(self) -> None:
        gone = self.fake(answering(404, {"code": -20130, "message": "no such lease"}))
        self.client(gone.url).release("g-1")
        (path, body), = gone.requests
        self.assertEqual((path, body["grantId"]), ("/dls/api/v1/release", "g-1"))
        self.assertNotIn("attempt", body, "only calls with a requestId number their attempts")

    def test_no_server_until_the_deadline_then_attempts_go_on_across_calls(self) -> None:
        state = {"up": False}
        flaky = self.fake(lambda request: (200, GRANT) if state["up"] else (503, {"code": -20005, "message": "busy"}))
        client = LicenseClient(Settings([Server(closed_port_url(), sha256=certificate.sha256),
                                         Server(flaky.url, sha256=certificate.sha256)],
                                        "acme-1", CLIENT_UUID, call_deadline_ms=1_000, retry=RetrySchedule(100, 2_000)))
        started = time.monotonic()
        with self.assertRaises(Unavailable) as raised:
            client.authorize("dbr", request_id="r-1")
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, 1.5)
        self.assertGreater(elapsed, 0.3, "it waited between rounds")
        self.assertEqual(set(raised.exception.last_errors), {server.url for server in client.settings.servers})
        attempts = [body["attempt"] for _, body in flaky.requests]
        rounds = len(attempts)
        self.assertGreaterEqual(rounds, 3)
        # Each round sends to the closed port (odd attempts), then to the busy server (even ones).
        self.assertEqual(attempts, list(range(2, 2 * rounds + 1, 2)))
        state["up"] = True
        client.authorize("dbr", request_id="r-1")
        self.assertEqual(flaky.requests[-1][1]["attempt"], 2 * rounds + 2, "a retried request ID counts on")


if __name__ == "__main__":
    unittest.main()
