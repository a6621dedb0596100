"""TLS uploads cut off mid-body with a TCP reset (SO_LINGER 0).

Usage: aborted_uploads.py PORT COUNT CONTENT_LENGTH SENT_BYTES PATH
"""
import json
import socket
import ssl
import struct
import sys

port, count, length, sent, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
head = f"POST {path} HTTP/1.1\r\nHost: lts\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode()
body = b"a" * sent
failed = 0
for _ in range(count):
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        stream = context.wrap_socket(raw)
        stream.sendall(head + body)
        stream.close()
    except OSError:
        failed += 1
print(json.dumps({"uploads": count, "failed": failed}))
