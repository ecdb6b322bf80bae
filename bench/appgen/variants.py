"""The variants of the benchmark app: their names, groups and descriptions.

Every variant renders the same specification (``appgen.spec``); only the
wiring of ``main.py`` and of the router modules differs (``appgen.wiring``).
"""

from __future__ import annotations

#: Variants measured by default, in the order they are reported.
VARIANTS: tuple[str, ...] = (
    "eager",
    "eager_defer",
    "fastapi_lazyrouter",
    "lazy_fastapi",
    "lazy_assign",
    "lazy_optin",
    "lazy_modules",
    "lazy_manifest",
    "lazy_snapshot",
    "floor",
)
#: Opt-in variants (not part of the default run).  ``lazy_modules`` (above)
#: needs a lazyrouter that accepts import strings in ``include_router`` (see
#: ``generate.lazy_modules_supported``); the harness skips it otherwise.
EXTRA_VARIANTS: tuple[str, ...] = ("fastapi_lazyrouter_auto",)
ALL_VARIANTS: tuple[str, ...] = VARIANTS + EXTRA_VARIANTS

#: Variants that need ``import lazyrouter`` (the library under development).
LAZYROUTER_VARIANTS: frozenset[str] = frozenset(
    {"lazy_fastapi", "lazy_assign", "lazy_optin", "lazy_modules", "lazy_manifest", "lazy_snapshot"}
)
#: Where ``lazy_snapshot`` reads its OpenAPI snapshot, inside the package; the
#: harness writes it with ``lazyrouter openapi --snapshot`` (see ``coldstart.measure``).
SNAPSHOT_FILE = "openapi.snapshot.json"
#: Where ``lazy_manifest`` reads its manifest, inside the package; the harness
#: writes it with ``lazyrouter manifest`` (as a build step would).
MANIFEST_FILE = "lazyrouter-manifest.json"
#: Variants that need the third-party ``fastapi_lazyrouter`` package.
FASTAPI_LAZYROUTER_VARIANTS: frozenset[str] = frozenset({"fastapi_lazyrouter", "fastapi_lazyrouter_auto"})
#: Variants whose models are plain (built at class-definition time).
EAGER_MODEL_VARIANTS: frozenset[str] = frozenset({"eager"})

VARIANT_DESCRIPTIONS: dict[str, str] = {
    "eager": "plain FastAPI + APIRouter, models built at import",
    "eager_defer": "plain FastAPI + APIRouter, defer_build models",
    "fastapi_lazyrouter": ("PyPI fastapi-lazyrouter: autoconfigure(app) + LazyApiRouter(prefix=...)"),
    "fastapi_lazyrouter_auto": (
        "PyPI fastapi-lazyrouter README 'Auto' mode: autoconfigure(app), plain APIRouter, include_router(prefix=...)"
    ),
    "lazy_fastapi": "lazyrouter.LazyFastAPI + LazyRouter",
    "lazy_assign": "FastAPI() then app.router = LazyRouter(); LazyRouter routers",
    "lazy_optin": "plain FastAPI, LazyRouter routers",
    "lazy_snapshot": (
        "LazyFastAPI(openapi_snapshot=...) + LazyRouter: /openapi.json served from a snapshot "
        "written by `lazyrouter openapi --snapshot`"
    ),
    "lazy_modules": (
        'LazyFastAPI + include_router("benchapp.routers.rNNNN:router", ...): router modules not imported by main'
    ),
    "lazy_manifest": (
        'LazyFastAPI(manifest=...) + include_router("benchapp.routers.rNNNN:router"): each module\'s '
        'LazyRouter(prefix="/rNNNN", tags=...) declares its prefix; none imported by main'
    ),
    "floor": "imports everything, builds no route but one trivial GET",
}
