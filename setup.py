"""Installs the acai_tf library (the binaries under flags/ and export/ run from the repo root)."""
import setuptools

setuptools.setup(
    name="acai_tf",
    version="0.1.0",
    description="Adversarially constrained autoencoder interpolation (ACAI) in TensorFlow 2 / Keras 3.",
    packages=setuptools.find_packages(include=["acai_tf", "acai_tf.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow-cpu==2.21.0",
        "keras==3.15.1",
        "tensorflow-datasets==4.9.10",
        # tfds imports it without declaring it on Python >= 3.9 (tensorflow/datasets#11212).
        "importlib_resources>=6.0",
        "absl-py>=2.1",
        "tensorboard==2.21.0",
        "numpy>=1.26,<3",
        "scipy>=1.11",
        "scikit-learn>=1.4",
        "pillow>=10.0",
    ],
    extras_require={
        "gpu": ["tensorflow[and-cuda]==2.21.0"],
        "test": ["pytest>=8.0", "pytest-xdist>=3.5"],
    },
)
