"""The two ways a call can fail: a server refused it, or no server answered."""


class LicenseError(Exception):
    """A failed call.

    `code` is the DLS error code and `status` the HTTP status of a server's
    refusal; both are None when no server gave a final answer.
    """

    def __init__(self, message: str, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class Refused(LicenseError):
    """A server's final refusal (quota, expiry, bad handshake code, …).

    Invariant: `code` and `status` are set; trying the other server would
    give the same answer, so the call is not retried.
    """

    code: int
    status: int

    def __init__(self, code: int, message: str, status: int) -> None:
        super().__init__(message, code, status)

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"


class Unavailable(LicenseError):
    """No server gave a final answer before the call's deadline.

    `last_errors` maps each server URL to the last thing it said or why it
    could not be reached.
    """

    def __init__(self, last_errors: dict[str, str]) -> None:
        self.last_errors = dict(last_errors)
        listed = "; ".join(f"{url}: {error}" for url, error in sorted(self.last_errors.items()))
        super().__init__("no license server answered: " + listed)
