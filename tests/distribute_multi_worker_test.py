"""Two MultiWorkerMirroredStrategy workers on 127.0.0.1 train one model in lockstep.

Each worker is a fresh process (this file, imported by `python -c`) with its own TF_CONFIG; both
run `train_lib.train` on the same workdir, as workers on a shared file system would. Worker 0
is the chief: it alone writes config.json, TensorBoard and images; both take part in every
checkpoint save, the other worker into a temporary directory it deletes.
"""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import python_process
import tiny

REPO_ROOT = Path(__file__).absolute().parents[1]
TIMEOUT = 300


def child_main(workdir, dump_path):
    """Runs in a worker process: trains, then dumps the final weights to dump_path (.npz)."""
    import keras

    from acai_tf.training import train_lib

    class DumpWeights(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            np.savez(dump_path, *self.model.get_weights())

    config = tiny.experiment("acai", train_kimg=0.125, report_kimg=0.0625,
                             strategy="multi_worker")
    settings = tiny.eval_settings()
    summary = train_lib.train(config, workdir, eval_settings=settings,
                              extra_callbacks=[DumpWeights()])
    print("SUMMARY " + json.dumps({"step": summary["step"], "metrics": summary["metrics"]}))


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_two_workers_finish_with_identical_weights(tmp_path):
    workdir = tmp_path / "run"
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    processes = []
    for index in range(2):
        scratch = tmp_path / f"tmp{index}"
        scratch.mkdir()
        env = python_process.env(REPO_ROOT, TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}),
            TMPDIR=str(scratch), TF_CPP_MIN_LOG_LEVEL="2")
        code = (f"import sys; sys.path.insert(0, {str(REPO_ROOT / 'tests')!r}); "
                f"import distribute_multi_worker_test as t; "
                f"t.child_main({str(workdir)!r}, {str(tmp_path / f'weights{index}.npz')!r})")
        log = open(tmp_path / f"worker{index}.log", "w+", encoding="utf-8")
        processes.append((subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                                           stdout=log, stderr=subprocess.STDOUT), log))
    try:
        # A worker that fails leaves the other waiting for it forever: stop both at once.
        deadline = time.monotonic() + TIMEOUT
        while any(process.poll() is None for process, _ in processes):
            if any(process.poll() not in (None, 0) for process, _ in processes):
                break
            assert time.monotonic() < deadline, "the workers did not finish in time"
            time.sleep(0.5)
    finally:
        for process, _ in processes:
            process.kill()
            process.wait()
    outputs = []
    for process, log in processes:
        log.seek(0)
        outputs.append(log.read())
        log.close()
        assert process.returncode == 0, outputs[-1][-3000:]
    summaries = [json.loads(next(line for line in output.splitlines()
                                 if line.startswith("SUMMARY "))[len("SUMMARY "):])
                 for output in outputs]
    assert [summary["step"] for summary in summaries] == [8, 8]
    # Logs are all-reduced, so both workers report the same losses.
    assert summaries[0]["metrics"]["losses/reconstruction"] == pytest.approx(
        summaries[1]["metrics"]["losses/reconstruction"], rel=1e-6)

    weights = [np.load(tmp_path / f"weights{index}.npz") for index in range(2)]
    assert len(weights[0].files) == len(weights[1].files) > 0
    for key in weights[0].files:
        np.testing.assert_array_equal(weights[0][key], weights[1][key])

    # Only the chief wrote outputs; the other worker's checkpoint scratch is gone.
    assert (workdir / "config.json").exists() and (workdir / "tb" / "train").is_dir()
    assert sorted(p.name for p in (workdir / "ckpt").iterdir() if p.suffix == ".index") == [
        "ckpt-4.index", "ckpt-8.index"]
    assert list((tmp_path / "tmp1").iterdir()) == []
    assert "eval/mean_distance" in summaries[0]["metrics"]
    assert "eval/mean_distance" not in summaries[1]["metrics"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
