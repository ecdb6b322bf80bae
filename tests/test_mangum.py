"""AWS Lambda through Mangum: lazy apps answer API Gateway and ALB events
exactly as eager FastAPI does, cold and warm, and survive Mangum's lifespan
per invocation without rebuilding their routes.

The events are shaped as AWS sends them to a Lambda function: API Gateway REST
APIs (payload 1.0), HTTP APIs (payload 2.0) and Application Load Balancers,
with and without multi-value headers.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi import APIRouter, Cookie, Depends, FastAPI, Header, HTTPException, Query, Request, Response
from mangum import Mangum
from pydantic import BaseModel

from lazyrouter import LazyFastAPI, LazyRouter
from lazyrouter._compat import INCLUDES_ARE_LIVE
from tests.conftest import count_builds

# -- the app ------------------------------------------------------------------

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def require_token(x_token: str | None = Header(default=None)) -> None:
    if x_token != "secret":
        raise HTTPException(status_code=401, detail="invalid token")


def make_routers(router_class: type[APIRouter]) -> tuple[APIRouter, APIRouter, APIRouter]:
    items = router_class(prefix="/items", tags=["items"])

    @items.get("/{item_id}")
    async def read_item(  # type: ignore[no-untyped-def]
        item_id: int, q: str | None = None, limit: int = 10, tag: list[str] = Query(default=[])
    ):
        return {"item_id": item_id, "q": q, "limit": limit, "tag": tag}

    @items.post("", status_code=201)
    async def create_item(item: Item) -> Item:
        return item

    @items.get("/{item_id}/thumbnail")
    def thumbnail(item_id: int) -> Response:
        return Response(content=PNG, media_type="image/png", headers={"x-item": str(item_id)})

    account = router_class()

    @account.get("/me")
    def whoami(  # type: ignore[no-untyped-def]
        request: Request, response: Response, session: str | None = Cookie(default=None)
    ):
        response.set_cookie("seen", "1")
        response.set_cookie("theme", "dark", httponly=True)
        return {"session": session, "client": request.client.host if request.client else None}

    @account.get("/greeting")
    def greeting(request: Request):  # type: ignore[no-untyped-def]
        # Lifespan state, which Mangum hands to each invocation's scope.
        return {"greeting": getattr(request.state, "greeting", None)}

    admin = router_class()

    @admin.get("/stats")
    def admin_stats():  # type: ignore[no-untyped-def]
        return {"items": 3}

    for endpoint in (read_item, create_item, thumbnail, whoami, greeting, admin_stats):
        endpoint.lazy = router_class is not APIRouter  # type: ignore[union-attr]  # what `builds` counts
    return items, account, admin


MODES = ["lazy_app", "assign", "optin"]


def make_app(mode: str, lifespan: Callable[[FastAPI], Any] | None = None) -> FastAPI:
    app: FastAPI
    if mode == "lazy_app":
        app = LazyFastAPI(lifespan=lifespan)
    elif mode == "assign":
        app = FastAPI()
        # FastAPI(lifespan=...) configures the router that this replaces.
        app.router = LazyRouter(lifespan=lifespan)
    else:  # "optin" and "eager"
        app = FastAPI(lifespan=lifespan)
    items, account, admin = make_routers(APIRouter if mode == "eager" else LazyRouter)
    app.include_router(items)
    app.include_router(account)
    app.include_router(admin, prefix="/admin", dependencies=[Depends(require_token)])
    return app


# -- events -------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One request, what eager FastAPI answers it, and what its cold call builds."""

    id: str
    method: str
    path: str
    status: int
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    base64_body: bool = False
    cookies: tuple[str, ...] = ()
    # The endpoints a cold invocation builds; None: do not check (the route is
    # matched only partially, and building it or not are both correct).
    builds: frozenset[str] | None = field(default_factory=frozenset)


JSON = (("content-type", "application/json"),)
ITEM = json.dumps({"name": "lamp", "price": 12.5, "tags": ["home", "light"]}).encode()
CASES = [
    Case(
        "get_path_and_query",
        "GET",
        "/items/42",
        200,
        query=(("q", "hello world"), ("limit", "5"), ("tag", "a"), ("tag", "b/c")),
        builds=frozenset({"read_item"}),
    ),
    Case("post_json", "POST", "/items", 201, headers=JSON, body=ITEM, builds=frozenset({"create_item"})),
    Case(
        "post_json_base64",
        "POST",
        "/items",
        201,
        headers=JSON,
        body=ITEM,
        base64_body=True,
        builds=frozenset({"create_item"}),
    ),
    Case("binary_response", "GET", "/items/7/thumbnail", 200, builds=frozenset({"thumbnail"})),
    Case("cookies", "GET", "/me", 200, cookies=("session=abc123", "lang=en"), builds=frozenset({"whoami"})),
    Case("not_found", "GET", "/nowhere/at/all", 404),
    Case("not_found_under_prefix", "GET", "/items/42/nothing", 404),
    Case("method_not_allowed", "DELETE", "/items/42", 405, builds=None),
    Case("redirect_slashes", "GET", "/items/42/", 307, query=(("q", "x"),), builds=None),
    Case("unprocessable_path", "GET", "/items/forty-two", 422, builds=frozenset({"read_item"})),
    Case("unprocessable_query", "GET", "/items/42", 422, query=(("limit", "many"),), builds=frozenset({"read_item"})),
    Case(
        "unprocessable_body",
        "POST",
        "/items",
        422,
        headers=JSON,
        body=b'{"name": "lamp"}',
        builds=frozenset({"create_item"}),
    ),
    Case("malformed_json", "POST", "/items", 422, headers=JSON, body=b'{"name": ', builds=frozenset({"create_item"})),
    Case("unauthorized", "GET", "/admin/stats", 401, builds=frozenset({"admin_stats"})),
    Case("wrong_token", "GET", "/admin/stats", 401, headers=(("x-token", "guess"),), builds=frozenset({"admin_stats"})),
    Case("authorized", "GET", "/admin/stats", 200, headers=(("x-token", "secret"),), builds=frozenset({"admin_stats"})),
]

API_ID = "a1b2c3d4e5"
HOST = f"{API_ID}.execute-api.eu-west-1.amazonaws.com"
ALB_HOST = "lazyrouter-alb-1234567890.eu-west-1.elb.amazonaws.com"
SOURCE_IP = "203.0.113.17"
COMMON_HEADERS = (
    ("accept", "application/json"),
    ("accept-encoding", "gzip, deflate"),
    ("host", HOST),
    ("user-agent", "python-httpx/0.28.1"),
    ("x-amzn-trace-id", "Root=1-65f1c2d3-0123456789abcdef01234567"),
    ("x-forwarded-for", f"{SOURCE_IP}, 130.176.1.1"),
    ("x-forwarded-port", "443"),
    ("x-forwarded-proto", "https"),
)
REQUEST_CONTEXT = {
    "accountId": "123456789012",
    "apiId": API_ID,
    "domainName": HOST,
    "domainPrefix": API_ID,
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
}


def _headers(case: Case, host: str = HOST) -> list[tuple[str, str]]:
    headers = [("host", host) if name == "host" else (name, value) for name, value in COMMON_HEADERS]
    headers += case.headers
    if case.body is not None:
        headers.append(("content-length", str(len(case.body))))
    return headers


def _body(case: Case) -> tuple[str | None, bool]:
    if case.body is None:
        return None, False
    if case.base64_body:
        return base64.b64encode(case.body).decode(), True
    return case.body.decode(), False


def _single(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> dict[str, str] | None:
    """The last value of each name, as API Gateway's and ALB's single-value maps hold."""
    return dict(pairs) or None


def _multi(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> dict[str, list[str]] | None:
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return multi or None


def rest_api_event(case: Case) -> dict[str, Any]:
    """API Gateway REST API, Lambda proxy integration (payload format 1.0)."""
    headers = _headers(case)
    if case.cookies:
        headers.append(("cookie", "; ".join(case.cookies)))
    body, is_base64 = _body(case)
    return {
        "resource": "/{proxy+}",
        "path": case.path,
        "httpMethod": case.method,
        "headers": _single(headers),
        "multiValueHeaders": _multi(headers),
        "queryStringParameters": _single(case.query),
        "multiValueQueryStringParameters": _multi(case.query),
        "pathParameters": {"proxy": case.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            **REQUEST_CONTEXT,
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}",
            "httpMethod": case.method,
            "extendedRequestId": "Zq1bXFx5DoEF0Ag=",
            "requestTime": "09/Apr/2025:12:34:56 +0000",
            "requestTimeEpoch": 1744202096000,
            "path": f"/prod{case.path}",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "identity": {"sourceIp": SOURCE_IP, "userAgent": "python-httpx/0.28.1", "accountId": None, "user": None},
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def http_api_event(case: Case) -> dict[str, Any]:
    """API Gateway HTTP API (payload format 2.0)."""
    headers: dict[str, str] = {}
    for name, value in _headers(case):  # HTTP APIs join repeated headers with commas
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    query: dict[str, str] = {}
    for name, value in case.query:
        query[name] = f"{query[name]},{value}" if name in query else value
    body, is_base64 = _body(case)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": case.path,
        "rawQueryString": urlencode(case.query, quote_via=quote),
        "headers": headers,
        "requestContext": {
            **REQUEST_CONTEXT,
            "http": {
                "method": case.method,
                "path": case.path,
                "protocol": "HTTP/1.1",
                "sourceIp": SOURCE_IP,
                "userAgent": "python-httpx/0.28.1",
            },
            "routeKey": "$default",
            "stage": "$default",
            "time": "09/Apr/2025:12:34:56 +0000",
            "timeEpoch": 1744202096000,
        },
        "isBase64Encoded": is_base64,
    }
    if case.cookies:
        event["cookies"] = list(case.cookies)
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
    return event


def _alb_event(case: Case, multi_value: bool) -> dict[str, Any]:
    """Application Load Balancer target group (multi-value headers off or on).
    ALB passes query strings as the client sent them, still percent-encoded."""
    headers = _headers(case, host=ALB_HOST)
    if case.cookies:
        headers.append(("cookie", "; ".join(case.cookies)))
    query = [(quote(name), quote(value)) for name, value in case.query]
    body, is_base64 = _body(case)
    event: dict[str, Any] = {
        "requestContext": {
            "elb": {
                "targetGroupArn": (
                    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/lazyrouter/6d0ecf831eec9f09"
                )
            }
        },
        "httpMethod": case.method,
        "path": case.path,
        "isBase64Encoded": is_base64,
        "body": body or "",
    }
    if multi_value:
        event["multiValueQueryStringParameters"] = _multi(query) or {}
        event["multiValueHeaders"] = _multi(headers)
    else:
        event["queryStringParameters"] = _single(query) or {}
        event["headers"] = _single(headers)
    return event


EVENTS: dict[str, Callable[[Case], dict[str, Any]]] = {
    "rest_api": rest_api_event,
    "http_api": http_api_event,
    "alb": lambda case: _alb_event(case, multi_value=False),
    "alb_multi_value": lambda case: _alb_event(case, multi_value=True),
}


def lambda_context() -> Any:
    """A context as AWS's Python runtime hands a handler (Mangum types it as its own protocol)."""
    return LambdaContext()


class LambdaContext:
    """The attributes of the context AWS's Python runtime hands a handler."""

    function_name = "lazyrouter-test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:lazyrouter-test"
    memory_limit_in_mb = 512
    aws_request_id = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name = "/aws/lambda/lazyrouter-test"
    log_stream_name = "2025/04/09/[$LATEST]0123456789abcdef0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


# -- fixtures -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """Mangum runs each invocation with `asyncio.get_event_loop()`: give it a
    current loop, as the Lambda runtime's main thread has, so that no Python
    version warns about creating one."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


class Builds:
    """FastAPI route builds (one dependant analysis of the endpoint each) of
    the lazy apps' endpoints, by endpoint name. Eager twins are not counted."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def since(self, before: Counter[str]) -> set[str]:
        return set((self.counts - before).keys())


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    counter = Builds()

    def count(call: Callable[..., Any]) -> None:
        if getattr(call, "lazy", False):
            counter.counts[call.__name__] += 1

    count_builds(monkeypatch, count)
    return counter


def check_builds(mode: str) -> bool:
    # Before FastAPI 0.137 a plain app copies an included router's routes,
    # building every one at include_router(), as eager FastAPI does.
    return mode != "optin" or INCLUDES_ARE_LIVE


# -- tests --------------------------------------------------------------------


@pytest.fixture(scope="module")
def eager_answers() -> dict[tuple[str, str], dict[str, Any]]:
    """The eager twin's response to each case in each event format."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        handler = Mangum(make_app("eager"), lifespan="off")
        return {
            (event, case.id): handler(make_event(case), lambda_context())
            for event, make_event in EVENTS.items()
            for case in CASES
        }
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_the_cases_get_the_statuses_they_are_named_for(eager_answers: dict[tuple[str, str], dict[str, Any]]) -> None:
    for (event, case_id), response in eager_answers.items():
        case = next(case for case in CASES if case.id == case_id)
        assert response["statusCode"] == case.status, (event, case_id, response)
    # The responses exercise Mangum's encodings: a base64 binary body, cookies.
    assert eager_answers["rest_api", "binary_response"]["isBase64Encoded"] is True
    cookies = eager_answers["http_api", "cookies"]["cookies"]
    assert [cookie.split(";")[0] for cookie in cookies] == ["seen=1", "theme=dark"]
    assert json.loads(eager_answers["http_api", "cookies"]["body"])["session"] == "abc123"
    assert json.loads(eager_answers["alb", "get_path_and_query"]["body"]) == {
        "item_id": 42,
        "q": "hello world",
        "limit": 5,
        "tag": ["b/c"],  # single-value ALB events keep the last value of a name
    }
    for event in ("rest_api", "http_api", "alb_multi_value"):
        assert json.loads(eager_answers[event, "get_path_and_query"]["body"])["tag"] == ["a", "b/c"]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("mode", MODES)
def test_cold_and_warm_invocations_answer_as_eager_fastapi(
    mode: str, event: str, case: Case, builds: Builds, eager_answers: dict[tuple[str, str], dict[str, Any]]
) -> None:
    handler = Mangum(make_app(mode))
    if check_builds(mode):
        assert builds.counts == Counter(), "declaring the app built routes"
    expected = eager_answers[event, case.id]

    before = builds.counts.copy()
    assert handler(EVENTS[event](case), lambda_context()) == expected  # cold: a new instance's first request
    if check_builds(mode):
        if case.builds is not None:
            assert builds.since(before) == case.builds
        assert max(builds.counts.values(), default=0) <= 1

    before = builds.counts.copy()
    for _ in range(2):  # warm
        assert handler(EVENTS[event](case), lambda_context()) == expected
    assert builds.counts == before


@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("mode", MODES)
def test_one_warm_instance_answers_every_case_as_eager_fastapi(
    mode: str, event: str, builds: Builds, eager_answers: dict[tuple[str, str], dict[str, Any]]
) -> None:
    handler = Mangum(make_app(mode))
    for warm in (False, True):
        for case in CASES:
            got = handler(EVENTS[event](case), lambda_context())
            assert got == eager_answers[event, case.id], (case.id, "warm" if warm else "cold")
    if check_builds(mode):
        # Every route some case reaches, each built once.
        assert builds.counts == Counter(read_item=1, create_item=1, thumbnail=1, whoami=1, admin_stats=1)


def lifespan_recording(events: list[str]) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"greeting": f"hello {events.count('startup')}"}
        events.append("shutdown")

    return lifespan


@pytest.mark.parametrize("mode", [*MODES, "eager"])
def test_lifespan_runs_per_invocation_and_keeps_built_routes(mode: str, builds: Builds) -> None:
    events: list[str] = []
    app = make_app(mode, lifespan=lifespan_recording(events))
    handler = Mangum(app, lifespan="auto")
    eager_handler = Mangum(make_app("eager", lifespan=lifespan_recording([])), lifespan="auto")
    cases = {case.id: case for case in CASES}
    get_item, post_item, authorized = cases["get_path_and_query"], cases["post_json"], cases["authorized"]
    greeting = Case("greeting", "GET", "/greeting", 200)
    lazy = mode != "eager" and check_builds(mode)

    def invoke(case: Case, event: str = "http_api") -> dict[str, Any]:
        response = handler(EVENTS[event](case), lambda_context())
        assert response == eager_handler(EVENTS[event](case), lambda_context()), case.id
        return response

    # Invocation 1 builds its route, within one lifespan cycle.
    assert invoke(get_item)["statusCode"] == 200
    assert events == ["startup", "shutdown"]
    if lazy:
        assert builds.counts == Counter(read_item=1)
    # (On its first call an assigned LazyRouter adopts the app: its docs routes.)
    routes = [getattr(route, "path", route) for route in app.routes]

    # Later invocations run the lifespan again and reuse the route.
    for event in EVENTS:
        assert invoke(get_item, event)["statusCode"] == 200
    assert events == ["startup", "shutdown"] * 5
    if lazy:
        assert builds.counts == Counter(read_item=1), "a lifespan cycle made a built route build again"

    # Each invocation sees the state of its own lifespan start-up.
    assert json.loads(invoke(greeting)["body"]) == {"greeting": "hello 6"}
    assert invoke(post_item)["statusCode"] == 201
    assert invoke(authorized)["statusCode"] == 200
    before = builds.counts.copy()
    for case in (get_item, post_item, authorized, greeting):
        invoke(case, "rest_api")
    assert builds.counts == before
    assert events == ["startup", "shutdown"] * 12
    if lazy:
        assert builds.counts == Counter(read_item=1, create_item=1, admin_stats=1, greeting=1)
    # Lifespan start-ups add no routes: an assigned LazyRouter adopts its app once.
    assert [getattr(route, "path", route) for route in app.routes] == routes

    openapi = Case("openapi", "GET", "/openapi.json", 200)
    assert json.loads(invoke(openapi)["body"])["paths"].keys() == {
        "/items/{item_id}",
        "/items",
        "/items/{item_id}/thumbnail",
        "/me",
        "/greeting",
        "/admin/stats",
    }
