"""What the background warm-up costs the requests it runs beside, and what it buys.

Serves the generated app (``lazy_fastapi`` variant) from a real uvicorn process
on 127.0.0.1, once without warm-up and once per ``--share``, and for each:

1. sends the first request (cold: it builds its route);
2. for as long as the warm-up runs (or ``--window`` seconds without one), sends
   sequential requests to that already-built route and records their latency:
   this is what the warm-up thread costs requests;
3. then sends the first request to ``--probes`` routes no request had used and
   records their latency: what the warm-up buys (built vs built on demand).

Usage::

    python bench/warm_up.py --size medium
    python bench/warm_up.py --size large --share 0.25 1.0 --json out.json

Latencies are client-side (httpx over loopback, keep-alive), medians and tail
percentiles; the machine's noise applies to every configuration alike.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

HOST = "127.0.0.1"
WRAPPER = "warmapp"
DONE = re.compile(r"Warm-up built (\d+) routes in ([\d.]+) s")


@dataclass
class Run:
    config: str
    first_request_ms: float = 0.0
    warm_up_seconds: float | None = None
    warmed_routes: int | None = None
    requests: int = 0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    probe_ms: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, object]:
        lat = sorted(self.latencies_ms)
        return {
            "config": self.config,
            "first_request_ms": round(self.first_request_ms, 1),
            "warm_up_seconds": self.warm_up_seconds,
            "warmed_routes": self.warmed_routes,
            "requests": len(lat),
            "p50_ms": round(_percentile(lat, 50), 2),
            "p90_ms": round(_percentile(lat, 90), 2),
            "p99_ms": round(_percentile(lat, 99), 2),
            "max_ms": round(lat[-1], 2) if lat else None,
            "probe_median_ms": round(statistics.median(self.probe_ms), 2) if self.probe_ms else None,
            "probe_max_ms": round(max(self.probe_ms), 2) if self.probe_ms else None,
        }


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return float("nan")
    rank = min(len(values) - 1, max(0, round(percent / 100 * len(values)) - 1))
    return values[rank]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _write_wrapper(app_dir: Path) -> None:
    # The generated main.py builds `app = LazyFastAPI(...)`; the wrapper sets
    # the warm-up before the server starts the lifespan, where it is read.
    (app_dir / f"{WRAPPER}.py").write_text(
        textwrap.dedent(
            """\
            import logging
            import os
            import sys

            from lazyrouter import WarmUp

            from benchapp.main import app

            handler = logging.StreamHandler(sys.stderr)
            logging.getLogger("lazyrouter").addHandler(handler)
            logging.getLogger("lazyrouter").setLevel(logging.INFO)
            share = float(os.environ["BENCH_WARM_UP_SHARE"])
            if share > 0:
                app.router.warm_up = WarmUp(delay=float(os.environ["BENCH_WARM_UP_DELAY"]), share=share)
            """
        )
    )


def _probe_paths(size: str, count: int) -> list[str]:
    spec = generate.SIZES[size]
    routers = list(range(1, spec.routers))
    step = max(1, len(routers) // count)
    return [f"/r{index:04d}/{generate.router_resources(spec, index)[0].plural}/1" for index in routers[::step][:count]]


def measure(app_dir: Path, size: str, share: float, args: argparse.Namespace) -> Run:
    config = "no warm-up" if share == 0 else f"warm-up share={share:g}"
    run = Run(config)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(app_dir),
        "BENCH_WARM_UP_SHARE": str(share),
        "BENCH_WARM_UP_DELAY": str(args.delay),
    }
    argv = [sys.executable, "-m", "uvicorn", f"{WRAPPER}:app", "--host", HOST, "--port", str(port)]
    server = subprocess.Popen(
        [*argv, "--log-level", "warning"], cwd=app_dir, env=env, stderr=subprocess.PIPE, text=True
    )
    log: list[str] = []
    done = threading.Event()

    def read_log() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            log.append(line)
            match = DONE.search(line)
            if match and run.warm_up_seconds is None:
                run.warmed_routes, run.warm_up_seconds = int(match[1]), float(match[2])
                done.set()

    threading.Thread(target=read_log, daemon=True).start()
    first = generate.first_request(size).path
    try:
        with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=60) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    started = time.perf_counter()
                    response = client.get(first)
                    run.first_request_ms = (time.perf_counter() - started) * 1000
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("server did not start:\n" + "".join(log)) from None
                    time.sleep(0.05)
            assert response.status_code == 200, response.text
            window_end = time.monotonic() + (args.window if share == 0 else args.cap)
            while time.monotonic() < window_end and not done.is_set():
                started = time.perf_counter()
                response = client.get(first)
                run.latencies_ms.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            for path in _probe_paths(size, args.probes):
                started = time.perf_counter()
                response = client.get(path)
                run.probe_ms.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(generate.SIZES), default="medium")
    parser.add_argument("--share", type=float, nargs="+", default=[0.25, 1.0], help="warm-up shares to compare")
    parser.add_argument("--delay", type=float, default=0.5, help="warm-up delay after the first request (s)")
    parser.add_argument("--cap", type=float, default=600, help="longest a warm-up is waited for (s)")
    parser.add_argument("--window", type=float, default=None, help="seconds measured without warm-up")
    parser.add_argument("--probes", type=int, default=20, help="never-requested routes hit afterwards")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="lazyrouter-warmup-") as directory:
        app_dir = Path(directory)
        generate.generate(args.size, "lazy_fastapi", app_dir)
        _write_wrapper(app_dir)
        runs = [measure(app_dir, args.size, share, args) for share in args.share]
        if args.window is None:
            args.window = max((run.warm_up_seconds or 0 for run in runs), default=10) or 10
        runs.insert(0, measure(app_dir, args.size, 0, args))

    summaries = [run.summary() for run in runs]
    spec = generate.SIZES[args.size]
    print(f"app: {args.size} ({spec.routers * spec.endpoints_per_router} routes), uvicorn 1 worker, 127.0.0.1")
    header = (
        f"{'config':<22}{'warm-up s':>10}{'built':>7}{'requests':>9}{'p50 ms':>8}{'p90 ms':>8}"
        f"{'p99 ms':>8}{'max ms':>8}{'first hit ms (median/max)':>28}"
    )
    print(header)
    for s in summaries:
        warm = "-" if s["warm_up_seconds"] is None else f"{s['warm_up_seconds']:.1f}"
        built = "-" if s["warmed_routes"] is None else str(s["warmed_routes"])
        print(
            f"{s['config']:<22}{warm:>10}{built:>7}{s['requests']:>9}{s['p50_ms']:>8}{s['p90_ms']:>8}"
            f"{s['p99_ms']:>8}{s['max_ms']:>8}{str(s['probe_median_ms']) + ' / ' + str(s['probe_max_ms']):>28}"
        )
    if args.json:
        args.json.write_text(json.dumps({"size": args.size, "runs": summaries}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
