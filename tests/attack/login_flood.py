"""Wrong admin logins from ADDRESSES source addresses (127.0.0.2 onwards),
one thread and one keep-alive TLS connection each, as fast as the node
answers, for SECONDS; prints how the node answered.

Usage: login_flood.py PORT ADDRESSES SECONDS
"""
import collections
import http.client
import json
import ssl
import sys
import threading
import time

port, addresses, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
deadline = time.monotonic() + seconds
counts = collections.Counter()
lock = threading.Lock()


def flood(address):
    connection = None
    attempt = 0
    while time.monotonic() < deadline:
        attempt += 1
        try:
            if connection is None:
                connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30,
                                                         source_address=(address, 0))
            body = json.dumps({"password": f"not the password {attempt}"})
            connection.request("POST", "/dls/api/admin/login", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            status = str(response.status)
            if response.getheader("connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException):
            status = "error"
            if connection is not None:
                connection.close()
            connection = None
        with lock:
            counts[status] += 1


threads = [threading.Thread(target=flood, args=(f"127.0.0.{2 + index}",)) for index in range(addresses)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"answers": dict(counts)}))
