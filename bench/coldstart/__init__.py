"""The parts of ``bench/cold_start.py``, the cold-start comparison.

* ``runtimes``: the interpreters the children run on (the main one; FastAPI
  0.163 from the ``bench-compat`` tox environment) and what they import.
* ``measure``: one fresh child process (``bench/_child.py``) per run:
  generating and checking the variants, timing them round by round.
* ``targets``: the numbers each run reports, paired ratios, the targets.
* ``report``: the headline table, the full report and its Markdown.
* ``chart``: the headline PNG and the per-metric ones (matplotlib).
"""
