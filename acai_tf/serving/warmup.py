"""Warm-up requests that TF Serving replays when it loads a version, before serving traffic.

The file is `<version>/assets.extra/tf_serving_warmup_requests`: a TFRecord of `PredictionLog`
protos, one `PredictRequest` per signature with a small valid batch, so the first real request
does not pay for loading and initialising the graph. `check_request` validates a request against
a SignatureDef the way the server does (input names, dtypes, shapes).
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from acai_tf.serving import servable

ASSETS_EXTRA = "assets.extra"
WARMUP_FILE = "tf_serving_warmup_requests"


def example_inputs(model_config, batch: int = 2, seed: int = 0) -> dict[str, dict]:
    """A small valid batch for every signature.

    Args:
        model_config: the `ModelConfig` of the served model.
        batch: images (or latents) per request.
        seed: seed of the random values.

    Returns:
        {signature key: {input name: numpy value}}: images uniform in [-1, 1] float32
        [batch, S, S, C], latents standard normal float32 [batch, D], steps 4, method
        "spherical".
    """
    rng = np.random.default_rng(seed)
    inputs = {}
    for key, specs in servable.input_specs(model_config).items():
        values = {}
        for name, spec in specs.items():
            shape = [batch, *spec.shape[1:]]
            if name == "latents":
                values[name] = rng.standard_normal(shape).astype(np.float32)
            elif name.startswith("images"):
                values[name] = rng.uniform(-1.0, 1.0, shape).astype(np.float32)
            elif name == "steps":
                values[name] = np.int32(4)
            else:
                values[name] = np.array(b"spherical")
        inputs[key] = values
    return inputs


def predict_request(model_name: str, signature: str, inputs: dict) -> predict_pb2.PredictRequest:
    """A PredictRequest for `signature` of `model_name` carrying `inputs` {name: array}."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request


def check_request(request: predict_pb2.PredictRequest,
                  signature: meta_graph_pb2.SignatureDef) -> None:
    """Raises ValueError (one line) if `request` does not fit `signature`.

    Checks, as TF Serving does: the same input names, each input's dtype, and shapes of the same
    rank whose dimensions match wherever the signature fixes them (-1 is any size).
    """
    given, expected = set(request.inputs), set(signature.inputs)
    if given != expected:
        raise ValueError(f"signature {request.model_spec.signature_name!r} takes inputs "
                         f"{sorted(expected)}, the request has {sorted(given)}")
    for name, info in signature.inputs.items():
        tensor = request.inputs[name]
        if tensor.dtype != info.dtype:
            raise ValueError(f"input {name!r} must be {tf.dtypes.as_dtype(info.dtype).name}, got "
                             f"{tf.dtypes.as_dtype(tensor.dtype).name}")
        shape = [d.size for d in tensor.tensor_shape.dim]
        wanted = [d.size for d in info.tensor_shape.dim]
        if len(shape) != len(wanted) or any(w not in (-1, s) for s, w in zip(shape, wanted)):
            raise ValueError(f"input {name!r} must have shape {wanted} (-1: any), got {shape}")


def write(version_dir: str, requests: list[predict_pb2.PredictRequest]) -> str:
    """Writes `requests` as the warm-up file of a version directory; returns its path."""
    folder = os.path.join(version_dir, ASSETS_EXTRA)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, WARMUP_FILE)
    with tf.io.TFRecordWriter(path) as writer:
        for request in requests:
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path


def read(path: str) -> list[predict_pb2.PredictRequest]:
    """The PredictRequests of a warm-up file."""
    requests = []
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
        requests.append(prediction_log_pb2.PredictionLog.FromString(record).predict_log.request)
    return requests
