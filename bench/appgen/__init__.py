"""The parts of ``bench/generate.py``, which writes the synthetic app ``benchapp``.

* ``variants``: the variant names, their groups and one-line descriptions.
* ``spec``: sizes and the deterministic specification of every resource
  (fields, sample values, which endpoints are sync or use ``Depends``).
* ``probes``: the requests that check a variant, with their exact answers.
* ``models``: the source of one resource's enum and Pydantic models.
* ``endpoints``: the source of one resource's CRUD endpoints.
* ``shared``: ``models/common.py``, ``deps.py`` and ``fixtures.py``.
* ``wiring``: each variant's ``main.py`` and router-module head.
"""
