"""Schemathesis against a real node: every answer must match docs/openapi.yaml.

Starts `lts serve` standalone on a free port with its self-signed certificate
(which this test trusts as the CA of the run, so TLS stays verified), sets the
admin password, logs in, imports a license made with `lts license keygen` and
`lts license issue` (organization `acme`, so its handshake code is `acme-1`,
the spec's example) and takes two grants (a scan and a lease), so that lists and statistics hold
data. Then Schemathesis generates requests for every operation, with the
session's Bearer token, and checks each answer: no 5xx
(not_a_server_error), a documented status (status_code_conformance), the
documented content type (content_type_conformance) and body
(response_schema_conformance).

Excluded from the generated run, because they would end it or change what
every later request meets, and called here one by one instead, each answer
checked the same way:
- POST /api/admin/password/change would change the password and end the
  other sessions (and the run's failed logins lock changes out for a
  minute): before the run, without a session, with a short new password,
  with a wrong old one, and for real (the calling session stays);
- POST /api/admin/logout ends the session the run authenticates with:
  after the run, without a session, for real, and again with the ended one;
- POST /api/admin/cluster/switchover hands the primary role away in a pair:
  after the run (a standalone node, as here, has no such path: 404).
POST /api/admin/alerts/test runs in the generated run: tests/openapi/hooks.py
points every mail server the fuzzer saves at a local port nobody listens
on, so no fuzzed host is contacted and a test email fails at once (502).

Usage: python live_test.py LTS_BINARY SPEC   (LTS_OPENAPI_EXAMPLES: the
most examples per operation, default 150; LTS_OPENAPI_SEED, default 1)
"""

import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

PASSWORD = "openapi test password 42"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
EXCLUDED = ["logout", "changePassword", "switchover"]
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(context, base, method, path, body=None, token=None):
    """(status, JSON answer) of one request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": "application/json"})
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for_node(node, certificate, base):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if node.poll() is not None:
            sys.exit(f"lts serve exited with {node.returncode}")
        if os.path.exists(certificate):
            try:
                context = ssl.create_default_context(cafile=certificate)
                return context, call(context, base, "GET", "/api/health")[1]
            except (OSError, ssl.SSLError):
                pass
        time.sleep(0.2)
    sys.exit("the node did not answer within 30 s")


def prepare(lts, work, context, base):
    """Password, session, a license and one grant; returns the token."""
    status, _ = call(context, base, "POST", "/api/admin/password", {"password": PASSWORD})
    assert status == 201, status
    status, session = call(context, base, "POST", "/api/admin/login", {"password": PASSWORD})
    assert status == 200, status
    token = session["token"]
    subprocess.run([lts, "license", "issue", "--key", f"{work}/vendor/issuer.key", "--org", "acme", "--bound-to", "*",
                    "--item", "product=dbr,chargeWay=scan,quantity=1000000,expires=2099-12-31",
                    "--item", "product=dwt,chargeWay=device,window=month,quantity=1000,expires=2099-12-31",
                    "--item", "product=dcv,chargeWay=concurrentInstance,quantity=100,expires=2099-12-31",
                    "--out", f"{work}/acme.json"], check=True, stdout=subprocess.DEVNULL)
    with open(f"{work}/acme.json") as file:
        status, imported = call(context, base, "POST", "/api/admin/licenses", json.load(file), token)
    assert status == 201, (status, imported)
    assert imported["handshakeCode"] == "acme-1", imported
    for product in ["dbr", "dcv"]:
        status, grant = call(context, base, "POST", "/api/v1/authorize",
                             {"handshakeCode": "acme-1", "clientUUID": "openapi-test", "product": product}, token)
        assert status == 200, (status, grant)
    return token


def check_excluded(spec, base, certificate, token, when):
    """The excluded operations, each with answers it can give: the password change
    `before` the generated run (whose failed logins lock changes out for a
    minute; the change keeps the calling session), switchover and logout `after`."""
    schema = schemathesis.openapi.from_path(spec)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    bearer = {"authorization": "Bearer " + token}

    def run(path, method, headers, body=None):
        operation = schema[path][method]
        case = operation.Case(headers=headers, body=body) if body is not None else operation.Case(headers=headers)
        response = case.call(base_url=base, verify=certificate)
        case.validate_response(response, checks=checks)
        return response.status_code

    cases = {
        "before": [
            ("/api/admin/password/change", "POST", {}, {"old": PASSWORD, "new": "x" * 10}, 401),
            ("/api/admin/password/change", "POST", bearer, {"old": PASSWORD, "new": "short"}, 400),
            ("/api/admin/password/change", "POST", bearer, {"old": "not the password", "new": "y" * 12}, 401),
            ("/api/admin/password/change", "POST", bearer, {"old": PASSWORD, "new": PASSWORD + " 2"}, 200),
        ],
        "after": [
            ("/api/admin/cluster/switchover", "POST", bearer, None, 404),
            ("/api/admin/logout", "POST", {}, None, 401),
            ("/api/admin/logout", "POST", bearer, None, 200),
            ("/api/admin/logout", "POST", bearer, None, 401),
        ],
    }[when]
    for path, method, headers, body, expected in cases:
        status = run(path, method, headers, body)
        assert status == expected, f"{method} {path}: {status}, expected {expected}"
    print(f"excluded operations, {when} the run: {len(cases)} calls conform")


def main():
    lts, spec = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    examples = os.environ.get("LTS_OPENAPI_EXAMPLES", "150")
    with tempfile.TemporaryDirectory(prefix="lts-openapi-") as work:
        port = free_port()
        base = f"https://127.0.0.1:{port}/dls"
        subprocess.run([lts, "license", "keygen", "--out", f"{work}/vendor"], check=True, stdout=subprocess.DEVNULL)
        with open(f"{work}/lts.json", "w") as file:
            json.dump({"serverMode": "standalone", "listen": f"127.0.0.1:{port}", "dataDir": "data",
                       "trustedIssuers": ["vendor/issuer.pub"]}, file)
        certificate = f"{work}/data/tls/node.crt"
        with open(f"{work}/node.log", "w") as log:
            node = subprocess.Popen([lts, "serve", "--config", f"{work}/lts.json"], stdout=log, stderr=subprocess.STDOUT)
        try:
            context, health = wait_for_node(node, certificate, base)
            assert health["role"] == "standalone", health
            token = prepare(lts, work, context, base)
            environment = dict(os.environ, SCHEMATHESIS_HOOKS="hooks", PYTHONPATH=HERE, PYTHONDONTWRITEBYTECODE="1", LTS_DEAD_SMTP_PORT=str(free_port()))
            command = [os.path.join(os.path.dirname(sys.executable), "st"), "run", spec, "--url", base,
                       "--tls-verify", certificate, "--header", f"Authorization: Bearer {token}", "--checks", CHECKS,
                       # One worker: with two, Hypothesis's ast.parse of its filters raced in CPython 3.11
                       # ("SystemError: AST constructor recursion depth mismatch"), an error of the tool's own.
                       "--max-examples", examples, "--phases", "examples,coverage,fuzzing", "--workers", "1",
                       "--request-timeout", "20", "--seed", os.environ.get("LTS_OPENAPI_SEED", "1"),
                       "--suppress-health-check", "all", "--output-truncate", "false"]
            for operation in EXCLUDED:
                command += ["--exclude-operation-id", operation]
            check_excluded(spec, base, certificate, token, "before")
            started = time.monotonic()
            result = subprocess.run(command, env=environment, cwd=work)
            print(f"schemathesis: {time.monotonic() - started:.0f} s, exit {result.returncode}")
            if node.poll() is None:
                check_excluded(spec, base, certificate, token, "after")
            if result.returncode != 0 or node.poll() is not None:
                with open(f"{work}/node.log") as file:
                    sys.stdout.write("node log (last 40 lines):\n" + "".join(file.readlines()[-40:]))
                sys.exit("the node died during the run" if node.poll() is not None else "Schemathesis found failures")
        finally:
            node.terminate()
            node.wait(timeout=15)


if __name__ == "__main__":
    main()
