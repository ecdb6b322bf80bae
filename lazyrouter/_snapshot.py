"""OpenAPI snapshots: serve a document written ahead of time, unless stale.

A snapshot file holds the document and a fingerprint of the route
declarations it was generated from:

    {"lazyrouter_snapshot": 1, "fingerprint": "<sha256>", "openapi": {...}}

The fingerprint covers what declaring routes says (paths, methods, names,
endpoints, dependencies, include arguments, import strings), computed without
building a route or importing a lazily included module. It does not cover the
fields of Pydantic models: regenerate the snapshot when models change
(`lazyrouter openapi module:app --snapshot -o FILE` in the build).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from lazyrouter import _compat
from lazyrouter._declarations import Declaration, Inclusion, RouterImport

__all__ = ("fingerprint", "load", "dump")

logger = logging.getLogger("lazyrouter")
FORMAT = 1


def fingerprint(router: APIRouter) -> str:
    digest = hashlib.sha256()
    for part in _describe_router(router):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


def dump(document: dict[str, Any], router: APIRouter) -> str:
    return json.dumps({"lazyrouter_snapshot": FORMAT, "fingerprint": fingerprint(router), "openapi": document})


def load(path: str | os.PathLike[str], router: APIRouter) -> dict[str, Any] | None:
    """The snapshot's document, or None (with a warning) if missing or stale."""
    try:
        snapshot = json.loads(Path(path).read_text(encoding="utf-8"))
        document, recorded = snapshot["openapi"], snapshot["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("OpenAPI snapshot %s cannot be used (%s); generating the document", path, exc)
        return None
    if recorded != fingerprint(router):
        logger.warning(
            "OpenAPI snapshot %s is stale (routes changed since it was written); generating the document", path
        )
        return None
    return dict(document)


def _describe_router(router: APIRouter | RouterImport) -> Iterator[str]:
    if isinstance(router, RouterImport):
        yield f"import {router.import_string}"
        return
    yield "router " + _stable({name: getattr(router, name, None) for name in _ROUTER_SETTINGS})
    current_declarations = getattr(router, "_current_declarations", None)  # a LazyRouter
    declarations = None if current_declarations is None else current_declarations()
    if declarations is None:  # a plain APIRouter
        for route, effective in _compat.effective_routes(router):
            source = effective if effective is not None else route
            yield "route " + _stable({name: getattr(source, name, None) for name in _ROUTE_FIELDS})
        return
    for item in declarations:
        if isinstance(item, Inclusion):
            yield "include " + _stable(item.options)
            yield from _describe_router(item.router)
        else:
            yield _describe_declaration(item)


def _describe_declaration(declaration: Declaration) -> str:
    if declaration.kind == "object":
        route = declaration.endpoint
        fields = {name: getattr(route, name, None) for name in _ROUTE_FIELDS}
        return f"object {type(route).__qualname__} " + _stable(fields)
    return f"{declaration.kind} {declaration.path} {_stable(declaration.endpoint)} {_stable(declaration.options)}"


_ROUTER_SETTINGS = (
    "prefix",
    "tags",
    "dependencies",
    "responses",
    "callbacks",
    "deprecated",
    "include_in_schema",
    "default_response_class",
    "generate_unique_id_function",
)
_ROUTE_FIELDS = ("path", "methods", "name", "endpoint", "include_in_schema", "tags", "dependencies", "response_model")


def _stable(value: Any) -> str:
    """A representation that is the same in every process (no memory addresses)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_stable(key)}:{_stable(item)}" for key, item in sorted(value.items(), key=str)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_stable(item) for item in value) + "]"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(_stable(item) for item in value)) + "}"
    if hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '?')}:{value.__qualname__}"
    dependency = getattr(value, "dependency", None)  # Depends(...), Security(...)
    if dependency is not None or type(value).__name__ in ("Depends", "Security"):
        scopes = getattr(value, "scopes", None)
        return f"{type(value).__name__}({_stable(dependency)},{_stable(scopes)})"
    inner = getattr(value, "value", None)  # fastapi DefaultPlaceholder
    if type(value).__name__ == "DefaultPlaceholder":
        return f"Default({_stable(inner)})"
    return type(value).__qualname__
