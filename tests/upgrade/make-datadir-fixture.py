#!/usr/bin/env python3
"""Writes an upgrade fixture: the data dir an lts binary leaves after a short,
fixed workload, and what that binary's admin API answered about it.

    tests/upgrade/make-datadir-fixture.py --lts OLD/lts --out Tests/Fixtures/datadir-NAME [--checkpoint-records N]

The workload: set the admin password, import a license of three items (scan,
device, concurrentInstance), add a handshake code with validation fields,
make grants with request IDs on each item, stop the node (SIGTERM, so its
store is one file). With --checkpoint-records (lts versions with
checkpoints, store schema 3 on) the state is checkpointed in that version's
snapshot format and the log after it is replayed on open.

The fixture keeps lts.sqlite (and the -wal file early versions leave
beside it), node.uuid and log-mark when there is one (no keys, no
certificates: the new binary makes its own) and expected.json: the grants,
items and handshake codes as that binary listed them. Stdlib only."""
import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

PASSWORD = "upgrade fixture password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lts", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--checkpoint-records", type=int)
    args = parser.parse_args()
    lts = os.path.abspath(args.lts)
    work = tempfile.mkdtemp(prefix="lts-fixture-")
    subprocess.run([lts, "license", "keygen", "--out", work + "/vendor"], check=True, capture_output=True)
    port = free_port()
    config = {"serverMode": "standalone", "listen": f"127.0.0.1:{port}", "dataDir": "data",
              "trustedIssuers": ["vendor/issuer.pub"]}
    if args.checkpoint_records:
        config["logCheckpointRecords"] = args.checkpoint_records
        config["logRetainedRecords"] = 1
    with open(work + "/lts.json", "w") as f:
        json.dump(config, f)
    log = open(work + "/node.log", "w")
    node = subprocess.Popen([lts, "serve", "--config", work + "/lts.json"], cwd=work, stdout=log, stderr=log)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    base = f"https://127.0.0.1:{port}/dls"
    token = None

    def call(method, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(base + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    try:
        for _ in range(300):
            try:
                if call("GET", "/api/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("the node did not start; see " + work + "/node.log")
        assert call("POST", "/api/admin/password", {"password": PASSWORD})[0] == 201
        token = call("POST", "/api/admin/login", {"password": PASSWORD})[1]["token"]
        items = ["itemId=scan-1,product=dbr,chargeWay=scan,quantity=1000,expires=2099-12-31",
                 "itemId=device-1,product=dcv,chargeWay=device,quantity=50,window=year,expires=2099-12-31",
                 "itemId=lease-1,product=mrz,chargeWay=concurrentInstance,quantity=10,expires=2099-12-31"]
        issue = [lts, "license", "issue", "--key", work + "/vendor/issuer.key", "--org", "acme", "--bound-to", "*",
                 "--out", work + "/license.json"]
        for item in items:
            issue += ["--item", item]
        subprocess.run(issue, check=True, capture_output=True)
        with open(work + "/license.json", "rb") as f:
            status, imported = call("POST", "/api/admin/licenses", raw=f.read())
        assert status == 201, imported
        code = imported["handshakeCode"]
        status, answer = call("POST", "/api/admin/handshakes", {"code": "acme-web", "items": ["scan-1", "device-1"],
                                                              "validation": {"domains": ["example.com"], "appIds": [], "processes": []}})
        assert status in (200, 201), answer
        for index in range(12):
            product = ["dbr", "dcv", "mrz"][index % 3]
            status, answer = call("POST", "/api/v1/authorize", {"handshakeCode": code, "clientUUID": f"client-{index}",
                                                               "product": product, "requestId": f"request-{index}"})
            assert status == 200, answer
        status, answer = call("POST", "/api/v1/authorize", {"handshakeCode": "acme-web", "clientUUID": "web-client",
                                                           "product": "dbr", "requestId": "request-web", "domain": "example.com",
                                                           "scans": 3})
        assert status == 200, answer
        expected = {"grants": call("GET", "/api/admin/grants?since=0&limit=1000")[1],
                    "items": call("GET", "/api/admin/items")[1],
                    "handshakes": call("GET", "/api/admin/handshakes")[1],
                    "password": PASSWORD}
        # The node marks its durable log about once a second (log-mark).
        time.sleep(1.5)
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(timeout=30)
    data = work + "/data"
    os.makedirs(args.out, exist_ok=True)
    # Early versions leave SQLite's WAL file beside the store when they stop: it is part of the data dir.
    for name in ["lts.sqlite", "lts.sqlite-wal", "node.uuid", "log-mark"]:
        if os.path.exists(data + "/" + name):
            shutil.copyfile(data + "/" + name, args.out + "/" + name)
    with open(args.out + "/expected.json", "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    shutil.rmtree(work)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
