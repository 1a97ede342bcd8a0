"""The reference preprocessing of stored images: uint8 [H, W, C] -> float32 [32, 32, C] in [-1, 1].

Every transform decodes with the reference's ``x = uint8 * (2 / 255) - 1`` and then applies one
geometric step: pad (MNIST), nothing (SVHN, CIFAR-10), crop and resize (CelebA), or whichever of
pad and resize fits (any "tfds:" dataset).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

IMAGE_SIZE = 32

# uint8 [H, W, C] -> float32 [32, 32, C] in [-1, 1].
Transform = Callable[[tf.Tensor], tf.Tensor]


def to_signed_unit(image: tf.Tensor) -> tf.Tensor:
    """Maps uint8 pixels to float32 in [-1, 1] exactly as the reference does.

    Args:
        image: uint8 tensor of any shape, values 0..255.

    Returns:
        float32 tensor of the same shape, ``image * (2 / 255) - 1``, values in [-1, 1].
    """
    return tf.cast(image, tf.float32) * (2.0 / 255.0) - 1.0


def pad_to_32(image: tf.Tensor) -> tf.Tensor:
    """Centres a small image on a 32x32 canvas of -1 (the background value after decoding).

    Args:
        image: uint8 [H, W, C] with H, W <= 32 (MNIST: [28, 28, 1]).

    Returns:
        float32 [32, 32, C] in [-1, 1]; MNIST gets 2 px of -1 on every side.
    """
    height, width = image.shape[0], image.shape[1]
    top, left = (IMAGE_SIZE - height) // 2, (IMAGE_SIZE - width) // 2
    paddings = [[top, IMAGE_SIZE - height - top], [left, IMAGE_SIZE - width - left], [0, 0]]
    return tf.pad(to_signed_unit(image), paddings, constant_values=-1.0)


def identity_32(image: tf.Tensor) -> tf.Tensor:
    """Decodes an image that is already 32x32 (SVHN, CIFAR-10).

    Args:
        image: uint8 [32, 32, C].

    Returns:
        float32 [32, 32, C] in [-1, 1].
    """
    return to_signed_unit(image)


def celeba_crop_resize(image: tf.Tensor) -> tf.Tensor:
    """Reference CelebA geometry: central 146x146 crop, then bicubic resize to 32x32.

    The crop removes 36 rows top and bottom and 16 columns left and right of the aligned
    218x178 face. Resizing is bicubic without antialiasing, as TF1's ``resize_bicubic`` did
    (TF2's kernel uses half-pixel centres, so values differ slightly from the reference).
    Bicubic overshoots near sharp edges; unlike the reference, the result is clipped so that
    every dataset honours the [-1, 1] contract.

    Args:
        image: uint8 [218, 178, 3].

    Returns:
        float32 [32, 32, 3] in [-1, 1].
    """
    cropped = to_signed_unit(image)[36:-36, 16:-16]
    resized = tf.image.resize(cropped, [IMAGE_SIZE, IMAGE_SIZE], method="bicubic",
                              antialias=False)
    return tf.clip_by_value(resized, -1.0, 1.0)


def fit_to_32(image: tf.Tensor) -> tf.Tensor:
    """Brings an image of any size to 32x32: pads small ones with -1, area-resizes others.

    Args:
        image: uint8 [H, W, C]; H and W must be static.

    Returns:
        float32 [32, 32, C] in [-1, 1].
    """
    height, width = image.shape[0], image.shape[1]
    if height is not None and width is not None and height <= IMAGE_SIZE >= width:
        return pad_to_32(image)
    # Area averaging keeps the output inside [-1, 1] (no overshoot) and does not alias.
    return tf.image.resize(to_signed_unit(image), [IMAGE_SIZE, IMAGE_SIZE], method="area")
