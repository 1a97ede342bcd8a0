"""Installs the acai_tf library and its console scripts (acai-train, acai-evaluate, ...).

    pip install .            CPU (and the library, binaries and export: everything)
    pip install '.[gpu]'     the same TensorFlow wheel with NVIDIA's CUDA libraries
    pip install '.[benchmarks]'   what benchmarks/ needs beyond the library (matplotlib)

The TensorFlow dependency is the `tensorflow` wheel, not `tensorflow-cpu`: it runs on CPUs as
well, it is the wheel tensorflow-serving-api (the export's warm-up request protos) depends on,
and `tensorflow[and-cuda]` adds only CUDA libraries to it, so every install holds exactly one
TensorFlow (tensorflow-cpu beside tensorflow would overwrite each other's files).
"""
import setuptools

setuptools.setup(
    name="acai_tf",
    version="0.1.0",
    description="Adversarially constrained autoencoder interpolation (ACAI) in TensorFlow 2 / Keras 3.",
    packages=setuptools.find_packages(include=["acai_tf", "acai_tf.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow==2.21.0",
        "tensorflow-serving-api==2.21.0",
        "keras==3.15.1",
        "tensorflow-datasets==4.9.10",
        # tfds imports it without declaring it on Python >= 3.9 (tensorflow/datasets#11212).
        "importlib_resources>=6.0",
        "absl-py>=2.1",
        "tensorboard==2.21.0",
        "numpy>=1.26,<3",
        "scipy>=1.11",
        "scikit-learn>=1.4",
        # The linear probe limits BLAS and OpenMP threads with it; scikit-learn installs it too,
        # but the code imports it directly.
        "threadpoolctl>=3.1",
        "pillow>=10.0",
    ],
    entry_points={
        "console_scripts": [
            "acai-train = acai_tf.cli.train:run",
            "acai-evaluate = acai_tf.cli.evaluate:run",
            "acai-report = acai_tf.cli.report:run",
            "acai-export = acai_tf.cli.export:run",
            "acai-prepare-data = acai_tf.cli.prepare_data:run",
            "acai-demo = acai_tf.cli.demo:run",
        ],
    },
    extras_require={
        "gpu": ["tensorflow[and-cuda]==2.21.0"],
        # benchmarks/lines_curves.py draws the learning curves (acai_tf.reproduction.curves imports
        # it when drawing); the tests run it.
        "benchmarks": ["matplotlib>=3.8"],
        "test": ["pytest>=8.0", "pytest-xdist>=3.5", "matplotlib>=3.8"],
    },
)
