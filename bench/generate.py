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
"""

from __future__ import annotations

import argparse
import json
import pprint
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SEED = 20_240_611
PACKAGE = "benchapp"

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
#: ``lazy_modules_supported``); the harness skips it otherwise.
EXTRA_VARIANTS: tuple[str, ...] = ("fastapi_lazyrouter_auto",)
ALL_VARIANTS: tuple[str, ...] = VARIANTS + EXTRA_VARIANTS

#: Variants that need ``import lazyrouter`` (the library under development).
LAZYROUTER_VARIANTS: frozenset[str] = frozenset(
    {"lazy_fastapi", "lazy_assign", "lazy_optin", "lazy_modules", "lazy_manifest", "lazy_snapshot"}
)
#: Where ``lazy_snapshot`` reads its OpenAPI snapshot, inside the package; the
#: harness writes it with ``lazyrouter openapi --snapshot`` (see SNAPSHOT_COMMAND).
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


@dataclass(frozen=True)
class SizeSpec:
    """Knobs of one app size."""

    routers: int
    endpoints_per_router: int
    models_per_router: int


SIZES: dict[str, SizeSpec] = {
    "small": SizeSpec(routers=5, endpoints_per_router=10, models_per_router=14),
    "medium": SizeSpec(routers=30, endpoints_per_router=10, models_per_router=14),
    "large": SizeSpec(routers=100, endpoints_per_router=10, models_per_router=14),
}

#: CRUD operations of one resource, in registration order.
OPERATIONS: tuple[str, ...] = ("list", "get", "create", "update", "delete")
#: Core models of one resource: Base, Create, Update, Out, Page.
CORE_MODELS_PER_RESOURCE = 5
RESOURCE_NAMES: tuple[tuple[str, str], ...] = (
    ("items", "Item"),
    ("orders", "Order"),
    ("tasks", "Task"),
    ("notes", "Note"),
    ("invoices", "Invoice"),
    ("tickets", "Ticket"),
)

CREATED_AT = "2024-01-15T09:30:00Z"
OWNER: dict[str, Any] = {"id": 1, "username": "bench", "email": "bench@example.com"}
AUDIT: dict[str, Any] = {
    "created_by": OWNER,
    "updated_at": None,
    "version": 1,
    "reason": None,
}
#: The id the create endpoints assign to new objects.
CREATED_ID = 1001
DIMENSIONS: dict[str, Any] = {"width": 10.5, "height": 4.0, "depth": 2.25, "unit": "cm"}
ADDRESS: dict[str, Any] = {
    "street": "1 Main Street",
    "city": "Springfield",
    "postcode": "75001",
    "country": "FR",
}
CONTACT: dict[str, Any] = {"name": "Ada", "email": "ada@example.com", "phone": None}


# --------------------------------------------------------------------------
# Specification (pure data, independent of the variant)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One model field: its type, ``Field(...)`` arguments and a sample value."""

    name: str
    type_src: str
    default_src: str | None  # ``None`` means required
    constraints: str = ""  # e.g. "ge=0, le=100"
    sample: Any = None
    common_names: tuple[str, ...] = ()  # names used from models.common


@dataclass(frozen=True)
class ResourceSpec:
    """One resource of a router: its models and CRUD endpoints."""

    router_index: int
    index: int
    plural: str
    singular: str
    fields: tuple[FieldSpec, ...]
    detail_depth: int
    operations: tuple[str, ...]
    sync_ops: frozenset[str]
    user_dep_ops: frozenset[str]
    db_dep_ops: frozenset[str]
    status_extra: tuple[str, ...]

    @property
    def suffix(self) -> str:
        """Class-name suffix that keeps model names unique across routers."""
        return f"R{self.router_index:04d}"

    def cls(self, role: str) -> str:
        """Class name of one of this resource's models (``""`` = output model)."""
        return f"{self.singular}{role}{self.suffix}"

    @property
    def a_singular(self) -> str:
        """``"an item"``, ``"a task"``: for generated docstrings."""
        noun = self.singular.lower()
        return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"

    @property
    def status_cls(self) -> str:
        return f"{self.singular}Status{self.suffix}"

    @property
    def id_param(self) -> str:
        return f"{self.singular.lower()}_id"

    def base_sample(self) -> dict[str, Any]:
        """A canonical JSON value for the Base/Create model."""
        return {f.name: f.sample for f in self.fields}

    def out_sample(self, object_id: int) -> dict[str, Any]:
        """The JSON the get-by-id endpoint returns for ``object_id``."""
        return {
            **self.base_sample(),
            "id": object_id,
            "created_at": CREATED_AT,
            "owner": OWNER,
            "audit": AUDIT,
        }


def _detail_sample(rng: random.Random, depth: int, level: int = 0) -> dict[str, Any]:
    """Sample value of the nested ``Detail`` chain starting at ``level``."""
    sample: dict[str, Any] = {
        "label": f"detail-{level}",
        "weight": round(rng.uniform(0, 50)) / 2,
        "note": None,
        "dimensions": DIMENSIONS if level == 0 else None,
    }
    if level + 1 < depth:
        sample["children"] = [_detail_sample(rng, depth, level + 1)]
    return sample


def resource_spec(router_index: int, index: int, detail_depth: int, operations: tuple[str, ...]) -> ResourceSpec:
    """Build the deterministic specification of one resource."""
    rng = random.Random(f"{SEED}:{router_index}:{index}")
    plural, singular = RESOURCE_NAMES[index % len(RESOURCE_NAMES)]
    status_cls = f"{singular}StatusR{router_index:04d}"
    detail0 = f"{singular}Detail0R{router_index:04d}"
    name_len = rng.choice((32, 64, 128))
    max_qty = rng.choice((1_000, 10_000, 100_000))
    fields: list[FieldSpec] = [
        FieldSpec(
            "name",
            "str",
            None,
            f"min_length=1, max_length={name_len}",
            f"{singular} {router_index}-{index}",
        ),
        FieldSpec("status", status_cls, f"{status_cls}.ACTIVE", "", "active"),
        FieldSpec("quantity", "int", "0", f"ge=0, le={max_qty}", rng.randint(1, 999)),
        FieldSpec(
            "price",
            "Money",
            None,
            "",
            {"amount": rng.randint(1, 9_999) / 4, "currency": rng.choice(("EUR", "USD", "GBP"))},
            ("Money",),
        ),
        FieldSpec(
            "tags",
            "list[str]",
            "list",
            "max_length=16",
            [f"t{rng.randint(0, 99)}" for _ in range(rng.randint(0, 3))],
        ),
        FieldSpec("due_at", "Optional[datetime]", "None", "", "2024-05-01T12:00:00Z"),
        FieldSpec(
            "detail",
            f"Optional[{detail0}]",
            "None",
            "",
            _detail_sample(rng, detail_depth),
        ),
    ]
    optional_pool: list[FieldSpec] = [
        FieldSpec("description", "Optional[str]", "None", "max_length=500", "A thing."),
        FieldSpec("priority", "int", "3", "ge=1, le=5", rng.randint(1, 5)),
        FieldSpec("is_public", "bool", "True", "", rng.choice((True, False))),
        FieldSpec("rating", "Optional[float]", "None", "ge=0, le=5", 4.5),
        FieldSpec(
            "sku",
            "str",
            '"AAA-0000"',
            'pattern=r"^[A-Z]{3}-[0-9]{4}$"',
            f"SKU-{rng.randint(0, 9999):04d}",
        ),
        FieldSpec("address", "Optional[Address]", "None", "", ADDRESS, ("Address",)),
        FieldSpec("contacts", "list[Contact]", "list", "max_length=10", [CONTACT], ("Contact",)),
        FieldSpec("attributes", "dict[str, str]", "dict", "", {"color": "blue"}),
        FieldSpec("scores", "list[int]", "list", "", [rng.randint(0, 100) for _ in range(3)]),
        FieldSpec("dimensions", "Optional[Dimensions]", "None", "", DIMENSIONS, ("Dimensions",)),
        FieldSpec(
            "visibility",
            "Visibility",
            "Visibility.PRIVATE",
            "",
            "public",
            ("Visibility",),
        ),
        FieldSpec("parent_id", "Optional[int]", "None", "ge=1", None),
        FieldSpec("weight_kg", "float", "1.0", "gt=0", rng.randint(1, 40) / 4),
    ]
    picked = sorted(rng.sample(range(len(optional_pool)), rng.randint(3, 7)))
    fields.extend(optional_pool[i] for i in picked)
    return ResourceSpec(
        router_index=router_index,
        index=index,
        plural=plural,
        singular=singular,
        fields=tuple(fields),
        detail_depth=detail_depth,
        operations=operations,
        sync_ops=frozenset(op for op in operations if rng.random() < 0.3),
        user_dep_ops=frozenset(op for op in operations if op in ("create", "update", "delete") or rng.random() < 0.3),
        db_dep_ops=frozenset(op for op in operations if rng.random() < 0.5),
        status_extra=tuple(rng.sample(("PENDING", "LOCKED", "DELETED", "REVIEW"), 2)),
    )


def router_resources(size: SizeSpec, router_index: int) -> list[ResourceSpec]:
    """Resources of one router, sharing the router's endpoint and model budget."""
    n_resources = max(1, -(-size.endpoints_per_router // len(OPERATIONS)))
    per_resource_models = size.models_per_router // n_resources
    depth = max(1, per_resource_models - CORE_MODELS_PER_RESOURCE)
    resources: list[ResourceSpec] = []
    remaining = size.endpoints_per_router
    for index in range(n_resources):
        ops = OPERATIONS[: min(len(OPERATIONS), remaining)]
        remaining -= len(ops)
        resources.append(resource_spec(router_index, index, depth, ops))
    return resources


# --------------------------------------------------------------------------
# Probe requests (expected answers)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeRequest:
    """An HTTP request and the exact answer every correct variant returns."""

    name: str
    method: str
    path: str
    status: int
    response: Any
    query: str = ""
    headers: tuple[tuple[str, str], ...] = (("accept", "application/json"),)
    body: Any = None

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable form (for passing to a child process)."""
        return asdict(self)


def first_request(size: str) -> ProbeRequest:
    """The GET that every cold-start scenario sends: ``/r0000/items/1``."""
    resource = router_resources(SIZES[size], 0)[0]
    return ProbeRequest(
        name="get_first",
        method="GET",
        path=f"/r0000/{resource.plural}/1",
        status=200,
        response=resource.out_sample(1),
    )


def probe_requests(size: str, variant: str) -> list[ProbeRequest]:
    """Requests the correctness check sends, in order, with expected answers.

    ``floor`` only serves the first GET; every other variant must also answer
    a create (POST) on the first router and a get-by-id on the last router.
    """
    spec = SIZES[size]
    probes = [first_request(size)]
    if variant == "floor":
        return probes
    first = router_resources(spec, 0)[0]
    body = first.base_sample()
    probes.append(
        ProbeRequest(
            name="post_first",
            method="POST",
            path=f"/r0000/{first.plural}",
            status=201,
            response={
                **body,
                "id": CREATED_ID,
                "created_at": CREATED_AT,
                "owner": OWNER,
                "audit": AUDIT,
            },
            headers=(
                ("accept", "application/json"),
                ("content-type", "application/json"),
                ("authorization", "Bearer bench"),
            ),
            body=body,
        )
    )
    last_index = spec.routers - 1
    last = router_resources(spec, last_index)[0]
    probes.append(
        ProbeRequest(
            name="get_last",
            method="GET",
            path=f"/r{last_index:04d}/{last.plural}/7",
            status=200,
            response=last.out_sample(7),
        )
    )
    return probes


def expected_operation_count(size: str, variant: str) -> int:
    """How many operations a complete ``/openapi.json`` lists for the app."""
    if variant == "floor":
        return 0
    spec = SIZES[size]
    return spec.routers * spec.endpoints_per_router


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


def _model_config(deferred: bool) -> list[str]:
    return ["    model_config = ConfigDict(defer_build=True)", ""] if deferred else []


def _field_line(f: FieldSpec, *, optional: bool = False) -> str:
    """Render one model field; ``optional`` renders the Update-model form."""
    type_src = f.type_src
    if optional:
        if not type_src.startswith("Optional["):
            type_src = f"Optional[{type_src}]"
        default = "None"
    elif f.default_src in ("list", "dict"):
        default = f"default_factory={f.default_src}"
    else:
        default = f.default_src or ""
    args = ", ".join(a for a in (default, f.constraints) if a)
    if f.constraints or default.startswith("default_factory"):
        return f"    {f.name}: {type_src} = Field({args})"
    if default:
        return f"    {f.name}: {type_src} = {default}"
    return f"    {f.name}: {type_src}"


def _render_models(res: ResourceSpec, deferred: bool) -> list[str]:
    """Source of the enum and models of one resource."""
    out: list[str] = []
    out += [
        f"class {res.status_cls}(str, Enum):",
        f'    """Lifecycle state of {res.a_singular}."""',
        "",
        '    ACTIVE = "active"',
        '    ARCHIVED = "archived"',
        '    DRAFT = "draft"',
    ]
    out += [f'    {name} = "{name.lower()}"' for name in res.status_extra]
    out += ["", ""]
    # Detail chain, innermost first so that no forward reference is needed.
    for level in reversed(range(res.detail_depth)):
        name = res.cls(f"Detail{level}")
        out += [f"class {name}(BaseModel):", f'    """Nested detail, level {level}."""', ""]
        out += _model_config(deferred)
        out += [
            "    label: str = Field(max_length=40)",
            "    weight: float = Field(0.0, ge=0)",
            "    note: Optional[str] = None",
            "    dimensions: Optional[Dimensions] = None",
        ]
        if level + 1 < res.detail_depth:
            child = res.cls(f"Detail{level + 1}")
            out.append(f"    children: list[{child}] = Field(default_factory=list, max_length=5)")
        out += ["", ""]
    base = res.cls("Base")
    out += [
        f"class {base}(BaseModel):",
        f'    """Fields shared by every {res.singular.lower()} model."""',
        "",
    ]
    out += _model_config(deferred)
    out += [_field_line(f) for f in res.fields]
    out += ["", ""]
    out += [
        f"class {res.cls('Create')}({base}):",
        f'    """Payload to create {res.a_singular}."""',
        "",
    ]
    out += _model_config(deferred)
    out += ["", ""] if deferred else [""]
    out += [
        f"class {res.cls('Update')}(BaseModel):",
        f'    """Partial update of {res.a_singular}; every field optional."""',
        "",
    ]
    out += _model_config(deferred)
    out += [_field_line(f, optional=True) for f in res.fields]
    out += ["", ""]
    out += [f"class {res.cls('')}({base}):", f'    """A stored {res.singular.lower()}."""', ""]
    out += _model_config(deferred)
    out += [
        "    id: int = Field(ge=1)",
        "    created_at: datetime",
        "    owner: UserRef",
        "    audit: Audit",
        "",
        "",
    ]
    out += [f"class {res.cls('Page')}(BaseModel):", f'    """One page of {res.plural}."""', ""]
    out += _model_config(deferred)
    out += [
        f"    items: list[{res.cls('')}]",
        "    total: int = Field(ge=0)",
        "    limit: int = Field(ge=1, le=100)",
        "    offset: int = Field(ge=0)",
        "    links: PageLinks",
        "",
        "",
    ]
    return out


def _deps_params(res: ResourceSpec, op: str) -> list[str]:
    params: list[str] = []
    if op in res.db_dep_ops:
        params.append("db: Annotated[FakeSession, Depends(get_db)]")
    if op in res.user_dep_ops:
        params.append("user: Annotated[dict[str, Any], Depends(get_current_user)]")
    return params


def _render_endpoints(res: ResourceSpec, router_var: str | None) -> list[str]:
    """Source of the sample helper and CRUD endpoints of one resource.

    ``router_var`` is ``None`` for the ``floor`` variant: the functions are
    defined but not decorated (no route is registered).
    """
    sample_const = f"_{res.singular.upper()}_SAMPLE"
    out_sample = {k: v for k, v in res.out_sample(0).items() if k != "id"}
    page, out_cls = res.cls("Page"), res.cls("")
    singular, plural, pid = res.singular.lower(), res.plural, res.id_param
    out: list[str] = [
        f"{sample_const}: dict[str, Any] = " + pprint.pformat(out_sample, width=88, sort_dicts=False),
        "",
        "",
        f"def sample_{singular}({pid}: int) -> dict[str, Any]:",
        f'    """The deterministic {singular} returned for ``{pid}``."""',
        f'    return {{**{sample_const}, "id": {pid}}}',
        "",
        "",
    ]

    def deco(method: str, path: str, extra: str = "") -> list[str]:
        if router_var is None:
            return []
        return [f'@{router_var}.{method}("{path}"{extra})']

    def head(op: str, name: str, params: list[str]) -> list[str]:
        kw = "def" if op in res.sync_ops else "async def"
        return [f"{kw} {name}(", *(f"    {p}," for p in params), ") -> dict[str, Any]:"]

    for op in res.operations:
        deps = _deps_params(res, op)
        if op == "list":
            out += deco("get", f"/{plural}", f', response_model={page}, summary="List {plural}"')
            out += head(
                op,
                f"list_{plural}",
                deps
                + [
                    "limit: Annotated[int, Query(ge=1, le=100)] = 20",
                    "offset: Annotated[int, Query(ge=0)] = 0",
                    "q: Annotated[Optional[str], Query(max_length=50)] = None",
                    f"status: Optional[{res.status_cls}] = None",
                    "x_request_id: Annotated[Optional[str], Header()] = None",
                ],
            )
            out += [
                f'    """List {plural}, newest first."""',
                f"    items = [sample_{singular}(offset + k + 1) for k in range(min(limit, 3))]",
                "    return {",
                '        "items": items,',
                '        "total": 3,',
                '        "limit": limit,',
                '        "offset": offset,',
                f'        "links": {{"current": "/{plural}", "next": None, "prev": None}},',
                "    }",
            ]
        elif op == "get":
            out += deco("get", f"/{plural}/{{{pid}}}", f", response_model={out_cls}")
            out += head(op, f"get_{singular}", [f"{pid}: Annotated[int, Path(ge=1)]"] + deps)
            out += [
                f'    """Fetch one {singular} by id."""',
                f"    return sample_{singular}({pid})",
            ]
        elif op == "create":
            out += deco("post", f"/{plural}", f", response_model={out_cls}, status_code=201")
            out += head(op, f"create_{singular}", [f"payload: {res.cls('Create')}"] + deps)
            out += [
                f'    """Create {res.a_singular}."""',
                "    return {",
                '        **payload.model_dump(mode="json"),',
                f'        "id": {CREATED_ID},',
                '        "created_at": CREATED_AT,',
                '        "owner": OWNER,',
                '        "audit": AUDIT,',
                "    }",
            ]
        elif op == "update":
            out += deco("put", f"/{plural}/{{{pid}}}", f", response_model={out_cls}")
            out += head(
                op,
                f"update_{singular}",
                [f"{pid}: Annotated[int, Path(ge=1)]", f"payload: {res.cls('Update')}"] + deps,
            )
            out += [
                f'    """Replace the given fields of {res.a_singular}."""',
                f"    current = sample_{singular}({pid})",
                '    current.update(payload.model_dump(mode="json", exclude_unset=True))',
                "    return current",
            ]
        elif op == "delete":
            out += deco("delete", f"/{plural}/{{{pid}}}", ", response_model=DeleteResult")
            out += head(op, f"delete_{singular}", [f"{pid}: Annotated[int, Path(ge=1)]"] + deps)
            out += [
                f'    """Delete {res.a_singular}."""',
                f'    return {{"id": {pid}, "deleted": True}}',
            ]
        out += ["", ""]
    return out


def _router_line(variant: str, index: int) -> str | None:
    """The ``router = ...`` line of a router module (``None``: no router)."""
    if variant == "floor":
        return None
    if variant == "fastapi_lazyrouter":
        # Its README/docstring: the prefix is given to LazyApiRouter itself;
        # it is what the middleware matches request paths against.
        return f'router = LazyApiRouter(prefix="/r{index:04d}", tags=["r{index:04d}"])'
    if variant == "lazy_manifest":
        # As most apps write it: the router declares its prefix and tags.
        return f'router = LazyRouter(prefix="/r{index:04d}", tags=["r{index:04d}"])'
    if variant in LAZYROUTER_VARIANTS:
        return "router = LazyRouter()"
    return "router = APIRouter()"


def render_router(size: SizeSpec, variant: str, index: int) -> str:
    """Source of ``benchapp/routers/r{index:04d}.py``."""
    deferred = variant not in EAGER_MODEL_VARIANTS
    resources = router_resources(size, index)
    common = {"Audit", "DeleteResult", "Dimensions", "PageLinks", "UserRef"}
    for res in resources:
        for f in res.fields:
            common.update(f.common_names)
    fastapi_names = ["Depends", "Header", "Path", "Query"]
    router_line = _router_line(variant, index)
    extra_imports: list[str] = []
    if router_line and router_line.startswith("router = APIRouter"):
        fastapi_names.insert(0, "APIRouter")
    elif variant == "fastapi_lazyrouter":
        extra_imports.append("from fastapi_lazyrouter import LazyApiRouter")
    elif variant in LAZYROUTER_VARIANTS:
        extra_imports.append("from lazyrouter import LazyRouter")
    pydantic_names = "BaseModel, ConfigDict, Field" if deferred else "BaseModel, Field"
    lines = [
        f'"""Router r{index:04d} of the synthetic benchmark app (variant {variant}).',
        "",
        "Generated by bench/generate.py; do not edit.",
        '"""',
        "",
        "from datetime import datetime",
        "from enum import Enum",
        "from typing import Annotated, Any, Optional",
        "",
        f"from fastapi import {', '.join(fastapi_names)}",
        *extra_imports,
        f"from pydantic import {pydantic_names}",
        "",
        f"from {PACKAGE}.deps import FakeSession, get_current_user, get_db",
        f"from {PACKAGE}.fixtures import AUDIT, CREATED_AT, OWNER",
        f"from {PACKAGE}.models.common import (",
        *(f"    {name}," for name in sorted(common)),
        ")",
        "",
    ]
    if router_line:
        lines += [router_line, ""]
    lines += [""]
    for res in resources:
        lines += _render_models(res, deferred)
    for res in resources:
        lines += _render_endpoints(res, "router" if router_line else None)
    return "\n".join(lines).rstrip() + "\n"


def render_common(deferred: bool) -> str:
    """Source of ``benchapp/models/common.py`` (models shared by all routers)."""
    cfg = "\n    model_config = ConfigDict(defer_build=True)\n" if deferred else ""
    pyd = "BaseModel, ConfigDict, Field" if deferred else "BaseModel, Field"
    return f'''"""Models shared by every router of the benchmark app. Generated."""

from datetime import datetime
from enum import Enum
from typing import Literal, Optional

from pydantic import {pyd}


class Currency(str, Enum):
    """ISO currency code."""

    EUR = "EUR"
    USD = "USD"
    GBP = "GBP"


class Visibility(str, Enum):
    """Who may see an object."""

    PRIVATE = "private"
    TEAM = "team"
    PUBLIC = "public"


class Money(BaseModel):
    """An amount in a currency."""
{cfg}
    amount: float = Field(ge=0)
    currency: Currency = Currency.EUR


class Dimensions(BaseModel):
    """Physical dimensions."""
{cfg}
    width: float = Field(gt=0)
    height: float = Field(gt=0)
    depth: float = Field(gt=0)
    unit: Literal["cm", "in"] = "cm"


class Address(BaseModel):
    """A postal address."""
{cfg}
    street: str = Field(max_length=120)
    city: str = Field(max_length=80)
    postcode: str = Field(pattern=r"^[0-9]{{5}}$")
    country: str = Field(min_length=2, max_length=2)


class Contact(BaseModel):
    """A person to contact."""
{cfg}
    name: str = Field(max_length=80)
    email: str = Field(max_length=254)
    phone: Optional[str] = Field(None, max_length=32)


class UserRef(BaseModel):
    """A reference to a user."""
{cfg}
    id: int = Field(ge=1)
    username: str = Field(max_length=32)
    email: Optional[str] = None


class Audit(BaseModel):
    """Audit trail of an object."""
{cfg}
    created_by: UserRef
    updated_at: Optional[datetime] = None
    version: int = Field(1, ge=1)
    reason: Optional[str] = Field(None, max_length=200)


class PageLinks(BaseModel):
    """Pagination links."""
{cfg}
    current: str
    next: Optional[str] = None
    prev: Optional[str] = None


class DeleteResult(BaseModel):
    """Outcome of a delete."""
{cfg}
    id: int
    deleted: bool
'''


DEPS_SOURCE = '''"""Dependencies shared by the routers of the benchmark app. Generated."""

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any, Optional

from fastapi import Depends, Header


class Settings:
    """Application settings (constant for the benchmark)."""

    database_url = "sqlite://"
    page_size = 20


class FakeSession:
    """Stands in for a database session."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.closed = False

    def close(self) -> None:
        self.closed = True


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings."""
    return Settings()


def get_db(settings: Annotated[Settings, Depends(get_settings)]) -> Iterator[FakeSession]:
    """Yield a session, closed after the response."""
    session = FakeSession(settings)
    try:
        yield session
    finally:
        session.close()


async def get_current_user(
    authorization: Annotated[Optional[str], Header()] = None,
) -> dict[str, Any]:
    """Resolve the caller (every caller is the benchmark user)."""
    return {"id": 1, "username": "bench", "authenticated": authorization is not None}
'''


def render_fixtures() -> str:
    """Source of ``benchapp/fixtures.py`` (constant response fragments)."""
    return (
        '"""Constant response fragments of the benchmark app. Generated."""\n\n'
        "from typing import Any\n\n"
        f"CREATED_AT = {CREATED_AT!r}\n"
        f"OWNER: dict[str, Any] = {OWNER!r}\n"
        f"AUDIT: dict[str, Any] = {AUDIT!r}\n"
    )


def render_main(size: SizeSpec, variant: str) -> str:
    """Source of ``benchapp/main.py``: builds ``app`` with the variant's wiring."""
    n = size.routers
    names = [f"r{i:04d}" for i in range(n)]
    imports = [f"from {PACKAGE}.routers import {name}" for name in names]
    include = [f'app.include_router({m}.router, prefix="/{m}", tags=["{m}"])' for m in names]
    header = [
        f'"""Benchmark app entry point (variant {variant}). Generated; do not edit."""',
        "",
    ]
    title = 'title="benchapp", version="1.0.0"'
    if variant in ("eager", "eager_defer", "lazy_optin"):
        body = [
            "from fastapi import FastAPI",
            "",
            *imports,
            "",
            f"app = FastAPI({title})",
            "",
            *include,
        ]
    elif variant == "lazy_fastapi":
        body = [
            "from lazyrouter import LazyFastAPI",
            "",
            *imports,
            "",
            f"app = LazyFastAPI({title})",
            "",
            *include,
        ]
    elif variant == "lazy_snapshot":
        body = [
            "from pathlib import Path",
            "",
            "from lazyrouter import LazyFastAPI",
            "",
            *imports,
            "",
            f"app = LazyFastAPI({title}, openapi_snapshot=Path(__file__).with_name({SNAPSHOT_FILE!r}))",
            "",
            *include,
        ]
    elif variant == "lazy_assign":
        body = [
            "from fastapi import FastAPI",
            "from lazyrouter import LazyRouter",
            "",
            *imports,
            "",
            f"app = FastAPI({title})",
            "app.router = LazyRouter()",
            "",
            *include,
        ]
    elif variant == "lazy_modules":
        # Import strings: main.py imports no router module; lazyrouter is
        # expected to import each one when its routes are first needed.
        body = [
            "from lazyrouter import LazyFastAPI",
            "",
            f"app = LazyFastAPI({title})",
            "",
            *[f'app.include_router("{PACKAGE}.routers.{m}:router", prefix="/{m}", tags=["{m}"])' for m in names],
        ]
    elif variant == "lazy_manifest":
        # Routers that declare their own prefix, included by import string
        # with none: the manifest says where each one's routes are.
        body = [
            "from pathlib import Path",
            "",
            "from lazyrouter import LazyFastAPI",
            "",
            f"app = LazyFastAPI({title}, manifest=Path(__file__).with_name({MANIFEST_FILE!r}))",
            "",
            *[f'app.include_router("{PACKAGE}.routers.{m}:router")' for m in names],
        ]
    elif variant == "fastapi_lazyrouter":
        body = [
            "import fastapi_lazyrouter",
            "from fastapi import FastAPI",
            "",
            *imports,
            "",
            f"app = FastAPI({title})",
            "fastapi_lazyrouter.autoconfigure(app)",
            "",
            # Prefix and tags live on each LazyApiRouter (see its docstring).
            *[f"app.include_router({m}.router)" for m in names],
        ]
    elif variant == "fastapi_lazyrouter_auto":
        body = [
            "import fastapi_lazyrouter",
            "from fastapi import FastAPI",
            "",
            *imports,
            "",
            f"app = FastAPI({title})",
            "fastapi_lazyrouter.autoconfigure(app)",
            "",
            *include,
        ]
    elif variant == "floor":
        first = router_resources(size, 0)[0]
        body = [
            "from fastapi import FastAPI",
            "",
            *imports,
            "",
            f"app = FastAPI({title}, openapi_url=None)",
            "",
            "",
            f'@app.get("/r0000/{first.plural}/{{item_id}}")',
            "async def first_item(item_id: int):",
            '    """The only route: what the first request hits."""',
            f"    return r0000.sample_{first.singular.lower()}(item_id)",
        ]
    else:
        raise ValueError(f"unknown variant {variant!r}")
    return "\n".join(header + body) + "\n"


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


def count_models(size: SizeSpec) -> int:
    """Number of Pydantic models the app defines (routers + common)."""
    common_models = 8
    total = common_models
    for i in range(size.routers):
        for res in router_resources(size, i):
            total += res.detail_depth + CORE_MODELS_PER_RESOURCE
    return total


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
