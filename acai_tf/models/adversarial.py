"""The update orders of the two-player models (ACAI's critic, the AAE's discriminator).

    alternating   (default) the adversary updates first; the autoencoder then trains against
                  the updated adversary, calling it again on its own half of the adversary's
                  batch (the autoencoder's forward pass does not depend on the adversary)
    simultaneous  both players update from one forward pass, as the reference code does: the
                  autoencoder's tape also records the adversary's update pass and reuses it

Each model writes its step as two labelled blocks, adversary then autoencoder, each under its
own tape (the hyperparameter `update_order`, checked by `acai_tf.model_hparams`); the order
changes only what the autoencoder's tape records (`also_recording`) and
which adversary output it then fools (`output_to_fool`).
"""

from __future__ import annotations

import contextlib

import tensorflow as tf


def also_recording(ae_tape: tf.GradientTape, order: str):
    """Context for the adversary's update pass: `ae_tape` resumes recording under
    "simultaneous" (the autoencoder then fools this very pass), nothing under "alternating"
    (the adversary's inputs are then constants to every tape but the adversary's own)."""
    return ae_tape if order == "simultaneous" else contextlib.nullcontext()


def output_to_fool(order: str, update_pass_output, call_updated_adversary):
    """The adversary's output on the autoencoder's fakes that the autoencoder trains against.

    Args:
        order: one of `model_hparams.UPDATE_ORDERS`.
        update_pass_output: [b] the adversary's output on the fakes in its own update pass.
        call_updated_adversary: () -> [b], the just-updated adversary called on the fakes
            (call inside the autoencoder's tape).

    Returns:
        `update_pass_output` under "simultaneous", `call_updated_adversary()` under
        "alternating".
    """
    return update_pass_output if order == "simultaneous" else call_updated_adversary()
