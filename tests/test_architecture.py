"""The layout stays visible: sub-packages with faces, bot/ through faces only, no circles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sources", "index", "embedding", "answering")
MAX_LINES = 300


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    return {_module_name(p): p for top in ("bot", "retrieval") for p in (ROOT / top).rglob("*.py")}


def _imports(path: Path, name: str) -> list[tuple[str, bool]]:
    """(imported module, whether only under TYPE_CHECKING) for each project import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for n in ast.walk(node))
    found = []
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            targets = [base]
            # `from retrieval.index import reader` names a module, not a value.
            targets += [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        for target in targets:
            # A module's own packages are imported before it, whatever it names.
            if target.split(".")[0] in ("bot", "retrieval") and not name.startswith(target + "."):
                found.append((target, id(node) in typing_only))
    return found


def _graph() -> dict[str, set[str]]:
    modules = _sources()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, typing_only in _imports(path, name):
            if target in modules and target != name and not typing_only:
                graph[name].add(target)
    return graph


def test_the_sub_packages_declare_their_faces() -> None:
    declared = []
    for package in PACKAGES:
        face = ROOT / "retrieval" / package / "__init__.py"
        tree = ast.parse(face.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"retrieval/{package} says nothing of what lives there"
        names = [
            node for node in tree.body
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        ]  # fmt: skip
        if names:
            declared.append(package)
            exported = ast.literal_eval(names[0].value)
            assert exported and len(exported) == len(set(exported))
    assert len(declared) >= 4, declared


def test_bot_reaches_retrieval_only_through_package_faces() -> None:
    modules = _sources()
    inside = []
    for name, path in modules.items():
        if not name.startswith("bot"):
            continue
        for target, _ in _imports(path, name):
            parts = target.split(".")
            in_package = parts[0] == "retrieval" and len(parts) >= 3 and parts[1] in PACKAGES
            if in_package and target in modules and modules[target].name != "__init__.py":
                inside.append(f"{name} imports {target}")
    assert not inside, "\n".join(inside)


def test_no_import_circles_in_bot_and_retrieval() -> None:
    edges = _graph()
    circles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not circles, "\n".join(circles)


def test_answering_knows_no_storage_backend() -> None:
    modules = _sources()
    for name, path in modules.items():
        if name.startswith("retrieval.answering"):
            for target, _ in _imports(path, name):
                assert not target.startswith(("retrieval.index", "bot")), f"{name}: {target}"


@pytest.mark.parametrize("top", ["bot", "retrieval"])
def test_files_hold_one_concept_each(top: str) -> None:
    long = [
        f"{path.relative_to(ROOT)}: {count} lines"
        for path in sorted((ROOT / top).rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, "\n".join(long)
