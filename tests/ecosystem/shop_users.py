"""The shop's users router as a module, included by import string into the items router."""

from tests.ecosystem.shop import IMPORTS, module_wrap, users_router

IMPORTS.append(__name__)
router = users_router("import_strings", module_wrap())
