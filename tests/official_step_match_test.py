"""benchmarks/official/official_step_match.py on stand-in official checkouts.

CI has no copy of the official code, so each test writes a tiny checkout whose baseline is built
the way the official TF1 code builds one (tf.layers convolutions under variable scopes,
tf.losses.mean_squared_error, tf.train.AdamOptimizer) with our network's architecture: once
with the official step, once with a step that differs from ours (twice the learning rate),
which the comparison must expose. The real checkout's rows are results/official_step_match_*.md.
"""

import os
import subprocess
import sys
import textwrap

import pytest

OFFICIAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks", "official")
sys.path.insert(0, OFFICIAL)
import official_step_match  # noqa: E402  pylint: disable=wrong-import-position

LAYERS = """
    import tensorflow as tf

    def _conv(y, filters, kernel, activation=None):
        return tf.layers.conv2d(y, filters, kernel, padding='same', activation=activation)

    def encoder(x, scales, depth, latent, scope):
        with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):
            y = _conv(x, depth, 1)
            for scale in range(scales):
                y = _conv(y, depth << scale, 3, tf.nn.leaky_relu)
                y = _conv(y, depth << scale, 3, tf.nn.leaky_relu)
                y = tf.nn.avg_pool(y, [1, 2, 2, 1], [1, 2, 2, 1], 'VALID')
            y = _conv(y, depth << scales, 3, tf.nn.leaky_relu)
            return _conv(y, latent, 3)

    def decoder(h, scales, depth, colors, scope):
        with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):
            y = h
            for scale in range(scales - 1, -1, -1):
                y = _conv(y, depth << scale, 3, tf.nn.leaky_relu)
                y = _conv(y, depth << scale, 3, tf.nn.leaky_relu)
                size = int(y.shape[1]) * 2
                y = tf.image.resize_nearest_neighbor(y, [size, size])
            y = _conv(y, depth, 3, tf.nn.leaky_relu)
            return _conv(y, colors, 3)
    """
TRAIN = """
    from absl import flags
    flags.DEFINE_float('lr', 0.0001, 'Learning rate.')
    flags.DEFINE_integer('batch', 64, 'Batch size.')

    class AEOps(object):
        def __init__(self, x, h, label, encode, decode, ae, train_op):
            self.x, self.h, self.label = x, h, label
            self.encode, self.decode, self.ae, self.train_op = encode, decode, ae, train_op

    class AE(object):
        def __init__(self, dataset, train_dir, **kwargs):
            self.height, self.width = dataset.height, dataset.width
            self.colors, self.nclass = dataset.colors, dataset.nclass
    """
BASELINE = """
    from absl import flags
    import tensorflow as tf
    from lib import layers, train
    FLAGS = flags.FLAGS

    class AEBaseline(train.AE):
        def model(self, latent, depth, scales):
            x = tf.placeholder(tf.float32, [None, self.height, self.width, self.colors])
            l = tf.placeholder(tf.float32, [None, self.nclass])
            h = tf.placeholder(tf.float32, [None, self.height >> scales,
                                            self.width >> scales, latent])
            encode = layers.encoder(x, scales, depth, latent, 'ae_encoder')
            decode = layers.decoder(h, scales, depth, self.colors, 'ae_decoder')
            ae = layers.decoder(encode, scales, depth, self.colors, 'ae_decoder')
            loss = tf.losses.mean_squared_error(x, ae)
            train_op = tf.train.AdamOptimizer(FLAGS.lr * LR_FACTOR).minimize(
                loss, tf.train.get_global_step())
            return train.AEOps(x, h, l, encode, decode, ae, train_op)
    """
TINY = (("depth", 4), ("latent", 2))


def write_checkout(root, lr_factor):
    files = {"lib/__init__.py": "", "lib/layers.py": LAYERS, "lib/train.py": TRAIN,
             "baseline.py": BASELINE.replace("LR_FACTOR", str(lr_factor))}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return str(root)


def test_the_same_step_matches_to_rounding(tmp_path):
    checkout = write_checkout(tmp_path / "acai", 1)
    rows = official_step_match.match(checkout, "baseline", 4, overrides=TINY,
                                     log=lambda _: None)
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    for row in rows:
        assert 0 < row["official_mse"] < 4  # an MSE of images in [-1, 1]
        assert row["mse_gap"] < 1e-4
        # Apart by no more than a perturbation of a few ulps puts one copy of our code.
        assert row["weight_gap"] < 0.05
        assert row["weight_gap"] <= 10 * max(row["control_gap"], 1e-4)
    page = official_step_match.markdown(rows, "baseline", checkout)
    assert page.count("\n| ") == 1 + 4  # header and one row per step


def test_a_different_step_is_exposed(tmp_path):
    checkout = write_checkout(tmp_path / "acai", 2)
    rows = official_step_match.match(checkout, "baseline", 4, overrides=TINY,
                                     log=lambda _: None)
    assert rows[0]["mse_gap"] < 1e-5  # same weights, same batch: the first loss agrees
    for row in rows:
        # Twice the Adam step: the official weights moved about twice as far as ours (gap 1/2).
        assert 0.4 < row["weight_gap"] < 0.8
        assert row["control_gap"] < 0.05


def test_bad_requests_fail_in_one_line(tmp_path):
    checkout = write_checkout(tmp_path / "acai", 1)
    command = [sys.executable, os.path.join(OFFICIAL, "official_step_match.py"),
               f"--reference_dir={checkout}", "--model=acai", "--steps=1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: --model=acai draws random numbers in its step; only baseline, vqvae can be "
        "matched step by step"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
