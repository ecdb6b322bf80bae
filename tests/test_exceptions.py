"""lazyrouter's errors cross process boundaries (multiprocessing, a worker's
log queue) as they were raised: pickled and unpickled, same type, message and
attributes."""

from __future__ import annotations

import pickle

import pytest
from pydantic import BaseModel

from lazyrouter import LazyFastAPI, LazyRouterError, RouteBuildError, RouterImportError


class Item(BaseModel):
    name: str


def raised_by_resolve_all(app: LazyFastAPI) -> LazyRouterError:
    with pytest.raises(LazyRouterError) as caught:
        app.router.resolve_all()
    return caught.value


def test_a_route_build_error_pickles() -> None:
    app = LazyFastAPI()

    @app.get("/items/{item}")
    def model_in_path(item: Item) -> Item:
        return item

    error = raised_by_resolve_all(app)
    assert isinstance(error, RouteBuildError)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RouteBuildError
    assert str(copy) == str(error)
    assert copy.description == error.description
    assert (type(copy.cause), str(copy.cause)) == (AssertionError, "Path params must be of one of the supported types")


@pytest.mark.parametrize("prefix", ["/missing", ""], ids=["prefix", "no-prefix"])
def test_a_router_import_error_pickles(prefix: str) -> None:
    error = RouterImportError("nosuchmodule:router", prefix, "ModuleNotFoundError: No module named 'nosuchmodule'")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RouterImportError
    assert str(copy) == str(error)
    assert (copy.import_string, copy.prefix) == ("nosuchmodule:router", prefix)


def test_the_import_error_of_a_real_include_pickles() -> None:
    app = LazyFastAPI()
    app.include_router("nosuchmodule:router", prefix="/missing")
    error = raised_by_resolve_all(app)
    assert str(pickle.loads(pickle.dumps(error))) == (
        "Could not import router 'nosuchmodule:router' (included under '/missing'): "
        "ModuleNotFoundError: No module named 'nosuchmodule'"
    )
