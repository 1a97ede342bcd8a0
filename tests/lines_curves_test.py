"""benchmarks/lines_curves.py and its library (acai_tf.reproduction.curves, curve_reports):
learning curves and tables from saved run records."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from acai_tf.outputs import images
from acai_tf.reproduction import curve_reports, curves
from acai_tf.training import metrics_log

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")


def record(records_dir, name, mse, distance=None, *, every=16, precision="float32",
           cpu_flags=(("avx2",), ("avx2", "avx512f")), speed=100.0):
    """A saved record: one report per value of `mse`, `every` kimg apart, two starts on
    machines with `cpu_flags`."""
    folder = os.path.join(records_dir, name)
    os.makedirs(folder)
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump({"model": {"name": name.split("_")[-2]}, "train": {"precision": precision},
                   "runs": [{"started": "t0", "commit": "0123456789ab",
                             "cpu_flags": list(cpu_flags[0])},
                            {"started": "t1", "commit": "fedcba987654",
                             "cpu_flags": list(cpu_flags[-1])}]}, f)
    for index, value in enumerate(mse):
        kimg = every * (index + 1)
        scalars = {"losses/reconstruction": value,
                   "eval/mean_distance": (distance or [0.03] * len(mse))[index],
                   "eval/mean_smoothness": float("nan") if value > 0.07 else 0.2,
                   "monitors/images_per_second": speed}
        metrics_log.append(folder, kimg * 16, kimg, scalars)


def test_plateau_exit_is_the_first_report_below_the_line():
    reports = [{"kimg": 16, "losses/reconstruction": 0.081},
               {"kimg": 32, "losses/reconstruction": 0.069},
               {"kimg": 48, "losses/reconstruction": 0.075}]
    assert curves.plateau_exit(reports) == 32
    assert curves.plateau_exit(reports[:1]) is None
    assert curves.plateau_exit([{"kimg": 16}]) is None


def test_curves_and_table_from_the_records(tmp_path):
    records, out = str(tmp_path / "runs"), str(tmp_path / "out")
    record(records, "lines_aae_seed0", [0.09, 0.081, 0.0805])
    distances = [0.03, 0.01, 0.004, 0.003] + [0.002] * 21
    record(records, "lines_acai_seed0", [0.09, 0.06] + [0.01] * 23, distances, every=64)
    record(records, "lines_acai_seed0.lost-20261204T0302330000", [0.09])
    record(records, "mnist_acai_latent2_seed0", [0.05])  # not a lines record: left out

    paths = curve_reports.write(records, out)

    assert [os.path.basename(p) for p in paths] == ["lines_curves.png", "lines_curves.md"]
    assert images.read_png(paths[0]).shape[1] > 1000
    rows = open(paths[1], encoding="utf-8").read().splitlines()
    by_name = {row.split(" | ")[0][2:]: row.split(" | ") for row in rows if row.startswith("| ")}
    assert by_name["lines_aae_seed0"][1:5] == ["48", "3", "16", "not by 48"]
    assert by_name["lines_aae_seed0"][5:9] == ["30.00", "30.00", "undefined", "undefined"]
    acai = by_name["lines_acai_seed0"]
    assert acai[1:5] == ["1600", "25", "64", "128"]
    # Table 1's protocol: the median of the last 20 reports (all at 2e-3 here).
    assert acai[5:9] == ["2.00", "2.00", "0.20", "0.20"]
    assert acai[9:] == ["float32", "0123456, fedcba9 |"]
    assert by_name["lines_acai_seed0.lost-20261204T0302330000"][1] == "16"
    runs = {run["name"]: run for run in curves.load_records(records)}
    assert curves.curve_label(runs["lines_acai_seed0"], False) == "ACAI"
    assert (curves.curve_label(runs["lines_acai_seed0.lost-20261204T0302330000"], False)
            == "ACAI (workdir lost at 16 kimg)")
    assert "mnist_acai_latent2_seed0" not in by_name
    # The lost run's one report (16 kimg) is at no kimg its restart reported: nothing beside it.
    assert "## Restarts beside their lost runs" not in open(paths[1], encoding="utf-8").read()
    blending = curves.pixel_blending()
    assert by_name["pixel blending (same pairs)"][5] == f"{blending['mean_distance'] * 1e3:.2f}"
    # Blending does not interpolate lines: far from them, and smooth only in pixel space.
    assert blending["mean_distance"] > 4e-3 and blending["mean_smoothness"] > 0.5


def test_the_official_code_beside_ours_at_equal_budgets(tmp_path):
    records, out = str(tmp_path / "runs"), str(tmp_path / "out")
    record(records, "lines_acai_seed0", [0.09, 0.05, 0.02, 0.01], [0.03, 0.01, 0.004, 0.003],
           every=64)
    record(records, "official_lines_acai_seed0", [0.09, 0.07, 0.03],
           [0.03, 0.02, 0.005], every=64)
    record(records, "lines_vae_seed0", [0.05] * 3)  # no official run: not in the comparison

    paths = curve_reports.write(records, out)

    assert [os.path.basename(p) for p in paths][2:] == ["official_reference.png",
                                                        "official_reference.md"]
    text = open(paths[3], encoding="utf-8").read()
    assert "| official_lines_acai_seed0 | 192 | 3 | 64 | 192 |" in text
    assert "lines_vae_seed0" not in text
    equal = [row for row in text.splitlines() if row.startswith("| ACAI |")]
    assert equal == ["| ACAI | 64 | ours | 64 | 0.0900 | 30.00 | undefined |",
                     "| ACAI | 64 | official | 64 | 0.0900 | 30.00 | undefined |",
                     "| ACAI | 128 | ours | 64 | 0.0500 | 10.00 | 0.20 |",
                     "| ACAI | 128 | official | 64 | 0.0700 | 20.00 | 0.20 |",
                     # The furthest kimg both reached, though not one of the usual budgets.
                     "| ACAI | 192 | ours | 64 | 0.0200 | 4.00 | 0.20 |",
                     "| ACAI | 192 | official | 64 | 0.0300 | 5.00 | 0.20 |"]
    assert np.isfinite(images.read_png(paths[2])).all()


def test_a_lost_run_and_its_restart_are_both_beside_the_official_code(tmp_path):
    records, out = str(tmp_path / "runs"), str(tmp_path / "out")
    # The lost run reached 192 kimg, its restart 64; the official run 128.
    record(records, "lines_acai_seed0.lost-20261204T0302330000", [0.09, 0.05, 0.02],
           [0.03, 0.01, 0.004], every=64)
    record(records, "lines_acai_seed0", [0.08], [0.02], every=64)
    record(records, "official_lines_acai_seed0", [0.09, 0.07], [0.03, 0.02], every=64)

    text = open(curve_reports.write(records, out)[3], encoding="utf-8").read()

    assert "| lines_acai_seed0.lost-20261204T0302330000 | 192 | 3 |" in text
    assert "`ours, lost at N kimg`: a run of ours whose workdir was lost" in text
    equal = [row for row in text.splitlines() if row.startswith("| ACAI |")]
    # Never spliced: each of our runs has its own rows, at the kimg it shares with the official.
    assert equal == ["| ACAI | 64 | ours | 64 | 0.0800 | 20.00 | undefined |",
                     "| ACAI | 64 | ours, lost at 192 kimg | 64 | 0.0900 | 30.00 | undefined |",
                     "| ACAI | 64 | official | 64 | 0.0900 | 30.00 | undefined |",
                     "| ACAI | 128 | ours, lost at 192 kimg | 64 | 0.0500 | 10.00 | 0.20 |",
                     "| ACAI | 128 | official | 64 | 0.0700 | 20.00 | 0.20 |"]


def test_a_restart_beside_its_lost_runs_at_the_kimg_two_of_them_reached(tmp_path):
    records, out = str(tmp_path / "runs"), str(tmp_path / "out")
    # Lost twice: at 1600 kimg, then at 512 (an AVX2 machine); the current run is at 128.
    avx512, avx2 = (("avx2", "avx512f"),), (("avx2",),)
    record(records, "lines_acai_seed0.lost-20261204T0302330000", [0.09] + [0.01] * 24,
           [0.03] + [0.004] * 24, every=64, cpu_flags=avx512)
    record(records, "lines_acai_seed0.lost-20261205T0521450000", [0.06] + [0.01] * 7,
           [0.03, 0.02, 0.01, 0.009, 0.008, 0.007, 0.006, 0.005], every=64, cpu_flags=avx2)
    record(records, "lines_acai_seed0", [0.09, 0.01], [0.03, 0.004], every=64, cpu_flags=avx512,
           speed=500.0)

    text = open(curve_reports.write(records, out)[1], encoding="utf-8").read()

    assert "## Restarts beside their lost runs" in text
    rows = [row for row in text.splitlines() if row.startswith("| ACAI | 0 |")]
    # Shown: 128 and 448 (budgets), 512 (the second run's end, also reached by the first);
    # never 1600 (one run only). Table 1's value is the median of each run's own reports up to
    # that kimg, never across runs: a first report on the plateau (smoothness undefined) stays
    # in its own run's every median.
    assert rows == [
        "| ACAI | 0 | 128 | current | AVX-512 | 0.0100 | 4.00 | 17.00 | 0.20 | undefined |",
        "| ACAI | 0 | 128 | lost at 1600 kimg | AVX-512 | 0.0100 | 4.00 | 17.00 | 0.20 | "
        "undefined |",
        "| ACAI | 0 | 128 | lost at 512 kimg | AVX2 | 0.0100 | 20.00 | 25.00 | 0.20 | 0.20 |",
        "| ACAI | 0 | 448 | lost at 1600 kimg | AVX-512 | 0.0100 | 4.00 | 4.00 | 0.20 | "
        "undefined |",
        "| ACAI | 0 | 448 | lost at 512 kimg | AVX2 | 0.0100 | 6.00 | 9.00 | 0.20 | 0.20 |",
        "| ACAI | 0 | 512 | lost at 1600 kimg | AVX-512 | 0.0100 | 4.00 | 4.00 | 0.20 | "
        "undefined |",
        "| ACAI | 0 | 512 | lost at 512 kimg | AVX2 | 0.0100 | 5.00 | 8.50 | 0.20 | 0.20 |"]
    # Reports compared value by value at the steps both made (images/s aside: 500 and 100).
    assert text.splitlines()[-3:] == [
        "- ACAI seed 0, current and lost at 1600 kimg: identical in all 2 reports both made "
        "(to 128 kimg).",
        "- ACAI seed 0, current and lost at 512 kimg: different from their first report "
        "(64 kimg).",
        "- ACAI seed 0, lost at 1600 kimg and lost at 512 kimg: different from their first "
        "report (64 kimg)."]
    reports = [{"step": s, "kimg": s / 16, "losses/ae": 0.1 * s,
                "eval/mean_smoothness": float("nan")} for s in (1024, 2048, 3072)]
    drifted = [dict(r) for r in reports]
    drifted[2]["losses/ae"] += 1e-9
    assert curve_reports.agreement({"reports": reports}, {"reports": drifted}) == (
        "identical to 128 kimg, then different (from 192 kimg)")
    # A resume between the last identical report and the first different one is named.
    resumed = {"reports": drifted, "lost": True,
               "config": {"train": {"batch": 64}, "runs": [{"from_step": 0},
                                                         {"from_step": 2048}]}}
    assert curve_reports.agreement({"reports": reports, "lost": False}, resumed) == (
        "identical to 128 kimg, then different (from 192 kimg); lost at 192 kimg resumed at "
        "128 kimg, which reseeds the data stream")
    assert curve_reports.resumes(resumed) == [128.0]
    assert curve_reports.agreement({"reports": reports}, {"reports": reports[1:]}) == (
        "identical in all 2 reports both made (to 192 kimg)")
    assert curve_reports.agreement({"reports": reports}, {"reports": []}) == ""
    assert not curve_reports.same_report(reports[0], {k: v for k, v in reports[0].items()
                                                     if k != "losses/ae"})
    runs = {run["name"]: run for run in curves.load_records(records)}
    assert curve_reports.machine_classes(runs["lines_acai_seed0"]) == "AVX-512"
    mixed = dict(runs["lines_acai_seed0"], config={"runs": [{"cpu_flags": ["avx2"]}, {},
                                                            {"cpu_flags": ["avx512f"]}]})
    assert curve_reports.machine_classes(mixed) == "AVX2, ?, AVX-512"


def test_no_records_is_a_one_line_error(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "lines_curves.py"),
                             f"--records_dir={tmp_path}", f"--out_dir={tmp_path / 'out'}"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path} holds no lines_<model>_seed<k> records"]
    assert not (tmp_path / "out").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
