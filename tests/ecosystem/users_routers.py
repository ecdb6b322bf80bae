"""fastapi-users' generated routers (and the app's notes router) as a module,
for the app that includes them by import string."""

from tests.ecosystem.shop import IMPORTS
from tests.ecosystem.test_fastapi_users import users_routers

IMPORTS.append(__name__)
jwt, cookie, register, reset, verify, users, notes = users_routers("import_strings")
