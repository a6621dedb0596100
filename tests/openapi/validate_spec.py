"""docs/openapi.yaml is a valid OpenAPI 3.1 document and describes exactly the
node's routes.

The routes are read from the node's sources (every `("METHOD", "/path"`
route table entry in Sources/ClusterNode); the portal's static files and the
replication stream upgrade are described in the spec's text, not as
operations, and the client routes' CORS preflights (OPTIONS) are made from
the client routes in Node.swift.

Usage: python validate_spec.py SPEC SOURCES_DIR
"""

import pathlib
import re
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

NOT_OPERATIONS = {("GET", "/page"), ("GET", "/page/*"), ("GET", "/cluster/stream")}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch"}


def main():
    spec_path, sources = sys.argv[1], pathlib.Path(sys.argv[2])
    spec, _ = read_from_filename(spec_path)
    validate(spec)
    documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item if method in METHODS}
    served = set()
    for source in sources.rglob("*.swift"):
        served |= set(re.findall(r'\("(GET|POST|PUT|DELETE)", "(/[^"]*)"', source.read_text()))
    served -= NOT_OPERATIONS
    served |= {("OPTIONS", path) for method, path in served if path.startswith("/api/v1/")}
    problems = [f"served but not in the spec: {method} {path}" for method, path in sorted(served - documented)]
    problems += [f"in the spec but not served: {method} {path}" for method, path in sorted(documented - served)]
    if problems:
        sys.exit("\n".join(problems))
    print(f"{spec_path}: valid OpenAPI {spec['openapi']}, {len(documented)} operations, the node's routes exactly")


if __name__ == "__main__":
    main()
