from __future__ import annotations

import os

from hypothesis import settings

# `default` keeps the whole suite within minutes, `ci` is for each environment
# of the tox matrix, `thorough` is for hunting.
settings.register_profile("default", max_examples=250, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
