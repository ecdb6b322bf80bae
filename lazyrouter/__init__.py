"""Build FastAPI routes on first request instead of at import time."""

from __future__ import annotations

from lazyrouter._warmup import WarmUp
from lazyrouter.applications import LazyFastAPI
from lazyrouter.exceptions import LazyRouterError, RouteBuildError, RouterImportError
from lazyrouter.router import LazyRouter

__version__ = "0.1.0.dev0"

__all__ = [
    "LazyFastAPI",
    "LazyRouter",
    "LazyRouterError",
    "RouteBuildError",
    "RouterImportError",
    "WarmUp",
    "__version__",
]
