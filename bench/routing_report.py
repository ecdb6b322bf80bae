"""The report of ``bench/routing.py``: its tables, the targets, the chart."""

from __future__ import annotations

import sys
from typing import Any

from routing_apps import BASELINE, LAYOUTS, PROBES


def _ratio(value: float | None, base: float | None) -> str:
    return "    -" if value is None or not base else f"{value / base:5.2f}"


def print_tables(
    frameworks: list[str],
    counts: tuple[int, ...],
    warm: dict[tuple[str, str, int], dict[str, float]],
    hits: dict[tuple[str, str, int], Any],
    builds: dict[tuple[str, str, int], float],
) -> None:
    """Plain-text report: µs/request with ratios vs 10 routes and vs eager FastAPI."""
    col = 30
    print("warm per-request cost: median us/request  [x vs 10 routes, x vs fastapi]")
    for layout in LAYOUTS:
        for probe in PROBES:
            print(f"\n[{layout}] probe={probe}")
            print("  " + f"{'routes':>7}" + "".join(f"{f:>{col}}" for f in frameworks))
            for n in counts:
                cells = []
                for f in frameworks:
                    value = warm.get((f, layout, n), {}).get(probe)
                    if value is None:
                        cells.append(f"{'-':>{col}}")
                        continue
                    base10 = warm.get((f, layout, counts[0]), {}).get(probe)
                    eager = warm.get((BASELINE, layout, n), {}).get(probe)
                    text = f"{value:9.1f} [{_ratio(value, base10)},{_ratio(value, eager)}]"
                    cells.append(f"{text:>{col}}")
                print("  " + f"{n:>7}" + "".join(cells))
    _layout_table(
        "first request to a not-yet-hit route vs warm request to it: median us",
        frameworks,
        counts,
        hits,
        lambda hit: f"{hit.first:9.1f} / {hit.warm:7.1f} ({hit.first / hit.warm:5.1f}x)",
        col,
    )
    print_first_hit_parts(frameworks, counts, hits)
    _layout_table("app construction time: ms", frameworks, counts, builds, lambda s: f"{s * 1000:.1f}", col)


def print_first_hit_parts(
    frameworks: list[str],
    counts: tuple[int, ...],
    hits: dict[tuple[str, str, int], Any],
) -> None:
    """What a first request spends: FastAPI building the route and its
    context (`construction`), and the rest beyond a warm request, with its
    share of the first request. Eager FastAPI's rest is its own first-request
    work (what is not warm yet; on FastAPI >= 0.137 the routes its dispatch
    scans on the way, beyond their contexts); lazyrouter's is its own work,
    FastAPI's first handling of a fresh route and the garbage collections the
    construction's allocations bring on. In brackets, lazyrouter's own work
    alone: the time in its dispatch outside FastAPI's construction."""
    lazy = [f for f in frameworks if f != BASELINE and any(hits[key].construction for key in hits if key[0] == f)]
    shown = [f for f in (BASELINE, *lazy) if f in frameworks]
    if not lazy:
        return
    _layout_table(
        "of the first request, median us: FastAPI's construction | the rest beyond a warm request (share)"
        " [of which lazyrouter's own dispatch (share)]",
        shown,
        counts,
        hits,
        _first_hit_cell,
        48,
    )


def _first_hit_cell(hit: Any) -> str:
    cell = f"{hit.construction:9.1f} | {hit.rest:7.1f} ({hit.rest / hit.first:4.0%})"
    if hit.own is not None:
        cell += f" [{hit.own:6.1f} ({hit.own / hit.first:4.0%})]"
    return cell


def _layout_table(
    title: str,
    frameworks: list[str],
    counts: tuple[int, ...],
    values: dict[tuple[str, str, int], Any],
    cell: Any,
    width: int,
) -> None:
    """A table with a row per layout and route count, a column per framework."""
    print(f"\n{title}")
    print("  " + f"{'layout':<9}{'routes':>7}" + "".join(f"{f:>{width}}" for f in frameworks))
    for layout in LAYOUTS:
        for n in counts:
            value = [values.get((f, layout, n)) for f in frameworks]
            cells = "".join(f"{'-' if v is None else cell(v):>{width}}" for v in value)
            print("  " + f"{layout:<9}{n:>7}" + cells)


# The goals: at small and medium sizes never slower than eager FastAPI
# (and clearly faster with one router per resource); flat in route count.
EAGER_LIMITS: dict[str, float] = {"flat": 1.0, "routers": 0.8}
EAGER_SIZES: tuple[int, ...] = (10, 100, 1_000)
FLAT_LIMIT = 1.3
FLAT_SIZES: tuple[int, ...] = (5_000, 10_000)


def print_targets(
    counts: tuple[int, ...],
    warm: dict[tuple[str, str, int], dict[str, float]],
    floor: dict[str, tuple[float, float]],
) -> None:
    """The routing targets for lazyrouter, met or not, per layout and probe."""
    print(f"\nFastAPI's floor: an eager app holding only the probed route, beside eager at {counts[0]} routes")
    print(f"  {'probe':<6} {'floor us':>9} {'eager (routers) us':>19} {'0.8x eager / floor':>19}")
    for probe, (alone, eager) in floor.items():
        limit = EAGER_LIMITS["routers"] * eager
        print(f"  {probe:<6} {alone:9.1f} {eager:19.1f} {limit / alone:18.2f}x")
    print("\ntargets for lazyrouter (ratios of median us/request)")
    met = total = 0
    for layout in LAYOUTS:
        smallest = warm.get(("lazyrouter", layout, counts[0]), {})
        for n in counts:
            lazy = warm.get(("lazyrouter", layout, n), {})
            eager = warm.get((BASELINE, layout, n), {})
            checks: list[tuple[str, float, float]] = []
            if n in EAGER_SIZES and eager:
                limit = EAGER_LIMITS[layout]
                checks += [
                    (f"{p} vs eager FastAPI", lazy[p] / eager[p], limit) for p in PROBES if p in lazy and p in eager
                ]
            if n in FLAT_SIZES and smallest:
                checks += [
                    (f"{p} vs lazyrouter at {counts[0]} routes", lazy[p] / smallest[p], FLAT_LIMIT)
                    for p in PROBES
                    if p in lazy and p in smallest
                ]
            for label, ratio, limit in checks:
                total += 1
                met += ratio <= limit
                verdict = "met" if ratio <= limit else "NOT met"
                print(f"  [{layout} {n:>6}] {label:<34} {ratio:5.2f}x (limit {limit:.1f}x)  {verdict}")
    print(f"  {met} of {total} met")


def plot(
    frameworks: list[str], counts: tuple[int, ...], warm: dict[tuple[str, str, int], dict[str, float]], out: str
) -> None:
    """Per-request cost by route count, one panel per probe (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(len(LAYOUTS), len(PROBES), figsize=(3.2 * len(PROBES), 3.2 * len(LAYOUTS)), sharey=True)
    for row, layout in zip(grid, LAYOUTS, strict=True):
        for axis, probe in zip(row, PROBES, strict=True):
            for framework in frameworks:
                points = [(n, warm[(framework, layout, n)][probe]) for n in counts if (framework, layout, n) in warm]
                axis.plot([n for n, _ in points], [v for _, v in points], marker="o", label=framework)
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_title(f"{probe} ({layout})", fontsize=9)
            axis.set_xlabel("routes")
    axes = grid[:, 0]
    for axis in axes:
        axis.set_ylabel("us per request (median)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}", file=sys.stderr)
