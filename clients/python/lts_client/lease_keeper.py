"""Keeps leases of concurrent items alive in the background."""

import threading
import time
from collections.abc import Callable

from .client import LicenseClient
from .errors import Refused, Unavailable

RETRY_SECONDS = 1.0
"""Wait before a renewal no server answered is tried again."""


class LeaseKeeper:
    """Renews each kept lease (a heartbeat through the client, so it follows
    a failover like any call) when a third of its life has passed, at least
    a second apart; a renewal no server answers is tried again a second
    later, while the lease may still live.

    Invariant: a kept lease is renewed until `stop(grant_id)`, `close()`, or
    a server says it is gone (then `on_lost(grant_id, refusal)` is called
    once for it, on the keeper's thread).
    """

    def __init__(self, client: LicenseClient, on_lost: Callable[[str, Refused], None] | None = None) -> None:
        self._client = client
        self._on_lost = on_lost
        self._condition = threading.Condition()
        self._kept: dict[str, tuple[int, float]] = {}
        """grant ID -> (lease seconds, monotonic time the renewal is due)."""
        self._closed = False
        self._renewals_total = 0
        self._last_server: str | None = None
        self._thread = threading.Thread(target=self._run, name="lts-lease-keeper", daemon=True)
        self._thread.start()

    def keep(self, grant_id: str, lease_seconds: int) -> None:
        """Renews `grant_id` from now on; its lease lives `lease_seconds`."""
        with self._condition:
            self._kept[grant_id] = (lease_seconds, _due(lease_seconds))
            self._condition.notify_all()

    def stop(self, grant_id: str) -> None:
        with self._condition:
            self._kept.pop(grant_id, None)

    @property
    def renewals(self) -> tuple[int, str | None]:
        """Renewals that succeeded, and the server of the last one."""
        with self._condition:
            return self._renewals_total, self._last_server

    def close(self) -> None:
        """Stops renewing every lease and ends the thread (after a renewal under way)."""
        with self._condition:
            self._closed = True
            self._kept.clear()
            self._condition.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join()

    def _run(self) -> None:
        with self._condition:
            while not self._closed:
                if not self._kept:
                    self._condition.wait()
                    continue
                grant_id, (lease_seconds, due) = min(self._kept.items(), key=lambda kept: kept[1][1])
                now = time.monotonic()
                if due > now:
                    self._condition.wait(due - now)
                    continue
                self._condition.release()
                try:
                    renewed = self._client.heartbeat(grant_id)
                    failure: Exception | None = None
                except (Refused, Unavailable) as error:
                    failure = error
                finally:
                    self._condition.acquire()
                if grant_id not in self._kept:
                    continue
                if failure is None:
                    seconds, server = renewed
                    self._renewals_total += 1
                    self._last_server = server
                    lease_seconds = seconds if seconds > 0 else lease_seconds
                    self._kept[grant_id] = (lease_seconds, _due(lease_seconds))
                elif isinstance(failure, Refused):
                    del self._kept[grant_id]
                    if self._on_lost is not None:
                        self._condition.release()
                        try:
                            self._on_lost(grant_id, failure)
                        finally:
                            self._condition.acquire()
                else:
                    self._kept[grant_id] = (lease_seconds, time.monotonic() + RETRY_SECONDS)


def _due(lease_seconds: int) -> float:
    return time.monotonic() + max(1.0, lease_seconds / 3)
