"""What the comparison prints and writes: the headline, the full report, Markdown, JSON.

The headline is one table (cold start to first response and peak RSS, each
lazyrouter cell judged against its targets); the full report has a table
per metric, the correctness checks and the interpreters; ``markdown()``
renders the full tables for ``docs/bench/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import generate

from coldstart.measure import same_clock_across_processes
from coldstart.runtimes import Runtime, checkout_revision, machine_description
from coldstart.targets import (
    BASELINE,
    FLOOR,
    METRICS,
    METRICS_BY_KEY,
    SKIPPED,
    TARGETS,
    WIRING,
    Metric,
    Row,
    Rows,
    Target,
    judged,
    ratio_to,
    summarize,
    verdicts,
)

#: Metrics of the Markdown tables, with their headings.
MARKDOWN_METRICS: tuple[tuple[str, str], ...] = (
    ("first_response_s", "Cold start to first response"),
    ("cpu_s", "CPU time to first response (user + system)"),
    ("mangum_s", "Mangum (API Gateway v2 event): cold start to first response"),
    ("openapi_cold_s", "Cold start to first `/openapi.json`"),
    ("openapi_first_s", "First `/openapi.json` request (after import)"),
    ("openapi_second_s", "Second `/openapi.json` request"),
    ("rss_mib", "Peak RSS after the first response"),
)


def fmt(value: float | None, unit: str) -> str:
    """Seconds as ms (one decimal below 100 ms); other units with one decimal."""
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f}" if value >= 0.1 else f"{value * 1000:.1f}"
    return f"{value:.1f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def rounds_label(rounds: int, openapi_rounds: int | None = None) -> str:
    """``5 rounds (openapi: 2)``."""
    text = f"{rounds} round{'s' if rounds != 1 else ''}"
    return text if openapi_rounds in (None, rounds) else f"{text} (openapi: {openapi_rounds})"


def app_line(rows: Rows) -> str:
    """``100 routers, 1000 routes, 1408 models``."""
    m = next(iter(rows.values())).manifest
    return f"{m['routers']} routers, {m['routes']} routes, {m['models']} models"


def timed_rows(rows: Rows, metric: Metric) -> list[Row]:
    """Rows that report ``metric``: timed in its scenario."""
    return [row for row in rows.values() if (row.variant, metric.scenario) not in SKIPPED and row.reports(metric)]


# --- the headline ------------------------------------------------------------


def _judged_cell(rows: Rows, row: Row, metric: str, baseline: str) -> str:
    """A paired ratio, with ``met``/``NOT met`` when a target judges this cell."""
    ratio = ratio_to(rows, row, baseline, metric)
    targets = [t for t in TARGETS if t.metric == metric and t.baseline == baseline and judged(t, row)]
    # Three decimals: a limit such as 0.60x is judged on them (0.602x is not met).
    shown = "-" if ratio is None else f"{ratio:.3f}x"
    if ratio is None or not targets:
        return shown
    return f"{shown} {'met' if all(ratio <= t.limit for t in targets) else 'NOT met'}"


def headline(size: str, rows: Rows, rounds: int) -> str:
    """One table: cold start to first response and peak RSS, targets judged per cell."""
    main = next(iter(rows.values())).runtime
    out = [
        "",
        f"=== cold start to first response, size {size}: {app_line(rows)} ===",
        f"{main.describe()}; {checkout_revision() or 'lazyrouter'}",
        f"{rounds_label(rounds)}, one fresh interpreter per run; medians, ratios paired round by round",
        "",
        f"{'variant':<26}{'wiring':<32}{'first response':>14}  {'vs eager':<16}{'vs floor':<16}"
        f"{'peak RSS':>9}  vs eager",
    ]
    first, rss = METRICS_BY_KEY["first_response_s"], METRICS_BY_KEY["rss_mib"]
    for row in timed_rows(rows, first):
        median = summarize(rows, row.name, first.key).median
        rss_mib = summarize(rows, row.name, rss.key).median
        out.append(
            f"{row.name:<26}{WIRING.get(row.variant, row.variant):<32}{fmt(median, 's') + ' ms':>14}"
            f"  {_judged_cell(rows, row, first.key, BASELINE):<16}{_judged_cell(rows, row, first.key, FLOOR):<16}"
            f"{fmt(rss_mib, 'MiB') + ' MiB':>9}  {_judged_cell(rows, row, rss.key, BASELINE)}".rstrip()
        )
    return "\n".join(out + ["", *_headline_targets(rows)])


def _headline_targets(rows: Rows) -> list[str]:
    """How many targets were met, which ones, and which were not measured."""
    found = [(target, vs, notes) for target, vs, notes in verdicts(rows) if vs]
    if not found:
        return ["targets: no lazyrouter row measured"]
    measured = [(t, vs, notes) for t, vs, notes in found if any(v.ratio is not None for v in vs)]
    results = [v.verdict for _, vs, _ in measured for v in vs if v.ratio is not None]
    out = [f"targets: {results.count('met')} of {len(results)} met (judged on the lazyrouter rows)"]
    for target, _, notes in measured:
        limit = f"{target.limit:g}x {target.baseline}"
        out.append(f"  <= {limit:<13} {target.label}{_only(target)}")
        out += [f"    note: {note}" for note in notes]
    unmeasured = [t.label for t, vs, _ in found if all(v.ratio is None for v in vs)]
    if unmeasured:
        out.append(f"  not measured in this run (--full measures all): {'; '.join(unmeasured)}")
    return out


def _only(target: Target) -> str:
    return f" ({', '.join(target.variants)})" if target.variants else ""


# --- the full report -----------------------------------------------------------


def metric_table(rows: Rows, metric: Metric) -> list[str]:
    """Plain-text table of one metric across rows."""
    unit = "ms" if metric.unit == "s" else metric.unit
    lines = [
        f"{metric.key}: {metric.title} [{unit}]",
        f"  {'variant':<30}{'FastAPI':>9}{'median':>9}{'min-max':>19}{'vs eager':>10}{'vs floor':>10}{'n':>4}",
    ]
    for row in timed_rows(rows, metric):
        s = summarize(rows, row.name, metric.key)
        span = f"{fmt(s.low, metric.unit)}-{fmt(s.high, metric.unit)}"
        lines.append(
            f"  {row.name:<30}{row.runtime.fastapi:>9}{fmt(s.median, metric.unit):>9}{span:>19}"
            f"{fmt_ratio(s.vs_eager):>10}{fmt_ratio(s.vs_floor):>10}{s.n:>4}"
        )
    return lines


def target_lines(rows: Rows) -> list[str]:
    """Targets of the lazyrouter rows, each reported met / NOT met / n/a."""
    lines = ["targets (lazyrouter variants; paired median ratios vs the same runtime's baseline):"]
    if not any(row.variant in generate.LAZYROUTER_VARIANTS for row in rows.values()):
        return lines + ["  (no lazyrouter variant measured)"]
    for target, found, notes in verdicts(rows):
        for v in found:
            shown = "-" if v.ratio is None else f"{v.ratio:.3f}x"
            lines.append(f"  {v.verdict:<8} {v.row:<20} {shown:>7} (limit {target.limit:g}x)  {target.label}")
        lines += [f"  note: {note}" for note in notes]
    return lines


def check_line(row: Row) -> str:
    """One line describing a row's correctness check."""
    if row.check is None:
        return f"  FAIL  {row.name:<30} {row.check_error}"
    probes = ", ".join(f"{p['name']} {p['status']}" for p in row.check.get("probes", []))
    ops = row.check.get("operations")
    expected = generate.expected_operation_count(row.manifest["size"], row.variant)
    if row.variant == FLOOR:
        openapi = "openapi disabled"
    elif "openapi_status" not in row.check:
        openapi = "openapi.json not checked"
    elif ops is None:
        openapi = f"openapi.json status {row.check.get('openapi_status')}"
    else:
        note = "" if ops == expected else f" (expected {expected}: INCOMPLETE/WRONG)"
        openapi = f"openapi.json {ops} operations{note}"
    verdict = "ok  " if not row.check_error else "FAIL"
    extra = f" -- {row.check_error}" if row.check_error else ""
    return f"  {verdict}  {row.name:<30} {probes}; {openapi}{extra}"


def openapi_incomplete(row: Row) -> str | None:
    """Why the row's ``/openapi.json`` numbers are not comparable (``None``: they are)."""
    if row.check is None or row.variant == FLOOR:
        return None
    ops = row.check.get("operations")
    expected = generate.expected_operation_count(row.manifest["size"], row.variant)
    if ops is None or ops == expected:
        return None
    return f"`/openapi.json` lists {ops} of {expected} operations, so its openapi figures cover less work"


def runtimes_of(rows: Rows) -> list[Runtime]:
    """The distinct runtimes of some rows, main first."""
    found: dict[str, Runtime] = {}
    for row in rows.values():
        found.setdefault(row.runtime.suffix, row.runtime)
    return sorted(found.values(), key=lambda rt: rt.suffix != "")


def check_lines(rows: Rows) -> list[str]:
    """The correctness check of every row, and the errors of timed runs."""
    out = ["correctness check:", *(check_line(row) for row in rows.values())]
    for row in rows.values():
        if row.run_errors:
            out.append(f"  run errors for {row.name}: {len(row.run_errors)}, e.g. {row.run_errors[0]}")
    return out


def report(size: str, rows: Rows, rounds: int, openapi_rounds: int, notes: Sequence[str]) -> str:
    """The whole plain-text report for one size."""
    out = ["", f"=== size {size}: {app_line(rows)}; {rounds_label(rounds, openapi_rounds)}; times in ms ==="]
    out.append("interpreters:")
    for rt in runtimes_of(rows):
        out.append(f"  {rt.describe()}  [{rt.origin}]")
        out.append(f"    rows: {', '.join(row.name for row in rows.values() if row.runtime is rt)}")
    out += [f"note: {note}" for note in notes]
    out += check_lines(rows)
    for metric in METRICS:
        if metric.key == "spawn_to_response_s" and not same_clock_across_processes():
            continue
        if timed_rows(rows, metric):
            out += ["", *metric_table(rows, metric)]
    out += ["", *target_lines(rows)]
    return "\n".join(out)


# --- Markdown and JSON ---------------------------------------------------------


def markdown(all_rows: dict[str, Rows], rounds: int, openapi_rounds: int, notes: Sequence[str]) -> str:
    """The result tables as a Markdown snippet for ``docs/bench/``."""
    runtimes = runtimes_of({f"{size}/{k}": row for size, rows in all_rows.items() for k, row in rows.items()})
    out = [f"Machine: {machine_description(runtimes)}.", ""]
    for note in notes:
        out += [f"Note: {note}", ""]
    for size, rows in all_rows.items():
        out += [
            f"### Size {size}: {app_line(rows)}",
            "",
            f"{rounds_label(rounds, openapi_rounds)}, one fresh process per run; median and min–max;"
            " ratios are paired by round (median of per-round ratios) against `eager`/`floor` on the same"
            " FastAPI release. Rows `@x.y` ran on FastAPI x.y (see the FastAPI column).",
            "",
        ]
        caveats = [
            f"* `{row.name}` failed its correctness check: {row.check_error}"
            for row in rows.values()
            if row.check_error
        ]
        caveats += [f"* `{row.name}`: {why}" for row in rows.values() if (why := openapi_incomplete(row))]
        if caveats:
            out += [*caveats, ""]
        for key, heading in MARKDOWN_METRICS:
            out += _markdown_table(rows, METRICS_BY_KEY[key], heading)
        if any(row.variant in generate.LAZYROUTER_VARIANTS for row in rows.values()):
            out += _markdown_targets(rows)
    return "\n".join(out).rstrip() + "\n"


def _markdown_table(rows: Rows, metric: Metric, heading: str) -> list[str]:
    timed = timed_rows(rows, metric)
    if not timed:
        return []
    out = [
        f"#### {heading} ({'ms' if metric.unit == 's' else metric.unit})",
        "",
        "| variant | FastAPI | median | min–max | vs eager | vs floor |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in timed:
        s = summarize(rows, row.name, metric.key)
        span = "-" if s.low is None else f"{fmt(s.low, metric.unit)}–{fmt(s.high, metric.unit)}"
        out.append(
            f"| `{row.name}` | {row.runtime.fastapi} | {fmt(s.median, metric.unit)} | {span}"
            f" | {fmt_ratio(s.vs_eager)} | {fmt_ratio(s.vs_floor)} |"
        )
    return [*out, ""]


def _markdown_targets(rows: Rows) -> list[str]:
    out = [
        "#### Targets",
        "",
        "| target | variant | ratio | against | limit | result |",
        "| --- | --- | ---: | --- | ---: | --- |",
    ]
    all_notes: list[str] = []
    for target, found, notes in verdicts(rows):
        # e.g. no floor on the compat interpreter: nothing to compare with
        for v in (v for v in found if v.baseline_row in rows and v.ratio is not None):
            result = {"met": "met", "NOT met": "**not met**"}[v.verdict]
            out.append(
                f"| {target.label} | `{v.row}` | {v.ratio:.3f}x | `{v.baseline_row}` | {target.limit:g}x | {result} |"
            )
        all_notes += notes
    return [*out, "", *(f"* {note}" for note in all_notes), *([""] if all_notes else [])]


def to_json(all_rows: dict[str, Rows], meta: dict[str, Any]) -> dict[str, Any]:
    """Raw numbers and summaries, JSON-serialisable."""
    sizes: dict[str, Any] = {}
    for size, rows in all_rows.items():
        sizes[size] = {
            "variants": {
                name: {
                    "variant": row.variant,
                    "runtime": {
                        "suffix": row.runtime.suffix,
                        "python": row.runtime.python,
                        "origin": row.runtime.origin,
                        "versions": row.runtime.versions,
                    },
                    "manifest": {k: row.manifest[k] for k in ("routers", "routes", "models", "description")},
                    "check": row.check,
                    "check_error": row.check_error,
                    "runs": row.runs,
                    "run_errors": row.run_errors,
                    "summary": {m.key: vars(summarize(rows, name, m.key)) for m in METRICS if m.scenario in row.runs},
                }
                for name, row in rows.items()
            },
        }
    return {"meta": {**meta, "targets": [vars(t) for t in TARGETS]}, "sizes": sizes}
