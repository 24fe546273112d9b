"""The shape the house plan promises: dependencies point down, functions stay short."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 60
#: package -> packages it may never import (anywhere in its modules).
FORBIDDEN = {
    "falsification": ("pipelines", "tui"),
    "pipelines": ("tui",),
}
#: corpus/ is the domain core: only its CLI (cli.py, commands/) may call upward, and lazily.
CORE_UPWARD = ("pipelines", "falsification", "tui")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import in ``tree``."""
    out: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                out.extend((a.name, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                out.append((child.module, top))
            visit(child, inner)

    visit(tree, True)
    return out


@pytest.mark.parametrize("package", ["corpus", "pipelines", "falsification"])
def test_no_function_is_longer_than_60_lines(package: str) -> None:
    long = []
    for f in _modules(package):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{f.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "split these into named steps:\n" + "\n".join(long)


def test_dependencies_point_down() -> None:
    bad = []
    for package, banned in FORBIDDEN.items():
        for f in _modules(package):
            for name, _ in _imports(ast.parse(f.read_text(encoding="utf-8"))):
                if name.split(".")[0] in banned:
                    bad.append(f"{f.relative_to(ROOT)} imports {name}")
    for f in _modules("corpus"):
        rel = f.relative_to(ROOT).as_posix()
        door = rel == "corpus/cli.py" or rel.startswith("corpus/commands/")
        for name, top in _imports(ast.parse(f.read_text(encoding="utf-8"))):
            if name.split(".")[0] in CORE_UPWARD and (top or not door):
                bad.append(f"{rel} imports {name}" + (" at module level" if top else ""))
    assert not bad, "\n".join(bad)


def test_the_import_scan_sees_top_level_and_lazy_imports() -> None:
    tree = ast.parse("import a.b\nfrom c import d\ndef f():\n    from e.f import g\n    import h\n")
    assert _imports(tree) == [("a.b", True), ("c", True), ("e.f", False), ("h", False)]
