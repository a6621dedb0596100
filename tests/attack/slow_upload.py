"""One TLS upload that declares CONTENT_LENGTH and sends 4 KiB a tick
(100 ms) until the node closes the connection or WAIT seconds pass.

Usage: slow_upload.py PORT CONTENT_LENGTH PATH WAIT
"""
import json
import socket
import ssl
import sys
import time

port, length, path, wait = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
stream = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
stream.sendall(f"POST {path} HTTP/1.1\r\nHost: lts\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode())
started = time.monotonic()
sent = 0
closed = False
answer = b""
while time.monotonic() - started < wait and sent < length:
    try:
        chunk = min(4096, length - sent)
        stream.sendall(b"a" * chunk)
        sent += chunk
        stream.settimeout(0.1)
        try:
            data = stream.recv(4096)
            if data == b"":
                closed = True
                break
            answer += data
        except socket.timeout:
            pass
    except OSError:
        closed = True
        break
print(json.dumps({"sent": sent, "closedByNode": closed, "seconds": round(time.monotonic() - started, 3),
                  "answer": answer[:12].decode("latin-1")}))
