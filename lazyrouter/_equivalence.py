"""Proving that two versions of an app answer alike (`lazyrouter lazify`).

Each version runs in a fresh interpreter (one from edited sources), imports
the app, notes which modules that imported, and answers a sample of requests
through the ASGI interface, as a server would (without the lifespan).
"""

from __future__ import annotations

import asyncio
import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any, Final

from fastapi import FastAPI

from lazyrouter import _manifest
from lazyrouter._declarations import import_object

__all__ = ("PROBE_METHOD", "differences", "probe", "prove", "sample_requests")

PROBE_METHOD: Final = "LAZYROUTERPROBE"
"""No route accepts it: a route that matches answers 405 without running its
endpoint, so probing an app has no side effects."""


def sample_requests(app: FastAPI, routes: Sequence[Any], *, get: bool = False) -> list[tuple[str, str]]:
    """Requests that reach every route, its slash twin and a path just below
    it, with `PROBE_METHOD` (and GET for GET routes, with `get`)."""
    requests: dict[tuple[str, str], None] = {(PROBE_METHOD, "/lazyrouter-probe"): None}
    for route in routes:
        template = getattr(route, "path", None)
        if not isinstance(template, str) or not template:
            continue
        path = re.sub(r"{\w+(?::(\w+))?}", lambda match: _SAMPLE_VALUES.get(str(match.group(1)), "x"), template)
        twin = path.rstrip("/") if path.endswith("/") else path + "/"
        for probe in (path, twin, path.rstrip("/") + "/lazyrouter-probe", path.rstrip("/") + "lazyrouter-probe"):
            requests[PROBE_METHOD, probe or "/"] = None
        if get and "GET" in (getattr(route, "methods", None) or ()):
            requests["GET", path] = None
    if app.openapi_url:
        requests["GET", app.openapi_url] = None
    return list(requests)


_SAMPLE_VALUES: Final = {
    "str": "x",
    "int": "1",
    "float": "1.5",
    "path": "x/y",
    "uuid": "00000000-0000-0000-0000-000000000001",
}


def prove(
    target: str,
    edited: dict[str, tuple[str, str]],
    manifest: str | None,
    requests: list[tuple[str, str]],
    modules: list[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the app answers (and which of `modules` it imports at start) as it
    is, and as `edited`, each in a fresh interpreter."""
    return _probe_in_child(target, {}, None, requests, modules), _probe_in_child(
        target, edited, manifest, requests, modules
    )


def _probe_in_child(
    target: str, edited: dict[str, tuple[str, str]], manifest: str | None, requests: list[Any], modules: list[str]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lazyrouter-lazify-") as directory:
        spec_path, output = os.path.join(directory, "spec.json"), os.path.join(directory, "answers.json")
        spec = {"app": target, "sources": edited, "manifest": manifest, "requests": requests, "modules": modules}
        with open(spec_path, "w", encoding="utf-8") as file:
            json.dump({**spec, "output": output}, file)
        command = [sys.executable, "-c", "import sys, lazyrouter._equivalence as e; e.probe(sys.argv[1])", spec_path]
        # One hash seed for both runs: an `Allow` header lists a set of methods.
        environment = {**os.environ, "PYTHONHASHSEED": "0"}
        result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"the app could not be run to compare its answers:\n{result.stderr[-3000:]}")
        with open(output, encoding="utf-8") as file:
            answers: dict[str, Any] = json.load(file)
    return answers


def probe(spec_path: str) -> None:
    """In a fresh interpreter: import the app (from edited sources, if any),
    note which modules it imported, then answer the requests."""
    with open(spec_path, encoding="utf-8") as file:
        spec = json.load(file)
    sys.path.insert(0, os.getcwd())
    if spec["sources"]:
        sys.meta_path.insert(0, _EditedSources(spec["sources"]))
    _manifest.forced = spec["manifest"]
    app = import_object(spec["app"])
    imported = [name for name in spec["modules"] if name in sys.modules]
    answers = asyncio.run(_answers(app, [tuple(request) for request in spec["requests"]]))
    with open(spec["output"], "w", encoding="utf-8") as file:
        json.dump({"imported": imported, "answers": answers}, file)


async def _answers(app: Any, requests: list[tuple[str, str]]) -> list[Any]:
    return [[method, path, *(await _request(app, method, path))] for method, path in requests]


async def _request(app: Any, method: str, path: str) -> tuple[int, list[list[str]], str]:
    """One request through the app, as an ASGI server sends it (no lifespan)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
    }
    messages: list[dict[str, Any]] = []
    done = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # as a client does: disconnected once answered
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    try:
        await app(scope, receive, send)
    except Exception as exc:
        return 500, [], f"{type(exc).__name__}: {exc}"
    start = next((message for message in messages if message["type"] == "http.response.start"), None)
    if start is None:
        return 0, [], "no response"
    headers = sorted([key.decode("latin-1"), value.decode("latin-1")] for key, value in start.get("headers", []))
    body = b"".join(message.get("body", b"") for message in messages if message["type"] == "http.response.body")
    return int(start["status"]), headers, body.decode("utf-8", "replace")


class _EditedSources:
    """A meta path finder that imports some modules from edited source."""

    def __init__(self, sources: dict[str, list[str]]) -> None:
        self.sources = sources

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.sources:
            return None
        filename, text = self.sources[name]
        is_package = os.path.basename(filename) == "__init__.py"
        spec = importlib.util.spec_from_file_location(
            name,
            filename,
            loader=_EditedLoader(name, filename, text),
            submodule_search_locations=[os.path.dirname(filename)] if is_package else None,
        )
        return spec


class _EditedLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, name: str, filename: str, text: str) -> None:
        super().__init__(name, filename)
        self.text = text

    def get_code(self, fullname: str) -> Any:
        # Never the bytecode cached for the file as it is on disk.
        return compile(self.text, self.path, "exec", dont_inherit=True)


def differences(before: dict[str, Any], after: dict[str, Any]) -> Iterator[str]:
    for old, new in zip(before["answers"], after["answers"], strict=True):
        if old != new:
            method, path, status = old[:3]
            if status != new[2]:
                what = "the status differs"
            else:
                what = "the body differs" if old[4] != new[4] else "headers differ"
            yield f"{method} {path}: {what} ({status} before, {new[2]} after)"
