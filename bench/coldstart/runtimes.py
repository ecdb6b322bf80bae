"""The interpreters the children run on, and the versions they import.

The main interpreter is ``--python``.  ``fastapi-lazyrouter`` 0.1.0rc4
crashes on FastAPI >= 0.164, so its rows run on a second one with FastAPI
0.163.2: the ``bench-compat`` tox environment (tox creates it and keeps it
in step with ``tox.ini``), or any interpreter given as ``--compat-python``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BENCH_DIR.parent

#: The tox environment holding FastAPI 0.163.2 and fastapi-lazyrouter.
COMPAT_ENV = "bench-compat"
#: What its command prints before the interpreter's path (see ``tox.ini``).
COMPAT_MARKER = "bench-compat python:"
#: ``fastapi-lazyrouter`` 0.1.0rc4 breaks from this FastAPI release on.
FASTAPI_LAZYROUTER_BREAKS_AT = (0, 164)
TOX_TIMEOUT_S = 900.0

#: Run by each interpreter to report what it would import (distribution
#: metadata only, so that it is fast and imports none of the packages).
VERSION_PROBE = """\
import json, platform
from importlib import metadata
out = {"python": platform.python_version()}
for name in ("fastapi", "starlette", "pydantic", "mangum", "fastapi-lazyrouter"):
    try:
        out[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        out[name] = None
print(json.dumps(out))
"""

#: Run by an interpreter to tell whether ``lazy_modules`` can work there.
IMPORT_STRINGS_PROBE = f"""\
import sys
sys.path.insert(0, {str(BENCH_DIR)!r})
import generate
print(generate.lazy_modules_supported())
"""


@dataclass
class Runtime:
    """An interpreter the children run on, and the versions it imports."""

    #: Appended to the variant names of its rows: ``""`` (main) or ``"@0.163"``.
    suffix: str
    python: str
    extra_paths: tuple[str, ...]
    versions: dict[str, str | None]
    #: Where the interpreter comes from (``--python``, a tox environment, ...).
    origin: str

    @property
    def fastapi(self) -> str:
        """FastAPI version (``"?"`` if it could not be determined)."""
        return self.versions.get("fastapi") or "?"

    def describe(self) -> str:
        """``FastAPI 0.165.0, Starlette ..., Pydantic ..., Python ...``."""
        v = self.versions
        parts = [
            f"FastAPI {self.fastapi}",
            f"Starlette {v.get('starlette') or '?'}",
            f"Pydantic {v.get('pydantic') or '?'}",
            f"Python {v.get('python') or '?'}",
        ]
        if v.get("fastapi-lazyrouter"):
            parts.append(f"fastapi-lazyrouter {v['fastapi-lazyrouter']}")
        return ", ".join(parts)


def child_env(app_dir: Path | None, extra_paths: Sequence[str]) -> dict[str, str]:
    """A clean environment: no inherited PYTHON* variables, app dir on the path."""
    paths = ([str(app_dir)] if app_dir is not None else []) + list(extra_paths)
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONHASHSEED": "0",
    }


def python_output(python: str, code: str, extra_paths: Sequence[str]) -> str | None:
    """The last stdout line of ``python -c code`` in a child environment."""
    try:
        proc = subprocess.run(
            [python, "-c", code],
            env=child_env(None, extra_paths),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = proc.stdout.strip().splitlines()
    return lines[-1] if proc.returncode == 0 and lines else None


def query_versions(python: str, extra_paths: Sequence[str]) -> dict[str, str | None] | None:
    """Versions of Python and the relevant packages as seen by ``python``."""
    out = python_output(python, VERSION_PROBE, extra_paths)
    try:
        return None if out is None else dict(json.loads(out))
    except ValueError:
        return None


def lazy_modules_supported(runtime: Runtime) -> bool:
    """Whether ``lazyrouter`` as imported by ``runtime`` takes import strings."""
    return python_output(runtime.python, IMPORT_STRINGS_PROBE, runtime.extra_paths) == "True"


def _find_tox() -> str | None:
    """tox next to this interpreter (a venv that is not activated), else on ``PATH``."""
    beside = Path(sys.executable).parent / ("tox.exe" if os.name == "nt" else "tox")
    return str(beside) if beside.is_file() else shutil.which("tox")


def tox_env_python(log: Callable[[str], None]) -> tuple[str | None, str | None]:
    """Let tox create or update ``bench-compat``; (its interpreter, None) or (None, why not)."""
    tox = _find_tox()
    if tox is None:
        return None, f"tox not found: `pip install tox tox-uv`, or create the interpreter with `tox -e {COMPAT_ENV}`"
    log(f"  $ tox -e {COMPAT_ENV}  (creates or updates it)")
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [tox, "run", "-e", COMPAT_ENV],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TOX_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"tox -e {COMPAT_ENV}: {exc}"
    for line in proc.stdout.splitlines():
        if line.startswith(COMPAT_MARKER):
            log(f"  tox -e {COMPAT_ENV}: ready in {time.perf_counter() - started:.0f}s")
            return line.removeprefix(COMPAT_MARKER).strip(), None
    tail = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    return None, f"tox -e {COMPAT_ENV} failed (no network?): {' | '.join(tail[-3:])}"


def version_tuple(version: str | None) -> tuple[int, ...]:
    """``"0.163.2"`` -> ``(0, 163, 2)``; non-numeric parts end the tuple."""
    parts: list[int] = []
    for piece in (version or "").split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def suffix_for(versions: dict[str, str | None]) -> str:
    """Row-name suffix of a compat runtime: ``@`` + FastAPI major.minor."""
    fastapi = versions.get("fastapi") or "unknown"
    return "@" + ".".join(fastapi.split(".")[:2])


def compat_runtime(
    choice: str, extra_paths: Sequence[str], log: Callable[[str], None]
) -> tuple[Runtime | None, str | None]:
    """The interpreter of the ``fastapi_lazyrouter*`` rows, or a note why there is none.

    ``choice`` is ``auto`` (the ``bench-compat`` tox environment) or the
    path of an interpreter that has FastAPI, fastapi-lazyrouter and Mangum.
    """
    origin = f"tox -e {COMPAT_ENV}" if choice == "auto" else choice
    python: str | None = choice
    if choice == "auto":
        python, why = tox_env_python(log)
        if python is None:
            return None, f"fastapi_lazyrouter* and the @0.163 rows are skipped: {why}"
    versions = query_versions(python, extra_paths)
    if versions is None:
        return None, f"cannot run {python}: fastapi_lazyrouter* and the @-rows are skipped"
    return Runtime(suffix_for(versions), python, tuple(extra_paths), versions, origin), None


def checkout_revision() -> str:
    """``lazyrouter 2baf9ee`` (``+ uncommitted changes``), or ``""`` outside a git checkout."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "lazyrouter"], capture_output=True, text=True
        )
    except OSError:
        return ""
    if head.returncode != 0:
        return ""
    return f"lazyrouter {head.stdout.strip()}" + (" + uncommitted changes" if dirty.stdout.strip() else "")


def machine_description(runtimes: Sequence[Runtime]) -> str:
    """One line: CPU model, core count, Python and FastAPI versions, the checkout, date."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpu = cpu or platform.processor() or platform.machine() or "unknown CPU"
    main = runtimes[0]
    fastapi = f"FastAPI {main.fastapi}" + "".join(f" (rows `{rt.suffix}`: FastAPI {rt.fastapi})" for rt in runtimes[1:])
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()};"
        f" Python {main.versions.get('python') or platform.python_version()}; {fastapi};"
        f" Pydantic {main.versions.get('pydantic') or '?'}; {checkout_revision() or 'lazyrouter'};"
        f" {time.strftime('%Y-%m-%d')}"
    )
