"""What a router records: one registration call, one include.

A *declaration* records one registration call (`add_api_route(...)`, a mounted
app, ...) exactly as the user made it, with the router's settings as they were
then. An *inclusion* records one `include_router()` call. A *branch* is an
inclusion as an index sees it: a router whose routes are lifted (see
`_lifting`) only once a request reaches its prefix.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from fastapi import APIRouter
from starlette.routing import (
    BaseRoute,
)

from lazyrouter import _compat
from lazyrouter.exceptions import RouterImportError

if TYPE_CHECKING:
    from lazyrouter._level import Level


API_ROUTE: Final = "api_route"
API_WEBSOCKET: Final = "api_websocket_route"
OBJECT: Final = "object"
"""A concrete route, served as it is."""
STARLETTE_COPY: Final = "starlette_copy"
"""A concrete Starlette route to serve copied under `Declaration.path` as prefix."""


@dataclass(eq=False, slots=True)
class Declaration:
    """One registration call, as made on `owner` (None: the settings are applied).

    `owner` holds the router's settings as they were when the call was made
    (see `_compat.frozen_settings`): FastAPI reads them at declaration, so later
    changes to the router apply only to routes declared later.
    """

    kind: str
    path: str
    endpoint: Any
    """The endpoint, or the route object itself for `OBJECT`."""
    options: dict[str, Any]
    owner: APIRouter | None
    routes: dict[tuple[Any, ...], tuple[Chain, BaseRoute]] | None = None
    """The deferred routes made from this declaration (shared with the
    declarations lifted from it), by the chain of includes they were lifted
    through: index rebuilds serve the same objects again."""
    key: tuple[Any, ...] = ()
    chain: Chain = ()


def import_object(import_string: str) -> Any:
    """The object `"package.module:attribute.path"` names (imports the module)."""
    module_name, _, attribute = import_string.partition(":")
    found: Any = importlib.import_module(module_name)
    for name in attribute.split("."):
        found = getattr(found, name)
    return found


def has_lifespan(router: APIRouter) -> bool:
    """Whether `router` (or a router it includes) was given a lifespan."""
    tracked = getattr(router, "_has_lifespan", None)  # a LazyRouter keeps count
    if tracked is not None:
        return bool(tracked)
    return not _compat.is_default_lifespan(router.lifespan_context)


@dataclass(eq=False, slots=True)
class RouterImport:
    """A router included by import string, imported when first needed."""

    import_string: str
    prefix: str
    """Where its routes are: the include_router() prefix, or the one a manifest records."""
    router: APIRouter | None = None
    recorded: str = ""
    """The prefix a manifest records for its routes, when included with no
    include_router() prefix (see `_manifest`): part of no include's prefix."""
    check: Callable[[APIRouter], str | None] | None = None
    """Why the imported router's routes are not where the manifest says, or None."""

    def resolve(self) -> APIRouter:
        """Import the router (once); raise `RouterImportError` naming the include."""
        if self.router is None:
            attribute = self.import_string.partition(":")[2]
            try:
                found = import_object(self.import_string)
            except Exception as exc:
                raise RouterImportError(self.import_string, self.prefix, f"{type(exc).__name__}: {exc}") from exc
            if not isinstance(found, APIRouter):
                reason = f"{attribute} is a {type(found).__name__}, not an APIRouter"
                raise RouterImportError(self.import_string, self.prefix, reason)
            if found.on_startup or found.on_shutdown or has_lifespan(found):
                # FastAPI merges these into the app's lifespan at include time,
                # before start-up; a router imported later cannot join in.
                reason = "it has a lifespan or startup/shutdown handlers; include it by object"
                raise RouterImportError(self.import_string, self.prefix, reason)
            stale = None if self.check is None else self.check(found)
            if stale is not None:
                # Indexed under the recorded prefix, its routes elsewhere would
                # be answered wrongly: refused, as an import that failed.
                raise RouterImportError(self.import_string, self.prefix, stale)
            self.router = found
        return self.router


@dataclass(eq=False, slots=True)
class Inclusion:
    """An `include_router()` call: the router and the keyword arguments given."""

    router: APIRouter | RouterImport
    options: dict[str, Any]
    parent: APIRouter
    """The including router's settings when include_router() was called: FastAPI
    reads them then, copying the routes (< 0.137) or into its include context."""
    snapshot: list[Any] | None = None
    """The included router's items when it was included, on FastAPI releases
    whose include_router() copies routes; None where inclusion is live."""
    included: APIRouter | None = None
    """With `snapshot`: the included router's settings when it was included."""
    entry: BaseRoute | None = None
    """What `.routes` lists for this call on FastAPI >= 0.137 (an `_IncludedRouter`)."""


Chain = tuple[tuple[dict[str, Any], APIRouter], ...]
"""(include_router() options, including router) pairs, innermost first."""


@dataclass(eq=False, slots=True)
class Branch:
    """An included router whose routes are lifted only once a request may need them."""

    router: APIRouter | RouterImport
    chain: Chain
    snapshot: list[Any] | None = None
    """The router's items as included (see `Inclusion.snapshot`)."""
    final: bool = True
    """Whether the routes lifted from it are served as they are (see `lift`)."""
    including: APIRouter | None = None
    """The router whose include_router() call this branch stands for."""
    included: APIRouter | None = None
    """The included router's settings when it was included (see `Inclusion.included`)."""
    level: Level | None = None
    """The branch's own routes and branches, indexed once expanded."""
    entry: BaseRoute | None = None
    """The include's `.routes` entry on FastAPI >= 0.137 (see `Inclusion.entry`)."""

    @property
    def prefix(self) -> str:
        """The path every API route of the branch starts with."""
        if len(self.chain) == 1:  # an include of the router itself: the app's first request asks each
            options, parent = self.chain[0]
            prefix: str = options.get("prefix", "")
            return parent.prefix + prefix + self._recorded
        chain = "".join(parent.prefix + options.get("prefix", "") for options, parent in reversed(self.chain))
        return chain + self._recorded

    @property
    def has_prefix(self) -> bool:
        """Whether `prefix` is not empty (asked without joining it)."""
        return bool(self._recorded) or any(parent.prefix or options.get("prefix") for options, parent in self.chain)

    @property
    def common_prefix(self) -> str:
        """The path every route of the branch starts with: what the index keys it by.

        FastAPI < 0.137 gives the Starlette routes of an included router only the
        include_router() prefixes, not the routers' own: API and Starlette routes
        share the prefix only up to the first router that has a prefix of its own.
        """
        if _compat.INCLUDES_ARE_LIVE:
            return self.prefix
        common: list[str] = []
        for options, parent in reversed(self.chain):
            if parent.prefix:
                return "".join(common)
            common.append(options.get("prefix", ""))
        return "".join(common) + self._recorded

    @property
    def _recorded(self) -> str:
        # A manifest's prefix is already relative to the include: where the
        # router's API and Starlette routes alike are, included with no prefix.
        return self.router.recorded if isinstance(self.router, RouterImport) else ""
