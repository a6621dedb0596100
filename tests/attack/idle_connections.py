"""TCP connections that send nothing, from 127.0.0.FIRST onwards (SOURCES
addresses in turn), held HOLD seconds; then counts those the node closed.

Usage: idle_connections.py PORT COUNT FIRST SOURCES HOLD
"""
import json
import resource
import socket
import sys
import time

port, count, first, sources, hold = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
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
print(json.dumps({"event": "done", "opened": len(held), "refused": refused, "closedByNode": closed}), flush=True)
