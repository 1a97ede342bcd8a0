"""setup.py installs the whole library: every folder of acai_tf/ holding modules is a package."""

import os
import pathlib

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
