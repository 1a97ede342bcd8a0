"""Imports between the parts of acai_tf flow one way: no package imports a package that imports it
back, directly or through others.

A part is the first sub-package below `acai_tf` (`acai_tf.training`, `acai_tf.models`, ...) or a
top-level module (`acai_tf.config`). The graph is read from the source with `ast`, so imports
inside functions count as well as those at the top of a module.
"""

import ast
import pathlib
import sys

import pytest

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[1] / "acai_tf"


def part_of(module: str) -> str | None:
    """The part a dotted module name belongs to ("acai_tf.training.callbacks" -> "training");
    None for the package itself or a module outside acai_tf."""
    pieces = module.split(".")
    if pieces[0] != "acai_tf" or len(pieces) < 2:
        return None
    return pieces[1]


def imported_modules(path: pathlib.Path) -> set[str]:
    """Dotted names of the acai_tf modules (or packages) that the file at `path` imports."""
    module = ".".join(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.add(source)
            # `from acai_tf import training` imports the part `training`.
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("acai_tf")}


def part_graph() -> dict[str, set[str]]:
    """part -> the other parts it imports, over every module under acai_tf/."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        relative = path.relative_to(PACKAGE_ROOT)
        if relative.parts == ("__init__.py",):
            continue
        source = relative.parts[0].removesuffix(".py")
        edges = graph.setdefault(source, set())
        for name in imported_modules(path):
            target = part_of(name)
            # `from acai_tf import __version__` and the like name no part.
            if target and target != source and (
                    (PACKAGE_ROOT / target).is_dir() or (PACKAGE_ROOT / f"{target}.py").exists()):
                edges.add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as [a, b, ..., a], or None when it has none (depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_holds_every_part_and_known_edges():
    graph = part_graph()
    parts = {path.name.removesuffix(".py") for path in PACKAGE_ROOT.iterdir()
             if path.name != "__init__.py" and not path.name.startswith((".", "__"))
             and (path.suffix == ".py" or (path / "__init__.py").exists())}
    assert set(graph) == parts
    # Edges the code is known to hold, so that a reader that saw no import would fail here.
    assert "evaluation" in graph["training"]  # train_lib evaluates at every report
    assert "config" in graph["models"]


def test_no_part_imports_a_part_that_imports_it_back():
    graph = part_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between parts of acai_tf: " + " -> ".join(cycle)


@pytest.mark.parametrize("edges, has_cycle", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
    ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, False),
    ({"a": {"b"}, "b": {"a"}}, True),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
])
def test_find_cycle_finds_back_imports(edges, has_cycle):
    assert (find_cycle(edges) is not None) == has_cycle


def test_an_import_back_from_evaluation_into_training_would_be_caught():
    graph = part_graph()
    graph["evaluation"] = graph["evaluation"] | {"training"}
    assert find_cycle(graph) is not None


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
