"""One HTTP(S) request to one server, with that server's certificate verified.

A server is trusted by the SHA-256 of its certificate (self-signed nodes),
by a CA file, or by the system's CAs; there is no unverified mode.
"""

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

RESPONSE_BYTES_MAX = 1 << 20
"""Longest answer body read; a client call's answer is far smaller."""


class PinMismatch(ssl.SSLError):
    """The server's certificate is not the one its fingerprint pins."""


@dataclass(frozen=True)
class Server:
    """A server's base URL (`https://host:port/dls/`) and how to trust it.

    Invariant: at most one of `sha256` (32 bytes: the pinned certificate's
    SHA-256) and `ca_file`; with neither, the system's CAs and the host name
    are checked. An `http://` URL (plain HTTP, as a client key may name
    one) has neither: there is no certificate to check.
    """

    url: str
    sha256: bytes | None = None
    ca_file: str | None = None

    def __post_init__(self) -> None:
        if self.sha256 is not None and self.ca_file is not None:
            raise ValueError(f"{self.url}: pin a fingerprint or name a CA file, not both")
        if self.sha256 is not None and len(self.sha256) != 32:
            raise ValueError(f"{self.url}: a SHA-256 fingerprint is 32 bytes")
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"{self.url}: a server URL starts with https:// or http://")
        if self.url.startswith("http://") and (self.sha256 is not None or self.ca_file is not None):
            raise ValueError(f"{self.url}: plain HTTP has no certificate to pin or verify; use https://")


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    """The decoded JSON body, or None when the body was no JSON."""


def _context(server: Server) -> ssl.SSLContext:
    if server.sha256 is not None:
        # The pin, compared after the handshake and before the request, is
        # the verification: a self-signed node has no CA to check it by.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context
    return ssl.create_default_context(cafile=server.ca_file)


def _connect(server: Server, host: str, port: int, connect_timeout_ms: int, timeout_ms: int) -> socket.socket:
    """A connected socket, TLS (verified) for https; connecting and the TLS
    handshake take at most `connect_timeout_ms` together, as curl's connect
    timeout does."""
    started = time.monotonic()
    raw = socket.create_connection((host, port), timeout=connect_timeout_ms / 1000)
    try:
        if server.url.startswith("http://"):
            raw.settimeout(timeout_ms / 1000)
            return raw
        left = connect_timeout_ms / 1000 - (time.monotonic() - started)
        raw.settimeout(max(left, 0.001))
        tls = _context(server).wrap_socket(raw, server_hostname=host)
    except BaseException:
        raw.close()
        raise
    try:
        if server.sha256 is not None:
            certificate = tls.getpeercert(binary_form=True) or b""
            if not hmac.compare_digest(hashlib.sha256(certificate).digest(), server.sha256):
                raise PinMismatch(f"the certificate's SHA-256 {hashlib.sha256(certificate).hexdigest()} is not the pinned one")
        tls.settimeout(timeout_ms / 1000)
        return tls
    except BaseException:
        tls.close()
        raise


def post_json(server: Server, url: str, body: dict[str, Any], connect_timeout_ms: int, timeout_ms: int) -> Response:
    """POSTs `body` as JSON to `url` (under `server.url`) on a new connection.

    Raises OSError (ssl.SSLError and PinMismatch included) when the server
    cannot be reached, is not the trusted one, or does not answer in time;
    no request byte is sent before the certificate was verified.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sock = _connect(server, host, port, connect_timeout_ms, timeout_ms)
    connection = http.client.HTTPConnection(host, port)
    # The connection sends over the socket made and verified above instead
    # of opening its own.
    connection.sock = sock
    response: http.client.HTTPResponse | None = None
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        connection.request("POST", path, body=data, headers={"Content-Type": "application/json", "Connection": "close"})
        response = connection.getresponse()
        raw = response.read(RESPONSE_BYTES_MAX + 1)
        if len(raw) > RESPONSE_BYTES_MAX:
            raise OSError(f"an answer larger than {RESPONSE_BYTES_MAX} bytes")
        try:
            decoded = json.loads(raw)
        except ValueError:
            decoded = None
        return Response(response.status, decoded)
    except http.client.HTTPException as error:
        raise OSError(f"a broken HTTP answer: {error!r}") from error
    finally:
        # The response reads through its own file on the socket: the socket
        # closes once both are closed, also when reading it failed.
        if response is not None:
            response.close()
        connection.close()
