"""OpenAPI snapshots: serve a document written ahead of time, unless stale.

A snapshot file holds the document and a fingerprint of what it was generated
from:

    {"lazyrouter_snapshot": 1, "fingerprint": "<sha256>", "openapi": {...}}

The fingerprint covers the app's settings (title, version, servers, ...) and
its route and webhook declarations (paths, methods, names, include arguments,
import strings, the routers' settings) and what FastAPI reads from
the code they name: each endpoint's signature (parameter names, kinds,
defaults such as `Query(gt=0)`, annotations, generic arguments such as
`list[Item]`) and docstring, and the signatures of dependencies, followed
recursively. String annotations are evaluated as FastAPI evaluates them (once
per module and text); one that cannot be is covered as its text. It is
computed without building a route or importing a module included by import
string, and so it does not cover:

- the fields of Pydantic models (`-> Item` is covered as the name `Item`);
- the routes of routers included by import string (the import string is).

Regenerate the snapshot in the build (`lazyrouter openapi module:app
--snapshot -o FILE`). `lazyrouter check` compares an app's snapshot with the
document the app generates, and fails if they differ, whatever changed.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import itertools
import json
import logging
import os
import sys
import typing
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, params
from fastapi.datastructures import DefaultPlaceholder
from pydantic.fields import FieldInfo

from lazyrouter import _compat
from lazyrouter._declarations import OBJECT, Declaration, Inclusion, RouterImport

__all__ = ("fingerprint", "dump", "read", "load", "compare", "differences")

logger = logging.getLogger("lazyrouter")
FORMAT = 1


def fingerprint(app: FastAPI | APIRouter) -> str:
    describer = _Describer()
    digest = hashlib.sha256()
    for part in describer.app(app) if isinstance(app, FastAPI) else describer.router(app):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


def dump(document: dict[str, Any], app: FastAPI) -> str:
    return json.dumps({"lazyrouter_snapshot": FORMAT, "fingerprint": fingerprint(app), "openapi": document})


def read(path: str | os.PathLike[str]) -> tuple[dict[str, Any], str]:
    """The snapshot's document and fingerprint; OSError or ValueError if unreadable."""
    snapshot = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(snapshot, dict) or "fingerprint" not in snapshot or not isinstance(snapshot.get("openapi"), dict):
        raise ValueError("not a snapshot: write one with `lazyrouter openapi --snapshot`")
    return snapshot["openapi"], str(snapshot["fingerprint"])


def load(path: str | os.PathLike[str], app: FastAPI) -> dict[str, Any] | None:
    """The snapshot's document, or None (with a warning) if missing or stale."""
    try:
        document, recorded = read(path)
    except (OSError, ValueError) as exc:
        logger.warning("OpenAPI snapshot %s cannot be used (%s); generating the document", path, exc)
        return None
    if recorded != fingerprint(app):
        logger.warning(
            "OpenAPI snapshot %s is stale (routes changed since it was written); generating the document", path
        )
        return None
    return document


def compare(path: str | os.PathLike[str], app: FastAPI, generated: dict[str, Any]) -> tuple[str, str] | None:
    """What `lazyrouter check` reports of the snapshot at `path`: an error if it
    would serve another document than `generated`, a warning if it would not be
    used; as (kind, message), or None if it would be served and is current."""
    try:
        document, recorded = read(path)
    except (OSError, ValueError) as exc:
        return "snapshot", f"OpenAPI snapshot {path} cannot be used ({exc}): the document is generated at run time"
    where = list(itertools.islice(differences(document, generated), 3))
    if where:
        return (
            "error",
            f"OpenAPI snapshot {path} is stale: it differs from the generated document at {', '.join(where)}",
        )
    if recorded != fingerprint(app):
        return "snapshot", f"OpenAPI snapshot {path} will not be used: its fingerprint is not the routes' (rewrite it)"
    return None


def differences(snapshot: Any, generated: Any, where: str = "#") -> Iterator[str]:
    """JSON pointers to where two documents differ, as `#/paths/~1items/get`."""
    if isinstance(snapshot, dict) and isinstance(generated, dict):
        for key in list(snapshot) + [key for key in generated if key not in snapshot]:
            pointer = f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in snapshot or key not in generated:
                yield pointer
            else:
                yield from differences(snapshot[key], generated[key], pointer)
    elif isinstance(snapshot, list) and isinstance(generated, list) and len(snapshot) == len(generated):
        for index, (left, right) in enumerate(zip(snapshot, generated, strict=True)):
            yield from differences(left, right, f"{where}/{index}")
    elif snapshot != generated:
        yield where


class _Describer:
    """Text for what a document is generated from, the same in every process
    (no memory addresses); each callable and each router state described once."""

    def __init__(self) -> None:
        # By id, with the object kept alive so that the id is not reused.
        self._callables: dict[tuple[int, bool], tuple[Any, str]] = {}
        self._settings: dict[int, tuple[Any, str]] = {}
        self._objects: dict[int, tuple[Any, str]] = {}
        self._evaluated: dict[tuple[int, str], Any] = {}

    def app(self, app: FastAPI) -> Iterator[str]:
        yield "app " + self.stable({name: getattr(app, name, None) for name in _APP_SETTINGS})
        yield "webhooks"
        yield from self.router(app.webhooks)
        yield "routes"
        yield from self.router(app.router)

    def router(self, router: APIRouter | RouterImport) -> Iterator[str]:
        if isinstance(router, RouterImport):
            yield f"import {router.import_string}"
            return
        yield "router " + self.settings(router)
        current_declarations = getattr(router, "_current_declarations", None)  # a LazyRouter
        declarations = None if current_declarations is None else current_declarations()
        if declarations is None:  # a plain APIRouter
            for route, effective in _compat.effective_routes(router):
                yield "route " + self.route(effective if effective is not None else route)
            return
        for item in declarations:
            if isinstance(item, Inclusion):
                yield "include " + self.stable(item.options)
                yield from self.router(item.router)
            else:
                yield self.declaration(item)

    def declaration(self, declaration: Declaration) -> str:
        if declaration.kind == OBJECT:
            return f"object {type(declaration.endpoint).__qualname__} " + self.route(declaration.endpoint)
        endpoint = self.callable(declaration.endpoint, documented=True)
        owner = "" if declaration.owner is None else self.settings(declaration.owner)
        return f"{declaration.kind} {declaration.path} {endpoint} {self.stable(declaration.options)} {owner}"

    def settings(self, router: APIRouter) -> str:
        known = self._settings.get(id(router))
        if known is None:
            known = self._settings[id(router)] = (
                router,
                self.stable({name: getattr(router, name, None) for name in _ROUTER_SETTINGS}),
            )
        return known[1]

    def route(self, route: Any) -> str:
        fields = {name: getattr(route, name, None) for name in _ROUTE_FIELDS}
        endpoint = fields.pop("endpoint")
        described = self.stable(None) if endpoint is None else self.callable(endpoint, documented=True)
        return f"{self.stable(fields)} {described}"

    def callable(self, call: Any, documented: bool = False) -> str:
        """The callable's name and signature (and docstring: an endpoint's is its description)."""
        key = (id(call), documented)
        known = self._callables.get(key)
        if known is not None:
            return known[1]
        name = self.stable(call)
        self._callables[key] = (call, name)  # what a dependency of itself would see
        try:
            signature = inspect.signature(call)
        except (TypeError, ValueError):  # a builtin without one: FastAPI sees no parameters either
            described = name
        else:
            namespace = _namespace(call)
            parameters = ",".join(self.parameter(parameter, namespace) for parameter in signature.parameters.values())
            returns = self.annotation(signature.return_annotation, namespace)
            described = f"{name}({parameters})->{self.stable(returns)}"
        if documented:
            described += " " + self.stable(getattr(call, "__doc__", None))
        self._callables[key] = (call, described)
        return described

    def parameter(self, parameter: inspect.Parameter, namespace: dict[str, Any] | None) -> str:
        annotation, default = self.annotation(parameter.annotation, namespace), parameter.default
        described = f"{parameter.kind.name} {parameter.name}:{self.stable(annotation)}={self.stable(default)}"
        # Depends() without a callable calls the annotated class.
        if typing.get_origin(annotation) is typing.Annotated:
            annotation, *metadata = typing.get_args(annotation)
        else:
            metadata = []
        if any(_calls_annotation(item) for item in [default, *metadata]) and not isinstance(annotation, str):
            described += " " + self.callable(annotation)
        return described

    def annotation(self, annotation: Any, namespace: dict[str, Any] | None) -> Any:
        """A string annotation evaluated, as FastAPI evaluates it: `"Annotated[str,
        Depends(user)]"` is followed to `user`. Evaluated once per module."""
        if not isinstance(annotation, str) or namespace is None:
            return annotation
        key = (id(namespace), annotation)
        if key not in self._evaluated:
            try:
                self._evaluated[key] = eval(annotation, namespace)
            except Exception:  # a name only type checkers see: its text stands for it
                self._evaluated[key] = annotation
        return self._evaluated[key]

    def stable(self, value: Any) -> str:
        if type(value) in _PLAIN:
            return repr(value)
        if isinstance(value, dict):
            items = sorted(value.items(), key=lambda item: str(item[0]))
            return "{" + ",".join(f"{self.stable(key)}:{self.stable(item)}" for key, item in items) + "}"
        if isinstance(value, (list, tuple)):
            return "[" + ",".join(self.stable(item) for item in value) + "]"
        if isinstance(value, (set, frozenset)):
            return "{" + ",".join(sorted(self.stable(item) for item in value)) + "}"
        known = self._objects.get(id(value))
        if known is None:
            known = self._objects[id(value)] = (value, self._object(value))
        return known[1]

    def _object(self, value: Any) -> str:
        if value is inspect.Parameter.empty:
            return ""
        if isinstance(value, Enum):
            return f"{type(value).__qualname__}.{value.name}"
        origin = typing.get_origin(value)
        if origin is not None:  # list[Item], Item | None, Annotated[int, Query(gt=0)]
            return f"{self.stable(origin)}[{','.join(self.stable(arg) for arg in typing.get_args(value))}]"
        if isinstance(value, params.Depends):  # Depends(...), Security(...)
            state = _public_state(value)
            dependency = state.pop("dependency", None)
            described = self.stable(None) if dependency is None else self.callable(dependency)
            return f"{type(value).__qualname__}({described},{self.stable(state)})"
        if isinstance(value, functools.partial):
            return f"partial({self.callable(value.func)},{self.stable(value.args)},{self.stable(value.keywords)})"
        if hasattr(value, "__qualname__"):  # a class or a function
            return f"{getattr(value, '__module__', '?')}:{value.__qualname__}"
        if isinstance(value, DefaultPlaceholder):
            return f"Default({self.stable(value.value)})"
        if isinstance(value, FieldInfo):  # Query(gt=0): its repr shows the default only
            return type(value).__qualname__ + self.stable(_public_state(value))
        text = repr(value)  # Gt(gt=0), re.compile('^x')
        return type(value).__qualname__ if " at 0x" in text else text


_PLAIN = frozenset({type(None), bool, int, float, str, bytes})


def _namespace(call: Any) -> dict[str, Any] | None:
    """The globals the callable's string annotations are evaluated in."""
    if isinstance(call, type):
        module = sys.modules.get(call.__module__)
        return None if module is None else vars(module)
    namespace = getattr(inspect.unwrap(call), "__globals__", None)
    return namespace if isinstance(namespace, dict) else None


def _calls_annotation(value: Any) -> bool:
    return isinstance(value, params.Depends) and value.dependency is None


def _public_state(value: Any) -> dict[str, Any]:
    """The public attributes that are set (not None): few of a FieldInfo's 30."""
    cls = type(value)
    slots = _PUBLIC_SLOTS.get(cls)
    if slots is None:
        names = [getattr(base, "__slots__", ()) for base in cls.__mro__]
        slots = _PUBLIC_SLOTS[cls] = tuple(
            name for group in names for name in ((group,) if isinstance(group, str) else group) if name[0] != "_"
        )
    state = {name: getattr(value, name, None) for name in slots}
    state.update(vars(value) if hasattr(value, "__dict__") else {})
    return {name: item for name, item in state.items() if item is not None and not name.startswith("_")}


_PUBLIC_SLOTS: dict[type, tuple[str, ...]] = {}


# What FastAPI.openapi() reads from the app (getattr: not every release has each).
_APP_SETTINGS = (
    "title",
    "summary",
    "description",
    "version",
    "openapi_version",
    "terms_of_service",
    "contact",
    "license_info",
    "openapi_tags",
    "servers",
    "separate_input_output_schemas",
    "openapi_external_docs",
)
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
