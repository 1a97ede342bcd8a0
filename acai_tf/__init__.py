"""ACAI and the paper's baseline autoencoders in TensorFlow 2 / Keras 3."""

__version__ = "0.1.0"
