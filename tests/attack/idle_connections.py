"""TCP connections that send nothing, from 127.0.0.FIRST onwards (SOURCES
addresses in turn), held HOLD seconds; then counts those the node closed.
With --probe, a TLS connection from 127.0.0.1 is opened before them and
sends its first request (GET /dls/api/health) after HOLD: the node must not
have closed a client's connection to make room for the flood.

Usage: idle_connections.py PORT COUNT FIRST SOURCES HOLD [--probe]
"""
import json
import resource
import socket
import ssl
import sys
import time

port, count, first, sources, hold = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
probe = None
if "--probe" in sys.argv[6:]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    probe = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
refused = 0
for index in range(count):
    sock = socket.socket()
    try:
        sock.bind((f"127.0.0.{first + index % sources}", 0))
        sock.connect(("127.0.0.1", port))
        held.append(sock)
    except OSError:
        refused += 1
        sock.close()
print(json.dumps({"event": "opened", "open": len(held)}), flush=True)
time.sleep(hold)
probe_answer = None
if probe is not None:
    try:
        probe.sendall(b"GET /dls/api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        probe_answer = probe.recv(12).decode("latin-1")
    except OSError as error:
        probe_answer = f"failed: {error}"
    probe.close()
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
print(json.dumps({"event": "done", "opened": len(held), "refused": refused, "closedByNode": closed, "probe": probe_answer}), flush=True)
