"""Source of one resource's sample helper and CRUD endpoints in its router module."""

from __future__ import annotations

import pprint

from appgen.spec import CREATED_ID, ResourceSpec


def _deps_params(res: ResourceSpec, op: str) -> list[str]:
    params: list[str] = []
    if op in res.db_dep_ops:
        params.append("db: Annotated[FakeSession, Depends(get_db)]")
    if op in res.user_dep_ops:
        params.append("user: Annotated[dict[str, Any], Depends(get_current_user)]")
    return params


def render_endpoints(res: ResourceSpec, router_var: str | None) -> list[str]:
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
