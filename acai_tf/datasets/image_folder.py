"""A directory of one's own PNG/JPEG images as a dataset ("folder:PATH").

Layout: either class subfolders (``PATH/cat/*.png``, ``PATH/dog/*.jpg``: sorted subfolder names
give labels 0..n-1, classes may differ in size) or a flat folder of images (unlabelled: nclass
1, label 0 everywhere, like celeba32). Only files directly inside a class folder (or the flat
folder) with a .png, .jpg or .jpeg suffix count; other files and hidden entries are ignored.

Every image is decoded to uint8, mapped to [-1, 1] exactly like the other datasets
(``x = uint8 * 2/255 - 1``), center-cropped to a square (the central min(H, W) rows and
columns) and resized to ``image_size`` x ``image_size``. Alpha channels are dropped.

There is no held-out split: `test_set` and `train_once` are the same images as training, in
fixed order (class by class, files by name), as celeba32's test set is its train set.

The folder is scanned once per process (cached while its directories are unchanged): every file
is opened with PIL and checked in full, so that a corrupt file or a folder mixing grayscale and
color images is a one-line `ImageFolderError` before training, not a tf.data traceback later.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import tensorflow as tf

from acai_tf.datasets.preprocessing import to_signed_unit
from acai_tf.datasets.tfds_images import DatasetNotPreparedError

PREFIX = "folder:"
EXTENSIONS = (".png", ".jpg", ".jpeg")
PREFETCH_BATCHES = 4
# PIL pixel modes by the channel count the images get here (1: grayscale, 3: color).
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L"})
_COLOR_MODES = frozenset({"RGB", "RGBA", "RGBa", "RGBX", "P", "PA"})


class ImageFolderError(DatasetNotPreparedError):
    """The folder cannot be read as a dataset (missing, empty, corrupt or mixed images)."""


@dataclasses.dataclass(frozen=True)
class FolderContents:
    """What a scan found. files[i] has label labels[i]; classes is () for a flat folder."""

    root: str
    files: tuple[str, ...]
    labels: tuple[int, ...]
    classes: tuple[str, ...]
    colors: int


def normalize_path(path: str) -> str:
    """The absolute path that names the dataset ("folder:" + it), so runs resume from any cwd."""
    return os.path.abspath(os.path.expanduser(path))


def _visible(root: str) -> list[os.DirEntry]:
    with os.scandir(root) as entries:
        return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)


def _images(entries: list[os.DirEntry]) -> list[str]:
    return [e.path for e in entries if e.is_file() and e.name.lower().endswith(EXTENSIONS)]


def scan(root: str) -> FolderContents:
    """Lists and checks the images of `root` (an absolute path); raises ImageFolderError."""
    if not os.path.isdir(root):
        raise ImageFolderError(f"dataset folder {root} does not exist or is not a directory")
    entries = _visible(root)
    subfolders = [e for e in entries if e.is_dir()]
    # Directory mtimes change when files are added or removed: they key the cache.
    signature = tuple(os.stat(path).st_mtime_ns for path in [root, *(e.path for e in subfolders)])
    return _scan_checked(root, signature)


@functools.lru_cache(maxsize=8)
def _scan_checked(root: str, signature: tuple[int, ...]) -> FolderContents:
    del signature  # Only part of the cache key.
    entries = _visible(root)
    subfolders = [e for e in entries if e.is_dir()]
    flat_images = _images(entries)
    if subfolders and flat_images:
        raise ImageFolderError(
            f"dataset folder {root} holds both images (e.g. {flat_images[0]}) and subfolders; "
            "put every image in a class subfolder, or remove the subfolders")
    files, labels = list(flat_images), [0] * len(flat_images)
    for label, folder in enumerate(subfolders):
        images = _images(_visible(folder.path))
        if not images:
            raise ImageFolderError(f"class subfolder {folder.path} holds no PNG or JPEG image")
        files += images
        labels += [label] * len(images)
    if not files:
        raise ImageFolderError(f"dataset folder {root} holds no PNG or JPEG image "
                               f"({', '.join('*' + ext for ext in EXTENSIONS)})")
    by_colors: dict[int, str] = {}
    for path in files:
        by_colors.setdefault(_check_image(path), path)
    if len(by_colors) > 1:
        raise ImageFolderError(
            f"dataset folder {root} mixes grayscale and color images (e.g. {by_colors[1]} and "
            f"{by_colors[3]}); convert them to one kind")
    return FolderContents(root=root, files=tuple(files), labels=tuple(labels),
                          classes=tuple(e.name for e in subfolders), colors=next(iter(by_colors)))


def _check_image(path: str) -> int:
    """Reads one image in full with PIL; returns its channels here (1 or 3)."""
    from PIL import Image  # pylint: disable=import-outside-toplevel

    try:
        with Image.open(path) as image:
            kind, mode = image.format, image.mode
            if kind == "JPEG":
                # Decoding at 1/8 scale still reads every byte, so truncation shows, cheaply.
                image.draft(mode, (1, 1))
                image.load()
            else:
                image.verify()  # PNG: every chunk's CRC.
    except Exception as error:  # pylint: disable=broad-except
        # PIL raises OSError, SyntaxError, struct.error, ... depending on the damage.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ImageFolderError(f"cannot read image {path}: {reason}") from None
    if kind not in ("PNG", "JPEG"):
        raise ImageFolderError(f"image {path} is {kind}, not PNG or JPEG")
    if mode in _GRAY_MODES:
        return 1
    if mode in _COLOR_MODES:
        return 3
    raise ImageFolderError(f"image {path} has pixel mode {mode}; only grayscale and RGB(A) "
                           "images are supported")


def center_crop_resize(image: tf.Tensor, image_size: int) -> tf.Tensor:
    """Central square crop, then resize.

    Args:
        image: uint8 [H, W, C], any H and W.
        image_size: output height and width.

    Returns:
        float32 [image_size, image_size, C] in [-1, 1]: the central min(H, W) square, mapped
        by ``x * 2/255 - 1`` and resized bilinearly with antialiasing (non-negative weights
        that sum to 1, so no overshoot; a square of image_size pixels is returned unchanged).
    """
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    side = tf.minimum(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = to_signed_unit(image[top:top + side, left:left + side])
    resized = tf.image.resize(square, [image_size, image_size], method="bilinear",
                              antialias=True)
    return tf.clip_by_value(resized, -1.0, 1.0)  # float rounding only


@dataclasses.dataclass(frozen=True)
class FolderSource:
    """Reads one scanned folder at one image size (see `acai_tf.datasets._Source`)."""

    contents: FolderContents
    image_size: int

    def check_prepared(self, data_dir: str) -> None:
        """Nothing to prepare: the scan that built this source has validated the folder."""
        del data_dir

    def prepare(self, data_dir: str, manual_dir: str | None = None) -> None:
        del data_dir, manual_dir

    def _examples(self) -> tf.data.Dataset:
        """(path, label) pairs in fixed order."""
        return tf.data.Dataset.from_tensor_slices(
            (list(self.contents.files), tf.constant(self.contents.labels, tf.int64)))

    def _decode(self, path: tf.Tensor, label: tf.Tensor) -> dict[str, tf.Tensor]:
        image = tf.io.decode_image(tf.io.read_file(path), channels=self.contents.colors,
                                   dtype=tf.uint8, expand_animations=False)
        image = center_crop_resize(image, self.image_size)
        shape = [self.image_size, self.image_size, self.contents.colors]
        return {"image": tf.ensure_shape(image, shape), "label": label}

    def _decoded(self, pairs: tf.data.Dataset) -> tf.data.Dataset:
        return pairs.map(self._decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def train_stream(self, batch_size: int, seed: int, data_dir: str) -> tf.data.Dataset:
        """Infinite stream; each pass is a fresh permutation of all files drawn from `seed`."""
        del data_dir
        count = len(self.contents.files)
        # Shuffling the file names (not decoded images) makes a full permutation cheap.
        pairs = self._examples().shuffle(count, seed=seed, reshuffle_each_iteration=True)
        stream = self._decoded(pairs.repeat())
        return stream.batch(batch_size, drop_remainder=True).prefetch(PREFETCH_BATCHES)

    def test_set(self, data_dir: str, seed: int = 0) -> tf.data.Dataset:
        """All images in fixed order, unbatched, one pass (no held-out split); seed unused."""
        del data_dir, seed
        return self._decoded(self._examples())

    def train_once(self, data_dir: str) -> tf.data.Dataset:
        """The same single pass as `test_set`."""
        return self.test_set(data_dir)


def folder_source(path: str, image_size: int | None) -> tuple[FolderSource, dict]:
    """Scans the folder at `path` and builds its source ("folder:PATH").

    Args:
        path: the folder, absolute or relative to the working directory.
        image_size: output height and width; None means 32.

    Returns:
        The source and the `DatasetInfo` fields "name" ("folder:" + the absolute path),
        "image_size", "colors", "nclass" (1 for a flat folder), "train_size" and "test_size"
        (both the number of images: there is no held-out split).

    Raises:
        ImageFolderError: the folder cannot be read (see `scan`).
        ValueError: image_size is not a positive integer.
    """
    image_size = 32 if image_size is None else image_size
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ValueError(f"image_size must be a positive integer, got {image_size!r}")
    contents = scan(normalize_path(path))
    count = len(contents.files)
    details = {"name": PREFIX + contents.root, "image_size": image_size,
               "colors": contents.colors, "nclass": max(1, len(contents.classes)),
               "train_size": count, "test_size": count}
    return FolderSource(contents, image_size), details
