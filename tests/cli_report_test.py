"""Tests of the report binary (acai_tf.cli.report), on fake workdirs (config, results, records)."""

import os
import sys
from pathlib import Path

import pytest
from absl import flags

from acai_tf.cli import report as report_binary
from acai_tf.cli import runner

import python_process

# Not resolved: under Bazel this is the runfiles tree, which holds flags/ and acai_tf/.
REPO_ROOT = Path(__file__).absolute().parents[1]

LINES_RESULTS = {"lines": {"mean_distance": 0.001, "mean_smoothness": 0.1},
                 "classifier": {"in_training_accuracy": 50.0}}


def test_report_binary_globs_and_reports_errors_in_one_line(tmp_path, capsys, fake_run):
    for seed in range(2):
        fake_run(tmp_path / "runs", f"acai_{seed}", seed=seed, results=LINES_RESULTS)

    def run(*args):
        flag_values = flags.FlagValues()
        report_binary.define_flags(flag_values)
        flag_values(["report", *args])
        return report_binary.report_from_flags(flag_values), capsys.readouterr()

    code, output = run(f"--workdirs={tmp_path}/runs/acai_*", f"--output_dir={tmp_path}/out")
    assert code == 0 and "2 run(s) in 1 group(s)" in output.out
    assert os.path.isfile(tmp_path / "out" / "table1_lines.md")

    code, output = run(f"--workdirs={tmp_path}/nothing_*", f"--output_dir={tmp_path}/out")
    assert code == 1
    assert output.err.strip() == f"error: --workdirs: '{tmp_path}/nothing_*' matches no directory"

    fake_run(tmp_path / "runs", "acai_9", seed=9)
    code, output = run(f"--workdirs={tmp_path}/runs/acai_*", f"--output_dir={tmp_path}/out")
    assert code == 1 and output.err.count("\n") == 1
    assert "acai_9/eval/results.json does not exist" in output.err


@pytest.mark.parametrize("value", ["0", "-3"])
def test_last_n_below_one_is_a_one_line_error(tmp_path, capsys, fake_run, value):
    fake_run(tmp_path / "runs", "acai_0", results=LINES_RESULTS)
    flag_values = flags.FlagValues()
    report_binary.define_flags(flag_values)
    with pytest.raises(SystemExit) as exit_:
        runner.parse_or_exit(["report", f"--workdirs={tmp_path}/runs/acai_*",
                              f"--output_dir={tmp_path}/out", f"--last_n={value}"], flag_values)
    assert exit_.value.code == 1
    assert capsys.readouterr().err == (
        f"error: flag --last_n={value}: {value} is not a positive integer\n")
    assert not os.path.exists(tmp_path / "out")


def test_last_n_below_one_is_one_line_in_a_real_process(tmp_path):
    result = python_process.run_module(
        REPO_ROOT, "flags.report", f"--workdirs={tmp_path}", f"--output_dir={tmp_path}/out",
        "--last_n=0", timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        "error: flag --last_n=0: 0 is not a positive integer"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
