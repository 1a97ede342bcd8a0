"""Dataset registry: every dataset the models train on, by name, behind one interface.

Names: "lines32" (procedural, `acai_tf.lines.dataset`), "mnist32", "svhn32", "cifar10" and
"celeba32" (tensorflow-datasets with the reference preprocessing), "tfds:NAME" for any tfds
image classification dataset, and "folder:PATH" for a directory of PNG/JPEG images
(`acai_tf.datasets.image_folder`). Every dataset yields dicts
``{"image": float32 [S, S, C] in [-1, 1], "label": int64}``, S = `DatasetInfo.image_size`;
batched streams add a leading batch axis. S is 32 for every dataset except folders, which are
resized to the ``image_size`` the caller asks for (default 32).

tfds datasets are read from a data directory (argument ``data_dir``, else the environment
variable ACAI_TFDS_DIR, else ~/tensorflow_datasets) and are never downloaded implicitly: a
dataset that is not prepared raises `DatasetNotPreparedError` at once, naming the
``python -m flags.prepare_data`` command that prepares it.

This is the only place that knows dataset names; callers pass the name through.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Protocol

import tensorflow as tf

from acai_tf.datasets import image_folder, preprocessing, tfds_images
from acai_tf.datasets.image_folder import ImageFolderError
from acai_tf.datasets.tfds_images import DatasetNotPreparedError
from acai_tf.lines import dataset as lines32

__all__ = [
    "DatasetInfo", "DatasetNotPreparedError", "ImageFolderError", "check_prepared",
    "default_data_dir", "get_info", "names", "prepare", "test_set", "train_once", "train_stream",
]

_GENERIC_PREFIX = "tfds:"
_FOLDER_PREFIX = image_folder.PREFIX


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset.

    Attributes:
        name: registry name ("mnist32", "tfds:fashion_mnist", "folder:/abs/path", ...).
        image_size: height and width of every image (32, or the requested size for folders).
        colors: channels, 1 or 3.
        nclass: number of label values (labels are 0..nclass-1); 1 for unlabelled CelebA and
            flat folders.
        tfds_name: tfds builder name, or None for procedural datasets and folders.
        train_size: examples in one pass over the training split; None when unbounded
            (lines32) or unknown (a "tfds:" dataset that is not prepared yet).
        test_size: examples in `test_set`; None when unknown.
        has_lines_metric: the images are `acai_tf.lines` renderings, so the lines interpolation
            metric applies (lines32 only).
    """

    name: str
    image_size: int
    colors: int
    nclass: int
    tfds_name: str | None
    train_size: int | None
    test_size: int | None
    has_lines_metric: bool = False


class _Source(Protocol):
    """What the registry needs from a dataset implementation."""

    def check_prepared(self, data_dir: str) -> None: ...
    def prepare(self, data_dir: str, manual_dir: str | None = None) -> None: ...
    def train_stream(self, batch_size: int, seed: int, data_dir: str) -> tf.data.Dataset: ...
    def test_set(self, data_dir: str, seed: int) -> tf.data.Dataset: ...
    def train_once(self, data_dir: str) -> tf.data.Dataset: ...


# Sizes are those of the tfds splits named in each source.
_REGISTRY: dict[str, tuple[DatasetInfo, _Source]] = {
    "lines32": (DatasetInfo("lines32", 32, 1, 10, None, None, 5000, has_lines_metric=True),
                lines32.Source()),
    "mnist32": (
        DatasetInfo("mnist32", 32, 1, 10, "mnist", 60_000, 10_000),
        tfds_images.TfdsSource("mnist32", "mnist", "train", "test", "train",
                               preprocessing.pad_to_32),
    ),
    # tfds stores digit d as label d (the reference mapped 1..10 to 0..9, i.e. d -> d-1 with
    # 0 -> 9): a relabelling that no classification or clustering accuracy sees.
    # train_once is the first 60k of train, before extra, as clustering used (spec 3.10).
    "svhn32": (
        DatasetInfo("svhn32", 32, 3, 10, "svhn_cropped", 73_257 + 531_131, 26_032),
        tfds_images.TfdsSource("svhn32", "svhn_cropped", "train+extra", "test",
                               "train[:60000]", preprocessing.identity_32),
    ),
    "cifar10": (
        DatasetInfo("cifar10", 32, 3, 10, "cifar10", 50_000, 10_000),
        tfds_images.TfdsSource("cifar10", "cifar10", "train", "test", "train",
                               preprocessing.identity_32),
    ),
    # The reference trains on all of img_align_celeba and evaluates on the same images (its
    # celeba32_test reads the train file), so test_set equals the training data here too.
    "celeba32": (
        DatasetInfo("celeba32", 32, 3, 1, "celeb_a", 202_599, 202_599),
        tfds_images.TfdsSource("celeba32", "celeb_a", "train+validation+test",
                               "train+validation+test", "train+validation+test",
                               preprocessing.celeba_crop_resize, label_key=None),
    ),
}


def default_data_dir() -> str:
    """Returns $ACAI_TFDS_DIR, or ~/tensorflow_datasets when it is unset or empty."""
    return os.environ.get("ACAI_TFDS_DIR") or os.path.expanduser("~/tensorflow_datasets")


def names() -> tuple[str, ...]:
    """Registered dataset names; `get_info` also accepts "tfds:NAME" and "folder:PATH"."""
    return tuple(_REGISTRY)


def _lookup(name: str, data_dir: str | None,
            image_size: int | None = None) -> tuple[DatasetInfo, _Source, str]:
    data_dir = data_dir or default_data_dir()
    if name.startswith(_FOLDER_PREFIX) and len(name) > len(_FOLDER_PREFIX):
        source, details = image_folder.folder_source(name[len(_FOLDER_PREFIX):], image_size)
        return DatasetInfo(tfds_name=None, **details), source, data_dir
    if name in _REGISTRY:
        info, source = _REGISTRY[name]
    elif name.startswith(_GENERIC_PREFIX) and len(name) > len(_GENERIC_PREFIX):
        tfds_name = name[len(_GENERIC_PREFIX):]
        source, details = tfds_images.generic_source(tfds_name, data_dir)
        info = DatasetInfo(name=name, image_size=preprocessing.IMAGE_SIZE, tfds_name=tfds_name,
                           **details)
    else:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(names())}, tfds:NAME "
                         "or folder:PATH")
    if image_size is not None and image_size != info.image_size:
        raise ValueError(f"dataset {name!r} has {info.image_size}x{info.image_size} images; "
                         f"--image_size={image_size} applies only to folder:PATH datasets")
    return info, source, data_dir


def get_info(name: str, *, data_dir: str | None = None,
             image_size: int | None = None) -> DatasetInfo:
    """Describes a dataset without decoding its examples (a folder's files are listed and
    checked once per process).

    Args:
        name: a registered name, "tfds:NAME" or "folder:PATH".
        data_dir: tfds data directory; only "tfds:" split sizes depend on it.
        image_size: the requested image size; None is the dataset's own (32). Only folders
            accept a size other than 32.

    Raises:
        ValueError: unknown name, or an image_size the dataset does not have.
        ImageFolderError: a folder that cannot be read (missing, empty, corrupt, mixed).
    """
    return _lookup(name, data_dir, image_size)[0]


def check_prepared(name: str, data_dir: str | None = None, *,
                   image_size: int | None = None) -> None:
    """Returns if the dataset can be read offline; answers in milliseconds (folders: a scan).

    Raises:
        DatasetNotPreparedError: with a one-line message giving the prepare command, or (as
            ImageFolderError) saying what is wrong with a folder.
        ValueError: unknown name.
    """
    _, source, data_dir = _lookup(name, data_dir, image_size)
    source.check_prepared(data_dir)


def prepare(name: str, data_dir: str | None = None, manual_dir: str | None = None) -> None:
    """Downloads and prepares a tfds dataset in data_dir (no-op when already prepared).

    Args:
        name: a registered name or "tfds:NAME" (for "folder:PATH", only checks the folder).
        data_dir: tfds data directory to write into.
        manual_dir: folder with the original archives, checksum-validated; without it tfds
            downloads them, which needs internet access.
    """
    _, source, data_dir = _lookup(name, data_dir)
    os.makedirs(data_dir, exist_ok=True)
    source.prepare(data_dir, manual_dir)


def train_stream(name: str, *, batch_size: int, seed: int, data_dir: str | None = None,
                 image_size: int | None = None) -> tf.data.Dataset:
    """Infinite, shuffled training batches.

    Args:
        name: a registered name, "tfds:NAME" or "folder:PATH".
        batch_size: examples per batch; the last partial batch of an epoch is never emitted,
            so every batch has this static size.
        seed: seeds file and buffer shuffling (tfds, folders) or line drawing (lines32).
        data_dir: tfds data directory.
        image_size: S below; see `get_info`.

    Returns:
        Dataset of {"image": float32 [B, S, S, C] in [-1, 1], "label": int64 [B]}, prefetched.

    Raises:
        DatasetNotPreparedError: the tfds dataset is not in data_dir, or a bad folder.
    """
    _, source, data_dir = _lookup(name, data_dir, image_size)
    return source.train_stream(batch_size, seed, data_dir)


def test_set(name: str, *, data_dir: str | None = None, seed: int = 0,
             image_size: int | None = None) -> tf.data.Dataset:
    """The evaluation examples, unbatched, in a fixed order.

    Args:
        name: a registered name, "tfds:NAME" or "folder:PATH" (a folder's test set is all its
            images: there is no held-out split).
        data_dir: tfds data directory.
        seed: draws the lines32 test lines; tfds datasets and folders ignore it.
        image_size: S below; see `get_info`.

    Returns:
        Finite dataset of {"image": float32 [S, S, C] in [-1, 1], "label": int64 []}.

    Raises:
        DatasetNotPreparedError: the tfds dataset is not in data_dir, or a bad folder.
    """
    _, source, data_dir = _lookup(name, data_dir, image_size)
    return source.test_set(data_dir, seed)


def train_once(name: str, *, data_dir: str | None = None,
               image_size: int | None = None) -> tf.data.Dataset:
    """One unshuffled pass over the training examples, unbatched (probes, clustering).

    SVHN gives the first 60,000 examples of its train split (not extra), as the reference's
    clustering did.

    Returns:
        Finite dataset of {"image": float32 [S, S, C] in [-1, 1], "label": int64 []}, S the
        image_size (see `get_info`).

    Raises:
        DatasetNotPreparedError: the tfds dataset is not in data_dir, or a bad folder.
        ValueError: lines32, which has no finite train split.
    """
    _, source, data_dir = _lookup(name, data_dir, image_size)
    return source.train_once(data_dir)
