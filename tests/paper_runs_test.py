"""acai_tf.reproduction.paper_runs: the flagfiles, the benchmark's configurations and the demo's
agree with the table of the paper's runs."""

import dataclasses
import os
import sys
from pathlib import Path

import pytest
from absl import flags

from acai_tf import model_hparams
from acai_tf.performance import throughput
from acai_tf.reproduction import paper_runs
from acai_tf.cli import demo, flag_defs

REPO_ROOT = Path(__file__).absolute().parents[1]
RUNS_DIR = REPO_ROOT / "flags" / "runs"


def from_flags(*argv):
    values = flags.FlagValues()
    flag_defs.define_flags(values)
    values(["train", *argv, "--workdir=unused"])
    return flag_defs.config_from_flags(values)


def test_the_table_has_the_papers_63_runs():
    assert len(paper_runs.RUNS) == 63
    assert {path.stem for path in RUNS_DIR.glob("*.flags")} == set(paper_runs.RUNS)


@pytest.mark.parametrize("name", sorted(paper_runs.RUNS))
def test_every_flagfile_is_what_the_table_writes(name):
    run = paper_runs.get(name)
    assert (RUNS_DIR / f"{name}.flags").read_text() == run.flagfile_text()
    assert run.experiment_config() == from_flags(f"--flagfile={RUNS_DIR / name}.flags")


@pytest.mark.parametrize("config_name", throughput.CONFIGS)
def test_the_benchmark_times_the_tables_latent16_runs(config_name):
    for name in model_hparams.BY_MODEL:
        run = paper_runs.find(config_name, name, 16)
        model = run.experiment_config().model
        assert throughput.model_shape(name, config_name) == (
            model.image_size, model.colors, model.depth, model.latent, model.latent_width)


def test_the_demo_is_the_lines32_acai_run_with_its_own_lr_and_length():
    config = demo.demo_config(train_kimg=160, report_kimg=16, seed=3)
    paper = from_flags(f"--flagfile={RUNS_DIR / 'lines32_acai.flags'}", "--seed=3")
    assert config.model == dataclasses.replace(paper.model, lr=5e-4)
    assert config.train == dataclasses.replace(paper.train, train_kimg=160, report_kimg=16)
    assert demo.PAPER_RUN.lr == 1e-4 and demo.PAPER_RUN.train_kimg == 16384


def test_unknown_runs_are_config_errors():
    with pytest.raises(paper_runs.ConfigError, match="unknown paper run 'mnist32_acai'"):
        paper_runs.get("mnist32_acai")
    with pytest.raises(paper_runs.ConfigError, match="no acai run on lines32 with latent 2"):
        paper_runs.find("lines32", "acai", 2)


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(pytest.main([__file__, "-q"]))
