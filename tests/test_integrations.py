"""Tools FastAPI users run against `app.routes` label requests exactly as they
do for the eager app: prometheus-fastapi-instrumentator's handler label and
OpenTelemetry's span names and `http.route`."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator

from lazyrouter import LazyFastAPI, LazyRouter

REQUESTS = ["/v1/items/3", "/v1/items/3/", "/v1/users/me", "/top/4", "/nope", "/v1/items/x/y"]


def make_app(mode: str) -> FastAPI:
    app: FastAPI = LazyFastAPI() if mode == "lazy_app" else FastAPI()
    if mode == "assign":
        app.router = LazyRouter()
    router_class = APIRouter if mode == "eager" else LazyRouter
    items, users = router_class(prefix="/items"), router_class()
    items.get("/{item_id}")(lambda item_id: item_id)
    users.get("/users/{name}")(lambda name: name)
    items.include_router(users, prefix="/nested")
    app.include_router(items, prefix="/v1")
    app.include_router(users, prefix="/v1")
    app.get("/top/{x}")(lambda x: x)
    return app


def prometheus_lines(mode: str) -> list[str]:
    app = make_app(mode)
    registry = CollectorRegistry()
    Instrumentator(registry=registry).instrument(app)
    client = TestClient(app)
    for path in REQUESTS:
        client.get(path, follow_redirects=False)
    exposition = generate_latest(registry).decode()
    return sorted(line for line in exposition.splitlines() if line.startswith("http_requests_total"))


def otel_spans(mode: str) -> list[tuple[str, Any]]:
    app = make_app(mode)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    client = TestClient(app)
    for path in REQUESTS:
        client.get(path, follow_redirects=False)
    FastAPIInstrumentor.uninstrument_app(app)
    return sorted((span.name, (span.attributes or {}).get("http.route")) for span in exporter.get_finished_spans())


@pytest.mark.parametrize("mode", ["lazy_app", "assign", "optin"])
def test_prometheus_instrumentator_labels_equal_eager(mode: str) -> None:
    lines = prometheus_lines(mode)
    assert lines == prometheus_lines("eager")
    assert any('handler="/v1/items/{item_id}"' in line for line in lines)


@pytest.mark.parametrize("mode", ["lazy_app", "assign", "optin"])
def test_opentelemetry_spans_equal_eager(mode: str) -> None:
    spans = otel_spans(mode)
    assert spans == otel_spans("eager")
    assert ("GET /v1/items/{item_id}", "/v1/items/{item_id}") in spans
