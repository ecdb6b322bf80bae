"""pytest plugin: FastAPI's own test suite, with the lazy classes swapped in.

Loaded with `-p lazyrouter_swap` before any test module imports FastAPI names,
so `from fastapi import APIRouter, FastAPI` in the suite (and in its
`docs_src/` examples) gives `LazyRouter` and `LazyFastAPI`.
"""

from __future__ import annotations

import fastapi

from lazyrouter import LazyFastAPI, LazyRouter

fastapi.APIRouter = LazyRouter  # type: ignore[misc]
fastapi.FastAPI = LazyFastAPI  # type: ignore[misc]
