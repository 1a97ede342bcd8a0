"""The conv networks: the reference's parameter counts, initialiser, slope and shapes."""

import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from acai_tf.models import networks
from acai_tf.config import scales_for

# (colors, depth, latent, latent_width) -> (encoder = critic params, decoder params); spec §3.1.
REFERENCE_COUNTS = {
    "lines32": ((1, 16, 16, 2), (627_472, 313_985)),
    "mnist32_latent2": ((1, 16, 2, 4), (150_146, 75_265)),
    "mnist32_latent16": ((1, 16, 16, 4), (166_288, 83_329)),
    "svhn32_latent16": ((3, 64, 16, 4), (2_434_704, 1_219_203)),
    "cifar10_latent64": ((3, 64, 64, 4), (2_655_936, 1_329_795)),
}


@pytest.mark.parametrize("name", sorted(REFERENCE_COUNTS))
def test_parameter_counts_match_reference(name):
    (colors, depth, latent, width), (enc_count, dec_count) = REFERENCE_COUNTS[name]
    scales = scales_for(32, width)
    assert networks.make_encoder(32, colors, depth, latent, scales).count_params() == enc_count
    assert networks.make_decoder(width, latent, depth, colors, scales).count_params() == dec_count
    assert networks.make_critic(32, colors, depth, latent, scales).count_params() == enc_count


def test_shapes():
    encoder = networks.make_encoder(32, 3, 4, 5, 3)
    decoder = networks.make_decoder(4, 5, 4, 3, 3)
    critic = networks.make_critic(32, 3, 4, 5, 3)
    images = np.zeros((2, 32, 32, 3), np.float32)
    assert encoder(images).shape == (2, 4, 4, 5)
    assert decoder(np.zeros((2, 4, 4, 5), np.float32)).shape == (2, 32, 32, 3)
    assert critic(images).shape == (2,)


def test_initialiser_is_untruncated_normal_with_reference_std():
    kernel = networks.he_modified_normal(0.2, seed=0)((3, 3, 64, 128)).numpy()
    expected_std = 1.0 / np.sqrt((1 + 0.2**2) * 3 * 3 * 64)
    assert abs(kernel.std() / expected_std - 1) < 0.01
    assert abs(kernel.mean()) < 0.01 * expected_std * 10
    # A truncated normal (Keras HeNormal) never exceeds 2 std; 73,728 plain draws do.
    assert np.abs(kernel).max() > 3 * expected_std


def _formula_kernel(shape, seed):
    """The reference's formula drawn directly, as the project drew it before VarianceScaling:
    keras.random.normal with std 1 / sqrt((1 + 0.2**2) * fan_in), fan_in = kh * kw * c_in."""
    fan_in = shape[0] * shape[1] * shape[2]
    return keras.random.normal(shape, stddev=1.0 / np.sqrt((1.0 + 0.2**2) * fan_in),
                               seed=seed)


def test_variance_scaling_std_is_the_formula_in_float32_for_every_fan_in():
    # keras.random.normal scales float32 draws by the std as float32: equal float32 stds give
    # equal kernels. VarianceScaling's std is sqrt(scale / fan_in), the formula's
    # 1 / sqrt(1.04 * fan_in); they may differ in float64 but must round alike.
    fan_in = np.arange(1, 40_000, dtype=np.float64)
    formula = 1.0 / np.sqrt((1.0 + 0.2**2) * fan_in)
    variance_scaling = np.sqrt(networks.he_modified_normal(0.2).scale / fan_in)
    np.testing.assert_array_equal(formula.astype(np.float32),
                                  variance_scaling.astype(np.float32))


@pytest.mark.parametrize("name", ["lines32", "mnist32_latent2", "svhn32_latent16"])
def test_networks_kernels_are_the_formula_bit_for_bit(name):
    (colors, depth, latent, width), _ = REFERENCE_COUNTS[name]
    scales = scales_for(32, width)
    networks_ = [networks.make_encoder(32, colors, depth, latent, scales, seed=3),
                 networks.make_decoder(width, latent, depth, colors, scales, seed=3),
                 networks.make_critic(32, colors, depth, latent, scales, seed=3).layers[0]]
    compared = 0
    for network in networks_:
        for layer in network.layers:
            if hasattr(layer, "kernel"):
                expected = _formula_kernel(tuple(layer.kernel.shape),
                                           networks.layer_seed(3, f"{network.name}/{layer.name}"))
                assert layer.kernel.numpy().tobytes() == np.asarray(expected).tobytes(), (
                    f"{network.name}/{layer.name}")
                compared += 1
    assert compared == 3 * (2 * scales + 3) - 1   # encoder and critic 2s + 3, decoder 2s + 2


def test_biases_zero_and_hidden_slope_is_0_2():
    encoder = networks.make_encoder(32, 1, 4, 2, 3)
    convs = [layer for layer in encoder.layers if hasattr(layer, "kernel")]
    assert all(np.all(layer.bias.numpy() == 0) for layer in convs)
    hidden = convs[1]  # a 3x3 conv with leaky ReLU
    assert hidden.activation(tf.constant([-10.0])).numpy()[0] == pytest.approx(-2.0)
    assert convs[0].activation(tf.constant([-10.0])).numpy()[0] == -10.0  # 1x1 input: linear
    assert convs[-1].activation(tf.constant([-10.0])).numpy()[0] == -10.0  # latent: linear


def test_box_downscale_and_nearest_upscale():
    encoder = networks.make_encoder(32, 1, 4, 2, 3)
    decoder = networks.make_decoder(4, 2, 4, 1, 3)
    assert [type(l).__name__ for l in encoder.layers].count("AveragePooling2D") == 3
    ups = [l for l in decoder.layers if type(l).__name__ == "UpSampling2D"]
    assert len(ups) == 3 and all(l.interpolation == "nearest" for l in ups)


def test_seeded_networks_are_a_function_of_the_seed_alone():
    def weights(seed):
        return [w.copy() for w in networks.make_encoder(32, 1, 4, 2, 3, seed=seed).get_weights()]

    first, again, other = weights(7), weights(7), weights(8)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert all(not np.array_equal(a, b) for a, b in zip(first[::2], other[::2]))  # kernels
    # Every layer draws its own numbers: no two same-shaped kernels are equal.
    kernels = [w for w in first if w.ndim == 4]
    assert len({k.tobytes() for k in kernels}) == len(kernels)


def test_layer_seeds_differ_by_path_and_seed():
    seeds = {networks.layer_seed(s, p) for s in (0, 1) for p in ("encoder/in", "decoder/in")}
    assert len(seeds) == 4 and all(0 <= s < 2**31 for s in seeds)
    assert networks.layer_seed(None, "encoder/in") is None


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
