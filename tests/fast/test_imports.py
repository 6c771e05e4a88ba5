"""The arrows between the code's parts, read from the source with ``ast``.

Provider folders (``twofa.provider.push``, ``.devices``, ...) may depend on each other only one
way: a circle means neither can be read, tested or moved without the other. The provider and the
demo site share nothing but HTTP, so neither imports the other. Imports inside functions and
``if TYPE_CHECKING:`` blocks count: they are dependencies all the same.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

import twofa

ROOT = Path(twofa.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, known: set[str]) -> set[str]:
    """The ``twofa`` modules ``path`` imports, relative imports resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            # ``from twofa.provider import errors_http`` imports the module errors_http.
            found.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known)
    return {m for m in found if m == "twofa" or m.startswith("twofa.")}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(ROOT.rglob("*.py"))
    known = {module_name(p) for p in paths}
    return {module_name(p): imported(p, known) for p in paths}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    """The source's graph, read once for the module's tests (parsing every file is slow)."""
    return import_graph()


def provider_part(module: str) -> str | None:
    """``twofa.provider.push.service`` → ``push``; None outside the provider's parts."""
    parts = module.split(".")
    return parts[2] if parts[:2] == ["twofa", "provider"] and len(parts) > 2 else None


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_between_provider_folders(graph: dict[str, set[str]]) -> None:
    between: dict[str, set[str]] = defaultdict(set)
    why: dict[tuple[str, str], str] = {}
    for module, targets in graph.items():
        here = provider_part(module)
        for target in targets:
            there = provider_part(target)
            if here and there and here != there:
                between[here].add(there)
                why.setdefault((here, there), f"{module} imports {target}")
    found = circles(between)
    detail = [why[(a, b)] for group in found for a in group for b in group if (a, b) in why]
    assert not found, f"import circles {found}: {detail}"


def test_provider_and_site_do_not_import_each_other(graph: dict[str, set[str]]) -> None:
    crossing = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        for a, b in (("twofa.provider", "twofa.site"), ("twofa.site", "twofa.provider"))
        if (module == a or module.startswith(a + "."))
        and (target == b or target.startswith(b + "."))
    ]
    assert not crossing, crossing


def test_the_check_sees_a_circle(graph: dict[str, set[str]]) -> None:
    """The walker itself: a planted circle is found, a one-way chain is not."""
    assert circles({"push": {"devices"}, "devices": {"push"}, "apps": set()}) == [
        ["devices", "push"]
    ]
    assert circles({"devices": {"push"}, "push": {"apps"}}) == []
    assert "twofa.provider.push.model" in graph["twofa.provider.push.service"]
    assert "twofa.provider.errors_http" in graph["twofa.provider.app"]  # from package import mod
