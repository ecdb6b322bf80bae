"""fastcrud's generated items router as a module, for the app that includes it by import string."""

from tests.ecosystem.shop import IMPORTS
from tests.ecosystem.test_fastcrud import items_router

IMPORTS.append(__name__)
router = items_router()
