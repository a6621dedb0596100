"""One string that holds what a client needs to reach a license server."""

import base64
import binascii
import json
import re
import string
from dataclasses import dataclass

from .server_list import SERVERS_MAX
from .transport import Server

PREFIX = "lts1."
TEXT_BYTES_MAX = 4096
"""Longest key text accepted."""

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class MalformedKey(ValueError):
    """Why a text is no client key."""


def parse_fingerprint(text: str) -> bytes | None:
    """32 bytes from 64 hex digits (colons between them allowed), else None."""
    digits = text.replace(":", "")
    if len(digits) != 64 or not all(digit in string.hexdigits for digit in digits):
        return None
    return bytes.fromhex(digits)


@dataclass(frozen=True)
class ClientKey:
    """The handshake code and the servers in order, each pinned by the
    SHA-256 of its certificate when it is self-signed.

    Form: `lts1.` then base64url (no padding) of the JSON object
    `{"code":…,"servers":[{"url":…,"sha256":"hex"?}…]}`, keys sorted.

    Invariant: `ClientKey.parse(k.text) == k`; parsing refuses anything else
    (another prefix, bad base64 or JSON, unknown keys, an empty code, no
    server or more than two, a fingerprint that is not 32 bytes, a server
    named twice) and, unlike ClientKey.swift, a fingerprint on an http://
    URL, which has no certificate to pin.
    """

    handshake_code: str
    servers: tuple[Server, ...]

    @property
    def text(self) -> str:
        servers = []
        for server in self.servers:
            entry = {"url": server.url}
            if server.sha256 is not None:
                entry["sha256"] = server.sha256.hex()
            servers.append(entry)
        data = json.dumps({"code": self.handshake_code, "servers": servers}, sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False).encode()
        return PREFIX + base64.urlsafe_b64encode(data).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> "ClientKey":
        """Raises MalformedKey saying what is wrong."""
        trimmed = text.strip()
        if len(trimmed.encode()) > TEXT_BYTES_MAX:
            raise MalformedKey(f"a client key is at most {TEXT_BYTES_MAX} bytes")
        if not trimmed.startswith(PREFIX):
            raise MalformedKey(f"a client key starts with {PREFIX}")
        encoded = trimmed[len(PREFIX):]
        if not _BASE64URL.fullmatch(encoded):
            raise MalformedKey("a client key holds only letters, digits, - and _ after its prefix")
        try:
            data = base64.b64decode(encoded.replace("-", "+").replace("_", "/") + "=" * (-len(encoded) % 4), validate=True)
            decoded = json.loads(data.decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise MalformedKey("the client key does not decode") from None
        if not isinstance(decoded, dict):
            raise MalformedKey("the client key does not decode")
        code, entries = decoded.get("code"), decoded.get("servers")
        if (set(decoded) != {"code", "servers"} or not isinstance(code, str) or not code
                or not isinstance(entries, list) or not 1 <= len(entries) <= SERVERS_MAX
                or not all(isinstance(entry, dict) for entry in entries)):
            raise MalformedKey("a client key names a handshake code and one or two servers")
        servers = []
        for entry in entries:
            url = entry.get("url")
            if not set(entry) <= {"url", "sha256"} or not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise MalformedKey("each server of a client key has an http(s) url")
            fingerprint = None
            if "sha256" in entry:
                hex_text = entry["sha256"]
                fingerprint = parse_fingerprint(hex_text) if isinstance(hex_text, str) else None
                if fingerprint is None:
                    raise MalformedKey("a server's sha256 is 64 hex digits")
            if url.startswith("http://") and fingerprint is not None:
                raise MalformedKey("a server with a sha256 has an https url")
            servers.append(Server(url, sha256=fingerprint))
        if len({server.url for server in servers}) != len(servers):
            raise MalformedKey("a client key names a server twice")
        return cls(code, tuple(servers))
