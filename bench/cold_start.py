"""Cold start of a large FastAPI app, eager and lazy: one fresh interpreter per run.

``python bench/cold_start.py`` (about 2 minutes on 2 cores) generates the
large bundled app (see ``generate.py``) in six variants: eager FastAPI,
eager with ``defer_build`` models, ``LazyFastAPI``, ``LazyFastAPI`` with
import-string includes, ``LazyFastAPI`` serving an OpenAPI snapshot, and
the floor (every module imported, no route).  It checks that each answers
the probe requests correctly, times the cold start to the first response
round by round, prints one table judged against the targets and draws it in
``docs/bench/cold-start-large.png``.

``--full`` is the whole comparison: every variant (also
``app.router = LazyRouter()``, opt-in routers, and fastapi-lazyrouter on
FastAPI 0.163.2 from the ``bench-compat`` tox environment), Mangum events
and ``/openapi.json``, a table per metric; about 15 minutes on 2 cores.

Usage::

    python bench/cold_start.py
    python bench/cold_start.py --full --markdown docs/bench/cold-start-large.md
    tox -e bench-compat,bench                                  # the same full run
    python bench/cold_start.py --size small --rounds 1 --chart /tmp  # smoke run

The parts are in ``coldstart/`` (see its ``__init__``); ``_child.py`` is
the measured child.  Only the standard library is needed, and matplotlib
for the charts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate
from coldstart import chart, measure, report
from coldstart.runtimes import (
    FASTAPI_LAZYROUTER_BREAKS_AT,
    REPO_ROOT,
    Runtime,
    compat_runtime,
    lazy_modules_supported,
    query_versions,
    version_tuple,
)
from coldstart.targets import SCENARIOS, Rows

#: The headline: what a newcomer's first run compares, in about 2 minutes.
HEADLINE_VARIANTS: tuple[str, ...] = ("eager", "eager_defer", "lazy_fastapi", "lazy_modules", "lazy_snapshot", "floor")
HEADLINE_SCENARIOS: tuple[str, ...] = ("first_response",)
ROUNDS = 5
#: Rounds of ``--full`` that also run the (slow) ``openapi`` scenario, by default.
OPENAPI_ROUNDS = 2
WARMUP_ROUNDS = 0  # the correctness check already warms page and bytecode caches
CHART_DIR = REPO_ROOT / "docs" / "bench"
#: Our variants that also run on the compat interpreter, as pair baselines.
COMPAT_PEERS: tuple[str, ...] = ("eager", "lazy_fastapi")


def log(message: str) -> None:
    """Progress goes to stderr; the report goes to stdout."""
    print(message, file=sys.stderr, flush=True)


def _variant_list(text: str) -> list[str]:
    """``--variants`` items may be comma-separated: ``eager,floor lazy_optin``."""
    return [v for v in text.split(",") if v]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--full",
        action="store_true",
        help="every variant, Mangum and /openapi.json, fastapi-lazyrouter on FastAPI 0.163 (about 15 min)",
    )
    p.add_argument(
        "--size", action="append", choices=sorted(generate.SIZES), help="app size, repeatable (default: large)"
    )
    p.add_argument("--rounds", type=int, default=ROUNDS, help=f"timed rounds (default {ROUNDS})")
    p.add_argument(
        "--openapi-rounds",
        type=int,
        default=OPENAPI_ROUNDS,
        metavar="N",
        help=f"with --full, how many of the rounds also run the slow openapi scenario (default {OPENAPI_ROUNDS})",
    )
    p.add_argument("--warmup", type=int, default=WARMUP_ROUNDS, help="untimed rounds first (without openapi)")
    p.add_argument(
        "--variants",
        nargs="+",
        type=_variant_list,
        metavar="VARIANT",
        help=f"variants to compare, space- or comma-separated (default: {' '.join(HEADLINE_VARIANTS)};"
        f" with --full: {' '.join(generate.VARIANTS)}; also: {' '.join(generate.EXTRA_VARIANTS)})",
    )
    p.add_argument("--python", default=sys.executable, help="interpreter for the children")
    p.add_argument(
        "--compat-python",
        default="auto",
        metavar="auto|PATH|none",
        help="interpreter with FastAPI < 0.164 for the fastapi_lazyrouter* variants, which also runs eager and"
        " lazy_fastapi as '@x.y' rows; 'auto' (default): the bench-compat tox environment, created or updated"
        " with `tox -e bench-compat`; 'none': run fastapi_lazyrouter* on --python",
    )
    p.add_argument("--compat-venv", type=Path, metavar="DIR", help="a virtualenv to use as --compat-python")
    p.add_argument(
        "--lazyrouter-path",
        default=str(REPO_ROOT),
        help="directory holding the lazyrouter package, appended to every child's PYTHONPATH"
        " ('' for none; default: the repo root)",
    )
    p.add_argument("--include-failing", action="store_true", help="time variants whose correctness check failed")
    p.add_argument("--workdir", type=Path, help="where to generate apps (default: a temp dir, removed)")
    p.add_argument(
        "--chart",
        type=Path,
        metavar="DIR",
        help=f"write the headline chart cold-start-SIZE.png there (default: {CHART_DIR.relative_to(REPO_ROOT)};"
        " with --full, none)",
    )
    p.add_argument("--no-chart", action="store_true", help="draw no headline chart")
    p.add_argument("--json", type=Path, help="write raw numbers to this file")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="write the result tables as a Markdown snippet")
    p.add_argument("--plot", type=Path, metavar="DIR", help="write a PNG chart per metric and size")
    args = p.parse_args(argv)
    args.size = list(dict.fromkeys(args.size or ["large"]))
    default = generate.VARIANTS if args.full else HEADLINE_VARIANTS
    args.variants = list(dict.fromkeys(v for group in args.variants or [default] for v in group))
    unknown = [v for v in args.variants if v not in generate.ALL_VARIANTS]
    if unknown:
        p.error(f"unknown variant {unknown[0]!r}; choose from {', '.join(generate.ALL_VARIANTS)}")
    if not args.variants:
        p.error("--variants needs at least one variant")
    if args.rounds < 1 or args.openapi_rounds < 1:
        p.error("--rounds and --openapi-rounds must be >= 1")
    if args.compat_venv:
        bindir = "Scripts" if os.name == "nt" else "bin"
        args.compat_python = str(args.compat_venv / bindir / "python")
    args.scenarios = SCENARIOS if args.full else HEADLINE_SCENARIOS
    args.openapi_rounds = min(args.openapi_rounds, args.rounds) if args.full else args.rounds
    if args.no_chart:
        args.chart = None
    elif args.chart is None and not args.full:
        args.chart = CHART_DIR
    if args.plot or args.chart:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            p.error("the charts need matplotlib: pip install -e '.[bench]' (or pass --no-chart)")
    return args


def plan_rows(variants: Sequence[str], main: Runtime, compat: Runtime | None) -> list[tuple[str, Runtime]]:
    """(variant, runtime) of every row: main rows first, then the compat group.

    With a compat runtime, ``fastapi_lazyrouter*`` run only there, next to
    ``eager`` and ``lazy_fastapi`` on the same interpreter (their pair baselines).
    """
    third_party = [v for v in variants if v in generate.FASTAPI_LAZYROUTER_VARIANTS]
    if compat is None or not third_party:
        return [(v, main) for v in variants]
    rows = [(v, main) for v in variants if v not in generate.FASTAPI_LAZYROUTER_VARIANTS]
    rows += [(v, compat) for v in dict.fromkeys([*COMPAT_PEERS, *third_party])]
    return rows


def runtimes(args: argparse.Namespace, notes: list[str]) -> tuple[Runtime, Runtime | None, list[str]]:
    """The main and compat interpreters, and the variants they can run (skips go to ``notes``)."""
    extra_paths = (args.lazyrouter_path,) if args.lazyrouter_path else ()
    main = Runtime("", args.python, extra_paths, query_versions(args.python, extra_paths) or {}, "--python")
    variants = list(args.variants)
    compat: Runtime | None = None
    # 'auto' keeps fastapi-lazyrouter on the main interpreter when its FastAPI still works with it.
    broken = version_tuple(main.versions.get("fastapi")) >= FASTAPI_LAZYROUTER_BREAKS_AT
    wanted = args.compat_python != "none" and (args.compat_python != "auto" or broken)
    if wanted and set(variants) & generate.FASTAPI_LAZYROUTER_VARIANTS:
        log(f"compat interpreter (--compat-python {args.compat_python})")
        # It imports lazyrouter from the checkout even if the main one has it installed.
        compat, note = compat_runtime(args.compat_python, extra_paths or (str(REPO_ROOT),), log)
        if note:
            notes.append(note)
            variants = [v for v in variants if v not in generate.FASTAPI_LAZYROUTER_VARIANTS]
    if "lazy_modules" in variants and not lazy_modules_supported(main):
        variants.remove("lazy_modules")
        notes.append("lazy_modules skipped: this lazyrouter does not accept import strings in include_router()")
    for note in notes:
        log(f"note: {note}")
    return main, compat, variants


def headline_footer(args: argparse.Namespace) -> list[str]:
    """Where the chart went and how to run the rest."""
    out = [f"chart: {args.chart / f'cold-start-{size}.png'}" for size in args.size if args.chart]
    if not args.full:
        out.append(
            "full comparison (app.router =, opt-in routers, Mangum, /openapi.json, fastapi-lazyrouter on"
            " FastAPI 0.163.2; about 15 min): python bench/cold_start.py --full  (or: tox -e bench-compat,bench)"
        )
    return out


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{seconds:.1f}s"


def main(argv: list[str] | None = None) -> int:
    """Generate, check, time, report.

    Exit status 1 if one of our variants (anything but the third-party
    ``fastapi_lazyrouter*`` comparison variants) failed its correctness check.
    Interpreters or variants that cannot be set up (no network for the
    compat environment, no import-string support for ``lazy_modules``) are
    reported as notes and skipped; they do not change the exit status.
    """
    started = time.perf_counter()
    args = parse_args(argv)
    notes: list[str] = []
    main_rt, compat_rt, variants = runtimes(args, notes)
    plan = plan_rows(variants, main_rt, compat_rt)
    if not plan:
        log("nothing to measure")
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lazyrouter-bench-"))
    all_rows: dict[str, Rows] = {}
    failed = False
    try:
        for size in args.size:
            log(f"[{size}] generating {len({v for v, _ in plan})} variants in {workdir / size}")
            rows = measure.prepare(size, plan, workdir, log)
            log(f"[{size}] correctness checks")
            measure.check_all(rows, "check" if args.full else "probes", log)
            failed |= any(r.check_error for r in rows.values() if r.variant not in generate.FASTAPI_LAZYROUTER_VARIANTS)
            timed = {n: r for n, r in rows.items() if not r.check_error or args.include_failing}
            log(f"[{size}] timing {len(timed)} rows x {report.rounds_label(args.rounds)}")
            measure.measure(timed, args.scenarios, args.rounds, args.warmup, args.openapi_rounds, log)
            all_rows[size] = rows
            if args.full:
                print(report.report(size, rows, args.rounds, args.openapi_rounds, notes), flush=True)
            else:
                print("".join(f"\nnote: {note}" for note in notes), end="", flush=True)
                if any(r.check_error for r in rows.values()):
                    print("\n".join(report.check_lines(rows)), flush=True)
            print(report.headline(size, rows, args.rounds), flush=True)
            if args.chart:
                log(f"wrote {chart.headline_chart(size, rows, args.rounds, args.chart / f'cold-start-{size}.png')}")
        write_outputs(args, all_rows, notes, time.perf_counter() - started)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(["", *headline_footer(args), f"total elapsed: {_elapsed(time.perf_counter() - started)}"]))
    return 1 if failed else 0


def write_outputs(args: argparse.Namespace, all_rows: dict[str, Rows], notes: Sequence[str], elapsed_s: float) -> None:
    """``--json``, ``--markdown`` and ``--plot``."""
    if args.json:
        meta = {
            "full": args.full,
            "python": args.python,
            "python_version": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "rounds": args.rounds,
            "openapi_rounds": args.openapi_rounds,
            "warmup": args.warmup,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "elapsed_s": elapsed_s,
            "notes": list(notes),
        }
        args.json.write_text(json.dumps(report.to_json(all_rows, meta), indent=1) + "\n")
        log(f"wrote {args.json}")
    if args.markdown:
        args.markdown.write_text(report.markdown(all_rows, args.rounds, args.openapi_rounds, notes), encoding="utf-8")
        log(f"wrote {args.markdown}")
    if args.plot:
        for path in chart.metric_charts(all_rows, args.plot):
            log(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
