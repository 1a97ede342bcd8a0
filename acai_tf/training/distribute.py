"""Distribution strategies by name, and the rules a global batch must follow under them.

    auto          MirroredStrategy over all GPUs when there are any, else the default strategy
    default       the default (no-op) strategy: one device
    one_device    OneDeviceStrategy on the first GPU, else the CPU
    mirrored      MirroredStrategy over all local GPUs, else over all logical CPU devices
    multi_worker  MultiWorkerMirroredStrategy over the cluster that TF_CONFIG describes
    tpu           TPUStrategy over the TPU that TPUClusterResolver finds

The batch in a config is the global batch: Keras' fit() splits each batch of the distributed
dataset evenly over the replicas, so it must be a multiple of the replica count.

MultiWorkerMirroredStrategy configures collective ops for the whole process: create it before
any other TensorFlow op runs.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from acai_tf.config import ConfigError

STRATEGIES = ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu")


def get_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """Creates the strategy `name` (one of STRATEGIES).

    Raises:
        ConfigError: unknown name, multi_worker without TF_CONFIG, or tpu without a TPU.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
    if name == "multi_worker":
        _check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        return _tpu_strategy()
    # Listing devices initialises the TensorFlow context, hence after the two cases above.
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        return tf.distribute.MirroredStrategy() if gpus else tf.distribute.get_strategy()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    # Without GPUs, every logical CPU device (one unless configured otherwise) is a replica.
    devices = gpus or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])


def _check_tf_config() -> None:
    text = os.environ.get("TF_CONFIG", "")
    if not text:
        raise ConfigError("strategy 'multi_worker' needs the TF_CONFIG environment variable "
                          "describing the cluster and this task")
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"TF_CONFIG is not valid JSON: {error}") from None
    if not isinstance(spec, dict) or "cluster" not in spec or "task" not in spec:
        raise ConfigError("TF_CONFIG must hold 'cluster' and 'task' entries")


def _tpu_strategy() -> tf.distribute.Strategy:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    # The resolver reports a missing TPU with several exception types depending on where it
    # looked (ValueError, RuntimeError, NotFoundError); all mean the same to the user.
    except Exception as error:  # pylint: disable=broad-except
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ConfigError(f"strategy 'tpu' found no TPU: {first_line}") from None
    return tf.distribute.TPUStrategy(resolver)


def check_global_batch(strategy: tf.distribute.Strategy, batch: int) -> int:
    """Returns the per-replica batch; ConfigError unless `batch` splits evenly over replicas."""
    replicas = strategy.num_replicas_in_sync
    if batch % replicas:
        raise ConfigError(f"global batch {batch} is not divisible by the {replicas} replicas of "
                          f"the {type(strategy).__name__}")
    return batch // replicas


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's outputs (always, except non-chief workers)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type in (None, "chief"):
        return True
    # Without a "chief" job, worker 0 plays the chief (the TF_CONFIG convention).
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief


def worker_name(strategy: tf.distribute.Strategy) -> str:
    """A label for this process, e.g. "worker_1"; "chief" for single-process strategies."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return "chief"
    return f"{resolver.task_type}_{resolver.task_id}"
