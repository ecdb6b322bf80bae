"""`lazyrouter lazify`: the include_router() calls that can name their router
by import string, the lines to write, and the proof that nothing changes.

The app is imported once with every include recorded (see `_manifest.record`).
Each include of a router object that lives in a module of its own becomes
`include_router("package.module:router", ...)`, and the import that brought
the module in goes, if nothing else uses it. The app is then run twice in
fresh interpreters, from its files as they are and as they would be edited,
and must answer a sample of requests and `/openapi.json` identically.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import tempfile
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI

from lazyrouter import _manifest
from lazyrouter._declarations import Declaration, has_lifespan
from lazyrouter._equivalence import PROBE_METHOD, differences, prove, sample_requests
from lazyrouter._tree import Declaring

__all__ = ("Plan", "lazify", "plan")


@dataclass
class Change:
    filename: str
    lineno: int
    before: str
    after: str
    module: str
    """The router's module, imported on first need once the change is made."""
    manifest_prefix: str | None
    """With no include prefix: the prefix the manifest must record."""


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    kept: list[tuple[str, int, str]] = field(default_factory=list)
    """(filename, line, reason) of includes that stay as they are."""
    notes: list[str] = field(default_factory=list)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Edited source by module name: (filename, text)."""
    routers: dict[str, APIRouter] = field(default_factory=dict)
    """The routers the changed includes name, by import string."""


def plan(recording: _manifest.Recording) -> Plan:
    """What to change, for the includes `recording` saw."""
    result = Plan()
    sites = Counter((include.filename, include.lineno) for include in recording.includes)
    files: dict[str, _Source] = {}
    for include in recording.includes:
        router = include.router
        if isinstance(router, str):
            continue  # already an import string
        source = files.get(include.filename)
        if source is None:
            source = files[include.filename] = _Source.read(include.filename)
        verdict = _judge(include, router, source, sites)
        if isinstance(verdict, str):
            result.kept.append((include.filename, include.lineno, verdict))
            continue
        call, import_string = verdict
        argument = _router_argument(call)
        (call_start, _), (start, end) = source.span(call), source.span(argument)
        before = source.segment(call)
        after = before[: start - call_start] + json.dumps(import_string) + before[end - call_start :]
        source.replace(argument, json.dumps(import_string))
        source.unused.append(argument)
        prefix = None if include.options.get("prefix") else _manifest.route_prefix(router)
        module = import_string.partition(":")[0]
        result.changes.append(Change(include.filename, include.lineno, before, after, module, prefix))
        result.routers[import_string] = router
    for source in files.values():
        if source.edits:
            result.notes.extend(source.drop_unused_imports())
            assert source.module is not None
            result.sources[source.module] = (source.filename, source.edited())
    return result


def _judge(
    include: _manifest.Include, router: APIRouter, source: _Source, sites: Counter[tuple[str, int]]
) -> str | tuple[ast.Call, str]:
    """Why the include stays as it is, or its call and the router's import string."""
    if source.module is None:
        return "its file is not a module the app imports"
    if sites[include.filename, include.lineno] > 1:
        return "this call includes several routers (in a loop?)"
    if router.on_startup or router.on_shutdown or has_lifespan(router):
        return "the router has a lifespan or startup/shutdown handlers, merged when it is included"
    call = source.call_at(include.lineno)
    if call is None:
        return "the include_router() call was not found on its line"
    if not source.names_import(_router_argument(call), router):
        return "its argument is not a name imported from the router's module"
    import_string = _import_string(router, avoid=source.module)
    if import_string is None:
        return "the router is not a module-level name of a module of its own"
    if not include.options.get("prefix") and not _manifest.route_prefix(router):
        return "no include prefix, and its routes share no path prefix for a manifest to record"
    return call, import_string


def _router_argument(call: ast.Call) -> ast.expr:
    return call.args[0] if call.args else next(k.value for k in call.keywords if k.arg == "router")


def _import_string(router: APIRouter, avoid: str) -> str | None:
    """`module:name` of a module holding `router`: preferably the module its
    endpoints are defined in, else the most specific one (not `avoid`)."""
    found = [
        (name, attribute)
        for name, module in list(sys.modules.items())
        if name not in (avoid, "__main__") and module is not None
        for attribute, value in list(getattr(module, "__dict__", {}).items())
        if value is router and not attribute.startswith("_")
    ]
    if not found:
        return None
    defining = _endpoint_modules(router)
    name, attribute = min(found, key=lambda item: (item[0] not in defining, -item[0].count("."), item))
    return f"{name}:{attribute}"


def _endpoint_modules(router: APIRouter) -> set[str]:
    if isinstance(router, Declaring):
        endpoints = [item.endpoint for item in router._current_declarations() if isinstance(item, Declaration)]
    else:
        endpoints = [getattr(route, "endpoint", None) for route in router.routes]
    return {str(getattr(endpoint, "__module__", "")) for endpoint in endpoints}


def _find_call(tree: ast.AST, lineno: int) -> ast.Call | None:
    """The innermost `....include_router(...)` call spanning line `lineno`."""
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "include_router"
        and node.lineno <= lineno <= (node.end_lineno or node.lineno)
        and (node.args or any(keyword.arg == "router" for keyword in node.keywords))
    ]
    innermost = sorted(calls, key=lambda call: (call.end_lineno or call.lineno) - call.lineno)
    if len(innermost) > 1 and innermost[0].lineno == innermost[1].lineno:
        return None  # two calls on one line: which one ran is not known
    return innermost[0] if innermost else None


class _Source:
    """A module's source, and the edits to make to it."""

    def __init__(self, filename: str, text: str, module: str | None) -> None:
        self.filename = filename
        self.text = text
        self.module = module
        self.tree = ast.parse(text)
        self.edits: list[tuple[int, int, str]] = []
        self.unused: list[ast.expr] = []
        # Where each line starts, as ast numbers lines (str.splitlines() also
        # breaks at form feeds and the like).
        self._starts = [0, *(index + 1 for index, character in enumerate(text) if character == "\n"), len(text)]

    @classmethod
    def read(cls, filename: str) -> _Source:
        module = next(
            (
                name
                for name, module in list(sys.modules.items())
                if name != "__main__" and getattr(module, "__file__", None) == filename
            ),
            None,
        )
        try:
            with open(filename, encoding="utf-8") as file:
                text = file.read()
        except OSError:
            return cls(filename, "", None)
        return cls(filename, text, module)

    def call_at(self, lineno: int) -> ast.Call | None:
        return _find_call(self.tree, lineno)

    def names_import(self, expression: ast.expr, router: APIRouter) -> bool:
        """Whether `expression` is `name` or `name.attribute...`, with `name`
        bound by a module-level import, and names `router` (a loop variable
        that happens to hold it does not)."""
        root = _root_name(expression)
        imported = {
            (alias.asname or alias.name).partition(".")[0]
            for statement in self.tree.body
            if isinstance(statement, (ast.Import, ast.ImportFrom))
            for alias in statement.names
        }
        module = sys.modules.get(self.module or "")
        if root is None or root not in imported or module is None:
            return False
        found: Any = module
        for name in _dotted(expression):
            found = getattr(found, name, None)
        return found is router

    def offset(self, lineno: int, col: int) -> int:
        line_start = self._starts[lineno - 1]
        line = self.text[line_start : self._starts[lineno]]
        return line_start + len(line.encode("utf-8")[:col].decode("utf-8"))  # ast columns count bytes

    def span(self, node: ast.stmt | ast.expr) -> tuple[int, int]:
        assert node.end_lineno is not None and node.end_col_offset is not None
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def segment(self, node: ast.stmt | ast.expr) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def replace(self, node: ast.stmt | ast.expr, text: str) -> None:
        self.edits.append((*self.span(node), text))

    def drop_unused_imports(self) -> list[str]:
        """Remove the module-level imports only the replaced arguments used;
        return notes on those kept."""
        notes = []
        replaced = {id(node) for expression in self.unused for node in ast.walk(expression)}
        used = Counter(
            node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name) and id(node) not in replaced
        )
        exported = _exported_names(self.tree)
        for statement in self.tree.body:
            if not isinstance(statement, (ast.Import, ast.ImportFrom)):
                continue
            bound = [(alias, (alias.asname or alias.name).partition(".")[0]) for alias in statement.names]
            drop = [
                alias for alias, name in bound if name in self._root_names() and not used[name] and name not in exported
            ]
            if not drop:
                continue
            kept = [alias for alias in statement.names if alias not in drop]
            names = ", ".join(ast.unparse(alias) for alias in drop)
            where = f"{_relative(self.filename)}:{statement.lineno}"
            if kept and "#" in self.segment(statement):
                notes.append(f"{where}: remove the import of {names} by hand (the statement has comments)")
                continue
            self._rewrite_import(statement, kept)
            notes.append(f"{where}: the import of {names} goes (nothing else uses it)")
        return notes

    def _root_names(self) -> set[str]:
        return {name for expression in self.unused if (name := _root_name(expression)) is not None}

    def _rewrite_import(self, statement: ast.Import | ast.ImportFrom, kept: list[ast.alias]) -> None:
        start, end = self.span(statement)
        line_start = self.text.rfind("\n", 0, start) + 1
        indent = self.text[line_start:start]
        if not kept:
            line_end = self.text.find("\n", end)
            alone = not indent.strip() and not self.text[end : len(self.text) if line_end < 0 else line_end].strip()
            if alone:
                self.edits.append((line_start, len(self.text) if line_end < 0 else line_end + 1, ""))
            else:
                self.edits.append((start, end, "pass"))
            return
        names = [ast.unparse(alias) for alias in kept]
        head = f"from {'.' * (getattr(statement, 'level', 0) or 0)}{getattr(statement, 'module', '') or ''} import"
        if isinstance(statement, ast.Import):
            text = f"import {', '.join(names)}"
        elif statement.end_lineno != statement.lineno:
            text = f"{head} (\n" + "".join(f"{indent}    {name},\n" for name in names) + f"{indent})"
        else:
            text = f"{head} {', '.join(names)}"
        self.edits.append((start, end, text))

    def edited(self) -> str:
        text = self.text
        for start, end, replacement in sorted(self.edits, reverse=True):
            text = text[:start] + replacement + text[end:]
        ast.parse(text)  # an edit that breaks the file is a bug here, never written
        return text


def _root_name(expression: ast.expr) -> str | None:
    while isinstance(expression, ast.Attribute):
        expression = expression.value
    return expression.id if isinstance(expression, ast.Name) else None


def _dotted(expression: ast.expr) -> list[str]:
    names = []
    while isinstance(expression, ast.Attribute):
        names.append(expression.attr)
        expression = expression.value
    assert isinstance(expression, ast.Name)
    return [expression.id, *reversed(names)]


def _exported_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in statement.targets
        ):
            names.update(
                node.value
                for node in ast.walk(statement.value)
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            )
    return names


def lazify(
    target: str,
    app: FastAPI,
    routes: Sequence[Any],
    recording: _manifest.Recording,
    *,
    write: bool = False,
    get: bool = False,
) -> int:
    """Print the changes, prove them, and with `write` make them; return 0, or 1
    if the edited app answers differently."""
    changes = plan(recording)
    for filename, lineno, reason in dict.fromkeys(changes.kept):
        print(f"kept: {_relative(filename)}:{lineno}: {reason}")
    for change in changes.changes:
        print(f"{_relative(change.filename)}:{change.lineno}:")
        print(textwrap.indent(change.before, "    "))
        print(textwrap.indent(change.after, "    ", lambda line: True).replace("    ", " -> ", 1))
    for note in changes.notes:
        print(note)
    if not changes.changes:
        print("No include_router() call to change.")
        return 0
    requests = sample_requests(app, routes, get=get)
    modules = sorted({change.module for change in changes.changes})
    unprefixed = [change for change in changes.changes if change.manifest_prefix is not None]
    with tempfile.TemporaryDirectory(prefix="lazyrouter-lazify-") as directory:
        manifest = None
        if unprefixed or recording.imported:
            manifest = os.path.join(directory, "manifest.json")
            with open(manifest, "w", encoding="utf-8") as file:
                file.write(_manifest.dump(target, {**recording.imported, **changes.routers}))
        before, after = prove(target, changes.sources, manifest, requests, modules)
    found = list(differences(before, after))
    if found:
        print(f"NOT equivalent: {len(found)} of {len(requests)} answers differ; nothing written.")
        for difference in found[:20]:
            print(f"    {difference}")
        return 1
    probes = sum(method == PROBE_METHOD for method, _ in requests)
    print(
        f"Equivalent: the OpenAPI document and {len(requests) - 1} requests ({probes} of them {PROBE_METHOD}, "
        "which no endpoint answers) are answered identically before and after."
    )
    with_manifest = " (with the manifest)" if unprefixed else ""
    print(
        f"Router modules imported at start: {len(before['imported'])} of {len(modules)} before, "
        f"{len(after['imported'])} after{with_manifest}."
    )
    if unprefixed:
        print(
            f"Included with no prefix: {len(unprefixed)}. They wait for their first request only with a manifest "
            f"(lazyrouter manifest {target} -o FILE, read through LazyFastAPI(manifest=FILE) or "
            "LAZYROUTER_MANIFEST=FILE); without one they are imported at start, with a warning."
        )
    if write:
        for filename, text in changes.sources.values():
            with open(filename, "w", encoding="utf-8") as file:
                file.write(text)
            print(f"wrote {_relative(filename)}")
    return 0


def _relative(filename: str) -> str:
    relative = os.path.relpath(filename)
    return filename if relative.startswith("..") else relative
