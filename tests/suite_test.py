"""Tests of the choice of evaluations from a dataset's DatasetInfo."""

import sys

import pytest

from acai_tf import datasets
from acai_tf.evaluation import suite


def test_applicable_parts_follow_the_dataset():
    assert suite.applicable_parts(datasets.get_info("lines32")) == ("lines", "classifier")
    assert suite.applicable_parts(datasets.get_info("mnist32")) == ("classifier", "clustering")
    assert suite.applicable_parts(datasets.get_info("celeba32")) == ()


def test_skip_notes_name_what_a_dataset_lacks():
    assert suite.skip_notes(datasets.get_info("mnist32")) == []
    assert suite.skip_notes(datasets.get_info("celeba32")) == [
        "note: celeba32 has no labels; skipping the classifier, probe and clustering "
        "evaluations"]
    assert suite.skip_notes(datasets.get_info("mnist32"), ("lines",)) == [
        "note: mnist32 is not made of lines32 images; skipping the lines benchmark"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
