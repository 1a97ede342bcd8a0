"""The servable: a `tf.Module` whose named signatures serve a trained autoencoder.

Signatures (all images float32 [B, S, S, C] in [-1, 1], batch size B dynamic):

    serving_default, encode   images -> latents [B, D] (flattened), latent_map [B, w, w, c]
    decode                    latents [B, D] (the flattened form `encode` returns) -> images
    reconstruct               images -> images
    interpolate               images_a, images_b [B, S, S, C], steps (int32 scalar, 2..256),
                              method (string scalar "linear" | "spherical")
                              -> images [B, steps, S, S, C], endpoints included

Each signature means what the model's method means: the VAE's `encode` (and so `reconstruct`
and `interpolate`) draws a fresh posterior sample per request unless the model was trained with
`encoding="mean"`; the VQ-VAE's latents are the continuous pre-quantisation code and `decode`
quantises them. Images outside [-1, 1] are accepted as they are (the networks are evaluated on
them exactly as the Keras model would); NaN or Inf inputs, steps outside [2, 256], an unknown
method or batches of different sizes are rejected with an InvalidArgumentError naming the input.

Only the variables the signatures read are saved: the encoder, the decoder and what the model's
encode/decode use between them (VAE heads and sampling seed, VQ-VAE projection, codebook and
MLP). The critic, the discriminator, the latent classifier and the optimizers stay out.
"""

from __future__ import annotations

import os
import tempfile

import tensorflow as tf

from acai_tf.models import latent_mixing
from acai_tf.config import ExperimentConfig

SIGNATURE_KEYS = ("serving_default", "encode", "decode", "reconstruct", "interpolate")
MAX_STEPS = 256  # Bounds the decoder work of one interpolate request (B * steps images).
CONFIG_ASSET = "config.json"


def _checked(tensor: tf.Tensor, spec: tf.TensorSpec) -> tf.Tensor:
    """`tensor` after run-time checks of its shape and (for floats) finiteness.

    Neither a SavedModel signature nor TF Serving checks the shapes it is fed: without
    EnsureShape, a wrong shape fails deep inside the network with an obscure message.
    """
    tensor = tf.ensure_shape(tensor, spec.shape)
    if spec.dtype.is_floating:
        tensor = tf.debugging.check_numerics(tensor, f"{spec.name} must be finite (no NaN or Inf)")
    return tensor


def input_specs(model_config) -> dict[str, dict[str, tf.TensorSpec]]:
    """The named inputs of each signature (serving_default is encode's).

    Args:
        model_config: the `ModelConfig` of the served model.

    Returns:
        {signature key: {input name: TensorSpec}}, in the functions' argument order.
    """
    images = [None, *model_config.image_shape]
    dim = model_config.latent_width ** 2 * model_config.latent
    encode = {"images": tf.TensorSpec(images, tf.float32, name="images")}
    return {
        "serving_default": encode,
        "encode": encode,
        "decode": {"latents": tf.TensorSpec([None, dim], tf.float32, name="latents")},
        "reconstruct": encode,
        "interpolate": {"images_a": tf.TensorSpec(images, tf.float32, name="images_a"),
                        "images_b": tf.TensorSpec(images, tf.float32, name="images_b"),
                        "steps": tf.TensorSpec([], tf.int32, name="steps"),
                        "method": tf.TensorSpec([], tf.string, name="method")},
    }


def make_signatures(model) -> dict[str, tf.types.experimental.PolymorphicFunction]:
    """Traces the serving signatures of a built autoencoder.

    Args:
        model: an `acai_tf.models.Autoencoder` (restored weights, any strategy).

    Returns:
        {signature key: tf.function with an input signature, taking named tensors and
        returning a dict}. (Functions rather than their concrete functions: only those can be
        saved when they read distributed variables, as a VAE's sampling seed does.)
    """
    cfg = model.model_config
    image_shape, latent_shape = list(cfg.image_shape), list(cfg.latent_shape)
    specs = input_specs(cfg)

    def signature(key):
        # autograph off: the model code is plain graph code; converting Keras internals is slow.
        return tf.function(input_signature=list(specs[key].values()), autograph=False)

    @signature("encode")
    def encode(images):
        latent_map = model.encode(_checked(images, specs["encode"]["images"]))
        return {"latents": tf.reshape(latent_map, [-1, model.latent_dim]),
                "latent_map": latent_map}

    @signature("decode")
    def decode(latents):
        latents = _checked(latents, specs["decode"]["latents"])
        return {"images": model.decode(tf.reshape(latents, [-1, *latent_shape]))}

    @signature("reconstruct")
    def reconstruct(images):
        return {"images": model.reconstruct(_checked(images, specs["reconstruct"]["images"]))}

    @signature("interpolate")
    def interpolate(images_a, images_b, steps, method):
        spec = specs["interpolate"]
        images_a, images_b, steps, method = (
            _checked(tensor, spec[name]) for tensor, name in
            ((images_a, "images_a"), (images_b, "images_b"), (steps, "steps"), (method, "method")))
        spherical = tf.equal(method, "spherical")
        checks = [
            tf.debugging.assert_equal(
                tf.shape(images_a)[0], tf.shape(images_b)[0],
                message="images_a and images_b must hold the same number of images"),
            tf.debugging.assert_greater_equal(
                steps, 2, message="steps must be at least 2 (the endpoints are included)"),
            tf.debugging.assert_less_equal(
                steps, MAX_STEPS, message=f"steps must be at most {MAX_STEPS}"),
            tf.debugging.Assert(tf.logical_or(spherical, tf.equal(method, "linear")),
                                ["method must be linear or spherical, got", method]),
        ]
        # Nothing runs before the checks, so a bad request fails with their message.
        with tf.control_dependencies(checks):
            images_a, images_b, steps = (tf.identity(images_a), tf.identity(images_b),
                                         tf.identity(steps))
        # Two encoder calls, as the model's own `interpolate` (a VAE draws two samples).
        z_a, z_b = model.encode(images_a), model.encode(images_b)
        mixed = latent_mixing.interpolate_latents(z_a, z_b, steps, spherical)
        decoded = model.decode(tf.reshape(mixed, [-1, *latent_shape]))
        return {"images": tf.reshape(decoded, [-1, steps, *image_shape])}

    return {"serving_default": encode, "encode": encode, "decode": decode,
            "reconstruct": reconstruct, "interpolate": interpolate}


def save(model, config: ExperimentConfig, path: str) -> None:
    """Writes the SavedModel of `model` to `path`, with the config in `assets/config.json`.

    Args:
        model: the autoencoder; only the variables its signatures read are saved.
        config: the experiment config the model was trained with.
        path: directory to write (created if missing; should be empty).
    """
    signatures = make_signatures(model)
    servable = tf.Module(name="servable")
    captured = {}
    for function in signatures.values():
        captured.update({id(v): v for v in function.get_concrete_function().variables})
    # Tracked lists: the captured variables are the only state saved.
    servable.variables_used = sorted(captured.values(), key=lambda v: v.name)
    with tempfile.TemporaryDirectory() as scratch:
        config_file = os.path.join(scratch, CONFIG_ASSET)
        with open(config_file, "w", encoding="utf-8") as f:
            f.write(config.to_json())
        servable.config_file = tf.saved_model.Asset(config_file)
        # Serving needs no gradients; saving the custom conv gradients would double the work.
        options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
        tf.saved_model.save(servable, path, signatures=signatures, options=options)
