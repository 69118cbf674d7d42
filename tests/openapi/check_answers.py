#!/usr/bin/env python3
"""Validates every answer the HTTP suite recorded against docs/openapi.json.

The suite's client (tests/support/answer_log.h) writes one JSON line per answer into
DIR/<pid>.jsonl: method, target, status, headers, body. Each answer must be one the document
describes for its operation: a documented status, a documented content type, the documented
headers, and a body that validates against the schema (a `oneOf` matching exactly one branch),
checked by openapi-core. Requests outside the document get the answers its description gives
them: an unknown path `404 not_found`, a known path with another method `405 method_not_allowed`
with `Allow`; a request that is not valid HTTP/1.1 `400 bad_request`, headers over the limit
`431 request_header_fields_too_large` and a connection past the limit `503 overloaded`, on any
path, with a `ProtocolError` body and the connection closed (bytes that were no request at all
get the 400).

Usage: check_answers.py OPENAPI_JSON DIR [--min-answers N]
Exit status 1 when any answer does not match, or when fewer than N answers were recorded.
"""
import argparse
import collections
import json
import multiprocessing
import os
import pathlib
import sys
import urllib.parse

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_schema_validator import OAS30Validator


def header(record, name):
    for k, v in record["headers"]:
        if k.lower() == name.lower():
            return v
    return None


def error_body_problem(record, validator, code):
    """None if the answer carries an error body of `validator`'s schema with `code`, else what is wrong."""
    ctype = (header(record, "Content-Type") or "").split(";")[0].strip()
    if ctype != "application/json":
        return f"error answer with Content-Type {ctype!r}, not application/json"
    try:
        body = json.loads(record["body"])
    except ValueError as e:
        return f"error body is not JSON: {e}"
    errors = sorted(validator.iter_errors(body), key=str)
    if errors:
        return f"error body does not match its schema: {errors[0].message}"
    if body.get("error") != code:
        return f"error code {body.get('error')!r}, not {code!r}"
    return None


# The HTTP layer's answers below every operation (the document's description and ProtocolError).
PROTOCOL_ERRORS = {400: "bad_request", 431: "request_header_fields_too_large", 503: "overloaded"}


class Checker:
    def __init__(self, spec):
        self.api = OpenAPI.from_dict(spec)
        self.server = spec["servers"][0]["url"]
        self.templates = list(spec["paths"].keys())
        schemas = spec["components"]["schemas"]
        self.error_validator = OAS30Validator(schemas["Error"])
        # ProtocolError refers to Error; resolved here by hand, since it is the only reference. A
        # document without it admits no answer from below the operations.
        protocol = json.loads(json.dumps(schemas.get("ProtocolError", {"not": {}})).replace(
            '{"$ref": "#/components/schemas/Error"}', json.dumps(schemas["Error"])))
        self.protocol_validator = OAS30Validator(protocol)

    def protocol_error(self, record):
        """True if the answer is the HTTP layer's own (ProtocolError), valid on any path."""
        code = PROTOCOL_ERRORS.get(record["status"])
        closes = (header(record, "Connection") or "").lower() == "close"
        return code is not None and closes and error_body_problem(record, self.protocol_validator, code) is None

    def problem(self, record):
        """None if the answer is what the document says (for its operation, or in its description
        for requests outside the operations), else why not."""
        status = record["status"]
        if self.protocol_error(record):
            return None
        if not record["method"]:
            return f"{status} to bytes that were no request (400 bad_request, a ProtocolError, was expected)"
        url = urllib.parse.urlsplit(record["target"])
        request = MockRequest(
            self.server,
            record["method"].lower(),
            url.path,
            args=dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
        )
        ctype = header(record, "Content-Type")
        response = MockResponse(
            record["body"].encode(),
            status_code=status,
            headers={k: v for k, v in record["headers"]},
            content_type=ctype or "",
        )
        try:
            self.api.validate_response(request, response)
            return None
        except PathNotFound:
            if status != 404:
                return f"{status} for a path the document does not have (404 was expected)"
            return error_body_problem(record, self.error_validator, "not_found")
        except OperationNotFound:
            if record["method"] == "HEAD" and status in (200, 404, 405):
                return None  # HEAD is GET without its body; the document lists GETs only
            if status != 405 or header(record, "Allow") is None:
                return f"{status} for a method the document does not have (405 with Allow was expected)"
            return error_body_problem(record, self.error_validator, "method_not_allowed")
        except Exception as e:  # openapi-core's validation errors: the answer is not documented
            return describe(e)

    def operation(self, record):
        """The operation's path template, for the summary."""
        path = urllib.parse.urlsplit(record["target"]).path
        for t in self.templates:
            parts, want = path.split("/"), t.split("/")
            if len(parts) == len(want) and all(w.startswith("{") or w == p for p, w in zip(parts, want)):
                return t
        if not record["method"]:
            return "(no request)"
        return path if len(path) <= 60 else path[:60] + "..."


def describe(e):
    """openapi-core's verdict without the answer's values (so that answers failing for one reason
    group together): the exception's kind and, for a body or header that does not match, where
    and why, from the schema errors it carries."""
    reasons = []
    seen = set()
    queue = [e]
    while queue:
        x = queue.pop(0)
        if id(x) in seen:
            continue
        seen.add(id(x))
        for attr in ("schema_errors", "errors"):
            for sub in getattr(x, attr, None) or []:
                if getattr(sub, "message", None) and getattr(sub, "validator", None):
                    path = "/".join(str(p) for p in getattr(sub, "absolute_path", []))
                    message = sub.message.replace(repr(sub.instance), "the value")
                    reasons.append(f"at /{path}: {message} ({sub.validator})")
                queue.append(sub)
        if x.__cause__ is not None:
            queue.append(x.__cause__)
    if not reasons:
        return f"{type(e).__name__}: {e}"
    return f"{type(e).__name__}:\n      " + "\n      ".join(sorted(set(reasons)))


def undocumented_retry_after(spec):
    """The operations whose 503 the document describes without a required Retry-After: every 503
    the service gives carries one (DESIGN.md, issue 12), so the document must say so everywhere."""
    responses = spec["components"].get("responses", {})
    missing = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            answer = op.get("responses", {}).get("503") if isinstance(op, dict) else None
            if answer is None:
                continue
            if "$ref" in answer:
                answer = responses[answer["$ref"].rsplit("/", 1)[-1]]
            if not answer.get("headers", {}).get("Retry-After", {}).get("required"):
                missing.append(f"{method.upper()} {path}")
    return missing


WORKER_CHECKER = None


def start_worker(spec):
    global WORKER_CHECKER
    WORKER_CHECKER = Checker(spec)


def worker_problem(record):
    return WORKER_CHECKER.problem(record)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("openapi")
    parser.add_argument("dir")
    parser.add_argument("--min-answers", type=int, default=1)
    args = parser.parse_args()

    spec = json.loads(pathlib.Path(args.openapi).read_text())
    if missing := undocumented_retry_after(spec):
        print(f"FAIL: {args.openapi} documents a 503 without a required Retry-After: {', '.join(missing)}")
        return 1
    checker = Checker(spec)
    records = []
    unique = {}  # an answer repeated byte for byte (health checks, say) is validated once
    for file in sorted(pathlib.Path(args.dir).glob("*.jsonl")):
        for line in file.read_text().splitlines():
            record = json.loads(line)
            same = json.dumps([record[k] for k in ("method", "target", "status", "headers", "body")])
            unique.setdefault(same, record)
            records.append((record, same))
    # openapi-core takes ~6 ms an answer, and the Kafka profile records some 4,000 distinct ones
    # at the end of its tier, when one core is idle: the answers are checked on every core.
    with multiprocessing.Pool(os.cpu_count(), initializer=start_worker, initargs=(spec,)) as pool:
        verdicts = dict(zip(unique, pool.map(worker_problem, unique.values(), chunksize=64)))
    seen = collections.Counter()
    failures = collections.defaultdict(list)  # (operation, status, problem) -> records
    total = len(records)
    for record, same in records:
        key = (record["method"], checker.operation(record), record["status"])
        seen[key] += 1
        if verdicts[same]:
            failures[(key, verdicts[same])].append(record)

    print(f"{total} answers recorded in {args.dir}")
    for (method, op, status), n in sorted(seen.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        print(f"  {method or '-':7} {op:45} {status}  x{n}")
    if total < args.min_answers:
        print(f"FAIL: {total} answers recorded, fewer than {args.min_answers} (did the HTTP suite run, with"
              " support/answer_log.h recording?)")
        return 1
    if not failures:
        print(f"all {total} answers match {args.openapi}")
        return 0
    bad = sum(len(v) for v in failures.values())
    print(f"FAIL: {bad} of {total} answers do not match {args.openapi}:")
    for ((method, op, status), why), records in sorted(failures.items(), key=lambda kv: str(kv[0])):
        r = records[0]
        body = r["body"] if len(r["body"]) <= 600 else r["body"][:600] + "..."
        print(f"- {method} {op} -> {status} (x{len(records)}): {why}")
        target = r["target"] if len(r["target"]) <= 200 else r["target"][:200] + "..."
        print(f"    e.g. {r['method']} {target}\n    headers {r['headers']}\n    body {body}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
