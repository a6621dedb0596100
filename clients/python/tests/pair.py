"""A real `lts pair` (main + standby on 127.0.0.1) for the tests, and the
admin calls they check it with."""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
START_SECONDS_MAX = 30


def lts_binary() -> str:
    """$LTS_BINARY, else the fresh build `.build/debug/lts` of this repository."""
    path = Path(os.environ.get("LTS_BINARY") or REPO_ROOT / ".build/debug/lts")
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"no lts binary at {path}: build it, or set LTS_BINARY")
    return str(path)


def free_adjacent_ports() -> int:
    """A port P such that P and P + 1 are free now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as other:
                other.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two adjacent free ports")


class Pair:
    """`lts pair` in a temporary directory: the main on `port`, the standby
    on `port + 1`, the demo license imported under the handshake code
    `demo-1`. Admin calls are made over TLS verified by each node's own
    certificate file."""

    NODES = ("main", "standby")

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="lts-python-pair-"))
        self.port = free_adjacent_ports()
        self.urls = {"main": f"https://127.0.0.1:{self.port}/dls/", "standby": f"https://127.0.0.1:{self.port + 1}/dls/"}
        self._log = open(self.directory / "pair.log", "w")
        self.process = subprocess.Popen([lts_binary(), "pair", "--dir", str(self.directory / "p"), "--port", str(self.port)],
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.wait_until(lambda: self.role("main") == "primary" and self.role("standby") == "standby"
                            and (self.directory / "p" / "admin-password").exists() and self.client_key() is not None,
                            "the pair to start with the demo license imported")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self) -> str:
        return "\n".join((self.directory / "pair.log").read_text(errors="replace").splitlines()[-30:])

    def wait_until(self, condition: Any, what: str, seconds: float = START_SECONDS_MAX) -> None:
        """Polls `condition` until it is true; fails naming `what` after `seconds`."""
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the pair's log ends:\n{self.log_tail()}")
            if self.process.poll() is not None:
                raise AssertionError(f"lts pair exited ({self.process.returncode}); its log ends:\n{self.log_tail()}")
            time.sleep(0.1)

    def cert_file(self, node: str) -> str:
        return str(self.directory / "p" / node / "data" / "tls" / "node.crt")

    def pid(self, node: str) -> int:
        return int((self.directory / "p" / node / "data" / "lts.pid").read_text().strip())

    def request(self, node: str, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        """One HTTP call to `node`; the status and decoded JSON (None when the node is unreachable)."""
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.urls[node] + path, data=data, method=method, headers=headers)
        try:
            context = ssl.create_default_context(cafile=self.cert_file(node))
            with urllib.request.urlopen(request, context=context, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")
        except OSError:  # not listening yet, or no certificate file yet
            return 0, None

    def role(self, node: str) -> str | None:
        status, health = self.request(node, "GET", "api/health")
        return health.get("role") if status == 200 else None

    def primary(self) -> str | None:
        return next((node for node in self.NODES if self.role(node) == "primary"), None)

    def admin(self, node: str, method: str, path: str) -> Any:
        """An admin call on `node`, logged in with the pair's admin password."""
        # A fresh login for each call: a node that was restarted forgot its sessions.
        password = (self.directory / "p" / "admin-password").read_text().strip()
        status, login = self.request(node, "POST", "api/admin/login", {"password": password})
        if status != 200:
            raise AssertionError(f"admin login on the {node} answered {status} {login}")
        status, answer = self.request(node, method, path, token=login["token"])
        if status != 200:
            raise AssertionError(f"{method} {path} on the {node} answered {status} {answer}")
        return answer

    def client_key(self) -> str | None:
        """The client key of `demo-1` (both servers, pinned), or None before the code exists."""
        try:
            return self.admin("main", "GET", "api/admin/handshakes/demo-1/client-key")["clientKey"]
        except AssertionError:
            return None

    def grants(self, node: str) -> list[dict[str, Any]]:
        return self.admin(node, "GET", "api/admin/grants?since=0&limit=10000")
