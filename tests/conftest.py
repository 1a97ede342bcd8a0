"""Shared pytest fixtures: the real MNIST prepared offline, a mock MNIST, fake training runs.

The real MNIST's directory is, in order of preference: $ACAI_TFDS_DIR when it already holds a
prepared MNIST, else <repo>/.cache/tfds, prepared there on first use (about 30 s) from the four
original MNIST archives in $ACAI_MNIST_DIR (default <repo>/../shared/data/mnist). Tests that need
MNIST fail, rather than skip, when those archives are missing: a silently skipped data test hides
a broken set-up. Tests that only need some prepared labelled dataset take the mock MNIST, which
needs no archive.
"""

import fcntl
import os
from pathlib import Path

import pytest

# Resolving follows Bazel's runfiles symlinks back to the source tree, so the cache and the
# default archive folder are the same under pytest and under `bazel test`.
REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO_ROOT / ".cache" / "tfds"


@pytest.fixture(scope="session", autouse=True)
def matplotlib_config_dir(tmp_path_factory) -> None:
    """Keras imports matplotlib when it is installed (the test extra installs it for the
    learning curves), and matplotlib wants a writable config folder: Bazel's sandbox has a
    read-only HOME, where it would print a warning on the stderr of every process the tests
    read. Set before any test starts one."""
    os.environ.setdefault("MPLCONFIGDIR", str(tmp_path_factory.mktemp("matplotlib")))


def _mnist_prepared(data_dir: str) -> bool:
    from acai_tf import datasets  # pylint: disable=import-outside-toplevel

    try:
        datasets.check_prepared("mnist32", data_dir)
    except datasets.DatasetNotPreparedError:
        return False
    return True


@pytest.fixture(scope="session")
def mnist_data_dir() -> str:
    """Path of a tfds data directory in which "mnist32" is prepared."""
    from acai_tf import datasets  # pylint: disable=import-outside-toplevel

    env_dir = os.environ.get("ACAI_TFDS_DIR")
    if env_dir and _mnist_prepared(env_dir):
        return env_dir
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    missing = None
    # pytest-xdist workers each run this fixture; the lock makes one prepare and the others wait.
    with open(CACHE_DIR / ".prepare.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _mnist_prepared(str(CACHE_DIR)):
            manual_dir = os.environ.get("ACAI_MNIST_DIR") or str(
                REPO_ROOT.parent / "shared" / "data" / "mnist")
            try:
                datasets.prepare("mnist32", str(CACHE_DIR), manual_dir=manual_dir)
            except FileNotFoundError as err:
                missing = str(err)
    # Failing outside the except block keeps tfds' exception chain out of the report.
    if missing:
        pytest.fail(f"these tests need the real MNIST archives: {missing}. Set ACAI_MNIST_DIR "
                    "to the folder holding the four original MNIST .gz files.", pytrace=False)
    return str(CACHE_DIR)


# Examples per split of the mock MNIST: enough for a few batches of 16 and a 64-example accuracy.
MOCK_EXAMPLES = 256


@pytest.fixture(name="mock_mnist_data_dir")
def fixture_mock_mnist_data_dir(tmp_path_factory):
    """Path of a tfds data directory in which "mnist32" reads as prepared, with made-up examples.

    The directory holds only MNIST's metadata (its features and MOCK_EXAMPLES train and test
    examples); while the test runs, `tfds.testing.mock_data` serves random uint8 [28, 28, 1]
    images and labels in [0, 10) for every read, whatever data_dir the reader passes. For tests
    that need some prepared labelled dataset without lines, not the real digits.
    """
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

    data_dir = str(tmp_path_factory.mktemp("mock_tfds"))
    builder = tfds.builder("mnist", data_dir=data_dir)
    builder.info.set_splits(tfds.core.SplitDict([
        tfds.core.SplitInfo(name=split, shard_lengths=[MOCK_EXAMPLES], num_bytes=0)
        for split in ("train", "test")]))
    # The metadata makes the builder's is_prepared() true, which the library checks before
    # reading; mock_data then replaces the reading itself.
    os.makedirs(builder.data_path)
    builder.info.write_to_directory(builder.data_path)
    with tfds.testing.mock_data(num_examples=MOCK_EXAMPLES, data_dir=data_dir,
                                policy=tfds.testing.MockPolicy.USE_FILES):
        yield data_dir


def _fake_run(root, name, *, model="acai", dataset="lines32", latent_width=2, latent=16,
              seed=0, depth=16, results=None, training=None, figure_value=None) -> str:
    """A workdir with config.json and, optionally, eval/results.json, metrics.jsonl (training:
    {tag: [(step, value)]}; a (tag, step) given twice is a step reported again, as by a
    resumed run) and an eval/interpolation.png of one gray level."""
    # pylint: disable=import-outside-toplevel
    import json

    import numpy as np

    from acai_tf.outputs import images
    from acai_tf.training import metrics_log
    from acai_tf.config import ExperimentConfig, ModelConfig, TrainConfig
    from acai_tf.evaluation import results as results_lib

    workdir = os.path.join(str(root), name)
    os.makedirs(workdir)
    config = ExperimentConfig(
        model=ModelConfig(name=model, latent=latent, latent_width=latent_width, depth=depth),
        train=TrainConfig(dataset=dataset, seed=seed))
    with open(os.path.join(workdir, "config.json"), "w", encoding="utf-8") as f:
        f.write(config.to_json())
    if results is not None:
        os.makedirs(os.path.join(workdir, "eval"))
        with open(results_lib.results_path(workdir), "w", encoding="utf-8") as f:
            json.dump({"lines": None, "classifier": None, "clustering": None, **results}, f)
    by_step: dict[int, dict[str, float]] = {}
    again = []
    for tag, points in (training or {}).items():
        for step, value in points:
            if tag in by_step.setdefault(step, {}):
                again.append((step, tag, value))
            else:
                by_step[step][tag] = value
    for step in sorted(by_step):
        metrics_log.append(workdir, step, step / 64, by_step[step])
    for step, tag, value in again:
        by_step[step][tag] = value
        metrics_log.append(workdir, step, step / 64, by_step[step])
    if figure_value is not None:
        images.write_png(results_lib.figure_path(workdir),
                         np.full((32, 40, 1), figure_value, np.uint8))
    return workdir


@pytest.fixture(name="fake_run")
def fixture_fake_run():
    """Makes fake training workdirs for the table tests: fake_run(root, name, **fields)."""
    return _fake_run
