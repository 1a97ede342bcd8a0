"""Image datasets read through tensorflow-datasets, with the reference preprocessing.

Every pipeline here turns raw tfds examples (uint8 images) into dicts
``{"image": float32 [32, 32, C] in [-1, 1], "label": int64 []}`` with a per-dataset transform of
`acai_tf.datasets.preprocessing` (the reference decoding, then pad, crop+resize, or nothing).

Nothing here touches the network while loading: each loader first asks tfds whether the dataset
is prepared in ``data_dir`` (milliseconds) and raises `DatasetNotPreparedError` with the command
that prepares it; only then does it read with ``download=False``. Without that check tfds would
retry a download for minutes on a machine with no internet.

`tensorflow_datasets` is imported inside functions because importing it pulls in a lot of code
that most users of this package (models, losses, lines32) never need.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Any

import tensorflow as tf

from acai_tf.datasets.preprocessing import Transform, fit_to_32
from acai_tf.errors import UserError

# The reference shuffles with a 1024-example buffer; a larger one decorrelates consecutive
# batches better on datasets stored in label-sorted or source-sorted order (SVHN train+extra),
# and 10k examples of 32x32x3 float32 cost only 120 MB.
SHUFFLE_BUFFER = 10_000
PREFETCH_BATCHES = 4


class DatasetNotPreparedError(UserError, RuntimeError):
    """The dataset's files are not in the data directory; the message says how to prepare them."""


@dataclasses.dataclass(frozen=True)
class TfdsSource:
    """How one registered dataset is read from tfds.

    Attributes:
        name: the registry name, used in error messages (e.g. "mnist32", "tfds:fashion_mnist").
        tfds_name: the tfds builder name (e.g. "mnist", "svhn_cropped").
        train_split: tfds split expression for training (e.g. "train+extra").
        test_split: tfds split expression for evaluation.
        train_once_split: split read once, unshuffled, by probes and clustering.
        transform: uint8 [H, W, C] -> float32 [32, 32, C] in [-1, 1].
        label_key: feature holding the int label; None gives every example label 0.
    """

    name: str
    tfds_name: str
    train_split: str
    test_split: str
    train_once_split: str
    transform: Transform
    label_key: str | None = "label"

    def _builder(self, data_dir: str) -> Any:
        import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

        return tfds.builder(self.tfds_name, data_dir=data_dir)

    def check_prepared(self, data_dir: str) -> None:
        """Raises `DatasetNotPreparedError` unless the dataset can be read offline from data_dir."""
        if not self._builder(data_dir).is_prepared():
            raise DatasetNotPreparedError(
                f"dataset {self.name!r} (tfds {self.tfds_name!r}) is not prepared in {data_dir}; "
                f"prepare it with: python -m flags.prepare_data --dataset={self.name} "
                f"--data_dir={data_dir} [--manual_dir=DIR_WITH_THE_DOWNLOADED_FILES]")

    def prepare(self, data_dir: str, manual_dir: str | None = None) -> None:
        """Downloads (or takes from manual_dir) and prepares the dataset; no-op if prepared.

        Args:
            data_dir: tfds data directory to write into.
            manual_dir: folder holding the original archives. Their checksums are validated
                against the ones tfds registers. Without it tfds downloads them.
        """
        import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

        builder = self._builder(data_dir)
        if builder.is_prepared():
            return
        if manual_dir is None:
            builder.download_and_prepare()
            return
        _require_archives(builder, manual_dir)
        # The archives already live in manual_dir, so tfds' extracted copies are scratch: keep
        # them in a temporary folder beside the data (same file system) and drop them after.
        with tempfile.TemporaryDirectory(prefix="downloads-", dir=data_dir) as scratch:
            config = tfds.download.DownloadConfig(
                manual_dir=manual_dir, force_checksums_validation=True)
            builder.download_and_prepare(download_dir=scratch, download_config=config)

    def _read(self, split: str, data_dir: str, *, shuffle_seed: int | None) -> tf.data.Dataset:
        import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

        self.check_prepared(data_dir)
        # tfds' automatic in-memory cache of small datasets warns whenever a pass stops early
        # (take(), next()), and the decoded-image shuffle buffer already holds what matters.
        read_config = tfds.ReadConfig(shuffle_seed=shuffle_seed, try_autocache=False)
        raw = self._builder(data_dir).as_dataset(
            split=split, shuffle_files=shuffle_seed is not None, read_config=read_config)
        return raw.map(self._example, num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)

    def _example(self, features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        if self.label_key is None:
            label = tf.constant(0, tf.int64)
        else:
            label = tf.cast(features[self.label_key], tf.int64)
        return {"image": self.transform(features["image"]), "label": label}

    def train_stream(self, batch_size: int, seed: int, data_dir: str) -> tf.data.Dataset:
        """Infinite, shuffled, batched training stream; see `acai_tf.datasets.train_stream`."""
        stream = self._read(self.train_split, data_dir, shuffle_seed=seed).repeat()
        stream = stream.shuffle(SHUFFLE_BUFFER, seed=seed)
        return stream.batch(batch_size, drop_remainder=True).prefetch(PREFETCH_BATCHES)

    def test_set(self, data_dir: str, seed: int = 0) -> tf.data.Dataset:
        """Evaluation examples in stored order, unbatched, single pass; seed is unused."""
        del seed
        return self._read(self.test_split, data_dir, shuffle_seed=None)

    def train_once(self, data_dir: str) -> tf.data.Dataset:
        """Training examples in stored order, unbatched, single pass."""
        return self._read(self.train_once_split, data_dir, shuffle_seed=None)


def _require_archives(builder: Any, manual_dir: str) -> None:
    """Raises FileNotFoundError if manual_dir lacks an archive the builder would download.

    tfds silently falls back to downloading any archive missing from manual_dir, which on a
    machine without internet means minutes of retries before an opaque failure.
    """
    url_infos = builder.url_infos or {}
    wanted = sorted(info.filename for info in url_infos.values() if info.filename)
    missing = [name for name in wanted if not os.path.isfile(os.path.join(manual_dir, name))]
    if missing:
        raise FileNotFoundError(
            f"--manual_dir {manual_dir} lacks {', '.join(missing)}, original archive(s) of "
            f"tfds {builder.name!r}")


def generic_source(tfds_name: str, data_dir: str) -> tuple[TfdsSource, dict[str, Any]]:
    """Builds a source for any tfds image classification dataset ("tfds:NAME").

    Reading the builder's metadata needs no network and no prepared data, except for the split
    sizes, which are only known once the dataset is prepared.

    Args:
        tfds_name: tfds builder name, optionally with config/version ("mnist", "cifar10:3.0.2").
        data_dir: tfds data directory.

    Returns:
        The source and a dict with "colors", "nclass", "train_size" and "test_size" (sizes are
        None while the dataset is not prepared).

    Raises:
        ValueError: tfds does not know the name, or the dataset has no image/label pair.
    """
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

    name = f"tfds:{tfds_name}"
    try:
        builder = tfds.builder(tfds_name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as err:
        raise ValueError(f"unknown dataset {name!r}: tfds has no builder {tfds_name!r}") from err
    info = builder.info
    if info.supervised_keys != ("image", "label"):
        raise ValueError(f"dataset {name!r} is not an image classification dataset: its "
                         f"supervised keys are {info.supervised_keys}, not ('image', 'label')")
    splits = info.splits
    # Some datasets ship no test split; evaluating on train is then the only option.
    test_split = "test" if "test" in splits or not builder.is_prepared() else "train"
    source = TfdsSource(name=name, tfds_name=tfds_name, train_split="train",
                        test_split=test_split, train_once_split="train", transform=fit_to_32)
    details = {
        "colors": int(info.features["image"].shape[-1]),
        "nclass": int(info.features["label"].num_classes),
        "train_size": splits["train"].num_examples if "train" in splits else None,
        "test_size": splits[test_split].num_examples if test_split in splits else None,
    }
    return source, details
