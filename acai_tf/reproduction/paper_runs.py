"""The paper's training runs (spec §4.2), one row per dataset x model x latent size.

This table is the one source of the run flagfiles (flags/runs/NAME.flags, written by
`python -m flags.write_run_flags`), of the throughput benchmark's configurations and of the
demo's (which overrides the learning rate and the length of the lines32 ACAI run). Every run
trains for 16384 kimg at batch 64 with Adam(1e-4) and reports every 64 kimg; latents are 4x4 maps
of `latent` channels, except on lines32 (2x2, and 4x4 for the VQ-VAE). Image size, colors and
classes are the dataset's (`datasets.get_info`), as for any training run.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from acai_tf import datasets, model_hparams
from acai_tf.config import ConfigError, ExperimentConfig, ModelConfig, TrainConfig

# dataset -> (depth, the latent channel counts of its runs, latent_width).
DATASETS = {"lines32": (16, (16,), 2), "mnist32": (16, (2, 16), 4), "svhn32": (64, (2, 16), 4),
            "celeba32": (64, (2, 16), 4), "cifar10": (64, (16, 64), 4)}
# (dataset, model) -> how those runs differ from the dataset's row, and why (the flagfile says).
EXCEPTIONS: Mapping[tuple[str, str], Mapping[str, Any]] = {
    ("lines32", "vqvae"): {"latent_width": 4},
    ("cifar10", "dropout"): {
        "hparams": {"dropout": 0.75},
        "note": "The paper's CIFAR-10 dropout runs kept units with probability 0.75 (not 0.5)."},
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaperRun:
    """One training run of the paper.

    Attributes:
        name: the flagfile's stem: DATASET_MODEL, plus _latentN where a dataset has two sizes.
        dataset, model: registered names.
        depth: channels of the first conv stage.
        latent, latent_width: the latent map is latent_width x latent_width x latent.
        hparams: model hyperparameters that differ from the model's defaults (flag values).
        note: why they differ, one line (a comment in the flagfile).
        batch, lr, train_kimg, report_kimg: as the training flags.
    """

    name: str
    dataset: str
    model: str
    depth: int
    latent: int
    latent_width: int
    hparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    note: str = ""
    batch: int = 64
    lr: float = 1e-4
    train_kimg: float = 16384
    report_kimg: float = 64

    @property
    def flags(self) -> list[str]:
        """The training flags of the run (no --workdir), one `--name=value` each."""
        values = {"dataset": self.dataset, "model": self.model, "depth": self.depth,
                  "latent": self.latent, "latent_width": self.latent_width, **self.hparams,
                  "batch": self.batch, "lr": self.lr, "train_kimg": self.train_kimg,
                  "report_kimg": self.report_kimg}
        return [f"--{key}={value}" for key, value in values.items()]

    def flagfile_text(self) -> str:
        """The content of flags/runs/NAME.flags: a header, then the flags (the note before the
        model's hyperparameters)."""
        dims = self.latent_width**2 * self.latent
        lines = [f"# Paper run: {self.model} on {self.dataset}, latent {self.latent} x "
                 f"{self.latent_width} x {self.latent_width} = {dims} dims, depth {self.depth}.",
                 f"# python -m flags.train --flagfile=flags/runs/{self.name}.flags "
                 "--workdir=WORKDIR", *self.flags]
        if self.note:
            lines.insert(7, f"# {self.note}")  # After the five geometry flags.
        return "\n".join(lines) + "\n"

    def experiment_config(self, seed: int = 0) -> ExperimentConfig:
        """The config `--flagfile=` of this run builds (train settings at their defaults)."""
        info = datasets.get_info(self.dataset)
        model = ModelConfig(name=self.model, image_size=info.image_size, colors=info.colors,
                            nclass=info.nclass, depth=self.depth, latent=self.latent,
                            latent_width=self.latent_width, lr=self.lr, hparams=self.hparams)
        train = TrainConfig(dataset=info.name, batch=self.batch, train_kimg=self.train_kimg,
                            report_kimg=self.report_kimg, seed=seed)
        return ExperimentConfig(model=model, train=train)


def _table() -> dict[str, PaperRun]:
    runs = {}
    for dataset, (depth, latents, width) in DATASETS.items():
        for model in model_hparams.BY_MODEL:
            for latent in latents:
                name = f"{dataset}_{model}" + (f"_latent{latent}" if len(latents) > 1 else "")
                row = {"name": name, "dataset": dataset, "model": model, "depth": depth,
                       "latent": latent, "latent_width": width}
                runs[name] = PaperRun(**{**row, **EXCEPTIONS.get((dataset, model), {})})
    return runs


RUNS: Mapping[str, PaperRun] = _table()


def get(name: str) -> PaperRun:
    """The run named `name` (a flagfile stem, e.g. "mnist32_acai_latent16")."""
    try:
        return RUNS[name]
    except KeyError:
        raise ConfigError(f"unknown paper run {name!r}") from None


def find(dataset: str, model: str, latent: int) -> PaperRun:
    """The run of `model` on `dataset` with `latent` channels."""
    for run in RUNS.values():
        if (run.dataset, run.model, run.latent) == (dataset, model, latent):
            return run
    raise ConfigError(f"the paper has no {model} run on {dataset} with latent {latent}")
