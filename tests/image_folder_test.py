"""Tests of "folder:PATH" datasets on small folders of PNG/JPEG images written with PIL, and of a
folder run end to end through the train, evaluate and export binaries."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from absl import flags
from PIL import Image

from acai_tf import datasets, models
from acai_tf.config import ConfigError
from acai_tf.datasets import ImageFolderError
from acai_tf.evaluation import suite
from acai_tf.cli import flag_defs

import python_process
import tiny

# Not resolved: under Bazel this is the runfiles tree, which holds flags/ and acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


def _random(rng, height: int, width: int, channels: int = 3) -> np.ndarray:
    shape = (height, width, channels) if channels > 1 else (height, width)
    return rng.integers(0, 256, shape)


def _arrays(dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    examples = list(dataset.as_numpy_iterator())
    return (np.stack([e["image"] for e in examples]), np.array([e["label"] for e in examples]))


@pytest.fixture(scope="module", name="labelled")
def fixture_labelled(tmp_path_factory) -> Path:
    """cats/ (6 images) and dogs/ (5): RGB PNGs and JPEGs of different sizes."""
    root = tmp_path_factory.mktemp("labelled")
    rng = np.random.default_rng(0)
    for name, count in (("cats", 6), ("dogs", 5)):
        for i in range(count):
            suffix = ".png" if i % 2 else ".JPG"
            _save(root / name / f"{i}{suffix}", _random(rng, 20 + 7 * i, 45 - 3 * i))
    (root / "dogs" / "notes.txt").write_text("not an image")  # ignored
    return root


@pytest.fixture(scope="module", name="flat")
def fixture_flat(tmp_path_factory) -> Path:
    """Five grayscale PNGs, no subfolders."""
    root = tmp_path_factory.mktemp("flat")
    rng = np.random.default_rng(1)
    for i in range(5):
        _save(root / f"img{i}.png", _random(rng, 30 + i, 40, channels=1))
    return root


def test_class_subfolders_give_sorted_labels(labelled):
    info = datasets.get_info(f"folder:{labelled}")
    assert info.name == f"folder:{labelled}" and info.tfds_name is None
    assert (info.image_size, info.colors, info.nclass) == (32, 3, 2)
    assert (info.train_size, info.test_size) == (11, 11)
    images, labels = _arrays(datasets.test_set(info.name))
    assert labels.tolist() == [0] * 6 + [1] * 5  # cats, then dogs
    assert images.shape == (11, 32, 32, 3) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0 and images.min() < -0.9
    once_images, once_labels = _arrays(datasets.train_once(info.name))
    np.testing.assert_array_equal(once_images, images)
    np.testing.assert_array_equal(once_labels, labels)


def test_flat_folder_is_unlabelled_grayscale_at_64(flat):
    info = datasets.get_info(f"folder:{flat}", image_size=64)
    assert (info.image_size, info.colors, info.nclass, info.train_size) == (64, 1, 1, 5)
    images, labels = _arrays(datasets.test_set(info.name, image_size=64))
    assert images.shape == (5, 64, 64, 1) and labels.tolist() == [0] * 5
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert suite.skip_notes(info) == [
        f"note: folder:{flat} has no labels; skipping the classifier, probe and clustering "
        "evaluations"]
    datasets.check_prepared(info.name)
    datasets.prepare(info.name, str(flat / ".unused-data-dir"))


def test_relative_path_is_named_absolutely(flat, monkeypatch):
    monkeypatch.chdir(flat.parent)
    assert datasets.get_info(f"folder:{flat.name}").name == f"folder:{flat}"


def test_pixels_are_mapped_exactly_and_the_center_square_is_kept(tmp_path):
    rng = np.random.default_rng(2)
    square = _random(rng, 32, 32)
    _save(tmp_path / "a_square.png", square)
    wide = np.zeros((32, 64, 3)) + BLUE  # left and right quarters are cropped away
    wide[:, :16], wide[:, 48:] = RED, GREEN
    _save(tmp_path / "b_wide.png", wide)
    tall = np.zeros((80, 40, 3)) + BLUE  # top and bottom 20 rows are cropped away
    tall[:20], tall[60:] = RED, GREEN
    _save(tmp_path / "c_tall.png", tall)
    images, _ = _arrays(datasets.test_set(f"folder:{tmp_path}"))
    np.testing.assert_allclose(images[0], square * (2 / 255) - 1, atol=1e-6)
    blue = np.array([-1.0, -1.0, 1.0], np.float32)
    for image in images[1:]:
        np.testing.assert_allclose(image, np.broadcast_to(blue, image.shape), atol=1e-6)
    large, _ = _arrays(datasets.test_set(f"folder:{tmp_path}", image_size=64))
    np.testing.assert_allclose(large[1:], np.broadcast_to(blue, large[1:].shape), atol=1e-6)


def test_stream_is_a_seeded_permutation_per_pass(labelled):
    name = f"folder:{labelled}"

    def first(seed: int, count: int = 3):
        stream = datasets.train_stream(name, batch_size=11, seed=seed)
        return [batch for batch in stream.take(count).as_numpy_iterator()]

    a, b, c = first(0), first(0), first(1)
    for batch_a, batch_b in zip(a, b):
        np.testing.assert_array_equal(batch_a["image"], batch_b["image"])
    assert not np.array_equal(a[0]["image"], c[0]["image"])
    assert not np.array_equal(a[0]["image"], a[1]["image"])  # reshuffled every pass
    # A batch of 11 is exactly one pass: every image once.
    images, _ = _arrays(datasets.test_set(name))
    order = np.lexsort(a[0]["image"].reshape(11, -1).T)
    np.testing.assert_array_equal(a[0]["image"][order],
                                  images[np.lexsort(images.reshape(11, -1).T)])
    assert a[0]["image"].shape == (11, 32, 32, 3) and a[0]["label"].shape == (11,)


def _write_bad(root: Path, case: str) -> str:
    """Builds a bad folder under root; returns the expected error message (a regex)."""
    rng = np.random.default_rng(3)
    if case == "missing":
        return f"dataset folder {root}/nope does not exist or is not a directory"
    if case == "no_images":
        root.mkdir()
        (root / "readme.txt").write_text("hello")
        return rf"dataset folder {root} holds no PNG or JPEG image \(\*.png, \*.jpg, \*.jpeg\)"
    if case == "corrupt":
        _save(root / "good.png", _random(rng, 8, 8))
        (root / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
        return f"cannot read image {root}/bad.png: "
    if case == "truncated_jpeg":
        _save(root / "a.jpg", _random(rng, 64, 64))
        data = (root / "a.jpg").read_bytes()
        (root / "b.jpg").write_bytes(data[:len(data) // 2])
        return f"cannot read image {root}/b.jpg: image file is truncated"
    if case == "mixed_channels":
        _save(root / "c" / "gray.png", _random(rng, 8, 8, channels=1))
        _save(root / "d" / "rgb.jpg", _random(rng, 8, 8))
        return (f"dataset folder {root} mixes grayscale and color images "
                rf"\(e.g. {root}/c/gray.png and {root}/d/rgb.jpg\); convert them to one kind")
    if case == "empty_class":
        _save(root / "a" / "x.png", _random(rng, 8, 8))
        (root / "b").mkdir()
        return f"class subfolder {root}/b holds no PNG or JPEG image"
    assert case == "images_and_subfolders"
    _save(root / "a" / "x.png", _random(rng, 8, 8))
    _save(root / "y.png", _random(rng, 8, 8))
    return rf"dataset folder {root} holds both images \(e.g. {root}/y.png\) and subfolders"


@pytest.mark.parametrize("case", ["missing", "no_images", "corrupt", "truncated_jpeg",
                                  "mixed_channels", "empty_class", "images_and_subfolders"])
def test_bad_folders_are_one_line_errors(tmp_path, case):
    root = tmp_path / "data"
    message = _write_bad(root, case)
    path = root / "nope" if case == "missing" else root
    with pytest.raises(ImageFolderError, match=message) as error:
        datasets.get_info(f"folder:{path}")
    assert "\n" not in str(error.value)
    assert isinstance(error.value, datasets.DatasetNotPreparedError)  # what binaries print


def _config(*args: str):
    flag_values = flags.FlagValues()
    flag_defs.define_flags(flag_values)
    flag_values(["train", *args])
    return flag_defs.config_from_flags(flag_values)


def test_image_size_flag(labelled):
    config = _config(f"--dataset=folder:{labelled}", "--image_size=64", "--model=baseline")
    assert (config.model.image_size, config.model.colors, config.model.nclass) == (64, 3, 2)
    assert config.train.dataset == f"folder:{labelled}"
    with pytest.raises(ConfigError, match="^dataset 'mnist32' has 32x32 images; "
                                          "--image_size=64 applies only to folder:PATH"):
        _config("--dataset=mnist32", "--image_size=64")


def test_a_64_pixel_model_builds_and_trains_a_step(labelled):
    config = tiny.model_config("acai", image_size=64, colors=3, nclass=2)
    assert config.scales == 4
    model = models.build(config, seed=0)
    model.compile()
    stream = datasets.train_stream(f"folder:{labelled}", batch_size=4, seed=0, image_size=64)
    history = model.fit(stream, steps_per_epoch=1, epochs=1, verbose=0,
                        shuffle=False)
    assert all(np.isfinite(values[-1]) for values in history.history.values())
    batch = next(iter(stream))
    assert model.encode(batch["image"]).shape == (4, 4, 4, 2)
    assert model.decode(model.encode(batch["image"])).shape == (4, 64, 64, 3)


def _binary(module: str, *args: str) -> subprocess.CompletedProcess:
    env = python_process.env(REPO_ROOT)
    env.pop("TF_CONFIG", None)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_train_evaluate_and_export_a_folder_run(flat, tmp_path):
    workdir, export_dir = tmp_path / "run", tmp_path / "export"
    train = _binary("flags.train", f"--dataset=folder:{flat}", "--model=baseline",
                    "--train_kimg=0.125", "--report_kimg=0.0625", "--batch=8", "--depth=8",
                    "--latent=4", f"--workdir={workdir}")
    assert train.returncode == 0, train.stderr[-2000:]
    assert "done: step 16" in train.stdout
    evaluate = _binary("flags.evaluate", f"--workdir={workdir}")
    assert evaluate.returncode == 0, evaluate.stderr[-2000:]
    assert (f"note: folder:{flat} has no labels; skipping the classifier, probe and "
            "clustering evaluations") in evaluate.stdout.splitlines()
    assert (workdir / "eval" / "interpolation.png").is_file()
    export = _binary("export.export_saved_model", f"--workdir={workdir}",
                     f"--export_dir={export_dir}")
    assert export.returncode == 0, export.stderr[-2000:]
    assert (export_dir / "baseline" / "1" / "saved_model.pb").is_file()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
