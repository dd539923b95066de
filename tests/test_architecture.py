"""The packages form layers, and no module imports itself back through others (docs/architecture.md).

    5  newsmon.cli (+ newsmon.alerts_cli), newsmon.demo, newsmon.ui      what people run
    4  newsmon.flows                                 Prefect orchestration
    3  newsmon.ingest (network), newsmon.storage (all SQL)
    2  newsmon.extract, newsmon.stories, newsmon.alerts    pure logic
    1  newsmon.text, newsmon.model, newsmon.net, newsmon.settings, newsmon.progress   building blocks
    0  newsmon.errors

A module imports only from lower layers and from its own package, except that the entry points of layer 5 may
use each other (the CLI registers `newsmon alerts ...`); imports needed only for type hints (`if TYPE_CHECKING:`)
count too, since they say what a module knows about. Cycles are refused everywhere, and so are the few package
pairs in FORBIDDEN (storage never imports alerts).
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LAYERS: dict[str, int] = {
    "newsmon.errors": 0,
    "newsmon.text": 1, "newsmon.model": 1, "newsmon.settings": 1, "newsmon.progress": 1, "newsmon.net": 1,
    "newsmon.extract": 2, "newsmon.stories": 2, "newsmon.alerts": 2,
    "newsmon.ingest": 3, "newsmon.storage": 3,
    "newsmon.flows": 4,
    "newsmon.cli": 5, "newsmon.alerts_cli": 5, "newsmon.demo": 5, "newsmon.ui": 5, "newsmon.console": 5,
    "newsmon.prefect_api": 5, "newsmon.database": 5,
}

ENTRY_POINTS = 5

# Refused although the layers alone would allow them (or already refuse them, said again because it matters):
# storage stores the records of newsmon.model and knows nothing of the alert engine; extraction never fetches.
FORBIDDEN: set[tuple[str, str]] = {("newsmon.storage", "newsmon.alerts"), ("newsmon.extract", "newsmon.ingest")}


def _modules() -> dict[str, Path]:
    """Every installed module name -> its file, from the package folders pyproject.toml maps."""
    dirs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    out: dict[str, Path] = {}
    for package, folder in dirs.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((package, *parts))
            if name.startswith("newsmon.") or (package == "newsmon" and len(parts) == 1):
                out[name.removesuffix(".__init__")] = path
    return out


def _imports(module: str, path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield base
            yield from (f"{base}.{a.name}" for a in node.names)


def _owner(module: str) -> str | None:
    """The layered unit a module belongs to: the longest LAYERS key it is, or is inside of."""
    keys = [k for k in LAYERS if module == k or module.startswith(k + ".")]
    return max(keys, key=len) if keys else None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: {i for i in _imports(m, p) if i in modules and i != m} for m, p in modules.items()}


def test_every_module_has_a_layer() -> None:
    assert [m for m in _modules() if m != "newsmon" and _owner(m) is None] == []


def test_packages_import_only_from_lower_layers() -> None:
    wrong = []
    for module, imported in _graph().items():
        own = _owner(module)
        for target in imported:
            other = _owner(target)
            if own and other and other != own and LAYERS[other] >= LAYERS[own] and LAYERS[own] < ENTRY_POINTS:
                wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []


def test_forbidden_package_imports() -> None:
    wrong = [
        f"{module} -> {target}"
        for module, imported in _graph().items()
        for target in imported
        if (_owner(module), _owner(target)) in FORBIDDEN
    ]
    assert sorted(wrong) == []


def test_no_import_cycles() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []
