"""Manifests: where the routes of routers included by import string live.

A router that declares its own prefix (`router = APIRouter(prefix="/users")`)
is included with no include_router() prefix; included by import string, it can
wait for its first request only if lazyrouter knows, without importing it,
which paths its routes are under. A manifest, written ahead of time by
`lazyrouter manifest module:app -o FILE`, records that for each such include:

    {
      "lazyrouter_manifest": 1,
      "app": "shop.main:app",
      "fastapi": "0.165.0",
      "routers": {
        "shop.routers.users:router": {"prefix": "/users", "router_prefix": "/users"}
      }
    }

`prefix` is the longest run of static path segments that every route of the
router starts with, as the router is served when included with no prefix (its
own prefix, or longer); `router_prefix` is the router's own `prefix` when the
file was written, and `app` and `fastapi` what it was written from. When the
router is imported, its routes are checked against `prefix`: a stale manifest
fails that import, naming both prefixes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final

import fastapi
from fastapi import APIRouter
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Host, Mount

from lazyrouter import _compat
from lazyrouter._declarations import API_ROUTE, API_WEBSOCKET, STARLETTE_COPY, Inclusion, RouterImport
from lazyrouter._tree import Declaring

__all__ = ("ENVIRONMENT", "Recorded", "Recording", "dump", "find", "record", "route_prefix")

logger = logging.getLogger("lazyrouter")

FORMAT: Final = 1
ENVIRONMENT: Final = "LAZYROUTER_MANIFEST"
_COMMAND: Final = "lazyrouter manifest MODULE:APP -o FILE"


# Plain classes, not dataclasses: this module is imported with the app, and
# making a dataclass costs more than reading a manifest.


class Manifest:
    __slots__ = ("app", "path", "prefixes")

    def __init__(self, path: str, app: str, prefixes: dict[str, str]) -> None:
        self.path = path
        self.app = app
        self.prefixes = prefixes


class Recorded:
    """Where a manifest says the routes of one import string are."""

    __slots__ = ("manifest", "prefix")

    def __init__(self, prefix: str, manifest: Manifest) -> None:
        self.prefix = prefix
        self.manifest = manifest

    def check(self, router: APIRouter) -> str | None:
        """Why `router`'s routes are not all under the recorded prefix, or None."""
        expected = _segments(self.prefix)
        paths = [path for path, _ in _served_paths(router)]
        outside = next((path for path in paths if _segments(path)[: len(expected)] != expected), None)
        if outside is None and all(path is not None for path in paths):
            return None
        described = "a route matched by host" if outside is None else f"route path {outside!r}"
        return (
            f"the manifest {self.manifest.path} records its routes under {self.prefix!r}, but they are under "
            f"{_common_prefix(paths)!r} now ({described}); write the manifest again: "
            f"lazyrouter manifest {self.manifest.app or 'MODULE:APP'} -o {self.manifest.path}"
        )


def find(import_string: str, configured: str | os.PathLike[str] | None) -> Recorded | None:
    """What the manifest records for `import_string`: None, after a warning,
    if it records nothing usable (the router is then imported now)."""
    if recording is not None:
        return None  # writing a manifest: every such include is imported, and recorded
    path = forced or (configured if configured is not None else os.environ.get(ENVIRONMENT) or None)
    manifest = None if path is None else _load(os.fspath(path))
    prefix = None if manifest is None else manifest.prefixes.get(import_string)
    if manifest is not None and prefix:
        return Recorded(prefix, manifest)
    if path is None:
        why = "no manifest says where its routes are (manifest=FILE or LAZYROUTER_MANIFEST=FILE)"
    elif manifest is None:
        why = f"the manifest {os.fspath(path)} cannot be read"
    elif prefix is None:
        why = f"the manifest {manifest.path} has no entry for it"
    else:
        why = f"the manifest {manifest.path} records no path prefix shared by its routes"
    logger.warning(
        "include_router(%r) has no prefix and %s: it is imported now. To import it on its first request, "
        "write a manifest: %s",
        import_string,
        why,
        _COMMAND,
    )
    return None


# Manifests read, by path, with the file's identity: a rewritten file is read again.
_loaded: dict[str, tuple[tuple[int, int, int] | None, Manifest | None]] = {}


def _load(path: str) -> Manifest | None:
    try:
        status = os.stat(path)
        identity: tuple[int, int, int] | None = (status.st_ino, status.st_mtime_ns, status.st_size)
    except OSError:
        identity = None
    cached = _loaded.get(path)
    if cached is not None and cached[0] == identity:
        return cached[1]
    manifest = None
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        if document.get("lazyrouter_manifest") != FORMAT:
            raise ValueError(f"not a lazyrouter manifest of format {FORMAT}")
        # Whole static segments, as written (a hand-edited "/users/" is "/users").
        prefixes = {name: _joined(_segments(str(entry["prefix"]))) for name, entry in document["routers"].items()}
        manifest = Manifest(path, str(document.get("app") or ""), prefixes)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.warning("Manifest %s cannot be used (%s)", path, exc)
    _loaded[path] = (identity, manifest)
    return manifest


def dump(app: str, routers: dict[str, APIRouter]) -> str:
    """The manifest of `routers`, by the import string each is included by."""
    entries = {
        name: {"prefix": route_prefix(router), "router_prefix": router.prefix}
        for name, router in sorted(routers.items())
    }
    document = {"lazyrouter_manifest": FORMAT, "app": app, "fastapi": fastapi.__version__, "routers": entries}
    return json.dumps(document, indent=2)


def route_prefix(router: APIRouter) -> str:
    """The longest static path every route of `router` starts with (in whole
    segments), as it is served when included with no prefix."""
    paths = [path for path, _ in _served_paths(router)]
    return _common_prefix(paths) if paths else _joined(_segments(router.prefix))


def _common_prefix(paths: Iterable[str | None]) -> str:
    common: list[str] | None = None
    for path in paths:
        segments = _segments(path)
        if common is None:
            common = segments
        else:
            same = 0
            while same < min(len(common), len(segments)) and common[same] == segments[same]:
                same += 1
            del common[same:]
    return _joined(common or [])


def _joined(segments: list[str]) -> str:
    return "".join("/" + segment for segment in segments)


def _segments(path: str | None) -> list[str]:
    """The static segments a path starts with (None: a route matched by host)."""
    if path is None:
        return []
    static = []
    for segment in path.split("/")[1:]:
        if not segment or "{" in segment:
            break
        static.append(segment)
    return static


# -- the paths a router serves, read without building or importing anything --

Served = Iterator[tuple[str | None, bool]]
"""(path, whether FastAPI treats it as an API route's) of each route."""


def _served_paths(router: APIRouter | RouterImport, snapshot: list[Any] | None = None) -> Served:
    """The paths of `router`'s routes, as it serves them included with no
    prefix into a router without one (path None: matched by host, on any path)."""
    if isinstance(router, RouterImport):
        if router.router is None:
            # Everything it serves is under its recorded prefix (checked on import).
            yield router.recorded, True
            yield router.recorded, False
            return
        router = router.router
    if isinstance(router, Declaring):
        for item in router._current_declarations() if snapshot is None else snapshot:
            if isinstance(item, Inclusion):
                yield from _included_paths(item)
            elif item.kind in (API_ROUTE, API_WEBSOCKET):
                yield (item.owner or router).prefix + item.path, True
            else:
                yield from _route_paths(item.endpoint, item.path if item.kind == STARLETTE_COPY else "")
    else:
        for route in router.routes if snapshot is None else [route for route, _ in snapshot]:
            if _compat.is_include_entry(route):
                context: Any = route.include_context  # type: ignore[attr-defined]
                yield from _prefixed(_served_paths(route.original_router), context.prefix, context.prefix)  # type: ignore[attr-defined]
            else:
                yield from _route_paths(route)
    # FastAPI >= 0.164 frontends, served after every route, under the router's prefix.
    for group in router.__dict__.get("_low_priority_routes") or ():
        for route in getattr(group, "routes", ()):
            yield getattr(route, "path", None), True


def _included_paths(inclusion: Inclusion) -> Served:
    prefix = inclusion.options.get("prefix", "")
    # FastAPI < 0.137 copies a Starlette route with the include_router() prefix
    # only, not the including router's own; later releases give both to all.
    api_prefix = inclusion.parent.prefix + prefix
    starlette_prefix = api_prefix if _compat.INCLUDES_ARE_LIVE else prefix
    yield from _prefixed(_served_paths(inclusion.router, inclusion.snapshot), api_prefix, starlette_prefix)


def _prefixed(paths: Served, api_prefix: str, starlette_prefix: str) -> Served:
    for path, api in paths:
        yield (None if path is None else (api_prefix if api else starlette_prefix) + path), api


def _route_paths(route: Any, prefix: str = "") -> Served:
    if isinstance(route, (APIRoute, APIWebSocketRoute)):
        yield prefix + route.path, True
    elif isinstance(route, (Mount, Host)) and not _compat.INCLUDES_ARE_LIVE:
        return  # FastAPI < 0.137 drops the mounts and hosts of an included router
    elif isinstance(route, Host) or getattr(route, "path", None) is None:
        yield None, False
    else:
        yield prefix + route.path, False


# -- recording what an app includes, for the commands that write manifests --


class Include:
    """One include_router() call, as made by the app's code."""

    __slots__ = ("filename", "lineno", "options", "router")

    def __init__(self, router: APIRouter | str, options: dict[str, Any], filename: str, lineno: int) -> None:
        self.router = router
        self.options = options
        self.filename = filename
        self.lineno = lineno


class Recording:
    """What an app's code includes while it is imported (see `recording`)."""

    def __init__(self) -> None:
        self.includes: list[Include] = []
        # Routers included by import string with no prefix, imported at include.
        self.imported: dict[str, APIRouter] = {}

    def include(self, router: APIRouter | str, options: dict[str, Any]) -> None:
        frame = _caller()
        filename, lineno = ("?", 0) if frame is None else (frame.f_code.co_filename, frame.f_lineno)
        self.includes.append(Include(router, dict(options), filename, lineno))


forced: str | None = None
"""The manifest every router reads, whatever it was given (`lazyrouter lazify`
proves its changes with the manifest they need)."""

recording: Recording | None = None
"""While set, no manifest is read: every include_router() call is recorded,
and routers included by import string with no prefix are imported at once."""


@contextlib.contextmanager
def record() -> Iterator[Recording]:
    global recording
    previous, recording = recording, Recording()
    try:
        yield recording
    finally:
        recording = previous


def _caller() -> Any:
    """The frame of the code that called include_router() (not FastAPI's or ours)."""
    frame: Any = sys._getframe(2)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(_LIBRARIES):
        frame = frame.f_back
    return frame


_LIBRARIES: Final = ("lazyrouter.", "fastapi.", "starlette.")


def recorded_import(import_string: str, router: APIRouter) -> None:
    if recording is not None:
        recording.imported[import_string] = router
