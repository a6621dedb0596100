"""Usage reports no server took yet, kept in a file until one does."""

import json
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_ENTRIES = 100_000
DEFAULT_MAX_AGE_SECONDS = 7 * 86_400
"""A server remembers request IDs for 8 days, so a report this old still counts once."""


class BufferFull(Exception):
    """The buffer holds `max_entries` reports; the report was not kept."""


@dataclass(frozen=True)
class BufferedReport:
    """A report with the request ID it keeps for every delivery attempt
    (so a server counts it once); `at`: when it was made (Unix seconds)."""

    request_id: str
    scans: int
    grant_id: str | None
    at: int

    def encode(self) -> str:
        fields: dict[str, object] = {"requestId": self.request_id, "scans": self.scans, "at": self.at}
        if self.grant_id is not None:
            fields["grantId"] = self.grant_id
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    @staticmethod
    def decode(line: str) -> "BufferedReport | None":
        try:
            fields = json.loads(line)
        except ValueError:
            return None
        if not isinstance(fields, dict) or not set(fields) <= {"requestId", "scans", "at", "grantId"}:
            return None
        request_id, scans, at, grant_id = (fields.get(key) for key in ("requestId", "scans", "at", "grantId"))
        if (not isinstance(request_id, str) or not request_id or not _is_int(scans) or scans < 1 or not _is_int(at)
                or not (grant_id is None or isinstance(grant_id, str))):
            return None
        return BufferedReport(request_id, scans, grant_id, at)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class ReportBuffer:
    """Reports waiting for a server, one JSON object a line in `path`, so
    that they survive the client's restart; bounded in count
    (`max_entries`) and in age (`max_age_seconds`).

    Invariant: the file holds exactly `pending`, oldest first, each request
    ID once; an append is durable (fsync) before it returns; a report older
    than `max_age_seconds` is dropped (and counted), never delivered.
    Thread-safe.
    """

    def __init__(self, path: str | os.PathLike[str], max_entries: int = DEFAULT_MAX_ENTRIES,
                 max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS) -> None:
        """Loads the buffer at `path` (empty when there is no file); raises
        ValueError for a line that is no report."""
        self.path = Path(path)
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self.expired_total = 0
        """Reports dropped because they grew too old."""
        self._lock = threading.Lock()
        self._pending: list[BufferedReport] = []
        if self.path.exists():
            for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
                report = BufferedReport.decode(line)
                if report is None:
                    raise ValueError(f"{self.path} line {number} is no buffered report; "
                                     "move the file away to start with an empty buffer")
                self._pending.append(report)

    @property
    def pending(self) -> list[BufferedReport]:
        with self._lock:
            return list(self._pending)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def append(self, report: BufferedReport) -> None:
        """Adds `report` durably; raises BufferFull at `max_entries`."""
        with self._lock:
            if len(self._pending) >= self.max_entries:
                raise BufferFull(f"the report buffer {self.path} holds {self.max_entries} reports, its limit; "
                                 "the report was not kept")
            if any(kept.request_id == report.request_id for kept in self._pending):
                raise ValueError(f"the report buffer {self.path} holds request ID {report.request_id} already")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "a", encoding="utf-8") as file:
                file.write(report.encode() + "\n")
                file.flush()
                os.fsync(file.fileno())
            self._pending.append(report)

    def deliverable(self, now: int) -> list[BufferedReport]:
        """The reports to deliver now, oldest first; drops those older than
        `max_age_seconds` at `now`."""
        with self._lock:
            fresh = [report for report in self._pending if now - report.at <= self.max_age_seconds]
            if len(fresh) != len(self._pending):
                self.expired_total += len(self._pending) - len(fresh)
                self._rewrite(fresh)
            return fresh

    def remove(self, request_ids: Iterable[str]) -> None:
        """Removes the reports with these request IDs (delivered or refused)."""
        gone = set(request_ids)
        if not gone:
            return
        with self._lock:
            self._rewrite([report for report in self._pending if report.request_id not in gone])

    def _rewrite(self, reports: list[BufferedReport]) -> None:
        """Replaces the file atomically with `reports` (a durable temporary file renamed over it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write("".join(report.encode() + "\n" for report in reports))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
        self._pending = reports
