"""Tests for acai_tf.outputs.images: pixel mapping, grid and figure layouts, PNG files."""

import sys

import numpy as np
import pytest
from PIL import Image

from acai_tf.outputs import images


def test_to_uint8_maps_minus_one_to_one_onto_bytes_with_rounding_and_clipping():
    values = np.array([-1.0, 1.0, 0.0, -2.0, 3.0, np.nan, 0.5])
    # round(127.5 + 127.5 x): 0, 255, 128 (numpy rounds half to even: 127.5 -> 128), clipped.
    np.testing.assert_array_equal(images.to_uint8(values), [0, 255, 128, 0, 255, 128, 191])


def test_tile_places_row_r_column_c_at_block_r_c():
    blocks = np.arange(2 * 3, dtype=np.float32).reshape(2, 3, 1, 1, 1) * np.ones((1, 1, 4, 5, 1))
    grid = images.tile(blocks)
    assert grid.shape == (2 * 4, 3 * 5, 1)
    for row in range(2):
        for col in range(3):
            block = grid[row * 4:(row + 1) * 4, col * 5:(col + 1) * 5]
            assert np.all(block == row * 3 + col)


def test_reconstruction_grid_alternates_inputs_and_reconstructions():
    inputs = np.arange(64, dtype=np.float32).reshape(64, 1, 1, 1) * np.ones((1, 2, 2, 1))
    grid = images.reconstruction_grid(inputs, -inputs, pairs_per_row=4)
    assert grid.shape == (16 * 2, 8 * 2, 1)
    # Row 1, pair 2: input 6 then its reconstruction -6.
    assert grid[2, 4 * 2, 0] == 6 and grid[2, 5 * 2, 0] == -6


def test_square_grid_needs_a_square_count():
    assert images.square_grid(np.zeros((16, 3, 3, 3))).shape == (12, 12, 3)
    with pytest.raises(ValueError, match="square"):
        images.square_grid(np.zeros((15, 3, 3, 3)))


@pytest.mark.parametrize("channels, mode", [(1, "L"), (3, "RGB")])
def test_write_png_round_trips_bytes(tmp_path, channels, mode):
    grid = np.random.default_rng(0).uniform(-1, 1, (8, 6, channels))
    path = tmp_path / "sub" / images.png_name("samples", 64)
    images.write_png(str(path), images.to_uint8(grid))
    assert path.name == "samples_000064.0.png"
    with Image.open(path) as image:
        assert image.mode == mode and image.size == (6, 8)
        pixels = np.asarray(image).reshape(8, 6, channels)
    np.testing.assert_array_equal(pixels, images.to_uint8(grid))
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_write_png_takes_bytes_only(tmp_path):
    with pytest.raises(ValueError, match="need uint8"):
        images.write_png(str(tmp_path / "float.png"), np.zeros((4, 4, 1), np.float32))


def test_interpolation_figure_layout():
    inputs_a, inputs_b = np.full((2, 4, 4, 1), -1.0), np.full((2, 4, 4, 1), 1.0)
    path = np.zeros((2, 3, 4, 4, 1))
    image = images.interpolation_figure(inputs_a, inputs_b, path)
    gap = images.ENDPOINT_GAP
    assert image.shape == (8, 5 * 4 + 2 * gap, 1) and image.dtype == np.uint8
    assert (image[:, :4] == 0).all() and (image[:, -4:] == 255).all()
    assert (image[:, 4 + gap:4 + gap + 12] == 128).all()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
