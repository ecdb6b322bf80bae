"""The shop's items router as a module, for the shop that includes it by import
string (`tests.ecosystem.shop.make_shop(mode="import_strings")`)."""

from tests.ecosystem.shop import IMPORTS, items_router, module_wrap

IMPORTS.append(__name__)
router = items_router("import_strings", module_wrap())
