"""No import cycles: every module of the ``portal`` package imports on its own in a fresh
interpreter, and the graph of module-level imports (imports inside functions and under
``TYPE_CHECKING`` left out) has no cycle but the known ones listed below."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "portal"

KNOWN: set[frozenset[str]] = set()  # no cycle is accepted


def _modules() -> dict[str, tuple[Path, str]]:
    """Module name → (file, the package its relative imports start from)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            package = ".".join(parts)
        else:
            package = ".".join(parts[:-1])
        found[".".join(parts)] = (path, package)
    return found


def _module_level_imports(tree: ast.Module):
    """Import statements run when the module is imported: not in functions or classes'
    methods, not under ``if TYPE_CHECKING``."""
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" in ast.unparse(node.test):
                pending.extend(node.orelse)
            else:
                pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)
        elif isinstance(node, ast.With | ast.ClassDef):
            pending.extend(node.body)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, (path, package) in modules.items():
        edges: set[str] = set()
        for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names if alias.name in modules)
                continue
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[:-(node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{alias.name}" for alias in node.names} & modules.keys()
            edges.update(submodules)
            # ``from package import name``: the package itself, unless every name is a
            # submodule (importing a submodule needs nothing of its package's own code).
            if target in modules and len(submodules) < len(node.names):
                edges.add(target)
        edges.discard(name)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _path_within(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One cycle through the component, to name it: a → b → … → a."""
    members = set(component)
    start = component[0]
    trail = [start]
    seen = {start}
    node = start
    while True:
        following = sorted(graph[node] & members)
        if start in following and len(trail) > 1:
            return trail + [start]
        fresh = [other for other in following if other not in seen]
        node = fresh[0] if fresh else following[0]
        if node in seen:
            return trail[trail.index(node):] + [node]
        trail.append(node)
        seen.add(node)


def test_no_import_cycle_beyond_the_known_ones():
    graph = _graph()
    assert "portal.services.outbox" in graph and "portal.cli.mail" in graph
    new = [component for component in _cycles(graph) if frozenset(component) not in KNOWN]
    assert not new, "import cycles: " + "; ".join(
        " → ".join(_path_within(graph, component)) for component in new)


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    (component,) = _cycles(graph)
    assert component == ["a", "b", "c"]
    assert _path_within(graph, component) == ["a", "b", "c", "a"]


def test_no_module_uses_importlib():
    users = [path.relative_to(ROOT).as_posix() for path in PACKAGE.rglob("*.py")
             if "importlib" in path.read_text(encoding="utf-8")]
    assert users == []


# Each module is imported in a child forked from one interpreter that has loaded only the
# third-party libraries (never a ``portal`` module): the child starts with no module of the
# project, as a fresh interpreter would, without paying for Python and Flask ninety times.
_FORKING_IMPORTER = """
import json, os, sys, traceback
import click, flask, flask_babel, flask_login, flask_sqlalchemy, flask_wtf, sqlalchemy, wtforms
assert not [name for name in sys.modules if name == "portal" or name.startswith("portal.")]
failures = {}
for name in sys.argv[1:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            __import__(name)
        except BaseException:
            os.write(write, traceback.format_exc().strip().splitlines()[-1].encode())
            os._exit(1)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        said = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        failures[name] = said or "exit status %d" % os.waitstatus_to_exitcode(status)
print(json.dumps(failures))
"""


def _import_each(names: list[str]) -> dict[str, str]:
    result = subprocess.run([sys.executable, "-c", _FORKING_IMPORTER, *names], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_module_imports_on_its_own():
    names = sorted(_modules())
    assert len(names) > 50
    assert _import_each(names) == {}


def test_the_importer_reports_a_module_that_cannot_be_imported_alone():
    # The check itself can fail: a module in a cycle that needs a name its partner has not
    # defined yet is reported with the error.
    package = ROOT / "portal" / "_cycle_probe"
    package.mkdir()
    try:
        (package / "__init__.py").write_text("")
        (package / "a.py").write_text("from .b import B\nA = 1\n")
        (package / "b.py").write_text("from .a import A\nB = 2\n")
        failures = _import_each(["portal._cycle_probe.a", "portal._cycle_probe.b"])
    finally:
        shutil.rmtree(package)
    assert set(failures) == {"portal._cycle_probe.a", "portal._cycle_probe.b"}
    assert all("ImportError" in said for said in failures.values()), failures
