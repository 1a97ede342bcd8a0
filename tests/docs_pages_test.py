"""README.md and the pages under docs/: every relative link reaches an existing file (and, with
a `#fragment`, a heading of that file), the README stays a short front door, and every docs page
opens with a paragraph saying what it holds."""

import collections
import pathlib
import re
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250

_FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _without_code(text: str) -> str:
    return _CODE.sub("", _FENCE.sub("", text))


def slugs(text: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped,
    spaces as hyphens, `-1`, `-2`, ... after repeats."""
    seen, anchors = collections.Counter(), set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", _FENCE.sub("", text), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return anchors


def broken_links(page: pathlib.Path) -> list[str]:
    """The relative links of `page` whose file, or whose heading after `#`, does not exist."""
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in _LINK.findall(_without_code(text)):
        if re.match(r"[a-z]+:", target):   # http:, https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif fragment and file.suffix == ".md" and fragment not in slugs(
                file.read_text(encoding="utf-8")):
            broken.append(target)
    return broken


def test_slugs_follow_githubs_rule():
    assert slugs("# The paper's budget (ACAI)\n## `train_throughput.py`: speed\n"
                 "```sh\n# not a heading\n```\n## Notes\n## Notes\n") == {
        "the-papers-budget-acai", "train_throughputpy-speed", "notes", "notes-1"}


def test_a_missing_file_or_heading_is_a_broken_link(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#a-section) [file](missing.md) [heading](other.md#nowhere) "
                    "[here](#page) ![figure](other.md) [web](https://example.com/x.md) "
                    "`[code](missing.md)`\n\n# Page\n")
    assert broken_links(page) == ["missing.md", "other.md#nowhere"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_reaches_a_file_and_heading(page):
    assert broken_links(page) == []


def test_the_readme_links_every_docs_page_and_stays_short():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_MAX_LINES
    linked = {target.partition("#")[0] for target in _LINK.findall(readme)}
    assert sorted(page.name for page in PAGES[1:] if f"docs/{page.name}" not in linked) == []


@pytest.mark.parametrize("page", PAGES[1:], ids=lambda page: page.name)
def test_every_docs_page_opens_with_a_title_and_a_paragraph(page):
    blocks = page.read_text(encoding="utf-8").split("\n\n")
    assert blocks[0].startswith("# ") and "\n" not in blocks[0]
    assert blocks[1][0].isalpha() or blocks[1][0] == "`", blocks[1][:40]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
