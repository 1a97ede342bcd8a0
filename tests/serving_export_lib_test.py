"""End-to-end export tests: workdir checkpoint -> versioned SavedModel -> a TensorFlow-only process.

Every model is exported from a checkpoint whose weights differ from a fresh build, then served
by a separate Python process that imports TensorFlow and the TF Serving protos but not acai_tf,
in the two ways a server can run a SavedModel: the loaded signatures, and a session fed through
the SignatureDef tensor names (TF Serving's way). Both must match the Keras model. The process
also replays the export's warm-up requests and requests built from the SignatureDefs, and is
sent malformed inputs, each of which must fail with a clear InvalidArgumentError.
"""

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from acai_tf import models
from acai_tf.outputs import workdir
from acai_tf.config import ExperimentConfig
from acai_tf.serving import export_lib, warmup

import python_process
import tiny

# Not resolved: under Bazel this is the runfiles tree, which holds export/ and acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]
ATOL = 1e-5
STEP = 7
# Besides encoder/ and decoder/, what each model's encode/decode read.
EXTRA_VARIABLES = {"vae": ("latent_mean/", "latent_log_variance/", "sample_seed/"),
                   "vqvae": ("project/", "quantizer/codebook", "expand/", "restore/")}


def make_workdir(path: Path, name: str) -> ExperimentConfig:
    """A workdir with config.json and a checkpoint (model and optimizers) at step STEP."""
    config = tiny.export_experiment(name)
    path.mkdir(parents=True)
    (path / "config.json").write_text(config.to_json())
    model = models.build(config.model, seed=config.train.seed)
    model.compile()
    # Off the initial values, so that an export that failed to restore could not match.
    rng = np.random.default_rng(1)
    for variable in model.weights:
        if variable.dtype == "float32":
            variable.assign(variable + 0.05 * rng.standard_normal(variable.shape))
    checkpoint = tf.train.Checkpoint(**model.checkpoint_items())
    workdir.checkpoint_manager(str(path), checkpoint).save(checkpoint_number=STEP)
    return config


def _calls(latent_dim: int) -> list[tuple[str, dict]]:
    """Valid requests, in the order both sides make them (a VAE samples at each encode)."""
    rng = np.random.default_rng(3)
    x, y = (rng.uniform(-1, 1, (3, 32, 32, 1)).astype(np.float32) for _ in range(2))
    latents = rng.standard_normal((3, latent_dim)).astype(np.float32)
    interpolate = {"images_a": x, "images_b": y}
    return [("encode", {"images": x}), ("serving_default", {"images": x}),
            ("decode", {"latents": latents}), ("reconstruct", {"images": x}),
            ("interpolate", {**interpolate, "steps": np.int32(2), "method": np.array(b"linear")}),
            ("interpolate", {**interpolate, "steps": np.int32(5),
                             "method": np.array(b"spherical")}),
            ("reconstruct", {"images": 50.0 * x})]  # Far outside [-1, 1]: served as it is.


def _keras_outputs(model, signature: str, inputs: dict) -> dict:
    if signature in ("encode", "serving_default"):
        latent_map = model.encode(inputs["images"]).numpy()
        return {"latent_map": latent_map, "latents": latent_map.reshape(len(latent_map), -1)}
    if signature == "decode":
        latents = inputs["latents"].reshape((-1,) + model.model_config.latent_shape)
        return {"images": model.decode(latents).numpy()}
    if signature == "reconstruct":
        return {"images": model.reconstruct(inputs["images"]).numpy()}
    return {"images": model.interpolate(inputs["images_a"], inputs["images_b"],
                                        int(inputs["steps"]),
                                        np.asarray(inputs["method"]).item().decode())}


# Malformed requests: (signature, inputs, what the InvalidArgumentError must say).
def _bad_requests(latent_dim: int) -> dict[str, tuple[str, dict, str]]:
    x = np.random.default_rng(4).uniform(-1, 1, (3, 32, 32, 1)).astype(np.float32)
    nan = x.copy()
    nan[0, 1, 2, 0] = np.nan
    pair = {"images_a": x, "images_b": x, "steps": np.int32(4), "method": np.array(b"linear")}
    shape = "is not compatible with expected shape"
    return {
        "rank": ("encode", {"images": x[0]}, shape),
        "size": ("reconstruct", {"images": np.zeros((2, 28, 28, 1), np.float32)}, shape),
        "dtype": ("encode", {"images": np.zeros((2, 32, 32, 1), np.int32)},
                  "expected to be a float tensor but is a int32 tensor"),
        "nan": ("encode", {"images": nan}, "images must be finite (no NaN or Inf)"),
        "latent_size": ("decode", {"latents": np.zeros((2, latent_dim + 1), np.float32)}, shape),
        "inf_latents": ("decode", {"latents": np.full((2, latent_dim), np.inf, np.float32)},
                        "latents must be finite"),
        "steps": ("interpolate", {**pair, "steps": np.int32(1)}, "steps must be at least 2"),
        "method": ("interpolate", {**pair, "method": np.array(b"cubic")},
                   "method must be linear or spherical, got] [cubic]"),
        "batch": ("interpolate", {**pair, "images_b": x[:2]}, "same number of images"),
    }


def _requests_from_signatures(path: str, model_name: str, out: Path) -> str:
    """PredictRequests built from the SignatureDefs alone, checked and written as a TFRecord."""
    signatures = export_lib.read_signatures(path)
    rng = np.random.default_rng(5)
    requests = []
    for key, signature in sorted(signatures.items()):
        if key.startswith("__"):  # __saved_model_init_op, not a servable signature.
            continue
        inputs = {}
        for name, info in signature.inputs.items():
            shape = [2 if d.size == -1 else d.size for d in info.tensor_shape.dim]
            dtype = tf.dtypes.as_dtype(info.dtype)
            if dtype == tf.float32:
                inputs[name] = rng.uniform(-1, 1, shape).astype(np.float32)
            elif dtype == tf.int32:
                inputs[name] = np.full(shape, 3, np.int32)
            else:
                inputs[name] = np.full(shape, b"linear", object)
        request = warmup.predict_request(model_name, key, inputs)
        warmup.check_request(request, signature)
        requests.append(request)
    assert len(requests) == 5
    return warmup.write(str(out), requests)


FRESH_PROCESS = r'''
import json, sys
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

def unpack(npz, prefix):
    return {k[len(prefix):]: npz[k] for k in npz.files if k.startswith(prefix)}

def attempt(function):
    try:
        function()
        return None
    except Exception as error:  # Recorded for the test: the process must carry on.
        return [type(error).__name__, str(error)]

plan = json.load(open(sys.argv[1]))
report = {"imported": sorted(m for m in ("acai_tf", "export") if m in sys.modules)}
for name, job in plan.items():
    npz = np.load(job["inputs"])
    calls = [(sig, unpack(npz, f"{i}/")) for i, sig in enumerate(job["calls"])]
    bad = [(case, sig, unpack(npz, f"bad/{case}/")) for case, sig in job["bad"].items()]
    outputs, result = {}, {"errors_a": {}, "errors_b": {}, "replayed": []}
    # The TF2 way: loaded signatures, fed tensors as a server would (no Python-side checks).
    loaded = tf.saved_model.load(job["path"])
    result["variables"] = sorted(v.name for v in loaded.variables_used)
    def call(sig, values):
        return loaded.signatures[sig](**{k: tf.constant(v) for k, v in values.items()})
    for i, (sig, values) in enumerate(calls):
        outputs.update({f"a/{i}/{k}": v.numpy() for k, v in call(sig, values).items()})
    for case, sig, values in bad:
        result["errors_a"][case] = attempt(lambda: call(sig, values))
    requests = [(file, prediction_log_pb2.PredictionLog.FromString(record).predict_log.request)
                for file in job["replay"]
                for record in tf.data.TFRecordDataset(file).as_numpy_iterator()]
    # TF Serving's way: a session fed and fetched by the SignatureDef's tensor names.
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], job["path"])
        def run(sig, values):
            signature = meta.signature_def[sig]
            assert set(values) == set(signature.inputs), (sig, sorted(values))
            return sess.run({k: t.name for k, t in signature.outputs.items()},
                            {signature.inputs[k].name: v for k, v in values.items()})
        for i, (sig, values) in enumerate(calls):
            outputs.update({f"b/{i}/{k}": v for k, v in run(sig, values).items()})
        for case, sig, values in bad:
            result["errors_b"][case] = attempt(lambda: run(sig, values))
        for file, request in requests:
            sig = request.model_spec.signature_name
            out = run(sig, {k: tf.make_ndarray(t) for k, t in request.inputs.items()})
            result["replayed"].append([file, sig, {
                k: [list(v.shape), bool(np.isfinite(v).all())] for k, v in out.items()}])
    np.savez(job["outputs"], **outputs)
    report[name] = result
with open(sys.argv[2], "w") as f:
    json.dump(report, f)
'''


def run_fresh_process(plan: dict, tmp: Path) -> dict:
    """Runs FRESH_PROCESS on `plan`; returns its report."""
    (tmp / "plan.json").write_text(json.dumps(plan))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(tmp / "plan.json"), str(tmp / "report.json")],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((tmp / "report.json").read_text())


def _export_and_serve(root: Path) -> None:
    """Exports every model into `root/models`, then serves them all in one fresh process.

    Writes `<model>_expected.npz` (the Keras outputs, `<call>/<output>`), `<model>_outputs.npz`
    (the served ones, `<a|b>/<call>/<output>`) and, last, `report.json`.
    """
    plan = {}
    for name in models.names():
        make_workdir(root / f"workdir_{name}", name)
        result = export_lib.export(str(root / f"workdir_{name}"), str(root / "models"))
        assert (result.path, result.step) == (str(root / "models" / name / "1"), STEP)
        model, _, _, _ = workdir.restore_model(str(root / f"workdir_{name}"))
        calls, bad = _calls(model.latent_dim), _bad_requests(model.latent_dim)
        arrays = {f"{i}/{key}": value for i, (_, inputs) in enumerate(calls)
                  for key, value in inputs.items()}
        arrays.update({f"bad/{case}/{key}": value for case, (_, inputs, _) in bad.items()
                       for key, value in inputs.items()})
        np.savez(root / f"{name}_inputs.npz", **arrays)
        np.savez(root / f"{name}_expected.npz", **{
            f"{i}/{key}": value for i, (sig, inputs) in enumerate(calls)
            for key, value in _keras_outputs(model, sig, inputs).items()})
        replay = [os.path.join(result.path, warmup.ASSETS_EXTRA, warmup.WARMUP_FILE),
                  _requests_from_signatures(result.path, name, root / f"{name}_requests")]
        plan[name] = {"path": result.path, "inputs": str(root / f"{name}_inputs.npz"),
                      "outputs": str(root / f"{name}_outputs.npz"), "replay": replay,
                      "calls": [sig for sig, _ in calls],
                      "bad": {case: sig for case, (sig, _, _) in bad.items()}}
    run_fresh_process(plan, root)


@pytest.fixture(scope="module", name="served")
def fixture_served(tmp_path_factory):
    """Every model exported and served once per test run, whichever xdist worker asks first.

    Returns:
        {"root", "export_dir", "report", "expected" {model: npz}, "served" {model: npz}}.
    """
    base = tmp_path_factory.getbasetemp()
    # Each pytest-xdist worker has its own basetemp; their parent is this run's.
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "export_test"
    root.mkdir(exist_ok=True)
    with open(root / ".lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "report.json").exists():
            _export_and_serve(root)
    return {"root": root, "export_dir": root / "models",
            "report": json.loads((root / "report.json").read_text()),
            "expected": {name: np.load(root / f"{name}_expected.npz") for name in models.names()},
            "served": {name: np.load(root / f"{name}_outputs.npz") for name in models.names()}}


def test_the_serving_process_imports_no_project_code(served):
    assert served["report"]["imported"] == []


@pytest.mark.parametrize("name", models.names())
def test_served_outputs_match_the_keras_model(served, name):
    largest = 0.0
    expected = served["expected"][name]
    assert len(expected.files) == 9  # Every output of every call.
    for route in ("a", "b"):  # Loaded signatures; session fed by SignatureDef tensor names.
        for key in expected.files:
            got, want = served["served"][name][f"{route}/{key}"], expected[key]
            assert got.shape == want.shape, (route, key)
            largest = max(largest, float(np.max(np.abs(got - want))))
    print(f"{name}: largest difference to the Keras model {largest:.3g}")
    assert largest <= ATOL


@pytest.mark.parametrize("name", models.names())
def test_malformed_requests_fail_with_clear_errors(served, name):
    report = served["report"][name]
    for case, (_, _, message) in _bad_requests(8).items():
        error_type, text = report["errors_a"][case]
        assert error_type == "InvalidArgumentError" and message in text, (case, text[:300])
        # A session's Python client checks shapes and converts dtypes before TF runs.
        error_type, text = report["errors_b"][case] or ("none", "")
        if case in ("rank", "size", "latent_size"):
            assert error_type == "ValueError" and "Cannot feed value of shape" in text
        elif case != "dtype":
            assert error_type == "InvalidArgumentError" and message in text, (case, text[:300])


@pytest.mark.parametrize("name", models.names())
def test_warmup_and_signature_requests_are_served(served, name):
    replayed = served["report"][name]["replayed"]
    steps = 4  # warmup.example_inputs
    encode = {"latent_map": [2, 2, 2, 2], "latents": [2, 8]}
    want = {"serving_default": encode, "encode": encode, "decode": {"images": [2, 32, 32, 1]},
            "reconstruct": {"images": [2, 32, 32, 1]},
            "interpolate": {"images": [2, steps, 32, 32, 1]}}
    in_export = str(served["export_dir"])
    warm = [(sig, out) for file, sig, out in replayed if file.startswith(in_export)]
    assert [sig for sig, _ in warm] == list(want)
    for sig, outputs in warm:
        assert outputs == {key: [shape, True] for key, shape in want[sig].items()}, sig
    built = [(sig, out) for file, sig, out in replayed if not file.startswith(in_export)]
    assert sorted(sig for sig, _ in built) == sorted(want)
    assert all(finite for _, out in built for _, finite in out.values())


@pytest.mark.parametrize("name", models.names())
def test_only_encoder_decoder_variables_are_exported(served, name):
    names = served["report"][name]["variables"]
    allowed = ("encoder/", "decoder/") + EXTRA_VARIABLES.get(name, ())
    assert all(n.startswith(allowed) for n in names), names
    assert all(any(n.startswith(p) for n in names) for p in allowed), names
    path = served["export_dir"] / name / "1" / "variables" / "variables"
    reader = tf.train.load_checkpoint(str(path))
    saved = [reader.get_tensor(k) for k in reader.get_variable_to_shape_map() if "ATTRIBUTES" in k]
    assert len(saved) == len(names)
    # Not the critic's, discriminator's or classifier's weights (all perturbed, so unique).
    model, _, _, _ = workdir.restore_model(str(served["root"] / f"workdir_{name}"))
    for variable in [v for v in model.weights if not v.path.startswith(allowed)]:
        value = variable.numpy()
        assert value.size <= 1 or not any(np.array_equal(s, value) for s in saved), variable.path


def test_assets_hold_the_config(served):
    for name in models.names():
        asset = served["export_dir"] / name / "1" / "assets" / "config.json"
        assert ExperimentConfig.from_json(asset.read_text()) == workdir.load_config(
            str(served["root"] / f"workdir_{name}"))


def test_models_config_lists_every_model(served):
    from acai_tf.serving import models_config  # pylint: disable=import-outside-toplevel

    config = models_config.read(str(served["export_dir"] / models_config.FILENAME))
    entries = [(e.name, e.base_path, e.model_platform) for e in config.model_config_list.config]
    assert entries == [(name, f"/models/{name}", "tensorflow") for name in models.names()]


def _saved_model_cli(*args: str) -> subprocess.CompletedProcess:
    cli = Path(sys.executable).parent / "saved_model_cli"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([str(cli), *args], env=env, capture_output=True, text=True,
                          timeout=300, check=True)


def test_saved_model_cli_shows_and_runs_the_export(served, tmp_path):
    version = str(served["export_dir"] / "acai" / "1")
    shown = _saved_model_cli("show", "--all", "--dir", version).stdout
    for key in ("serving_default", "encode", "decode", "reconstruct", "interpolate"):
        assert f"signature_def['{key}']" in shown
    for line in ("inputs['images'] tensor_info:", "shape: (-1, 32, 32, 1)", "shape: (-1, 8)",
                 "inputs['steps'] tensor_info:", "dtype: DT_STRING",
                 "shape: (-1, -1, 32, 32, 1)", "Method name is: tensorflow/serving/predict"):
        assert line in shown, line
    images = np.random.default_rng(6).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    np.save(tmp_path / "images.npy", images)
    _saved_model_cli("run", "--dir", version, "--tag_set", "serve", "--signature_def",
                     "reconstruct", "--inputs", f"images={tmp_path / 'images.npy'}",
                     "--outdir", str(tmp_path / "out"))
    model, _, _, _ = workdir.restore_model(str(served["root"] / "workdir_acai"))
    np.testing.assert_allclose(np.load(tmp_path / "out" / "images.npy"),
                               model.reconstruct(images), atol=ATOL)


STRATEGY_PROCESS = r'''
import sys
import numpy as np
import tensorflow as tf

# Before anything initialises TensorFlow's devices.
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from acai_tf import models
from acai_tf.outputs import workdir
from acai_tf.serving import servable

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
rng = np.random.default_rng(0)
data = {"image": rng.uniform(-1, 1, (8, 32, 32, 1)).astype(np.float32),
        "label": rng.integers(0, 10, 8)}
for path, export_path in zip(sys.argv[1::2], sys.argv[2::2]):
    config = workdir.load_config(path)
    with strategy.scope():
        model = models.build(config.model, seed=config.train.seed)
        model.compile()
    model.fit(tf.data.Dataset.from_tensors(data).repeat(2), epochs=1, verbose=0)
    step = int(model.optimizer.iterations.numpy())
    checkpoint = tf.train.Checkpoint(**model.checkpoint_items())
    workdir.checkpoint_manager(path, checkpoint).save(checkpoint_number=step)
    with strategy.scope():
        servable.save(model, config, export_path)
    print(path, step, strategy.num_replicas_in_sync)
'''


def test_a_model_trained_under_mirrored_strategy_serves_identically(tmp_path):
    names = ("acai", "vae")  # The VAE's sampling seed is a distributed variable.
    args = []
    for name in names:
        config = tiny.export_experiment(name, strategy="mirrored")
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(config.to_json())
        args += [str(tmp_path / name), str(tmp_path / f"{name}_under_strategy")]
    env = python_process.env(REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-c", STRATEGY_PROCESS, *args], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert [line.split()[1:] for line in result.stdout.splitlines()] == [["2", "2"]] * 2
    calls = _calls(8)
    for name in names:
        plain = export_lib.export(str(tmp_path / name), str(tmp_path / "models")).path
        under_strategy = tf.saved_model.load(str(tmp_path / f"{name}_under_strategy"))
        without = tf.saved_model.load(plain)
        model, _, _, _ = workdir.restore_model(str(tmp_path / name))
        for sig, inputs in calls:  # Same order on all three: the VAE draws the same samples.
            inputs = {k: tf.constant(v) for k, v in inputs.items()}
            a, b = under_strategy.signatures[sig](**inputs), without.signatures[sig](**inputs)
            want = _keras_outputs(model, sig, {k: v.numpy() for k, v in inputs.items()})
            for key, value in want.items():
                np.testing.assert_array_equal(a[key], b[key])
                np.testing.assert_allclose(a[key], value, atol=ATOL)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
