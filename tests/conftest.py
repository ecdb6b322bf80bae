from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import fastapi
import fastapi.routing
import pytest
from hypothesis import settings

from tests.modes import MODES

# `default` keeps the whole suite within minutes, `ci` is for each environment
# of the tox matrix, `thorough` is for hunting.
settings.register_profile("default", max_examples=250, deadline=None)
settings.register_profile("ci", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The FastAPI extensions' tests need the extensions: `tox -e ecosystem` installs
# them (tests/ecosystem/constraints.txt) and sets this.
collect_ignore = [] if os.environ.get("LAZYROUTER_ECOSYSTEM") else ["ecosystem"]

_EXPECTED = os.environ.get("LAZYROUTER_EXPECT_FASTAPI")
if _EXPECTED and fastapi.__version__ != _EXPECTED:  # pragma: no cover - a broken environment
    raise pytest.UsageError(f"this environment should test FastAPI {_EXPECTED}, but has {fastapi.__version__}")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Each way of writing the app: eager FastAPI and every lazyrouter mode."""
    return str(request.param)


_building_context = threading.local()


def count_builds(
    monkeypatch: pytest.MonkeyPatch,
    route: Callable[[Callable[..., Any]], None],
    context: Callable[[Callable[..., Any]], None] | None = None,
) -> None:
    """Call `route(endpoint)` whenever FastAPI builds a route (its dependency
    analysis of the endpoint), and `context(endpoint)` whenever it builds an
    effective route context instead (FastAPI >= 0.137 makes one per include of
    a route, on its first request: eager FastAPI pays it then too)."""
    original = fastapi.routing.get_dependant  # type: ignore[attr-defined]  # the name routes are built with

    def counting_get_dependant(*, path: str, call: Callable[..., Any], **kwargs: Any) -> Any:
        if not getattr(_building_context, "active", False):
            route(call)
        elif context is not None:
            context(call)
        return original(path=path, call=call, **kwargs)

    monkeypatch.setattr(fastapi.routing, "get_dependant", counting_get_dependant)
    # FastAPI >= 0.137 fills routes and effective contexts alike with this.
    populate = getattr(fastapi.routing, "_populate_api_route_state", None)
    if populate is not None:
        contexts = fastapi.routing._EffectiveRouteContext

        def counting_populate(target: Any, *args: Any, **kwargs: Any) -> Any:
            outer = getattr(_building_context, "active", False)
            _building_context.active = isinstance(target, contexts)
            try:
                return populate(target, *args, **kwargs)
            finally:
                _building_context.active = outer

        monkeypatch.setattr(fastapi.routing, "_populate_api_route_state", counting_populate)
