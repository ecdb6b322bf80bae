"""The SQLModel heroes router as a module, for the app that includes it by import string."""

from tests.ecosystem.shop import IMPORTS
from tests.ecosystem.test_sqlmodel import heroes_router

IMPORTS.append(__name__)
router = heroes_router("import_strings")
