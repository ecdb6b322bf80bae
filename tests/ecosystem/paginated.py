"""fastapi-pagination's routers as a module, for the app that includes them by import string."""

from tests.ecosystem.shop import IMPORTS
from tests.ecosystem.test_pagination import more_router, things_router

IMPORTS.append(__name__)
things, more = things_router("import_strings"), more_router("import_strings")
