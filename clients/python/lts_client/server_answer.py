"""What one server's HTTP answer means for a client that may fail over."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answered:
    """The call succeeded (HTTP 200)."""


@dataclass(frozen=True)
class Refusal:
    """A real refusal (quota, expiry, bad code, …): trying elsewhere would give the same answer."""

    code: int
    message: str


@dataclass(frozen=True)
class Redirect:
    """This server is the standby (HTTP 421, -20100); `primary` names the primary when it said so."""

    primary: str | None


@dataclass(frozen=True)
class NotNow:
    """This server cannot answer now (starting, a switchover, overloaded, an error of its own): try another."""

    reason: str


ServerAnswer = Answered | Refusal | Redirect | NotNow


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def classify(status: int, body: Any) -> ServerAnswer:
    """Classifies an HTTP answer by its status and JSON body (None when it had none).

    Invariant: only `Answered` and `Refusal` end a call; the other answers
    send it on, with the same request ID, to another server.
    """
    fields = body if isinstance(body, dict) else {}
    code = _int(fields.get("code"))
    message = fields.get("message")
    if not isinstance(message, str):
        message = f"HTTP {status}"
    if status == 200:
        return Answered()
    if status == 421:
        primary = fields.get("primary")
        return Redirect(primary if isinstance(primary, str) else None)
    if 500 <= status <= 599 or status in (408, 429):
        return NotNow(f"{message} (HTTP {status})")
    if code is None:
        return NotNow(f"HTTP {status} without a DLS code")
    return Refusal(code, message)
