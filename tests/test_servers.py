"""Real servers: uvicorn and gunicorn serve a LazyFastAPI app under load.

Each test writes one app module into tmp_path, serves it lazily (`LAZY=1`) on
127.0.0.1 with a real server in a subprocess, sends a bounded load of requests
spread over its 200 routes (nearly all of them unbuilt when the load starts),
and checks every answer against the same module built eagerly (`LAZY=0`:
plain FastAPI and APIRouter) and served in-process. Then it stops the server
with a signal and reads the file the app's lifespan wrote: one startup and one
shutdown line per worker.

The default run sends 2,000 requests per server. The `slow` ids send
`LAZYROUTER_LOAD_REQUESTS` (20,000 unless set) and run with `-m slow` or when
that variable is set (`tox -e slow`). Each test prints what it measured.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import importlib.util
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from starlette.routing import Match

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("gunicorn and POSIX signals", allow_module_level=True)

HOST = "127.0.0.1"  # the only address these tests ever send to
CONCURRENCY = 50
DEFAULT_LOAD = 2_000
SLOW_LOAD = int(os.environ.get("LAZYROUTER_LOAD_REQUESTS", "20000"))
READY_SECONDS = 60.0
EXIT_SECONDS = 30.0
POLL_SECONDS = 0.05
ROUTERS = 20
GUARDED = {number for number in range(ROUTERS) if number % 2 == 0}
# Headers the server adds and the in-process eager twin cannot know.
SERVER_HEADERS = {"date", "server", "x-worker-pid"}

APP_MODULE = "lazyrouter_server_app"
APP_SOURCE = '''
"""The app under test: LAZY=1 serves it with lazyrouter, LAZY=0 with plain FastAPI."""

import os
from contextlib import asynccontextmanager
from typing import List, Optional

from fastapi import APIRouter, Body, Depends, FastAPI, Header, HTTPException, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from lazyrouter import LazyFastAPI, LazyRouter

ROUTERS = 20


class Item(BaseModel):
    name: str
    price: float
    tags: List[str] = []


def require_token(x_token: Optional[str] = Header(default=None)):
    if x_token != "secret":
        raise HTTPException(status_code=401, detail="invalid token")


def log_lifespan(event):
    path = os.environ.get("LIFESPAN_LOG")
    if path:
        with open(path, "a") as log:
            log.write(f"{event} {os.getpid()}\\n")


class WorkerPid:
    """Names the worker process that answered, in a header the test does not compare."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def send_with_pid(message):
            if message["type"] == "http.response.start":
                pid = str(os.getpid()).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"x-worker-pid", pid)]}
            await send(message)

        await self.app(scope, receive, send_with_pid if scope["type"] == "http" else send)


@asynccontextmanager
async def lifespan(app):
    log_lifespan("startup")
    yield
    log_lifespan("shutdown")


def make_router(router_class, number):
    router = router_class(tags=[f"r{number}"])

    @router.get("/items/{item_id}")
    async def read_item(item_id: int, q: Optional[str] = None, limit: int = 10):
        return {"router": number, "item_id": item_id, "q": q, "limit": limit}

    @router.get("/items")
    def list_items(skip: int = 0, limit: int = 3, tag: List[str] = Query(default=[])):
        return [{"router": number, "id": skip + i, "tags": tag} for i in range(limit)]

    @router.post("/items", status_code=201)
    async def create_item(item: Item) -> Item:
        return item

    @router.put("/items/{item_id}")
    def replace_item(item_id: int, item: Item):
        return {"router": number, "item_id": item_id, "item": item}

    @router.patch("/items/{item_id}/tags")
    async def add_tags(item_id: int, tags: List[str] = Body()):
        return {"router": number, "item_id": item_id, "tags": sorted(tags)}

    @router.delete("/items/{item_id}", status_code=204)
    async def delete_item(item_id: int):
        return None

    @router.get("/users/{user_id}/orders/{order_id}")
    async def read_order(user_id: int, order_id: str, expand: bool = False):
        return {"router": number, "user_id": user_id, "order_id": order_id, "expand": expand}

    @router.get("/search")
    def search(term: str, page: int = Query(default=1, ge=1, le=100)):
        return {"router": number, "term": term, "page": page}

    @router.get("/files/{file_path:path}")
    async def read_file(file_path: str):
        return {"router": number, "file_path": file_path}

    @router.get("/health", response_class=PlainTextResponse)
    async def health(response: Response):
        response.headers["x-router"] = str(number)
        return f"ok r{number}"

    return router


def build_app(lazy):
    app_class, router_class = (LazyFastAPI, LazyRouter) if lazy else (FastAPI, APIRouter)
    app = app_class(title="servers", lifespan=lifespan)
    app.add_middleware(WorkerPid)
    for number in range(ROUTERS):
        # Half the routers need the x-token header, through an include-level dependency.
        dependencies = [Depends(require_token)] if number % 2 == 0 else []
        app.include_router(make_router(router_class, number), prefix=f"/r{number}", dependencies=dependencies)

    @app.get("/_built")
    def built():
        stats = app.router.stats() if lazy else None
        return {"pid": os.getpid(), "built": stats and stats.built, "declared": stats and stats.declared}

    return app


app = build_app(os.environ.get("LAZY", "1") != "0")
'''


# -- requests -----------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    method: str
    url: str  # path and query, sent to both servers as is
    headers: tuple[tuple[str, str], ...] = ()
    content: bytes = b""

    def describe(self) -> str:
        body = f" {self.content[:80]!r}" if self.content else ""
        return f"{self.method} {self.url} {dict(self.headers)}{body}"


def _json(value: Any) -> tuple[tuple[str, str], bytes]:
    return ("content-type", "application/json"), json.dumps(value).encode()


def make_requests(count: int, seed: int = 20240601) -> list[Req]:
    """`count` requests over every route of every router, shuffled, some of
    them 401, 404, 405, 422 or a redirect. Deterministic for a seed."""
    rng = random.Random(seed)
    kinds = [
        "read",
        "read",
        "read_bad_id",
        "list",
        "create",
        "create",
        "create_invalid",
        "create_malformed",
        "replace",
        "patch_tags",
        "delete",
        "order",
        "search",
        "search_missing",
        "search_page_out_of_range",
        "file",
        "health",
        "health_slash",
        "not_found",
        "not_found_outside",
        "method_not_allowed",
        "method_not_allowed_search",
    ]
    requests = []
    for index in range(count):
        number = index % ROUTERS
        kind = kinds[(index // ROUTERS) % len(kinds)]
        base = f"/r{number}"
        value = rng.randrange(1000)
        headers: list[tuple[str, str]] = []
        if number in GUARDED:
            draw = rng.random()
            if draw < 0.8:
                headers.append(("x-token", "secret"))
            elif draw < 0.9:
                headers.append(("x-token", "wrong"))
            # else: no token at all
        content = b""
        if kind == "read":
            method, url = "GET", f"{base}/items/{value}?q=q{value % 7}&limit={value % 50}"
        elif kind == "read_bad_id":
            method, url = "GET", f"{base}/items/not-a-number{value}"
        elif kind == "list":
            method, url = "GET", f"{base}/items?skip={value}&limit={value % 4}&tag=a&tag=b{value % 3}"
        elif kind == "create":
            method, url = "POST", f"{base}/items"
            header, content = _json({"name": f"item {value}", "price": value / 4, "tags": ["x", str(value)]})
            headers.append(header)
        elif kind == "create_invalid":
            method, url = "POST", f"{base}/items"
            header, content = _json({"name": f"item {value}", "price": "not a price"})
            headers.append(header)
        elif kind == "create_malformed":
            method, url = "POST", f"{base}/items"
            headers.append(("content-type", "application/json"))
            content = b'{"name": "broken'
        elif kind == "replace":
            method, url = "PUT", f"{base}/items/{value}"
            header, content = _json({"name": "replaced", "price": value})
            headers.append(header)
        elif kind == "patch_tags":
            method, url = "PATCH", f"{base}/items/{value}/tags"
            header, content = _json(["z", "a", str(value)])
            headers.append(header)
        elif kind == "delete":
            method, url = "DELETE", f"{base}/items/{value}"
        elif kind == "order":
            method, url = "GET", f"{base}/users/{value}/orders/o-{value % 13}?expand={'true' if value % 2 else 'false'}"
        elif kind == "search":
            method, url = "GET", f"{base}/search?term=t{value}&page={value % 100 + 1}"
        elif kind == "search_missing":
            method, url = "GET", f"{base}/search?page=2"
        elif kind == "search_page_out_of_range":
            method, url = "GET", f"{base}/search?term=t&page={101 + value}"
        elif kind == "file":
            method, url = "GET", f"{base}/files/dir{value % 5}/sub/file{value}.txt"
        elif kind == "health":
            method, url = "GET", f"{base}/health"
        elif kind == "health_slash":  # redirect_slashes: 307 to /health
            method, url = "GET", f"{base}/health/"
        elif kind == "not_found":
            method, url = "GET", f"{base}/nothing/{value}"
        elif kind == "not_found_outside":
            method, url = "GET", f"/nowhere{value}/items/{value}"
        elif kind == "method_not_allowed":
            method, url = "POST", f"{base}/health"
        elif kind == "method_not_allowed_search":
            method, url = "DELETE", f"{base}/search?term=t"
        else:  # pragma: no cover
            raise AssertionError(kind)
        requests.append(Req(method, url, tuple(headers), content))
    rng.shuffle(requests)
    return requests


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def of(cls, response: httpx.Response, origin: str) -> Answer:
        """The response, less the headers only a server adds, with the asked
        server's origin in a redirect's location written as `<origin>`."""
        headers = []
        for name, value in response.headers.multi_items():
            name = name.lower()
            if name in SERVER_HEADERS:
                continue
            if name == "location" and value.startswith(origin + "/"):
                value = "<origin>" + value[len(origin) :]
            headers.append((name, value))
        return cls(response.status_code, tuple(headers), response.content)


async def send(client: httpx.AsyncClient, req: Req) -> httpx.Response:
    return await client.request(req.method, req.url, headers=list(req.headers), content=req.content or None)


async def eager_answers(module: ModuleType, requests: list[Req]) -> dict[Req, Answer]:
    """Each distinct request answered by the eager twin, in-process."""
    app = module.build_app(False)
    transport = httpx.ASGITransport(app=app)
    origin = f"http://{HOST}:8000"
    answers: dict[Req, Answer] = {}
    async with httpx.AsyncClient(transport=transport, base_url=origin) as client:
        for req in dict.fromkeys(requests):
            answers[req] = Answer.of(await send(client, req), origin)
    return answers


@dataclass
class LoadResult:
    requests: int = 0
    answered: int = 0
    errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    workers: collections.Counter[int] = field(default_factory=collections.Counter)
    seconds: float = 0.0


async def run_load(base_url: str, requests: list[Req], expected: dict[Req, Answer]) -> LoadResult:
    """Every request once, at most CONCURRENCY at a time, checked against `expected`."""
    result = LoadResult(requests=len(requests))
    semaphore = asyncio.Semaphore(CONCURRENCY)
    # One single-connection client per concurrent request: httpcore's pool
    # spends time quadratic in its size, which made one 50-connection client
    # the slowest part of the test, several times slower than the server.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0, trust_env=False) for _ in range(CONCURRENCY)
    ]
    idle = list(clients)

    async def one(req: Req) -> None:
        async with semaphore:
            client = idle.pop()
            try:
                response = await send(client, req)
            except Exception as error:  # every failure is counted and reported
                result.errors.append(f"{req.describe()}: {type(error).__name__}: {error}")
                return
            finally:
                idle.append(client)
        result.answered += 1
        result.statuses[response.status_code] += 1
        result.workers[int(response.headers["x-worker-pid"])] += 1
        got = Answer.of(response, base_url)
        if got != expected[req]:
            result.mismatches.append(f"{req.describe()}\n  expected {expected[req]}\n  got      {got}")

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(req) for req in requests))
        result.seconds = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    return result


# -- servers ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServerKind:
    workers: int
    stop_signal: signal.Signals

    def argv(self, port: int, app_dir: Path) -> list[str]:
        raise NotImplementedError


@dataclass
class Uvicorn(ServerKind):
    def argv(self, port: int, app_dir: Path) -> list[str]:
        argv = [sys.executable, "-m", "uvicorn", f"{APP_MODULE}:app", "--app-dir", str(app_dir)]
        argv += ["--host", HOST, "--port", str(port), "--log-level", "warning", "--no-access-log"]
        argv += ["--timeout-graceful-shutdown", "20"]
        if self.workers > 1:
            argv += ["--workers", str(self.workers)]
        return argv


@dataclass
class Gunicorn(ServerKind):
    def argv(self, port: int, app_dir: Path) -> list[str]:
        # uvicorn.workers is deprecated (a DeprecationWarning on import) in favour
        # of the uvicorn-worker package.
        argv = [sys.executable, "-m", "gunicorn", f"{APP_MODULE}:app", "--chdir", str(app_dir)]
        argv += ["-k", "uvicorn_worker.UvicornWorker", "--workers", str(self.workers), "--bind", f"{HOST}:{port}"]
        argv += ["--log-level", "warning", "--graceful-timeout", "20", "--timeout", "120"]
        return argv


SERVERS = {
    "uvicorn-1-worker": Uvicorn(workers=1, stop_signal=signal.SIGINT),
    "uvicorn-2-workers": Uvicorn(workers=2, stop_signal=signal.SIGTERM),
    "gunicorn-2-uvicorn-workers": Gunicorn(workers=2, stop_signal=signal.SIGTERM),
}


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_dir: Path
    lifespan_log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        return "".join(
            f"--- {name} ---\n{(self.log_dir / name).read_text(errors='replace')}" for name in ("stdout", "stderr")
        )


def lifespan_events(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        event, pid = line.split()
        events.append((event, int(pid)))
    return events


def wait_ready(server: Server, workers: int) -> None:
    """Until every worker ran its lifespan start-up and the port answers."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        if server.process.poll() is not None:
            raise ServerExited(server.output())
        started = sum(event == "startup" for event, _ in lifespan_events(server.lifespan_log))
        if started >= workers:
            try:
                response = httpx.get(f"{server.base_url}/_built", timeout=1.0, trust_env=False)
            except httpx.TransportError:
                pass
            else:
                if response.status_code == 200:
                    return
        if time.monotonic() > deadline:
            raise AssertionError(f"server not ready within {READY_SECONDS:.0f}s\n{server.output()}")
        time.sleep(POLL_SECONDS)


class ServerExited(Exception):
    pass


@contextmanager
def serving(kind: ServerKind, app_dir: Path, log_dir: Path) -> Iterator[Server]:
    env = {key: value for key, value in os.environ.items() if key != "LAZYROUTER_EAGER"}
    lifespan_log = log_dir / "lifespan.log"
    env.update(LAZY="1", LIFESPAN_LOG=str(lifespan_log), PYTHONUNBUFFERED="1")
    for attempt in range(3):  # another process may take the free port first
        lifespan_log.unlink(missing_ok=True)
        port = free_port()
        with open(log_dir / "stdout", "wb") as stdout, open(log_dir / "stderr", "wb") as stderr:
            process = subprocess.Popen(
                kind.argv(port, app_dir), cwd=app_dir, env=env, stdout=stdout, stderr=stderr, start_new_session=True
            )
        server = Server(process, port, log_dir, lifespan_log)
        try:
            try:
                wait_ready(server, kind.workers)
            except ServerExited as exited:
                in_use = ("address already in use", "connection in use")  # uvicorn's, gunicorn's words
                if any(words in str(exited).lower() for words in in_use) and attempt < 2:
                    continue
                raise AssertionError(f"server exited with {process.returncode} before it was ready\n{exited}") from None
            yield server
            return
        finally:
            # After a failure, or workers left behind by a graceful stop: the
            # processes of the server's own session (start_new_session), only.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=EXIT_SECONDS)


def stop(server: Server, stop_signal: signal.Signals) -> int:
    server.process.send_signal(stop_signal)
    try:
        return server.process.wait(timeout=EXIT_SECONDS)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"server still running {EXIT_SECONDS:.0f}s after {stop_signal.name}") from None


def built_counts(server: Server, probes: int) -> dict[int, int]:
    """Routes built so far, by worker pid, from the workers these probes reach."""
    counts: dict[int, int] = {}
    with httpx.Client(base_url=server.base_url, timeout=10.0, trust_env=False) as client:
        for _ in range(probes):
            # A new connection each time, so that each worker may be reached.
            reply = client.get("/_built", headers={"connection": "close"}).json()
            counts[reply["pid"]] = reply["built"]
    return counts


# -- the app module -----------------------------------------------------------


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("app")
    (directory / f"{APP_MODULE}.py").write_text(APP_SOURCE)
    return directory


@pytest.fixture(scope="module")
def app_module(app_dir: Path) -> Iterator[ModuleType]:
    """The app module, imported in this process for its eager twin."""
    spec = importlib.util.spec_from_file_location(APP_MODULE, app_dir / f"{APP_MODULE}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[APP_MODULE] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[APP_MODULE]


@pytest.fixture(scope="module")
def expected_answers(app_module: ModuleType) -> Callable[[int], tuple[list[Req], dict[Req, Answer]]]:
    """The requests of a load and the eager twin's answers, computed once per load."""

    @functools.cache
    def for_load(load: int) -> tuple[list[Req], dict[Req, Answer]]:
        requests = make_requests(load)
        return requests, asyncio.run(eager_answers(app_module, requests))

    return for_load


def test_the_request_mix_reaches_every_route_and_error_status(
    app_module: ModuleType, expected_answers: Callable[[int], tuple[list[Req], dict[Req, Answer]]]
) -> None:
    requests, answers = expected_answers(DEFAULT_LOAD)
    assert {200, 201, 204, 307, 401, 404, 405, 422} <= {answers[req].status for req in requests}
    # Every route of every router answers some request itself (matched in full).
    served = app_module.build_app(True).router.served_routes()
    routes = [route for route in served if re.match(r"/r\d", route.path)]
    assert len(routes) == ROUTERS * 10
    unreached = [route.path for route in routes if not any(_full_match(route, req) for req in requests)]
    assert unreached == []


def _full_match(route: Any, req: Req) -> bool:
    scope = {"type": "http", "method": req.method, "path": req.url.split("?")[0], "root_path": ""}
    return route.matches(scope)[0] is Match.FULL


def _slow_selected(config: pytest.Config) -> bool:
    return "slow" in (config.getoption("markexpr") or "") or "LAZYROUTER_LOAD_REQUESTS" in os.environ


LOADS = [
    pytest.param(DEFAULT_LOAD, id=f"load={DEFAULT_LOAD}"),
    pytest.param(SLOW_LOAD, id=f"load={SLOW_LOAD}", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("load", LOADS)
@pytest.mark.parametrize("server_name", list(SERVERS))
def test_server_under_load_answers_as_eager_fastapi_and_stops_gracefully(
    server_name: str,
    load: int,
    app_dir: Path,
    expected_answers: Callable[[int], tuple[list[Req], dict[Req, Answer]]],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    record_property: Any,
) -> None:
    if request.node.get_closest_marker("slow") and not _slow_selected(request.config):
        pytest.skip("the long load runs with -m slow or LAZYROUTER_LOAD_REQUESTS (tox -e slow)")
    kind = SERVERS[server_name]
    if isinstance(kind, Gunicorn):
        pytest.importorskip("gunicorn")
        pytest.importorskip("uvicorn_worker")
    requests, expected = expected_answers(load)
    log_dir = tmp_path / "logs"
    log_dir.mkdir()

    with serving(kind, app_dir, log_dir) as server:
        assert server.base_url.startswith(f"http://{HOST}:")
        before = built_counts(server, probes=4 * kind.workers)
        # Nothing but the probe route itself is built in the workers reached.
        assert set(before.values()) == {1}, before

        result = asyncio.run(run_load(server.base_url, requests, expected))
        after = built_counts(server, probes=4 * kind.workers)
        returncode = stop(server, kind.stop_signal)
        output = server.output()

    summary = (
        f"{server_name} load={load}: {result.answered}/{result.requests} requests answered, "
        f"{len(result.errors)} errors, {len(result.mismatches)} differences from eager FastAPI, "
        f"{result.seconds:.2f}s ({result.answered / result.seconds:.0f} req/s), "
        f"statuses {dict(sorted(result.statuses.items()))}, requests by worker {dict(result.workers)}, "
        f"routes built by worker {after}"
    )
    print(summary)
    record_property("requests", result.requests)
    record_property("answered", result.answered)
    record_property("errors", len(result.errors))
    record_property("mismatches", len(result.mismatches))
    record_property("seconds", round(result.seconds, 3))
    record_property("summary", summary)

    assert result.errors == [], f"{len(result.errors)} errors, first ones:\n" + "\n".join(result.errors[:10])
    assert result.mismatches == [], f"{len(result.mismatches)} differences, first ones:\n" + "\n".join(
        result.mismatches[:10]
    )
    assert result.answered == load
    assert returncode == 0, output
    for marker in ("Traceback", "ERROR", "Exception in ASGI application"):
        assert marker not in output, output

    # The lifespan ran in every worker, start-up and then shut-down.
    events = lifespan_events(server.lifespan_log)
    pids = {pid for _, pid in events}
    assert len(pids) == kind.workers, events
    for pid in pids:
        assert [event for event, event_pid in events if event_pid == pid] == ["startup", "shutdown"], events
    assert set(after) <= pids
    assert set(result.workers) <= pids
