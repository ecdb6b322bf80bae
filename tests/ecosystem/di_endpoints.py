"""Endpoints that dependency-injector wires, as its FastAPI example writes them:
module-level functions under `@inject`, their arguments `Provide[...]`d."""

# No `from __future__ import annotations`: @inject reads the Provide markers
# in the annotations at decoration time.

from typing import Annotated, Any

from dependency_injector.wiring import Provide, inject
from fastapi import APIRouter, Depends, Header

from tests.ecosystem.shop import IMPORTS, router_for
from tests.ecosystem.test_dependency_injector import Container, Service

IMPORTS.append(__name__)


@inject
async def current_user(
    x_user: Annotated[str, Header()], service: Annotated[Service, Depends(Provide[Container.service])]
) -> str:
    return await service.greet(x_user)


@inject
async def read_item(item_id: int, service: Annotated[Service, Depends(Provide[Container.service])]) -> dict[str, Any]:
    return {"item": item_id, "by": await service.process()}


@inject
def read_greeting(
    user: Annotated[str, Depends(current_user)],
    greeting: Annotated[str, Depends(Provide[Container.config.greeting])],
) -> dict[str, str]:
    return {"greeting": f"{greeting}, {user}"}


def items_router(mode: str) -> APIRouter:
    items = router_for(mode, prefix="/items")
    items.add_api_route("/{item_id}", read_item)
    items.add_api_route("/greeting/", read_greeting)
    return items


router = items_router("import_strings")
