"""TCP connections that send nothing, from 127.0.0.FIRST onwards (SOURCES
addresses in turn), held HOLD seconds; then counts those the node closed.
With --probe, a TLS connection from 127.0.0.1 is opened before them and
sends its first request (GET /dls/api/health) after HOLD: the node must not
have closed a client's connection to make room for the flood. With
--burst-of PID, the node is paused (SIGSTOP) while the flood and one more
client connection from 127.0.0.1 queue up, then resumed: it meets them all
in one pass of its loop. That client's TLS handshake and request follow
after HOLD ("late" in the result).

Usage: idle_connections.py PORT COUNT FIRST SOURCES HOLD [--probe] [--burst-of PID]
"""
import json
import os
import resource
import signal
import socket
import ssl
import sys
import time


def tls_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def ask_health(connect):
    """The status line of GET /dls/api/health on the connection `connect`
    makes, or why there is none."""
    try:
        sock = connect()
        try:
            sock.sendall(b"GET /dls/api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return sock.recv(12).decode("latin-1")
        finally:
            sock.close()
    except OSError as error:
        return f"failed: {error}"


port, count, first, sources, hold = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
options = sys.argv[6:]
probe = None
if "--probe" in options:
    probe = tls_context().wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
paused = int(options[options.index("--burst-of") + 1]) if "--burst-of" in options else None
if paused is not None:
    os.kill(paused, signal.SIGSTOP)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
refused = 0
late = None
try:
    for index in range(count):
        sock = socket.socket()
        try:
            sock.bind((f"127.0.0.{first + index % sources}", 0))
            sock.connect(("127.0.0.1", port))
            held.append(sock)
        except OSError:
            refused += 1
            sock.close()
    if paused is not None:
        late = socket.create_connection(("127.0.0.1", port), timeout=10)
finally:
    if paused is not None:
        os.kill(paused, signal.SIGCONT)
print(json.dumps({"event": "opened", "open": len(held)}), flush=True)
time.sleep(hold)
probe_answer = None if probe is None else ask_health(lambda: probe)
late_answer = None if late is None else ask_health(lambda: tls_context().wrap_socket(late))
closed = 0
for sock in held:
    sock.setblocking(False)
    try:
        if sock.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
    sock.close()
print(json.dumps({"event": "done", "opened": len(held), "refused": refused, "closedByNode": closed, "probe": probe_answer,
                  "late": late_answer}), flush=True)
