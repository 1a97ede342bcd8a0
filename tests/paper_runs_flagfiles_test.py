"""Every flagfile under flags/runs parses into the paper run its name promises (spec §4.2)."""

import re
import sys
from pathlib import Path

import pytest
from absl import flags

from acai_tf import models
from acai_tf.cli import flag_defs

RUNS_DIR = Path(__file__).absolute().parents[1] / "flags" / "runs"
FLAGFILES = sorted(RUNS_DIR.glob("*.flags"))
# dataset -> (depth, latent sizes of the paper's runs); latent_width 4 except lines32's 2.
PAPER_RUNS = {"lines32": (16, (16,)), "mnist32": (16, (2, 16)), "svhn32": (64, (2, 16)),
              "celeba32": (64, (2, 16)), "cifar10": (64, (16, 64))}


def parse(*argv):
    flag_values = flags.FlagValues()
    flag_defs.define_flags(flag_values)
    flag_values(["train", *argv])
    return flag_defs.config_from_flags(flag_values)


def expected_names():
    names = set()
    for dataset, (_, latents) in PAPER_RUNS.items():
        for model in models.names():
            if dataset == "lines32":
                names.add(f"{dataset}_{model}.flags")
            else:
                names.update(f"{dataset}_{model}_latent{latent}.flags" for latent in latents)
    return names


def test_there_is_one_flagfile_per_paper_run():
    assert {path.name for path in FLAGFILES} == expected_names()


@pytest.mark.parametrize("path", FLAGFILES, ids=lambda path: path.stem)
def test_flagfile_gives_the_paper_config(path, tmp_path):
    match = re.fullmatch(r"(\w+?)_(\w+?)(?:_latent(\d+))?", path.stem)
    dataset, model, latent = match.group(1), match.group(2), match.group(3)
    config = parse(f"--flagfile={path}", f"--workdir={tmp_path}")
    depth, _ = PAPER_RUNS[dataset]
    assert (config.model.name, config.train.dataset, config.model.depth) == (model, dataset, depth)
    assert config.model.latent == (int(latent) if latent else 16)
    lines_width = 4 if model == "vqvae" else 2
    assert config.model.latent_width == (lines_width if dataset == "lines32" else 4)
    assert (config.train.batch, config.model.lr, config.train.train_kimg,
            config.train.report_kimg) == (64, 1e-4, 16384, 64)
    expected_hparams = {"dropout": 0.75} if (dataset, model) == ("cifar10", "dropout") else {}
    assert config.model.hparams.overrides() == expected_hparams
    # Building the model validates the hyperparameters and the latent geometry.
    models.get(model).resolve_hparams(config.model.hparams)


def test_command_line_flags_override_a_flagfile(tmp_path):
    config = parse(f"--flagfile={RUNS_DIR / 'lines32_acai.flags'}", "--train_kimg=96",
                   "--advweight=0.25", f"--workdir={tmp_path}")
    assert config.train.train_kimg == 96 and config.model.hparams.overrides() == {
        "advweight": 0.25}


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
