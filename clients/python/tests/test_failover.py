"""kill -9 of the primary of a real `lts pair` while a client authorizes in
a loop, each call with its own requestId: afterwards every grant the client
got is in the new primary's grant list exactly once per requestId (0 lost,
0 duplicated)."""

import os
import signal
import threading
import time
import unittest
from collections import Counter

from lts_client import ClientKey, LicenseClient, LicenseError, new_request_id

from .pair import Pair

CLIENT_UUID = "5d2c9e4b-6a1f-4c3d-9e8b-7a6f5e4d3c2b"
GRANTS_BEFORE_KILL = 30
GRANTS_AFTER_PROMOTION = 30
LOOP_SECONDS_MAX = 40


class AuthorizeLoop:
    """Authorizes `dbr` again and again, each call with a new requestId, on
    a thread, until stopped; keeps what each granted call got."""

    def __init__(self, client: LicenseClient) -> None:
        self._client = client
        self._condition = threading.Condition()
        self.grants: dict[str, tuple[str, str]] = {}
        """requestId -> (grantId, server)."""
        self.failures: list[str] = []
        self.longest_call_seconds = 0.0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            request_id = new_request_id()
            started = time.monotonic()
            try:
                granted = self._client.authorize("dbr", request_id=request_id)
            except LicenseError as error:
                with self._condition:
                    self.failures.append(f"{request_id}: {error}")
                    self._condition.notify_all()
                continue
            with self._condition:
                self.longest_call_seconds = max(self.longest_call_seconds, time.monotonic() - started)
                self.grants[request_id] = (granted.grant_id, granted.server)
                self._condition.notify_all()

    def wait_for(self, count: int, server: str | None = None) -> None:
        """Waits until `count` grants (from `server`, when given) were made."""
        def enough() -> bool:
            return sum(1 for _, by in self.grants.values() if server in (None, by)) >= count
        with self._condition:
            if not self._condition.wait_for(enough, timeout=LOOP_SECONDS_MAX):
                raise AssertionError(f"fewer than {count} grants from {server or 'any server'} in {LOOP_SECONDS_MAX} s")

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


class FailoverTests(unittest.TestCase):
    def setUp(self) -> None:
        self.pair = Pair()
        self.addCleanup(self.pair.stop)

    def test_kill_9_of_the_primary_loses_and_duplicates_no_grant(self) -> None:
        pair = self.pair
        client = LicenseClient.from_key(ClientKey.parse(pair.client_key()), client_uuid=CLIENT_UUID)
        loop = AuthorizeLoop(client)
        try:
            loop.wait_for(GRANTS_BEFORE_KILL)
            killed = pair.primary()
            self.assertEqual(killed, "main")
            survivor = "standby"
            os.kill(pair.pid(killed), signal.SIGKILL)
            pair.wait_until(lambda: pair.role(survivor) == "primary", "the standby's promotion")
            loop.wait_for(GRANTS_AFTER_PROMOTION, server=pair.urls[survivor])
        finally:
            loop.stop()

        listed = Counter(grant["requestId"] for grant in pair.grants(survivor))
        grant_ids = {grant["requestId"]: grant["grantId"] for grant in pair.grants(survivor)}
        lost = [request_id for request_id, (grant_id, _) in loop.grants.items() if grant_ids.get(request_id) != grant_id]
        duplicated = [request_id for request_id in loop.grants if listed[request_id] > 1]
        by_server = Counter(server for _, server in loop.grants.values())
        print(f"\nfailover (kill -9 of the {killed}): {len(loop.grants)} grants acknowledged "
              f"({by_server[pair.urls[killed]]} by the {killed}, {by_server[pair.urls[survivor]]} by the {survivor}), "
              f"{len(lost)} lost, {len(duplicated)} duplicated, {len(loop.failures)} calls failed, "
              f"longest call {loop.longest_call_seconds * 1000:.0f} ms")
        self.assertEqual(loop.failures, [])
        self.assertEqual(lost, [])
        self.assertEqual(duplicated, [])
        self.assertGreaterEqual(by_server[pair.urls[killed]], GRANTS_BEFORE_KILL)


if __name__ == "__main__":
    unittest.main()
