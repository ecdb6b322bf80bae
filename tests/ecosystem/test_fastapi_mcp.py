"""fastapi-mcp: `FastApiMCP(app).mount_http()`: the tools it makes from the
app's routes, listed and called over MCP's Streamable HTTP transport."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic.warnings import PydanticDeprecatedSince211

from tests.ecosystem.shop import (
    ITEMS_MODULE,
    LAZY_MODES,
    REQUESTS,
    USERS_MODULE,
    SetUp,
    answers,
    counting_builds,
    make_shop,
    optin_is_lazy,
)

with warnings.catch_warnings():
    # fastapi_mcp.types defines a model the way Pydantic 2.11 deprecated, on import.
    warnings.simplefilter("ignore", PydanticDeprecatedSince211)
    from fastapi_mcp import FastApiMCP  # type: ignore[import-untyped]

# fastapi-mcp calls the app from within the /mcp request; logfire, configured in
# this process by test_logfire, warns once when a request carries another's trace.
pytestmark = pytest.mark.filterwarnings("ignore:Found propagated trace context:RuntimeWarning")

HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
CALLS = [
    ("read_item_v1_items__item_id__get", {"item_id": 5}),
    ("read_user_v1_items_nested_users__name__get", {"name": "ann"}),
    ("top_top__x__get", {"x": 4}),
    ("top_top__x__get", {"x": "four"}),
    ("no_such_tool", {}),
]


def mcp_app(mode: str) -> FastAPI:
    app = make_shop(mode)
    FastApiMCP(app).mount_http()
    return app


HELLO = {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}


def rpc(client: TestClient, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
    """A JSON-RPC request (a notification without `params`)."""
    headers = HEADERS if session is None else {**HEADERS, "mcp-session-id": session}
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message.update(id=1, params=params)
    return client.post("/mcp", headers=headers, json=message)


def spoken(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = mcp_app(mode)
        at_start = builds.set_up()
        with TestClient(app) as client:  # one event loop: the MCP session lives in it
            hello = {
                "protocolVersion": "2025-03-26",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "1"},
            }
            started = rpc(client, "initialize", hello)
            session = started.headers["mcp-session-id"]
            client.post(
                "/mcp",
                headers={**HEADERS, "mcp-session-id": session},
                json={"jsonrpc": "2.0", "method": "notifications/initialized"},
            )
            seen: list[Any] = [started.json()["result"]["capabilities"], rpc(client, "tools/list", {}, session).json()]
            seen += [
                rpc(client, "tools/call", {"name": name, "arguments": arguments}, session).json()
                for name, arguments in CALLS
            ]
        seen.append(answers(app, REQUESTS))
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_tools_equal_eager(mode: str) -> None:
    eager, _, _ = spoken("eager")
    lazy, at_start, _ = spoken(mode)
    assert lazy == eager
    tools = [tool["name"] for tool in eager[1]["result"]["tools"]]
    assert tools == ["featured_v1_items_featured_get", *(name for name, _ in CALLS[:3])]
    assert eager[2]["result"] == {"content": [{"type": "text", "text": '{\n  "item": 5\n}'}], "isError": False}
    assert eager[5]["result"]["isError"] and eager[6]["result"]["isError"]
    if optin_is_lazy(mode):
        # FastApiMCP(app) generates the OpenAPI document of app.routes to make its
        # tools: it builds every route (and imports every router module) at set-up,
        # all 4 of the shop's. The /mcp route it adds waits, but on a plain app (opt-in).
        imported = (ITEMS_MODULE, USERS_MODULE) if mode == "import_strings" else ()
        assert at_start == (4 + (mode == "optin"), imported)
