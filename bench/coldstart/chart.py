"""PNG charts of the comparison (matplotlib, imported only when a chart is drawn).

``headline_chart()`` draws the headline: cold start to first response and
peak RSS per row, medians with min–max whiskers, the targets as lines.
``metric_charts()`` draws one bar chart per metric and size (``--plot``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import generate

from coldstart.targets import BASELINE, FLOOR, METRICS_BY_KEY, SKIPPED, TARGETS, WIRING, Rows, summarize

#: Bar colours: the baselines grey, lazyrouter blue, the third-party package orange.
COLOURS = {"baseline": "#9a9a9a", "lazyrouter": "#3b6fb6", "third_party": "#dd8452"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colour(variant: str) -> str:
    if variant in generate.LAZYROUTER_VARIANTS:
        return COLOURS["lazyrouter"]
    if variant in generate.FASTAPI_LAZYROUTER_VARIANTS:
        return COLOURS["third_party"]
    return COLOURS["baseline"]


def _limit(metric: str, baseline: str) -> float | None:
    """The loosest limit of the targets on ``metric`` vs ``baseline`` that judge every lazyrouter row."""
    limits = [t.limit for t in TARGETS if t.metric == metric and t.baseline == baseline and not t.variants]
    return max(limits) if limits else None


def headline_chart(size: str, rows: Rows, rounds: int, path: Path) -> Path:
    """Two panels, one bar per row: first response (ms) and peak RSS (MiB)."""
    plt = _pyplot()
    shown = [row for row in rows.values() if row.reports(METRICS_BY_KEY["first_response_s"])]
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.5 * len(shown) + 2), sharey=True)
    panels = (
        ("first_response_s", "cold start to first response (ms)", 1000.0, "ms"),
        ("rss_mib", "peak RSS (MiB)", 1.0, "MiB"),
    )
    for ax, (key, title, scale, unit) in zip(axes, panels, strict=True):
        summaries = [summarize(rows, row.name, key) for row in shown]
        medians = [(s.median or 0.0) * scale for s in summaries]
        errors = [
            [(s.median - s.low) * scale if s.median is not None and s.low is not None else 0.0 for s in summaries],
            [(s.high - s.median) * scale if s.median is not None and s.high is not None else 0.0 for s in summaries],
        ]
        y = range(len(shown))
        ax.barh(y, medians, xerr=errors, capsize=3, color=[_colour(row.variant) for row in shown])
        for i, (value, above, s) in enumerate(zip(medians, errors[1], summaries, strict=True)):
            ratio = "" if s.vs_eager is None else f"  {s.vs_eager:.2f}x eager"
            ax.text(value + above, i, f"  {value:.0f} {unit}{ratio}", va="center", ha="left", fontsize=8)
        limit = _limit(key, BASELINE)
        if limit is not None and BASELINE in rows and (eager := summarize(rows, BASELINE, key).median):
            ax.axvline(eager * scale * limit, color="#c44e52", linestyle=":", label=f"target: {limit:g}x eager")
        if key == "first_response_s" and FLOOR in rows and (floor := summarize(rows, FLOOR, key).median):
            ax.axvline(floor * scale, color="#555555", linestyle="--", linewidth=1, label="floor")
        ax.legend(loc="lower right", fontsize=7)
        ax.set_xlim(0, max(m + a for m, a in zip(medians, errors[1], strict=True)) * 1.5)
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
    labels = [f"{row.name}\n{WIRING.get(row.variant, '')}" for row in shown]
    axes[0].set_yticks(list(range(len(shown))), labels, fontsize=8)
    axes[0].invert_yaxis()
    m = next(iter(rows.values())).manifest
    rt = next(iter(rows.values())).runtime
    fig.suptitle(
        f"size {size}: {m['routes']} routes, {m['models']} models; FastAPI {rt.fastapi}, {os.cpu_count()} cores,"
        f" {time.strftime('%Y-%m-%d')}; median of {rounds} fresh processes (whiskers: min–max)",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def metric_charts(all_rows: dict[str, Rows], out_dir: Path) -> list[Path]:
    """One bar chart per metric and size, and first response by size; returns their paths."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for size, rows in all_rows.items():
        for key in ("first_response_s", "rss_mib", "openapi_cold_s", "mangum_s"):
            metric = METRICS_BY_KEY[key]
            scale = 1000.0 if metric.unit == "s" else 1.0
            names: list[str] = []
            med: list[float] = []
            below: list[float] = []
            above: list[float] = []
            for name, row in rows.items():
                s = summarize(rows, name, key)
                if (row.variant, metric.scenario) in SKIPPED or s.median is None or s.low is None or s.high is None:
                    continue
                names.append(name)
                med.append(s.median * scale)
                below.append((s.median - s.low) * scale)
                above.append((s.high - s.median) * scale)
            if not names:
                continue
            fig, ax = plt.subplots(figsize=(9, 4.5))
            ax.bar(names, med, yerr=[below, above], capsize=4, color="#4c72b0")
            ax.set_ylabel("ms" if metric.unit == "s" else metric.unit)
            ax.set_title(f"{metric.title}\nsize {size} (median, min-max)", fontsize=10)
            ax.tick_params(axis="x", rotation=30)
            fig.tight_layout()
            path = out_dir / f"{key.removesuffix('_s')}_{size}.png"
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
    if len(all_rows) > 1:
        written.append(_by_size(plt, all_rows, out_dir / "first_response_by_size.png"))
    return written


def _by_size(plt: Any, all_rows: dict[str, Rows], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    sizes = list(all_rows)
    for name in dict.fromkeys(name for rows in all_rows.values() for name in rows):
        medians = [
            summarize(rows, name, "first_response_s").median if name in rows else None for rows in all_rows.values()
        ]
        if any(m is not None for m in medians):
            ax.plot(sizes, [float("nan") if m is None else m * 1000 for m in medians], marker="o", label=name)
    ax.set_ylabel("ms")
    ax.set_title("cold start to first response by app size (median)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
