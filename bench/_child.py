import time

T0 = time.perf_counter()  # first statement: everything below is inside the measurement

"""One fresh-interpreter measurement for ``cold_start.py`` (do not import).

Usage: ``python _child.py SCENARIO PROBES_JSON`` with ``benchapp`` importable
(``PYTHONPATH`` = the generated app's directory).  Prints one JSON object on
the last line of stdout.  Times are seconds from ``T0``, taken before any
import; ``*_abs`` values are raw ``time.perf_counter()`` readings so that the
parent can relate them to its own clock (both are CLOCK_MONOTONIC on Linux).

Scenarios:

``first_response``  import ``benchapp.main:app``, send the first probe (a GET)
                    as a raw ASGI call; also reports the CPU time and peak
                    RSS of the process after it.
``mangum``          import the app, wrap it in ``Mangum(app, lifespan="off")``
                    and invoke the handler with an API Gateway HTTP API (v2)
                    event for the same GET.
``openapi``         import the app, GET ``/openapi.json`` twice, timing each.
``probes``          import the app, send every probe and compare status and
                    JSON body with the expected ones.
``check``           the same, then fetch ``/openapi.json`` and count its
                    operations.

This file deliberately has no ``from __future__ import annotations`` (it
would have to come before ``T0``) and imports nothing it does not need
before the app is imported.
"""

import json  # noqa: E402
import sys  # noqa: E402

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def _headers(pairs):
    """ASGI header list from ``[(name, value), ...]`` strings."""
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


async def asgi_call(app, method, path, query="", headers=(), body=b""):
    """Send one HTTP request straight to ``app``; return (status, headers, body)."""
    import asyncio

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("ascii"),
        "query_string": query.encode("ascii"),
        "root_path": "",
        "headers": [(b"host", b"bench.local"), *_headers(headers)]
        + ([(b"content-length", str(len(body)).encode())] if body else []),
        "client": ("127.0.0.1", 50000),
        "server": ("bench.local", 80),
    }
    done = asyncio.Event()
    request_sent = False
    start = {}
    chunks = []

    async def receive():
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    return start.get("status"), start.get("headers", []), b"".join(chunks)


def request(app, probe):
    """Run ``probe`` (a ProbeRequest dict) through ``app`` with asyncio."""
    import asyncio

    body = b"" if probe.get("body") is None else json.dumps(probe["body"]).encode()
    return asyncio.run(
        asgi_call(
            app,
            probe["method"],
            probe["path"],
            probe.get("query", ""),
            probe.get("headers", ()),
            body,
        )
    )


def compare(probe, status, raw):
    """Return ``None`` if the answer matches ``probe``, else a short reason."""
    if status != probe["status"]:
        return f"status {status} != {probe['status']}: {raw[:200]!r}"
    try:
        got = json.loads(raw)
    except ValueError:
        return f"body is not JSON: {raw[:200]!r}"
    if got != probe["response"]:
        want = probe["response"]
        if isinstance(got, dict) and isinstance(want, dict):
            keys = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
            return f"body differs at keys {keys[:8]}"
        return f"body differs: {raw[:200]!r}"
    return None


def peak_rss_mib():
    """Peak resident set size of this process so far, in MiB."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def cpu_seconds():
    """User + system CPU time of this process so far (interpreter start-up included)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def count_operations(schema):
    """Number of path operations in an OpenAPI document."""
    return sum(1 for item in schema.get("paths", {}).values() for m in item if m in HTTP_METHODS)


def api_gateway_v2_event(probe):
    """A realistic API Gateway HTTP API (payload v2.0) event for ``probe``."""
    headers = {
        "accept": "application/json",
        "accept-encoding": "gzip, deflate, br",
        "content-length": "0",
        "host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
        "user-agent": "bench/1.0",
        "x-amzn-trace-id": "Root=1-65a4f0b3-0123456789abcdef01234567",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    headers.update({k.lower(): v for k, v in probe.get("headers", ())})
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": probe["path"],
        "rawQueryString": probe.get("query", ""),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {
                "method": probe["method"],
                "path": probe["path"],
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "bench/1.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "15/Jan/2024:09:30:00 +0000",
            "timeEpoch": 1705311000000,
        },
        "isBase64Encoded": False,
    }


class LambdaContext:
    """The attributes of an AWS Lambda context object that adapters read."""

    function_name = "benchapp"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:benchapp"
    memory_limit_in_mb = 1024
    aws_request_id = "6f1d6a3c-1111-2222-3333-444455556666"
    log_group_name = "/aws/lambda/benchapp"
    log_stream_name = "2024/01/15/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self):
        return 30_000


def run(scenario, probes):
    """Run ``scenario`` and return its JSON-able result."""
    probe = probes[0]
    t_import_start = time.perf_counter()
    from benchapp.main import app

    t_imported = time.perf_counter()
    out = {
        "scenario": scenario,
        "t0_abs": T0,
        "import_s": t_imported - T0,
        "app_import_s": t_imported - t_import_start,
    }
    if scenario == "first_response":
        status, _, raw = request(app, probe)
        t_done = time.perf_counter()
        out.update(
            first_response_s=t_done - T0,
            first_request_s=t_done - t_imported,
            done_abs=t_done,
            cpu_s=cpu_seconds(),
            rss_mib=peak_rss_mib(),
            error=compare(probe, status, raw),
        )
    elif scenario == "mangum":
        from mangum import Mangum

        handler = Mangum(app, lifespan="off")
        result = handler(api_gateway_v2_event(probe), LambdaContext())
        t_done = time.perf_counter()
        raw = result.get("body", "").encode()
        out.update(
            mangum_s=t_done - T0,
            done_abs=t_done,
            rss_mib=peak_rss_mib(),
            error=compare(probe, result.get("statusCode"), raw),
        )
    elif scenario == "openapi":
        get_openapi = {"method": "GET", "path": "/openapi.json", "headers": ()}
        t_start = time.perf_counter()
        status, _, raw = request(app, get_openapi)
        t_first = time.perf_counter()
        status2, _, raw2 = request(app, get_openapi)
        t_second = time.perf_counter()
        out.update(
            openapi_cold_s=t_first - T0,
            openapi_first_s=t_first - t_start,
            openapi_second_s=t_second - t_first,
            done_abs=t_first,
            rss_mib=peak_rss_mib(),
            status=status,
            operations=count_operations(json.loads(raw)) if status == 200 else None,
            error=None if status == status2 == 200 else f"status {status}/{status2}",
        )
    elif scenario in ("probes", "check"):
        results = []
        for p in probes:
            status, _, raw = request(app, p)
            results.append({"name": p["name"], "status": status, "error": compare(p, status, raw)})
        out["probes"] = results
        if scenario == "check":
            status, _, raw = request(app, {"method": "GET", "path": "/openapi.json"})
            ops = count_operations(json.loads(raw)) if status == 200 else None
            out.update(openapi_status=status, operations=ops)
        errors = [f"{r['name']}: {r['error']}" for r in results if r["error"]]
        out["error"] = "; ".join(errors) or None
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    return out


def main():
    scenario, probes_json = sys.argv[1], sys.argv[2]
    result = run(scenario, json.loads(probes_json))
    sys.stdout.write("\n" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
