"""The servers a client may talk to, in the order it should try them."""

from collections.abc import Sequence

SERVERS_MAX = 2
"""Most servers a list holds (a main + standby pair)."""


class ServerList:
    """The last server that answered first, then the configured order.

    Invariant: `ordered()` is a permutation of the configured URLs, which
    are non-empty, distinct and at most `SERVERS_MAX`.
    """

    def __init__(self, urls: Sequence[str]) -> None:
        if not urls or len(urls) > SERVERS_MAX or len(set(urls)) != len(urls):
            raise ValueError("a client needs one or two distinct server URLs")
        self.configured: tuple[str, ...] = tuple(urls)
        self.preferred: str | None = None

    def ordered(self) -> list[str]:
        """The order to try: the remembered primary, then the others as configured."""
        if self.preferred is None:
            return list(self.configured)
        return [self.preferred] + [url for url in self.configured if url != self.preferred]

    def remember(self, url: str) -> None:
        """Remembers `url` as the primary when it is one of the configured servers."""
        if url in self.configured:
            self.preferred = url


def normalized(url: str) -> str:
    """`url` compared loosely: case, trailing slashes and a `/dls` or `/lts` suffix aside."""
    text = url.lower().rstrip("/")
    for suffix in ("/dls", "/lts"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text


def join(base: str, path: str) -> str:
    """`base` (`https://host:port/dls/`) joined with `path` (`api/v1/…`)."""
    return (base if base.endswith("/") else base + "/") + path.removeprefix("/")
