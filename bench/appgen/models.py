"""Source of one resource's status enum and Pydantic models in its router module."""

from __future__ import annotations

from appgen.spec import FieldSpec, ResourceSpec


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


def render_models(res: ResourceSpec, deferred: bool) -> list[str]:
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
