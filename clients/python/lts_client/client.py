"""A client of a license server or of a main + standby pair."""

import os
import random
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import server_answer, transport
from .client_key import ClientKey
from .errors import Refused, Unavailable
from .identity import load_client_uuid
from .report_buffer import BufferedReport, ReportBuffer
from .retry_schedule import RetrySchedule
from .server_list import ServerList, join, normalized
from .transport import Server

UNKNOWN_GRANT_CODE = -20130
"""The DLS code of "no active lease has this grant ID"."""

ATTEMPT_COUNTS_MAX = 10_000
"""Most request IDs whose sendings are counted on (a call that ended
Unavailable may be retried with the same request ID); past it the counts
start again."""


def new_request_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Settings:
    """What the client needs to know: the servers in order (main first),
    each with how to trust it, the handshake code and the client UUID."""

    servers: Sequence[Server]
    handshake_code: str
    client_uuid: str
    session_password: str | None = None
    domain: str | None = None
    app_id: str | None = None
    process: str | None = None
    connect_timeout_ms: int = 300
    """A dead server costs at most this per attempt."""
    request_timeout_ms: int = 2_000
    call_deadline_ms: int = 15_000
    """How long one call keeps trying before it gives up."""
    retry: RetrySchedule = field(default_factory=RetrySchedule)


@dataclass(frozen=True)
class Authorization:
    """A granted authorization; `lease_seconds` is 0 unless the item is concurrent."""

    grant_id: str
    item_id: str
    grace: bool
    lease_seconds: int
    term: int
    token: str
    request_id: str
    """The request ID the grant answered (reused on every retry)."""
    server: str
    """The server that granted it."""


@dataclass(frozen=True)
class Answer:
    """A successful answer: the server that gave it and its JSON."""

    server: str
    body: dict[str, Any]


class LicenseClient:
    """Every call tries the remembered primary first, then the other server,
    follows a standby's redirect (421, -20100) to the primary it names, and,
    when no server answers, waits (`RetrySchedule`) and goes round again
    until `call_deadline_ms` has passed. A call keeps one request ID over
    all its attempts, so a retry after a failover never counts twice, and
    numbers them (`attempt`: 1, 2, …, counted on across calls that retry the
    same request ID), so that when two servers answered one request during a
    split, both keep the answer this client took: the last.

    Invariant: a call ends with a server's final answer (success, or
    `Refused`) or `Unavailable` after the deadline; certificates are
    verified as each `Server` says, never less. Thread-safe.
    """

    def __init__(self, settings: Settings, generator: random.Random | None = None) -> None:
        if not settings.handshake_code or not settings.client_uuid:
            raise ValueError("a client needs a handshake code and a client UUID")
        self.settings = settings
        self._servers = ServerList([server.url for server in settings.servers])
        self._by_url = {server.url: server for server in settings.servers}
        self._lock = threading.Lock()
        self._attempts_sent: dict[str, int] = {}
        self._generator = generator or random.SystemRandom()

    @classmethod
    def from_key(cls, key: str | ClientKey, client_uuid: str | None = None,
                 identity_directory: str | os.PathLike[str] | None = None, **options: Any) -> "LicenseClient":
        """A client of the servers, code and pins a client key names; the
        client UUID is `client_uuid`, else the one kept in
        `identity_directory` (default `identity.default_directory()`)."""
        parsed = key if isinstance(key, ClientKey) else ClientKey.parse(key)
        uuid_text = client_uuid or load_client_uuid(identity_directory)
        return cls(Settings(list(parsed.servers), parsed.handshake_code, uuid_text, **options))

    @property
    def remembered_server(self) -> str | None:
        """The server that answered last (the primary as far as this client knows)."""
        with self._lock:
            return self._servers.preferred

    # MARK: the calls of the external contract

    def authorize(self, product: str, scans: int | None = None, request_id: str | None = None) -> Authorization:
        """Asks for an authorization of `product` (consuming `scans` on a scan item)."""
        request_id = request_id or new_request_id()
        fields: dict[str, Any] = {"product": product, "requestId": request_id, **self._validation()}
        if scans is not None:
            fields["scans"] = scans
        answer = self.call("api/v1/authorize", fields)
        body = answer.body
        grant_id, item_id = body.get("grantId"), body.get("itemId")
        if not isinstance(grant_id, str) or not isinstance(item_id, str):
            raise Unavailable({answer.server: "an authorization without grantId or itemId"})
        return Authorization(grant_id, item_id, body.get("grace") is True, _int(body.get("leaseSeconds")),
                             _int(body.get("term")), _str(body.get("token")), request_id, answer.server)

    def report(self, scans: int, grant_id: str | None = None, buffer: ReportBuffer | None = None,
               request_id: str | None = None) -> str | None:
        """Reports `scans` used. Returns the server that counted it, or None
        when no server answered and it waits in `buffer`; without a buffer
        that raises Unavailable."""
        report = BufferedReport(request_id or new_request_id(), scans, grant_id, int(time.time()))
        try:
            return self._deliver(report).server
        except Unavailable:
            if buffer is None:
                raise
            buffer.append(report)
            return None

    def deliver_buffered(self, buffer: ReportBuffer) -> tuple[int, int]:
        """Delivers the buffered reports, oldest first, each with its own
        request ID (so none counts twice), until a server stops answering.
        Returns how many were delivered and how many a server refused (both
        leave the buffer)."""
        delivered: list[str] = []
        refused: list[str] = []
        try:
            for report in buffer.deliverable(int(time.time())):
                try:
                    self._deliver(report)
                    delivered.append(report.request_id)
                except Refused:
                    refused.append(report.request_id)
                except Unavailable:
                    break
        finally:
            buffer.remove(delivered + refused)
        return len(delivered), len(refused)

    def heartbeat(self, grant_id: str) -> tuple[int, str]:
        """Renews the lease of `grant_id`; returns its new life in seconds and the server."""
        answer = self.call("api/v1/heartbeat", {"grantId": grant_id})
        return _int(answer.body.get("leaseSeconds")), answer.server

    def release(self, grant_id: str) -> None:
        """Releases the lease of `grant_id`. A lease already gone counts as
        released: a retry after a failover may find the first attempt applied."""
        try:
            self.call("api/v1/release", {"grantId": grant_id})
        except Refused as refusal:
            if refusal.code != UNKNOWN_GRANT_CODE:
                raise

    def _deliver(self, report: BufferedReport) -> Answer:
        fields: dict[str, Any] = {"scans": report.scans, "requestId": report.request_id, **self._validation()}
        if report.grant_id is not None:
            fields["grantId"] = report.grant_id
        return self.call("api/v1/report", fields)

    def _validation(self) -> dict[str, str]:
        """The validation fields a handshake code may require, those set."""
        settings = self.settings
        fields = {"sessionPassword": settings.session_password, "domain": settings.domain,
                  "appId": settings.app_id, "process": settings.process}
        return {name: value for name, value in fields.items() if value is not None}

    # MARK: failover

    def call(self, path: str, fields: dict[str, Any]) -> Answer:
        """Sends `fields` (plus the handshake code and client UUID) to `path` under the servers' base URLs,
        failing over as the class says. Raises Refused or Unavailable."""
        settings = self.settings
        body: dict[str, Any] = {"handshakeCode": settings.handshake_code, "clientUUID": settings.client_uuid, **fields}
        request_id = fields.get("requestId")
        attempt = self._take_attempts_sent(request_id) if request_id is not None else 0
        deadline = time.monotonic() + settings.call_deadline_ms / 1000
        last_errors: dict[str, str] = {}
        failed_rounds = 0
        try:
            while True:
                queue = self._ordered_servers()
                tried: set[str] = set()
                while queue:
                    url = queue.pop(0)
                    if url in tried:
                        continue
                    tried.add(url)
                    if request_id is not None:
                        attempt += 1
                        body["attempt"] = attempt
                    try:
                        response = transport.post_json(self._by_url[url], join(url, path), body,
                                                       settings.connect_timeout_ms, settings.request_timeout_ms)
                    except OSError as error:
                        last_errors[url] = str(error) or type(error).__name__
                        continue
                    match server_answer.classify(response.status, response.body):
                        case server_answer.Answered():
                            self._remember(url)
                            attempt = 0
                            return Answer(url, response.body if isinstance(response.body, dict) else {})
                        case server_answer.Refusal(code, message):
                            self._remember(url)
                            attempt = 0
                            raise Refused(code, message, response.status)
                        case server_answer.Redirect(primary):
                            last_errors[url] = "standby"
                            # The named primary next, if it is one of ours and not tried yet.
                            named = self._matching_server(primary) if primary is not None else None
                            if named is not None and named not in tried:
                                queue.insert(0, named)
                        case server_answer.NotNow(reason):
                            last_errors[url] = reason
                failed_rounds += 1
                pause_ms = settings.retry.delay_ms(failed_rounds, self._generator)
                if time.monotonic() + pause_ms / 1000 >= deadline:
                    raise Unavailable(last_errors)
                time.sleep(pause_ms / 1000)
        finally:
            if request_id is not None:
                self._keep_attempts_sent(request_id, attempt)

    def _take_attempts_sent(self, request_id: str) -> int:
        """The sendings counted for `request_id` by an earlier call, forgotten here."""
        with self._lock:
            return self._attempts_sent.pop(request_id, 0)

    def _keep_attempts_sent(self, request_id: str, sent: int) -> None:
        """Keeps the count of a call that found no server (`sent > 0`), for a retry."""
        if sent <= 0:
            return
        with self._lock:
            if len(self._attempts_sent) >= ATTEMPT_COUNTS_MAX:
                self._attempts_sent.clear()
            self._attempts_sent[request_id] = sent

    def _ordered_servers(self) -> list[str]:
        with self._lock:
            return self._servers.ordered()

    def _remember(self, url: str) -> None:
        with self._lock:
            self._servers.remember(url)

    def _matching_server(self, primary: str) -> str | None:
        """The configured server a redirect's `primary` URL names (trailing
        slash and `/lts/` or `/dls/` suffix alike)."""
        wanted = normalized(primary)
        return next((url for url in self._servers.configured if normalized(url) == wanted), None)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
