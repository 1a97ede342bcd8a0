"""Tests for acai_tf.outputs.atomic_write: unique temporary names, all-or-nothing replacement."""

import os
import stat
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from acai_tf.outputs import atomic_write, images


def test_write_text_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "config.json"
    atomic_write.write_text(str(path), "one\n")
    atomic_write.write_text(str(path), "two\n")
    assert path.read_text() == "two\n"
    assert os.listdir(path.parent) == ["config.json"]
    assert stat.S_IMODE(path.stat().st_mode) == atomic_write.PERMISSIONS


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_write.replacing(str(path)) as f:
            f.write("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["results.json"]


def test_concurrent_writers_of_one_path_use_distinct_temporaries(tmp_path):
    """Two writers open at once: each renames its own complete file, neither the other's."""
    path = str(tmp_path / "samples_000020.0.png")
    listings, both_open = [], threading.Barrier(2)

    def write(text):
        with atomic_write.replacing(path) as f:
            f.write(text)
            both_open.wait(timeout=10)
            listings.append(sorted(os.listdir(tmp_path)))
            both_open.wait(timeout=10)  # Neither renames before both have listed.

    threads = [threading.Thread(target=write, args=(text,)) for text in ("a" * 1000, "b" * 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    temporaries = listings[0]
    assert listings[1] == temporaries and len(temporaries) == 2
    assert all(name.startswith(".samples_000020.0.png.") and name.endswith(".tmp")
               for name in temporaries)
    assert open(path).read() in ("a" * 1000, "b" * 10)
    assert os.listdir(tmp_path) == ["samples_000020.0.png"]


def test_png_goes_through_a_unique_temporary(tmp_path, monkeypatch):
    seen = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (seen.append(src), replace(src, dst)))
    path = str(tmp_path / "images" / "samples_000020.0.png")
    images.write_png(path, images.to_uint8(np.zeros((4, 4, 1))))
    images.write_png(path, images.to_uint8(np.zeros((4, 4, 1))))
    assert len(set(seen)) == 2 and path + ".tmp" not in seen
    assert Image.open(path).size == (4, 4)


def test_only_write_modes_are_accepted(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'w' or 'wb', got 'a'"):
        with atomic_write.replacing(str(tmp_path / "x"), "a"):
            pass


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
