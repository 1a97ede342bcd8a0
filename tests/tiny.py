"""The tests' one definition of a tiny run: model and experiment configs, flags, line batches.

Every test that builds, trains, evaluates or exports a model needs a network small enough to run
in seconds on two CPU cores. The tiny model is depth 4 with 2 latent channels on a 4x4 latent
map (32 latent dimensions); a test that depends on a value (depth 8, a codebook size, a longer
run) passes it as an override, so the value it is about stays visible in the test.

Test files import this module as `import tiny`: pytest puts tests/ on sys.path (tests/ is not a
package), and Bazel lists it in every test's deps with tests/ as an import path. TensorFlow and
acai_tf are imported inside the functions: distribute_test's subprocess imports this module
before it configures its logical devices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from acai_tf.config import ExperimentConfig, ModelConfig
    from acai_tf.evaluation.training_eval import EvalSettings

# The VQ-VAE's default codebook (2^14 codes) and post-quantisation MLP (512 wide) would dominate
# a depth-4 network's cost.
HPARAMS = {"vqvae": {"z_log_size": 6, "filter_size": 16}}

# The tiny model as train-binary flags (--model and --dataset keep their defaults unless given).
MODEL_FLAGS = ("--depth=4", "--latent=2", "--latent_width=4")

# The exports' tiny models keep the default 2x2 latent map and the default MLP width.
EXPORT_HPARAMS = {"vqvae": {"z_log_size": 6}}


def model_config(name: str = "acai", **overrides: Any) -> ModelConfig:
    """The tiny `ModelConfig` of model `name`; keyword overrides replace any field (hparams too).

    32x32x1 images, 10 classes, learning rate 1e-4 unless overridden.
    """
    from acai_tf.config import ModelConfig  # pylint: disable=import-outside-toplevel

    fields = {"name": name, "depth": 4, "latent": 2, "latent_width": 4,
              "hparams": HPARAMS.get(name, {})}
    fields.update(overrides)
    return ModelConfig(**fields)


def experiment(model: ModelConfig | str = "acai", **train: Any) -> ExperimentConfig:
    """A tiny model (a name or a `ModelConfig`) on lines32: batch 16, 0.25 kimg (16 steps),
    a report every 0.125 kimg; keyword arguments replace `TrainConfig` fields."""
    # pylint: disable=import-outside-toplevel
    from acai_tf.config import ExperimentConfig, TrainConfig

    if isinstance(model, str):
        model = model_config(model)
    fields = {"dataset": "lines32", "batch": 16, "train_kimg": 0.25, "report_kimg": 0.125}
    fields.update(train)
    return ExperimentConfig(model=model, train=TrainConfig(**fields))


def export_experiment(name: str = "acai", hparams: dict[str, Any] | None = None,
                      **train: Any) -> ExperimentConfig:
    """The export tests' tiny run: depth 4, 2 latent channels on the default 2x2 latent map,
    batch 8, other `TrainConfig` fields at their defaults unless given as keywords."""
    # pylint: disable=import-outside-toplevel
    from acai_tf.config import ExperimentConfig, TrainConfig

    model = model_config(name, latent_width=2,
                         hparams={**EXPORT_HPARAMS.get(name, {}), **(hparams or {})})
    return ExperimentConfig(model=model, train=TrainConfig(**{"batch": 8, **train}))


def eval_settings(**overrides: Any) -> EvalSettings:
    """Small in-training evaluations: 16 lines interpolations, 64 test examples for the latent
    accuracy, 4-row grids of 2 pairs in 4 steps, 4x4 samples, batches of 16."""
    # pylint: disable-next=import-outside-toplevel
    from acai_tf.evaluation.training_eval import EvalSettings

    fields = {"lines_pairs": 16, "accuracy_examples": 64, "grid_rows": 4, "pairs_per_row": 2,
              "grid_steps": 4, "samples_side": 4, "batch": 16}
    fields.update(overrides)
    return EvalSettings(**fields)


def lines_batch(size: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """A batch of lines32 examples at uniformly drawn angles.

    Returns:
        {"image": float32 [size, 32, 32, 1] in [-1, 1], "label": int64 [size] in [0, 10)}.
    """
    from acai_tf import lines  # pylint: disable=import-outside-toplevel

    angles = lines.uniform_angles(size, seed)
    return {"image": lines.render_lines(angles), "label": lines.angle_labels(angles)}
