"""The layout table (docs/layout.md, linked from the README) matches the tree: every path it
names exists, and every library module and folder is named."""

import pathlib
import re
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


def layout_rows():
    text = (REPO_ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.startswith("| `")]


def named_paths():
    return {path for row in layout_rows() for path in re.findall(r"`([^`]+)`", row.split("|")[1])}


def test_every_named_path_exists():
    missing = sorted(path for path in named_paths() if not (REPO_ROOT / path).exists())
    assert missing == []


def test_every_library_module_and_folder_is_named():
    named = named_paths()
    items = [path for path in (REPO_ROOT / "acai_tf").iterdir()
             if path.name != "__init__.py" and not path.name.startswith((".", "__"))]
    expected = {f"acai_tf/{path.name}" + ("/" if path.is_dir() else "") for path in items
                if path.suffix == ".py" or path.is_dir()}
    assert sorted(expected - named) == []


def test_every_module_of_a_named_folder_is_mentioned_in_its_row():
    for row in layout_rows():
        folder = row.split("|")[1].strip().strip("`")
        if not folder.startswith("acai_tf/") or not folder.endswith("/"):
            continue
        modules = {path.stem for path in (REPO_ROOT / folder).glob("*.py")} - {"__init__"}
        unnamed = sorted(module for module in modules if f"`{module}`" not in row)
        assert unnamed == [], f"{folder}: {unnamed}"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
