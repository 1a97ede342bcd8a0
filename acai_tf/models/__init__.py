"""The paper's seven autoencoders, registered by name.

Importing this package registers every model; `build` makes one from a `ModelConfig`.
"""

from acai_tf.config import ModelConfig
from acai_tf.models import (aae, acai, baseline, denoising_ae, dropout_ae,  # noqa: F401
                            registry, vae, vqvae)
from acai_tf.speed.fused_adam import make_adam  # noqa: F401
from acai_tf.models.base import Autoencoder  # noqa: F401
from acai_tf.models.registry import get, names  # noqa: F401


def build(config: ModelConfig, seed: int = 0, precision: str = "float32") -> Autoencoder:
    """Builds (with variables) the model `config.name` describes; call in the strategy scope.

    `precision` ("float32", "mixed_bfloat16", "mixed_float16") is the Keras dtype policy of the
    conv networks; it is a property of training, not of the model's config.
    """
    return registry.get(config.name)(config, seed=seed, precision=precision)
