"""setup.py installs the whole library: every folder of acai_tf/ holding modules is a package,
and every distribution the library imports is declared."""

import ast
import importlib.metadata
import os
import pathlib
import re
import sys

import pytest
import setuptools

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_library_folder_is_an_installed_package():
    folders = {".".join(path.parent.relative_to(REPO_ROOT).parts)
               for path in (REPO_ROOT / "acai_tf").rglob("*.py")
               if "__pycache__" not in path.parts}
    packages = set(setuptools.find_packages(where=str(REPO_ROOT),
                                            include=["acai_tf", "acai_tf.*"]))
    assert folders - packages == set(), "add an __init__.py (setup.py finds packages by it)"
    assert "acai_tf.serving" in packages and "acai_tf.lines" in packages


def test_setup_py_finds_packages_the_same_way():
    text = (REPO_ROOT / "setup.py").read_text(encoding="utf-8")
    assert 'find_packages(include=["acai_tf", "acai_tf.*"])' in text
    assert os.path.isfile(REPO_ROOT / "acai_tf" / "__init__.py")


# Imported top-level names whose distribution is installed, and pinned, by a declared one.
PROVIDED_BY_DECLARED = {"google": "protobuf (google.protobuf), pinned by tensorflow"}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(node: ast.AST) -> set[str]:
    """Normalised distribution names of a list of requirement strings in setup.py."""
    return {_normalised(re.split(r"[\s<>=!~\[;]", requirement.value)[0])
            for requirement in node.elts}


def _install_requires() -> set[str]:
    """The distribution names of setup.py's install_requires, normalised."""
    tree = ast.parse((REPO_ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "install_requires":
            return _requirement_names(node.value)
    raise AssertionError("setup.py has no install_requires")


def _extras_require() -> set[str]:
    """The distribution names of every extra of setup.py (`[benchmarks]`, ...), normalised."""
    tree = ast.parse((REPO_ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "extras_require":
            return set().union(*(_requirement_names(value) for value in node.value.values))
    raise AssertionError("setup.py has no extras_require")


def test_every_test_file_runs_its_tests_as_a_bazel_main():
    """BUILD makes each tests/*_test.py a py_test whose main is the file itself: a file without
    the pytest.main call at its end would pass under Bazel without running a single test."""
    silent = []
    for path in sorted((REPO_ROOT / "tests").glob("*_test.py")):
        main = path.read_text(encoding="utf-8").partition('\nif __name__ == "__main__":\n')[2]
        if "sys.exit(pytest.main([__file__" not in main:
            silent.append(path.name)
    assert silent == []


def _imported_top_level_names(in_functions_only: bool = False) -> set[str]:
    """Top-level names of the third-party modules the library imports (anywhere in a module);
    with `in_functions_only`, those it imports only inside functions (when a function runs)."""
    anywhere, at_import = set(), set()
    for path in (REPO_ROOT / "acai_tf").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_function = {id(inner) for node in ast.walk(tree)
                       if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                       for inner in ast.walk(node) if inner is not node}
        for node in ast.walk(tree):
            names = set()
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = {node.module.split(".")[0]}
            anywhere |= names
            if id(node) not in in_function:
                at_import |= names
    names = anywhere - at_import if in_functions_only else anywhere
    return names - set(sys.stdlib_module_names) - {"acai_tf"}


def _undeclared(names: set[str], declared: set[str]) -> dict[str, list[str] | None]:
    distributions = importlib.metadata.packages_distributions()
    return {name: distributions.get(name) for name in names
            if name not in PROVIDED_BY_DECLARED
            and not declared & {_normalised(d) for d in distributions.get(name, [])}}


def test_every_imported_distribution_is_declared():
    declared = _install_requires()
    # Imported inside a function only: declared by an extra suffices (matplotlib, which draws
    # the benchmarks' learning curves, comes with `pip install '.[benchmarks]'`).
    lazy = _imported_top_level_names(in_functions_only=True)
    undeclared = _undeclared(_imported_top_level_names() - lazy, declared)
    assert undeclared == {}, "add these distributions to setup.py's install_requires"
    undeclared = _undeclared(lazy, declared | _extras_require())
    assert undeclared == {}, "add these distributions to setup.py's install_requires or an extra"
    assert "threadpoolctl" in declared and "scikit-learn" in declared


def test_a_library_import_of_matplotlib_happens_only_when_a_figure_is_drawn():
    # Imported at import time, it would need install_requires: the check above tells the two apart.
    assert "matplotlib" in _imported_top_level_names(in_functions_only=True)
    assert "numpy" not in _imported_top_level_names(in_functions_only=True)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
