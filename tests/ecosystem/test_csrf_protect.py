"""fastapi-csrf-protect: `CsrfProtect` as a dependency (tokens made, set as a
cookie, validated from a header, unset), its config loaded once, and its error
answered by the app's exception handler."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from fastapi_csrf_protect import CsrfProtect
from fastapi_csrf_protect.exceptions import CsrfProtectError
from pydantic_settings import BaseSettings

from tests.ecosystem.shop import (
    LAZY_MODES,
    SetUp,
    counting_builds,
    expected_builds,
    make_shop,
    optin_is_lazy,
    router_for,
)


class CsrfSettings(BaseSettings):
    secret_key: str = "asecrettoeverybody"
    cookie_samesite: str = "lax"


@CsrfProtect.load_config
def get_csrf_config() -> CsrfSettings:
    return CsrfSettings()


Csrf = Annotated[CsrfProtect, Depends()]


def make_app(mode: str) -> FastAPI:
    app = make_shop(mode)
    forms = router_for(mode, prefix="/forms")

    @forms.get("/login")
    def form(csrf_protect: Csrf) -> JSONResponse:
        csrf_token, signed_token = csrf_protect.generate_csrf_tokens()
        response = JSONResponse({"csrf_token": csrf_token})
        csrf_protect.set_csrf_cookie(signed_token, response)
        return response

    @forms.post("/login")
    async def create_post(request: Request, csrf_protect: Csrf) -> JSONResponse:
        await csrf_protect.validate_csrf(request)
        response = JSONResponse(status_code=200, content={"detail": "OK"})
        csrf_protect.unset_csrf_cookie(response)  # prevent token reuse
        return response

    @app.exception_handler(CsrfProtectError)
    def csrf_protect_exception_handler(request: Request, exc: CsrfProtectError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.message})

    app.include_router(forms, prefix="/v1")
    return app


def cookie_attributes(response: Any) -> list[str]:
    """The Set-Cookie header without its value (tokens are random and timed)
    and without the date an unset cookie expires at (now: the clock's second)."""
    attributes = response.headers.get("set-cookie", "").split("; ")[1:]
    return sorted(attribute for attribute in attributes if not attribute.lower().startswith("expires="))


def protected(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.set_up()
        client = TestClient(app)
        seen: list[Any] = [client.post("/v1/forms/login").json()]  # no cookie, no token
        issued = client.get("/v1/forms/login")
        token = issued.json()["csrf_token"]
        seen.append((issued.status_code, cookie_attributes(issued)))
        seen.append(client.post("/v1/forms/login").json())  # the cookie, no token
        wrong = client.post("/v1/forms/login", headers={"x-csrf-token": token[::-1]})
        seen.append((wrong.status_code, wrong.json()))
        accepted = client.post("/v1/forms/login", headers={"x-csrf-token": token})
        seen.append((accepted.status_code, accepted.json(), cookie_attributes(accepted)))
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_csrf_protection_equals_eager(mode: str) -> None:
    eager, _, _ = protected("eager")
    lazy, at_start, after = protected(mode)
    assert lazy == eager
    assert eager[-1][:2] == (200, {"detail": "OK"})
    assert eager[3][0] == 401
    if optin_is_lazy(mode):
        start, _ = expected_builds(mode)
        assert (at_start, after) == (start, start.routes + 2)  # and the two form routes requested
