"""The house rules of issue 11, checked on the source: floors, no circles, small rooms.

Every ``import`` in ``src/elyte`` (also those inside functions) is read with ``ast``. A
module may import only from its own floor or a lower one, in this order (lowest first):

    base < io < systems < potentials < md < analysis < training < report < config
         < campaign < learn < api < cli

The import graph has no circle, and no module is over 400 lines. Each test names every
violation it finds in one message.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "elyte"
MAX_LINES = 400

FLOORS = [
    "base",
    "io",
    "systems",
    "potentials",
    "md",
    "analysis",
    "training",
    "report",
    "config",
    "campaign",
    "learn",
    "api",
    "cli",
]
BASE = {
    "errors",
    "units",
    "estimate",
    "jsonio",
    "selection",
    "devices",
    "provenance",
    "spec",
    "_lazy",
    "_torch_compat",
    "security",
    "wording",
    "warnings_summary",
    "data",  # package data (scattering tables), no code of its own
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def floor(module: str) -> str | None:
    """The floor of ``elyte.x.y``: its top-level name's, ``base`` for the base modules."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return "base" if len(parts) == 1 else "cli"
    top = parts[1]
    if top in BASE:
        return "base"
    return top if top in FLOORS else None


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The elyte modules ``module`` imports (resolved to the deepest existing module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    out: set[str] = set()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            targets = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        else:
            continue
        for target in targets:
            if target == "elyte" or not target.startswith("elyte."):
                continue
            found = resolve(target)
            if found and found != module and found != "elyte":
                out.add(found)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {m: imports(m, p, known) for m, p in mods.items()}


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        comp.append(top)
                        if top == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def violations() -> list[str]:
    """Every upward edge, circle, module on no floor and module over the line limit."""
    found: list[str] = []
    edges = graph()
    for module, targets in sorted(edges.items()):
        mine = floor(module)
        if mine is None:
            found.append(f"{module}: on no floor of the layer order")
            continue
        for target in sorted(targets):
            theirs = floor(target)
            if theirs is not None and FLOORS.index(theirs) > FLOORS.index(mine):
                found.append(f"upward import: {module} ({mine}) -> {target} ({theirs})")
    for comp in strongly_connected(edges):
        found.append(f"import circle: {' <-> '.join(comp)}")
    for module, path in sorted(modules().items()):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            found.append(f"{module}: {n} lines (> {MAX_LINES})")
    return found


def test_the_checker_sees_upward_edges_and_circles():
    """The checker itself: a planted upward edge and a planted circle are found."""
    assert floor("elyte.report.data") == "report" and floor("elyte.jsonio") == "base"
    assert FLOORS.index("report") < FLOORS.index("campaign")
    comps = strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert comps == [["a", "b", "c"]]
    edges = graph()
    assert "elyte.campaign.tasks" in edges["elyte.campaign.engine"]  # read from the source
    assert "elyte.jsonio" in edges["elyte.campaign.store"]


def test_the_checker_sees_a_planted_upward_edge_and_a_long_module(tmp_path, monkeypatch):
    """The checker on a planted tree: an upward import, a circle and a long module are each
    named; a tree without them gives no violation (so the check below can fail)."""
    pkg = tmp_path / "elyte"
    for sub in ("io", "md", "cli"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "io" / "a.py").write_text("import elyte.md.b\n")  # io -> md: upward
    (pkg / "md" / "b.py").write_text("def f():\n    from elyte.io import a\n")  # circle
    (pkg / "cli" / "c.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (pkg / "cli" / "d.py").write_text("from elyte.md.b import f\n")  # downward: fine
    monkeypatch.setitem(globals(), "SRC", pkg)  # module_name/modules read the global
    found = violations()
    assert "upward import: elyte.io.a (io) -> elyte.md.b (md)" in found
    assert "import circle: elyte.io.a <-> elyte.md.b" in found
    assert f"elyte.cli.c: {MAX_LINES + 1} lines (> {MAX_LINES})" in found
    assert len(found) == 3, found


def test_the_whole_tree_keeps_the_house_rules():
    """No upward import, no circle, no module over the limit, anywhere in ``src/elyte``."""
    found = violations()
    assert not found, f"{len(found)} violation(s):\n" + "\n".join(found)
