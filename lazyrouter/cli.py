"""The `lazyrouter` command: give back, on demand, what lazy routes defer.

    lazyrouter check app.main:app [--json]      build every route, report all failures
    lazyrouter openapi app.main:app [-o FILE]   write the OpenAPI document
    lazyrouter profile app.main:app [--top N]   where start-up time goes
    lazyrouter manifest app.main:app [-o FILE]  where routers included by import string live
    lazyrouter lazify app.main:app [--write]    include router modules by import string

Imported only when the command runs; nothing here is on the request path.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from fastapi import FastAPI
from starlette.routing import BaseRoute

from lazyrouter import _lazify, _manifest, _snapshot
from lazyrouter._declarations import import_object
from lazyrouter._routes import BrokenRoute, endpoint_location, prepare_route
from lazyrouter.applications import LazyFastAPI
from lazyrouter.exceptions import LazyRouterError, RouteBuildError
from lazyrouter.router import LazyRouter

__all__ = ("main",)

EXIT_OK, EXIT_ERRORS, EXIT_CANNOT_LOAD = 0, 1, 2


class LoadError(Exception):
    pass


def load_app(target: str) -> FastAPI:
    """Import `module:attribute` (the current directory is importable, as for uvicorn)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise LoadError(f"expected 'module:attribute', got {target!r}")
    sys.path.insert(0, os.getcwd())
    try:
        found = import_object(target)
    except Exception as exc:
        raise LoadError(f"could not load {target!r}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(found, FastAPI):
        raise LoadError(f"{target!r} is a {type(found).__name__}, not a FastAPI app")
    return found


def lazy_routers(app: FastAPI) -> list[LazyRouter]:
    """The LazyRouters serving `app`: its own router, or those it includes."""
    if isinstance(app.router, LazyRouter):
        return [app.router]
    found: list[LazyRouter] = []
    for route in app.routes:
        original = getattr(route, "original_router", None)  # FastAPI >= 0.137 includes
        if isinstance(original, LazyRouter) and all(original is not seen for seen in found):
            found.append(original)
    return found


@dataclass
class Problem:
    kind: str  # "error", "duplicate", "shadowed" or "snapshot"
    methods: list[str]
    path: str
    endpoint: str
    source: str
    message: str


@dataclass
class Report:
    routes: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.kind == "error"]


def _describe(route: BaseRoute) -> tuple[list[str], str, str, str]:
    state = route.__dict__
    endpoint, source = endpoint_location(state.get("endpoint"))
    return sorted(state.get("methods") or []), str(state.get("path", "")), endpoint, source or "?"


def check_routes(
    routes: Sequence[BaseRoute], progress: TextIO | None = None, served: Sequence[BaseRoute] | None = None
) -> Report:
    """Build every route; collect every failure, duplicate and shadowed route
    (among `served`, every route as requests reach it, if not `routes`)."""
    report = Report(routes=len(routes))
    for number, route in enumerate(routes, 1):
        error = prepare_route(route)
        if error is not None:
            methods, path, endpoint, source = _describe(route)
            cause = error.__cause__ or error
            message = f"{type(cause).__name__}: {cause}" if isinstance(error, RouteBuildError) else str(error)
            report.problems.append(Problem("error", methods, path, endpoint, source, message))
        if progress is not None and (number % 25 == 0 or number == len(routes)):
            done = 30 * number // max(len(routes), 1)
            progress.write(f"\rbuilding routes [{'#' * done}{' ' * (30 - done)}] {number}/{len(routes)}")
            progress.flush()
    if progress is not None:
        progress.write("\n")
    report.problems.extend(_unreachable(routes if served is None else served))
    return report


def _unreachable(routes: Sequence[BaseRoute]) -> Iterator[Problem]:
    """Routes no request reaches: an earlier route with the same template and
    methods (duplicate), or an earlier route matching a static path for all of
    its methods (shadowed; `/x/{id}` declared before `/x/bulk`)."""
    earlier: list[tuple[str, Any, set[str] | None]] = []
    for route in routes:
        path = route.__dict__.get("path")
        methods = route.__dict__.get("methods")
        path_regex = getattr(route, "path_regex", None) if path is not None else None
        if path is None or path_regex is None:
            continue
        path_format = getattr(route, "path_format", path)
        for template, regex, previous_methods in earlier:
            covered = methods is not None and (previous_methods is None or set(methods) <= previous_methods)
            if not covered:
                continue
            duplicate = template == path_format
            if duplicate or (not re.search("{", path) and regex.match(path)):
                methods_, path_, endpoint, source = _describe(route)
                kind = "duplicate" if duplicate else "shadowed"
                message = f"unreachable: {template} is declared earlier for the same methods"
                yield Problem(kind, methods_, path_, endpoint, source, message)
                break
        earlier.append((path_format, path_regex, set(methods) if methods is not None else None))


def _checked_routes(app: FastAPI) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """The routes `check` builds, and every route as requests reach it.

    Routers a plain app includes (FastAPI >= 0.137) are checked as their
    includes serve them, under the include's prefix: each router once, and
    every include for routes no request reaches."""
    if isinstance(app.router, LazyRouter):
        routes = app.router.served_routes()
        return routes, routes
    checked: list[BaseRoute] = []
    served: list[BaseRoute] = []
    seen: list[LazyRouter] = []
    for entry in app.routes:
        original = getattr(entry, "original_router", None)
        if isinstance(original, LazyRouter):
            routes = original._served_through(entry)
            served.extend(routes)
            if all(original is not router for router in seen):
                seen.append(original)
                checked.extend(routes)
    if not seen:
        return list(app.routes), list(app.routes)
    return checked, served


def command_check(args: argparse.Namespace) -> int:
    app = load_app(args.app)
    routes, served = _checked_routes(app)
    progress = sys.stderr if sys.stderr.isatty() and not args.json else None
    report = check_routes(routes, progress, served)
    report.problems.extend(_snapshot_problems(app))
    if args.json:
        print(json.dumps({"routes": report.routes, "problems": [asdict(p) for p in report.problems]}, indent=2))
    else:
        for problem in report.problems:
            label = "ERROR" if problem.kind == "error" else f"warning ({problem.kind})"
            print(f"{label}: {','.join(problem.methods) or '*'} {problem.path}")
            print(f"    endpoint {problem.endpoint} at {problem.source}")
            print(f"    {problem.message}")
        warnings = len(report.problems) - len(report.errors)
        print(f"{report.routes} routes checked: {len(report.errors)} errors, {warnings} warnings")
    return EXIT_ERRORS if report.errors else EXIT_OK


def _snapshot_problems(app: FastAPI) -> Iterator[Problem]:
    """Whether the app's OpenAPI snapshot would serve the document it generates."""
    if not isinstance(app, LazyFastAPI) or app.openapi_snapshot is None:
        return
    path, app.openapi_snapshot = app.openapi_snapshot, None  # generate, as if there were none
    found = _snapshot.compare(path, app, app.openapi())
    if found is not None:
        kind, message = found
        yield Problem(kind, [], app.openapi_url or "", "openapi_snapshot", os.fspath(path), message)


def command_openapi(args: argparse.Namespace) -> int:
    app = load_app(args.app)
    if args.snapshot and not isinstance(app.router, LazyRouter):
        raise LoadError(f"{args.app!r} is not served by a LazyRouter: a snapshot needs LazyFastAPI")
    generated = app.openapi()  # imports every router included by import string
    served = (route for router in lazy_routers(app) for route in router.served_routes())
    failed = [route for route in served if isinstance(route, BrokenRoute)]
    if failed:
        # Their routes would be missing from the document: none is written.
        for route in failed:
            print(f"ERROR: {route.error}", file=sys.stderr)
        return EXIT_ERRORS
    document = _snapshot.dump(generated, app) if args.snapshot else json.dumps(generated, indent=2, sort_keys=False)
    if args.output == "-":
        print(document)
    else:
        with open(args.output, "w", encoding="utf-8") as output:
            output.write(document + "\n")
    return EXIT_OK


def command_manifest(args: argparse.Namespace) -> int:
    with _manifest.record() as recording:
        app = load_app(args.app)
        for router in lazy_routers(app):
            router.served_routes()  # imports the routers included by import string, to see what they include
    document = _manifest.dump(args.app, recording.imported)
    if args.output == "-":
        print(document)
    else:
        with open(args.output, "w", encoding="utf-8") as output:
            output.write(document + "\n")
    entries = json.loads(document)["routers"]
    for import_string, entry in entries.items():
        where = f"under {entry['prefix']}" if entry["prefix"] else "imported at start: its routes share no path prefix"
        print(f"{import_string}: {where}", file=sys.stderr)
    if not entries:
        print("No router is included by import string with no prefix: the manifest is empty.", file=sys.stderr)
    return EXIT_OK


def command_lazify(args: argparse.Namespace) -> int:
    with _manifest.record() as recording:
        app = load_app(args.app)
    routers = lazy_routers(app)
    if not routers:
        raise LoadError(f"{args.app!r} is not served by a LazyRouter: only a LazyRouter includes import strings")
    routes = [route for router in routers for route in router.served_routes()]
    return _lazify.lazify(args.app, app, routes, recording, write=args.write, get=args.get)


_IMPORT_TIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _import_times(module: str) -> dict[str, float]:
    """Import time (s) of each module, from a fresh interpreter.

    fastapi, lazyrouter and `module` are imported in turn, so each one's time
    counts only what was not imported before it.
    """
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import fastapi; import lazyrouter; import {module}"],
        capture_output=True,
        text=True,
        cwd=os.getcwd(),
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))},
    )
    times: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = _IMPORT_TIME.match(line)
        if match:
            times[match.group(4)] = int(match.group(2)) / 1e6
    return times


def _models(package: str) -> list[type]:
    from pydantic import BaseModel

    seen: list[type] = []
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop()
        stack.extend(model.__subclasses__())
        if model.__module__.split(".")[0] == package and model not in seen:
            seen.append(model)
    return seen


def command_profile(args: argparse.Namespace) -> int:
    module_name = args.app.partition(":")[0]
    times = _import_times(module_name)
    started = time.perf_counter()
    app = load_app(args.app)
    import_seconds = time.perf_counter() - started
    package = module_name.split(".")[0]
    models = _models(package)
    eager_models = [model for model in models if not model.model_config.get("defer_build")]  # type: ignore[attr-defined]
    print("Start-up, measured in a fresh interpreter (python -X importtime; each import counts what it adds):")
    for name in ("fastapi", "pydantic", "lazyrouter", module_name):
        if name in times:
            print(f"  import {name:<40} {times[name] * 1000:9.1f} ms")
    print(f"  (import of {args.app} in this process: {import_seconds * 1000:.1f} ms)")
    print(f"Models in {package!r}: {len(models)}, of which {len(eager_models)} build their schema at import")
    routers = lazy_routers(app)
    routes = [route for router in routers for route in router.served_routes()] if routers else []
    costs: list[tuple[float, BaseRoute]] = []
    for route in routes:
        if "_lazyrouter_factory" not in route.__dict__:
            continue
        started = time.perf_counter()
        if prepare_route(route) is None:
            costs.append((time.perf_counter() - started, route))
    total = sum(cost for cost, _ in costs)
    print(
        f"Routes: {len(costs)} declared lazily; building all of them (with the validators their first "
        f"requests build) takes {total * 1000:.1f} ms"
    )
    if costs:
        print(f"Slowest {min(args.top, len(costs))} route builds:")
        for cost, route in sorted(costs, key=lambda item: item[0], reverse=True)[: args.top]:
            methods, path, endpoint, _ = _describe(route)
            models_used = _route_models(route)
            print(f"  {cost * 1000:8.2f} ms  {','.join(methods)} {path}  ({endpoint}){models_used}")
    eager = [router.stats() for router in routers]
    built_at_declaration = sum(stats.built_at_declaration for stats in eager)
    if built_at_declaration:
        seconds = sum(stats.declaration_build_seconds for stats in eager)
        print(
            f"Routes built at declaration: {built_at_declaration} (their route class overrides __init__, "
            f"matches(), url_path_for() or handle(), so only building them tells what they match): "
            f"{seconds * 1000:.1f} ms of the import"
        )
    if not routers:
        print("No LazyRouter serves this app: every route was built at import (see the README's usage modes).")
    if eager_models and len(eager_models) >= max(10, len(models) // 4):
        print(
            f"Suggestion: {len(eager_models)} models build their schema at import. With routes deferred, "
            "model_config = ConfigDict(defer_build=True) lets them wait too (see README, 'Pydantic defer_build')."
        )
    return EXIT_OK


def _route_models(route: BaseRoute) -> str:
    names = []
    for field_name in ("body_field", "response_field"):
        model_field = getattr(route, field_name, None)
        annotation = getattr(getattr(model_field, "field_info", None), "annotation", None)
        if annotation is not None:
            names.append(getattr(annotation, "__name__", str(annotation)))
    return f" models: {', '.join(names)}" if names else ""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lazyrouter", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="build every route as eager FastAPI would; report all failures")
    check.add_argument("app", help="the app, as module:attribute")
    check.add_argument("--json", action="store_true", help="machine-readable report")
    check.set_defaults(run=command_check)
    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("app")
    openapi.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    openapi.add_argument(
        "--snapshot", action="store_true", help="write a snapshot for LazyFastAPI(openapi_snapshot=FILE)"
    )
    openapi.set_defaults(run=command_openapi)
    profile = commands.add_parser("profile", help="where start-up time goes")
    profile.add_argument("app")
    profile.add_argument("--top", type=int, default=10, help="how many of the slowest routes to list")
    profile.set_defaults(run=command_profile)
    manifest = commands.add_parser(
        "manifest", help="write where the routers included by import string with no prefix have their routes"
    )
    manifest.add_argument("app")
    manifest.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    manifest.set_defaults(run=command_manifest)
    lazify = commands.add_parser("lazify", help="include router modules by import string; prove nothing changes")
    lazify.add_argument("app")
    lazify.add_argument("--write", action="store_true", help="edit the files once the change is proven")
    lazify.add_argument(
        "--get", action="store_true", help="also send GET to every GET route (runs endpoints: use a test setup)"
    )
    lazify.set_defaults(run=command_lazify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except LoadError as exc:
        print(f"lazyrouter: {exc}", file=sys.stderr)
        return EXIT_CANNOT_LOAD
    # No command lets one escape today (check reports them): kept for those to come.
    except LazyRouterError as exc:  # pragma: no cover
        print(f"lazyrouter: {exc}", file=sys.stderr)
        return EXIT_ERRORS
