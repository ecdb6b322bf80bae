"""sentry-sdk's FastAPI integration: transaction names (both styles) and the
events of an endpoint that raises, captured by an in-memory transport."""

from __future__ import annotations

from typing import Any

import pytest
import sentry_sdk
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sentry_sdk.envelope import Envelope
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.transport import Transport

from tests.ecosystem.shop import LAZY_MODES, REQUESTS, SetUp, counting_builds, expected_builds, make_shop, optin_is_lazy
from tests.modes import new_router


class Captured(Transport):
    """Keeps what would be sent, in memory."""

    sent: list[tuple[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            payload = item.payload.json or {}
            if item.type == "transaction":
                self.sent.append(("transaction", payload.get("transaction")))
            elif item.type == "event":
                exception = payload.get("exception", {}).get("values", [{}])[-1]
                self.sent.append(("event", (payload.get("transaction"), exception.get("type"), exception.get("value"))))


def failing_app(mode: str) -> FastAPI:
    app = make_shop(mode)
    broken = new_router(mode)

    @broken.get("/fail/{code}")
    def fail(code: int) -> None:
        raise ValueError(f"failed {code}")

    app.include_router(broken, prefix="/v1")
    return app


def captured(mode: str, style: str) -> tuple[list[tuple[str, Any]], SetUp, int]:
    Captured.sent = []
    sentry_sdk.init(
        dsn="https://public@sentry.invalid/1",
        transport=Captured,
        traces_sample_rate=1.0,
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[StarletteIntegration(transaction_style=style), FastApiIntegration(transaction_style=style)],
    )
    try:
        with counting_builds() as builds:
            app = failing_app(mode)
            at_start = builds.set_up()
            client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
            for method, path in [*REQUESTS, ("GET", "/v1/fail/7")]:
                client.request(method, path)
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)  # off again: no DSN
    return list(Captured.sent), at_start, builds.routes


@pytest.mark.parametrize("style", ["url", "endpoint"])
@pytest.mark.parametrize("mode", LAZY_MODES)
def test_transactions_and_events_equal_eager(mode: str, style: str) -> None:
    eager, _, _ = captured("eager", style)
    lazy, at_start, after = captured(mode, style)
    assert lazy == eager
    name = "/v1/fail/{code}" if style == "url" else f"{__name__}.failing_app.<locals>.fail"
    assert ("event", (name, "ValueError", "failed 7")) in eager
    if style == "url":
        # What FastAPI >= 0.137 gives sentry: the path of the included route itself
        # for a 405, the include's full path for a match.
        assert eager[0] == ("transaction", "/v1/items/{item_id}")
    if optin_is_lazy(mode):
        assert (at_start, after) == expected_builds(mode, reached=5)
