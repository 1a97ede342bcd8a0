"""setup.py installs the whole library: every folder of acai_tf/ holding modules is a package,
and every distribution the library imports is declared."""

import ast
import importlib.metadata
import os
import pathlib
import re
import sys

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


def _install_requires() -> set[str]:
    """The distribution names of setup.py's install_requires, normalised."""
    tree = ast.parse((REPO_ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "install_requires":
            return {_normalised(re.split(r"[\s<>=!~\[;]", requirement.value)[0])
                    for requirement in node.value.elts}
    raise AssertionError("setup.py has no install_requires")


def _imported_top_level_names() -> set[str]:
    """Top-level names of the third-party modules the library imports (anywhere in a module)."""
    names = set()
    for path in (REPO_ROOT / "acai_tf").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"acai_tf"}


def test_every_imported_distribution_is_declared():
    declared = _install_requires()
    distributions = importlib.metadata.packages_distributions()
    undeclared = {name: distributions.get(name) for name in _imported_top_level_names()
                  if name not in PROVIDED_BY_DECLARED
                  and not declared & {_normalised(d) for d in distributions.get(name, [])}}
    assert undeclared == {}, "add these distributions to setup.py's install_requires"
    assert "threadpoolctl" in declared and "scikit-learn" in declared
