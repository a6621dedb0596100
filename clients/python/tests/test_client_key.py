"""Client keys: what ClientKey.swift makes parses to the same key, and
every kind of malformed key is refused."""

import base64
import json
import subprocess
import unittest

from lts_client import ClientKey, MalformedKey, Server
from lts_client.client_key import TEXT_BYTES_MAX

from .pair import lts_binary

PIN_A = bytes(range(32))
PIN_B = bytes(range(32, 64))


def key_of(value: object) -> str:
    """A key text for any JSON value, made as ClientKey.swift makes one."""
    data = json.dumps(value, separators=(",", ":")).encode()
    return "lts1." + base64.urlsafe_b64encode(data).decode().rstrip("=")


class ClientKeyTests(unittest.TestCase):
    def test_round_trip_keeps_code_order_and_pins(self) -> None:
        key = ClientKey("acme-1", (Server("https://a.example/dls/", sha256=PIN_A), Server("https://b.example:8443/lts/")))
        self.assertEqual(ClientKey.parse(key.text), key)
        self.assertEqual(ClientKey.parse("  " + key.text + "\n"), key)

    def test_the_swift_tool_and_this_package_write_the_same_key(self) -> None:
        servers = "https://127.0.0.1:48080/dls/,https://b.example/lts/"
        pins = ":".join(f"{byte:02X}" for byte in PIN_A) + "," + PIN_B.hex()
        made = subprocess.run([lts_binary(), "client", "key", "acme-1", "--servers", servers, "--fingerprint", pins],
                              check=True, capture_output=True, text=True).stdout.strip()
        key = ClientKey.parse(made)
        self.assertEqual(key, ClientKey("acme-1", (Server("https://127.0.0.1:48080/dls/", sha256=PIN_A),
                                                   Server("https://b.example/lts/", sha256=PIN_B))))
        self.assertEqual(key.text, made)

    def test_fingerprints_may_have_colons_and_capitals(self) -> None:
        pin = ":".join(f"{byte:02X}" for byte in PIN_A)
        key = ClientKey.parse(key_of({"code": "c", "servers": [{"url": "https://a/", "sha256": pin}]}))
        self.assertEqual(key.servers[0].sha256, PIN_A)

    def test_malformed_keys_are_refused(self) -> None:
        good_server = {"url": "https://a.example/dls/"}
        malformed = {
            "another prefix": "lts2." + key_of({"code": "c", "servers": [good_server]})[5:],
            "a character outside base64url": key_of({"code": "c", "servers": [good_server]}) + "=",
            "base64 that does not decode": "lts1.A",
            "no JSON": "lts1." + base64.urlsafe_b64encode(b"not json").decode().rstrip("="),
            "a JSON array": key_of([1, 2]),
            "an unknown key": key_of({"code": "c", "servers": [good_server], "extra": 1}),
            "no code": key_of({"servers": [good_server]}),
            "an empty code": key_of({"code": "", "servers": [good_server]}),
            "a code that is no string": key_of({"code": 7, "servers": [good_server]}),
            "no server": key_of({"code": "c", "servers": []}),
            "three servers": key_of({"code": "c", "servers": [{"url": f"https://{n}/"} for n in "abc"]}),
            "a server that is no object": key_of({"code": "c", "servers": ["https://a/"]}),
            "a server without url": key_of({"code": "c", "servers": [{"sha256": PIN_A.hex()}]}),
            "an ftp url": key_of({"code": "c", "servers": [{"url": "ftp://a/"}]}),
            "an unknown server key": key_of({"code": "c", "servers": [{"url": "https://a/", "ca": "x"}]}),
            "a short fingerprint": key_of({"code": "c", "servers": [{"url": "https://a/", "sha256": PIN_A.hex()[:62]}]}),
            "a fingerprint with a non-hex digit": key_of({"code": "c", "servers": [{"url": "https://a/", "sha256": "g" + PIN_A.hex()[1:]}]}),
            "a fingerprint that is no string": key_of({"code": "c", "servers": [{"url": "https://a/", "sha256": 5}]}),
            "a fingerprint on a plain HTTP url": key_of({"code": "c", "servers": [{"url": "http://a/", "sha256": PIN_A.hex()}]}),
            "a server named twice": key_of({"code": "c", "servers": [good_server, good_server]}),
            "a key that is too long": key_of({"code": "c" * TEXT_BYTES_MAX, "servers": [good_server]}),
        }
        for why, text in malformed.items():
            with self.subTest(why), self.assertRaises(MalformedKey):
                ClientKey.parse(text)


if __name__ == "__main__":
    unittest.main()
