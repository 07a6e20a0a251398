"""The parts import downwards only, and no module imports itself round a circle.

knowledge (the data contract and the index) < ingest < assistant (understanding, retrieval, answers) < desk (the
service desk's database) < web and evals < cli < app. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from tests.conftest import ROOT

LAYERS = {"knowledge": 0, "ingest": 1, "assistant": 2, "desk": 3, "web": 4, "evals": 4, "cli": 5, "app": 6}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the project modules it imports (``from a.b import c`` counts as a.b)."""
    graph: dict[str, set[str]] = {}
    files = [p for p in root.glob("*/**/*.py") if p.relative_to(root).parts[0] in LAYERS]
    files += [root / f"{name}.py" for name in ("cli", "app") if (root / f"{name}.py").exists()]
    for path in files:
        module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
        graph[module] = {name for name in imported if name.split(".")[0] in LAYERS}
    return graph


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports of a layer above, or of another part on the same layer."""
    found = []
    for module, targets in graph.items():
        for target in targets:
            mine, theirs = module.split(".")[0], target.split(".")[0]
            if LAYERS[theirs] > LAYERS[mine] or (LAYERS[theirs] == LAYERS[mine] and theirs != mine):
                found.append((module, target))
    return sorted(found)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles (strongly connected groups of two or more modules), Tarjan's way."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(_all(graph)):
        if module not in index:
            visit(module)
    return found


def _all(graph: dict[str, set[str]]) -> Iterable[str]:
    return set(graph) | {t for targets in graph.values() for t in targets}


def test_the_parts_import_downwards_only_and_in_no_circle() -> None:
    graph = import_graph(ROOT)
    assert {"assistant.service", "desk.handoff", "web.server", "cli"} <= set(graph)  # the walk saw the parts
    assert upward(graph) == []
    assert cycles(graph) == []


def test_the_check_finds_an_upward_import_and_a_circle(tmp_path: Path) -> None:
    for path, text in {"knowledge/a.py": "def f():\n    from web.server import create_app\n",
                       "assistant/b.py": "from assistant.c import x\n", "assistant/c.py": "import assistant.b\n",
                       "web/server.py": "from knowledge.a import f\n"}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    graph = import_graph(tmp_path)
    assert upward(graph) == [("knowledge.a", "web.server")]
    assert cycles(graph) == [["assistant.b", "assistant.c"], ["knowledge.a", "web.server"]]
