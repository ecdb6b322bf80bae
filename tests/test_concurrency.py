"""Concurrent first requests build each route once and all answer right."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from lazyrouter import LazyFastAPI, LazyRouter
from tests.conftest import count_builds

ROUTES = 50


def make_app() -> LazyFastAPI:
    app = LazyFastAPI()
    router = LazyRouter()
    for number in range(ROUTES):

        def endpoint(value: int, number: int = number) -> dict[str, int]:
            return {"route": number, "value": value}

        endpoint.__name__ = f"endpoint_{number}"
        router.add_api_route(f"/r{number}/{{value}}", endpoint, methods=["GET"])
    app.include_router(router, prefix="/api")
    return app


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Counter[Callable[..., Any]]:
    counter: Counter[Callable[..., Any]] = Counter()
    lock = threading.Lock()

    def count(call: Callable[..., Any]) -> None:
        with lock:
            counter[call] += 1

    count_builds(monkeypatch, count)
    return counter


def test_concurrent_asyncio_first_hits_build_each_route_once(builds: Counter[Callable[..., Any]]) -> None:
    app = make_app()

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.get(f"/api/r{i % ROUTES}/{i}") for i in range(200)))

    responses = asyncio.run(main())
    assert [response.json() for response in responses] == [{"route": i % ROUTES, "value": i} for i in range(200)]
    assert len(builds) == ROUTES
    assert set(builds.values()) == {1}


def test_concurrent_threads_first_hits_build_each_route_once(builds: Counter[Callable[..., Any]]) -> None:
    app = make_app()
    # Each TestClient runs the app on its own event loop thread.
    clients = [TestClient(app) for _ in range(8)]
    barrier = threading.Barrier(len(clients))

    def hammer(client_number: int) -> list[dict[str, int]]:
        barrier.wait()
        client = clients[client_number]
        return [client.get(f"/api/r{i}/{client_number}").json() for i in range(ROUTES)]

    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(hammer, range(len(clients))))
    for client_number, answers in enumerate(results):
        assert answers == [{"route": i, "value": client_number} for i in range(ROUTES)]
    assert len(builds) == ROUTES
    assert set(builds.values()) == {1}


def test_routes_declared_while_requests_run(builds: Counter[Callable[..., Any]]) -> None:
    app = make_app()
    client = TestClient(app)
    stop = threading.Event()
    failures: list[Any] = []

    def reader() -> None:
        while not stop.is_set():
            response = client.get("/api/r1/1")
            if response.status_code != 200:  # pragma: no cover
                failures.append(response)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for number in range(30):
            app.get(f"/extra/e{number}")(lambda number=number: number)
            assert client.get(f"/extra/e{number}").json() == number
    finally:
        stop.set()
        thread.join()
    assert failures == []
