"""Local stand-ins for servers: a self-signed certificate made with the
openssl tool, and TLS servers that answer as a script says and record what
they were sent."""

import hashlib
import json
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, in a temporary directory."""

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="lts-python-cert-")
        folder = Path(self._directory.name)
        self.cert_file = str(folder / "cert.pem")
        self.key_file = str(folder / "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", self.key_file, "-out", self.cert_file],
                       check=True, capture_output=True)
        der = ssl.PEM_cert_to_DER_cert(Path(self.cert_file).read_text())
        self.sha256 = hashlib.sha256(der).digest()

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def close(self) -> None:
        self._directory.cleanup()


Script = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]
"""Given a request's JSON body, the status and JSON body to answer."""


class FakeServer:
    """An HTTPS server on 127.0.0.1 that answers every POST as `script`
    says and records each request's path and JSON body, in order."""

    def __init__(self, certificate: Certificate, script: Script) -> None:
        self.script = script
        self.requests: list[tuple[str, dict[str, Any]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append((self.path, body))
                status, answer = fake.script(body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *arguments: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.socket = certificate.server_context().wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}/dls/"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class ByteCounter:
    """A TLS server that completes one handshake, then counts the bytes the
    client sends until it closes the connection."""

    def __init__(self, certificate: Certificate) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self._listener.getsockname()[1]}/dls/"
        self.handshakes = 0
        self.bytes_received = 0
        self.done = threading.Event()
        self._context = certificate.server_context()
        self._thread = threading.Thread(target=self._serve_one, daemon=True)
        self._thread.start()

    def _serve_one(self) -> None:
        connection, _ = self._listener.accept()
        with connection:
            connection.settimeout(5)
            try:
                with self._context.wrap_socket(connection, server_side=True) as tls:
                    self.handshakes += 1
                    while chunk := tls.recv(4096):
                        self.bytes_received += len(chunk)
            except (ssl.SSLError, OSError):
                pass
        self.done.set()

    def close(self) -> None:
        self._listener.close()
        self._thread.join(timeout=5)


def closed_port_url() -> str:
    """The URL of a port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"https://127.0.0.1:{port}/dls/"
