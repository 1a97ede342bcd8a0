"""Installs the acai_tf library and console scripts for the binaries in flags/ and export/.

tensorflow-serving-api (client protos for the export's warm-up requests) declares a dependency
on the full `tensorflow` wheel, which would replace tensorflow-cpu; the Makefile installs it
with `--no-deps` next to this package.
"""
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
    entry_points={
        "console_scripts": [
            "acai-train = acai_tf.console:train",
            "acai-evaluate = acai_tf.console:evaluate",
            "acai-report = acai_tf.console:report",
            "acai-export = acai_tf.console:export",
            "acai-prepare-data = acai_tf.console:prepare_data",
            "acai-demo = acai_tf.console:demo",
        ],
    },
    extras_require={
        "gpu": ["tensorflow[and-cuda]==2.21.0"],
        "test": ["pytest>=8.0", "pytest-xdist>=3.5"],
    },
)
