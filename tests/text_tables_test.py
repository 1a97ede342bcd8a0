"""Tests of the Markdown and CSV table renderers."""

import csv
import io
import sys

import pytest

from acai_tf.outputs import text_tables


def test_markdown_has_a_header_a_separator_and_escaped_cells():
    assert text_tables.markdown(["Model", "Rate"], [["ACAI", 12.5], ["a|b", "–"]]) == [
        "| Model | Rate |", "|---|---|", "| ACAI | 12.5 |", "| a\\|b | – |"]


def test_markdown_writes_an_empty_cell_as_one_space():
    assert text_tables.markdown(["", "mean"], [["model", ""]]) == [
        "| | mean |", "|---|---|", "| model | |"]


def test_csv_text_round_trips():
    text = text_tables.csv_text(["model", "mean"], [["acai", repr(0.1)], ["vae, big", 2]])
    assert text.endswith("\n") and "\r" not in text
    assert list(csv.reader(io.StringIO(text))) == [["model", "mean"], ["acai", "0.1"],
                                                   ["vae, big", "2"]]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
