"""The specification of the benchmark app: sizes, resources, sample values.

Pure data, independent of the variant.  Every choice comes from a
``random.Random`` seeded from ``SEED`` and the router/resource index, so
router ``r0000`` is the same for every size and variant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

SEED = 20_240_611
PACKAGE = "benchapp"


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


def count_models(size: SizeSpec) -> int:
    """Number of Pydantic models the app defines (routers + common)."""
    common_models = 8
    total = common_models
    for i in range(size.routers):
        for res in router_resources(size, i):
            total += res.detail_depth + CORE_MODELS_PER_RESOURCE
    return total
