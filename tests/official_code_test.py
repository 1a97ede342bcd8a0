"""benchmarks/official/official_reference.py and official_loader.py (with tf1_shims.py) on a
stand-in official checkout.

CI has no copy of the official code (brain-research/acai) and no network, so these tests write a
tiny checkout of their own with the same interfaces and the same TF1 / Python 2 habits the
loader fixes: `import tensorflow as tf` used as TF1 (placeholders, tf.layers, tf.losses,
tf.train.AdamOptimizer), absl flags defined by lib/train.py at import, $AE_DATA read at import,
a top-level `import data`, `xrange`, `dict(True=..., False=...)` and `initialized_value()`.
The real checkout is exercised by the long runs (results/official_reference.md).
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from absl import flags

from acai_tf.training import metrics_log
from acai_tf.cli import flag_defs

OFFICIAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks", "official")
sys.path.insert(0, OFFICIAL)
import official_loader  # noqa: E402  pylint: disable=wrong-import-position
import official_reference  # noqa: E402  pylint: disable=wrong-import-position

STAND_IN = {
    "lib/__init__.py": "",
    "lib/data.py": """
        import os
        DATA_DIR = os.environ['AE_DATA']
        """,
    "lib/utils.py": """
        import data
        def parse(value):
            return dict(True=True, False=False)[value]
        """,
    "lib/layers.py": """
        import tensorflow as tf

        def encoder(x, scales, depth, latent, scope):
            with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):
                y = tf.layers.conv2d(x, depth, 1, padding='same')
                for scale in xrange(scales):
                    y = tf.layers.conv2d(y, depth, 3, padding='same',
                                         activation=tf.nn.leaky_relu)
                    y = tf.nn.avg_pool(y, [1, 2, 2, 1], [1, 2, 2, 1], 'VALID')
                return tf.layers.conv2d(y, latent, 3, padding='same')

        def decoder(h, scales, depth, colors, scope):
            with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):
                y = h
                for scale in xrange(scales):
                    y = tf.layers.conv2d(y, depth, 3, padding='same',
                                         activation=tf.nn.leaky_relu)
                    size = tf.shape(y)[1] * 2
                    y = tf.image.resize_nearest_neighbor(y, [size, size])
                return tf.layers.conv2d(y, colors, 3, padding='same')
        """,
    "lib/train.py": """
        from absl import flags
        from lib import utils
        import tensorflow as tf
        flags.DEFINE_float('lr', 0.0001, 'Learning rate.')
        flags.DEFINE_integer('batch', 64, 'Batch size.')
        FLAGS = flags.FLAGS

        class AEOps(object):
            def __init__(self, x, h, label, encode, decode, ae, train_op,
                         classify_latent=None):
                self.x, self.h, self.label = x, h, label
                self.encode, self.decode, self.ae = encode, decode, ae
                self.train_op = train_op

        class AE(object):
            def __init__(self, dataset, train_dir, **kwargs):
                assert utils.parse('True')
                self.height, self.width = dataset.height, dataset.width
                self.colors, self.nclass = dataset.colors, dataset.nclass
        """,
    "acai.py": """
        from absl import flags
        import tensorflow as tf
        from lib import layers, train
        FLAGS = flags.FLAGS

        class ACAI(train.AE):
            def model(self, latent, depth, scales, advweight, advdepth, reg):
                x = tf.placeholder(tf.float32, [None, self.height, self.width, self.colors])
                l = tf.placeholder(tf.float32, [None, self.nclass])
                h = tf.placeholder(tf.float32, [None, self.height >> scales,
                                                self.width >> scales, latent])
                gain = tf.get_variable('gain', [], initializer=tf.ones_initializer())
                gain_copy = tf.get_variable('gain_copy', initializer=gain.initialized_value())
                encode = layers.encoder(x, scales, depth, latent, 'ae_enc') * gain_copy
                decode = layers.decoder(h, scales, depth, self.colors, 'ae_dec')
                ae = layers.decoder(encode, scales, depth, self.colors, 'ae_dec')
                loss = tf.losses.mean_squared_error(x, ae)
                train_op = tf.train.AdamOptimizer(FLAGS.lr).minimize(
                    loss, tf.train.get_global_step())
                return train.AEOps(x, h, l, encode, decode, ae, train_op)
        """,
}
TINY = (("depth", 4), ("latent", 2))


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "acai"
    for name, text in STAND_IN.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return str(root)


def request(checkout, workdir, **changes):
    values = {"reference_dir": checkout, "model": "acai", "train_kimg": 0.5, "report_kimg": 0.25,
              "workdir": str(workdir), "overrides": TINY, "eval_pairs": 8, **changes}
    return official_reference.Request(**values)


def test_trains_resumes_and_logs_our_metrics(checkout, tmp_path):
    # This project's flags (--lr among them) defined in the process, as by any binary or by an
    # earlier test of the same process: the official code's flags must not collide with them.
    if "lr" not in flags.FLAGS:
        flag_defs.define_flags(flags.FLAGS)
    our_lr = flags.FLAGS["lr"].default
    before = sorted(os.walk(checkout))
    summary = official_reference.train(request(checkout, tmp_path / "run"), log=lambda _: None)
    assert summary == {"step": 8, "kimg": 0.5, "resumed_from": 0}
    records = metrics_log.read(str(tmp_path / "run"))
    assert [r["kimg"] for r in records] == [0.25, 0.5]
    for record in records:
        assert 0 < record["losses/reconstruction"] < 4  # an MSE of images in [-1, 1]
        assert np.isfinite(record["eval/mean_distance"]) and record["eval/mean_distance"] > 0
        assert {"eval/mean_smoothness", "eval/long_way_fraction",
                "monitors/images_per_second"} <= set(record)
    # The checkout is read, never written (no bytecode caches either).
    assert sorted(os.walk(checkout)) == before

    # A longer budget resumes from the checkpoint: one more report, no step twice.
    summary = official_reference.train(request(checkout, tmp_path / "run", train_kimg=0.75),
                                       log=lambda _: None)
    assert summary == {"step": 12, "kimg": 0.75, "resumed_from": 8}
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [4, 8, 12]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert [start["from_step"] for start in config["runs"]] == [0, 8]
    assert config["model"] == {"name": "acai", "latent": 2, "depth": 4, "scales": 4,
                               "advweight": 0.5, "advdepth": 4, "reg": 0.2, "lr": 0.0001}
    assert config["reference"]["commit"] == "unknown"  # not a git checkout
    assert config["train"]["train_kimg"] == 0.75
    assert flags.FLAGS["lr"].default == our_lr  # ours untouched


def test_the_paper_flags_become_the_official_arguments(checkout):
    config = official_reference.reproduce_cli.paper_config("lines32", "aae", 16, 0, {})

    class AAE:  # the official signature
        def model(self, latent, depth, scales, adversary_lr, disc_layer_sizes):
            pass

    assert official_loader.official_params(config, AAE) == {
        "latent": 16, "depth": 16, "scales": 4, "adversary_lr": 1e-4,
        "disc_layer_sizes": "100,100"}


def test_bad_requests_fail_in_one_line_and_write_nothing(checkout, tmp_path):
    official_reference.train(request(checkout, tmp_path / "run", train_kimg=0.25),
                             log=lambda _: None)
    held = sorted(os.listdir(tmp_path / "run"))
    with pytest.raises(official_reference.ConfigError, match="holds the official acai run of "
                                                            "seed 0 with other parameters"):
        official_reference.train(request(checkout, tmp_path / "run", seed=0,
                                         overrides=(("depth", 8), ("latent", 2))))
    assert sorted(os.listdir(tmp_path / "run")) == held
    # Reports without a checkpoint (lost): resuming would splice a new run onto them.
    shutil.rmtree(tmp_path / "run" / "ckpt")
    with pytest.raises(official_reference.ConfigError, match="reports but no checkpoint"):
        official_reference.train(request(checkout, tmp_path / "run", train_kimg=0.5))
    assert len(metrics_log.read(str(tmp_path / "run"))) == 1
    with pytest.raises(official_loader.OfficialCodeError, match="unknown model 'nope'"):
        official_loader.load(checkout, "nope")

    command = [sys.executable, os.path.join(OFFICIAL, "official_reference.py"),
               f"--reference_dir={tmp_path / 'nowhere'}", f"--workdir={tmp_path / 'new'}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nowhere'} is not a checkout of the official ACAI code "
        f"(brain-research/acai): {tmp_path / 'nowhere' / 'lib' / 'train.py'} is missing"]
    assert not (tmp_path / "new").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
