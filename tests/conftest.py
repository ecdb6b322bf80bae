from __future__ import annotations

import os

import fastapi
import pytest
from hypothesis import settings

from tests.modes import MODES

# `default` keeps the whole suite within minutes, `ci` is for each environment
# of the tox matrix, `thorough` is for hunting.
settings.register_profile("default", max_examples=250, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

_EXPECTED = os.environ.get("LAZYROUTER_EXPECT_FASTAPI")
if _EXPECTED and fastapi.__version__ != _EXPECTED:  # pragma: no cover - a broken environment
    raise pytest.UsageError(f"this environment should test FastAPI {_EXPECTED}, but has {fastapi.__version__}")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Each way of writing the app: eager FastAPI and every lazyrouter mode."""
    return str(request.param)
