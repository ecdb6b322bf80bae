"""Path templates: what FastAPI and Starlette check at declaration, and the
segment keys under which the index files a route (see `_trie`)."""

from __future__ import annotations

from typing import Any, Final

from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.convertors import (
    CONVERTOR_TYPES,
    FloatConvertor,
    IntegerConvertor,
    StringConvertor,
    UUIDConvertor,
)
from starlette.routing import (
    PARAM_REGEX,
    BaseRoute,
    Mount,
    Route,
    WebSocketRoute,
)

from lazyrouter._deferred import _Deferred
from lazyrouter._routes import BrokenRoute
from lazyrouter._trie import PARAM

# Convertors whose regex matches one non-empty segment; any other convertor
# (`path`, or one registered by the app) may span segments.
_SINGLE_SEGMENT_CONVERTORS: Final = (StringConvertor, IntegerConvertor, FloatConvertor, UUIDConvertor)


def validate_path(path: str) -> None:
    """Raise what Starlette's `compile_path(path)` raises for a malformed path.

    Compiling every path's regex at declaration time would cost ~0.1 ms a route,
    a tenth of a second for a 1,000-route app, so only the parameter scan runs
    now; the route compiles its regex when it first takes part in matching.
    """
    seen: set[str] = set()
    duplicated: set[str] = set()
    for match in PARAM_REGEX.finditer(path):
        name, convertor = match.groups("str")
        convertor = convertor.lstrip(":")
        assert convertor in CONVERTOR_TYPES, f"Unknown path convertor '{convertor}'"
        (duplicated if name in seen else seen).add(name)
    if duplicated:
        names = ", ".join(sorted(duplicated))
        ending = "s" if len(duplicated) > 1 else ""
        raise ValueError(f"Duplicated param name{ending} {names} at path {path}")


# The matchers the index knows the meaning of; a route class that overrides
# `matches()` is asked about every request (an opaque candidate).
_KNOWN_MATCHERS: Final = frozenset(
    {Route.matches, WebSocketRoute.matches, APIRoute.matches, APIWebSocketRoute.matches, Mount.matches}
)


def route_key(route: BaseRoute) -> tuple[list[Any], bool]:
    """The segments under which `route` is indexed, and whether it is a catch-all."""
    if type(route).matches not in _KNOWN_MATCHERS and not isinstance(route, BrokenRoute):
        return [], True
    if isinstance(route, (Mount, BrokenRoute)):
        return template_key(route.path, catch_all=True)
    if isinstance(route, (Route, WebSocketRoute, _Deferred)):
        return template_key(route.__dict__["path"], catch_all=False)
    # Unreachable: a known matcher is one of these classes' own.
    return [], True  # pragma: no cover


def template_key(path: str, *, catch_all: bool) -> tuple[list[Any], bool]:
    """Trie segments for a path template: literal text, `PARAM`, or a catch-all
    from the first parameter whose convertor may span segments."""
    if "{" not in path and path[:1] == "/":
        return path.split("/")[1:], catch_all  # static: every part is literal text
    if not path.startswith("/"):
        return [], True
    parts = path.split("/")[1:]
    segments: list[Any] = []
    for part in parts:
        params = list(PARAM_REGEX.finditer(part)) if "{" in part else None
        if not params:
            segments.append(part)
            continue
        for param in params:
            convertor = CONVERTOR_TYPES.get((param.group(2) or ":str")[1:])
            if type(convertor) not in _SINGLE_SEGMENT_CONVERTORS:
                return segments, True
        segments.append(PARAM)
    return segments, catch_all


def appends_a_slash(route_path: str, redirect_path: str | None) -> bool:
    """Whether `redirect_path` is `route_path` and a slash (and no newline)."""
    return (
        redirect_path is not None
        and len(redirect_path) == len(route_path) + 1
        and redirect_path[-1] == "/"
        and redirect_path.startswith(route_path)
        and not route_path.endswith("\n")
    )


def looked_up_paths(route_path: str, redirect_path: str | None) -> tuple[str, ...]:
    """The paths whose candidates may match `route_path` or `redirect_path`.
    Starlette's path patterns end in `$`, which also matches before a final
    newline: `/items` matches "/items\n" (a request for "/items%0A")."""
    paths = (route_path,) if redirect_path is None else (route_path, redirect_path)
    if route_path.endswith("\n") or (redirect_path is not None and redirect_path.endswith("\n")):
        return paths + tuple(path[:-1] for path in paths if path.endswith("\n"))
    return paths
