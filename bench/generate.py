"""Generate a synthetic FastAPI application for the cold-start benchmarks.

The generated package ``benchapp`` looks like a real mid-to-large API: one
module per router under ``benchapp/routers/``, each defining nested Pydantic
models (lists, ``Optional``, enums, ``datetime``, constrained fields, nested
sub-models and models shared through ``benchapp/models/common.py``) and CRUD
endpoints (list with query + header parameters, get-by-id, create, update,
delete), some of them using ``Depends(...)`` on ``benchapp/deps.py``.

Every *variant* renders the same specification; only the wiring differs
(see ``VARIANT_DESCRIPTIONS``).  Output is deterministic: all choices come
from ``random.Random`` instances seeded from ``SEED`` and the router/resource
index, so router ``r0000`` is identical for every size and variant.

Usage::

    python bench/generate.py --size large --variant eager --out /tmp/app
    PYTHONPATH=/tmp/app python -c "from benchapp.main import app"

``probe_requests(size, variant)`` returns the requests (and the exact expected
answers) that the harness uses to check a variant before timing it.

This module writes the files and is the command line; what they hold comes
from the parts in ``bench/appgen/`` (listed in its docstring).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# ``appgen`` sits beside this file; make it importable when this module is
# loaded by path (``tests/test_bench_smoke.py``) rather than run as a script.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from appgen.probes import ProbeRequest, expected_operation_count, first_request, probe_requests
from appgen.shared import DEPS_SOURCE, render_common, render_fixtures
from appgen.spec import (
    PACKAGE,
    SEED,
    SIZES,
    FieldSpec,
    ResourceSpec,
    SizeSpec,
    count_models,
    resource_spec,
    router_resources,
)
from appgen.variants import (
    ALL_VARIANTS,
    EAGER_MODEL_VARIANTS,
    EXTRA_VARIANTS,
    FASTAPI_LAZYROUTER_VARIANTS,
    LAZYROUTER_VARIANTS,
    MANIFEST_FILE,
    SNAPSHOT_FILE,
    VARIANT_DESCRIPTIONS,
    VARIANTS,
)
from appgen.wiring import render_main, render_router

#: What the harness, ``bench/warm_up.py`` and the tests use, wherever it lives.
__all__ = [
    "ALL_VARIANTS",
    "DEPS_SOURCE",
    "EAGER_MODEL_VARIANTS",
    "EXTRA_VARIANTS",
    "FASTAPI_LAZYROUTER_VARIANTS",
    "LAZYROUTER_VARIANTS",
    "MANIFEST_FILE",
    "PACKAGE",
    "SEED",
    "SIZES",
    "SNAPSHOT_FILE",
    "VARIANTS",
    "VARIANT_DESCRIPTIONS",
    "FieldSpec",
    "Manifest",
    "ProbeRequest",
    "ResourceSpec",
    "SizeSpec",
    "count_models",
    "expected_operation_count",
    "first_request",
    "generate",
    "lazy_modules_supported",
    "main",
    "probe_requests",
    "render_common",
    "render_fixtures",
    "render_main",
    "render_router",
    "resource_spec",
    "router_resources",
]


@dataclass(frozen=True)
class Manifest:
    """What was generated (written as ``benchapp/manifest.json``)."""

    size: str
    variant: str
    seed: int
    routers: int
    routes: int
    models: int
    description: str
    probes: list[dict[str, Any]]


def generate(size: str, variant: str, out_dir: str | Path) -> Path:
    """Write ``out_dir/benchapp`` for ``size``/``variant``; return the package dir.

    An existing ``out_dir/benchapp`` is replaced.  Add ``out_dir`` to
    ``sys.path`` (or ``PYTHONPATH``) and import ``benchapp.main:app``.
    """
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose from {sorted(SIZES)}")
    if variant not in ALL_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {ALL_VARIANTS}")
    spec = SIZES[size]
    deferred = variant not in EAGER_MODEL_VARIANTS
    pkg = Path(out_dir) / PACKAGE
    if pkg.exists():
        shutil.rmtree(pkg)
    (pkg / "models").mkdir(parents=True)
    (pkg / "routers").mkdir()
    files: dict[Path, str] = {
        pkg / "__init__.py": (
            f'"""Synthetic FastAPI benchmark app: size {size}, variant {variant}."""\n\n'
            f"SIZE = {size!r}\nVARIANT = {variant!r}\n"
        ),
        pkg / "models" / "__init__.py": '"""Shared models."""\n',
        pkg / "models" / "common.py": render_common(deferred),
        pkg / "routers" / "__init__.py": '"""One module per router."""\n',
        pkg / "deps.py": DEPS_SOURCE,
        pkg / "fixtures.py": render_fixtures(),
        pkg / "main.py": render_main(spec, variant),
    }
    for i in range(spec.routers):
        files[pkg / "routers" / f"r{i:04d}.py"] = render_router(spec, variant, i)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    manifest = Manifest(
        size=size,
        variant=variant,
        seed=SEED,
        routers=spec.routers,
        routes=spec.routers * spec.endpoints_per_router,
        models=count_models(spec),
        description=VARIANT_DESCRIPTIONS[variant],
        probes=[p.to_json() for p in probe_requests(size, variant)],
    )
    (pkg / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return pkg


#: Module the ``lazy_modules_supported`` probe registers in ``sys.modules``.
_PROBE_MODULE = "_lazyrouter_bench_import_string_probe"


def lazy_modules_supported() -> bool:
    """Whether the importable ``lazyrouter`` accepts import strings in ``include_router``.

    ``hasattr(lazyrouter, "__version__")`` says nothing about the feature, so
    this tries it: ``LazyRouter().include_router("<module>:router", prefix=...)``
    on a throw-away module holding a real ``LazyRouter``.  Any exception
    (``TypeError``/``AssertionError``/``AttributeError`` from a release that
    expects a router object) means unsupported.  A genuine router is used
    rather than e.g. ``"json:JSONDecoder"`` so that a release which resolves
    the string eagerly, and rightly rejects a non-router, is not misjudged.
    Imports ``lazyrouter``: call it in the interpreter that will run the app.
    """
    import sys
    import types

    from lazyrouter import LazyRouter

    module = types.ModuleType(_PROBE_MODULE)
    module.router = LazyRouter()  # type: ignore[attr-defined]
    sys.modules[_PROBE_MODULE] = module
    try:
        LazyRouter().include_router(f"{_PROBE_MODULE}:router", prefix="/x")  # type: ignore[arg-type]
    except Exception:
        return False
    finally:
        sys.modules.pop(_PROBE_MODULE, None)
    return True


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--variant", choices=ALL_VARIANTS, default="eager")
    parser.add_argument("--out", required=True, help="directory to write benchapp/ into")
    args = parser.parse_args(argv)
    pkg = generate(args.size, args.variant, args.out)
    spec = SIZES[args.size]
    print(
        f"wrote {pkg}: {spec.routers} routers, "
        f"{spec.routers * spec.endpoints_per_router} routes, "
        f"{count_models(spec)} models ({args.variant})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
