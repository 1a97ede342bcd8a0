"""Tests of benchmarks/train_throughput.py and its library (acai_tf.performance.throughput,
acai_tf.performance.throughput_results): the step clock, the matrix-multiply reference, merging, the
JSON and the table."""

import json
import os
import subprocess
import sys

import pytest

from acai_tf.performance import throughput, throughput_results

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")


def _run(*flags: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """Runs the benchmark script in a fresh interpreter with `flags`."""
    return subprocess.run([sys.executable, os.path.join(BENCHMARKS, "train_throughput.py"),
                           *flags], capture_output=True, text=True, timeout=timeout, check=False)


def test_step_clock_times_only_the_steps_after_the_warm_up(monkeypatch):
    ticks = iter([10.0, 11.0, 13.0, 16.0])  # the ends of steps 0, 1, 2 and 3
    monkeypatch.setattr(throughput.time, "perf_counter", lambda: next(ticks))
    clock = throughput.step_clock(warmup=2)
    for batch in range(4):
        clock.on_train_batch_end(batch)
    assert clock.elapsed == 5.0  # from the end of step 1 (the last warm-up step) to step 3


def test_merge_replaces_the_same_measurement_and_keeps_the_others():
    row = {"model": "acai", "config": "lines32", "batch": 64, "xla": False,
           "precision": "float32", "conv_gradient": "stock", "update_order": "alternating",
           "onednn": True}
    old = [{**row, "rate": 1}, {**row, "xla": True, "rate": 2},
           {**row, "onednn": False, "conv_gradient": "forward", "rate": 4},
           {**row, "precision": "mixed_bfloat16", "rate": 5}]
    new = [{**row, "rate": 3}]
    merged = throughput_results.merge(old, new)
    assert sorted(record["rate"] for record in merged) == [2, 3, 4, 5]


MACHINE = {"cpu": "AMD EPYC", "cpu_flags": ["avx2"], "cores": 2, "usable_cores": 2,
           "onednn": False, "gpus": 0, "tensorflow": "2.21.0", "keras": "3.15.1",
           "python": "3.11.7", "host": "vm"}


def test_machines_differ_by_speed_deciding_fields_only():
    # oneDNN is per process (recorded per row); the host name and Python do not set the speed.
    same = {**MACHINE, "onednn": True, "host": "other", "python": "3.12.0"}
    assert throughput_results.machine_differences(MACHINE, same) == []
    other = {**MACHINE, "cpu_flags": ["avx2", "avx512f"], "cores": 4}
    assert throughput_results.machine_differences(MACHINE, other) == [
        "cpu_flags: ['avx2'] -> ['avx2', 'avx512f']", "cores: 2 -> 4"]


def test_stored_results_are_read_only_from_the_same_machine(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"machine": MACHINE, "results": [{"model": "acai"}]}))
    assert throughput_results.stored_results(str(path), MACHINE) == [{"model": "acai"}]
    with pytest.raises(ValueError, match=r"measured on another machine \(cpu: 'AMD EPYC' -> "
                                         r"'Intel Xeon'\); write this one to a new --json"):
        throughput_results.stored_results(str(path), {**MACHINE, "cpu": "Intel Xeon"})
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="cannot read .* as a throughput JSON"):
        throughput_results.stored_results(str(path), MACHINE)


def test_append_to_another_machines_file_fails_before_timing_and_keeps_it(tmp_path):
    json_path = tmp_path / "t.json"
    stored = json.dumps({"machine": {**MACHINE, "cpu": "a CPU this is not"},
                         "results": [{"model": "acai", "images_per_second": 1.0}]})
    json_path.write_text(stored)
    result = _run("--models=baseline", "--batch=8", "--steps=2", "--warmup=1",
                  f"--json={json_path}", "--append")
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"error: --append: {json_path} was measured on another machine "
                                "(cpu: 'a CPU this is not' -> ")
    assert "images/s" not in result.stdout  # nothing was timed
    assert json_path.read_text() == stored


def test_vqvae_has_the_papers_4x4_latent_on_lines_only():
    assert throughput.model_shape("vqvae", "lines32")[4] == 4
    assert throughput.model_shape("acai", "lines32")[4] == 2
    assert throughput.model_shape("acai", "svhn32")[2:] == (64, 16, 4)


def test_command_writes_json_and_markdown(tmp_path):
    json_path, markdown_path = tmp_path / "t.json", tmp_path / "t.md"
    result = _run("--models=baseline", "--batch=8", "--steps=2", "--warmup=1",
                  "--matmul_size=64", f"--json={json_path}", f"--markdown={markdown_path}",
                  timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "baseline   lines32 batch    8 xla=False" in result.stdout
    assert "matmul 64x64: float32 " in result.stdout
    written = json.loads(json_path.read_text())
    assert written["machine"]["cores"] == os.cpu_count()
    (record,) = written["results"]
    assert (record["model"], record["batch"], record["steps"], record["warmup"]) == (
        "baseline", 8, 2, 1)
    assert record["images_per_second"] > 0
    # FLOPs of the model at lines32 (acai_tf.performance.flops), the GFLOP/s achieved, this run's
    # reference.
    assert record["flop_per_image"] == throughput.flop_per_image(record)
    assert record["gflop_per_second"] == round(
        record["images_per_second"] * record["flop_per_image"] / 1e9, 1)
    matmul = record["matmul"]
    assert matmul["size"] == 64
    assert matmul["float32_gflop_per_second"] > 0 and matmul["bfloat16_gflop_per_second"] > 0
    # The row says what decided its speed: oneDNN's state and the gradient path "auto" chose.
    onednn = record["onednn"]
    assert isinstance(onednn, bool)
    assert record["conv_gradient"] == ("stock" if onednn else "forward")
    assert record["precision"] == "float32" and record["update_order"] is None
    table = markdown_path.read_text()
    assert (f"| Baseline | lines32 (depth 16, latent 16×2×2) | 8 | – | {'on' if onednn else 'off'}"
            f" | {record['conv_gradient']} | float32 | no | {record['images_per_second']:.1f} | "
            f"{record['flop_per_image'] / 1e9:.3f} | ") in table
    assert (f" | {matmul['float32_gflop_per_second']:.1f} / "
            f"{matmul['bfloat16_gflop_per_second']:.1f} | 2 (1) | ") in table
    assert "64×64 by 64×64 matrix product in float32 / bfloat16" in table


def test_append_keeps_the_records_measured_before_the_flop_fields(tmp_path):
    from acai_tf.training import machine  # pylint: disable=import-outside-toplevel

    json_path, markdown_path = tmp_path / "t.json", tmp_path / "t.md"
    # A record as the script wrote them before FLOPs and the matmul reference (nor precision).
    old = {"model": "acai", "config": "lines32", "batch": 64, "xla": False,
           "conv_gradient": "stock", "update_order": "alternating", "onednn": True,
           "steps": 40, "warmup": 5, "load_average": 1.5, "images_per_second": 400.0}
    json_path.write_text(json.dumps({"machine": machine.describe(), "results": [old]}))
    result = _run("--models=baseline", "--batch=8", "--steps=2", "--warmup=1",
                  "--matmul_size=0", f"--json={json_path}", f"--markdown={markdown_path}",
                  "--append", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "matmul" not in result.stdout  # --matmul_size=0 times no reference
    stored, new = json.loads(json_path.read_text())["results"]
    assert stored == old
    assert new["model"] == "baseline" and "matmul" not in new
    # The old row's FLOPs are counted for the table; it has no reference.
    flop = throughput.flop_per_image(old)
    assert (f"| 400.0 | {flop / 1e9:.3f} | {400.0 * flop / 1e9:.1f} | – | 40 (5) | 1.5 |"
            in markdown_path.read_text())


def test_matmul_reference_times_both_precisions():
    reference = throughput.matmul_reference(64)
    assert set(reference) == {"size", "float32_gflop_per_second", "bfloat16_gflop_per_second"}
    assert reference["size"] == 64
    assert reference["float32_gflop_per_second"] > 0
    assert reference["bfloat16_gflop_per_second"] > 0


def test_unknown_config_is_refused():
    result = _run("--config=imagenet")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: unknown config(s) imagenet")


@pytest.mark.parametrize("flag", ["--steps=0", "--warmup=0"])
def test_steps_and_warm_up_must_be_positive(flag):
    result = _run(flag)
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: ") and flag.split("=")[0][2:] in last_line


def test_unknown_model_is_refused_in_one_line():
    result = _run("--models=acai,gan")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: unknown model(s) gan")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
